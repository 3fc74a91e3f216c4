//! The heapless RSA (`konaplate_embedded::rsa`, feature `rsa`): Wycheproof's RSA-OAEP-SHA256
//! and RSA-PSS vectors; both ways against the `rsa` crate (the desktop client's RSA) and the
//! `openssl` command with the sandbox's keys; the key parsers on every DER form and on damaged input; and the embedded client
//! issuing a real token and opening a real encrypted cancellation against the sandbox with it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure is a failed test"
)]

use base64::Engine;
use konaplate_core::jwe::{KeyUnwrap, KeyWrap};
use konaplate_embedded::rsa::{
    KeyError, MAX_MESSAGE, MODULUS_BYTES, OaepUnwrap, OaepWrap, PssHash, RsaPrivateKey,
    RsaPublicKey, SignatureError,
};
use proptest::prelude::*;
use rsa::pkcs8::DecodePrivateKey;
use std::path::PathBuf;
use std::process::Command;

fn pem_der(pem: &str) -> Vec<u8> {
    let b64: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<Vec<_>>()
        .concat();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

fn sandbox_file(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../sandbox/keys/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A test random source (a counter through SHA-256): deterministic, never repeating.
fn random() -> impl FnMut(&mut [u8]) {
    let mut n = 0u64;
    move |out: &mut [u8]| {
        for chunk in out.chunks_mut(32) {
            n += 1;
            let h = konaplate_core::sign::sha256(&n.to_le_bytes());
            chunk.copy_from_slice(&h[..chunk.len()]);
        }
    }
}

#[test]
fn wycheproof_rsa_oaep_2048_sha256() {
    use wycheproof::rsa_oaep::{TestName, TestSet};
    let set = TestSet::load(TestName::Rsa2048Sha256Mgf1Sha256).unwrap();
    let (mut checked, mut skipped) = (0, 0);
    for group in set.test_groups {
        let key = RsaPrivateKey::from_der(&group.pkcs8).unwrap();
        let mut rnd = random();
        for t in group.tests {
            if !t.label.is_empty() {
                // labelled messages: the JWE key wrap uses the empty label only
                skipped += 1;
                continue;
            }
            let mut out = [0u8; MODULUS_BYTES];
            let got = key.oaep_decrypt(&t.ct, &mut rnd, &mut out);
            match t.result {
                wycheproof::TestResult::Valid => {
                    let n = got
                        .unwrap_or_else(|_| panic!("test {}: a valid ciphertext refused", t.tc_id));
                    assert_eq!(&out[..n], &t.pt[..], "test {}", t.tc_id);
                }
                wycheproof::TestResult::Invalid => {
                    assert!(
                        got.is_err(),
                        "test {}: an invalid ciphertext accepted ({:?})",
                        t.tc_id,
                        t.flags
                    );
                }
                wycheproof::TestResult::Acceptable => {}
            }
            checked += 1;
        }
    }
    assert!(checked > 20, "{checked} vectors checked, {skipped} skipped");
}

/// Wycheproof's RSASSA-PSS vectors for the TLS 1.3 schemes: MGF1 with the same hash, the
/// salt as long as the hash.
#[test]
fn wycheproof_rsa_pss_2048() {
    use wycheproof::rsa_pss_verify::{TestName, TestSet};
    let mut checked = 0;
    for (name, hash) in [
        (TestName::RsaPss2048Sha256Mgf1SaltLen32, PssHash::Sha256),
        (TestName::RsaPss2048Sha384Mgf1SaltLen48, PssHash::Sha384),
    ] {
        let set = TestSet::load(name).unwrap();
        for group in set.test_groups {
            let key = RsaPublicKey::from_der(&group.der).unwrap();
            for t in group.tests {
                let got = key.verify_pss(hash, &t.msg, &t.sig);
                match t.result {
                    wycheproof::TestResult::Valid => {
                        assert_eq!(got, Ok(()), "{name:?} test {}: refused", t.tc_id)
                    }
                    wycheproof::TestResult::Invalid => assert_eq!(
                        got,
                        Err(SignatureError),
                        "{name:?} test {}: accepted ({:?})",
                        t.tc_id,
                        t.flags
                    ),
                    wycheproof::TestResult::Acceptable => {}
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked} vectors checked");
}

/// PSS with SHA-512 (no Wycheproof file at 2048 bits): signed by the `rsa` crate.
#[test]
fn pss_signatures_of_the_rsa_crate_verify() {
    use rsa::signature::{RandomizedSigner, SignatureEncoding};
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(&sandbox_file("server_private.pem")).unwrap();
    let ours = RsaPublicKey::from_der(&pem_der(&sandbox_file("server_public.pem"))).unwrap();
    let mut rng = rand::thread_rng();
    let msg = b"TLS 1.3, server CertificateVerify";
    let s256 = rsa::pss::BlindedSigningKey::<sha2::Sha256>::new(key.clone())
        .sign_with_rng(&mut rng, msg)
        .to_vec();
    let s384 = rsa::pss::BlindedSigningKey::<sha2::Sha384>::new(key.clone())
        .sign_with_rng(&mut rng, msg)
        .to_vec();
    let s512 = rsa::pss::BlindedSigningKey::<sha2::Sha512>::new(key)
        .sign_with_rng(&mut rng, msg)
        .to_vec();
    assert_eq!(ours.verify_pss(PssHash::Sha256, msg, &s256), Ok(()));
    assert_eq!(ours.verify_pss(PssHash::Sha384, msg, &s384), Ok(()));
    assert_eq!(ours.verify_pss(PssHash::Sha512, msg, &s512), Ok(()));
    // the wrong hash, message, length or a flipped bit: refused
    assert_eq!(
        ours.verify_pss(PssHash::Sha256, msg, &s512),
        Err(SignatureError)
    );
    assert_eq!(
        ours.verify_pss(PssHash::Sha512, b"another", &s512),
        Err(SignatureError)
    );
    assert_eq!(
        ours.verify_pss(PssHash::Sha512, msg, &s512[1..]),
        Err(SignatureError)
    );
    for i in [0, 100, 255] {
        let mut bad = s512.clone();
        bad[i] ^= 1;
        assert_eq!(
            ours.verify_pss(PssHash::Sha512, msg, &bad),
            Err(SignatureError)
        );
    }
    // a signature at or above the modulus
    assert_eq!(
        ours.verify_pss(PssHash::Sha256, msg, &[0xFF; 256]),
        Err(SignatureError)
    );
}

fn keys_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../sandbox/keys")
}

fn openssl(args: &[&str], input: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the openssl command (OpenSSL 3) is part of the build machine");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl {args:?} failed");
    out.stdout
}

/// Both ways against OpenSSL (the `openssl` command): its OAEP-256 opens ours and ours opens
/// its; its PSS signatures verify.
#[test]
fn both_ways_with_openssl() {
    let dir = keys_dir();
    let path = |f: &str| dir.join(f).to_str().unwrap().to_string();
    let oaep = [
        "-pkeyopt",
        "rsa_padding_mode:oaep",
        "-pkeyopt",
        "rsa_oaep_md:sha256",
        "-pkeyopt",
        "rsa_mgf1_md:sha256",
    ];
    let mut rnd = random();
    // ours wraps to the server key, OpenSSL unwraps with it
    let public = RsaPublicKey::from_der(&pem_der(&sandbox_file("server_public.pem"))).unwrap();
    let mut wrapped = [0u8; MODULUS_BYTES];
    OaepWrap::new(&public, &mut rnd)
        .wrap_key(&[0x42; 16], &mut wrapped)
        .unwrap();
    let server_key = path("server_private.pem");
    let mut args = vec!["pkeyutl", "-decrypt", "-inkey", &server_key];
    args.extend(oaep);
    assert_eq!(openssl(&args, &wrapped), [0x42; 16]);
    // OpenSSL wraps to the client key, ours unwraps
    let client_pub = path("client_public.pem");
    let mut args = vec!["pkeyutl", "-encrypt", "-pubin", "-inkey", &client_pub];
    args.extend(oaep);
    let theirs = openssl(&args, &[0x24; 32]);
    let client = RsaPrivateKey::from_der(&pem_der(&sandbox_file("client_private.pem"))).unwrap();
    let mut out = [0u8; 64];
    let n = OaepUnwrap::new(&client, &mut rnd)
        .unwrap_key(&theirs, &mut out)
        .unwrap();
    assert_eq!(&out[..n], &[0x24; 32]);
    // OpenSSL signs with PSS (salt = digest length), ours verifies
    for (md, hash) in [
        ("-sha256", PssHash::Sha256),
        ("-sha384", PssHash::Sha384),
        ("-sha512", PssHash::Sha512),
    ] {
        let msg = b"a transcript";
        let sig = openssl(
            &[
                "dgst",
                md,
                "-sign",
                &server_key,
                "-sigopt",
                "rsa_padding_mode:pss",
                "-sigopt",
                "rsa_pss_saltlen:digest",
            ],
            msg,
        );
        assert_eq!(public.verify_pss(hash, msg, &sig), Ok(()), "{md}");
        assert_eq!(
            public.verify_pss(hash, b"another", &sig),
            Err(SignatureError)
        );
    }
}

#[test]
fn both_ways_with_the_rsa_crate_and_the_sandbox_keys() {
    let public = RsaPublicKey::from_der(&pem_der(&sandbox_file("server_public.pem"))).unwrap();
    let server = rsa::RsaPrivateKey::from_pkcs8_pem(&sandbox_file("server_private.pem")).unwrap();
    let client = RsaPrivateKey::from_der(&pem_der(&sandbox_file("client_private.pem"))).unwrap();
    let client_rsa =
        rsa::RsaPrivateKey::from_pkcs8_pem(&sandbox_file("client_private.pem")).unwrap();
    let mut rnd = random();
    // ours wraps, the rsa crate unwraps
    let cek = [0x5Au8; 16];
    let mut wrapped = [0u8; MODULUS_BYTES];
    let n = OaepWrap::new(&public, &mut rnd)
        .wrap_key(&cek, &mut wrapped)
        .unwrap();
    assert_eq!(n, MODULUS_BYTES);
    let plain = server
        .decrypt(rsa::Oaep::new::<sha2::Sha256>(), &wrapped)
        .unwrap();
    assert_eq!(plain, cek);
    // the rsa crate wraps (to the client's key), ours unwraps
    let mut rng = rand::thread_rng();
    let theirs = client_rsa
        .to_public_key()
        .encrypt(&mut rng, rsa::Oaep::new::<sha2::Sha256>(), &[7u8; 32])
        .unwrap();
    let mut out = [0u8; 64];
    let n = OaepUnwrap::new(&client, &mut rnd)
        .unwrap_key(&theirs, &mut out)
        .unwrap();
    assert_eq!(&out[..n], &[7u8; 32]);
    // and the PKCS#1 form of the same key reads the same
    let pkcs1 =
        RsaPrivateKey::from_der(&pem_der(&sandbox_file("client_private_pkcs1.pem"))).unwrap();
    let n = pkcs1.oaep_decrypt(&theirs, &mut rnd, &mut out).unwrap();
    assert_eq!(&out[..n], &[7u8; 32]);
}

#[test]
fn damaged_keys_and_ciphertexts_are_refused_without_a_panic() {
    let der = pem_der(&sandbox_file("client_private.pem"));
    for cut in [0, 1, 10, 100, der.len() - 1] {
        assert!(
            RsaPrivateKey::from_der(&der[..cut]).is_err(),
            "cut at {cut}"
        );
    }
    // an exponent of 1 is no key, however it is written (a zero-padded 1 too): with it, any
    // "signature" would verify
    let n = [0xC5u8; MODULUS_BYTES];
    for e in [&[1u8][..], &[0, 1], &[0, 0, 0, 1], &[2], &[0, 4]] {
        assert!(RsaPublicKey::from_parts(&n, e).is_err(), "e = {e:?}");
    }
    assert!(RsaPublicKey::from_parts(&n, &[0, 1, 0, 1]).is_ok());
    // every single-bit flip of the key's DER: refused, or a key whose check still holds
    let client = RsaPrivateKey::from_der(&der).unwrap();
    let mut rnd = random();
    let mut wrapped = [0u8; MODULUS_BYTES];
    client
        .public_key()
        .oaep_encrypt(b"a key", &mut rnd, &mut wrapped)
        .unwrap();
    for bit in (0..der.len() * 8).step_by(7) {
        let mut d = der.clone();
        d[bit / 8] ^= 1 << (bit % 8);
        if let Ok(k) = RsaPrivateKey::from_der(&d) {
            // a flip in d (unused) or in the sequence framing that still parses: the key works
            let mut out = [0u8; 64];
            let _ = k.oaep_decrypt(&wrapped, &mut rnd, &mut out);
        }
    }
    assert_eq!(
        RsaPublicKey::from_der(b"\x30\x00").err(),
        Some(KeyError::Der)
    );
    // ciphertexts: the wrong length, >= n, one flipped bit
    let mut out = [0u8; 64];
    assert!(
        client
            .oaep_decrypt(&wrapped[..255], &mut rnd, &mut out)
            .is_err()
    );
    assert!(
        client
            .oaep_decrypt(&[0xFF; 256], &mut rnd, &mut out)
            .is_err()
    );
    for bit in (0..2048).step_by(97) {
        let mut w = wrapped;
        w[bit / 8] ^= 1 << (bit % 8);
        assert!(
            client.oaep_decrypt(&w, &mut rnd, &mut out).is_err(),
            "bit {bit}"
        );
    }
    // too long a message
    assert!(
        client
            .public_key()
            .oaep_encrypt(&[0u8; MAX_MESSAGE + 1], &mut rnd, &mut wrapped)
            .is_err()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn oaep_round_trips(msg in proptest::collection::vec(any::<u8>(), 0..=MAX_MESSAGE), seed in any::<u64>()) {
        let client = RsaPrivateKey::from_der(&pem_der(&sandbox_file("client_private.pem"))).unwrap();
        let mut n = seed;
        let mut rnd = move |out: &mut [u8]| {
            for chunk in out.chunks_mut(32) {
                n = n.wrapping_add(1);
                let h = konaplate_core::sign::sha256(&n.to_le_bytes());
                chunk.copy_from_slice(&h[..chunk.len()]);
            }
        };
        let mut wrapped = [0u8; MODULUS_BYTES];
        client.public_key().oaep_encrypt(&msg, &mut rnd, &mut wrapped).unwrap();
        let mut out = [0u8; MODULUS_BYTES];
        let k = client.oaep_decrypt(&wrapped, &mut rnd, &mut out).unwrap();
        prop_assert_eq!(&out[..k], &msg[..]);
    }
}

/// The embedded client with the heapless RSA and nothing else for the key wrap: a real token
/// (its request sealed to the platform's key), a charge, and a cancellation whose answer comes
/// as JWE, opened with the till's private key — against the sandbox over 127.0.0.1.
#[test]
fn the_embedded_client_issues_a_token_and_opens_a_cancellation_with_it() {
    use konaplate_core::api::{CancelRequest, ChargeRequest, TokenRequest};
    use konaplate_core::field::*;
    use konaplate_core::prelude::*;
    use konaplate_embedded::{BUFFER_ENCRYPTED, Keys, call, call_without_journal};
    use konaplate_sandbox::seed;

    let sb = konaplate_sandbox::Sandbox::start(Default::default()).unwrap();
    let session = Session::new(
        Credentials::new(
            AspId::new(konaplate_sandbox::ASP_ID).unwrap(),
            AccessKey::new(konaplate_sandbox::ACCESS_KEY).unwrap(),
            &SecretKey::new(konaplate_sandbox::SECRET_KEY).unwrap(),
            Some(CryptoKeyId::new(konaplate_sandbox::CRYPTO_KEY_ID).unwrap()),
        ),
        Target {
            host: Host::parse(&sb.addr().to_string()).unwrap(),
            base_path: BasePath::open_api(),
        },
    );
    let platform =
        RsaPublicKey::from_der(&pem_der(konaplate_sandbox::SERVER_PUBLIC_KEY_PEM)).unwrap();
    let till =
        RsaPrivateKey::from_der(&pem_der(konaplate_sandbox::CLIENT_PRIVATE_KEY_PEM)).unwrap();
    let (mut r1, mut r2) = (random(), random());
    let mut buf = [0u8; BUFFER_ENCRYPTED];
    let stamp = || konaplate::clock::stamp(TimeZone::KST, 540).unwrap();
    let connect = || {
        embedded_io_adapters::std::FromStd::new(std::net::TcpStream::connect(sb.addr()).unwrap())
    };
    let mut token = || {
        let keys = Keys {
            wrap: OaepWrap::new(&platform, &mut r1),
            unwrap: OaepUnwrap::new(&till, &mut r2),
            cek: [0x31; 16],
            iv: [0x32; 12],
        };
        let req = TokenRequest {
            card_no: CardNo::new(&seed::card_no(seed::HAPPY_CARD)).unwrap(),
            token_type: None,
        };
        let (_, reply) = call(&mut connect(), &session, &stamp(), &req, keys, &mut buf).unwrap();
        reply.into_result().unwrap()
    };
    let t = token();
    assert_eq!(t.one_time_token.expose().len(), 16);
    let charge = ChargeRequest {
        sequence_id: SequenceId::new("RSA-CHARGE-1").unwrap(),
        user_id: UserId::new(seed::HAPPY).unwrap(),
        amount: ChargeAmount::new(2_000).unwrap(),
        one_time_token: t.one_time_token,
        dcvv: t.dcvv,
        merchant_id: MerchantId::new(seed::MERCHANT).unwrap(),
    };
    let mut buf2 = [0u8; BUFFER_ENCRYPTED];
    let (_, charged) = call_without_journal(
        &mut connect(),
        &session,
        &stamp(),
        &charge,
        NoCrypto,
        &mut buf2,
    )
    .unwrap();
    let charged = charged.into_result().unwrap();
    let t = token();
    let cancel = CancelRequest {
        sequence_id: SequenceId::new("RSA-CANCEL-1").unwrap(),
        user_id: UserId::new(seed::HAPPY).unwrap(),
        nr_number: charged.nr_number,
        one_time_token: t.one_time_token,
        dcvv: t.dcvv,
        card_expiry: None,
    };
    let (mut r3, mut r4) = (random(), random());
    let keys = Keys {
        wrap: OaepWrap::new(&platform, &mut r3),
        unwrap: OaepUnwrap::new(&till, &mut r4),
        cek: [0x41; 16],
        iv: [0x42; 12],
    };
    let (answered, reply) =
        call_without_journal(&mut connect(), &session, &stamp(), &cancel, keys, &mut buf2).unwrap();
    assert!(
        answered.encrypted,
        "the cancellation's answer is JWE, opened with the heapless RSA"
    );
    assert!(!reply.into_result().unwrap().is_pending);
    assert!(sb.ledger().txn("RSA-CHARGE-1").is_some_and(|t| t.cancelled));
}
