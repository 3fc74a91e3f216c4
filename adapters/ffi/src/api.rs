//! The eight covered endpoints: plain C request structs, the calls that carry them (one
//! begin and one finish function per endpoint, over the core's `Call`), and the plain C reply
//! structs the answers are decoded into. Strings are NUL-terminated fixed arrays, each exactly
//! as large as the core's limit for its value (compile-time assertions below); the raw result
//! code is always kept.

use core::ffi::c_char;

use konaplate_core::api::{
    AutoRechargeList, AutoRechargeListRequest, AutoRechargeRegister, AutoRechargeRegisterRequest,
    CancelCharge, CancelRequest, Charge, ChargeRequest, ChargeResultInquiry, ChargeResultRequest,
    IssueToken, Refund, RefundFee, RefundFeeRequest, RefundRequest, ReplyOf, TokenRequest,
};
use konaplate_core::code::ResultCode;
use konaplate_core::field::{
    CardExpiry, CardNo, ChargeAmount, ChargeResult, Dcvv, MerchantId, NrNumber, OneTimeToken, Par,
    SequenceId, TokenType, UserId,
};

use crate::c::{Failure, array_text, konaplate_error, konaplate_result, put_text, put_value};
use crate::call::{CReply, begin, finish_into, konaplate_call};
use crate::crypto::konaplate_crypto;
use crate::limits::*;
use crate::session::{konaplate_session, konaplate_stamp};

// ---------------------------------------------------------------- requests

/// `POST …/generate/onetimetoken` (request Encrypted: give a `konaplate_crypto` with `wrap`).
#[repr(C)]
pub struct konaplate_token_request {
    /// `cardNo`: exactly 16 digits.
    pub card_no: [c_char; KONAPLATE_CARD_NO_SIZE],
    /// `type`: 0 = omitted, 1 = `ATM`, 2 = `CREDIT`.
    pub token_type: u32,
}

/// `POST …/by-bank-accounts/no-hce`: charge the card from the bank account.
#[repr(C)]
pub struct konaplate_charge_request {
    /// `sequenceId`: 1 to 30 letters, digits, `-` or `_`.
    pub sequence_id: [c_char; KONAPLATE_SEQUENCE_ID_SIZE],
    /// `userId`.
    pub user_id: u64,
    /// `amount` in KRW, 1..=9999999999.
    pub amount: u64,
    /// `oneTimeToken`: exactly 16 digits.
    pub one_time_token: [c_char; KONAPLATE_TOKEN_SIZE],
    /// `dcvv`: exactly 3 digits.
    pub dcvv: [c_char; KONAPLATE_DCVV_SIZE],
    /// `merchantId`: exactly 15 digits.
    pub merchant_id: [c_char; KONAPLATE_MERCHANT_ID_SIZE],
}

/// `POST …/result/inquiry`: the result of a charge or cancellation by its sequenceId.
#[repr(C)]
pub struct konaplate_charge_result_request {
    /// `sequenceId` of the charge or cancellation.
    pub sequence_id: [c_char; KONAPLATE_SEQUENCE_ID_SIZE],
}

/// `POST …/no-hce/cancel`: cancel a charge (the answer comes Encrypted: give `unwrap`).
#[repr(C)]
pub struct konaplate_cancel_request {
    /// `sequenceId` of this cancellation.
    pub sequence_id: [c_char; KONAPLATE_SEQUENCE_ID_SIZE],
    /// `userId`.
    pub user_id: u64,
    /// `nrNumber` of the charge: 1 to 50 letters or digits.
    pub nr_number: [c_char; KONAPLATE_NR_NUMBER_SIZE],
    /// `oneTimeToken`.
    pub one_time_token: [c_char; KONAPLATE_TOKEN_SIZE],
    /// `dcvv`.
    pub dcvv: [c_char; KONAPLATE_DCVV_SIZE],
    /// `cardExpiry` `YYMM`, or empty (omitted).
    pub card_expiry: [c_char; KONAPLATE_CARD_EXPIRY_SIZE],
}

