//! [`ResponseReader`]: one HTTP/1.1 response, arriving in pieces, read into the caller's
//! buffer without I/O of its own (in the manner of rustls' unbuffered API and httparse's
//! `Partial`): the caller asks where to put more bytes ([`ResponseReader::spare`]), reports
//! how many arrived ([`ResponseReader::received`]) or that the peer closed
//! ([`ResponseReader::closed`]), and learns [`Progress::NeedMore`] or
//! [`Progress::Complete`]. Calling again after `NeedMore` is always correct.
//!
//! ```
//! use konaplate_core::http::{Progress, ResponseReader};
//! let response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n";
//! let mut buf = [0u8; 256];
//! let mut reader = ResponseReader::new();
//! let mut input = response.chunks(5); // a socket delivering 5 bytes at a time
//! loop {
//!     let spare = reader.spare(buf.len())?;
//!     let Some(piece) = input.next() else {
//!         reader.closed(&mut buf)?; // complete, or HttpError::Closed
//!         break;
//!     };
//!     buf[spare.start..spare.start + piece.len()].copy_from_slice(piece);
//!     if reader.received(&mut buf, piece.len())? == Progress::Complete {
//!         break;
//!     }
//! }
//! let (head, body) = reader.response().expect("complete");
//! assert_eq!(head.status, 200);
//! assert_eq!(&buf[body], br#"{"a":1}"#);
//! # Ok::<(), konaplate_core::http::HttpError>(())
//! ```

use core::ops::Range;

use super::{ChunkedDecoder, Framing, HttpError, ResponseHead, parse_response_head};

/// Whether a response (or a whole call) is complete: the SDK's one spelling of "not yet".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Progress {
    /// Not complete: read more bytes (into [`ResponseReader::spare`], or the call's
    /// `incoming` region) and report them.
    NeedMore,
    /// Complete: the whole response is in the buffer ([`ResponseReader::response`] says
    /// where).
    Complete,
}

#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
enum State {
    /// Reading the head; the blank line is searched from `scan`.
    Head { scan: usize },
    /// Reading the body. For a chunked body, `chunk` has decoded `buf[head_len..write]` from
    /// the encoded bytes before `pending`.
    Body {
        head: ResponseHead,
        chunk: ChunkedDecoder,
        write: usize,
        pending: usize,
    },
    /// Complete.
    Done {
        head: ResponseHead,
        body: Range<usize>,
    },
}

/// Reads one HTTP/1.1 response into a caller's buffer as it arrives. The head is parsed once,
/// when its blank line has arrived (no re-parsing per read); the body is delimited by
/// `Content-Length`, decoded in place as it arrives when `chunked` (so a small buffer
/// suffices), or runs until the peer closes. A head or body larger than the buffer, a peer
/// closing early, malformed framing: typed [`HttpError`]s, never panics.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ResponseReader {
    state: State,
    /// Bytes of the buffer in use (the head, the decoded body so far, undecoded bytes).
    filled: usize,
    /// Bytes received in all.
    received: usize,
    /// The end of the buffer region any received byte ever reached (what must be wiped).
    high: usize,
}

impl Default for ResponseReader {
    fn default() -> Self {
        Self::new()
    }
}

impl ResponseReader {
    /// A reader for a response arriving in pieces: a chunked body is decoded in place as it
    /// arrives.
    pub const fn new() -> Self {
        Self {
            state: State::Head { scan: 0 },
            filled: 0,
            received: 0,
            high: 0,
        }
    }

    /// Bytes of the response received so far (head included).
    pub fn received_len(&self) -> usize {
        self.received
    }

    /// The end of the part of the buffer the response's bytes ever reached: everything that
    /// must be wiped once the response is no longer needed.
    pub fn used_len(&self) -> usize {
        self.high
    }

    /// The complete response: its head and where its (decoded) body is in the buffer; `None`
    /// before [`Progress::Complete`].
    pub fn response(&self) -> Option<(ResponseHead, Range<usize>)> {
        match &self.state {
            State::Done { head, body } => Some((*head, body.clone())),
            _ => None,
        }
    }

    /// The head, once it has been parsed.
    pub fn head(&self) -> Option<&ResponseHead> {
        match &self.state {
            State::Head { .. } => None,
            State::Body { head, .. } | State::Done { head, .. } => Some(head),
        }
    }

