//! One exchange with the platform, without I/O: [`Call`].
//!
//! Every transport — the blocking and async embedded clients, the std client, the C ABI, the
//! money flow's drivers and the simulator — puts a request on the wire and reads its answer
//! through this one type: it encodes and signs the request into the caller's buffer (sealed
//! as JWE exactly when the endpoint's request is Encrypted), says which bytes to write and
//! where the next bytes read go, frames the response as it arrives (head parsed once; body by
//! `Content-Length`, `chunked` decoded in place, or until the peer closes), and ends with the
//! reply decoded — decrypted first when the body is `{"encData":..}` — and every byte of the
//! request, the response and any plaintext wiped from the buffer.

use crate::base::describe::{Describe, Sink, display_by_describe};
use core::ops::Range;

use zeroize::Zeroize;

use crate::api::Request;
use crate::error::{DecodeError, EncodeError};
use crate::field::{CorrelationId, SequenceId};
pub use crate::http::Progress;
use crate::http::{HttpError, ResponseHead, ResponseReader};
use crate::jwe::Crypto;
use crate::message::AnyReply;
use crate::request::{Session, Stamp, encode_request};
use crate::response::open_body;

/// One request and its answer, moved by the caller's transport: a state machine that does no
/// I/O, allocates nothing and keeps no reference to the buffer (every step is given it again,
/// as rustls' unbuffered API is).
///
/// # The call order
///
/// 1. [`Call::new`] encodes and signs the request into `buf` (nothing sendable is left there
///    when it fails).
/// 2. Write: while [`Call::outgoing`] is not empty, write those bytes to the socket and report
///    how many were taken with [`Call::sent`]. Once all are written the request is wiped from
///    the buffer (it may carry a one-time token and a DCVV).
/// 3. Read: read into [`Call::incoming`] and report with [`Call::received`] (`0` bytes, like a
///    read that returns 0, means the peer closed; [`Call::closed`] says the same) until it
///    answers [`Progress::Complete`]. [`Progress::NeedMore`] is the only "not yet"; asking
///    again after `Complete` answers `Complete` again.
/// 4. [`Call::finish`] decrypts an `encData` body in place, decodes the reply into the
///    caller's [`ReplyOf`](crate::api::ReplyOf) storage and wipes the response: the buffer
///    holds nothing of the exchange afterwards.
///
/// When the transport fails at any point (a refused connection, a timeout, a reset), call
/// [`Call::abort`]: it wipes what is in the buffer and says whether the request may have
/// reached the platform ([`Delivery`]). An error from the call itself (a response that does
/// not fit, a malformed head, a peer that closed early, an undecodable body) has already
/// wiped the buffer.
///
/// ```
/// use konaplate_core::call::{Call, Progress};
/// use konaplate_core::prelude::*;
/// use konaplate_core::{api::*, field::*};
///
/// let session = Session::new(
///     Credentials::new(
///         AspId::new("100000000000001")?,
///         AccessKey::new("abcdefg-0123456789abcdef0123456789abcdef")?,
///         &SecretKey::new("my-secret-key")?,
///         None,
///     ),
///     Target::new(Host::parse("sandbox.konaplate.com")?),
/// );
/// let stamp = Stamp::new(Timestamp::new(2026, 11, 23, 19, 54, 6, 123)?, TimeZone::KST, 0x0abc_def1);
/// let request = ChargeResultRequest { sequence_id: SequenceId::new("MNR000000001CR")? };
///
/// let mut buf = [0u8; konaplate_core::request::BUFFER_PLAIN];
/// let mut call = Call::new(&session, &stamp, &request, NoCrypto, &mut buf)?;
/// // a socket that takes and gives 5 bytes at a time
/// let mut wire = Vec::new();
/// while !call.outgoing(&buf).is_empty() {
///     let piece = &call.outgoing(&buf)[..5.min(call.outgoing(&buf).len())];
///     wire.extend_from_slice(piece);
///     let n = piece.len();
///     call.sent(&mut buf, n)?;
/// }
/// assert!(wire.starts_with(b"POST /open-api/api/v1/recharges/by-bank-account/result/inquiry HTTP/1.1\r\n"));
/// assert!(buf.iter().all(|&b| b == 0), "the request is wiped once written");
///
/// let body = r#"{"response":{"code":"000_000","description":"\uc131\uacf5"},"result":"COMPLETED"}"#;
/// let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
/// let mut from_socket = answer.as_bytes().chunks(5);
/// loop {
///     let space = call.incoming(&mut buf)?;
///     let piece = from_socket.next().unwrap_or(&[]); // a read of 0 bytes: the peer closed
///     space[..piece.len()].copy_from_slice(piece);
///     if call.received(&mut buf, piece.len())? == Progress::Complete {
///         break;
///     }
/// }
/// let mut reply = ReplyOf::<ChargeResultInquiry>::empty();
/// let answered = call.finish(&mut buf, NoCrypto, &mut reply)?;
/// assert_eq!(answered.head.status, 200);
/// assert_eq!(reply.description.as_str(), "성공");
/// assert_eq!(reply.body.unwrap().result, ChargeResult::Completed);
/// assert!(buf.iter().all(|&b| b == 0), "and the response once decoded");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Call {
    /// The endpoint's path: which reply this call's answer decodes into.
    path: &'static str,
    /// The request: `buf[..len]`, its body at `body`.
    len: usize,
    body: Range<usize>,
    correlation_id: CorrelationId,
    /// The buffer's length: every step must be given the same buffer.
    capacity: usize,
    /// Request bytes the transport accepted.
    written: usize,
    state: State,
    /// The flow that handed this call out, and which of its calls it is.
    pub(crate) owner: Option<(SequenceId, u32)>,
}

