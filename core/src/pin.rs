//! # Pinning the platform's key
//!
//! A pin is the SHA-256 of a server certificate's whole DER `SubjectPublicKeyInfo` (RFC 7469's
//! `pin-sha256`): it names a key, not a certificate, so it survives the renewal of a
//! certificate for the same key and catches a certificate for another key under the same
//! name. Compute it from the platform's certificate with
//!
//! ```text
//! openssl s_client -connect api.konaplate.com:443 -servername api.konaplate.com </dev/null \
//!   | openssl x509 -pubkey -noout | openssl pkey -pubin -outform der \
//!   | openssl dgst -sha256 -binary | openssl enc -base64
//! ```
//!
//! and configure two at least: the current key and the backup key the platform will rotate
//! to. [`Pin::parse`] takes the 44-character base64 form this prints, or 64 hex digits, either
//! optionally after `sha256/`.
//!
//! This module only reads certificates (no allocation, no panic on any input): TLS stacks
//! use it to find the key to pin ([`certificate_spki`], [`spki_key`]) and to compare
//! ([`Pins::check`]); the signature of the handshake is theirs to verify with that key.
//!
//! ```
//! use konaplate_core::pin::{Pin, Pins};
//! let current = Pin::parse("sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")?;
//! let backup = Pin::parse("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")?;
//! assert_eq!(current, backup); // the same digest, two spellings
//! assert_eq!(current.to_base64().as_str(), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
//! let err = Pin::parse("47DEQpj8").unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     "invalid pin: expected the SHA-256 of a SubjectPublicKeyInfo as 44 characters of \
//!      base64 or 64 hex digits (optionally after `sha256/`)"
//! );
//! # let _ = Pins::new(&[current, backup]);
//! # Ok::<(), konaplate_core::pin::PinError>(())
//! ```

use crate::base::base64;
use crate::base::der::{
    BIT_STRING, CONTEXT_0, EC_PUBLIC_KEY, INTEGER, NULL, OID, PRIME256V1, RSA_ENCRYPTION, Reader,
    SEQUENCE,
};
use crate::base::describe::{Describe, Sink, display_by_describe};
use crate::sign::sha256;

/// The SHA-256 of a DER `SubjectPublicKeyInfo`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Pin([u8; 32]);

impl Pin {
    /// A pin from its 32 bytes.
    pub const fn from_sha256(digest: [u8; 32]) -> Self {
        Pin(digest)
    }

    /// The pin of a DER `SubjectPublicKeyInfo`.
    pub fn of_spki(spki_der: &[u8]) -> Self {
        Pin(sha256(spki_der))
    }

    /// Reads a pin: 44 characters of standard base64 (what the `openssl` pipeline above
    /// prints) or 64 hex digits, optionally after `sha256/`; spaces around it are ignored.
    pub fn parse(text: &str) -> Result<Self, PinError> {
        let t = text.trim();
        let t = t.strip_prefix("sha256/").unwrap_or(t).as_bytes();
        if t.len() == 64 {
            let mut out = [0u8; 32];
            for (o, pair) in out.iter_mut().zip(t.chunks_exact(2)) {
                let hex = |c: u8| char::from(c).to_digit(16);
                let (Some(&hi), Some(&lo)) = (pair.first(), pair.get(1)) else {
                    return Err(PinError::Syntax);
                };
                let (Some(hi), Some(lo)) = (hex(hi), hex(lo)) else {
                    return Err(PinError::Syntax);
                };
                *o = ((hi << 4) | lo) as u8;
            }
            return Ok(Pin(out));
        }
        base64::decode_standard_32(t)
            .map(Pin)
            .ok_or(PinError::Syntax)
    }

    /// The 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The standard base64 form (44 characters), as [`Pin::parse`] reads it.
    pub fn to_base64(&self) -> PinText {
        let mut out = [0u8; 44];
        base64::encode_standard_32(&self.0, &mut out);
        PinText(out)
    }
}

impl core::fmt::Debug for Pin {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Pin(sha256/{})", self.to_base64().as_str())
    }
}

/// A pin's base64 text.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PinText([u8; 44]);

impl PinText {
    /// The text.
    pub fn as_str(&self) -> &str {
        core::str::from_utf8(&self.0).unwrap_or("")
    }
}

/// The pins a connection accepts (a current key and a backup, at least).
#[derive(Clone, Copy, Debug)]
pub struct Pins<'a>(&'a [Pin]);

impl<'a> Pins<'a> {
    /// The accepted pins. An empty set accepts nothing.
    pub const fn new(pins: &'a [Pin]) -> Self {
        Pins(pins)
    }

