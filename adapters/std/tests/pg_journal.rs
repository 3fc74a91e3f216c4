//! The PostgreSQL journal against a real PostgreSQL: `scripts/pg run -- cargo test ...` starts a
//! throwaway cluster and sets `KONAPLATE_TEST_PG`. Without it these tests say they were skipped
//! and pass, unless `KONAPLATE_REQUIRE_PG=1` (CI), where a missing database fails them.
//!
//! Each test works in a database of its own. What they check: records round-trip and the
//! history keeps every write; a final state is never replaced; a lease makes an entry busy for
//! every other process; a lease that expired is taken over with a larger fencing token, and the
//! old holder's writes and renewals are then refused; the schema is versioned; money runs
//! through the journaled driver against the sandbox, replays on a re-run, and resumes after a
//! crash on another "replica".
#![cfg(feature = "postgres")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use konaplate::core::api::ChargeRequest;
use konaplate::core::field::*;
use konaplate::core::flow::{Flow, JournalRecord, Policy, State};
use konaplate::journal::{Journal, PgJournal, is_fenced};

/// A fresh database on the test cluster, or `None` (and a note) when there is no cluster.
fn database(name: &str) -> Option<String> {
    let Ok(base) = std::env::var("KONAPLATE_TEST_PG") else {
        if std::env::var("KONAPLATE_REQUIRE_PG").as_deref() == Ok("1") {
            panic!("KONAPLATE_REQUIRE_PG=1 but KONAPLATE_TEST_PG is not set: no PostgreSQL");
        }
        // straight to the terminal: the test harness captures eprintln! of passing tests
        let _ = writeln!(
            std::io::stderr(),
            "{name}: skipped: no PostgreSQL (run `scripts/pg run -- cargo test -p konaplate --features postgres --test pg_journal`)"
        );
        return None;
    };
    static N: AtomicU32 = AtomicU32::new(0);
    let db = format!(
        "kp_{}_{}_{}",
        name,
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    );
    let mut admin = postgres::Client::connect(&base, postgres::NoTls)
        .unwrap_or_else(|e| panic!("cannot reach the test PostgreSQL at {base}: {e}"));
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .unwrap();
    // the URL names the database in its path: postgresql://user@/postgres?host=/dir
    let url = base.replacen("/postgres?", &format!("/{db}?"), 1);
    assert_ne!(
        url, base,
        "KONAPLATE_TEST_PG names no database to replace: {base}"
    );
    Some(url)
}

fn rec(seq: &str, state: State) -> JournalRecord {
    let charge = ChargeRequest {
        sequence_id: SequenceId::new(seq).unwrap(),
        user_id: UserId::new(50_000_100_001).unwrap(),
        amount: ChargeAmount::new(1_000).unwrap(),
        one_time_token: OneTimeToken::new("1234567890123456").unwrap(),
        dcvv: Dcvv::new("123").unwrap(),
        merchant_id: MerchantId::new("100000000000101").unwrap(),
    };
    let mut f = Flow::start(charge, Policy::default(), 1);
    f.poll(1);
    let mut r = f.record();
    if state != State::Sending {
        r.maybe_arrived = true;
        r.updated_ms = 2;
    }
    r.state = state;
    r
}

fn seq(s: &str) -> SequenceId {
    SequenceId::new(s).unwrap()
}

const LEASE: Duration = Duration::from_secs(30);

