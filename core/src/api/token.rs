//! Issuance of Disposable Token v2 (§6.1).

use crate::api::{Encryption, endpoint};
use crate::code::TokenCode;
use crate::field::{CardNo, Dcvv, OneTimeToken, TokenType};
use crate::message::message;

message! {
    /// Request of token issuance: the card and the optional transaction type. Sent Encrypted.
    pub struct TokenRequest / TokenRequestPartial {
        /// Card number of the member's physical or mobile card.
        req card_no: CardNo = "cardNo",
        /// Omitted = default (valid 30 s); `ATM` / `CREDIT` valid 5 min (D11).
        opt token_type: TokenType = "type",
    }
}

message! {
    /// Response of token issuance (the page's response side was not available; fields as
    /// observed in public clients and as consumed by the other endpoints).
    pub struct TokenResponse / TokenResponsePartial {
        /// The single-use token (16 digits).
        req one_time_token: OneTimeToken = "oneTimeToken",
        /// The dynamic CVV issued with it (3 digits).
        req dcvv: Dcvv = "dcvv",
        /// Expiry, believed to be Unix epoch milliseconds (unverified; optional).
        opt expiry_time: u64 = "expiryTime",
    }
}

endpoint!(
    /// `POST /api/v2/payment/generate/onetimetoken` — one-time token + DCVV, valid 30 seconds
    /// (D10: the page's selector says v3 but shows the v2 path, which clients use).
    IssueToken, "/api/v2/payment/generate/onetimetoken", true, Encryption::Unknown,
    TokenRequest, TokenResponse, TokenCode
);
