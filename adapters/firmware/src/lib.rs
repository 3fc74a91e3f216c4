//! The KONA PLATE core on a Cortex-M4F (QEMU `mps2-an386`), shared by the two example
//! images: for every covered endpoint, build and sign the request (JWE where the API wants
//! it), feed the embedded client the sandbox's recorded answer through an in-memory stream in
//! 5-byte reads (one answer chunked, one JWE-encrypted), and check the decoded values.
//!
//! * `konaplate-firmware-example` (`src/main.rs`): the blocking client.
//! * `konaplate-firmware-async` (`src/async_main.rs`): the async client on
//!   `embassy-executor`'s thread-mode executor, over a stream that answers `Pending` before
//!   every other read and write.
//!
//! Both exchange sequences are expanded from one source (`exercise!`), as the clients are.
//! The RSA-OAEP key wrap is delegated, as firmware would delegate it to a secure element:
//! [`DemoSecureElement`] stands in for one; with the feature `rsa` the software RSA of
//! `konaplate-embedded` does it instead (`soft_rsa`), with the sandbox's test keys, and
//! opens the recorded cancellation's key for real. The only `unsafe` is the stack painting that
//! measures peak use, the `link_section` of the recorded answers, the semihosting calls of the
//! till images and the images' byte-loop memory routines ([`mem`], in place of
//! `compiler-builtins`' larger ones).
#![no_std]

pub mod fixtures;
pub mod mem;
#[cfg(feature = "rsa")]
pub mod soft_rsa;
#[cfg(feature = "till")]
pub mod till;

use core::cell::Cell;
use core::convert::Infallible;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use cortex_m_semihosting::{debug, hio};
use embedded_io::{ErrorType, Read, Write};
use konaplate_core::field::FieldError;
use konaplate_core::jwe::{KeyUnwrap, KeyWrap, KeyWrapError, Keys};
use konaplate_core::request::{Session, Stamp};
use konaplate_core::sign::sha256;

/// Replays one recorded response in small reads and captures what the client writes.
pub struct Replay<'r> {
    response: &'r [u8],
    at: usize,
    written: &'r mut [u8],
    len: usize,
}

impl<'r> Replay<'r> {
    /// Serves `response`, keeping what the client writes in `written`.
    pub fn new(response: &'r [u8], written: &'r mut [u8]) -> Self {
        Replay {
            response,
            at: 0,
            written,
            len: 0,
        }
    }
    pub fn request(&self) -> &[u8] {
        self.written.get(..self.len).unwrap_or(&[])
    }
}

impl ErrorType for Replay<'_> {
    type Error = Infallible;
}

impl Read for Replay<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let rest = self.response.get(self.at..).unwrap_or(&[]);
        let n = rest.len().min(5).min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        Ok(n)
    }
}

impl Write for Replay<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        let room = self.written.len() - self.len;
        let n = buf.len().min(room.max(1));
        let keep = n.min(room);
        self.written[self.len..self.len + keep].copy_from_slice(&buf[..keep]);
        self.len += keep;
        Ok(n)
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// Stands in for a secure element holding the RSA keys: wraps by zero padding (nobody unwraps
/// the example's requests; a non-zero fill would link `memset` for nothing a real wrap
/// does) and unwraps only the recorded answer's wrapped key, returning the CEK the real
/// client private key protects.
pub struct DemoSecureElement;

/// One request's keys in the example.
pub type DemoKeys = Keys<DemoSecureElement, DemoSecureElement>;

impl DemoSecureElement {
    /// One request's keys: the stand-in for both key operations, and a fixed CEK and IV
    /// (firmware draws them fresh from its random source for every request).
    pub fn keys() -> DemoKeys {
        Keys {
            wrap: DemoSecureElement,
            unwrap: DemoSecureElement,
            cek: [0x11; 16],
            iv: [0x22; 12],
        }
    }
}

impl KeyWrap for DemoSecureElement {
    fn wrap_key(&mut self, cek: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        let out = out.get_mut(..256).ok_or(KeyWrapError)?;
        out.fill(0);
        out.get_mut(..cek.len())
            .ok_or(KeyWrapError)?
            .copy_from_slice(cek);
        Ok(256)
    }
}

impl KeyUnwrap for DemoSecureElement {
    fn unwrap_key(&mut self, wrapped: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        if sha256(wrapped) != fixtures::CANCEL_WRAPPED_SHA256 {
            return Err(KeyWrapError);
        }
        let cek = fixtures::CANCEL_CEK;
        out.get_mut(..cek.len())
            .ok_or(KeyWrapError)?
            .copy_from_slice(&cek);
        Ok(cek.len())
    }
}

