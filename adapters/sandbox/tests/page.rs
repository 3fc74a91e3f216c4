//! The sandbox's page over HTTP: after a charge, a cancellation, a refund and a plan, `GET /`
//! shows them with their sequenceIds, states and nrNumbers, the balances, the plan, the faults
//! armed and the latest requests, masks card numbers and shows no token; `GET /state.json`
//! agrees with the ledger.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::*;
use konaplate::core::{api::*, field::*};
use konaplate_sandbox::seed::{self, *};
use konaplate_sandbox::{Fault, mask_card};

fn get(sb: &konaplate_sandbox::Sandbox, path: &str) -> (u16, String, String) {
    let mut s = TcpStream::connect(sb.addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {}\r\n\r\n", sb.addr()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, head.to_string(), body.to_string())
}

#[test]
fn the_page_shows_the_ledger() {
    // the pending charge must still be PENDING when the page is read, however slow the machine
    let (sb, c) = start_with(konaplate_sandbox::SandboxConfig {
        pending_for: Duration::from_secs(60),
        ..Default::default()
    });
    let charged = charge(&c, HAPPY, 12_000, "PAGE-CHARGE")
        .reply
        .into_result()
        .unwrap();
    let nr = charged.nr_number;
    assert!(
        cancel(&c, HAPPY, nr.as_str(), "PAGE-CANCEL")
            .reply
            .is_success()
    );
    let x = charge(&c, HAPPY, AMOUNT_PENDING_COMPLETES, "PAGE-PENDING");
    assert!(x.reply.is_success());
    let t = token(&c, HAPPY_CARD);
    let token_text = t.one_time_token.expose().to_string();
    let refund = c
        .send_without_journal(&RefundRequest {
            sequence_id: seq("PAGE-REFUND"),
            user_id: UserId::new(HAPPY).unwrap(),
            card_expiry: CardExpiry::new(seed::CARD_EXPIRY).unwrap(),
            dcvv: t.dcvv,
            one_time_token: t.one_time_token,
        })
        .unwrap();
    let refund_nr = refund.reply.into_result().unwrap().nr_number;
    let par = Par::new(&par_of(HAPPY_CARD)).unwrap();
    assert!(
        c.send(&AutoRechargeRegisterRequest {
            user_id: UserId::new(HAPPY).unwrap(),
            par
        })
        .unwrap()
        .reply
        .is_success()
    );
    sb.inject("refund", Fault::SlowCommit(Duration::from_millis(1500)));
    let requests_before = sb.requests_received();

    let (status, head, page) = get(&sb, "/");
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/html"),
        "{head}"
    );
    assert!(
        page.contains(r#"<meta http-equiv="refresh""#),
        "refreshes itself"
    );
    for (seq, state) in [
        ("PAGE-CHARGE", "COMPLETED"),
        ("PAGE-CANCEL", "COMPLETED"),
        ("PAGE-PENDING", "PENDING"),
        ("PAGE-REFUND", "COMPLETED"),
    ] {
        let row = page
            .split("<tr>")
            .find(|r| r.contains(&format!(">{seq}<")))
            .unwrap_or_else(|| panic!("{seq} missing"));
        assert!(row.contains(state), "{seq}: {row}");
    }
    assert!(page.contains(nr.as_str()), "the charge's nrNumber");
    assert!(page.contains(refund_nr.as_str()), "the refund's nrNumber");
    assert!(page.contains("cancels PAGE-CHARGE"));
    assert!(page.contains("홍길동"));
    assert!(
        page.contains(&mask_card(&card_no(HAPPY_CARD))),
        "masked card"
    );
    assert!(
        !page.contains(&card_no(HAPPY_CARD)),
        "full card number shown"
    );
    assert!(!page.contains(&token_text), "a token is shown");
    assert!(page.contains(&par_of(HAPPY_CARD)), "the plan's PAR");
    assert!(page.contains("slow-commit:1500"), "the armed fault");
    assert!(page.contains("refund") && page.contains("Latest requests"));
    // the account and card balances are the ledger's
    let l = sb.ledger();
    let account = l.member(HAPPY).unwrap().account.as_ref().unwrap().balance;
    drop(l);
    let grouped = |v: u64| {
        let s = v.to_string();
        s.chars().enumerate().fold(String::new(), |mut o, (i, c)| {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                o.push(',');
            }
            o.push(c);
            o
        })
    };
    assert!(
        page.contains(&grouped(account)),
        "account balance {account}"
    );

    let (status, _, json) = get(&sb, "/state.json");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let txns = v["transactions"].as_array().unwrap();
    let find = |s: &str| txns.iter().find(|t| t["sequenceId"] == s).unwrap().clone();
    assert_eq!(find("PAGE-CHARGE")["nrNumber"], nr.as_str());
    assert_eq!(find("PAGE-REFUND")["kind"], "refund");
    assert_eq!(v["plans"][0]["par"], par_of(HAPPY_CARD));
    assert_eq!(v["faults"][0]["fault"], "slow-commit:1500");
    let card = v["cards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["par"] == par_of(HAPPY_CARD))
        .unwrap()
        .clone();
    assert_eq!(
        card["balance"],
        sb.ledger().card(&card_no(HAPPY_CARD)).unwrap().balance
    );
    // looking at the page is not an API request
    assert_eq!(sb.requests_received(), requests_before);
    assert_eq!(get(&sb, "/nothing").0, 404);
}
