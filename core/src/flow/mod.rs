//! Exactly-once money-moving calls: a sans-IO state machine per charge, cancellation of charge
//! or refund ([`Flow`]), the journal record it persists ([`JournalRecord`]) and the reader of a
//! journal's bytes ([`scan`], [`repair_len`]).
//!
//! The machine never touches the network, a clock or a disk: it says what to do and hands out
//! the [`Call`]s to make. The driver — a blocking loop, an async loop, a C loop, the
//! simulator — is a `match` with one line an arm and no logic of its own:
//!
//! | [`Flow::poll`] says | the driver |
//! |---|---|
//! | [`Action::Persist`] | writes [`Flow::record`] durably, then calls [`Flow::persisted`] |
//! | [`Action::Send`] or [`Action::Inquire`] | takes the call with [`Flow::call`] (the request, or the result inquiry), moves its bytes (see [`Call`]), and gives it back with [`Flow::end_call`] — whether it completed or the transport failed half-way |
//! | [`Action::WaitUntil`] | waits until then (or less) |
//! | [`Action::Done`] | stops: the outcome, which may be open ([`Outcome::is_final`]) |
//!
//! The flow asks for [`Action::Persist`] before every send (write-ahead: the journal says
//! "sending" before a byte leaves) and after every change, and never hands out a send before
//! the record that announces it is durable.
//!
//! ```
//! use konaplate_core::flow::{Action, Flow, Policy};
//! use konaplate_core::{api::*, field::*, prelude::*};
//! # fn drive(
//! #     session: &Session,
//! #     request: ChargeRequest,
//! #     now: &mut dyn FnMut() -> u64,
//! #     stamp: &mut dyn FnMut() -> Stamp,
//! #     persist: &mut dyn FnMut(&konaplate_core::flow::JournalRecord) -> Result<(), ()>,
//! #     exchange: &mut dyn FnMut(&mut Call, &mut [u8]),
//! # ) -> Result<konaplate_core::flow::Outcome, ()> {
//! let mut buf = [0u8; konaplate_core::request::BUFFER_PLAIN];
//! let mut flow = Flow::start(request, Policy::default(), now());
//! loop {
//!     match flow.poll(now()) {
//!         Action::Persist => {
//!             persist(&flow.record())?;
//!             flow.persisted();
//!         }
//!         Action::Send | Action::Inquire => {
//!             if let Ok(mut call) = flow.call(session, &stamp(), NoCrypto, &mut buf) {
//!                 exchange(&mut call, &mut buf); // your socket: write, read (see Call)
//!                 let _ = flow.end_call(now(), &mut call, &mut buf, NoCrypto);
//!             }
//!         }
//!         Action::WaitUntil(_t) => { /* sleep until `_t` */ }
//!         Action::Done(outcome) => return Ok(outcome),
//!         _ => {}
//!     }
//! }
//! # }
//! ```
//!
//! # The rule
//!
//! From the moment a request may have left, its outcome is **in doubt** until the platform
//! says otherwise through the result inquiry (`COMPLETED` / `FAILED`), or until the request
//! provably can no longer be accepted. A request carries a one-time token that lives 30 s
//! (5 minutes for `ATM` / `CREDIT` tokens) and the platform refuses an expired token, so:
//!
//! * "previous transaction not found" (`007_009`) from the inquiry means **"not yet"** while
//!   the request may still be in flight or being processed, and **"never"** only once
//!   [`Policy::token_ttl_ms`] + [`Policy::commit_grace_ms`] have passed since the call was
//!   created ([`JournalRecord::accept_until_ms`]); until then the flow keeps asking;
//! * a request may be sent again — always with the same sequenceId and token, never under a
//!   new one — after such a "not yet" while the token may still be valid; the platform
//!   deduplicates by sequenceId;
//! * the platform's answer to the first request that may have reached it is authoritative: a
//!   decline is final. An answer to a re-send is not: a decline (`000_002` for a reused
//!   sequenceId or a used token, or any business code), a 5xx, garbage or a lost answer could
//!   mean that the original got there first, so the call goes back in doubt and the inquiry
//!   decides. Only success (the money moved) is final on a re-send;
//! * a charge or cancellation never ends in a final "unknown": when the driver stops waiting
//!   ([`Policy::deadline_ms`]) an undecided call ends [`Outcome::InDoubt`] or
//!   [`Outcome::StillPending`], both open in the journal for `recover`;
//! * a refund has no documented result inquiry: a refund that may have reached the platform
//!   without an answer ends [`Outcome::Unknown`], is never retried blindly, and stays open in
//!   the journal until an operator closes it.
//!
//! The bound assumes the platform commits or refuses a request within
//! [`Policy::commit_grace_ms`] of its token's expiry, and that the driver's clock does not
//! jump (the std driver reads the wall clock as a call starts or resumes and the monotonic
//! clock from there: `konaplate::clock::FlowClock`).

use core::fmt;

use crate::base::describe::{Describe, Sink, display_by_describe};

