//! Routing by path and answering: each endpoint's request decoded (decrypted when it comes
//! as JWE — the core decides), the ledger's operation, the answer encoded (sealed when the
//! endpoint's response is Encrypted — the core decides).

use std::thread;
use std::time::{Duration, Instant};

use konaplate::clock;
use konaplate::{ClientPrivateKey, ServerPublicKey};
use konaplate_core::api::*;
use konaplate_core::field::*;
use konaplate_core::jwe::{Crypto, KeyUnwrap, SealKeys};
use konaplate_core::prelude::*;
use konaplate_core::request::decode_request;
use konaplate_core::response::encode_reply;

use crate::http::RawRequest;
use crate::ledger::{Ledger, Refusal, describe};
use crate::state::{Shared, lock};
use crate::verify::verify_headers;

/// What to send back.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) code: String,
    pub(crate) body: Vec<u8>,
    pub(crate) encrypted: bool,
}

/// The covered endpoints, as the sandbox routes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    Token,
    Charge,
    Cancel,
    Result,
    RefundFee,
    Refund,
    Register,
    List,
}

impl Route {
    /// The route of a request path (`/open-api` + the endpoint's path).
    pub(crate) fn of(path: &str) -> Option<Route> {
        let p = path.strip_prefix("/open-api")?;
        [
            (IssueToken::PATH, Route::Token),
            (Charge::PATH, Route::Charge),
            (CancelCharge::PATH, Route::Cancel),
            (ChargeResultInquiry::PATH, Route::Result),
            (RefundFee::PATH, Route::RefundFee),
            (Refund::PATH, Route::Refund),
            (AutoRechargeRegister::PATH, Route::Register),
            (AutoRechargeList::PATH, Route::List),
        ]
        .into_iter()
        .find(|(x, _)| *x == p)
        .map(|(_, r)| r)
    }

    /// The sandbox's name of the endpoint (faults are armed and requests logged by it).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Route::Token => "token",
            Route::Charge => "charge",
            Route::Cancel => "charge-cancel",
            Route::Result => "charge-result",
            Route::RefundFee => "refund-fee",
            Route::Refund => "refund",
            Route::Register => "auto-recharge register",
            Route::List => "auto-recharge list",
        }
    }

    fn request_encrypted(self) -> bool {
        match self {
            Route::Token => IssueToken::REQUEST_ENCRYPTED,
            Route::Register => AutoRechargeRegister::REQUEST_ENCRYPTED,
            Route::Charge => Charge::REQUEST_ENCRYPTED,
            Route::Cancel => CancelCharge::REQUEST_ENCRYPTED,
            Route::Result => ChargeResultInquiry::REQUEST_ENCRYPTED,
            Route::RefundFee => RefundFee::REQUEST_ENCRYPTED,
            Route::Refund => Refund::REQUEST_ENCRYPTED,
            Route::List => AutoRechargeList::REQUEST_ENCRYPTED,
        }
    }
}

/// The platform's side of message encryption: requests are unwrapped with the server's
/// private key, answers sealed to the client's public key with fresh randomness.
struct ServerCrypto<'a> {
    server_private: &'a ClientPrivateKey,
    client_public: &'a ServerPublicKey,
    cek: [u8; 16],
    iv: [u8; 12],
}

impl<'a> ServerCrypto<'a> {
    fn new(shared: &'a Shared) -> Self {
        let mut cek = [0u8; 16];
        let mut iv = [0u8; 12];
        clock::random_bytes(&mut cek);
        clock::random_bytes(&mut iv);
        Self {
            server_private: &shared.keys.server_private,
            client_public: &shared.keys.client_public,
            cek,
            iv,
        }
    }
}

impl Crypto for ServerCrypto<'_> {
    fn seal(&mut self) -> Option<SealKeys<'_>> {
        Some(SealKeys {
            wrap: &mut self.client_public,
            cek: &self.cek,
            iv: &self.iv,
        })
    }
    fn unwrap(&mut self) -> Option<&mut dyn KeyUnwrap> {
        Some(&mut self.server_private)
    }
}

fn refusal_answer(r: Refusal) -> Answer {
    let status = if r.code == "000_000" { 200 } else { 400 };
    let desc = describe(r.code, r.field);
    let mut buf = vec![0u8; 1024];
    // a refusal is never sealed (only the envelope)
    let n = encode_reply::<AutoRechargeRegister>(r.code, &desc, None, NoCrypto, &mut buf)
        .map_or(0, |(n, _)| n);
    buf.truncate(n);
    Answer {
        status,
        code: r.code.to_string(),
        body: buf,
        encrypted: false,
    }
}

fn invalid(field: &'static str) -> Answer {
    refusal_answer(Refusal {
        code: "000_002",
        field: Some(field),
    })
}

/// The endpoint's request, decoded (and decrypted) from the body; a failure is the `000_002`
/// answer naming the field.
fn request<E: Endpoint>(shared: &Shared, body: &mut [u8]) -> Result<E::Request, Answer> {
    decode_request::<E>(body, ServerCrypto::new(shared)).map_err(|e| invalid(field_of(&e)))
}

