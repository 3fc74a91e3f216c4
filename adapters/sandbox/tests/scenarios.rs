//! Every documented Test Data scenario of the covered endpoints, through the std client and the
//! sandbox over 127.0.0.1, with the ledger checked after each.

mod common;

use std::time::Duration;

use common::*;
use konaplate::Client;
use konaplate::core::prelude::*;
use konaplate::core::{api::*, code::*, field::*};
use konaplate_sandbox::Fault;
use konaplate_sandbox::seed::{self, *};

// ---------- token ----------

#[test]
fn token_success_and_unknown_card() {
    let (_sb, c) = start();
    let t = token(&c, HAPPY_CARD);
    assert_eq!(t.one_time_token.expose().len(), 16);
    assert_eq!(t.dcvv.expose().len(), 3);
    let x = c
        .send(&TokenRequest {
            card_no: CardNo::new("9999999999999999").unwrap(),
            token_type: None,
        })
        .unwrap();
    assert_eq!(x.reply.code, TokenCode::InvalidInputParameter);
    assert!(
        x.reply.description.as_str().ends_with("cardNo"),
        "{}",
        x.reply.description
    );
    assert_eq!(x.status, 400);
}

#[test]
fn token_is_single_use() {
    let (sb, c) = start();
    let t = token(&c, HAPPY_CARD);
    let first = charge_with(&c, HAPPY, 1000, "S1", t.clone(), MERCHANT);
    assert!(first.reply.is_success());
    let again = charge_with(&c, HAPPY, 1000, "S2", t, MERCHANT);
    assert_eq!(again.reply.code, ChargeCode::InvalidInputParameter);
    assert!(again.reply.description.as_str().ends_with("oneTimeToken"));
    assert_eq!(
        card_balance(&sb, HAPPY_CARD),
        HAPPY_CARD_START + 1000,
        "charged once"
    );
}

#[test]
fn expired_token_is_refused() {
    let (sb, c) = start_with(konaplate_sandbox::SandboxConfig {
        token_ttl: std::time::Duration::from_millis(50),
        ..Default::default()
    });
    let t = token(&c, HAPPY_CARD);
    std::thread::sleep(std::time::Duration::from_millis(120));
    let x = charge_with(&c, HAPPY, 1000, "S1", t, MERCHANT);
    assert_eq!(x.reply.code, ChargeCode::InvalidInputParameter);
    assert_eq!(card_balance(&sb, HAPPY_CARD), HAPPY_CARD_START);
}

// ---------- charge ----------

#[test]
fn charge_success_moves_money_once() {
    let (sb, c) = start();
    let before = account_balance(&sb, HAPPY);
    let x = charge(&c, HAPPY, 10_000, "CHARGE-1");
    assert_eq!(x.status, 200);
    assert_eq!(x.reply.code, ChargeCode::Success);
    assert_eq!(x.reply.description.as_str(), "성공");
    let body = x.reply.body.unwrap();
    assert!(!body.is_pending);
    assert!(body.nr_number.as_str().starts_with("KMN"));
    assert_eq!(card_balance(&sb, HAPPY_CARD), HAPPY_CARD_START + 10_000);
    assert_eq!(account_balance(&sb, HAPPY), before - 10_000);
    let r = inquire(&c, "CHARGE-1").reply.body.unwrap();
    assert_eq!(r.result, ChargeResult::Completed);
    assert_eq!(r.nr_number, Some(body.nr_number));
    // the same sequenceId again moves nothing
    let dup = charge(&c, HAPPY, 10_000, "CHARGE-1");
    assert_eq!(dup.reply.code, ChargeCode::InvalidInputParameter);
    assert_eq!(card_balance(&sb, HAPPY_CARD), HAPPY_CARD_START + 10_000);
    assert_eq!(x.response_correlation_id, Some(x.correlation_id));
}

