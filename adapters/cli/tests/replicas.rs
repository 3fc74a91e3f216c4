//! Several `konaplate` processes as replicas of a back office on one PostgreSQL journal
//! (`--journal postgresql://...`), against the sandbox over 127.0.0.1. Needs the throwaway
//! cluster of `scripts/pg run -- ...` (`KONAPLATE_TEST_PG`); without it the tests say they were
//! skipped, unless `KONAPLATE_REQUIRE_PG=1` (CI). Every case checks the sandbox's ledger.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use std::io::Write;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use common::Env;
use konaplate::core::field::SequenceId;
use konaplate::core::flow::State;
use konaplate::journal::{Journal, PgJournal};
use konaplate_sandbox::seed::*;
use konaplate_sandbox::{Fault, TxnState};

/// A fresh database on the test cluster, or `None` (and a note) when there is none.
fn database(name: &str) -> Option<String> {
    let Ok(base) = std::env::var("KONAPLATE_TEST_PG") else {
        if std::env::var("KONAPLATE_REQUIRE_PG").as_deref() == Ok("1") {
            panic!("KONAPLATE_REQUIRE_PG=1 but KONAPLATE_TEST_PG is not set: no PostgreSQL");
        }
        // straight to the terminal: the test harness captures eprintln! of passing tests
        let _ = writeln!(
            std::io::stderr(),
            "{name}: skipped: no PostgreSQL (run `scripts/pg run -- cargo test -p konaplate-cli --test replicas`)"
        );
        return None;
    };
    static N: AtomicU32 = AtomicU32::new(0);
    let db = format!(
        "kp_cli_{}_{}_{}",
        name,
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin = postgres::Client::connect(&base, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {base}: {e}"));
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .unwrap();
    Some(base.replacen("/postgres?", &format!("/{db}?"), 1))
}

fn txns_of(e: &Env, seq: &str) -> Vec<TxnState> {
    e.sb.ledger()
        .txns()
        .filter(|t| t.sequence_id == seq)
        .map(|t| t.state)
        .collect()
}

/// A charge on one replica; its re-run on another replays it (nothing sent); both replicas
/// list it; a different request under the same sequenceId is refused.
#[test]
fn a_charge_on_one_replica_is_replayed_on_another() {
    let Some(url) = database("replay") else {
        return;
    };
    let e = Env::new();
    let (code, v, _) = e.charge(
        HAPPY,
        1_000,
        &["--journal", &url, "--sequence-id", "REPLICA-1"],
    );
    assert_eq!((code, v["outcome"].as_str()), (0, Some("COMPLETED")), "{v}");
    // "another replica": another process, the URL from the environment
    let (t, d) = e.token(HAPPY_CARD);
    let out = e
        .cmd()
        .env("KONAPLATE_JOURNAL", &url)
        .args([
            "--json",
            "charge",
            "--user-id",
            &HAPPY.to_string(),
            "--amount",
            "1000",
        ])
        .args([
            "--merchant-id",
            MERCHANT,
            "--one-time-token",
            &t,
            "--dcvv",
            &d,
        ])
        .args(["--sequence-id", "REPLICA-1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("replayed from the journal"), "{stderr}");
    let (code, v, _) = e.charge(
        HAPPY,
        2_000,
        &["--journal", &url, "--sequence-id", "REPLICA-1"],
    );
    assert_eq!(code, 2, "{v}");
    assert_eq!(txns_of(&e, "REPLICA-1"), vec![TxnState::Completed]);
    let (code, list, _) = e.json(&["--journal", &url, "journal"]);
    assert_eq!(code, 0, "{list}");
    assert_eq!(list["entries"][0]["sequenceId"], "REPLICA-1");
    assert_eq!(list["entries"][0]["state"], "COMPLETED");
}

/// A replica killed (-9) after the platform got its charge: while its lease lives another
/// replica's `recover` leaves the entry alone; once it expired, `recover` takes it over and
/// ends it COMPLETED with exactly one transaction.
#[test]
fn a_killed_replica_is_recovered_by_another_after_its_lease() {
    let Some(url) = database("killed") else {
        return;
    };
    let e = Env::new();
    // the platform commits 4 s after the request arrives: the kill lands while it is open
    e.sb.inject("charge", Fault::SlowCommit(Duration::from_millis(4_000)));
    let (t, d) = e.token(HAPPY_CARD);
    let mut child = e
        .cmd()
        .args([
            "--json",
            "--journal",
            &url,
            "--lease",
            "3",
            "--timeout",
            "10",
        ])
        .args([
            "charge",
            "--user-id",
            &HAPPY.to_string(),
            "--amount",
            "3000",
        ])
        .args([
            "--merchant-id",
            MERCHANT,
            "--one-time-token",
            &t,
            "--dcvv",
            &d,
        ])
        .args(["--sequence-id", "KILLED-1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut j = PgJournal::connect(&url, Duration::from_secs(3)).unwrap();
    let seq = SequenceId::new("KILLED-1").unwrap();
    // written ahead, then sent: the platform holds it (and answers only 4 s later)
    let deadline = Instant::now() + Duration::from_secs(10);
    while j.latest_of(&seq).unwrap().is_none() {
        assert!(Instant::now() < deadline, "the charge was never journaled");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(700));
    child.kill().unwrap();
    child.wait().unwrap();
    let killed_at = Instant::now();
    assert_eq!(j.latest_of(&seq).unwrap().unwrap().state, State::Sending);
    // the lease lives: left alone
    let (code, v, _) = e.json(&["--journal", &url, "recover", "--max-wait", "1"]);
    if killed_at.elapsed() < Duration::from_millis(2_500) {
        assert_eq!(code, 5, "{v}");
        assert_eq!(v["recovered"][0]["busy"], true, "{v}");
    }
    std::thread::sleep(Duration::from_millis(3_200).saturating_sub(killed_at.elapsed()));
    let (code, v, _) = e.json(&[
        "--journal",
        &url,
        "recover",
        "--poll-interval",
        "1",
        "--max-wait",
        "30",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["recovered"][0]["outcome"], "COMPLETED", "{v}");
    assert_eq!(txns_of(&e, "KILLED-1"), vec![TxnState::Completed]);
    assert_eq!(j.latest_of(&seq).unwrap().unwrap().state, State::Completed);
    // every change is in the history: written ahead, then the outcome
    let history: Vec<State> = j
        .records()
        .unwrap()
        .iter()
        .filter(|r| r.sequence_id == seq)
        .map(|r| r.state)
        .collect();
    assert_eq!(history.first(), Some(&State::Sending), "{history:?}");
    assert_eq!(history.last(), Some(&State::Completed), "{history:?}");
}

/// A database that is down before the send: nothing is sent.
#[test]
fn a_database_that_is_down_means_nothing_is_sent() {
    let Some(url) = database("down") else {
        return;
    };
    let e = Env::new();
    // a socket directory where no server listens
    let dead = url.replacen("host=/", "host=/nonexistent/", 1);
    let (code, v, stderr) = e.charge(HAPPY, 1_000, &["--journal", &dead]);
    assert_eq!(code, 2, "{v} {stderr}");
    assert!(
        v["error"].to_string().contains("nothing was sent") || stderr.contains("nothing was sent"),
        "{v} {stderr}"
    );
    assert!(!e.sb.log().iter().any(|l| l.endpoint == "charge"));
}
