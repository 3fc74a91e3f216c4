//! The `konaplate` binary's test harness: an in-process sandbox on 127.0.0.1 and the
//! environment every command reads its credentials from.
//!
//! The journal is a file in the test's directory, or, with `KONAPLATE_TEST_JOURNAL=postgres`
//! under `scripts/pg run -- ...`, a fresh database of its own on the throwaway PostgreSQL:
//! the same tests then run against the shared journal of the replicas (CI runs both).
#![allow(dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use konaplate::journal::Journal;

use konaplate_sandbox::seed::{self, *};
use konaplate_sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

pub struct Env {
    pub sb: Sandbox,
    pub dir: tempfile::TempDir,
    /// Where the commands' journal is: a file path, or a PostgreSQL URL.
    journal: String,
}

/// A fresh database on the test cluster of `scripts/pg` (`KONAPLATE_TEST_PG`), or `None`
/// (and a note naming `test`) when there is none; with `KONAPLATE_REQUIRE_PG=1` (CI) a
/// missing cluster fails the test instead.
pub fn database(test: &str, how: &str) -> Option<String> {
    let Ok(base) = std::env::var("KONAPLATE_TEST_PG") else {
        if std::env::var("KONAPLATE_REQUIRE_PG").as_deref() == Ok("1") {
            panic!("KONAPLATE_REQUIRE_PG=1 but KONAPLATE_TEST_PG is not set: no PostgreSQL");
        }
        // straight to the terminal: the test harness captures eprintln! of passing tests
        let _ = writeln!(
            std::io::stderr(),
            "{test}: skipped: no PostgreSQL (run `scripts/pg run -- {how}`)"
        );
        return None;
    };
    static N: AtomicU32 = AtomicU32::new(0);
    let db = format!(
        "kp_cli_{}_{}_{}",
        test,
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

/// Where a test's journal goes: a fresh database with `KONAPLATE_TEST_JOURNAL=postgres`, else
/// `journal.kpj` in `dir`.
pub fn journal_location(dir: &std::path::Path) -> String {
    if on_postgres() {
        database(
            "env",
            "env KONAPLATE_TEST_JOURNAL=postgres cargo test -p konaplate-cli",
        )
        .expect("KONAPLATE_TEST_JOURNAL=postgres needs the cluster of scripts/pg")
    } else {
        dir.join("journal.kpj").display().to_string()
    }
}

/// `true` when the tests' journal is PostgreSQL (`KONAPLATE_TEST_JOURNAL=postgres`).
pub fn on_postgres() -> bool {
    match std::env::var("KONAPLATE_TEST_JOURNAL").as_deref() {
        Ok("postgres") => true,
        Ok("file") | Err(_) => false,
        Ok(other) => panic!("KONAPLATE_TEST_JOURNAL={other}: expected `file` or `postgres`"),
    }
}

impl Env {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Env {
        Env::with(SandboxConfig {
            pending_for: Duration::from_millis(1500),
            ..Default::default()
        })
    }
    pub fn with(cfg: SandboxConfig) -> Env {
        let sb = Sandbox::start(cfg).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("server.pem"),
            konaplate_sandbox::SERVER_CERT_PEM,
        )
        .unwrap();
        std::fs::write(
            dir.path().join("client.pem"),
            konaplate_sandbox::CLIENT_PRIVATE_KEY_PEM,
        )
        .unwrap();
        let journal = journal_location(dir.path());
        Env { sb, dir, journal }
    }
    /// The journal's location, as `--journal` / `KONAPLATE_JOURNAL` take it.
    pub fn journal(&self) -> &str {
        &self.journal
    }
    /// The journal's file (`None` on PostgreSQL).
    pub fn journal_file(&self) -> Option<PathBuf> {
        (!konaplate::journal::is_database_url(&self.journal)).then(|| PathBuf::from(&self.journal))
    }
    /// The journal, opened as the commands open it (a 30 s lease, the CLI's default).
    pub fn open_journal(&self) -> Box<dyn Journal> {
        konaplate::journal::open(&self.journal, Duration::from_secs(30)).unwrap()
    }
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_konaplate"));
        c.env_clear()
            .env("KONAPLATE_BASE_URL", self.sb.base_url())
            .env("KONAPLATE_ASP_ID", konaplate_sandbox::ASP_ID)
            .env("KONAPLATE_ACCESS_KEY", konaplate_sandbox::ACCESS_KEY)
            .env("KONAPLATE_SECRET_KEY", konaplate_sandbox::SECRET_KEY)
            .env("KONAPLATE_CRYPTO_KEY_ID", konaplate_sandbox::CRYPTO_KEY_ID)
            .env(
                "KONAPLATE_SERVER_PUBLIC_KEY",
                self.dir.path().join("server.pem"),
            )
            .env(
                "KONAPLATE_CLIENT_PRIVATE_KEY",
                self.dir.path().join("client.pem"),
            )
            .env("KONAPLATE_JOURNAL", self.journal())
            .stdin(Stdio::null());
        c
    }
    /// Runs with `--json`; returns (exit, the one JSON object on stdout, stderr).
    pub fn json(&self, args: &[&str]) -> (i32, Value, String) {
        let out = self.cmd().arg("--json").args(args).output().unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let v: Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {stdout:?}"));
        assert!(v.is_object());
        assert_eq!(stdout.trim().lines().count(), 1, "exactly one line of JSON");
        (
            out.status.code().unwrap(),
            v,
            String::from_utf8(out.stderr).unwrap(),
        )
    }
    pub fn human(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }
    /// A fresh token for `card`: (token, dcvv).
    pub fn token(&self, card: u16) -> (String, String) {
        let (code, v, _) = self.json(&["token", "--card-no", &seed::card_no(card)]);
        assert_eq!(code, 0, "{v}");
        (
            v["oneTimeToken"].as_str().unwrap().into(),
            v["dcvv"].as_str().unwrap().into(),
        )
    }
    pub fn charge(&self, user: u64, amount: u64, extra: &[&str]) -> (i32, Value, String) {
        let (t, d) = self.token(seed::card_of(user));
        let (u, a) = (user.to_string(), amount.to_string());
        let mut args = vec![
            "charge",
            "--user-id",
            &u,
            "--amount",
            &a,
            "--merchant-id",
            MERCHANT,
            "--one-time-token",
            &t,
            "--dcvv",
            &d,
        ];
        args.extend_from_slice(extra);
        self.json(&args)
    }
}

pub fn card_balance(e: &Env, card: u16) -> u64 {
    e.sb.ledger().card(&seed::card_no(card)).unwrap().balance
}
