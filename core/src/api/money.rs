//! The money-moving endpoints — charge, cancellation of a charge, refund — described once:
//! what the journal keeps of a request, and what a success answer settles. The exactly-once
//! machinery in [`crate::flow`] and every driver use this description instead of matching the
//! three by hand.

use crate::code::{RawCode, ResultCode};
use crate::field::{ChargeAmount, MerchantId, NrNumber, SequenceId, UserId};
use crate::message::Description;

use super::{
    CancelCharge, CancelRequest, Charge, ChargeRequest, Endpoint, Refund, RefundRequest, ReplyOf,
};

/// The money-moving operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Operation {
    /// Charge.
    Charge = 1,
    /// Cancellation of charge.
    Cancel = 2,
    /// Refund.
    Refund = 3,
}

impl Operation {
    /// Whether the result inquiry covers it (charges and cancellations; not refunds).
    pub const fn has_inquiry(self) -> bool {
        !matches!(self, Operation::Refund)
    }
    pub(crate) fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(Operation::Charge),
            2 => Some(Operation::Cancel),
            3 => Some(Operation::Refund),
            _ => None,
        }
    }
}

/// The request essentials kept in the journal (no secrets: never the token or DCVV).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Essentials {
    /// Member.
    pub user_id: UserId,
    /// Charge amount (charges only).
    pub amount: Option<ChargeAmount>,
    /// Merchant (charges only).
    pub merchant_id: Option<MerchantId>,
    /// For a cancellation: the nrNumber of the charge it cancels.
    pub nr_number: Option<NrNumber>,
}

impl Essentials {
    /// The API name of the first field in which `self` and `other` differ.
    pub fn first_difference(&self, other: &Essentials) -> Option<&'static str> {
        if self.user_id != other.user_id {
            Some(UserId::API_NAME)
        } else if self.amount != other.amount {
            Some(ChargeAmount::API_NAME)
        } else if self.merchant_id != other.merchant_id {
            Some(MerchantId::API_NAME)
        } else if self.nr_number != other.nr_number {
            Some(NrNumber::API_NAME)
        } else {
            None
        }
    }
}

/// A money-moving endpoint.
pub trait MoneyEndpoint: Endpoint {
    /// Which one.
    const OPERATION: Operation;
    /// The request's sequenceId: its idempotency key and the key of the result inquiry.
    fn sequence_id(request: &Self::Request) -> SequenceId;
    /// What the journal keeps of the request (no secrets).
    fn essentials(request: &Self::Request) -> Essentials;
    /// What a success answer settles: whether the platform is still checking (`isPending`),
    /// and the transaction number it gave, if any.
    fn settled(response: &Self::Response) -> (bool, Option<NrNumber>);
    /// The request, owned as the money flow keeps it.
    fn into_money(request: Self::Request) -> MoneyRequest;
}

// No endpoint the money flow drives takes a plain send: none is `MovesNoMoney` (checked at
// compile time: with the second impl applying too, `_` would be ambiguous)
const _: fn() = || {
    trait AmbiguousIfPlain<A> {
        fn check() {}
    }
    impl<T: ?Sized> AmbiguousIfPlain<()> for T {}
    struct Plain;
    impl<T: ?Sized + super::MovesNoMoney> AmbiguousIfPlain<Plain> for T {}
    <Charge as AmbiguousIfPlain<_>>::check();
    <CancelCharge as AmbiguousIfPlain<_>>::check();
    <Refund as AmbiguousIfPlain<_>>::check();
};

impl MoneyEndpoint for Charge {
    const OPERATION: Operation = Operation::Charge;
    fn sequence_id(r: &Self::Request) -> SequenceId {
        r.sequence_id
    }
    fn essentials(r: &Self::Request) -> Essentials {
        Essentials {
            user_id: r.user_id,
            amount: Some(r.amount),
            merchant_id: Some(r.merchant_id),
            nr_number: None,
        }
    }
    fn settled(r: &Self::Response) -> (bool, Option<NrNumber>) {
        (r.is_pending, Some(r.nr_number))
    }
    fn into_money(r: Self::Request) -> MoneyRequest {
        MoneyRequest::Charge(r)
    }
}

