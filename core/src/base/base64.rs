//! Base64: unpadded base64url in place (JWE) and the padded standard form of 32 bytes
//! (the Tran-Token signature).

// decoding serves JWE (feature `jwe`) and pins (always)
#![cfg_attr(not(feature = "jwe"), allow(dead_code))]

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Characters for `n` input bytes.
pub const fn encoded_len(n: usize) -> usize {
    n / 3 * 4
        + match n % 3 {
            0 => 0,
            1 => 2,
            _ => 3,
        }
}

#[inline]
fn sym(v: u32) -> u8 {
    ALPHABET.get((v & 63) as usize).copied().unwrap_or(b'A')
}

/// Encodes `buf[start..start + len]` into `buf[start..start + encoded_len(len)]`, in place
/// (groups are processed last to first, so output never overwrites unread input).
/// Returns the encoded length, or `None` when the buffer is too short.
pub fn encode_in_place(buf: &mut [u8], start: usize, len: usize) -> Option<usize> {
    let out_len = encoded_len(len);
    if buf.len() < start.checked_add(out_len)? || buf.len() < start.checked_add(len)? {
        return None;
    }
    let groups = len.div_ceil(3);
    for g in (0..groups).rev() {
        let i = start + 3 * g;
        let n = (len - 3 * g).min(3);
        let b0 = u32::from(*buf.get(i)?);
        let b1 = if n > 1 {
            u32::from(*buf.get(i + 1)?)
        } else {
            0
        };
        let b2 = if n > 2 {
            u32::from(*buf.get(i + 2)?)
        } else {
            0
        };
        let v = (b0 << 16) | (b1 << 8) | b2;
        let o = start + 4 * g;
        let syms = [sym(v >> 18), sym(v >> 12), sym(v >> 6), sym(v)];
        let used = n + 1;
        buf.get_mut(o..o + used)?.copy_from_slice(syms.get(..used)?);
    }
    Some(out_len)
}

/// Standard padded base64 (RFC 4648 §4) of 32 bytes: the 44 characters of a Tran-Token
/// signature. Encoded as base64url, then the two alphabet differences swapped and the one
/// padding character appended (32 bytes leave two, so exactly one `=`).
pub fn encode_standard_32(src: &[u8; 32], dst: &mut [u8; 44]) {
    let n = encode(src, dst).unwrap_or(0);
    for c in dst.iter_mut().take(n) {
        *c = match *c {
            b'-' => b'+',
            b'_' => b'/',
            other => other,
        };
    }
    if let Some(pad) = dst.get_mut(43) {
        *pad = b'=';
    }
}

/// The 32 bytes of a standard padded base64 text (44 characters, one `=`), canonical only:
/// the inverse of [`encode_standard_32`].
pub fn decode_standard_32(src: &[u8]) -> Option<[u8; 32]> {
    if src.len() != 44 || src.get(43) != Some(&b'=') {
        return None;
    }
    let mut tmp = [0u8; 43];
    for (t, &c) in tmp.iter_mut().zip(src) {
        *t = match c {
            b'+' => b'-',
            b'/' => b'_',
            // base64url's own characters are not standard base64
            b'-' | b'_' => return None,
            other => other,
        };
    }
    let n = decode_in_place(&mut tmp, 0, 43)?;
    let mut out = [0u8; 32];
    out.copy_from_slice(tmp.get(..n)?.get(..32)?);
    (n == 32).then_some(out)
}

/// Encodes `src` into `dst`, returning the encoded length.
pub fn encode(src: &[u8], dst: &mut [u8]) -> Option<usize> {
    dst.get_mut(..src.len())?.copy_from_slice(src);
    encode_in_place(dst, 0, src.len())
}

#[inline]
fn val(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    } as u32)
}

/// Decodes `buf[start..start + len]` in place into `buf[start..]`, returning the decoded
/// length. Rejects padding, foreign characters, a length of 1 mod 4 and non-zero unused
/// bits (only canonical encodings are accepted).
pub fn decode_in_place(buf: &mut [u8], start: usize, len: usize) -> Option<usize> {
    if len % 4 == 1 || buf.len() < start.checked_add(len)? {
        return None;
    }
    let mut out = start;
    let mut i = start;
    let end = start + len;
    while i < end {
        let n = (end - i).min(4);
        let mut v = 0u32;
        for k in 0..4 {
            let s = if k < n { val(*buf.get(i + k)?)? } else { 0 };
            v = (v << 6) | s;
        }
        let bytes = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
        let produced = n - 1;
        if n < 4 {
            // unused low bits must be zero (canonical)
            let unused = if n == 2 { v & 0xFFFF } else { v & 0xFF };
            if unused != 0 {
                return None;
            }
        }
        buf.get_mut(out..out + produced)?
            .copy_from_slice(bytes.get(..produced)?);
        out += produced;
        i += n;
    }
    Some(out - start)
}

/// Decodes `src` into `dst`, returning the decoded length.
pub fn decode(src: &[u8], dst: &mut [u8]) -> Option<usize> {
    if dst.len() < src.len() {
        // decoding shrinks; copy what fits only when it is enough
        let need = src.len() / 4 * 3 + (src.len() % 4).saturating_sub(1);
        if dst.len() < need {
            return None;
        }
        let mut tmp = [0u8; 4];
        let mut o = 0;
        for chunk in src.chunks(4) {
            let t = tmp.get_mut(..chunk.len())?;
            t.copy_from_slice(chunk);
            let n = decode_in_place(t, 0, chunk.len())?;
            dst.get_mut(o..o + n)?.copy_from_slice(t.get(..n)?);
            o += n;
        }
        return Some(o);
    }
    dst.get_mut(..src.len())?.copy_from_slice(src);
    decode_in_place(dst, 0, src.len())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use base64::Engine;
    use proptest::prelude::*;
    use std::vec;

    proptest! {
        /// In-place base64url against the `base64` crate, both ways.
        #[test]
        fn base64url_in_place_matches_reference(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let want = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&data);
            let mut buf = vec![0u8; want.len().max(data.len())];
            buf[..data.len()].copy_from_slice(&data);
            let n = encode_in_place(&mut buf, 0, data.len()).unwrap();
            prop_assert_eq!(&buf[..n], want.as_bytes());
            let m = decode_in_place(&mut buf, 0, n).unwrap();
            prop_assert_eq!(&buf[..m], &data[..]);
        }

        /// The Tran-Token's padded standard base64 of 32 bytes.
        #[test]
        fn standard_32_matches_reference(data in proptest::array::uniform32(any::<u8>())) {
            let mut out = [0u8; 44];
            encode_standard_32(&data, &mut out);
            let want = base64::engine::general_purpose::STANDARD.encode(data);
            prop_assert_eq!(&out[..], want.as_bytes());
        }
    }
}