#[test]
fn records_round_trip_and_the_history_keeps_every_write() {
    let Some(url) = database("roundtrip") else {
        return;
    };
    let mut j = PgJournal::connect(&url, LEASE).unwrap();
    // the test cluster's URL holds no password: shown as it is
    assert_eq!(j.location(), url);
    for (s, state) in [
        ("A", State::Sending),
        ("B", State::Sending),
        ("A", State::Lost),
        ("A", State::Completed),
    ] {
        let lease = j.try_lease(&seq(s)).unwrap().unwrap();
        j.append(&rec(s, state), Some(&lease)).unwrap();
        j.release(lease).unwrap();
    }
    assert_eq!(
        j.latest_of(&seq("A")).unwrap().unwrap().state,
        State::Completed
    );
    assert_eq!(
        j.latest_of(&seq("B")).unwrap().unwrap().state,
        State::Sending
    );
    assert!(j.latest_of(&seq("C")).unwrap().is_none());
    let latest: Vec<_> = j.latest().unwrap().iter().map(|r| r.sequence_id).collect();
    assert_eq!(latest, [seq("A"), seq("B")]);
    let unfinished: Vec<_> = j
        .unfinished()
        .unwrap()
        .iter()
        .map(|r| r.sequence_id)
        .collect();
    assert_eq!(unfinished, [seq("B")]);
    let history: Vec<_> = j
        .records()
        .unwrap()
        .iter()
        .map(|r| (r.sequence_id, r.state))
        .collect();
    assert_eq!(
        history,
        [
            (seq("A"), State::Sending),
            (seq("B"), State::Sending),
            (seq("A"), State::Lost),
            (seq("A"), State::Completed)
        ]
    );
    // another connection (another replica) reads the same
    let mut other = PgJournal::connect(&url, LEASE).unwrap();
    assert_eq!(other.counts().unwrap(), (2, 4));
    assert_eq!(
        other.latest_of(&seq("A")).unwrap().unwrap(),
        j.latest_of(&seq("A")).unwrap().unwrap()
    );
}

#[test]
fn a_final_state_is_never_replaced() {
    let Some(url) = database("final") else {
        return;
    };
    let mut j = PgJournal::connect(&url, LEASE).unwrap();
    let lease = j.try_lease(&seq("A")).unwrap().unwrap();
    j.append(&rec("A", State::Lost), Some(&lease)).unwrap();
    j.append(&rec("A", State::Completed), Some(&lease)).unwrap();
    let e = j
        .append(&rec("A", State::NotProcessed), Some(&lease))
        .unwrap_err();
    assert!(e.to_string().contains("refusing"), "{e}");
    j.release(lease).unwrap();
    // by another replica, without a lease, too
    let mut other = PgJournal::connect(&url, LEASE).unwrap();
    assert!(other.append(&rec("A", State::Lost), None).is_err());
    assert_eq!(
        other.latest_of(&seq("A")).unwrap().unwrap().state,
        State::Completed
    );
    // and the refused writes left no history
    assert_eq!(other.counts().unwrap(), (1, 2));
}

#[test]
fn a_leased_entry_is_busy_for_every_other_process() {
    let Some(url) = database("busy") else {
        return;
    };
    let mut a = PgJournal::connect(&url, LEASE).unwrap();
    let mut b = PgJournal::connect(&url, LEASE).unwrap();
    let lease = a.try_lease(&seq("A")).unwrap().unwrap();
    assert!(b.try_lease(&seq("A")).unwrap().is_none());
    assert!(b.is_driven_elsewhere(&seq("A")).unwrap());
    // an operator's write (no lease) waits for the driver
    let e = b.append(&rec("A", State::Sending), None).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock, "{e}");
    a.append(&rec("A", State::Sending), Some(&lease)).unwrap();
    // another entry is free
    assert!(b.try_lease(&seq("B")).unwrap().is_some());
    a.release(lease).unwrap();
    assert!(!b.is_driven_elsewhere(&seq("A")).unwrap());
    let again = b.try_lease(&seq("A")).unwrap().unwrap();
    assert!(again.token() > 1);
}

