//! What every entry point shares: the result codes, the error details, reading C text and
//! writing NUL-terminated text, and objects kept in caller-provided storage.

use core::ffi::c_char;
use core::fmt::{self, Write};

use konaplate_core::error::{DecodeError, EncodeError};
use konaplate_core::field::FieldError;
use konaplate_core::http::HttpError;
use konaplate_core::jwe::JweError;
use zeroize::Zeroize;

/// What a call did. `KONAPLATE_RESULT_OK` is 0; every other value is an error except
/// `KONAPLATE_RESULT_INCOMPLETE`, which asks for more bytes.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum konaplate_result {
    /// Success.
    Ok = 0,
    /// Not an error: the response is not complete yet; read more bytes and call again.
    Incomplete = 1,
    /// A required pointer was NULL.
    NullPointer = 2,
    /// A field is outside its documented limit (the error names the field and the limit);
    /// nothing was sent.
    InvalidField = 3,
    /// The output buffer is too small (the error's message says how many bytes are needed).
    BufferTooSmall = 4,
    /// The object's storage was not initialized by its `_init` call (or was wiped).
    NotInitialized = 5,
    /// The endpoint's request is Encrypted and no `konaplate_crypto` was given.
    EncryptionRequired = 6,
    /// The endpoint's request is Encrypted and the session has no crypto key id.
    MissingCryptoKeyId = 7,
    /// The wrap or unwrap callback failed.
    KeyWrapFailed = 8,
    /// The HTTP response is malformed (framing, head, chunks).
    Http = 9,
    /// The body is not a valid answer of this endpoint (JSON, envelope, a field).
    Decode = 10,
    /// The answer is encrypted (`encData`) and no unwrap callback was given.
    EncryptedNoKey = 11,
    /// The JWE is malformed, or its authentication failed.
    Jwe = 12,
    /// A journal record is damaged or of an unknown version.
    Record = 13,
    /// A value the C caller passed is out of range (an enum value, a length).
    InvalidArgument = 14,
}

/// Details of the last failure of one call: the result again, the API name of the failing
/// field (empty when no field is at fault), its documented limit, and a message. All text is
/// NUL-terminated. Pass NULL when you do not want them.
#[repr(C)]
pub struct konaplate_error {
    /// The same value the call returned.
    pub result: konaplate_result,
    /// The API (JSON or header) name of the failing field, e.g. `dcvv`.
    pub field: [c_char; 48],
    /// The field's documented limit, e.g. `exactly 3 ASCII digits`.
    pub limit: [c_char; 96],
    /// A sentence for a log.
    pub message: [c_char; 160],
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

/// A failure on its way to C.
pub(crate) struct Failure {
    pub(crate) result: konaplate_result,
    pub(crate) field: &'static str,
    pub(crate) limit: &'static str,
    pub(crate) message: Message,
}

/// A short message built without allocation.
pub(crate) struct Message {
    buf: [u8; 159],
    len: usize,
}

impl Message {
    pub(crate) fn new() -> Self {
        Self {
            buf: [0; 159],
            len: 0,
        }
    }
    pub(crate) fn of(args: fmt::Arguments<'_>) -> Self {
        let mut m = Self::new();
        let _ = m.write_fmt(args);
        m
    }
}

impl Write for Message {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if let Some(slot) = self.buf.get_mut(self.len) {
                *slot = b;
                self.len = self.len.saturating_add(1);
            }
        }
        Ok(())
    }
}

impl Failure {
    pub(crate) fn new(result: konaplate_result, args: fmt::Arguments<'_>) -> Self {
        Self {
            result,
            field: "",
            limit: "",
            message: Message::of(args),
        }
    }
    pub(crate) fn null(what: &'static str) -> Self {
        Self::new(
            konaplate_result::NullPointer,
            format_args!("`{what}` is NULL"),
        )
    }
    pub(crate) fn field(e: FieldError) -> Self {
        Self {
            result: konaplate_result::InvalidField,
            field: e.field(),
            limit: e.limit(),
            message: Message::of(format_args!("{e}")),
        }
    }
    pub(crate) fn uninitialized(what: &'static str) -> Self {
        Self::new(
            konaplate_result::NotInitialized,
            format_args!("`{what}` was not initialized by its _init call"),
        )
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
        Failure::new(result, format_args!("{e}"))
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
        Failure::new(result, format_args!("{e}"))
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
        Failure::new(result, format_args!("{e}"))
    }
}

