//! Reading a whole answer: framing through [`crate::http::whole_response`], decryption exactly
//! when the body is `{"encData":..}`, and decoding into the endpoint's [`ReplyOf`]. This and
//! [`crate::request`] are the only places that assemble a whole request or response.
//!
//! On the server side (the sandbox), [`encode_reply`] writes an answer, sealed exactly when
//! the endpoint's response is marked Encrypted.

use core::ops::Range;

use zeroize::Zeroize;

use crate::api::{Encryption, Endpoint, ReplyOf};
use crate::error::{DecodeError, EncodeError};
use crate::http::{Framing, ResponseHead, whole_response};
use crate::json::{Full, JsonErrorKind};
use crate::jwe::Crypto;
#[cfg(feature = "jwe")]
use crate::jwe::{Sealer, open_in_place};
use crate::message::{decode_body_into, encode_reply as write_reply, find_enc_data};

/// A decoded HTTP response of endpoint `E`.
#[derive(Debug)]
pub struct DecodedResponse<E: Endpoint> {
    /// Status, framing and the X-KM response headers.
    pub head: ResponseHead,
    /// The envelope and fields.
    pub reply: ReplyOf<E>,
    /// The body was JWE-encrypted (and was decrypted with `crypto`).
    pub encrypted: bool,
}