use crate::api::{
    CancelCharge, Charge, ChargeResultInquiry, ChargeResultRequest, MoneyEndpoint, Refund, ReplyOf,
    money_reply,
};
pub use crate::api::{Essentials, MoneyReply, MoneyRequest, Operation};
use crate::call::{Answered, Call, CallError, Delivery};
use crate::code::{ChargeResultCode, RawCode, ResultCode};
use crate::error::EncodeError;
use crate::field::{ChargeResult, CorrelationId, NrNumber, SequenceId};
use crate::jwe::{Crypto, NoCrypto};
use crate::message::Description;
use crate::request::{Session, Stamp};

mod log;
mod record;

pub use log::{Item, Repair, Scan, repair_len, scan};
pub use record::{Crc32, JournalRecord, RecordError};

/// Timing of a flow, in milliseconds of the driver's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Policy {
    /// Interval between inquiries while the platform says `PENDING` (default 300 000 = 5
    /// minutes, as the platform re-checks), and the longest back-off between inquiries while
    /// in doubt.
    pub poll_interval_ms: u64,
    /// Stop waiting this long after the driver started (default 3 600 000 = 1 hour): the call
    /// ends open ([`Outcome::StillPending`] / [`Outcome::InDoubt`]) and `recover` finishes it.
    pub deadline_ms: u64,
    /// First wait before retrying a failed inquiry or re-sending (default 2 000); doubles up
    /// to [`Policy::poll_interval_ms`] while nothing changes.
    pub retry_ms: u64,
    /// Most times the request itself is handed to the transport (default 3).
    pub max_sends: u8,
    /// Longest validity of the request's one-time token (default 300 000: `ATM` and `CREDIT`
    /// tokens live 5 minutes, default tokens 30 s; set 30 000 only when you know the token is
    /// a default one).
    pub token_ttl_ms: u64,
    /// How long after its token expired the platform may still commit a request it accepted
    /// (default 120 000).
    pub commit_grace_ms: u64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            poll_interval_ms: 300_000,
            deadline_ms: 3_600_000,
            retry_ms: 2_000,
            max_sends: 3,
            token_ttl_ms: 300_000,
            commit_grace_ms: 120_000,
        }
    }
}

/// What the driver must do next.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Action {
    /// Write [`Flow::record`] durably (it must survive a power loss before this returns), then
    /// call [`Flow::persisted`]. Asked before every send and after every change.
    Persist,
    /// Make the call [`Flow::call`] hands out: the operation's request (same sequenceId and
    /// token as always; the record saying so is already durable), then give it back with
    /// [`Flow::end_call`].
    Send,
    /// Make the call [`Flow::call`] hands out: the result inquiry for the sequenceId; then
    /// [`Flow::end_call`].
    Inquire,
    /// Nothing to do before this time; call [`Flow::poll`] again then.
    WaitUntil(u64),
    /// Finished (the outcome may be open: see [`Outcome::is_final`]).
    Done(Outcome),
}

/// The word on a money-moving call when the driver stops.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Outcome {
    /// Final: the money moved.
    Completed {
        /// The transaction number, when known.
        nr_number: Option<NrNumber>,
        /// `true` when the result inquiry (not the request's own response) said `COMPLETED`.
        from_inquiry: bool,
    },
    /// Final: the platform refused the request with this code; no money moved.
    Declined {
        /// The code, verbatim.
        code: RawCode,
    },
    /// Final: the inquiry said `FAILED`; no money moved.
    Failed,
    /// Final: the request never reached the platform, or can no longer be accepted and the
    /// platform has no trace of it; no money moved.
    NotProcessed,
    /// Open: the platform said `PENDING` and had not decided when the driver stopped waiting.
    /// `recover` finishes it.
    StillPending,
    /// Open: the request may have reached the platform and the platform has not said what
    /// became of it yet. `recover` finishes it.
    InDoubt,
    /// Open until an operator closes it: a refund that may have reached the platform without
    /// an answer (refunds have no documented inquiry). Never retried blindly.
    Unknown,
}

impl Outcome {
    /// The journal state of this outcome.
    pub fn state(&self) -> State {
        match self {
            Outcome::Completed { .. } => State::Completed,
            Outcome::Declined { .. } => State::Declined,
            Outcome::Failed => State::Failed,
            Outcome::NotProcessed => State::NotProcessed,
            Outcome::StillPending => State::Pending,
            Outcome::InDoubt => State::Lost,
            Outcome::Unknown => State::Unknown,
        }
    }
    /// `true` when the platform's word is known (completed, declined, failed, not
    /// processed); `false` for the open outcomes.
    pub fn is_final(&self) -> bool {
        self.state().is_final()
    }
    /// One upper-case word: `COMPLETED`, `DECLINED`, `FAILED`, `NOT_PROCESSED`, `PENDING`,
    /// `IN_DOUBT`, `UNKNOWN`.
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Completed { .. } => "COMPLETED",
            Outcome::Declined { .. } => "DECLINED",
            Outcome::Failed => "FAILED",
            Outcome::NotProcessed => "NOT_PROCESSED",
            Outcome::StillPending => "PENDING",
            Outcome::InDoubt => "IN_DOUBT",
            Outcome::Unknown => "UNKNOWN",
        }
    }
    /// The inquiry's `result` this outcome came from, if any.
    pub fn inquiry_result(&self) -> Option<ChargeResult> {
        match self {
            Outcome::Completed {
                from_inquiry: true, ..
            } => Some(ChargeResult::Completed),
            Outcome::Failed => Some(ChargeResult::Failed),
            Outcome::StillPending => Some(ChargeResult::Pending),
            _ => None,
        }
    }
}

