//! Recovery of money-moving calls: a sans-IO state machine per charge, cancellation of charge
//! or refund, and the fixed-size journal record it persists.
//!
//! The machine never touches the network or a clock. The driver asks [`Flow::poll`] what to do
//! next ([`Action`]), does it, and reports what happened with [`Flow::handle`] ([`Event`]).
//!
//! Rules (API.md §6.2–§6.4, §7):
//! * a request whose outcome is unknown — timeout after sending, connection broken after
//!   connecting, HTTP 5xx, a truncated or undecodable body, `isPending=true` — is **never**
//!   re-sent under a new sequenceId;
//! * charges and cancellations resolve through the result inquiry (§6.4) keyed by the same
//!   sequenceId; `PENDING` is polled every [`Policy::poll_interval_ms`] (5 minutes by default,
//!   as the platform re-checks) until [`Policy::deadline_ms`];
//! * `007_009` ("previous transaction not found") after a lost request means it never arrived:
//!   only then may it be sent again, with the same sequenceId, and only while the driver still
//!   holds the unused one-time token ([`Flow::forbid_resend`] otherwise);
//! * a refund has no documented result inquiry: an unknown refund outcome stays
//!   [`Outcome::Unknown`] and is surfaced with its sequenceId, never retried blindly.
//!
//! Every transition can be written to a [`Journal`] as a [`JournalRecord`] (256 bytes with a
//! CRC-32) *before* the action it announces, so that after a power loss
//! [`Flow::resume`] continues from the last durable state.

use core::fmt;

use crate::code::{RawCode, ResultCode};
use crate::field::{
    ChargeAmount, ChargeResult, FieldError, MerchantId, NrNumber, SequenceId, UserId,
};
use crate::message::{Reply, decode_reply};

/// The money-moving operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Operation {
    /// Charge (§6.2).
    Charge = 1,
    /// Cancellation of charge (§6.3).
    Cancel = 2,
    /// Refund (§6.7).
    Refund = 3,
}

impl Operation {
    /// CLI name.
    pub const fn name(self) -> &'static str {
        match self {
            Operation::Charge => "charge",
            Operation::Cancel => "charge-cancel",
            Operation::Refund => "refund",
        }
    }
    /// Whether the result inquiry (§6.4) covers it.
    pub const fn has_inquiry(self) -> bool {
        !matches!(self, Operation::Refund)
    }
    fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(Operation::Charge),
            2 => Some(Operation::Cancel),
            3 => Some(Operation::Refund),
            _ => None,
        }
    }
}

/// Timing of a flow, in milliseconds of the driver's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Policy {
    /// Interval between inquiries while `PENDING` (default 300 000 = 5 minutes).
    pub poll_interval_ms: u64,
    /// Give up (outcome [`Outcome::StillPending`] or [`Outcome::Unknown`]) this long after the
    /// flow started (default 3 600 000 = 1 hour). The journal keeps the entry for recovery.
    pub deadline_ms: u64,
    /// Wait before retrying a failed inquiry or re-sending a request that never arrived
    /// (default 2 000).
    pub retry_ms: u64,
    /// Most times the request itself is sent (default 3).
    pub max_sends: u8,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            poll_interval_ms: 300_000,
            deadline_ms: 3_600_000,
            retry_ms: 2_000,
            max_sends: 3,
        }
    }
}

/// What the driver must do next.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Action {
    /// Send the operation's request (same sequenceId as always), then report with
    /// [`Event::Response`], [`Event::Lost`] or [`Event::NotSent`].
    Send,
    /// Send the result inquiry for the sequenceId, then report with [`Event::InquiryResponse`],
    /// [`Event::Lost`] or [`Event::NotSent`].
    Inquire,
    /// Nothing to do before this time; call [`Flow::poll`] again then.
    WaitUntil(u64),
    /// Finished.
    Done(Outcome),
}

