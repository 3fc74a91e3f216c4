//! The heapless RSA's key parsers on arbitrary bytes: a SubjectPublicKeyInfo, PKCS#1 or
//! PKCS#8 DER walk never panics, and a key it accepts works (a wrap its own unwrap opens).
#![no_main]

use konaplate_embedded::rsa::{MODULUS_BYTES, RsaPrivateKey, RsaPublicKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut n = 0u8;
    let mut random = |out: &mut [u8]| {
        for b in out.iter_mut() {
            n = n.wrapping_add(37);
            *b = n;
        }
    };
    if let Ok(public) = RsaPublicKey::from_der(data) {
        let mut out = [0u8; MODULUS_BYTES];
        let _ = public.oaep_encrypt(b"cek", &mut random, &mut out);
    }
    if let Ok(key) = RsaPrivateKey::from_der(data) {
        let mut wrapped = [0u8; MODULUS_BYTES];
        key.public_key()
            .oaep_encrypt(b"0123456789abcdef", &mut random, &mut wrapped)
            .unwrap();
        let mut out = [0u8; 64];
        let got = key.oaep_decrypt(&wrapped, &mut random, &mut out).unwrap();
        assert_eq!(&out[..got], b"0123456789abcdef");
    }
});