/// What became of the call the flow handed out, as [`Flow::end_call`] found it.
enum Report {
    /// The operation's answer: its status, and the reply when it could be decoded.
    Response {
        status: u16,
        reply: Option<MoneyReply>,
    },
    /// The inquiry's answer.
    Inquiry {
        status: u16,
        reply: Option<ReplyOf<ChargeResultInquiry>>,
    },
    /// The request may have been received: it was written, and no whole answer came.
    Lost,
    /// The request certainly did not reach the platform: not one byte was written.
    NotSent,
}

/// Why [`Flow::call`] or [`Flow::end_call`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum FlowError {
    /// There is no call to make now ([`Flow::poll`] says what to do), or the call was already
    /// handed out.
    NoCall,
    /// This is not the call the flow handed out: its answer is not taken.
    NotThisCall,
    /// The request could not be encoded (a buffer too small): nothing was sent, and the flow
    /// counts it as not sent.
    Encode(EncodeError),
    /// The call was given back with another buffer than the one it was made in
    /// ([`CallError::Buffer`]): nothing is taken; give it back with its own buffer.
    Call(CallError),
}

impl Describe for FlowError {
    fn describe(&self, out: &mut dyn Sink) {
        match self {
            FlowError::NoCall => out.put("the flow has no call to hand out now: poll it"),
            FlowError::NotThisCall => {
                out.put("not the call this flow handed out: its answer is not taken")
            }
            FlowError::Call(e) => e.describe(out),
            FlowError::Encode(e) => {
                out.put("request not sent: ");
                e.describe(out);
            }
        }
    }
}

display_by_describe!(FlowError);

impl core::error::Error for FlowError {}

/// The journaled state of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum State {
    /// Written before a send (write-ahead): it may or may not have left. With zero sends:
    /// nothing was handed to the transport yet.
    Sending = 1,
    /// In doubt: it may have reached the platform; resolving through the inquiry.
    Lost = 2,
    /// The platform said `isPending` / `PENDING`: polling the inquiry.
    Pending = 3,
    /// Final: completed.
    Completed = 10,
    /// Final: declined with a code.
    Declined = 11,
    /// Final: failed.
    Failed = 12,
    /// Final: never processed.
    NotProcessed = 13,
    /// A refund whose outcome cannot be learned: open until an operator closes it.
    Unknown = 15,
}

impl State {
    /// Completed, declined, failed or not processed: never replaced by another state.
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            State::Completed | State::Declined | State::Failed | State::NotProcessed
        )
    }
    /// The states `recover` resolves by talking to the platform (sending, in doubt, pending).
    pub const fn awaits_platform(self) -> bool {
        matches!(self, State::Sending | State::Lost | State::Pending)
    }
    /// Not final: awaiting the platform or an operator.
    pub const fn is_open(self) -> bool {
        !self.is_final()
    }
    fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            1 => State::Sending,
            2 => State::Lost,
            3 => State::Pending,
            10 => State::Completed,
            11 => State::Declined,
            12 => State::Failed,
            13 => State::NotProcessed,
            15 => State::Unknown,
            _ => return None,
        })
    }
}

/// What the platform said about a call: the envelope of the answer that decided it (or the
/// latest one while open) and the fields learned along the way.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Answer {
    /// `response.code`.
    pub code: Option<RawCode>,
    /// `response.description` (for an operator's closing: the operator's note).
    pub description: Description,
    /// The transaction number learned (charge or refund response, or the inquiry).
    pub nr_number: Option<NrNumber>,
    /// `isPending` of the request's own success response.
    pub is_pending: Option<bool>,
    /// The inquiry's latest `result`.
    pub result: Option<ChargeResult>,
}

/// What is in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum Step {
    /// Nothing; poll decides.
    Idle,
    /// The request was handed out with `Send`.
    Sending,
    /// The inquiry was handed out with `Inquire`.
    Inquiring,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum Next {
    Send,
    Inquire,
}

