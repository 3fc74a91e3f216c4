//! AES-GCM (NIST SP 800-38D) with a 96-bit IV and a 128-bit tag, in place: the RustCrypto
//! block cipher (`aes`, constant-time fixsliced software AES) and GHASH (`ghash`) composed
//! here, so that sealing and opening share one copy of the counter mode and of the tag
//! computation. (The `aes-gcm` crate writes its CTR keystream out once for encryption and
//! once for decryption; on a microcontroller that second copy alone was most of a kilobyte.)
//!
//! Opening checks the tag, in constant time, *before* decrypting: a forged ciphertext is
//! never turned into plaintext. The tests below check both directions against the `aes-gcm`
//! crate on generated keys, IVs, AADs and texts, and tampering of every part.

use aes::cipher::consts::U16;
use aes::cipher::{BlockEncrypt, BlockSizeUser, KeyInit, generic_array::GenericArray};
use ghash::GHash;
use ghash::universal_hash::UniversalHash;
use zeroize::Zeroize;

/// A 16-byte block.
type Block = GenericArray<u8, U16>;

/// A 128-bit block cipher: AES-128 or AES-256.
pub(crate) trait Cipher: BlockEncrypt + BlockSizeUser<BlockSize = U16> + KeyInit {}
impl<C: BlockEncrypt + BlockSizeUser<BlockSize = U16> + KeyInit> Cipher for C {}

/// Longest text GCM admits: 2^39 - 256 bits (the 32-bit block counter must not wrap).
const MAX_TEXT: u64 = (1 << 36) - 32;

/// Encrypts `buf` in place with `key`, `iv` and additional data `aad`; returns the tag.
/// `None` (and `buf` untouched) when the key has the wrong length or `buf` is longer than
/// GCM admits.
pub(crate) fn seal<C: Cipher>(
    key: &[u8],
    iv: &[u8; 12],
    aad: &[u8],
    buf: &mut [u8],
) -> Option<[u8; 16]> {
    let mut tag = [0u8; 16];
    gcm(
        &C::new_from_slice(key).ok()?,
        iv,
        aad,
        buf,
        Direction::Seal,
        &mut tag,
    )
    .then_some(tag)
}

