//! What every entry point shares: the result codes, the error details (written without
//! `core::fmt`: the core's errors describe themselves into a buffer), reading C text and
//! writing NUL-terminated text, and objects kept in caller-provided storage — checked for
//! alignment, stamped with this build's layout, and guarded against re-entry from a callback.

use core::ffi::c_char;

use konaplate_core::call::CallError;
use konaplate_core::error::{DecodeError, Describe, EncodeError, Sink};
use konaplate_core::field::{FieldError, SequenceId};
use konaplate_core::flow::{FlowError, RecordError};
use konaplate_core::http::HttpError;
use konaplate_core::jwe::JweError;
use konaplate_embedded::journal::JournalError;
use zeroize::Zeroize;

/// What a call did. `KONAPLATE_RESULT_OK` is 0; every other value is an error.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum konaplate_result {
    /// Success.
    Ok = 0,
    /// A required pointer was NULL.
    NullPointer = 2,
    /// A field is outside its documented limit (the error names the field and the limit);
    /// nothing was sent.
    InvalidField = 3,
    /// A buffer is too small, or a response does not fit the call's buffer (the message says
    /// how many bytes are needed when it is known).
    BufferTooSmall = 4,
    /// The object's storage was not initialized by its `_init` call, was wiped, or holds
    /// something else (another object, another build's layout, overwritten bytes): it is
    /// refused, never run.
    NotInitialized = 5,
    /// The endpoint's request is Encrypted and no `konaplate_crypto` was given.
    EncryptionRequired = 6,
    /// The endpoint's request is Encrypted and the session has no crypto key id.
    MissingCryptoKeyId = 7,
    /// The wrap or unwrap callback failed.
    KeyWrapFailed = 8,
    /// The HTTP response is malformed (framing, head, chunks), or the peer closed the
    /// connection before it was whole.
    Http = 9,
    /// The body is not a valid answer of this endpoint (JSON, envelope, a field, an embedded
    /// NUL in a text), or a call step came out of order.
    Decode = 10,
    /// The answer is encrypted (`encData`) and no unwrap callback was given.
    EncryptedNoKey = 11,
    /// The JWE is malformed, or its authentication failed.
    Jwe = 12,
    /// A journal record is damaged or of an unknown version.
    Record = 13,
    /// A value the C caller passed is out of range (an enum value, a length, a pointer that
    /// is not aligned as the header says).
    InvalidArgument = 14,
    /// The object is in use by a call that is running: a key callback called back into the
    /// library on it (nothing was done).
    Busy = 15,
    /// The storage holds a call or a money flow that is still open: a call that may have been
    /// written, a flow that may have sent its request and is not final. Finish it (or, for
    /// a flow, resume it from its record); never start another over it.
    InUse = 16,
    /// The money flow has no call to hand out now (poll it), or the call given back is not
    /// the one it handed out.
    Flow = 17,
    /// The transport took zero bytes of a write.
    WriteZero = 18,
    /// The journal has no room for a new call's records: nothing was written; do not send.
    /// Close settled calls (an open one is never dropped).
    JournalFull = 19,
    /// The journal refused (a settled record replaced, an open call closed, no such entry)
    /// or the flash failed it (a callback failed, no sector takes an erase: worn).
    Journal = 20,
}

/// Bytes of [`konaplate_error::field`], NUL included.
pub const KONAPLATE_ERROR_FIELD_SIZE: usize = 48;
/// Bytes of [`konaplate_error::limit`], NUL included.
pub const KONAPLATE_ERROR_LIMIT_SIZE: usize = 96;
/// Bytes of [`konaplate_error::message`], NUL included.
pub const KONAPLATE_ERROR_MESSAGE_SIZE: usize = 160;