/// One money-moving call's state machine.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Flow {
    op: Operation,
    sequence_id: SequenceId,
    /// The request with its one-time token and DCVV, while it may be sent again (never in a
    /// record; dropped, and so zeroized, once the flow no longer sends it).
    request: Option<MoneyRequest>,
    essentials: Essentials,
    policy: Policy,
    /// When this driver started (the deadline counts from here).
    started_ms: u64,
    created_ms: u64,
    accept_until_ms: u64,
    updated_ms: u64,
    state: State,
    step: Step,
    next_at: u64,
    next: Next,
    sends: u8,
    maybe_arrived: bool,
    acknowledged: bool,
    can_resend: bool,
    held_decline: bool,
    operator: bool,
    backoff_ms: u64,
    answer: Answer,
    /// An outcome decided on resumption, taken at the first poll.
    conclude: Option<Outcome>,
    outcome: Option<Outcome>,
    /// The fingerprint of the last record made durable ([`Flow::persisted`]).
    persisted: Option<u32>,
    /// The next send is counted in the record (which must be durable before it is handed out).
    armed: bool,
    /// A call is handed out and not given back yet.
    handed: bool,
    /// Calls handed out so far (each call carries its number: only the last one's answer is
    /// taken).
    calls: u32,
    /// The endpoint and Correlation-Id of the call handed out: a call of another instance of
    /// this flow (wiped and resumed from the same record) carries the same number, but another
    /// Correlation-Id when its stamp was fresh, and the request's endpoint where the step differs.
    handed_id: Option<(&'static str, CorrelationId)>,
}

impl Flow {
    /// A new call for `request` (a charge, a cancellation or a refund) created at `now_ms`.
    /// The flow keeps the request — the only place its one-time token and DCVV are kept, never
    /// in a record — so that every send is this very request; it is dropped (zeroized) once
    /// the flow no longer sends it. The first actions are [`Action::Persist`] (write-ahead),
    /// then [`Action::Send`].
    pub fn start(request: impl Into<MoneyRequest>, policy: Policy, now_ms: u64) -> Self {
        let request = request.into();
        let op = request.operation();
        let sequence_id = request.sequence_id();
        let essentials = request.essentials();
        Self {
            op,
            sequence_id,
            request: Some(request),
            essentials,
            policy,
            started_ms: now_ms,
            created_ms: now_ms,
            accept_until_ms: now_ms
                .saturating_add(policy.token_ttl_ms)
                .saturating_add(policy.commit_grace_ms),
            updated_ms: now_ms,
            state: State::Sending,
            step: Step::Idle,
            next_at: now_ms,
            next: Next::Send,
            sends: 0,
            maybe_arrived: false,
            acknowledged: false,
            can_resend: true,
            held_decline: false,
            operator: false,
            backoff_ms: policy.retry_ms,
            answer: Answer::default(),
            conclude: None,
            outcome: None,
            persisted: None,
            armed: false,
            handed: false,
            calls: 0,
            handed_id: None,
        }
    }

    /// Continues from the latest journal record of a call (after a restart, or to finish an
    /// open call). The request is never sent again from a record (the one-time token is not
    /// journaled): a charge or cancellation is resolved through the inquiry; a refund that
    /// may have left is [`Outcome::Unknown`]. A record written before anything was handed to
    /// the transport (zero sends) is [`Outcome::NotProcessed`].
    pub fn resume(rec: &JournalRecord, policy: Policy, now_ms: u64) -> Self {
        let mut f = Self {
            op: rec.op,
            sequence_id: rec.sequence_id,
            request: None,
            essentials: rec.essentials,
            policy,
            started_ms: now_ms,
            created_ms: rec.created_ms,
            accept_until_ms: rec.accept_until_ms,
            updated_ms: now_ms,
            state: rec.state,
            step: Step::Idle,
            next_at: now_ms,
            next: Next::Inquire,
            sends: rec.sends,
            maybe_arrived: rec.maybe_arrived || rec.state.awaits_platform(),
            acknowledged: rec.acknowledged || rec.state == State::Pending,
            can_resend: false,
            held_decline: rec.held_decline,
            operator: rec.operator,
            backoff_ms: policy.retry_ms,
            answer: rec.answer.clone(),
            conclude: None,
            outcome: None,
            persisted: None,
            armed: false,
            handed: false,
            calls: 0,
            handed_id: None,
        };
        // the journal holds this call as it stands: nothing to write until it changes
        f.persisted = Some(f.fingerprint());
        if rec.state.is_final() || rec.state == State::Unknown {
            f.outcome = Some(outcome_of_record(rec));
        } else if rec.sends == 0 {
            // written before the first send, which never happened (decided at the first poll,
            // so that the driver journals the change)
            f.conclude = Some(Outcome::NotProcessed);
        } else if !rec.op.has_inquiry() {
            // a refund that may have been sent: unknowable
            f.conclude = Some(Outcome::Unknown);
        }
        // a charge or cancellation keeps its journaled state until something changes it, so
        // the driver journals every change relative to what the journal holds
        f
    }

    /// The driver no longer holds the one-time token: the request is never sent again.
    pub fn forbid_resend(&mut self) {
        self.can_resend = false;
    }

