//! Heads: parsing a response head (httparse), writing a request head.

use super::{Framing, HttpError, MAX_RESPONSE_HEADERS, ResponseHead};
use crate::field::{CorrelationId, CryptoKeyId};

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
