//! `X-KM-Tran-Token`: `"KMV1:" + yyyyMMddHHmmssSSS + ":" + base64(HMAC-SHA256(secret, body))`
//! (§3, G-TT). 67 characters (D1: the header tables print 66; the guide's own formula and
//! sample, and every token known to have passed authentication, have 67).
//!
//! HMAC-SHA256 (RFC 2104) is built here on the SHA-256 compression function of the `sha2`
//! crate so that the keyed inner/outer states — which are as good as the key for forging
//! tokens — are plain arrays we own and zeroize on drop (`hmac` 0.12 cannot zeroize its
//! state). Keeping the keyed states also saves two compressions per request. RFC 4231 test
//! vectors and a property test against the `hmac` crate pin the construction.

use core::fmt;

use crate::base::ascii::ascii_str;
use crate::base::base64::encode_standard_32;
use sha2::digest::generic_array::GenericArray;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::field::{Charset, FieldError, SecretKey, Timestamp};

const SHA256_IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

#[inline]
fn compress(state: &mut [u32; 8], block: &[u8; 64]) {
    let b = GenericArray::from(*block);
    sha2::compress256(state, core::slice::from_ref(&b));
}

/// Finishes SHA-256 of `prefix_len` bytes already absorbed in `state` (a multiple of 64)
/// followed by `msg`.
fn finish(mut state: [u32; 8], prefix_len: u64, msg: &[u8]) -> [u8; 32] {
    let mut chunks = msg.chunks_exact(64);
    for c in &mut chunks {
        if let Ok(block) = <&[u8; 64]>::try_from(c) {
            compress(&mut state, block);
        }
    }
    let rem = chunks.remainder();
    let mut block = [0u8; 64];
    if let Some(dst) = block.get_mut(..rem.len()) {
        dst.copy_from_slice(rem);
    }
    if let Some(b) = block.get_mut(rem.len()) {
        *b = 0x80;
    }
    if rem.len() >= 56 {
        compress(&mut state, &block);
        block = [0u8; 64];
    }
    let bits = (prefix_len + msg.len() as u64).wrapping_mul(8);
    if let Some(dst) = block.get_mut(56..) {
        dst.copy_from_slice(&bits.to_be_bytes());
    }
    compress(&mut state, &block);
    let mut out = [0u8; 32];
    for (dst, word) in out.chunks_exact_mut(4).zip(state.iter()) {
        dst.copy_from_slice(&word.to_be_bytes());
    }
    state.zeroize();
    out
}

/// SHA-256 of `msg`.
pub fn sha256(msg: &[u8]) -> [u8; 32] {
    finish(SHA256_IV, 0, msg)
}

/// HMAC-SHA256 keyed with the project's secret key. Holds only the two keyed states, which are
/// zeroized on drop; `Debug` is redacted.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Signer {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl Signer {
    /// Keys the HMAC with `key`.
    pub fn new(key: &SecretKey) -> Self {
        Self::from_key_bytes(key.expose())
    }

    /// Keys the HMAC with raw key bytes (any length).
    pub fn from_key_bytes(key: &[u8]) -> Self {
        let mut k = [0u8; 64];
        if key.len() > 64 {
            let mut h = sha256(key);
            if let Some(dst) = k.get_mut(..32) {
                dst.copy_from_slice(&h);
            }
            h.zeroize();
        } else if let Some(dst) = k.get_mut(..key.len()) {
            dst.copy_from_slice(key);
        }
        let mut pad = [0u8; 64];
        for (p, b) in pad.iter_mut().zip(k.iter()) {
            *p = b ^ 0x36;
        }
        let mut inner = SHA256_IV;
        compress(&mut inner, &pad);
        for (p, b) in pad.iter_mut().zip(k.iter()) {
            *p = b ^ 0x5c;
        }
        let mut outer = SHA256_IV;
        compress(&mut outer, &pad);
        pad.zeroize();
        k.zeroize();
        Self { inner, outer }
    }

    /// HMAC-SHA256 of `msg`.
    pub fn mac(&self, msg: &[u8]) -> [u8; 32] {
        let inner = finish(self.inner, 64, msg);
        finish(self.outer, 64, &inner)
    }

    /// The `X-KM-Tran-Token` for `body` sent at `time`.
    pub fn tran_token(&self, time: &Timestamp, body: &[u8]) -> TranToken {
        let mac = self.mac(body);
        let mut t = [0u8; TranToken::LEN];
        if let Some(dst) = t.get_mut(..5) {
            dst.copy_from_slice(b"KMV1:");
        }
        let mut digits = [0u8; 17];
        time.write_17(&mut digits);
        if let Some(dst) = t.get_mut(5..22) {
            dst.copy_from_slice(&digits);
        }
        if let Some(colon) = t.get_mut(22) {
            *colon = b':';
        }
        let mut sig = [0u8; 44];
        encode_standard_32(&mac, &mut sig);
        if let Some(dst) = t.get_mut(23..) {
            dst.copy_from_slice(&sig);
        }
        TranToken(t)
    }

    /// Checks `token` against `body` in constant time over the signature (the sandbox's side
    /// of §3 step 7). The time part is not checked here.
    pub fn verify(&self, token: &TranToken, body: &[u8]) -> bool {
        let mut expected = [0u8; 44];
        encode_standard_32(&self.mac(body), &mut expected);
        let got = token.0.get(23..).unwrap_or(&[]);
        let mut diff = u8::from(got.len() != expected.len());
        for (a, b) in got.iter().zip(expected.iter()) {
            diff |= a ^ b;
        }
        diff == 0
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer(<redacted>)")
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for Signer {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "Signer(<redacted>)")
    }
}

/// An `X-KM-Tran-Token` value: `KMV1:` + 17 digits + `:` + 44 characters of padded standard
/// base64 (67 characters, D1).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TranToken([u8; 67]);

impl TranToken {
    /// Always 67 characters.
    pub const LEN: usize = 67;
    /// Header name.
    pub const API_NAME: &'static str = "X-KM-Tran-Token";
    /// The documented format.
    pub const LIMIT: &'static str =
        "KMV1: + 17-digit yyyyMMddHHmmssSSS + ':' + 44-character padded base64 (67 characters)";

    /// Parses a received token (sandbox side).
    pub fn new(s: &str) -> Result<Self, FieldError> {
        let err = FieldError::new(Self::API_NAME, Self::LIMIT);
        let b: [u8; 67] = s.as_bytes().try_into().map_err(|_| err)?;
        let (prefix, rest) = b.split_at(5);
        let (time, rest) = rest.split_at(17);
        let (colon, sig) = rest.split_at(1);
        let b64 = |c: u8| c.is_ascii_alphanumeric() || c == b'+' || c == b'/';
        let sig_ok = sig.len() == 44
            && sig.get(..43).is_some_and(|s| s.iter().all(|&c| b64(c)))
            && sig.last() == Some(&b'=');
        if prefix != b"KMV1:" || !Charset::Digits.all(time) || colon != b":" || !sig_ok {
            return Err(err);
        }
        Ok(Self(b))
    }
    /// The token text.
    pub fn as_str(&self) -> &str {
        ascii_str(&self.0)
    }
    /// The token's bytes (ASCII).
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
    /// The 17-digit time part.
    pub fn time_part(&self) -> &str {
        ascii_str(self.0.get(5..22).unwrap_or(&[]))
    }
}

impl fmt::Debug for TranToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TranToken({:?})", self.as_str())
    }
}
impl fmt::Display for TranToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
#[cfg(feature = "defmt")]
impl defmt::Format for TranToken {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.as_str())
    }
}
