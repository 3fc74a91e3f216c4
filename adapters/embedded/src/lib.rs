//! # konaplate-embedded
//!
//! A `no_std`, allocation-free, blocking KONA PLATE client over any
//! [`embedded_io::Read`] + [`embedded_io::Write`] stream — the firmware's own TCP or TLS
//! socket. All encoding, signing, JWE and decoding is done by [`konaplate_core`]; this crate
//! only moves bytes:
//!
//! * the request is encoded into the caller's buffer and written (a stream that accepts zero
//!   bytes is an error, never a panic);
//! * the response is read into the same buffer: the head is parsed once, when its blank line
//!   has arrived (no quadratic re-parsing on slow links), then the body by `Content-Length`,
//!   `chunked` (decoded in place while it arrives) or until the peer closes;
//! * responses split across any number of tiny reads, a peer that closes early, a head or body
//!   larger than the buffer: typed errors, never panics;
//! * an `encData` body is decrypted in place through the caller's key unwrap (a secure
//!   element or software, behind the core's [`Crypto`]), and decoded as the ordinary
//!   envelope; the core decides when to encrypt and decrypt, this crate never does.
//!
//! ```no_run
//! # use konaplate_core::prelude::*;
//! # use konaplate_core::{api::*, field::*};
//! # fn demo<S: embedded_io::Read + embedded_io::Write>(socket: &mut S, session: &Session,
//! #     stamp: &Stamp) -> Result<(), konaplate_embedded::Error<S::Error>> {
//! let mut buf = [0u8; konaplate_embedded::BUFFER_ENCRYPTED];
//! let req = ChargeResultRequest { sequence_id: SequenceId::new("KP-1").unwrap() };
//! let x = konaplate_embedded::call(socket, session, stamp, &req, NoCrypto, &mut buf)?;
//! if let Some(r) = x.reply.body {
//!     let _final = r.result.is_final();
//! }
//! # Ok(()) }
//! ```
//!
//! # Features
//!
//! | feature | default | what it does |
//! |---|---|---|
//! | `a256gcm` | yes | accept A256GCM-encrypted answers (the core's feature) |
//! | `compact` | no | the core's smaller SHA-256 |
//! | `defmt` | no | `defmt::Format` for the public types (secrets redacted) |
//! | `serde` | no | `Serialize`/`Deserialize` for the core's types (no_std) |
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)
)]
#![allow(clippy::result_large_err, clippy::large_enum_variant)]

use core::fmt;
use core::ops::Range;

use embedded_io::{Read, Write};
use konaplate_core::api::{Endpoint, ReplyOf, Request};
use konaplate_core::error::{DecodeError, EncodeError};
use konaplate_core::http::{HttpError, Progress, ResponseHead, ResponseReader};
pub use konaplate_core::jwe::{Crypto, Keys, NoCrypto};
use konaplate_core::message::decode_reply;
pub use konaplate_core::request::{BUFFER_ENCRYPTED, BUFFER_PLAIN};
use konaplate_core::request::{EncodedRequest, Session, Stamp, encode_request};
use konaplate_core::response::open_body;

/// What went wrong. [`Error::outcome_unknown`] says whether the platform may have processed
/// the request.
#[derive(Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error<E> {
    /// The request could not be encoded: nothing was sent.
    Encode(EncodeError),
    /// Writing the request failed (it may have been partly sent).
    Write(E),
    /// The stream accepted zero bytes while writing.
    WriteZero,
    /// Reading the response failed.
    Read(E),
    /// The peer closed the connection before the response was complete.
    Closed {
        /// Bytes of the response received (head included).
        received: usize,
    },
    /// The response head does not fit the buffer.
    HeadTooLarge {
        /// Buffer capacity.
        capacity: usize,
    },
    /// The response body does not fit the buffer.
    BodyTooLarge {
        /// Bytes needed (head + body), when announced (0 for chunked or until-close bodies).
        needed: usize,
        /// Buffer capacity.
        capacity: usize,
    },
    /// Malformed HTTP framing.
    Http(HttpError),
    /// The body could not be decoded (or decrypted).
    Decode(DecodeError),
}

impl<E> Error<E> {
    fn from_http(e: HttpError) -> Self {
        match e {
            HttpError::HeadTooLarge { capacity } => Error::HeadTooLarge { capacity },
            HttpError::BodyTooLarge { needed, capacity } => Error::BodyTooLarge { needed, capacity },
            HttpError::Closed { received } => Error::Closed { received },
            e => Error::Http(e),
        }
    }

