//! Recovery under transport faults: every fault × {charge, charge-cancel, refund}, each
//! checking the sandbox's ledger against what the client reported (zero double charges, zero
//! lost outcomes), and a kill test: the CLI SIGKILLed at random points during 50 charges, then
//! `konaplate recover`, and the ledger equals the journal's outcomes.
//!
//! On the file journal by default; on PostgreSQL with `KONAPLATE_TEST_JOURNAL=postgres` under
//! `scripts/pg run -- ...` (CI runs both).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use konaplate::Client;
use konaplate::core::flow::{JournalRecord, Operation, Outcome, Policy, State};
use konaplate::core::{api::*, field::*};
use konaplate::journal::{Journal, Lease};
use konaplate::money;
use konaplate_sandbox::seed::{self, HAPPY, HAPPY_CARD, MERCHANT};
use konaplate_sandbox::{Fault, Sandbox, SandboxConfig, TxnKind, TxnState};

fn client(sb: &Sandbox) -> Client {
    let mut cfg = sb.client_config();
    cfg.connect_timeout = Duration::from_secs(1);
    cfg.read_timeout = Duration::from_secs(1);
    Client::new(cfg).unwrap()
}

fn token(c: &Client) -> TokenResponse {
    let req = TokenRequest {
        card_no: CardNo::new(&seed::card_no(HAPPY_CARD)).unwrap(),
        token_type: None,
    };
    c.send(&req).unwrap().reply.into_result().unwrap()
}

fn policy() -> Policy {
    // the sandbox commits at once and its default tokens live 30 s
    Policy {
        poll_interval_ms: 200,
        deadline_ms: 15_000,
        retry_ms: 600,
        max_sends: 3,
        token_ttl_ms: 30_000,
        commit_grace_ms: 2_000,
    }
}

fn card_balance(sb: &Sandbox) -> u64 {
    sb.ledger()
        .card(&seed::card_no(HAPPY_CARD))
        .unwrap()
        .balance
}
fn account_balance(sb: &Sandbox) -> u64 {
    sb.ledger()
        .member(HAPPY)
        .unwrap()
        .account
        .as_ref()
        .unwrap()
        .balance
}

