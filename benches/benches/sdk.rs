//! Criterion benches: encode+sign and decode per endpoint, against the HMAC-alone floor and
//! serde_json with String-owning structs measured in the same run; the JWE AES part; and heap
//! allocations per operation (printed as `allocs ...` lines before the timings).
#![allow(missing_docs, unsafe_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use konaplate_benches::*;
use konaplate_core::jwe::{open_in_place, seal_in_place, sealed_len};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(p, l, n) }
    }
}
#[global_allocator]
static GLOBAL: Counting = Counting;

fn count(f: impl FnOnce()) -> usize {
    let before = ALLOCS.load(Ordering::SeqCst);
    f();
    ALLOCS.load(Ordering::SeqCst) - before
}

fn report_allocations() {
    let c = ctx();
    let mut buf = [0u8; 4096];
    for (i, name) in ENDPOINTS.iter().enumerate() {
        let body = response_body(i);
        let enc = count(|| {
            black_box(encode_ours(i, &c, &mut buf));
        });
        let ours = count(|| {
            black_box(decode_ours(i, &body));
        });
        let serde = count(|| {
            black_box(decode_serde(i, &body));
        });
        println!("allocs {name}: encode+sign ours={enc}; decode ours={ours} serde_json={serde}");
    }
    println!(
        "allocs charge: encode serde_json={}",
        count(|| {
            black_box(encode_serde_charge());
        })
    );
}

fn benches(cr: &mut Criterion) {
    report_allocations();
    let c = ctx();
    for (i, name) in ENDPOINTS.iter().enumerate() {
        let req = request_body(i);
        let mut g = cr.benchmark_group(format!("encode/{name}"));
        g.throughput(Throughput::Bytes(req.len() as u64));
        let mut buf = [0u8; 4096];
        g.bench_function("ours_encode_sign", |b| {
            b.iter(|| black_box(encode_ours(i, &c, &mut buf)))
        });
        g.bench_function("hmac_floor", |b| {
            b.iter(|| black_box(hmac_floor(black_box(&req))))
        });
        g.finish();

        let body = response_body(i);
        let mut g = cr.benchmark_group(format!("decode/{name}"));
        g.throughput(Throughput::Bytes(body.len() as u64));
        g.bench_function("ours", |b| {
            b.iter(|| black_box(decode_ours(i, black_box(&body))))
        });
        let mut slots = Slots::new();
        g.bench_function("ours_into", |b| {
            b.iter(|| black_box(decode_ours_into(i, black_box(&body), &mut slots)))
        });
        g.bench_function("serde_json", |b| {
            b.iter(|| black_box(decode_serde(i, black_box(&body))))
        });
        g.finish();
    }
    let mut g = cr.benchmark_group("encode/charge_baseline");
    g.bench_function("serde_json_to_vec", |b| {
        b.iter(|| black_box(encode_serde_charge()))
    });
    g.finish();

    // JWE: the AES-GCM + base64url part of a Cancellation-sized response (RSA excluded)
    let plain = response_body(2);
    let mut g = cr.benchmark_group("jwe");
    g.throughput(Throughput::Bytes(plain.len() as u64));
    let mut sealed = vec![0u8; sealed_len(plain.len(), 256)];
    g.bench_function("seal_a128gcm", |b| {
        b.iter(|| {
            sealed[..plain.len()].copy_from_slice(&plain);
            black_box(
                seal_in_place(&mut sealed, plain.len(), &mut NoRsa, &[7; 16], &[9; 12]).unwrap(),
            )
        })
    });
    let n = {
        sealed[..plain.len()].copy_from_slice(&plain);
        seal_in_place(&mut sealed, plain.len(), &mut NoRsa, &[7; 16], &[9; 12]).unwrap()
    };
    let template = sealed[..n].to_vec();
    let mut work = template.clone();
    g.bench_function("open_a128gcm", |b| {
        b.iter(|| {
            work.copy_from_slice(&template);
            black_box(open_in_place(&mut work, 12..n - 2, &mut NoRsa).unwrap())
        })
    });
    g.finish();
}

criterion_group!(sdk, benches);
criterion_main!(sdk);
