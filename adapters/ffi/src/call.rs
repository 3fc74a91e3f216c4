//! One exchange with the platform, the core's `Call`, in caller storage: begin (one function
//! per endpoint encodes the request into your buffer), the bytes to write, where read bytes
//! go and how many came, then the reply (one function per endpoint decodes it into its C
//! struct, decrypting an `encData` answer) — and the buffer wiped inside, whatever happens.

use konaplate_core::api::{Endpoint, ReplyOf, Request};
use konaplate_core::call::{Call, Delivery, Progress};
use konaplate_core::message::AnyReply;

use crate::c::{
    BusyGuard, Failure, Tagged, buffer, checked, finish, holds_open, konaplate_error,
    konaplate_result, non_null, non_null_mut, not_busy, put_text, store, stored, stored_mut,
    wipe_stored, write_out,
};
use crate::crypto::{CCrypto, konaplate_crypto};
use crate::session::{konaplate_session, konaplate_stamp, session, stamp};
use konaplate_core::request::{Session, Stamp};

/// 64-bit words of storage for a `konaplate_call`.
pub const KONAPLATE_CALL_WORDS: usize = 48;

/// Storage for one exchange. Begin it with the endpoint's `konaplate_call_<endpoint>`, move
/// its bytes (`konaplate_call_outgoing` / `_sent`, `konaplate_call_incoming` / `_received`),
/// end it with `konaplate_call_finish_<endpoint>` or `konaplate_call_abort`. It keeps no
/// pointer to your buffer: give the same buffer to every step.
#[repr(C)]
pub struct konaplate_call {
    /// Opaque.
    pub _opaque: [u64; KONAPLATE_CALL_WORDS],
}

impl Tagged for Call {
    const NAME: &'static [u8] = b"konaplate_call";
}

/// Whether a response is whole.
#[repr(u32)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum konaplate_progress {
    /// Not whole yet: read more into `konaplate_call_incoming` (or the call failed).
    NeedMore = 0,
    /// The whole response is in the buffer: finish the call.
    Complete = 1,
}

/// Whether a request that got no answer may have reached the platform.
#[repr(u32)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum konaplate_delivery {
    /// Not one byte was written: it certainly did not reach the platform.
    NotSent = 0,
    /// Some or all of it was written: the platform may have processed it.
    MaybeReceived = 1,
}

/// A C reply struct with a header, filled from the decoded reply of endpoint `E`: whole, or
/// not at all (a text that C would read cut short is malformed).
pub(crate) trait CReply<E: Endpoint> {
    fn take(&mut self, r: &ReplyOf<E>, encrypted: bool) -> Result<(), Failure>;
}

/// A call that may have been written and has not ended is open (an ended call, or one that
/// wrote nothing, may be replaced).
pub(crate) fn open(c: &Call) -> bool {
    c.delivery() == Delivery::MaybeReceived && !c.has_ended()
}

/// A call that has not ended (open, or one that wrote nothing): its request may still be in
/// its buffer.
pub(crate) fn unended(c: &Call) -> bool {
    !c.has_ended()
}

/// A call begun over one that has not ended (it wrote nothing: it may be replaced) wipes the
/// whole buffer first: the old request's token and DCVV go with it when the new one is begun
/// in the same buffer, as it should be (abort the old call first to wipe another buffer).
pub(crate) unsafe fn wipe_if_replacing(call: *const konaplate_call, buf: &mut [u8]) {
    // SAFETY: `call` was checked (NULL, alignment) by the caller.
    if unsafe { holds_open::<konaplate_call, Call>(call, unended) } {
        zeroize::Zeroize::zeroize(buf);
    }
}

