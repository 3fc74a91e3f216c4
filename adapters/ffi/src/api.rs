//! The eight covered endpoints: plain C request structs, encoding into the caller's buffer,
//! and decoding answers into plain C reply structs. Strings are NUL-terminated fixed arrays
//! sized by the documented limits; the raw result code is always kept.

use core::ffi::c_char;

use konaplate_core::api::{
    AutoRechargeList, AutoRechargeListRequest, AutoRechargeRegister, AutoRechargeRegisterRequest,
    CancelCharge, CancelRequest, Charge, ChargeRequest, ChargeResultInquiry, ChargeResultRequest,
    Endpoint, IssueToken, Refund, RefundFee, RefundFeeRequest, RefundRequest, ReplyOf, Request,
    TokenRequest,
};
use konaplate_core::code::ResultCode;
use konaplate_core::field::{
    CardExpiry, CardNo, ChargeAmount, ChargeResult, Dcvv, MerchantId, NrNumber, OneTimeToken, Par,
    SequenceId, TokenType, UserId,
};
use konaplate_core::message::Reply;
use konaplate_core::request::encode_request;
use konaplate_core::response::decode_reply_body;
use zeroize::Zeroize;

use crate::c::{
    Failure, array_text, finish, konaplate_error, konaplate_result, non_null, non_null_mut,
    put_text,
};
use crate::crypto::{CCrypto, konaplate_crypto};
use crate::session::{konaplate_session, konaplate_stamp, session, stamp};

// ---------------------------------------------------------------- requests

/// `POST …/generate/onetimetoken` (request Encrypted: give a `konaplate_crypto` with `wrap`).
#[repr(C)]
pub struct konaplate_token_request {
    /// `cardNo`: exactly 16 digits.
    pub card_no: [c_char; 17],
    /// `type`: 0 = omitted, 1 = `ATM`, 2 = `CREDIT`.
    pub token_type: u32,
}

/// `POST …/by-bank-accounts/no-hce`: charge the card from the bank account.
#[repr(C)]
pub struct konaplate_charge_request {
    /// `sequenceId`: 1 to 30 letters, digits, `-` or `_`.
    pub sequence_id: [c_char; 31],
    /// `userId`.
    pub user_id: u64,
    /// `amount` in KRW, 1..=9999999999.
    pub amount: u64,
    /// `oneTimeToken`: exactly 16 digits.
    pub one_time_token: [c_char; 17],
    /// `dcvv`: exactly 3 digits.
    pub dcvv: [c_char; 4],
    /// `merchantId`: exactly 15 digits.
    pub merchant_id: [c_char; 16],
}

/// `POST …/result/inquiry`: the result of a charge or cancellation by its sequenceId.
#[repr(C)]
pub struct konaplate_charge_result_request {
    /// `sequenceId` of the charge or cancellation.
    pub sequence_id: [c_char; 31],
}

/// `POST …/no-hce/cancel`: cancel a charge (the answer comes Encrypted: give `unwrap`).
#[repr(C)]
pub struct konaplate_cancel_request {
    /// `sequenceId` of this cancellation.
    pub sequence_id: [c_char; 31],
    /// `userId`.
    pub user_id: u64,
    /// `nrNumber` of the charge: 1 to 50 letters or digits.
    pub nr_number: [c_char; 51],
    /// `oneTimeToken`.
    pub one_time_token: [c_char; 17],
    /// `dcvv`.
    pub dcvv: [c_char; 4],
    /// `cardExpiry` `YYMM`, or empty (omitted).
    pub card_expiry: [c_char; 5],
}

/// `POST /api/v1/refund/fee`: the fee a refund would cost.
#[repr(C)]
pub struct konaplate_refund_fee_request {
    /// `oneTimeToken`.
    pub one_time_token: [c_char; 17],
    /// `userId`.
    pub user_id: u64,
}

/// `POST /api/v1/refund/card`: refund the card's balance to the bank account.
#[repr(C)]
pub struct konaplate_refund_request {
    /// `sequenceId` of this refund.
    pub sequence_id: [c_char; 31],
    /// `userId`.
    pub user_id: u64,
    /// `cardExpiry` `YYMM`.
    pub card_expiry: [c_char; 5],
    /// `dcvv`.
    pub dcvv: [c_char; 4],
    /// `oneTimeToken`.
    pub one_time_token: [c_char; 17],
}