    /// Where in a buffer of `capacity` bytes the next bytes must be read: always right after
    /// what is there. A response that cannot fit is an error before any more is read.
    pub fn spare(&self, capacity: usize) -> Result<Range<usize>, HttpError> {
        let at = self.filled;
        match &self.state {
            State::Head { .. } if at >= capacity => Err(HttpError::HeadTooLarge { capacity }),
            State::Head { .. } => Ok(at..capacity),
            State::Body { head, .. } => match head.framing {
                Framing::Length(n) => {
                    let end = body_end(head, n, capacity)?;
                    // exactly the announced body: never read past this response
                    Ok(at.min(end)..end)
                }
                Framing::Chunked | Framing::UntilClose if at >= capacity => {
                    Err(HttpError::BodyTooLarge {
                        needed: 0,
                        capacity,
                    })
                }
                Framing::Chunked | Framing::UntilClose => Ok(at..capacity),
            },
            State::Done { .. } => Ok(at..at),
        }
    }

    /// `n` bytes arrived in the range [`Self::spare`] gave.
    pub fn received(&mut self, buf: &mut [u8], n: usize) -> Result<Progress, HttpError> {
        self.filled = self.filled.saturating_add(n).min(buf.len());
        self.received = self.received.saturating_add(n);
        self.high = self.high.max(self.filled);
        self.advance(buf)
    }

    /// The peer closed the connection: a body that runs until the close is complete now;
    /// anything else incomplete is [`HttpError::Closed`].
    pub fn closed(&mut self, buf: &mut [u8]) -> Result<Progress, HttpError> {
        if self.advance(buf)? == Progress::Complete {
            return Ok(Progress::Complete);
        }
        match &self.state {
            State::Body { head, .. } if head.framing == Framing::UntilClose => {
                let body = head.head_len..self.filled;
                let head = *head;
                self.state = State::Done { head, body };
                Ok(Progress::Complete)
            }
            _ => Err(HttpError::Closed {
                received: self.received,
            }),
        }
    }

    fn advance(&mut self, buf: &mut [u8]) -> Result<Progress, HttpError> {
        if let State::Head { scan } = self.state {
            let from = scan.saturating_sub(3);
            let window = buf.get(from..self.filled).unwrap_or(&[]);
            let Some(p) = window.windows(4).position(|w| w == b"\r\n\r\n") else {
                self.state = State::Head { scan: self.filled };
                return Ok(Progress::NeedMore);
            };
            let end = from + p + 4;
            let head = match parse_response_head(buf.get(..end).unwrap_or(&[]))? {
                Some(h) => h,
                None => return Err(HttpError::Syntax { what: "head" }),
            };
            if let Framing::Length(n) = head.framing {
                // too large for the buffer: say so now, not after reading what fits
                body_end(&head, n, buf.len())?;
            }
            self.state = State::Body {
                head,
                chunk: ChunkedDecoder::new(),
                write: head.head_len,
                pending: head.head_len,
            };
        }
        let filled = self.filled;
        let State::Body {
            head,
            chunk,
            write,
            pending,
        } = &mut self.state
        else {
            return Ok(match &self.state {
                State::Done { .. } => Progress::Complete,
                _ => Progress::NeedMore,
            });
        };
        let body = match head.framing {
            Framing::Length(n) => {
                let end = body_end(head, n, buf.len())?;
                if filled < end {
                    return Ok(Progress::NeedMore);
                }
                head.head_len..end
            }
            Framing::UntilClose => return Ok(Progress::NeedMore),
            Framing::Chunked => {
                let used = chunk.decode(buf, *pending..filled, write)?;
                *pending += used;
                if !chunk.is_done() {
                    // every byte was consumed: the next read lands right after the decoded
                    // body, so the whole buffer serves the body
                    self.filled = *write;
                    *pending = *write;
                    return Ok(Progress::NeedMore);
                }
                head.head_len..*write
            }
        };
        let head = *head;
        self.state = State::Done { head, body };
        Ok(Progress::Complete)
    }
}

/// The end of a `Content-Length` body, which must fit `capacity`.
fn body_end(head: &ResponseHead, n: usize, capacity: usize) -> Result<usize, HttpError> {
    head.head_len
        .checked_add(n)
        .filter(|end| *end <= capacity)
        .ok_or(HttpError::BodyTooLarge {
            needed: head.head_len.saturating_add(n),
            capacity,
        })
}
