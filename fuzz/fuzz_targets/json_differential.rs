//! Differential: our response decoder against a reference built on serde_json (derive,
//! `arbitrary_precision`, `raw_value`) that applies the same documented rules independently.
//! Same accept/reject decision, same decoded values, for Charge, Search for Refund Fee and
//! Auto-recharge list replies (strings, booleans, integers, exact decimals, arrays of
//! objects). Inputs our decoder rejects only for nesting depth (serde_json allows deeper) are
//! skipped.
#![no_main]

use konaplate_core::code::ResultCode;
use konaplate_core::error::{JsonError, JsonErrorKind};
use konaplate_core::prelude::*;
use konaplate_core::{api::*, code::*};
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use serde_json::Number;
use serde_json::value::RawValue;

#[derive(Deserialize)]
struct Envelope {
    code: String,
    description: String,
}

/// The envelope keys every top-level reference struct has (no `flatten`: it would change
/// serde's duplicate and raw-value handling).
trait Top<'a> {
    fn response(&self) -> Option<&'a RawValue>;
    fn enc_data(&self) -> Option<&'a RawValue>;
}

macro_rules! top {
    ($name:ident { $($body:tt)* }) => {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct $name<'a> {
            #[serde(borrow)]
            response: Option<&'a RawValue>,
            #[serde(borrow)]
            enc_data: Option<&'a RawValue>,
            $($body)*
        }
        impl<'a> Top<'a> for $name<'a> {
            fn response(&self) -> Option<&'a RawValue> { self.response }
            fn enc_data(&self) -> Option<&'a RawValue> { self.enc_data }
        }
    };
}

top!(ChargeF {
    #[serde(rename = "nrNumber")]
    nr_number: Option<String>,
    #[serde(rename = "isPending")]
    is_pending: Option<bool>,
});

top!(FeeF {
    par: Option<String>,
    refund_fee_rate: Option<Number>,
    balance: Option<Number>,
    refund_check_balance: Option<Number>,
    discount_amount: Option<Number>,
    refund_fee: Option<Number>,
    refund_amount: Option<Number>,
    expired_fee: Option<Number>,
    refundable: Option<bool>,
    refund_threshold_balance: Option<Number>,
    refund_threshold_ratio: Option<Number>,
    current_balance_ratio: Option<Number>,
    last_loaded_balance: Option<Number>,
});

#[derive(Deserialize)]
struct Item {
    par: Option<String>,
    #[serde(rename = "registeredDate")]
    registered_date: Option<String>,
}

top!(ListF {
    #[serde(rename = "parInfoList")]
    par_info_list: Option<Vec<Item>>,
});

/// The reference's view of a reply.
#[derive(Debug, PartialEq)]
enum Ref<T> {
    Encrypted(String),
    Plain {
        code: String,
        description: String,
        body: Option<T>,
    },
}