/// Checks `tag` over `aad` and the ciphertext `buf`, then decrypts `buf` in place; `false`
/// (and `buf` untouched) when the tag does not match or the key has the wrong length.
pub(crate) fn open<C: Cipher>(
    key: &[u8],
    iv: &[u8; 12],
    aad: &[u8],
    buf: &mut [u8],
    tag: &[u8; 16],
) -> bool {
    let mut tag = *tag;
    match C::new_from_slice(key) {
        Ok(cipher) => gcm(&cipher, iv, aad, buf, Direction::Open, &mut tag),
        Err(_) => false,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Seal,
    Open,
}

/// Both directions, one copy: sealing encrypts then authenticates the ciphertext and writes
/// the tag to `tag`; opening authenticates the ciphertext against `tag` and decrypts only
/// when it matches. Returns whether it did its work.
#[inline(never)]
fn gcm<C: Cipher>(
    cipher: &C,
    iv: &[u8; 12],
    aad: &[u8],
    buf: &mut [u8],
    dir: Direction,
    tag: &mut [u8; 16],
) -> bool {
    if buf.len() as u64 > MAX_TEXT || aad.len() as u64 > MAX_TEXT {
        return false;
    }
    // the hash key H = E(0^128)
    let mut h = Block::default();
    cipher.encrypt_block(&mut h);
    let mut ghash = GHash::new(&h);
    h.zeroize();
    // J0 = IV || 0^31 || 1; E(J0) masks the tag, the text's keystream starts at J0 + 1
    let mut iv_block = [0u8; 16];
    if let Some(head) = iv_block.get_mut(..12) {
        head.copy_from_slice(iv);
    }
    let iv_prefix = u128::from_be_bytes(iv_block);
    let mut mask = Block::from((iv_prefix | 1).to_be_bytes());
    cipher.encrypt_block(&mut mask);

    ghash.update_padded(aad);
    if dir == Direction::Seal {
        ctr(cipher, iv_prefix, buf);
    }
    ghash.update_padded(buf);
    // the lengths in bits, 64 bits each
    let lengths = (u128::from(aad.len() as u64 * 8) << 64) | u128::from(buf.len() as u64 * 8);
    ghash.update(&[Block::from(lengths.to_be_bytes())]);

    let done = match dir {
        Direction::Seal => {
            let mut full = ghash.finalize();
            xor(&mut full, &mask);
            tag.copy_from_slice(&full);
            true
        }
        Direction::Open => {
            // GHASH(A, C) == tag ^ E(J0), compared in constant time
            let mut expected = Block::from(*tag);
            xor(&mut expected, &mask);
            let ok = ghash.verify(&expected).is_ok();
            if ok {
                ctr(cipher, iv_prefix, buf);
            }
            ok
        }
    };
    mask.zeroize();
    done
}

/// XORs the keystream of the counter blocks J0 + 1, J0 + 2, ... (IV, then a 32-bit
/// big-endian counter from 2) into `buf`.
fn ctr<C: Cipher>(cipher: &C, iv_prefix: u128, buf: &mut [u8]) {
    let mut counter = 1u32;
    let mut block = Block::default();
    for chunk in buf.chunks_mut(16) {
        counter = counter.wrapping_add(1);
        block = Block::from((iv_prefix | u128::from(counter)).to_be_bytes());
        cipher.encrypt_block(&mut block);
        xor(chunk, &block);
    }
    block.zeroize();
}

/// `a ^= b` over the shorter of the two.
fn xor(a: &mut [u8], b: &[u8]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x ^= y;
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use aes_gcm::aead::AeadInPlace;
    use aes_gcm::{Aes128Gcm, Aes256Gcm, KeyInit as _};
    use proptest::prelude::*;

    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The reference: the `aes-gcm` crate's detached encryption.
    fn reference(key: &[u8], iv: &[u8; 12], aad: &[u8], pt: &[u8]) -> (Vec<u8>, [u8; 16]) {
        let mut ct = pt.to_vec();
        let nonce = GenericArray::from(*iv);
        let tag = match key.len() {
            16 => Aes128Gcm::new_from_slice(key)
                .unwrap()
                .encrypt_in_place_detached(&nonce, aad, &mut ct),
            _ => Aes256Gcm::new_from_slice(key)
                .unwrap()
                .encrypt_in_place_detached(&nonce, aad, &mut ct),
        }
        .unwrap();
        (ct, tag.into())
    }

    fn ours_seal(key: &[u8], iv: &[u8; 12], aad: &[u8], pt: &[u8]) -> (Vec<u8>, [u8; 16]) {
        let mut ct = pt.to_vec();
        let tag = match key.len() {
            16 => seal::<aes::Aes128>(key, iv, aad, &mut ct),
            _ => seal::<aes::Aes256>(key, iv, aad, &mut ct),
        }
        .unwrap();
        (ct, tag)
    }

    fn ours_open(key: &[u8], iv: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8; 16]) -> bool {
        match key.len() {
            16 => open::<aes::Aes128>(key, iv, aad, buf, tag),
            _ => open::<aes::Aes256>(key, iv, aad, buf, tag),
        }
    }

    /// The GCM specification's test cases 1 and 2 (McGrew & Viega), and case 4 (AAD, a
    /// partial last block).
    #[test]
    fn specification_vectors() {
        let zero = [0u8; 16];
        let (ct, tag) = ours_seal(&zero, &[0; 12], &[], &[]);
        assert!(ct.is_empty());
        assert_eq!(tag.to_vec(), hex("58e2fccefa7e3061367f1d57a4e7455a"));
        let (ct, tag) = ours_seal(&zero, &[0; 12], &[], &zero);
        assert_eq!(ct, hex("0388dace60b6a392f328c2b971b2fe78"));
        assert_eq!(tag.to_vec(), hex("ab6e47d42cec13bdf53a67b21257bddf"));
        let key = hex("feffe9928665731c6d6a8f9467308308");
        let iv: [u8; 12] = hex("cafebabefacedbaddecaf888").try_into().unwrap();
        let pt = hex(concat!(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72",
            "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
        ));
        let aad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
        let (ct, tag) = ours_seal(&key, &iv, &aad, &pt);
        assert_eq!(
            ct,
            hex(concat!(
                "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e",
                "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
            ))
        );
        assert_eq!(tag.to_vec(), hex("5bc94fbc3221a5db94fae95ae7121a47"));
        let mut buf = ct.clone();
        assert!(ours_open(&key, &iv, &aad, &mut buf, &tag));
        assert_eq!(buf, pt);
    }

    proptest! {
        #[test]
        fn seal_and_open_agree_with_aes_gcm(
            wide in any::<bool>(),
            key in prop::collection::vec(any::<u8>(), 32),
            iv in any::<[u8; 12]>(),
            aad in prop::collection::vec(any::<u8>(), 0..70),
            pt in prop::collection::vec(any::<u8>(), 0..100),
        ) {
            let key = if wide { &key[..] } else { &key[..16] };
            let (ct, tag) = ours_seal(key, &iv, &aad, &pt);
            prop_assert_eq!((&ct, tag), (&reference(key, &iv, &aad, &pt).0, reference(key, &iv, &aad, &pt).1));
            let mut buf = ct.clone();
            prop_assert!(ours_open(key, &iv, &aad, &mut buf, &tag));
            prop_assert_eq!(&buf, &pt);
        }

        /// A change to any bit of the ciphertext, tag, AAD or IV is refused, and the
        /// ciphertext is left as it was (never decrypted).
        #[test]
        fn tampering_is_refused_before_decrypting(
            key in any::<[u8; 16]>(),
            iv in any::<[u8; 12]>(),
            aad in prop::collection::vec(any::<u8>(), 1..40),
            pt in prop::collection::vec(any::<u8>(), 1..60),
            which in 0usize..4,
            at in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let (ct, tag) = ours_seal(&key, &iv, &aad, &pt);
            let (mut ct2, mut tag2, mut aad2, mut iv2) = (ct.clone(), tag, aad.clone(), iv);
            match which {
                0 => { let i = at.index(ct2.len()); ct2[i] ^= 1 << bit }
                1 => tag2[at.index(16)] ^= 1 << bit,
                2 => { let i = at.index(aad2.len()); aad2[i] ^= 1 << bit }
                _ => iv2[at.index(12)] ^= 1 << bit,
            }
            let before = ct2.clone();
            prop_assert!(!ours_open(&key, &iv2, &aad2, &mut ct2, &tag2));
            prop_assert_eq!(ct2, before);
        }
    }

    #[test]
    fn a_key_of_the_wrong_length_opens_nothing() {
        let mut buf = [1u8; 8];
        assert!(!open::<aes::Aes128>(
            &[0u8; 15],
            &[0; 12],
            &[],
            &mut buf,
            &[0; 16]
        ));
        assert!(seal::<aes::Aes128>(&[0u8; 32], &[0; 12], &[], &mut buf).is_none());
        assert_eq!(buf, [1u8; 8]);
    }
}
