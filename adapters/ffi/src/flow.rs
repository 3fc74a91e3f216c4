//! The exactly-once state machine of a charge, cancellation or refund, and the journal record
//! a C till persists: the same rules as the Rust SDK and the CLI.
//!
//! The recipe: start a flow with its request (the flow keeps it, token and DCVV, in its
//! storage, never in a record), then loop on `konaplate_flow_poll`: for `PERSIST`, write
//! `konaplate_flow_record` durably, then `konaplate_flow_persisted`; for `SEND` and
//! `INQUIRE`, take the call with `konaplate_flow_call`, move its bytes (see `konaplate_call`)
//! and give it back with `konaplate_flow_end_call` however far it got; for `WAIT`, come back
//! at `wait_until_ms`; stop at `DONE`. After a restart, `konaplate_flow_resume` continues
//! from the last record — never start a new request for an open one.

use core::ffi::c_char;

use konaplate_core::api::{CancelCharge, Charge, MoneyEndpoint, Refund};
use konaplate_core::call::Call;
use konaplate_core::flow::{Action, Flow, JournalRecord, Operation, Outcome, Policy, State};

use crate::api::{
    cancel, charge, konaplate_cancel_request, konaplate_charge_request, konaplate_refund_request,
    refund,
};
use crate::c::{
    BusyGuard, Failure, Tagged, buffer, finish, holds_open, konaplate_error, konaplate_result,
    non_null, non_null_mut, not_busy, put_text, store, stored, stored_mut, wipe_stored,
};
use crate::call::konaplate_call;
use crate::crypto::{CCrypto, konaplate_crypto};
use crate::limits::{KONAPLATE_CODE_SIZE, KONAPLATE_NR_NUMBER_SIZE, KONAPLATE_SEQUENCE_ID_SIZE};
use crate::session::{konaplate_session, konaplate_stamp, session, stamp};

/// 64-bit words of storage for a `konaplate_flow`.
pub const KONAPLATE_FLOW_WORDS: usize = 128;

/// Bytes of a journal record (`konaplate_flow_record`, `konaplate_flow_resume`).
pub const KONAPLATE_RECORD_SIZE: usize = 512;

const _: () = assert!(KONAPLATE_RECORD_SIZE == JournalRecord::LEN);

/// The message of a record buffer shorter than a record (its figure checked by a test).
pub(crate) const RECORD_TOO_SMALL: [&str; 3] = [
    "a journal record needs KONAPLATE_RECORD_SIZE (",
    "512",
    ") bytes",
];

/// Storage for one money-moving call's state machine, with its request. Initialize with
/// `konaplate_flow_charge`, `…_cancel`, `…_refund` or `…_resume`; wipe with
/// `konaplate_flow_wipe` (it holds a one-time token and a DCVV until the call is final).
#[repr(C)]
pub struct konaplate_flow {
    /// Opaque.
    pub _opaque: [u64; KONAPLATE_FLOW_WORDS],
}

/// What a `konaplate_flow` holds: the core's flow, and the digest of the record
/// `konaplate_flow_record` last gave, so that `konaplate_flow_persisted` marks durable only
/// the record the caller was given for the flow as it stands.
pub(crate) struct CFlow {
    flow: Flow,
    given: core::cell::Cell<Option<u32>>,
}

impl CFlow {
    fn new(flow: Flow) -> Self {
        Self {
            flow,
            given: core::cell::Cell::new(None),
        }
    }
}

impl core::ops::Deref for CFlow {
    type Target = Flow;
    fn deref(&self) -> &Flow {
        &self.flow
    }
}

impl core::ops::DerefMut for CFlow {
    fn deref_mut(&mut self) -> &mut Flow {
        &mut self.flow
    }
}

impl Tagged for CFlow {
    const NAME: &'static [u8] = b"konaplate_flow";
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
    // SAFETY: `out` is NULL or writable (a misaligned pointer is ignored like NULL).
    if let Ok(o) = unsafe { non_null_mut(out, "out") } {
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

unsafe fn policy(p: *const konaplate_policy) -> Result<Policy, Failure> {
    if p.is_null() {
        return Ok(Policy::default());
    }
    // SAFETY: `p` is NULL (defaults) or a valid policy.
    Ok((*unsafe { non_null(p, "policy") }?).into())
}

/// A flow that may have sent its request and is not final: replacing it would forget a call
/// the platform may have taken.
fn open(f: &CFlow) -> bool {
    f.sends() > 0 && !f.state().is_final()
}

fn refuse_open() -> Failure {
    Failure::say(
        konaplate_result::InUse,
        "the flow storage holds a call that may have been sent and is not final: drive it to its end (or resume it from its record), or wipe it on purpose",
    )
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
        // SAFETY: the pointers are NULL (reported) or valid (the header's contract). A flow in
        // use by a running call (a key callback starting over it) is refused first, before
        // its value is read
        unsafe { not_busy::<konaplate_flow, CFlow>(flow, "flow") }?;
        if unsafe { holds_open::<konaplate_flow, CFlow>(flow, open) } {
            return Err(refuse_open());
        }
        let req = convert(unsafe { non_null(request, "request") }?)?;
        let f = Flow::start(E::into_money(req), unsafe { policy(policy_p) }?, now_ms);
        unsafe { store(flow, "flow", CFlow::new(f)) }
    })();
    finish(r, err)
}

