//! The driver loop of a [`Flow`], written once for every transport: the std client, the
//! firmware clients and the deterministic simulator all run this same loop over their own
//! [`Port`].

use super::{Action, Event, Flow, JournalRecord, Outcome};

/// The result of one send or inquiry: when it ended (driver clock) and what happened.
#[derive(Clone, Copy, Debug)]
pub struct Attempt<'a> {
    /// When the attempt ended, in the driver's milliseconds.
    pub at_ms: u64,
    /// What happened: [`Event::Response`] for a send, [`Event::InquiryResponse`] for an
    /// inquiry, or [`Event::Lost`] / [`Event::NotSent`].
    pub event: Event<'a>,
}

/// The I/O a [`Flow`] needs: a clock, durable storage, and the two requests.
pub trait Port {
    /// What can stop the loop (the journal could not be written, the process is going down).
    type Error;
    /// The driver's clock in milliseconds (monotonic enough to measure the token's life).
    fn now_ms(&mut self) -> u64;
    /// Durably stores `record` (a later record for the same sequenceId supersedes earlier
    /// ones); must not return `Ok` before the record survives a power loss.
    fn persist(&mut self, record: &JournalRecord) -> Result<(), Self::Error>;
    /// Sends the operation's request (the `attempt`-th time, same sequenceId and token).
    fn send(&mut self, attempt: u8) -> Attempt<'_>;
    /// Sends the result inquiry for the flow's sequenceId.
    fn inquire(&mut self) -> Attempt<'_>;
    /// Waits until `at_ms` (returning earlier is fine: the loop asks again).
    fn wait_until(&mut self, at_ms: u64);
}

/// Runs `flow` until it is done: journals the call before every send (write-ahead) and after
/// every change, and returns the outcome, which may be open ([`Outcome::is_final`]). An error
/// from [`Port::persist`] stops the loop at once; the journal then holds the last durable
/// state and [`Flow::resume`] continues from it.
pub fn drive<P: Port>(flow: &mut Flow, port: &mut P) -> Result<Outcome, P::Error> {
    // a new call is first written right before its first send; a resumed one when it changes
    let mut last = flow.record();
    loop {
        let now = port.now_ms();
        match flow.poll(now) {
            Action::Send => {
                // write-ahead: the journal says "sending" before any byte leaves
                last = flow.record();
                port.persist(&last)?;
                let a = port.send(flow.sends());
                flow.handle(a.at_ms, a.event);
            }
            Action::Inquire => {
                let a = port.inquire();
                flow.handle(a.at_ms, a.event);
            }
            Action::WaitUntil(t) => {
                port.wait_until(t);
                continue;
            }
            Action::Done(outcome) => {
                persist_if_changed(flow, port, &mut last)?;
                return Ok(outcome);
            }
        }
        persist_if_changed(flow, port, &mut last)?;
    }
}

/// Writes the flow's record when it differs from the last one written in anything but its
/// time (an inquiry that learned nothing new adds no record).
fn persist_if_changed<P: Port>(
    flow: &Flow,
    port: &mut P,
    last: &mut JournalRecord,
) -> Result<(), P::Error> {
    let rec = flow.record();
    let mut same_time = rec.clone();
    same_time.updated_ms = last.updated_ms;
    if same_time != *last {
        port.persist(&rec)?;
        *last = rec;
    }
    Ok(())
}
