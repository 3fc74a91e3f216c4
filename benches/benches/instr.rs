//! Instruction counts under valgrind (gungraun): deterministic figures that a noisy machine
//! cannot move. For every covered endpoint: our encode + sign against the HMAC-SHA256 floor over
//! the same body bytes, and our decode against serde_json into String-owning structs; plus
//! serde_json's encode, JWE seal and open (RSA excluded), and the embedded client on a recorded
//! exchange. Setup (fixtures, keys, buffers) and dropping the inputs are outside the measured
//! function; what a decoder allocates and frees is inside.
//! `scripts/bench-report` runs this and turns the counts into its gate ratios.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]
#![allow(missing_docs)] // the gungraun macros generate undocumented modules

use std::convert::Infallible;
use std::hint::black_box;

use gungraun::{library_benchmark, library_benchmark_group, main};
use konaplate_benches::*;
use konaplate_core::jwe::{open_in_place, seal_in_place, sealed_len};

/// Drops a benchmark's inputs outside the measurement (freeing buffers, zeroizing keys).
fn drop_inputs<T>(inputs: T) {
    drop(black_box(inputs));
}

fn encode_input(i: usize) -> (usize, Ctx, Vec<u8>) {
    (i, ctx(), vec![0u8; 4096])
}

#[library_benchmark]
#[bench::token(args = (0), setup = encode_input, teardown = drop_inputs)]
#[bench::charge(args = (1), setup = encode_input, teardown = drop_inputs)]
#[bench::charge_cancel(args = (2), setup = encode_input, teardown = drop_inputs)]
#[bench::charge_result(args = (3), setup = encode_input, teardown = drop_inputs)]
#[bench::refund_fee(args = (4), setup = encode_input, teardown = drop_inputs)]
#[bench::refund(args = (5), setup = encode_input, teardown = drop_inputs)]
#[bench::auto_recharge_register(args = (6), setup = encode_input, teardown = drop_inputs)]
#[bench::auto_recharge_list(args = (7), setup = encode_input, teardown = drop_inputs)]
fn encode_sign((i, c, mut buf): (usize, Ctx, Vec<u8>)) -> (usize, Ctx, Vec<u8>) {
    black_box(encode_ours(i, &c, &mut buf));
    (i, c, buf)
}

#[library_benchmark]
#[bench::token(args = (0), setup = request_body, teardown = drop_inputs)]
#[bench::charge(args = (1), setup = request_body, teardown = drop_inputs)]
#[bench::charge_cancel(args = (2), setup = request_body, teardown = drop_inputs)]
#[bench::charge_result(args = (3), setup = request_body, teardown = drop_inputs)]
#[bench::refund_fee(args = (4), setup = request_body, teardown = drop_inputs)]
#[bench::refund(args = (5), setup = request_body, teardown = drop_inputs)]
#[bench::auto_recharge_register(args = (6), setup = request_body, teardown = drop_inputs)]
#[bench::auto_recharge_list(args = (7), setup = request_body, teardown = drop_inputs)]
fn hmac_floor_over_body(body: Vec<u8>) -> Vec<u8> {
    black_box(hmac_floor(black_box(&body)));
    body
}

fn keyed_input(i: usize) -> (hmac::Hmac<sha2::Sha256>, Vec<u8>) {
    (hmac_keyed(), request_body(i))
}

#[library_benchmark]
#[bench::token(args = (0), setup = keyed_input, teardown = drop_inputs)]
#[bench::charge(args = (1), setup = keyed_input, teardown = drop_inputs)]
#[bench::charge_cancel(args = (2), setup = keyed_input, teardown = drop_inputs)]
#[bench::charge_result(args = (3), setup = keyed_input, teardown = drop_inputs)]
#[bench::refund_fee(args = (4), setup = keyed_input, teardown = drop_inputs)]
#[bench::refund(args = (5), setup = keyed_input, teardown = drop_inputs)]
#[bench::auto_recharge_register(args = (6), setup = keyed_input, teardown = drop_inputs)]
#[bench::auto_recharge_list(args = (7), setup = keyed_input, teardown = drop_inputs)]
fn hmac_keyed_floor_over_body(
    (keyed, body): (hmac::Hmac<sha2::Sha256>, Vec<u8>),
) -> (hmac::Hmac<sha2::Sha256>, Vec<u8>) {
    black_box(hmac_keyed_floor(&keyed, black_box(&body)));
    (keyed, body)
}

fn decode_input(i: usize) -> (usize, Vec<u8>) {
    (i, response_body(i))
}

#[library_benchmark]
#[bench::token(args = (0), setup = decode_input, teardown = drop_inputs)]
#[bench::charge(args = (1), setup = decode_input, teardown = drop_inputs)]
#[bench::charge_cancel(args = (2), setup = decode_input, teardown = drop_inputs)]
#[bench::charge_result(args = (3), setup = decode_input, teardown = drop_inputs)]
#[bench::refund_fee(args = (4), setup = decode_input, teardown = drop_inputs)]
#[bench::refund(args = (5), setup = decode_input, teardown = drop_inputs)]
#[bench::auto_recharge_register(args = (6), setup = decode_input, teardown = drop_inputs)]
#[bench::auto_recharge_list(args = (7), setup = decode_input, teardown = drop_inputs)]
fn decode((i, body): (usize, Vec<u8>)) -> (usize, Vec<u8>) {
    black_box(decode_ours(i, black_box(&body)));
    (i, body)
}