/// A new charge created at `now_ms`: its first actions are `PERSIST`, then `SEND`. `policy`
/// may be NULL (the defaults). Refused over a flow that may have sent and is not final
/// (`KONAPLATE_RESULT_IN_USE`).
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

/// A new cancellation of a charge created at `now_ms` (as `konaplate_flow_charge`).
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

/// A new refund created at `now_ms` (as `konaplate_flow_charge`). A refund has no documented
/// inquiry: one whose answer is lost ends `UNKNOWN` and must be closed by an operator.
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

/// Continues a call from its last journal record after a restart (`record_len` bytes, at
/// least `KONAPLATE_RECORD_SIZE`, in the current format: `konaplate_flow_record`'s or the
/// flash journal's; the C ABI has never written another). A resumed flow holds no token: it
/// never sends the request again, it resolves it through the result inquiry (a refund that
/// may have left: `UNKNOWN`). Refused over a flow that may have sent and is not final.
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
        // SAFETY: the pointers are NULL (reported) or valid (the header's contract). A flow in
        // use by a running call (a key callback starting over it) is refused first, before
        // its value is read
        unsafe { not_busy::<konaplate_flow, CFlow>(flow, "flow") }?;
        if unsafe { holds_open::<konaplate_flow, CFlow>(flow, open) } {
            return Err(refuse_open());
        }
        if record.is_null() {
            return Err(Failure::null("record"));
        }
        // SAFETY: `record` points to `record_len` readable bytes.
        let bytes = unsafe { core::slice::from_raw_parts(record, record_len) };
        // the current format only: no reader of the first one is linked into C firmware
        let rec = JournalRecord::decode_current_as::<Failure>(bytes)?;
        let f = Flow::resume(&rec, unsafe { policy(policy_p) }?, now_ms);
        // SAFETY: forwarded contract.
        unsafe { store(flow, "flow", CFlow::new(f)) }
    })();
    finish(r, err)
}

/// Drops the flow (its token and DCVV zeroized) and zeroes its storage. NULL is ignored; a
/// flow in use by a running call is left alone (`KONAPLATE_RESULT_BUSY`). Wiping an open flow
/// forgets nothing the journal does not hold: resume it from its last record.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_flow_wipe(flow: *mut konaplate_flow) -> konaplate_result {
    // SAFETY: `flow` is NULL or a flow's storage.
    unsafe { wipe_stored::<konaplate_flow, CFlow>(flow) }
}

/// What to do next.
#[repr(u32)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum konaplate_action_kind {
    /// No action: the poll failed (see its result).
    None = 0,
    /// Take the call with `konaplate_flow_call` (the request: same sequenceId and token; its
    /// record is already durable), move its bytes, give it back with `konaplate_flow_end_call`.
    Send = 1,
    /// The same for the result inquiry of the sequenceId.
    Inquire = 2,
    /// Nothing to do before `wait_until_ms`; poll again then.
    Wait = 3,
    /// Finished: see the outcome (it may be open: `is_final` false).
    Done = 4,
    /// Write `konaplate_flow_record` durably (it must survive a power cut), then call
    /// `konaplate_flow_persisted`. Asked before every send and after every change.
    Persist = 5,
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
    pub code: [c_char; KONAPLATE_CODE_SIZE],
    /// For `COMPLETED`: the transaction number when known, else empty.
    pub nr_number: [c_char; KONAPLATE_NR_NUMBER_SIZE],
    /// For `COMPLETED`: the result inquiry (not the request's own answer) said so.
    pub from_inquiry: bool,
}

