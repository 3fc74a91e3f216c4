//! Framing an HTTP response read into the caller's buffer, and opening an `encData` body.

use core::ffi::c_char;

use konaplate_core::http::{Framing, whole_response};
use konaplate_core::response::open_body;

use crate::c::{Failure, finish, konaplate_error, konaplate_result, non_null_mut, put_text};
use crate::crypto::{CCrypto, konaplate_crypto};

/// A complete HTTP response: its status, where its body is in the buffer (a chunked body
/// already decoded in place), and the headers the SDK reads.
#[repr(C)]
pub struct konaplate_http {
    /// HTTP status code.
    pub status: u16,
    /// Body start in the buffer.
    pub body_start: usize,
    /// Body length.
    pub body_len: usize,
    /// `X-KM-Correlation-Id` echoed by the platform, or empty.
    pub correlation_id: [c_char; 21],
    /// `Connection: close`.
    pub close: bool,
}

/// Whether `buf[0 .. len]` — the bytes received so far — hold a whole response.
/// `KONAPLATE_RESULT_INCOMPLETE`: receive more bytes after them and call again (nothing in
/// `buf` was changed). `KONAPLATE_RESULT_OK`: `*out` describes it (a chunked body was decoded
/// in place). A response without `Content-Length` or chunked framing ends when the peer
/// closes: pass `peer_closed` true once it has. Malformed framing is
/// `KONAPLATE_RESULT_HTTP`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_response_complete(
    buf: *mut u8,
    len: usize,
    peer_closed: bool,
    out: *mut konaplate_http,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        if buf.is_null() {
            return Err(Failure::null("buf"));
        }
        // SAFETY: the pointers are valid for the call (the header's contract).
        let o = unsafe { non_null_mut(out, "out") }?;
        let bytes = unsafe { core::slice::from_raw_parts_mut(buf, len) };
        let Some((head, body)) = whole_response(bytes)? else {
            return Err(incomplete());
        };
        if head.framing == Framing::UntilClose && !peer_closed {
            return Err(incomplete());
        }
        o.status = head.status;
        o.body_start = body.start;
        o.body_len = body.len();
        o.close = head.close;
        put_text(
            &mut o.correlation_id,
            head.correlation_id
                .as_ref()
                .map_or(&[][..], |c| c.as_bytes()),
        );
        Ok(())
    })();
    finish(r, err)
}

fn incomplete() -> Failure {
    Failure::new(
        konaplate_result::Incomplete,
        format_args!("the response is not complete yet"),
    )
}

/// Decrypts `body[0 .. body_len]` in place when it is `{"encData":…}` (through
/// `crypto->unwrap`) and says where the plaintext JSON is: `*plain_start`, `*plain_len`,
/// `*encrypted`. A plain body is left as it is. For feeding a `konaplate_flow`, which takes
/// plaintext; wipe the plaintext afterwards (it may hold a token).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_open_body(
    body: *mut u8,
    body_len: usize,
    crypto: *const konaplate_crypto,
    plain_start: *mut usize,
    plain_len: *mut usize,
    encrypted: *mut bool,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        if body.is_null() {
            return Err(Failure::null("body"));
        }
        // SAFETY: the pointers are valid for the call (the header's contract).
        let (start, len, enc) = unsafe {
            (
                non_null_mut(plain_start, "plain_start")?,
                non_null_mut(plain_len, "plain_len")?,
                non_null_mut(encrypted, "encrypted")?,
            )
        };
        let bytes = unsafe { core::slice::from_raw_parts_mut(body, body_len) };
        let (was, range) = open_body(bytes, unsafe { CCrypto::new(crypto) })?;
        *start = range.start;
        *len = range.len();
        *enc = was;
        Ok(())
    })();
    finish(r, err)
}