/// `POST /api/v1/refund/fee`: the fee a refund would cost.
#[repr(C)]
pub struct konaplate_refund_fee_request {
    /// `oneTimeToken`.
    pub one_time_token: [c_char; KONAPLATE_TOKEN_SIZE],
    /// `userId`.
    pub user_id: u64,
}

/// `POST /api/v1/refund/card`: refund the card's balance to the bank account.
#[repr(C)]
pub struct konaplate_refund_request {
    /// `sequenceId` of this refund.
    pub sequence_id: [c_char; KONAPLATE_SEQUENCE_ID_SIZE],
    /// `userId`.
    pub user_id: u64,
    /// `cardExpiry` `YYMM`.
    pub card_expiry: [c_char; KONAPLATE_CARD_EXPIRY_SIZE],
    /// `dcvv`.
    pub dcvv: [c_char; KONAPLATE_DCVV_SIZE],
    /// `oneTimeToken`.
    pub one_time_token: [c_char; KONAPLATE_TOKEN_SIZE],
}

/// `POST …/auto/payments/register` (request Encrypted): auto-recharge at payment.
#[repr(C)]
pub struct konaplate_register_request {
    /// `userId`.
    pub user_id: u64,
    /// `par`: exactly 27 upper-case letters or digits.
    pub par: [c_char; KONAPLATE_PAR_SIZE],
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

// ---------------------------------------------------------------- replies

/// What every answer carries: the envelope's code and description, and how it came.
#[repr(C)]
pub struct konaplate_reply_header {
    /// `response.code`, verbatim (e.g. `000_000`, `007_009`).
    pub code: [c_char; KONAPLATE_CODE_SIZE],
    /// `response.description` (UTF-8, often Korean), NUL-terminated.
    pub description: [c_char; KONAPLATE_DESCRIPTION_SIZE],
    /// `true` for `000_000`; then `has_body` is true and the fields are filled.
    pub success: bool,
    /// The answer was JWE-encrypted and was decrypted.
    pub encrypted: bool,
    /// The endpoint's fields are present (exactly on success).
    pub has_body: bool,
}

/// Answer of the token request. Holds a one-time token and a DCVV: wipe it with
/// `konaplate_wipe` once used.
#[repr(C)]
pub struct konaplate_token_reply {
    /// Envelope.
    pub header: konaplate_reply_header,
    /// `oneTimeToken`.
    pub one_time_token: [c_char; KONAPLATE_TOKEN_SIZE],
    /// `dcvv`.
    pub dcvv: [c_char; KONAPLATE_DCVV_SIZE],
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
    pub nr_number: [c_char; KONAPLATE_NR_NUMBER_SIZE],
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
    pub nr_number: [c_char; KONAPLATE_NR_NUMBER_SIZE],
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
    pub par: [c_char; KONAPLATE_PAR_SIZE],
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
    pub nr_number: [c_char; KONAPLATE_REFUND_NR_NUMBER_SIZE],
}

/// Answer of the auto-recharge registration (the envelope only).
#[repr(C)]
pub struct konaplate_register_reply {
    /// Envelope.
    pub header: konaplate_reply_header,
}

/// One auto-recharge plan.
#[repr(C)]
pub struct konaplate_par_info {
    /// `par`.
    pub par: [c_char; KONAPLATE_PAR_SIZE],
    /// `registeredDate`, `yyyyMMddHHmmss`.
    pub registered_date: [c_char; KONAPLATE_DATE_TIME_SIZE],
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

fn header<R, C: ResultCode>(
    r: &konaplate_core::message::Reply<R, C>,
    encrypted: bool,
    h: &mut konaplate_reply_header,
) -> Result<(), Failure> {
    let flags = [r.is_success(), encrypted, r.body.is_some()];
    fill_header(h, r.code.as_str(), r.description.as_bytes(), flags)
}

/// The header of every reply, once: `[success, encrypted, has_body]`.
#[inline(never)]
fn fill_header(
    h: &mut konaplate_reply_header,
    code: &str,
    description: &[u8],
    [success, encrypted, has_body]: [bool; 3],
) -> Result<(), Failure> {
    put_value(&mut h.code, code.as_bytes(), "response.code")?;
    put_value(&mut h.description, description, "response.description")?;
    h.success = success;
    h.encrypted = encrypted;
    h.has_body = has_body;
    Ok(())
}

macro_rules! c_reply {
    ($($endpoint:ty => $reply:ty),* $(,)?) => {$(
        impl CReply<$endpoint> for $reply {
            fn take(&mut self, r: &ReplyOf<$endpoint>, encrypted: bool) -> Result<(), Failure> {
                header(r, encrypted, &mut self.header)?;
                if let Some(b) = &r.body {
                    self.fill_from(b);
                }
                Ok(())
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

// ---------------------------------------------------------------- calls

/// The one-time token request (Encrypted: `crypto` with `wrap` and a fresh `cek` and `iv`).
///
/// Begins a call in `call`: the whole signed HTTP/1.1 request is encoded into
/// `buf[0 .. buf_len]` (sealed as JWE exactly when the endpoint's request is Encrypted;
/// `crypto` may be NULL otherwise). On error nothing sendable is left in `buf`, and `err`
/// names the failing field and its limit. A call storage that holds a call which was written
/// and has not ended is refused (`KONAPLATE_RESULT_IN_USE`); one that wrote nothing is
/// replaced, `buf` wiped whole first (begin in the buffer it used, or abort it first).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_token(
    call: *mut konaplate_call,
    session: *const konaplate_session,
    stamp: *const konaplate_stamp,
    request: *const konaplate_token_request,
    crypto: *const konaplate_crypto,
    buf: *mut u8,
    buf_len: usize,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe {
        begin::<TokenRequest, _>(
            call, session, stamp, request, token, crypto, buf, buf_len, err,
        )
    }
}

/// A token answer. It holds a one-time token and a DCVV: wipe `*reply` once used.
///
/// Ends the call once `konaplate_call_received` said `COMPLETE`: decodes the answer into
/// `*reply` (zeroed first, and left zeroed on error), decrypting an `encData` body in place
/// through `crypto->unwrap` (without one: `KONAPLATE_RESULT_ENCRYPTED_NO_KEY`); then every
/// byte of the response and the plaintext is wiped from `buf`, whatever the decoding's outcome.
/// A step that is refused (another buffer, a busy or uninitialized call) changes nothing:
/// `konaplate_call_abort` wipes. A result code other than `000_000` is not an error: it is in
/// `reply->header`, with `has_body` false.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_finish_token(
    call: *mut konaplate_call,
    buf: *mut u8,
    buf_len: usize,
    crypto: *const konaplate_crypto,
    reply: *mut konaplate_token_reply,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe { finish_into::<IssueToken, _>(call, buf, buf_len, crypto, reply, err) }
}

/// A charge, outside a flow. Money moves: drive charges through a `konaplate_flow` instead (it journals them and finds out what became of a lost answer).
///
/// Begins a call in `call`: the whole signed HTTP/1.1 request is encoded into
/// `buf[0 .. buf_len]` (sealed as JWE exactly when the endpoint's request is Encrypted;
/// `crypto` may be NULL otherwise). On error nothing sendable is left in `buf`, and `err`
/// names the failing field and its limit. A call storage that holds a call which was written
/// and has not ended is refused (`KONAPLATE_RESULT_IN_USE`); one that wrote nothing is
/// replaced, `buf` wiped whole first (begin in the buffer it used, or abort it first).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_charge(
    call: *mut konaplate_call,
    session: *const konaplate_session,
    stamp: *const konaplate_stamp,
    request: *const konaplate_charge_request,
    crypto: *const konaplate_crypto,
    buf: *mut u8,
    buf_len: usize,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe {
        begin::<ChargeRequest, _>(
            call, session, stamp, request, charge, crypto, buf, buf_len, err,
        )
    }
}

/// A charge answer.
///
/// Ends the call once `konaplate_call_received` said `COMPLETE`: decodes the answer into
/// `*reply` (zeroed first, and left zeroed on error), decrypting an `encData` body in place
/// through `crypto->unwrap` (without one: `KONAPLATE_RESULT_ENCRYPTED_NO_KEY`); then every
/// byte of the response and the plaintext is wiped from `buf`, whatever the decoding's outcome.
/// A step that is refused (another buffer, a busy or uninitialized call) changes nothing:
/// `konaplate_call_abort` wipes. A result code other than `000_000` is not an error: it is in
/// `reply->header`, with `has_body` false.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_finish_charge(
    call: *mut konaplate_call,
    buf: *mut u8,
    buf_len: usize,
    crypto: *const konaplate_crypto,
    reply: *mut konaplate_charge_reply,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe { finish_into::<Charge, _>(call, buf, buf_len, crypto, reply, err) }
}

/// The result inquiry of a charge or cancellation.
///
/// Begins a call in `call`: the whole signed HTTP/1.1 request is encoded into
/// `buf[0 .. buf_len]` (sealed as JWE exactly when the endpoint's request is Encrypted;
/// `crypto` may be NULL otherwise). On error nothing sendable is left in `buf`, and `err`
/// names the failing field and its limit. A call storage that holds a call which was written
/// and has not ended is refused (`KONAPLATE_RESULT_IN_USE`); one that wrote nothing is
/// replaced, `buf` wiped whole first (begin in the buffer it used, or abort it first).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_charge_result(
    call: *mut konaplate_call,
    session: *const konaplate_session,
    stamp: *const konaplate_stamp,
    request: *const konaplate_charge_result_request,
    crypto: *const konaplate_crypto,
    buf: *mut u8,
    buf_len: usize,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe {
        begin::<ChargeResultRequest, _>(
            call,
            session,
            stamp,
            request,
            charge_result,
            crypto,
            buf,
            buf_len,
            err,
        )
    }
}

/// A result inquiry answer.
///
/// Ends the call once `konaplate_call_received` said `COMPLETE`: decodes the answer into
/// `*reply` (zeroed first, and left zeroed on error), decrypting an `encData` body in place
/// through `crypto->unwrap` (without one: `KONAPLATE_RESULT_ENCRYPTED_NO_KEY`); then every
/// byte of the response and the plaintext is wiped from `buf`, whatever the decoding's outcome.
/// A step that is refused (another buffer, a busy or uninitialized call) changes nothing:
/// `konaplate_call_abort` wipes. A result code other than `000_000` is not an error: it is in
/// `reply->header`, with `has_body` false.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_finish_charge_result(
    call: *mut konaplate_call,
    buf: *mut u8,
    buf_len: usize,
    crypto: *const konaplate_crypto,
    reply: *mut konaplate_charge_result_reply,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe { finish_into::<ChargeResultInquiry, _>(call, buf, buf_len, crypto, reply, err) }
}

/// A cancellation of a charge, outside a flow (money moves: use a `konaplate_flow`). Its answer comes Encrypted: `crypto` with `unwrap`.
///
/// Begins a call in `call`: the whole signed HTTP/1.1 request is encoded into
/// `buf[0 .. buf_len]` (sealed as JWE exactly when the endpoint's request is Encrypted;
/// `crypto` may be NULL otherwise). On error nothing sendable is left in `buf`, and `err`
/// names the failing field and its limit. A call storage that holds a call which was written
/// and has not ended is refused (`KONAPLATE_RESULT_IN_USE`); one that wrote nothing is
/// replaced, `buf` wiped whole first (begin in the buffer it used, or abort it first).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_cancel(
    call: *mut konaplate_call,
    session: *const konaplate_session,
    stamp: *const konaplate_stamp,
    request: *const konaplate_cancel_request,
    crypto: *const konaplate_crypto,
    buf: *mut u8,
    buf_len: usize,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe {
        begin::<CancelRequest, _>(
            call, session, stamp, request, cancel, crypto, buf, buf_len, err,
        )
    }
}

