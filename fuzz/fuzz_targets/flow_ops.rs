//! The recovery state machine driven by arbitrary sequences of network events (quinn-style):
//! never panics, never sends more than `max_sends` times, never sends again after a possible
//! delivery unless the inquiry said 007_009, refunds are never re-sent after a loss, "not
//! processed" after a possible delivery only once the token bound passed, charges never end
//! unknown, and the journal record always decodes.
#![no_main]

use arbitrary::Arbitrary;
use konaplate_core::field::*;
use konaplate_core::flow::*;
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
}

#[derive(Arbitrary, Debug)]
struct Input {
    op: u8,
    poll: u16,
    deadline: u32,
    events: Vec<Ev>,
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
    let ess = Essentials {
        user_id: UserId::new(1).unwrap(),
        amount: None,
        merchant_id: None,
        nr_number: None,
    };
    let mut f = Flow::new(op, SequenceId::new("F").unwrap(), ess, policy, 0);
    let mut now = 0u64;
    let mut sends = 0u8;
    let mut may_send = true;
    for ev in inp.events {
        let action = f.poll(now);
        match (&action, &ev) {
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
                assert_eq!(f.poll(now + 1_000_000), action, "done is final");
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
        let body: Vec<u8>;
        let e = match (&action, ev) {
            (Action::Send, Ev::NotSent) => {
                may_send = true;
                Event::NotSent
            }
            (_, Ev::NotSent) => Event::NotSent,
            (_, Ev::Lost) => Event::Lost,
            (Action::Send, Ev::Response(s, b)) => {
                body = b;
                Event::Response {
                    status: s,
                    body: &body,
                }
            }
            (Action::Send, Ev::Ok(p)) => {
                body = format!(r#"{{"response":{{"code":"000_000","description":""}},"nrNumber":"N1","isPending":{p}}}"#).into_bytes();
                Event::Response {
                    status: 200,
                    body: &body,
                }
            }
            (Action::Send, _) => {
                body = br#"{"response":{"code":"007_001","description":""}}"#.to_vec();
                Event::Response {
                    status: 400,
                    body: &body,
                }
            }
            (_, Ev::NotFound) => {
                may_send = true;
                body = br#"{"response":{"code":"007_009","description":""}}"#.to_vec();
                Event::InquiryResponse {
                    status: 400,
                    body: &body,
                }
            }
            (_, Ev::Result(r)) => {
                let r = ["COMPLETED", "FAILED", "PENDING"][usize::from(r % 3)];
                body = format!(
                    r#"{{"response":{{"code":"000_000","description":""}},"result":"{r}"}}"#
                )
                .into_bytes();
                Event::InquiryResponse {
                    status: 200,
                    body: &body,
                }
            }
            (_, Ev::Inquiry(s, b)) => {
                body = b;
                Event::InquiryResponse {
                    status: s,
                    body: &body,
                }
            }
            (_, _) => Event::Lost,
        };
        f.handle(now, e);
        assert!(sends <= 3);
        let rec = f.record();
        assert_eq!(JournalRecord::decode(&rec.encode()).unwrap(), rec);
    }
});
