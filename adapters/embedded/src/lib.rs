//! # konaplate-embedded
//!
//! A `no_std`, allocation-free KONA PLATE client over the firmware's own TCP or TLS socket:
//! blocking at the crate root, over any [`embedded_io::Read`] + [`embedded_io::Write`] stream
//! (ESP-IDF, RTOS and bare sockets), and async in `asynch` (feature `async`), over any
//! `embedded_io_async` stream (Embassy). Both are expanded from one source and differ only in
//! their `.await`s. All encoding, signing, JWE, framing and decoding is done by
//! [`konaplate_core`]; this crate only moves bytes:
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
//! | `jwe` | yes | seal Encrypted requests and open `encData` answers (AES-GCM); without it, plain-only and no AES in the image |
//! | `a256gcm` | yes | accept A256GCM-encrypted answers (the core's feature) |
//! | `async` | no | the async client `asynch` (embedded-io-async 0.7) |
//! | `compact` | no | the core's smaller SHA-256 |
//! | `defmt` | no | `defmt::Format` for the public types (secrets redacted) |
//! | `serde` | no | `Serialize`/`Deserialize` for the core's types (no_std) |
#![no_std]
#![forbid(unsafe_code)]

use core::fmt;
use core::ops::Range;

use konaplate_core::api::{Endpoint, ReplyOf};
use konaplate_core::error::{DecodeError, EncodeError};
use konaplate_core::http::{HttpError, ResponseHead};
pub use konaplate_core::jwe::{Crypto, Keys, NoCrypto};
use konaplate_core::message::{DecodeInto, decode_reply};
use konaplate_core::request::EncodedRequest;
pub use konaplate_core::request::{BUFFER_ENCRYPTED, BUFFER_PLAIN};
use konaplate_core::response::open_body;

#[macro_use]
mod client;

#[cfg(feature = "async")]
pub mod asynch;

// The blocking client: the I/O of `client.rs`, without `.await`.
mod blocking {
    use embedded_io::{Read, Write};
    client!();
}
pub use blocking::{call, call_into, call_raw, read_response, send_into, write_all};

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
            HttpError::BodyTooLarge { needed, capacity } => {
                Error::BodyTooLarge { needed, capacity }
            }
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
                write!(
                    f,
                    "connection closed after {received} bytes of the response"
                )
            }
            Error::HeadTooLarge { capacity } => {
                write!(f, "response head larger than the {capacity}-byte buffer")
            }
            Error::BodyTooLarge { needed, capacity } if *needed > 0 => {
                write!(
                    f,
                    "response of {needed} bytes does not fit the {capacity}-byte buffer"
                )
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

// ---- the parts of an exchange that do no I/O, shared by the blocking and async clients ----

/// An encoding failure sends nothing and leaves nothing: a partly written request may hold
/// secrets.
fn encoded<E>(
    r: Result<EncodedRequest, EncodeError>,
    buf: &mut [u8],
) -> Result<EncodedRequest, Error<E>> {
    r.map_err(|e| {
        buf.fill(0);
        Error::Encode(e)
    })
}

/// The request may carry a one-time token and a DCVV in plaintext: never leave it in the
/// buffer, whatever the write did.
fn wipe_request<E>(
    buf: &mut [u8],
    sent_len: usize,
    written: Result<(), Error<E>>,
) -> Result<(), Error<E>> {
    if let Some(b) = buf.get_mut(..sent_len) {
        b.fill(0);
    }
    written
}

/// A decrypted plaintext may hold secrets (a one-time token, a DCVV): wipe it from `buf`.
fn wipe_plaintext(buf: &mut [u8], raw: &RawResponse) {
    if let (true, Some(b)) = (raw.encrypted, buf.get_mut(raw.body.clone())) {
        b.fill(0);
    }
}

/// After the read: decrypt an `encData` body in place (the core decides).
fn open_raw<E>(
    buf: &mut [u8],
    head: ResponseHead,
    body: Range<usize>,
    crypto: &mut dyn Crypto,
) -> Result<RawResponse, Error<E>> {
    let region = buf.get_mut(body.clone()).unwrap_or(&mut []);
    let (encrypted, plain) = open_body(region, crypto).map_err(Error::Decode)?;
    let body = body.start + plain.start..body.start + plain.end;
    Ok(RawResponse {
        head,
        body,
        encrypted,
    })
}

/// After the exchange of `call_into`: decode into the caller's storage, wipe the plaintext.
fn finish_into<E>(
    buf: &mut [u8],
    request: EncodedRequest,
    raw: RawResponse,
    out: &mut dyn DecodeInto,
) -> Result<Sent, Error<E>> {
    let res = out.decode_body(buf.get(raw.body.clone()).unwrap_or(&[]));
    wipe_plaintext(buf, &raw);
    match res {
        Ok(None) => Ok(Sent {
            request,
            head: raw.head,
            encrypted: raw.encrypted,
        }),
        Ok(Some(_)) => Err(Error::Decode(DecodeError::Encrypted)),
        Err(e) => Err(Error::Decode(e)),
    }
}

/// After the exchange of `call`: decode a reply by value, wipe the plaintext.
fn finish<P: Endpoint, E>(
    buf: &mut [u8],
    sent: EncodedRequest,
    raw: RawResponse,
) -> Result<Exchange<P>, Error<E>> {
    let reply = decode_reply(buf.get(raw.body.clone()).unwrap_or(&[]));
    wipe_plaintext(buf, &raw);
    let reply: ReplyOf<P> = reply.map_err(Error::Decode)?;
    Ok(Exchange {
        head: raw.head,
        sent,
        encrypted: raw.encrypted,
        reply,
    })
}
