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

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::Env;
use konaplate::core::field::SequenceId;
use konaplate::core::flow::State;
use konaplate::journal::{Journal, PgJournal};
use konaplate_sandbox::seed::*;
use konaplate_sandbox::{Fault, TxnState};

/// The cluster is shared by the tests of this file; the one that restarts it runs alone.
static CLUSTER: std::sync::RwLock<()> = std::sync::RwLock::new(());

/// A fresh database on the test cluster, or `None` (and a note) when there is none.
fn database(name: &str) -> Option<String> {
    common::database(name, "cargo test -p konaplate-cli --test replicas")
}

fn txns_of(e: &Env, seq: &str) -> Vec<TxnState> {
    e.sb.ledger()
        .txns()
        .filter(|t| t.sequence_id == seq)
        .map(|t| t.state)
        .collect()
}

/// `konaplate charge` as one replica runs it: `--json`, the shared journal, the lease and
/// read timeout, a charge of `amount` for HAPPY under `seq` (stderr discarded; the caller
/// adds options and chooses stdout).
fn charge_command(
    e: &Env,
    url: &str,
    seq: &str,
    amount: &str,
    (lease, timeout): (&str, &str),
    (t, d): (&str, &str),
) -> std::process::Command {
    let mut c = e.cmd();
    c.args([
        "--json",
        "--journal",
        url,
        "--lease",
        lease,
        "--timeout",
        timeout,
    ])
    .args([
        "charge",
        "--user-id",
        &HAPPY.to_string(),
        "--amount",
        amount,
    ])
    .args([
        "--merchant-id",
        MERCHANT,
        "--one-time-token",
        t,
        "--dcvv",
        d,
    ])
    .args(["--sequence-id", seq])
    .stderr(Stdio::null());
    c
}

/// A replica reaches a remote database over verified TLS (the test cluster's TCP port, which
/// takes TLS only, under the name db.test): the charge is journaled there and listed from the
/// socket; a URL that would allow the clear is refused with nothing sent.
#[test]
fn a_replica_journals_on_a_remote_database_over_tls() {
    let Some(url) = database("tls") else {
        return;
    };
    let _shared = CLUSTER.read().unwrap_or_else(|e| e.into_inner());
    let db = url.split_once('?').unwrap().0.rsplit('/').next().unwrap();
    let tls = std::env::var("KONAPLATE_TEST_PG_TLS").unwrap().replacen(
        "/postgres?",
        &format!("/{db}?"),
        1,
    );
    let e = Env::new();
    let (code, v, stderr) = e.charge(
        HAPPY,
        1_000,
        &[
            "--journal",
            &format!("{tls}&sslmode=disable"),
            "--sequence-id",
            "TLS-0",
        ],
    );
    assert_eq!(code, 2, "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("in the clear"),
        "{v} {stderr}"
    );
    let password = std::env::var("KONAPLATE_TEST_PG_PASSWORD").unwrap();
    assert!(
        !v.to_string().contains(&password) && !stderr.contains(&password),
        "the database password in the output: {v} {stderr}"
    );
    assert_eq!(txns_of(&e, "TLS-0"), vec![], "nothing was sent");
    let (code, v, _) = e.charge(HAPPY, 1_000, &["--journal", &tls, "--sequence-id", "TLS-1"]);
    assert_eq!((code, v["outcome"].as_str()), (0, Some("COMPLETED")), "{v}");
    let (code, list, _) = e.json(&["--journal", &url, "journal"]);
    assert_eq!(code, 0, "{list}");
    assert_eq!(list["entries"][0]["sequenceId"], "TLS-1");
    assert_eq!(list["entries"][0]["state"], "COMPLETED");
    assert_eq!(txns_of(&e, "TLS-1"), vec![TxnState::Completed]);
}

