//! Charge (§6.2), Cancellation of Charge (§6.3), Checking Result (§6.4).

use crate::api::{Encryption, endpoint};
use crate::code::{CancelCode, ChargeCode, ChargeResultCode};
use crate::field::{
    CardExpiry, ChargeAmount, ChargeResult, Dcvv, MerchantId, NrNumber, OneTimeToken, SequenceId,
    UserId,
};
use crate::message::message;

message! {
    /// Charge the card from the member's registered bank account. Money moves: keep the
    /// `sequence_id`, it is the key of the result inquiry.
    pub struct ChargeRequest / ChargeRequestPartial {
        /// Unique control number of this charge.
        req sequence_id: SequenceId = "sequenceId",
        /// Member ID.
        req user_id: UserId = "userId",
        /// KRW amount, 1..=9999999999.
        req amount: ChargeAmount = "amount",
        /// From token issuance.
        req one_time_token: OneTimeToken = "oneTimeToken",
        /// From token issuance.
        req dcvv: Dcvv = "dcvv",
        /// Merchant ID.
        req merchant_id: MerchantId = "merchantId",
    }
}

message! {
    /// Charge response.
    pub struct ChargeResponse / ChargeResponsePartial {
        /// Transaction number, needed to cancel.
        req nr_number: NrNumber = "nrNumber",
        /// `true`: the PG did not answer normally; the outcome is unknown until the result
        /// inquiry says `COMPLETED` or `FAILED`.
        req is_pending: bool = "isPending",
    }
}

endpoint!(
    /// `POST /api/v1/recharges/by-bank-accounts/no-hce` — charge from the bank account.
    Charge, "/api/v1/recharges/by-bank-accounts/no-hce", false, Encryption::Unknown,
    ChargeRequest, ChargeResponse, ChargeCode, moves money
);

message! {
    /// Cancel a charge (money returns to the account the next day).
    pub struct CancelRequest / CancelRequestPartial {
        /// Unique control number of this cancellation (D7: up to 30 characters).
        req sequence_id: SequenceId = "sequenceId",
        /// Member ID.
        req user_id: UserId = "userId",
        /// The charge's transaction number.
        req nr_number: NrNumber = "nrNumber",
        /// From token issuance.
        req one_time_token: OneTimeToken = "oneTimeToken",
        /// From token issuance.
        req dcvv: Dcvv = "dcvv",
        /// D6: not on the documentation page, but sent by public clients with portal test
        /// data; optional, omitted when `None`.
        opt card_expiry: CardExpiry = "cardExpiry",
    }
}

message! {
    /// Cancellation response (sent Encrypted by the platform).
    pub struct CancelResponse / CancelResponsePartial {
        /// `true`: outcome unknown until the result inquiry answers.
        req is_pending: bool = "isPending",
    }
}

endpoint!(
    /// `POST /api/v1/recharges/by-bank-accounts/no-hce/cancel` — response Encrypted.
    CancelCharge, "/api/v1/recharges/by-bank-accounts/no-hce/cancel", false,
    Encryption::Yes, CancelRequest, CancelResponse, CancelCode, moves money
);

message! {
    /// Result inquiry of a charge or cancellation by its `sequenceId`.
    pub struct ChargeResultRequest / ChargeResultRequestPartial {
        /// The control number sent with the charge or cancellation.
        req sequence_id: SequenceId = "sequenceId",
    }
}

message! {
    /// Result inquiry response.
    pub struct ChargeResultResponse / ChargeResultResponsePartial {
        /// `COMPLETED`, `FAILED` or `PENDING`.
        req result: ChargeResult = "result",
        /// Observed in public code (undocumented): the transaction number.
        opt nr_number: NrNumber = "nrNumber",
    }
}

endpoint!(
    /// `POST /api/v1/recharges/by-bank-account/result/inquiry` — note the singular
    /// `by-bank-account` (D19).
    ChargeResultInquiry, "/api/v1/recharges/by-bank-account/result/inquiry",
    false, Encryption::No, ChargeResultRequest, ChargeResultResponse, ChargeResultCode
);
