//! Property tests: requests round-trip through an independent JSON parser (serde_json), and
//! responses produced by serde_json (random unknown fields, escapes, key orders, whitespace)
//! decode to the values they carry.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use konaplate_core::message::decode_reply;
use konaplate_core::message::{MAX_LIST_ITEMS, decode_message, encode_message};
use konaplate_core::prelude::*;
use konaplate_core::{api::*, code::*, field::*};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

// ---------- field strategies (valid values only) ----------

fn user_id() -> impl Strategy<Value = UserId> {
    prop_oneof![Just(1u64), Just(UserId::MAX), 1..=UserId::MAX]
        .prop_map(|v| UserId::new(v).unwrap())
}
fn amount() -> impl Strategy<Value = ChargeAmount> {
    prop_oneof![Just(1u64), Just(ChargeAmount::MAX), 1..=ChargeAmount::MAX]
        .prop_map(|v| ChargeAmount::new(v).unwrap())
}
fn won() -> impl Strategy<Value = Won> {
    prop_oneof![Just(0u64), Just(Won::MAX), 0..=Won::MAX].prop_map(|v| Won::new(v).unwrap())
}
fn sequence_id() -> impl Strategy<Value = SequenceId> {
    "[A-Za-z0-9_-]{1,30}".prop_map(|s| SequenceId::new(&s).unwrap())
}
fn nr_number() -> impl Strategy<Value = NrNumber> {
    "[A-Za-z0-9]{1,50}".prop_map(|s| NrNumber::new(&s).unwrap())
}
fn refund_nr() -> impl Strategy<Value = RefundNrNumber> {
    "[A-Za-z0-9]{18}".prop_map(|s| RefundNrNumber::new(&s).unwrap())
}
fn token() -> impl Strategy<Value = OneTimeToken> {
    "[0-9]{16}".prop_map(|s| OneTimeToken::new(&s).unwrap())
}
fn dcvv() -> impl Strategy<Value = Dcvv> {
    "[0-9]{3}".prop_map(|s| Dcvv::new(&s).unwrap())
}
fn card_no() -> impl Strategy<Value = CardNo> {
    "[0-9]{16}".prop_map(|s| CardNo::new(&s).unwrap())
}
fn par() -> impl Strategy<Value = Par> {
    "[A-Z0-9]{27}".prop_map(|s| Par::new(&s).unwrap())
}
fn expiry() -> impl Strategy<Value = CardExpiry> {
    (0u8..100, 1u8..=12).prop_map(|(y, m)| CardExpiry::new(&format!("{y:02}{m:02}")).unwrap())
}
fn merchant() -> impl Strategy<Value = MerchantId> {
    "[0-9]{15}".prop_map(|s| MerchantId::new(&s).unwrap())
}
fn date14() -> impl Strategy<Value = DateTime14> {
    (
        2000u16..=9999,
        1u8..=12,
        1u8..=28,
        0u8..24,
        0u8..60,
        0u8..60,
    )
        .prop_map(|(y, mo, d, h, mi, s)| {
            DateTime14::new(&format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}")).unwrap()
        })
}
fn percent() -> impl Strategy<Value = Percent1> {
    (0u16..=990).prop_map(|t| Percent1::from_tenths(t, "x").unwrap())
}

// ---------- request round trip ----------

/// Encodes `m`, parses it with serde_json, and checks the keys, their order, and that our own
/// decoder reads it back to an equal value.
fn check_request<M: konaplate_core::message::Message>(m: &M, expected: Value) {
    let mut buf = [0u8; 2048];
    let n = encode_message(m, &mut buf).unwrap();
    let parsed: Value = serde_json::from_slice(&buf[..n]).expect("valid JSON");
    assert_eq!(parsed, expected, "{}", String::from_utf8_lossy(&buf[..n]));
    let (got, want) = (parsed.as_object().unwrap(), expected.as_object().unwrap());
    assert!(got.keys().eq(want.keys()), "key order");
    assert!(got.values().all(|v| !v.is_null()), "no nulls");
    assert_eq!(&decode_message::<M>(&buf[..n]).unwrap(), m);
}