/// Begins a call of request `R` converted from the C struct `C`: encodes it into `buf`. Only
/// the conversion and the encoding are per endpoint; the rest is [`begin_with`], once.
#[allow(clippy::too_many_arguments)] // the C entry points' arguments, forwarded
pub(crate) unsafe fn begin<R: Request, C>(
    call: *mut konaplate_call,
    session_p: *const konaplate_session,
    stamp_p: *const konaplate_stamp,
    request: *const C,
    convert: fn(&C) -> Result<R, Failure>,
    crypto: *const konaplate_crypto,
    buf: *mut u8,
    buf_len: usize,
    err: *mut konaplate_error,
) -> konaplate_result {
    let mut encode = |s: &Session, st: &Stamp, crypto: CCrypto, buf: &mut [u8]| {
        // SAFETY: `request` is NULL (reported) or a valid request struct (the header's contract).
        let req = convert(unsafe { non_null(request, "request") }?)?;
        Ok(Call::new(s, st, &req, crypto, buf)?)
    };
    // SAFETY: forwarded contract.
    let r = unsafe { begin_with(call, session_p, stamp_p, crypto, buf, buf_len, &mut encode) };
    finish(r, err)
}

/// An endpoint's own part of a begin: convert its C request and encode it.
type Encode<'a> = dyn FnMut(&Session, &Stamp, CCrypto, &mut [u8]) -> Result<Call, Failure> + 'a;

/// What every begin does around the endpoint's own `encode`: refuses an open call, reads the
/// session and the stamp, marks the session busy while the key callback may run, and stores
/// the call.
#[inline(never)]
unsafe fn begin_with(
    call: *mut konaplate_call,
    session_p: *const konaplate_session,
    stamp_p: *const konaplate_stamp,
    crypto: *const konaplate_crypto,
    buf: *mut u8,
    buf_len: usize,
    encode: &mut Encode<'_>,
) -> Result<(), Failure> {
    // the storage first: nothing is encoded for a call that could not be stored
    unsafe { not_busy::<konaplate_call, Call>(call, "call") }?;
    // SAFETY: every pointer is NULL (reported) or valid for the call (the header's contract).
    if unsafe { holds_open::<konaplate_call, Call>(call, open) } {
        return Err(in_use());
    }
    let (s, st) = unsafe { (session(session_p)?, stamp(stamp_p)?) };
    let buf = unsafe { buffer(buf, buf_len) }?;
    unsafe { wipe_if_replacing(call, buf) };
    // the key callback may run: the session is in use until the request is encoded
    let _busy = unsafe { BusyGuard::enter::<konaplate_session, Session>(session_p) };
    let c = encode(s, &st, unsafe { CCrypto::new(crypto) }?, buf)?;
    // SAFETY: as above.
    unsafe { store_call(call, c, buf) }
}

/// Stores a call just encoded into `buf`, unless a key callback began another one in the same
/// storage meanwhile: then this one is wiped from `buf` and refused (`IN_USE`).
pub(crate) unsafe fn store_call(
    call: *mut konaplate_call,
    c: Call,
    buf: &mut [u8],
) -> Result<(), Failure> {
    // SAFETY: `call` was checked (NULL, alignment) by the caller.
    let r = if unsafe { holds_open::<konaplate_call, Call>(call, open) } {
        Err(in_use())
    } else {
        // SAFETY: as above.
        unsafe { store(call, "call", c) }
    };
    if r.is_err() {
        // nothing sendable is left for a call that could not be stored
        zeroize::Zeroize::zeroize(buf);
    }
    r
}

pub(crate) fn in_use() -> Failure {
    Failure::say(
        konaplate_result::InUse,
        "the call storage holds a call that was written and is not finished: finish or abort it first",
    )
}

/// Where the request bytes still to write are: `buf[*start .. *start + *len]` (`*len` is 0
/// once all are written). Write them and report how many the socket took with
/// `konaplate_call_sent`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_outgoing(
    call: *const konaplate_call,
    buf: *const u8,
    buf_len: usize,
    start: *mut usize,
    len: *mut usize,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: the pointers are NULL (reported) or valid for the call.
    let r = unsafe {
        range_out(start, len, || {
            let c = stored::<konaplate_call, Call>(call, "call")?;
            let bytes = buffer(buf.cast_mut(), buf_len)?;
            // (the core gives nothing for another buffer: C is told why)
            c.check_buffer(bytes)?;
            Ok(offset_in(buf, c.outgoing(bytes)))
        })
    };
    finish(r, err)
}

/// Where `part` (a slice of the buffer at `base`) lies in it: (start, length).
fn offset_in(base: *const u8, part: &[u8]) -> (usize, usize) {
    (
        (part.as_ptr() as usize).saturating_sub(base as usize),
        part.len(),
    )
}