/// Reports `r` through `err` (when not NULL) and returns its code.
pub(crate) fn finish(r: Result<(), Failure>, err: *mut konaplate_error) -> konaplate_result {
    match r {
        Ok(()) => konaplate_result::Ok,
        Err(f) => {
            if !err.is_null() {
                // SAFETY: a non-NULL `err` points to a writable `konaplate_error`.
                let e = unsafe { &mut *err };
                e.result = f.result;
                put_text(&mut e.field, f.field.as_bytes());
                put_text(&mut e.limit, f.limit.as_bytes());
                put_text(
                    &mut e.message,
                    f.message.buf.get(..f.message.len).unwrap_or(&[]),
                );
            }
            f.result
        }
    }
}

/// Copies `text` into a fixed C array, truncated to fit, always NUL-terminated.
pub(crate) fn put_text(out: &mut [c_char], text: &[u8]) {
    let n = text.len().min(out.len().saturating_sub(1));
    for (o, &b) in out.iter_mut().zip(text.iter().take(n)) {
        *o = b as c_char;
    }
    if let Some(end) = out.get_mut(n) {
        *end = 0;
    }
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

/// A reference to a caller's object, or the NULL failure.
pub(crate) unsafe fn non_null<'a, T>(p: *const T, what: &'static str) -> Result<&'a T, Failure> {
    // SAFETY: a non-NULL pointer from C points to a valid, aligned `T` (the header's contract).
    unsafe { p.as_ref() }.ok_or(Failure::null(what))
}

/// A mutable reference to a caller's object, or the NULL failure.
pub(crate) unsafe fn non_null_mut<'a, T>(
    p: *mut T,
    what: &'static str,
) -> Result<&'a mut T, Failure> {
    // SAFETY: as for `non_null`, and the object is not aliased during the call.
    unsafe { p.as_mut() }.ok_or(Failure::null(what))
}

/// A Rust value kept in a caller's storage `S` (an array of `uint64_t`), tagged so that use
/// before `_init` is reported instead of read.
#[repr(C)]
pub(crate) struct Stored<T> {
    tag: u64,
    pub(crate) value: T,
}

/// The tag a storage holds while it holds a `T` (any non-zero constant per type).
pub(crate) trait Tagged {
    const TAG: u64;
}

/// Moves `value` into the storage at `storage` (dropping nothing that was there).
pub(crate) unsafe fn store<S, T: Tagged>(
    storage: *mut S,
    what: &'static str,
    value: T,
) -> Result<(), Failure> {
    const {
        assert!(core::mem::size_of::<Stored<T>>() <= core::mem::size_of::<S>());
        assert!(core::mem::align_of::<Stored<T>>() <= core::mem::align_of::<S>());
    }
    if storage.is_null() {
        return Err(Failure::null(what));
    }
    // SAFETY: the storage is large and aligned enough (checked above at compile time) and
    // writable; `write` does not read or drop what was there.
    unsafe {
        storage
            .cast::<Stored<T>>()
            .write(Stored { tag: T::TAG, value })
    };
    Ok(())
}

/// The value in an initialized storage.
pub(crate) unsafe fn stored<'a, S, T: Tagged>(
    storage: *const S,
    what: &'static str,
) -> Result<&'a T, Failure> {
    if storage.is_null() {
        return Err(Failure::null(what));
    }
    let s = storage.cast::<Stored<T>>();
    // SAFETY: the storage is at least a `u64` and aligned for it; a storage that `store`
    // initialized holds the tag, then a valid `T`.
    unsafe {
        if core::ptr::read_volatile(&raw const (*s).tag) != T::TAG {
            return Err(Failure::uninitialized(what));
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

/// Drops the value in a storage (running its zeroizing destructor) and zeroes every byte.
pub(crate) unsafe fn wipe_stored<S, T: Tagged>(storage: *mut S) {
    if storage.is_null() {
        return;
    }
    let s = storage.cast::<Stored<T>>();
    // SAFETY: only an initialized storage holds the tag; its value is dropped once, then the
    // tag is cleared with every other byte.
    unsafe {
        if core::ptr::read_volatile(&raw const (*s).tag) == T::TAG {
            core::ptr::drop_in_place(&raw mut (*s).value);
        }
        konaplate_wipe(storage.cast(), core::mem::size_of::<S>());
    }
}
