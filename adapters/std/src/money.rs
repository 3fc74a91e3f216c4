//! Running money-moving calls to their final outcome: the core's recovery [`Flow`] driven
//! over the blocking [`Client`], journaled before every send.

use std::time::Duration;

use konaplate_core::flow::{Action, Essentials, Event, Flow, Journal, JournalRecord, Operation, Outcome, Policy};
use konaplate_core::prelude::*;

use crate::client::{Client, Error, RawReply};
use crate::clock;

/// The request of a money-moving call.
#[derive(Clone, Debug)]
pub enum MoneyRequest {
    /// Charge (§6.2).
    Charge(ChargeRequest),
    /// Cancellation of charge (§6.3).
    Cancel(CancelRequest),
    /// Refund (§6.7).
    Refund(RefundRequest),
}

impl MoneyRequest {
    /// The operation.
    pub fn operation(&self) -> Operation {
        match self {
            MoneyRequest::Charge(_) => Operation::Charge,
            MoneyRequest::Cancel(_) => Operation::Cancel,
            MoneyRequest::Refund(_) => Operation::Refund,
        }
    }
    /// Its sequenceId.
    pub fn sequence_id(&self) -> SequenceId {
        match self {
            MoneyRequest::Charge(r) => r.sequence_id,
            MoneyRequest::Cancel(r) => r.sequence_id,
            MoneyRequest::Refund(r) => r.sequence_id,
        }
    }
    fn essentials(&self) -> Essentials {
        match self {
            MoneyRequest::Charge(r) => Essentials {
                user_id: r.user_id,
                amount: Some(r.amount),
                merchant_id: Some(r.merchant_id),
                nr_number: None,
            },
            MoneyRequest::Cancel(r) => Essentials {
                user_id: r.user_id,
                amount: None,
                merchant_id: None,
                nr_number: Some(r.nr_number),
            },
            MoneyRequest::Refund(r) => {
                Essentials { user_id: r.user_id, amount: None, merchant_id: None, nr_number: None }
            }
        }
    }
    fn send(&self, client: &Client) -> Result<RawReply, Error> {
        match self {
            MoneyRequest::Charge(r) => client.send_raw::<Charge>(r),
            MoneyRequest::Cancel(r) => client.send_raw::<CancelCharge>(r),
            MoneyRequest::Refund(r) => client.send_raw::<Refund>(r),
        }
    }
}

/// What happened, for reporting.
#[derive(Debug)]
pub struct Report {
    /// The operation.
    pub operation: Operation,
    /// Its sequenceId.
    pub sequence_id: SequenceId,
    /// The final outcome.
    pub outcome: Outcome,
    /// The last response to the request itself (status, plaintext body), if any arrived.
    pub response: Option<(u16, Vec<u8>)>,
    /// The last result-inquiry response, if any.
    pub inquiry: Option<(u16, Vec<u8>)>,
    /// Times the request was sent.
    pub sends: u8,
    /// The last response to the request was JWE-encrypted (and was decrypted).
    pub response_encrypted: bool,
}

/// Progress notices for a UI (a spinner, a log line).
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// Sending the request (nth time).
    Sending(u8),
    /// Asking the result inquiry.
    Inquiring,
    /// Waiting this long before the next step (pending, or retrying).
    Waiting(Duration),
}

/// A journal that may be absent (`--no-journal`).
pub struct MaybeJournal<'a>(pub Option<&'a mut dyn Journal<Error = std::io::Error>>);

impl MaybeJournal<'_> {
    fn write(&mut self, rec: &JournalRecord) -> Result<(), std::io::Error> {
        match &mut self.0 {
            Some(j) => j.record(rec),
            None => Ok(()),
        }
    }
}

/// Why a flow stopped without an outcome.
#[derive(Debug)]
pub enum RunError {
    /// The request was rejected locally before anything was sent.
    Rejected(Error),
    /// The journal could not be written: the call was not sent (if it failed before the
    /// first send) or its state could not be saved.
    Journal(std::io::Error),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Rejected(e) => write!(f, "{e}"),
            RunError::Journal(e) => write!(f, "journal: {e}"),
        }
    }
}

