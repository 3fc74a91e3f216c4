//! Sealing and opening: A128GCM (and A256GCM when opening, feature `a256gcm`) in place, the
//! compact serialization, the `{"encData":…}` wrapper. Present with the `jwe` feature.

use core::ops::Range;

use zeroize::Zeroize;

use super::*;
use crate::json::{Kind, Reader};

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
        return Err(SealError::BufferTooSmall {
            needed: total,
            capacity,
        });
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
        let len = wrap
            .wrap_key(cek, &mut bytes)
            .map_err(|_| SealError::KeyWrap)?;
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
        ENC_PREFIX.len()
            + HEADER_B64_LEN
            + 1
            + crate::base::base64::encoded_len(self.len)
            + 1
            + IV_B64_LEN
            + 1
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
        let too_small = SealError::BufferTooSmall {
            needed: total,
            capacity: buf.len(),
        };
        let c_off = self.plaintext_offset();
        if buf.len() < total {
            return Err(too_small);
        }
        let (front, rest) = buf.split_at_mut(c_off);
        // header first: it is the AAD
        let mut pos = 0;
        put(front, &mut pos, ENC_PREFIX).ok_or(too_small)?;
        let h_start = pos;
        pos += crate::base::base64::encode(
            PROTECTED_HEADER.as_bytes(),
            front.get_mut(pos..).ok_or(too_small)?,
        )
        .ok_or(too_small)?;
        let aad = front.get(h_start..pos).ok_or(too_small)?;
        let pt = rest.get_mut(..plaintext_len).ok_or(too_small)?;
        let tag = super::gcm::seal::<::aes::Aes128>(cek, iv, aad, pt).ok_or(too_small)?;
        // the rest of the front: .wrapped.iv.
        put(front, &mut pos, b".").ok_or(too_small)?;
        pos += crate::base::base64::encode(self.bytes(), front.get_mut(pos..).ok_or(too_small)?)
            .ok_or(too_small)?;
        put(front, &mut pos, b".").ok_or(too_small)?;
        pos += crate::base::base64::encode(iv, front.get_mut(pos..).ok_or(too_small)?)
            .ok_or(too_small)?;
        put(front, &mut pos, b".").ok_or(too_small)?;
        let clen = crate::base::base64::encode_in_place(rest, 0, plaintext_len).ok_or(too_small)?;
        let mut pos = clen;
        put(rest, &mut pos, b".").ok_or(too_small)?;
        pos += crate::base::base64::encode(&tag, rest.get_mut(pos..).ok_or(too_small)?)
            .ok_or(too_small)?;
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
    let n = crate::base::base64::decode(b64_header, &mut hbuf)
        .ok_or(JweError::Format { part: "header" })?;
    let json = hbuf.get(..n).ok_or(JweError::Header)?;
    match header_alg_enc(json).ok_or(JweError::Header)? {
        (Some(true), Some(Some(n))) => Ok(n),
        (Some(false), _) => Err(JweError::UnsupportedAlgorithm),
        (Some(true), Some(None)) => Err(JweError::UnsupportedEncryption),
        _ => Err(JweError::Header),
    }
}

/// From the header's JSON: whether `alg` is RSA-OAEP-256, and the key length `enc` needs
/// (`None` inside: an encryption we do not support), each `None` when absent. `None`
/// altogether: not a header we accept (bad JSON, `alg` or `enc` not a string, `zip` or
/// `crit` present, a member repeated). Every failure is the one answer, so no error is
/// carried through the loop.
fn header_alg_enc(json: &[u8]) -> Option<(Option<bool>, Option<Option<usize>>)> {
    let mut r = Reader::new(json).ok()?;
    r.begin_object().ok()?;
    let (mut alg_ok, mut enc_len) = (None, None);
    let mut first = true;
    while let Some(k) = r.next_key(&mut first).ok()? {
        match ["alg", "enc", "zip", "crit"]
            .iter()
            .position(|name| k.eq_str(name))
        {
            Some(i @ (0 | 1)) => {
                if r.peek_kind().ok()? != Kind::String {
                    return None;
                }
                let v = r.string().ok()?;
                let repeated = if i == 0 {
                    alg_ok.replace(v.eq_str("RSA-OAEP-256")).is_some()
                } else {
                    let len = if v.eq_str("A128GCM") {
                        Some(16)
                    } else if v.eq_str("A256GCM") && cfg!(feature = "a256gcm") {
                        Some(32)
                    } else {
                        None
                    };
                    enc_len.replace(len).is_some()
                };
                if repeated {
                    return None;
                }
            }
            Some(_) => return None,
            None => r.skip_value().ok()?,
        }
    }
    r.end().ok()?;
    Some((alg_ok, enc_len))
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

/// Not inlined: its scratch (the wrapped key, the decoded header, about 1 KiB) is on the
/// stack only while a JWE is opened, not in the frame of every exchange that calls it.
#[inline(never)]
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
    let wlen =
        crate::base::base64::decode(part(d0 + 1..d1)?, &mut wrapped).ok_or(JweError::Format {
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
    let key = cek.get(..key_len).unwrap_or(&[]);
    let ok = if key_len == 16 {
        super::gcm::open::<::aes::Aes128>(key, &iv, aad, ct, &tag)
    } else {
        decrypt_a256(key, &iv, aad, ct, &tag)
    };
    cek.zeroize();
    if !ok {
        return Err(JweError::Authentication);
    }
    Ok(c_start..c_start + plain_len)
}

#[cfg(feature = "a256gcm")]
fn decrypt_a256(key: &[u8], iv: &[u8; 12], aad: &[u8], ct: &mut [u8], tag: &[u8; 16]) -> bool {
    super::gcm::open::<::aes::Aes256>(key, iv, aad, ct, tag)
}

/// Without the `a256gcm` feature an A256GCM JWE is refused.
#[cfg(not(feature = "a256gcm"))]
fn decrypt_a256(_: &[u8], _: &[u8; 12], _: &[u8], _: &mut [u8], _: &[u8; 16]) -> bool {
    false
}
