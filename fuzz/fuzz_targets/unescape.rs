//! JSON string decoding against serde_json: the same accept/reject decision and the same text
//! for any string literal (escapes, surrogate pairs, lone surrogates, control characters).
#![no_main]

use konaplate_core::json::Reader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(inner) = core::str::from_utf8(data) else {
        return;
    };
    let literal = format!("\"{inner}\"");
    let theirs = serde_json::from_str::<String>(&literal);
    let ours = Reader::new(literal.as_bytes()).and_then(|mut r| {
        let s = r.string()?;
        r.end()?;
        let mut out = String::new();
        for c in s.chars() {
            out.push(c?);
        }
        Ok(out)
    });
    match (&ours, &theirs) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(_), Err(_)) => {}
        _ => panic!("{literal:?}: ours {ours:?} vs serde_json {theirs:?}"),
    }
});
