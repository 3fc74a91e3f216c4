//! The pinned TLS verifier on arbitrary server messages: the X.509 walk of the core
//! (`pin::certificate_spki`, `spki_key`) and the verifier's `verify_certificate` /
//! `verify_signature` never panic; a certificate is accepted only when its key is pinned, and
//! a connection is authenticated only after a signature verified.
//!
//! Input: a selector byte (scheme), a 2-byte signature length, the signature, the rest the
//! end-entity certificate. The pin is the certificate's own key when it has one, so the
//! walk goes on into the key and the signature.
#![no_main]

use embedded_tls::{
    Aes128GcmSha256, CertificateEntryRef, CertificateRef, CertificateVerifyRef, SignatureScheme,
    TlsVerifier,
};
use konaplate_core::pin::{Pin, certificate_spki, spki_key};
use konaplate_embedded::tls::{PinnedVerifier, Refusal};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

const SCHEMES: [SignatureScheme; 6] = [
    SignatureScheme::EcdsaSecp256r1Sha256,
    SignatureScheme::RsaPssRsaeSha256,
    SignatureScheme::RsaPssRsaeSha384,
    SignatureScheme::RsaPssRsaeSha512,
    SignatureScheme::RsaPkcs1Sha256,
    SignatureScheme::Ed25519,
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let Some((len, rest)) = rest.split_first_chunk::<2>() else {
        return;
    };
    let sig_len = usize::from(u16::from_be_bytes(*len)).min(rest.len());
    let (signature, cert) = rest.split_at(sig_len);

    let spki = certificate_spki(cert).ok();
    if let Some(spki) = spki {
        let _ = spki_key(spki);
    }
    let pins = [spki.map_or(Pin::from_sha256([0; 32]), Pin::of_spki)];
    let mut verifier = PinnedVerifier::<Aes128GcmSha256>::new(&pins);
    let mut entries = CertificateRef::with_context(&[]);
    entries.add(CertificateEntryRef::X509(cert)).unwrap();
    let transcript = Sha256::new_with_prefix(b"transcript");
    let pinned =
        TlsVerifier::<Aes128GcmSha256>::verify_certificate(&mut verifier, &transcript, entries)
            .is_ok();
    // accepted exactly when the walk found a key, and the key is one the verifier can use
    if spki.is_none() {
        assert!(!pinned);
        assert!(matches!(
            verifier.authenticated(),
            Err(Refusal::NotX509 | Refusal::EmptyCertificateList)
        ));
    }
    let verify = CertificateVerifyRef {
        signature_scheme: SCHEMES[usize::from(sel) % SCHEMES.len()],
        signature,
    };
    let verified = TlsVerifier::<Aes128GcmSha256>::verify_signature(&mut verifier, verify).is_ok();
    assert!(
        !verified || pinned,
        "a signature verified without a pinned certificate"
    );
    assert_eq!(verifier.authenticated().is_ok(), verified);
});
