//! The recovery state machine and its journal record.

use konaplate_core::flow::*;
use konaplate_core::prelude::*;
use proptest::prelude::*;

const MIN: u64 = 60_000;

fn essentials() -> Essentials {
    Essentials {
        user_id: UserId::new(50_000_100_001).unwrap(),
        amount: Some(ChargeAmount::new(10_000).unwrap()),
        merchant_id: Some(MerchantId::new("100000000000101").unwrap()),
        nr_number: None,
    }
}

fn flow(op: Operation) -> Flow {
    Flow::new(
        op,
        SequenceId::new("KP-TEST-1").unwrap(),
        essentials(),
        Policy::default(),
        0,
    )
}

fn ok_charge(pending: bool) -> String {
    format!(
        r#"{{"response":{{"code":"000_000","description":"성공"}},"nrNumber":"KMN261123000000001","isPending":{pending}}}"#
    )
}
fn inquiry(result: &str) -> String {
    format!(r#"{{"response":{{"code":"000_000","description":"성공"}},"result":"{result}"}}"#)
}
const NOT_FOUND: &str =
    r#"{"response":{"code":"007_009","description":"이전 거래를 찾을 수 없습니다."}}"#;

fn respond(f: &mut Flow, now: u64, body: &str) {
    f.handle(
        now,
        Event::Response {
            status: 200,
            body: body.as_bytes(),
        },
    );
}
fn answer(f: &mut Flow, now: u64, body: &str) {
    f.handle(
        now,
        Event::InquiryResponse {
            status: 200,
            body: body.as_bytes(),
        },
    );
}

#[test]
fn direct_success() {
    let mut f = flow(Operation::Charge);
    assert_eq!(f.state(), State::Sending);
    assert_eq!(f.poll(0), Action::Send);
    respond(&mut f, 10, &ok_charge(false));
    match f.poll(10) {
        Action::Done(Outcome::Completed {
            nr_number: Some(nr),
            from_inquiry: false,
        }) => assert_eq!(nr.as_str(), "KMN261123000000001"),
        other => panic!("{other:?}"),
    }
    assert_eq!(f.state(), State::Completed);
    assert_eq!(f.sends(), 1);
}

#[test]
fn pending_is_polled_every_five_minutes_until_final() {
    let mut f = flow(Operation::Charge);
    f.poll(0);
    respond(&mut f, 0, &ok_charge(true));
    assert_eq!(f.state(), State::Pending);
    assert_eq!(f.poll(1), Action::WaitUntil(5 * MIN));
    assert_eq!(f.poll(5 * MIN), Action::Inquire);
    answer(&mut f, 5 * MIN, &inquiry("PENDING"));
    assert_eq!(f.poll(5 * MIN + 1), Action::WaitUntil(10 * MIN));
    assert_eq!(f.poll(10 * MIN), Action::Inquire);
    answer(&mut f, 10 * MIN, &inquiry("COMPLETED"));
    match f.poll(10 * MIN) {
        Action::Done(
            o @ Outcome::Completed {
                from_inquiry: true, ..
            },
        ) => {
            assert_eq!(o.inquiry_result(), Some(ChargeResult::Completed));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(f.sends(), 1, "never re-sent");
}

#[test]
fn pending_past_deadline_is_still_pending() {
    let policy = Policy {
        deadline_ms: 12 * MIN,
        ..Policy::default()
    };
    let mut f = Flow::new(
        Operation::Cancel,
        SequenceId::new("C1").unwrap(),
        essentials(),
        policy,
        0,
    );
    f.poll(0);
    f.handle(
        0,
        Event::Response {
            status: 200,
            body: br#"{"response":{"code":"000_000","description":""},"isPending":true}"#,
        },
    );
    let mut now = 0;
    loop {
        match f.poll(now) {
            Action::WaitUntil(t) => now = t,
            Action::Inquire => answer(&mut f, now, &inquiry("PENDING")),
            Action::Done(o) => {
                assert_eq!(o, Outcome::StillPending);
                break;
            }
            Action::Send => panic!("re-sent a pending request"),
        }
    }
    assert_eq!(f.state(), State::StillPending);
    assert!(f.state().is_unfinished(), "recover resumes it");
}

#[test]
fn lost_request_is_resolved_by_inquiry_not_resent() {
    for (result, want) in [("COMPLETED", true), ("FAILED", false)] {
        let mut f = flow(Operation::Charge);
        f.poll(0);
        f.handle(5, Event::Lost);
        assert_eq!(f.state(), State::Lost);
        assert_eq!(f.poll(5), Action::Inquire);
        answer(&mut f, 6, &inquiry(result));
        let o = match f.poll(6) {
            Action::Done(o) => o,
            other => panic!("{other:?}"),
        };
        assert_eq!(matches!(o, Outcome::Completed { .. }), want);
        assert_eq!(f.sends(), 1);
    }
}

#[test]
fn never_arrived_is_resent_with_the_same_sequence_id() {
    let mut f = flow(Operation::Charge);
    f.poll(0);
    f.handle(0, Event::Lost);
    assert_eq!(f.poll(0), Action::Inquire);
    answer(&mut f, 0, NOT_FOUND);
    assert_eq!(f.poll(1), Action::WaitUntil(2_000));
    assert_eq!(f.poll(2_000), Action::Send);
    assert_eq!(f.sequence_id().as_str(), "KP-TEST-1");
    respond(&mut f, 2_001, &ok_charge(false));
    assert!(matches!(
        f.poll(2_001),
        Action::Done(Outcome::Completed { .. })
    ));
    assert_eq!(f.sends(), 2);
}

#[test]
fn never_arrived_without_a_token_is_not_processed() {
    let mut f = flow(Operation::Charge);
    f.forbid_resend();
    f.poll(0);
    f.handle(0, Event::Lost);
    f.poll(0);
    answer(&mut f, 0, NOT_FOUND);
    assert_eq!(f.poll(0), Action::Done(Outcome::NotProcessed));
}

#[test]
fn server_errors_and_garbage_are_unknown_outcomes() {
    for (status, body) in [
        (500u16, "oops"),
        (502, ""),
        (200, "{\"response\":"),
        (200, "<html>"),
        (200, r#"{"response":{"code":"000_000","description":""}}"#),
    ] {
        let mut f = flow(Operation::Charge);
        f.poll(0);
        f.handle(
            0,
            Event::Response {
                status,
                body: body.as_bytes(),
            },
        );
        assert_eq!(f.state(), State::Lost, "{status} {body}");
        assert_eq!(f.poll(0), Action::Inquire);
    }
}

#[test]
fn declined_codes_are_final() {
    let mut f = flow(Operation::Charge);
    f.poll(0);
    f.handle(
        0,
        Event::Response {
            status: 400,
            body: br#"{"response":{"code":"007_004","description":"PG"}}"#,
        },
    );
    match f.poll(0) {
        Action::Done(Outcome::Declined { code }) => assert_eq!(code.as_str(), "007_004"),
        other => panic!("{other:?}"),
    }
    assert_eq!(f.record().code.unwrap().as_str(), "007_004");
}

#[test]
fn not_sent_is_retried_then_given_up() {
    let mut f = flow(Operation::Refund);
    let mut now = 0;
    let mut sends = 0;
    loop {
        match f.poll(now) {
            Action::Send => {
                sends += 1;
                f.handle(now, Event::NotSent);
            }
            Action::WaitUntil(t) => now = t,
            Action::Done(o) => {
                assert_eq!(o, Outcome::NotProcessed);
                break;
            }
            Action::Inquire => panic!("refunds have no inquiry"),
        }
    }
    assert_eq!(sends, 3);
}

#[test]
fn lost_refund_stays_unknown() {
    for ev in [
        Event::Lost,
        Event::Response {
            status: 503,
            body: b"",
        },
        Event::Response {
            status: 200,
            body: b"{}",
        },
    ] {
        let mut f = flow(Operation::Refund);
        f.poll(0);
        f.handle(0, ev);
        assert_eq!(f.poll(0), Action::Done(Outcome::Unknown));
        assert_eq!(f.state(), State::Unknown);
        assert_eq!(f.sends(), 1);
    }
}

#[test]
fn polling_again_without_a_report_never_resends() {
    let mut f = flow(Operation::Charge);
    assert_eq!(f.poll(0), Action::Send);
    assert_eq!(f.poll(1), Action::Inquire, "treated as lost");
    let mut g = flow(Operation::Refund);
    assert_eq!(g.poll(0), Action::Send);
    assert_eq!(g.poll(1), Action::Done(Outcome::Unknown));
}

#[test]
fn inquiry_failures_are_retried_until_the_deadline() {
    let policy = Policy {
        deadline_ms: 10_000,
        ..Policy::default()
    };
    let mut f = Flow::new(
        Operation::Charge,
        SequenceId::new("S").unwrap(),
        essentials(),
        policy,
        0,
    );
    f.poll(0);
    f.handle(0, Event::Lost);
    let mut now = 0;
    let mut inquiries = 0;
    loop {
        match f.poll(now) {
            Action::Inquire => {
                inquiries += 1;
                f.handle(
                    now,
                    if inquiries % 2 == 0 {
                        Event::Lost
                    } else {
                        Event::InquiryResponse {
                            status: 503,
                            body: b"",
                        }
                    },
                );
            }
            Action::WaitUntil(t) => now = t,
            Action::Done(o) => {
                assert_eq!(o, Outcome::Unknown);
                break;
            }
            Action::Send => panic!("re-sent without 007_009"),
        }
    }
    assert!(inquiries >= 5);
}

#[test]
fn resume_from_the_journal() {
    let mut f = flow(Operation::Charge);
    f.poll(0);
    let rec = f.record(); // written before sending, then the power went out
    assert_eq!(rec.state, State::Sending);
    let mut r = Flow::resume(
        &JournalRecord::decode(&rec.encode()).unwrap(),
        Policy::default(),
        100,
    );
    assert_eq!(r.poll(100), Action::Inquire);
    answer(&mut r, 100, NOT_FOUND);
    assert_eq!(
        r.poll(100),
        Action::Done(Outcome::NotProcessed),
        "the token is gone: not re-sent"
    );
    let refund = Flow::new(
        Operation::Refund,
        SequenceId::new("R").unwrap(),
        essentials(),
        Policy::default(),
        0,
    )
    .record();
    let mut r = Flow::resume(&refund, Policy::default(), 0);
    assert_eq!(r.poll(0), Action::Done(Outcome::Unknown));
    let mut done = flow(Operation::Charge);
    done.poll(0);
    respond(&mut done, 0, &ok_charge(false));
    let mut r = Flow::resume(&done.record(), Policy::default(), 0);
    assert!(matches!(r.poll(0), Action::Done(Outcome::Completed { .. })));
}

#[test]
fn record_round_trip_and_layout() {
    let mut f = flow(Operation::Charge);
    f.poll(0);
    respond(&mut f, 42, &ok_charge(false));
    let rec = f.record();
    let bytes = rec.encode();
    assert_eq!(bytes.len(), JournalRecord::LEN);
    assert_eq!(&bytes[..4], b"KPJ1");
    let back = JournalRecord::decode(&bytes).unwrap();
    assert_eq!(back, rec);
    assert_eq!(
        back.essentials.nr_number.unwrap().as_str(),
        "KMN261123000000001"
    );
    assert_eq!(back.updated_ms, 42);
}

#[test]
fn crc32_known_answer() {
    // python3 -c 'import zlib; print(hex(zlib.crc32(b"123456789")))' -> 0xcbf43926
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
}

#[test]
fn damaged_records_are_detected() {
    let bytes = flow(Operation::Cancel).record().encode();
    for cut in 0..JournalRecord::LEN {
        assert_eq!(
            JournalRecord::decode(&bytes[..cut]),
            Err(RecordError::Short)
        );
    }
    for i in 0..JournalRecord::LEN {
        for bit in 0..8 {
            let mut b = bytes;
            b[i] ^= 1 << bit;
            assert!(
                JournalRecord::decode(&b).is_err(),
                "flip byte {i} bit {bit}"
            );
        }
    }
}

proptest! {
    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = JournalRecord::decode(&bytes);
    }

    /// Whatever the network does, a charge is only sent again after an inquiry said 007_009
    /// following a loss, never more than max_sends times, and the flow ends.
    #[test]
    fn never_resent_without_not_found(events in proptest::collection::vec(0u8..9, 1..60), op in 0u8..3) {
        let op = [Operation::Charge, Operation::Cancel, Operation::Refund][op as usize];
        let policy = Policy { deadline_ms: 50 * MIN, ..Policy::default() };
        let mut f = Flow::new(op, SequenceId::new("P").unwrap(), essentials(), policy, 0);
        let mut now = 0u64;
        let mut sends = 0;
        let mut may_resend = true; // the first send
        let mut it = events.into_iter();
        let mut steps = 0;
        loop {
            steps += 1;
            prop_assert!(steps < 10_000);
            match f.poll(now) {
                Action::Send => {
                    prop_assert!(may_resend, "send without permission");
                    sends += 1;
                    may_resend = false;
                    let ev = it.next().unwrap_or(8);
                    match ev {
                        0 => f.handle(now, Event::NotSent),
                        1 | 2 => f.handle(now, Event::Lost),
                        3 => f.handle(now, Event::Response { status: 500, body: b"" }),
                        4 => f.handle(now, Event::Response { status: 200, body: ok_charge(true).as_bytes() }),
                        5 => f.handle(now, Event::Response { status: 400, body: br#"{"response":{"code":"007_001","description":""}}"# }),
                        6 => f.handle(now, Event::Response { status: 200, body: b"{garbage" }),
                        _ => f.handle(now, Event::Response { status: 200, body: br#"{"response":{"code":"000_000","description":""},"nrNumber":"KMN261123000000001","isPending":false}"# }),
                    }
                    if ev == 0 { may_resend = true; }
                }
                Action::Inquire => {
                    prop_assert!(op != Operation::Refund);
                    match it.next().unwrap_or(8) {
                        0 | 1 => { f.handle(now, Event::InquiryResponse { status: 200, body: NOT_FOUND.as_bytes() }); may_resend = true; }
                        2 => f.handle(now, Event::Lost),
                        3 => f.handle(now, Event::InquiryResponse { status: 502, body: b"" }),
                        4 | 5 => f.handle(now, Event::InquiryResponse { status: 200, body: inquiry("PENDING").as_bytes() }),
                        6 => f.handle(now, Event::InquiryResponse { status: 200, body: inquiry("FAILED").as_bytes() }),
                        _ => f.handle(now, Event::InquiryResponse { status: 200, body: inquiry("COMPLETED").as_bytes() }),
                    }
                }
                Action::WaitUntil(t) => { prop_assert!(t > now); now = t; }
                Action::Done(_) => break,
            }
        }
        prop_assert!(sends <= 3);
        // the record of the end state always decodes
        prop_assert_eq!(JournalRecord::decode(&f.record().encode()).unwrap(), f.record());
    }
}
