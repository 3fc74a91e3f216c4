//! Message encryption (§4): JWE compact serialization as the platform uses it.
//!
//! * protected header `{"alg":"RSA-OAEP-256","enc":"A128GCM"}` (no `kid`; the key is named by
//!   the `X-KM-Crypto-Key-Id` header), AAD = the ASCII of its base64url encoding;
//! * a 16-byte content-encryption key (CEK) and a 12-byte IV supplied by the caller's RNG;
//! * AES-GCM in place on the caller's buffer (`aes-gcm`'s detached in-place API), 16-byte tag;
//! * five unpadded base64url parts joined by `.`, carried as `{"encData":"<JWE>"}`.
//!
//! Decryption accepts `A128GCM` and `A256GCM`. The RSA-OAEP-SHA256 key wrap is behind the
//! [`KeyWrap`] / [`KeyUnwrap`] traits so firmware can delegate it to a secure element or HSM;
//! the std crate implements them with the pure-Rust `rsa` crate.
//!
//! This module is pure crypto: the request and response modules decide when to seal and
//! open (an endpoint's Encrypted marks), and the caller supplies keys and randomness through
//! a [`Crypto`].
//!
//! Everything happens inside one buffer: the plaintext JSON is encrypted and base64url-encoded
//! in place into the `{"encData":..}` wrapper, and an incoming wrapper is decoded and
//! decrypted in place into the plaintext envelope. On any failure nothing of the plaintext is
//! returned and the region that held it is zeroized.

use crate::base::describe::{Describe, Sink, display_by_describe};

mod crypto;

pub use crypto::{Crypto, DecryptOnly, Keys, NoCrypto, SealKeys};

// Sealing and opening (AES-GCM): only in builds with the `jwe` feature. Without it, an
// Encrypted request is refused before anything is written and an `encData` answer is
// reported, so a plain-only image carries no AES.
#[cfg(feature = "jwe")]
mod aes;
#[cfg(feature = "jwe")]
mod gcm;
#[cfg(feature = "jwe")]
pub use aes::{Sealer, open_in_place, seal_in_place};

/// The protected header we send.
pub const PROTECTED_HEADER: &str = r#"{"alg":"RSA-OAEP-256","enc":"A128GCM"}"#;
/// Largest RSA ciphertext handled (RSA-4096); the platform uses 2048-bit keys (256 bytes).
pub const MAX_WRAPPED_KEY: usize = crate::base::limits::MAX_WRAPPED_KEY;
/// Largest protected header accepted when decrypting (decoded bytes).
pub const MAX_HEADER: usize = crate::base::limits::MAX_JWE_HEADER;

/// The key wrap failed (reported by a [`KeyWrap`] or [`KeyUnwrap`] implementation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct KeyWrapError;

impl Describe for KeyWrapError {
    fn describe(&self, out: &mut dyn Sink) {
        out.put("RSA-OAEP-256 key wrap/unwrap failed");
    }
}

