//! Every documented limit at its boundary values, on both sides.

use konaplate_core::prelude::*;

use konaplate_core::{api::*, field::*};

/// Asserts `ok` values are accepted and `bad` values rejected with the field's API name and
/// limit.
macro_rules! boundary {
    ($name:ident, $ty:ty, ok: [$($ok:expr),* $(,)?], bad: [$($bad:expr),* $(,)?]) => {
        #[test]
        fn $name() {
            $(
                assert!(<$ty>::new($ok).is_ok(), "{} should accept {:?}", stringify!($ty), $ok);
            )*
            $(
                let e = <$ty>::new($bad).expect_err(&format!("{} should reject {:?}", stringify!($ty), $bad));
                assert_eq!(e.field(), <$ty>::API_NAME);
                assert_eq!(e.limit(), <$ty>::LIMIT);
            )*
        }
    };
}

boundary!(user_id_bounds, UserId,
    ok: [1u64, 2u64, 50_000_104_652u64, 9_999_999_999_999_999_998u64, 9_999_999_999_999_999_999u64],
    bad: [0u64, 10_000_000_000_000_000_000u64, u64::MAX]);
boundary!(charge_amount_bounds, ChargeAmount,
    ok: [1u64, 9_999_999_999u64],
    bad: [0u64, 10_000_000_000u64, u64::MAX]);
boundary!(won_bounds, Won, ok: [0u64, 1_000_000_000u64], bad: [1_000_000_001u64]);

boundary!(sequence_id_length, SequenceId,
    ok: ["1", "MNR000000001CR", "monari-1700000000000", "a_b-C", &"9".repeat(30)],
    bad: ["", &"9".repeat(31)]);
boundary!(sequence_id_charset, SequenceId,
    ok: ["ABC-def_012"],
    bad: ["has space", "semi;colon", "quote\"", "한글", "tab\t", "slash/"]);
boundary!(nr_number_length, NrNumber,
    ok: ["K", "KMN221114031773543", &"A".repeat(50)],
    bad: ["", &"A".repeat(51), "KMN-1", "KMN 1"]);
boundary!(refund_nr_number_exact_18, RefundNrNumber,
    ok: ["KMN221114031773543"],
    bad: ["KMN22111403177354", "KMN2211140317735430", "KMN22111403177354-"]);
boundary!(one_time_token_exact_16_digits, OneTimeToken,
    ok: ["9461442187322710", "0000000000000000"],
    bad: ["946144218732271", "94614421873227100", "946144218732271a", "", "9461 42187322710"]);
boundary!(dcvv_exact_3_digits, Dcvv,
    ok: ["366", "000", "999"],
    bad: ["36", "3666", "36a", "", " 36", "３６６"]);
boundary!(card_no_exact_16_digits, CardNo,
    ok: ["9410123456789012"],
    bad: ["941012345678901", "94101234567890123", "9410-12345678901"]);
boundary!(par_exact_27, Par,
    ok: ["Q1ABCDEF0123456789ABCDEF012", &"Z".repeat(27)],
    bad: ["Q1ABCDEF0123456789ABCDEF01", "Q1ABCDEF0123456789ABCDEF0123", "q1abcdef0123456789abcdef012", "Q1ABCDEF0123456789ABCDEF01-"]);
boundary!(card_expiry_month_range, CardExpiry,
    ok: ["3101", "3112", "2509", "0001"],
    bad: ["3100", "3113", "3199", "310", "31012", "31a1", "31/1"]);
boundary!(merchant_id_exact_15_digits, MerchantId,
    ok: ["100000000000123"],
    bad: ["10000000000012", "1000000000001234", "10000000000012a"]);
boundary!(asp_id_exact_15_digits, AspId,
    ok: ["100000000000001"],
    bad: ["10000000000000", "1000000000000011", "10000000000000x"]);
boundary!(access_key_exact_40, AccessKey,
    ok: ["abcdefg-0123456789abcdef0123456789abcdef", &"a".repeat(40)],
    bad: [&"a".repeat(39), &"a".repeat(41), "abcdefg_0123456789abcdef0123456789abcdef"]);
boundary!(crypto_key_id_exact_32_hex, CryptoKeyId,
    ok: ["0123456789abcdef0123456789abcdef", "0123456789ABCDEF0123456789ABCDEF"],
    bad: ["0123456789abcdef0123456789abcde", "0123456789abcdef0123456789abcdef0", "0123456789abcdef0123456789abcdeg"]);
