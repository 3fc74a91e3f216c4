//! Money-moving calls run exactly once: the core's [`Flow`] driven by its [`drive`] loop over
//! the blocking [`Client`], journaled in a [`FileJournal`] before every send.
//!
//! * [`run`] starts a call, or — when the journal already holds its sequenceId — replays
//!   its final outcome, or resumes it through the result inquiry (an idempotent re-run: the
//!   request is never sent blindly a second time);
//! * [`resume`] finishes an open journal entry (what `konaplate recover` does for each).
//!
//! While a call is driven, this process holds its entry lock: another process (a second
//! `recover`, a re-run) leaves it alone ([`RunError::Busy`]).

use std::time::Duration;

use konaplate_core::api::{ChargeResultRequest, MoneyEndpoint};
use konaplate_core::field::SequenceId;
use konaplate_core::flow::{
    Attempt, Event, Flow, JournalRecord, Operation, Outcome, Policy, Port, Rerun, drive,
    outcome_of_record, rerun,
};
use konaplate_core::prelude::*;

use crate::client::{Client, Error, RawReply};
use crate::clock;
use crate::journal::{EntryLock, FileJournal};

/// What happened, for reporting.
#[derive(Debug, Clone)]
pub struct Report {
    /// The outcome (possibly open: see [`Outcome::is_final`]).
    pub outcome: Outcome,
    /// The call's latest journal record: what the platform said, the sends, the times.
    pub record: JournalRecord,
    /// The outcome was replayed from the journal; nothing was sent this time.
    pub replayed: bool,
    /// The last answer to the request itself came JWE-encrypted (and was decrypted).
    pub response_encrypted: bool,
}

impl Report {
    /// The operation.
    pub fn operation(&self) -> Operation {
        self.record.op
    }
    /// The sequenceId.
    pub fn sequence_id(&self) -> SequenceId {
        self.record.sequence_id
    }
}

/// Progress notices for a UI (a spinner, a log line).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Progress {
    /// Sending the request (nth time, same sequenceId).
    Sending(u8),
    /// Asking the result inquiry.
    Inquiring,
    /// Waiting this long before the next step (pending, or retrying).
    Waiting(Duration),
}

/// Why a call stopped without an outcome.
#[derive(Debug)]
#[non_exhaustive]
pub enum RunError {
    /// The request was rejected locally before anything was sent (and nothing was journaled).
    Rejected(Error),
    /// The journal could not be written: nothing was sent if it failed before the first send;
    /// otherwise the journal holds the last durable state and `recover` continues from it.
    Journal(std::io::Error),
    /// Another live process is driving this sequenceId.
    Busy(SequenceId),
    /// The journal holds this sequenceId for a different request: this API field differs.
    /// Nothing was sent.
    Mismatch {
        /// The sequenceId.
        sequence_id: SequenceId,
        /// The API name of the first field that differs (`operation` for another operation).
        field: &'static str,
    },
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Rejected(e) => write!(f, "{e}"),
            RunError::Journal(e) => write!(f, "journal: {e}"),
            RunError::Busy(s) => write!(
                f,
                "sequenceId {s} is being driven by another konaplate process right now; nothing was sent"
            ),
            RunError::Mismatch { sequence_id, field } => write!(
                f,
                "sequenceId {sequence_id} was already used for a different request (`{field}` differs); nothing was sent: use a new sequenceId"
            ),
        }
    }
}

impl std::error::Error for RunError {}

/// Sends a money request (the one the driver holds, with its token).
type Sender<'a> = &'a dyn Fn(&Client) -> Result<RawReply, Error>;

/// The [`Port`] of the std driver: the system clock, the file journal, the blocking client.
struct StdPort<'a> {
    client: &'a Client,
    journal: Option<&'a mut FileJournal>,
    request: Option<Sender<'a>>,
    sequence_id: SequenceId,
    reply: Option<RawReply>,
    response_encrypted: bool,
    progress: &'a mut dyn FnMut(Progress),
}

impl Port for StdPort<'_> {
    type Error = std::io::Error;

    fn now_ms(&mut self) -> u64 {
        clock::unix_millis()
    }

    fn persist(&mut self, record: &JournalRecord) -> Result<(), std::io::Error> {
        match &mut self.journal {
            Some(j) => j.append(record),
            None => Ok(()),
        }
    }

    fn send(&mut self, attempt: u8) -> Attempt<'_> {
        (self.progress)(Progress::Sending(attempt));
        let Some(send) = self.request else {
            // a resumed call holds no token: the flow never asks (forbid_resend)
            return Attempt {
                at_ms: clock::unix_millis(),
                event: Event::NotSent,
            };
        };
        let result = send(self.client);
        let at_ms = clock::unix_millis();
        let event = match result {
            Ok(raw) => {
                self.response_encrypted = raw.encrypted;
                let raw = self.reply.insert(raw);
                Event::Response {
                    status: raw.status,
                    body: &raw.body,
                }
            }
            // a local rejection is deterministic and was checked before the first send
            Err(Error::NotSent { .. } | Error::Rejected(_)) => Event::NotSent,
            Err(Error::OutcomeUnknown { .. }) => Event::Lost,
        };
        Attempt { at_ms, event }
    }

    fn inquire(&mut self) -> Attempt<'_> {
        (self.progress)(Progress::Inquiring);
        let q = ChargeResultRequest {
            sequence_id: self.sequence_id,
        };
        let result = self.client.send_raw(&q);
        let at_ms = clock::unix_millis();
        let event = match result {
            Ok(raw) => {
                let raw = self.reply.insert(raw);
                Event::InquiryResponse {
                    status: raw.status,
                    body: &raw.body,
                }
            }
            Err(Error::NotSent { .. } | Error::Rejected(_)) => Event::NotSent,
            Err(Error::OutcomeUnknown { .. }) => Event::Lost,
        };
        Attempt { at_ms, event }
    }

    fn wait_until(&mut self, at_ms: u64) {
        let d = Duration::from_millis(at_ms.saturating_sub(clock::unix_millis()));
        (self.progress)(Progress::Waiting(d));
        // short naps keep a spinner alive and the process responsive to signals
        std::thread::sleep(d.min(Duration::from_millis(250)));
    }
}

