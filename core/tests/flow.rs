//! The recovery state machine and its journal record.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use konaplate_core::call::{Call, CallError};
use konaplate_core::flow::*;
use konaplate_core::prelude::NoCrypto;
use konaplate_core::{code::*, field::*};
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

/// A request of `op` under `seq` (a charge's essentials are [`essentials`]).
fn request(op: Operation, seq: &str) -> MoneyRequest {
    match op {
        Operation::Charge => common::charge_request(seq).into(),
        Operation::Cancel => common::cancel_request(seq).into(),
        Operation::Refund => common::refund_request(seq).into(),
    }
}

fn flow(op: Operation) -> Flow {
    Flow::start(request(op, "KP-TEST-1"), Policy::default(), 0)
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

/// What the flow asks, with every record it asks for made durable on the way.
fn poll(f: &mut Flow, now: u64) -> Action {
    loop {
        match f.poll(now) {
            Action::Persist => f.persisted(),
            a => return a,
        }
    }
}

/// Takes the call the flow hands out; `write` says whether its request goes on the wire.
fn take(f: &mut Flow, buf: &mut [u8], write: bool) -> Call {
    let mut call = f
        .call(&common::session(), &common::stamp(), NoCrypto, buf)
        .unwrap();
    if write {
        common::write_all(&mut call, buf);
    }
    call
}

/// The call is answered with `status` and `body`.
fn respond_with(f: &mut Flow, now: u64, status: u16, body: &[u8]) {
    let mut buf = vec![0u8; 4096];
    let mut call = take(f, &mut buf, true);
    let mut response = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(body);
    common::feed(&mut call, &mut buf, &response, 9).unwrap();
    f.end_call(now, &mut call, &mut buf, NoCrypto).unwrap();
    assert!(
        buf.iter().all(|&b| b == 0),
        "the call leaves nothing behind"
    );
}
/// The request's answer (200).
fn respond(f: &mut Flow, now: u64, body: &str) {
    respond_with(f, now, 200, body.as_bytes());
}
/// The inquiry's answer (200).
fn answer(f: &mut Flow, now: u64, body: &str) {
    respond_with(f, now, 200, body.as_bytes());
}
/// The request (or inquiry) was written and no answer came.
fn lose(f: &mut Flow, now: u64) {
    let mut buf = vec![0u8; 4096];
    let mut call = take(f, &mut buf, true);
    f.end_call(now, &mut call, &mut buf, NoCrypto).unwrap();
    assert!(buf.iter().all(|&b| b == 0));
}
/// The connection failed before a byte was written.
fn not_sent(f: &mut Flow, now: u64) {
    let mut buf = vec![0u8; 4096];
    let mut call = take(f, &mut buf, false);
    f.end_call(now, &mut call, &mut buf, NoCrypto).unwrap();
    assert!(buf.iter().all(|&b| b == 0));
}

#[test]
fn direct_success() {
    let mut f = flow(Operation::Charge);
    assert_eq!(f.state(), State::Sending);
    assert_eq!(poll(&mut f, 0), Action::Send);
    respond(&mut f, 10, &ok_charge(false));
    match poll(&mut f, 10) {
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
    poll(&mut f, 0);
    respond(&mut f, 0, &ok_charge(true));
    assert_eq!(f.state(), State::Pending);
    assert_eq!(poll(&mut f, 1), Action::WaitUntil(5 * MIN));
    assert_eq!(poll(&mut f, 5 * MIN), Action::Inquire);
    answer(&mut f, 5 * MIN, &inquiry("PENDING"));
    assert_eq!(poll(&mut f, 5 * MIN + 1), Action::WaitUntil(10 * MIN));
    assert_eq!(poll(&mut f, 10 * MIN), Action::Inquire);
    answer(&mut f, 10 * MIN, &inquiry("COMPLETED"));
    match poll(&mut f, 10 * MIN) {
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
    let mut f = Flow::start(request(Operation::Cancel, "C1"), policy, 0);
    poll(&mut f, 0);
    respond_with(
        &mut f,
        0,
        200,
        br#"{"response":{"code":"000_000","description":""},"isPending":true}"#,
    );
    let mut now = 0;
    loop {
        match poll(&mut f, now) {
            Action::WaitUntil(t) => now = t,
            Action::Inquire => answer(&mut f, now, &inquiry("PENDING")),
            Action::Done(o) => {
                assert_eq!(o, Outcome::StillPending);
                assert!(!o.is_final());
                break;
            }
            other => panic!("{other:?}: re-sent a pending request"),
        }
    }
    assert_eq!(f.state(), State::Pending);
    assert!(f.state().awaits_platform(), "recover resumes it");
}

#[test]
fn lost_request_is_resolved_by_inquiry_not_resent() {
    for (result, want) in [("COMPLETED", true), ("FAILED", false)] {
        let mut f = flow(Operation::Charge);
        poll(&mut f, 0);
        lose(&mut f, 5);
        assert_eq!(f.state(), State::Lost);
        assert_eq!(poll(&mut f, 5), Action::Inquire);
        answer(&mut f, 6, &inquiry(result));
        let o = match poll(&mut f, 6) {
            Action::Done(o) => o,
            other => panic!("{other:?}"),
        };
        assert_eq!(matches!(o, Outcome::Completed { .. }), want);
        assert!(o.is_final());
        assert_eq!(f.sends(), 1);
    }
}

#[test]
fn not_found_is_resent_with_the_same_sequence_id_while_the_token_lives() {
    let mut f = flow(Operation::Charge);
    poll(&mut f, 0);
    lose(&mut f, 0);
    assert_eq!(poll(&mut f, 0), Action::Inquire);
    answer(&mut f, 0, NOT_FOUND);
    assert_eq!(poll(&mut f, 1), Action::WaitUntil(2_000));
    assert_eq!(poll(&mut f, 2_000), Action::Send);
    assert_eq!(f.sequence_id().as_str(), "KP-TEST-1");
    respond(&mut f, 2_001, &ok_charge(false));
    assert!(matches!(
        poll(&mut f, 2_001),
        Action::Done(Outcome::Completed { .. })
    ));
    assert_eq!(f.sends(), 2);
}

/// The finding of the slow platform: the original is still being processed when the
/// inquiry says "not found"; the re-send is refused as a reused sequenceId. That refusal is
/// not the platform's answer to the request it processed: the call stays in doubt and the
/// inquiry decides.
#[test]
fn a_refused_resend_is_held_until_the_inquiry_decides() {
    const REUSED: &str =
        r#"{"response":{"code":"000_002","description":"Invalid input parameter. sequenceId"}}"#;
    for (last, want) in [
        (
            "COMPLETED",
            Outcome::Completed {
                nr_number: None,
                from_inquiry: true,
            },
        ),
        (
            "FAILED",
            Outcome::Declined {
                code: RawCode::new("000_002").unwrap(),
            },
        ),
    ] {
        let mut f = flow(Operation::Charge);
        poll(&mut f, 0);
        lose(&mut f, 1_000);
        assert_eq!(poll(&mut f, 1_000), Action::Inquire);
        answer(&mut f, 1_050, NOT_FOUND);
        assert_eq!(poll(&mut f, 3_050), Action::Send);
        respond_with(&mut f, 3_100, 400, REUSED.as_bytes());
        assert_eq!(f.state(), State::Lost, "in doubt, not declined");
        assert!(f.record().held_decline);
        assert_eq!(poll(&mut f, 3_100), Action::Inquire);
        answer(&mut f, 3_150, NOT_FOUND);
        // still not committed: keep asking, never send a third time while a decline is held
        let mut now = 3_150;
        let mut asked = 0;
        loop {
            match poll(&mut f, now) {
                Action::WaitUntil(t) => now = t,
                Action::Inquire if asked < 2 => {
                    asked += 1;
                    answer(&mut f, now, NOT_FOUND);
                }
                Action::Inquire => {
                    answer(&mut f, now, &inquiry(last));
                }
                Action::Done(o) => {
                    match (&o, &want) {
                        (
                            Outcome::Completed {
                                from_inquiry: true, ..
                            },
                            Outcome::Completed { .. },
                        ) => {}
                        _ => assert_eq!(o, want),
                    }
                    break;
                }
                Action::Send => panic!("sent a third time while a decline was held"),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(f.sends(), 2);
    }
}

/// `007_009` means "not yet" until the token has expired and the commit grace has passed.
#[test]
fn not_found_is_final_only_after_the_token_bound() {
    let policy = Policy::default();
    let bound = policy.token_ttl_ms + policy.commit_grace_ms;
    let mut f = flow(Operation::Charge);
    f.forbid_resend();
    poll(&mut f, 0);
    lose(&mut f, 0);
    let mut now = 0;
    let mut inquiries = 0;
    let o = loop {
        match poll(&mut f, now) {
            Action::WaitUntil(t) => now = t,
            Action::Inquire => {
                inquiries += 1;
                answer(&mut f, now, NOT_FOUND);
            }
            Action::Done(o) => break o,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(o, Outcome::NotProcessed);
    assert_eq!(now, bound, "decided exactly when the bound passed");
    assert!(inquiries >= 5, "{inquiries}");
    assert!(inquiries < 40, "backs off: {inquiries}");
    assert_eq!(f.record().answer.code.unwrap().as_str(), "007_009");
}

#[test]
fn a_short_token_shortens_the_bound_and_the_resends() {
    let policy = Policy {
        token_ttl_ms: 30_000,
        commit_grace_ms: 10_000,
        ..Policy::default()
    };
    let mut f = Flow::start(request(Operation::Charge, "T"), policy, 0);
    poll(&mut f, 0);
    lose(&mut f, 29_000);
    assert_eq!(poll(&mut f, 29_000), Action::Inquire);
    answer(&mut f, 30_500, NOT_FOUND);
    // the token is dead: no re-send, keep asking until 40 s
    let mut now = 30_500;
    loop {
        match poll(&mut f, now) {
            Action::WaitUntil(t) => now = t,
            Action::Inquire => answer(&mut f, now, NOT_FOUND),
            Action::Done(o) => {
                assert_eq!(o, Outcome::NotProcessed);
                assert_eq!(now, 40_000);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(f.sends(), 1);
}

#[test]
fn server_errors_and_garbage_are_in_doubt() {
    for (status, body) in [
        (500u16, "oops"),
        (502, ""),
        (200, "{\"response\":"),
        (200, "<html>"),
        (404, "<html>not found</html>"),
        (200, r#"{"response":{"code":"000_000","description":""}}"#),
    ] {
        let mut f = flow(Operation::Charge);
        poll(&mut f, 0);
        respond_with(&mut f, 0, status, body.as_bytes());
        assert_eq!(f.state(), State::Lost, "{status} {body}");
        assert_eq!(poll(&mut f, 0), Action::Inquire);
    }
}

#[test]
fn the_first_answer_is_authoritative() {
    let mut f = flow(Operation::Charge);
    poll(&mut f, 0);
    respond_with(
        &mut f,
        0,
        400,
        br#"{"response":{"code":"007_004","description":"PG"}}"#,
    );
    match poll(&mut f, 0) {
        Action::Done(Outcome::Declined { code }) => assert_eq!(code.as_str(), "007_004"),
        other => panic!("{other:?}"),
    }
    let rec = f.record();
    assert_eq!(rec.answer.code.unwrap().as_str(), "007_004");
    assert_eq!(rec.answer.description.as_str(), "PG");
    assert_eq!(rec.state, State::Declined);
}

#[test]
fn an_answer_after_a_refused_connection_is_still_authoritative() {
    let mut f = flow(Operation::Charge);
    poll(&mut f, 0);
    not_sent(&mut f, 0);
    assert_eq!(poll(&mut f, 2_000), Action::Send);
    respond_with(
        &mut f,
        2_000,
        400,
        br#"{"response":{"code":"007_001","description":""}}"#,
    );
    assert!(matches!(
        poll(&mut f, 2_000),
        Action::Done(Outcome::Declined { .. })
    ));
}

#[test]
fn not_sent_is_retried_then_given_up() {
    let mut f = flow(Operation::Refund);
    let mut now = 0;
    let mut sends = 0;
    loop {
        match poll(&mut f, now) {
            Action::Send => {
                sends += 1;
                not_sent(&mut f, now);
            }
            Action::WaitUntil(t) => now = t,
            Action::Done(o) => {
                assert_eq!(o, Outcome::NotProcessed);
                break;
            }
            other => panic!("{other:?}: refunds have no inquiry"),
        }
    }
    assert_eq!(sends, 3);
}

#[test]
fn not_sent_after_a_possible_delivery_goes_back_to_the_inquiry() {
    let policy = Policy {
        max_sends: 2,
        ..Policy::default()
    };
    let mut f = Flow::start(request(Operation::Charge, "N"), policy, 0);
    poll(&mut f, 0);
    lose(&mut f, 0);
    poll(&mut f, 0);
    answer(&mut f, 0, NOT_FOUND);
    assert_eq!(poll(&mut f, 2_000), Action::Send);
    not_sent(&mut f, 2_000);
    // the first send may still be in flight: never "not processed" here
    assert_eq!(poll(&mut f, 2_000), Action::Inquire);
    assert_eq!(f.state(), State::Lost);
}

#[test]
fn lost_refund_stays_unknown() {
    for ev in [None, Some((503, &b""[..])), Some((200, &b"{}"[..]))] {
        let mut f = flow(Operation::Refund);
        poll(&mut f, 0);
        match ev {
            None => lose(&mut f, 0),
            Some((status, body)) => respond_with(&mut f, 0, status, body),
        }
        assert_eq!(poll(&mut f, 0), Action::Done(Outcome::Unknown));
        assert_eq!(f.state(), State::Unknown);
        assert!(f.state().is_open(), "stays listed for the operator");
        assert!(!f.state().awaits_platform());
        assert_eq!(f.sends(), 1);
    }
}

#[test]
fn polling_again_without_the_call_back_never_resends() {
    let mut buf = vec![0u8; 4096];
    let mut f = flow(Operation::Charge);
    assert_eq!(poll(&mut f, 0), Action::Send);
    let _call = take(&mut f, &mut buf, true);
    assert_eq!(poll(&mut f, 1), Action::Inquire, "treated as lost");
    let mut g = flow(Operation::Refund);
    assert_eq!(poll(&mut g, 0), Action::Send);
    let _call = take(&mut g, &mut buf, true);
    assert_eq!(poll(&mut g, 1), Action::Done(Outcome::Unknown));
    // a Send of which no call was made sent nothing: it is tried again, not resolved
    let mut h = flow(Operation::Charge);
    assert_eq!(poll(&mut h, 0), Action::Send);
    assert_eq!(poll(&mut h, 1), Action::WaitUntil(2_001));
    assert_eq!(h.state(), State::Sending);
    assert_eq!(poll(&mut h, 2_001), Action::Send);
    assert_eq!(h.sends(), 2);
}

#[test]
fn an_unreachable_inquiry_leaves_the_charge_open() {
    let policy = Policy {
        deadline_ms: 10_000,
        ..Policy::default()
    };
    let mut f = Flow::start(request(Operation::Charge, "S"), policy, 0);
    poll(&mut f, 0);
    lose(&mut f, 0);
    let mut now = 0;
    let mut inquiries = 0;
    loop {
        match poll(&mut f, now) {
            Action::Inquire => {
                inquiries += 1;
                if inquiries % 2 == 0 {
                    lose(&mut f, now);
                } else {
                    respond_with(&mut f, now, 503, b"");
                }
            }
            Action::WaitUntil(t) => now = t,
            Action::Done(o) => {
                assert_eq!(o, Outcome::InDoubt, "open, never a final unknown");
                assert!(!o.is_final());
                break;
            }
            other => panic!("{other:?}: re-sent without 007_009"),
        }
    }
    assert!(inquiries >= 3);
    assert_eq!(f.state(), State::Lost);
    assert!(f.state().awaits_platform());
}

#[test]
fn resume_from_the_journal() {
    let mut f = flow(Operation::Charge);
    assert_eq!(poll(&mut f, 0), Action::Send);
    let rec = f.record(); // written before sending, then the power went out
    assert_eq!(rec.state, State::Sending);
    assert_eq!(rec.sends, 1);
    let mut r = Flow::resume(
        &JournalRecord::decode(&rec.encode()).unwrap(),
        Policy::default(),
        100,
    );
    assert_eq!(poll(&mut r, 100), Action::Inquire);
    answer(&mut r, 100, NOT_FOUND);
    // the request may still be in flight, and the token is gone: ask again, never re-send
    assert!(matches!(poll(&mut r, 100), Action::WaitUntil(_)));
    // while it waits there is no call to make
    let mut buf = vec![0u8; 4096];
    assert_eq!(
        r.call(&common::session(), &common::stamp(), NoCrypto, &mut buf)
            .err(),
        Some(FlowError::NoCall)
    );
    let mut now = 100;
    let o = loop {
        match poll(&mut r, now) {
            Action::WaitUntil(t) => now = t,
            Action::Inquire => answer(&mut r, now, NOT_FOUND),
            Action::Done(o) => break o,
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(o, Outcome::NotProcessed);
    assert!(now >= rec.accept_until_ms);

    // a refund that may have left is unknown; one written before any send was never sent
    let mut refund = Flow::start(request(Operation::Refund, "R"), Policy::default(), 0);
    let never = refund.record();
    assert_eq!(never.sends, 0);
    assert_eq!(
        poll(&mut Flow::resume(&never, Policy::default(), 0), 0),
        Action::Done(Outcome::NotProcessed)
    );
    poll(&mut refund, 0);
    let mut r = Flow::resume(&refund.record(), Policy::default(), 0);
    assert_eq!(poll(&mut r, 0), Action::Done(Outcome::Unknown));
    assert_eq!(r.state(), State::Unknown);

    let mut done = flow(Operation::Charge);
    poll(&mut done, 0);
    respond(&mut done, 0, &ok_charge(false));
    let mut r = Flow::resume(&done.record(), Policy::default(), 0);
    assert!(matches!(
        poll(&mut r, 0),
        Action::Done(Outcome::Completed { .. })
    ));
}

#[test]
fn record_round_trip_and_layout() {
    let mut f = flow(Operation::Charge);
    poll(&mut f, 0);
    respond(&mut f, 42, &ok_charge(false));
    let rec = f.record();
    let bytes = rec.encode();
    assert_eq!(bytes.len(), JournalRecord::LEN);
    assert_eq!(JournalRecord::LEN, 512);
    assert_eq!(&bytes[..4], b"KPJ2");
    let back = JournalRecord::decode(&bytes).unwrap();
    assert_eq!(back, rec);
    assert_eq!(
        back.answer.nr_number.unwrap().as_str(),
        "KMN261123000000001"
    );
    assert_eq!(back.answer.description.as_str(), "성공");
    assert_eq!(back.answer.is_pending, Some(false));
    assert_eq!(back.updated_ms, 42);
    assert_eq!(back.accept_until_ms, 420_000);
    assert!(back.maybe_arrived);
}

/// A record written by the first format (256 bytes, `KPJ1`) is still read.
#[test]
fn first_format_records_are_read() {
    let mut b = [0u8; 256];
    b[..4].copy_from_slice(b"KPJ1");
    b[4..7].copy_from_slice(&[1, 3, 1]); // charge, pending, 1 send
    b[7] = 4;
    b[8..12].copy_from_slice(b"OLD1");
    b[38..46].copy_from_slice(&50_000_100_001u64.to_le_bytes());
    b[46..54].copy_from_slice(&5_000u64.to_le_bytes());
    b[54] = 1;
    b[55..70].copy_from_slice(b"100000000000101");
    b[70] = 18;
    b[71..89].copy_from_slice(b"KMN261123000000009");
    b[121..129].copy_from_slice(&1_000u64.to_le_bytes());
    b[129..137].copy_from_slice(&2_000u64.to_le_bytes());
    let crc = crc32(&b[..252]);
    b[252..].copy_from_slice(&crc.to_le_bytes());
    let rec = JournalRecord::decode(&b).unwrap();
    assert_eq!(rec.op, Operation::Charge);
    assert_eq!(rec.state, State::Pending);
    assert_eq!(rec.sequence_id.as_str(), "OLD1");
    assert_eq!(rec.essentials.amount.unwrap().get(), 5_000);
    assert_eq!(
        rec.essentials.nr_number, None,
        "a charge's nrNumber is the learned one"
    );
    assert_eq!(rec.answer.nr_number.unwrap().as_str(), "KMN261123000000009");
    assert!(rec.acknowledged);
    assert_eq!(rec.accept_until_ms, 1_000 + 420_000);
    // still pending at the deadline (14) is pending
    b[5] = 14;
    let crc = crc32(&b[..252]);
    b[252..].copy_from_slice(&crc.to_le_bytes());
    assert_eq!(JournalRecord::decode(&b).unwrap().state, State::Pending);
    // the reader of this format alone (a till's flash journal) refuses it by its magic, and
    // reads the current format as decode does
    assert_eq!(
        JournalRecord::decode_current(&b).unwrap_err(),
        konaplate_core::flow::RecordError::Magic
    );
    let now = rec.encode();
    assert_eq!(
        JournalRecord::decode_current(&now),
        JournalRecord::decode(&now)
    );
    assert_eq!(
        JournalRecord::decode_current_as::<Wrapped>(&now),
        Ok(rec.clone())
    );
    assert_eq!(
        JournalRecord::decode_current_as::<Wrapped>(&b),
        Err(Wrapped(konaplate_core::flow::RecordError::Magic))
    );
    assert_eq!(
        JournalRecord::decode_current(&now[..100]).unwrap_err(),
        konaplate_core::flow::RecordError::Short
    );
    // and the scanner walks a journal that mixes both formats
    let mut log = b.to_vec();
    log.extend_from_slice(&rec.encode());
    assert_eq!(
        scan(&log)
            .filter(|i| matches!(i, Item::Record { .. }))
            .count(),
        2
    );
    assert_eq!(repair_len(&log), Repair::Whole);
}

/// CRC-32 as zlib computes it (bitwise, independent of the core's table-free loop), to build
/// records by hand.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn records_carry_zlibs_crc32() {
    // python3 -c 'import zlib; print(hex(zlib.crc32(b"123456789")))' -> 0xcbf43926
    assert_eq!(crc32(b"123456789"), 0xcbf4_3926);
    let bytes = flow(Operation::Charge).record().encode();
    let n = bytes.len();
    assert_eq!(
        u32::from_le_bytes(bytes[n - 4..].try_into().unwrap()),
        crc32(&bytes[..n - 4])
    );
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

fn completed_record(seq: &str) -> JournalRecord {
    let mut f = Flow::start(request(Operation::Charge, seq), Policy::default(), 0);
    poll(&mut f, 0);
    respond(&mut f, 1, &ok_charge(false));
    f.record()
}

#[test]
fn a_torn_tail_is_cut_and_damage_is_reported_not_hidden() {
    let a = completed_record("A").encode();
    let b = completed_record("B").encode();
    // whole
    let mut log = [a, b].concat();
    assert_eq!(repair_len(&log), Repair::Whole);
    // torn at every byte of the last write
    for n in 1..JournalRecord::LEN {
        let mut torn = a.to_vec();
        torn.extend_from_slice(&b[..n]);
        assert_eq!(
            repair_len(&torn),
            Repair::CutTo(JournalRecord::LEN),
            "torn after {n}"
        );
        assert_eq!(
            repair_len(&b[..n]),
            Repair::CutTo(0),
            "torn first record after {n}"
        );
    }
    // damage in the middle: records after it are still read, the damage is reported
    log = a.to_vec();
    log.extend_from_slice(&[0x55; 100]);
    log.extend_from_slice(&b);
    let items: Vec<Item> = scan(&log).collect();
    assert_eq!(items.len(), 3);
    assert!(matches!(
        items[1],
        Item::Damaged {
            offset: 512,
            len: 100
        }
    ));
    assert!(
        matches!(&items[2], Item::Record { offset: 612, record } if record.sequence_id.as_str() == "B")
    );
    assert_eq!(
        repair_len(&log),
        Repair::Whole,
        "damage in the middle is never cut"
    );
    // a file that is not a journal is never cut
    assert_eq!(
        repair_len(b"hello, this is my shopping list"),
        Repair::NotAJournal
    );
    assert_eq!(repair_len(b""), Repair::Whole);
}

#[test]
fn a_final_state_is_never_replaced() {
    let done = completed_record("A");
    let mut other = done.clone();
    other.state = State::NotProcessed;
    assert!(!other.may_follow(&done));
    assert!(
        done.may_follow(&done),
        "writing the same final state again is harmless"
    );
    let mut open = done.clone();
    open.state = State::Lost;
    assert!(done.may_follow(&open));
    assert!(!open.may_follow(&done));
    let mut refund = done.clone();
    refund.op = Operation::Refund;
    assert!(!refund.may_follow(&open), "one sequenceId, one operation");
}

#[test]
fn reruns_replay_resume_or_refuse() {
    let done = completed_record("A");
    let e = essentials();
    assert_eq!(rerun(None, Operation::Charge, &e), Rerun::New);
    assert_eq!(
        rerun(Some(&done), Operation::Charge, &e),
        Rerun::Replay(&done)
    );
    let mut open = done.clone();
    open.state = State::Lost;
    assert_eq!(
        rerun(Some(&open), Operation::Charge, &e),
        Rerun::Resume(&open)
    );
    assert_eq!(
        rerun(Some(&open), Operation::Refund, &e),
        Rerun::Mismatch("operation")
    );
    let other = Essentials {
        amount: Some(ChargeAmount::new(1).unwrap()),
        ..e
    };
    assert_eq!(
        rerun(Some(&open), Operation::Charge, &other),
        Rerun::Mismatch("amount")
    );
}

#[test]
fn an_operator_closes_an_unknown_refund() {
    let mut f = flow(Operation::Refund);
    poll(&mut f, 0);
    lose(&mut f, 0);
    let unknown = f.record();
    assert_eq!(unknown.state, State::Unknown);
    let closed = unknown
        .closed_by_operator(
            Closure::Completed,
            "KONA PLATE support ticket 4711: refunded",
            99,
        )
        .unwrap()
        .unwrap();
    assert_eq!(closed.state, State::Completed);
    assert!(closed.operator);
    assert!(closed.may_follow(&unknown));
    assert_eq!(JournalRecord::decode(&closed.encode()).unwrap(), closed);
    assert_eq!(
        closed.answer.description.as_str(),
        "KONA PLATE support ticket 4711: refunded"
    );
    assert_eq!(
        closed
            .closed_by_operator(Closure::NotProcessed, "x", 100)
            .unwrap(),
        None,
        "final stays final"
    );
    let long = "가".repeat(100);
    assert_eq!(
        unknown
            .closed_by_operator(Closure::Completed, &long, 1)
            .unwrap_err()
            .field(),
        "note"
    );
}

/// A caller's error type for `JournalRecord::decode_current_as`.
#[derive(Debug, PartialEq)]
struct Wrapped(konaplate_core::flow::RecordError);

impl From<konaplate_core::flow::RecordError> for Wrapped {
    fn from(e: konaplate_core::flow::RecordError) -> Self {
        Wrapped(e)
    }
}

proptest! {
    #[test]
    fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let any = JournalRecord::decode(&bytes);
        // the current format's reader agrees with decode on every record of that format
        match JournalRecord::decode_current(&bytes) {
            Ok(r) => prop_assert_eq!(any, Ok(r)),
            Err(_) => prop_assert!(any.is_err() || bytes.starts_with(b"KPJ1")),
        }
        // into the caller's error type: the same record, the same error
        prop_assert_eq!(
            JournalRecord::decode_current_as::<Wrapped>(&bytes),
            JournalRecord::decode_current(&bytes).map_err(Wrapped)
        );
        let _ = repair_len(&bytes);
        for _ in scan(&bytes) {}
    }

    /// Any journal cut anywhere reads back as its whole records, and repair cuts exactly the
    /// partial one.
    #[test]
    fn any_cut_keeps_the_whole_records(n in 1usize..4, cut in 0usize..2048) {
        let log: Vec<u8> = (0..n).flat_map(|i| completed_record(&format!("P{i}")).encode()).collect();
        let cut = cut.min(log.len());
        let whole = cut / JournalRecord::LEN;
        let got = scan(&log[..cut]).filter(|i| matches!(i, Item::Record { .. })).count();
        prop_assert_eq!(got, whole);
        let want = if cut % JournalRecord::LEN == 0 { Repair::Whole } else { Repair::CutTo(whole * JournalRecord::LEN) };
        prop_assert_eq!(repair_len(&log[..cut]), want);
    }

    /// Whatever the network does, a charge is only sent again after an inquiry said 007_009
    /// following a loss, never more than max_sends times, and the flow ends.
    #[test]
    fn never_resent_without_not_found(events in proptest::collection::vec(0u8..9, 1..60), op in 0u8..3) {
        let op = [Operation::Charge, Operation::Cancel, Operation::Refund][op as usize];
        let policy = Policy { deadline_ms: 50 * MIN, ..Policy::default() };
        let mut f = Flow::start(request(op, "P"), policy, 0);
        let mut now = 0u64;
        let mut sends = 0;
        let mut may_resend = true; // the first send
        let mut it = events.into_iter();
        let mut steps = 0;
        loop {
            steps += 1;
            prop_assert!(steps < 10_000);
            match poll(&mut f, now) {
                Action::Send => {
                    prop_assert!(may_resend, "send without permission");
                    sends += 1;
                    may_resend = false;
                    let ev = it.next().unwrap_or(8);
                    match ev {
                        0 => not_sent(&mut f, now),
                        1 | 2 => lose(&mut f, now),
                        3 => respond_with(&mut f, now, 500, b""),
                        4 => respond_with(&mut f, now, 200, ok_charge(true).as_bytes()),
                        5 => respond_with(&mut f, now, 400, br#"{"response":{"code":"007_001","description":""}}"#),
                        6 => respond_with(&mut f, now, 200, b"{garbage"),
                        _ => respond_with(&mut f, now, 200, br#"{"response":{"code":"000_000","description":""},"nrNumber":"KMN261123000000001","isPending":false}"#),
                    }
                    if ev == 0 { may_resend = true; }
                }
                Action::Inquire => {
                    prop_assert!(op != Operation::Refund);
                    match it.next().unwrap_or(8) {
                        0 | 1 => { respond_with(&mut f, now, 200, NOT_FOUND.as_bytes()); may_resend = true; }
                        2 => lose(&mut f, now),
                        3 => respond_with(&mut f, now, 502, b""),
                        4 | 5 => respond_with(&mut f, now, 200, inquiry("PENDING").as_bytes()),
                        6 => respond_with(&mut f, now, 200, inquiry("FAILED").as_bytes()),
                        _ => respond_with(&mut f, now, 200, inquiry("COMPLETED").as_bytes()),
                    }
                }
                Action::WaitUntil(t) => { prop_assert!(t > now); now = t; }
                Action::Done(o) => {
                    let rec = f.record();
                    // "never arrived" after a possible delivery only once the bound passed
                    if o == Outcome::NotProcessed && rec.maybe_arrived {
                        prop_assert!(now >= rec.accept_until_ms, "not processed at {} < {}", now, rec.accept_until_ms);
                    }
                    // charges and cancellations never end unknown
                    prop_assert!(op == Operation::Refund || o != Outcome::Unknown);
                    prop_assert_eq!(o.state(), rec.state);
                    break;
                }
                other => prop_assert!(false, "unexpected {:?}", other),
            }
        }
        prop_assert!(sends <= 3);
        // the record of the end state always decodes
        prop_assert_eq!(JournalRecord::decode(&f.record().encode()).unwrap(), f.record());
    }
}

#[test]
fn every_send_is_announced_by_a_durable_record_first() {
    let mut f = flow(Operation::Charge);
    assert_eq!(f.poll(0), Action::Persist, "write-ahead");
    let rec = f.record();
    assert_eq!((rec.state, rec.sends), (State::Sending, 1));
    // asked again until it is durable: never a Send before
    assert_eq!(f.poll(0), Action::Persist);
    f.persisted();
    assert_eq!(f.poll(0), Action::Send);
    lose(&mut f, 5);
    // the change is journaled before the inquiry
    assert_eq!(f.poll(5), Action::Persist);
    assert_eq!(f.record().state, State::Lost);
    f.persisted();
    assert_eq!(f.poll(5), Action::Inquire);
    answer(&mut f, 6, NOT_FOUND);
    assert_eq!(f.poll(6), Action::Persist, "the answer changed the record");
    f.persisted();
    assert!(matches!(f.poll(6), Action::WaitUntil(_)));
    // the re-send is announced (sends = 2) before it is handed out
    assert_eq!(f.poll(2_006), Action::Persist);
    assert_eq!(f.record().sends, 2);
    f.persisted();
    assert_eq!(f.poll(2_006), Action::Send);
    respond(&mut f, 2_010, &ok_charge(false));
    assert_eq!(f.poll(2_010), Action::Persist, "the outcome is journaled");
    f.persisted();
    assert!(matches!(
        f.poll(2_010),
        Action::Done(Outcome::Completed { .. })
    ));
}

#[test]
fn an_inquiry_that_learns_nothing_new_writes_no_record() {
    let mut f = flow(Operation::Charge);
    poll(&mut f, 0);
    respond(&mut f, 0, &ok_charge(true));
    assert_eq!(poll(&mut f, 5 * MIN), Action::Inquire);
    answer(&mut f, 5 * MIN, &inquiry("PENDING"));
    assert_eq!(
        f.poll(5 * MIN),
        Action::Persist,
        "the first PENDING from the inquiry"
    );
    f.persisted();
    assert_eq!(f.poll(10 * MIN), Action::Inquire);
    answer(&mut f, 10 * MIN, &inquiry("PENDING"));
    assert_eq!(
        f.poll(10 * MIN),
        Action::WaitUntil(15 * MIN),
        "nothing new: no record"
    );
}

#[test]
fn a_flow_takes_only_the_answer_to_the_call_it_handed_out() {
    let mut f = flow(Operation::Charge);
    assert_eq!(poll(&mut f, 0), Action::Send);
    // a call made elsewhere (another flow's, or built by hand) is refused and changes nothing
    let mut other = flow(Operation::Charge);
    poll(&mut other, 0);
    let mut buf = vec![0u8; 4096];
    let mut stranger = take(&mut other, &mut buf, true);
    let before = f.record();
    assert_eq!(
        f.end_call(0, &mut stranger, &mut buf, NoCrypto),
        Err(FlowError::NotThisCall)
    );
    assert_eq!(f.record(), before);
    stranger.abort(&mut buf);
    // one Send hands out one call
    let mut mine = take(&mut f, &mut buf, false);
    assert_eq!(
        f.call(&common::session(), &common::stamp(), NoCrypto, &mut buf)
            .err(),
        Some(FlowError::NoCall)
    );
    f.end_call(0, &mut mine, &mut buf, NoCrypto).unwrap();
    assert_eq!(f.state(), State::Sending, "not one byte left: not sent");
    // and the flow's own request is what it sends: its sequenceId, on the wire
    assert_eq!(poll(&mut f, 2_000), Action::Send);
    let mut call = take(&mut f, &mut buf, false);
    let wire = call.outgoing(&buf).to_vec();
    assert!(String::from_utf8_lossy(&wire).contains(r#""sequenceId":"KP-TEST-1""#));
    call.abort(&mut buf);
}

#[test]
fn a_call_of_a_wiped_incarnation_or_with_another_buffer_is_not_taken() {
    let mut first = flow(Operation::Charge);
    assert_eq!(poll(&mut first, 0), Action::Send);
    let mut buf = vec![0u8; 4096];
    let mut old = take(&mut first, &mut buf, true);
    // the storage is lost with the call out; the flow is resumed from its record
    let mut again = Flow::resume(&first.record(), Policy::default(), 1_000);
    drop(first);
    assert_eq!(poll(&mut again, 1_000), Action::Inquire);
    let mut buf2 = vec![0u8; 4096];
    let mut inquiry = take(&mut again, &mut buf2, true);
    // the same sequenceId and call number, but not the call this instance handed out
    assert_eq!(
        again.end_call(1_000, &mut old, &mut buf, NoCrypto),
        Err(FlowError::NotThisCall)
    );
    // its own call with another buffer: refused, nothing taken, the buffer untouched
    let before = again.record();
    let mut short = vec![0u8; 4095];
    assert!(matches!(
        again.end_call(1_000, &mut inquiry, &mut short, NoCrypto),
        Err(FlowError::Call(CallError::Buffer {
            expected: 4096,
            got: 4095
        }))
    ));
    assert_eq!(again.record(), before);
    assert!(!inquiry.has_ended());
    // with its own buffer it is taken (lost: no answer came) and the buffer is wiped
    again
        .end_call(1_000, &mut inquiry, &mut buf2, NoCrypto)
        .unwrap();
    assert!(buf2.iter().all(|&b| b == 0));
    old.abort(&mut buf);
}
