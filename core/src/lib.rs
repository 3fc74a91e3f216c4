//! # konaplate-core
//!
//! The `no_std`, zero-allocation protocol core of the KONA PLATE prepaid-card Open API SDK:
//! validated field types, request encoding and signing into caller-owned buffers, response
//! decoding, JWE message encryption, and nothing that touches a socket, a clock or an RNG.
//!
//! ```
//! use konaplate_core::prelude::*;
//! use konaplate_core::{api::*, field::*};
//!
//! // The project's credentials and where requests go (validated once).
//! let session = Session::new(
//!     Credentials::new(
//!         AspId::new("100000000000001")?,
//!         AccessKey::new("abcdefg-0123456789abcdef0123456789abcdef")?,
//!         &SecretKey::new("my-secret-key")?,
//!         None,
//!     ),
//!     Target::new(Host::parse("sandbox.konaplate.com")?),
//! );
//! // Time and randomness come from the caller.
//! let now = Timestamp::new(2026, 11, 23, 19, 54, 6, 123)?;
//! let stamp = Stamp::new(now, TimeZone::KST, 0x0abc_def1);
//!
//! // An invalid value cannot be built: the error names the field and the limit.
//! let err = Dcvv::new("12").unwrap_err();
//! assert_eq!(err.to_string(), "invalid `dcvv`: must be exactly 3 ASCII digits");
//!
//! // One exchange: the whole signed request goes into your buffer (the endpoint follows from
//! // the request's type, and the body is encrypted exactly when the endpoint's request is;
//! // this one is not: NoCrypto).
//! let req = ChargeResultRequest { sequence_id: SequenceId::new("MNR000000001CR")? };
//! let mut buf = [0u8; 2048];
//! let mut call = Call::new(&session, &stamp, &req, NoCrypto, &mut buf)?;
//! let wire = call.outgoing(&buf).to_vec(); // write these bytes to your (TLS) socket
//! assert!(wire.starts_with(b"POST /open-api/api/v1/recharges/by-bank-account/result/inquiry HTTP/1.1\r\n"));
//! assert!(wire.ends_with(br#"{"sequenceId":"MNR000000001CR"}"#));
//! call.sent(&mut buf, wire.len())?; // (the request is wiped from the buffer once written)
//!
//! // The platform's answer, read into the call (Korean text, escapes, unknown fields are fine).
//! let body = r#"{"response":{"code":"000_000","description":"\uc131\uacf5"},"result":"COMPLETED","extra":[1]}"#;
//! let answer = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
//! let space = call.incoming(&mut buf)?;
//! space[..answer.len()].copy_from_slice(answer.as_bytes());
//! assert_eq!(call.received(&mut buf, answer.len())?, Progress::Complete);
//! let mut reply = ReplyOf::<ChargeResultInquiry>::empty();
//! call.finish(&mut buf, NoCrypto, &mut reply)?;
//! assert!(reply.is_success());
//! assert_eq!(reply.description.as_str(), "성공");
//! assert_eq!(reply.body.unwrap().result, ChargeResult::Completed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Design rules: a value that passed a constructor is valid forever; every limit of the API
//! documents is checked once, in [`field`]; errors name the API field and the limit; secrets
//! are redacted in `Debug` and zeroized on drop; buffers are the caller's, and a body that
//! does not fit is a typed error, never a panic or a truncation.
//!
//! The API facts the documentation cites by section (§6.2) or disagreement number (D7) are
//! in [`facts`], in our words.
//!
//! # Features
//!
//! | feature | default | what it does |
//! |---|---|---|
//! | `jwe` | yes | seal Encrypted requests and open `encData` answers (AES-GCM); without it an image is plain-only and links no AES (an Encrypted request is `EncodeError::JweDisabled`, an `encData` answer `DecodeError::Encrypted`) |
//! | `a256gcm` | yes | accept A256GCM-encrypted answers besides A128GCM (about 1.2 KiB of flash on Cortex-M; the platform is observed to use A128GCM); implies `jwe` |
//! | `compact` | no | sha2's compact software SHA-256: smaller, slower per block (Cortex-M has no SHA instructions either way) |
//! | `defmt` | no | `defmt::Format` for the public types, secrets redacted |
//! | `serde` | no | `Serialize`/`Deserialize` for every field type, request, response and reply under the API's names; deserializing validates like the constructors (no_std, no alloc) |
//!
//! # Money
//!
//! [`flow`] is the exactly-once machinery for charges, cancellations and refunds: read its
//! documentation before you move money with anything else than the std client or the CLI.
#![no_std]
#![forbid(unsafe_code)]

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// `heapless`, whose `Vec` appears in list responses.
pub use heapless;

// The layers, bottom up (`tests/layers.rs` fails if one imports from above itself):
// base → field, json, http, code → jwe, sign, pin → error → message → api → request, response →
// call → flow.
pub mod api;
mod base;
pub mod call;
pub mod code;
pub mod error;
pub mod field;
pub mod flow;
pub mod http;
#[doc(hidden)]
pub mod json;
pub mod jwe;
pub mod message;
pub mod pin;
pub mod request;
pub mod response;
pub mod sign;
#[doc = include_str!("../docs/api-facts.md")]
pub mod facts {}
/// Every capacity the SDK chooses, in one place (the API's own field limits live with their
/// types in [`field`]).
pub mod limits {
    pub use crate::base::limits::*;
}
/// Just enough DER to read keys and certificates without allocation (the walk under
/// [`pin`], and the software RSA of `konaplate-embedded`).
pub mod der {
    pub use crate::base::der::*;
}

/// The traits, and the handful of items every exchange uses. Field types, endpoints, messages
/// and codes are in [`crate::field`], [`crate::api`] and [`crate::code`].
pub mod prelude {
    pub use crate::api::{Endpoint, MoneyEndpoint, ReplyOf, Request};
    pub use crate::call::{Call, Progress};
    pub use crate::code::ResultCode;
    pub use crate::error::{DecodeError, EncodeError};
    pub use crate::field::FieldError;
    pub use crate::jwe::{Crypto, KeyUnwrap, KeyWrap, Keys, NoCrypto};
    pub use crate::message::AnyReply;
    pub use crate::message::{Message, Reply};
    pub use crate::request::{Credentials, Session, Stamp, Target};
}
