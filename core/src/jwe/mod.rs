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

use core::fmt;
use core::ops::Range;

use aes_gcm::aead::AeadInPlace;
use aes_gcm::aead::generic_array::GenericArray;
#[cfg(feature = "a256gcm")]
use aes_gcm::Aes256Gcm;
use aes_gcm::{Aes128Gcm, KeyInit};
use zeroize::Zeroize;

use crate::json::{Kind, Reader};

mod crypto;

pub use crypto::{Crypto, DecryptOnly, Keys, NoCrypto, SealKeys};

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

impl fmt::Display for KeyWrapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RSA-OAEP-256 key wrap/unwrap failed")
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

impl fmt::Display for JweError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JweError::Format { part } => write!(f, "malformed JWE ({part})"),
            JweError::Header => f.write_str("unsupported or malformed JWE protected header"),
            JweError::UnsupportedAlgorithm => f.write_str("JWE alg is not RSA-OAEP-256"),
            JweError::UnsupportedEncryption => f.write_str("JWE enc is not A128GCM or A256GCM"),
            JweError::KeyUnwrap => f.write_str("RSA-OAEP-256 key unwrap failed"),
            JweError::KeyLength => f.write_str("unwrapped key length does not match enc"),
            JweError::IvLength => f.write_str("JWE IV is not 12 bytes"),
            JweError::TagLength => f.write_str("JWE tag is not 16 bytes"),
            JweError::Authentication => f.write_str("JWE authentication failed"),
        }
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

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SealError::BufferTooSmall { needed, capacity } => {
                write!(f, "JWE wrapper of {needed} bytes does not fit {capacity}")
            }
            SealError::KeyWrap => f.write_str("RSA-OAEP-256 key wrap failed"),
        }
    }
}

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

/// Turns the plaintext JSON at `buf[..plaintext_len]` into `{"encData":"<JWE>"}` in place
/// (A128GCM with `cek`/`iv`, CEK wrapped by `wrap`). Returns the wrapper's length.
pub fn seal_in_place<W: KeyWrap + ?Sized>(
    buf: &mut [u8],
    plaintext_len: usize,
    wrap: &mut W,
    cek: &[u8; 16],
    iv: &[u8; 12],
) -> Result<usize, SealError> {
    let sealer = Sealer::new(wrap, cek)?;
    let total = sealer.sealed_len(plaintext_len);
    let capacity = buf.len();
    if capacity < total || capacity < plaintext_len {
        return Err(SealError::BufferTooSmall { needed: total, capacity });
    }
    // move the plaintext to where its base64url will start
    buf.copy_within(0..plaintext_len, sealer.plaintext_offset());
    sealer.seal_placed(buf, plaintext_len, cek, iv)
}

/// A content key already wrapped to the platform's key: seals a plaintext written straight
/// where it is encrypted ([`Sealer::plaintext_offset`]), so nothing is moved.
pub struct Sealer {
    bytes: [u8; MAX_WRAPPED_KEY],
    len: usize,
}