/// Does `op` under `fault` and checks the ledger against the report.
fn run_fault(op: Operation, fault: Fault) {
    let sb = Sandbox::start(SandboxConfig {
        pending_for: Duration::from_millis(200),
        ..Default::default()
    })
    .unwrap();
    let c = client(&sb);
    let user = UserId::new(HAPPY).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut journal = konaplate::journal::open(
        &common::journal_location(dir.path()),
        Duration::from_secs(30),
    )
    .unwrap();
    // a charge to cancel (no fault)
    let charged_nr = if op == Operation::Cancel {
        let t = token(&c);
        let req = ChargeRequest {
            sequence_id: SequenceId::new("PRE-CHARGE").unwrap(),
            user_id: user,
            amount: ChargeAmount::new(7_000).unwrap(),
            one_time_token: t.one_time_token,
            dcvv: t.dcvv,
            merchant_id: MerchantId::new(MERCHANT).unwrap(),
        };
        Some(
            c.send_without_journal(&req)
                .unwrap()
                .reply
                .into_result()
                .unwrap()
                .nr_number,
        )
    } else {
        None
    };
    let (card0, acct0) = (card_balance(&sb), account_balance(&sb));
    let name = match op {
        Operation::Charge => "charge",
        Operation::Cancel => "charge-cancel",
        _ => "refund",
    };
    let seq = SequenceId::new(&format!("FAULT-{name}")).unwrap();
    let t = token(&c);
    sb.inject(name, fault);
    let j = &mut *journal;
    let report = match op {
        Operation::Charge => money::run(
            &c,
            j,
            &ChargeRequest {
                sequence_id: seq,
                user_id: user,
                amount: ChargeAmount::new(10_000).unwrap(),
                one_time_token: t.one_time_token,
                dcvv: t.dcvv,
                merchant_id: MerchantId::new(MERCHANT).unwrap(),
            },
            policy(),
            &mut |_| {},
        ),
        Operation::Cancel => money::run(
            &c,
            j,
            &CancelRequest {
                sequence_id: seq,
                user_id: user,
                nr_number: charged_nr.unwrap(),
                one_time_token: t.one_time_token,
                dcvv: t.dcvv,
                card_expiry: None,
            },
            policy(),
            &mut |_| {},
        ),
        _ => money::run(
            &c,
            j,
            &RefundRequest {
                sequence_id: seq,
                user_id: user,
                card_expiry: CardExpiry::new("3108").unwrap(),
                dcvv: t.dcvv,
                one_time_token: t.one_time_token,
            },
            policy(),
            &mut |_| {},
        ),
    }
    .unwrap();
    sb.wait_listening();
    std::thread::sleep(Duration::from_millis(50));

    // what the ledger says happened
    let ledger = sb.ledger();
    let moved_card = card_balance_of(&ledger) as i64 - card0 as i64;
    let moved_acct = ledger
        .member(HAPPY)
        .unwrap()
        .account
        .as_ref()
        .unwrap()
        .balance as i64
        - acct0 as i64;
    let txns: Vec<_> = ledger
        .txns()
        .filter(|t| t.sequence_id == seq.as_str())
        .cloned()
        .collect();
    let refund = ledger.refund_record(seq.as_str()).cloned();
    drop(ledger);
    let processed = match op {
        Operation::Refund => refund.is_some(),
        _ => txns.iter().any(|t| t.state == TxnState::Completed),
    };
    assert!(txns.len() <= 1, "one ledger entry per sequenceId at most");

    // the client's word must match
    match &report.outcome {
        Outcome::Completed { .. } => {
            assert!(
                processed,
                "{op:?}/{fault:?}: reported completed but the ledger has nothing"
            );
            match op {
                Operation::Charge => assert_eq!(
                    (moved_card, moved_acct),
                    (10_000, -10_000),
                    "charged exactly once"
                ),
                Operation::Cancel => assert_eq!(
                    (moved_card, moved_acct),
                    (-7_000, 7_000),
                    "cancelled exactly once"
                ),
                Operation::Refund => {
                    assert_eq!(moved_card, -(card0 as i64), "refunded exactly once")
                }
            }
        }
        Outcome::Unknown => {
            assert_eq!(
                op,
                Operation::Refund,
                "{op:?}/{fault:?}: only a refund may stay unknown"
            );
            assert_eq!(report.record.sends, 1, "an unknown refund is never retried");
            assert_eq!(report.sequence_id(), seq, "surfaced with its sequenceId");
            // the ledger is consistent either way: all the balance or nothing
            assert!(moved_card == 0 || moved_card == -(card0 as i64));
            assert_eq!(moved_card != 0, processed);
        }
        other => panic!("{op:?}/{fault:?}: unexpected outcome {other:?}"),
    }
    if op != Operation::Refund {
        assert!(
            matches!(report.outcome, Outcome::Completed { .. }),
            "{op:?}/{fault:?}: charges and cancels always resolve"
        );
    }
    // the journal's final record equals the reported outcome, and nothing is left unfinished
    let latest = journal.latest().unwrap();
    let rec = latest.iter().find(|r| r.sequence_id == seq).unwrap();
    let want = match report.outcome {
        Outcome::Completed { .. } => State::Completed,
        Outcome::Unknown => State::Unknown,
        _ => unreachable!(),
    };
    assert_eq!(rec.state, want);
    assert!(journal.unfinished().unwrap().is_empty());
    // the fault really was applied to that request
    assert!(
        sb.log().iter().any(|l| l.fault.is_some()) || matches!(fault, Fault::RefuseConnection(_)),
        "fault not applied"
    );
}

fn card_balance_of(l: &konaplate_sandbox::Ledger) -> u64 {
    l.card(&seed::card_no(HAPPY_CARD)).unwrap().balance
}

macro_rules! matrix {
    ($($name:ident: $fault:expr;)*) => {
        mod fault_matrix {
            use super::*;
            $(
                #[allow(non_snake_case)]
                mod $name {
                    use super::*;
                    #[test]
                    fn fault_charge() { run_fault(Operation::Charge, $fault) }
                    #[test]
                    fn fault_charge_cancel() { run_fault(Operation::Cancel, $fault) }
                    #[test]
                    fn fault_refund() { run_fault(Operation::Refund, $fault) }
                }
            )*
        }
    };
}