#[derive(Debug)]
enum State {
    /// Writing the request.
    Writing,
    /// Reading the response.
    Reading(ResponseReader),
    /// The whole response is in the buffer.
    Complete(ResponseReader),
    /// Decoded, failed or aborted: the buffer holds nothing of the call.
    Ended,
}

/// Whether a request that did not get its answer may have reached the platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Delivery {
    /// Not one byte of the request was taken by the transport: it certainly did not reach
    /// the platform. (This relies on a failed write writing nothing, the contract of
    /// `std::io::Write::write`.)
    NotSent,
    /// Some or all of the request was written: the platform may have received and processed
    /// it.
    MaybeReceived,
}

/// What a finished call received besides the reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Answered {
    /// Status, framing and the X-KM response headers.
    pub head: ResponseHead,
    /// The body was JWE-encrypted (and was decrypted).
    pub encrypted: bool,
}

/// Why a call stopped. After any of these but [`CallError::OutOfOrder`],
/// [`CallError::Buffer`] and [`CallError::WrongReply`] (mistakes of the caller's code, which
/// change nothing) the buffer has been wiped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CallError {
    /// The transport accepted zero bytes of a non-empty write.
    WriteZero,
    /// The response's framing: a head or body larger than the buffer
    /// ([`HttpError::HeadTooLarge`], [`HttpError::BodyTooLarge`]), a peer that closed before
    /// the response was whole ([`HttpError::Closed`]), a malformed head or chunk.
    Http(HttpError),
    /// The whole response arrived but its body is not this endpoint's answer (or could not
    /// be decrypted).
    Body {
        /// The response's HTTP status.
        status: u16,
        /// What was wrong.
        error: DecodeError,
    },
    /// A step called in the wrong order (the order is in [`Call`]'s documentation).
    OutOfOrder {
        /// The step.
        step: &'static str,
    },
    /// A buffer of another length than the one the call was made in.
    Buffer {
        /// The call's buffer length.
        expected: usize,
        /// The length given.
        got: usize,
    },
    /// [`Call::finish`] was given the reply of another endpoint.
    WrongReply {
        /// The call's endpoint path.
        path: &'static str,
    },
}

impl Describe for CallError {
    fn describe(&self, out: &mut dyn Sink) {
        match self {
            CallError::WriteZero => out.put("the transport accepted zero bytes"),
            CallError::Http(e) => e.describe(out),
            CallError::Body { status, error } => {
                out.put("undecodable answer (HTTP ");
                out.put_u64(u64::from(*status));
                out.put("): ");
                error.describe(out);
            }
            CallError::OutOfOrder { step } => {
                out.put("call step `");
                out.put(step);
                out.put("` out of order");
            }
            CallError::Buffer { expected, got } => {
                out.put("the call was made in a ");
                out.put_u64(*expected as u64);
                out.put("-byte buffer, not ");
                out.put_u64(*got as u64);
                out.put(" bytes");
            }
            CallError::WrongReply { path } => {
                out.put("the answer of ");
                out.put(path);
                out.put(" decodes into that endpoint's reply");
            }
        }
    }
}

display_by_describe!(CallError);

impl core::error::Error for CallError {}