/// Details of one call's result: the result again, the API name of the failing field (empty
/// when no field is at fault), its documented limit, and a message. All text is
/// NUL-terminated. Written on every return, success included (then empty). Pass NULL when you
/// do not want them (a pointer not aligned as the type is treated as NULL: never written).
#[repr(C)]
pub struct konaplate_error {
    /// The same value the call returned.
    pub result: konaplate_result,
    /// The API (JSON or header) name of the failing field, e.g. `dcvv`.
    pub field: [c_char; KONAPLATE_ERROR_FIELD_SIZE],
    /// The field's documented limit, e.g. `exactly 3 ASCII digits`.
    pub limit: [c_char; KONAPLATE_ERROR_LIMIT_SIZE],
    /// A sentence for a log.
    pub message: [c_char; KONAPLATE_ERROR_MESSAGE_SIZE],
}

/// Overwrites `len` bytes at `p` with zeros in a way the compiler keeps: for request structs,
/// replies and buffers that held a one-time token, a DCVV or a key. NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_wipe(p: *mut core::ffi::c_void, len: usize) {
    if p.is_null() {
        return;
    }
    // SAFETY: the caller promises `len` writable bytes at `p`.
    let bytes = unsafe { core::slice::from_raw_parts_mut(p.cast::<u8>(), len) };
    bytes.zeroize();
}

/// Bytes of stack [`konaplate_scrub_stack`] overwrites on a 32-bit target (a Cortex-M); a
/// 64-bit host's frames are larger, and it overwrites twice as many there.
pub const KONAPLATE_SCRUB_BYTES: usize = 8192;

/// What the scrub clears on this target: `KONAPLATE_SCRUB_BYTES` per 32 bits of pointer (on
/// x86-64 a JWE cancellation's `konaplate_flow_end_call` takes about 9 KB of stack).
const SCRUB_HERE: usize = KONAPLATE_SCRUB_BYTES * (core::mem::size_of::<usize>() / 4);

/// Overwrites [`KONAPLATE_SCRUB_BYTES`] of the stack below the caller's frame with zeros
/// (twice that on a 64-bit host): what the library's calls left there (the compiler may copy
/// a key, a token or a DCVV into frames that are dead once a call returns, and Rust cannot
/// wipe those). Call it after a money call, from a frame no deeper than the calls it follows,
/// with that much stack free.
#[unsafe(no_mangle)]
#[inline(never)]
pub extern "C" fn konaplate_scrub_stack() {
    let mut scratch = [0u8; SCRUB_HERE];
    scratch.zeroize();
    // keep the writes: the array's address escapes to an opaque barrier
    core::hint::black_box(&mut scratch);
}

/// A C callback reported a failure (for the journal's flash: or the flash's geometry does not
/// take an access).
#[derive(Debug)]
pub(crate) struct CallbackFailed;

/// A failure on its way to C: small, so that `?` moves a few words, never a message; the
/// message is written once, into the caller's `konaplate_error`, by [`finish`].
pub(crate) struct Failure {
    pub(crate) result: konaplate_result,
    pub(crate) field: &'static str,
    pub(crate) limit: &'static str,
    detail: Detail,
}

/// What a failure's message says, kept as the value it describes.
enum Detail {
    /// A sentence in up to three parts (a name between two texts, say).
    Text([&'static str; 3]),
    /// A storage not aligned to the bytes given.
    Misaligned(&'static str, usize),
    /// An older call awaits the platform.
    AwaitsPlatform(SequenceId),
    Field(FieldError),
    Encode(EncodeError),
    Decode(DecodeError),
    Http(HttpError),
    Call(CallError),
    Record(RecordError),
    Flow(FlowError),
    Journal(JournalError<CallbackFailed>),
}

impl Describe for Detail {
    fn describe(&self, m: &mut dyn Sink) {
        let e: &dyn Describe = match self {
            Detail::Text(parts) => {
                parts.iter().for_each(|p| m.put(p));
                return;
            }
            Detail::Misaligned(what, align) => {
                m.put("`");
                m.put(what);
                m.put("` is not aligned to ");
                m.put_u64(*align as u64);
                m.put(" bytes (declare it as its header type)");
                return;
            }
            Detail::AwaitsPlatform(open) => {
                m.put("an older call awaits the platform: ");
                m.put(open.as_str());
                m.put(" (resume it first); nothing was sent");
                return;
            }
            Detail::Field(e) => e,
            Detail::Encode(e) => e,
            Detail::Decode(e) => e,
            Detail::Http(e) => e,
            Detail::Call(e) => e,
            Detail::Record(e) => e,
            Detail::Flow(e) => e,
            Detail::Journal(e) => e,
        };
        e.describe(m);
    }
}

/// A C text array as a [`Sink`]: truncated to fit, NUL-terminated by [`CText::end`].
struct CText<'a> {
    out: &'a mut [c_char],
    len: usize,
}

impl Sink for CText<'_> {
    fn put(&mut self, s: &str) {
        for &b in s.as_bytes() {
            // the last byte is kept for the NUL
            if self.len < self.out.len().saturating_sub(1)
                && let Some(o) = self.out.get_mut(self.len)
            {
                *o = b as c_char;
                self.len = self.len.saturating_add(1);
            }
        }
    }
}

impl CText<'_> {
    /// Clears the rest of the array (the NUL included).
    fn end(self) {
        for o in self.out.iter_mut().skip(self.len) {
            *o = 0;
        }
    }
}

