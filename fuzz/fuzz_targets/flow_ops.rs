//! The recovery state machine driven by arbitrary sequences of network events (quinn-style):
//! never panics, never sends more than `max_sends` times, never sends again after a possible
//! delivery unless the inquiry said 007_009, refunds are never re-sent after a loss, "not
//! processed" after a possible delivery only once the token bound passed, charges never end
//! unknown, and the journal record always decodes.
#![no_main]

use arbitrary::Arbitrary;
use konaplate_core::api::ChargeRequest;
use konaplate_core::call::Call;
use konaplate_core::field::*;
use konaplate_core::flow::*;
use konaplate_core::prelude::*;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Ev {
    NotSent,
    Lost,
    Response(u16, Vec<u8>),
    Ok(bool),
    Declined,
    NotFound,
    Result(u8),
    Inquiry(u16, Vec<u8>),
    Advance(u32),
    /// The raw bytes of an answer, read in pieces of this size (any framing, any garbage).
    Raw(u8, Vec<u8>),
    /// The driver polls again without giving the call back.
    Forget,
}

#[derive(Arbitrary, Debug)]
struct Input {
    op: u8,
    poll: u16,
    deadline: u32,
    events: Vec<Ev>,
}

fn request(op: Operation) -> MoneyRequest {
    let charge = ChargeRequest {
        sequence_id: SequenceId::new("F").unwrap(),
        user_id: UserId::new(1).unwrap(),
        amount: ChargeAmount::new(1).unwrap(),
        one_time_token: OneTimeToken::new("1234567890123456").unwrap(),
        dcvv: Dcvv::new("123").unwrap(),
        merchant_id: MerchantId::new("100000000000101").unwrap(),
    };
    match op {
        Operation::Charge => charge.into(),
        Operation::Cancel => konaplate_core::api::CancelRequest {
            sequence_id: charge.sequence_id,
            user_id: charge.user_id,
            nr_number: NrNumber::new("N1").unwrap(),
            one_time_token: charge.one_time_token,
            dcvv: charge.dcvv,
            card_expiry: None,
        }
        .into(),
        _ => konaplate_core::api::RefundRequest {
            sequence_id: charge.sequence_id,
            user_id: charge.user_id,
            card_expiry: CardExpiry::new("3108").unwrap(),
            dcvv: charge.dcvv,
            one_time_token: charge.one_time_token,
        }
        .into(),
    }
}

fn session() -> Session {
    Session::new(
        Credentials::new(
            AspId::new("100000000000001").unwrap(),
            AccessKey::new("abcdefg-0123456789abcdef0123456789abcdef").unwrap(),
            &SecretKey::new("s").unwrap(),
            None,
        ),
        Target::new(Host::parse("h").unwrap()),
    )
}

/// Answers `call` with `bytes` in reads of `piece` bytes, then the peer closes.
fn feed(call: &mut Call, buf: &mut [u8], bytes: &[u8], piece: usize) {
    let mut rest = bytes;
    while !rest.is_empty() {
        let Ok(space) = call.incoming(buf) else {
            return;
        };
        let n = piece.max(1).min(rest.len()).min(space.len());
        if n == 0 {
            return;
        }
        space[..n].copy_from_slice(&rest[..n]);
        rest = &rest[n..];
        match call.received(buf, n) {
            Ok(Progress::NeedMore) => {}
            _ => return,
        }
    }
    let _ = call.closed(buf);
}

fn http(status: u16, body: &[u8]) -> Vec<u8> {
    let mut v = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    v.extend_from_slice(body);
    v
}