proptest! {
    #[test]
    fn token_request_round_trips(card in card_no(), ty in proptest::option::of(prop_oneof![Just(TokenType::Atm), Just(TokenType::Credit)])) {
        let m = TokenRequest { card_no: card.clone(), token_type: ty };
        let mut want = json!({"cardNo": card.expose()});
        if let Some(t) = ty { want["type"] = json!(t.as_str()); }
        check_request(&m, want);
    }

    #[test]
    fn charge_request_round_trips(s in sequence_id(), u in user_id(), a in amount(), t in token(), d in dcvv(), mid in merchant()) {
        let want = json!({"sequenceId": s.as_str(), "userId": u.get(), "amount": a.get(),
            "oneTimeToken": t.expose(), "dcvv": d.expose(), "merchantId": mid.as_str()});
        check_request(&ChargeRequest { sequence_id: s, user_id: u, amount: a, one_time_token: t, dcvv: d, merchant_id: mid }, want);
    }

    #[test]
    fn cancel_request_round_trips(s in sequence_id(), u in user_id(), nr in nr_number(), t in token(), d in dcvv(), e in proptest::option::of(expiry())) {
        let mut want = json!({"sequenceId": s.as_str(), "userId": u.get(), "nrNumber": nr.as_str(),
            "oneTimeToken": t.expose(), "dcvv": d.expose()});
        if let Some(e) = &e { want["cardExpiry"] = json!(e.as_str()); }
        check_request(&CancelRequest { sequence_id: s, user_id: u, nr_number: nr, one_time_token: t, dcvv: d, card_expiry: e }, want);
    }

    #[test]
    fn result_refund_and_auto_recharge_requests_round_trip(s in sequence_id(), u in user_id(), t in token(), d in dcvv(), e in expiry(), p in par()) {
        check_request(&ChargeResultRequest { sequence_id: s }, json!({"sequenceId": s.as_str()}));
        check_request(&RefundFeeRequest { one_time_token: t.clone(), user_id: u },
            json!({"oneTimeToken": t.expose(), "userId": u.get()}));
        check_request(&RefundRequest { sequence_id: s, user_id: u, card_expiry: e, dcvv: d.clone(), one_time_token: t.clone() },
            json!({"sequenceId": s.as_str(), "userId": u.get(), "cardExpiry": e.as_str(), "dcvv": d.expose(), "oneTimeToken": t.expose()}));
        check_request(&AutoRechargeRegisterRequest { user_id: u, par: p }, json!({"userId": u.get(), "par": p.as_str()}));
        check_request(&AutoRechargeListRequest { user_id: u }, json!({"userId": u.get()}));
    }
}

// ---------- responses produced by serde_json ----------

/// Any text: ASCII, quotes, backslashes, control characters, Hangul, emoji.
fn text(max_chars: usize) -> impl Strategy<Value = String> {
    let ch = prop_oneof![
        4 => proptest::char::range('a', 'z'),
        2 => proptest::char::range('가', '힣'),
        1 => prop_oneof![Just('"'), Just('\\'), Just('/'), Just('\n'), Just('\t'), Just('\u{1}'), Just('\u{7f}')],
        1 => prop_oneof![Just('😀'), Just('𝄞'), Just('é'), Just('\u{ffff}')],
    ];
    proptest::collection::vec(ch, 0..max_chars).prop_map(|v| v.into_iter().collect())
}