impl From<HttpError> for CallError {
    fn from(e: HttpError) -> Self {
        CallError::Http(e)
    }
}

impl Call {
    /// Encodes the whole signed request for `request` into `buf`: request line, Host, the
    /// seven X-KM headers and the body, sealed as JWE (`{"encData":..}`) exactly when the
    /// endpoint's request is Encrypted, with `crypto`'s key wrap and randomness. The same
    /// buffer then receives the answer: [`crate::request::BUFFER_PLAIN`] suffices for every
    /// plain exchange, [`crate::request::BUFFER_ENCRYPTED`] for every JWE one.
    ///
    /// On failure nothing of the request is left in `buf` (it is wiped whole) and nothing can
    /// be sent.
    pub fn new<R: Request>(
        session: &Session,
        stamp: &Stamp,
        request: &R,
        crypto: impl Crypto,
        buf: &mut [u8],
    ) -> Result<Call, EncodeError> {
        match encode_request(session, stamp, request, crypto, buf) {
            Ok(e) => Ok(Call {
                path: <R::Endpoint as crate::api::Endpoint>::PATH,
                len: e.len,
                body: e.body,
                correlation_id: e.headers.correlation_id,
                capacity: buf.len(),
                written: 0,
                state: State::Writing,
                owner: None,
            }),
            Err(e) => {
                buf.zeroize();
                Err(e)
            }
        }
    }

    /// The request's `X-KM-Correlation-Id` (to log; the platform echoes it).
    pub fn correlation_id(&self) -> &CorrelationId {
        &self.correlation_id
    }

