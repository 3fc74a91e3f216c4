//! HTTP/1.1 framing, sans-IO: the request head we write, and [`ResponseReader`], which reads a
//! response arriving in pieces into the caller's buffer (head parsed once, body by
//! `Content-Length`, `chunked` decoded in place as it arrives, or until the peer closes).

use crate::base::describe::{Describe, Sink, display_by_describe};

use crate::field::{CorrelationId, CryptoKeyId};

mod chunked;
mod head;
mod reader;

pub use crate::base::limits::MAX_RESPONSE_HEADERS;
pub use chunked::ChunkedDecoder;
pub(crate) use head::HeadWriter;
pub use head::parse_response_head;
pub use reader::{Progress, ResponseReader};

/// What was wrong with the HTTP framing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum HttpError {
    /// The status line or a header line is malformed (`what` says which part).
    Syntax {
        /// The part: "status", "header name", "header value", "version", "new line", "token".
        what: &'static str,
    },
    /// More than [`MAX_RESPONSE_HEADERS`] header lines.
    TooManyHeaders,
    /// The response head does not fit the buffer.
    HeadTooLarge {
        /// Buffer capacity.
        capacity: usize,
    },
    /// A header the SDK reads has a value outside its format.
    InvalidHeader {
        /// Header name.
        name: &'static str,
        /// The expected format.
        limit: &'static str,
    },
    /// Both `Content-Length` and `Transfer-Encoding`, or two different lengths.
    ConflictingFraming,
    /// A `Transfer-Encoding` other than `chunked`.
    UnsupportedTransferEncoding,
    /// A malformed chunk-size line or chunk terminator.
    InvalidChunk,
    /// An informational (1xx) response, which this client never asks for.
    UnexpectedInformational {
        /// The status.
        status: u16,
    },
    /// The response body does not fit the buffer.
    BodyTooLarge {
        /// Bytes needed (head + body) when announced by `Content-Length`; 0 for a chunked body
        /// or one that runs until the peer closes.
        needed: usize,
        /// Buffer capacity.
        capacity: usize,
    },
    /// The peer closed the connection before the response was complete.
    Closed {
        /// Bytes of the response received (head included).
        received: usize,
    },
}

impl Describe for HttpError {
    fn describe(&self, out: &mut dyn Sink) {
        let n = |out: &mut dyn Sink, n: usize| out.put_u64(n as u64);
        match self {
            HttpError::Syntax { what } => {
                out.put("malformed response ");
                out.put(what);
            }
            HttpError::TooManyHeaders => {
                out.put("more than ");
                n(out, MAX_RESPONSE_HEADERS);
                out.put(" headers");
            }
            HttpError::HeadTooLarge { capacity } => {
                out.put("response head larger than the ");
                n(out, *capacity);
                out.put("-byte buffer");
            }
            HttpError::InvalidHeader { name, limit } => {
                out.put("header ");
                out.put(name);
                out.put(": must be ");
                out.put(limit);
            }
            HttpError::ConflictingFraming => {
                out.put("conflicting Content-Length / Transfer-Encoding headers")
            }
            HttpError::UnsupportedTransferEncoding => {
                out.put("unsupported Transfer-Encoding (only chunked)")
            }
            HttpError::InvalidChunk => out.put("malformed chunked body"),
            HttpError::UnexpectedInformational { status } => {
                out.put("unexpected informational status ");
                out.put_u64(u64::from(*status));
            }
            HttpError::BodyTooLarge { needed, capacity } if *needed > 0 => {
                out.put("response of ");
                n(out, *needed);
                out.put(" bytes does not fit the ");
                n(out, *capacity);
                out.put("-byte buffer");
            }
            HttpError::BodyTooLarge { capacity, .. } => {
                out.put("response body does not fit the ");
                n(out, *capacity);
                out.put("-byte buffer");
            }
            HttpError::Closed { received } => {
                out.put("connection closed after ");
                n(out, *received);
                out.put(" bytes of the response");
            }
        }
    }
}

display_by_describe!(HttpError);

impl core::error::Error for HttpError {}

/// How the response body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Framing {
    /// `Content-Length: n`.
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Neither: the body runs until the peer closes.
    UntilClose,
}

/// A parsed response head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ResponseHead {
    /// HTTP status code.
    pub status: u16,
    /// Length of the head including the blank line; the body starts here.
    pub head_len: usize,
    /// Body framing.
    pub framing: Framing,
    /// `X-KM-Correlation-Id` echoed by the platform.
    pub correlation_id: Option<CorrelationId>,
    /// `X-KM-Crypto-Key-Id` of an encrypted response.
    pub crypto_key_id: Option<CryptoKeyId>,
    /// `Connection: close`.
    pub close: bool,
}