/// Arbitrary JSON of bounded depth for unknown fields.
fn junk() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        (-1e300f64..1e300).prop_map(|f| json!(f)),
        text(80).prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec(("[a-z]{1,8}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

#[derive(Debug, Clone)]
struct Dress {
    junk: Vec<(String, Value)>,
    order_seed: u64,
    pretty: bool,
    escape_seed: u64,
}

fn dress() -> impl Strategy<Value = Dress> {
    (
        proptest::collection::vec(("x_[a-zA-Z]{1,10}", junk()), 0..5),
        any::<u64>(),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(|(junk, order_seed, pretty, escape_seed)| Dress {
            junk,
            order_seed,
            pretty,
            escape_seed,
        })
}

/// serde_json's text for `fields` + envelope + junk, keys shuffled, optionally pretty, then
/// some non-ASCII characters and `/` rewritten as `\u` / `\/` escapes (outside the ASCII
/// structure, so only inside strings).
fn render(code: &str, description: &str, fields: Vec<(&str, Value)>, d: &Dress) -> String {
    let mut entries: Vec<(String, Value)> = vec![(
        "response".into(),
        Value::Object(Map::from_iter([
            ("code".to_string(), json!(code)),
            ("description".to_string(), json!(description)),
            ("x_inner".to_string(), json!([1, {"a": null}])),
        ])),
    )];
    entries.extend(fields.into_iter().map(|(k, v)| (k.to_string(), v)));
    entries.extend(d.junk.iter().cloned());
    // deterministic shuffle from the seed
    let mut seed = d.order_seed | 1;
    for i in (1..entries.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        entries.swap(i, (seed % (i as u64 + 1)) as usize);
    }
    let obj = Value::Object(entries.into_iter().collect());
    let s = if d.pretty {
        serde_json::to_string_pretty(&obj)
    } else {
        serde_json::to_string(&obj)
    }
    .unwrap();
    let mut out = String::with_capacity(s.len() * 2);
    let mut seed = d.escape_seed | 1;
    for c in s.chars() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        if (!c.is_ascii() || c == '/') && seed.is_multiple_of(2) {
            if c == '/' {
                out.push_str("\\/");
            } else {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    if seed.is_multiple_of(4) {
                        out.push_str(&format!("\\u{u:04x}"));
                    } else {
                        out.push_str(&format!("\\u{u:04X}"));
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn decode<E: Endpoint>(s: &str) -> ReplyOf<E> {
    match decode_reply::<E::Response, E::Code>(s.as_bytes()) {
        Ok(r) => r,
        Err(e) => panic!("{e}: {s}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn token_response_decodes(t in token(), d in dcvv(), exp in proptest::option::of(any::<u64>()), desc in text(60), dr in dress()) {
        let mut f = vec![("oneTimeToken", json!(t.expose())), ("dcvv", json!(d.expose()))];
        f.push(("expiryTime", exp.map_or(Value::Null, |e| json!(e))));
        let r = decode::<IssueToken>(&render("000_000", &desc, f, &dr));
        prop_assert_eq!(r.description.as_str(), desc.as_str());
        prop_assert_eq!(r.body, Some(TokenResponse { one_time_token: t, dcvv: d, expiry_time: exp }));
    }

    #[test]
    fn charge_and_cancel_responses_decode(nr in nr_number(), p in any::<bool>(), desc in text(60), dr in dress()) {
        let r = decode::<Charge>(&render("000_000", &desc, vec![("nrNumber", json!(nr.as_str())), ("isPending", json!(p))], &dr));
        prop_assert_eq!(r.body, Some(ChargeResponse { nr_number: nr, is_pending: p }));
        let r = decode::<CancelCharge>(&render("000_000", &desc, vec![("isPending", json!(p))], &dr));
        prop_assert_eq!(r.body, Some(CancelResponse { is_pending: p }));
        prop_assert_eq!(r.description.as_str(), desc.as_str());
    }

    #[test]
    fn result_response_decodes(res in prop_oneof![Just(ChargeResult::Completed), Just(ChargeResult::Failed), Just(ChargeResult::Pending)],
                               nr in proptest::option::of(nr_number()), dr in dress()) {
        let mut f = vec![("result", json!(res.as_str()))];
        if let Some(nr) = &nr { f.push(("nrNumber", json!(nr.as_str()))); }
        let r = decode::<ChargeResultInquiry>(&render("000_000", "Success", f, &dr));
        prop_assert_eq!(r.body, Some(ChargeResultResponse { result: res, nr_number: nr }));
    }

    #[test]
    fn refund_fee_response_decodes(p in par(), rates in (percent(), percent(), percent()), w in proptest::collection::vec(won(), 9), refundable in any::<bool>(), dr in dress()) {
        let ratio = |x: Percent1| {
            let t = x.tenths();
            if t.is_multiple_of(20) { json!(t / 10) } else { json!(f64::from(t) / 10.0) }
        };
        let f = vec![
            ("par", json!(p.as_str())), ("refundFeeRate", ratio(rates.0)), ("balance", json!(w[0].get())),
            ("refundCheckBalance", json!(w[1].get())), ("discountAmount", json!(w[2].get())),
            ("refundFee", json!(w[3].get())), ("refundAmount", json!(w[4].get())), ("expiredFee", json!(w[5].get())),
            ("refundable", json!(refundable)), ("refundThresholdBalance", json!(w[6].get())),
            ("refundThresholdRatio", ratio(rates.1)), ("currentBalanceRatio", ratio(rates.2)),
            ("lastLoadedBalance", json!(w[7].get())),
        ];
        let r = decode::<RefundFee>(&render("000_000", "Success", f, &dr));
        prop_assert_eq!(r.body, Some(RefundFeeResponse {
            par: p, refund_fee_rate: rates.0, balance: w[0], refund_check_balance: w[1], discount_amount: w[2],
            refund_fee: w[3], refund_amount: w[4], expired_fee: w[5], refundable, refund_threshold_balance: w[6],
            refund_threshold_ratio: rates.1, current_balance_ratio: rates.2, last_loaded_balance: w[7],
        }));
    }

    #[test]
    fn refund_and_auto_recharge_responses_decode(nr in refund_nr(),
            items in proptest::collection::vec((par(), date14()), 0..=MAX_LIST_ITEMS), desc in text(60), dr in dress()) {
        let r = decode::<Refund>(&render("000_000", &desc, vec![("nrNumber", json!(nr.as_str()))], &dr));
        prop_assert_eq!(r.body, Some(RefundResponse { nr_number: nr }));
        let r = decode::<AutoRechargeRegister>(&render("000_000", &desc, vec![], &dr));
        prop_assert_eq!(r.body, Some(Empty {}));
        let list: Vec<Value> = items.iter().map(|(p, d)| json!({"registeredDate": d.as_str(), "x_y": [null], "par": p.as_str()})).collect();
        let r = decode::<AutoRechargeList>(&render("000_000", &desc, vec![("parInfoList", Value::Array(list))], &dr));
        let got = r.body.unwrap().par_info_list;
        prop_assert_eq!(got.len(), items.len());
        for (g, (p, d)) in got.iter().zip(items.iter()) {
            prop_assert_eq!((&g.par, &g.registered_date), (p, d));
        }
    }

    #[test]
    fn failure_codes_decode_without_fields(code in "[0-9]{3}_[0-9]{3}", desc in text(60), dr in dress()) {
        prop_assume!(code != "000_000");
        let r = decode::<Refund>(&render(&code, &desc, vec![], &dr));
        prop_assert_eq!(r.code.as_str(), code.as_str());
        prop_assert_eq!(r.body, None);
        prop_assert_eq!(r.description.as_str(), desc.as_str());
    }

    /// Our reply encoder (used by the sandbox) is read identically by serde_json and by us.
    #[test]
    fn reply_encoder_is_read_back(nr in nr_number(), p in any::<bool>(), desc in text(60)) {
        let body = ChargeResponse { nr_number: nr, is_pending: p };
        let mut buf = [0u8; 2048];
        let n = konaplate_core::message::encode_reply("000_000", &desc, Some(&body), &mut buf).unwrap();
        let v: Value = serde_json::from_slice(&buf[..n]).unwrap();
        prop_assert_eq!(v["response"]["description"].as_str().unwrap(), desc.as_str());
        let r = decode_reply::<ChargeResponse, ChargeCode>(&buf[..n]).unwrap();
        prop_assert_eq!(r.body, Some(body));
        prop_assert_eq!(r.description.as_str(), desc.as_str());
    }
}