/// The final word on a money-moving call.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Outcome {
    /// The money moved.
    Completed {
        /// The transaction number, when known.
        nr_number: Option<NrNumber>,
        /// `true` when the result inquiry (not the request's own response) said `COMPLETED`.
        from_inquiry: bool,
    },
    /// The platform refused the request with a non-success code: no money moved.
    Declined {
        /// The code, verbatim.
        code: RawCode,
    },
    /// The inquiry said `FAILED`: no money moved.
    Failed,
    /// The request never reached the platform (and was not, or could no longer be, re-sent):
    /// no money moved.
    NotProcessed,
    /// Still `PENDING` at the deadline: the journal keeps it; recover later.
    StillPending,
    /// The outcome cannot be learned (a lost refund; or no inquiry succeeded before the
    /// deadline). Surfaced with the sequenceId; never retried blindly.
    Unknown,
}

impl Outcome {
    /// The journal state of this outcome.
    fn state(&self) -> State {
        match self {
            Outcome::Completed { .. } => State::Completed,
            Outcome::Declined { .. } => State::Declined,
            Outcome::Failed => State::Failed,
            Outcome::NotProcessed => State::NotProcessed,
            Outcome::StillPending => State::StillPending,
            Outcome::Unknown => State::Unknown,
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

/// What happened to the last action.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// The operation's response: HTTP status and the (decrypted) body.
    Response {
        /// HTTP status.
        status: u16,
        /// Body bytes (plaintext JSON).
        body: &'a [u8],
    },
    /// The inquiry's response.
    InquiryResponse {
        /// HTTP status.
        status: u16,
        /// Body bytes.
        body: &'a [u8],
    },
    /// The request may have been received: timeout after connecting, broken connection.
    Lost,
    /// The request certainly did not reach the platform (refused connection, DNS, connect
    /// timeout).
    NotSent,
}

/// The journaled state of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum State {
    /// Written before the request is sent (write-ahead): it may or may not have left.
    Sending = 1,
    /// Sent; the outcome is unknown; resolving through the inquiry.
    Lost = 2,
    /// `isPending` / `PENDING`: polling the inquiry.
    Pending = 3,
    /// Final: completed.
    Completed = 10,
    /// Final: declined with a code.
    Declined = 11,
    /// Final: failed.
    Failed = 12,
    /// Final: never processed.
    NotProcessed = 13,
    /// Still pending at the deadline (unfinished: recover resumes it).
    StillPending = 14,
    /// Final: unknown.
    Unknown = 15,
}

impl State {
    /// `true` for the states `recover` must resolve.
    pub const fn is_unfinished(self) -> bool {
        matches!(
            self,
            State::Sending | State::Lost | State::Pending | State::StillPending
        )
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
            14 => State::StillPending,
            15 => State::Unknown,
            _ => return None,
        })
    }
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

/// The request essentials kept in the journal (no secrets: never the token or DCVV).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Essentials {
    /// Member.
    pub user_id: UserId,
    /// Charge amount (charges only).
    pub amount: Option<ChargeAmount>,
    /// Merchant (charges only).
    pub merchant_id: Option<MerchantId>,
    /// For a cancellation: the charge's nrNumber. Otherwise the nrNumber learned, if any.
    pub nr_number: Option<NrNumber>,
}

/// One money-moving call's recovery state machine.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Flow {
    op: Operation,
    sequence_id: SequenceId,
    essentials: Essentials,
    policy: Policy,
    started_ms: u64,
    updated_ms: u64,
    state: State,
    step: Step,
    next_at: u64,
    next: Next,
    sends: u8,
    can_resend: bool,
    last_code: Option<RawCode>,
    learned_nr: Option<NrNumber>,
    outcome: Option<Outcome>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum Next {
    Send,
    Inquire,
}

impl Flow {
    /// A new call: the first action is [`Action::Send`]. Journal the [`Flow::record`] before
    /// sending.
    pub fn new(
        op: Operation,
        sequence_id: SequenceId,
        essentials: Essentials,
        policy: Policy,
        now_ms: u64,
    ) -> Self {
        Self {
            op,
            sequence_id,
            essentials,
            policy,
            started_ms: now_ms,
            updated_ms: now_ms,
            state: State::Sending,
            step: Step::Idle,
            next_at: now_ms,
            next: Next::Send,
            sends: 0,
            can_resend: true,
            last_code: None,
            learned_nr: None,
            outcome: None,
        }
    }

