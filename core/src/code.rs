//! Result codes (`response.code`, format `NNN_NNN`, §5 and §8 of the API facts).
//!
//! `000_000` is the only success. Each endpoint has its own code type with a named variant for
//! every code its page documents, because a code can mean different things on different
//! endpoints (D13: `007_027`). A code the SDK does not know is kept verbatim in
//! [`RawCode`] (`Other`) and is never a decode error.

use core::fmt;

use crate::field::{FieldError, Text};

/// The success code.
pub const SUCCESS: &str = "000_000";

/// A result code exactly as received (any UTF-8 text up to 32 bytes), kept as its UTF-8
/// bytes: codes are matched as bytes, and [`Text::as_str`] converts on demand.
pub type RawCode = Text<{ crate::base::limits::CODE_CAPACITY }>;

impl RawCode {
    /// API name of the field, for errors.
    pub const API_NAME: &'static str = "response.code";
    /// The SDK's capacity for a code.
    pub const LIMIT: &'static str = "a string of at most 32 bytes without control characters";

    /// Keeps `s` verbatim; errors when it exceeds 32 bytes or holds a control character (a
    /// NUL among them: a code is never cut short on its way into C).
    pub fn new(s: &str) -> Result<Self, FieldError> {
        if !Self::admits(s.as_bytes()) {
            return Err(FieldError::new(Self::API_NAME, Self::LIMIT));
        }
        Self::copy(s, Self::API_NAME, Self::LIMIT)
    }
    /// Whether `code` holds no control character (`< 0x20`, `0x7f`).
    pub(crate) fn admits(code: &[u8]) -> bool {
        !code.iter().any(|&b| b < 0x20 || b == 0x7f)
    }
    /// `true` for `000_000`.
    pub fn is_success(&self) -> bool {
        self.as_bytes() == SUCCESS.as_bytes()
    }
}

/// An endpoint's result-code type.
pub trait ResultCode: Clone + fmt::Debug + PartialEq {
    /// Maps a received code to its named variant, or `Other` verbatim.
    fn from_raw(raw: RawCode) -> Self;
    /// The placeholder of a reply not decoded yet: the empty code, kept as `Other`.
    fn empty() -> Self {
        Self::from_raw(RawCode::default())
    }
    /// The code text (`"007_030"`).
    fn as_str(&self) -> &str;
    /// The documented English message for a named code, `None` for `Other`.
    fn documented_message(&self) -> Option<&'static str>;
    /// `true` only for `000_000`.
    fn is_success(&self) -> bool {
        self.as_str() == SUCCESS
    }
}

macro_rules! result_codes {
    (
        $(#[$m:meta])*
        $name:ident {
            $( $(#[$vm:meta])* $var:ident = $code:literal, $msg:literal; )*
        }
    ) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vm])* #[doc = concat!("`", $code, "` ", $msg)] $var, )*
            /// A code this endpoint's page does not document, kept verbatim.
            Other(RawCode),
        }
        impl ResultCode for $name {
            fn from_raw(raw: RawCode) -> Self {
                // found in the documented table by one shared search; each type only maps the
                // position to its variant
                let Some(i) = crate::base::ascii::position(raw.as_bytes(), Self::DOCUMENTED) else {
                    return Self::Other(raw);
                };
                let mut k = 0usize;
                $(
                    if i == k {
                        return Self::$var;
                    }
                    k += 1;
                )*
                let _ = k;
                Self::Other(raw)
            }
            fn is_success(&self) -> bool {
                match self {
                    $( Self::$var => const { matches!($code.as_bytes(), b"000_000") }, )*
                    Self::Other(r) => r.is_success(),
                }
            }
            #[inline]
            fn empty() -> Self {
                Self::Other(RawCode::default())
            }
            fn as_str(&self) -> &str {
                match self {
                    $( Self::$var => $code, )*
                    Self::Other(r) => r.as_str(),
                }
            }
            fn documented_message(&self) -> Option<&'static str> {
                match self {
                    $( Self::$var => Some($msg), )*
                    Self::Other(_) => None,
                }
            }
        }
        impl $name {
            /// Every documented code of this endpoint, in page order.
            pub const DOCUMENTED: &'static [&'static str] = &[$($code),*];
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