#[test]
fn charge_refusals() {
    let (sb, c) = start();
    let cases: [(u64, u64, ChargeCode); 4] = [
        (NO_ACCOUNT, 1000, ChargeCode::BankAccountNotFound),
        (
            HAPPY,
            AMOUNT_BENEFIT_MISMATCH,
            ChargeCode::InconsistentRequestedBenefit,
        ),
        (HAPPY, CARD_LIMIT + 1, ChargeCode::CreditLimitExceeded),
        (EMPTY_ACCOUNT, 1000, ChargeCode::WithdrawFailureFromPg),
    ];
    for (i, (user, amount, code)) in cases.into_iter().enumerate() {
        let s = format!("REFUSED-{i}");
        let x = charge(&c, user, amount, &s);
        assert_eq!(x.reply.code, code);
        assert_eq!(x.status, 400);
        assert!(x.reply.body.is_none());
        let start = if user == HAPPY { HAPPY_CARD_START } else { 0 };
        assert_eq!(card_balance(&sb, seed::card_of(user)), start, "{code:?}");
        assert_eq!(
            inquire(&c, &s).reply.body.unwrap().result,
            ChargeResult::Failed
        );
    }
    let t = token(&c, HAPPY_CARD);
    let x = charge_with(&c, HAPPY, 1000, "BAD-MERCHANT", t, "999999999999999");
    assert_eq!(x.reply.code, ChargeCode::InvalidInputParameter);
    assert!(x.reply.description.as_str().ends_with("merchantId"));
    // someone else's card
    let t = token(&c, seed::card_of(NAME_MISMATCH));
    let x = charge_with(&c, HAPPY, 1000, "OTHER-CARD", t, MERCHANT);
    assert!(x.reply.description.as_str().ends_with("userId"));
}

#[test]
fn pending_charge_resolves_through_the_inquiry() {
    // pending for 2 s: the first inquiry must still find it PENDING on a slow machine
    let (sb, c) = start_with(konaplate_sandbox::SandboxConfig::default());
    let x = charge(&c, HAPPY, AMOUNT_PENDING_COMPLETES, "PEND-OK");
    assert!(x.reply.body.unwrap().is_pending);
    assert_eq!(
        inquire(&c, "PEND-OK").reply.body.unwrap().result,
        ChargeResult::Pending
    );
    assert_eq!(
        card_balance(&sb, HAPPY_CARD),
        HAPPY_CARD_START,
        "no money while pending"
    );
    let y = charge(&c, HAPPY, AMOUNT_PENDING_FAILS, "PEND-KO");
    assert!(y.reply.body.unwrap().is_pending);
    std::thread::sleep(std::time::Duration::from_millis(2_200));
    assert_eq!(
        inquire(&c, "PEND-OK").reply.body.unwrap().result,
        ChargeResult::Completed
    );
    assert_eq!(
        inquire(&c, "PEND-KO").reply.body.unwrap().result,
        ChargeResult::Failed
    );
    assert_eq!(
        card_balance(&sb, HAPPY_CARD),
        HAPPY_CARD_START + AMOUNT_PENDING_COMPLETES
    );
}

// ---------- cancel ----------

#[test]
fn cancel_success_is_encrypted_and_moves_money_back() {
    let (sb, c) = start();
    let nr = charge(&c, HAPPY, 20_000, "C-CHARGE")
        .reply
        .body
        .unwrap()
        .nr_number;
    let acct = account_balance(&sb, HAPPY);
    let x = cancel(&c, HAPPY, nr.as_str(), "C-CANCEL");
    assert!(
        x.encrypted_response,
        "Cancellation of Charge answers Encrypted (§6.3)"
    );
    assert_eq!(x.reply.code, CancelCode::Success);
    assert!(!x.reply.body.unwrap().is_pending);
    assert_eq!(card_balance(&sb, HAPPY_CARD), HAPPY_CARD_START);
    assert_eq!(account_balance(&sb, HAPPY), acct + 20_000);
    assert_eq!(
        inquire(&c, "C-CANCEL").reply.body.unwrap().result,
        ChargeResult::Completed
    );
    // twice: not cancellable
    let again = cancel(&c, HAPPY, nr.as_str(), "C-CANCEL-2");
    assert_eq!(again.reply.code, CancelCode::NotCancellable);
    assert_eq!(account_balance(&sb, HAPPY), acct + 20_000);
}

