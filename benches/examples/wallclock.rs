//! Wall-clock ratios measured interleaved: for each endpoint, rounds alternate a batch of ours
//! and a batch of the baseline in the same loop, so that a neighbour's compile or a frequency
//! change hits both; the figure is the median of the per-round ratios. Information only (the
//! gates are instruction counts: `scripts/bench-report`).
//!
//!   cargo run --release -p konaplate-benches --example wallclock [ROUNDS]
#![allow(missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::hint::black_box;
use std::time::Instant;

use konaplate_benches::*;

/// Median over `rounds` of (time of `b` / time of `a`), each batch `iters` calls, alternating.
fn interleaved(
    rounds: usize,
    iters: usize,
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> (f64, f64, f64) {
    let mut ratios = Vec::with_capacity(rounds);
    let (mut ta, mut tb) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for round in 0..rounds {
        // alternate which goes first, so neither always runs on a warm cache
        let (x, y) = if round % 2 == 0 {
            let t = Instant::now();
            for _ in 0..iters {
                a();
            }
            let x = t.elapsed().as_nanos() as f64 / iters as f64;
            let t = Instant::now();
            for _ in 0..iters {
                b();
            }
            (x, t.elapsed().as_nanos() as f64 / iters as f64)
        } else {
            let t = Instant::now();
            for _ in 0..iters {
                b();
            }
            let y = t.elapsed().as_nanos() as f64 / iters as f64;
            let t = Instant::now();
            for _ in 0..iters {
                a();
            }
            (t.elapsed().as_nanos() as f64 / iters as f64, y)
        };
        ta.push(x);
        tb.push(y);
        ratios.push(y / x);
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(|p, q| p.total_cmp(q));
        v[v.len() / 2]
    };
    (med(&mut ta), med(&mut tb), med(&mut ratios))
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(31);
    let c = ctx();
    println!(
        "{:24} {:>11} {:>11} {:>6}   {:>11} {:>11} {:>7}",
        "endpoint", "encode+sign", "hmac floor", "ratio", "decode ours", "serde_json", "speedup"
    );
    let (mut enc, mut dec) = (Vec::new(), Vec::new());
    for (i, name) in ENDPOINTS.iter().enumerate() {
        let mut buf = vec![0u8; 4096];
        let req = request_body(i);
        let (o, h, r_enc) = interleaved(
            rounds,
            2_000,
            || {
                black_box(encode_ours(i, &c, &mut buf));
            },
            || {
                black_box(hmac_floor(black_box(&req)));
            },
        );
        let body = response_body(i);
        let (d, s, r_dec) = interleaved(
            rounds,
            2_000,
            || {
                black_box(decode_ours(i, black_box(&body)));
            },
            || {
                black_box(decode_serde(i, black_box(&body)));
            },
        );
        // encode ratio: ours / floor (so r_enc, computed as floor/ours, is inverted)
        println!(
            "{name:24} {o:9.0}ns {h:9.0}ns {:6.2}   {d:9.0}ns {s:9.0}ns {r_dec:7.2}",
            1.0 / r_enc
        );
        enc.push(1.0 / r_enc);
        dec.push(r_dec);
    }
    let geo = |v: &[f64]| (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp();
    println!("wallclock_encode_vs_hmac_floor={:.2}", geo(&enc));
    println!("wallclock_decode_speedup_vs_serde_json={:.2}", geo(&dec));
}
