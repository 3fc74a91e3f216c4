//! Building a signed request: the [`Session`] (credentials and target), the per-request
//! [`Stamp`], the seven `X-KM` headers, and the whole HTTP/1.1 request in a caller's buffer —
//! encrypted exactly when the endpoint's request is marked Encrypted: what
//! [`crate::call::Call`] sends.
//!
//! On the server side (the sandbox), [`decode_request`] reads a request body the same way.

use core::ops::Range;

use zeroize::Zeroize;

use crate::api::{Endpoint, Request};
use crate::base::ascii::fmt_u64;
use crate::error::{DecodeError, EncodeError};
use crate::field::{
    AccessKey, AspId, BasePath, CorrelationId, CryptoKeyId, Host, SecretKey, TimeZone, Timestamp,
    TranTime,
};
use crate::http::HeadWriter;
use crate::json::Full;
use crate::jwe::Crypto;
#[cfg(feature = "jwe")]
use crate::jwe::Sealer;
use crate::message::{WriteFields, encode_fields};
use crate::message::{decode_message, find_enc_data};

pub use crate::base::limits::{BUFFER_ENCRYPTED, BUFFER_PLAIN};
use crate::sign::{Signer, TranToken};

/// The project's credentials (G-CRED). The secret key lives only as a zeroizing [`Signer`].
#[derive(Clone, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Credentials {
    asp_id: AspId,
    access_key: AccessKey,
    crypto_key_id: Option<CryptoKeyId>,
    signer: Signer,
}

impl Credentials {
    /// Credentials from their validated parts. `crypto_key_id` is required for Encrypted
    /// requests; when set it is sent on every request.
    pub fn new(
        asp_id: AspId,
        access_key: AccessKey,
        secret_key: &SecretKey,
        crypto_key_id: Option<CryptoKeyId>,
    ) -> Self {
        Self {
            asp_id,
            access_key,
            crypto_key_id,
            signer: Signer::new(secret_key),
        }
    }
    /// The ASP ID.
    pub fn asp_id(&self) -> &AspId {
        &self.asp_id
    }
    /// The access key.
    pub fn access_key(&self) -> &AccessKey {
        &self.access_key
    }
    /// The encryption key ID.
    pub fn crypto_key_id(&self) -> Option<&CryptoKeyId> {
        self.crypto_key_id.as_ref()
    }
    /// The HMAC signer.
    pub fn signer(&self) -> &Signer {
        &self.signer
    }
}

/// Where requests go: the `Host` header and the base path (`/open-api`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Target {
    /// `Host` header value.
    pub host: Host,
    /// Prefix of every endpoint path.
    pub base_path: BasePath,
}

impl Target {
    /// `host` with the platform's `/open-api` prefix.
    pub fn new(host: Host) -> Self {
        Self {
            host,
            base_path: BasePath::open_api(),
        }
    }
}

/// Everything that is the same for every request of one project: its credentials and where
/// its requests go.
#[derive(Clone, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Session {
    /// The project's credentials.
    pub credentials: Credentials,
    /// The host and base path.
    pub target: Target,
}

impl Session {
    /// A session from credentials and a target.
    pub fn new(credentials: Credentials, target: Target) -> Self {
        Self {
            credentials,
            target,
        }
    }
}

/// What makes one request unique: its instant (in `time_zone`'s wall clock) and its
/// Correlation-Id. The core has no clock and no RNG; the caller supplies both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Stamp {
    /// The request instant: Tran-Token time (17 digits) and Tran-Time (first 14).
    pub time: Timestamp,
    /// `X-KM-Time-Zone`, the zone `time` is expressed in.
    pub time_zone: TimeZone,
    /// `X-KM-Correlation-Id`.
    pub correlation_id: CorrelationId,
}

impl Stamp {
    /// A stamp for `time` with a Correlation-Id from `time` and 28 random bits.
    pub fn new(time: Timestamp, time_zone: TimeZone, random: u32) -> Self {
        Self {
            time,
            time_zone,
            correlation_id: CorrelationId::generate(&time, random),
        }
    }
}