matrix! {
    refuse_connection: Fault::RefuseConnection(Duration::from_millis(300));
    drop_before_processing: Fault::DropBeforeProcessing;
    drop_after_commit: Fault::DropAfterCommit;
    delay_past_timeout: Fault::Delay(Duration::from_millis(1800));
    status_500: Fault::Status(500);
    status_502: Fault::Status(502);
    status_503: Fault::Status(503);
    truncated_body: Fault::TruncatedBody;
    invalid_json: Fault::InvalidJson;
    wrong_content_length: Fault::WrongContentLength;
    oversized_body: Fault::OversizedBody;
    slow_drip: Fault::SlowDrip(Duration::from_millis(40));
}

/// A request that never arrived is re-sent with the same sequenceId, exactly once more.
#[test]
fn fault_never_arrived_is_resent_under_the_same_sequence_id() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    let c = client(&sb);
    let t = token(&c);
    let seq = SequenceId::new("RESEND-1").unwrap();
    let req = ChargeRequest {
        sequence_id: seq,
        user_id: UserId::new(HAPPY).unwrap(),
        amount: ChargeAmount::new(1_000).unwrap(),
        one_time_token: t.one_time_token,
        dcvv: t.dcvv,
        merchant_id: MerchantId::new(MERCHANT).unwrap(),
    };
    sb.inject("charge", Fault::DropBeforeProcessing);
    let r = money::run_without_journal(&c, &req, policy(), &mut |_| {}).unwrap();
    assert!(matches!(
        r.outcome,
        Outcome::Completed {
            from_inquiry: false,
            ..
        }
    ));
    assert_eq!(r.record.sends, 2);
    let log = sb.log();
    let charges: Vec<_> = log.iter().filter(|l| l.endpoint == "charge").collect();
    assert_eq!(charges.len(), 2);
    let inquiries = log.iter().filter(|l| l.endpoint == "charge-result").count();
    assert!(inquiries >= 1, "re-sent only after asking");
    assert_eq!(
        sb.ledger()
            .txns()
            .filter(|t| t.kind == TxnKind::Charge && t.sequence_id == "RESEND-1")
            .count(),
        1
    );
}

/// A journal that takes its first `good` appends and fails every later one (a full disk, a
/// database gone), as a journal can at any write.
#[derive(Debug)]
struct FailingJournal<'a> {
    inner: &'a mut dyn Journal,
    good: usize,
    appends: usize,
}

impl Journal for FailingJournal<'_> {
    fn location(&self) -> String {
        self.inner.location()
    }
    fn take_warnings(&mut self) -> Vec<String> {
        self.inner.take_warnings()
    }
    fn latest_of(&mut self, s: &SequenceId) -> std::io::Result<Option<JournalRecord>> {
        self.inner.latest_of(s)
    }
    fn latest(&mut self) -> std::io::Result<Vec<JournalRecord>> {
        self.inner.latest()
    }
    fn records(&mut self) -> std::io::Result<Vec<JournalRecord>> {
        self.inner.records()
    }
    fn append(&mut self, r: &JournalRecord, lease: Option<&Lease>) -> std::io::Result<()> {
        self.appends += 1;
        if self.appends > self.good {
            return Err(std::io::Error::other("no space left on the journal's disk"));
        }
        self.inner.append(r, lease)
    }
    fn try_lease(&mut self, s: &SequenceId) -> std::io::Result<Option<Lease>> {
        self.inner.try_lease(s)
    }
    fn renew(&mut self, lease: &Lease) -> std::io::Result<()> {
        self.inner.renew(lease)
    }
    fn release(&mut self, lease: Lease) -> std::io::Result<()> {
        self.inner.release(lease)
    }
    fn is_driven_elsewhere(&mut self, s: &SequenceId) -> std::io::Result<bool> {
        self.inner.is_driven_elsewhere(s)
    }
}

