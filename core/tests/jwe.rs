//! JWE in the core with a stand-in key wrap (the std crate tests RSA-OAEP-256 and interop
//! with jwcrypto). The stand-in "wraps" by XOR with a fixed pad into 256 bytes, so a changed
//! wrapped key unwraps to a different CEK.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use konaplate_core::jwe::{
    DecryptOnly, JweError, KeyUnwrap, KeyWrap, KeyWrapError, open_in_place, seal_in_place,
    sealed_len,
};
mod common;

use konaplate_core::jwe::SealKeys;
use konaplate_core::prelude::*;
use konaplate_core::sign::TranToken;
use konaplate_core::{api::*, field::*};
use proptest::prelude::*;

struct XorWrap;

impl KeyWrap for XorWrap {
    fn wrap_key(&mut self, cek: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        out[..256].fill(0x5a);
        out[0] = cek.len() as u8;
        for (i, b) in cek.iter().enumerate() {
            out[1 + i] = b ^ 0x5a;
        }
        Ok(256)
    }
}
impl KeyUnwrap for XorWrap {
    fn unwrap_key(&mut self, wrapped: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        if wrapped.len() != 256 || !(wrapped[0] == 16 || wrapped[0] == 32) {
            return Err(KeyWrapError);
        }
        let n = wrapped[0] as usize;
        // like OAEP, the padding is checked: any change outside the key is detected
        if wrapped[1 + n..].iter().any(|&b| b != 0x5a) {
            return Err(KeyWrapError);
        }
        for i in 0..n {
            out[i] = wrapped[1 + i] ^ 0x5a;
        }
        Ok(n)
    }
}

const CEK: [u8; 16] = *b"0123456789abcdef";
const IV: [u8; 12] = *b"iv-iv-iv-iv-";

fn sealed(plain: &[u8]) -> Vec<u8> {
    let mut buf = vec![0u8; sealed_len(plain.len(), 256)];
    buf[..plain.len()].copy_from_slice(plain);
    let n = seal_in_place(&mut buf, plain.len(), &mut XorWrap, &CEK, &IV).unwrap();
    assert_eq!(n, buf.len(), "sealed_len is exact");
    buf
}

/// Where the compact JWE is in a `{"encData":"..."}` body.
fn jwe_range(body: &[u8]) -> std::ops::Range<usize> {
    let start = body
        .windows(11)
        .position(|w| w == br#""encData":""#)
        .unwrap()
        + 11;
    let len = body[start..].iter().position(|&b| b == b'"').unwrap();
    start..start + len
}

/// Seals requests with the stand-in, and cannot open answers.
struct SealOnly(XorWrap, [u8; 16], [u8; 12]);

impl Crypto for SealOnly {
    fn seal(&mut self) -> Option<SealKeys<'_>> {
        Some(SealKeys {
            wrap: &mut self.0,
            cek: &self.1,
            iv: &self.2,
        })
    }
    fn unwrap(&mut self) -> Option<&mut dyn KeyUnwrap> {
        None
    }
}

fn keys() -> Keys<XorWrap, XorWrap> {
    Keys {
        wrap: XorWrap,
        unwrap: XorWrap,
        cek: CEK,
        iv: IV,
    }
}

fn token_request() -> TokenRequest {
    TokenRequest {
        card_no: CardNo::new("9410000000000011").unwrap(),
        token_type: None,
    }
}

