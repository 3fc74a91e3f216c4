//! The exactly-once recovery state machine of a charge, cancellation or refund, and the
//! journal record a C till persists: the same rules as the Rust SDK and the CLI.
//!
//! The recipe: create a flow for the request, then loop — `konaplate_flow_poll` says what to
//! do; for `SEND`, write `konaplate_flow_record` durably to your journal *first*, then send the
//! request (the same request, same sequenceId and token, with a fresh stamp) and report what
//! happened (`konaplate_flow_response`, `…_lost` or `…_not_sent`); for `INQUIRE`, send the result
//! inquiry and report it (`…_inquiry_response`, `…_lost`, `…_not_sent`); for `WAIT`, come back
//! at `wait_until_ms`; persist the record after every report; stop at `DONE`. After a restart,
//! `konaplate_flow_resume` continues from the last record — never send a new request for an
//! open one.

use core::ffi::c_char;

use konaplate_core::api::{CancelCharge, Charge, MoneyEndpoint, Refund};
use konaplate_core::flow::{Action, Event, Flow, JournalRecord, Outcome, Policy};

use crate::api::{
    cancel, charge, konaplate_cancel_request, konaplate_charge_request, konaplate_refund_request,
    refund,
};
use crate::c::{
    Failure, Tagged, finish, konaplate_error, konaplate_result, non_null, non_null_mut, put_text,
    store, stored, stored_mut, wipe_stored,
};

/// 64-bit words of storage for a `konaplate_flow`.
pub const KONAPLATE_FLOW_WORDS: usize = 112;

/// Bytes of a journal record (`konaplate_flow_record`, `konaplate_flow_resume`).
pub const KONAPLATE_RECORD_SIZE: usize = 512;

/// Storage for one money-moving call's state machine. Initialize with
/// `konaplate_flow_charge`, `…_cancel`, `…_refund` or `…_resume`.
#[repr(C)]
pub struct konaplate_flow {
    /// Opaque.
    pub _opaque: [u64; KONAPLATE_FLOW_WORDS],
}

impl Tagged for Flow {
    const TAG: u64 = 0x4b50_464c_4f57_0001; // "KPFLOW" v1
}

/// Timing of a flow in milliseconds of your clock (`konaplate_policy_default` fills the
/// SDK's defaults).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct konaplate_policy {
    /// Interval between inquiries while `PENDING` (default 300000).
    pub poll_interval_ms: u64,
    /// Stop waiting this long after starting; the call stays open (default 3600000).
    pub deadline_ms: u64,
    /// First wait before a retry (default 2000), doubling.
    pub retry_ms: u64,
    /// Most sends of the request itself (default 3).
    pub max_sends: u8,
    /// Longest validity of the request's one-time token (default 300000).
    pub token_ttl_ms: u64,
    /// How long after the token expired the platform may still commit (default 120000).
    pub commit_grace_ms: u64,
}

impl From<konaplate_policy> for Policy {
    fn from(p: konaplate_policy) -> Self {
        Policy {
            poll_interval_ms: p.poll_interval_ms,
            deadline_ms: p.deadline_ms,
            retry_ms: p.retry_ms,
            max_sends: p.max_sends,
            token_ttl_ms: p.token_ttl_ms,
            commit_grace_ms: p.commit_grace_ms,
        }
    }
}

/// Fills `*out` with the SDK's default policy. NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_policy_default(out: *mut konaplate_policy) {
    let d = Policy::default();
    // SAFETY: `out` is NULL or writable.
    if let Some(o) = unsafe { out.as_mut() } {
        *o = konaplate_policy {
            poll_interval_ms: d.poll_interval_ms,
            deadline_ms: d.deadline_ms,
            retry_ms: d.retry_ms,
            max_sends: d.max_sends,
            token_ttl_ms: d.token_ttl_ms,
            commit_grace_ms: d.commit_grace_ms,
        };
    }
}

unsafe fn policy(p: *const konaplate_policy) -> Policy {
    // SAFETY: `p` is NULL (defaults) or a valid policy.
    unsafe { p.as_ref() }.map_or_else(Policy::default, |p| (*p).into())
}

unsafe fn start<E: MoneyEndpoint, C>(
    flow: *mut konaplate_flow,
    request: *const C,
    convert: fn(&C) -> Result<E::Request, Failure>,
    policy_p: *const konaplate_policy,
    now_ms: u64,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        // SAFETY: the pointers are NULL (reported) or valid (the header's contract).
        let req = convert(unsafe { non_null(request, "request") }?)?;
        let f = Flow::new(
            E::OPERATION,
            E::sequence_id(&req),
            E::essentials(&req),
            unsafe { policy(policy_p) },
            now_ms,
        );
        unsafe { store(flow, "flow", f) }
    })();
    finish(r, err)
}

/// A new charge created at `now_ms`: its first action is `SEND`. `policy` may be NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_flow_charge(
    flow: *mut konaplate_flow,
    request: *const konaplate_charge_request,
    policy: *const konaplate_policy,
    now_ms: u64,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe { start::<Charge, _>(flow, request, charge, policy, now_ms, err) }
}