/// `POST …/auto/payments/register` (request Encrypted): auto-recharge at payment.
#[repr(C)]
pub struct konaplate_register_request {
    /// `userId`.
    pub user_id: u64,
    /// `par`: exactly 27 upper-case letters or digits.
    pub par: [c_char; 28],
}

/// `POST …/auto/payments/plans`: the member's auto-recharge plans.
#[repr(C)]
pub struct konaplate_list_request {
    /// `userId`.
    pub user_id: u64,
}

fn token(r: &konaplate_token_request) -> Result<TokenRequest, Failure> {
    let token_type = match r.token_type {
        0 => None,
        1 => Some(TokenType::Atm),
        2 => Some(TokenType::Credit),
        _ => {
            return Err(konaplate_core::field::FieldError::new(
                "type",
                "0 (omitted), 1 (ATM) or 2 (CREDIT)",
            )
            .into());
        }
    };
    Ok(TokenRequest {
        card_no: CardNo::new(array_text(&r.card_no, "cardNo")?)?,
        token_type,
    })
}

pub(crate) fn charge(r: &konaplate_charge_request) -> Result<ChargeRequest, Failure> {
    Ok(ChargeRequest {
        sequence_id: SequenceId::new(array_text(&r.sequence_id, "sequenceId")?)?,
        user_id: UserId::new(r.user_id)?,
        amount: ChargeAmount::new(r.amount)?,
        one_time_token: OneTimeToken::new(array_text(&r.one_time_token, "oneTimeToken")?)?,
        dcvv: Dcvv::new(array_text(&r.dcvv, "dcvv")?)?,
        merchant_id: MerchantId::new(array_text(&r.merchant_id, "merchantId")?)?,
    })
}

fn charge_result(r: &konaplate_charge_result_request) -> Result<ChargeResultRequest, Failure> {
    Ok(ChargeResultRequest {
        sequence_id: SequenceId::new(array_text(&r.sequence_id, "sequenceId")?)?,
    })
}

pub(crate) fn cancel(r: &konaplate_cancel_request) -> Result<CancelRequest, Failure> {
    let expiry = array_text(&r.card_expiry, "cardExpiry")?;
    Ok(CancelRequest {
        sequence_id: SequenceId::new(array_text(&r.sequence_id, "sequenceId")?)?,
        user_id: UserId::new(r.user_id)?,
        nr_number: NrNumber::new(array_text(&r.nr_number, "nrNumber")?)?,
        one_time_token: OneTimeToken::new(array_text(&r.one_time_token, "oneTimeToken")?)?,
        dcvv: Dcvv::new(array_text(&r.dcvv, "dcvv")?)?,
        card_expiry: if expiry.is_empty() {
            None
        } else {
            Some(CardExpiry::new(expiry)?)
        },
    })
}

fn refund_fee(r: &konaplate_refund_fee_request) -> Result<RefundFeeRequest, Failure> {
    Ok(RefundFeeRequest {
        one_time_token: OneTimeToken::new(array_text(&r.one_time_token, "oneTimeToken")?)?,
        user_id: UserId::new(r.user_id)?,
    })
}

pub(crate) fn refund(r: &konaplate_refund_request) -> Result<RefundRequest, Failure> {
    Ok(RefundRequest {
        sequence_id: SequenceId::new(array_text(&r.sequence_id, "sequenceId")?)?,
        user_id: UserId::new(r.user_id)?,
        card_expiry: CardExpiry::new(array_text(&r.card_expiry, "cardExpiry")?)?,
        dcvv: Dcvv::new(array_text(&r.dcvv, "dcvv")?)?,
        one_time_token: OneTimeToken::new(array_text(&r.one_time_token, "oneTimeToken")?)?,
    })
}

fn register(r: &konaplate_register_request) -> Result<AutoRechargeRegisterRequest, Failure> {
    Ok(AutoRechargeRegisterRequest {
        user_id: UserId::new(r.user_id)?,
        par: Par::new(array_text(&r.par, "par")?)?,
    })
}

fn list(r: &konaplate_list_request) -> Result<AutoRechargeListRequest, Failure> {
    Ok(AutoRechargeListRequest {
        user_id: UserId::new(r.user_id)?,
    })
}