impl Failure {
    #[inline(never)]
    fn of(result: konaplate_result, detail: Detail) -> Self {
        Self {
            result,
            field: "",
            limit: "",
            detail,
        }
    }
    /// A failure whose message is one sentence.
    #[inline(never)]
    pub(crate) fn say(result: konaplate_result, sentence: &'static str) -> Self {
        Self::text(result, [sentence, "", ""])
    }
    /// A failure whose message is `parts`, joined.
    #[inline(never)]
    pub(crate) fn text(result: konaplate_result, parts: [&'static str; 3]) -> Self {
        Self::of(result, Detail::Text(parts))
    }
    #[inline(never)]
    pub(crate) fn null(what: &'static str) -> Self {
        Self::text(konaplate_result::NullPointer, ["`", what, "` is NULL"])
    }
    #[inline(never)]
    pub(crate) fn field(e: FieldError) -> Self {
        Self {
            result: konaplate_result::InvalidField,
            field: e.field(),
            limit: e.limit(),
            detail: Detail::Field(e),
        }
    }
    #[inline(never)]
    pub(crate) fn uninitialized(what: &'static str) -> Self {
        Self::text(
            konaplate_result::NotInitialized,
            [
                "`",
                what,
                "` does not hold what its _init call stored (never initialized, wiped, overwritten, or from another build)",
            ],
        )
    }
    /// A new call refused because the older call `open` awaits the platform.
    #[inline(never)]
    pub(crate) fn awaits_platform(open: SequenceId) -> Self {
        Self::of(konaplate_result::InUse, Detail::AwaitsPlatform(open))
    }
    /// A journal's refusal or its flash's failure.
    #[inline(never)]
    pub(crate) fn journal(e: JournalError<CallbackFailed>) -> Self {
        let result = match e {
            JournalError::Full => konaplate_result::JournalFull,
            JournalError::Geometry(_) | JournalError::Taken => konaplate_result::InvalidArgument,
            JournalError::OpenCall => konaplate_result::InUse,
            _ => konaplate_result::Journal,
        };
        Self::of(result, Detail::Journal(e))
    }
}

impl From<FieldError> for Failure {
    fn from(e: FieldError) -> Self {
        Failure::field(e)
    }
}

impl From<EncodeError> for Failure {
    fn from(e: EncodeError) -> Self {
        let result = match e {
            EncodeError::Field(f) => return Failure::field(f),
            EncodeError::BufferTooSmall { .. } => konaplate_result::BufferTooSmall,
            EncodeError::EncryptionRequired { .. } => konaplate_result::EncryptionRequired,
            EncodeError::MissingCryptoKeyId => konaplate_result::MissingCryptoKeyId,
            EncodeError::KeyWrap => konaplate_result::KeyWrapFailed,
            EncodeError::JweDisabled { .. } => konaplate_result::EncryptionRequired,
            _ => konaplate_result::InvalidArgument,
        };
        Failure::of(result, Detail::Encode(e))
    }
}

impl From<DecodeError> for Failure {
    fn from(e: DecodeError) -> Self {
        let result = match e {
            DecodeError::Field(f) => {
                let mut f = Failure::field(f);
                f.result = konaplate_result::Decode;
                return f;
            }
            DecodeError::Http(h) => return h.into(),
            DecodeError::Jwe(JweError::KeyUnwrap) => konaplate_result::KeyWrapFailed,
            DecodeError::Jwe(_) => konaplate_result::Jwe,
            DecodeError::Encrypted => konaplate_result::EncryptedNoKey,
            _ => konaplate_result::Decode,
        };
        Failure::of(result, Detail::Decode(e))
    }
}

impl From<HttpError> for Failure {
    fn from(e: HttpError) -> Self {
        let result = match e {
            HttpError::HeadTooLarge { .. } | HttpError::BodyTooLarge { .. } => {
                konaplate_result::BufferTooSmall
            }
            _ => konaplate_result::Http,
        };
        Failure::of(result, Detail::Http(e))
    }
}

impl From<CallError> for Failure {
    fn from(e: CallError) -> Self {
        let result = match e {
            CallError::WriteZero => konaplate_result::WriteZero,
            CallError::Http(h) => return h.into(),
            CallError::Body { error, .. } => return error.into(),
            CallError::Buffer { .. } => konaplate_result::InvalidArgument,
            _ => konaplate_result::Decode,
        };
        Failure::of(result, Detail::Call(e))
    }
}

impl From<RecordError> for Failure {
    fn from(e: RecordError) -> Self {
        Failure::of(konaplate_result::Record, Detail::Record(e))
    }
}

impl From<FlowError> for Failure {
    fn from(e: FlowError) -> Self {
        match e {
            FlowError::Encode(e) => e.into(),
            FlowError::Call(e) => e.into(),
            e => Failure::of(konaplate_result::Flow, Detail::Flow(e)),
        }
    }
}

/// Reports `r` through `err` (when not NULL; cleared on success) and returns its code: the
/// one place a message is written.
pub(crate) fn finish(r: Result<(), Failure>, err: *mut konaplate_error) -> konaplate_result {
    let result = match &r {
        Ok(()) => konaplate_result::Ok,
        Err(f) => f.result,
    };
    // SAFETY: `err` is NULL or points to a writable `konaplate_error` (the header's contract;
    // its alignment is checked first).
    if let Some(e) = unsafe { aligned_mut(err) } {
        e.result = result;
        let (field, limit) = match &r {
            Ok(()) => ("", ""),
            Err(f) => (f.field, f.limit),
        };
        put_text(&mut e.field, field.as_bytes());
        put_text(&mut e.limit, limit.as_bytes());
        let mut m = CText {
            out: &mut e.message,
            len: 0,
        };
        if let Err(f) = &r {
            f.detail.describe(&mut m);
        }
        m.end();
    }
    result
}

/// Copies `text` into a fixed C array, truncated to fit, always NUL-terminated (for the
/// library's own messages: values go through [`put_value`]).
pub(crate) fn put_text(out: &mut [c_char], text: &[u8]) {
    let n = text.len().min(out.len().saturating_sub(1));
    for (o, &b) in out.iter_mut().zip(text.iter().take(n)) {
        *o = b as c_char;
    }
    for o in out.iter_mut().skip(n) {
        *o = 0;
    }
}

/// Copies a value received from the platform into a fixed C array sized for it: a value
/// holding a NUL (which C would read cut short) or longer than the array is malformed.
pub(crate) fn put_value(
    out: &mut [c_char],
    value: &[u8],
    field: &'static str,
) -> Result<(), Failure> {
    if value.contains(&0) || value.len() >= out.len() {
        let mut f = Failure::field(FieldError::new(
            field,
            "text without NUL bytes that fits its C array",
        ));
        f.result = konaplate_result::Decode;
        return Err(f);
    }
    put_text(out, value);
    Ok(())
}

/// The text of a fixed C array: up to its first NUL, which must be inside the array.
pub(crate) fn array_text<'a>(a: &'a [c_char], field: &'static str) -> Result<&'a str, FieldError> {
    // SAFETY: c_char and u8 have the same size and alignment.
    let bytes = unsafe { core::slice::from_raw_parts(a.as_ptr().cast::<u8>(), a.len()) };
    let n = bytes
        .iter()
        .position(|&b| b == 0)
        .ok_or(FieldError::new(field, "NUL-terminated within its array"))?;
    core::str::from_utf8(bytes.get(..n).unwrap_or(&[]))
        .map_err(|_| FieldError::new(field, "ASCII text"))
}

/// The text at a C string pointer (at most `max` bytes before its NUL).
pub(crate) unsafe fn ptr_text<'a>(
    p: *const c_char,
    field: &'static str,
    max: usize,
) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::null(field));
    }
    let mut n = 0;
    // SAFETY: the caller promises a NUL-terminated string at `p`; reading stops at its NUL
    // or after `max` bytes.
    while n <= max && unsafe { *p.add(n) } != 0 {
        n = n.saturating_add(1);
    }
    if n > max {
        return Err(FieldError::new(field, "NUL-terminated text of a sane length").into());
    }
    // SAFETY: `n` bytes before the NUL were just read.
    let bytes = unsafe { core::slice::from_raw_parts(p.cast::<u8>(), n) };
    core::str::from_utf8(bytes).map_err(|_| FieldError::new(field, "ASCII text").into())
}

