//! Error types of the encode and decode paths. Every variant says what was wrong and where.

use core::fmt;

use crate::field::FieldError;
use crate::http::HttpError;
pub use crate::json::{JsonError, JsonErrorKind, MAX_DEPTH as MAX_JSON_DEPTH};

/// Why a request could not be encoded. Nothing was produced that could be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum EncodeError {
    /// The output buffer is too small; `needed` is the size that would have sufficed when it
    /// is known (0 when the encoder stopped before knowing it).
    BufferTooSmall {
        /// Capacity that would suffice, when known.
        needed: usize,
        /// Capacity given.
        capacity: usize,
    },
    /// The endpoint's request is Encrypted but no `X-KM-Crypto-Key-Id` is configured.
    MissingCryptoKeyId,
    /// The endpoint's request is Encrypted and the [`crate::jwe::Crypto`] given cannot seal
    /// (give it the platform's public key).
    EncryptionRequired {
        /// The endpoint's path.
        path: &'static str,
    },
    /// A field rejected while encoding.
    Field(FieldError),
    /// The RSA key wrap failed (JWE).
    KeyWrap,
    /// The endpoint's request is Encrypted and this build has no JWE (feature `jwe`): nothing
    /// was written.
    JweDisabled {
        /// The endpoint's path.
        path: &'static str,
    },
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::BufferTooSmall { needed, capacity } if *needed > 0 => {
                write!(
                    f,
                    "output buffer too small: {needed} bytes needed, {capacity} given"
                )
            }
            EncodeError::BufferTooSmall { capacity, .. } => {
                write!(f, "output buffer of {capacity} bytes too small")
            }
            EncodeError::MissingCryptoKeyId => {
                f.write_str("this request is Encrypted: X-KM-Crypto-Key-Id must be configured")
            }
            EncodeError::EncryptionRequired { path } => {
                write!(
                    f,
                    "{path}: the request is Encrypted and needs the platform's public key"
                )
            }
            EncodeError::Field(e) => fmt::Display::fmt(e, f),
            EncodeError::KeyWrap => f.write_str("RSA-OAEP-256 key wrap failed"),
            EncodeError::JweDisabled { path } => {
                write!(
                    f,
                    "{path}: the request is Encrypted and this build has no JWE (feature `jwe`)"
                )
            }
        }
    }
}

impl core::error::Error for EncodeError {}

impl From<crate::jwe::SealError> for EncodeError {
    fn from(e: crate::jwe::SealError) -> Self {
        match e {
            crate::jwe::SealError::BufferTooSmall { needed, capacity } => {
                EncodeError::BufferTooSmall { needed, capacity }
            }
            _ => EncodeError::KeyWrap,
        }
    }
}

impl From<FieldError> for EncodeError {
    fn from(e: FieldError) -> Self {
        EncodeError::Field(e)
    }
}

/// Why a response (or request, on the sandbox side) could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum DecodeError {
    /// The HTTP framing is invalid.
    Http(HttpError),
    /// The body is not valid JSON (or is nested too deeply, has a BOM, ...).
    Json(JsonError),
    /// A known field holds a value outside its documented limit or of the wrong JSON type.
    Field(FieldError),
    /// A required field is absent (or `null`).
    Missing {
        /// API name, e.g. `"nrNumber"` or `"response.code"`.
        field: &'static str,
    },
    /// A known field appears twice in one object.
    Duplicate {
        /// API name.
        field: &'static str,
    },
    /// The body (after HTTP framing) is larger than the buffer it must fit in.
    BodyTooLarge {
        /// Body length announced or seen so far.
        len: usize,
        /// Buffer capacity.
        capacity: usize,
    },
    /// The body is JWE-encrypted (`encData`) and must be decrypted before decoding.
    Encrypted,
    /// JWE decryption failed (bad format, unsupported algorithm, or authentication failure).
    /// No plaintext is returned.
    Jwe(crate::jwe::JweError),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::Http(e) => write!(f, "HTTP: {e}"),
            DecodeError::Json(e) => write!(f, "JSON: {e}"),
            DecodeError::Field(e) => fmt::Display::fmt(e, f),
            DecodeError::Missing { field } => write!(f, "missing required field `{field}`"),
            DecodeError::Duplicate { field } => write!(f, "field `{field}` appears twice"),
            DecodeError::BodyTooLarge { len, capacity } => {
                write!(
                    f,
                    "body of {len} bytes does not fit the {capacity}-byte buffer"
                )
            }
            DecodeError::Encrypted => {
                f.write_str("the body is encrypted (encData); decrypt it with the client key first")
            }
            DecodeError::Jwe(e) => write!(f, "JWE: {e}"),
        }
    }
}

impl core::error::Error for DecodeError {}

impl From<JsonError> for DecodeError {
    fn from(e: JsonError) -> Self {
        DecodeError::Json(e)
    }
}
impl From<FieldError> for DecodeError {
    fn from(e: FieldError) -> Self {
        DecodeError::Field(e)
    }
}
impl From<HttpError> for DecodeError {
    fn from(e: HttpError) -> Self {
        DecodeError::Http(e)
    }
}
impl From<crate::jwe::JweError> for DecodeError {
    fn from(e: crate::jwe::JweError) -> Self {
        DecodeError::Jwe(e)
    }
}