#[test]
fn an_expired_lease_is_taken_over_and_the_old_holder_is_fenced() {
    let Some(url) = database("fence") else {
        return;
    };
    let short = Duration::from_millis(1_200);
    let mut paused = PgJournal::connect(&url, short).unwrap();
    let mut recovering = PgJournal::connect(&url, short).unwrap();
    let old = paused.try_lease(&seq("A")).unwrap().unwrap();
    paused
        .append(&rec("A", State::Sending), Some(&old))
        .unwrap();
    // alive: left alone
    assert!(recovering.try_lease(&seq("A")).unwrap().is_none());
    // the holder "pauses" past its lease (renewals stop); the lease times are the database's
    std::thread::sleep(Duration::from_millis(1_600));
    assert!(!recovering.is_driven_elsewhere(&seq("A")).unwrap());
    let new = recovering.try_lease(&seq("A")).unwrap().unwrap();
    assert!(new.token() > old.token());
    recovering
        .append(&rec("A", State::Lost), Some(&new))
        .unwrap();
    // the paused one wakes: it cannot renew, cannot write, and its release takes nothing
    let e = paused.renew(&old).unwrap_err();
    assert!(is_fenced(&e), "{e}");
    let e = paused
        .append(&rec("A", State::NotProcessed), Some(&old))
        .unwrap_err();
    assert!(is_fenced(&e), "{e}");
    paused.release(old).unwrap();
    assert!(paused.is_driven_elsewhere(&seq("A")).unwrap());
    recovering
        .append(&rec("A", State::Completed), Some(&new))
        .unwrap();
    recovering.release(new).unwrap();
    assert_eq!(
        paused.latest_of(&seq("A")).unwrap().unwrap().state,
        State::Completed
    );
    // the history holds each write once, with the token it was made under
    assert_eq!(paused.counts().unwrap(), (1, 3));
}

#[test]
fn a_newer_schema_is_refused_untouched() {
    let Some(url) = database("schema") else {
        return;
    };
    drop(PgJournal::connect(&url, LEASE).unwrap());
    let mut raw = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    raw.batch_execute("UPDATE konaplate_journal_schema SET version = 2")
        .unwrap();
    let e = PgJournal::connect(&url, LEASE).unwrap_err();
    assert!(e.to_string().contains("schema version 2"), "{e}");
    // two replicas creating the schema at once do not race
    let Some(url) = database("schema_race") else {
        return;
    };
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || PgJournal::connect(&url, LEASE).map(drop))
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
}

#[test]
fn concurrent_replicas_never_lose_or_double_a_write() {
    let Some(url) = database("concurrent") else {
        return;
    };
    drop(PgJournal::connect(&url, LEASE).unwrap());
    let handles: Vec<_> = (0..4)
        .map(|r| {
            let url = url.clone();
            std::thread::spawn(move || {
                let mut j = PgJournal::connect(&url, LEASE).unwrap();
                let mut taken = 0;
                for i in 0..8 {
                    // every replica tries every entry: exactly one drives each
                    for s in [format!("R{r}-{i}"), format!("SHARED-{i}")] {
                        if let Some(lease) = j.try_lease(&seq(&s)).unwrap() {
                            if j.latest_of(&seq(&s)).unwrap().is_none() {
                                j.append(&rec(&s, State::Sending), Some(&lease)).unwrap();
                                j.append(&rec(&s, State::Completed), Some(&lease)).unwrap();
                                taken += 1;
                            }
                            j.release(lease).unwrap();
                        }
                    }
                }
                taken
            })
        })
        .collect();
    let taken: i32 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    // 32 own entries and 8 shared ones, each written once by one replica
    assert_eq!(taken, 40);
    let mut j = PgJournal::connect(&url, LEASE).unwrap();
    assert_eq!(j.counts().unwrap(), (40, 80));
    assert!(
        j.latest()
            .unwrap()
            .iter()
            .all(|r| r.state == State::Completed)
    );
}