fn is_aligned<T>(p: *const T) -> bool {
    (p as usize).is_multiple_of(core::mem::align_of::<T>())
}

/// A reference to a caller's object, or `None` for NULL or a misaligned pointer (where a
/// NULL is allowed, a misaligned pointer is ignored the same way: nothing is read).
pub(crate) unsafe fn aligned_mut<'a, T>(p: *mut T) -> Option<&'a mut T> {
    if !is_aligned(p) {
        return None;
    }
    // SAFETY: non-NULL and aligned: a valid `T` (the header's contract).
    unsafe { p.as_mut() }
}

#[inline(never)]
fn misaligned(what: &'static str, align: usize) -> Failure {
    Failure::of(
        konaplate_result::InvalidArgument,
        Detail::Misaligned(what, align),
    )
}

/// NULL or misaligned is refused: check a storage before anything is done for it.
pub(crate) fn checked<T>(p: *const T, what: &'static str) -> Result<(), Failure> {
    if p.is_null() {
        return Err(Failure::null(what));
    }
    if !is_aligned(p) {
        return Err(misaligned(what, core::mem::align_of::<T>()));
    }
    Ok(())
}

/// A reference to a caller's object, or the NULL or alignment failure.
pub(crate) unsafe fn non_null<'a, T>(p: *const T, what: &'static str) -> Result<&'a T, Failure> {
    checked(p, what)?;
    // SAFETY: a non-NULL, aligned pointer from C points to a valid `T` (the header's contract).
    Ok(unsafe { &*p })
}