// ---------------------------------------------------------------- encoding

/// Where an encoded request is in the caller's buffer, and its Correlation-Id (to log).
#[repr(C)]
pub struct konaplate_encoded {
    /// Bytes to write to the socket: `out[0 .. len]`.
    pub len: usize,
    /// Where the body starts.
    pub body_start: usize,
    /// The body's length.
    pub body_len: usize,
    /// `X-KM-Correlation-Id` (20 characters and a NUL).
    pub correlation_id: [c_char; 21],
}

#[allow(clippy::too_many_arguments)] // the C entry points' arguments, forwarded
unsafe fn encode<R: Request, C>(
    session_p: *const konaplate_session,
    stamp_p: *const konaplate_stamp,
    request: *const C,
    convert: fn(&C) -> Result<R, Failure>,
    crypto: *const konaplate_crypto,
    out: *mut u8,
    out_cap: usize,
    encoded: *mut konaplate_encoded,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        // SAFETY: every pointer is NULL (reported) or valid for the call (the header's contract).
        let (s, st) = unsafe { (session(session_p)?, stamp(stamp_p)?) };
        let req = convert(unsafe { non_null(request, "request") }?)?;
        let e = unsafe { non_null_mut(encoded, "encoded") }?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: `out` points to `out_cap` writable bytes.
        let buf = unsafe { core::slice::from_raw_parts_mut(out, out_cap) };
        let crypto = unsafe { CCrypto::new(crypto) };
        match encode_request(s, &st, &req, crypto, buf) {
            Ok(x) => {
                e.len = x.len;
                e.body_start = x.body.start;
                e.body_len = x.body.len();
                put_text(&mut e.correlation_id, x.headers.correlation_id.as_bytes());
                Ok(())
            }
            Err(x) => {
                // nothing sendable, and no secret left behind
                buf.zeroize();
                Err(x.into())
            }
        }
    })();
    finish(r, err)
}

/// The one-time token request (Encrypted: `crypto` with `wrap`, fresh `cek` and `iv`).
///
/// Encodes the whole signed HTTP/1.1 request into `out[0 .. out_cap]` (sealed as JWE exactly
/// when the endpoint's request is Encrypted; `crypto` may be NULL otherwise) and describes it
/// in `*encoded`. On error nothing sendable is left in `out`, and `err` names the failing
/// field and its limit.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_encode_token(
    session: *const konaplate_session,
    stamp: *const konaplate_stamp,
    request: *const konaplate_token_request,
    crypto: *const konaplate_crypto,
    out: *mut u8,
    out_cap: usize,
    encoded: *mut konaplate_encoded,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe {
        encode(
            session, stamp, request, token, crypto, out, out_cap, encoded, err,
        )
    }
}

/// The charge request. Money moves: drive it through a `konaplate_flow` (journal its record before sending).
///
/// Encodes the whole signed HTTP/1.1 request into `out[0 .. out_cap]` (sealed as JWE exactly
/// when the endpoint's request is Encrypted; `crypto` may be NULL otherwise) and describes it
/// in `*encoded`. On error nothing sendable is left in `out`, and `err` names the failing
/// field and its limit.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_encode_charge(
    session: *const konaplate_session,
    stamp: *const konaplate_stamp,
    request: *const konaplate_charge_request,
    crypto: *const konaplate_crypto,
    out: *mut u8,
    out_cap: usize,
    encoded: *mut konaplate_encoded,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe {
        encode(
            session, stamp, request, charge, crypto, out, out_cap, encoded, err,
        )
    }
}

/// The result inquiry of a charge or cancellation.
///
/// Encodes the whole signed HTTP/1.1 request into `out[0 .. out_cap]` (sealed as JWE exactly
/// when the endpoint's request is Encrypted; `crypto` may be NULL otherwise) and describes it
/// in `*encoded`. On error nothing sendable is left in `out`, and `err` names the failing
/// field and its limit.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_encode_charge_result(
    session: *const konaplate_session,
    stamp: *const konaplate_stamp,
    request: *const konaplate_charge_result_request,
    crypto: *const konaplate_crypto,
    out: *mut u8,
    out_cap: usize,
    encoded: *mut konaplate_encoded,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe {
        encode(
            session,
            stamp,
            request,
            charge_result,
            crypto,
            out,
            out_cap,
            encoded,
            err,
        )
    }
}

