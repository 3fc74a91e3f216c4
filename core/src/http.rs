//! HTTP/1.1 framing: the request head we send, the response head we read (httparse), and
//! body framing (Content-Length or chunked, decoded in place).

use core::fmt;
use core::ops::Range;

use crate::field::{CorrelationId, CryptoKeyId};

pub use crate::base::limits::MAX_RESPONSE_HEADERS;

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
    /// The connection ended before the body was complete.
    Truncated {
        /// Body bytes expected (0 when unknown, for chunked bodies).
        expected: usize,
        /// Body bytes received.
        received: usize,
    },
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Syntax { what } => write!(f, "malformed response {what}"),
            HttpError::TooManyHeaders => write!(f, "more than {MAX_RESPONSE_HEADERS} headers"),
            HttpError::HeadTooLarge { capacity } => {
                write!(f, "response head larger than the {capacity}-byte buffer")
            }
            HttpError::InvalidHeader { name, limit } => write!(f, "header {name}: must be {limit}"),
            HttpError::ConflictingFraming => {
                f.write_str("conflicting Content-Length / Transfer-Encoding headers")
            }
            HttpError::UnsupportedTransferEncoding => {
                f.write_str("unsupported Transfer-Encoding (only chunked)")
            }
            HttpError::InvalidChunk => f.write_str("malformed chunked body"),
            HttpError::UnexpectedInformational { status } => {
                write!(f, "unexpected informational status {status}")
            }
            HttpError::Truncated { expected, received } if *expected > 0 => {
                write!(f, "body truncated: {received} of {expected} bytes")
            }
            HttpError::Truncated { received, .. } => {
                write!(f, "chunked body truncated after {received} bytes")
            }
        }
    }
}

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

fn syntax(e: httparse::Error) -> HttpError {
    match e {
        httparse::Error::TooManyHeaders => HttpError::TooManyHeaders,
        httparse::Error::HeaderName => HttpError::Syntax {
            what: "header name",
        },
        httparse::Error::HeaderValue => HttpError::Syntax {
            what: "header value",
        },
        httparse::Error::NewLine => HttpError::Syntax { what: "new line" },
        httparse::Error::Status => HttpError::Syntax { what: "status" },
        httparse::Error::Token => HttpError::Syntax { what: "token" },
        httparse::Error::Version => HttpError::Syntax { what: "version" },
    }
}

fn trim(v: &[u8]) -> &[u8] {
    let start = v
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(v.len());
    let end = v
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    v.get(start..end).unwrap_or(&[])
}

/// Parses a response head from the start of `buf`. `Ok(None)` means the head is not complete
/// yet (read more); the caller decides how much buffer it allows ([`HttpError::HeadTooLarge`]).
pub fn parse_response_head(buf: &[u8]) -> Result<Option<ResponseHead>, HttpError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_RESPONSE_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let head_len = match resp.parse(buf).map_err(syntax)? {
        httparse::Status::Complete(n) => n,
        httparse::Status::Partial => return Ok(None),
    };
    let status = resp.code.unwrap_or(0);
    if (100..200).contains(&status) {
        return Err(HttpError::UnexpectedInformational { status });
    }
    let mut length: Option<usize> = None;
    let mut chunked = false;
    let mut close = false;
    let mut correlation_id = None;
    let mut crypto_key_id = None;
    for h in resp.headers.iter() {
        let v = trim(h.value);
        if h.name.eq_ignore_ascii_case("content-length") {
            let n = crate::base::ascii::parse_u64_digits(v)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or(HttpError::InvalidHeader {
                    name: "Content-Length",
                    limit: "decimal digits",
                })?;
            if length.is_some_and(|l| l != n) {
                return Err(HttpError::ConflictingFraming);
            }
            length = Some(n);
        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
            if v.eq_ignore_ascii_case(b"chunked") {
                chunked = true;
            } else if !v.eq_ignore_ascii_case(b"identity") {
                return Err(HttpError::UnsupportedTransferEncoding);
            }
        } else if h.name.eq_ignore_ascii_case("connection") {
            close = v.eq_ignore_ascii_case(b"close");
        } else if h.name.eq_ignore_ascii_case("x-km-correlation-id") {
            correlation_id =
                Some(
                    CorrelationId::from_bytes(v).map_err(|e| HttpError::InvalidHeader {
                        name: CorrelationId::API_NAME,
                        limit: e.limit(),
                    })?,
                );
        } else if h.name.eq_ignore_ascii_case("x-km-crypto-key-id") {
            crypto_key_id =
                Some(
                    CryptoKeyId::from_bytes(v).map_err(|e| HttpError::InvalidHeader {
                        name: CryptoKeyId::API_NAME,
                        limit: e.limit(),
                    })?,
                );
        }
    }
    let framing = match (chunked, length) {
        (true, Some(_)) => return Err(HttpError::ConflictingFraming),
        (true, None) => Framing::Chunked,
        (false, Some(n)) => Framing::Length(n),
        // 204/304 have no body
        (false, None) if status == 204 || status == 304 => Framing::Length(0),
        (false, None) => Framing::UntilClose,
    };
    Ok(Some(ResponseHead {
        status,
        head_len,
        framing,
        correlation_id,
        crypto_key_id,
        close,
    }))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum ChunkState {
    Size { val: u64, digits: u8 },
    Ext { val: u64 },
    SizeLf { val: u64 },
    Data { left: u64 },
    DataCr,
    DataLf,
    TrailerStart,
    TrailerLine,
    TrailerLf,
    FinalLf,
    Done,
}

