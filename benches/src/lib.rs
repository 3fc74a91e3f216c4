//! Fixtures and the baselines the benches compare against: for each covered endpoint, a
//! realistic request and response, our encode/decode, and "the usual std approach" —
//! serde_json to and from String-owning structs.
#![allow(missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark fixtures: a failure is a failed benchmark run, not a panic on input"
)]

use std::hint::black_box;

use konaplate_core::jwe::{KeyUnwrap, KeyWrap, KeyWrapError};
use konaplate_core::message::{Reply, decode_reply, encode_message};
use konaplate_core::prelude::*;
use konaplate_core::request::SignedHeaders;
use konaplate_core::{api::*, code::*, field::*};
use serde::{Deserialize, Serialize};

pub const ENDPOINTS: [&str; 8] = [
    "token",
    "charge",
    "charge-cancel",
    "charge-result",
    "refund-fee",
    "refund",
    "auto-recharge-register",
    "auto-recharge-list",
];

pub struct Ctx {
    pub session: Session,
    pub stamp: Stamp,
}

pub fn ctx() -> Ctx {
    Ctx {
        session: Session::new(
            Credentials::new(
                AspId::new("100000000000001").unwrap(),
                AccessKey::new("abcdefg-0123456789abcdef0123456789abcdef").unwrap(),
                &SecretKey::new("kona-sandbox-secret-0001").unwrap(),
                Some(CryptoKeyId::new("0123456789abcdef0123456789abcdef").unwrap()),
            ),
            Target::new(Host::parse("sandbox.konaplate.com").unwrap()),
        ),
        stamp: Stamp::new(
            Timestamp::new(2026, 11, 23, 19, 54, 6, 123).unwrap(),
            TimeZone::KST,
            0x0abc_def1,
        ),
    }
}

fn seq() -> SequenceId {
    SequenceId::new("KP20261123195406123a1b2c3d4").unwrap()
}
fn user() -> UserId {
    UserId::new(50_000_104_652).unwrap()
}
fn tok() -> OneTimeToken {
    OneTimeToken::new("9461442187322710").unwrap()
}
fn dcvv() -> Dcvv {
    Dcvv::new("366").unwrap()
}
fn par() -> Par {
    Par::new("Q1ABCDEF0123456789ABCDEF012").unwrap()
}

/// Encodes endpoint `i`'s request with our core: the whole signed HTTP request for plain
/// endpoints; for the two Encrypted endpoints the plaintext body plus the signed headers (the
/// JWE is benched separately). Returns the bytes written.
pub fn encode_ours(i: usize, c: &Ctx, buf: &mut [u8]) -> usize {
    fn plain<E: Endpoint>(c: &Ctx, r: &E::Request, buf: &mut [u8]) -> usize {
        Call::new(&c.session, &c.stamp, r, NoCrypto, buf)
            .unwrap()
            .request_layout()
            .0
    }
    fn signed_body<E: Endpoint>(c: &Ctx, r: &E::Request, buf: &mut [u8]) -> usize {
        let n = encode_message(r, buf).unwrap();
        black_box(SignedHeaders::sign(
            &c.session.credentials,
            &c.stamp,
            &buf[..n],
        ));
        n
    }
    match i {
        0 => signed_body::<IssueToken>(
            c,
            &TokenRequest {
                card_no: CardNo::new("9410123456789012").unwrap(),
                token_type: None,
            },
            buf,
        ),
        1 => plain::<Charge>(
            c,
            &ChargeRequest {
                sequence_id: seq(),
                user_id: user(),
                amount: ChargeAmount::new(50_000).unwrap(),
                one_time_token: tok(),
                dcvv: dcvv(),
                merchant_id: MerchantId::new("100000000000101").unwrap(),
            },
            buf,
        ),
        2 => plain::<CancelCharge>(
            c,
            &CancelRequest {
                sequence_id: seq(),
                user_id: user(),
                nr_number: NrNumber::new("KMN221114031773543").unwrap(),
                one_time_token: tok(),
                dcvv: dcvv(),
                card_expiry: Some(CardExpiry::new("3108").unwrap()),
            },
            buf,
        ),
        3 => plain::<ChargeResultInquiry>(c, &ChargeResultRequest { sequence_id: seq() }, buf),
        4 => plain::<RefundFee>(
            c,
            &RefundFeeRequest {
                one_time_token: tok(),
                user_id: user(),
            },
            buf,
        ),
        5 => plain::<Refund>(
            c,
            &RefundRequest {
                sequence_id: seq(),
                user_id: user(),
                card_expiry: CardExpiry::new("3108").unwrap(),
                dcvv: dcvv(),
                one_time_token: tok(),
            },
            buf,
        ),
        6 => signed_body::<AutoRechargeRegister>(
            c,
            &AutoRechargeRegisterRequest {
                user_id: user(),
                par: par(),
            },
            buf,
        ),
        _ => plain::<AutoRechargeList>(c, &AutoRechargeListRequest { user_id: user() }, buf),
    }
}

