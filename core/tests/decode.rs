//! Response decoding: envelope, escapes, unknown fields, result codes, hostile bodies.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use konaplate_core::error::{JsonError, JsonErrorKind, MAX_JSON_DEPTH as MAX_DEPTH};
use konaplate_core::message::{Description, decode_reply};
use konaplate_core::prelude::*;
use konaplate_core::{api::*, code::*, field::*};

fn reply<E: Endpoint>(body: &str) -> Result<ReplyOf<E>, DecodeError> {
    decode_reply::<E::Response, E::Code>(body.as_bytes())
}

fn json_err(e: DecodeError) -> JsonErrorKind {
    match e {
        DecodeError::Json(JsonError { kind, .. }) => kind,
        other => panic!("expected a JSON error, got {other:?}"),
    }
}

#[test]
fn charge_success() {
    let r = reply::<Charge>(
        r#"{"response":{"code":"000_000","description":"Success."},"nrNumber":"KMN221114031773543","isPending":false}"#,
    )
    .unwrap();
    assert_eq!(r.code, ChargeCode::Success);
    assert!(r.is_success());
    let b = r.body.unwrap();
    assert_eq!(b.nr_number.as_str(), "KMN221114031773543");
    assert!(!b.is_pending);
}

#[test]
fn every_endpoint_success_fixture_decodes() {
    assert!(reply::<IssueToken>(r#"{"response":{"code":"000_000","description":"Success"},"oneTimeToken":"9461442187322710","dcvv":"366","expiryTime":1700000030000}"#).unwrap().body.is_some());
    assert!(
        reply::<CancelCharge>(
            r#"{"response":{"code":"000_000","description":"Success."},"isPending":true}"#
        )
        .unwrap()
        .body
        .unwrap()
        .is_pending
    );
    assert_eq!(
        reply::<ChargeResultInquiry>(
            r#"{"result":"PENDING","response":{"code":"000_000","description":"Success"}}"#
        )
        .unwrap()
        .body
        .unwrap()
        .result,
        ChargeResult::Pending
    );
    let fee = reply::<RefundFee>(r#"{"response":{"code":"000_000","description":"Success"},"par":"Q1ABCDEF0123456789ABCDEF012","refundFeeRate":1.5,"balance":50000,"refundCheckBalance":50000,"discountAmount":0,"refundFee":750,"refundAmount":49250,"expiredFee":0,"refundable":true,"refundThresholdBalance":1000000000,"refundThresholdRatio":60,"currentBalanceRatio":12.5,"lastLoadedBalance":100000,"lastLoadedDate":"20261101"}"#).unwrap().body.unwrap();
    assert_eq!(fee.refund_fee_rate.tenths(), 15);
    assert_eq!(fee.refund_threshold_ratio.tenths(), 600);
    assert_eq!(fee.current_balance_ratio.to_string(), "12.5");
    assert_eq!(fee.refund_amount.get(), 49_250);
    assert_eq!(reply::<Refund>(r#"{"response":{"code":"000_000","description":"Success"},"nrNumber":"KMN221114031773543"}"#).unwrap().body.unwrap().nr_number.as_str(), "KMN221114031773543");
    assert!(
        reply::<AutoRechargeRegister>(
            r#"{"response":{"code":"000_000","description":"Success."}}"#
        )
        .unwrap()
        .body
        .is_some()
    );
    let list = reply::<AutoRechargeList>(r#"{"response":{"code":"000_000","description":"Success."},"parInfoList":[{"par":"Q1ABCDEF0123456789ABCDEF012","registeredDate":"20261123195406"},{"registeredDate":"20261124000000","par":"Q1ABCDEF0123456789ABCDEF013","x":1}]}"#).unwrap().body.unwrap();
    assert_eq!(list.par_info_list.len(), 2);
    assert_eq!(
        list.par_info_list[1].par.as_str(),
        "Q1ABCDEF0123456789ABCDEF013"
    );
    let empty = reply::<AutoRechargeList>(
        r#"{"response":{"code":"000_000","description":"Success."},"parInfoList":[]}"#,
    )
    .unwrap()
    .body
    .unwrap();
    assert!(empty.par_info_list.is_empty());
}

#[test]
fn korean_raw_and_escaped_decode_to_the_same_text() {
    let raw =
        reply::<Refund>(r#"{"response":{"code":"009_004","description":"환불 거절"}}"#).unwrap();
    let esc = reply::<Refund>(
        r#"{"response":{"code":"009_004","description":"\ud658\ubd88 \uAC70\uC808"}}"#,
    )
    .unwrap();
    assert_eq!(raw.description.as_str(), "환불 거절");
    assert_eq!(esc.description, raw.description);
    assert_eq!(raw.code, RefundCode::RefundDenied);
    assert_eq!(raw.body, None);
}

#[test]
fn all_escapes_and_surrogate_pairs() {
    let r = reply::<Refund>(
        r#"{"response":{"code":"009_001","description":"q\" b\\ s\/ n\n t\t r\r b\b f\f \u0041 \ud83d\ude00 😀"}}"#,
    )
    .unwrap();
    assert_eq!(
        r.description.as_str(),
        "q\" b\\ s/ n\n t\t r\r b\u{8} f\u{c} A 😀 😀"
    );
}

#[test]
fn lone_surrogates_in_read_keys_are_errors_but_not_in_skipped_values() {
    let e = reply::<Refund>(r#"{"response":{"code":"009_004","description":""},"\ud800":1}"#)
        .unwrap_err();
    assert_eq!(json_err(e), JsonErrorKind::LoneSurrogate);
    assert!(
        reply::<Refund>(
            r#"{"response":{"code":"009_004","description":""},"x":{"\ud800":"\udc00"}}"#
        )
        .is_ok()
    );
}

#[test]
fn escaped_key_names_are_recognised() {
    let r = reply::<ChargeResultInquiry>(
        r#"{"\u0072esponse":{"\u0063ode":"000_000","description":""},"res\u0075lt":"FAILED"}"#,
    )
    .unwrap();
    assert_eq!(r.body.unwrap().result, ChargeResult::Failed);
}

#[test]
fn escaped_ascii_field_values_are_decoded_then_validated() {
    let r = reply::<IssueToken>(
        r#"{"response":{"code":"000_000","description":""},"oneTimeToken":"\u0039461442187322710","dcvv":"\u0033\u00366"}"#,
    )
    .unwrap();
    assert_eq!(r.body.unwrap().dcvv.expose(), "366");
}

#[test]
fn unknown_fields_of_every_shape_are_ignored() {
    let body = r#"{
        "meta": {"a": [1, 2.5e-3, -0, true, false, null, {"b": {"c": []}}], "d": "\ud83d\ude00\u00e9"},
        "response": {"extra": {"x": [[]]}, "code": "000_000", "n": null, "description": "ok"},
        "isPending": true,
        "list": [[[[{"k":"v"}]]]],
        "huge": "THIS STRING IS LONGER THAN ANY SDK CAPACITY ....................................................................................................................................................................................................................................................................................... \u0041",
        "num": 123456789012345678901234567890,
        "neg": -1.5E+300
    }"#;
    let r = reply::<CancelCharge>(body).unwrap();
    assert!(r.body.unwrap().is_pending);
}

#[test]
fn missing_required_field_on_success_is_an_error() {
    let e = reply::<Charge>(
        r#"{"response":{"code":"000_000","description":"Success."},"isPending":false}"#,
    )
    .unwrap_err();
    assert_eq!(e, DecodeError::Missing { field: "nrNumber" });
    let e = reply::<Charge>(r#"{"nrNumber":"K","isPending":false}"#).unwrap_err();
    assert_eq!(e, DecodeError::Missing { field: "response" });
    let e = reply::<Charge>(r#"{"response":{"description":"x"}}"#).unwrap_err();
    assert_eq!(
        e,
        DecodeError::Missing {
            field: "response.code"
        }
    );
    let e = reply::<Charge>(r#"{"response":{"code":"000_000"}}"#).unwrap_err();
    assert_eq!(
        e,
        DecodeError::Missing {
            field: "response.description"
        }
    );
}

#[test]
fn failure_reply_needs_no_fields() {
    let r = reply::<Charge>(
        r#"{"response":{"code":"007_004","description":"Withdraw failure from PG."}}"#,
    )
    .unwrap();
    assert_eq!(r.code, ChargeCode::WithdrawFailureFromPg);
    let err = r.into_result().unwrap_err();
    assert_eq!(err.code.as_str(), "007_004");
    assert!(
        err.to_string()
            .starts_with("007_004 Withdraw failure from PG.")
    );
}

#[test]
fn unknown_code_is_kept_verbatim() {
    let r = reply::<Charge>(r#"{"response":{"code":"123_456","description":"새 코드"}}"#).unwrap();
    match &r.code {
        ChargeCode::Other(raw) => assert_eq!(raw.as_str(), "123_456"),
        other => panic!("{other:?}"),
    }
    assert!(!r.is_success());
    assert_eq!(r.code.documented_message(), None);
    // the old "00" success of an early public client is not success (D17)
    let r = reply::<Charge>(
        r#"{"response":{"code":"00","description":""},"nrNumber":"K","isPending":false}"#,
    )
    .unwrap();
    assert!(!r.is_success());
    assert_eq!(r.body, None);
}

#[test]
fn codes_are_mapped_per_endpoint() {
    // D13: 007_027 means the firm-banking terms on the auto-recharge-at-payment register page
    let r = reply::<AutoRechargeRegister>(r#"{"response":{"code":"007_027","description":""}}"#)
        .unwrap();
    assert_eq!(
        r.code,
        AutoRechargeRegisterCode::FirmBankingTermsNotAccepted
    );
    // and is undocumented for Charge
    let r = reply::<Charge>(r#"{"response":{"code":"007_027","description":""}}"#).unwrap();
    assert!(matches!(r.code, ChargeCode::Other(_)));
    let r = reply::<ChargeResultInquiry>(
        r#"{"response":{"code":"007_009","description":"Previous transaction not found."}}"#,
    )
    .unwrap();
    assert_eq!(r.code, ChargeResultCode::PreviousTransactionNotFound);
    for code in CancelCode::DOCUMENTED {
        let body =
            format!(r#"{{"response":{{"code":"{code}","description":""}},"isPending":false}}"#);
        let r = reply::<CancelCharge>(&body).unwrap();
        assert!(!matches!(r.code, CancelCode::Other(_)), "{code}");
        assert_eq!(r.code.as_str(), *code);
    }
}

#[test]
fn enc_data_is_reported_as_encrypted() {
    let body = br#"{"encData":"eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMTI4R0NNIn0.a.b.c.d"}"#;
    assert_eq!(
        decode_reply::<CancelResponse, CancelCode>(body).unwrap_err(),
        DecodeError::Encrypted
    );
    // null means absent here too
    let body = br#"{"response":null,"encData":"a.b.c.d.e"}"#;
    assert_eq!(
        decode_reply::<CancelResponse, CancelCode>(body).unwrap_err(),
        DecodeError::Encrypted
    );
    let body =
        br#"{"response":{"code":"000_000","description":""},"isPending":true,"encData":null}"#;
    assert!(
        decode_reply::<CancelResponse, CancelCode>(body)
            .unwrap()
            .is_success()
    );
    let body = br#"{"encData":null,"encData":"a.b.c.d.e"}"#;
    assert_eq!(
        decode_reply::<CancelResponse, CancelCode>(body),
        Err(DecodeError::Duplicate { field: "encData" })
    );
    // an escaped encData is no JWE
    let body = br#"{"encData":"a\u002eb.c.d.e"}"#;
    assert!(matches!(
        decode_reply::<CancelResponse, CancelCode>(body),
        Err(DecodeError::Field(f)) if f.field() == "encData"
    ));
}

#[test]
fn wrong_types_name_the_field_and_limit() {
    let e = reply::<Charge>(
        r#"{"response":{"code":"000_000","description":""},"nrNumber":123,"isPending":false}"#,
    )
    .unwrap_err();
    assert_eq!(
        e,
        DecodeError::Field(FieldError::new("nrNumber", NrNumber::LIMIT))
    );
    let e = reply::<Charge>(
        r#"{"response":{"code":"000_000","description":""},"nrNumber":"K","isPending":"false"}"#,
    )
    .unwrap_err();
    assert_eq!(
        e,
        DecodeError::Field(FieldError::new("isPending", "true or false"))
    );
    let e = reply::<IssueToken>(r#"{"response":{"code":"000_000","description":""},"oneTimeToken":"9461442187322710","dcvv":"36"}"#).unwrap_err();
    assert_eq!(
        e,
        DecodeError::Field(FieldError::new("dcvv", "exactly 3 ASCII digits"))
    );
    let e =
        reply::<Refund>(r#"{"response":{"code":"000_000","description":""},"nrNumber":"KMN1"}"#)
            .unwrap_err();
    assert_eq!(
        e,
        DecodeError::Field(FieldError::new(
            "nrNumber",
            "exactly 18 ASCII letters or digits"
        ))
    );
    // null means absent: an error only where the field is required
    let e = reply::<Charge>(
        r#"{"response":{"code":"000_000","description":""},"nrNumber":null,"isPending":false}"#,
    )
    .unwrap_err();
    assert_eq!(e, DecodeError::Missing { field: "nrNumber" });
    assert!(
        reply::<Charge>(
            r#"{"response":{"code":"007_001","description":""},"nrNumber":null,"isPending":null}"#
        )
        .is_ok()
    );
    let e = reply::<Charge>(
        r#"{"response":{"code":"007_001","description":""},"nrNumber":null,"nrNumber":null}"#,
    )
    .unwrap_err();
    assert_eq!(e, DecodeError::Duplicate { field: "nrNumber" });
    let e = reply::<Charge>(r#"{"response":[],"nrNumber":"K","isPending":false}"#).unwrap_err();
    assert!(matches!(e, DecodeError::Field(f) if f.field() == "response"));
}

#[test]
fn numbers_must_be_integers_in_range() {
    let fee = |field: &str, v: &str| {
        let mut body = String::from(
            r#"{"response":{"code":"000_000","description":""},"par":"Q1ABCDEF0123456789ABCDEF012","refundFeeRate":1,"balance":1,"refundCheckBalance":1,"discountAmount":1,"refundFee":1,"refundAmount":1,"expiredFee":1,"refundable":false,"refundThresholdBalance":1,"refundThresholdRatio":1,"currentBalanceRatio":1,"lastLoadedBalance":1}"#,
        );
        body = body.replace(&format!("\"{field}\":1"), &format!("\"{field}\":{v}"));
        reply::<RefundFee>(&body)
    };
    assert!(fee("balance", "1000000000").is_ok());
    assert!(
        fee("balance", "-0").is_err(),
        "-0 is a float to serde_json, not an integer"
    );
    assert_eq!(
        fee("balance", "1000000001").unwrap_err(),
        DecodeError::Field(FieldError::new("balance", Won::LIMIT))
    );
    assert!(fee("balance", "1.0").is_err(), "integers have no fraction");
    assert!(fee("balance", "1e3").is_err(), "integers have no exponent");
    assert!(fee("balance", "\"1\"").is_err(), "numbers are not strings");
    assert!(fee("balance", "-1").is_err());
    assert_eq!(
        fee("refundFeeRate", "99")
            .unwrap()
            .body
            .unwrap()
            .refund_fee_rate
            .tenths(),
        990
    );
    assert_eq!(
        fee("refundFeeRate", "1.25e1")
            .unwrap()
            .body
            .unwrap()
            .refund_fee_rate
            .tenths(),
        125
    );
    assert_eq!(
        fee("refundFeeRate", "12.50")
            .unwrap()
            .body
            .unwrap()
            .refund_fee_rate
            .tenths(),
        125
    );
    assert!(
        fee("refundFeeRate", "12.55").is_err(),
        "one decimal at most"
    );
    assert_eq!(
        fee("refundFeeRate", "1000000000000000000000e-20")
            .unwrap()
            .body
            .unwrap()
            .refund_fee_rate
            .tenths(),
        100,
        "exact, however long"
    );
    assert_eq!(
        fee("refundFeeRate", "0.000000000000000000000000005e26")
            .unwrap()
            .body
            .unwrap()
            .refund_fee_rate
            .tenths(),
        5
    );
    assert!(fee("refundFeeRate", "99.1").is_err());
    assert!(fee("refundFeeRate", "1e400").is_err());
    assert!(
        fee(
            "refundFeeRate",
            "0.0000000000000000000000000000000000000000000001"
        )
        .is_err()
    );
    let e = reply::<Charge>(
        r#"{"response":{"code":"000_000","description":""},"nrNumber":"K","isPending":false,"userId":99999999999999999999}"#,
    );
    assert!(e.is_ok(), "an unknown huge number is only syntax-checked");
}

#[test]
fn duplicates_of_known_fields_are_rejected() {
    let e = reply::<Charge>(r#"{"response":{"code":"000_000","description":""},"nrNumber":"A","nrNumber":"B","isPending":false}"#).unwrap_err();
    assert_eq!(e, DecodeError::Duplicate { field: "nrNumber" });
    let e = reply::<Charge>(r#"{"response":{"code":"000_000","code":"007_001","description":""}}"#)
        .unwrap_err();
    assert_eq!(
        e,
        DecodeError::Duplicate {
            field: "response.code"
        }
    );
    // unknown duplicates are ignored, like any unknown field
    assert!(
        reply::<CancelCharge>(
            r#"{"response":{"code":"000_000","description":""},"isPending":true,"x":1,"x":2}"#
        )
        .is_ok()
    );
}

#[test]
fn description_over_capacity_is_an_error_not_a_truncation() {
    let long = "가".repeat(86); // 258 bytes
    let e = reply::<Refund>(&format!(
        r#"{{"response":{{"code":"009_004","description":"{long}"}}}}"#
    ))
    .unwrap_err();
    assert_eq!(
        e,
        DecodeError::Field(FieldError::new("response.description", Description::LIMIT))
    );
    let fits = "가".repeat(85);
    assert!(
        reply::<Refund>(&format!(
            r#"{{"response":{{"code":"009_004","description":"{fits}"}}}}"#
        ))
        .is_ok()
    );
}

#[test]
fn list_over_capacity_is_an_error() {
    let item = r#"{"par":"Q1ABCDEF0123456789ABCDEF012","registeredDate":"20261123195406"}"#;
    let items = |n: usize| vec![item; n].join(",");
    let body = |n| {
        format!(
            r#"{{"response":{{"code":"000_000","description":""}},"parInfoList":[{}]}}"#,
            items(n)
        )
    };
    assert_eq!(
        reply::<AutoRechargeList>(&body(16))
            .unwrap()
            .body
            .unwrap()
            .par_info_list
            .len(),
        16
    );
    assert!(
        matches!(reply::<AutoRechargeList>(&body(17)).unwrap_err(), DecodeError::Field(f) if f.field() == "parInfoList")
    );
}

#[test]
fn hostile_bom() {
    let mut b = vec![0xEF, 0xBB, 0xBF];
    b.extend_from_slice(br#"{"response":{"code":"000_000","description":""}}"#);
    assert_eq!(
        json_err(decode_reply::<Empty, TokenCode>(&b).unwrap_err()),
        JsonErrorKind::ByteOrderMark
    );
}

#[test]
fn hostile_invalid_utf8() {
    for bad in [
        &b"\xff"[..],
        b"\xc3\x28",
        b"\xed\xa0\x80",
        b"\xf4\x90\x80\x80",
        b"\xe2\x82",
    ] {
        let mut b = br#"{"response":{"code":"000_000","description":""},"x":""#.to_vec();
        b.extend_from_slice(bad);
        b.extend_from_slice(b"\"}");
        assert_eq!(
            json_err(decode_reply::<Empty, TokenCode>(&b).unwrap_err()),
            JsonErrorKind::InvalidUtf8
        );
    }
}

#[test]
fn hostile_lone_surrogates_in_kept_strings() {
    for s in [
        r"\ud800",
        r"\udc00",
        r"\ud800\u0041",
        r"\ud800x",
        r"\udbff\udbff",
    ] {
        let body = format!(r#"{{"response":{{"code":"000_000","description":"{s}"}}}}"#);
        assert_eq!(
            json_err(reply::<AutoRechargeRegister>(&body).unwrap_err()),
            JsonErrorKind::LoneSurrogate,
            "{s}"
        );
    }
}

#[test]
fn hostile_deep_nesting_is_bounded() {
    // exactly the limit is fine: the envelope object + 31 nested arrays
    let ok = format!(
        r#"{{"response":{{"code":"000_000","description":""}},"x":{}{}}}"#,
        "[".repeat(MAX_DEPTH - 1),
        "]".repeat(MAX_DEPTH - 1)
    );
    assert!(reply::<AutoRechargeRegister>(&ok).is_ok());
    let deep = format!(
        r#"{{"response":{{"code":"000_000","description":""}},"x":{}{}}}"#,
        "[".repeat(MAX_DEPTH),
        "]".repeat(MAX_DEPTH)
    );
    assert_eq!(
        json_err(reply::<AutoRechargeRegister>(&deep).unwrap_err()),
        JsonErrorKind::TooDeep
    );
    // a million levels: an error, not a stack overflow
    let huge = format!(r#"{{"x":{}"#, "[{\"a\":".repeat(1_000_000));
    assert_eq!(
        json_err(reply::<AutoRechargeRegister>(&huge).unwrap_err()),
        JsonErrorKind::TooDeep
    );
}

#[test]
fn hostile_syntax_errors() {
    let cases: &[(&str, JsonErrorKind)] = &[
        (
            r#"{"response":{"code":"000_000","description":""}} x"#,
            JsonErrorKind::TrailingCharacters,
        ),
        (
            r#"{"response":{"code":"000_000","description":""},}"#,
            JsonErrorKind::UnexpectedByte,
        ),
        (
            r#"{"response":{"code":"000_000","description":""},"x":tru}"#,
            JsonErrorKind::UnexpectedByte,
        ),
        (
            r#"{"response":{"code":"000_000","description":""},"x":01}"#,
            JsonErrorKind::UnexpectedByte,
        ),
        (
            r#"{"response":{"code":"000_000","description":""},"x":1.}"#,
            JsonErrorKind::InvalidNumber,
        ),
        (
            r#"{"response":{"code":"000_000","description":""},"x":-}"#,
            JsonErrorKind::InvalidNumber,
        ),
        (
            r#"{"response":{"code":"000_000","description":""},"x":"\x"}"#,
            JsonErrorKind::InvalidEscape,
        ),
        (
            r#"{"response":{"code":"000_000","description":""},"x":"\u12G4"}"#,
            JsonErrorKind::InvalidEscape,
        ),
        (
            "{\"response\":{\"code\":\"000_000\",\"description\":\"a\u{1}b\"}}",
            JsonErrorKind::ControlCharacter,
        ),
        (
            "{\"response\":{\"code\":\"000_000\",\"description\":\"\"},\"x\":\"\n\"}",
            JsonErrorKind::ControlCharacter,
        ),
        (
            r#"{"response":{"code":"000_000","description":""},"x":[1 2]}"#,
            JsonErrorKind::UnexpectedByte,
        ),
        (
            r#"{"response":{"code":"000_000","description":""},"x":{"a" 1}}"#,
            JsonErrorKind::UnexpectedByte,
        ),
        (
            r#"{"response":{"code":"000_000","description":""},"x":{1:1}}"#,
            JsonErrorKind::UnexpectedByte,
        ),
        (
            r#"{"response":{"code":"000_000","description":""} "x":1}"#,
            JsonErrorKind::UnexpectedByte,
        ),
        ("", JsonErrorKind::UnexpectedEnd),
        ("   ", JsonErrorKind::UnexpectedEnd),
        (
            r#"{"response":{"code":"000_000","description":""},"x":nul"#,
            JsonErrorKind::UnexpectedEnd,
        ),
    ];
    for (body, kind) in cases {
        assert_eq!(
            json_err(reply::<AutoRechargeRegister>(body).unwrap_err()),
            *kind,
            "{body}"
        );
    }
    // a top-level non-object is a field error, not a crash
    assert!(reply::<AutoRechargeRegister>("[]").is_err());
    assert!(reply::<AutoRechargeRegister>("null").is_err());
}

#[test]
fn every_truncation_of_a_fixture_is_an_error() {
    let full = r#"{"response":{"code":"000_000","description":"\uc131\uacf5 😀"},"par":"Q1ABCDEF0123456789ABCDEF012","refundFeeRate":1.5,"balance":50000,"refundCheckBalance":50000,"discountAmount":0,"refundFee":750,"refundAmount":49250,"expiredFee":0,"refundable":true,"refundThresholdBalance":1,"refundThresholdRatio":60,"currentBalanceRatio":12.5,"lastLoadedBalance":100000,"x":[null,{"y":-1e5}]}"#;
    assert!(reply::<RefundFee>(full).is_ok());
    for cut in 0..full.len() {
        let prefix = &full.as_bytes()[..cut];
        assert!(
            decode_reply::<RefundFeeResponse, RefundFeeCode>(prefix).is_err(),
            "prefix of {cut} bytes"
        );
    }
}

#[test]
fn message_decoder_reads_request_bodies() {
    use konaplate_core::message::decode_message;
    let r: ChargeRequest = decode_message(br#"{"sequenceId":"S","userId":1,"amount":2,"oneTimeToken":"9461442187322710","dcvv":"366","merchantId":"100000000000123","extra":{}}"#).unwrap();
    assert_eq!(r.amount.get(), 2);
    let e = decode_message::<ChargeRequest>(br#"{"sequenceId":"S","userId":1,"amount":0,"oneTimeToken":"9461442187322710","dcvv":"366","merchantId":"100000000000123"}"#).unwrap_err();
    assert_eq!(
        e,
        DecodeError::Field(FieldError::new("amount", ChargeAmount::LIMIT))
    );
    let e = decode_message::<RefundRequest>(br#"{"sequenceId":"S","userId":1,"cardExpiry":"3108","dcvv":"","oneTimeToken":"9461442187322710"}"#).unwrap_err();
    assert_eq!(e, DecodeError::Field(FieldError::new("dcvv", Dcvv::LIMIT)));
}

#[test]
fn a_description_fills_its_capacity_exactly_and_never_splits_a_character() {
    let too_long = DecodeError::Field(FieldError::new(Description::API_NAME, Description::LIMIT));
    // 255 bytes of ASCII, then one escaped Hangul syllable (3 bytes): 258 do not fit
    for (tail, fits) in [
        ("a", true),
        ("\\u0041", true),
        ("\\u00e9", false),
        ("\\uac00", false),
        ("가", false),
    ] {
        let text = format!("{}{tail}", "a".repeat(255));
        let r = reply::<Refund>(&format!(
            r#"{{"response":{{"code":"009_004","description":"{text}"}}}}"#
        ));
        match r {
            Ok(r) => {
                assert!(fits, "{tail}");
                assert_eq!(r.description.as_bytes().len(), 256);
                assert_eq!(r.description.as_str().len(), 256);
            }
            Err(e) => {
                assert!(!fits, "{tail}");
                assert_eq!(e, too_long, "{tail}");
            }
        }
    }
    // 85 escaped syllables are 255 bytes: they fit, and one more does not
    let r = reply::<Refund>(&format!(
        r#"{{"response":{{"code":"009_004","description":"{}"}}}}"#,
        "\\ud658".repeat(85)
    ))
    .unwrap();
    assert_eq!(r.description.as_str(), "환".repeat(85));
    let e = reply::<Refund>(&format!(
        r#"{{"response":{{"code":"009_004","description":"{}"}}}}"#,
        "\\ud658".repeat(86)
    ))
    .unwrap_err();
    assert_eq!(e, too_long);
}

#[test]
fn every_documented_code_of_every_endpoint_maps_to_its_variant_and_back() {
    fn each<C: ResultCode>(documented: &[&str]) {
        for code in documented {
            let c = C::from_raw(RawCode::new(code).unwrap());
            assert_eq!(c.as_str(), *code);
            assert!(c.documented_message().is_some(), "{code} is named");
            assert_eq!(c.is_success(), *code == "000_000", "{code}");
        }
        for other in ["999_999", "000_00", "000_0000", "", "가"] {
            let c = C::from_raw(RawCode::new(other).unwrap());
            assert_eq!(c.as_str(), other);
            assert!(
                c.documented_message().is_none() && !c.is_success(),
                "{other}"
            );
        }
        assert!(!C::empty().is_success() && C::empty().as_str().is_empty());
    }
    each::<TokenCode>(TokenCode::DOCUMENTED);
    each::<ChargeCode>(ChargeCode::DOCUMENTED);
    each::<CancelCode>(CancelCode::DOCUMENTED);
    each::<ChargeResultCode>(ChargeResultCode::DOCUMENTED);
    each::<RefundFeeCode>(RefundFeeCode::DOCUMENTED);
    each::<RefundCode>(RefundCode::DOCUMENTED);
    each::<AutoRechargeRegisterCode>(AutoRechargeRegisterCode::DOCUMENTED);
    each::<AutoRechargeListCode>(AutoRechargeListCode::DOCUMENTED);
}

#[test]
fn a_code_with_a_control_character_is_malformed_never_cut_short() {
    for code in [r"000_000\u0000X", r"000_000\n", r"000\u007f"] {
        let body =
            format!(r#"{{"response":{{"code":"{code}","description":""}},"isPending":false}}"#);
        assert_eq!(
            decode_reply::<CancelResponse, CancelCode>(body.as_bytes()).unwrap_err(),
            DecodeError::Field(FieldError::new("response.code", RawCode::LIMIT)),
            "{code}"
        );
    }
    assert!(RawCode::new("000_000\0X").is_err());
    assert!(RawCode::new("007_009").is_ok());
}