/// The seven `X-KM` request headers of one request (§2.1), signed over its exact body.
/// `Debug` redacts the access key.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SignedHeaders {
    /// `X-KM-User-AspId`
    pub asp_id: AspId,
    /// `X-KM-Correlation-Id`
    pub correlation_id: CorrelationId,
    /// `X-KM-Access-Key`
    pub access_key: AccessKey,
    /// `X-KM-Crypto-Key-Id` (sent when configured)
    pub crypto_key_id: Option<CryptoKeyId>,
    /// `X-KM-Tran-Token`
    pub tran_token: TranToken,
    /// `X-KM-Tran-Time`
    pub tran_time: TranTime,
    /// `X-KM-Time-Zone`
    pub time_zone: TimeZone,
}

impl SignedHeaders {
    /// Signs `body` — the exact bytes that will be sent.
    pub fn sign(creds: &Credentials, stamp: &Stamp, body: &[u8]) -> Self {
        Self {
            asp_id: creds.asp_id,
            correlation_id: stamp.correlation_id,
            access_key: creds.access_key.clone(),
            crypto_key_id: creds.crypto_key_id,
            tran_token: creds.signer.tran_token(&stamp.time, body),
            tran_time: stamp.time.tran_time(),
            time_zone: stamp.time_zone,
        }
    }

    /// `(name, value)` pairs in the order they are sent.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.iter_bytes()
            .map(|(n, v)| (n, crate::base::ascii::ascii_str(v)))
    }

    /// `(name, value bytes)` pairs in the order they are sent (no UTF-8 re-validation).
    #[inline]
    pub fn iter_bytes(&self) -> impl Iterator<Item = (&'static str, &[u8])> {
        [
            Some(("X-KM-User-AspId", self.asp_id.as_bytes())),
            Some(("X-KM-Correlation-Id", self.correlation_id.as_bytes())),
            Some(("X-KM-Access-Key", self.access_key.expose_bytes())),
            self.crypto_key_id
                .as_ref()
                .map(|k| ("X-KM-Crypto-Key-Id", k.as_bytes())),
            Some(("X-KM-Tran-Token", self.tran_token.as_bytes())),
            Some(("X-KM-Tran-Time", self.tran_time.as_bytes())),
            Some(("X-KM-Time-Zone", self.time_zone.as_bytes())),
        ]
        .into_iter()
        .flatten()
    }
}

/// A request encoded into the caller's buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub(crate) struct EncodedRequest {
    /// Total bytes (head + body) at the start of the buffer.
    pub len: usize,
    /// Where the body is.
    pub body: Range<usize>,
    /// The headers that were written (for logging: the Correlation-Id).
    pub headers: SignedHeaders,
}

/// Encodes the whole HTTP/1.1 request for `request` into `out`: request line, Host,
/// Content-Type, Accept, Content-Length, the seven X-KM headers, and the body — as JWE
/// (`{"encData":..}`) exactly when the endpoint's request is Encrypted, using `crypto` for the
/// key wrap and the randomness — signed over exactly the body bytes written. The endpoint
/// follows from the request's type.
///
/// An Encrypted request needs `X-KM-Crypto-Key-Id` in the credentials and a `crypto` that can
/// seal ([`EncodeError::MissingCryptoKeyId`], [`EncodeError::EncryptionRequired`] otherwise);
/// nothing is written that could be sent when encoding fails.
pub(crate) fn encode_request<R: Request>(
    session: &Session,
    stamp: &Stamp,
    request: &R,
    mut crypto: impl Crypto,
    out: &mut [u8],
) -> Result<EncodedRequest, EncodeError> {
    encode_request_dyn(
        session,
        stamp,
        <R::Endpoint as Endpoint>::PATH,
        <R::Endpoint as Endpoint>::REQUEST_ENCRYPTED,
        request,
        &mut crypto,
        out,
    )
}

/// What the request path needs to know of an endpoint, as data: one copy of the code serves
/// every endpoint (only each message's `write_fields` is per type).
#[derive(Clone, Copy)]
struct EndpointInfo {
    path: &'static str,
    encrypted: bool,
}