impl Sealer {
    /// Wraps `cek` with `wrap`.
    pub fn new<W: KeyWrap + ?Sized>(wrap: &mut W, cek: &[u8; 16]) -> Result<Self, SealError> {
        let mut bytes = [0u8; MAX_WRAPPED_KEY];
        let len = wrap.wrap_key(cek, &mut bytes).map_err(|_| SealError::KeyWrap)?;
        if len > MAX_WRAPPED_KEY {
            return Err(SealError::KeyWrap);
        }
        Ok(Self { bytes, len })
    }
    fn bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or(&[])
    }
    /// Length of the wrapper for a plaintext of `plaintext_len` bytes.
    pub const fn sealed_len(&self, plaintext_len: usize) -> usize {
        sealed_len(plaintext_len, self.len)
    }
    /// Where the plaintext (then its base64url) starts inside the wrapper.
    pub const fn plaintext_offset(&self) -> usize {
        ENC_PREFIX.len() + HEADER_B64_LEN + 1 + crate::base::base64::encoded_len(self.len) + 1 + IV_B64_LEN + 1
    }

    /// Seals the plaintext at `buf[self.plaintext_offset()..][..plaintext_len]` into the
    /// wrapper `{"encData":"<JWE>"}` starting at `buf[0]`; returns its length. On error the
    /// region is zeroized: no plaintext is left behind.
    pub fn seal_placed(
        &self,
        buf: &mut [u8],
        plaintext_len: usize,
        cek: &[u8; 16],
        iv: &[u8; 12],
    ) -> Result<usize, SealError> {
        let res = self.seal_inner(buf, plaintext_len, cek, iv);
        if res.is_err() {
            buf.zeroize();
        }
        res
    }

    fn seal_inner(
        &self,
        buf: &mut [u8],
        plaintext_len: usize,
        cek: &[u8; 16],
        iv: &[u8; 12],
    ) -> Result<usize, SealError> {
        let total = self.sealed_len(plaintext_len);
        let too_small = SealError::BufferTooSmall { needed: total, capacity: buf.len() };
        let c_off = self.plaintext_offset();
        if buf.len() < total {
            return Err(too_small);
        }
        let (front, rest) = buf.split_at_mut(c_off);
        // header first: it is the AAD
        let mut pos = 0;
        put(front, &mut pos, ENC_PREFIX).ok_or(too_small)?;
        let h_start = pos;
        pos += crate::base::base64::encode(PROTECTED_HEADER.as_bytes(), front.get_mut(pos..).ok_or(too_small)?)
            .ok_or(too_small)?;
        let aad = front.get(h_start..pos).ok_or(too_small)?;
        let mut key = GenericArray::from(*cek);
        let cipher = Aes128Gcm::new(&key);
        key.zeroize();
        let nonce = GenericArray::from(*iv);
        let pt = rest.get_mut(..plaintext_len).ok_or(too_small)?;
        let tag = cipher.encrypt_in_place_detached(&nonce, aad, pt).map_err(|_| too_small)?;
        // the rest of the front: .wrapped.iv.
        put(front, &mut pos, b".").ok_or(too_small)?;
        pos += crate::base::base64::encode(self.bytes(), front.get_mut(pos..).ok_or(too_small)?).ok_or(too_small)?;
        put(front, &mut pos, b".").ok_or(too_small)?;
        pos += crate::base::base64::encode(iv, front.get_mut(pos..).ok_or(too_small)?).ok_or(too_small)?;
        put(front, &mut pos, b".").ok_or(too_small)?;
        let clen = crate::base::base64::encode_in_place(rest, 0, plaintext_len).ok_or(too_small)?;
        let mut pos = clen;
        put(rest, &mut pos, b".").ok_or(too_small)?;
        pos += crate::base::base64::encode(tag.as_slice(), rest.get_mut(pos..).ok_or(too_small)?).ok_or(too_small)?;
        put(rest, &mut pos, ENC_SUFFIX).ok_or(too_small)?;
        Ok(c_off + pos)
    }
}

fn put(buf: &mut [u8], pos: &mut usize, b: &[u8]) -> Option<()> {
    buf.get_mut(*pos..*pos + b.len())?.copy_from_slice(b);
    *pos += b.len();
    Some(())
}

/// Reads the protected header (base64url text) and returns the key length `enc` needs.
fn check_header(b64_header: &[u8]) -> Result<usize, JweError> {
    let mut hbuf = [0u8; MAX_HEADER];
    let n = crate::base::base64::decode(b64_header, &mut hbuf).ok_or(JweError::Format { part: "header" })?;
    let json = hbuf.get(..n).ok_or(JweError::Header)?;
    let mut r = Reader::new(json).map_err(|_| JweError::Header)?;
    r.begin_object().map_err(|_| JweError::Header)?;
    let (mut alg_ok, mut enc_len) = (None, None);
    let mut first = true;
    while let Some(k) = r.next_key(&mut first).map_err(|_| JweError::Header)? {
        if k.eq_str("alg") || k.eq_str("enc") {
            if r.peek_kind().map_err(|_| JweError::Header)? != Kind::String {
                return Err(JweError::Header);
            }
            let v = r.string().map_err(|_| JweError::Header)?;
            if k.eq_str("alg") {
                alg_ok = Some(v.eq_str("RSA-OAEP-256"));
            } else {
                enc_len = Some(if v.eq_str("A128GCM") {
                    Some(16)
                } else if v.eq_str("A256GCM") && cfg!(feature = "a256gcm") {
                    Some(32)
                } else {
                    None
                });
            }
        } else if k.eq_str("zip") || k.eq_str("crit") {
            return Err(JweError::Header);
        } else {
            r.skip_value().map_err(|_| JweError::Header)?;
        }
    }
    r.end().map_err(|_| JweError::Header)?;
    match (alg_ok, enc_len) {
        (Some(true), Some(Some(n))) => Ok(n),
        (Some(false), _) => Err(JweError::UnsupportedAlgorithm),
        (Some(true), Some(None)) => Err(JweError::UnsupportedEncryption),
        _ => Err(JweError::Header),
    }
}

/// Decrypts the compact JWE at `buf[jwe]` in place; returns the range of the plaintext
/// (inside `jwe`). On error the JWE's ciphertext region is zeroized and nothing is returned.
pub fn open_in_place<U: KeyUnwrap + ?Sized>(
    buf: &mut [u8],
    jwe: Range<usize>,
    unwrap: &mut U,
) -> Result<Range<usize>, JweError> {
    let res = open_inner(buf, jwe.clone(), unwrap);
    if let (Err(_), Some(region)) = (&res, buf.get_mut(jwe)) {
        region.zeroize();
    }
    res
}

