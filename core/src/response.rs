//! Decoding a whole HTTP response held in one buffer (head + body).

use crate::api::{Endpoint, ReplyOf};
use crate::error::DecodeError;
use crate::http::{Progress, ResponseHead, ResponseReader};
use crate::jwe::{KeyUnwrap, decode_body_decrypting};
use crate::message::decode_reply;

/// A decoded HTTP response of endpoint `E`.
#[derive(Debug)]
pub struct DecodedResponse<E: Endpoint> {
    /// Status, framing and the X-KM response headers.
    pub head: ResponseHead,
    /// The envelope and fields.
    pub reply: ReplyOf<E>,
}

/// Decodes a complete plaintext response in `buf` (a chunked body is de-chunked in place).
/// `Ok(None)`: incomplete, read more. An `encData` body is [`DecodeError::Encrypted`]; use
/// [`decode_response_decrypting`] for endpoints that may answer encrypted.
pub fn decode_response<E: Endpoint>(
    buf: &mut [u8],
) -> Result<Option<DecodedResponse<E>>, DecodeError> {
    let mut reader = ResponseReader::deferred();
    let (head, range) = match reader.received(buf, buf.len())? {
        Progress::Complete { head, body } => (head, body),
        Progress::NeedMore => return Ok(None),
    };
    let body = buf.get(range).unwrap_or(&[]);
    Ok(Some(DecodedResponse {
        head,
        reply: decode_reply(body)?,
    }))
}

/// Like [`decode_response`], decrypting an `encData` body in place with the client key.
pub fn decode_response_decrypting<E: Endpoint, U: KeyUnwrap>(
    buf: &mut [u8],
    unwrap: &mut U,
) -> Result<Option<DecodedResponse<E>>, DecodeError> {
    let mut reader = ResponseReader::deferred();
    let (head, range) = match reader.received(buf, buf.len())? {
        Progress::Complete { head, body } => (head, body),
        Progress::NeedMore => return Ok(None),
    };
    let body = buf.get_mut(range).unwrap_or(&mut []);
    Ok(Some(DecodedResponse {
        head,
        reply: decode_body_decrypting(body, unwrap)?,
    }))
}