/// The endpoint comes as two scalars, not as an `EndpointInfo` (which the ABI passes through
/// memory): with LTO, a firmware whose requests are all plain passes `encrypted = false` at
/// every call site, so the compiler drops the JWE sealing (1.7 KiB of a till image).
#[inline(never)]
fn encode_request_dyn(
    session: &Session,
    stamp: &Stamp,
    path: &'static str,
    encrypted: bool,
    request: &dyn WriteFields,
    crypto: &mut dyn Crypto,
    out: &mut [u8],
) -> Result<EncodedRequest, EncodeError> {
    let e = EndpointInfo { path, encrypted };
    let creds = &session.credentials;
    let (head, body_len) = write_body(e, request, crypto, creds, out, &mut |body_len| {
        head_len_for(creds, &session.target, e.path, body_len)
    })?;
    finish_request(creds, &session.target, stamp, e.path, head, body_len, out)
}

/// Writes the body of `request` at `out[head(body_len)..]`, plain or sealed, encoding the
/// plaintext straight where it is encrypted (nothing is moved). Returns (start, length).
fn write_body(
    e: EndpointInfo,
    request: &dyn WriteFields,
    crypto: &mut dyn Crypto,
    creds: &Credentials,
    out: &mut [u8],
    head: &mut dyn FnMut(usize) -> usize,
) -> Result<(usize, usize), EncodeError> {
    // the writer only counts past the end of a buffer: this measures the plaintext
    let plain = match encode_fields(request, &mut []) {
        Ok(n) => n,
        Err(Full { needed }) => needed,
    };
    let capacity = out.len();
    if !e.encrypted {
        let at = head(plain);
        let too_small = EncodeError::BufferTooSmall {
            needed: at + plain,
            capacity,
        };
        let body = out.get_mut(at..at + plain).ok_or(too_small)?;
        encode_fields(request, body).map_err(|_| too_small)?;
        return Ok((at, plain));
    }
    seal_body(e, request, crypto, creds, out, head, plain)
}

/// The sealed half of [`write_body`]. Not inlined: the wrapped key (up to 512 bytes) is on
/// the stack only while an Encrypted request is sealed.
#[cfg(feature = "jwe")]
#[inline(never)]
fn seal_body(
    e: EndpointInfo,
    request: &dyn WriteFields,
    crypto: &mut dyn Crypto,
    creds: &Credentials,
    out: &mut [u8],
    head: &mut dyn FnMut(usize) -> usize,
    plain: usize,
) -> Result<(usize, usize), EncodeError> {
    let capacity = out.len();
    let keys = crypto
        .seal()
        .ok_or(EncodeError::EncryptionRequired { path: e.path })?;
    if creds.crypto_key_id().is_none() {
        return Err(EncodeError::MissingCryptoKeyId);
    }
    let sealer = Sealer::new(keys.wrap, keys.cek)?;
    let body_len = sealer.sealed_len(plain);
    let at = head(body_len);
    let too_small = EncodeError::BufferTooSmall {
        needed: at + body_len,
        capacity,
    };
    let region = out.get_mut(at..at + body_len).ok_or(too_small)?;
    let offset = sealer.plaintext_offset();
    let written = region
        .get_mut(offset..offset + plain)
        .ok_or(too_small)
        .and_then(|pt| encode_fields(request, pt).map_err(|_| too_small));
    if let Err(e) = written {
        region.zeroize();
        return Err(e);
    }
    let len = sealer.seal_placed(region, plain, keys.cek, keys.iv)?;
    Ok((at, len))
}

/// Without the `jwe` feature an Encrypted request is refused; nothing is written.
#[cfg(not(feature = "jwe"))]
fn seal_body(
    e: EndpointInfo,
    _: &dyn WriteFields,
    _: &mut dyn Crypto,
    _: &Credentials,
    _: &mut [u8],
    _: &mut dyn FnMut(usize) -> usize,
    _: usize,
) -> Result<(usize, usize), EncodeError> {
    Err(EncodeError::JweDisabled { path: e.path })
}

