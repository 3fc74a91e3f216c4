//! The `serde` feature: API field names, validation on the way in (errors name the field and
//! the limit), replies as the platform sends them, round trips, and secrets only where asked.

use konaplate_core::message::decode_reply;
use konaplate_core::prelude::*;
use konaplate_core::{api::*, code::*, field::*};
use proptest::prelude::*;
use serde_json::json;

#[test]
fn requests_serialize_under_the_api_names() {
    let req = ChargeRequest {
        sequence_id: SequenceId::new("KP-1").unwrap(),
        user_id: UserId::new(50_000_100_001).unwrap(),
        amount: ChargeAmount::new(10_000).unwrap(),
        one_time_token: OneTimeToken::new("1234567890123456").unwrap(),
        dcvv: Dcvv::new("123").unwrap(),
        merchant_id: MerchantId::new("100000000000101").unwrap(),
    };
    let v = serde_json::to_value(&req).unwrap();
    assert_eq!(
        v,
        json!({"sequenceId":"KP-1","userId":50000100001u64,"amount":10000,"oneTimeToken":"1234567890123456","dcvv":"123","merchantId":"100000000000101"})
    );
    // the same bytes as the core's own encoder
    let mut buf = [0u8; 512];
    let n = konaplate_core::message::encode_message(&req, &mut buf).unwrap();
    assert_eq!(serde_json::to_vec(&req).unwrap(), &buf[..n]);
    let back: ChargeRequest = serde_json::from_value(v).unwrap();
    assert_eq!(back, req);
    // optional fields are omitted when absent
    let t = TokenRequest {
        card_no: CardNo::new("9410000000000011").unwrap(),
        token_type: None,
    };
    assert_eq!(
        serde_json::to_string(&t).unwrap(),
        r#"{"cardNo":"9410000000000011"}"#
    );
}

#[test]
fn invalid_values_cannot_be_deserialized_and_the_error_names_the_field() {
    for (body, want) in [
        (
            json!({"sequenceId":"has space"}),
            "invalid `sequenceId`: must be 1 to 30 characters",
        ),
        (json!({"sequenceId":"A".repeat(31)}), "invalid `sequenceId`"),
        (json!({"sequenceId":7}), "sequenceId"),
        (json!({}), "missing field `sequenceId`"),
    ] {
        let e = serde_json::from_value::<ChargeResultRequest>(body.clone())
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{body}: {e}");
    }
    let e = serde_json::from_value::<RefundRequest>(json!({
        "sequenceId":"S","userId":1,"cardExpiry":"3113","dcvv":"12","oneTimeToken":"1234567890123456"
    }))
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("invalid `cardExpiry`: must be 4 digits YYMM with month 01 to 12"),
        "{e}"
    );
    let e = serde_json::from_value::<RefundFeeRequest>(
        json!({"oneTimeToken":"1234567890123456","userId":0}),
    )
    .unwrap_err();
    assert!(
        e.to_string()
            .contains("invalid `userId`: must be a number from 1 to 9999999999999999999"),
        "{e}"
    );
    let e = serde_json::from_str::<ChargeResultRequest>(r#"{"sequenceId":"A","sequenceId":"B"}"#)
        .unwrap_err();
    assert!(
        e.to_string().contains("duplicate field `sequenceId`"),
        "{e}"
    );
    // a value error never echoes the value (it may be a secret)
    let e = serde_json::from_value::<TokenResponse>(
        json!({"oneTimeToken":"98765432109876","dcvv":"123"}),
    )
    .unwrap_err();
    assert!(!e.to_string().contains("98765432109876"), "{e}");
    assert!(e.to_string().contains("oneTimeToken"), "{e}");
}