    /// Continues from a journal record after a restart. The request is never re-sent from a
    /// record (the one-time token is not journaled): a charge or cancellation is resolved by
    /// the inquiry; a refund that may have left is [`Outcome::Unknown`].
    pub fn resume(rec: &JournalRecord, policy: Policy, now_ms: u64) -> Self {
        let mut f = Self {
            op: rec.op,
            sequence_id: rec.sequence_id,
            essentials: rec.essentials,
            policy,
            started_ms: now_ms,
            updated_ms: now_ms,
            state: rec.state,
            step: Step::Idle,
            next_at: now_ms,
            next: Next::Inquire,
            sends: rec.sends,
            can_resend: false,
            last_code: rec.code.clone(),
            learned_nr: None,
            outcome: None,
        };
        if !rec.state.is_unfinished() {
            f.outcome = Some(outcome_of_record(rec));
        } else if !rec.op.has_inquiry() {
            // a refund whose journal says it may have been sent: unknowable
            f.finish(Outcome::Unknown, now_ms);
        } else if rec.state == State::Sending {
            f.state = State::Lost;
        }
        f
    }

    /// The driver no longer holds an unused token: a request that never arrived is reported
    /// as [`Outcome::NotProcessed`] instead of being re-sent.
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
    /// How many times the request was sent.
    pub fn sends(&self) -> u8 {
        self.sends
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
    }

    fn past_deadline(&self, t: u64) -> bool {
        t > self.started_ms.saturating_add(self.policy.deadline_ms)
    }

    /// Schedules `next` at `at`, or finishes when that is past the deadline.
    fn schedule(&mut self, next: Next, at: u64, now: u64) {
        self.step = Step::Idle;
        self.updated_ms = now;
        if self.past_deadline(at) {
            let o = if self.state == State::Pending {
                Outcome::StillPending
            } else {
                Outcome::Unknown
            };
            self.finish(o, now);
        } else {
            self.next = next;
            self.next_at = at;
        }
    }

    /// What to do now.
    pub fn poll(&mut self, now_ms: u64) -> Action {
        if let Some(o) = &self.outcome {
            return Action::Done(o.clone());
        }
        match self.step {
            // polled again without a report: the request may have left, so it is lost; never
            // hand out a second Send for it
            Step::Sending => {
                self.on_lost(now_ms);
                return self.poll(now_ms);
            }
            // an inquiry is safe to repeat
            Step::Inquiring => return Action::Inquire,
            Step::Idle => {}
        }
        if now_ms < self.next_at {
            return Action::WaitUntil(self.next_at);
        }
        match self.next {
            Next::Send => {
                self.sends = self.sends.saturating_add(1);
                self.step = Step::Sending;
                self.updated_ms = now_ms;
                Action::Send
            }
            Next::Inquire => {
                self.step = Step::Inquiring;
                self.updated_ms = now_ms;
                Action::Inquire
            }
        }
    }

    /// Reports what happened to the action [`Flow::poll`] handed out.
    pub fn handle(&mut self, now_ms: u64, event: Event<'_>) {
        if self.outcome.is_some() {
            return;
        }
        let step = self.step;
        self.updated_ms = now_ms;
        match (step, event) {
            (Step::Sending, Event::Response { status, body }) => {
                self.on_response(now_ms, status, body)
            }
            (Step::Sending, Event::NotSent) => self.on_not_sent(now_ms),
            (Step::Sending, Event::Lost) => self.on_lost(now_ms),
            (Step::Inquiring, Event::InquiryResponse { status, body }) => {
                self.on_inquiry(now_ms, status, body)
            }
            (Step::Inquiring, Event::Lost | Event::NotSent) => {
                let at = now_ms.saturating_add(self.policy.retry_ms);
                self.schedule(Next::Inquire, at, now_ms);
            }
            // an event that does not answer a Send: the request may have left
            (Step::Sending, Event::InquiryResponse { .. }) => self.on_lost(now_ms),
            // nothing in flight, or a mismatched report on an inquiry: ignored
            _ => {}
        }
    }

    fn on_not_sent(&mut self, now: u64) {
        if self.sends < self.policy.max_sends {
            let at = now.saturating_add(self.policy.retry_ms);
            self.state = State::Sending;
            self.schedule(Next::Send, at, now);
        } else {
            self.finish(Outcome::NotProcessed, now);
        }
    }