/// The sandbox's credentials and host, as a session.
pub fn demo_session() -> Session {
    use konaplate_core::field::{AccessKey, AspId, CryptoKeyId, Host, SecretKey};
    use konaplate_core::request::{Credentials, Target};
    Session::new(
        Credentials::new(
            must(AspId::new("100000000000001")),
            must(AccessKey::new("SANDBOX-0123456789abcdef0123456789abcdef")),
            &must(SecretKey::new("kona-sandbox-secret-0001")),
            CryptoKeyId::new("00000000000000000000000000c0ffee").ok(),
        ),
        Target::new(must(Host::parse("sandbox.konaplate.com"))),
    )
}

/// What every exchange of the example shares.
pub struct Ctx {
    /// Credentials and target.
    pub session: Session,
    /// The time and nonce of the requests.
    pub stamp: Stamp,
    /// The size of the largest client future awaited (async image only).
    pub largest_future: Cell<usize>,
    /// Exchanges that passed every check.
    pub passed: Cell<usize>,
    /// The software RSA's keys (feature `rsa`; otherwise the secure element stand-in).
    #[cfg(feature = "rsa")]
    pub rsa: soft_rsa::SoftRsa,
}

/// The exchange buffer, and where the in-memory stream keeps the request it was sent (to
/// check it), shared by every exchange.
pub struct Io {
    /// The client's buffer (request, then response).
    pub buf: [u8; konaplate_embedded::BUFFER_PLAIN],
    /// What the client wrote.
    pub written: [u8; 1100],
}

/// Prints to the host's stdout through semihosting (no `core::fmt`, to keep flash small).
pub fn out(parts: &[&[u8]]) {
    if let Ok(mut h) = hio::hstdout() {
        for p in parts {
            let _ = h.write_all(p);
        }
    }
}

/// Decimal digits of `v`.
pub fn digits(mut v: usize, tmp: &mut [u8; 20]) -> &[u8] {
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    &tmp[i..]
}

pub fn fail(what: &str) -> ! {
    out(&[b"FAIL: ", what.as_bytes(), b"\n"]);
    debug::exit(debug::EXIT_FAILURE);
    // only reached when no debugger answers the semihosting call
    #[expect(
        clippy::empty_loop,
        reason = "the example has nothing left to do and nothing to wait for"
    )]
    loop {}
}

/// A value the example builds from constants; a rejection is a failure of the example.
pub fn must<T>(r: Result<T, FieldError>) -> T {
    match r {
        Ok(v) => v,
        Err(e) => fail(e.field()),
    }
}

pub fn check(ok: bool, what: &str) {
    if !ok {
        fail(what);
    }
}

/// The checks every exchange gets, written once (not per endpoint): the whole request went on
/// the wire with the right path, signed over exactly the body sent, and the reply says
/// success.
#[inline(never)]
pub fn check_exchange(
    c: &Ctx,
    wire: &[u8],
    layout: (usize, core::ops::Range<usize>),
    path: &str,
    encrypted_request: bool,
    ok: bool,
    name: &str,
) {
    check(wire.len() == layout.0, "request");
    check(
        wire.starts_with(b"POST /open-api")
            && wire.get(14..14 + path.len()) == Some(path.as_bytes()),
        "request",
    );
    let body = wire.get(layout.1).unwrap_or(&[]);
    // the token on the wire is the one the body sent signs to
    let token = c
        .session
        .credentials
        .signer()
        .tran_token(&c.stamp.time, body);
    check(
        header(wire, b"X-KM-Tran-Token: ") == Some(token.as_bytes()),
        "X-KM-Tran-Token",
    );
    check(
        !encrypted_request || body.starts_with(b"{\"encData\":\""),
        "encData",
    );
    check(ok, name);
}

/// The value of the header line that starts with `name` in a request head.
fn header<'w>(wire: &'w [u8], name: &[u8]) -> Option<&'w [u8]> {
    let at = wire.windows(name.len()).position(|w| w == name)? + name.len();
    let rest = wire.get(at..)?;
    let end = rest.iter().position(|&b| b == b'\r')?;
    rest.get(..end)
}

/// The async twin of [`Replay`]: the same bytes in the same small reads, but every other read
/// and write first answers `Pending` (waking itself), as a socket waiting for the network does.
pub struct AsyncReplay<'r> {
    inner: Replay<'r>,
    calls: usize,
}