impl MoneyEndpoint for CancelCharge {
    const OPERATION: Operation = Operation::Cancel;
    fn sequence_id(r: &Self::Request) -> SequenceId {
        r.sequence_id
    }
    fn essentials(r: &Self::Request) -> Essentials {
        Essentials {
            user_id: r.user_id,
            amount: None,
            merchant_id: None,
            nr_number: Some(r.nr_number),
        }
    }
    fn settled(r: &Self::Response) -> (bool, Option<NrNumber>) {
        (r.is_pending, None)
    }
    fn into_money(r: Self::Request) -> MoneyRequest {
        MoneyRequest::Cancel(r)
    }
}

impl MoneyEndpoint for Refund {
    const OPERATION: Operation = Operation::Refund;
    fn sequence_id(r: &Self::Request) -> SequenceId {
        r.sequence_id
    }
    fn essentials(r: &Self::Request) -> Essentials {
        Essentials {
            user_id: r.user_id,
            amount: None,
            merchant_id: None,
            nr_number: None,
        }
    }
    fn settled(r: &Self::Response) -> (bool, Option<NrNumber>) {
        (false, Some(NrNumber::from(r.nr_number)))
    }
    fn into_money(r: Self::Request) -> MoneyRequest {
        MoneyRequest::Refund(r)
    }
}

/// A money operation's answer, reduced to what exactly-once needs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct MoneyReply {
    /// `response.code`.
    pub code: RawCode,
    /// `response.description`.
    pub description: Description,
    /// On success: `(isPending, nrNumber)`; `None` for any other code.
    pub success: Option<(bool, Option<NrNumber>)>,
}

/// Reduces a money operation's reply to what exactly-once needs.
pub(crate) fn money_reply<E: MoneyEndpoint>(r: ReplyOf<E>) -> MoneyReply {
    let success = match &r.body {
        Some(b) if r.code.is_success() => Some(E::settled(b)),
        _ => None,
    };
    MoneyReply {
        code: RawCode::new(r.code.as_str()).unwrap_or_default(),
        description: r.description,
        success,
    }
}

/// A money-moving request — a charge, a cancellation of a charge or a refund — owned, with its
/// one-time token and DCVV (zeroized on drop): what a [`crate::flow::Flow`] sends.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum MoneyRequest {
    /// A charge.
    Charge(ChargeRequest),
    /// A cancellation of a charge.
    Cancel(CancelRequest),
    /// A refund.
    Refund(RefundRequest),
}

impl MoneyRequest {
    /// Which operation.
    pub fn operation(&self) -> Operation {
        match self {
            MoneyRequest::Charge(_) => Operation::Charge,
            MoneyRequest::Cancel(_) => Operation::Cancel,
            MoneyRequest::Refund(_) => Operation::Refund,
        }
    }
    /// Its sequenceId.
    pub fn sequence_id(&self) -> SequenceId {
        match self {
            MoneyRequest::Charge(r) => Charge::sequence_id(r),
            MoneyRequest::Cancel(r) => CancelCharge::sequence_id(r),
            MoneyRequest::Refund(r) => Refund::sequence_id(r),
        }
    }
    /// What the journal keeps of it.
    pub fn essentials(&self) -> Essentials {
        match self {
            MoneyRequest::Charge(r) => Charge::essentials(r),
            MoneyRequest::Cancel(r) => CancelCharge::essentials(r),
            MoneyRequest::Refund(r) => Refund::essentials(r),
        }
    }
}

impl From<ChargeRequest> for MoneyRequest {
    fn from(r: ChargeRequest) -> Self {
        MoneyRequest::Charge(r)
    }
}
impl From<CancelRequest> for MoneyRequest {
    fn from(r: CancelRequest) -> Self {
        MoneyRequest::Cancel(r)
    }
}
impl From<RefundRequest> for MoneyRequest {
    fn from(r: RefundRequest) -> Self {
        MoneyRequest::Refund(r)
    }
}