/// A cancellation answer (it comes Encrypted: `crypto` with `unwrap`).
///
/// Ends the call once `konaplate_call_received` said `COMPLETE`: decodes the answer into
/// `*reply` (zeroed first, and left zeroed on error), decrypting an `encData` body in place
/// through `crypto->unwrap` (without one: `KONAPLATE_RESULT_ENCRYPTED_NO_KEY`); then every
/// byte of the response and the plaintext is wiped from `buf`, whatever the decoding's outcome.
/// A step that is refused (another buffer, a busy or uninitialized call) changes nothing:
/// `konaplate_call_abort` wipes. A result code other than `000_000` is not an error: it is in
/// `reply->header`, with `has_body` false.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_finish_cancel(
    call: *mut konaplate_call,
    buf: *mut u8,
    buf_len: usize,
    crypto: *const konaplate_crypto,
    reply: *mut konaplate_cancel_reply,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe { finish_into::<CancelCharge, _>(call, buf, buf_len, crypto, reply, err) }
}

/// The refund fee inquiry.
///
/// Begins a call in `call`: the whole signed HTTP/1.1 request is encoded into
/// `buf[0 .. buf_len]` (sealed as JWE exactly when the endpoint's request is Encrypted;
/// `crypto` may be NULL otherwise). On error nothing sendable is left in `buf`, and `err`
/// names the failing field and its limit. A call storage that holds a call which was written
/// and has not ended is refused (`KONAPLATE_RESULT_IN_USE`); one that wrote nothing is
/// replaced, `buf` wiped whole first (begin in the buffer it used, or abort it first).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_refund_fee(
    call: *mut konaplate_call,
    session: *const konaplate_session,
    stamp: *const konaplate_stamp,
    request: *const konaplate_refund_fee_request,
    crypto: *const konaplate_crypto,
    buf: *mut u8,
    buf_len: usize,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe {
        begin::<RefundFeeRequest, _>(
            call, session, stamp, request, refund_fee, crypto, buf, buf_len, err,
        )
    }
}