    fn on_lost(&mut self, now: u64) {
        if self.op.has_inquiry() {
            self.state = State::Lost;
            // ask at once: a lost request is resolved by the inquiry
            self.schedule(Next::Inquire, now, now);
        } else {
            self.finish(Outcome::Unknown, now);
        }
    }

    fn on_response(&mut self, now: u64, status: u16, body: &[u8]) {
        if status >= 500 {
            return self.on_lost(now);
        }
        let decoded = match self.op {
            Operation::Charge => {
                decode_reply::<crate::api::ChargeResponse, crate::code::ChargeCode>(body)
                    .map(|r| split(r, |b| (b.is_pending, Some(b.nr_number))))
            }
            Operation::Cancel => {
                decode_reply::<crate::api::CancelResponse, crate::code::CancelCode>(body)
                    .map(|r| split(r, |b| (b.is_pending, None)))
            }
            Operation::Refund => {
                decode_reply::<crate::api::RefundResponse, crate::code::RefundCode>(body)
                    .map(|r| split(r, |b| (false, Some(NrNumber::from(b.nr_number)))))
            }
        };
        match decoded {
            // undecodable: the request may have been processed
            Err(_) => self.on_lost(now),
            Ok(Err(code)) => {
                self.last_code = Some(code.clone());
                self.finish(Outcome::Declined { code }, now);
            }
            Ok(Ok((true, nr))) => {
                self.learned_nr = nr;
                self.state = State::Pending;
                let at = now.saturating_add(self.policy.poll_interval_ms);
                self.schedule(Next::Inquire, at, now);
            }
            Ok(Ok((false, nr))) => self.finish(
                Outcome::Completed {
                    nr_number: nr,
                    from_inquiry: false,
                },
                now,
            ),
        }
    }

    fn on_inquiry(&mut self, now: u64, status: u16, body: &[u8]) {
        let reply = if status >= 500 {
            None
        } else {
            decode_reply::<crate::api::ChargeResultResponse, crate::code::ChargeResultCode>(body)
                .ok()
        };
        let retry = now.saturating_add(self.policy.retry_ms);
        let Some(reply) = reply else {
            return self.schedule(Next::Inquire, retry, now);
        };
        if reply.code == crate::code::ChargeResultCode::PreviousTransactionNotFound {
            match self.state {
                // it never arrived: only now may it be sent again (same sequenceId)
                State::Lost | State::Sending
                    if self.can_resend && self.sends < self.policy.max_sends =>
                {
                    self.state = State::Sending;
                    self.schedule(Next::Send, retry, now);
                }
                State::Lost | State::Sending => self.finish(Outcome::NotProcessed, now),
                // it was pending, so it did arrive: ask again later
                _ => {
                    let at = now.saturating_add(self.policy.poll_interval_ms);
                    self.schedule(Next::Inquire, at, now);
                }
            }
            return;
        }
        let Some(body) = reply.body.filter(|_| reply.code.is_success()) else {
            return self.schedule(Next::Inquire, retry, now);
        };
        let nr = body.nr_number.or(self.learned_nr).or(match self.op {
            Operation::Cancel => None,
            _ => self.essentials.nr_number,
        });
        match body.result {
            ChargeResult::Completed => self.finish(
                Outcome::Completed {
                    nr_number: nr,
                    from_inquiry: true,
                },
                now,
            ),
            ChargeResult::Failed => self.finish(Outcome::Failed, now),
            ChargeResult::Pending => {
                self.state = State::Pending;
                let at = now.saturating_add(self.policy.poll_interval_ms);
                self.schedule(Next::Inquire, at, now);
            }
        }
    }