    /// The accepted pins.
    pub const fn as_slice(&self) -> &'a [Pin] {
        self.0
    }

    /// Whether `pin` is one of them.
    pub fn contains(&self, pin: &Pin) -> bool {
        self.0.contains(pin)
    }

    /// Checks a server's end-entity certificate (DER): its `SubjectPublicKeyInfo` must hash to
    /// one of the pins. Returns the `SubjectPublicKeyInfo`, whose key must then verify the
    /// handshake's signature.
    pub fn check<'c>(&self, certificate_der: &'c [u8]) -> Result<&'c [u8], PinError> {
        let spki = certificate_spki(certificate_der)?;
        if self.contains(&Pin::of_spki(spki)) {
            Ok(spki)
        } else {
            Err(PinError::Mismatch)
        }
    }
}

/// The key of a `SubjectPublicKeyInfo`, as far as a pinned TLS connection needs to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpkiKey<'a> {
    /// rsaEncryption: the DER `RSAPublicKey` (modulus, exponent).
    Rsa {
        /// The PKCS#1 `RSAPublicKey`.
        rsa_public_key: &'a [u8],
    },
    /// id-ecPublicKey on prime256v1: the SEC1 point (65 bytes uncompressed, or 33).
    P256 {
        /// The encoded point.
        point: &'a [u8],
    },
    /// Any other algorithm or curve (P-384, Ed25519, RSASSA-PSS keys, ...).
    Other,
}

/// Why a pin or a certificate was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum PinError {
    /// The pin's text is neither 44 characters of base64 nor 64 hex digits.
    Syntax,
    /// The certificate is not a DER X.509 certificate (or its `SubjectPublicKeyInfo` is not
    /// one).
    NotX509,
    /// The certificate's key is not one of the pins.
    Mismatch,
}

impl Describe for PinError {
    fn describe(&self, out: &mut dyn Sink) {
        out.put(match self {
            PinError::Syntax => {
                "invalid pin: expected the SHA-256 of a SubjectPublicKeyInfo as 44 characters \
                 of base64 or 64 hex digits (optionally after `sha256/`)"
            }
            PinError::NotX509 => "server certificate: not a DER X.509 certificate",
            PinError::Mismatch => {
                "server certificate: its key (SHA-256 of the SubjectPublicKeyInfo) is none of \
                 the pinned keys"
            }
        });
    }
}

display_by_describe!(PinError);

/// The whole DER `SubjectPublicKeyInfo` (tag and length included) of an X.509 certificate.
/// The walk checks the certificate's outer structure (certificate, signature algorithm,
/// signature; version, serial number, algorithm, issuer, validity, subject, key) and the key's
/// (algorithm identifier and a BIT STRING), and nothing else: no date, name or signature.
pub fn certificate_spki(certificate_der: &[u8]) -> Result<&[u8], PinError> {
    walk(certificate_der).ok_or(PinError::NotX509)
}

fn walk(der: &[u8]) -> Option<&[u8]> {
    // Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }
    let mut cert = Reader::new(Reader::single(der, SEQUENCE)?);
    let tbs = cert.expect(SEQUENCE)?;
    cert.expect(SEQUENCE)?;
    cert.expect(BIT_STRING)?;
    if !cert.is_empty() {
        return None;
    }
    // TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer,
    //   validity, subject, subjectPublicKeyInfo, ... }
    let mut tbs = Reader::new(tbs);
    let mut first = tbs.next()?;
    if first.tag == CONTEXT_0 {
        first = tbs.next()?;
    }
    if first.tag != INTEGER {
        return None;
    }
    for _ in 0..4 {
        tbs.expect(SEQUENCE)?;
    }
    let spki = tbs.expect_tlv(SEQUENCE)?;
    spki_parts(spki.raw)?;
    Some(spki.raw)
}

/// `SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier, subjectPublicKey BIT
/// STRING }`: the algorithm's contents and the key's bits (whole bytes only).
fn spki_parts(spki: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut s = Reader::new(Reader::single(spki, SEQUENCE)?);
    let alg = s.expect(SEQUENCE)?;
    let bits = s.expect(BIT_STRING)?;
    if !s.is_empty() {
        return None;
    }
    let (&unused, key) = bits.split_first()?;
    (unused == 0).then_some((alg, key))
}

