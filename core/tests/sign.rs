//! X-KM-Tran-Token and request encoding.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use hmac::{Hmac, Mac};
use konaplate_core::prelude::*;
use konaplate_core::sign::{Signer, TranToken};
use konaplate_core::{api::*, field::*};
use proptest::prelude::*;

fn creds(secret: &str) -> Credentials {
    Credentials::new(
        AspId::new("100000000000001").unwrap(),
        AccessKey::new("abcdefg-0123456789abcdef0123456789abcdef").unwrap(),
        &SecretKey::new(secret).unwrap(),
        None,
    )
}

fn charge_request() -> ChargeRequest {
    ChargeRequest {
        sequence_id: SequenceId::new("202211149990015").unwrap(),
        user_id: UserId::new(50_000_104_652).unwrap(),
        amount: ChargeAmount::new(10_000).unwrap(),
        one_time_token: OneTimeToken::new("9461442187322710").unwrap(),
        dcvv: Dcvv::new("366").unwrap(),
        merchant_id: MerchantId::new("100000000000123").unwrap(),
    }
}

const CHARGE_BODY: &str = r#"{"sequenceId":"202211149990015","userId":50000104652,"amount":10000,"oneTimeToken":"9461442187322710","dcvv":"366","merchantId":"100000000000123"}"#;

/// Expected value computed independently:
/// `printf '%s' '<CHARGE_BODY>' | openssl dgst -sha256 -hmac 'kona-sandbox-secret-0001' -binary | base64`
/// and `python3 -c 'import hmac,hashlib,base64; print(base64.b64encode(hmac.new(b"kona-sandbox-secret-0001", BODY, hashlib.sha256).digest()).decode())'`
/// both print `lCk+bG7jDeAojlw4Ee3AFZ6NUf56RMQklV+cMPiqm9I=`.
#[test]
fn tran_token_known_answer() {
    let t = Timestamp::new(2022, 11, 8, 12, 8, 14, 608).unwrap();
    let token = creds("kona-sandbox-secret-0001")
        .signer()
        .tran_token(&t, CHARGE_BODY.as_bytes());
    assert_eq!(
        token.as_str(),
        "KMV1:20221108120814608:lCk+bG7jDeAojlw4Ee3AFZ6NUf56RMQklV+cMPiqm9I="
    );
    assert_eq!(
        token.as_str().len(),
        67,
        "D1: 67 characters, not the documented 66"
    );
    assert_eq!(token.time_part(), "20221108120814608");
}