pub(crate) fn process(
    shared: &Shared,
    route: Option<Route>,
    mut req: RawRequest,
    slow: Option<Duration>,
) -> Answer {
    let Some(route) = route else {
        let mut a = refusal_answer(Refusal {
            code: "000_002",
            field: Some("path"),
        });
        a.status = 404;
        return a;
    };
    if let Err(header) = verify_headers(shared, &req, route.request_encrypted()) {
        return invalid(header);
    }
    let now = Instant::now();
    let ttl = shared.config.token_ttl;
    let body = &mut req.body;
    match route {
        Route::Charge => money::<Charge>(shared, body, slow, |l, r, at| l.charge(r, at)),
        Route::Cancel => money::<CancelCharge>(shared, body, slow, |l, r, at| l.cancel(r, at)),
        Route::Refund => money::<Refund>(shared, body, slow, |l, r, at| l.refund(r, at)),
        Route::Token => run::<IssueToken>(shared, body, slow, |l, r| l.issue_token(r, now, ttl)),
        Route::Result => run::<ChargeResultInquiry>(shared, body, slow, |l, r| l.result(r)),
        Route::RefundFee => run::<RefundFee>(shared, body, slow, |l, r| l.refund_fee(r, now)),
        Route::Register => run::<AutoRechargeRegister>(shared, body, slow, |l, r| {
            let t = clock::now(9 * 60).map_err(|_| Refusal {
                code: "000_002",
                field: Some("registeredDate"),
            })?;
            let mut d = [0u8; 17];
            t.write_17(&mut d);
            let date = DateTime14::from_bytes(&d[..14]).map_err(|_| Refusal {
                code: "000_002",
                field: Some("registeredDate"),
            })?;
            l.register(r, date)
        }),
        Route::List => run::<AutoRechargeList>(shared, body, slow, |l, r| l.list(r)),
    }
}

/// An endpoint that moves no money: decode, run the ledger operation, answer.
fn run<E: Endpoint>(
    shared: &Shared,
    body: &mut [u8],
    slow: Option<Duration>,
    op: impl FnOnce(&mut Ledger, &E::Request) -> Result<E::Response, Refusal>,
) -> Answer {
    let req = match request::<E>(shared, body) {
        Ok(r) => r,
        Err(a) => return a,
    };
    if let Some(d) = slow {
        thread::sleep(d);
    }
    let mut ledger = lock(&shared.ledger);
    ledger.settle(Instant::now());
    let result = op(&mut ledger, &req);
    drop(ledger);
    answer::<E>(shared, result)
}

/// A money-moving endpoint. On a slow platform (`slow`), the request's sequenceId is taken
/// when it arrives (a re-send meanwhile is refused), the ledger commits only after the delay,
/// and its token is judged as of the arrival.
fn money<E: MoneyEndpoint>(
    shared: &Shared,
    body: &mut [u8],
    slow: Option<Duration>,
    op: impl FnOnce(&mut Ledger, &E::Request, Instant) -> Result<E::Response, Refusal>,
) -> Answer {
    let arrived = Instant::now();
    let req = match request::<E>(shared, body) {
        Ok(r) => r,
        Err(a) => return a,
    };
    let seq = E::sequence_id(&req);
    if let Some(d) = slow {
        {
            let mut ledger = lock(&shared.ledger);
            ledger.settle(arrived);
            if let Err(r) = ledger.reserve(&seq) {
                return refusal_answer(r);
            }
        }
        thread::sleep(d);
    }
    let mut ledger = lock(&shared.ledger);
    ledger.settle(Instant::now());
    if slow.is_some() {
        ledger.unreserve(&seq);
    }
    let result = op(&mut ledger, &req, arrived);
    drop(ledger);
    answer::<E>(shared, result)
}

/// Encodes the answer (the core seals it when the endpoint's response is Encrypted).
fn answer<E: Endpoint>(shared: &Shared, result: Result<E::Response, Refusal>) -> Answer {
    let reply = match result {
        Ok(r) => r,
        Err(r) => return refusal_answer(r),
    };
    let desc = describe("000_000", None);
    let mut buf = vec![0u8; 8192];
    match encode_reply::<E>(
        "000_000",
        &desc,
        Some(&reply),
        ServerCrypto::new(shared),
        &mut buf,
    ) {
        Ok((n, encrypted)) => {
            buf.truncate(n);
            Answer {
                status: 200,
                code: "000_000".into(),
                body: buf,
                encrypted,
            }
        }
        Err(_) => refusal_answer(Refusal {
            code: "000_002",
            field: Some("encData"),
        }),
    }
}

/// The field a request-decoding error is about, for the `000_002` description.
fn field_of(e: &DecodeError) -> &'static str {
    match e {
        DecodeError::Field(f) => f.field(),
        DecodeError::Missing { field } | DecodeError::Duplicate { field } => field,
        DecodeError::Jwe(_) | DecodeError::Encrypted => "encData",
        _ => "body",
    }
}
