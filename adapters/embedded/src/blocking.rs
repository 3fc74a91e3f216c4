//! The blocking client: the core's call and flow over `embedded_io::{Read, Write}`.

use embedded_io::{Read, Write};
use konaplate_core::api::{MovesNoMoney, ReplyOf, Request};
use konaplate_core::call::{Answered, Call, Progress};
use konaplate_core::flow::{Action, Flow, JournalRecord, Outcome};
use konaplate_core::jwe::Crypto;
use konaplate_core::message::AnyReply;
use konaplate_core::request::{Session, Stamp};

use crate::{Error, Exchange};

/// Moves the bytes of `call` over `stream`: writes the request the call holds in `buf`
/// (wiped once written), flushes, then reads into the call until the response is complete.
/// Nothing else: framing, limits and wiping are the call's. On an error, give the call up
/// with [`Call::abort`] (or to the flow with `end_call`), which wipes the buffer.
pub fn exchange<S: Read + Write>(
    stream: &mut S,
    call: &mut Call,
    buf: &mut [u8],
) -> Result<(), Error<S::Error>> {
    while !call.outgoing(buf).is_empty() {
        let n = stream.write(call.outgoing(buf)).map_err(Error::Write)?;
        call.sent(buf, n)?;
    }
    stream.flush().map_err(Error::Write)?;
    loop {
        let n = stream.read(call.incoming(buf)?).map_err(Error::Read)?;
        if call.received(buf, n)? == Progress::Complete {
            return Ok(());
        }
    }
}

/// The endpoint-independent half of [`call_into`]: moves the bytes of a call made with
/// [`Call::new`] (into `buf`, with the same `crypto`), decodes the answer into `out` — any
/// endpoint's reply — and wipes the buffer, whatever happens. Firmware that calls several
/// endpoints through one function of its own makes each call (a small generic step) and links
/// one copy of this.
pub fn complete<S: Read + Write>(
    stream: &mut S,
    call: &mut Call,
    crypto: &mut dyn Crypto,
    buf: &mut [u8],
    out: &mut dyn AnyReply,
) -> Result<Answered, Error<S::Error>> {
    let moved = exchange(stream, call, buf);
    if let Err(e) = moved {
        call.abort(buf);
        return Err(e);
    }
    Ok(call.finish(buf, crypto, out)?)
}

/// Sends `req` over `stream` and decodes its answer into `out`, overwritten in place (no reply
/// is ever copied). `buf` holds the request, then the response ([`crate::BUFFER_PLAIN`] or
/// [`crate::BUFFER_ENCRYPTED`] bytes suffice) and is wiped afterwards. Money requests (a
/// charge, its cancellation, a refund) do not compile here: they belong in [`drive`] (with a
/// journal: `money::run`), which finds out what became of a lost answer; a firmware that keeps
/// its own durable record says so by name, [`call_without_journal`].
pub fn call_into<R: Request, S: Read + Write>(
    stream: &mut S,
    session: &Session,
    stamp: &Stamp,
    req: &R,
    mut crypto: impl Crypto,
    buf: &mut [u8],
    out: &mut ReplyOf<R::Endpoint>,
) -> Result<Answered, Error<S::Error>>
where
    R::Endpoint: MovesNoMoney,
    ReplyOf<R::Endpoint>: AnyReply,
{
    let mut call = Call::new(session, stamp, req, &mut crypto, buf).map_err(Error::Encode)?;
    complete(stream, &mut call, &mut crypto, buf, out)
}

/// [`call_into`], returning the reply.
pub fn call<R: Request, S: Read + Write>(
    stream: &mut S,
    session: &Session,
    stamp: &Stamp,
    req: &R,
    crypto: impl Crypto,
    buf: &mut [u8],
) -> Result<Exchange<R::Endpoint>, Error<S::Error>>
where
    R::Endpoint: MovesNoMoney,
    ReplyOf<R::Endpoint>: AnyReply,
{
    call_without_journal(stream, session, stamp, req, crypto, buf)
}

