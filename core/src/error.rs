//! Error types of the encode and decode paths. Every variant says what was wrong and where.

use crate::base::describe::display_by_describe;
pub use crate::base::describe::{Describe, Sink};

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

impl Describe for EncodeError {
    fn describe(&self, out: &mut dyn Sink) {
        let n = |out: &mut dyn Sink, n: usize| out.put_u64(n as u64);
        match self {
            EncodeError::BufferTooSmall { needed, capacity } if *needed > 0 => {
                out.put("output buffer too small: ");
                n(out, *needed);
                out.put(" bytes needed, ");
                n(out, *capacity);
                out.put(" given");
            }
            EncodeError::BufferTooSmall { capacity, .. } => {
                out.put("output buffer of ");
                n(out, *capacity);
                out.put(" bytes too small");
            }
            EncodeError::MissingCryptoKeyId => {
                out.put("this request is Encrypted: X-KM-Crypto-Key-Id must be configured")
            }
            EncodeError::EncryptionRequired { path } => {
                out.put(path);
                out.put(": the request is Encrypted and needs the platform's public key");
            }
            EncodeError::Field(e) => e.describe(out),
            EncodeError::KeyWrap => out.put("RSA-OAEP-256 key wrap failed"),
            EncodeError::JweDisabled { path } => {
                out.put(path);
                out.put(": the request is Encrypted and this build has no JWE (feature `jwe`)");
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

impl Describe for DecodeError {
    fn describe(&self, out: &mut dyn Sink) {
        match self {
            DecodeError::Http(e) => {
                out.put("HTTP: ");
                e.describe(out);
            }
            DecodeError::Json(e) => {
                out.put("JSON: ");
                e.describe(out);
            }
            DecodeError::Field(e) => e.describe(out),
            DecodeError::Missing { field } => {
                out.put("missing required field `");
                out.put(field);
                out.put("`");
            }
            DecodeError::Duplicate { field } => {
                out.put("field `");
                out.put(field);
                out.put("` appears twice");
            }
            DecodeError::BodyTooLarge { len, capacity } => {
                out.put("body of ");
                out.put_u64(*len as u64);
                out.put(" bytes does not fit the ");
                out.put_u64(*capacity as u64);
                out.put("-byte buffer");
            }
            DecodeError::Encrypted => {
                out.put("the body is encrypted (encData); decrypt it with the client key first")
            }
            DecodeError::Jwe(e) => {
                out.put("JWE: ");
                e.describe(out);
            }
        }
    }
}

display_by_describe!(EncodeError, DecodeError);

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