fuzz_target!(|inp: Input| {
    let op = [Operation::Charge, Operation::Cancel, Operation::Refund][usize::from(inp.op % 3)];
    let policy = Policy {
        poll_interval_ms: u64::from(inp.poll) + 1,
        deadline_ms: u64::from(inp.deadline),
        retry_ms: 10,
        max_sends: 3,
        token_ttl_ms: 30_000,
        commit_grace_ms: 5_000,
    };
    let session = session();
    let stamp = Stamp::new(
        Timestamp::new(2026, 11, 23, 19, 54, 6, 123).unwrap(),
        TimeZone::KST,
        1,
    );
    let mut buf = vec![0u8; 2048];
    let mut f = Flow::start(request(op), policy, 0);
    let mut now = 0u64;
    let mut sends = 0u8;
    let mut may_send = true;
    for ev in inp.events {
        let action = f.poll(now);
        match (&action, &ev) {
            (Action::Persist, _) => {
                f.persisted();
                continue;
            }
            (_, Ev::Advance(ms)) => {
                now += u64::from(*ms);
                continue;
            }
            (Action::Send, _) => {
                assert!(may_send, "sent without permission");
                sends += 1;
                may_send = false;
            }
            (Action::Done(o), _) => {
                // a final state is journaled before Done is said, and Done stays
                let mut again = f.poll(now + 1_000_000);
                if again == Action::Persist {
                    f.persisted();
                    again = f.poll(now + 1_000_000);
                }
                assert_eq!(again, action, "done is final");
                let rec = f.record();
                if *o == Outcome::NotProcessed && rec.maybe_arrived {
                    assert!(
                        now >= rec.accept_until_ms,
                        "not processed before the token bound"
                    );
                }
                assert!(
                    op == Operation::Refund || *o != Outcome::Unknown,
                    "a charge ended unknown"
                );
                break;
            }
            (Action::WaitUntil(t), _) => {
                assert!(*t > now);
                now = *t;
                continue;
            }
            (Action::Inquire, _) => assert!(op != Operation::Refund),
            (other, _) => panic!("unexpected action {other:?}"),
        }
        let mut call = f.call(&session, &stamp, NoCrypto, &mut buf).unwrap();
        let written = call.outgoing(&buf).len();
        let answer = match (&action, ev) {
            (Action::Send, Ev::NotSent) => {
                may_send = true;
                None
            }
            (_, Ev::NotSent) => None,
            (_, Ev::Forget) => {
                // polled again with the call out: it may have left
                call.sent(&mut buf, written).unwrap();
                call.abort(&mut buf);
                continue;
            }
            (_, Ev::Lost) => Some((Vec::new(), 1)),
            (Action::Send, Ev::Response(s, b)) => Some((http(s, &b), 3)),
            (Action::Send, Ev::Ok(p)) => Some((http(200, format!(r#"{{"response":{{"code":"000_000","description":""}},"nrNumber":"N1","isPending":{p}}}"#).as_bytes()), 5)),
            (Action::Send, Ev::Raw(piece, b)) => Some((b, usize::from(piece))),
            (Action::Send, _) => Some((http(400, br#"{"response":{"code":"007_001","description":""}}"#), 7)),
            (_, Ev::NotFound) => {
                may_send = true;
                Some((http(400, br#"{"response":{"code":"007_009","description":""}}"#), 2))
            }
            (_, Ev::Result(r)) => {
                let r = ["COMPLETED", "FAILED", "PENDING"][usize::from(r % 3)];
                Some((http(200, format!(r#"{{"response":{{"code":"000_000","description":""}},"result":"{r}"}}"#).as_bytes()), 4))
            }
            (_, Ev::Inquiry(s, b)) => Some((http(s, &b), 6)),
            (_, Ev::Raw(piece, b)) => Some((b, usize::from(piece))),
            (_, _) => Some((Vec::new(), 1)),
        };
        if let Some((bytes, piece)) = answer {
            call.sent(&mut buf, written).unwrap();
            feed(&mut call, &mut buf, &bytes, piece);
        }
        f.end_call(now, &mut call, &mut buf, NoCrypto).unwrap();
        assert!(
            buf.iter().all(|&b| b == 0),
            "the call left bytes in the buffer"
        );
        assert!(sends <= 3);
        let rec = f.record();
        assert_eq!(JournalRecord::decode(&rec.encode()).unwrap(), rec);
    }
});