/// Incremental decoder of a chunked body. It works in place: body bytes are moved down over
/// the framing bytes, so input and output share one buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ChunkedDecoder {
    state: ChunkState,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkedDecoder {
    /// A decoder at the start of a chunked body.
    pub const fn new() -> Self {
        Self {
            state: ChunkState::Size { val: 0, digits: 0 },
        }
    }

    /// `true` after the last chunk and the trailer were consumed.
    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Decodes the encoded bytes `buf[read.clone()]`, writing decoded body bytes at
    /// `buf[*write..]` (`*write <= read.start`). Returns how many encoded bytes were consumed
    /// (all of them unless the body ended). `*write` advances by the bytes produced.
    pub fn decode(
        &mut self,
        buf: &mut [u8],
        read: Range<usize>,
        write: &mut usize,
    ) -> Result<usize, HttpError> {
        let mut i = read.start;
        let end = read.end.min(buf.len());
        while i < end && self.state != ChunkState::Done {
            if let ChunkState::Data { left } = self.state {
                let n = usize::try_from(left).unwrap_or(usize::MAX).min(end - i);
                // move the data down over the framing (the destination always precedes the
                // source): a forward byte copy, which needs no memmove routine
                for k in 0..n {
                    let b = buf.get(i + k).copied().unwrap_or(0);
                    if let Some(d) = buf.get_mut(*write + k) {
                        *d = b;
                    }
                }
                *write += n;
                i += n;
                let left = left - n as u64;
                self.state = if left == 0 {
                    ChunkState::DataCr
                } else {
                    ChunkState::Data { left }
                };
                continue;
            }
            let b = *buf.get(i).ok_or(HttpError::InvalidChunk)?;
            i += 1;
            self.state = match self.state {
                ChunkState::Size { val, digits } => match b {
                    b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                        if digits >= 15 {
                            return Err(HttpError::InvalidChunk);
                        }
                        let d = u64::from((b as char).to_digit(16).unwrap_or(0));
                        ChunkState::Size {
                            val: val * 16 + d,
                            digits: digits + 1,
                        }
                    }
                    b';' | b' ' | b'\t' if digits > 0 => ChunkState::Ext { val },
                    b'\r' if digits > 0 => ChunkState::SizeLf { val },
                    _ => return Err(HttpError::InvalidChunk),
                },
                ChunkState::Ext { val } => match b {
                    b'\r' => ChunkState::SizeLf { val },
                    b'\n' => return Err(HttpError::InvalidChunk),
                    _ => ChunkState::Ext { val },
                },
                ChunkState::SizeLf { val } => match (b, val) {
                    (b'\n', 0) => ChunkState::TrailerStart,
                    (b'\n', left) => ChunkState::Data { left },
                    _ => return Err(HttpError::InvalidChunk),
                },
                ChunkState::DataCr if b == b'\r' => ChunkState::DataLf,
                ChunkState::DataLf if b == b'\n' => ChunkState::Size { val: 0, digits: 0 },
                ChunkState::TrailerStart if b == b'\r' => ChunkState::FinalLf,
                ChunkState::TrailerStart | ChunkState::TrailerLine if b != b'\r' => {
                    if b == b'\n' {
                        return Err(HttpError::InvalidChunk);
                    }
                    ChunkState::TrailerLine
                }
                ChunkState::TrailerLine => ChunkState::TrailerLf,
                ChunkState::TrailerLf if b == b'\n' => ChunkState::TrailerStart,
                ChunkState::FinalLf if b == b'\n' => ChunkState::Done,
                _ => return Err(HttpError::InvalidChunk),
            };
        }
        Ok(i - read.start)
    }
}

/// For a buffer that holds a whole response (head included): the body's range, after
/// decoding a chunked body in place. `Ok(None)` = incomplete (read more). With
/// [`Framing::UntilClose`] the caller must only call this once the peer has closed; the body
/// is then everything after the head.
pub fn complete_body(
    head: &ResponseHead,
    buf: &mut [u8],
) -> Result<Option<Range<usize>>, HttpError> {
    let start = head.head_len;
    match head.framing {
        Framing::Length(n) => {
            let end = start.checked_add(n).ok_or(HttpError::ConflictingFraming)?;
            Ok(if buf.len() >= end {
                Some(start..end)
            } else {
                None
            })
        }
        Framing::UntilClose => Ok(Some(start..buf.len())),
        Framing::Chunked => {
            let mut dec = ChunkedDecoder::new();
            let mut write = start;
            let len = buf.len();
            dec.decode(buf, start..len, &mut write)?;
            Ok(if dec.is_done() {
                Some(start..write)
            } else {
                None
            })
        }
    }
}

/// A cursor writing the request head.
pub(crate) struct HeadWriter<'b> {
    buf: &'b mut [u8],
    pos: usize,
}

impl<'b> HeadWriter<'b> {
    pub(crate) fn new(buf: &'b mut [u8]) -> Self {
        Self { buf, pos: 0 }
    }
    #[inline]
    pub(crate) fn put(&mut self, b: &[u8]) {
        let end = self.pos + b.len();
        if let Some(dst) = self.buf.get_mut(self.pos..end) {
            dst.copy_from_slice(b);
        }
        self.pos = end;
    }
    #[inline]
    pub(crate) fn header(&mut self, name: &str, value: &[u8]) {
        self.put(name.as_bytes());
        self.put(b": ");
        self.put(value);
        self.put(b"\r\n");
    }
}