/// A refund fee answer.
///
/// Ends the call once `konaplate_call_received` said `COMPLETE`: decodes the answer into
/// `*reply` (zeroed first, and left zeroed on error), decrypting an `encData` body in place
/// through `crypto->unwrap` (without one: `KONAPLATE_RESULT_ENCRYPTED_NO_KEY`); then every
/// byte of the response and the plaintext is wiped from `buf`, whatever the decoding's outcome.
/// A step that is refused (another buffer, a busy or uninitialized call) changes nothing:
/// `konaplate_call_abort` wipes. A result code other than `000_000` is not an error: it is in
/// `reply->header`, with `has_body` false.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_finish_refund_fee(
    call: *mut konaplate_call,
    buf: *mut u8,
    buf_len: usize,
    crypto: *const konaplate_crypto,
    reply: *mut konaplate_refund_fee_reply,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe { finish_into::<RefundFee, _>(call, buf, buf_len, crypto, reply, err) }
}

/// A refund, outside a flow (money moves: use a `konaplate_flow`).
///
/// Begins a call in `call`: the whole signed HTTP/1.1 request is encoded into
/// `buf[0 .. buf_len]` (sealed as JWE exactly when the endpoint's request is Encrypted;
/// `crypto` may be NULL otherwise). On error nothing sendable is left in `buf`, and `err`
/// names the failing field and its limit. A call storage that holds a call which was written
/// and has not ended is refused (`KONAPLATE_RESULT_IN_USE`); one that wrote nothing is
/// replaced, `buf` wiped whole first (begin in the buffer it used, or abort it first).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_refund(
    call: *mut konaplate_call,
    session: *const konaplate_session,
    stamp: *const konaplate_stamp,
    request: *const konaplate_refund_request,
    crypto: *const konaplate_crypto,
    buf: *mut u8,
    buf_len: usize,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe {
        begin::<RefundRequest, _>(
            call, session, stamp, request, refund, crypto, buf, buf_len, err,
        )
    }
}