/// A mutable reference to a caller's object, or the NULL or alignment failure.
pub(crate) unsafe fn non_null_mut<'a, T>(
    p: *mut T,
    what: &'static str,
) -> Result<&'a mut T, Failure> {
    checked(p, what)?;
    // SAFETY: as for `non_null`, and the object is not aliased during the call.
    Ok(unsafe { &mut *p })
}

/// The caller's buffer `buf[0 .. len]`.
pub(crate) unsafe fn buffer<'a>(buf: *mut u8, len: usize) -> Result<&'a mut [u8], Failure> {
    if buf.is_null() {
        return Err(Failure::null("buf"));
    }
    // SAFETY: `buf` points to `len` writable bytes (the header's contract).
    Ok(unsafe { core::slice::from_raw_parts_mut(buf, len) })
}

/// A Rust value kept in a caller's storage `S` (an array of `uint64_t`): a tag that names the
/// type and this build's layout, a busy flag, the value; and the tag's complement in the
/// storage's last word. A storage whose two marks do not match is refused, never read.
#[repr(C)]
pub(crate) struct Stored<T> {
    tag: u64,
    busy: u64,
    pub(crate) value: T,
}

/// The tag a storage holds while it holds a `T`.
pub(crate) trait Tagged: Sized {
    /// A constant per type (its name, as bytes).
    const NAME: &'static [u8];
    /// The type's name, its layout and the library's version, hashed (FNV-1a): a storage
    /// made by another build whose layout differs is not taken for this one.
    const TAG: u64 = layout_tag(
        Self::NAME,
        core::mem::size_of::<Self>(),
        core::mem::align_of::<Self>(),
    );
}