/// The cancellation of a charge. Money moves: drive it through a `konaplate_flow`.
///
/// Encodes the whole signed HTTP/1.1 request into `out[0 .. out_cap]` (sealed as JWE exactly
/// when the endpoint's request is Encrypted; `crypto` may be NULL otherwise) and describes it
/// in `*encoded`. On error nothing sendable is left in `out`, and `err` names the failing
/// field and its limit.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_encode_cancel(
    session: *const konaplate_session,
    stamp: *const konaplate_stamp,
    request: *const konaplate_cancel_request,
    crypto: *const konaplate_crypto,
    out: *mut u8,
    out_cap: usize,
    encoded: *mut konaplate_encoded,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe {
        encode(
            session, stamp, request, cancel, crypto, out, out_cap, encoded, err,
        )
    }
}

/// The refund fee inquiry.
///
/// Encodes the whole signed HTTP/1.1 request into `out[0 .. out_cap]` (sealed as JWE exactly
/// when the endpoint's request is Encrypted; `crypto` may be NULL otherwise) and describes it
/// in `*encoded`. On error nothing sendable is left in `out`, and `err` names the failing
/// field and its limit.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_encode_refund_fee(
    session: *const konaplate_session,
    stamp: *const konaplate_stamp,
    request: *const konaplate_refund_fee_request,
    crypto: *const konaplate_crypto,
    out: *mut u8,
    out_cap: usize,
    encoded: *mut konaplate_encoded,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe {
        encode(
            session, stamp, request, refund_fee, crypto, out, out_cap, encoded, err,
        )
    }
}

/// The refund request. Money moves: drive it through a `konaplate_flow`.
///
/// Encodes the whole signed HTTP/1.1 request into `out[0 .. out_cap]` (sealed as JWE exactly
/// when the endpoint's request is Encrypted; `crypto` may be NULL otherwise) and describes it
/// in `*encoded`. On error nothing sendable is left in `out`, and `err` names the failing
/// field and its limit.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_encode_refund(
    session: *const konaplate_session,
    stamp: *const konaplate_stamp,
    request: *const konaplate_refund_request,
    crypto: *const konaplate_crypto,
    out: *mut u8,
    out_cap: usize,
    encoded: *mut konaplate_encoded,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe {
        encode(
            session, stamp, request, refund, crypto, out, out_cap, encoded, err,
        )
    }
}

/// The auto-recharge registration (Encrypted: `crypto` with `wrap`).
///
/// Encodes the whole signed HTTP/1.1 request into `out[0 .. out_cap]` (sealed as JWE exactly
/// when the endpoint's request is Encrypted; `crypto` may be NULL otherwise) and describes it
/// in `*encoded`. On error nothing sendable is left in `out`, and `err` names the failing
/// field and its limit.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_encode_register(
    session: *const konaplate_session,
    stamp: *const konaplate_stamp,
    request: *const konaplate_register_request,
    crypto: *const konaplate_crypto,
    out: *mut u8,
    out_cap: usize,
    encoded: *mut konaplate_encoded,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe {
        encode(
            session, stamp, request, register, crypto, out, out_cap, encoded, err,
        )
    }
}

/// The auto-recharge plan list.
///
/// Encodes the whole signed HTTP/1.1 request into `out[0 .. out_cap]` (sealed as JWE exactly
/// when the endpoint's request is Encrypted; `crypto` may be NULL otherwise) and describes it
/// in `*encoded`. On error nothing sendable is left in `out`, and `err` names the failing
/// field and its limit.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_encode_list(
    session: *const konaplate_session,
    stamp: *const konaplate_stamp,
    request: *const konaplate_list_request,
    crypto: *const konaplate_crypto,
    out: *mut u8,
    out_cap: usize,
    encoded: *mut konaplate_encoded,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe {
        encode(
            session, stamp, request, list, crypto, out, out_cap, encoded, err,
        )
    }
}

// ---------------------------------------------------------------- replies

