//! The money-moving endpoints — charge, cancellation of a charge, refund — described once:
//! what the journal keeps of a request, and what a success answer settles. The exactly-once
//! machinery in [`crate::flow`] and every driver use this description instead of matching the
//! three by hand.

use crate::code::{RawCode, ResultCode};
use crate::error::DecodeError;
use crate::field::{ChargeAmount, MerchantId, NrNumber, SequenceId, UserId};
use crate::message::{Description, Reply, decode_reply};

use super::{CancelCharge, Charge, Endpoint, Refund};

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
}

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

fn reduce<E: MoneyEndpoint>(body: &[u8]) -> Result<MoneyReply, DecodeError> {
    let r: Reply<E::Response, E::Code> = decode_reply(body)?;
    let success = match &r.body {
        Some(b) if r.code.is_success() => Some(E::settled(b)),
        _ => None,
    };
    Ok(MoneyReply {
        code: RawCode::new(r.code.as_str()).unwrap_or_default(),
        description: r.description,
        success,
    })
}

/// Decodes the plaintext answer of operation `op`.
pub fn decode_money_reply(op: Operation, body: &[u8]) -> Result<MoneyReply, DecodeError> {
    match op {
        Operation::Charge => reduce::<Charge>(body),
        Operation::Cancel => reduce::<CancelCharge>(body),
        Operation::Refund => reduce::<Refund>(body),
    }
}
