//! The covered endpoints: each is a unit type implementing [`Endpoint`], which ties its path,
//! its Encrypted flags, its request and response messages and its result codes together.
//!
//! | endpoint | path | request Enc | response Enc |
//! |---|---|---|---|
//! | [`IssueToken`] (§6.1) | `/api/v2/payment/generate/onetimetoken` | yes | unknown |
//! | [`Charge`] (§6.2) | `/api/v1/recharges/by-bank-accounts/no-hce` | no | unknown |
//! | [`CancelCharge`] (§6.3) | `/api/v1/recharges/by-bank-accounts/no-hce/cancel` | no | **yes** |
//! | [`ChargeResultInquiry`] (§6.4) | `/api/v1/recharges/by-bank-account/result/inquiry` | no | no |
//! | [`RefundFee`] (§6.6) | `/api/v1/refund/fee` | no | unknown |
//! | [`Refund`] (§6.7) | `/api/v1/refund/card` | no | no |
//! | [`AutoRechargeRegister`] (§6.9.1) | `/api/v1/recharges/auto/payments/register` | yes | no |
//! | [`AutoRechargeList`] (§6.9.3) | `/api/v1/recharges/auto/payments/plans` | no (not available) | unknown |
//!
//! Whatever the flag says, any response carrying `encData` is reported as encrypted (§4.2).

mod auto_recharge;
mod charge;
mod money;
mod refund;
mod token;

pub use auto_recharge::*;
pub use charge::*;
pub(crate) use money::money_reply;
pub use money::{Essentials, MoneyEndpoint, MoneyReply, MoneyRequest, Operation};
pub use refund::*;
pub use token::*;

use crate::code::ResultCode;
use crate::message::{Message, Reply};

/// Whether a direction is marked Encrypted on the endpoint's page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Encryption {
    /// Marked Encrypted.
    Yes,
    /// Not marked.
    No,
    /// The page rendering that shows this direction was not available.
    Unknown,
}

/// One API endpoint.
pub trait Endpoint {
    /// Path after the base path (`/open-api`).
    const PATH: &'static str;
    /// The request body must be sent as JWE (`{"encData":..}`).
    const REQUEST_ENCRYPTED: bool;
    /// The response direction's marker.
    const RESPONSE_ENCRYPTION: Encryption;
    /// The request body.
    type Request: Request<Endpoint = Self>;
    /// The response fields (besides the envelope).
    type Response: Message;
    /// The documented result codes.
    type Code: ResultCode;
}

/// An endpoint that moves no money: every one but the charge, its cancellation and the refund
/// ([`MoneyEndpoint`]). A lost answer to a money request must be resolved, never re-sent
/// blindly, so an adapter's plain `send` takes only these, and money goes through the money
/// flow ([`crate::flow`]) or a deliberately named call.
#[diagnostic::on_unimplemented(
    message = "`{Self}` moves money: drive it through the journaled money flow (`konaplate::money::run`, on a till `konaplate_embedded::money::run`), not a plain send",
    note = "a tool that keeps its own durable record of every sequenceId can say so by name: `Client::send_without_journal`, `konaplate_embedded::call_without_journal`"
)]
pub trait MovesNoMoney: Endpoint {}

/// A request body, which belongs to exactly one endpoint: encoding a request needs no
/// turbofish.
pub trait Request: Message {
    /// The endpoint this request is sent to.
    type Endpoint: Endpoint<Request = Self>;
}

/// The decoded reply type of endpoint `E`.
pub type ReplyOf<E> = Reply<<E as Endpoint>::Response, <E as Endpoint>::Code>;

macro_rules! endpoint {
    ($(#[$m:meta])* $name:ident, $path:literal, $req_enc:expr, $res_enc:expr,
     $req:ty, $res:ty, $code:ty, moves money) => {
        $crate::api::endpoint!(@one $(#[$m])* $name, $path, $req_enc, $res_enc, $req, $res, $code);
    };
    ($(#[$m:meta])* $name:ident, $path:literal, $req_enc:expr, $res_enc:expr,
     $req:ty, $res:ty, $code:ty) => {
        $crate::api::endpoint!(@one $(#[$m])* $name, $path, $req_enc, $res_enc, $req, $res, $code);
        impl $crate::api::MovesNoMoney for $name {}
    };
    (@one $(#[$m:meta])* $name:ident, $path:literal, $req_enc:expr, $res_enc:expr,
     $req:ty, $res:ty, $code:ty) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name;
        impl $crate::api::Request for $req {
            type Endpoint = $name;
        }
        impl $crate::api::Endpoint for $name {
            const PATH: &'static str = $path;
            const REQUEST_ENCRYPTED: bool = $req_enc;
            const RESPONSE_ENCRYPTION: $crate::api::Encryption = $res_enc;
            type Request = $req;
            type Response = $res;
            type Code = $code;
        }
        impl $crate::message::AnyReply for $crate::message::Reply<$res, $code> {
            fn endpoint_path(&self) -> &'static str {
                $path
            }
            fn decode_plain(&mut self, body: &[u8]) -> Result<(), $crate::error::DecodeError> {
                $crate::message::decode_plain_into(body, self)
            }
        }
    };
}
pub(crate) use endpoint;

crate::message::message! {
    /// A message without fields (a request or response that carries only the envelope).
    pub struct Empty / EmptyPartial {}
}
