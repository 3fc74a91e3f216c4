//! The `konaplate` binary's test harness: an in-process sandbox on 127.0.0.1 and the
//! environment every command reads its credentials from.
#![allow(dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use konaplate_sandbox::seed::{self, *};
use konaplate_sandbox::{Sandbox, SandboxConfig};
use serde_json::Value;

pub struct Env {
    pub sb: Sandbox,
    pub dir: tempfile::TempDir,
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
        Env { sb, dir }
    }
    pub fn journal(&self) -> PathBuf {
        self.dir.path().join("journal.kpj")
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
