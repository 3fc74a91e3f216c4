//! A decode or encode loop for instruction-level profiling, e.g.
//! `cargo build --profile profiling -p konaplate-benches --example profile &&
//!  valgrind --tool=callgrind ./target/profiling/examples/profile decode 2`
//! (`decode N [ROUNDS]`, `serde N [ROUNDS]` or `encode N [ROUNDS]`, N = endpoint index 0..=7;
//! the difference of two round counts gives the cost of one round). callgrind counts
//! instructions, which are repeatable on a noisy machine; wall time comes from the benches.
#![allow(missing_docs)]

use std::hint::black_box;

use konaplate_benches::*;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "decode".into());
    let i: usize = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    let body = response_body(i);
    let c = ctx();
    let rounds: usize = std::env::args()
        .nth(3)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000);
    let mut buf = [0u8; 4096];
    for _ in 0..rounds {
        match mode.as_str() {
            "serde" => black_box(decode_serde(i, black_box(&body))),
            "encode" => black_box(encode_ours(i, &c, black_box(&mut buf)) > 0),
            _ => black_box(decode_ours(i, black_box(&body))),
        };
    }
}