/// Server side (the sandbox): decodes the request body of endpoint `E`, decrypting an
/// `encData` body in place with `crypto`'s key unwrap. The request of an Encrypted endpoint
/// must come encrypted. The plaintext is wiped from `body` afterwards.
pub fn decode_request<E: Endpoint>(
    body: &mut [u8],
    mut crypto: impl Crypto,
) -> Result<E::Request, DecodeError> {
    let Some(jwe) = find_enc_data(body)? else {
        if E::REQUEST_ENCRYPTED {
            return Err(crate::field::FieldError::new(
                "encData",
                "a JWE: this request is Encrypted",
            )
            .into());
        }
        return decode_message::<E::Request>(body);
    };
    let plain = crate::response::open_jwe(body, jwe, &mut crypto)?;
    let res = decode_message::<E::Request>(body.get(plain.clone()).unwrap_or(&[]));
    if let Some(p) = body.get_mut(plain) {
        p.zeroize();
    }
    res
}

/// Given a body of `body_len` bytes already at `out[head..]`: signs exactly those bytes and
/// writes the head before them.
fn finish_request(
    creds: &Credentials,
    target: &Target,
    stamp: &Stamp,
    path: &str,
    head: usize,
    body_len: usize,
    out: &mut [u8],
) -> Result<EncodedRequest, EncodeError> {
    let total = head + body_len;
    let capacity = out.len();
    let body = out.get(head..total).ok_or(EncodeError::BufferTooSmall {
        needed: total,
        capacity,
    })?;
    let headers = SignedHeaders::sign(creds, stamp, body);
    let mut w = HeadWriter::new(out.get_mut(..head).unwrap_or(&mut []));
    write_head(&mut w, target, path, body_len, &headers);
    Ok(EncodedRequest {
        len: total,
        body: head..total,
        headers,
    })
}

/// Length of the head for a body of `body_len` bytes: it does not depend on the signature
/// (every X-KM value has a fixed length), so it is known before anything is signed.
fn head_len_for(creds: &Credentials, target: &Target, path: &str, body_len: usize) -> usize {
    let mut tmp = [0u8; 20];
    let fixed = "POST ".len()
        + " HTTP/1.1\r\n".len()
        + "Host: \r\n".len()
        + "Content-Type: application/json\r\nAccept: application/json\r\n".len()
        + "Content-Length: \r\n".len()
        + "\r\n".len();
    // name + ": " + value + CRLF for the seven X-KM headers
    let xkm = ("X-KM-User-AspId".len() + AspId::LEN)
        + ("X-KM-Correlation-Id".len() + CorrelationId::LEN)
        + ("X-KM-Access-Key".len() + AccessKey::LEN)
        + creds
            .crypto_key_id()
            .map_or(0, |_| "X-KM-Crypto-Key-Id".len() + CryptoKeyId::LEN + 4)
        + ("X-KM-Tran-Token".len() + TranToken::LEN)
        + ("X-KM-Tran-Time".len() + TranTime::LEN)
        + ("X-KM-Time-Zone".len() + TimeZone::LEN)
        + 6 * 4;
    fixed
        + target.base_path.prefix_bytes().len()
        + path.len()
        + target.host.as_bytes().len()
        + fmt_u64(body_len as u64, &mut tmp).len()
        + xkm
}

fn write_head(
    w: &mut HeadWriter<'_>,
    target: &Target,
    path: &str,
    body_len: usize,
    headers: &SignedHeaders,
) {
    w.put(b"POST ");
    w.put(target.base_path.prefix_bytes());
    w.put(path.as_bytes());
    w.put(b" HTTP/1.1\r\n");
    w.header("Host", target.host.as_bytes());
    w.put(b"Content-Type: application/json\r\nAccept: application/json\r\n");
    let mut tmp = [0u8; 20];
    w.header("Content-Length", fmt_u64(body_len as u64, &mut tmp));
    for (name, value) in headers.iter_bytes() {
        w.header(name, value);
    }
    w.put(b"\r\n");
}