/// A journal that fails before the call's first record is durable: nothing was sent
/// (`RunError::Journal`). One that fails after it (here: the answer of a charge the platform
/// made cannot be recorded) leaves the call open (`RunError::InDoubt`, never "nothing was
/// sent", whose advice is a new request), and resuming it finds the charge, once.
#[test]
fn a_journal_failing_after_the_first_record_leaves_the_call_open() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    let c = client(&sb);
    let dir = tempfile::tempdir().unwrap();
    let mut journal = konaplate::journal::open(
        &common::journal_location(dir.path()),
        Duration::from_secs(30),
    )
    .unwrap();
    let charge = |seq: SequenceId| {
        let t = token(&c);
        ChargeRequest {
            sequence_id: seq,
            user_id: UserId::new(HAPPY).unwrap(),
            amount: ChargeAmount::new(2_500).unwrap(),
            one_time_token: t.one_time_token,
            dcvv: t.dcvv,
            merchant_id: MerchantId::new(MERCHANT).unwrap(),
        }
    };
    let card0 = card_balance(&sb);

    // the write-ahead record fails: nothing sent, nothing moved
    let unsent = SequenceId::new("JFAIL-0").unwrap();
    let req = charge(unsent);
    let mut failing = FailingJournal {
        inner: &mut *journal,
        good: 0,
        appends: 0,
    };
    let e = money::run(&c, &mut failing, &req, policy(), &mut |_| {}).unwrap_err();
    assert!(matches!(e, money::RunError::Journal(_)), "{e:?}");
    assert!(e.to_string().contains("nothing was sent"), "{e}");
    assert!(
        !sb.log().iter().any(|l| l.endpoint == "charge"),
        "nothing was sent"
    );

    // the answer cannot be recorded: the call is open, and the charge was made
    let seq = SequenceId::new("JFAIL-1").unwrap();
    let req = charge(seq);
    let mut failing = FailingJournal {
        inner: &mut *journal,
        good: 1,
        appends: 0,
    };
    let e = money::run(&c, &mut failing, &req, policy(), &mut |_| {}).unwrap_err();
    assert!(matches!(e, money::RunError::InDoubt(_)), "{e:?}");
    assert!(!e.to_string().contains("nothing was sent"), "{e}");
    assert_eq!(
        card_balance(&sb) - card0,
        2_500,
        "the platform made the charge"
    );
    let open = journal.latest_of(&seq).unwrap().unwrap();
    assert!(open.state.awaits_platform(), "{:?}", open.state);
    // resumed once the journal works: the charge, through the inquiry, never sent again
    let r = money::resume(&c, &mut *journal, &seq, policy(), &mut |_| {}).unwrap();
    assert!(
        matches!(r.outcome, Outcome::Completed { .. }),
        "{:?}",
        r.outcome
    );
    assert_eq!(card_balance(&sb) - card0, 2_500, "charged once");
    let sent = sb.log().iter().filter(|l| l.endpoint == "charge").count();
    assert_eq!(sent, 1, "sent once");
}