fn decode_into_input(i: usize) -> (usize, Vec<u8>, Box<Slots>) {
    (i, response_body(i), Box::new(Slots::new()))
}

#[library_benchmark]
#[bench::token(args = (0), setup = decode_into_input, teardown = drop_inputs)]
#[bench::charge(args = (1), setup = decode_into_input, teardown = drop_inputs)]
#[bench::charge_cancel(args = (2), setup = decode_into_input, teardown = drop_inputs)]
#[bench::charge_result(args = (3), setup = decode_into_input, teardown = drop_inputs)]
#[bench::refund_fee(args = (4), setup = decode_into_input, teardown = drop_inputs)]
#[bench::refund(args = (5), setup = decode_into_input, teardown = drop_inputs)]
#[bench::auto_recharge_register(args = (6), setup = decode_into_input, teardown = drop_inputs)]
#[bench::auto_recharge_list(args = (7), setup = decode_into_input, teardown = drop_inputs)]
fn decode_into((i, body, mut slots): (usize, Vec<u8>, Box<Slots>)) -> (usize, Vec<u8>, Box<Slots>) {
    black_box(decode_ours_into(i, black_box(&body), &mut slots));
    (i, body, slots)
}

#[library_benchmark]
#[bench::token(args = (0), setup = decode_input, teardown = drop_inputs)]
#[bench::charge(args = (1), setup = decode_input, teardown = drop_inputs)]
#[bench::charge_cancel(args = (2), setup = decode_input, teardown = drop_inputs)]
#[bench::charge_result(args = (3), setup = decode_input, teardown = drop_inputs)]
#[bench::refund_fee(args = (4), setup = decode_input, teardown = drop_inputs)]
#[bench::refund(args = (5), setup = decode_input, teardown = drop_inputs)]
#[bench::auto_recharge_register(args = (6), setup = decode_input, teardown = drop_inputs)]
#[bench::auto_recharge_list(args = (7), setup = decode_input, teardown = drop_inputs)]
fn decode_serde_json((i, body): (usize, Vec<u8>)) -> (usize, Vec<u8>) {
    // the decoded structs (their Strings) are dropped here: that is part of their cost
    black_box(decode_serde(i, black_box(&body)));
    (i, body)
}

#[library_benchmark]
fn encode_serde_json_charge() -> Vec<u8> {
    black_box(encode_serde_charge())
}

fn seal_input() -> (Vec<u8>, usize) {
    let plain = response_body(2);
    let mut buf = vec![0u8; sealed_len(plain.len(), 256)];
    buf[..plain.len()].copy_from_slice(&plain);
    (buf, plain.len())
}

#[library_benchmark]
#[bench::a128gcm(setup = seal_input, teardown = drop_inputs)]
fn jwe_seal((mut buf, n): (Vec<u8>, usize)) -> Vec<u8> {
    black_box(seal_in_place(&mut buf, n, &mut NoRsa, &[7; 16], &[9; 12]).unwrap());
    buf
}

fn open_input() -> (Vec<u8>, usize) {
    let (mut buf, n) = seal_input();
    let len = seal_in_place(&mut buf, n, &mut NoRsa, &[7; 16], &[9; 12]).unwrap();
    buf.truncate(len);
    (buf, len)
}

#[library_benchmark]
#[bench::a128gcm(setup = open_input, teardown = drop_inputs)]
fn jwe_open((mut buf, n): (Vec<u8>, usize)) -> Vec<u8> {
    black_box(open_in_place(&mut buf, 12..n - 2, &mut NoRsa).is_ok());
    buf
}

/// A recorded exchange for the embedded client: the charge answer, served in 64-byte reads.
struct Recorded {
    answer: Vec<u8>,
    at: usize,
}

impl embedded_io::ErrorType for Recorded {
    type Error = Infallible;
}
impl embedded_io::Read for Recorded {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let n = (self.answer.len() - self.at).min(64).min(buf.len());
        buf[..n].copy_from_slice(&self.answer[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
impl embedded_io::Write for Recorded {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

fn embedded_input() -> (Recorded, Ctx, Vec<u8>, Box<Slots>) {
    let body = response_body(1);
    let mut answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    (
        Recorded { answer, at: 0 },
        ctx(),
        vec![0u8; 2048],
        Box::new(Slots::new()),
    )
}

#[library_benchmark]
#[bench::charge(setup = embedded_input, teardown = drop_inputs)]
fn embedded_client(
    (mut stream, c, mut buf, mut slots): (Recorded, Ctx, Vec<u8>, Box<Slots>),
) -> (Recorded, Ctx, Vec<u8>, Box<Slots>) {
    black_box(embedded_charge(&mut stream, &c, &mut buf, &mut slots));
    (stream, c, buf, slots)
}

library_benchmark_group!(
    name = encode;
    benchmarks = encode_sign, hmac_floor_over_body, hmac_keyed_floor_over_body, encode_serde_json_charge
);
library_benchmark_group!(
    name = decode_group;
    benchmarks = decode, decode_into, decode_serde_json
);
library_benchmark_group!(
    name = exchange;
    benchmarks = jwe_seal, jwe_open, embedded_client
);

main!(library_benchmark_groups = encode, decode_group, exchange);