    /// The operation.
    pub fn operation(&self) -> Operation {
        self.op
    }
    /// The sequenceId (the same for every send and inquiry).
    pub fn sequence_id(&self) -> &SequenceId {
        &self.sequence_id
    }
    /// The journaled state.
    pub fn state(&self) -> State {
        self.state
    }
    /// How many times the request was handed to the transport.
    pub fn sends(&self) -> u8 {
        self.sends
    }
    /// What the platform said so far.
    pub fn answer(&self) -> &Answer {
        &self.answer
    }
    /// The outcome, once done.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    fn finish(&mut self, o: Outcome, now: u64) {
        self.state = o.state();
        self.step = Step::Idle;
        self.updated_ms = now;
        self.outcome = Some(o);
        // never sent again: the token and DCVV go
        self.request = None;
    }

    fn past_deadline(&self, t: u64) -> bool {
        t > self.started_ms.saturating_add(self.policy.deadline_ms)
    }

    /// The open outcome when the driver stops waiting.
    fn open_outcome(&self) -> Outcome {
        if !self.maybe_arrived {
            Outcome::NotProcessed
        } else if !self.op.has_inquiry() {
            Outcome::Unknown
        } else if self.acknowledged {
            Outcome::StillPending
        } else {
            Outcome::InDoubt
        }
    }

    /// Schedules `next` at `at`, or ends open when that is past the deadline.
    fn schedule(&mut self, next: Next, at: u64, now: u64) {
        self.step = Step::Idle;
        self.updated_ms = now;
        if self.past_deadline(at) {
            let o = self.open_outcome();
            self.finish(o, now);
        } else {
            self.next = next;
            self.next_at = at;
        }
    }

    /// The next back-off: doubles from [`Policy::retry_ms`] up to the poll interval.
    fn backoff(&mut self) -> u64 {
        let b = self.backoff_ms.max(1);
        let cap = self.policy.poll_interval_ms.max(self.policy.retry_ms);
        self.backoff_ms = b.saturating_mul(2).min(cap);
        b
    }

    /// What to do now.
    pub fn poll(&mut self, now_ms: u64) -> Action {
        if let Some(o) = self.conclude.take() {
            self.finish(o, now_ms);
        }
        if let Some(o) = &self.outcome {
            if !self.is_durable() {
                return Action::Persist;
            }
            return Action::Done(o.clone());
        }
        match self.step {
            // no call was made of it: nothing left
            Step::Sending if !self.handed => {
                self.step_not_sent(now_ms);
                return self.poll(now_ms);
            }
            // polled again without the call back: the request may have left; never hand out
            // a second Send for it
            Step::Sending => {
                self.handed = false;
                self.in_doubt(now_ms);
                return self.poll(now_ms);
            }
            // no call was made of it (or it could not be encoded): ask again later
            Step::Inquiring if !self.handed => {
                self.retry_inquiry(now_ms);
                return self.poll(now_ms);
            }
            // an inquiry is safe to repeat: a new call replaces the one not given back
            Step::Inquiring => {
                self.handed = false;
                return Action::Inquire;
            }
            Step::Idle => {}
        }
        if now_ms < self.next_at {
            if !self.is_durable() {
                return Action::Persist;
            }
            return Action::WaitUntil(self.next_at);
        }
        match self.next {
            Next::Send => {
                if !self.armed {
                    // the record that announces this send is written before it is handed out
                    self.updated_ms = now_ms;
                    self.sends = self.sends.saturating_add(1);
                    self.state = State::Sending;
                    self.armed = true;
                }
                if !self.is_durable() {
                    return Action::Persist;
                }
                self.armed = false;
                self.step = Step::Sending;
                Action::Send
            }
            Next::Inquire => {
                if !self.is_durable() {
                    return Action::Persist;
                }
                self.updated_ms = now_ms;
                self.step = Step::Inquiring;
                Action::Inquire
            }
        }
    }

    /// The record [`Action::Persist`] asked for (the current [`Flow::record`]) is durable.
    pub fn persisted(&mut self) {
        self.persisted = Some(self.fingerprint());
    }

    /// A digest of what [`Flow::record`] says now, but for its time: equal for two records
    /// that announce the same state. A driver that hands the record to another party (a C
    /// caller) keeps it to check that the record said durable is the flow's current one.
    pub fn record_digest(&self) -> u32 {
        self.fingerprint()
    }

    /// Whether the journal holds the flow as it stands (in everything but the record's time).
    fn is_durable(&self) -> bool {
        self.persisted == Some(self.fingerprint())
    }

    /// A digest of what a record says, but for its time: an inquiry that learned nothing new
    /// writes no record.
    fn fingerprint(&self) -> u32 {
        let mut rec = self.record();
        rec.updated_ms = 0;
        // the record's own CRC-32 (its last four bytes) over everything it says
        let b = rec.encode();
        let crc = b.get(JournalRecord::LEN - 4..).unwrap_or(&[]);
        crc.iter().fold(0, |acc, &x| (acc << 8) | u32::from(x))
    }

    /// The call to make now, encoded into `buf`: after [`Action::Send`] the flow's own request
    /// (its one-time token and DCVV sealed with `crypto` where the endpoint wants it; none of
    /// the money requests are Encrypted), after [`Action::Inquire`] the result inquiry for its
    /// sequenceId. Move its bytes (see [`Call`]) and give it back with [`Flow::end_call`].
    /// Each action hands out one call.
    pub fn call(
        &mut self,
        session: &Session,
        stamp: &Stamp,
        crypto: impl Crypto,
        buf: &mut [u8],
    ) -> Result<Call, FlowError> {
        if self.handed || self.outcome.is_some() {
            return Err(FlowError::NoCall);
        }
        let call = match (self.step, &self.request) {
            (Step::Sending, Some(MoneyRequest::Charge(r))) => {
                Call::new(session, stamp, r, crypto, buf)
            }
            (Step::Sending, Some(MoneyRequest::Cancel(r))) => {
                Call::new(session, stamp, r, crypto, buf)
            }
            (Step::Sending, Some(MoneyRequest::Refund(r))) => {
                Call::new(session, stamp, r, crypto, buf)
            }
            (Step::Inquiring, _) => {
                let q = ChargeResultRequest {
                    sequence_id: self.sequence_id,
                };
                Call::new(session, stamp, &q, NoCrypto, buf)
            }
            _ => return Err(FlowError::NoCall),
        };
        // an encoding failure leaves the step without a call: the next poll counts it as not
        // sent
        let mut call = call.map_err(FlowError::Encode)?;
        self.calls = self.calls.wrapping_add(1);
        call.owner = Some((self.sequence_id, self.calls));
        self.handed_id = Some((call.path(), *call.correlation_id()));
        self.handed = true;
        Ok(call)
    }

    /// Gives back the call [`Flow::call`] handed out, however far it got: a whole answer is
    /// decoded (decrypted with `crypto` when it is `encData`) and taken; a call whose
    /// transport failed counts as lost once any byte of it was written, as not sent before.
    /// The buffer holds nothing of the call afterwards. Returns what came back with a whole,
    /// decoded answer (its status and headers, whether it was encrypted), for a log. Another
    /// call's answer is refused ([`FlowError::NotThisCall`]) and changes nothing.
    pub fn end_call(
        &mut self,
        now_ms: u64,
        call: &mut Call,
        buf: &mut [u8],
        mut crypto: impl Crypto,
    ) -> Result<Option<Answered>, FlowError> {
        if !self.handed
            || call.owner != Some((self.sequence_id, self.calls))
            || self
                .handed_id
                .as_ref()
                .is_none_or(|(path, id)| *path != call.path() || id != call.correlation_id())
        {
            return Err(FlowError::NotThisCall);
        }
        // the call's own buffer, or nothing is taken (a wrong one could not be wiped)
        call.check_buffer(buf).map_err(FlowError::Call)?;
        self.handed = false;
        let mut answered = None;
        let report = if !call.is_complete() {
            match call.abort(buf) {
                Delivery::NotSent => Report::NotSent,
                Delivery::MaybeReceived => Report::Lost,
            }
        } else if self.step == Step::Inquiring {
            let mut reply = ReplyOf::<ChargeResultInquiry>::empty();
            match call.finish(buf, &mut crypto, &mut reply) {
                Ok(a) => {
                    answered = Some(a);
                    Report::Inquiry {
                        status: a.head.status,
                        reply: Some(reply),
                    }
                }
                Err(e) => undecodable(call, buf, e, false),
            }
        } else {
            let r = match self.op {
                Operation::Charge => finish_money::<Charge>(call, buf, &mut crypto),
                Operation::Cancel => finish_money::<CancelCharge>(call, buf, &mut crypto),
                Operation::Refund => finish_money::<Refund>(call, buf, &mut crypto),
            };
            match r {
                Ok((a, reply)) => {
                    answered = Some(a);
                    Report::Response {
                        status: a.head.status,
                        reply: Some(reply),
                    }
                }
                Err(e) => undecodable(call, buf, e, true),
            }
        };
        self.handle(now_ms, report);
        Ok(answered)
    }

    /// Takes what became of the call handed out.
    fn handle(&mut self, now_ms: u64, report: Report) {
        let step = self.step;
        self.updated_ms = now_ms;
        match (step, report) {
            (Step::Sending, Report::Response { status, reply }) => {
                self.on_response(now_ms, status, reply)
            }
            (Step::Sending, Report::NotSent) => self.step_not_sent(now_ms),
            // anything else that does not answer a send: the request may have left
            (Step::Sending, _) => self.in_doubt(now_ms),
            (Step::Inquiring, Report::Inquiry { status, reply }) => {
                self.on_inquiry(now_ms, status, reply)
            }
            (Step::Inquiring, _) => self.retry_inquiry(now_ms),
            // nothing in flight: ignored
            (Step::Idle, _) => {}
        }
    }

    fn step_not_sent(&mut self, now: u64) {
        self.updated_ms = now;
        self.on_not_sent(now);
    }

    /// The request may have reached the platform and its answer is not known (or not
    /// trusted): resolve through the inquiry.
    fn in_doubt(&mut self, now: u64) {
        self.maybe_arrived = true;
        if !self.op.has_inquiry() {
            return self.finish(Outcome::Unknown, now);
        }
        self.state = if self.acknowledged {
            State::Pending
        } else {
            State::Lost
        };
        // ask at once: a lost answer is often a committed request
        self.schedule(Next::Inquire, now, now);
    }

    fn on_not_sent(&mut self, now: u64) {
        if self.sends < self.policy.max_sends {
            self.state = if self.maybe_arrived {
                State::Lost
            } else {
                State::Sending
            };
            let at = now.saturating_add(self.policy.retry_ms);
            self.schedule(Next::Send, at, now);
        } else if self.maybe_arrived {
            // an earlier send may still be in flight
            self.in_doubt(now);
        } else {
            self.finish(Outcome::NotProcessed, now);
        }
    }

    fn on_response(&mut self, now: u64, status: u16, reply: Option<MoneyReply>) {
        // authoritative: no earlier send may have reached the platform
        let authoritative = !self.maybe_arrived;
        self.maybe_arrived = true;
        if status >= 500 {
            return self.in_doubt(now);
        }
        let Some(r) = reply else {
            // undecodable: the request may have been processed
            return self.in_doubt(now);
        };
        self.answer.code = Some(r.code);
        self.answer.description = r.description;
        match r.success {
            Some((pending, nr)) => {
                self.held_decline = false;
                if nr.is_some() {
                    self.answer.nr_number = nr;
                }
                self.answer.is_pending = Some(pending);
                if pending {
                    self.acknowledged = true;
                    self.state = State::Pending;
                    self.backoff_ms = self.policy.retry_ms;
                    let at = now.saturating_add(self.policy.poll_interval_ms);
                    self.schedule(Next::Inquire, at, now);
                } else {
                    let nr_number = self.answer.nr_number;
                    self.finish(
                        Outcome::Completed {
                            nr_number,
                            from_inquiry: false,
                        },
                        now,
                    );
                }
            }
            None if authoritative => {
                let code = self.answer.code.clone().unwrap_or_default();
                self.finish(Outcome::Declined { code }, now);
            }
            None => {
                // a re-send was refused: perhaps because the original got there first
                self.held_decline = true;
                self.in_doubt(now);
            }
        }
    }

    fn retry_inquiry(&mut self, now: u64) {
        let at = now.saturating_add(self.backoff());
        self.schedule(Next::Inquire, at, now);
    }

    fn on_inquiry(&mut self, now: u64, status: u16, reply: Option<ReplyOf<ChargeResultInquiry>>) {
        if status >= 500 {
            return self.retry_inquiry(now);
        }
        let Some(reply) = reply else {
            return self.retry_inquiry(now);
        };
        if reply.code == ChargeResultCode::PreviousTransactionNotFound {
            if !self.held_decline {
                self.answer.code = RawCode::new(reply.code.as_str()).ok();
                self.answer.description = reply.description;
            }
            return self.not_found(now);
        }
        let Some(b) = reply.body.filter(|_| reply.code.is_success()) else {
            // e.g. 000_002: the inquiry itself was refused; ask again later
            return self.retry_inquiry(now);
        };
        if b.nr_number.is_some() {
            self.answer.nr_number = b.nr_number;
        }
        self.answer.result = Some(b.result);
        let take_envelope = |a: &mut Answer| {
            a.code = RawCode::new(reply.code.as_str()).ok();
            a.description = reply.description.clone();
        };
        match b.result {
            ChargeResult::Completed => {
                self.held_decline = false;
                take_envelope(&mut self.answer);
                let nr_number = self.answer.nr_number;
                self.finish(
                    Outcome::Completed {
                        nr_number,
                        from_inquiry: true,
                    },
                    now,
                );
            }
            ChargeResult::Failed if self.held_decline => {
                // the re-send's decline stands: nothing completed
                let code = self.answer.code.clone().unwrap_or_default();
                self.finish(Outcome::Declined { code }, now);
            }
            ChargeResult::Failed => {
                take_envelope(&mut self.answer);
                self.finish(Outcome::Failed, now);
            }
            ChargeResult::Pending => {
                // the platform holds the transaction: a held decline was about a re-send
                self.held_decline = false;
                take_envelope(&mut self.answer);
                self.acknowledged = true;
                self.state = State::Pending;
                self.backoff_ms = self.policy.retry_ms;
                let at = now.saturating_add(self.policy.poll_interval_ms);
                self.schedule(Next::Inquire, at, now);
            }
        }
    }

    /// The inquiry said "previous transaction not found".
    fn not_found(&mut self, now: u64) {
        if self.acknowledged {
            // the platform told us it has it: keep asking
            let at = now.saturating_add(self.policy.poll_interval_ms);
            return self.schedule(Next::Inquire, at, now);
        }
        if now >= self.accept_until_ms {
            // the request can no longer be accepted and the platform has no trace of it
            let o = if self.held_decline {
                Outcome::Declined {
                    code: self.answer.code.clone().unwrap_or_default(),
                }
            } else {
                Outcome::NotProcessed
            };
            return self.finish(o, now);
        }
        let token_alive = now < self.created_ms.saturating_add(self.policy.token_ttl_ms);
        if self.can_resend
            && self.request.is_some()
            && !self.held_decline
            && self.sends < self.policy.max_sends
            && token_alive
        {
            // not there yet: send again, same sequenceId, same token
            self.state = State::Lost;
            let at = now.saturating_add(self.policy.retry_ms);
            return self.schedule(Next::Send, at, now);
        }
        // not yet: ask again, at the latest right when the bound passes
        let at = now.saturating_add(self.backoff()).min(self.accept_until_ms);
        self.schedule(Next::Inquire, at.max(now.saturating_add(1)), now);
    }

    /// The journal record of the current state (what [`Action::Persist`] asks to write, before every
    /// send and after every transition).
    pub fn record(&self) -> JournalRecord {
        JournalRecord {
            op: self.op,
            state: self.state,
            sequence_id: self.sequence_id,
            essentials: self.essentials,
            sends: self.sends,
            created_ms: self.created_ms,
            updated_ms: self.updated_ms,
            accept_until_ms: self.accept_until_ms,
            maybe_arrived: self.maybe_arrived,
            acknowledged: self.acknowledged,
            held_decline: self.held_decline,
            operator: self.operator,
            answer: self.answer.clone(),
        }
    }
}