/// Key longer than the SHA-256 block: `python3 -c 'import hmac,hashlib,base64;
/// print(base64.b64encode(hmac.new(b"K"*100, b"", hashlib.sha256).digest()).decode())'`
#[test]
fn long_key_is_hashed_first() {
    let s = Signer::from_key_bytes(&[b'K'; 100]);
    let t = Timestamp::new(2022, 11, 8, 12, 8, 14, 608).unwrap();
    assert!(
        s.tran_token(&t, b"")
            .as_str()
            .ends_with(":ZdqFJq9ReLac3qQrwXf3T44PnRp1jSeWtSdbIfTBtrI=")
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// RFC 4231 test cases 1, 2, 6 and 7 (HMAC-SHA-256).
#[test]
fn rfc4231_vectors() {
    let cases: [(&[u8], &[u8], &str); 4] = [
        (&[0x0b; 20], b"Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (b"Jefe", b"what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (&[0xaa; 131], b"Test Using Larger Than Block-Size Key - Hash Key First", "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        (&[0xaa; 131], b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.", "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ];
    for (key, msg, want) in cases {
        assert_eq!(hex(&Signer::from_key_bytes(key).mac(msg)), want);
    }
}

proptest! {
    /// Our HMAC equals the `hmac` crate's for any key and message (all padding boundaries).
    #[test]
    fn hmac_matches_reference(key in proptest::collection::vec(any::<u8>(), 0..200),
                              msg in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut m = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        m.update(&msg);
        let want = m.finalize().into_bytes();
        let got = Signer::from_key_bytes(&key).mac(&msg);
        prop_assert_eq!(got.as_slice(), want.as_slice());
    }
}

#[test]
fn verify_accepts_own_token_and_rejects_other_body() {
    let c = creds("kona-sandbox-secret-0001");
    let t = Timestamp::new(2026, 1, 2, 3, 4, 5, 6).unwrap();
    let token = c.signer().tran_token(&t, b"{}");
    assert!(c.signer().verify(&token, b"{}"));
    assert!(!c.signer().verify(&token, b"{} "));
    assert!(!creds("other").signer().verify(&token, b"{}"));
    let parsed = TranToken::new(token.as_str()).unwrap();
    assert_eq!(parsed, token);
    assert!(TranToken::new(&token.as_str()[..66]).is_err());
    assert!(TranToken::new(&token.as_str().replace("KMV1", "KMV2")).is_err());
}

#[test]
fn whole_request_wire_format() {
    let c = creds("kona-sandbox-secret-0001");
    let target = Target::new(Host::parse("sandbox.konaplate.com").unwrap());
    let t = Timestamp::new(2022, 11, 8, 12, 8, 14, 608).unwrap();
    let stamp = Stamp::new(t, TimeZone::KST, 0x00ab_cdef);
    let mut buf = [0u8; 1024];
    let enc = Call::new(
        &Session::new(c.clone(), target),
        &stamp,
        &charge_request(),
        NoCrypto,
        &mut buf,
    )
    .unwrap();
    let wire = std::str::from_utf8(&buf[..enc.request_layout().0]).unwrap();
    let expected = format!(
        "POST /open-api/api/v1/recharges/by-bank-accounts/no-hce HTTP/1.1\r\n\
         Host: sandbox.konaplate.com\r\n\
         Content-Type: application/json\r\n\
         Accept: application/json\r\n\
         Content-Length: {}\r\n\
         X-KM-User-AspId: 100000000000001\r\n\
         X-KM-Correlation-Id: 221108120814-0abcdef\r\n\
         X-KM-Access-Key: abcdefg-0123456789abcdef0123456789abcdef\r\n\
         X-KM-Tran-Token: KMV1:20221108120814608:lCk+bG7jDeAojlw4Ee3AFZ6NUf56RMQklV+cMPiqm9I=\r\n\
         X-KM-Tran-Time: 20221108120814\r\n\
         X-KM-Time-Zone: KST\r\n\
         \r\n{CHARGE_BODY}",
        CHARGE_BODY.len()
    );
    assert_eq!(wire, expected);
    assert_eq!(&buf[enc.request_layout().1], CHARGE_BODY.as_bytes());
}

#[test]
fn crypto_key_id_is_sent_when_configured() {
    let c = Credentials::new(
        AspId::new("100000000000001").unwrap(),
        AccessKey::new("abcdefg-0123456789abcdef0123456789abcdef").unwrap(),
        &SecretKey::new("s").unwrap(),
        Some(CryptoKeyId::new("0123456789abcdef0123456789abcdef").unwrap()),
    );
    let target = Target::new(Host::parse("h").unwrap());
    let stamp = Stamp::new(
        Timestamp::new(2026, 1, 1, 0, 0, 0, 0).unwrap(),
        TimeZone::UTC,
        1,
    );
    let req = ChargeResultRequest {
        sequence_id: SequenceId::new("S").unwrap(),
    };
    let mut buf = [0u8; 1024];
    let enc = Call::new(
        &Session::new(c.clone(), target),
        &stamp,
        &req,
        NoCrypto,
        &mut buf,
    )
    .unwrap();
    let wire = std::str::from_utf8(&buf[..enc.request_layout().0]).unwrap();
    assert!(wire.contains("\r\nX-KM-Crypto-Key-Id: 0123456789abcdef0123456789abcdef\r\n"));
    assert_eq!(wire.matches("\r\nX-KM-").count(), 7);
    assert!(wire.contains("X-KM-Time-Zone: UTC\r\n"));
}

#[test]
fn buffer_too_small_reports_exact_need_for_every_size() {
    let c = creds("k");
    let target = Target::new(Host::parse("sandbox.konaplate.com").unwrap());
    let stamp = Stamp::new(
        Timestamp::new(2026, 1, 1, 0, 0, 0, 0).unwrap(),
        TimeZone::KST,
        7,
    );
    let mut big = [0u8; 2048];
    let full = Call::new(
        &Session::new(c.clone(), target),
        &stamp,
        &charge_request(),
        NoCrypto,
        &mut big,
    )
    .unwrap()
    .request_layout()
    .0;
    for cap in 0..full {
        let mut small = vec![0u8; cap];
        match Call::new(
            &Session::new(c.clone(), target),
            &stamp,
            &charge_request(),
            NoCrypto,
            &mut small,
        ) {
            Err(EncodeError::BufferTooSmall { needed, capacity }) => {
                assert_eq!((needed, capacity), (full, cap));
            }
            other => panic!("capacity {cap}: {:?}", other.err()),
        }
    }
    let mut exact = vec![0u8; full];
    assert!(
        Call::new(
            &Session::new(c.clone(), target),
            &stamp,
            &charge_request(),
            NoCrypto,
            &mut exact
        )
        .is_ok()
    );
}

#[test]
fn encrypted_endpoints_refuse_plain_encoding() {
    let c = creds("k");
    let target = Target::new(Host::parse("h").unwrap());
    let stamp = Stamp::new(
        Timestamp::new(2026, 1, 1, 0, 0, 0, 0).unwrap(),
        TimeZone::KST,
        7,
    );
    let req = TokenRequest {
        card_no: CardNo::new("9410123456789012").unwrap(),
        token_type: None,
    };
    let mut buf = [0x5au8; 1024];
    assert_eq!(
        Call::new(
            &Session::new(c.clone(), target),
            &stamp,
            &req,
            NoCrypto,
            &mut buf
        )
        .err(),
        Some(EncodeError::EncryptionRequired {
            path: "/api/v2/payment/generate/onetimetoken"
        })
    );
    // nothing of it is left to send, in plaintext or otherwise
    assert!(buf.iter().all(|&b| b == 0));
}

#[test]
fn optional_fields_are_omitted_not_null() {
    let req = CancelRequest {
        sequence_id: SequenceId::new("C1").unwrap(),
        user_id: UserId::new(9_999_999_999_999_999_999).unwrap(),
        nr_number: NrNumber::new("KMN221114031773543").unwrap(),
        one_time_token: OneTimeToken::new("9461442187322710").unwrap(),
        dcvv: Dcvv::new("366").unwrap(),
        card_expiry: None,
    };
    let mut buf = [0u8; 512];
    let n = konaplate_core::message::encode_message(&req, &mut buf).unwrap();
    assert_eq!(
        &buf[..n],
        br#"{"sequenceId":"C1","userId":9999999999999999999,"nrNumber":"KMN221114031773543","oneTimeToken":"9461442187322710","dcvv":"366"}"#
    );
    let req = CancelRequest {
        card_expiry: Some(CardExpiry::new("2509").unwrap()),
        ..req
    };
    let n = konaplate_core::message::encode_message(&req, &mut buf).unwrap();
    assert!(
        std::str::from_utf8(&buf[..n])
            .unwrap()
            .ends_with(r#""dcvv":"366","cardExpiry":"2509"}"#)
    );
}