/// A new cancellation of a charge created at `now_ms`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_flow_cancel(
    flow: *mut konaplate_flow,
    request: *const konaplate_cancel_request,
    policy: *const konaplate_policy,
    now_ms: u64,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe { start::<CancelCharge, _>(flow, request, cancel, policy, now_ms, err) }
}

/// A new refund created at `now_ms`. A refund has no documented inquiry: one whose answer is
/// lost ends `UNKNOWN` and must be closed by an operator.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_flow_refund(
    flow: *mut konaplate_flow,
    request: *const konaplate_refund_request,
    policy: *const konaplate_policy,
    now_ms: u64,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe { start::<Refund, _>(flow, request, refund, policy, now_ms, err) }
}

/// Continues a call from its last journal record (`record_len` bytes, at least
/// `KONAPLATE_RECORD_SIZE`) after a restart: it never sends a request the platform may have
/// received under a new identity, and re-sends only with the same sequenceId and token.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_flow_resume(
    flow: *mut konaplate_flow,
    record: *const u8,
    record_len: usize,
    policy_p: *const konaplate_policy,
    now_ms: u64,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        if record.is_null() {
            return Err(Failure::null("record"));
        }
        // SAFETY: `record` points to `record_len` readable bytes.
        let bytes = unsafe { core::slice::from_raw_parts(record, record_len) };
        let rec = JournalRecord::decode(bytes).map_err(|e| {
            Failure::new(
                konaplate_result::Record,
                format_args!("journal record: {e}"),
            )
        })?;
        let f = Flow::resume(&rec, unsafe { policy(policy_p) }, now_ms);
        // SAFETY: forwarded contract.
        unsafe { store(flow, "flow", f) }
    })();
    finish(r, err)
}

/// Drops the flow and zeroes its storage. NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_flow_wipe(flow: *mut konaplate_flow) {
    // SAFETY: `flow` is NULL or a flow's storage.
    unsafe { wipe_stored::<konaplate_flow, Flow>(flow) }
}

/// What to do next.
#[repr(u32)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum konaplate_action_kind {
    /// Persist the record, then send the request (same sequenceId and token) and report.
    Send = 1,
    /// Send the result inquiry for the sequenceId and report.
    Inquire = 2,
    /// Nothing to do before `wait_until_ms`; poll again then.
    Wait = 3,
    /// Finished: see the outcome (it may be open: `is_final` false).
    Done = 4,
}

/// The word on a call.
#[repr(u32)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum konaplate_outcome {
    /// Not done yet.
    None = 0,
    /// Final: the money moved.
    Completed = 1,
    /// Final: the platform refused the request (`code`); nothing moved.
    Declined = 2,
    /// Final: the inquiry said `FAILED`; nothing moved.
    Failed = 3,
    /// Final: never processed; nothing moved. A new request may be made.
    NotProcessed = 4,
    /// Open: still `PENDING` when the flow stopped waiting; resume later.
    Pending = 5,
    /// Open: the request may have reached the platform, which has not said; resume later.
    /// Never send it again under a new sequenceId.
    InDoubt = 6,
    /// Open until an operator closes it: a refund whose answer was lost.
    Unknown = 7,
}

/// One answer of `konaplate_flow_poll`.
#[repr(C)]
pub struct konaplate_action {
    /// What to do.
    pub kind: konaplate_action_kind,
    /// For `WAIT`: poll again at this time.
    pub wait_until_ms: u64,
    /// For `DONE`: the outcome.
    pub outcome: konaplate_outcome,
    /// For `DONE`: the outcome is the platform's final word.
    pub is_final: bool,
    /// For `DECLINED`: the code, verbatim.
    pub code: [c_char; 33],
    /// For `COMPLETED`: the transaction number when known, else empty.
    pub nr_number: [c_char; 51],
    /// For `COMPLETED`: the result inquiry (not the request's own answer) said so.
    pub from_inquiry: bool,
}

/// What the flow wants now (`now_ms` on your clock).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_flow_poll(
    flow: *mut konaplate_flow,
    now_ms: u64,
    action: *mut konaplate_action,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        // SAFETY: the pointers are NULL (reported) or valid (the header's contract).
        let a = unsafe { non_null_mut(action, "action") }?;
        let f = unsafe { stored_mut::<konaplate_flow, Flow>(flow, "flow") }?;
        a.wait_until_ms = 0;
        a.outcome = konaplate_outcome::None;
        a.is_final = false;
        a.from_inquiry = false;
        put_text(&mut a.code, b"");
        put_text(&mut a.nr_number, b"");
        a.kind = match f.poll(now_ms) {
            Action::Send => konaplate_action_kind::Send,
            Action::Inquire => konaplate_action_kind::Inquire,
            Action::WaitUntil(t) => {
                a.wait_until_ms = t;
                konaplate_action_kind::Wait
            }
            Action::Done(o) => {
                describe(&o, a);
                konaplate_action_kind::Done
            }
            // a later core's action this library does not know: wait and ask again, never
            // guess
            _ => {
                a.wait_until_ms = now_ms.saturating_add(1_000);
                konaplate_action_kind::Wait
            }
        };
        Ok(())
    })();
    finish(r, err)
}

