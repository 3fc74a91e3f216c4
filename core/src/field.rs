//! Validated field types: every documented limit is checked exactly once, here.
//!
//! A value that passed its constructor is valid forever (fields are private). Each
//! type knows the API name it travels under ([`Dcvv::API_NAME`] = `"dcvv"`) and the
//! limit it enforces ([`Dcvv::LIMIT`] = `"exactly 3 ASCII digits"`); a rejection is a
//! [`FieldError`] carrying both.
//!
//! # Which characters each string field admits
//!
//! The documents give lengths but rarely character sets. We admit the narrowest set
//! that covers every documented and observed value ([`crate::facts`] §9) and
//! reject everything else, so that nothing we send can be mis-framed and nothing we
//! receive surprises the caller:
//!
//! | type | API name | length | characters |
//! |---|---|---|---|
//! | [`UserId`] | `userId` | number 1..=9999999999999999999 | JSON number (`u64`) |
//! | [`SequenceId`] | `sequenceId` | 1..=30 | ASCII letters, digits, `-`, `_` |
//! | [`NrNumber`] | `nrNumber` | 1..=50 | ASCII letters and digits |
//! | [`RefundNrNumber`] | `nrNumber` (refund response) | exactly 18 | ASCII letters and digits |
//! | [`OneTimeToken`] | `oneTimeToken` | exactly 16 | ASCII digits (secret) |
//! | [`Dcvv`] | `dcvv` | exactly 3 | ASCII digits (secret) |
//! | [`CardNo`] | `cardNo` | exactly 16 | ASCII digits (secret) |
//! | [`Par`] | `par` | exactly 27 | ASCII upper-case letters and digits |
//! | [`CardExpiry`] | `cardExpiry` | exactly 4, `YYMM` | digits, month 01..=12 |
//! | [`ChargeAmount`] | `amount` | number 1..=9999999999 | JSON number (`u64`) |
//! | [`MerchantId`] | `merchantId` | exactly 15 | ASCII digits |
//! | [`CorrelationId`] | `X-KM-Correlation-Id` | exactly 20 | `yyMMddHHmmss` + `-` + 7 hex |
//! | [`TranTime`] | `X-KM-Tran-Time` | exactly 14 | `yyyyMMddHHmmss` digits |
//! | [`TimeZone`] | `X-KM-Time-Zone` | exactly 3 | ASCII upper-case letters |
//! | [`AspId`] | `X-KM-User-AspId` | exactly 15 | ASCII digits |
//! | [`AccessKey`] | `X-KM-Access-Key` | exactly 40 | ASCII letters, digits, `-` |
//! | [`CryptoKeyId`] | `X-KM-Crypto-Key-Id` | exactly 32 | ASCII hex digits |
//! | [`SecretKey`] | (HMAC key) | 1..=128 | printable ASCII without space (secret) |
//! | [`DateTime14`] | `registeredDate` | exactly 14 | `yyyyMMddHHmmss`, a real calendar time |
//!
//! Readings of the documents' disagreements ([`crate::facts`] §10):
//! * D5 — `userId` is a `u64` in 1..=9999999999999999999 on every endpoint (the
//!   "Max 19" of the auto-recharge page is a digit count).
//! * D7 — `sequenceId` is 1..=30 characters everywhere, including Cancel (whose page prints
//!   "Length : 30").
//! * D8 — `nrNumber` is 1..=50 in requests and the charge response; the refund response's is
//!   exactly 18 ([`RefundNrNumber`]).
//! * D4 — the Correlation-Id is exactly 20 characters; we emit lower-case hex and accept either
//!   case when reading.
//! * D11 — the token `type` is one of the documented `ATM` / `CREDIT` ([`TokenType`]).
//! * `merchantId`'s length is cut off on the Charge page; every other page and all test
//!   merchants give 15 digits, which we require.

use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

/// A value rejected by a field constructor or by a decoder: names the API field and the
/// documented limit. It never contains the offending value (which may be a secret).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct FieldError {
    field: &'static str,
    limit: &'static str,
}