/// Decodes a money call's answer into its endpoint's reply, reduced to what exactly-once needs.
fn finish_money<E: MoneyEndpoint>(
    call: &mut Call,
    buf: &mut [u8],
    crypto: &mut dyn Crypto,
) -> Result<(Answered, MoneyReply), crate::call::CallError>
where
    ReplyOf<E>: crate::message::AnyReply,
{
    let mut reply = ReplyOf::<E>::empty();
    let a = call.finish(buf, crypto, &mut reply)?;
    Ok((a, money_reply::<E>(reply)))
}

/// A whole answer that did not decode: with its status, as the flow judges it (in doubt, or
/// an inquiry to retry); anything else the call refused counts as lost.
fn undecodable(call: &mut Call, buf: &mut [u8], e: crate::call::CallError, money: bool) -> Report {
    match e {
        crate::call::CallError::Body { status, .. } if money => Report::Response {
            status,
            reply: None,
        },
        crate::call::CallError::Body { status, .. } => Report::Inquiry {
            status,
            reply: None,
        },
        _ => {
            call.abort(buf);
            Report::Lost
        }
    }
}

/// The outcome a final (or operator-awaiting) record stands for.
pub fn outcome_of_record(rec: &JournalRecord) -> Outcome {
    match rec.state {
        State::Completed => Outcome::Completed {
            nr_number: rec.answer.nr_number,
            from_inquiry: rec.answer.result == Some(ChargeResult::Completed),
        },
        State::Declined => Outcome::Declined {
            code: rec.answer.code.clone().unwrap_or_default(),
        },
        State::Failed => Outcome::Failed,
        State::NotProcessed => Outcome::NotProcessed,
        State::Pending => Outcome::StillPending,
        State::Sending | State::Lost => Outcome::InDoubt,
        State::Unknown => Outcome::Unknown,
    }
}

