//! Exactly-once money over real sockets on 127.0.0.1, through the `konaplate` binary: a slow
//! platform, a torn journal, an offline `recover`, re-runs of a sequenceId, a `recover` racing
//! a live charge, concurrent processes on one journal, and an operator closing an unknown
//! refund. Every case checks the sandbox's ledger and request log, not just what the CLI said.
//!
//! On the file journal by default; on PostgreSQL with `KONAPLATE_TEST_JOURNAL=postgres` under
//! `scripts/pg run -- ...` (CI runs both).

mod common;

use std::io::Write;
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{Env, card_balance};
use konaplate::core::field::SequenceId;
use konaplate::core::flow::{JournalRecord, State};
use konaplate_sandbox::seed::{self, *};
use konaplate_sandbox::{Fault, SandboxConfig, TxnState};
use serde_json::Value;

/// Requests for the charge endpoint the sandbox received.
fn charge_requests(e: &Env) -> usize {
    e.sb.log().iter().filter(|l| l.endpoint == "charge").count()
}

fn txns_of(e: &Env, seq: &str) -> Vec<TxnState> {
    e.sb.ledger()
        .txns()
        .filter(|t| t.sequence_id == seq)
        .map(|t| t.state)
        .collect()
}

/// The sandbox commits the charge 2.5 s and 6 s after the client's 1 s timeout. The inquiry
/// says "not found" meanwhile, and the re-send is refused as a reused sequenceId: the charge
/// must still end COMPLETED, exactly once.
#[test]
fn a_commit_seconds_after_the_timeout_ends_completed() {
    for commit_ms in [5_000u64, 7_000] {
        let e = Env::new();
        let start = card_balance(&e, HAPPY_CARD);
        e.sb.inject(
            "charge",
            Fault::SlowCommit(Duration::from_millis(commit_ms)),
        );
        let seq = format!("SLOW-{commit_ms}");
        let (code, v, _) = e.charge(
            HAPPY,
            10_000,
            &[
                "--sequence-id",
                &seq,
                "--timeout",
                "1",
                "--poll-interval",
                "1",
                "--token-ttl",
                "30",
                "--commit-grace",
                "15",
            ],
        );
        assert_eq!(code, 0, "commit after {commit_ms} ms: {v}");
        assert_eq!(v["outcome"], "COMPLETED");
        assert_eq!(v["result"], "COMPLETED", "decided by the inquiry");
        assert_eq!(
            txns_of(&e, &seq),
            vec![TxnState::Completed],
            "one transaction"
        );
        assert_eq!(
            card_balance(&e, HAPPY_CARD),
            start + 10_000,
            "charged exactly once"
        );
        // the finding's path: the re-send met the original still in flight and was refused
        let refused =
            e.sb.log()
                .iter()
                .filter(|l| l.endpoint == "charge" && l.code == "000_002")
                .count();
        assert!(
            refused >= 1,
            "the re-send was not refused: {:?}",
            e.sb.log()
        );
    }
}

/// The same slow commit, but the client stops waiting before it: the charge stays open
/// (exit 5, IN_DOUBT), and `recover` after the commit ends it COMPLETED.
#[test]
fn a_commit_after_the_client_gave_up_is_completed_by_recover() {
    let e = Env::new();
    e.sb.inject("charge", Fault::SlowCommit(Duration::from_millis(6_000)));
    let common = [
        "--timeout",
        "1",
        "--poll-interval",
        "1",
        "--token-ttl",
        "30",
        "--commit-grace",
        "15",
    ];
    let mut args = vec!["--sequence-id", "SLOW-OPEN", "--max-wait", "2"];
    args.extend_from_slice(&common);
    let (code, v, _) = e.charge(HAPPY, 10_000, &args);
    assert_eq!(code, 5, "{v}");
    assert_eq!(v["outcome"], "IN_DOUBT");
    std::thread::sleep(Duration::from_millis(5_000));
    let mut args = vec!["recover"];
    args.extend_from_slice(&common);
    let (code, v, _) = e.json(&args);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["recovered"][0]["sequenceId"], "SLOW-OPEN");
    assert_eq!(v["recovered"][0]["outcome"], "COMPLETED");
    assert_eq!(txns_of(&e, "SLOW-OPEN"), vec![TxnState::Completed]);
}