#[test]
fn an_unreadable_record_is_refused_never_taken_for_a_new_call() {
    let Some(url) = database("unreadable") else {
        return;
    };
    let mut j = PgJournal::connect(&url, LEASE).unwrap();
    let lease = j.try_lease(&seq("A")).unwrap().unwrap();
    j.append(&rec("A", State::Completed), Some(&lease)).unwrap();
    j.release(lease).unwrap();
    // a newer replica's format, or damage
    let mut raw = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    raw.batch_execute("UPDATE konaplate_journal_entries SET record = '\\x00ff00ff'")
        .unwrap();
    let e = j.latest_of(&seq("A")).unwrap_err();
    assert!(e.to_string().contains("cannot be read"), "{e}");
    let lease = j.try_lease(&seq("A")).unwrap().unwrap();
    let e = j
        .append(&rec("A", State::Sending), Some(&lease))
        .unwrap_err();
    assert!(e.to_string().contains("cannot be read"), "{e}");
}

#[test]
fn a_remote_database_in_the_clear_is_refused_before_connecting() {
    // a remote host (or a remote hostaddr behind a local name) with a mode that allows the
    // clear: refused before connecting (nothing listens on port 1; the refusal comes first)
    for url in [
        "postgresql://kp@db.example.com:1/ledger?sslmode=disable",
        "postgresql://kp@db.example.com:1/ledger?sslmode=prefer",
        "postgresql://kp@localhost:1/ledger?hostaddr=203.0.113.5&sslmode=allow",
        "postgresql://kp:s3cret@203.0.113.5:1/ledger?sslmode=disable",
    ] {
        let e = PgJournal::connect(url, LEASE).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::Unsupported, "{url}: {e}");
        assert!(e.to_string().contains("in the clear"), "{e}");
        assert!(!e.to_string().contains("s3cret"), "{e}");
    }
    // an sslmode libpq does not know, and a root file that is not there: named
    let e =
        PgJournal::connect("postgresql://kp@db.example.com:1/l?sslmode=always", LEASE).unwrap_err();
    assert!(e.to_string().contains("sslmode=always: expected"), "{e}");
    let e = PgJournal::connect(
        "postgresql://kp@db.example.com:1/l?sslrootcert=/nonexistent/ca.pem",
        LEASE,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("sslrootcert /nonexistent/ca.pem"),
        "{e}"
    );
}

/// The test cluster listens on 127.0.0.1 for TLS only (pg_hba rejects TCP without it), with
/// a certificate for db.test from a throwaway CA; the URL reaches it as a remote database is
/// reached (`host=db.test`, `hostaddr=127.0.0.1`, `sslrootcert=` that CA).
fn tls_database(name: &str) -> Option<(String, String)> {
    let url = database(name)?;
    let db = url
        .split_once('?')
        .unwrap()
        .0
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let tls =
        std::env::var("KONAPLATE_TEST_PG_TLS").expect("scripts/pg sets KONAPLATE_TEST_PG_TLS");
    let tls_db = tls.replacen("/postgres?", &format!("/{db}?"), 1);
    assert_ne!(tls_db, tls, "a database of its own: {tls}");
    Some((url, tls_db))
}

/// Whether the SDK's tables exist in the database of `url` (a socket URL).
fn has_schema(url: &str) -> bool {
    let mut c = postgres::Client::connect(url, postgres::NoTls).unwrap();
    c.query_one(
        "SELECT to_regclass('konaplate_journal_entries') IS NOT NULL",
        &[],
    )
    .unwrap()
    .get(0)
}

