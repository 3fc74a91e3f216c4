//! Routing by path and answering: each endpoint's request decoded, the ledger's operation,
//! the reply encoded (and sealed as JWE when the endpoint's response is Encrypted).

use std::thread;
use std::time::{Duration, Instant};

use konaplate::clock;
use konaplate_core::jwe::{open_body_in_place, seal_in_place, sealed_len};
use konaplate_core::message::{decode_message, encode_reply};
use konaplate_core::prelude::*;

use crate::http::RawRequest;
use crate::ledger::{Ledger, Refusal, describe};
use crate::server::{Shared, lock};
use crate::verify::verify_headers;

/// What to send back.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) code: String,
    pub(crate) body: Vec<u8>,
    pub(crate) encrypted: bool,
}

pub(crate) fn endpoint_name(path: &str) -> Option<&'static str> {
    let p = path.strip_prefix("/open-api")?;
    Some(match p {
        x if x == IssueToken::PATH => IssueToken::NAME,
        x if x == Charge::PATH => Charge::NAME,
        x if x == CancelCharge::PATH => CancelCharge::NAME,
        x if x == ChargeResultInquiry::PATH => ChargeResultInquiry::NAME,
        x if x == RefundFee::PATH => RefundFee::NAME,
        x if x == Refund::PATH => Refund::NAME,
        x if x == AutoRechargeRegister::PATH => AutoRechargeRegister::NAME,
        x if x == AutoRechargeList::PATH => AutoRechargeList::NAME,
        _ => return None,
    })
}

fn refusal_answer(r: Refusal) -> Answer {
    let status = if r.code == "000_000" { 200 } else { 400 };
    let desc = describe(r.code, r.field);
    let mut buf = vec![0u8; 1024];
    let n = encode_reply::<Empty>(r.code, &desc, None, &mut buf).unwrap_or(0);
    buf.truncate(n);
    Answer { status, code: r.code.to_string(), body: buf, encrypted: false }
}

fn invalid(field: &'static str) -> Answer {
    refusal_answer(Refusal { code: "000_002", field: Some(field) })
}

pub(crate) fn process(shared: &Shared, endpoint: Option<&'static str>, mut req: RawRequest, slow: Option<Duration>) -> Answer {
    let Some(name) = endpoint else {
        let mut a = refusal_answer(Refusal { code: "000_002", field: Some("path") });
        a.status = 404;
        return a;
    };
    let encrypted_request = match name {
        n if n == IssueToken::NAME => IssueToken::REQUEST_ENCRYPTED,
        n if n == AutoRechargeRegister::NAME => AutoRechargeRegister::REQUEST_ENCRYPTED,
        _ => false,
    };
    if let Err(header) = verify_headers(shared, &req, encrypted_request) {
        return invalid(header);
    }
    // decrypt an encData body (required for Encrypted requests)
    let plain = match open_body_in_place(&mut req.body, &mut &shared.keys.server_private) {
        Ok((was, range)) if was || !encrypted_request => req.body[range].to_vec(),
        Ok(_) => return invalid("encData"),
        Err(_) => return invalid("encData"),
    };
    let now = Instant::now();
    let ttl = shared.config.token_ttl;
    match name {
        n if n == Charge::NAME => money::<Charge>(shared, &plain, slow, |r| r.sequence_id, |l, r, at| l.charge(r, at)),
        n if n == CancelCharge::NAME => {
            money::<CancelCharge>(shared, &plain, slow, |r| r.sequence_id, |l, r, at| l.cancel(r, at))
        }
        n if n == Refund::NAME => money::<Refund>(shared, &plain, slow, |r| r.sequence_id, |l, r, at| l.refund(r, at)),
        _ => {
            if let Some(d) = slow {
                thread::sleep(d);
            }
            let mut ledger = lock(&shared.ledger);
            ledger.settle(now);
            match name {
                n if n == IssueToken::NAME => run::<IssueToken, _>(shared, &plain, |r| ledger.issue_token(r, now, ttl)),
                n if n == ChargeResultInquiry::NAME => run::<ChargeResultInquiry, _>(shared, &plain, |r| ledger.result(r)),
                n if n == RefundFee::NAME => run::<RefundFee, _>(shared, &plain, |r| ledger.refund_fee(r, now)),
                n if n == AutoRechargeRegister::NAME => run::<AutoRechargeRegister, _>(shared, &plain, |r| {
                    let t = clock::now(9 * 60).unwrap_or_else(|_| unreachable!("system clock in range"));
                    let mut d = [0u8; 17];
                    t.write_17(&mut d);
                    let date = DateTime14::from_bytes(&d[..14])
                        .map_err(|_| Refusal { code: "000_002", field: Some("registeredDate") })?;
                    ledger.register(r, date)
                }),
                _ => run::<AutoRechargeList, _>(shared, &plain, |r| ledger.list(r)),
            }
        }
    }
}

/// A money-moving endpoint. On a slow platform (`slow`), the request's sequenceId is taken
/// when it arrives (a re-send meanwhile is refused), the ledger commits only after the delay,
/// and its token is judged as of the arrival.
fn money<E: Endpoint>(
    shared: &Shared,
    body: &[u8],
    slow: Option<Duration>,
    seq_of: fn(&E::Request) -> SequenceId,
    op: impl FnOnce(&mut Ledger, &E::Request, Instant) -> Result<E::Response, Refusal>,
) -> Answer {
    let arrived = Instant::now();
    let req = match decode_message::<E::Request>(body) {
        Ok(r) => r,
        Err(e) => return invalid(field_of(&e)),
    };
    let seq = seq_of(&req);
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

/// Decodes the request, runs the ledger operation, and answers.
fn run<E: Endpoint, F>(shared: &Shared, body: &[u8], op: F) -> Answer
where
    F: FnOnce(&E::Request) -> Result<E::Response, Refusal>,
{
    let req = match decode_message::<E::Request>(body) {
        Ok(r) => r,
        Err(e) => return invalid(field_of(&e)),
    };
    answer::<E>(shared, op(&req))
}

/// Encodes (and, when the endpoint's response is Encrypted, seals) the reply.
fn answer<E: Endpoint>(shared: &Shared, result: Result<E::Response, Refusal>) -> Answer {
    let (status, code, reply) = match result {
        Ok(r) => (200, "000_000", Some(r)),
        Err(r) => return refusal_answer(r),
    };
    let desc = describe(code, None);
    let mut buf = vec![0u8; 8192];
    let n = encode_reply::<E::Response>(code, &desc, reply.as_ref(), &mut buf).unwrap_or(0);
    buf.truncate(n);
    let encrypted = E::RESPONSE_ENCRYPTION == Encryption::Yes;
    if encrypted {
        let mut sealed = vec![0u8; sealed_len(n, 256) + 16];
        sealed[..n].copy_from_slice(&buf);
        let mut cek = [0u8; 16];
        let mut iv = [0u8; 12];
        clock::random_bytes(&mut cek);
        clock::random_bytes(&mut iv);
        match seal_in_place(&mut sealed, n, &mut &shared.keys.client_public, &cek, &iv) {
            Ok(m) => {
                sealed.truncate(m);
                buf = sealed;
            }
            Err(_) => return refusal_answer(Refusal { code: "000_002", field: Some("encData") }),
        }
    }
    Answer { status, code: code.to_string(), body: buf, encrypted }
}

/// The field a request-decoding error is about, for the `000_002` description.
fn field_of(e: &DecodeError) -> &'static str {
    match e {
        DecodeError::Field(f) => f.field(),
        DecodeError::Missing { field } | DecodeError::Duplicate { field } => field,
        _ => "body",
    }
}

