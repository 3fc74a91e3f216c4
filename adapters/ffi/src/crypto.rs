//! JWE through two C callbacks: the key wrap (to the platform's public key) and the key
//! unwrap (with the client's private key), so that a secure element or OpenSSL can do RSA.

use core::ffi::{c_int, c_void};

use konaplate_core::jwe::{Crypto, KeyUnwrap, KeyWrap, KeyWrapError, SealKeys};

use crate::c::{Failure, non_null};

/// Wraps `cek` (16 bytes) with RSA-OAEP-256 to the platform's public key, writing at most
/// `out_cap` bytes to `out` and their number to `*out_len`. Returns 0 on success, anything
/// else on failure (the request is then not sent).
pub type konaplate_wrap_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        cek: *const u8,
        cek_len: usize,
        out: *mut u8,
        out_cap: usize,
        out_len: *mut usize,
    ) -> c_int,
>;

/// Unwraps `wrapped` (the JWE's encrypted key) with RSA-OAEP-256 and the client's private
/// key, writing the content key (16 or 32 bytes) to `out` (at most `out_cap`) and its length
/// to `*out_len`. Returns 0 on success, anything else on failure.
pub type konaplate_unwrap_fn = Option<
    unsafe extern "C" fn(
        userdata: *mut c_void,
        wrapped: *const u8,
        wrapped_len: usize,
        out: *mut u8,
        out_cap: usize,
        out_len: *mut usize,
    ) -> c_int,
>;

/// The keys of one exchange. `wrap` seals Encrypted requests, `unwrap` opens encrypted
/// answers; either may be NULL when not needed. `cek` and `iv` must be fresh random bytes for
/// every request that is sealed (never reuse them); wipe them afterwards with
/// `konaplate_wipe`. The callbacks get `userdata` back unchanged.
///
/// What a callback may not do: call back into the library on the session, call or flow of
/// the call that is running it (detected where the library can: `KONAPLATE_RESULT_BUSY`, and
/// nothing is done), or read or write the call's buffer (it holds the request being sealed or
/// the answer being opened). It may use other objects, and must not keep the pointers it is
/// given. Like every object, a `konaplate_crypto` must be aligned as its type
/// (`KONAPLATE_RESULT_INVALID_ARGUMENT` otherwise).
#[repr(C)]
pub struct konaplate_crypto {
    /// Key wrap callback, or NULL.
    pub wrap: konaplate_wrap_fn,
    /// Key unwrap callback, or NULL.
    pub unwrap: konaplate_unwrap_fn,
    /// Passed to both callbacks.
    pub userdata: *mut c_void,
    /// This request's content-encryption key (fresh random bytes).
    pub cek: [u8; 16],
    /// This request's IV (fresh random bytes).
    pub iv: [u8; 12],
}

struct Wrap(konaplate_wrap_fn, *mut c_void);
struct Unwrap(konaplate_unwrap_fn, *mut c_void);

fn call(
    f: Option<
        unsafe extern "C" fn(*mut c_void, *const u8, usize, *mut u8, usize, *mut usize) -> c_int,
    >,
    userdata: *mut c_void,
    input: &[u8],
    out: &mut [u8],
) -> Result<usize, KeyWrapError> {
    let f = f.ok_or(KeyWrapError)?;
    let mut n = 0usize;
    // SAFETY: the callback gets valid pointers and lengths for `input` and `out` and a valid
    // `out_len`; a C callback that writes past `out_cap` breaks its own contract.
    let rc = unsafe {
        f(
            userdata,
            input.as_ptr(),
            input.len(),
            out.as_mut_ptr(),
            out.len(),
            &mut n,
        )
    };
    if rc != 0 || n > out.len() {
        return Err(KeyWrapError);
    }
    Ok(n)
}

impl KeyWrap for Wrap {
    fn wrap_key(&mut self, cek: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        call(self.0, self.1, cek, out)
    }
}

impl KeyUnwrap for Unwrap {
    fn unwrap_key(&mut self, wrapped: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        call(self.0, self.1, wrapped, out)
    }
}

/// A `konaplate_crypto` (or NULL: no encryption) as the core's [`Crypto`].
pub(crate) struct CCrypto<'a> {
    keys: Option<&'a konaplate_crypto>,
    wrap: Wrap,
    unwrap: Unwrap,
}

impl<'a> CCrypto<'a> {
    /// NULL is "no keys"; a misaligned pointer is refused, never read.
    ///
    /// # Safety
    /// `p` is NULL or points to a valid `konaplate_crypto` for `'a`.
    pub(crate) unsafe fn new(p: *const konaplate_crypto) -> Result<Self, Failure> {
        let keys = if p.is_null() {
            None
        } else {
            // SAFETY: forwarded contract (alignment checked there).
            Some(unsafe { non_null(p, "crypto") }?)
        };
        let (w, u, ud) = keys.map_or((None, None, core::ptr::null_mut()), |k| {
            (k.wrap, k.unwrap, k.userdata)
        });
        Ok(Self {
            keys,
            wrap: Wrap(w, ud),
            unwrap: Unwrap(u, ud),
        })
    }
}

impl Crypto for CCrypto<'_> {
    fn seal(&mut self) -> Option<SealKeys<'_>> {
        let keys = self.keys?;
        self.wrap.0?;
        Some(SealKeys {
            wrap: &mut self.wrap,
            cek: &keys.cek,
            iv: &keys.iv,
        })
    }
    fn unwrap(&mut self) -> Option<&mut dyn KeyUnwrap> {
        self.unwrap.0?;
        Some(&mut self.unwrap)
    }
}