    /// The journal record of the current state (write it before acting on the next
    /// [`Action`]).
    pub fn record(&self) -> JournalRecord {
        let mut essentials = self.essentials;
        if self.op != Operation::Cancel {
            let learned = match &self.outcome {
                Some(Outcome::Completed {
                    nr_number: Some(nr),
                    ..
                }) => Some(*nr),
                _ => self.learned_nr,
            };
            essentials.nr_number = learned.or(essentials.nr_number);
        }
        let code = match &self.outcome {
            Some(Outcome::Declined { code }) => Some(code.clone()),
            _ => self.last_code.clone(),
        };
        JournalRecord {
            op: self.op,
            state: self.state,
            sequence_id: self.sequence_id,
            essentials,
            sends: self.sends,
            created_ms: self.started_ms,
            updated_ms: self.updated_ms,
            code,
        }
    }
}

/// `Ok((pending, nr))` for success, `Err(code)` for any other code.
fn split<R, C: ResultCode>(
    r: Reply<R, C>,
    f: impl FnOnce(R) -> (bool, Option<NrNumber>),
) -> Result<(bool, Option<NrNumber>), RawCode> {
    if r.code.is_success()
        && let Some(b) = r.body
    {
        return Ok(f(b));
    }
    Err(RawCode::new(r.code.as_str()).unwrap_or_default())
}

fn outcome_of_record(rec: &JournalRecord) -> Outcome {
    match rec.state {
        State::Completed => Outcome::Completed {
            nr_number: rec.essentials.nr_number,
            from_inquiry: false,
        },
        State::Declined => Outcome::Declined {
            code: rec.code.clone().unwrap_or_default(),
        },
        State::Failed => Outcome::Failed,
        State::NotProcessed => Outcome::NotProcessed,
        State::StillPending => Outcome::StillPending,
        _ => Outcome::Unknown,
    }
}

/// Durable storage of journal records. The std crate appends them to a file with fsync;
/// firmware implements it on its own flash.
pub trait Journal {
    /// The storage's error.
    type Error;
    /// Durably stores `record` (a later record for the same sequenceId supersedes earlier
    /// ones). Must not return before the record survives a power loss.
    fn record(&mut self, record: &JournalRecord) -> Result<(), Self::Error>;
}

/// A journal entry: operation, sequenceId, request essentials, state, times, checksum.
/// Serialized as exactly [`JournalRecord::LEN`] bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JournalRecord {
    /// The operation.
    pub op: Operation,
    /// Its state.
    pub state: State,
    /// Its sequenceId.
    pub sequence_id: SequenceId,
    /// The request essentials (no secrets).
    pub essentials: Essentials,
    /// Times the request was sent.
    pub sends: u8,
    /// When the flow started (driver clock, ms).
    pub created_ms: u64,
    /// When this record was made.
    pub updated_ms: u64,
    /// The platform's code, when it declined.
    pub code: Option<RawCode>,
}

/// Why a journal record could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum RecordError {
    /// Fewer than [`JournalRecord::LEN`] bytes (a torn write at the end of the journal).
    Short,
    /// Not a record (magic or version).
    Magic,
    /// The CRC-32 does not match (corruption or a torn write).
    Checksum,
    /// A field is out of range.
    Field(FieldError),
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordError::Short => f.write_str("journal record truncated"),
            RecordError::Magic => f.write_str("not a journal record"),
            RecordError::Checksum => f.write_str("journal record checksum mismatch"),
            RecordError::Field(e) => write!(f, "journal record: {e}"),
        }
    }
}

impl core::error::Error for RecordError {}

const MAGIC: &[u8; 4] = b"KPJ1";

