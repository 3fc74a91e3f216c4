//! ASCII field values read by the decoder agree with the fields' own constructors, whatever the
//! value: the decoder's one-scan path (plain strings of the field's characters) and its
//! general path (escapes, other characters, other JSON values) must give the same value or
//! the same error naming the field and its limit.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use konaplate_core::error::DecodeError;
use konaplate_core::message::{AnyReply, decode_reply};
use konaplate_core::{api::*, field::*};
use proptest::prelude::*;

/// Values near and far from every ASCII field's rules.
fn value() -> impl Strategy<Value = String> {
    let ch = prop_oneof![
        6 => proptest::char::range('0', '9'),
        3 => proptest::char::range('A', 'Z'),
        2 => proptest::char::range('a', 'z'),
        1 => prop_oneof![Just('-'), Just('_'), Just('"'), Just('\\'), Just(' '), Just('\n'), Just('é'), Just('가'), Just('\u{1}')],
    ];
    prop_oneof![
        proptest::collection::vec(ch, 0..60).prop_map(|v| v.into_iter().collect()),
        // the right length for the fixed fields, mostly of the right characters
        "[0-9]{3}|[0-9]{14}|[0-9]{16}|[0-9A-Z]{18}|[0-9A-Z]{27}|2026(0[1-9]|1[0-2])[0-3][0-9][0-2][0-9][0-5][0-9][0-5][0-9]",
    ]
}

/// The JSON text of `s`: plain (serde_json escapes only what it must), or every character
/// `\u`-escaped (which forces the decoder's general path).
fn json_string(s: &str, escape_all: bool) -> String {
    if !escape_all {
        return serde_json::to_string(s).unwrap();
    }
    let mut out = String::from("\"");
    for u in s.encode_utf16() {
        out.push_str(&format!("\\u{u:04x}"));
    }
    out.push('"');
    out
}

fn envelope(fields: &str) -> String {
    format!(r#"{{"response":{{"code":"000_000","description":"OK"}},{fields}}}"#)
}

/// What the decoder says about `value` in field `key` of endpoint `E`: the field's value
/// (through `get`) or the error.
fn decoded<E: Endpoint, T>(
    body: &str,
    get: impl Fn(&<E as Endpoint>::Response) -> T,
) -> Result<T, DecodeError> {
    let r = decode_reply::<E::Response, E::Code>(body.as_bytes())?;
    Ok(get(r
        .body
        .as_ref()
        .expect("a success reply has its fields")))
}

fn same<T: PartialEq + std::fmt::Debug>(
    decoded: Result<T, DecodeError>,
    constructed: Result<T, FieldError>,
    what: &str,
) {
    match (decoded, constructed) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{what}"),
        (Err(DecodeError::Field(a)), Err(b)) => assert_eq!(a, b, "{what}"),
        (a, b) => panic!("{what}: decoder {a:?}, constructor {b:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn every_ascii_field_decodes_as_its_constructor_says(s in value(), escape_all in any::<bool>()) {
        let v = json_string(&s, escape_all);
        same(
            decoded::<Charge, _>(&envelope(&format!(r#""nrNumber":{v},"isPending":false"#)), |b| b.nr_number),
            NrNumber::new(&s),
            &format!("nrNumber {v}"),
        );
        same(
            decoded::<Refund, _>(&envelope(&format!(r#""nrNumber":{v}"#)), |b| b.nr_number),
            RefundNrNumber::new(&s),
            &format!("refund nrNumber {v}"),
        );
        same(
            decoded::<IssueToken, _>(&envelope(&format!(r#""oneTimeToken":{v},"dcvv":"123""#)), |b| b.one_time_token.expose().to_string()),
            OneTimeToken::new(&s).map(|t| t.expose().to_string()),
            &format!("oneTimeToken {v}"),
        );
        same(
            decoded::<IssueToken, _>(&envelope(&format!(r#""oneTimeToken":"1234567890123456","dcvv":{v}"#)), |b| b.dcvv.expose().to_string()),
            Dcvv::new(&s).map(|d| d.expose().to_string()),
            &format!("dcvv {v}"),
        );
        same(
            decoded::<AutoRechargeList, _>(
                &envelope(&format!(r#""parInfoList":[{{"par":{v},"registeredDate":{v}}}]"#)),
                |b| b.par_info_list.first().map(|p| (p.par, p.registered_date)),
            )
            .map(|o| o.unwrap()),
            Par::new(&s).and_then(|p| Ok((p, DateTime14::new(&s)?))),
            &format!("par / registeredDate {v}"),
        );
    }
}

#[test]
fn other_json_values_are_the_field_error() {
    for v in ["12", "null", "true", "{}", "[]"] {
        let r = decoded::<Refund, _>(&envelope(&format!(r#""nrNumber":{v}"#)), |b| b.nr_number);
        match v {
            // null is absent: a required field missing from a success reply
            "null" => assert_eq!(r, Err(DecodeError::Missing { field: "nrNumber" })),
            _ => assert_eq!(
                r,
                Err(DecodeError::Field(FieldError::new(
                    "nrNumber",
                    RefundNrNumber::LIMIT
                ))),
                "{v}"
            ),
        }
    }
    // the decoder as a trait object decodes the same way
    let mut out = ReplyOf::<Refund>::empty();
    let body = envelope(r#""nrNumber":"KMN221114031773543""#);
    assert_eq!(AnyReply::decode_plain(&mut out, body.as_bytes()), Ok(()));
    assert_eq!(out.body.unwrap().nr_number.as_str(), "KMN221114031773543");
}