    /// The endpoint's path (after the base path).
    pub fn path(&self) -> &'static str {
        self.path
    }

    /// The request's length, and where its body is in the buffer (while it is there).
    pub fn request_layout(&self) -> (usize, Range<usize>) {
        (self.len, self.body.clone())
    }

    /// The request bytes still to write (empty once all are written, or in any later step).
    pub fn outgoing<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        match self.state {
            State::Writing if buf.len() == self.capacity => {
                buf.get(self.written..self.len).unwrap_or(&[])
            }
            _ => &[],
        }
    }

    /// The transport took the first `n` bytes of [`Call::outgoing`]. Once the whole request
    /// is written it is wiped from the buffer and the call waits for the answer.
    pub fn sent(&mut self, buf: &mut [u8], n: usize) -> Result<(), CallError> {
        self.same_buffer(buf)?;
        if !matches!(self.state, State::Writing) {
            return Err(CallError::OutOfOrder { step: "sent" });
        }
        if n == 0 && self.written < self.len {
            self.fail(buf);
            return Err(CallError::WriteZero);
        }
        self.written = self.written.saturating_add(n).min(self.len);
        if self.written == self.len {
            if let Some(request) = buf.get_mut(..self.len) {
                request.zeroize();
            }
            self.state = State::Reading(ResponseReader::new());
        }
        Ok(())
    }

    /// Where the next bytes read must go: right after what has arrived. A response that
    /// cannot fit is an error before anything more is read (and the buffer is wiped).
    pub fn incoming<'b>(&mut self, buf: &'b mut [u8]) -> Result<&'b mut [u8], CallError> {
        self.same_buffer(buf)?;
        let spare = match &self.state {
            State::Reading(r) | State::Complete(r) => r.spare(self.capacity),
            _ => return Err(CallError::OutOfOrder { step: "incoming" }),
        };
        match spare {
            Ok(range) => Ok(buf.get_mut(range).unwrap_or(&mut [])),
            Err(e) => {
                self.fail(buf);
                Err(e.into())
            }
        }
    }

    /// `n` bytes arrived in [`Call::incoming`]; `0` means the peer closed the connection.
    pub fn received(&mut self, buf: &mut [u8], n: usize) -> Result<Progress, CallError> {
        if n == 0 {
            return self.closed(buf);
        }
        self.step(buf, "received", |r, buf| r.received(buf, n))
    }

    /// The peer closed the connection: a body that runs until the close is complete now;
    /// anything else incomplete is [`HttpError::Closed`].
    pub fn closed(&mut self, buf: &mut [u8]) -> Result<Progress, CallError> {
        self.step(buf, "closed", ResponseReader::closed)
    }

    fn step(
        &mut self,
        buf: &mut [u8],
        step: &'static str,
        f: impl FnOnce(&mut ResponseReader, &mut [u8]) -> Result<Progress, HttpError>,
    ) -> Result<Progress, CallError> {
        self.same_buffer(buf)?;
        let r = match &mut self.state {
            State::Complete(_) => return Ok(Progress::Complete),
            State::Reading(r) => f(r, buf),
            _ => return Err(CallError::OutOfOrder { step }),
        };
        match r {
            Ok(Progress::NeedMore) => Ok(Progress::NeedMore),
            Ok(Progress::Complete) => {
                if let State::Reading(r) = core::mem::replace(&mut self.state, State::Ended) {
                    self.state = State::Complete(r);
                }
                Ok(Progress::Complete)
            }
            Err(e) => {
                self.fail(buf);
                Err(e.into())
            }
        }
    }

    /// Whether the call ended: decoded, failed or aborted (the buffer holds nothing of it).
    pub fn has_ended(&self) -> bool {
        matches!(self.state, State::Ended)
    }

    /// Whether the whole response is in the buffer, ready for [`Call::finish`].
    pub fn is_complete(&self) -> bool {
        matches!(self.state, State::Complete(_))
    }

    /// Decodes the answer into `reply` (the reply of the call's endpoint): an `encData` body
    /// is decrypted in place first with `crypto`'s key unwrap (any endpoint may answer
    /// encrypted). Then every byte of the response, and the plaintext, is wiped from the
    /// buffer, whatever the outcome. A non-success result code is not an error: it is in the
    /// reply's `code`, with no `body`.
    pub fn finish(
        &mut self,
        buf: &mut [u8],
        mut crypto: impl Crypto,
        reply: &mut dyn AnyReply,
    ) -> Result<Answered, CallError> {
        self.finish_dyn(buf, &mut crypto, reply)
    }

    /// [`Call::finish`], once for every endpoint and crypto.
    #[inline(never)]
    fn finish_dyn(
        &mut self,
        buf: &mut [u8],
        crypto: &mut dyn Crypto,
        reply: &mut dyn AnyReply,
    ) -> Result<Answered, CallError> {
        self.same_buffer(buf)?;
        let State::Complete(r) = &self.state else {
            return Err(CallError::OutOfOrder { step: "finish" });
        };
        if reply.endpoint_path() != self.path {
            return Err(CallError::WrongReply { path: self.path });
        }
        let Some((head, body)) = r.response() else {
            return Err(CallError::OutOfOrder { step: "finish" });
        };
        let region = buf.get_mut(body).unwrap_or(&mut []);
        let decoded = open_body(region, crypto).and_then(|(encrypted, plain)| {
            let plain = region.get(plain).unwrap_or(&[]);
            reply.decode_plain(plain).map(|()| encrypted)
        });
        self.fail(buf);
        match decoded {
            Ok(encrypted) => Ok(Answered { head, encrypted }),
            Err(error) => Err(CallError::Body {
                status: head.status,
                error,
            }),
        }
    }

    /// The transport failed (or the caller gives up): wipes what the call left in the buffer
    /// and says whether the request may have reached the platform. Safe to call at any step,
    /// and more than once; a call that ended says what it said before.
    pub fn abort(&mut self, buf: &mut [u8]) -> Delivery {
        if buf.len() == self.capacity {
            self.fail(buf);
        }
        self.delivery()
    }

    /// Whether the request may have reached the platform: [`Delivery::NotSent`] until the
    /// transport took its first byte.
    pub fn delivery(&self) -> Delivery {
        if self.written == 0 {
            Delivery::NotSent
        } else {
            Delivery::MaybeReceived
        }
    }

    /// Wipes every byte the call used and ends it.
    fn fail(&mut self, buf: &mut [u8]) {
        let used = match &self.state {
            State::Writing => self.len,
            State::Reading(r) | State::Complete(r) => r.used_len(),
            State::Ended => 0,
        };
        if let Some(b) = buf.get_mut(..used) {
            b.zeroize();
        }
        self.state = State::Ended;
    }

    /// Whether `buf` is the length of the buffer the call was made in: every step wants the
    /// same buffer ([`CallError::Buffer`] otherwise; [`Call::abort`] and [`Call::outgoing`]
    /// just do nothing with another).
    pub fn check_buffer(&self, buf: &[u8]) -> Result<(), CallError> {
        self.same_buffer(buf)
    }

    fn same_buffer(&self, buf: &[u8]) -> Result<(), CallError> {
        if buf.len() == self.capacity {
            Ok(())
        } else {
            Err(CallError::Buffer {
                expected: self.capacity,
                got: buf.len(),
            })
        }
    }
}
