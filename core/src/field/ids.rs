//! Identifiers of calls and cards: sequenceId, nrNumber, PAR, card expiry, merchant.

use core::fmt;

use super::{AsciiBuf, Charset, FieldError, check, to_array};
use crate::base::ascii::{ascii_str, two_digits};

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