/// What the flow wants now (`now_ms` on your clock). `*action` is written on every return:
/// `NONE` when the poll failed.
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
        a.kind = konaplate_action_kind::None;
        a.wait_until_ms = 0;
        a.outcome = konaplate_outcome::None;
        a.is_final = false;
        a.from_inquiry = false;
        put_text(&mut a.code, b"");
        put_text(&mut a.nr_number, b"");
        let f = unsafe { stored_mut::<konaplate_flow, CFlow>(flow, "flow") }?;
        a.kind = match f.poll(now_ms) {
            Action::Persist => konaplate_action_kind::Persist,
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

/// The journal record of the call as it stands (`KONAPLATE_RECORD_SIZE` bytes into
/// `out[0 .. out_cap]`): persist it durably when the flow asks (`PERSIST`). It holds no secret
/// (no token, no DCVV).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_flow_record(
    flow: *const konaplate_flow,
    out: *mut u8,
    out_cap: usize,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        // SAFETY: the pointers are NULL (reported) or valid (the header's contract).
        let out = unsafe { buffer(out, out_cap) }?;
        // nothing stale is left in `out` behind an error
        if let Some(o) = out.get_mut(..out_cap.min(KONAPLATE_RECORD_SIZE)) {
            o.fill(0);
        }
        let f = unsafe { stored::<konaplate_flow, CFlow>(flow, "flow") }?;
        let dst = out.get_mut(..KONAPLATE_RECORD_SIZE).ok_or(Failure::text(
            konaplate_result::BufferTooSmall,
            RECORD_TOO_SMALL,
        ))?;
        dst.copy_from_slice(&f.record().encode());
        f.given.set(Some(f.record_digest()));
        Ok(())
    })();
    finish(r, err)
}

/// The record `konaplate_flow_record` gave is durable: the flow may go on (it never hands out
/// a send before the record that announces it is). Refused (`KONAPLATE_RESULT_FLOW`, nothing
/// marked) when no record was taken since the flow last changed: take the record, persist
/// it, then say so.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_flow_persisted(
    flow: *mut konaplate_flow,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        // SAFETY: forwarded contract.
        let f = unsafe { stored_mut::<konaplate_flow, CFlow>(flow, "flow") }?;
        if f.given.get() != Some(f.record_digest()) {
            return Err(Failure::say(
                konaplate_result::Flow,
                "no record of the flow as it stands was taken: persist what konaplate_flow_record gives, then call konaplate_flow_persisted",
            ));
        }
        f.persisted();
        Ok(())
    })();
    finish(r, err)
}

/// After `SEND` or `INQUIRE`: begins the call to make in `call`, encoded into
/// `buf[0 .. buf_len]` (the flow's own request, or the result inquiry of its sequenceId; a
/// fresh `stamp` each time). Move its bytes with the `konaplate_call_…` functions, then give it
/// back with `konaplate_flow_end_call`, whether it completed or the socket failed. One call
/// per action (`KONAPLATE_RESULT_FLOW` otherwise).
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)] // the C entry point's arguments
pub unsafe extern "C" fn konaplate_flow_call(
    flow: *mut konaplate_flow,
    call: *mut konaplate_call,
    session_p: *const konaplate_session,
    stamp_p: *const konaplate_stamp,
    crypto: *const konaplate_crypto,
    buf: *mut u8,
    buf_len: usize,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        // the storage first: nothing is encoded (and nothing handed out) for a call that
        // could not be stored
        unsafe { not_busy::<konaplate_call, Call>(call, "call") }?;
        // SAFETY: the pointers are NULL (reported) or valid (the header's contract).
        if unsafe { holds_open::<konaplate_call, Call>(call, crate::call::open) } {
            return Err(crate::call::in_use());
        }
        let (s, st) = unsafe { (session(session_p)?, stamp(stamp_p)?) };
        let bytes = unsafe { buffer(buf, buf_len) }?;
        let f = unsafe { stored_mut::<konaplate_flow, CFlow>(flow, "flow") }?;
        unsafe { crate::call::wipe_if_replacing(call, bytes) };
        let _busy = unsafe { BusyGuard::enter::<konaplate_flow, CFlow>(flow) };
        let c = f.call(s, &st, unsafe { CCrypto::new(crypto) }?, bytes)?;
        // SAFETY: forwarded contract.
        unsafe { crate::call::store_call(call, c, bytes) }
    })();
    finish(r, err)
}