fn alnum(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}
fn par_ok(s: &str) -> bool {
    s.len() == 27
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}
fn won(n: &Number) -> Option<u64> {
    n.as_str()
        .parse::<u64>()
        .ok()
        .filter(|v| *v <= 1_000_000_000 && !n.as_str().starts_with('+'))
}
/// Exact `value * 10` of a JSON number text when it is a whole number in 0..=990.
fn tenths(n: &Number) -> Option<u64> {
    let t = n.as_str();
    let (neg, t) = t.strip_prefix('-').map_or((false, t), |r| (true, r));
    let (mant, exp) = match t.find(['e', 'E']) {
        Some(i) => (
            &t[..i],
            t[i + 1..]
                .parse::<i64>()
                .unwrap_or(if t[i + 1..].starts_with('-') {
                    i64::MIN / 2
                } else {
                    i64::MAX / 2
                }),
        ),
        None => (t, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    let digits: String = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Some(0);
    }
    let shift = exp.saturating_sub(frac.len() as i64).saturating_add(1);
    let trimmed = digits.trim_end_matches('0');
    let shift = shift.saturating_add((digits.len() - trimmed.len()) as i64);
    if shift < 0 || shift > 4 || neg {
        return None;
    }
    let v: u64 = format!("{trimmed}{}", "0".repeat(shift as usize))
        .parse()
        .ok()?;
    (v <= 990).then_some(v)
}
fn date14(s: &str) -> bool {
    if s.len() != 14 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let n = |a: usize, b: usize| s[a..b].parse::<u32>().unwrap_or(99);
    let (y, mo, d, h, mi, se) = (n(0, 4), n(4, 6), n(6, 8), n(8, 10), n(10, 12), n(12, 14));
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let dim = match mo {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 0,
    };
    y >= 2000 && (1..=dim).contains(&d) && h < 24 && mi < 60 && se < 60
}

/// serde's derived structs also accept a JSON array (fields by position); the API's objects
/// are objects, so the reference insists on that where a struct is expected.
fn shapes_ok(data: &[u8]) -> bool {
    use serde_json::Value;
    let Ok(Value::Object(top)) = serde_json::from_slice::<Value>(data) else {
        return false;
    };
    let response_ok = matches!(
        top.get("response"),
        None | Some(Value::Null | Value::Object(_))
    );
    let items_ok = match top.get("parInfoList") {
        Some(Value::Array(items)) => items.iter().all(Value::is_object),
        _ => true,
    };
    response_ok && items_ok
}

/// Parses with serde_json and applies the rules; `None` = reject.
fn reference<'a, F: Deserialize<'a> + Top<'a>, T>(
    data: &'a [u8],
    check: impl Fn(&F, bool) -> Option<Option<T>>,
) -> Option<Ref<T>> {
    std::str::from_utf8(data).ok()?;
    if !shapes_ok(data) {
        return None;
    }
    let top: F = serde_json::from_slice(data).ok()?;
    let env = match top.response() {
        Some(raw) => {
            let e: Envelope = serde_json::from_str(raw.get()).ok()?;
            if e.code.len() > 32
                || e.code.bytes().any(|b| b < 0x20 || b == 0x7f)
                || e.description.len() > 256
            {
                return None;
            }
            Some(e)
        }
        None => None,
    };
    let success = env.as_ref().is_some_and(|e| e.code == "000_000");
    // every present field is validated; required ones only on success
    let body = check(&top, success)?;
    if let Some(raw) = top.enc_data() {
        let t = raw.get();
        if !t.starts_with('"') || t.contains('\\') {
            return None;
        }
        return Some(Ref::Encrypted(String::new()));
    }
    let env = env?;
    Some(Ref::Plain {
        code: env.code,
        description: env.description,
        body: if success { Some(body?) } else { None },
    })
}

fn ours<R: konaplate_core::message::Message, C: ResultCode, T>(
    data: &[u8],
    view: impl Fn(&R) -> T,
) -> Result<Ref<T>, DecodeError> {
    // an encData body is reported as such (where its JWE is, only the call needs to know)
    Ok(match konaplate_core::message::decode_reply::<R, C>(data) {
        Err(DecodeError::Encrypted) => Ref::Encrypted(String::new()),
        Err(e) => return Err(e),
        Ok(reply) => Ref::Plain {
            code: reply.code.as_str().to_string(),
            description: reply.description.as_str().to_string(),
            body: reply.body.as_ref().map(view),
        },
    })
}

fn compare<T: std::fmt::Debug + PartialEq>(
    data: &[u8],
    o: Result<Ref<T>, DecodeError>,
    r: Option<Ref<T>>,
) {
    if let Err(DecodeError::Json(JsonError {
        kind: JsonErrorKind::TooDeep,
        ..
    })) = o
    {
        return;
    }
    match (o, r) {
        (Ok(a), Some(b)) => assert_eq!(a, b, "{}", String::from_utf8_lossy(data)),
        (Err(_), None) => {}
        (a, b) => panic!(
            "disagree on {:?}: ours {a:?}, reference {b:?}",
            String::from_utf8_lossy(data)
        ),
    }
}