const fn layout_tag(name: &[u8], size: usize, align: usize) -> u64 {
    let h = mix(0xcbf2_9ce4_8422_2325, name);
    let h = mix(h, env!("CARGO_PKG_VERSION").as_bytes());
    let h = mix(h, &(size as u64).to_le_bytes());
    mix(h, &(align as u64).to_le_bytes()) | 1
}

/// FNV-1a over `bytes`, from `h`.
const fn mix(mut h: u64, mut bytes: &[u8]) -> u64 {
    while let [b, rest @ ..] = bytes {
        h = (h ^ *b as u64).wrapping_mul(0x0000_0100_0000_01b3);
        bytes = rest;
    }
    h
}

/// The storage's last word: the complement of its tag (a fill or a copy cut short is seen).
unsafe fn trailer<S>(storage: *mut S) -> *mut u64 {
    // SAFETY: the storage is a whole number of u64 words (every storage type is `[u64; N]`).
    unsafe {
        storage
            .cast::<u64>()
            .add((core::mem::size_of::<S>() / 8).saturating_sub(1))
    }
}

/// Compile-time: `S` holds a `Stored<T>` and its trailer word, aligned.
const fn fits<S, T>() {
    assert!(core::mem::size_of::<Stored<T>>() < core::mem::size_of::<S>().saturating_sub(7));
    assert!(core::mem::align_of::<Stored<T>>() <= core::mem::align_of::<S>());
    assert!(core::mem::size_of::<S>().is_multiple_of(8));
}

/// Whether the storage holds a `T` (both marks intact). Reads only the two words.
unsafe fn intact<S, T: Tagged>(storage: *const S) -> bool {
    let s = storage.cast::<Stored<T>>();
    // SAFETY: the storage is aligned and at least `Stored<T>` plus a word (checked by the
    // caller and at compile time); the marks are plain words.
    unsafe {
        core::ptr::read_volatile(&raw const (*s).tag) == T::TAG
            && core::ptr::read_volatile(trailer(storage.cast_mut())) == !T::TAG
    }
}

/// Moves `value` into the storage at `storage`. A `T` it held is dropped first (its secrets
/// zeroized); one in use by a running call is left alone (`BUSY`, and `value` is dropped).
pub(crate) unsafe fn store<S, T: Tagged>(
    storage: *mut S,
    what: &'static str,
    value: T,
) -> Result<(), Failure> {
    const { fits::<S, T>() };
    checked(storage, what)?;
    let s = storage.cast::<Stored<T>>();
    // SAFETY: the storage is large and aligned enough (checked above) and writable; an intact
    // storage holds a valid `T` (written here); `write` does not read or drop what was there.
    unsafe {
        if intact::<S, T>(storage) {
            if core::ptr::read_volatile(&raw const (*s).busy) != 0 {
                return Err(busy(what));
            }
            core::ptr::write_volatile(trailer(storage), 0);
            core::ptr::drop_in_place(&raw mut (*s).value);
        }
        s.write(Stored {
            tag: T::TAG,
            busy: 0,
            value,
        });
        core::ptr::write_volatile(trailer(storage), !T::TAG);
    }
    Ok(())
}

/// Refuses (`BUSY`) a storage that holds a `T` in use by a running call: for steps that
/// would store over it only after other work.
pub(crate) unsafe fn not_busy<S, T: Tagged>(
    storage: *const S,
    what: &'static str,
) -> Result<(), Failure> {
    const { fits::<S, T>() };
    checked(storage, what)?;
    let s = storage.cast::<Stored<T>>();
    // SAFETY: aligned and large enough; only the two marks and the busy word are read.
    let busy_now =
        unsafe { intact::<S, T>(storage) && core::ptr::read_volatile(&raw const (*s).busy) != 0 };
    if busy_now { Err(busy(what)) } else { Ok(()) }
}