#[test]
fn a_remote_database_is_reached_over_verified_tls() {
    let Some((socket, tls)) = tls_database("tls") else {
        return;
    };
    // the server itself turns away TCP without TLS: a journal that connects spoke TLS
    let port = tls
        .split_once("db.test:")
        .unwrap()
        .1
        .split_once('/')
        .unwrap()
        .0;
    let clear = format!(
        "postgresql://konaplate@127.0.0.1:{port}/{}?sslmode=disable",
        socket
            .split_once('?')
            .unwrap()
            .0
            .rsplit('/')
            .next()
            .unwrap()
    );
    let e = PgJournal::connect(&clear, LEASE).unwrap_err();
    assert!(e.to_string().contains("no encryption"), "{e}");

    // another CA's roots, and the right CA for another name: refused in the handshake,
    // nothing written (no schema made)
    let other_ca = std::env::var("KONAPLATE_TEST_PG_OTHER_CA").unwrap();
    let (head, query) = tls.split_once('?').unwrap();
    let wrong_root = format!(
        "{head}?{}",
        query
            .split('&')
            .map(|kv| if kv.starts_with("sslrootcert=") {
                format!("sslrootcert={other_ca}")
            } else {
                kv.to_string()
            })
            .collect::<Vec<_>>()
            .join("&")
    );
    let wrong_name = tls.replacen("@db.test:", "@other.test:", 1);
    let password = std::env::var("KONAPLATE_TEST_PG_PASSWORD").unwrap();
    let no_password = tls.replacen(&format!(":{password}@"), "@", 1);
    assert_ne!(no_password, tls);
    for (url, why) in [
        (wrong_root.clone(), "UnknownIssuer"),
        (wrong_name, "not valid for name"),
        // libpq's `require` does not verify; this journal does (the same refusal)
        (format!("{wrong_root}&sslmode=require"), "UnknownIssuer"),
        // TLS authenticates the server; the password, the client
        (no_password, "password"),
    ] {
        let e = PgJournal::connect(&url, LEASE).unwrap_err();
        assert!(e.to_string().contains(why), "{url}: {e}");
        assert!(!e.to_string().contains(&password), "the password in {e}");
    }
    assert!(!has_schema(&socket), "a refused connection wrote nothing");

    // the right roots and name: the journal works as on a socket
    for url in [tls.clone(), format!("{tls}&sslmode=verify-full")] {
        let mut j = PgJournal::connect(&url, LEASE).unwrap();
        let lease = j.try_lease(&seq("TLS-1")).unwrap().unwrap();
        j.append(&rec("TLS-1", State::Sending), Some(&lease))
            .unwrap();
        j.release(lease).unwrap();
    }
    assert!(has_schema(&socket));
    let mut j = PgJournal::connect(&socket, LEASE).unwrap();
    assert_eq!(
        j.latest_of(&seq("TLS-1")).unwrap().unwrap().state,
        State::Sending
    );
    assert_eq!(j.records().unwrap().len(), 2, "one write through each URL");
}

#[test]
fn a_dropped_connection_is_made_again() {
    let Some(url) = database("reconnect") else {
        return;
    };
    let mut j = PgJournal::connect(&url, LEASE).unwrap();
    let lease = j.try_lease(&seq("A")).unwrap().unwrap();
    j.append(&rec("A", State::Sending), Some(&lease)).unwrap();
    // the server ends every other connection (a restart, a failover)
    let mut admin = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    admin
        .batch_execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE pid <> pg_backend_pid() AND datname = current_database()",
        )
        .unwrap();
    // the call that meets the dead connection fails (its write may or may not have landed)...
    let _ = j.latest_of(&seq("A"));
    // ...and the next one connects again
    assert_eq!(
        j.latest_of(&seq("A")).unwrap().unwrap().state,
        State::Sending
    );
    j.append(&rec("A", State::Completed), Some(&lease)).unwrap();
}

#[test]
fn an_operators_write_fences_a_replica_whose_lease_ran_out() {
    let Some(url) = database("operator") else {
        return;
    };
    let mut replica = PgJournal::connect(&url, Duration::from_millis(1_000)).unwrap();
    let mut operator = PgJournal::connect(&url, LEASE).unwrap();
    let lease = replica.try_lease(&seq("A")).unwrap().unwrap();
    replica
        .append(&rec("A", State::Lost), Some(&lease))
        .unwrap();
    std::thread::sleep(Duration::from_millis(1_300));
    // nobody took it over, but an operator closes it without a lease
    operator
        .append(&rec("A", State::NotProcessed), None)
        .unwrap();
    let e = replica.renew(&lease).unwrap_err();
    assert!(is_fenced(&e), "{e}");
    let e = replica
        .append(&rec("A", State::Completed), Some(&lease))
        .unwrap_err();
    assert!(is_fenced(&e), "{e}");
}