impl FieldError {
    /// An error for `field` (its API name) violating `limit` (the documented rule).
    pub const fn new(field: &'static str, limit: &'static str) -> Self {
        Self { field, limit }
    }
    /// The API name of the field, e.g. `"dcvv"` or `"X-KM-Correlation-Id"`.
    pub const fn field(&self) -> &'static str {
        self.field
    }
    /// The limit that was violated, e.g. `"exactly 3 ASCII digits"`.
    pub const fn limit(&self) -> &'static str {
        self.limit
    }
    /// The same limit reported under another field name (a type reused for several fields).
    pub const fn for_field(self, field: &'static str) -> Self {
        Self {
            field,
            limit: self.limit,
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid `{}`: must be {}", self.field, self.limit)
    }
}

impl core::error::Error for FieldError {}

/// Character classes admitted by string fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Charset {
    Digits,
    Alnum,
    UpperAlnum,
    Upper,
    Hex,
    /// letters, digits, `-`, `_`
    Sequence,
    /// letters, digits, `-`
    AlnumDash,
    /// 0x21..=0x7E
    Graphic,
}

impl Charset {
    #[inline]
    pub(crate) const fn admits(self, b: u8) -> bool {
        match self {
            Charset::Digits => b.is_ascii_digit(),
            Charset::Alnum => b.is_ascii_alphanumeric(),
            Charset::UpperAlnum => b.is_ascii_uppercase() || b.is_ascii_digit(),
            Charset::Upper => b.is_ascii_uppercase(),
            Charset::Hex => b.is_ascii_hexdigit(),
            Charset::Sequence => b.is_ascii_alphanumeric() || b == b'-' || b == b'_',
            Charset::AlnumDash => b.is_ascii_alphanumeric() || b == b'-',
            Charset::Graphic => b.is_ascii_graphic(),
        }
    }

    #[inline]
    pub(crate) fn all(self, s: &[u8]) -> bool {
        s.iter().all(|&b| self.admits(b))
    }
}

/// Checks length bounds and charset; the shared rule behind every string field.
#[inline]
fn check(
    s: &[u8],
    min: usize,
    max: usize,
    cs: Charset,
    field: &'static str,
    limit: &'static str,
) -> Result<(), FieldError> {
    if s.len() < min || s.len() > max || !cs.all(s) {
        Err(FieldError::new(field, limit))
    } else {
        Ok(())
    }
}

/// Copies `s` into a fixed array when the lengths match.
#[inline]
fn to_array<const N: usize>(s: &[u8]) -> Option<[u8; N]> {
    s.try_into().ok()
}

/// ASCII bytes known valid by construction as `&str` (never fails; empty on impossible input).
#[inline]
pub(crate) fn ascii_str(b: &[u8]) -> &str {
    core::str::from_utf8(b).unwrap_or("")
}

/// Variable-length ASCII storage (at most 255 bytes), `Copy`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct AsciiBuf<const N: usize> {
    buf: [u8; N],
    len: u8,
}

impl<const N: usize> AsciiBuf<N> {
    #[inline]
    fn from_checked(s: &[u8]) -> Option<Self> {
        let mut buf = [0u8; N];
        buf.get_mut(..s.len())?.copy_from_slice(s);
        Some(Self {
            buf,
            len: u8::try_from(s.len()).ok()?,
        })
    }
    #[inline]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(..usize::from(self.len)).unwrap_or(&[])
    }
    #[inline]
    pub(crate) fn as_str(&self) -> &str {
        ascii_str(self.as_bytes())
    }
}

macro_rules! common_str_impls {
    ($name:ident) => {
        impl TryFrom<&str> for $name {
            type Error = FieldError;
            fn try_from(s: &str) -> Result<Self, FieldError> {
                Self::new(s)
            }
        }
        impl core::str::FromStr for $name {
            type Err = FieldError;
            fn from_str(s: &str) -> Result<Self, FieldError> {
                Self::new(s)
            }
        }
    };
}

