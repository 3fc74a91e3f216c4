//! Money-moving calls run exactly once: the core's [`Flow`] driven over the blocking
//! [`Client`] (each call the flow hands out made over a fresh connection), journaled in a
//! [`Journal`] (a file, or a database shared by replicas) before every send.
//!
//! * [`run`] starts a call, or — when the journal already holds its sequenceId — replays
//!   its final outcome, or resumes it through the result inquiry (an idempotent re-run: the
//!   request is never sent blindly a second time);
//! * [`resume`] finishes an open journal entry (what `konaplate recover` does for each).
//!
//! While a call is driven, this process holds its entry's lease: another process (a second
//! `recover`, a re-run, another replica) leaves it alone ([`RunError::Busy`]). The lease is
//! renewed before every send and while waiting; a process whose lease was taken over stops
//! before sending anything more ([`RunError::Fenced`]).

use std::time::Duration;

use konaplate_core::api::MoneyEndpoint;
use konaplate_core::field::SequenceId;
use konaplate_core::flow::{
    Action, Flow, JournalRecord, Operation, Outcome, Policy, Rerun, outcome_of_record, rerun,
};
use konaplate_core::prelude::*;

use crate::client::{Client, Error};
use crate::clock::FlowClock;
use crate::journal::{Journal, Lease, is_fenced};

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
    /// The journal could not be read or written before the call began (before its first
    /// record was durable): nothing was sent.
    Journal(std::io::Error),
    /// The journal could not be written (or the lease renewed) once the call had begun: its
    /// record is in the journal and the request may have reached the platform. The call is
    /// open: [`resume`] (`konaplate recover`) continues it from the journal's last durable
    /// state once the journal works again. Never send it again under a new sequenceId.
    InDoubt(std::io::Error),
    /// Another live process is driving this sequenceId.
    Busy(SequenceId),
    /// This process's lease of the sequenceId was taken over by another (it was paused or
    /// cut off for longer than the lease): it stopped, sending and writing nothing more. The
    /// process that took it over finishes the call.
    Fenced(SequenceId),
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
            RunError::Journal(e) => write!(f, "journal: {e}; nothing was sent"),
            RunError::InDoubt(e) => write!(
                f,
                "journal: {e}; the call had begun and may have reached KONA PLATE: it stays open in the journal (recover it once the journal works; never send it again under a new sequenceId)"
            ),
            RunError::Busy(s) => write!(
                f,
                "sequenceId {s} is being driven by another konaplate process right now; nothing was sent"
            ),
            RunError::Fenced(s) => write!(
                f,
                "sequenceId {s}: another konaplate process took this call over (this one's lease expired); this one stopped and sent nothing more"
            ),
            RunError::Mismatch { sequence_id, field } => write!(
                f,
                "sequenceId {sequence_id} was already used for a different request (`{field}` differs); nothing was sent: use a new sequenceId"
            ),
        }
    }
}

impl std::error::Error for RunError {}

/// The journal a flow runs with, and the lease under which it writes.
struct Journaled<'a, J: Journal + ?Sized> {
    journal: &'a mut J,
    lease: &'a Lease,
    /// When the lease was last renewed (ms, this machine's clock: only a pace).
    renewed: u64,
    /// The journal holds a record of the call (it was resumed, or one append succeeded):
    /// from then on a journal failure leaves the call open, not unsent.
    begun: bool,
}

impl<J: Journal + ?Sized> Journaled<'_, J> {
    fn err(&self, e: std::io::Error) -> RunError {
        if is_fenced(&e) {
            RunError::Fenced(*self.lease.sequence_id())
        } else if self.begun {
            RunError::InDoubt(e)
        } else {
            RunError::Journal(e)
        }
    }

    /// Renews the lease when a fifth of `every` has passed (always before a send).
    fn renew(&mut self, now: u64, force: bool, every: u64) -> Result<(), RunError> {
        if force || now.saturating_sub(self.renewed) >= every / 5 {
            self.journal.renew(self.lease).map_err(|e| self.err(e))?;
            self.renewed = now;
        }
        Ok(())
    }
}