/// CRC-32 (IEEE 802.3, reflected, as zlib's `crc32`).
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn put(buf: &mut [u8; JournalRecord::LEN], at: usize, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(at..at + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

fn get(buf: &[u8], at: usize, len: usize) -> &[u8] {
    buf.get(at..at + len).unwrap_or(&[])
}

fn get_u64(buf: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(buf.get(at..at + 8).unwrap_or(&[0; 8]));
    u64::from_le_bytes(b)
}

impl JournalRecord {
    /// Serialized size.
    pub const LEN: usize = 256;

    /// Serializes (little-endian integers, length-prefixed strings, CRC-32 at the end).
    ///
    /// Layout: `0..4` magic `KPJ1`, `4` op, `5` state, `6` sends, `7` sequenceId length,
    /// `8..38` sequenceId, `38..46` userId, `46..54` amount (0 = none), `54` merchant present,
    /// `55..70` merchantId, `70` nrNumber length, `71..121` nrNumber, `121..129` created,
    /// `129..137` updated, `137` code length, `138..170` code, `170..252` zero, `252..256`
    /// CRC-32 of bytes `0..252`.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut b = [0u8; Self::LEN];
        put(&mut b, 0, MAGIC);
        put(&mut b, 4, &[self.op as u8, self.state as u8, self.sends]);
        let seq = self.sequence_id.as_str().as_bytes();
        put(&mut b, 7, &[seq.len() as u8]);
        put(&mut b, 8, seq);
        put(&mut b, 38, &self.essentials.user_id.get().to_le_bytes());
        put(
            &mut b,
            46,
            &self
                .essentials
                .amount
                .map_or(0, ChargeAmount::get)
                .to_le_bytes(),
        );
        if let Some(m) = &self.essentials.merchant_id {
            put(&mut b, 54, &[1]);
            put(&mut b, 55, m.as_str().as_bytes());
        }
        if let Some(nr) = &self.essentials.nr_number {
            let s = nr.as_str().as_bytes();
            put(&mut b, 70, &[s.len() as u8]);
            put(&mut b, 71, s);
        }
        put(&mut b, 121, &self.created_ms.to_le_bytes());
        put(&mut b, 129, &self.updated_ms.to_le_bytes());
        if let Some(c) = &self.code {
            let s = c.as_str().as_bytes();
            put(&mut b, 137, &[s.len() as u8]);
            put(&mut b, 138, s);
        }
        let crc = crc32(get(&b, 0, 252));
        put(&mut b, 252, &crc.to_le_bytes());
        b
    }

    /// Parses and checks a record; never panics on any input.
    pub fn decode(bytes: &[u8]) -> Result<Self, RecordError> {
        let b = bytes.get(..Self::LEN).ok_or(RecordError::Short)?;
        if get(b, 0, 4) != MAGIC {
            return Err(RecordError::Magic);
        }
        let mut crc = [0u8; 4];
        crc.copy_from_slice(get(b, 252, 4));
        if crc32(get(b, 0, 252)) != u32::from_le_bytes(crc) {
            return Err(RecordError::Checksum);
        }
        let byte = |at: usize| b.get(at).copied().unwrap_or(0);
        let bad = |field, limit| RecordError::Field(FieldError::new(field, limit));
        let op = Operation::from_u8(byte(4)).ok_or(bad("operation", "1, 2 or 3"))?;
        let state = State::from_u8(byte(5)).ok_or(bad("state", "a known state"))?;
        let seq_len = usize::from(byte(7));
        let sequence_id =
            SequenceId::from_bytes(b.get(8..8 + seq_len).ok_or(bad("sequenceId", "1 to 30"))?)
                .map_err(RecordError::Field)?;
        let user_id = UserId::new(get_u64(b, 38)).map_err(RecordError::Field)?;
        let amount = match get_u64(b, 46) {
            0 => None,
            v => Some(ChargeAmount::new(v).map_err(RecordError::Field)?),
        };
        let merchant_id = match byte(54) {
            0 => None,
            _ => Some(MerchantId::from_bytes(get(b, 55, 15)).map_err(RecordError::Field)?),
        };
        let nr_len = usize::from(byte(70));
        let nr_number = match nr_len {
            0 => None,
            n => Some(
                NrNumber::from_bytes(b.get(71..71 + n).ok_or(bad("nrNumber", "1 to 50"))?)
                    .map_err(RecordError::Field)?,
            ),
        };
        let code_len = usize::from(byte(137));
        let code = match code_len {
            0 => None,
            n => {
                let raw = b
                    .get(138..138 + n)
                    .ok_or(bad("response.code", "at most 32 bytes"))?;
                let s = core::str::from_utf8(raw).map_err(|_| bad("response.code", "UTF-8"))?;
                Some(RawCode::new(s).map_err(RecordError::Field)?)
            }
        };
        Ok(Self {
            op,
            state,
            sequence_id,
            essentials: Essentials {
                user_id,
                amount,
                merchant_id,
                nr_number,
            },
            sends: byte(6),
            created_ms: get_u64(b, 121),
            updated_ms: get_u64(b, 129),
            code,
        })
    }
}