fn describe(o: &Outcome, a: &mut konaplate_action) {
    a.is_final = o.is_final();
    a.outcome = match o {
        Outcome::Completed {
            nr_number,
            from_inquiry,
        } => {
            if let Some(nr) = nr_number {
                put_text(&mut a.nr_number, nr.as_bytes());
            }
            a.from_inquiry = *from_inquiry;
            konaplate_outcome::Completed
        }
        Outcome::Declined { code } => {
            put_text(&mut a.code, code.as_str().as_bytes());
            konaplate_outcome::Declined
        }
        Outcome::Failed => konaplate_outcome::Failed,
        Outcome::NotProcessed => konaplate_outcome::NotProcessed,
        Outcome::StillPending => konaplate_outcome::Pending,
        Outcome::InDoubt => konaplate_outcome::InDoubt,
        Outcome::Unknown => konaplate_outcome::Unknown,
        // a later core's outcome: open, as far as this library can tell
        _ => {
            a.is_final = false;
            konaplate_outcome::InDoubt
        }
    };
}

unsafe fn report(
    flow: *mut konaplate_flow,
    now_ms: u64,
    event: Result<Event<'_>, Failure>,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        let event = event?;
        // SAFETY: forwarded contract.
        let f = unsafe { stored_mut::<konaplate_flow, Flow>(flow, "flow") }?;
        f.handle(now_ms, event);
        Ok(())
    })();
    finish(r, err)
}

unsafe fn body<'a>(p: *const u8, len: usize) -> Result<&'a [u8], Failure> {
    if p.is_null() {
        return Err(Failure::null("body"));
    }
    // SAFETY: `p` points to `len` readable bytes.
    Ok(unsafe { core::slice::from_raw_parts(p, len) })
}

/// The request's answer arrived: its HTTP status and plaintext body (decrypt an `encData`
/// body first with `konaplate_open_body`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_flow_response(
    flow: *mut konaplate_flow,
    now_ms: u64,
    status: u16,
    body_p: *const u8,
    body_len: usize,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe {
        report(
            flow,
            now_ms,
            body(body_p, body_len).map(|body| Event::Response { status, body }),
            err,
        )
    }
}

/// The inquiry's answer arrived.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_flow_inquiry_response(
    flow: *mut konaplate_flow,
    now_ms: u64,
    status: u16,
    body_p: *const u8,
    body_len: usize,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe {
        report(
            flow,
            now_ms,
            body(body_p, body_len).map(|body| Event::InquiryResponse { status, body }),
            err,
        )
    }
}

/// The request (or inquiry) may have reached the platform but no whole answer came: a
/// timeout after connecting, a broken connection, a garbled answer.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_flow_lost(
    flow: *mut konaplate_flow,
    now_ms: u64,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe { report(flow, now_ms, Ok(Event::Lost), err) }
}

/// The request (or inquiry) certainly did not leave: the connection was refused, DNS
/// failed, the TLS handshake failed. Nothing was written to the socket.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_flow_not_sent(
    flow: *mut konaplate_flow,
    now_ms: u64,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: forwarded contract.
    unsafe { report(flow, now_ms, Ok(Event::NotSent), err) }
}

/// The journal record of the call as it stands (`KONAPLATE_RECORD_SIZE` bytes into
/// `out[0 .. out_cap]`): persist it durably before every `SEND` and after every report.
/// It holds no secret (no token, no DCVV).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_flow_record(
    flow: *const konaplate_flow,
    out: *mut u8,
    out_cap: usize,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        // SAFETY: the pointers are NULL (reported) or valid (the header's contract).
        let f = unsafe { stored::<konaplate_flow, Flow>(flow, "flow") }?;
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        if out_cap < KONAPLATE_RECORD_SIZE {
            return Err(Failure::new(
                konaplate_result::BufferTooSmall,
                format_args!(
                    "a journal record needs {KONAPLATE_RECORD_SIZE} bytes, the buffer has {out_cap}"
                ),
            ));
        }
        let rec = f.record().encode();
        // SAFETY: `out` has at least `KONAPLATE_RECORD_SIZE` writable bytes.
        unsafe { core::ptr::copy_nonoverlapping(rec.as_ptr(), out, rec.len()) };
        Ok(())
    })();
    finish(r, err)
}

const _: () = assert!(KONAPLATE_RECORD_SIZE == JournalRecord::LEN);

/// The number of times the request itself was handed to the transport so far.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_flow_sends(
    flow: *const konaplate_flow,
    sends: *mut u32,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        // SAFETY: the pointers are NULL (reported) or valid (the header's contract).
        let f = unsafe { stored::<konaplate_flow, Flow>(flow, "flow") }?;
        *unsafe { non_null_mut(sends, "sends") }? = u32::from(f.sends());
        Ok(())
    })();
    finish(r, err)
}