/// Decodes the response of endpoint `E` held in `buf`: the bytes received so far. `Ok(None)`:
/// incomplete — receive more and call again with the grown buffer; nothing in `buf` was
/// changed. A body without `Content-Length` or chunked framing runs until the peer closes; it
/// is decoded once it is a whole JSON text. An `encData` body is decrypted in place with
/// `crypto` (and the plaintext wiped after decoding).
pub fn decode_response<E: Endpoint>(
    buf: &mut [u8],
    crypto: impl Crypto,
) -> Result<Option<DecodedResponse<E>>, DecodeError> {
    let Some((head, body)) = whole_response(buf)? else {
        return Ok(None);
    };
    let region = buf.get_mut(body).unwrap_or(&mut []);
    let mut reply = ReplyOf::<E>::empty();
    match decode_reply_into::<E>(region, crypto, &mut reply) {
        Ok(encrypted) => Ok(Some(DecodedResponse {
            head,
            reply,
            encrypted,
        })),
        // an until-close body that is not whole yet
        Err(DecodeError::Json(j))
            if j.kind == JsonErrorKind::UnexpectedEnd && head.framing == Framing::UntilClose =>
        {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

/// Decrypts `body` in place when it is `{"encData":..}` (with `crypto`'s key unwrap; without
/// one, [`DecodeError::Encrypted`]), returning whether it was and where the plaintext JSON
/// is. Any endpoint may answer encrypted, whatever its page says; this is the one place that
/// decides.
pub fn open_body(
    body: &mut [u8],
    mut crypto: impl Crypto,
) -> Result<(bool, Range<usize>), DecodeError> {
    match find_enc_data(body)? {
        None => Ok((false, 0..body.len())),
        Some(jwe) => Ok((true, open_jwe(body, jwe, &mut crypto)?)),
    }
}

/// Decrypts the JWE at `body[jwe]` in place with `crypto`'s key unwrap; the plaintext's
/// range. Without an unwrap, or in a build without the `jwe` feature:
/// [`DecodeError::Encrypted`].
#[cfg(feature = "jwe")]
pub(crate) fn open_jwe(
    body: &mut [u8],
    jwe: Range<usize>,
    crypto: &mut dyn Crypto,
) -> Result<Range<usize>, DecodeError> {
    let unwrap = crypto.unwrap().ok_or(DecodeError::Encrypted)?;
    Ok(open_in_place(body, jwe, unwrap)?)
}

/// Without the `jwe` feature an `encData` answer cannot be opened.
#[cfg(not(feature = "jwe"))]
pub(crate) fn open_jwe(
    _: &mut [u8],
    _: Range<usize>,
    _: &mut dyn Crypto,
) -> Result<Range<usize>, DecodeError> {
    Err(DecodeError::Encrypted)
}

/// Decodes the body of endpoint `E`'s answer into `out` (decrypting it first when it is
/// `encData`); returns whether it was encrypted. A decrypted plaintext may hold secrets (a
/// one-time token, a DCVV): it is wiped from `body` afterwards, whatever the outcome.
pub fn decode_reply_into<E: Endpoint>(
    body: &mut [u8],
    crypto: impl Crypto,
    out: &mut ReplyOf<E>,
) -> Result<bool, DecodeError> {
    let (encrypted, plain) = open_body(body, crypto)?;
    let res = decode_body_into(body.get(plain.clone()).unwrap_or(&[]), out);
    if encrypted && let Some(p) = body.get_mut(plain) {
        p.zeroize();
    }
    match res? {
        None => Ok(encrypted),
        // an encrypted body inside an encrypted body
        Some(_) => Err(DecodeError::Encrypted),
    }
}

/// Like [`decode_reply_into`], returning the reply.
pub fn decode_reply_body<E: Endpoint>(
    body: &mut [u8],
    crypto: impl Crypto,
) -> Result<(ReplyOf<E>, bool), DecodeError> {
    let mut reply = ReplyOf::<E>::empty();
    let encrypted = decode_reply_into::<E>(body, crypto, &mut reply)?;
    Ok((reply, encrypted))
}

/// Server side (the sandbox): writes endpoint `E`'s answer — the envelope and, on success,
/// the fields — into `out`, sealed as JWE with `crypto` exactly when the endpoint's response
/// is marked Encrypted. Returns the body's length and whether it was sealed.
pub fn encode_reply<E: Endpoint>(
    code: &str,
    description: &str,
    body: Option<&E::Response>,
    mut crypto: impl Crypto,
    out: &mut [u8],
) -> Result<(usize, bool), EncodeError> {
    let plain = match write_reply(code, description, body, &mut []) {
        Ok(n) => n,
        Err(Full { needed }) => needed,
    };
    let capacity = out.len();
    if E::RESPONSE_ENCRYPTION != Encryption::Yes {
        let n = write_reply(code, description, body, out)
            .map_err(|Full { needed }| EncodeError::BufferTooSmall { needed, capacity })?;
        return Ok((n, false));
    }
    seal_reply::<E>(code, description, body, &mut crypto, out, plain)
}

#[cfg(feature = "jwe")]
fn seal_reply<E: Endpoint>(
    code: &str,
    description: &str,
    body: Option<&E::Response>,
    crypto: &mut dyn Crypto,
    out: &mut [u8],
    plain: usize,
) -> Result<(usize, bool), EncodeError> {
    let capacity = out.len();
    let keys = crypto
        .seal()
        .ok_or(EncodeError::EncryptionRequired { path: E::PATH })?;
    let sealer = Sealer::new(keys.wrap, keys.cek)?;
    let total = sealer.sealed_len(plain);
    let too_small = EncodeError::BufferTooSmall {
        needed: total,
        capacity,
    };
    let region = out.get_mut(..total).ok_or(too_small)?;
    let offset = sealer.plaintext_offset();
    let pt = region.get_mut(offset..offset + plain).ok_or(too_small)?;
    write_reply(code, description, body, pt).map_err(|_| too_small)?;
    Ok((sealer.seal_placed(region, plain, keys.cek, keys.iv)?, true))
}

/// Without the `jwe` feature an Encrypted answer cannot be written.
#[cfg(not(feature = "jwe"))]
fn seal_reply<E: Endpoint>(
    _: &str,
    _: &str,
    _: Option<&E::Response>,
    _: &mut dyn Crypto,
    _: &mut [u8],
    _: usize,
) -> Result<(usize, bool), EncodeError> {
    Err(EncodeError::JweDisabled { path: E::PATH })
}