fn run_flow(
    client: &Client,
    journal: Option<&mut FileJournal>,
    mut flow: Flow,
    request: Option<Sender<'_>>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report, RunError> {
    if request.is_none() {
        flow.forbid_resend();
    }
    let mut port = StdPort {
        client,
        journal,
        request,
        sequence_id: *flow.sequence_id(),
        reply: None,
        response_encrypted: false,
        progress,
    };
    let outcome = drive(&mut flow, &mut port).map_err(RunError::Journal)?;
    let response_encrypted = port.response_encrypted;
    Ok(Report {
        outcome,
        record: flow.record(),
        replayed: false,
        response_encrypted,
    })
}

/// Runs a money-moving call (a charge, cancellation or refund request) to its outcome,
/// journaling it before every send.
///
/// With a journal, the sequenceId is the call's idempotency key: a sequenceId the journal
/// already holds as final replays its outcome ([`Report::replayed`]); an open one is
/// resumed through the inquiry; one used for a different request is refused
/// ([`RunError::Mismatch`]). Nothing is ever sent twice blindly.
pub fn run<R: Request>(
    client: &Client,
    journal: Option<&mut FileJournal>,
    request: &R,
    policy: Policy,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report, RunError>
where
    R::Endpoint: MoneyEndpoint,
{
    client.check(request).map_err(RunError::Rejected)?;
    let op = <R::Endpoint as MoneyEndpoint>::OPERATION;
    let seq = <R::Endpoint as MoneyEndpoint>::sequence_id(request);
    let essentials = <R::Endpoint as MoneyEndpoint>::essentials(request);
    let send = |c: &Client| c.send_raw(request);
    let Some(journal) = journal else {
        let flow = Flow::new(op, seq, essentials, policy, clock::unix_millis());
        return run_flow(client, None, flow, Some(&send), progress);
    };
    let entry = lock_entry(journal, &seq)?;
    let report = match rerun(journal.latest_of(&seq), op, &essentials) {
        Rerun::New => {
            let flow = Flow::new(op, seq, essentials, policy, clock::unix_millis());
            run_flow(client, Some(&mut *journal), flow, Some(&send), progress)
        }
        Rerun::Replay(rec) => Ok(replay(rec)),
        Rerun::Resume(rec) => {
            let flow = Flow::resume(rec, policy, clock::unix_millis());
            run_flow(client, Some(&mut *journal), flow, None, progress)
        }
        Rerun::Mismatch(field) => Err(RunError::Mismatch {
            sequence_id: seq,
            field,
        }),
        // an entry this version does not know how to continue: send nothing
        _ => Err(RunError::Journal(std::io::Error::other(format!(
            "sequenceId {seq}: the journal entry is in a state this version cannot continue; nothing was sent"
        )))),
    };
    journal.release_entry(entry).map_err(RunError::Journal)?;
    report
}

/// Finishes the open journal entry of `sequence_id` (never re-sending it): a charge or
/// cancellation through the inquiry; a refund that may have left becomes
/// [`Outcome::Unknown`]. A final entry is reported as it is.
pub fn resume(
    client: &Client,
    journal: &mut FileJournal,
    sequence_id: &SequenceId,
    policy: Policy,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report, RunError> {
    let entry = lock_entry(journal, sequence_id)?;
    let report = match journal.latest_of(sequence_id).cloned() {
        None => Err(RunError::Journal(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("sequenceId {sequence_id} is not in the journal"),
        ))),
        Some(rec) if !rec.state.awaits_platform() => Ok(replay(&rec)),
        Some(rec) => {
            let flow = Flow::resume(&rec, policy, clock::unix_millis());
            run_flow(client, Some(&mut *journal), flow, None, progress)
        }
    };
    journal.release_entry(entry).map_err(RunError::Journal)?;
    report
}

fn replay(rec: &JournalRecord) -> Report {
    Report {
        outcome: outcome_of_record(rec),
        record: rec.clone(),
        replayed: true,
        response_encrypted: false,
    }
}

/// Takes the entry lock, then re-reads the journal (the entry may have changed while this
/// process waited).
fn lock_entry(journal: &mut FileJournal, seq: &SequenceId) -> Result<EntryLock, RunError> {
    let entry = journal
        .try_lock_entry(seq)
        .map_err(RunError::Journal)?
        .ok_or(RunError::Busy(*seq))?;
    journal.reload().map_err(RunError::Journal)?;
    Ok(entry)
}