/// What every answer carries: the envelope's code and description, and how it came.
#[repr(C)]
pub struct konaplate_reply_header {
    /// `response.code`, verbatim (e.g. `000_000`, `007_009`).
    pub code: [c_char; 33],
    /// `response.description` (UTF-8, often Korean), NUL-terminated.
    pub description: [c_char; 257],
    /// `true` for `000_000`; then `has_body` is true and the fields are filled.
    pub success: bool,
    /// The answer was JWE-encrypted and was decrypted.
    pub encrypted: bool,
    /// The endpoint's fields are present (exactly on success).
    pub has_body: bool,
}

/// Answer of `konaplate_encode_token`. Holds a one-time token and a DCVV: wipe it with
/// `konaplate_wipe` once used.
#[repr(C)]
pub struct konaplate_token_reply {
    /// Envelope.
    pub header: konaplate_reply_header,
    /// `oneTimeToken`.
    pub one_time_token: [c_char; 17],
    /// `dcvv`.
    pub dcvv: [c_char; 4],
    /// `expiryTime` was present.
    pub has_expiry_time: bool,
    /// `expiryTime` (epoch milliseconds).
    pub expiry_time: u64,
}

/// Answer of a charge.
#[repr(C)]
pub struct konaplate_charge_reply {
    /// Envelope.
    pub header: konaplate_reply_header,
    /// `nrNumber`, needed to cancel.
    pub nr_number: [c_char; 51],
    /// `isPending`: the outcome is unknown until the result inquiry says.
    pub is_pending: bool,
}

/// `result` of the inquiry.
#[repr(u32)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum konaplate_charge_result {
    /// No result (the answer was not a success).
    None = 0,
    /// `COMPLETED`.
    Completed = 1,
    /// `FAILED`.
    Failed = 2,
    /// `PENDING`.
    Pending = 3,
}

/// Answer of the result inquiry.
#[repr(C)]
pub struct konaplate_charge_result_reply {
    /// Envelope.
    pub header: konaplate_reply_header,
    /// `result`.
    pub result: konaplate_charge_result,
    /// `nrNumber` was present.
    pub has_nr_number: bool,
    /// `nrNumber`.
    pub nr_number: [c_char; 51],
}

/// Answer of a cancellation.
#[repr(C)]
pub struct konaplate_cancel_reply {
    /// Envelope.
    pub header: konaplate_reply_header,
    /// `isPending`.
    pub is_pending: bool,
}

/// Answer of the refund fee inquiry. Amounts in KRW; rates in tenths of a percent.
#[repr(C)]
pub struct konaplate_refund_fee_reply {
    /// Envelope.
    pub header: konaplate_reply_header,
    /// `par`.
    pub par: [c_char; 28],
    /// `refundFeeRate`, tenths of a percent.
    pub refund_fee_rate_tenths: u16,
    /// `balance`.
    pub balance: u64,
    /// `refundCheckBalance`.
    pub refund_check_balance: u64,
    /// `discountAmount`.
    pub discount_amount: u64,
    /// `refundFee`.
    pub refund_fee: u64,
    /// `refundAmount`.
    pub refund_amount: u64,
    /// `expiredFee`.
    pub expired_fee: u64,
    /// `refundable`.
    pub refundable: bool,
    /// `refundThresholdBalance`.
    pub refund_threshold_balance: u64,
    /// `refundThresholdRatio`, tenths of a percent.
    pub refund_threshold_ratio_tenths: u16,
    /// `currentBalanceRatio`, tenths of a percent.
    pub current_balance_ratio_tenths: u16,
    /// `lastLoadedBalance`.
    pub last_loaded_balance: u64,
}

/// Answer of a refund.
#[repr(C)]
pub struct konaplate_refund_reply {
    /// Envelope.
    pub header: konaplate_reply_header,
    /// `nrNumber` of the refund (18 characters).
    pub nr_number: [c_char; 19],
}

/// Answer of the auto-recharge registration (the envelope only).
#[repr(C)]
pub struct konaplate_register_reply {
    /// Envelope.
    pub header: konaplate_reply_header,
}

/// Most plans a list answer holds.
pub const KONAPLATE_MAX_LIST_ITEMS: usize = 16;

/// One auto-recharge plan.
#[repr(C)]
pub struct konaplate_par_info {
    /// `par`.
    pub par: [c_char; 28],
    /// `registeredDate`, `yyyyMMddHHmmss`.
    pub registered_date: [c_char; 15],
}