/// What to do when a money-moving call is started with a sequenceId the journal may
/// already hold (an idempotent re-run).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Rerun<'a> {
    /// The journal does not know it: a new call.
    New,
    /// Final (or a refund awaiting its operator): report the recorded outcome; send nothing.
    Replay(&'a JournalRecord),
    /// Open: resume through the inquiry ([`Flow::resume`]); never send it blindly.
    Resume(&'a JournalRecord),
    /// The sequenceId was used for a different request: refuse (this API field differs).
    Mismatch(&'static str),
}

/// Decides an idempotent re-run from the latest journal record of the sequenceId.
pub fn rerun<'a>(
    latest: Option<&'a JournalRecord>,
    op: Operation,
    essentials: &Essentials,
) -> Rerun<'a> {
    let Some(rec) = latest else {
        return Rerun::New;
    };
    if rec.op != op {
        return Rerun::Mismatch("operation");
    }
    if let Some(field) = rec.essentials.first_difference(essentials) {
        return Rerun::Mismatch(field);
    }
    if rec.state.is_final() || rec.state == State::Unknown {
        Rerun::Replay(rec)
    } else {
        Rerun::Resume(rec)
    }
}

/// How an operator closes an open call after checking with KONA PLATE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Closure {
    /// KONA PLATE says the money moved.
    Completed,
    /// KONA PLATE says it never processed the request.
    NotProcessed,
}

impl JournalRecord {
    /// The record that closes this open entry on an operator's word, keeping the history
    /// (append it; the earlier records stay). The note (at most 256 bytes of UTF-8) replaces
    /// the description. `None` when the entry is already final.
    pub fn closed_by_operator(
        &self,
        closure: Closure,
        note: &str,
        now_ms: u64,
    ) -> Result<Option<JournalRecord>, crate::field::FieldError> {
        if self.state.is_final() {
            return Ok(None);
        }
        let mut rec = self.clone();
        rec.state = match closure {
            Closure::Completed => State::Completed,
            Closure::NotProcessed => State::NotProcessed,
        };
        rec.operator = true;
        rec.held_decline = false;
        rec.updated_ms = now_ms;
        rec.answer.code = None;
        rec.answer.description = Description::new(note).map_err(|e| e.for_field("note"))?;
        Ok(Some(rec))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}
