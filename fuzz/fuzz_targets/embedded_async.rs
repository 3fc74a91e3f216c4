//! The async client over a stream that answers `Pending` wherever the input says, with reads
//! of any size: whatever the peer sends, it never panics, and its result, the bytes it wrote
//! and the buffer it leaves equal the blocking client's on the same bytes.
//!
//! Input: byte 0 selects the endpoint and crypto, byte 1 the read size, bytes 2..4 the stall
//! pattern (a bit per I/O call, cycled), the rest is what the peer sends.
#![no_main]

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

mod common;

use common::{Script, cancel, charge, ctx, seq, toy, user};
use konaplate_core::api::*;
use konaplate_core::prelude::*;
use konaplate_embedded::{BUFFER_ENCRYPTED, asynch, call_without_journal};
use libfuzzer_sys::fuzz_target;

struct Stalling<'a> {
    input: &'a [u8],
    chunk: usize,
    stalls: u16,
    calls: u32,
    written: Vec<u8>,
}

impl Stalling<'_> {
    async fn maybe_stall(&mut self) {
        let stall = self.stalls & (1 << (self.calls % 16)) != 0;
        self.calls += 1;
        if stall {
            YieldOnce(false).await;
        }
    }
}

struct YieldOnce(bool);
impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl embedded_io_async::ErrorType for Stalling<'_> {
    type Error = Infallible;
}
impl embedded_io_async::Read for Stalling<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        self.maybe_stall().await;
        let n = self.input.len().min(self.chunk).min(buf.len());
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Ok(n)
    }
}
impl embedded_io_async::Write for Stalling<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        self.maybe_stall().await;
        let n = buf.len().min(self.chunk);
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    async fn flush(&mut self) -> Result<(), Infallible> {
        self.maybe_stall().await;
        Ok(())
    }
}

fn run<R: Request, C: Crypto>(req: &R, mk: impl Fn() -> C, peer: &[u8], chunk: usize, stalls: u16)
where
    R::Endpoint: core::fmt::Debug,
    ReplyOf<R::Endpoint>: core::fmt::Debug + PartialEq + AnyReply,
{
    let (session, stamp) = ctx();

    let mut s = Stalling {
        input: peer,
        chunk,
        stalls,
        calls: 0,
        written: Vec::new(),
    };
    let mut abuf = vec![0u8; BUFFER_ENCRYPTED];
    let a = embassy_futures::block_on(asynch::call_without_journal(
        &mut s,
        &session,
        &stamp,
        req,
        mk(),
        &mut abuf,
    ));
    let mut p = Script::new(peer, chunk);
    let mut bbuf = vec![0u8; BUFFER_ENCRYPTED];
    let b = call_without_journal(&mut p, &session, &stamp, req, mk(), &mut bbuf);
    assert_eq!(
        s.written, p.written,
        "async and blocking wrote different bytes"
    );
    assert_eq!(abuf, bbuf, "async and blocking left different buffers");
    match (&a, &b) {
        (Ok(x), Ok(y)) => assert_eq!(x, y),
        (Err(x), Err(y)) => assert_eq!(format!("{x:?}"), format!("{y:?}")),
        _ => panic!("async and blocking disagree: {a:?} vs {b:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let [sel, size, s0, s1, peer @ ..] = data else {
        return;
    };
    let chunk = usize::from(size % 64) + 1;
    let stalls = u16::from_le_bytes([*s0, *s1]);
    match sel % 4 {
        0 => run(&charge(), || NoCrypto, peer, chunk, stalls),
        1 => run(&cancel(), toy, peer, chunk, stalls),
        2 => run(
            &ChargeResultRequest { sequence_id: seq() },
            || NoCrypto,
            peer,
            chunk,
            stalls,
        ),
        _ => run(
            &AutoRechargeListRequest { user_id: user() },
            toy,
            peer,
            chunk,
            stalls,
        ),
    }
});