impl<'r> AsyncReplay<'r> {
    pub fn new(response: &'r [u8], written: &'r mut [u8]) -> Self {
        AsyncReplay {
            inner: Replay::new(response, written),
            calls: 0,
        }
    }
    pub fn request(&self) -> &[u8] {
        self.inner.request()
    }
    fn stall(&mut self) -> YieldOnce {
        self.calls += 1;
        YieldOnce(self.calls.is_multiple_of(2))
    }
}

/// `Pending` once (after waking its task), then ready; ready at once when constructed `true`.
pub struct YieldOnce(bool);

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

impl embedded_io_async::ErrorType for AsyncReplay<'_> {
    type Error = Infallible;
}

impl embedded_io_async::Read for AsyncReplay<'_> {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        self.stall().await;
        self.inner.read(buf)
    }
}

impl embedded_io_async::Write for AsyncReplay<'_> {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        self.stall().await;
        self.inner.write(buf)
    }
    async fn flush(&mut self) -> Result<(), Infallible> {
        self.stall().await;
        Ok(())
    }
}

/// One request's keys, as `$keys`: the software RSA (feature `rsa`) or the secure element
/// stand-in.
macro_rules! keys {
    ($c:ident, $keys:ident) => {
        #[cfg(feature = "rsa")]
        let (mut pad, mut blind) = (crate::soft_rsa::random, crate::soft_rsa::random);
        #[cfg(feature = "rsa")]
        let mut $keys = $c.rsa.keys(&mut pad, &mut blind);
        #[cfg(not(feature = "rsa"))]
        let mut $keys = DemoSecureElement::keys();
    };
}

/// The per-client half of the example: `run` (per endpoint) and what it calls.
///
/// Blocking: `run` only encodes (the generic step) and hands the rest to `send`, one copy for
/// every endpoint. Async: `run` awaits `call_into` itself, so that each endpoint's future
/// holds the client's future directly (a `send` future between them would be built on the
/// stack and cost 2 KiB more of it); the client's own future is still one for every endpoint.
macro_rules! run_fns {
    ([] $stream:ident, $client:ident) => {
        /// One exchange: make the call (encode + sign + JWE when the endpoint wants it) here,
        /// the rest in [`send`], then `ok` checks the reply (and whether the answer was
        /// encrypted). Not inlined: each call gets (and frees) its own frame with the reply;
        /// the buffer is the caller's, one for every exchange, as in firmware. Only this small
        /// step is written out per endpoint: [`send`] and everything it calls exist once.
        #[inline(never)]
        pub fn run<R: Request>(
            c: &Ctx,
            io: &mut Io,
            req: &R,
            response: &[u8],
            ok: impl FnOnce(&ReplyOf<R::Endpoint>, bool) -> bool,
        ) where
            ReplyOf<R::Endpoint>: AnyReply,
        {
            let path = <R::Endpoint as Endpoint>::PATH;
            let mut out = ReplyOf::<R::Endpoint>::empty();
            keys!(c, keys);
            let mut call = match Call::new(&c.session, &c.stamp, req, &mut keys, &mut io.buf) {
                Ok(call) => call,
                Err(_) => fail(path),
            };
            let encrypted = <R::Endpoint as Endpoint>::REQUEST_ENCRYPTED;
            let answer_encrypted = send(
                c, io, response, &mut call, &mut keys, &mut out, path, encrypted,
            );
            check(out.is_success() && ok(&out, answer_encrypted), path);
            #[cfg(feature = "defmt")]
            defmt::info!(
                "{=str}: {=str} {=str}",
                path,
                out.code.as_str(),
                out.description.as_str()
            );
        }

        /// The endpoint-independent rest of an exchange, once for every endpoint: move the
        /// call's bytes over the recorded stream, decode into `out`, check the request on the
        /// wire. Returns whether the answer was encrypted.
        #[inline(never)]
        #[allow(clippy::too_many_arguments)]
        fn send(
            c: &Ctx,
            io: &mut Io,
            response: &[u8],
            call: &mut Call,
            keys: &mut dyn konaplate_core::jwe::Crypto,
            out: &mut dyn AnyReply,
            path: &str,
            encrypted_request: bool,
        ) -> bool {
            let layout = call.request_layout();
            let mut stream = $stream::new(response, &mut io.written);
            let answered = match $client::complete(&mut stream, call, keys, &mut io.buf, out) {
                Ok(a) => a,
                Err(_) => fail(path),
            };
            check_exchange(
                c,
                stream.request(),
                layout,
                path,
                encrypted_request,
                true,
                path,
            );
            c.passed.set(c.passed.get() + 1);
            answered.encrypted
        }
    };
    ([async] $stream:ident, $client:ident) => {
        /// One exchange: make the call here (the generic step), then await the
        /// endpoint-independent `complete` (write, read, decrypt, decode into a reply), and `ok`
        /// checks the reply (and whether the answer was encrypted). Not inlined: each
        /// endpoint's future is its own; the client's future is one for every endpoint.
        #[inline(never)]
        pub async fn run<R: Request>(
            c: &Ctx,
            io: &mut Io,
            req: &R,
            response: &[u8],
            ok: impl FnOnce(&ReplyOf<R::Endpoint>, bool) -> bool,
        ) where
            ReplyOf<R::Endpoint>: AnyReply,
        {
            let path = <R::Endpoint as Endpoint>::PATH;
            let mut out = ReplyOf::<R::Endpoint>::empty();
            keys!(c, keys);
            let mut call = match Call::new(&c.session, &c.stamp, req, &mut keys, &mut io.buf) {
                Ok(call) => call,
                Err(_) => fail(path),
            };
            let layout = call.request_layout();
            let mut stream = $stream::new(response, &mut io.written);
            let future =
                $client::complete(&mut stream, &mut call, &mut keys, &mut io.buf, &mut out);
            c.largest_future
                .set(c.largest_future.get().max(core::mem::size_of_val(&future)));
            let answered = match future.await {
                Ok(a) => a,
                Err(_) => fail(path),
            };
            let encrypted = <R::Endpoint as Endpoint>::REQUEST_ENCRYPTED;
            check_exchange(
                c,
                stream.request(),
                layout,
                path,
                encrypted,
                out.is_success(),
                path,
            );
            check(ok(&out, answered.encrypted), path);
            #[cfg(feature = "defmt")]
            defmt::info!(
                "{=str}: {=str} {=str}",
                path,
                out.code.as_str(),
                out.description.as_str()
            );
            c.passed.set(c.passed.get() + 1);
        }
    };
}