/// A write cut by power loss leaves 100 bytes at the end of the journal: the next charge cuts
/// them, says so, completes, and its records are readable.
#[test]
fn a_torn_journal_tail_does_not_hide_the_next_charge() {
    let e = Env::new();
    let (code, _, _) = e.charge(HAPPY, 1_000, &["--sequence-id", "BEFORE-TEAR"]);
    assert_eq!(code, 0);
    // a database commits a record whole or not at all: the tear is the file's alone
    let file = e.journal_file();
    if let Some(path) = &file {
        let torn = e.open_journal().latest().unwrap()[0].encode();
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .unwrap()
            .write_all(&torn[..100])
            .unwrap();
    }
    let before = charge_requests(&e);
    let (code, v, stderr) = e.charge(HAPPY, 2_000, &["--sequence-id", "AFTER-TEAR"]);
    assert_eq!(code, 0, "{v}");
    if file.is_some() {
        assert!(
            stderr.contains("torn write"),
            "the cut is reported: {stderr}"
        );
    }
    assert_eq!(
        charge_requests(&e) - before,
        1,
        "exactly one request on the platform"
    );
    assert_eq!(txns_of(&e, "AFTER-TEAR"), vec![TxnState::Completed]);
    let mut j = e.open_journal();
    assert_eq!(j.latest().unwrap().len(), 2);
    assert_eq!(
        j.latest_of(&SequenceId::new("AFTER-TEAR").unwrap())
            .unwrap()
            .unwrap()
            .state,
        State::Completed
    );
    if let Some(path) = &file {
        assert_eq!(
            std::fs::metadata(path).unwrap().len() % JournalRecord::LEN as u64,
            0
        );
    }
}