/// Answer of the plan list.
#[repr(C)]
pub struct konaplate_list_reply {
    /// Envelope.
    pub header: konaplate_reply_header,
    /// Plans in `items`.
    pub count: u32,
    /// `parInfoList`.
    pub items: [konaplate_par_info; KONAPLATE_MAX_LIST_ITEMS],
}

fn header<R, C: ResultCode>(r: &Reply<R, C>, encrypted: bool, h: &mut konaplate_reply_header) {
    put_text(&mut h.code, r.code.as_str().as_bytes());
    put_text(&mut h.description, r.description.as_str().as_bytes());
    h.success = r.is_success();
    h.encrypted = encrypted;
    h.has_body = r.body.is_some();
}

/// A C reply struct with a header, filled from the decoded reply of endpoint `E`.
trait CReply<E: Endpoint> {
    fn header(&mut self) -> &mut konaplate_reply_header;
    fn fill(&mut self, body: &E::Response);
}

macro_rules! c_reply {
    ($($endpoint:ty => $reply:ty),* $(,)?) => {$(
        impl CReply<$endpoint> for $reply {
            fn header(&mut self) -> &mut konaplate_reply_header {
                &mut self.header
            }
            fn fill(&mut self, b: &<$endpoint as Endpoint>::Response) {
                self.fill_from(b)
            }
        }
    )*};
}

c_reply!(
    IssueToken => konaplate_token_reply,
    Charge => konaplate_charge_reply,
    ChargeResultInquiry => konaplate_charge_result_reply,
    CancelCharge => konaplate_cancel_reply,
    RefundFee => konaplate_refund_fee_reply,
    Refund => konaplate_refund_reply,
    AutoRechargeRegister => konaplate_register_reply,
    AutoRechargeList => konaplate_list_reply,
);

unsafe fn decode<E: Endpoint, O: CReply<E>>(
    body: *mut u8,
    body_len: usize,
    crypto: *const konaplate_crypto,
    reply: *mut O,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        if reply.is_null() {
            return Err(Failure::null("reply"));
        }
        // SAFETY: `reply` points to a writable reply struct: start from all zeros (every
        // field of every reply struct is valid as zero).
        unsafe { crate::c::konaplate_wipe(reply.cast(), core::mem::size_of::<O>()) };
        let out = unsafe { &mut *reply };
        if body.is_null() {
            return Err(Failure::null("body"));
        }
        // SAFETY: `body` points to `body_len` writable bytes (decrypted in place when JWE).
        let bytes = unsafe { core::slice::from_raw_parts_mut(body, body_len) };
        let crypto = unsafe { CCrypto::new(crypto) };
        let (decoded, encrypted): (ReplyOf<E>, bool) = decode_reply_body::<E>(bytes, crypto)?;
        header(&decoded, encrypted, out.header());
        if let Some(b) = &decoded.body {
            out.fill(b);
        }
        Ok(())
    })();
    finish(r, err)
}

/// How a C reply struct takes the fields of a decoded body.
trait Fill<B> {
    fn fill_from(&mut self, b: &B);
}

impl Fill<konaplate_core::api::TokenResponse> for konaplate_token_reply {
    fn fill_from(&mut self, b: &konaplate_core::api::TokenResponse) {
        put_text(&mut self.one_time_token, b.one_time_token.expose_bytes());
        put_text(&mut self.dcvv, b.dcvv.expose_bytes());
        self.has_expiry_time = b.expiry_time.is_some();
        self.expiry_time = b.expiry_time.unwrap_or(0);
    }
}

impl Fill<konaplate_core::api::ChargeResponse> for konaplate_charge_reply {
    fn fill_from(&mut self, b: &konaplate_core::api::ChargeResponse) {
        put_text(&mut self.nr_number, b.nr_number.as_bytes());
        self.is_pending = b.is_pending;
    }
}

impl Fill<konaplate_core::api::ChargeResultResponse> for konaplate_charge_result_reply {
    fn fill_from(&mut self, b: &konaplate_core::api::ChargeResultResponse) {
        self.result = match b.result {
            ChargeResult::Completed => konaplate_charge_result::Completed,
            ChargeResult::Failed => konaplate_charge_result::Failed,
            ChargeResult::Pending => konaplate_charge_result::Pending,
        };
        self.has_nr_number = b.nr_number.is_some();
        if let Some(nr) = &b.nr_number {
            put_text(&mut self.nr_number, nr.as_bytes());
        }
    }
}