#[test]
fn cancel_refusals() {
    let (sb, c) = start();
    assert_eq!(
        cancel(&c, NO_ACCOUNT, "KMN261123000000001", "X1")
            .reply
            .code,
        CancelCode::BankAccountNotFound
    );
    assert_eq!(
        cancel(&c, HAPPY, "KMN999999999999999", "X2").reply.code,
        CancelCode::NotCancellable
    );
    assert_eq!(
        cancel(&c, HAPPY, NR_OTHER_METHOD, "X3").reply.code,
        CancelCode::AnotherMethod
    );
    let nr = charge(&c, NAME_MISMATCH, 1000, "NM-CHARGE")
        .reply
        .body
        .unwrap()
        .nr_number;
    let x = cancel(&c, NAME_MISMATCH, nr.as_str(), "X4");
    assert_eq!(x.reply.code, CancelCode::NameMismatch);
    assert!(!x.encrypted_response, "error replies are plain");
    // a failed charge cannot be cancelled
    assert_eq!(
        charge(&c, EMPTY_ACCOUNT, 1000, "FAILED-CHARGE").reply.code,
        ChargeCode::WithdrawFailureFromPg
    );
    let nr = sb.ledger().txn("FAILED-CHARGE").unwrap().nr_number.clone();
    assert_eq!(
        cancel(&c, EMPTY_ACCOUNT, &nr, "X5").reply.code,
        CancelCode::NotCancellable
    );
}

#[test]
fn pending_cancel_resolves() {
    // pending for 2 s: the first inquiry must still find it PENDING on a slow machine
    let (sb, c) = start_with(konaplate_sandbox::SandboxConfig::default());
    let nr = charge(&c, HAPPY, AMOUNT_CANCEL_PENDS, "CP-CHARGE")
        .reply
        .body
        .unwrap()
        .nr_number;
    let x = cancel(&c, HAPPY, nr.as_str(), "CP-CANCEL");
    assert!(x.reply.body.unwrap().is_pending);
    assert_eq!(
        card_balance(&sb, HAPPY_CARD),
        HAPPY_CARD_START + AMOUNT_CANCEL_PENDS
    );
    assert_eq!(
        inquire(&c, "CP-CANCEL").reply.body.unwrap().result,
        ChargeResult::Pending
    );
    std::thread::sleep(std::time::Duration::from_millis(2_200));
    assert_eq!(
        inquire(&c, "CP-CANCEL").reply.body.unwrap().result,
        ChargeResult::Completed
    );
    assert_eq!(card_balance(&sb, HAPPY_CARD), HAPPY_CARD_START);
}

// ---------- result ----------

#[test]
fn result_not_found_and_invalid_sequence() {
    let (sb, c) = start();
    let x = inquire(&c, "NEVER-SENT");
    assert_eq!(x.reply.code, ChargeResultCode::PreviousTransactionNotFound);
    assert_eq!(x.status, 400);
    // the client cannot send an invalid sequenceId; the sandbox still answers 000_002 naming it
    let (status, body) = raw(
        &sb,
        ChargeResultInquiry::PATH,
        br#"{"sequenceId":""}"#,
        |_| {},
    );
    assert_eq!(status, 400);
    assert!(
        body.contains("\"000_002\"") && body.contains("sequenceId"),
        "{body}"
    );
}

// ---------- refund ----------

#[test]
fn refund_fee_then_refund() {
    let (sb, c) = start();
    charge(&c, HAPPY, 50_000, "R-CHARGE");
    let t = token(&c, HAPPY_CARD);
    let fee = c
        .send(&RefundFeeRequest {
            one_time_token: t.one_time_token,
            user_id: UserId::new(HAPPY).unwrap(),
        })
        .unwrap()
        .reply
        .into_result()
        .unwrap();
    assert_eq!(fee.balance.get(), HAPPY_CARD_START + 50_000);
    assert_eq!(fee.refund_fee.get(), 800);
    assert_eq!(fee.refund_amount.get(), 79_200);
    assert_eq!(fee.refund_fee_rate.to_string(), "1.0");
    assert!(fee.refundable);
    let x = refund(&c, HAPPY, "R-1");
    assert_eq!(x.reply.code, RefundCode::Success);
    assert_eq!(x.reply.body.unwrap().nr_number.as_str().len(), 18);
    assert_eq!(card_balance(&sb, HAPPY_CARD), 0);
    let rec = sb.ledger().refund_record("R-1").cloned().unwrap();
    assert_eq!((rec.amount, rec.fee), (79_200, 800));
}