/// Writes the range `range` finds into `*start` and `*len`: both are written on every return
/// (0 and 0 unless it succeeds), each that is not NULL, whichever fails.
unsafe fn range_out(
    start: *mut usize,
    len: *mut usize,
    range: impl FnOnce() -> Result<(usize, usize), Failure>,
) -> Result<(), Failure> {
    // SAFETY: each is NULL or misaligned (not written, reported below) or writable.
    unsafe { (write_out(start, 0), write_out(len, 0)) };
    checked(start, "start")?;
    checked(len, "len")?;
    let (at, n) = range()?;
    // SAFETY: as above.
    unsafe { (write_out(start, at), write_out(len, n)) };
    Ok(())
}

/// The socket took `n` bytes of what `konaplate_call_outgoing` gave. Once the whole request
/// is written it is wiped from `buf` (it may hold a one-time token and a DCVV). `n` = 0 is
/// `KONAPLATE_RESULT_WRITE_ZERO` (and the call ends: abort it to learn the delivery).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_sent(
    call: *mut konaplate_call,
    buf: *mut u8,
    buf_len: usize,
    n: usize,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        // SAFETY: as above.
        let c = unsafe { stored_mut::<konaplate_call, Call>(call, "call") }?;
        let bytes = unsafe { buffer(buf, buf_len) }?;
        Ok(c.sent(bytes, n)?)
    })();
    finish(r, err)
}

/// Where the next bytes read must go: `buf[*start .. *start + *len]`. A response that cannot
/// fit is `KONAPLATE_RESULT_BUFFER_TOO_SMALL` before anything more is read (and the buffer is
/// wiped).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_incoming(
    call: *mut konaplate_call,
    buf: *mut u8,
    buf_len: usize,
    start: *mut usize,
    len: *mut usize,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: as above.
    let r = unsafe {
        range_out(start, len, || {
            let c = stored_mut::<konaplate_call, Call>(call, "call")?;
            let bytes = buffer(buf, buf_len)?;
            Ok(offset_in(buf, c.incoming(bytes)?))
        })
    };
    finish(r, err)
}

/// `n` bytes arrived where `konaplate_call_incoming` said; `n` = 0 means the peer closed the
/// connection (a read that returned 0). `*progress` says whether the response is whole.
/// Calling it again after `COMPLETE` answers `COMPLETE` again. A peer that closed before the
/// response was whole is `KONAPLATE_RESULT_HTTP`; a response too large for the buffer,
/// `KONAPLATE_RESULT_BUFFER_TOO_SMALL`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_received(
    call: *mut konaplate_call,
    buf: *mut u8,
    buf_len: usize,
    n: usize,
    progress: *mut konaplate_progress,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        // SAFETY: as above.
        let progress = unsafe { non_null_mut(progress, "progress") }?;
        *progress = konaplate_progress::NeedMore;
        let c = unsafe { stored_mut::<konaplate_call, Call>(call, "call") }?;
        let bytes = unsafe { buffer(buf, buf_len) }?;
        if c.received(bytes, n)? == Progress::Complete {
            *progress = konaplate_progress::Complete;
        }
        Ok(())
    })();
    finish(r, err)
}

/// Gives the call up (the socket failed, a timeout): wipes what it left in `buf` and says in
/// `*delivery` whether the request may have reached the platform. Any step, more than once.
/// A NULL `delivery` is reported after the wipe.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_abort(
    call: *mut konaplate_call,
    buf: *mut u8,
    buf_len: usize,
    delivery: *mut konaplate_delivery,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        // SAFETY: as above. `*delivery` is written whenever it can be: "may have been
        // received" until the call says otherwise
        unsafe { write_out(delivery, konaplate_delivery::MaybeReceived) };
        let c = unsafe { stored_mut::<konaplate_call, Call>(call, "call") }?;
        let bytes = unsafe { buffer(buf, buf_len) }?;
        // another buffer could not be wiped: refused, and the call stays as it was
        c.check_buffer(bytes)?;
        // wiped first, even when `delivery` is NULL (reported after)
        let d = match c.abort(bytes) {
            Delivery::NotSent => konaplate_delivery::NotSent,
            _ => konaplate_delivery::MaybeReceived,
        };
        // SAFETY: as above.
        *unsafe { non_null_mut(delivery, "delivery") }? = d;
        Ok(())
    })();
    finish(r, err)
}