impl Fill<konaplate_core::api::CancelResponse> for konaplate_cancel_reply {
    fn fill_from(&mut self, b: &konaplate_core::api::CancelResponse) {
        self.is_pending = b.is_pending;
    }
}

impl Fill<konaplate_core::api::RefundFeeResponse> for konaplate_refund_fee_reply {
    fn fill_from(&mut self, b: &konaplate_core::api::RefundFeeResponse) {
        put_text(&mut self.par, b.par.as_bytes());
        self.refund_fee_rate_tenths = b.refund_fee_rate.tenths();
        self.balance = b.balance.get();
        self.refund_check_balance = b.refund_check_balance.get();
        self.discount_amount = b.discount_amount.get();
        self.refund_fee = b.refund_fee.get();
        self.refund_amount = b.refund_amount.get();
        self.expired_fee = b.expired_fee.get();
        self.refundable = b.refundable;
        self.refund_threshold_balance = b.refund_threshold_balance.get();
        self.refund_threshold_ratio_tenths = b.refund_threshold_ratio.tenths();
        self.current_balance_ratio_tenths = b.current_balance_ratio.tenths();
        self.last_loaded_balance = b.last_loaded_balance.get();
    }
}

impl Fill<konaplate_core::api::RefundResponse> for konaplate_refund_reply {
    fn fill_from(&mut self, b: &konaplate_core::api::RefundResponse) {
        put_text(&mut self.nr_number, b.nr_number.as_bytes());
    }
}

impl Fill<konaplate_core::api::Empty> for konaplate_register_reply {
    fn fill_from(&mut self, _: &konaplate_core::api::Empty) {}
}

impl Fill<konaplate_core::api::AutoRechargeListResponse> for konaplate_list_reply {
    fn fill_from(&mut self, b: &konaplate_core::api::AutoRechargeListResponse) {
        self.count = 0;
        for (item, p) in self.items.iter_mut().zip(b.par_info_list.iter()) {
            put_text(&mut item.par, p.par.as_bytes());
            put_text(&mut item.registered_date, p.registered_date.as_bytes());
            self.count = self.count.saturating_add(1);
        }
    }
}

/// A token answer. It holds a one-time token and a DCVV: wipe `*reply` once used.
///
/// Decodes the HTTP body `body[0 .. body_len]` (see `konaplate_response_complete`) into
/// `*reply`, which is zeroed first. An `encData` body is decrypted in place through
/// `crypto->unwrap` (without one: `KONAPLATE_RESULT_ENCRYPTED_NO_KEY`) and the plaintext is
/// wiped from `body` afterwards. A result code other than `000_000` is not an error: it is in
/// `reply->header`, with `has_body` false.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_decode_token(
    body: *mut u8,
    body_len: usize,
    crypto: *const konaplate_crypto,
    reply: *mut konaplate_token_reply,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe { decode::<IssueToken, konaplate_token_reply>(body, body_len, crypto, reply, err) }
}

/// A charge answer (a `konaplate_flow` decodes it itself: feed it the body instead).
///
/// Decodes the HTTP body `body[0 .. body_len]` (see `konaplate_response_complete`) into
/// `*reply`, which is zeroed first. An `encData` body is decrypted in place through
/// `crypto->unwrap` (without one: `KONAPLATE_RESULT_ENCRYPTED_NO_KEY`) and the plaintext is
/// wiped from `body` afterwards. A result code other than `000_000` is not an error: it is in
/// `reply->header`, with `has_body` false.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_decode_charge(
    body: *mut u8,
    body_len: usize,
    crypto: *const konaplate_crypto,
    reply: *mut konaplate_charge_reply,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe { decode::<Charge, konaplate_charge_reply>(body, body_len, crypto, reply, err) }
}

