//! Header values: ASP ID, encryption key ID, time zone, Correlation-Id, Tran-Time, and the
//! target (`Host`, base path).

use core::fmt;

use super::time::{DateTime14, Timestamp};
use super::{AsciiBuf, Charset, FieldError, check, to_array};
use crate::base::ascii::{ascii_str, hex_lower};

fixed_field!(
    /// ASP (service-provider) ID header `X-KM-User-AspId`: exactly 15 ASCII digits.
    AspId, "X-KM-User-AspId", 15, Charset::Digits, "exactly 15 ASCII digits"
);

fixed_field!(
    /// Encryption key ID header `X-KM-Crypto-Key-Id`: exactly 32 ASCII hex digits.
    CryptoKeyId, "X-KM-Crypto-Key-Id", 32, Charset::Hex, "exactly 32 ASCII hex digits"
);

fixed_field!(
    /// Time-zone header `X-KM-Time-Zone`: exactly 3 ASCII upper-case letters (`KST`, `UTC`).
    TimeZone, "X-KM-Time-Zone", 3, Charset::Upper, "exactly 3 ASCII upper-case letters"
);
impl TimeZone {
    /// Korea Standard Time, the platform's own zone and the default.
    pub const KST: TimeZone = TimeZone(*b"KST");
    /// Coordinated Universal Time.
    pub const UTC: TimeZone = TimeZone(*b"UTC");
}

fixed_field!(
    /// Tracking number header `X-KM-Correlation-Id`: `yyMMddHHmmss-xxxxxxx`, a 12-digit
    /// timestamp, `-`, 7 hex characters; exactly 20 characters (D4). Build one with
    /// [`CorrelationId::generate`] from a [`Timestamp`] and 28 random bits.
    CorrelationId, "X-KM-Correlation-Id", 20, Charset::AlnumDash,
    "yyMMddHHmmss-xxxxxxx: 12-digit time, '-', 7 hex digits (20 characters)", check = Self::extra_check
);
impl CorrelationId {
    fn extra_check(s: &[u8]) -> Result<(), FieldError> {
        let err = FieldError::new(Self::API_NAME, Self::LIMIT);
        let (time, rest) = s.split_at_checked(12).ok_or(err)?;
        let (dash, hex) = rest.split_first().ok_or(err)?;
        if *dash != b'-' || hex.len() != 7 || !Charset::Hex.all(hex) {
            return Err(err);
        }
        // yyMMddHHmmss: validate as a calendar time in 2000..=2099
        let mut full = [b'2', b'0', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        full.get_mut(2..).ok_or(err)?.copy_from_slice(time);
        DateTime14::from_bytes(&full).map(|_| ()).map_err(|_| err)
    }

    /// `yyMMddHHmmss` of `time` + `-` + the low 28 bits of `random` as 7 lower-case hex digits.
    pub fn generate(time: &Timestamp, random: u32) -> Self {
        let mut b = [0u8; 20];
        let mut d = [0u8; 17];
        time.write_17(&mut d);
        for (dst, src) in b.iter_mut().zip(d.iter().skip(2).take(12)) {
            *dst = *src;
        }
        if let Some(dash) = b.get_mut(12) {
            *dash = b'-';
        }
        for (i, dst) in b.iter_mut().skip(13).enumerate() {
            let shift = 4 * (6 - i as u32);
            *dst = hex_lower((random >> shift) as u8);
        }
        Self(b)
    }
}

fixed_field!(
    /// Client request time header `X-KM-Tran-Time`: 14 digits `yyyyMMddHHmmss` (D2: the pages
    /// that print 16 give the length of the pattern text, not of the value).
    TranTime, "X-KM-Tran-Time", 14, Charset::Digits, "14 digits yyyyMMddHHmmss", check = Self::extra_check
);
impl TranTime {
    fn extra_check(s: &[u8]) -> Result<(), FieldError> {
        DateTime14::from_bytes(s)
            .map(|_| ())
            .map_err(|_| FieldError::new(Self::API_NAME, Self::LIMIT))
    }
}

var_field!(
    /// The `Host` header: 1..=255 characters of a DNS name or IP literal with optional port
    /// (letters, digits, `.`, `-`, `:`, `[`, `]`).
    Host, "Host", 1, 255, Charset::Graphic, "1 to 255 characters of a host name with optional :port"
);

impl Host {
    /// Like [`Host::new`] but also restricted to host-name characters.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let ok = s
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
        if ok {
            Self::new(s)
        } else {
            Err(FieldError::new(Self::API_NAME, Self::LIMIT))
        }
    }
}

var_field!(
    /// The path prefix before every endpoint path, `/open-api` by default (§1).
    BasePath, "basePath", 1, 64, Charset::Graphic, "1 to 64 characters starting with '/'"
);

impl BasePath {
    /// `/open-api`, the platform's prefix.
    pub fn open_api() -> Self {
        Self(AsciiBuf::from_checked(b"/open-api").unwrap_or(AsciiBuf {
            buf: [b'/'; 64],
            len: 1,
        }))
    }
    /// Like [`BasePath::new`] but also requires a leading `/` and no trailing `/` (unless the
    /// path is just `/`, which means "no prefix").
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let b = s.as_bytes();
        let ok = b.first() == Some(&b'/')
            && (b.len() == 1 || b.last() != Some(&b'/'))
            && b.iter()
                .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'/' | b'-' | b'_' | b'.'));
        if ok {
            Self::new(s)
        } else {
            Err(FieldError::new(Self::API_NAME, Self::LIMIT))
        }
    }
    /// The prefix to prepend (empty for `/`).
    pub fn prefix(&self) -> &str {
        let s = self.as_str();
        if s == "/" { "" } else { s }
    }
    /// [`BasePath::prefix`] as bytes (no UTF-8 re-validation).
    #[inline]
    pub fn prefix_bytes(&self) -> &[u8] {
        let b = self.as_bytes();
        if b == b"/" { &[] } else { b }
    }
}

impl Timestamp {
    /// The `X-KM-Tran-Time` value: the first 14 digits of [`Self::write_17`].
    pub fn tran_time(&self) -> TranTime {
        let mut d = [0u8; 17];
        self.write_17(&mut d);
        let mut t = [0u8; 14];
        for (dst, src) in t.iter_mut().zip(d.iter()) {
            *dst = *src;
        }
        TranTime(t)
    }
}
