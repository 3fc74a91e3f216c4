//! Numbers: member IDs, KRW amounts and one-decimal percentages.

use core::fmt;

use super::FieldError;
use crate::base::ascii::parse_u64_digits;

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
    Won: u32, "amount", 0, 1_000_000_000, "a number from 0 to 1000000000"
);

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