/// A public (non-secret) fixed-length ASCII field.
macro_rules! fixed_field {
    ($(#[$m:meta])* $name:ident, $api:literal, $len:literal, $cs:expr, $limit:literal $(, check = $chk:path)?) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; $len]);

        impl $name {
            /// The API (JSON or header) name of this field.
            pub const API_NAME: &'static str = $api;
            /// The documented limit this type enforces.
            pub const LIMIT: &'static str = $limit;
            /// Length in bytes (always exactly this).
            pub const LEN: usize = $len;

            /// Validates `s` against [`Self::LIMIT`].
            pub fn new(s: &str) -> Result<Self, FieldError> {
                Self::from_bytes(s.as_bytes())
            }
            /// Validates raw bytes against [`Self::LIMIT`].
            pub fn from_bytes(s: &[u8]) -> Result<Self, FieldError> {
                check(s, $len, $len, $cs, $api, $limit)?;
                $( $chk(s)?; )?
                to_array(s).map(Self).ok_or(FieldError::new($api, $limit))
            }
            /// The value.
            pub fn as_str(&self) -> &str {
                ascii_str(&self.0)
            }
            /// The value's bytes (ASCII; no validation on access).
            #[inline]
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.as_str())
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        #[cfg(feature = "defmt")]
        impl defmt::Format for $name {
            fn format(&self, f: defmt::Formatter<'_>) {
                defmt::write!(f, "{}", self.as_str())
            }
        }
        common_str_impls!($name);
    };
}

/// A secret fixed-length ASCII field: redacted in Debug/defmt, no Display, zeroized on drop.
macro_rules! secret_field {
    ($(#[$m:meta])* $name:ident, $api:literal, $len:literal, $cs:expr, $limit:literal) => {
        $(#[$m])*
        ///
        /// Secret: `Debug` and `defmt` print `<redacted>`, there is no `Display`, and the
        /// bytes are zeroized when the value is dropped. Use [`Self::expose`] deliberately.
        #[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
        pub struct $name([u8; $len]);

        impl $name {
            /// The API (JSON) name of this field.
            pub const API_NAME: &'static str = $api;
            /// The documented limit this type enforces.
            pub const LIMIT: &'static str = $limit;
            /// Length in bytes (always exactly this).
            pub const LEN: usize = $len;

            /// Validates `s` against [`Self::LIMIT`].
            pub fn new(s: &str) -> Result<Self, FieldError> {
                Self::from_bytes(s.as_bytes())
            }
            /// Validates raw bytes against [`Self::LIMIT`].
            pub fn from_bytes(s: &[u8]) -> Result<Self, FieldError> {
                check(s, $len, $len, $cs, $api, $limit)?;
                to_array(s).map(Self).ok_or(FieldError::new($api, $limit))
            }
            /// The secret value. Every use is a place where the secret leaves this type.
            pub fn expose(&self) -> &str {
                ascii_str(&self.0)
            }
            /// The secret value's bytes (ASCII digits).
            #[inline]
            pub fn expose_bytes(&self) -> &[u8] {
                &self.0
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
        #[cfg(feature = "defmt")]
        impl defmt::Format for $name {
            fn format(&self, f: defmt::Formatter<'_>) {
                defmt::write!(f, "{}(<redacted>)", stringify!($name))
            }
        }
        common_str_impls!($name);
    };
}

/// A public variable-length ASCII field of `min..=max` bytes.
macro_rules! var_field {
    ($(#[$m:meta])* $name:ident, $api:literal, $min:literal, $max:literal, $cs:expr, $limit:literal) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(AsciiBuf<$max>);

        impl $name {
            /// The API (JSON) name of this field.
            pub const API_NAME: &'static str = $api;
            /// The documented limit this type enforces.
            pub const LIMIT: &'static str = $limit;
            /// Longest admitted value in bytes.
            pub const MAX_LEN: usize = $max;

            /// Validates `s` against [`Self::LIMIT`].
            pub fn new(s: &str) -> Result<Self, FieldError> {
                Self::from_bytes(s.as_bytes())
            }
            /// Validates raw bytes against [`Self::LIMIT`].
            pub fn from_bytes(s: &[u8]) -> Result<Self, FieldError> {
                check(s, $min, $max, $cs, $api, $limit)?;
                AsciiBuf::from_checked(s).map(Self).ok_or(FieldError::new($api, $limit))
            }
            /// The value.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
            /// The value's bytes (ASCII; no validation on access).
            #[inline]
            pub fn as_bytes(&self) -> &[u8] {
                self.0.as_bytes()
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.as_str())
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        #[cfg(feature = "defmt")]
        impl defmt::Format for $name {
            fn format(&self, f: defmt::Formatter<'_>) {
                defmt::write!(f, "{}", self.as_str())
            }
        }
        common_str_impls!($name);
    };
}

/// A bounded unsigned number field.
macro_rules! number_field {
    ($(#[$m:meta])* $name:ident, $api:literal, $min:expr, $max:expr, $limit:literal) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub struct $name(u64);

        impl $name {
            /// The API (JSON) name of this field.
            pub const API_NAME: &'static str = $api;
            /// The documented limit this type enforces.
            pub const LIMIT: &'static str = $limit;
            /// Smallest admitted value.
            pub const MIN: u64 = $min;
            /// Largest admitted value.
            pub const MAX: u64 = $max;

            /// Validates `v` against [`Self::LIMIT`].
            pub const fn new(v: u64) -> Result<Self, FieldError> {
                if v < Self::MIN || v > Self::MAX {
                    Err(FieldError::new($api, $limit))
                } else {
                    Ok(Self(v))
                }
            }
            /// The value.
            pub const fn get(self) -> u64 {
                self.0
            }
            /// Parses decimal digits (as typed on a command line) and validates.
            pub fn parse(s: &str) -> Result<Self, FieldError> {
                parse_u64_digits(s.as_bytes())
                    .ok_or(FieldError::new($api, $limit))
                    .and_then(Self::new)
            }
        }
        impl TryFrom<u64> for $name {
            type Error = FieldError;
            fn try_from(v: u64) -> Result<Self, FieldError> {
                Self::new(v)
            }
        }
        impl core::str::FromStr for $name {
            type Err = FieldError;
            fn from_str(s: &str) -> Result<Self, FieldError> {
                Self::parse(s)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
        impl From<$name> for u64 {
            fn from(v: $name) -> u64 {
                v.0
            }
        }
    };
}

/// Parses 1..=20 ASCII digits into a `u64` (checked; no sign, no leading `+`).
pub(crate) fn parse_u64_digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(v)
}

number_field!(
    /// Member ID (`userId`), a JSON number 1..=9999999999999999999 (19 nines; fits `u64`,
    /// not `i64`). One bound for every endpoint (D5).
    UserId, "userId", 1, 9_999_999_999_999_999_999, "a number from 1 to 9999999999999999999"
);
number_field!(
    /// Amount to charge in KRW (`amount` of Charge, §6.2): 1..=9999999999.
    ChargeAmount, "amount", 1, 9_999_999_999, "a number from 1 to 9999999999"
);
number_field!(
    /// A KRW amount in the refund-fee response (§6.6): 0..=1000000000. Errors report the
    /// JSON key it was read from (`balance`, `refundFee`, ...).
    Won, "amount", 0, 1_000_000_000, "a number from 0 to 1000000000"
);

var_field!(
    /// Affiliate control number (`sequenceId`): 1..=30 ASCII letters, digits, `-`, `_`.
    /// Unique per money-moving request; the key of the result inquiry (§6.4). D7: the Cancel
    /// page prints "Length : 30", read as the maximum like every other page.
    SequenceId, "sequenceId", 1, 30, Charset::Sequence,
    "1 to 30 characters: ASCII letters, digits, '-' or '_'"
);
var_field!(
    /// Transaction number (`nrNumber`) from a charge: 1..=50 ASCII letters and digits (D8;
    /// observed values are `KMN` + 15 digits).
    NrNumber, "nrNumber", 1, 50, Charset::Alnum, "1 to 50 ASCII letters or digits"
);
fixed_field!(
    /// Transaction number returned by Refund (§6.7): exactly 18 ASCII letters and digits (D8).
    RefundNrNumber, "nrNumber", 18, Charset::Alnum, "exactly 18 ASCII letters or digits"
);

impl From<RefundNrNumber> for NrNumber {
    fn from(v: RefundNrNumber) -> Self {
        // 18 alphanumerics always satisfy NrNumber's 1..=50 alphanumerics.
        NrNumber(AsciiBuf::from_checked(&v.0).unwrap_or(AsciiBuf {
            buf: [b'0'; 50],
            len: 1,
        }))
    }
}

secret_field!(
    /// One-time token (`oneTimeToken`) from token issuance (§6.1): exactly 16 ASCII digits.
    /// Valid 30 seconds, single use.
    OneTimeToken, "oneTimeToken", 16, Charset::Digits, "exactly 16 ASCII digits"
);
secret_field!(
    /// Dynamic CVV (`dcvv`) issued with the one-time token: exactly 3 ASCII digits.
    Dcvv, "dcvv", 3, Charset::Digits, "exactly 3 ASCII digits"
);
secret_field!(
    /// Card number (`cardNo`) of a physical or mobile card: exactly 16 ASCII digits.
    CardNo, "cardNo", 16, Charset::Digits, "exactly 16 ASCII digits"
);

fixed_field!(
    /// Payment Account Reference (`par`): exactly 27 ASCII upper-case letters and digits
    /// (observed: `Q1` + 25 upper-case hex).
    Par, "par", 27, Charset::UpperAlnum, "exactly 27 ASCII upper-case letters or digits"
);

fixed_field!(
    /// Card expiry (`cardExpiry`) as `YYMM`: 4 ASCII digits with month 01..=12.
    CardExpiry, "cardExpiry", 4, Charset::Digits, "4 digits YYMM with month 01 to 12", check = Self::extra_check
);
impl CardExpiry {
    fn extra_check(s: &[u8]) -> Result<(), FieldError> {
        match two_digits(s, 2) {
            Some(1..=12) => Ok(()),
            _ => Err(FieldError::new(Self::API_NAME, Self::LIMIT)),
        }
    }
    /// Two-digit year.
    pub fn year(&self) -> u8 {
        two_digits(&self.0, 0).unwrap_or(0)
    }
    /// Month 1..=12.
    pub fn month(&self) -> u8 {
        two_digits(&self.0, 2).unwrap_or(0)
    }
}

fixed_field!(
    /// Merchant ID (`merchantId`): exactly 15 ASCII digits (the Charge page is cut off before
    /// the length; every other page and all test merchants give 15 digits).
    MerchantId, "merchantId", 15, Charset::Digits, "exactly 15 ASCII digits"
);

fixed_field!(
    /// ASP (service-provider) ID header `X-KM-User-AspId`: exactly 15 ASCII digits.
    AspId, "X-KM-User-AspId", 15, Charset::Digits, "exactly 15 ASCII digits"
);

secret_field!(
    /// Project access key header `X-KM-Access-Key`: exactly 40 ASCII letters, digits or `-`
    /// (observed: 7 + `-` + 32). It points at the secret key (G-CRED), so it is kept like one.
    AccessKey, "X-KM-Access-Key", 40, Charset::AlnumDash,
    "exactly 40 ASCII letters, digits or '-'"
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

/// The lower-case hex digit of the low 4 bits of `n`.
#[inline]
pub(crate) const fn hex_lower(n: u8) -> u8 {
    match n & 0xF {
        d @ 0..=9 => b'0' + d,
        d => b'a' + d - 10,
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

fixed_field!(
    /// A 14-digit calendar time `yyyyMMddHHmmss` (`registeredDate`).
    DateTime14, "registeredDate", 14, Charset::Digits,
    "14 digits yyyyMMddHHmmss forming a real date and time", check = Self::extra_check
);
impl DateTime14 {
    fn extra_check(s: &[u8]) -> Result<(), FieldError> {
        let err = FieldError::new(Self::API_NAME, Self::LIMIT);
        let year =
            u16::from(two_digits(s, 0).ok_or(err)?) * 100 + u16::from(two_digits(s, 2).ok_or(err)?);
        let ok = Timestamp::new(
            year,
            two_digits(s, 4).ok_or(err)?,
            two_digits(s, 6).ok_or(err)?,
            two_digits(s, 8).ok_or(err)?,
            two_digits(s, 10).ok_or(err)?,
            two_digits(s, 12).ok_or(err)?,
            0,
        );
        ok.map(|_| ()).map_err(|_| err)
    }
}

/// Two ASCII digits at `at` as a number.
#[inline]
pub(crate) fn two_digits(s: &[u8], at: usize) -> Option<u8> {
    let a = *s.get(at)?;
    let b = *s.get(at + 1)?;
    if a.is_ascii_digit() && b.is_ascii_digit() {
        Some((a - b'0') * 10 + (b - b'0'))
    } else {
        None
    }
}

/// A wall-clock instant with millisecond precision, in the zone named by the request's
/// [`TimeZone`]. The core has no clock: callers pass the time in.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timestamp {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    millis: u16,
}

impl Timestamp {
    /// The limit reported for a rejected time.
    pub const LIMIT: &'static str =
        "a calendar time in years 2000..=9999 (month 1-12, valid day, 00:00:00.000-23:59:59.999)";

    /// Validates a calendar time (proleptic Gregorian, years 2000..=9999, no leap seconds).
    pub const fn new(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
        millis: u16,
    ) -> Result<Self, FieldError> {
        let err = FieldError::new("X-KM-Tran-Time", Self::LIMIT);
        if year < 2000 || year > 9999 || month == 0 || month > 12 {
            return Err(err);
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(err);
        }
        if hour > 23 || minute > 59 || second > 59 || millis > 999 {
            return Err(err);
        }
        Ok(Self {
            year,
            month,
            day,
            hour,
            minute,
            second,
            millis,
        })
    }

    /// The instant `unix_millis` milliseconds after 1970-01-01T00:00:00 shifted by
    /// `offset_minutes` (e.g. +540 for KST). Errors outside years 2000..=9999.
    pub fn from_unix_millis(unix_millis: u64, offset_minutes: i32) -> Result<Self, FieldError> {
        let err = FieldError::new("X-KM-Tran-Time", Self::LIMIT);
        let shifted = i128::from(unix_millis) + i128::from(offset_minutes) * 60_000;
        if shifted < 0 {
            return Err(err);
        }
        let millis = (shifted % 1000) as u16;
        let secs = shifted / 1000;
        let days = secs / 86_400;
        let sod = secs % 86_400;
        let (y, m, d) = civil_from_days(i64::try_from(days).map_err(|_| err)?);
        let year = u16::try_from(y).map_err(|_| err)?;
        Self::new(
            year,
            m,
            d,
            (sod / 3600) as u8,
            (sod % 3600 / 60) as u8,
            (sod % 60) as u8,
            millis,
        )
    }

    /// Milliseconds since 1970-01-01T00:00:00 of this wall-clock time (zone ignored).
    pub fn unix_millis(&self) -> u64 {
        let days = days_from_civil(i64::from(self.year), self.month, self.day);
        let secs = days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        u64::try_from(secs).unwrap_or(0) * 1000 + u64::from(self.millis)
    }

    /// Year (2000..=9999).
    pub const fn year(&self) -> u16 {
        self.year
    }
    /// Month (1..=12).
    pub const fn month(&self) -> u8 {
        self.month
    }
    /// Day of month.
    pub const fn day(&self) -> u8 {
        self.day
    }
    /// Hour (0..=23).
    pub const fn hour(&self) -> u8 {
        self.hour
    }
    /// Minute (0..=59).
    pub const fn minute(&self) -> u8 {
        self.minute
    }
    /// Second (0..=59).
    pub const fn second(&self) -> u8 {
        self.second
    }
    /// Millisecond (0..=999).
    pub const fn millis(&self) -> u16 {
        self.millis
    }

    /// Writes `yyyyMMddHHmmssSSS` (17 digits, the Tran-Token time part).
    pub fn write_17(&self, out: &mut [u8; 17]) {
        // eight two-digit groups (yy yy MM dd HH mm ss SS) and the last millisecond digit
        let groups = [
            (self.year / 100) as u8,
            (self.year % 100) as u8,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            (self.millis / 10) as u8,
        ];
        for (pair, g) in out.chunks_exact_mut(2).zip(groups) {
            if let [a, b] = pair {
                *a = b'0' + g / 10;
                *b = b'0' + g % 10;
            }
        }
        if let Some(last) = out.get_mut(16) {
            *last = b'0' + (self.millis % 10) as u8;
        }
    }

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


const fn is_leap(y: u16) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

const fn days_in_month(y: u16, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 => {
            if is_leap(y) {
                29
            } else {
                28
            }
        }
        _ => 0,
    }
}

/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Howard Hinnant's `days_from_civil`.
fn days_from_civil(y: i64, m: u8, d: u8) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Token type (`type` of token issuance, §6.1). Omitted = default (valid 30 s). D11: only the
/// documented values are accepted.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum TokenType {
    /// `ATM`: ATM withdrawal, valid 5 minutes.
    Atm,
    /// `CREDIT`: credit-card charging transaction, valid 5 minutes.
    Credit,
}

impl TokenType {
    /// The API name of this field.
    pub const API_NAME: &'static str = "type";
    /// The documented limit.
    pub const LIMIT: &'static str = "ATM or CREDIT";

    /// The wire value.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenType::Atm => "ATM",
            TokenType::Credit => "CREDIT",
        }
    }
    /// Parses the wire value.
    pub fn new(s: &str) -> Result<Self, FieldError> {
        match s {
            "ATM" => Ok(TokenType::Atm),
            "CREDIT" => Ok(TokenType::Credit),
            _ => Err(FieldError::new(Self::API_NAME, Self::LIMIT)),
        }
    }
}
common_str_impls!(TokenType);

/// Result of a charge or cancellation (`result` of §6.4).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ChargeResult {
    /// `COMPLETED`: the transaction is done.
    Completed,
    /// `FAILED`: the transaction failed.
    Failed,
    /// `PENDING`: the PG did not answer normally; the platform keeps checking (not final).
    Pending,
}

impl ChargeResult {
    /// The API name of this field.
    pub const API_NAME: &'static str = "result";
    /// The documented limit.
    pub const LIMIT: &'static str = "COMPLETED, FAILED or PENDING";

    /// The wire value.
    pub const fn as_str(self) -> &'static str {
        match self {
            ChargeResult::Completed => "COMPLETED",
            ChargeResult::Failed => "FAILED",
            ChargeResult::Pending => "PENDING",
        }
    }
    /// Parses the wire value.
    pub fn new(s: &str) -> Result<Self, FieldError> {
        match s {
            "COMPLETED" => Ok(ChargeResult::Completed),
            "FAILED" => Ok(ChargeResult::Failed),
            "PENDING" => Ok(ChargeResult::Pending),
            _ => Err(FieldError::new(Self::API_NAME, Self::LIMIT)),
        }
    }
    /// `true` for `COMPLETED` and `FAILED`.
    pub const fn is_final(self) -> bool {
        !matches!(self, ChargeResult::Pending)
    }
}
common_str_impls!(ChargeResult);

/// A percentage with at most one decimal, 0..=99 (`refundFeeRate`, `refundThresholdRatio`,
/// `currentBalanceRatio` of §6.6), held exactly as tenths (never a float).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Percent1(u16);

impl Percent1 {
    /// The documented limit.
    pub const LIMIT: &'static str = "a number from 0 to 99 with at most one decimal";
    /// Largest value in tenths (99.0 %).
    pub const MAX_TENTHS: u16 = 990;

    /// From tenths of a percent (`125` = 12.5 %).
    pub const fn from_tenths(tenths: u16, field: &'static str) -> Result<Self, FieldError> {
        if tenths > Self::MAX_TENTHS {
            Err(FieldError::new(field, Self::LIMIT))
        } else {
            Ok(Self(tenths))
        }
    }
    /// Tenths of a percent.
    pub const fn tenths(self) -> u16 {
        self.0
    }
}

impl fmt::Display for Percent1 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.0 / 10, self.0 % 10)
    }
}

/// The HMAC secret key issued with the access key (G-CRED). Length is not documented: we
/// admit 1..=128 printable ASCII characters without space.
///
/// Secret: redacted in `Debug`/`defmt`, no `Display`, zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey {
    buf: [u8; 128],
    len: u8,
}

impl SecretKey {
    /// Name used in errors.
    pub const API_NAME: &'static str = "secretKey";
    /// The limit this type enforces.
    pub const LIMIT: &'static str = "1 to 128 printable ASCII characters without space";

    /// Validates `s` against [`Self::LIMIT`].
    pub fn new(s: &str) -> Result<Self, FieldError> {
        let b = s.as_bytes();
        check(b, 1, 128, Charset::Graphic, Self::API_NAME, Self::LIMIT)?;
        let mut buf = [0u8; 128];
        buf.get_mut(..b.len())
            .ok_or(FieldError::new(Self::API_NAME, Self::LIMIT))?
            .copy_from_slice(b);
        Ok(Self {
            buf,
            len: b.len() as u8,
        })
    }
    /// The key bytes.
    pub fn expose(&self) -> &[u8] {
        self.buf.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for SecretKey {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "SecretKey(<redacted>)")
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