/// SIGKILL at random points during 50 charges, then `konaplate recover`: the ledger equals
/// the journal's outcomes.
#[test]
fn fault_kill_during_50_charges_then_recover() {
    // short-lived tokens, so that a killed charge that never arrived is decided within
    // seconds (its token's life plus the grace) instead of minutes
    let sb = Sandbox::start(SandboxConfig {
        token_ttl: Duration::from_secs(4),
        ..Default::default()
    })
    .unwrap();
    let c = client(&sb);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("server.pem"),
        konaplate_sandbox::SERVER_PUBLIC_KEY_PEM,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("client.pem"),
        konaplate_sandbox::CLIENT_PRIVATE_KEY_PEM,
    )
    .unwrap();
    let journal = common::journal_location(dir.path());
    // on a database a killed replica's entry stays its own until its lease runs out
    let lease = "11";
    let cli = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_konaplate"));
        cmd.env_clear()
            .env("KONAPLATE_BASE_URL", sb.base_url())
            .env("KONAPLATE_ASP_ID", konaplate_sandbox::ASP_ID)
            .env("KONAPLATE_ACCESS_KEY", konaplate_sandbox::ACCESS_KEY)
            .env("KONAPLATE_SECRET_KEY", konaplate_sandbox::SECRET_KEY)
            .env("KONAPLATE_CRYPTO_KEY_ID", konaplate_sandbox::CRYPTO_KEY_ID)
            .env("KONAPLATE_SERVER_PUBLIC_KEY", dir.path().join("server.pem"))
            .env(
                "KONAPLATE_CLIENT_PRIVATE_KEY",
                dir.path().join("client.pem"),
            )
            .env("KONAPLATE_JOURNAL", &journal)
            .args(["--lease", lease])
            .args([
                "--timeout",
                "5",
                "--poll-interval",
                "1",
                "--token-ttl",
                "4",
                "--commit-grace",
                "2",
            ])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };
    let start_card = card_balance(&sb);
    let mut seed_state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut rand = move |n: u64| {
        seed_state ^= seed_state << 13;
        seed_state ^= seed_state >> 7;
        seed_state ^= seed_state << 17;
        seed_state % n
    };
    let mut killed = 0;
    for i in 0..50 {
        let t = token(&c);
        // every tenth charge is killed once the platform has committed it and before its
        // answer arrives, so some entries are surely in doubt however slow the machine; of
        // the others, a third answer slowly, so random kills land mid-request too
        let in_doubt = i % 10 == 4;
        if in_doubt {
            sb.inject("charge", Fault::Delay(Duration::from_secs(2)));
        } else if rand(3) == 0 {
            sb.inject("charge", Fault::Delay(Duration::from_millis(150)));
        }
        let received = sb.requests_received();
        let seq = format!("KILL-{i:02}");
        let mut child = cli(&[
            "charge",
            "--user-id",
            &HAPPY.to_string(),
            "--amount",
            "1000",
            "--merchant-id",
            MERCHANT,
            "--one-time-token",
            t.one_time_token.expose(),
            "--dcvv",
            t.dcvv.expose(),
            "--sequence-id",
            &seq,
        ])
        .spawn()
        .unwrap();
        if in_doubt {
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while sb.requests_received() == received {
                assert!(
                    std::time::Instant::now() < deadline,
                    "{seq} never reached the platform"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
        } else {
            std::thread::sleep(Duration::from_millis(rand(60)));
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        let _ = child.wait();
        // a delay the killed process never used must not hit the next charge
        sb.clear_faults();
    }
    assert!(
        killed > 5,
        "the test must actually kill processes mid-flight ({killed})"
    );
    std::thread::sleep(Duration::from_millis(300));
    let open = || konaplate::journal::open(&journal, Duration::from_secs(30)).unwrap();
    let before = open().unfinished().unwrap().len();
    assert!(
        before > 0,
        "some charges were killed between the journal write and the answer"
    );
    if common::on_postgres() {
        std::thread::sleep(Duration::from_secs(lease.parse().unwrap()));
    }
    let status = cli(&["recover"]).status().unwrap();
    assert!(status.code() == Some(0), "recover: {status:?}");

    let mut j = open();
    assert!(j.unfinished().unwrap().is_empty(), "every entry resolved");
    let latest = j.latest().unwrap();
    let ledger = sb.ledger();
    let mut completed = 0u64;
    for rec in &latest {
        let txn = ledger.txn(rec.sequence_id.as_str());
        match rec.state {
            State::Completed => {
                assert_eq!(
                    txn.map(|t| t.state),
                    Some(TxnState::Completed),
                    "{}",
                    rec.sequence_id
                );
                completed += 1;
            }
            State::NotProcessed => assert!(
                txn.is_none(),
                "{}: journal says never processed",
                rec.sequence_id
            ),
            State::Declined | State::Failed => {
                assert!(txn.is_none_or(|t| t.state != TxnState::Completed))
            }
            s => panic!("{}: unexpected final state {s:?}", rec.sequence_id),
        }
    }
    // every charge the ledger completed is known to the journal as completed
    for t in ledger
        .txns()
        .filter(|t| t.sequence_id.starts_with("KILL-") && t.state == TxnState::Completed)
    {
        assert!(
            latest
                .iter()
                .any(|r| r.sequence_id.as_str() == t.sequence_id && r.state == State::Completed),
            "{} lost",
            t.sequence_id
        );
    }
    drop(ledger);
    assert_eq!(
        card_balance(&sb),
        start_card + completed * 1000,
        "money equals the journal's completed charges"
    );
    eprintln!(
        "kill test: {killed} killed, {before} unfinished before recover, {completed} completed of {} journaled",
        latest.len()
    );
}