#[test]
fn seal_produces_the_platform_profile() {
    let body = sealed(br#"{"userId":1,"par":"Q1ABCDEF0123456789ABCDEF012"}"#);
    let text = std::str::from_utf8(&body).unwrap();
    assert!(text.starts_with(r#"{"encData":""#) && text.ends_with(r#""}"#));
    let jwe = &text[12..text.len() - 2];
    let parts: Vec<&str> = jwe.split('.').collect();
    assert_eq!(parts.len(), 5);
    use base64::Engine;
    let h = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[0])
        .unwrap();
    assert_eq!(&h[..], br#"{"alg":"RSA-OAEP-256","enc":"A128GCM"}"#);
    assert_eq!(parts[2].len(), 16, "12-byte IV");
    assert_eq!(parts[4].len(), 22, "16-byte tag");
    assert!(!jwe.contains('='), "unpadded");
}

#[test]
fn open_recovers_the_plaintext() {
    let plain = r#"{"response":{"code":"000_000","description":"성공"},"isPending":false}"#;
    let mut body = sealed(plain.as_bytes());
    let r = jwe_range(&body);
    let pt = open_in_place(&mut body, r, &mut XorWrap).unwrap();
    assert_eq!(&body[pt], plain.as_bytes());
}

#[test]
fn encrypted_reply_decodes_transparently_and_plaintext_is_wiped() {
    let plain = r#"{"response":{"code":"000_000","description":"성공"},"oneTimeToken":"9461442187322710","dcvv":"366"}"#;
    let body = String::from_utf8(sealed(plain.as_bytes())).unwrap();
    // (the call's helper checks that nothing of the exchange is left in the buffer)
    let (r, reply) = common::exchange_with(
        &token_request(),
        &common::response(200, &body),
        &mut keys(),
        4096,
        7,
    );
    assert!(r.unwrap().encrypted);
    assert_eq!(reply.body.unwrap().dcvv.expose(), "366");
    // a plain body goes through as it is
    let (r, reply) = common::exchange(
        &common::cancel_request("C1"),
        &common::response(
            200,
            r#"{"response":{"code":"000_000","description":"성공"},"isPending":false}"#,
        ),
    );
    assert!(!r.unwrap().encrypted);
    assert!(reply.is_success());
    // an encrypted answer without a key to open it is an error, never a guess
    let (r, _) = common::exchange_with(
        &token_request(),
        &common::response(200, &body),
        &mut SealOnly(XorWrap, CEK, IV),
        4096,
        usize::MAX,
    );
    assert_eq!(
        r.unwrap_err(),
        konaplate_core::call::CallError::Body {
            status: 200,
            error: DecodeError::Encrypted
        }
    );
}

/// Flips one character of part `idx` of the JWE.
fn tamper(idx: usize) -> Result<std::ops::Range<usize>, JweError> {
    let mut body = sealed(br#"{"secret":"value"}"#);
    let r = jwe_range(&body);
    let text = std::str::from_utf8(&body[r.clone()]).unwrap().to_string();
    let mut parts: Vec<String> = text.split('.').map(String::from).collect();
    let p = &mut parts[idx];
    // change a character in the middle to another base64url character
    let mid = p.len() / 2;
    let c = p.as_bytes()[mid];
    let new = if c == b'A' { 'B' } else { 'A' };
    p.replace_range(mid..mid + 1, &new.to_string());
    let joined = parts.join(".");
    body[r.clone()].copy_from_slice(joined.as_bytes());
    let res = open_in_place(&mut body, r, &mut XorWrap);
    if res.is_err() {
        assert!(!body.windows(5).any(|w| w == b"value"), "partial plaintext");
    }
    res
}

#[test]
fn tampering_any_part_is_a_typed_error() {
    assert!(matches!(
        tamper(0),
        Err(JweError::Header | JweError::Format { .. } | JweError::Authentication)
    ));
    assert!(matches!(
        tamper(1),
        Err(JweError::Authentication | JweError::KeyUnwrap)
    ));
    assert_eq!(tamper(2), Err(JweError::Authentication));
    assert_eq!(tamper(3), Err(JweError::Authentication));
    assert_eq!(tamper(4), Err(JweError::Authentication));
}

#[test]
fn header_variants() {
    let check = |header: &str| -> Result<(), JweError> {
        let mut body = sealed(b"{}");
        let r = jwe_range(&body);
        let text = std::str::from_utf8(&body[r]).unwrap().to_string();
        use base64::Engine;
        let enc = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header.as_bytes());
        let rest = &text[text.find('.').unwrap()..];
        let jwe = format!("{enc}{rest}");
        body = format!(r#"{{"encData":"{jwe}"}}"#).into_bytes();
        let r = jwe_range(&body);
        open_in_place(&mut body, r, &mut XorWrap).map(|_| ())
    };
    assert_eq!(
        check(r#"{"alg":"RSA-OAEP","enc":"A128GCM"}"#),
        Err(JweError::UnsupportedAlgorithm)
    );
    assert_eq!(
        check(r#"{"alg":"RSA-OAEP-256","enc":"A128CBC-HS256"}"#),
        Err(JweError::UnsupportedEncryption)
    );
    assert_eq!(check(r#"{"alg":"RSA-OAEP-256"}"#), Err(JweError::Header));
    assert_eq!(
        check(r#"{"alg":"RSA-OAEP-256","enc":"A128GCM","zip":"DEF"}"#),
        Err(JweError::Header)
    );
    assert_eq!(check(r#"not json"#), Err(JweError::Header));
    assert_eq!(
        check(r#"{"alg":"RSA-OAEP-256","enc":"A128GCM","crit":["exp"]}"#),
        Err(JweError::Header)
    );
    // a repeated member is refused (RFC 7515 §4: names are unique), whatever its value
    assert_eq!(
        check(r#"{"alg":"RSA-OAEP-256","enc":"A128GCM","alg":"RSA-OAEP-256"}"#),
        Err(JweError::Header)
    );
    assert_eq!(
        check(r#"{"alg":256,"enc":"A128GCM"}"#),
        Err(JweError::Header)
    );
    // member names are compared decoded: an escaped `alg` is `alg` (the AAD differs, so
    // authentication is what fails, after the header was accepted)
    assert_eq!(
        check(r#"{"\u0061lg":"RSA-OAEP","enc":"A128GCM"}"#),
        Err(JweError::UnsupportedAlgorithm)
    );
    assert_eq!(
        check(r#"{"\u0061lg":"RSA-OAEP-256","enc":"A128GCM"}"#),
        Err(JweError::Authentication)
    );
    // A256GCM with a 16-byte key: the key length does not match enc
    assert_eq!(
        check(r#"{"enc":"A256GCM","alg":"RSA-OAEP-256"}"#),
        Err(JweError::KeyLength)
    );
    // a different (but valid) header changes the AAD: authentication fails
    assert_eq!(
        check(r#"{"enc":"A128GCM","alg":"RSA-OAEP-256","kid":"x"}"#),
        Err(JweError::Authentication)
    );
}

#[test]
fn malformed_compact_serializations() {
    for jwe in [
        "",
        "a.b.c.d",
        "a.b.c.d.e.f",
        "....",
        "e30.AAAA.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA",
        "e30=.a.b.c.d",
    ] {
        let mut body = format!(r#"{{"encData":"{jwe}"}}"#).into_bytes();
        let r = jwe_range(&body);
        assert!(open_in_place(&mut body, r, &mut XorWrap).is_err(), "{jwe}");
    }
}

#[test]
fn encrypted_request_is_signed_over_the_wrapper() {
    let secret = SecretKey::new("kona-sandbox-secret-0001").unwrap();
    let creds = Credentials::new(
        AspId::new("100000000000001").unwrap(),
        AccessKey::new("abcdefg-0123456789abcdef0123456789abcdef").unwrap(),
        &secret,
        Some(CryptoKeyId::new("0123456789abcdef0123456789abcdef").unwrap()),
    );
    let target = Target::new(Host::parse("sandbox.konaplate.com").unwrap());
    let session = Session::new(creds.clone(), target);
    let stamp = Stamp::new(
        Timestamp::new(2026, 11, 23, 10, 0, 0, 1).unwrap(),
        TimeZone::KST,
        5,
    );
    let req = AutoRechargeRegisterRequest {
        user_id: UserId::new(7).unwrap(),
        par: Par::new("Q1ABCDEF0123456789ABCDEF012").unwrap(),
    };
    let mut buf = [0u8; 2048];
    let enc = Call::new(&session, &stamp, &req, keys(), &mut buf).unwrap();
    let (len, body) = enc.request_layout();
    let body = buf[body].to_vec();
    assert!(body.starts_with(br#"{"encData":""#));
    let wire = std::str::from_utf8(&buf[..len]).unwrap();
    let token = wire
        .split("X-KM-Tran-Token: ")
        .nth(1)
        .unwrap()
        .split("\r\n")
        .next()
        .unwrap();
    assert!(
        creds
            .signer()
            .verify(&TranToken::new(token).unwrap(), &body)
    );
    assert!(wire.contains("X-KM-Crypto-Key-Id: 0123456789abcdef0123456789abcdef\r\n"));
    assert!(
        !wire.contains("Q1ABCDEF0123456789ABCDEF012"),
        "plaintext on the wire"
    );
    // the server side decrypts it back to the request
    let mut b = body.clone();
    assert_eq!(
        konaplate_core::request::decode_request::<AutoRechargeRegister>(
            &mut b,
            DecryptOnly(XorWrap)
        )
        .unwrap(),
        req
    );
    assert!(
        !b.windows(27).any(|w| w == b"Q1ABCDEF0123456789ABCDEF012"),
        "plaintext left after decoding"
    );
    // the server refuses an Encrypted endpoint's request sent in plaintext
    let mut plain = br#"{"userId":7,"par":"Q1ABCDEF0123456789ABCDEF012"}"#.to_vec();
    let e = konaplate_core::request::decode_request::<AutoRechargeRegister>(
        &mut plain,
        DecryptOnly(XorWrap),
    )
    .unwrap_err();
    assert!(
        matches!(e, DecodeError::Field(f) if f.field() == "encData"),
        "{e:?}"
    );
    // without a key wrap: refused before anything is produced
    assert_eq!(
        Call::new(&session, &stamp, &req, NoCrypto, &mut buf).err(),
        Some(EncodeError::EncryptionRequired {
            path: AutoRechargeRegister::PATH
        })
    );
    // without a crypto key id: refused before anything is produced
    let no_kid = Credentials::new(*creds.asp_id(), creds.access_key().clone(), &secret, None);
    assert_eq!(
        Call::new(
            &Session::new(no_kid, target),
            &stamp,
            &req,
            keys(),
            &mut buf
        )
        .err(),
        Some(EncodeError::MissingCryptoKeyId)
    );
    // too small: exact need reported
    let mut small = vec![0u8; len - 1];
    assert_eq!(
        Call::new(&session, &stamp, &req, keys(), &mut small).err(),
        Some(EncodeError::BufferTooSmall {
            needed: len,
            capacity: len - 1
        })
    );
}

proptest! {
    #[test]
    fn seal_open_round_trip(plain in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut buf = vec![0u8; sealed_len(plain.len(), 256)];
        buf[..plain.len()].copy_from_slice(&plain);
        let n = seal_in_place(&mut buf, plain.len(), &mut XorWrap, &CEK, &IV).unwrap();
        let r = 12..n - 2;
        let pt = open_in_place(&mut buf, r, &mut XorWrap).unwrap();
        prop_assert_eq!(&buf[pt], &plain[..]);
    }
}