/// The JSON body of endpoint `i`'s request (the bytes the HMAC floor signs).
pub fn request_body(i: usize) -> Vec<u8> {
    let mut buf = vec![0u8; 4096];
    let c = ctx();
    let n = encode_ours(i, &c, &mut buf);
    let wire = &buf[..n];
    match wire.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(p) => wire[p + 4..].to_vec(),
        None => wire.to_vec(),
    }
}

/// HMAC-SHA256 with the `hmac` crate, keyed per call: the floor of any signed request.
pub fn hmac_floor(body: &[u8]) -> [u8; 32] {
    use hmac::Mac;
    let mut m = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"kona-sandbox-secret-0001").unwrap();
    m.update(body);
    m.finalize().into_bytes().into()
}

/// A realistic response body of endpoint `i`: Korean description with escapes and an
/// unknown field, as the platform adds fields over time.
/// The HMAC key state after the key is absorbed (what a signer keeps between requests).
pub fn hmac_keyed() -> hmac::Hmac<sha2::Sha256> {
    use hmac::Mac;
    hmac::Hmac::<sha2::Sha256>::new_from_slice(b"kona-sandbox-secret-0001").unwrap()
}

/// The HMAC-SHA256 of `body` from a keyed state kept between requests: the least any signer
/// must do per request.
pub fn hmac_keyed_floor(keyed: &hmac::Hmac<sha2::Sha256>, body: &[u8]) -> [u8; 32] {
    use hmac::Mac;
    let mut m = keyed.clone();
    m.update(body);
    m.finalize().into_bytes().into()
}

pub fn response_body(i: usize) -> Vec<u8> {
    let env = r#""response":{"code":"000_000","description":"\uc131\uacf5 (정상 처리되었습니다)"},"traceId":"a1b2c3d4e5f6","#;
    let fields = match i {
        0 => r#""oneTimeToken":"9461442187322710","dcvv":"366","expiryTime":1700000030000"#,
        1 => r#""nrNumber":"KMN221114031773543","isPending":false"#,
        2 => r#""isPending":false"#,
        3 => r#""result":"COMPLETED","nrNumber":"KMN221114031773543""#,
        4 => {
            r#""par":"Q1ABCDEF0123456789ABCDEF012","refundFeeRate":1.5,"balance":50000,"refundCheckBalance":50000,"discountAmount":0,"refundFee":750,"refundAmount":49250,"expiredFee":0,"refundable":true,"refundThresholdBalance":1000000000,"refundThresholdRatio":60.0,"currentBalanceRatio":12.5,"lastLoadedBalance":100000"#
        }
        5 => r#""nrNumber":"KMN221114031773543""#,
        6 => r#""extra":null"#,
        _ => {
            r#""parInfoList":[{"par":"Q1ABCDEF0123456789ABCDEF012","registeredDate":"20261123195406"},{"par":"Q1ABCDEF0123456789ABCDEF013","registeredDate":"20261124101010"}]"#
        }
    };
    format!("{{{env}{fields}}}").into_bytes()
}