    /// `true` when the request may have reached the platform: only an encoding failure is
    /// certain to have sent nothing. (A failed connect is the caller's, before `call`.)
    pub fn outcome_unknown(&self) -> bool {
        !matches!(self, Error::Encode(_))
    }
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Encode(e) => write!(f, "request not sent: {e}"),
            Error::Write(e) => write!(f, "write failed: {e:?}"),
            Error::WriteZero => f.write_str("the stream accepted zero bytes"),
            Error::Read(e) => write!(f, "read failed: {e:?}"),
            Error::Closed { received } => {
                write!(f, "connection closed after {received} bytes of the response")
            }
            Error::HeadTooLarge { capacity } => {
                write!(f, "response head larger than the {capacity}-byte buffer")
            }
            Error::BodyTooLarge { needed, capacity } if *needed > 0 => {
                write!(f, "response of {needed} bytes does not fit the {capacity}-byte buffer")
            }
            Error::BodyTooLarge { capacity, .. } => {
                write!(f, "response body does not fit the {capacity}-byte buffer")
            }
            Error::Http(e) => write!(f, "HTTP: {e}"),
            Error::Decode(e) => write!(f, "decode: {e}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {}

/// A complete response as read: status, framing, and where the (plaintext) body is.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RawResponse {
    /// The parsed head.
    pub head: ResponseHead,
    /// The body's bytes in the buffer (decrypted in place when it was `encData`).
    pub body: Range<usize>,
    /// The body was JWE-encrypted.
    pub encrypted: bool,
}

/// A decoded exchange.
#[derive(Debug)]
pub struct Exchange<E: Endpoint> {
    /// HTTP status and the X-KM response headers.
    pub head: ResponseHead,
    /// The request's headers (the Correlation-Id to log).
    pub sent: EncodedRequest,
    /// The response body was JWE-encrypted.
    pub encrypted: bool,
    /// The envelope and fields.
    pub reply: ReplyOf<E>,
}

/// Writes all of `bytes`; a stream that accepts zero bytes is an error (never a panic).
pub fn write_all<S: Write>(stream: &mut S, mut bytes: &[u8]) -> Result<(), Error<S::Error>> {
    while !bytes.is_empty() {
        match stream.write(bytes) {
            Ok(0) => return Err(Error::WriteZero),
            Ok(n) => bytes = bytes.get(n..).unwrap_or(&[]),
            Err(e) => return Err(Error::Write(e)),
        }
    }
    stream.flush().map_err(Error::Write)
}

/// Reads one HTTP/1.1 response from `stream` into `buf`: the I/O around the core's
/// [`ResponseReader`], which does all the framing.
pub fn read_response<S: Read>(stream: &mut S, buf: &mut [u8]) -> Result<(ResponseHead, Range<usize>), Error<S::Error>> {
    let mut reader = ResponseReader::new();
    loop {
        let spare = reader.spare(buf.len()).map_err(Error::from_http)?;
        let progress = match stream.read(buf.get_mut(spare).unwrap_or(&mut [])) {
            Ok(0) => reader.closed(buf),
            Ok(n) => reader.received(buf, n),
            Err(e) => return Err(Error::Read(e)),
        };
        if let Progress::Complete { head, body } = progress.map_err(Error::from_http)? {
            return Ok((head, body));
        }
    }
}

/// Sends `req` over `stream` and returns the raw response (decrypted in place when the body
/// is `encData`), for callers that feed the exactly-once flow ([`konaplate_core::flow`]) with
/// [`konaplate_core::flow::Event::Response`].
pub fn call_raw<R: Request, S: Read + Write, C: Crypto>(
    stream: &mut S,
    session: &Session,
    stamp: &Stamp,
    req: &R,
    mut crypto: C,
    buf: &mut [u8],
) -> Result<(EncodedRequest, RawResponse), Error<S::Error>> {
    let sent = encoded(encode_request(session, stamp, req, &mut crypto, buf), buf)?;
    let raw = transact(stream, sent.len, &mut crypto, buf)?;
    Ok((sent, raw))
}

/// An encoding failure sends nothing and leaves nothing: a partly written request may hold
/// secrets.
fn encoded<E>(r: Result<EncodedRequest, EncodeError>, buf: &mut [u8]) -> Result<EncodedRequest, Error<E>> {
    r.map_err(|e| {
        buf.fill(0);
        Error::Encode(e)
    })
}

/// A decrypted plaintext may hold secrets (a one-time token, a DCVV): wipe it from `buf`.
fn wipe_plaintext(buf: &mut [u8], raw: &RawResponse) {
    if let (true, Some(b)) = (raw.encrypted, buf.get_mut(raw.body.clone())) {
        b.fill(0);
    }
}

/// The endpoint-independent part of an exchange (one copy per stream type, not per endpoint):
/// write the encoded request, read the response, decrypt an `encData` body in place (the
/// core decides).
fn transact<S: Read + Write>(
    stream: &mut S,
    sent_len: usize,
    crypto: &mut dyn Crypto,
    buf: &mut [u8],
) -> Result<RawResponse, Error<S::Error>> {
    let written = write_all(stream, buf.get(..sent_len).unwrap_or(&[]));
    // the request may carry a one-time token and a DCVV in plaintext: never leave it in the
    // buffer, whatever the write did
    if let Some(b) = buf.get_mut(..sent_len) {
        b.fill(0);
    }
    written?;
    let (head, body) = read_response(stream, buf)?;
    let region = buf.get_mut(body.clone()).unwrap_or(&mut []);
    let (encrypted, plain) = open_body(region, crypto).map_err(Error::Decode)?;
    let body = body.start + plain.start..body.start + plain.end;
    Ok(RawResponse { head, body, encrypted })
}

/// What [`call_into`] sent and received besides the reply.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Sent {
    /// The request's headers and layout (the Correlation-Id to log).
    pub request: EncodedRequest,
    /// HTTP status and the X-KM response headers.
    pub head: ResponseHead,
    /// The response body was JWE-encrypted.
    pub encrypted: bool,
}