/// [`call`] for any request, money requests included, **without a journal**: sent once, its
/// answer decoded, no inquiry after a lost answer (a charge whose answer was lost may or may
/// not have been made). For a firmware that keeps its own durable record of every sequenceId,
/// and for tests; everyone else drives money through [`drive`].
pub fn call_without_journal<R: Request, S: Read + Write>(
    stream: &mut S,
    session: &Session,
    stamp: &Stamp,
    req: &R,
    mut crypto: impl Crypto,
    buf: &mut [u8],
) -> Result<Exchange<R::Endpoint>, Error<S::Error>>
where
    ReplyOf<R::Endpoint>: AnyReply,
{
    let mut reply = ReplyOf::<R::Endpoint>::empty();
    let mut call = Call::new(session, stamp, req, &mut crypto, buf).map_err(Error::Encode)?;
    let answered = complete(stream, &mut call, &mut crypto, buf, &mut reply)?;
    Ok((answered, reply))
}

/// What a till gives the money driver ([`drive`]).
pub trait Till {
    /// A connection to the platform (TCP, or TLS over it). It may borrow the till (a TLS
    /// connection's record buffers, say): the driver drops it before it uses the till again.
    type Stream<'s>: Read + Write
    where
        Self: 's;
    /// What can stop the driver: the journal could not be written.
    type Error;
    /// The till's clock in milliseconds (monotonic: it measures the token's life).
    fn now_ms(&mut self) -> u64;
    /// The calendar time and a fresh random Correlation-Id for the next request.
    fn stamp(&mut self) -> Stamp;
    /// A new connection to the platform, or `None` when there is none now (log why): nothing
    /// was sent, and the flow tries again later.
    fn connect(&mut self) -> Option<Self::Stream<'_>>;
    /// Stores `record` durably: it must survive a power cut before this returns `Ok` (a
    /// later record of the same sequenceId supersedes earlier ones). An error stops the
    /// driver; the journal then holds the last durable state.
    fn persist(&mut self, record: &JournalRecord) -> Result<(), Self::Error>;
    /// Waits until `at_ms` (returning earlier is fine: the driver asks again).
    fn wait_until(&mut self, at_ms: u64);
}

/// Runs `flow` — a charge, a cancellation or a refund, started with `Flow::start`, or an
/// open one resumed from its record — to its outcome over `till`, doing what the flow asks:
/// persist its record (before every send and after every change), make the call it hands out
/// over a new connection, wait. `crypto` opens encrypted answers (a cancellation's). The
/// outcome may be open ([`Outcome::is_final`]): resume it later, never send it again under a
/// new sequenceId. Only a failed [`Till::persist`] stops the driver early.
pub fn drive<T: Till>(
    till: &mut T,
    session: &Session,
    flow: &mut Flow,
    mut crypto: impl Crypto,
    buf: &mut [u8],
) -> Result<Outcome, T::Error> {
    loop {
        match flow.poll(till.now_ms()) {
            Action::Persist => {
                till.persist(&flow.record())?;
                flow.persisted();
            }
            Action::Send | Action::Inquire => {
                // a call that cannot be encoded was never sent: the flow counts it so
                if let Ok(mut call) = flow.call(session, &till.stamp(), &mut crypto, buf) {
                    if let Some(mut stream) = till.connect() {
                        let _ = exchange(&mut stream, &mut call, buf);
                    }
                    let _ = flow.end_call(till.now_ms(), &mut call, buf, &mut crypto);
                }
            }
            Action::WaitUntil(t) => till.wait_until(t),
            Action::Done(outcome) => return Ok(outcome),
            // an action of a later core: ask again in a second
            _ => {
                let t = till.now_ms().saturating_add(1_000);
                till.wait_until(t)
            }
        }
    }
}