#[test]
fn refund_refusals() {
    let (sb, c) = start();
    assert_eq!(
        refund(&c, NO_REFUND_ACCOUNT, "RF1").reply.code,
        RefundCode::BankAccountIsNull
    );
    assert_eq!(
        refund(&c, REFUND_AMOUNT_USED, "RF2").reply.code,
        RefundCode::MonthlyAmountLimit
    );
    assert_eq!(
        refund(&c, REFUND_COUNT_USED, "RF3").reply.code,
        RefundCode::MonthlyCountLimit
    );
    assert_eq!(
        refund(&c, REFUND_DENIED, "RF4").reply.code,
        RefundCode::RefundDenied
    );
    for u in [
        NO_REFUND_ACCOUNT,
        REFUND_AMOUNT_USED,
        REFUND_COUNT_USED,
        REFUND_DENIED,
    ] {
        assert!(
            card_balance(&sb, seed::card_of(u)) > 0,
            "balance kept for {u}"
        );
    }
    assert_eq!(sb.ledger().refunds().count(), 0);
    // "Required information of dcvv is empty string" (the client cannot build it)
    let t = token(&c, HAPPY_CARD);
    let body = format!(
        r#"{{"sequenceId":"RF5","userId":{HAPPY},"cardExpiry":"3108","dcvv":"","oneTimeToken":"{}"}}"#,
        t.one_time_token.expose()
    );
    let (status, body) = raw(&sb, Refund::PATH, body.as_bytes(), |_| {});
    assert_eq!(status, 400);
    assert!(
        body.contains("\"000_002\"") && body.ends_with("dcvv\"}}"),
        "{body}"
    );
}

// ---------- auto-recharge at payment ----------

#[test]
fn register_then_list() {
    let (sb, c) = start();
    let x = register(&c, HAPPY, HAPPY_CARD);
    assert_eq!(x.reply.code, AutoRechargeRegisterCode::Success);
    let list = c
        .send(&AutoRechargeListRequest {
            user_id: UserId::new(HAPPY).unwrap(),
        })
        .unwrap()
        .reply
        .into_result()
        .unwrap();
    assert_eq!(list.par_info_list.len(), 1);
    assert_eq!(list.par_info_list[0].par.as_str(), seed::par_of(HAPPY_CARD));
    assert_eq!(sb.ledger().plans().len(), 1);
    assert_eq!(
        register(&c, HAPPY, HAPPY_CARD).reply.code,
        AutoRechargeRegisterCode::ParAlreadyExists
    );
    let empty = c
        .send(&AutoRechargeListRequest {
            user_id: UserId::new(NO_ACCOUNT).unwrap(),
        })
        .unwrap()
        .reply
        .into_result()
        .unwrap();
    assert!(empty.par_info_list.is_empty());
}

#[test]
fn register_refusals() {
    let (sb, c) = start();
    use AutoRechargeRegisterCode as C;
    let cases = [
        (HAPPY, 99, C::InvalidPar),
        (HAPPY, seed::card_of(NO_ACCOUNT), C::InvalidPar),
        (HAPPY, INACTIVE_CARD, C::CardNotActive),
        (HAPPY, OTHER_PLAN_CARD, C::AutoRechargePlanExists),
        (
            NO_OPEN_BANK_TERMS,
            seed::card_of(NO_OPEN_BANK_TERMS),
            C::OpenBankTermsNotAccepted,
        ),
        (
            NO_FIRM_BANKING_TERMS,
            seed::card_of(NO_FIRM_BANKING_TERMS),
            C::FirmBankingTermsNotAccepted,
        ),
        (
            NO_AUTO_RECHARGE_ACCOUNT,
            seed::card_of(NO_AUTO_RECHARGE_ACCOUNT),
            C::AutoRechargeAccountNotRegistered,
        ),
        (1, HAPPY_CARD, C::InvalidInputParameter),
    ];
    for (user, card, code) in cases {
        assert_eq!(
            register(&c, user, card).reply.code,
            code,
            "user {user} card {card}"
        );
    }
    assert!(sb.ledger().plans().is_empty());
}

// ---------- what the platform verifies ----------

fn expect_invalid(
    sb: &konaplate_sandbox::Sandbox,
    field: &str,
    tweak: impl Fn(&mut Vec<(String, String)>),
) {
    let (status, body) = raw(
        sb,
        ChargeResultInquiry::PATH,
        br#"{"sequenceId":"S"}"#,
        tweak,
    );
    assert_eq!(status, 400, "{field}: {body}");
    assert!(body.contains("\"000_002\""), "{body}");
    assert!(body.contains(field), "{field}: {body}");
}

