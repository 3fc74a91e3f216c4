//! JWE interop with two independent JOSE implementations, both on the other side of the wire
//! from our code: josekit (Rust, on OpenSSL; a dev-dependency, so `cargo test` brings it)
//! decrypts what we encrypt and encrypts what we decrypt, and vectors made once by Python's
//! jwcrypto (tests/fixtures/jwe/make_vectors.py, checked in) are decrypted.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use konaplate::core::jwe::{JweError, Keys, open_in_place, seal_in_place, sealed_len};
use konaplate::core::prelude::*;
use konaplate::core::{api::*, code::*, field::*};
use konaplate::{ClientPrivateKey, ServerPublicKey};

/// Where the compact JWE is in a `{"encData":"..."}` body.
fn find_enc_data(body: &[u8]) -> Option<Option<std::ops::Range<usize>>> {
    let start = body.windows(11).position(|w| w == br#""encData":""#)? + 11;
    let len = body[start..].iter().position(|&b| b == b'"')?;
    Some(Some(start..start + len))
}

fn session() -> Session {
    Session::new(
        Credentials::new(
            AspId::new("100000000000001").unwrap(),
            AccessKey::new("abcdefg-0123456789abcdef0123456789abcdef").unwrap(),
            &SecretKey::new("s").unwrap(),
            Some(CryptoKeyId::new("0123456789abcdef0123456789abcdef").unwrap()),
        ),
        Target::new(Host::parse("sandbox.konaplate.com").unwrap()),
    )
}

fn stamp() -> Stamp {
    Stamp::new(
        Timestamp::new(2026, 11, 23, 19, 54, 6, 123).unwrap(),
        TimeZone::KST,
        1,
    )
}

/// The answer `body` to `req`, through a whole call (the client private key opens it).
fn through_call<R: Request>(req: &R, body: &str, key: &ClientPrivateKey) -> ReplyOf<R::Endpoint>
where
    ReplyOf<R::Endpoint>: AnyReply,
{
    let server = ServerPublicKey::from_pem(&read("server_public.pem")).unwrap();
    let keys = || Keys {
        wrap: &server,
        unwrap: key,
        cek: [1; 16],
        iv: [2; 12],
    };
    let mut buf = vec![0u8; konaplate::core::request::BUFFER_ENCRYPTED];
    let mut call = Call::new(&session(), &stamp(), req, keys(), &mut buf).unwrap();
    let n = call.outgoing(&buf).len();
    call.sent(&mut buf, n).unwrap();
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    call.incoming(&mut buf).unwrap()[..response.len()].copy_from_slice(response.as_bytes());
    assert_eq!(
        call.received(&mut buf, response.len()).unwrap(),
        Progress::Complete
    );
    let mut reply = ReplyOf::<R::Endpoint>::empty();
    assert!(call.finish(&mut buf, keys(), &mut reply).unwrap().encrypted);
    assert!(buf.iter().all(|&b| b == 0), "nothing of the answer left");
    reply
}

fn cancel_request() -> CancelRequest {
    CancelRequest {
        sequence_id: SequenceId::new("C1").unwrap(),
        user_id: UserId::new(50_000_100_001).unwrap(),
        nr_number: NrNumber::new("KMN221114031773543").unwrap(),
        one_time_token: OneTimeToken::new("1234567890123456").unwrap(),
        dcvv: Dcvv::new("123").unwrap(),
        card_expiry: None,
    }
}

fn key_file(name: &str) -> String {
    format!("{}/../sandbox/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}
fn read(name: &str) -> String {
    std::fs::read_to_string(key_file(name)).unwrap()
}
fn vectors() -> Vec<serde_json::Value> {
    let p = format!(
        "{}/tests/fixtures/jwe/vectors.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn keys_load_from_every_documented_format() {
    let spki = ServerPublicKey::from_pem(&read("server_public.pem")).unwrap();
    let cert = ServerPublicKey::from_pem(&read("server_cert.pem")).unwrap();
    assert_eq!(spki, cert, "the certificate holds the same key");
    let pkcs8 = ClientPrivateKey::from_pem(&read("client_private.pem")).unwrap();
    let pkcs1 = ClientPrivateKey::from_pem(&read("client_private_pkcs1.pem")).unwrap();
    assert_eq!(pkcs8.public_key(), pkcs1.public_key());
    assert_eq!(
        pkcs8.public_key(),
        ServerPublicKey::from_pem(&read("client_public.pem")).unwrap()
    );
    assert!(
        !format!("{pkcs8:?}").contains("BEGIN"),
        "private key redacted"
    );
    for bad in [
        "",
        "hello",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    ] {
        assert!(ServerPublicKey::from_pem(bad).is_err());
        assert!(ClientPrivateKey::from_pem(bad).is_err());
    }
    // a private key is not a public key and vice versa
    assert!(ServerPublicKey::from_pem(&read("client_private.pem")).is_err());
    assert!(ClientPrivateKey::from_pem(&read("server_public.pem")).is_err());
}

#[test]
fn we_decrypt_jwcrypto_vectors_a128gcm_and_a256gcm() {
    let key = ClientPrivateKey::from_pem(&read("client_private.pem")).unwrap();
    let v = vectors();
    assert!(v.iter().any(|x| x["enc"] == "A256GCM") && v.iter().any(|x| x["enc"] == "A128GCM"));
    for x in &v {
        let jwe = x["jwe"].as_str().unwrap();
        let mut body = format!(r#"{{"encData":"{jwe}"}}"#).into_bytes();
        let range = find_enc_data(&body).unwrap().unwrap();
        let pt = open_in_place(&mut body, range, &mut &key).unwrap();
        assert_eq!(
            std::str::from_utf8(&body[pt]).unwrap(),
            x["plaintext"].as_str().unwrap()
        );
    }
}

#[test]
fn encrypted_responses_decode_transparently() {
    let key = ClientPrivateKey::from_pem(&read("client_private_pkcs1.pem")).unwrap();
    let v = vectors();
    let body = format!(r#"{{"encData":"{}"}}"#, v[0]["jwe"].as_str().unwrap());
    let r = through_call(&cancel_request(), &body, &key);
    assert_eq!(r.code, CancelCode::Success);
    assert_eq!(r.body, Some(CancelResponse { is_pending: false }));
    let body = format!(r#"{{"encData":"{}"}}"#, v[4]["jwe"].as_str().unwrap());
    let r = through_call(&cancel_request(), &body, &key);
    assert_eq!(r.code, CancelCode::NotCancellable);
    assert_eq!(r.description.as_str(), "충전 취소가 불가능한 거래.");
    let body = format!(r#"{{"encData":"{}"}}"#, v[5]["jwe"].as_str().unwrap());
    let token = TokenRequest {
        card_no: CardNo::new("9410123456789012").unwrap(),
        token_type: None,
    };
    let r = through_call(&token, &body, &key);
    assert_eq!(r.description.as_str(), "성공");
    assert_eq!(r.body.unwrap().one_time_token.expose(), "9461442187322710");
}

#[test]
fn tampered_jwcrypto_vectors_fail_with_typed_errors() {
    let key = ClientPrivateKey::from_pem(&read("client_private.pem")).unwrap();
    let jwe = vectors()[2]["jwe"].as_str().unwrap().to_string();
    for part in 0..5 {
        let mut parts: Vec<String> = jwe.split('.').map(String::from).collect();
        let p = &mut parts[part];
        let mid = p.len() / 2;
        let c = if &p[mid..mid + 1] == "A" { "B" } else { "A" };
        p.replace_range(mid..mid + 1, c);
        let mut body = format!(r#"{{"encData":"{}"}}"#, parts.join(".")).into_bytes();
        let range = find_enc_data(&body).unwrap().unwrap();
        let err = open_in_place(&mut body, range, &mut &key).unwrap_err();
        let expected_ok = match part {
            0 => matches!(
                err,
                JweError::Header | JweError::Format { .. } | JweError::Authentication
            ),
            1 => err == JweError::KeyUnwrap,
            _ => err == JweError::Authentication,
        };
        assert!(expected_ok, "part {part}: {err:?}");
        assert!(
            !String::from_utf8_lossy(&body).contains("9461442187322710"),
            "partial plaintext"
        );
    }
    // a vector for another key cannot be unwrapped
    let other = ClientPrivateKey::from_pem(&read("server_private.pem")).unwrap();
    let mut body = format!(r#"{{"encData":"{jwe}"}}"#).into_bytes();
    let range = find_enc_data(&body).unwrap().unwrap();
    assert_eq!(
        open_in_place(&mut body, range, &mut &other),
        Err(JweError::KeyUnwrap)
    );
}

fn seal(key_name: &str, plain: &str) -> String {
    let key = ServerPublicKey::from_pem(&read(key_name)).unwrap();
    let mut buf = vec![0u8; sealed_len(plain.len(), 256)];
    buf[..plain.len()].copy_from_slice(plain.as_bytes());
    let mut cek = [0u8; 16];
    let mut iv = [0u8; 12];
    konaplate::clock::random_bytes(&mut cek);
    konaplate::clock::random_bytes(&mut iv);
    let n = seal_in_place(&mut buf, plain.len(), &mut &key, &cek, &iv).unwrap();
    let body = std::str::from_utf8(&buf[..n]).unwrap();
    // {"encData":"<jwe>"}
    body.strip_prefix(r#"{"encData":""#)
        .and_then(|b| b.strip_suffix(r#""}"#))
        .unwrap()
        .to_string()
}

/// josekit decrypts what we encrypt (the direction the platform reads), with the public key
/// given as SPKI or as a certificate.
#[test]
fn josekit_decrypts_what_we_encrypt() {
    let decrypter = josekit::jwe::RSA_OAEP_256
        .decrypter_from_pem(read("server_private.pem"))
        .unwrap();
    for key_name in ["server_public.pem", "server_cert.pem"] {
        let plain =
            r#"{"userId":50000104652,"par":"Q1ABCDEF0123456789ABCDEF012","note":"한글 \u00e9"}"#;
        let jwe = seal(key_name, plain);
        let (payload, header) = josekit::jwe::deserialize_compact(&jwe, &decrypter).unwrap();
        assert_eq!(std::str::from_utf8(&payload).unwrap(), plain);
        assert_eq!(header.algorithm(), Some("RSA-OAEP-256"));
        assert_eq!(header.content_encryption(), Some("A128GCM"));
        // the protected header is exactly {"enc":"A128GCM","alg":"RSA-OAEP-256"} (no kid, typ, cty)
        let claims: serde_json::Value = serde_json::from_str(&header.to_string()).unwrap();
        assert_eq!(claims.as_object().unwrap().len(), 2, "{claims}");
    }
}

/// We decrypt what josekit encrypts to the client key (the direction we read), in A128GCM
/// and A256GCM, with the private key as PKCS#8 or PKCS#1, through the decoding entry point.
#[test]
fn we_decrypt_what_josekit_encrypts() {
    let encrypter = josekit::jwe::RSA_OAEP_256
        .encrypter_from_pem(read("client_public.pem"))
        .unwrap();
    let plain = r#"{"response":{"code":"000_000","description":"\uc131\uacf5"},"isPending":false,"extra":{"a":[1,2]}}"#;
    for enc in ["A128GCM", "A256GCM"] {
        for key_name in ["client_private.pem", "client_private_pkcs1.pem"] {
            let mut header = josekit::jwe::JweHeader::new();
            header.set_content_encryption(enc);
            let jwe =
                josekit::jwe::serialize_compact(plain.as_bytes(), &header, &encrypter).unwrap();
            let key = ClientPrivateKey::from_pem(&read(key_name)).unwrap();
            let mut body = format!(r#"{{"encData":"{jwe}"}}"#).into_bytes();
            let range = find_enc_data(&body).unwrap().unwrap();
            let pt = open_in_place(&mut body, range, &mut &key).unwrap();
            assert_eq!(
                std::str::from_utf8(&body[pt]).unwrap(),
                plain,
                "{enc} {key_name}"
            );
            let body = format!(r#"{{"encData":"{jwe}"}}"#);
            let r = through_call(&cancel_request(), &body, &key);
            assert_eq!(r.description.as_str(), "성공");
            assert_eq!(r.body, Some(CancelResponse { is_pending: false }));
        }
    }
}

#[test]
fn largest_encrypted_bodies_fit_the_default_buffers() {
    // the largest request of an Encrypted endpoint: token issuance with a type
    let req = TokenRequest {
        card_no: CardNo::new("9410123456789012").unwrap(),
        token_type: Some(TokenType::Credit),
    };
    let key = ServerPublicKey::from_pem(&read("server_public.pem")).unwrap();
    let client = ClientPrivateKey::from_pem(&read("client_private.pem")).unwrap();
    let keys = || Keys {
        wrap: &key,
        unwrap: &client,
        cek: [1; 16],
        iv: [2; 12],
    };
    // the whole request fits the embedded client's encrypted buffer
    let mut whole = [0u8; konaplate::core::request::BUFFER_ENCRYPTED];
    let call = Call::new(&session(), &stamp(), &req, keys(), &mut whole).unwrap();
    let (_, body) = call.request_layout();
    assert!(body.len() < 600, "{}", body.len());
    assert!(
        whole[body].starts_with(br#"{"encData":"eyJ"#),
        "sealed, since the endpoint's request is Encrypted"
    );
    // and a 1 KiB buffer too
    let mut buf = [0u8; 1024];
    assert!(Call::new(&session(), &stamp(), &req, keys(), &mut buf).is_ok());
}
