//! A decode or encode loop for instruction-level profiling, e.g.
//! `cargo build --profile profiling -p konaplate-benches --example profile &&
//!  valgrind --tool=callgrind ./target/profiling/examples/profile decode 2`
//! (`decode N`, `serde N` or `encode N`, N = endpoint index 0..=7). callgrind counts
//! instructions, which are repeatable on a noisy machine; wall time comes from the benches.
#![allow(missing_docs)]

use std::hint::black_box;

use konaplate_benches::*;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "decode".into());
    let i: usize = std::env::args().nth(2).and_then(|a| a.parse().ok()).unwrap_or(1);
    let body = response_body(i);
    let c = ctx();
    let mut buf = [0u8; 4096];
    for _ in 0..20_000 {
        match mode.as_str() {
            "serde" => black_box(decode_serde(i, black_box(&body))),
            "encode" => black_box(encode_ours(i, &c, black_box(&mut buf)) > 0),
            _ => black_box(decode_ours(i, black_box(&body))),
        };
    }
}