/// A result inquiry answer.
///
/// Decodes the HTTP body `body[0 .. body_len]` (see `konaplate_response_complete`) into
/// `*reply`, which is zeroed first. An `encData` body is decrypted in place through
/// `crypto->unwrap` (without one: `KONAPLATE_RESULT_ENCRYPTED_NO_KEY`) and the plaintext is
/// wiped from `body` afterwards. A result code other than `000_000` is not an error: it is in
/// `reply->header`, with `has_body` false.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_decode_charge_result(
    body: *mut u8,
    body_len: usize,
    crypto: *const konaplate_crypto,
    reply: *mut konaplate_charge_result_reply,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe {
        decode::<ChargeResultInquiry, konaplate_charge_result_reply>(
            body, body_len, crypto, reply, err,
        )
    }
}

/// A cancellation answer (it comes Encrypted: `crypto` with `unwrap`).
///
/// Decodes the HTTP body `body[0 .. body_len]` (see `konaplate_response_complete`) into
/// `*reply`, which is zeroed first. An `encData` body is decrypted in place through
/// `crypto->unwrap` (without one: `KONAPLATE_RESULT_ENCRYPTED_NO_KEY`) and the plaintext is
/// wiped from `body` afterwards. A result code other than `000_000` is not an error: it is in
/// `reply->header`, with `has_body` false.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_decode_cancel(
    body: *mut u8,
    body_len: usize,
    crypto: *const konaplate_crypto,
    reply: *mut konaplate_cancel_reply,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe { decode::<CancelCharge, konaplate_cancel_reply>(body, body_len, crypto, reply, err) }
}

/// A refund fee answer.
///
/// Decodes the HTTP body `body[0 .. body_len]` (see `konaplate_response_complete`) into
/// `*reply`, which is zeroed first. An `encData` body is decrypted in place through
/// `crypto->unwrap` (without one: `KONAPLATE_RESULT_ENCRYPTED_NO_KEY`) and the plaintext is
/// wiped from `body` afterwards. A result code other than `000_000` is not an error: it is in
/// `reply->header`, with `has_body` false.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_decode_refund_fee(
    body: *mut u8,
    body_len: usize,
    crypto: *const konaplate_crypto,
    reply: *mut konaplate_refund_fee_reply,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe { decode::<RefundFee, konaplate_refund_fee_reply>(body, body_len, crypto, reply, err) }
}

/// A refund answer.
///
/// Decodes the HTTP body `body[0 .. body_len]` (see `konaplate_response_complete`) into
/// `*reply`, which is zeroed first. An `encData` body is decrypted in place through
/// `crypto->unwrap` (without one: `KONAPLATE_RESULT_ENCRYPTED_NO_KEY`) and the plaintext is
/// wiped from `body` afterwards. A result code other than `000_000` is not an error: it is in
/// `reply->header`, with `has_body` false.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_decode_refund(
    body: *mut u8,
    body_len: usize,
    crypto: *const konaplate_crypto,
    reply: *mut konaplate_refund_reply,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe { decode::<Refund, konaplate_refund_reply>(body, body_len, crypto, reply, err) }
}

/// An auto-recharge registration answer.
///
/// Decodes the HTTP body `body[0 .. body_len]` (see `konaplate_response_complete`) into
/// `*reply`, which is zeroed first. An `encData` body is decrypted in place through
/// `crypto->unwrap` (without one: `KONAPLATE_RESULT_ENCRYPTED_NO_KEY`) and the plaintext is
/// wiped from `body` afterwards. A result code other than `000_000` is not an error: it is in
/// `reply->header`, with `has_body` false.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_decode_register(
    body: *mut u8,
    body_len: usize,
    crypto: *const konaplate_crypto,
    reply: *mut konaplate_register_reply,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe {
        decode::<AutoRechargeRegister, konaplate_register_reply>(body, body_len, crypto, reply, err)
    }
}

/// An auto-recharge plan list answer.
///
/// Decodes the HTTP body `body[0 .. body_len]` (see `konaplate_response_complete`) into
/// `*reply`, which is zeroed first. An `encData` body is decrypted in place through
/// `crypto->unwrap` (without one: `KONAPLATE_RESULT_ENCRYPTED_NO_KEY`) and the plaintext is
/// wiped from `body` afterwards. A result code other than `000_000` is not an error: it is in
/// `reply->header`, with `has_body` false.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_decode_list(
    body: *mut u8,
    body_len: usize,
    crypto: *const konaplate_crypto,
    reply: *mut konaplate_list_reply,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe { decode::<AutoRechargeList, konaplate_list_reply>(body, body_len, crypto, reply, err) }
}