/// Gives back the call `konaplate_flow_call` handed out, however far it got: a whole answer is
/// decoded (decrypted through `crypto->unwrap` when it is `encData`) and taken; a call whose
/// socket failed counts as lost once any byte was written, as not sent before. The buffer
/// holds nothing of the call afterwards. `*encrypted` (NULL allowed) says whether a whole
/// answer came JWE-encrypted (false otherwise, and on error). Another call is refused
/// (`KONAPLATE_RESULT_FLOW`) and changes nothing.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)] // the C entry point's arguments
pub unsafe extern "C" fn konaplate_flow_end_call(
    flow: *mut konaplate_flow,
    now_ms: u64,
    call: *mut konaplate_call,
    buf: *mut u8,
    buf_len: usize,
    crypto: *const konaplate_crypto,
    encrypted: *mut bool,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        // SAFETY: the pointers are NULL (reported) or valid (the header's contract).
        let mut encrypted = if encrypted.is_null() {
            None
        } else {
            Some(unsafe { non_null_mut(encrypted, "encrypted") }?)
        };
        if let Some(e) = encrypted.as_deref_mut() {
            *e = false;
        }
        let bytes = unsafe { buffer(buf, buf_len) }?;
        let c = unsafe { stored_mut::<konaplate_call, Call>(call, "call") }?;
        let f = unsafe { stored_mut::<konaplate_flow, CFlow>(flow, "flow") }?;
        let _busy = unsafe { BusyGuard::enter::<konaplate_flow, CFlow>(flow) };
        let _call_busy = unsafe { BusyGuard::enter::<konaplate_call, Call>(call) };
        let answered = f.end_call(now_ms, c, bytes, unsafe { CCrypto::new(crypto) }?)?;
        if let (Some(e), Some(a)) = (encrypted, answered) {
            *e = a.encrypted;
        }
        Ok(())
    })();
    finish(r, err)
}

/// The money operation.
#[repr(u32)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum konaplate_operation {
    /// None: `konaplate_flow_get_info` failed.
    None = 0,
    /// A charge.
    Charge = 1,
    /// A cancellation of a charge.
    Cancel = 2,
    /// A refund.
    Refund = 3,
}

/// The journaled state of a call (as in its record).
#[repr(u32)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum konaplate_state {
    /// Not known to this library (a later core's state).
    Other = 0,
    /// Written before a send: it may or may not have left.
    Sending = 1,
    /// In doubt: it may have reached the platform; resolving through the inquiry.
    Lost = 2,
    /// The platform said pending: polling the inquiry.
    Pending = 3,
    /// Final: completed.
    Completed = 10,
    /// Final: declined.
    Declined = 11,
    /// Final: failed.
    Failed = 12,
    /// Final: never processed.
    NotProcessed = 13,
    /// A refund whose outcome cannot be learned: open until an operator closes it.
    Unknown = 15,
}

/// A journaled state as C sees it.
pub(crate) fn state_of(s: State) -> konaplate_state {
    match s {
        State::Sending => konaplate_state::Sending,
        State::Lost => konaplate_state::Lost,
        State::Pending => konaplate_state::Pending,
        State::Completed => konaplate_state::Completed,
        State::Declined => konaplate_state::Declined,
        State::Failed => konaplate_state::Failed,
        State::NotProcessed => konaplate_state::NotProcessed,
        State::Unknown => konaplate_state::Unknown,
        _ => konaplate_state::Other,
    }
}

/// What a flow is about.
#[repr(C)]
pub struct konaplate_flow_info {
    /// The operation.
    pub operation: konaplate_operation,
    /// The journaled state.
    pub state: konaplate_state,
    /// The state is final (completed, declined, failed, not processed).
    pub is_final: bool,
    /// Times the request was handed out to be sent.
    pub sends: u32,
    /// The `sequenceId` (the same for every send and inquiry), NUL-terminated.
    pub sequence_id: [c_char; KONAPLATE_SEQUENCE_ID_SIZE],
}

/// The flow's operation, state, sends and sequenceId into `*info` (on error: operation
/// `NONE`, state `OTHER`, not final, 0 sends, an empty sequenceId).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_flow_get_info(
    flow: *const konaplate_flow,
    info: *mut konaplate_flow_info,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        // SAFETY: the pointers are NULL (reported) or valid (the header's contract).
        let i = unsafe { non_null_mut(info, "info") }?;
        i.operation = konaplate_operation::None;
        i.state = konaplate_state::Other;
        i.is_final = false;
        i.sends = 0;
        put_text(&mut i.sequence_id, b"");
        let f = unsafe { stored::<konaplate_flow, CFlow>(flow, "flow") }?;
        i.operation = match f.operation() {
            Operation::Charge => konaplate_operation::Charge,
            Operation::Cancel => konaplate_operation::Cancel,
            Operation::Refund => konaplate_operation::Refund,
        };
        i.state = state_of(f.state());
        i.is_final = f.state().is_final();
        i.sends = u32::from(f.sends());
        put_text(&mut i.sequence_id, f.sequence_id().as_bytes());
        Ok(())
    })();
    finish(r, err)
}