/// A refund answer.
///
/// Ends the call once `konaplate_call_received` said `COMPLETE`: decodes the answer into
/// `*reply` (zeroed first, and left zeroed on error), decrypting an `encData` body in place
/// through `crypto->unwrap` (without one: `KONAPLATE_RESULT_ENCRYPTED_NO_KEY`); then every
/// byte of the response and the plaintext is wiped from `buf`, whatever the decoding's outcome.
/// A step that is refused (another buffer, a busy or uninitialized call) changes nothing:
/// `konaplate_call_abort` wipes. A result code other than `000_000` is not an error: it is in
/// `reply->header`, with `has_body` false.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_finish_refund(
    call: *mut konaplate_call,
    buf: *mut u8,
    buf_len: usize,
    crypto: *const konaplate_crypto,
    reply: *mut konaplate_refund_reply,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe { finish_into::<Refund, _>(call, buf, buf_len, crypto, reply, err) }
}

/// The auto-recharge registration (Encrypted: `crypto` with `wrap`).
///
/// Begins a call in `call`: the whole signed HTTP/1.1 request is encoded into
/// `buf[0 .. buf_len]` (sealed as JWE exactly when the endpoint's request is Encrypted;
/// `crypto` may be NULL otherwise). On error nothing sendable is left in `buf`, and `err`
/// names the failing field and its limit. A call storage that holds a call which was written
/// and has not ended is refused (`KONAPLATE_RESULT_IN_USE`); one that wrote nothing is
/// replaced, `buf` wiped whole first (begin in the buffer it used, or abort it first).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_register(
    call: *mut konaplate_call,
    session: *const konaplate_session,
    stamp: *const konaplate_stamp,
    request: *const konaplate_register_request,
    crypto: *const konaplate_crypto,
    buf: *mut u8,
    buf_len: usize,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe {
        begin::<AutoRechargeRegisterRequest, _>(
            call, session, stamp, request, register, crypto, buf, buf_len, err,
        )
    }
}