/// Decodes response `i` with our core (into fixed-size typed values, no allocation).
pub fn decode_ours(i: usize, body: &[u8]) -> bool {
    fn d<E: Endpoint>(body: &[u8]) -> bool {
        // the result is looked at where it was returned (moving it out would copy the whole
        // reply in the harness, which is not the decoder's cost)
        let r = decode_reply::<E::Response, E::Code>(body);
        black_box(&r);
        r.as_ref().is_ok_and(|r| r.is_success())
    }
    match i {
        0 => d::<IssueToken>(body),
        1 => d::<Charge>(body),
        2 => d::<CancelCharge>(body),
        3 => d::<ChargeResultInquiry>(body),
        4 => d::<RefundFee>(body),
        5 => d::<Refund>(body),
        6 => d::<AutoRechargeRegister>(body),
        _ => d::<AutoRechargeList>(body),
    }
}

/// Caller-owned reply storage for every endpoint, as a firmware loop keeps it.
pub struct Slots {
    token: Reply<TokenResponse, TokenCode>,
    charge: Reply<ChargeResponse, ChargeCode>,
    cancel: Reply<CancelResponse, CancelCode>,
    result: Reply<ChargeResultResponse, ChargeResultCode>,
    fee: Reply<RefundFeeResponse, RefundFeeCode>,
    refund: Reply<RefundResponse, RefundCode>,
    register: Reply<Empty, AutoRechargeRegisterCode>,
    list: Reply<AutoRechargeListResponse, AutoRechargeListCode>,
}

impl Slots {
    pub fn new() -> Self {
        fn r<E: Endpoint>(i: usize) -> ReplyOf<E> {
            decode_reply::<E::Response, E::Code>(&response_body(i)).unwrap()
        }
        Slots {
            token: r::<IssueToken>(0),
            charge: r::<Charge>(1),
            cancel: r::<CancelCharge>(2),
            result: r::<ChargeResultInquiry>(3),
            fee: r::<RefundFee>(4),
            refund: r::<Refund>(5),
            register: r::<AutoRechargeRegister>(6),
            list: r::<AutoRechargeList>(7),
        }
    }
}

impl Default for Slots {
    fn default() -> Self {
        Self::new()
    }
}

/// Decodes response `i` into caller-owned storage (the zero-copy API firmware uses).
pub fn decode_ours_into(i: usize, body: &[u8], s: &mut Slots) -> bool {
    fn d<R, C: konaplate_core::code::ResultCode>(body: &[u8], out: &mut Reply<R, C>) -> bool
    where
        Reply<R, C>: AnyReply,
    {
        out.decode_plain(body).unwrap();
        black_box(&*out);
        out.is_success()
    }
    match i {
        0 => d(body, &mut s.token),
        1 => d(body, &mut s.charge),
        2 => d(body, &mut s.cancel),
        3 => d(body, &mut s.result),
        4 => d(body, &mut s.fee),
        5 => d(body, &mut s.refund),
        6 => d(body, &mut s.register),
        _ => d(body, &mut s.list),
    }
}

// ---------- the usual std approach: serde_json and String-owning structs ----------

