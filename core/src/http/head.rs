//! Heads: parsing a response head, writing a request head.
//!
//! The response head parser is our own, strict and small (RFC 9112 §2–§5, CRLF line ends
//! only, no obs-fold): it reads the status line and the five headers the SDK uses in one pass
//! over the bytes, with no header table on the stack. `core/tests/http.rs` checks it against
//! httparse on generated heads.

use super::{Framing, HttpError, MAX_RESPONSE_HEADERS, ResponseHead};
use crate::field::{CorrelationId, CryptoKeyId};

const fn syntax(what: &'static str) -> HttpError {
    HttpError::Syntax { what }
}

/// RFC 9110 `tchar`: the bytes of a header name.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}

/// Header value and reason-phrase bytes: HTAB, SP, VCHAR, obs-text.
fn is_text(b: u8) -> bool {
    b == b'\t' || (b >= b' ' && b != 0x7f)
}

fn trim(v: &[u8]) -> &[u8] {
    let is_ws = |b: &u8| *b == b' ' || *b == b'\t';
    let start = v.iter().position(|b| !is_ws(b)).unwrap_or(v.len());
    let end = v.iter().rposition(|b| !is_ws(b)).map_or(start, |e| e + 1);
    v.get(start..end).unwrap_or(&[])
}

/// The next CRLF-terminated line at `*at` (without the CRLF), or `None` when it has not all
/// arrived. A bare LF is an error.
fn next_line<'b>(buf: &'b [u8], at: &mut usize) -> Result<Option<&'b [u8]>, HttpError> {
    let rest = buf.get(*at..).unwrap_or(&[]);
    let Some(lf) = rest.iter().position(|&b| b == b'\n') else {
        return Ok(None);
    };
    let line = match lf.checked_sub(1).map(|cr| (rest.get(cr), rest.get(..cr))) {
        Some((Some(b'\r'), Some(line))) => line,
        _ => return Err(syntax("new line")),
    };
    *at += lf + 1;
    Ok(Some(line))
}

/// `HTTP/1.x SP 3DIGIT [SP reason-phrase]`: the status.
fn status_line(line: &[u8]) -> Result<u16, HttpError> {
    let (version, rest) = line.split_at_checked(8).ok_or(syntax("status"))?;
    if !matches!(version, b"HTTP/1.1" | b"HTTP/1.0") {
        return Err(syntax("version"));
    }
    let (code, reason) = match rest {
        [b' ', d @ ..] if d.len() == 3 => (d, &[][..]),
        [b' ', a, b, c, b' ', reason @ ..] => (&[*a, *b, *c][..], reason),
        _ => return Err(syntax("status")),
    };
    let mut status = 0u16;
    for &d in code {
        if !d.is_ascii_digit() {
            return Err(syntax("status"));
        }
        status = status * 10 + u16::from(d - b'0');
    }
    if !reason.iter().all(|&b| is_text(b)) {
        return Err(syntax("status"));
    }
    Ok(status)
}

/// `field-name ":" OWS field-value OWS`.
fn header_line(line: &[u8]) -> Result<(&[u8], &[u8]), HttpError> {
    let colon = line
        .iter()
        .position(|&b| b == b':')
        .ok_or(syntax("header name"))?;
    let (name, value) = (
        line.get(..colon).unwrap_or(&[]),
        line.get(colon + 1..).unwrap_or(&[]),
    );
    if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
        return Err(syntax("header name"));
    }
    if !value.iter().all(|&b| is_text(b)) {
        return Err(syntax("header value"));
    }
    Ok((name, trim(value)))
}

/// Parses a response head from the start of `buf`. `Ok(None)` means the head is not complete
/// yet (read more); the caller decides how much buffer it allows ([`HttpError::HeadTooLarge`]).
/// The lines that have arrived are checked as they stand, so a malformed head is an error as
/// soon as its bad line is complete.
#[inline(never)]
pub fn parse_response_head(buf: &[u8]) -> Result<Option<ResponseHead>, HttpError> {
    let mut at = 0;
    let Some(line) = next_line(buf, &mut at)? else {
        return Ok(None);
    };
    let status = status_line(line)?;
    if (100..200).contains(&status) {
        return Err(HttpError::UnexpectedInformational { status });
    }
    let mut length: Option<usize> = None;
    let mut chunked = false;
    let mut close = false;
    let mut correlation_id = None;
    let mut crypto_key_id = None;
    let mut count = 0;
    loop {
        let Some(line) = next_line(buf, &mut at)? else {
            return Ok(None);
        };
        if line.is_empty() {
            break;
        }
        count += 1;
        if count > MAX_RESPONSE_HEADERS {
            return Err(HttpError::TooManyHeaders);
        }
        let (name, v) = header_line(line)?;
        // one comparison loop over the names the SDK reads
        const READ: [&[u8]; 5] = [
            b"content-length",
            b"transfer-encoding",
            b"connection",
            b"x-km-correlation-id",
            b"x-km-crypto-key-id",
        ];
        match READ.iter().position(|n| name.eq_ignore_ascii_case(n)) {
            Some(0) => {
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
            }
            Some(1) => {
                if v.eq_ignore_ascii_case(b"chunked") {
                    chunked = true;
                } else if !v.eq_ignore_ascii_case(b"identity") {
                    return Err(HttpError::UnsupportedTransferEncoding);
                }
            }
            Some(2) => close = v.eq_ignore_ascii_case(b"close"),
            Some(3) => {
                let id = CorrelationId::from_bytes(v).map_err(|e| HttpError::InvalidHeader {
                    name: CorrelationId::API_NAME,
                    limit: e.limit(),
                })?;
                correlation_id = Some(id);
            }
            Some(4) => {
                let id = CryptoKeyId::from_bytes(v).map_err(|e| HttpError::InvalidHeader {
                    name: CryptoKeyId::API_NAME,
                    limit: e.limit(),
                })?;
                crypto_key_id = Some(id);
            }
            _ => {}
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
        head_len: at,
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