/// The example's exchanges, written once: `exercise!(Replay, blocking)` expands the blocking
/// `run` and `exercise`, `exercise!(AsyncReplay, asynch, async, .await)` the async ones.
macro_rules! exercise {
    ($(#[$attr:meta])* $stream:ident, $client:ident $(, $async:ident, $($await:tt)+)?) => {
        use core::cell::Cell;

        use konaplate_core::prelude::*;
        use konaplate_core::{api::*, field::*};
        use konaplate_embedded::BUFFER_PLAIN;

        #[allow(unused_imports)]
        use crate::DemoSecureElement;
        use crate::{Ctx, Io, check, check_exchange, fail, fixtures, must};
        #[allow(unused_imports)]
        use crate::{AsyncReplay, Replay};
        #[allow(unused_imports)]
        use konaplate_embedded as blocking;
        #[allow(unused_imports)]
        use konaplate_embedded::asynch;

        run_fns!([$($async)?] $stream, $client);

        $(#[$attr])*
        pub $($async)? fn exercise() -> (usize, usize) {
            let c = Ctx {
                session: crate::demo_session(),
                stamp: Stamp::new(must(Timestamp::new(2026, 11, 23, 19, 54, 6, 123)), TimeZone::KST, 0x0abc_def1),
                largest_future: Cell::new(0),
                passed: Cell::new(0),
                #[cfg(feature = "rsa")]
                rsa: crate::soft_rsa::boot(),
            };
            let mut io = Io { buf: [0; BUFFER_PLAIN], written: [0; 1100] };
            let io = &mut io;
            let user = must(UserId::new(50_000_100_001));
            let tok = must(OneTimeToken::new(fixtures::TOKEN_VALUE));
            let dcvv = must(Dcvv::new(fixtures::DCVV_VALUE));
            let seq = must(SequenceId::new("KP-FIRMWARE-CHARGE"));
            let nr = must(NrNumber::new(fixtures::CHARGE_NR));
            let par = must(Par::new(fixtures::PAR_VALUE));
            check(Dcvv::new("12").is_err_and(|e| e.field() == "dcvv"), "dcvv");

            let card = must(CardNo::new("9410000000000011"));
            // the token request is Encrypted: a plain-only build refuses it before writing a byte
            #[cfg(feature = "jwe")]
            run(&c, io, &TokenRequest { card_no: card, token_type: None }, &fixtures::TOKEN, |r, _| {
                r.body.as_ref().is_some_and(|b| b.one_time_token.expose() == fixtures::TOKEN_VALUE && b.dcvv.expose() == fixtures::DCVV_VALUE)
            }) $($($await)+)?;
            #[cfg(not(feature = "jwe"))]
            check(
                matches!(
                    Call::new(&c.session, &c.stamp, &TokenRequest { card_no: card, token_type: None }, NoCrypto, &mut io.buf),
                    Err(konaplate_core::error::EncodeError::JweDisabled { .. })
                ),
                "plain-only: the Encrypted token request is refused",
            );
            let charge = ChargeRequest { sequence_id: seq, user_id: user, amount: must(ChargeAmount::new(50_000)), one_time_token: tok.clone(), dcvv: dcvv.clone(), merchant_id: must(MerchantId::new("100000000000101")) };
            run(&c, io, &charge, &fixtures::CHARGE, |r, _| r.body.as_ref().is_some_and(|b| b.nr_number == nr && !b.is_pending)) $($($await)+)?;
            // the recorded answer re-framed as chunked, in small chunks
            run(&c, io, &ChargeResultRequest { sequence_id: seq }, &fixtures::CHARGE_RESULT_CHUNKED, |r, _| {
                r.body.as_ref().is_some_and(|b| b.result == ChargeResult::Completed)
            }) $($($await)+)?;
            #[cfg_attr(not(feature = "jwe"), allow(unused_variables))]
            let cancel = CancelRequest { sequence_id: must(SequenceId::new("KP-FIRMWARE-CANCEL")), user_id: user, nr_number: nr, one_time_token: tok.clone(), dcvv: dcvv.clone(), card_expiry: None };
            // the recorded answer is JWE: decrypted through the secure element stand-in
            #[cfg(feature = "jwe")]
            run(&c, io, &cancel, &fixtures::CANCEL, |r, encrypted| encrypted && r.body.as_ref().is_some_and(|b| !b.is_pending)) $($($await)+)?;
            run(&c, io, &RefundFeeRequest { one_time_token: tok.clone(), user_id: user }, &fixtures::REFUND_FEE, |r, _| {
                r.body.as_ref().is_some_and(|b| b.balance.get() == fixtures::REFUND_FEE_BALANCE && b.refund_fee.get() == fixtures::REFUND_FEE_FEE)
            }) $($($await)+)?;
            let refund = RefundRequest { sequence_id: must(SequenceId::new("KP-FIRMWARE-REFUND")), user_id: user, card_expiry: must(CardExpiry::new("3108")), dcvv, one_time_token: tok };
            run(&c, io, &refund, &fixtures::REFUND, |r, _| r.body.as_ref().is_some_and(|b| b.nr_number.as_str() == fixtures::REFUND_NR)) $($($await)+)?;
            #[cfg(feature = "jwe")]
            run(&c, io, &AutoRechargeRegisterRequest { user_id: user, par }, &fixtures::REGISTER, |r, _| r.is_success()) $($($await)+)?;
            run(&c, io, &AutoRechargeListRequest { user_id: user }, &fixtures::LIST, |r, _| {
                r.body.as_ref().is_some_and(|b| b.par_info_list.len() == 1 && b.par_info_list.first().is_some_and(|p| p.par == par))
            }) $($($await)+)?;
            (c.passed.get(), c.largest_future.get())
        }

    };
}

/// The blocking exchanges.
pub mod blocking {
    // apart from `main`: the software RSA's keys are parsed (`soft_rsa::boot`) before this
    // frame exists
    exercise!(
        #[inline(never)]
        Replay,
        blocking
    );
}

/// The async exchanges.
pub mod asynch {
    exercise!(AsyncReplay, asynch, async, .await);
}

const PAINT: u32 = 0xDEAD_BEEF;

unsafe extern "C" {
    static mut __ebss: u32;
    static _stack_start: u32;
}

/// Fills the unused stack (from the end of .bss up to just below the current stack pointer)
/// with a pattern.
pub fn paint_stack() {
    let sp = cortex_m::register::msp::read() as usize;
    // SAFETY: [__ebss, sp - 64) is RAM below the live stack that nothing uses yet; volatile
    // writes of whole words stay inside it.
    unsafe {
        let mut p = core::ptr::addr_of_mut!(__ebss) as usize;
        while p + 4 <= sp - 64 {
            core::ptr::write_volatile(p as *mut u32, PAINT);
            p += 4;
        }
    }
}

/// Peak stack use: the distance from the top of the stack to the deepest overwritten word.
pub fn peak_stack() -> usize {
    // SAFETY: reads whole words of RAM between the end of .bss and the top of the stack.
    unsafe {
        let bottom = core::ptr::addr_of!(__ebss) as usize;
        let top = core::ptr::addr_of!(_stack_start) as usize;
        let mut p = bottom;
        while p < top && core::ptr::read_volatile(p as *const u32) == PAINT {
            p += 4;
        }
        top - p
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    fail("panic")
}