type ChargeView = (String, bool);
type FeeView = (String, Vec<u64>, bool);
type ListView = Vec<(String, String)>;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, data)) = data.split_first() else {
        return;
    };
    match sel % 3 {
        0 => {
            let o = ours::<ChargeResponse, ChargeCode, ChargeView>(data, |b| {
                (b.nr_number.to_string(), b.is_pending)
            });
            let r = reference::<ChargeF, ChargeView>(data, |f, success| {
                if let Some(nr) = &f.nr_number {
                    if !alnum(nr, 1, 50) {
                        return None;
                    }
                }
                Some(match (&f.nr_number, f.is_pending) {
                    (Some(nr), Some(p)) => Some((nr.clone(), p)),
                    _ if success => return None,
                    _ => None,
                })
            });
            compare(data, o, r);
        }
        1 => {
            let o = ours::<RefundFeeResponse, RefundFeeCode, FeeView>(data, |b| {
                let w = [
                    b.balance,
                    b.refund_check_balance,
                    b.discount_amount,
                    b.refund_fee,
                    b.refund_amount,
                    b.expired_fee,
                    b.refund_threshold_balance,
                    b.last_loaded_balance,
                ];
                let mut v: Vec<u64> = w.iter().map(|x| x.get()).collect();
                v.extend(
                    [
                        b.refund_fee_rate,
                        b.refund_threshold_ratio,
                        b.current_balance_ratio,
                    ]
                    .map(|p| u64::from(p.tenths())),
                );
                (b.par.to_string(), v, b.refundable)
            });
            let r = reference::<FeeF, FeeView>(data, |f, success| {
                let wons = [
                    &f.balance,
                    &f.refund_check_balance,
                    &f.discount_amount,
                    &f.refund_fee,
                    &f.refund_amount,
                    &f.expired_fee,
                    &f.refund_threshold_balance,
                    &f.last_loaded_balance,
                ];
                let ratios = [
                    &f.refund_fee_rate,
                    &f.refund_threshold_ratio,
                    &f.current_balance_ratio,
                ];
                let mut vals = Vec::new();
                for n in wons {
                    match n {
                        Some(n) => vals.push(Some(won(n)?)),
                        None => vals.push(None),
                    }
                }
                for n in ratios {
                    match n {
                        Some(n) => vals.push(Some(tenths(n)?)),
                        None => vals.push(None),
                    }
                }
                if f.par.as_deref().is_some_and(|p| !par_ok(p)) {
                    return None;
                }
                let all: Option<Vec<u64>> = vals.into_iter().collect();
                Some(match (&f.par, all, f.refundable) {
                    (Some(p), Some(v), Some(r)) => Some((p.clone(), v, r)),
                    _ if success => return None,
                    _ => None,
                })
            });
            compare(data, o, r);
        }
        _ => {
            let o = ours::<AutoRechargeListResponse, AutoRechargeListCode, ListView>(data, |b| {
                b.par_info_list
                    .iter()
                    .map(|i| (i.par.to_string(), i.registered_date.to_string()))
                    .collect()
            });
            let r = reference::<ListF, ListView>(data, |f, success| {
                let list = match &f.par_info_list {
                    Some(items) => {
                        if items.len() > 16 {
                            return None;
                        }
                        let mut v = Vec::new();
                        for i in items {
                            // list items are objects whose fields are always required
                            let (p, d) = (i.par.as_ref()?, i.registered_date.as_ref()?);
                            if !par_ok(p) || !date14(d) {
                                return None;
                            }
                            v.push((p.clone(), d.clone()));
                        }
                        Some(v)
                    }
                    None if success => return None,
                    None => None,
                };
                Some(list)
            });
            compare(data, o, r);
        }
    }
});
