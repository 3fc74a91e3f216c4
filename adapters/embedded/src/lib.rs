//! # konaplate-embedded
//!
//! A `no_std`, allocation-free KONA PLATE client over the firmware's own TCP or TLS socket:
//! blocking at the crate root, over any [`embedded_io::Read`] + [`embedded_io::Write`] stream
//! (ESP-IDF, RTOS and bare sockets), and async in `asynch` (feature `async`), over any
//! `embedded_io_async` stream (Embassy). Both are the same few lines, written out twice: a
//! loop that moves the bytes of the core's [`Call`] ([`exchange`]), and a loop that carries out
//! what the money flow asks ([`drive`]). Encoding, signing, JWE, framing, decoding and the
//! exactly-once rules are all the core's ([`konaplate_core::call`], [`konaplate_core::flow`]);
//! this crate only moves bytes:
//!
//! * the request the call encoded into the caller's buffer is written (a stream that accepts
//!   zero bytes is an error, never a panic), then wiped from the buffer;
//! * the response is read into the same buffer where the call says: head parsed once, body by
//!   `Content-Length`, `chunked` decoded in place, or until the peer closes; tiny reads, a
//!   peer that closes early, a head or body larger than the buffer: typed errors;
//! * the call decrypts an `encData` body in place through the caller's key unwrap (a secure
//!   element or software, behind the core's [`Crypto`]), decodes it, and wipes the buffer.
//!
//! ```no_run
//! # use konaplate_core::prelude::*;
//! # use konaplate_core::{api::*, field::*};
//! # fn demo<S: embedded_io::Read + embedded_io::Write>(socket: &mut S, session: &Session,
//! #     stamp: &Stamp) -> Result<(), konaplate_embedded::Error<S::Error>> {
//! let mut buf = [0u8; konaplate_embedded::BUFFER_ENCRYPTED];
//! let req = ChargeResultRequest { sequence_id: SequenceId::new("KP-1").unwrap() };
//! let mut reply = ReplyOf::<ChargeResultInquiry>::empty();
//! konaplate_embedded::call_into(socket, session, stamp, &req, NoCrypto, &mut buf, &mut reply)?;
//! if let Some(r) = reply.body {
//!     let _final = r.result.is_final();
//! }
//! # Ok(()) }
//! ```
//!
//! Money — a charge, a cancellation, a refund — goes through [`drive`] (or
//! `asynch::drive`), which runs the core's [`Flow`](konaplate_core::flow::Flow) to the
//! platform's real outcome over your [`Till`]: its clock, a connection per call, and durable
//! storage for the flow's record, written before every send.
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

pub use konaplate_core::call::{Answered, Call, CallError, Delivery, Progress};
use konaplate_core::error::EncodeError;
pub use konaplate_core::jwe::{Crypto, Keys, NoCrypto};
pub use konaplate_core::request::{BUFFER_ENCRYPTED, BUFFER_PLAIN};

mod blocking;

pub mod journal;
pub mod money;
#[cfg(feature = "rsa")]
pub mod rsa;
#[cfg(feature = "tls")]
pub mod tls;

#[cfg(feature = "async")]
pub mod asynch;

pub use blocking::{Till, call, call_into, call_without_journal, complete, drive, exchange};

/// A decoded exchange: what came with the answer (status, headers, whether it was encrypted)
/// and the reply.
pub type Exchange<E> = (Answered, konaplate_core::api::ReplyOf<E>);

/// What went wrong with one exchange. [`Error::outcome_unknown`] says whether the platform
/// may have processed the request.
#[derive(Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error<E> {
    /// The request could not be encoded: nothing was sent.
    Encode(EncodeError),
    /// Writing the request failed (it may have been partly sent).
    Write(E),
    /// Reading the response failed.
    Read(E),
    /// The call stopped: the stream took zero bytes ([`CallError::WriteZero`]), the response
    /// did not fit ([`konaplate_core::http::HttpError::HeadTooLarge`],
    /// [`konaplate_core::http::HttpError::BodyTooLarge`]), the peer closed early
    /// ([`konaplate_core::http::HttpError::Closed`]), malformed framing, or an answer that does
    /// not decode ([`CallError::Body`]).
    Call(CallError),
}

impl<E> Error<E> {
    /// `true` when the request may have reached the platform: only an encoding failure is
    /// certain to have sent nothing here (a failed connect is the caller's, before the call;
    /// the money driver tells a call that never wrote a byte from one that did).
    pub fn outcome_unknown(&self) -> bool {
        !matches!(self, Error::Encode(_))
    }
}

impl<E: fmt::Debug> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Encode(e) => write!(f, "request not sent: {e}"),
            Error::Write(e) => write!(f, "write failed: {e:?}"),
            Error::Read(e) => write!(f, "read failed: {e:?}"),
            Error::Call(e) => fmt::Display::fmt(e, f),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for Error<E> {}

impl<E> From<CallError> for Error<E> {
    fn from(e: CallError) -> Self {
        Error::Call(e)
    }
}