#[test]
fn replies_round_trip_as_the_platform_sends_them() {
    let body = r#"{"response":{"code":"000_000","description":"성공"},"par":"Q10000000000000000000000011","refundFeeRate":1.5,"balance":30000,"refundCheckBalance":30000,"discountAmount":0,"refundFee":300,"refundAmount":29700,"expiredFee":0,"refundable":true,"refundThresholdBalance":1000000000,"refundThresholdRatio":60,"currentBalanceRatio":99,"lastLoadedBalance":30000,"unknown":[1,{"x":null}]}"#;
    let ours = decode_reply::<RefundFeeResponse, RefundFeeCode>(body.as_bytes()).unwrap();
    let via_serde: Reply<RefundFeeResponse, RefundFeeCode> = serde_json::from_str(body).unwrap();
    assert_eq!(via_serde, ours, "serde and the core's decoder agree");
    let out = serde_json::to_value(&ours).unwrap();
    assert_eq!(
        out["response"],
        json!({"code":"000_000","description":"성공"})
    );
    assert_eq!(out["refundFeeRate"], json!(1.5));
    assert_eq!(out["refundThresholdRatio"], json!(60));
    assert!(out.get("unknown").is_none());
    let again: Reply<RefundFeeResponse, RefundFeeCode> = serde_json::from_value(out).unwrap();
    assert_eq!(again, ours);
    // a failure reply has no body, and its fields are not required
    let fail: Reply<RefundResponse, RefundCode> =
        serde_json::from_str(r#"{"response":{"code":"009_004","description":"Refund denied."}}"#)
            .unwrap();
    assert_eq!(fail.code, RefundCode::RefundDenied);
    assert_eq!(fail.body, None);
    assert_eq!(
        serde_json::to_string(&fail).unwrap(),
        r#"{"response":{"code":"009_004","description":"Refund denied."}}"#
    );
    // a success reply must carry its required fields
    let e = serde_json::from_str::<Reply<RefundResponse, RefundCode>>(
        r#"{"response":{"code":"000_000","description":""}}"#,
    )
    .unwrap_err();
    assert!(e.to_string().contains("missing field `nrNumber`"), "{e}");
    let e = serde_json::from_str::<Reply<RefundResponse, RefundCode>>(
        r#"{"nrNumber":"KMR000000000000001"}"#,
    )
    .unwrap_err();
    assert!(e.to_string().contains("missing field `response`"), "{e}");
    // lists
    let list = r#"{"response":{"code":"000_000","description":""},"parInfoList":[{"par":"Q10000000000000000000000011","registeredDate":"20261129141851"}]}"#;
    let r: Reply<AutoRechargeListResponse, AutoRechargeListCode> =
        serde_json::from_str(list).unwrap();
    assert_eq!(
        r.body.unwrap().par_info_list[0].registered_date.as_str(),
        "20261129141851"
    );
    let e = serde_json::from_str::<ParInfo>(
        r#"{"par":"Q10000000000000000000000011","registeredDate":"20261399141851"}"#,
    )
    .unwrap_err();
    assert!(e.to_string().contains("invalid `registeredDate`"), "{e}");
}

#[test]
fn percentages_keep_one_decimal_exactly() {
    for (text, tenths) in [
        ("0", 0),
        ("1.5", 15),
        ("99", 990),
        ("12.3", 123),
        ("0.1", 1),
    ] {
        let p: Percent1 = serde_json::from_str(text).unwrap();
        assert_eq!(p.tenths(), tenths, "{text}");
        assert_eq!(serde_json::to_string(&p).unwrap(), text);
    }
    for bad in ["1.25", "99.1", "-1", "100", "\"5\""] {
        assert!(serde_json::from_str::<Percent1>(bad).is_err(), "{bad}");
    }
}

proptest! {
    /// Anything the core's constructors accept round-trips through serde; anything they
    /// refuse, serde refuses too.
    #[test]
    fn serde_accepts_exactly_what_the_constructors_accept(s in "[ -~]{0,40}") {
        let text = serde_json::to_string(&s).unwrap();
        prop_assert_eq!(serde_json::from_str::<SequenceId>(&text).ok(), SequenceId::new(&s).ok());
        prop_assert_eq!(serde_json::from_str::<NrNumber>(&text).ok(), NrNumber::new(&s).ok());
        prop_assert_eq!(serde_json::from_str::<Par>(&text).ok(), Par::new(&s).ok());
        prop_assert_eq!(serde_json::from_str::<CardExpiry>(&text).ok(), CardExpiry::new(&s).ok());
        prop_assert_eq!(serde_json::from_str::<Dcvv>(&text).ok(), Dcvv::new(&s).ok());
        if let Ok(v) = SequenceId::new(&s) {
            prop_assert_eq!(serde_json::to_string(&v).unwrap(), text);
        }
    }

    #[test]
    fn numbers_accept_exactly_their_range(v in any::<u64>()) {
        let text = v.to_string();
        prop_assert_eq!(serde_json::from_str::<UserId>(&text).ok(), UserId::new(v).ok());
        prop_assert_eq!(serde_json::from_str::<ChargeAmount>(&text).ok(), ChargeAmount::new(v).ok());
        prop_assert_eq!(serde_json::from_str::<Won>(&text).ok(), Won::new(v).ok());
    }
}
