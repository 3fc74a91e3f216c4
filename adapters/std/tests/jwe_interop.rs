//! JWE interop with an independent JOSE implementation (Python jwcrypto): we decrypt vectors
//! jwcrypto made (tests/fixtures/jwe/make_vectors.py), and jwcrypto decrypts what we make.

use std::io::Write;
use std::process::{Command, Stdio};

use konaplate::core::jwe::{JweError, find_enc_data, open_in_place, seal_in_place, sealed_len};
use konaplate::core::prelude::*;
use konaplate::{ClientPrivateKey, ServerPublicKey};

fn key_file(name: &str) -> String {
    format!("{}/../sandbox/keys/{name}", env!("CARGO_MANIFEST_DIR"))
}
fn read(name: &str) -> String {
    std::fs::read_to_string(key_file(name)).unwrap()
}
fn vectors() -> Vec<serde_json::Value> {
    let p = format!("{}/tests/fixtures/jwe/vectors.json", env!("CARGO_MANIFEST_DIR"));
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
    assert_eq!(pkcs8.public_key(), ServerPublicKey::from_pem(&read("client_public.pem")).unwrap());
    assert!(!format!("{pkcs8:?}").contains("BEGIN"), "private key redacted");
    for bad in ["", "hello", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"] {
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
        assert_eq!(std::str::from_utf8(&body[pt]).unwrap(), x["plaintext"].as_str().unwrap());
    }
}

#[test]
fn encrypted_responses_decode_transparently() {
    let key = ClientPrivateKey::from_pem(&read("client_private_pkcs1.pem")).unwrap();
    let v = vectors();
    let mut body = format!(r#"{{"encData":"{}"}}"#, v[0]["jwe"].as_str().unwrap()).into_bytes();
    let r = decode_body_decrypting::<CancelResponse, CancelCode, _>(&mut body, &mut &key).unwrap();
    assert_eq!(r.code, CancelCode::Success);
    assert_eq!(r.body, Some(CancelResponse { is_pending: false }));
    let mut body = format!(r#"{{"encData":"{}"}}"#, v[4]["jwe"].as_str().unwrap()).into_bytes();
    let r = decode_body_decrypting::<CancelResponse, CancelCode, _>(&mut body, &mut &key).unwrap();
    assert_eq!(r.code, CancelCode::NotCancellable);
    assert_eq!(r.description.as_str(), "충전 취소가 불가능한 거래.");
    let mut body = format!(r#"{{"encData":"{}"}}"#, v[5]["jwe"].as_str().unwrap()).into_bytes();
    let r = decode_body_decrypting::<TokenResponse, TokenCode, _>(&mut body, &mut &key).unwrap();
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
            0 => matches!(err, JweError::Header | JweError::Format { .. } | JweError::Authentication),
            1 => err == JweError::KeyUnwrap,
            _ => err == JweError::Authentication,
        };
        assert!(expected_ok, "part {part}: {err:?}");
        assert!(!String::from_utf8_lossy(&body).contains("9461442187322710"), "partial plaintext");
    }
    // a vector for another key cannot be unwrapped
    let other = ClientPrivateKey::from_pem(&read("server_private.pem")).unwrap();
    let mut body = format!(r#"{{"encData":"{jwe}"}}"#).into_bytes();
    let range = find_enc_data(&body).unwrap().unwrap();
    assert_eq!(open_in_place(&mut body, range, &mut &other), Err(JweError::KeyUnwrap));
}

/// jwcrypto decrypts what we encrypt (the direction the platform reads).
#[test]
fn jwcrypto_decrypts_what_we_encrypt() {
    let script = format!("{}/tests/fixtures/jwe/jwcrypto_decrypt.py", env!("CARGO_MANIFEST_DIR"));
    for key_name in ["server_public.pem", "server_cert.pem"] {
        let key = ServerPublicKey::from_pem(&read(key_name)).unwrap();
        let plain = r#"{"userId":50000104652,"par":"Q1ABCDEF0123456789ABCDEF012","note":"한글 \u00e9"}"#;
        let mut buf = vec![0u8; sealed_len(plain.len(), 256)];
        buf[..plain.len()].copy_from_slice(plain.as_bytes());
        let mut cek = [0u8; 16];
        let mut iv = [0u8; 12];
        konaplate::clock::random_bytes(&mut cek);
        konaplate::clock::random_bytes(&mut iv);
        let n = seal_in_place(&mut buf, plain.len(), &mut &key, &cek, &iv).unwrap();
        let body = std::str::from_utf8(&buf[..n]).unwrap();
        let jwe = &body[12..body.len() - 2];
        let mut child = Command::new("python3")
            .arg(&script)
            .arg(key_file("server_private.pem"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 (with jwcrypto: pip install jwcrypto) is needed for interop tests");
        child.stdin.take().unwrap().write_all(jwe.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "jwcrypto failed: {}", String::from_utf8_lossy(&out.stderr));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["plaintext"], plain);
        assert_eq!(v["header"], serde_json::json!({"alg": "RSA-OAEP-256", "enc": "A128GCM"}));
    }
}

#[test]
fn largest_encrypted_bodies_fit_the_default_buffers() {
    // the largest request of an Encrypted endpoint: token issuance with a type
    let req = TokenRequest { card_no: CardNo::new("9410123456789012").unwrap(), token_type: Some(TokenType::Credit) };
    let key = ServerPublicKey::from_pem(&read("server_public.pem")).unwrap();
    let mut buf = [0u8; 1024];
    let n = encode_encrypted_body::<IssueToken, _>(&req, &mut &key, &[1; 16], &[2; 12], &mut buf).unwrap();
    assert!(n < 600, "{n}");
}
