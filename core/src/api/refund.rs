//! Search for Refund Fee (§6.6) and Refund (§6.7).

use crate::api::{Encryption, endpoint};
use crate::code::{RefundCode, RefundFeeCode};
use crate::field::{
    CardExpiry, Dcvv, OneTimeToken, Par, Percent1, RefundNrNumber, SequenceId, UserId, Won,
};
use crate::message::message;

message! {
    /// Search for the refund fee (token only, no DCVV; D18).
    pub struct RefundFeeRequest / RefundFeeRequestPartial {
        /// From token issuance.
        req one_time_token: OneTimeToken = "oneTimeToken",
        /// Member ID.
        req user_id: UserId = "userId",
    }
}

message! {
    /// Refund fee figures. Amounts are KRW 0..=1000000000; ratios are percentages with at
    /// most one decimal, kept exactly as tenths. Fields after `lastLoadedBalance` were cut off
    /// on the page and are ignored.
    pub struct RefundFeeResponse / RefundFeeResponsePartial {
        /// Card PAR.
        req par: Par = "par",
        /// Refund fee rate (%).
        req refund_fee_rate: Percent1 = "refundFeeRate",
        /// Card balance.
        req balance: Won = "balance",
        /// Balance counting payment-only funds.
        req refund_check_balance: Won = "refundCheckBalance",
        /// Discounted amount.
        req discount_amount: Won = "discountAmount",
        /// Fee amount.
        req refund_fee: Won = "refundFee",
        /// Amount to be refunded.
        req refund_amount: Won = "refundAmount",
        /// Expiration fee.
        req expired_fee: Won = "expiredFee",
        /// Final refundability.
        req refundable: bool = "refundable",
        /// Refund allowed only when the balance is below this amount.
        req refund_threshold_balance: Won = "refundThresholdBalance",
        /// Refund allowed only if the used share is at least this percentage.
        req refund_threshold_ratio: Percent1 = "refundThresholdRatio",
        /// Current usage vs. the last charge (%).
        req current_balance_ratio: Percent1 = "currentBalanceRatio",
        /// Balance at the last charge.
        req last_loaded_balance: Won = "lastLoadedBalance",
    }
}

endpoint!(
    /// `POST /api/v1/refund/fee` — the fee a refund would cost.
    RefundFee, "/api/v1/refund/fee", false, Encryption::Unknown,
    RefundFeeRequest, RefundFeeResponse, RefundFeeCode
);

message! {
    /// Refund the card balance to the member's account. Money moves; there is no documented
    /// result inquiry for refunds (§6.8), so an unknown outcome stays unknown.
    pub struct RefundRequest / RefundRequestPartial {
        /// Unique control number.
        req sequence_id: SequenceId = "sequenceId",
        /// Member ID.
        req user_id: UserId = "userId",
        /// Card expiry `YYMM`.
        req card_expiry: CardExpiry = "cardExpiry",
        /// From token issuance.
        req dcvv: Dcvv = "dcvv",
        /// From token issuance.
        req one_time_token: OneTimeToken = "oneTimeToken",
    }
}

message! {
    /// Refund response.
    pub struct RefundResponse / RefundResponsePartial {
        /// Transaction number (exactly 18 characters here, D8).
        req nr_number: RefundNrNumber = "nrNumber",
    }
}

endpoint!(
    /// `POST /api/v1/refund/card` — refund the balance.
    Refund, "/api/v1/refund/card", false, Encryption::No,
    RefundRequest, RefundResponse, RefundCode, moves money
);