impl std::error::Error for RunError {}

/// Runs a new money-moving call to its outcome, writing the journal before every send and at
/// every transition.
pub fn run(
    client: &Client,
    journal: MaybeJournal<'_>,
    request: &MoneyRequest,
    policy: Policy,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report, RunError> {
    let flow = Flow::new(request.operation(), request.sequence_id(), request.essentials(), policy, clock::unix_millis());
    drive(client, journal, flow, Some(request), progress)
}

/// Resumes a journaled call (after a crash or a timeout) to its outcome. The request is never
/// re-sent from the journal.
pub fn resume(
    client: &Client,
    journal: MaybeJournal<'_>,
    record: &JournalRecord,
    policy: Policy,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report, RunError> {
    let flow = Flow::resume(record, policy, clock::unix_millis());
    drive(client, journal, flow, None, progress)
}

fn drive(
    client: &Client,
    mut journal: MaybeJournal<'_>,
    mut flow: Flow,
    request: Option<&MoneyRequest>,
    progress: &mut dyn FnMut(Progress),
) -> Result<Report, RunError> {
    if request.is_none() {
        flow.forbid_resend();
    }
    let mut response = None;
    let mut inquiry = None;
    let mut response_encrypted = false;
    let seq = *flow.sequence_id();
    journal.write(&flow.record()).map_err(RunError::Journal)?;
    loop {
        let now = clock::unix_millis();
        match flow.poll(now) {
            Action::Send => {
                // write-ahead: the record says "sending" before any byte leaves
                journal.write(&flow.record()).map_err(RunError::Journal)?;
                progress(Progress::Sending(flow.sends()));
                let Some(req) = request else {
                    flow.handle(now, Event::NotSent);
                    continue;
                };
                match req.send(client) {
                    Ok(raw) => {
                        flow.handle(clock::unix_millis(), Event::Response { status: raw.status, body: &raw.body });
                        response = Some((raw.status, raw.body.to_vec()));
                        response_encrypted = raw.encrypted;
                    }
                    Err(Error::NotSent { .. }) => flow.handle(clock::unix_millis(), Event::NotSent),
                    Err(Error::OutcomeUnknown { .. }) => flow.handle(clock::unix_millis(), Event::Lost),
                    Err(e @ Error::Rejected(_)) => {
                        // rejected locally: this attempt sent nothing, and a re-send only
                        // happens after the platform said the request never arrived
                        journal.write(&not_processed(&flow)).map_err(RunError::Journal)?;
                        return Err(RunError::Rejected(e));
                    }
                }
                journal.write(&flow.record()).map_err(RunError::Journal)?;
            }
            Action::Inquire => {
                progress(Progress::Inquiring);
                let q = ChargeResultRequest { sequence_id: seq };
                match client.send_raw::<ChargeResultInquiry>(&q) {
                    Ok(raw) => {
                        flow.handle(clock::unix_millis(), Event::InquiryResponse { status: raw.status, body: &raw.body });
                        inquiry = Some((raw.status, raw.body.to_vec()));
                    }
                    Err(Error::NotSent { .. }) => flow.handle(clock::unix_millis(), Event::NotSent),
                    Err(_) => flow.handle(clock::unix_millis(), Event::Lost),
                }
                journal.write(&flow.record()).map_err(RunError::Journal)?;
            }
            Action::WaitUntil(t) => {
                let d = Duration::from_millis(t.saturating_sub(now));
                progress(Progress::Waiting(d));
                std::thread::sleep(d.min(Duration::from_millis(250)));
            }
            Action::Done(outcome) => {
                journal.write(&flow.record()).map_err(RunError::Journal)?;
                return Ok(Report {
                    operation: flow.operation(),
                    sequence_id: seq,
                    outcome,
                    response,
                    inquiry,
                    sends: flow.sends(),
                    response_encrypted,
                });
            }
        }
    }
}

/// A record saying the call ended without being processed (a local rejection before sending).
fn not_processed(flow: &Flow) -> JournalRecord {
    let mut rec = flow.record();
    rec.state = konaplate_core::flow::State::NotProcessed;
    rec
}
