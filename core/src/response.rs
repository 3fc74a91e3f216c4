//! Answers: opening an `encData` body in place (the one place that decides to decrypt, used by
//! [`crate::call::Call`]), and on the server side (the sandbox), [`encode_reply`], which writes
//! an answer sealed exactly when the endpoint's response is marked Encrypted.

use core::ops::Range;

use crate::api::{Encryption, Endpoint};
use crate::error::{DecodeError, EncodeError};
use crate::json::Full;
use crate::jwe::Crypto;
#[cfg(feature = "jwe")]
use crate::jwe::{Sealer, open_in_place};
use crate::message::{encode_reply as write_reply, find_enc_data};

/// Decrypts `body` in place when it is `{"encData":..}` (with `crypto`'s key unwrap; without
/// one, [`DecodeError::Encrypted`]), returning whether it was and where the plaintext JSON
/// is. Any endpoint may answer encrypted, whatever its page says; this is the one place that
/// decides.
pub(crate) fn open_body(
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