/// An auto-recharge registration answer.
///
/// Ends the call once `konaplate_call_received` said `COMPLETE`: decodes the answer into
/// `*reply` (zeroed first, and left zeroed on error), decrypting an `encData` body in place
/// through `crypto->unwrap` (without one: `KONAPLATE_RESULT_ENCRYPTED_NO_KEY`); then every
/// byte of the response and the plaintext is wiped from `buf`, whatever the decoding's outcome.
/// A step that is refused (another buffer, a busy or uninitialized call) changes nothing:
/// `konaplate_call_abort` wipes. A result code other than `000_000` is not an error: it is in
/// `reply->header`, with `has_body` false.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_finish_register(
    call: *mut konaplate_call,
    buf: *mut u8,
    buf_len: usize,
    crypto: *const konaplate_crypto,
    reply: *mut konaplate_register_reply,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe { finish_into::<AutoRechargeRegister, _>(call, buf, buf_len, crypto, reply, err) }
}

/// The auto-recharge plan list.
///
/// Begins a call in `call`: the whole signed HTTP/1.1 request is encoded into
/// `buf[0 .. buf_len]` (sealed as JWE exactly when the endpoint's request is Encrypted;
/// `crypto` may be NULL otherwise). On error nothing sendable is left in `buf`, and `err`
/// names the failing field and its limit. A call storage that holds a call which was written
/// and has not ended is refused (`KONAPLATE_RESULT_IN_USE`); one that wrote nothing is
/// replaced, `buf` wiped whole first (begin in the buffer it used, or abort it first).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_list(
    call: *mut konaplate_call,
    session: *const konaplate_session,
    stamp: *const konaplate_stamp,
    request: *const konaplate_list_request,
    crypto: *const konaplate_crypto,
    buf: *mut u8,
    buf_len: usize,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe {
        begin::<AutoRechargeListRequest, _>(
            call, session, stamp, request, list, crypto, buf, buf_len, err,
        )
    }
}

/// An auto-recharge plan list answer.
///
/// Ends the call once `konaplate_call_received` said `COMPLETE`: decodes the answer into
/// `*reply` (zeroed first, and left zeroed on error), decrypting an `encData` body in place
/// through `crypto->unwrap` (without one: `KONAPLATE_RESULT_ENCRYPTED_NO_KEY`); then every
/// byte of the response and the plaintext is wiped from `buf`, whatever the decoding's outcome.
/// A step that is refused (another buffer, a busy or uninitialized call) changes nothing:
/// `konaplate_call_abort` wipes. A result code other than `000_000` is not an error: it is in
/// `reply->header`, with `has_body` false.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_finish_list(
    call: *mut konaplate_call,
    buf: *mut u8,
    buf_len: usize,
    crypto: *const konaplate_crypto,
    reply: *mut konaplate_list_reply,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe { finish_into::<AutoRechargeList, _>(call, buf, buf_len, crypto, reply, err) }
}
