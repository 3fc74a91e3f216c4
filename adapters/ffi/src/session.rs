//! The session (credentials and target) in caller storage, and the per-request stamp.

use core::ffi::c_char;

use konaplate_core::field::{AccessKey, AspId, CryptoKeyId, Host, SecretKey, TimeZone, Timestamp};
use konaplate_core::request::{Credentials, Session, Stamp, Target};

use crate::c::{
    Failure, Tagged, array_text, finish, konaplate_error, konaplate_result, non_null, ptr_text,
    store, stored, wipe_stored,
};

/// 64-bit words of storage for a `konaplate_session`.
pub const KONAPLATE_SESSION_WORDS: usize = 96;

/// Storage for a session: the project's credentials (the secret key only as a derived HMAC
/// state) and the platform's host. Initialize with `konaplate_session_init`; wipe with
/// `konaplate_session_wipe` when done (it holds key material). Do not copy it.
#[repr(C)]
pub struct konaplate_session {
    /// Opaque.
    pub _opaque: [u64; KONAPLATE_SESSION_WORDS],
}

impl Tagged for Session {
    const NAME: &'static [u8] = b"konaplate_session";
}

/// Validates the credentials and the host and stores them in `session`. Every argument is a
/// NUL-terminated string; `crypto_key_id` may be NULL when no request is Encrypted. On error
/// `err` names the field (`X-KM-User-AspId`, `X-KM-Access-Key`, `secretKey`,
/// `X-KM-Crypto-Key-Id`, `Host`) and its limit, and `session` is left as it was (a session
/// it held stays valid; a storage in use by a running call is refused, `BUSY`). The
/// storage must be aligned as the header says (`KONAPLATE_RESULT_INVALID_ARGUMENT` otherwise).
/// The secret is kept only as its HMAC state; what the computation left on the stack is the
/// stack's (see `konaplate_scrub_stack`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_session_init(
    session: *mut konaplate_session,
    asp_id: *const c_char,
    access_key: *const c_char,
    secret_key: *const c_char,
    crypto_key_id: *const c_char,
    host: *const c_char,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        // SAFETY: each pointer is NULL or a NUL-terminated string (the header's contract).
        let asp = AspId::new(unsafe { ptr_text(asp_id, "X-KM-User-AspId", 64) }?)?;
        let access = AccessKey::new(unsafe { ptr_text(access_key, "X-KM-Access-Key", 64) }?)?;
        let secret = SecretKey::new(unsafe { ptr_text(secret_key, "secretKey", 512) }?)?;
        let kid = if crypto_key_id.is_null() {
            None
        } else {
            Some(CryptoKeyId::new(unsafe {
                ptr_text(crypto_key_id, "X-KM-Crypto-Key-Id", 64)
            }?)?)
        };
        let host = Host::parse(unsafe { ptr_text(host, "Host", 256) }?)?;
        let s = Session::new(
            Credentials::new(asp, access, &secret, kid),
            Target::new(host),
        );
        // SAFETY: `session` is NULL (reported) or writable storage of the header's size.
        unsafe { store(session, "session", s) }
    })();
    finish(r, err)
}

/// Drops the session's key material and zeroes its storage. NULL is ignored; a session in use
/// by a running call (a key callback calling back) is left alone (`KONAPLATE_RESULT_BUSY`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_session_wipe(
    session: *mut konaplate_session,
) -> konaplate_result {
    // SAFETY: `session` is NULL or storage initialized by `konaplate_session_init` (or any
    // bytes, which are only zeroed).
    unsafe { wipe_stored::<konaplate_session, Session>(session) }
}

pub(crate) unsafe fn session<'a>(p: *const konaplate_session) -> Result<&'a Session, Failure> {
    // SAFETY: forwarded contract.
    unsafe { stored::<konaplate_session, Session>(p, "session") }
}

/// What makes one request unique: its wall-clock instant in `time_zone`, and 28 random bits
/// for the Correlation-Id. The library has no clock and no random source: supply both.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct konaplate_stamp {
    /// Year, 2000..=9999.
    pub year: u16,
    /// Month, 1..=12.
    pub month: u8,
    /// Day of month.
    pub day: u8,
    /// Hour, 0..=23.
    pub hour: u8,
    /// Minute.
    pub minute: u8,
    /// Second.
    pub second: u8,
    /// Millisecond, 0..=999.
    pub millisecond: u16,
    /// `X-KM-Time-Zone`: three upper-case letters and a NUL, e.g. `"KST"`.
    pub time_zone: [c_char; crate::limits::KONAPLATE_TIME_ZONE_SIZE],
    /// Fresh random bits (the low 28 are used).
    pub random: u32,
}

pub(crate) unsafe fn stamp(p: *const konaplate_stamp) -> Result<Stamp, Failure> {
    // SAFETY: forwarded contract.
    let s = unsafe { non_null(p, "stamp") }?;
    let time = Timestamp::new(
        s.year,
        s.month,
        s.day,
        s.hour,
        s.minute,
        s.second,
        s.millisecond,
    )?;
    let tz = TimeZone::new(array_text(&s.time_zone, TimeZone::API_NAME)?)?;
    Ok(Stamp::new(time, tz, s.random))
}