#[test]
fn every_header_is_verified() {
    let (sb, _c) = start();
    // a correct raw request passes
    let (status, body) = raw(
        &sb,
        ChargeResultInquiry::PATH,
        br#"{"sequenceId":"S"}"#,
        |_| {},
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("007_009"),
        "valid request reaches the ledger: {body}"
    );
    for name in [
        "X-KM-User-AspId",
        "X-KM-Correlation-Id",
        "X-KM-Access-Key",
        "X-KM-Tran-Token",
        "X-KM-Tran-Time",
        "X-KM-Time-Zone",
    ] {
        expect_invalid(&sb, name, |h| set(h, name, None));
    }
    expect_invalid(&sb, "X-KM-User-AspId", |h| {
        set(h, "X-KM-User-AspId", Some("100000000000009"))
    });
    expect_invalid(&sb, "X-KM-Access-Key", |h| {
        set(
            h,
            "X-KM-Access-Key",
            Some("SANDBOX-0123456789abcdef0123456789abcdee"),
        )
    });
    expect_invalid(&sb, "X-KM-Correlation-Id", |h| {
        set(h, "X-KM-Correlation-Id", Some("2611231954060-abcdef1"))
    });
    expect_invalid(&sb, "X-KM-Tran-Token", |h| {
        let t = h
            .iter()
            .find(|(n, _)| n == "X-KM-Tran-Token")
            .unwrap()
            .1
            .clone();
        set(h, "X-KM-Tran-Token", Some(&t[..66]))
    });
    expect_invalid(&sb, "X-KM-Tran-Token", |h| {
        let t = h
            .iter()
            .find(|(n, _)| n == "X-KM-Tran-Token")
            .unwrap()
            .1
            .clone();
        let mut b = t.into_bytes();
        b[30] = if b[30] == b'A' { b'B' } else { b'A' };
        set(h, "X-KM-Tran-Token", Some(&String::from_utf8(b).unwrap()))
    });
    expect_invalid(&sb, "X-KM-Tran-Time", |h| {
        set(h, "X-KM-Tran-Time", Some("20200101000000"))
    });
    expect_invalid(&sb, "X-KM-Time-Zone", |h| {
        set(h, "X-KM-Time-Zone", Some("XYZ"))
    });
    expect_invalid(&sb, "X-KM-Crypto-Key-Id", |h| {
        set(
            h,
            "X-KM-Crypto-Key-Id",
            Some("ffffffffffffffffffffffffffffffff"),
        )
    });
    expect_invalid(&sb, "Content-Type", |h| {
        set(h, "Content-Type", Some("text/plain"))
    });
    // the HMAC covers the exact body bytes: a token over the same JSON with one extra space fails
    let signer =
        konaplate::core::sign::Signer::new(&SecretKey::new(konaplate_sandbox::SECRET_KEY).unwrap());
    let time = Timestamp::from_unix_millis(konaplate::clock::unix_millis(), 540).unwrap();
    let other = signer.tran_token(&time, br#"{"sequenceId":"S"} "#);
    expect_invalid(&sb, "X-KM-Tran-Token", |h| {
        set(h, "X-KM-Tran-Token", Some(other.as_str()));
        set(h, "X-KM-Tran-Time", Some(time.tran_time().as_str()));
    });
}

#[test]
fn encrypted_requests_require_jwe_and_key_id() {
    let (sb, _c) = start();
    let plain = format!(r#"{{"cardNo":"{}"}}"#, seed::card_no(HAPPY_CARD));
    let (status, body) = raw(&sb, IssueToken::PATH, plain.as_bytes(), |_| {});
    assert_eq!(status, 400);
    assert!(body.contains("encData"), "{body}");
    let (status, body) = raw(&sb, IssueToken::PATH, br#"{"encData":"a.b.c.d.e"}"#, |_| {});
    assert_eq!(status, 400);
    assert!(body.contains("encData"), "{body}");
    let (status, body) = raw(&sb, IssueToken::PATH, br#"{"encData":"a.b.c.d.e"}"#, |h| {
        set(h, "X-KM-Crypto-Key-Id", None)
    });
    assert_eq!(status, 400);
    assert!(body.contains("X-KM-Crypto-Key-Id"), "{body}");
}

#[test]
fn unknown_path_is_404() {
    let (sb, _c) = start();
    let (status, _) = raw(&sb, "/api/v1/nothing", b"{}", |_| {});
    assert_eq!(status, 404);
}

/// A slow platform: while a charge waits to commit, the inquiry says "not found", a re-send
/// of its sequenceId is refused with `000_002` and does nothing; after the commit there is
/// exactly one transaction and the inquiry says COMPLETED.
#[test]
fn slow_commit_takes_the_sequence_id_at_arrival_and_commits_later() {
    let (sb, c) = start();
    let start_balance = sb
        .ledger()
        .card(&card_no(seed::HAPPY_CARD))
        .unwrap()
        .balance;
    sb.inject("charge", Fault::SlowCommit(Duration::from_millis(3_000)));
    let t = token(&c, seed::HAPPY_CARD);
    let t2 = OneTimeToken::new(t.one_time_token.expose()).unwrap();
    let d2 = Dcvv::new(t.dcvv.expose()).unwrap();
    let slow = {
        let cfg = sb.client_config();
        std::thread::spawn(move || {
            let c = Client::new(cfg).unwrap();
            charge_with(&c, seed::HAPPY, 8_000, "SLOW-SB", t, seed::MERCHANT)
        })
    };
    // until the slow charge has arrived and taken its sequenceId (not a fixed sleep)
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !sb.ledger().is_in_flight("SLOW-SB") {
        assert!(
            std::time::Instant::now() < deadline,
            "the slow charge never arrived"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let x = c
        .send(&ChargeResultRequest {
            sequence_id: seq("SLOW-SB"),
        })
        .unwrap();
    assert_eq!(
        x.reply.code.as_str(),
        "007_009",
        "the inquiry answers from committed state only"
    );
    // the same sequenceId again (same token): refused, no effect
    let again = c
        .send_without_journal(&ChargeRequest {
            sequence_id: seq("SLOW-SB"),
            user_id: UserId::new(seed::HAPPY).unwrap(),
            amount: ChargeAmount::new(8_000).unwrap(),
            one_time_token: t2,
            dcvv: d2,
            merchant_id: MerchantId::new(seed::MERCHANT).unwrap(),
        })
        .unwrap();
    assert_eq!(again.reply.code.as_str(), "000_002");
    assert!(again.reply.description.as_str().ends_with("sequenceId"));
    let first = slow.join().unwrap();
    assert!(first.reply.is_success(), "{:?}", first.reply);
    let x = c
        .send(&ChargeResultRequest {
            sequence_id: seq("SLOW-SB"),
        })
        .unwrap();
    assert_eq!(x.reply.body.unwrap().result, ChargeResult::Completed);
    assert_eq!(
        sb.ledger()
            .txns()
            .filter(|t| t.sequence_id == "SLOW-SB")
            .count(),
        1
    );
    assert_eq!(
        sb.ledger()
            .card(&card_no(seed::HAPPY_CARD))
            .unwrap()
            .balance,
        start_balance + 8_000
    );
    // the fault parses from the CLI form
    assert_eq!(
        Fault::parse("slow-commit:2500"),
        Ok(Fault::SlowCommit(Duration::from_millis(2_500)))
    );
}

/// A reused sequenceId is refused with `000_002` without touching the token or the ledger.
#[test]
fn a_reused_sequence_id_does_nothing() {
    let (sb, c) = start();
    assert!(charge(&c, seed::HAPPY, 1_000, "ONCE").reply.is_success());
    let balance = sb
        .ledger()
        .card(&card_no(seed::HAPPY_CARD))
        .unwrap()
        .balance;
    let t = token(&c, seed::HAPPY_CARD);
    let copy = || TokenResponse {
        one_time_token: OneTimeToken::new(t.one_time_token.expose()).unwrap(),
        dcvv: Dcvv::new(t.dcvv.expose()).unwrap(),
        expiry_time: None,
    };
    let x = charge_with(&c, seed::HAPPY, 1_000, "ONCE", copy(), seed::MERCHANT);
    assert_eq!(x.reply.code.as_str(), "000_002");
    assert_eq!(
        sb.ledger()
            .card(&card_no(seed::HAPPY_CARD))
            .unwrap()
            .balance,
        balance
    );
    // the refused request did not consume the token: it still pays for a new sequenceId
    let x = charge_with(&c, seed::HAPPY, 1_000, "TWICE", copy(), seed::MERCHANT);
    assert!(x.reply.is_success(), "{:?}", x.reply);
}