/// Like [`call`], decoding into caller-owned storage: `out` is overwritten in place, so no
/// reply is ever copied (the leanest path in flash and stack).
pub fn call_into<R: Request, S: Read + Write, C: Crypto>(
    stream: &mut S,
    session: &Session,
    stamp: &Stamp,
    req: &R,
    mut crypto: C,
    buf: &mut [u8],
    out: &mut ReplyOf<R::Endpoint>,
) -> Result<Sent, Error<S::Error>> {
    // only these two closures depend on the endpoint; everything else is one copy per stream
    let mut encode = |buf: &mut [u8], crypto: &mut dyn Crypto| encode_request(session, stamp, req, crypto, buf);
    let mut decode = |body: &[u8]| konaplate_core::message::decode_body_into(body, out);
    exchange(stream, &mut encode, &mut crypto, buf, &mut decode)
}

type EncodeFn<'a> = dyn FnMut(&mut [u8], &mut dyn Crypto) -> Result<EncodedRequest, EncodeError> + 'a;
type DecodeFn<'a> = dyn FnMut(&[u8]) -> Result<Option<Range<usize>>, DecodeError> + 'a;

/// The endpoint-independent exchange behind [`call_into`].
fn exchange<S: Read + Write>(
    stream: &mut S,
    encode: &mut EncodeFn<'_>,
    crypto: &mut dyn Crypto,
    buf: &mut [u8],
    decode: &mut DecodeFn<'_>,
) -> Result<Sent, Error<S::Error>> {
    let request = encoded(encode(buf, crypto), buf)?;
    let raw = transact(stream, request.len, crypto, buf)?;
    let res = decode(buf.get(raw.body.clone()).unwrap_or(&[]));
    wipe_plaintext(buf, &raw);
    match res {
        Ok(None) => Ok(Sent { request, head: raw.head, encrypted: raw.encrypted }),
        Ok(Some(_)) => Err(Error::Decode(DecodeError::Encrypted)),
        Err(e) => Err(Error::Decode(e)),
    }
}

/// Sends `req` over `stream` and decodes the reply. `buf` holds the request and then the
/// response ([`BUFFER_PLAIN`] or [`BUFFER_ENCRYPTED`] bytes suffice).
pub fn call<R: Request, S: Read + Write, C: Crypto>(
    stream: &mut S,
    session: &Session,
    stamp: &Stamp,
    req: &R,
    crypto: C,
    buf: &mut [u8],
) -> Result<Exchange<R::Endpoint>, Error<S::Error>> {
    let (sent, raw) = call_raw(stream, session, stamp, req, crypto, buf)?;
    let body = buf.get(raw.body.clone()).unwrap_or(&[]);
    let reply = decode_reply(body);
    wipe_plaintext(buf, &raw);
    let reply = reply.map_err(Error::Decode)?;
    Ok(Exchange { head: raw.head, sent, encrypted: raw.encrypted, reply })
}