boundary!(time_zone_exact_3_upper, TimeZone,
    ok: ["KST", "UTC"],
    bad: ["KS", "KSTT", "kst", "K1T"]);
boundary!(correlation_id_format, CorrelationId,
    ok: ["261123195406-0abcdef", "000101000000-FFFFFFF", "991231235959-0000000"],
    bad: ["261123195406-0abcde", "261123195406-0abcdef0", "261123195406_0abcdef",
          "261323195406-0abcdef", "261132195406-0abcdef", "261123245406-0abcdef",
          "261123196006-0abcdef", "261123195460-0abcdef", "260230120000-0abcdef",
          "261123195406-0abcdeg", "2611231954060-abcdef"]);
boundary!(tran_time_14_digits, TranTime,
    ok: ["20261123195406", "20240229235959"],
    bad: ["2026112319540", "202611231954060", "20261323195406", "20230229000000", "2026112319540a"]);
boundary!(registered_date_14_digits, DateTime14,
    ok: ["20240101000000", "99991231235959"],
    bad: ["20240100000000", "20241301000000", "2024010100000"]);

#[test]
fn secret_key_bounds() {
    assert!(SecretKey::new("k").is_ok());
    assert!(SecretKey::new(&"k".repeat(128)).is_ok());
    assert!(SecretKey::new("+/=~!").is_ok());
    for bad in ["", &"k".repeat(129), "has space", "tab\t", "한"] {
        let e = SecretKey::new(bad).unwrap_err();
        assert_eq!(e.field(), "secretKey");
        assert_eq!(e.limit(), SecretKey::LIMIT);
    }
}

#[test]
fn token_type_values() {
    assert_eq!(TokenType::new("ATM").unwrap(), TokenType::Atm);
    assert_eq!(TokenType::new("CREDIT").unwrap(), TokenType::Credit);
    for bad in ["", "atm", "DEBIT", "REFUND", "CREDITS"] {
        let e = TokenType::new(bad).unwrap_err();
        assert_eq!((e.field(), e.limit()), ("type", "ATM or CREDIT"));
    }
}

#[test]
fn charge_result_values() {
    assert_eq!(
        ChargeResult::new("COMPLETED").unwrap(),
        ChargeResult::Completed
    );
    assert_eq!(ChargeResult::new("FAILED").unwrap(), ChargeResult::Failed);
    assert_eq!(ChargeResult::new("PENDING").unwrap(), ChargeResult::Pending);
    assert!(!ChargeResult::Pending.is_final());
    assert!(ChargeResult::Failed.is_final());
    assert!(ChargeResult::new("DONE").is_err());
}

#[test]
fn percent_bounds() {
    assert_eq!(Percent1::from_tenths(0, "x").unwrap().tenths(), 0);
    assert_eq!(Percent1::from_tenths(990, "x").unwrap().to_string(), "99.0");
    let e = Percent1::from_tenths(991, "refundFeeRate").unwrap_err();
    assert_eq!(e.field(), "refundFeeRate");
}

#[test]
fn number_fields_parse_text() {
    assert_eq!(UserId::parse("50000104652").unwrap().get(), 50_000_104_652);
    assert!(UserId::parse("9999999999999999999").is_ok());
    assert!(UserId::parse("10000000000000000000").is_err());
    assert!(UserId::parse("18446744073709551616").is_err());
    assert!(UserId::parse("+1").is_err());
    assert!(UserId::parse("-1").is_err());
    assert!(UserId::parse("").is_err());
    assert!(ChargeAmount::parse("1e3").is_err());
}

#[test]
fn error_display_names_field_and_limit() {
    let e = Dcvv::new("12").unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid `dcvv`: must be exactly 3 ASCII digits"
    );
    let e = SequenceId::new("").unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid `sequenceId`: must be 1 to 30 characters: ASCII letters, digits, '-' or '_'"
    );
}

#[test]
fn timestamp_validation_and_formats() {
    let t = Timestamp::new(2024, 2, 29, 23, 59, 59, 999).unwrap();
    let mut d = [0u8; 17];
    t.write_17(&mut d);
    assert_eq!(&d, b"20240229235959999");
    assert_eq!(t.tran_time().as_str(), "20240229235959");
    assert!(Timestamp::new(2023, 2, 29, 0, 0, 0, 0).is_err());
    assert!(Timestamp::new(1999, 12, 31, 0, 0, 0, 0).is_err());
    assert!(Timestamp::new(2024, 4, 31, 0, 0, 0, 0).is_err());
    assert!(Timestamp::new(2024, 1, 1, 24, 0, 0, 0).is_err());
    assert!(Timestamp::new(2024, 1, 1, 0, 0, 0, 1000).is_err());
}