#[derive(Serialize, Deserialize)]
pub struct SEnvelope {
    pub code: String,
    pub description: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SToken {
    pub response: SEnvelope,
    pub one_time_token: Option<String>,
    pub dcvv: Option<String>,
    pub expiry_time: Option<u64>,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SCharge {
    pub response: SEnvelope,
    pub nr_number: Option<String>,
    pub is_pending: Option<bool>,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SCancel {
    pub response: SEnvelope,
    pub is_pending: Option<bool>,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SResult {
    pub response: SEnvelope,
    pub result: Option<String>,
    pub nr_number: Option<String>,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SFee {
    pub response: SEnvelope,
    pub par: Option<String>,
    pub refund_fee_rate: Option<f64>,
    pub balance: Option<u64>,
    pub refund_check_balance: Option<u64>,
    pub discount_amount: Option<u64>,
    pub refund_fee: Option<u64>,
    pub refund_amount: Option<u64>,
    pub expired_fee: Option<u64>,
    pub refundable: Option<bool>,
    pub refund_threshold_balance: Option<u64>,
    pub refund_threshold_ratio: Option<f64>,
    pub current_balance_ratio: Option<f64>,
    pub last_loaded_balance: Option<u64>,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SRefund {
    pub response: SEnvelope,
    pub nr_number: Option<String>,
}
#[derive(Deserialize)]
pub struct SEmpty {
    pub response: SEnvelope,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SParInfo {
    pub par: String,
    pub registered_date: String,
}
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SList {
    pub response: SEnvelope,
    pub par_info_list: Option<Vec<SParInfo>>,
}

/// Decodes response `i` the usual std way.
pub fn decode_serde(i: usize, body: &[u8]) -> bool {
    fn d<T: for<'de> Deserialize<'de>>(body: &[u8], ok: impl FnOnce(&T) -> bool) -> bool {
        // as for ours: the result is looked at where it was returned
        let t: Result<T, _> = serde_json::from_slice(body);
        black_box(&t);
        t.as_ref().is_ok_and(ok)
    }
    match i {
        0 => d::<SToken>(body, |t| t.response.code == "000_000"),
        1 => d::<SCharge>(body, |t| t.response.code == "000_000"),
        2 => d::<SCancel>(body, |t| t.response.code == "000_000"),
        3 => d::<SResult>(body, |t| t.response.code == "000_000"),
        4 => d::<SFee>(body, |t| t.response.code == "000_000"),
        5 => d::<SRefund>(body, |t| t.response.code == "000_000"),
        6 => d::<SEmpty>(body, |t| t.response.code == "000_000"),
        _ => d::<SList>(body, |t| t.response.code == "000_000"),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SChargeReq {
    pub sequence_id: String,
    pub user_id: u64,
    pub amount: u64,
    pub one_time_token: String,
    pub dcvv: String,
    pub merchant_id: String,
}

/// The usual std encode: serde_json to a `Vec` from String-owning fields (charge).
pub fn encode_serde_charge() -> Vec<u8> {
    let r = SChargeReq {
        sequence_id: "KP20261123195406123a1b2c3d4".into(),
        user_id: 50_000_104_652,
        amount: 50_000,
        one_time_token: "9461442187322710".into(),
        dcvv: "366".into(),
        merchant_id: "100000000000101".into(),
    };
    serde_json::to_vec(&r).unwrap()
}

/// A key wrap without RSA, so the JWE benches measure the AES-GCM + base64url part.
pub struct NoRsa;
impl KeyWrap for NoRsa {
    fn wrap_key(&mut self, cek: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        out[..256].fill(0);
        out[..cek.len()].copy_from_slice(cek);
        Ok(256)
    }
}
impl KeyUnwrap for NoRsa {
    fn unwrap_key(&mut self, wrapped: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        out[..16].copy_from_slice(&wrapped[..16]);
        Ok(16)
    }
}

/// The embedded client's whole exchange for a charge over `stream` (a recorded answer):
/// encode, sign, write, read, frame and decode into caller storage.
pub fn embedded_charge<S: embedded_io::Read + embedded_io::Write>(
    stream: &mut S,
    c: &Ctx,
    buf: &mut [u8],
    s: &mut Slots,
) -> bool {
    let req = ChargeRequest {
        sequence_id: seq(),
        user_id: user(),
        amount: ChargeAmount::new(50_000).unwrap(),
        one_time_token: tok(),
        dcvv: dcvv(),
        merchant_id: MerchantId::new("100000000000101").unwrap(),
    };
    // a charge takes no plain call_into (money goes through the flow): the same two steps
    // call_into makes, by hand
    let mut crypto = NoCrypto;
    let Ok(mut call) =
        konaplate_core::call::Call::new(&c.session, &c.stamp, &req, &mut crypto, buf)
    else {
        return false;
    };
    let sent = konaplate_embedded::complete(stream, &mut call, &mut crypto, buf, &mut s.charge);
    sent.is_ok() && s.charge.is_success()
}
