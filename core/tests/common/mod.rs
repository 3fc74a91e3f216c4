//! What the core's tests share: a session, a stamp, a request of each kind, and a whole
//! exchange through a [`Call`] fed from bytes (the way every transport drives it).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test; not every test uses every helper"
)]

use konaplate_core::call::{Answered, Call, CallError, Progress};
use konaplate_core::prelude::*;
use konaplate_core::{api::*, field::*};

/// The sandbox's credentials, with its crypto key id.
pub fn session() -> Session {
    Session::new(
        Credentials::new(
            AspId::new("100000000000001").unwrap(),
            AccessKey::new("SANDBOX-0123456789abcdef0123456789abcdef").unwrap(),
            &SecretKey::new("kona-sandbox-secret-0001").unwrap(),
            CryptoKeyId::new("00000000000000000000000000c0ffee").ok(),
        ),
        Target::new(Host::parse("sandbox.konaplate.com").unwrap()),
    )
}

pub fn stamp() -> Stamp {
    Stamp::new(
        Timestamp::new(2026, 11, 23, 19, 54, 6, 123).unwrap(),
        TimeZone::KST,
        0x0abc_def1,
    )
}

pub fn inquiry_request(seq: &str) -> ChargeResultRequest {
    ChargeResultRequest {
        sequence_id: SequenceId::new(seq).unwrap(),
    }
}

pub fn charge_request(seq: &str) -> ChargeRequest {
    ChargeRequest {
        sequence_id: SequenceId::new(seq).unwrap(),
        user_id: UserId::new(50_000_100_001).unwrap(),
        amount: ChargeAmount::new(10_000).unwrap(),
        one_time_token: OneTimeToken::new("1234567890123456").unwrap(),
        dcvv: Dcvv::new("123").unwrap(),
        merchant_id: MerchantId::new("100000000000101").unwrap(),
    }
}

pub fn cancel_request(seq: &str) -> CancelRequest {
    CancelRequest {
        sequence_id: SequenceId::new(seq).unwrap(),
        user_id: UserId::new(50_000_100_001).unwrap(),
        nr_number: NrNumber::new("KMN261123000000001").unwrap(),
        one_time_token: OneTimeToken::new("1234567890123456").unwrap(),
        dcvv: Dcvv::new("123").unwrap(),
        card_expiry: None,
    }
}

pub fn refund_request(seq: &str) -> RefundRequest {
    RefundRequest {
        sequence_id: SequenceId::new(seq).unwrap(),
        user_id: UserId::new(50_000_100_001).unwrap(),
        card_expiry: CardExpiry::new("3108").unwrap(),
        dcvv: Dcvv::new("123").unwrap(),
        one_time_token: OneTimeToken::new("1234567890123456").unwrap(),
    }
}

/// An HTTP/1.1 response with `body` and a Content-Length.
pub fn response(status: u16, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Writes the whole request of `call` (as a socket that takes everything) and returns it.
pub fn write_all(call: &mut Call, buf: &mut [u8]) -> Vec<u8> {
    let wire = call.outgoing(buf).to_vec();
    call.sent(buf, wire.len()).unwrap();
    wire
}

/// Feeds `bytes` to a call in reads of at most `piece` bytes; stops at the first error or at
/// `Complete`.
pub fn feed(
    call: &mut Call,
    buf: &mut [u8],
    bytes: &[u8],
    piece: usize,
) -> Result<Progress, CallError> {
    let mut rest = bytes;
    let mut progress = Progress::NeedMore;
    while !rest.is_empty() {
        let space = call.incoming(buf)?;
        let n = piece.max(1).min(rest.len()).min(space.len());
        if n == 0 {
            break;
        }
        space[..n].copy_from_slice(&rest[..n]);
        rest = &rest[n..];
        progress = call.received(buf, n)?;
        if progress == Progress::Complete {
            break;
        }
    }
    Ok(progress)
}

/// A whole exchange of `request` answered with `response` (then the peer closes), decoded
/// with `crypto`, in a buffer of `cap` bytes; reads of `piece` bytes.
pub fn exchange_with<R: Request>(
    request: &R,
    response: &[u8],
    crypto: &mut dyn Crypto,
    cap: usize,
    piece: usize,
) -> (Result<Answered, CallError>, ReplyOf<R::Endpoint>)
where
    ReplyOf<R::Endpoint>: AnyReply,
{
    let mut buf = vec![0u8; cap];
    let mut reply = ReplyOf::<R::Endpoint>::empty();
    let mut call = Call::new(&session(), &stamp(), request, &mut *crypto, &mut buf).unwrap();
    write_all(&mut call, &mut buf);
    let r = feed(&mut call, &mut buf, response, piece).and_then(|p| match p {
        Progress::Complete => Ok(Progress::Complete),
        Progress::NeedMore => call.closed(&mut buf),
    });
    let r = r.and_then(|_| call.finish(&mut buf, crypto, &mut reply));
    assert!(
        buf.iter().all(|&b| b == 0),
        "the call leaves nothing in the buffer"
    );
    (r, reply)
}

/// [`exchange_with`] without keys, in a 4 KiB buffer, in one read.
pub fn exchange<R: Request>(
    request: &R,
    response: &[u8],
) -> (Result<Answered, CallError>, ReplyOf<R::Endpoint>)
where
    ReplyOf<R::Endpoint>: AnyReply,
{
    exchange_with(request, response, &mut NoCrypto, 4096, usize::MAX)
}