/// The answer is lost and the platform goes offline: `recover` cannot reach it and leaves the
/// charge open (never a final UNKNOWN); once the platform is back, `recover` completes it.
#[test]
fn an_offline_recover_leaves_the_charge_open() {
    let e = Env::new();
    e.sb.inject("charge", Fault::DropAfterCommit);
    // the inquiry the flow makes at once after a lost answer (when the loss comes back within
    // the millisecond the call started in, `--max-wait 0` has not passed yet) is lost too
    e.sb.inject("charge-result", Fault::DropBeforeProcessing);
    let (code, v, _) = e.charge(
        HAPPY,
        3_000,
        &[
            "--sequence-id",
            "OFFLINE-1",
            "--max-wait",
            "0",
            "--timeout",
            "2",
        ],
    );
    assert_eq!((code, v["outcome"].as_str()), (5, Some("IN_DOUBT")), "{v}");
    e.sb.clear_faults();
    e.sb.inject("*", Fault::RefuseConnection(Duration::from_millis(8_000)));
    let (code, v, _) = e.json(&["recover", "--max-wait", "2", "--poll-interval", "1"]);
    assert_eq!(code, 5, "still open: {v}");
    assert_eq!(v["recovered"][0]["outcome"], "IN_DOUBT");
    let (_, list, _) = e.json(&["journal"]);
    assert_eq!(list["entries"][0]["state"], "IN_DOUBT");
    assert_eq!(list["entries"][0]["awaits"], "platform");
    e.sb.wait_listening();
    let (code, v, _) = e.json(&["recover", "--poll-interval", "1"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["recovered"][0]["outcome"], "COMPLETED");
    assert_eq!(
        charge_requests(&e),
        1,
        "exactly one request on the platform"
    );
    assert_eq!(txns_of(&e, "OFFLINE-1"), vec![TxnState::Completed]);
}

/// Re-running a money command with its sequenceId never sends it again: an open entry is
/// resumed through the inquiry, a final one replays the first answer exactly, a different
/// request under the same sequenceId is refused.
#[test]
fn a_rerun_resumes_or_replays_and_never_sends_twice() {
    let e = Env::new();
    e.sb.inject("charge", Fault::DropAfterCommit);
    // the inquiry the flow makes at once after a lost answer (when the loss comes back within
    // the millisecond the call started in, `--max-wait 0` has not passed yet) is lost too
    e.sb.inject("charge-result", Fault::DropBeforeProcessing);
    let (code, v, _) = e.charge(
        HAPPY,
        4_000,
        &["--sequence-id", "RERUN-1", "--max-wait", "0"],
    );
    assert_eq!((code, v["outcome"].as_str()), (5, Some("IN_DOUBT")), "{v}");
    e.sb.clear_faults();
    // the same command again (the cashier presses the button twice, with a fresh token)
    let (code, first, _) = e.charge(HAPPY, 4_000, &["--sequence-id", "RERUN-1"]);
    assert_eq!(code, 0, "{first}");
    assert_eq!(first["outcome"], "COMPLETED");
    assert_eq!(first["result"], "COMPLETED");
    assert_eq!(
        charge_requests(&e),
        1,
        "resumed through the inquiry, not re-sent"
    );
    let (code, again, stderr) = e.charge(HAPPY, 4_000, &["--sequence-id", "RERUN-1"]);
    assert_eq!(code, 0);
    assert_eq!(again, first, "a replay prints what the first run printed");
    assert!(stderr.contains("replayed from the journal"), "{stderr}");
    assert_eq!(charge_requests(&e), 1);
    assert_eq!(txns_of(&e, "RERUN-1"), vec![TxnState::Completed]);

    // a charge that completed at once replays identically too, exit status included
    let (code, direct, _) = e.charge(HAPPY, 5_000, &["--sequence-id", "RERUN-2"]);
    assert_eq!(code, 0);
    let (code, replay, _) = e.charge(HAPPY, 5_000, &["--sequence-id", "RERUN-2"]);
    assert_eq!((code, &replay), (0, &direct));
    // a declined charge replays its decline and exit 3
    let (code, declined, _) = e.charge(EMPTY_ACCOUNT, 1_000, &["--sequence-id", "RERUN-3"]);
    assert_eq!(code, 3, "{declined}");
    let (code, replay, _) = e.charge(EMPTY_ACCOUNT, 1_000, &["--sequence-id", "RERUN-3"]);
    assert_eq!((code, &replay), (3, &declined));
    assert_eq!(charge_requests(&e), 3);

    // the same sequenceId for a different amount: refused, nothing sent
    let (code, v, _) = e.charge(HAPPY, 4_001, &["--sequence-id", "RERUN-1"]);
    assert_eq!(code, 2, "{v}");
    assert_eq!(v["field"], "amount");
    assert_eq!(charge_requests(&e), 3);
}

/// `recover` while a charge is still in flight leaves it to the process driving it (the old
/// behaviour finalized it as NOT_PROCESSED); that process completes it.
#[test]
fn recover_leaves_a_live_charge_alone() {
    let e = Env::new();
    // the charge stays in flight for 8 s: long enough for the journal wait and recover below
    e.sb.inject("charge", Fault::SlowCommit(Duration::from_millis(8_000)));
    let (t, d) = e.token(HAPPY_CARD);
    let user = HAPPY.to_string();
    let child = e
        .cmd()
        .args([
            "--json",
            "--timeout",
            "10",
            "charge",
            "--user-id",
            &user,
            "--amount",
            "6000",
        ])
        .args([
            "--merchant-id",
            MERCHANT,
            "--one-time-token",
            &t,
            "--dcvv",
            &d,
            "--sequence-id",
            "LIVE-1",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let seq = SequenceId::new("LIVE-1").unwrap();
    let deadline = Instant::now() + Duration::from_secs(7);
    while konaplate::journal::open(e.journal(), Duration::from_secs(30))
        .ok()
        .and_then(|mut j| j.latest_of(&seq).ok().flatten())
        .is_none()
    {
        assert!(Instant::now() < deadline, "the charge never journaled");
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, v, _) = e.json(&["recover", "--max-wait", "1"]);
    assert_eq!(code, 5, "{v}");
    assert_eq!(v["recovered"][0]["sequenceId"], "LIVE-1");
    assert_eq!(v["recovered"][0]["busy"], true);
    let (_, list, _) = e.json(&["journal"]);
    assert_eq!(list["entries"][0]["busy"], true);
    let out = child.wait_with_output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (out.status.code(), v["outcome"].as_str()),
        (Some(0), Some("COMPLETED")),
        "{v}"
    );
    assert_eq!(txns_of(&e, "LIVE-1"), vec![TxnState::Completed]);
    let mut j = e.open_journal();
    assert_eq!(j.latest_of(&seq).unwrap().unwrap().state, State::Completed);
}

/// Six processes charge at once through one journal (one of them slow): none blocks the
/// others for long, every record is whole, every charge completes once.
#[test]
fn concurrent_processes_share_one_journal() {
    let e = Env::new();
    e.sb.inject("charge", Fault::SlowCommit(Duration::from_millis(2_000)));
    let tokens: Vec<(String, String)> = (0..6).map(|_| e.token(HAPPY_CARD)).collect();
    let user = HAPPY.to_string();
    let started = Instant::now();
    let children: Vec<_> = tokens
        .iter()
        .enumerate()
        .map(|(i, (t, d))| {
            e.cmd()
                .args([
                    "--json",
                    "--timeout",
                    "10",
                    "charge",
                    "--user-id",
                    &user,
                    "--amount",
                    "1000",
                ])
                .args([
                    "--merchant-id",
                    MERCHANT,
                    "--one-time-token",
                    t,
                    "--dcvv",
                    d,
                ])
                .args(["--sequence-id", &format!("PAR-{i}")])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("warning"),
            "a damaged journal was seen"
        );
    }
    assert!(
        started.elapsed() < Duration::from_secs(8),
        "a slow charge blocked the others"
    );
    let mut j = e.open_journal();
    assert!(j.take_warnings().is_empty());
    let latest = j.latest().unwrap();
    assert_eq!(latest.len(), 6);
    assert!(latest.iter().all(|r| r.state == State::Completed));
    for i in 0..6 {
        assert_eq!(txns_of(&e, &format!("PAR-{i}")), vec![TxnState::Completed]);
    }
}

/// A refund whose answer is lost is UNKNOWN (exit 4), listed for the operator, never re-sent;
/// the operator closes it after checking with KONA PLATE, and the history stays.
#[test]
fn an_unknown_refund_is_closed_by_the_operator() {
    let e = Env::with(SandboxConfig::default());
    e.sb.inject("refund", Fault::DropAfterCommit);
    let (t, d) = e.token(HAPPY_CARD);
    let user = HAPPY.to_string();
    let refund = |t: &str, d: &str| {
        e.json(&[
            "refund",
            "--user-id",
            &user,
            "--card-expiry",
            seed::CARD_EXPIRY,
            "--one-time-token",
            t,
            "--dcvv",
            d,
            "--sequence-id",
            "REFUND-LOST",
            "--token-ttl",
            "3",
            "--commit-grace",
            "3",
        ])
    };
    let sent = std::time::Instant::now();
    let (code, v, _) = refund(&t, &d);
    assert_eq!((code, v["outcome"].as_str()), (4, Some("UNKNOWN")), "{v}");
    // too early: the platform could still commit it (for token-ttl + commit-grace, 6 s)
    let close = [
        "journal",
        "resolve",
        "REFUND-LOST",
        "--outcome",
        "completed",
        "--note",
        "KONA PLATE ticket 4711: refunded",
    ];
    let (code, v, _) = e.json(&close);
    assert_eq!(code, 2, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("may still commit"),
        "{v}"
    );
    let (_, list, _) = e.json(&["journal"]);
    let entry = &list["entries"][0];
    assert_eq!(
        (entry["sequenceId"].as_str(), entry["state"].as_str()),
        (Some("REFUND-LOST"), Some("UNKNOWN"))
    );
    assert_eq!(entry["awaits"], "operator");
    assert_eq!(entry["operation"], "refund");
    // recover cannot learn it and says so
    let (code, v, _) = e.json(&["recover"]);
    assert_eq!(code, 4, "{v}");
    assert_eq!(v["recovered"][0]["awaits"], "operator");
    if let Some(rest) = Duration::from_millis(6_200).checked_sub(sent.elapsed()) {
        std::thread::sleep(rest);
    }
    // the operator checked: the sandbox's ledger holds the refund
    assert!(e.sb.ledger().refund_record("REFUND-LOST").is_some());
    let (code, v, _) = e.json(&close);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["state"], "COMPLETED");
    assert_eq!(v["resolvedBy"], "operator");
    assert_eq!(v["note"], "KONA PLATE ticket 4711: refunded");
    let (code, v, _) = e.json(&close);
    assert_eq!(code, 2, "already final: {v}");
    let (code, v, _) = e.json(&["recover"]);
    assert_eq!((code, v["recovered"].as_array().unwrap().len()), (0, 0));
    // re-running the refund replays the operator's word; nothing is sent
    let refunds = e.sb.log().iter().filter(|l| l.endpoint == "refund").count();
    let (t, d) = e.token(HAPPY_CARD);
    let (code, v, _) = refund(&t, &d);
    assert_eq!(
        (code, v["outcome"].as_str(), v["note"].as_str()),
        (
            0,
            Some("COMPLETED"),
            Some("KONA PLATE ticket 4711: refunded")
        )
    );
    assert_eq!(
        e.sb.log().iter().filter(|l| l.endpoint == "refund").count(),
        refunds
    );
    // the history keeps both records
    let mut j = e.open_journal();
    let history: Vec<State> = j
        .records()
        .unwrap()
        .iter()
        .filter(|r| r.sequence_id.as_str() == "REFUND-LOST")
        .map(|r| r.state)
        .collect();
    assert_eq!(
        history,
        vec![State::Sending, State::Unknown, State::Completed]
    );
}