/// Writes `v` to `*p` unless `p` is NULL or misaligned (an optional out-parameter; the
/// caller reports those): through the pointer, never a reference, so two out-parameters that
/// alias stay sound.
pub(crate) unsafe fn write_out<T>(p: *mut T, v: T) {
    if !p.is_null() && is_aligned(p) {
        // SAFETY: non-NULL and aligned: writable (the header's contract).
        unsafe { p.write(v) };
    }
}

/// Whether `storage` holds an intact `T` for which `open` is true (NULL, misaligned or
/// anything else: false). For refusing to start an object over an open one.
pub(crate) unsafe fn holds_open<S, T: Tagged>(storage: *const S, open: fn(&T) -> bool) -> bool {
    const { fits::<S, T>() };
    if checked(storage, "storage").is_err() {
        return false;
    }
    // SAFETY: aligned and large enough; the value is read only when both marks are intact.
    unsafe { intact::<S, T>(storage) && open(&(*storage.cast::<Stored<T>>()).value) }
}

/// The value in an initialized storage (refused while a call on it is running).
pub(crate) unsafe fn stored<'a, S, T: Tagged>(
    storage: *const S,
    what: &'static str,
) -> Result<&'a T, Failure> {
    const { fits::<S, T>() };
    checked(storage, what)?;
    let s = storage.cast::<Stored<T>>();
    // SAFETY: the storage is aligned and large enough; a storage that `store` initialized
    // holds its marks, then a valid `T`.
    unsafe {
        if !intact::<S, T>(storage) {
            return Err(Failure::uninitialized(what));
        }
        if core::ptr::read_volatile(&raw const (*s).busy) != 0 {
            return Err(busy(what));
        }
        Ok(&(*s).value)
    }
}

/// The value in an initialized storage, mutably.
pub(crate) unsafe fn stored_mut<'a, S, T: Tagged>(
    storage: *mut S,
    what: &'static str,
) -> Result<&'a mut T, Failure> {
    // SAFETY: as for `stored`; the caller does not alias the storage during the call.
    unsafe {
        stored::<S, T>(storage, what)?;
        Ok(&mut (*storage.cast::<Stored<T>>()).value)
    }
}

#[inline(never)]
fn busy(what: &'static str) -> Failure {
    Failure::text(
        konaplate_result::Busy,
        [
            "`",
            what,
            "` is in use by a running call (a key callback may not call back into the library on it)",
        ],
    )
}

/// Marks an initialized storage busy while a call that runs the caller's callbacks uses it;
/// unmarks on drop.
pub(crate) struct BusyGuard(*mut u64);

impl BusyGuard {
    /// # Safety
    /// `storage` was checked by [`stored`] or [`stored_mut`] for `T`.
    pub(crate) unsafe fn enter<S, T: Tagged>(storage: *const S) -> Self {
        // SAFETY: the busy word of an intact storage, outside the value.
        let p = unsafe { &raw mut (*storage.cast::<Stored<T>>().cast_mut()).busy };
        // SAFETY: as above.
        unsafe { core::ptr::write_volatile(p, 1) };
        Self(p)
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        // SAFETY: the busy word taken in `enter`, of a storage that outlives the call.
        unsafe { core::ptr::write_volatile(self.0, 0) };
    }
}

/// Drops the value in a storage (running its zeroizing destructor) and zeroes every byte; a
/// storage in use by a running call is left alone (`Busy`).
pub(crate) unsafe fn wipe_stored<S, T: Tagged>(storage: *mut S) -> konaplate_result {
    const { fits::<S, T>() };
    if storage.is_null() {
        return konaplate_result::Ok;
    }
    if !is_aligned(storage) {
        return konaplate_result::InvalidArgument;
    }
    let s = storage.cast::<Stored<T>>();
    // SAFETY: only an intact storage's value is dropped, once; then every byte is cleared.
    unsafe {
        if intact::<S, T>(storage) {
            if core::ptr::read_volatile(&raw const (*s).busy) != 0 {
                return konaplate_result::Busy;
            }
            core::ptr::drop_in_place(&raw mut (*s).value);
        }
        konaplate_wipe(storage.cast(), core::mem::size_of::<S>());
    }
    konaplate_result::Ok
}
