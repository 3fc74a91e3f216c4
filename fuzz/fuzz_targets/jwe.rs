//! JWE: opening arbitrary compact serializations never panics and never yields plaintext on
//! error; sealing then opening round-trips; any single-byte change of a sealed JWE is an error.
#![no_main]

use konaplate_core::jwe::{
    KeyUnwrap, KeyWrap, KeyWrapError, open_in_place, seal_in_place, sealed_len,
};
use libfuzzer_sys::fuzz_target;

/// A stand-in for RSA-OAEP (too slow to fuzz): the "wrapped key" is the key followed by a
/// checked pad, so the fuzzer can reach the AES-GCM layer with keys it chooses.
struct Toy;
impl KeyWrap for Toy {
    fn wrap_key(&mut self, cek: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        out[..64].fill(0xA5);
        out[..cek.len()].copy_from_slice(cek);
        Ok(64)
    }
}
impl KeyUnwrap for Toy {
    fn unwrap_key(&mut self, wrapped: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        let n = match wrapped.len() {
            16 | 32 => wrapped.len(),
            64 if wrapped[16..].iter().all(|&b| b == 0xA5) => 16,
            _ => return Err(KeyWrapError),
        };
        out[..n].copy_from_slice(&wrapped[..n]);
        Ok(n)
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let mut buf = rest.to_vec();
        let len = buf.len();
        if let Ok(r) = open_in_place(&mut buf, 0..len, &mut Toy) {
            assert!(r.end <= len);
        }
    } else {
        let (flip, plain) = rest.split_at(rest.len().min(2));
        let mut buf = vec![0u8; sealed_len(plain.len(), 64)];
        buf[..plain.len()].copy_from_slice(plain);
        let n = seal_in_place(&mut buf, plain.len(), &mut Toy, &[7; 16], &[9; 12]).unwrap();
        assert_eq!(n, buf.len());
        let jwe = 12..n - 2;
        let mut copy = buf.clone();
        let pt = open_in_place(&mut copy, jwe.clone(), &mut Toy).unwrap();
        assert_eq!(&copy[pt], plain);
        if flip.len() == 2 {
            let at = jwe.start + usize::from(u16::from_le_bytes([flip[0], flip[1]])) % jwe.len();
            let old = buf[at];
            let new = if old == b'A' { b'B' } else { b'A' };
            if new != old && old != b'.' {
                buf[at] = new;
                // a changed character either breaks the encoding, the header, the key or the
                // tag check; a change only in the unused bits of the last base64 character
                // is rejected as non-canonical
                assert!(
                    open_in_place(&mut buf, jwe, &mut Toy).is_err(),
                    "tampering undetected"
                );
            }
        }
    }
});