#[test]
fn timestamp_from_unix_millis_in_kst() {
    // 2022-11-08T03:08:14.608Z = 12:08:14.608 KST (the guide's sample token time)
    let t = Timestamp::from_unix_millis(1_667_876_894_608, 9 * 60).unwrap();
    let mut d = [0u8; 17];
    t.write_17(&mut d);
    assert_eq!(&d, b"20221108120814608");
    assert_eq!(t.unix_millis(), 1_667_876_894_608 + 9 * 3_600_000);
    assert!(
        Timestamp::from_unix_millis(0, 0).is_err(),
        "1970 is outside 2000..=9999"
    );
}

#[test]
fn correlation_id_generate() {
    let t = Timestamp::new(2026, 11, 23, 19, 54, 6, 123).unwrap();
    let c = CorrelationId::generate(&t, 0x0abc_def1);
    assert_eq!(c.as_str(), "261123195406-abcdef1");
    let c = CorrelationId::generate(&t, 0xffff_ffff);
    assert_eq!(c.as_str(), "261123195406-fffffff");
    assert_eq!(c.as_str().len(), 20);
    assert!(CorrelationId::new(c.as_str()).is_ok());
}

#[test]
fn secrets_are_redacted_in_debug() {
    let t = OneTimeToken::new("9461442187322710").unwrap();
    let d = Dcvv::new("366").unwrap();
    let c = CardNo::new("9410123456789012").unwrap();
    let k = SecretKey::new("super-secret").unwrap();
    let s = konaplate_core::sign::Signer::new(&k);
    let a = AccessKey::new("abcdefg-0123456789abcdef0123456789abcdef").unwrap();
    let creds = Credentials::new(AspId::new("100000000000001").unwrap(), a.clone(), &k, None);
    let stamp = Stamp::new(
        Timestamp::new(2026, 11, 23, 19, 54, 6, 123).unwrap(),
        TimeZone::KST,
        7,
    );
    let headers = konaplate_core::request::SignedHeaders::sign(&creds, &stamp, b"{}");
    assert_eq!(
        headers
            .iter()
            .find(|(n, _)| *n == "X-KM-Access-Key")
            .unwrap()
            .1,
        a.expose(),
        "sent as is"
    );
    let all = format!("{t:?} {d:?} {c:?} {k:?} {s:?} {a:?} {creds:?} {headers:?}");
    for secret in [
        "9461442187322710",
        "366",
        "9410123456789012",
        "super-secret",
        "0123456789abcdef0123456789abcdef",
    ] {
        assert!(!all.contains(secret), "{all}");
    }
    assert!(all.contains("<redacted>"));
    // and inside a request struct
    let req = ChargeRequest {
        sequence_id: SequenceId::new("S1").unwrap(),
        user_id: UserId::new(1).unwrap(),
        amount: ChargeAmount::new(1000).unwrap(),
        one_time_token: t,
        dcvv: d,
        merchant_id: MerchantId::new("100000000000123").unwrap(),
    };
    let dbg = format!("{req:?}");
    assert!(
        !dbg.contains("9461442187322710") && !dbg.contains("\"366\""),
        "{dbg}"
    );
    let creds = Credentials::new(
        AspId::new("100000000000001").unwrap(),
        AccessKey::new("abcdefg-0123456789abcdef0123456789abcdef").unwrap(),
        &k,
        None,
    );
    assert!(!format!("{creds:?}").contains("super-secret"));
}

#[test]
fn host_and_base_path() {
    assert!(Host::parse("sandbox.konaplate.com").is_ok());
    assert!(Host::parse("127.0.0.1:8080").is_ok());
    assert!(Host::parse("bad host").is_err());
    assert!(Host::parse("evil\r\nX: y").is_err());
    assert_eq!(BasePath::parse("/open-api").unwrap().prefix(), "/open-api");
    assert_eq!(BasePath::parse("/").unwrap().prefix(), "");
    assert!(BasePath::parse("open-api").is_err());
    assert!(BasePath::parse("/open-api/").is_err());
}
