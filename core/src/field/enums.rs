//! Enumerated values: the token type and the inquiry's result.

use super::FieldError;
use crate::base::ascii::position;

/// The variant whose wire value is `s` (`wire[i]` is the value of `variants[i]`): one table
/// search, the routine the result codes use; `err` when it is none of them.
#[inline]
fn from_wire<T: Copy>(
    s: &[u8],
    wire: &[&str],
    variants: &[T],
    err: FieldError,
) -> Result<T, FieldError> {
    position(s, wire)
        .and_then(|i| variants.get(i).copied())
        .ok_or(err)
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

    const VARIANTS: [Self; 2] = [TokenType::Atm, TokenType::Credit];
    /// The wire values of [`Self::VARIANTS`], from [`Self::as_str`].
    const WIRE: [&'static str; 2] = [TokenType::Atm.as_str(), TokenType::Credit.as_str()];

    /// The wire value.
    pub const fn as_str(self) -> &'static str {
        match self {
            TokenType::Atm => "ATM",
            TokenType::Credit => "CREDIT",
        }
    }
    /// Parses the wire value.
    pub fn new(s: &str) -> Result<Self, FieldError> {
        Self::from_bytes(s.as_bytes())
    }
    /// Parses the wire value's bytes.
    pub fn from_bytes(s: &[u8]) -> Result<Self, FieldError> {
        from_wire(
            s,
            &Self::WIRE,
            &Self::VARIANTS,
            FieldError::new(Self::API_NAME, Self::LIMIT),
        )
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

    const VARIANTS: [Self; 3] = [
        ChargeResult::Completed,
        ChargeResult::Failed,
        ChargeResult::Pending,
    ];
    /// The wire values of [`Self::VARIANTS`], from [`Self::as_str`].
    const WIRE: [&'static str; 3] = [
        ChargeResult::Completed.as_str(),
        ChargeResult::Failed.as_str(),
        ChargeResult::Pending.as_str(),
    ];

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
        Self::from_bytes(s.as_bytes())
    }
    /// Parses the wire value's bytes.
    pub fn from_bytes(s: &[u8]) -> Result<Self, FieldError> {
        from_wire(
            s,
            &Self::WIRE,
            &Self::VARIANTS,
            FieldError::new(Self::API_NAME, Self::LIMIT),
        )
    }
    /// `true` for `COMPLETED` and `FAILED`.
    pub const fn is_final(self) -> bool {
        !matches!(self, ChargeResult::Pending)
    }
}
common_str_impls!(ChargeResult);