fn open_inner<U: KeyUnwrap + ?Sized>(
    buf: &mut [u8],
    jwe: Range<usize>,
    unwrap: &mut U,
) -> Result<Range<usize>, JweError> {
    let text = buf
        .get(jwe.clone())
        .ok_or(JweError::Format { part: "parts" })?;
    // five parts: find the four dots
    let mut dots = [0usize; 4];
    let mut n = 0;
    for (i, &b) in text.iter().enumerate() {
        if b == b'.' {
            *dots.get_mut(n).ok_or(JweError::Format { part: "parts" })? = i;
            n += 1;
        }
    }
    if n != 4 {
        return Err(JweError::Format { part: "parts" });
    }
    let [d0, d1, d2, d3] = dots;
    let part = |r: Range<usize>| text.get(r).ok_or(JweError::Format { part: "parts" });
    let header = part(0..d0)?;
    let key_len = check_header(header)?;

    let mut wrapped = [0u8; MAX_WRAPPED_KEY];
    let wlen = crate::base::base64::decode(part(d0 + 1..d1)?, &mut wrapped).ok_or(JweError::Format {
        part: "encrypted key",
    })?;
    let mut iv = [0u8; 12];
    let iv_src = part(d1 + 1..d2)?;
    if iv_src.len() != IV_B64_LEN {
        return Err(JweError::IvLength);
    }
    crate::base::base64::decode(iv_src, &mut iv).ok_or(JweError::Format { part: "iv" })?;
    let mut tag = [0u8; 16];
    let tag_src = part(d3 + 1..text.len())?;
    if tag_src.len() != TAG_B64_LEN {
        return Err(JweError::TagLength);
    }
    crate::base::base64::decode(tag_src, &mut tag).ok_or(JweError::Format { part: "tag" })?;

    let mut cek = [0u8; 32];
    let klen = unwrap
        .unwrap_key(wrapped.get(..wlen).ok_or(JweError::KeyUnwrap)?, &mut cek)
        .map_err(|_| JweError::KeyUnwrap);
    wrapped.zeroize();
    let klen = match klen {
        Ok(k) => k,
        Err(e) => {
            cek.zeroize();
            return Err(e);
        }
    };
    if klen != key_len {
        cek.zeroize();
        return Err(JweError::KeyLength);
    }

    // decode the ciphertext in place, then decrypt it in place
    let c_start = jwe.start + d2 + 1;
    let c_len = d3 - d2 - 1;
    let (front, rest) = buf.split_at_mut(c_start);
    let aad = front
        .get(jwe.start..jwe.start + d0)
        .ok_or(JweError::Format { part: "header" })?;
    let plain_len = match crate::base::base64::decode_in_place(rest, 0, c_len) {
        Some(n) => n,
        None => {
            cek.zeroize();
            return Err(JweError::Format { part: "ciphertext" });
        }
    };
    let ct = rest
        .get_mut(..plain_len)
        .ok_or(JweError::Format { part: "ciphertext" })?;
    let nonce = GenericArray::from(iv);
    let tag = GenericArray::from(tag);
    let ok = if key_len == 16 {
        let mut k = [0u8; 16];
        k.copy_from_slice(cek.get(..16).unwrap_or(&[0u8; 16]));
        let key = GenericArray::from(k);
        k.zeroize();
        Aes128Gcm::new(&key)
            .decrypt_in_place_detached(&nonce, aad, ct, &tag)
            .is_ok()
    } else {
        decrypt_a256(cek, &nonce, aad, ct, &tag)
    };
    cek.zeroize();
    if !ok {
        return Err(JweError::Authentication);
    }
    Ok(c_start..c_start + plain_len)
}

#[cfg(feature = "a256gcm")]
fn decrypt_a256(
    cek: [u8; 32],
    nonce: &GenericArray<u8, aes_gcm::aead::consts::U12>,
    aad: &[u8],
    ct: &mut [u8],
    tag: &GenericArray<u8, aes_gcm::aead::consts::U16>,
) -> bool {
    let key = GenericArray::from(cek);
    Aes256Gcm::new(&key).decrypt_in_place_detached(nonce, aad, ct, tag).is_ok()
}

/// Without the `a256gcm` feature an A256GCM JWE is refused.
#[cfg(not(feature = "a256gcm"))]
fn decrypt_a256(
    _: [u8; 32],
    _: &GenericArray<u8, aes_gcm::aead::consts::U12>,
    _: &[u8],
    _: &mut [u8],
    _: &GenericArray<u8, aes_gcm::aead::consts::U16>,
) -> bool {
    false
}