/// The request's `X-KM-Correlation-Id` (20 characters and a NUL) into `out[0 .. out_cap]`
/// (at least `KONAPLATE_CORRELATION_ID_SIZE` bytes; empty on error).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_correlation_id(
    call: *const konaplate_call,
    out: *mut core::ffi::c_char,
    out_cap: usize,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        if out.is_null() {
            return Err(Failure::null("out"));
        }
        // SAFETY: `out` points to `out_cap` writable bytes (the header's contract).
        let out = unsafe { core::slice::from_raw_parts_mut(out, out_cap) };
        put_text(out, b"");
        if out_cap < crate::limits::KONAPLATE_CORRELATION_ID_SIZE {
            return Err(Failure::say(
                konaplate_result::BufferTooSmall,
                "a Correlation-Id needs KONAPLATE_CORRELATION_ID_SIZE (21) bytes",
            ));
        }
        let c = unsafe { stored::<konaplate_call, Call>(call, "call") }?;
        put_text(out, c.correlation_id().as_bytes());
        Ok(())
    })();
    finish(r, err)
}

/// Drops the call and zeroes its storage (the buffer is yours: abort or finish first). NULL is
/// ignored; a call in use by a running call is left alone (`KONAPLATE_RESULT_BUSY`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_call_wipe(call: *mut konaplate_call) -> konaplate_result {
    // SAFETY: `call` is NULL or a call's storage.
    unsafe { wipe_stored::<konaplate_call, Call>(call) }
}

/// Ends a call of endpoint `E` into the C reply struct `O`. Only the decoded reply's type and
/// the filling of `O` are per endpoint; the rest is [`finish_with`], once.
pub(crate) unsafe fn finish_into<E: Endpoint, O: CReply<E>>(
    call: *mut konaplate_call,
    buf: *mut u8,
    buf_len: usize,
    crypto: *const konaplate_crypto,
    reply: *mut O,
    err: *mut konaplate_error,
) -> konaplate_result
where
    ReplyOf<E>: AnyReply,
{
    let mut decoded = ReplyOf::<E>::empty();
    let size = core::mem::size_of::<O>();
    let r = (|| {
        // NULL or misaligned is reported; otherwise `reply` is a writable reply struct
        checked(reply, "reply")?;
        // SAFETY: forwarded contract; `reply` is `size` writable bytes.
        let encrypted =
            unsafe { finish_with(call, buf, buf_len, crypto, reply.cast(), size, &mut decoded) }?;
        // SAFETY: as above (no other reference to it is live).
        let filled = unsafe { &mut *reply }.take(&decoded, encrypted);
        if filled.is_err() {
            // nothing half-filled: a reply that cannot be given whole is not given
            unsafe { crate::c::konaplate_wipe(reply.cast(), size) };
        }
        filled
    })();
    finish(r, err)
}

/// What every finish does: zeroes the C reply at `reply` (`reply_size` bytes; every field of every reply
/// struct is valid as zero), marks the call busy while the unwrap callback may run, and decodes
/// the answer into `decoded`. Returns whether it came encrypted.
#[inline(never)]
unsafe fn finish_with(
    call: *mut konaplate_call,
    buf: *mut u8,
    buf_len: usize,
    crypto: *const konaplate_crypto,
    reply: *mut u8,
    reply_size: usize,
    decoded: &mut dyn AnyReply,
) -> Result<bool, Failure> {
    // SAFETY: `reply` is a writable reply struct of `reply_size` bytes (checked by the caller).
    unsafe { crate::c::konaplate_wipe(reply.cast(), reply_size) };
    let c = unsafe { stored_mut::<konaplate_call, Call>(call, "call") }?;
    let bytes = unsafe { buffer(buf, buf_len) }?;
    // the unwrap callback may run: the call is in use until its answer is decoded
    let _busy = unsafe { BusyGuard::enter::<konaplate_call, Call>(call) };
    let a = c.finish(bytes, unsafe { CCrypto::new(crypto) }?, decoded)?;
    Ok(a.encrypted)
}