/// How often a waiting driver renews its lease, at the least (ms).
const RENEW_EVERY: u64 = 5_000;

/// Runs `flow` over `client`, doing what it asks: journal its record, make the call it hands
/// out, wait. Only a journal that cannot be written (or a lease taken over) stops it early.
/// `clock` times the flow (made as the flow was started or resumed: see [`clock::FlowClock`]).
fn run_flow<J: Journal + ?Sized>(
    client: &Client,
    mut journal: Option<Journaled<'_, J>>,
    mut flow: Flow,
    clock: FlowClock,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report, RunError> {
    let mut buf = client.buffer();
    let mut response_encrypted = false;
    let outcome = loop {
        match flow.poll(clock.now()) {
            Action::Persist => {
                if let Some(j) = journal.as_mut() {
                    j.journal
                        .append(&flow.record(), Some(j.lease))
                        .map_err(|e| j.err(e))?;
                    j.begun = true;
                }
                flow.persisted();
            }
            a @ (Action::Send | Action::Inquire) => {
                // still ours? a process whose lease was taken over sends nothing more
                if let Some(j) = journal.as_mut() {
                    j.renew(clock.now(), true, RENEW_EVERY)?;
                }
                progress(match a {
                    Action::Send => Progress::Sending(flow.sends()),
                    _ => Progress::Inquiring,
                });
                let mut crypto = client.crypto();
                // a clock out of range or a call that cannot be encoded sends nothing: the
                // flow counts it so
                let Ok(stamp) = client.stamp() else { continue };
                let Ok(mut call) = flow.call(client.session(), &stamp, &mut crypto, &mut buf)
                else {
                    continue;
                };
                let _ = client.exchange(&mut call, &mut buf);
                let answered = flow.end_call(clock.now(), &mut call, &mut buf, &mut crypto);
                if let (Action::Send, Ok(Some(a))) = (a, answered) {
                    response_encrypted = a.encrypted;
                }
            }
            Action::WaitUntil(t) => {
                let now = clock.now();
                if let Some(j) = journal.as_mut() {
                    j.renew(now, false, RENEW_EVERY)?;
                }
                let d = Duration::from_millis(t.saturating_sub(now));
                progress(Progress::Waiting(d));
                // short naps keep a spinner alive and the process responsive to signals
                std::thread::sleep(d.min(Duration::from_millis(250)));
            }
            Action::Done(outcome) => break outcome,
            // an action of a later core: ask again shortly
            _ => std::thread::sleep(Duration::from_millis(250)),
        }
    };
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
pub fn run<R: Request, J: Journal + ?Sized>(
    client: &Client,
    journal: &mut J,
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
    let start = |now| {
        let r = <R::Endpoint as MoneyEndpoint>::into_money(request.clone());
        Flow::start(r, policy, now)
    };
    let lease = take_lease(journal, &seq)?;
    let latest = match journal.latest_of(&seq) {
        Ok(l) => l,
        Err(e) => {
            let _ = journal.release(lease);
            return Err(RunError::Journal(e));
        }
    };
    let clock = FlowClock::from_wall();
    let report = match rerun(latest.as_ref(), op, &essentials) {
        Rerun::New => run_flow(
            client,
            Some(journaled(journal, &lease, false, clock.now())),
            start(clock.now()),
            clock,
            progress,
        ),
        Rerun::Replay(rec) => Ok(replay(rec)),
        // the journal holds it open: resolved through the inquiry, never sent blindly
        Rerun::Resume(rec) => run_resumed(client, journal, &lease, rec, policy, clock, progress),
        Rerun::Mismatch(field) => Err(RunError::Mismatch {
            sequence_id: seq,
            field,
        }),
        // an entry this version does not know how to continue: send nothing
        _ => Err(RunError::Journal(std::io::Error::other(format!(
            "sequenceId {seq}: the journal entry is in a state this version cannot continue"
        )))),
    };
    finish(journal, lease, report)
}

/// Runs a money-moving call to its outcome **without a journal**: the call is still driven
/// through the inquiry while this process lives, but a crash, a kill or a power cut while it is
/// open loses track of it, and a re-run of its sequenceId is not recognised. For tools that
/// keep their own durable record of every sequenceId before calling this (and the demo).
/// Prefer [`run`].
pub fn run_without_journal<R: Request>(
    client: &Client,
    request: &R,
    policy: Policy,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report, RunError>
where
    R::Endpoint: MoneyEndpoint,
{
    client.check(request).map_err(RunError::Rejected)?;
    let r = <R::Endpoint as MoneyEndpoint>::into_money(request.clone());
    let clock = FlowClock::from_wall();
    let flow = Flow::start(r, policy, clock.now());
    run_flow::<crate::journal::FileJournal>(client, None, flow, clock, progress)
}

/// Finishes the open journal entry of `sequence_id` (never re-sending it): a charge or
/// cancellation through the inquiry; a refund that may have left becomes
/// [`Outcome::Unknown`]. A final entry is reported as it is.
pub fn resume<J: Journal + ?Sized>(
    client: &Client,
    journal: &mut J,
    sequence_id: &SequenceId,
    policy: Policy,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report, RunError> {
    let lease = take_lease(journal, sequence_id)?;
    let report = match journal.latest_of(sequence_id) {
        Err(e) => Err(RunError::Journal(e)),
        Ok(None) => Err(RunError::Journal(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("sequenceId {sequence_id} is not in the journal"),
        ))),
        Ok(Some(rec)) if !rec.state.awaits_platform() => Ok(replay(&rec)),
        Ok(Some(rec)) => {
            let clock = FlowClock::from_wall();
            run_resumed(client, journal, &lease, &rec, policy, clock, progress)
        }
    };
    finish(journal, lease, report)
}

/// Resumes the open call of `rec` under `lease` (through the inquiry: never sent blindly).
fn run_resumed<J: Journal + ?Sized>(
    client: &Client,
    journal: &mut J,
    lease: &Lease,
    rec: &JournalRecord,
    policy: Policy,
    clock: FlowClock,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report, RunError> {
    let flow = Flow::resume(rec, policy, clock.now());
    let journal = journaled(journal, lease, true, clock.now());
    run_flow(client, Some(journal), flow, clock, progress)
}

fn replay(rec: &JournalRecord) -> Report {
    Report {
        outcome: outcome_of_record(rec),
        record: rec.clone(),
        replayed: true,
        response_encrypted: false,
    }
}

/// The journal under `lease` (taken at `now`); `begun` when it holds a record of the call
/// already (resumed).
fn journaled<'a, J: Journal + ?Sized>(
    journal: &'a mut J,
    lease: &'a Lease,
    begun: bool,
    now: u64,
) -> Journaled<'a, J> {
    Journaled {
        journal,
        lease,
        renewed: now,
        begun,
    }
}

/// Takes the entry's lease (the entry is then read afresh: it may have changed while another
/// process held it).
fn take_lease<J: Journal + ?Sized>(journal: &mut J, seq: &SequenceId) -> Result<Lease, RunError> {
    journal
        .try_lease(seq)
        .map_err(RunError::Journal)?
        .ok_or(RunError::Busy(*seq))
}

/// Gives the lease back and returns the report. A release that fails hides nothing: the
/// outcome is durable already, and an unreleased lease only runs out (another process then
/// finds the entry final); reporting "journal failed" here would invite a second charge under
/// a new sequenceId.
fn finish<J: Journal + ?Sized>(
    journal: &mut J,
    lease: Lease,
    report: Result<Report, RunError>,
) -> Result<Report, RunError> {
    let _ = journal.release(lease);
    report
}
