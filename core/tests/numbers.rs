//! The number scanner against references: serde_json for which tokens are unsigned integers
//! (and their values), exact decimal arithmetic for scaled decimals (`Percent1`), and the
//! general scanner for the integer fast path (`number_u64`).

use konaplate_core::json::Reader;
use proptest::prelude::*;

/// Number-like tokens: valid JSON numbers of every shape (long ones included), and a few
/// broken ones.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?(0|[1-9][0-9]{0,22})(\\.[0-9]{1,5})?([eE][+-]?[0-9]{1,3})?",
        "(1844674407370955161[0-9]|18446744073709551615|99999999999999999999)",
        "-?[0-9]{0,3}\\.?[eE]?[+-]?[0-9]{0,2}[x,}]?",
    ]
}

/// `value * 10^scale` when it is a non-negative integer below 2^64, computed on the digits.
fn scaled_reference(tok: &str, scale: i64) -> Option<u64> {
    if let Some(t) = tok.strip_prefix('-') {
        // only zero may be negative
        return scaled_reference(t, scale).filter(|&v| v == 0);
    }
    let (mant, exp) = match tok.find(['e', 'E']) {
        Some(p) => (&tok[..p], tok[p + 1..].parse::<i64>().ok()?),
        None => (tok, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    let digits: String = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    if digits.is_empty() {
        return Some(0);
    }
    let shift = exp - frac.len() as i64 + scale;
    let (kept, cut) = if shift >= 0 {
        (
            format!("{digits}{}", "0".repeat(shift.min(40) as usize)),
            "",
        )
    } else {
        let n = (-shift) as usize;
        if n >= digits.len() {
            ("0".to_string(), digits)
        } else {
            (
                digits[..digits.len() - n].to_string(),
                &digits[digits.len() - n..],
            )
        }
    };
    if cut.bytes().any(|b| b != b'0') {
        return None;
    }
    kept.parse::<u64>().ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn integers_are_what_serde_json_reads_as_u64(tok in token()) {
        let mut r = Reader::new(tok.as_bytes()).unwrap();
        let ours = r.number().ok().filter(|_| r.end().is_ok()).and_then(|n| n.as_u64());
        let theirs = serde_json::from_str::<u64>(&tok).ok();
        prop_assert_eq!(ours, theirs, "{}", tok);
    }

    #[test]
    fn the_integer_fast_path_agrees_with_the_general_scanner(tok in token()) {
        let mut general = Reader::new(tok.as_bytes()).unwrap();
        let mut fast = Reader::new(tok.as_bytes()).unwrap();
        let g = general.number().map(|n| n.as_u64());
        let f = fast.number_u64();
        prop_assert_eq!(g.is_ok(), f.is_ok(), "{}", tok);
        if let (Ok(g), Ok(f)) = (g, f) {
            prop_assert_eq!(g, f, "{}", tok);
            prop_assert_eq!(general.offset(), fast.offset(), "{}", tok);
        }
    }

    #[test]
    fn scaled_decimals_are_exact(tok in "-?(0|[1-9][0-9]{0,19})(\\.[0-9]{1,6})?([eE][+-]?[0-9]{1,2})?", scale in 0u32..4) {
        let mut r = Reader::new(tok.as_bytes()).unwrap();
        let n = r.number().unwrap();
        prop_assert_eq!(n.as_scaled(scale), scaled_reference(&tok, i64::from(scale)), "{} scale {}", tok, scale);
    }
}

#[test]
fn percentages_read_exactly() {
    for (tok, tenths) in [
        ("1.5", Some(15)),
        ("60.0", Some(600)),
        ("12.50", Some(125)),
        ("0.05", None),
        ("1e1", Some(100)),
        ("-0", Some(0)),
        ("-1", None),
    ] {
        let mut r = Reader::new(tok.as_bytes()).unwrap();
        assert_eq!(r.number().unwrap().as_scaled(1), tenths, "{tok}");
    }
}
