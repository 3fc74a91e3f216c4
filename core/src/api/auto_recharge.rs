//! Auto-recharge at payment: register (§6.9.1) and list (§6.9.3).

use crate::api::{Empty, Encryption, endpoint};
use crate::code::{AutoRechargeListCode, AutoRechargeRegisterCode};
use crate::field::{DateTime14, Par, UserId};
use crate::message::{MAX_LIST_ITEMS, message};

message! {
    /// Register auto-recharge at payment for a card. Sent Encrypted.
    pub struct AutoRechargeRegisterRequest / AutoRechargeRegisterRequestPartial {
        /// Member ID (D5: the page's "Max : 19" is a digit count).
        req user_id: UserId = "userId",
        /// The card's PAR.
        req par: Par = "par",
    }
}

endpoint!(
    /// `POST /api/v1/recharges/auto/payments/register` — request Encrypted, no response
    /// fields.
    AutoRechargeRegister, "/api/v1/recharges/auto/payments/register",
    true, Encryption::No, AutoRechargeRegisterRequest, Empty, AutoRechargeRegisterCode
);

message! {
    /// List auto-recharge-at-payment plans. The page's request side was not available; the
    /// sibling list takes `userId`, and so does this.
    pub struct AutoRechargeListRequest / AutoRechargeListRequestPartial {
        /// Member ID.
        req user_id: UserId = "userId",
    }
}

message! {
    /// One registered card.
    pub struct ParInfo / ParInfoPartial {
        /// The card's PAR.
        req par: Par = "par",
        /// Registration time `yyyyMMddHHmmss`.
        req registered_date: DateTime14 = "registeredDate",
    }
}

message! {
    /// The list (empty when no card has auto-recharge at payment).
    pub struct AutoRechargeListResponse / AutoRechargeListResponsePartial {
        /// Registered cards (at most 16; more is an error, never a truncation).
        req par_info_list: heapless::Vec<ParInfo, MAX_LIST_ITEMS> = "parInfoList",
    }
}

endpoint!(
    /// `POST /api/v1/recharges/auto/payments/plans` — list.
    AutoRechargeList, "/api/v1/recharges/auto/payments/plans", false,
    Encryption::Unknown, AutoRechargeListRequest, AutoRechargeListResponse, AutoRechargeListCode
);