/// What key a DER `SubjectPublicKeyInfo` holds.
pub fn spki_key(spki_der: &[u8]) -> Result<SpkiKey<'_>, PinError> {
    let (alg, key) = spki_parts(spki_der).ok_or(PinError::NotX509)?;
    let mut a = Reader::new(alg);
    let oid = a.expect(OID).ok_or(PinError::NotX509)?;
    let params = a.next();
    if !a.is_empty() {
        return Err(PinError::NotX509);
    }
    Ok(if oid == RSA_ENCRYPTION {
        // the parameters are NULL (or absent)
        match params {
            None => {}
            Some(t) if t.tag == NULL && t.value.is_empty() => {}
            Some(_) => return Err(PinError::NotX509),
        }
        SpkiKey::Rsa {
            rsa_public_key: key,
        }
    } else if oid == EC_PUBLIC_KEY {
        match params {
            Some(t) if t.tag == OID && t.value == PRIME256V1 => SpkiKey::P256 { point: key },
            _ => SpkiKey::Other,
        }
    } else {
        SpkiKey::Other
    })
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use proptest::prelude::*;

    /// Self-signed certificates made by `openssl req -x509 -newkey ec|rsa:2048`, base64, with
    /// the pins the README's `openssl` pipeline printed for them.
    const P256_CERT: &str = "MIIBgDCCASWgAwIBAgIUbKL+VdqcansQw8zyDNy3IO9fMI0wCgYIKoZIzj0EAwIwFDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwMjAzMTE0MloYDzIxMjYxMTA4MDMxMTQyWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAASv3OMBJLFZtXCzlR2iZglMM1QzjsjfFdDnlOa/Wbn1FipQgZkQ2/8erjymrKJlcBpCPU2jVQ0USN5bGEVVIZpKo1MwUTAdBgNVHQ4EFgQUGsbhBVMADa4mSsU7t2ry76iuC0wwHwYDVR0jBBgwFoAUGsbhBVMADa4mSsU7t2ry76iuC0wwDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEA6rE0fCT+kiwrmAKAX+jwABlSJH/MkLnWEKBXe1E2pWQCIQD2Nh56TR73YjJGbkAYrO1dsMY5jpIjbSApX+aWukMAqw==";
    const P256_PIN: &str = "9xNUdQG5q/eud/mbdoFsJJfWMLSz1nBSe7FRortq1bA=";
    const RSA_CERT: &str = "MIIDCzCCAfOgAwIBAgIUCdA5PeNF9mfL23FDgt+oco+4kpMwDQYJKoZIhvcNAQELBQAwFDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTIwMjAzMTE0NVoYDzIxMjYxMTA4MDMxMTQ1WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQDiMvvVbv4/XIBjwMHPVIUDijk/YNH14yHqrV4i1kCMCpQ9bIf62I4dJ3vNQiKGRGNKJ8VxKltxWoYG02ROUlW1sge7b0tE/hwvBlAn/4jhshgHf2z4u90XJxQwZJxiv2QYUQ1wjw44gEon+6aMmNr8Mv51ryWvyjF+7koX11/1LOrHB3U18WLzbvPdL9fe+gvJrmqXrr89b8kWM7exsnFyZ2uLoIXCytt4BLfNZOs9w5jnBAmJeSAhvF9icygkpCGll4feFt7cIE3+qs4lJ70hVOUNYJwP85NW8U8OAhTqxgVnmY4cnzXBs9Dx8sIiKRQHnxQvOGad+f7oeD63Bp2zAgMBAAGjUzBRMB0GA1UdDgQWBBTaNGN7XE4nes3C/8gH897e+bVYHjAfBgNVHSMEGDAWgBTaNGN7XE4nes3C/8gH897e+bVYHjAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQBkaFwOOPksKIZsn56pZEaTDy/o4s7AiIoTJJpTEg38rGH1I+A1DFWWG2tD1i5T2K9lE2V6aARTO+xzi0Nt5WG5qgqR4XmyFaBE1+rXa1W7GUWs8iP31Yo9+ot+o87gUepwkFAAJh9eYDF44uFN98Imbe6Q3SnI9CDpVPhUjAMj/HEOe76PgWf90ResS5sKLjJJC/OuT/LMzT9XaUKudmBESB7n9CIrFIL579QqMp7Zc9pt86Rx0CAGZ91Et84fKRTgKIjzdYcq01bAxE0ZLT7oSc1ukyqx6GjKVuo6KbaAmXqYSStM8E5YA7/WjQhjP8X7I1oWcUGwfmRfhpfGr5UY";
    const RSA_PIN: &str = "4sjMwDWX7U2uJR3J7uvSkGZCZ9s4uSIgJ++hwRKbR9w=";

    fn der(b64: &str) -> std::vec::Vec<u8> {
        use base64_ref::Engine;
        base64_ref::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap()
    }

    use ::base64 as base64_ref;

    #[test]
    fn the_key_of_a_certificate_is_found_and_pinned() {
        let cert = der(P256_CERT);
        let spki = certificate_spki(&cert).unwrap();
        assert_eq!(spki.first(), Some(&0x30));
        assert_eq!(spki.len(), 91); // a P-256 SPKI
        match spki_key(spki).unwrap() {
            SpkiKey::P256 { point } => {
                assert_eq!(point.len(), 65);
                assert_eq!(point.first(), Some(&0x04));
            }
            other => panic!("{other:?}"),
        }
        let pin = Pin::of_spki(spki);
        assert_eq!(pin, Pin::parse(P256_PIN).unwrap());
        let other = Pin::from_sha256([7; 32]);
        assert_eq!(Pins::new(&[other, pin]).check(&cert), Ok(spki));
        assert_eq!(Pins::new(&[other]).check(&cert), Err(PinError::Mismatch));
        assert_eq!(Pins::new(&[]).check(&cert), Err(PinError::Mismatch));
        // the text forms round-trip
        assert_eq!(Pin::parse(pin.to_base64().as_str()), Ok(pin));
        // a truncated, extended or damaged certificate is not X.509
        assert_eq!(
            certificate_spki(&cert[..cert.len() - 1]),
            Err(PinError::NotX509)
        );
        let mut longer = cert.clone();
        longer.push(0);
        assert_eq!(certificate_spki(&longer), Err(PinError::NotX509));
        assert_eq!(certificate_spki(&[]), Err(PinError::NotX509));
        assert_eq!(
            certificate_spki(b"not a certificate"),
            Err(PinError::NotX509)
        );
    }

    #[test]
    fn an_rsa_certificate_is_pinned_as_openssl_does() {
        let cert = der(RSA_CERT);
        let spki = certificate_spki(&cert).unwrap();
        assert_eq!(Pin::of_spki(spki), Pin::parse(RSA_PIN).unwrap());
        match spki_key(spki).unwrap() {
            SpkiKey::Rsa { rsa_public_key } => assert_eq!(rsa_public_key.first(), Some(&0x30)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pin_texts() {
        let zero = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        assert_eq!(Pin::parse(zero), Ok(Pin::from_sha256([0; 32])));
        assert_eq!(
            Pin::parse(&std::format!(" sha256/{zero} ")),
            Ok(Pin([0; 32]))
        );
        assert_eq!(Pin::parse(&"00".repeat(32)), Ok(Pin([0; 32])));
        assert_eq!(Pin::parse(&"Ff".repeat(32)), Ok(Pin([0xFF; 32])));
        for bad in [
            "",
            "sha256/",
            &zero[..43],                                    // no padding
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=", // non-canonical bits
            "-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", // base64url
            &"0g".repeat(32),                               // not hex
            &"00".repeat(33),
            "sha1/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ] {
            assert_eq!(Pin::parse(bad), Err(PinError::Syntax), "{bad:?}");
        }
    }

    proptest! {
        /// Both text forms of any digest read back to it.
        #[test]
        fn any_pin_round_trips(bytes in any::<[u8; 32]>()) {
            let pin = Pin::from_sha256(bytes);
            prop_assert_eq!(Pin::parse(pin.to_base64().as_str()), Ok(pin));
            let hex: std::string::String = bytes.iter().map(|b| std::format!("{b:02x}")).collect();
            prop_assert_eq!(Pin::parse(&hex), Ok(pin));
            prop_assert_eq!(Pin::parse(&hex.to_uppercase()), Ok(pin));
        }

        /// No input makes the walk panic, and what it returns lies inside the input.
        #[test]
        fn any_bytes_are_walked_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            if let Ok(spki) = certificate_spki(&bytes) {
                let start = spki.as_ptr() as usize - bytes.as_ptr() as usize;
                prop_assert!(start + spki.len() <= bytes.len());
                let _ = spki_key(spki);
            }
            let _ = spki_key(&bytes);
        }

        /// A certificate with one byte changed is refused, or passes the pin only when the
        /// change is outside its key.
        #[test]
        fn a_damaged_key_never_passes_the_pin(at in 0usize..400, byte in any::<u8>()) {
            let original = der(P256_CERT);
            let pins = [Pin::parse(P256_PIN).unwrap()];
            let (start, len) = {
                let spki = certificate_spki(&original).unwrap();
                (spki.as_ptr() as usize - original.as_ptr() as usize, spki.len())
            };
            let mut cert = original.clone();
            let i = at % cert.len();
            prop_assume!(cert[i] != byte);
            cert[i] = byte;
            let inside_key = (start..start + len).contains(&i);
            match Pins::new(&pins).check(&cert) {
                Ok(_) => prop_assert!(!inside_key),
                Err(e) => prop_assert!(e == PinError::Mismatch || e == PinError::NotX509),
            }
        }
    }
}
