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

use crate::base::ascii::ascii_str;

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

impl crate::base::describe::Describe for FieldError {
    fn describe(&self, out: &mut dyn crate::base::describe::Sink) {
        out.put("invalid `");
        out.put(self.field);
        out.put("`: must be ");
        out.put(self.limit);
    }
}
crate::base::describe::display_by_describe!(FieldError);

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
    /// This class's bit in [`CLASSES`] and [`JSON_CLASSES`].
    #[inline]
    pub(crate) const fn bit(self) -> u8 {
        1 << (self as u8)
    }

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

    /// Whether every byte of `s` is in the class: one table lookup per byte, no branch. On a
    /// microcontroller (built for size) the rules are applied directly instead of linking the
    /// 256-byte table (the tests check that both agree).
    #[inline]
    pub(crate) fn all(self, s: &[u8]) -> bool {
        if cfg!(konaplate_compact) {
            return s.iter().all(|&b| self.admits(b));
        }
        let bit = self.bit();
        s.iter().fold(bit, |acc, &b| {
            acc & CLASSES.get(usize::from(b)).copied().unwrap_or(0)
        }) != 0
    }
}

const ALL_CHARSETS: [Charset; 8] = [
    Charset::Digits,
    Charset::Alnum,
    Charset::UpperAlnum,
    Charset::Upper,
    Charset::Hex,
    Charset::Sequence,
    Charset::AlnumDash,
    Charset::Graphic,
];

/// For every byte, the bits of the classes that admit it (built from [`Charset::admits`] at
/// compile time, where an index out of range fails the build).
#[allow(clippy::indexing_slicing)]
static CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let mut c = 0;
        while c < ALL_CHARSETS.len() {
            if ALL_CHARSETS[c].admits(b as u8) {
                t[b] |= ALL_CHARSETS[c].bit();
            }
            c += 1;
        }
        b += 1;
    }
    t
};

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

#[macro_use]
mod macros;
mod enums;
mod headers;
mod ids;
mod numbers;
mod secrets;
mod text;
mod time;

pub use enums::{ChargeResult, TokenType};
pub use headers::{AspId, BasePath, CorrelationId, CryptoKeyId, Host, TimeZone, TranTime};
pub use ids::{CardExpiry, MerchantId, NrNumber, Par, RefundNrNumber, SequenceId};
pub use numbers::{ChargeAmount, Percent1, UserId, Won};
pub use secrets::{AccessKey, CardNo, Dcvv, OneTimeToken, SecretKey};
pub use text::Text;
pub use time::{DateTime14, Timestamp};

/// [`CLASSES`] for scanning a JSON string: `"` and `\\` in no class, so that a scan of
/// class members stops at the closing quote or at an escape (which the general reader then
/// decodes). Used on a host only (a microcontroller reads every string the general way).
#[allow(clippy::indexing_slicing)] // compile time only: an index out of range fails the build
pub(crate) static JSON_CLASSES: [u8; 256] = {
    let mut t = CLASSES;
    t[b'"' as usize] = 0;
    t[b'\\' as usize] = 0;
    t
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_class_table_agrees_with_the_rules() {
        for cs in ALL_CHARSETS {
            for b in 0..=255u8 {
                assert_eq!(cs.all(&[b]), cs.admits(b), "{cs:?} {b:#04x}");
                // the table (host) and the rules (microcontroller) agree
                assert_eq!(
                    CLASSES[usize::from(b)] & cs.bit() != 0,
                    cs.admits(b),
                    "{cs:?} {b:#04x}"
                );
                assert_eq!(
                    cs.all(&[b'0', b, b'0']),
                    cs.admits(b'0') && cs.admits(b),
                    "{cs:?} {b:#04x}"
                );
            }
            assert!(cs.all(&[]));
        }
    }
}