/// A charge on one replica; its re-run on another replays it (nothing sent); both replicas
/// list it; a different request under the same sequenceId is refused.
#[test]
fn a_charge_on_one_replica_is_replayed_on_another() {
    let Some(url) = database("replay") else {
        return;
    };
    let _shared = CLUSTER.read().unwrap_or_else(|e| e.into_inner());
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
    let _shared = CLUSTER.read().unwrap_or_else(|e| e.into_inner());
    let e = Env::new();
    // the platform commits 4 s after the request arrives: the kill lands while it is open
    e.sb.inject("charge", Fault::SlowCommit(Duration::from_millis(4_000)));
    let (t, d) = e.token(HAPPY_CARD);
    let mut child = charge_command(&e, &url, "KILLED-1", "3000", ("5", "2"), (&t, &d))
        .stdout(Stdio::null())
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
    // open, awaiting the platform (in doubt once its read timed out, under load)
    assert!(j.latest_of(&seq).unwrap().unwrap().state.awaits_platform());
    // the lease lives: left alone
    let (code, v, _) = e.json(&["--journal", &url, "recover", "--max-wait", "1"]);
    if killed_at.elapsed() < Duration::from_millis(2_500) {
        assert_eq!(code, 5, "{v}");
        assert_eq!(v["recovered"][0]["busy"], true, "{v}");
    }
    std::thread::sleep(Duration::from_millis(5_200).saturating_sub(killed_at.elapsed()));
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
    let _shared = CLUSTER.read().unwrap_or_else(|e| e.into_inner());
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

/// A replica stopped (SIGSTOP) mid-charge until another has recovered its call: when it wakes
/// it is fenced — it writes nothing over the recovered entry and charges nothing again.
#[test]
fn a_paused_replica_is_fenced_when_it_wakes() {
    let Some(url) = database("paused") else {
        return;
    };
    let _shared = CLUSTER.read().unwrap_or_else(|e| e.into_inner());
    let e = Env::new();
    e.sb.inject("charge", Fault::SlowCommit(Duration::from_millis(3_000)));
    let (t, d) = e.token(HAPPY_CARD);
    let child = charge_command(&e, &url, "PAUSED-1", "2500", ("5", "2"), (&t, &d))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let mut j = PgJournal::connect(&url, Duration::from_secs(2)).unwrap();
    let seq = SequenceId::new("PAUSED-1").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while j.latest_of(&seq).unwrap().is_none() {
        assert!(Instant::now() < deadline, "the charge was never journaled");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(500));
    let signal = |sig: &str| {
        let ok = std::process::Command::new("kill")
            .args([sig, &pid])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {sig} {pid}");
    };
    signal("-STOP");
    // its lease runs out while it sleeps; another replica recovers the call
    std::thread::sleep(Duration::from_millis(5_500));
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
    let history_before = j.records().unwrap().len();
    signal("-CONT");
    let out = child.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // it stopped on its lease: no contradicting state, no second charge
    assert_eq!(out.status.code(), Some(5), "{v}");
    assert_eq!(v["fenced"], true, "{v}");
    assert_eq!(txns_of(&e, "PAUSED-1"), vec![TxnState::Completed]);
    assert_eq!(j.records().unwrap().len(), history_before);
    assert_eq!(j.latest_of(&seq).unwrap().unwrap().state, State::Completed);
}

/// Four replicas, eight charges each at once, on one journal: every charge COMPLETED exactly
/// once, and every replica lists all 32.
#[test]
fn four_replicas_times_eight_concurrent_charges_complete_once_each() {
    let Some(url) = database("four_by_eight") else {
        return;
    };
    let _shared = CLUSTER.read().unwrap_or_else(|e| e.into_inner());
    let e = Env::new();
    let tokens: Vec<(String, String)> = (0..32).map(|_| e.token(HAPPY_CARD)).collect();
    let user = HAPPY.to_string();
    let children: Vec<_> = tokens
        .iter()
        .enumerate()
        .map(|(i, (t, d))| {
            let seq = format!("R{}-C{}", i / 8, i % 8);
            e.cmd()
                .args(["--json", "--journal", &url, "--timeout", "20"])
                .args(["charge", "--user-id", &user, "--amount", "100"])
                .args([
                    "--merchant-id",
                    MERCHANT,
                    "--one-time-token",
                    t,
                    "--dcvv",
                    d,
                ])
                .args(["--sequence-id", &seq])
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            (out.status.code(), v["outcome"].as_str()),
            (Some(0), Some("COMPLETED")),
            "{v}"
        );
    }
    for i in 0..32 {
        let seq = format!("R{}-C{}", i / 8, i % 8);
        assert_eq!(txns_of(&e, &seq), vec![TxnState::Completed], "{seq}");
    }
    let (code, list, _) = e.json(&["--journal", &url, "journal"]);
    assert_eq!(code, 0, "{list}");
    let entries = list["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 32);
    assert!(entries.iter().all(|x| x["state"] == "COMPLETED"), "{list}");
}

/// The database restarted while a charge waits on the platform: the charging process cannot
/// write its outcome and stops; once its lease expired, `recover` finishes the call, exactly
/// once.
#[test]
fn a_database_restart_mid_charge_loses_nothing_and_doubles_nothing() {
    let Some(url) = database("restart") else {
        return;
    };
    let _alone = CLUSTER.write().unwrap_or_else(|e| e.into_inner());
    let Ok(dir) = std::env::var("KONAPLATE_TEST_PG_DIR") else {
        panic!("KONAPLATE_TEST_PG_DIR is not set: run under scripts/pg");
    };
    let e = Env::new();
    e.sb.inject("charge", Fault::SlowCommit(Duration::from_millis(3_000)));
    let (t, d) = e.token(HAPPY_CARD);
    let child = charge_command(&e, &url, "RESTART-1", "1500", ("5", "2"), (&t, &d))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let seq = SequenceId::new("RESTART-1").unwrap();
    {
        let mut j = PgJournal::connect(&url, Duration::from_secs(2)).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while j.latest_of(&seq).unwrap().is_none() {
            assert!(Instant::now() < deadline, "the charge was never journaled");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    std::thread::sleep(Duration::from_millis(300));
    // restart the cluster (as its owner when this runs as root)
    let pg_ctl = std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|mut d| d.next())
        .and_then(|v| v.ok())
        .map(|v| v.path().join("bin/pg_ctl"))
        .filter(|p| p.exists())
        .unwrap_or_else(|| "pg_ctl".into());
    let data = format!("{dir}/data");
    let restart = ["-D", &data, "-m", "fast", "-w", "restart"];
    let as_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    let status = if as_root {
        std::process::Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(&pg_ctl)
            .args(restart)
            .stdout(Stdio::null())
            .status()
    } else {
        std::process::Command::new(&pg_ctl)
            .args(restart)
            .stdout(Stdio::null())
            .status()
    }
    .unwrap();
    assert!(status.success(), "pg_ctl restart");
    let out = child.wait_with_output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // it could not record the outcome: it says the call is open (never "nothing was sent",
    // exit 4, whose advice is a new request) and stops
    assert_eq!(out.status.code(), Some(5), "{v}");
    assert_eq!(v["outcomeUnknown"], true, "{v}");
    assert!(
        v["error"]
            .as_str()
            .unwrap()
            .contains("may have reached KONA PLATE"),
        "{v}"
    );
    std::thread::sleep(Duration::from_millis(5_200));
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
    assert_eq!(txns_of(&e, "RESTART-1"), vec![TxnState::Completed]);
    let mut j = PgJournal::connect(&url, Duration::from_secs(2)).unwrap();
    assert_eq!(j.latest_of(&seq).unwrap().unwrap().state, State::Completed);
}

/// A record this replica cannot read (a newer konaplate's, or damaged) is never "nothing to
/// recover": `recover` names it and exits 5, and `konaplate journal` counts it.
#[test]
fn a_record_recover_cannot_read_keeps_it_open() {
    let Some(url) = database("unreadable_cli") else {
        return;
    };
    let _shared = CLUSTER.read().unwrap_or_else(|e| e.into_inner());
    let e = Env::new();
    let (code, v, _) = e.charge(HAPPY, 900, &["--journal", &url, "--sequence-id", "NEWER-1"]);
    assert_eq!((code, v["outcome"].as_str()), (0, Some("COMPLETED")), "{v}");
    // an open charge in a format this version does not know
    let mut raw = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    raw.batch_execute(
        "UPDATE konaplate_journal_entries SET record = '\\x00ff00ff' WHERE sequence_id = 'NEWER-1'",
    )
    .unwrap();
    let out = e
        .cmd()
        .args(["--json", "--journal", &url, "recover", "--max-wait", "5"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{v} {stderr}");
    assert_eq!(v["unreadable"], 1, "{v}");
    assert!(
        stderr.contains("NEWER-1") && stderr.contains("cannot be read"),
        "{stderr}"
    );
    let out = e
        .cmd()
        .args(["--journal", &url, "recover", "--max-wait", "5"])
        .output()
        .unwrap();
    let human = String::from_utf8_lossy(&out.stdout);
    assert!(!human.contains("nothing to recover"), "{human}");
    assert!(human.contains("may be an open call"), "{human}");
    let (code, v, stderr) = e.json(&["--journal", &url, "journal"]);
    assert_eq!(
        (code, &v["unreadable"]),
        (0, &serde_json::json!(1)),
        "{v} {stderr}"
    );
    assert!(stderr.contains("NEWER-1"), "{stderr}");
}

/// Spawns a charge on its own "replica" (a process) with a short lease and read timeout.
fn spawn_charge(
    e: &Env,
    url: &str,
    seq: &str,
    timing: (&str, &str),
    (t, d): (String, String),
) -> std::process::Child {
    charge_command(e, url, seq, "700", timing, (&t, &d))
        .args(["--poll-interval", "1"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until `seq` is in the journal.
fn wait_journaled(j: &mut PgJournal, seq: &SequenceId) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while j.latest_of(seq).unwrap().is_none() {
        assert!(Instant::now() < deadline, "{seq} was never journaled");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// When a killed replica's lease runs out: it was granted or renewed no earlier than the
/// entry appeared in the journal (`journaled`), and renewed no later than the kill.
struct LeaseWindow {
    live_until: Instant,
    free_after: Instant,
}

fn window(journaled: Instant, killed: Instant, lease: Duration) -> LeaseWindow {
    LeaseWindow {
        live_until: journaled + lease - Duration::from_millis(200),
        free_after: killed + lease + Duration::from_millis(300),
    }
}

/// After a replica was killed: `recover` on another leaves the entry alone while the lease
/// lives (when it surely still lives), then takes it over and ends it with `outcome`: one
/// transaction for COMPLETED, none otherwise.
fn recover_after_the_lease(e: &Env, url: &str, seq: &str, w: LeaseWindow, outcome: &str) {
    if Instant::now() + Duration::from_millis(500) < w.live_until {
        let (code, v, _) = e.json(&["--journal", url, "recover", "--max-wait", "1"]);
        assert_eq!(code, 5, "{v}");
        assert_eq!(v["recovered"][0]["busy"], true, "{v}");
        assert!(txns_of(e, seq).len() <= 1);
    }
    std::thread::sleep(w.free_after.saturating_duration_since(Instant::now()));
    let (code, v, _) = e.json(&[
        "--journal",
        url,
        "recover",
        "--poll-interval",
        "1",
        "--max-wait",
        "60",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["recovered"][0]["outcome"], outcome, "{v}");
    let txns = txns_of(e, seq);
    if outcome == "COMPLETED" {
        assert_eq!(txns, vec![TxnState::Completed], "{seq}");
    } else {
        assert!(txns.is_empty(), "{seq}: {txns:?}");
    }
}

/// Killed before the send reached the platform (its connections refused): nothing arrived.
/// The journal cannot tell this from a request that left just before the kill (the record is
/// written ahead, before the send), and the token is never kept: another replica's recover
/// asks the inquiry until the token cannot be valid any more, and ends it NOT_PROCESSED —
/// never a charge, never a wrong answer (the cashier charges again under a new sequenceId).
#[test]
fn killed_before_the_send() {
    let Some(url) = database("kill_before") else {
        return;
    };
    let _shared = CLUSTER.read().unwrap_or_else(|e| e.into_inner());
    let e = Env::new();
    let token = e.token(HAPPY_CARD);
    // from now on the platform refuses every connection: the charge cannot leave
    e.sb.inject(
        "charge",
        Fault::RefuseConnection(Duration::from_millis(3_000)),
    );
    let (t, d) = token;
    let mut child = charge_command(&e, &url, "KILL-BEFORE", "700", ("5", "2"), (&t, &d))
        .args([
            "--token-ttl",
            "4",
            "--commit-grace",
            "1",
            "--poll-interval",
            "1",
        ])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut j = PgJournal::connect(&url, Duration::from_secs(3)).unwrap();
    let seq = SequenceId::new("KILL-BEFORE").unwrap();
    wait_journaled(&mut j, &seq);
    let journaled = Instant::now();
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    let w = window(journaled, Instant::now(), Duration::from_secs(5));
    e.sb.wait_listening();
    assert!(txns_of(&e, "KILL-BEFORE").is_empty());
    recover_after_the_lease(&e, &url, "KILL-BEFORE", w, "NOT_PROCESSED");
}

/// Killed after the platform committed the charge, before its answer came back.
#[test]
fn killed_after_the_commit_before_the_answer() {
    let Some(url) = database("kill_after_commit") else {
        return;
    };
    let _shared = CLUSTER.read().unwrap_or_else(|e| e.into_inner());
    let e = Env::new();
    e.sb.inject("charge", Fault::Delay(Duration::from_millis(3_000)));
    let token = e.token(HAPPY_CARD);
    let mut child = spawn_charge(&e, &url, "KILL-COMMITTED", ("9", "4"), token);
    let mut j = PgJournal::connect(&url, Duration::from_secs(9)).unwrap();
    wait_journaled(&mut j, &SequenceId::new("KILL-COMMITTED").unwrap());
    let journaled = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(10);
    while txns_of(&e, "KILL-COMMITTED").is_empty() {
        assert!(Instant::now() < deadline, "the platform never committed it");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let w = window(journaled, Instant::now(), Duration::from_secs(9));
    recover_after_the_lease(&e, &url, "KILL-COMMITTED", w, "COMPLETED");
}

/// Killed after the answer arrived, before the journal recorded it: the test holds the
/// entry's row locked, so the replica's write of the outcome waits, and it dies waiting.
#[test]
fn killed_after_the_answer_before_the_journal_update() {
    let Some(url) = database("kill_after_answer") else {
        return;
    };
    let _shared = CLUSTER.read().unwrap_or_else(|e| e.into_inner());
    let e = Env::new();
    e.sb.inject("charge", Fault::Delay(Duration::from_millis(1_500)));
    let token = e.token(HAPPY_CARD);
    let mut child = spawn_charge(&e, &url, "KILL-ANSWERED", ("7", "3"), token);
    let mut j = PgJournal::connect(&url, Duration::from_secs(7)).unwrap();
    // connected now: the row must be locked within the 1.5 s between commit and answer
    let mut holder = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    let seq = SequenceId::new("KILL-ANSWERED").unwrap();
    wait_journaled(&mut j, &seq);
    let journaled = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(10);
    while txns_of(&e, "KILL-ANSWERED").is_empty() {
        assert!(Instant::now() < deadline, "the platform never committed it");
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut tx = holder.transaction().unwrap();
    tx.query(
        "SELECT 1 FROM konaplate_journal_entries WHERE sequence_id = 'KILL-ANSWERED' FOR UPDATE",
        &[],
    )
    .unwrap();
    // the answer comes 1.5 s after the commit; the replica then blocks on the row
    std::thread::sleep(Duration::from_millis(2_500));
    child.kill().unwrap();
    child.wait().unwrap();
    tx.rollback().unwrap();
    // the answer never reached the journal
    assert_eq!(j.latest_of(&seq).unwrap().unwrap().state, State::Sending);
    let w = window(journaled, Instant::now(), Duration::from_secs(7));
    recover_after_the_lease(&e, &url, "KILL-ANSWERED", w, "COMPLETED");
}