result_codes! {
    /// Codes of Issuance of Disposable Token (§6.1). The page's code table was not available;
    /// only the common codes are named.
    TokenCode {
        Success = "000_000", "Success";
        InvalidInputParameter = "000_002", "Invalid input parameter.";
    }
}

result_codes! {
    /// Codes of Charge (§6.2, table cut off after `007_004`).
    ChargeCode {
        Success = "000_000", "Success.";
        InvalidInputParameter = "000_002", "Invalid input parameter. userId";
        BankAccountNotFound = "007_001", "Bank account not found.";
        InconsistentRequestedBenefit = "007_002", "Inconsistent requested benefit.";
        CreditLimitExceeded = "007_003", "Credit limit exceeded.";
        WithdrawFailureFromPg = "007_004", "Withdraw failure from PG.";
    }
}

result_codes! {
    /// Codes of Cancellation of Charge (§6.3).
    CancelCode {
        Success = "000_000", "Success.";
        InvalidInputParameter = "000_002", "Invalid input parameter. userId";
        BankAccountNotFound = "007_001", "Bank account not found.";
        NotCancellable = "007_030", "Cancellation not possible for this transaction.";
        AnotherMethod = "007_040", "Cancel request for another method.";
        NameMismatch = "007_043", "Cancellation request denied due to name mismatch.";
    }
}

result_codes! {
    /// Codes of Checking Result of Charge & Cancellation (§6.4; `007_009` is listed twice on
    /// the page, D12 — it means "no result for this sequenceId").
    ChargeResultCode {
        Success = "000_000", "Success";
        InvalidInputParameter = "000_002", "Invalid input parameter. sequenceId";
        PreviousTransactionNotFound = "007_009", "Previous transaction not found.";
    }
}

result_codes! {
    /// Codes of Search for Refund Fee (§6.6; the page's table was not available).
    RefundFeeCode {
        Success = "000_000", "Success";
        InvalidInputParameter = "000_002", "Invalid input parameter.";
    }
}

result_codes! {
    /// Codes of Refund (§6.7).
    RefundCode {
        Success = "000_000", "Success";
        InvalidInputParameter = "000_002", "Invalid input parameter. dcvv";
        BankAccountIsNull = "009_001", "Bank account is null.";
        MonthlyAmountLimit = "009_002", "Refund amount over limit in month.";
        MonthlyCountLimit = "009_003", "Refund count over limit in month.";
        RefundDenied = "009_004", "Refund denied.";
    }
}

result_codes! {
    /// Codes of Auto-recharge at payment — register (§6.9.1). `007_027` here means the
    /// firm-banking terms (D13).
    AutoRechargeRegisterCode {
        Success = "000_000", "Success.";
        InvalidInputParameter = "000_002", "Invalid input parameter.";
        ParAlreadyExists = "007_012", "Par already exist.";
        InvalidPar = "001_003", "Invalid par.";
        OpenBankTermsNotAccepted = "007_015", "User does not accept open bank terms and conditions.";
        CardNotActive = "007_016", "Card status is not active.";
        AutoRechargePlanExists = "007_017", "Auto recharge plan already exist error.";
        FirmBankingTermsNotAccepted = "007_027", "User does not accept firm banking terms and conditions.";
        AutoRechargeAccountNotRegistered = "007_031", "Bank account for auto recharge is not registered.";
    }
}

result_codes! {
    /// Codes of Auto-recharge at payment — list (§6.9.3; the page lists only success, the
    /// sibling list page adds `000_002`).
    AutoRechargeListCode {
        Success = "000_000", "Success.";
        InvalidInputParameter = "000_002", "Invalid input parameter. userId";
    }
}