/// RSA-OAEP (SHA-256, MGF1-SHA-256) encryption of the CEK to the platform's public key.
pub trait KeyWrap {
    /// Encrypts `cek`, writing the RSA ciphertext into `out`; returns its length.
    fn wrap_key(&mut self, cek: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError>;
}

/// RSA-OAEP (SHA-256, MGF1-SHA-256) decryption of a CEK with the client private key.
pub trait KeyUnwrap {
    /// Decrypts `wrapped`, writing the CEK into `out` (32 bytes); returns its length.
    fn unwrap_key(&mut self, wrapped: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError>;
}

impl<T: KeyWrap + ?Sized> KeyWrap for &mut T {
    fn wrap_key(&mut self, cek: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        (**self).wrap_key(cek, out)
    }
}
impl<T: KeyUnwrap + ?Sized> KeyUnwrap for &mut T {
    fn unwrap_key(&mut self, wrapped: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        (**self).unwrap_key(wrapped, out)
    }
}

/// Why a JWE could not be decrypted. No plaintext is ever returned with an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum JweError {
    /// Not five `.`-separated parts, or a part is not canonical unpadded base64url.
    Format {
        /// Which part: "header", "encrypted key", "iv", "ciphertext", "tag", or "parts".
        part: &'static str,
    },
    /// The protected header is not a JSON object with string `alg` and `enc`, or carries
    /// `zip` / `crit`, which this profile does not support.
    Header,
    /// `alg` is not `RSA-OAEP-256`.
    UnsupportedAlgorithm,
    /// `enc` is not `A128GCM` or `A256GCM` (or is `A256GCM` without the `a256gcm` feature).
    UnsupportedEncryption,
    /// The key unwrap failed.
    KeyUnwrap,
    /// The unwrapped key's length does not match `enc` (16 or 32 bytes).
    KeyLength,
    /// The IV is not 12 bytes.
    IvLength,
    /// The tag is not 16 bytes.
    TagLength,
    /// The tag does not authenticate the header, IV and ciphertext (tampering or wrong key).
    Authentication,
}

impl Describe for JweError {
    fn describe(&self, out: &mut dyn Sink) {
        if let JweError::Format { part } = self {
            out.put("malformed JWE (");
            out.put(part);
            return out.put(")");
        }
        out.put(match self {
            JweError::Format { .. } => "malformed JWE",
            JweError::Header => "unsupported or malformed JWE protected header",
            JweError::UnsupportedAlgorithm => "JWE alg is not RSA-OAEP-256",
            JweError::UnsupportedEncryption => "JWE enc is not A128GCM or A256GCM",
            JweError::KeyUnwrap => "RSA-OAEP-256 key unwrap failed",
            JweError::KeyLength => "unwrapped key length does not match enc",
            JweError::IvLength => "JWE IV is not 12 bytes",
            JweError::TagLength => "JWE tag is not 16 bytes",
            JweError::Authentication => "JWE authentication failed",
        });
    }
}

impl core::error::Error for JweError {}

/// Why a plaintext could not be sealed. Nothing of the plaintext is left behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum SealError {
    /// The buffer cannot hold the `{"encData":"<JWE>"}` wrapper.
    BufferTooSmall {
        /// Bytes the wrapper needs.
        needed: usize,
        /// Capacity given.
        capacity: usize,
    },
    /// The key wrap failed (or returned more than [`MAX_WRAPPED_KEY`] bytes).
    KeyWrap,
}

impl Describe for SealError {
    fn describe(&self, out: &mut dyn Sink) {
        match self {
            SealError::BufferTooSmall { needed, capacity } => {
                out.put("JWE wrapper of ");
                out.put_u64(*needed as u64);
                out.put(" bytes does not fit ");
                out.put_u64(*capacity as u64);
            }
            SealError::KeyWrap => out.put("RSA-OAEP-256 key wrap failed"),
        }
    }
}

display_by_describe!(KeyWrapError, JweError, SealError);

impl core::error::Error for SealError {}

const ENC_PREFIX: &[u8] = b"{\"encData\":\"";
const ENC_SUFFIX: &[u8] = b"\"}";
const HEADER_B64_LEN: usize = crate::base::base64::encoded_len(PROTECTED_HEADER.len());
const IV_B64_LEN: usize = crate::base::base64::encoded_len(12);
const TAG_B64_LEN: usize = crate::base::base64::encoded_len(16);

/// Length of the `{"encData":"<JWE>"}` wrapper for a plaintext of `plaintext_len` bytes and a
/// wrapped key of `wrapped_len` bytes (256 for RSA-2048).
pub const fn sealed_len(plaintext_len: usize, wrapped_len: usize) -> usize {
    ENC_PREFIX.len()
        + HEADER_B64_LEN
        + 1
        + crate::base::base64::encoded_len(wrapped_len)
        + 1
        + IV_B64_LEN
        + 1
        + crate::base::base64::encoded_len(plaintext_len)
        + 1
        + TAG_B64_LEN
        + ENC_SUFFIX.len()
}
