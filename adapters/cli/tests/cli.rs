//! The `konaplate` binary against an in-process sandbox over 127.0.0.1: every command, the
//! documented error scenarios, every validation rejection (and that nothing reached the
//! server), the --json contract and the exit statuses.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Env, card_balance};
use konaplate_sandbox::SandboxConfig;
use konaplate_sandbox::seed::{self, *};
use serde_json::Value;

#[test]
fn token_command() {
    let e = Env::new();
    let (code, v, _) = e.json(&[
        "token",
        "--card-no",
        &seed::card_no(HAPPY_CARD),
        "--type",
        "ATM",
    ]);
    assert_eq!(code, 0);
    assert_eq!(v["code"], "000_000");
    assert_eq!(v["oneTimeToken"].as_str().unwrap().len(), 16);
    assert_eq!(v["dcvv"].as_str().unwrap().len(), 3);
    assert!(v["expiryTime"].is_u64());
    let (code, v, _) = e.json(&["token", "--card-no", "1234123412341234"]);
    assert_eq!((code, v["code"].as_str().unwrap()), (3, "000_002"));
}

#[test]
fn charge_command_and_result() {
    let e = Env::new();
    let (code, v, _) = e.charge(HAPPY, 12_345, &["--sequence-id", "CLI-CHARGE-1"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["code"], "000_000");
    assert_eq!(v["isPending"], false);
    assert_eq!(v["sequenceId"], "CLI-CHARGE-1");
    assert!(v["nrNumber"].as_str().unwrap().starts_with("KMN"));
    assert_eq!(card_balance(&e, HAPPY_CARD), HAPPY_CARD_START + 12_345);
    let (code, r, _) = e.json(&["charge-result", "--sequence-id", "CLI-CHARGE-1"]);
    assert_eq!(code, 0);
    assert_eq!(r["result"], "COMPLETED");
    assert_eq!(r["sequenceId"], "CLI-CHARGE-1");
    assert_eq!(r["nrNumber"], v["nrNumber"]);
    // the journal holds the final state
    let mut j = e.open_journal();
    let latest = j.latest().unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].state, konaplate::core::flow::State::Completed);
    assert!(j.unfinished().unwrap().is_empty());
}

/// A journal location that is neither a path nor a postgres URL (libpq's key=value form,
/// another scheme) is refused before anything is sent, never taken for a file of that name.
#[test]
fn a_journal_that_is_not_a_path_or_a_postgres_url_is_refused() {
    let e = Env::new();
    let before = e.sb.log().len();
    for location in ["host=/run/postgresql dbname=ledger", "mysql://kp@db/ledger"] {
        let cwd = tempfile::tempdir().unwrap();
        let (t, d) = e.token(HAPPY_CARD);
        let out = e
            .cmd()
            .current_dir(cwd.path())
            .args(["--json", "--journal", location, "charge", "--user-id"])
            .arg(HAPPY.to_string())
            .args(["--amount", "1000", "--merchant-id", MERCHANT])
            .args(["--one-time-token", &t, "--dcvv", &d])
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(out.status.code(), Some(2), "{location}: {v}");
        let error = v["error"].as_str().unwrap();
        assert!(error.contains("nothing was sent"), "{error}");
        assert!(error.contains("postgresql://"), "{error}");
        assert_eq!(
            std::fs::read_dir(cwd.path()).unwrap().count(),
            0,
            "no file made of {location}"
        );
    }
    let charges = e.sb.log()[before..]
        .iter()
        .filter(|l| l.endpoint == "charge")
        .count();
    assert_eq!(charges, 0);
}

#[test]
fn minted_sequence_id_is_printed() {
    let e = Env::new();
    let (code, v, _) = e.charge(HAPPY, 1000, &[]);
    assert_eq!(code, 0);
    let seq = v["sequenceId"].as_str().unwrap();
    assert!(seq.starts_with("KP") && seq.len() == 27, "{seq}");
    let (t, d) = e.token(HAPPY_CARD);
    let out = e.human(&[
        "charge",
        "--user-id",
        &HAPPY.to_string(),
        "--amount",
        "1000",
        "--merchant-id",
        MERCHANT,
        "--one-time-token",
        &t,
        "--dcvv",
        &d,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("sequenceId: KP") && stderr.contains("minted"),
        "{stderr}"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("000_000 성공"), "{stdout}");
}

#[test]
fn pending_charge_is_polled_to_completion() {
    let e = Env::new();
    let (code, v, _) = e.charge(HAPPY, AMOUNT_PENDING_COMPLETES, &["--poll-interval", "1"]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["isPending"], true);
    assert_eq!(
        v["result"], "COMPLETED",
        "the outcome came from the inquiry"
    );
    assert_eq!(
        card_balance(&e, HAPPY_CARD),
        HAPPY_CARD_START + AMOUNT_PENDING_COMPLETES
    );
    let (code, v, _) = e.charge(HAPPY, AMOUNT_PENDING_FAILS, &["--poll-interval", "1"]);
    assert_eq!(code, 3, "{v}");
    assert_eq!(v["result"], "FAILED");
}

#[test]
fn still_pending_exits_5_and_recover_finishes_it() {
    let e = Env::with(SandboxConfig {
        pending_for: Duration::from_secs(3),
        ..Default::default()
    });
    let (code, v, _) = e.charge(
        HAPPY,
        AMOUNT_PENDING_COMPLETES,
        &[
            "--poll-interval",
            "1",
            "--max-wait",
            "1",
            "--sequence-id",
            "PEND-1",
        ],
    );
    assert_eq!(code, 5, "{v}");
    assert_eq!(v["isPending"], true);
    assert_eq!(v["outcome"], "PENDING");
    std::thread::sleep(Duration::from_secs(3));
    let (code, v, _) = e.json(&["recover", "--poll-interval", "1"]);
    assert_eq!(code, 0, "{v}");
    let items = v["recovered"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["sequenceId"], "PEND-1");
    assert_eq!(items[0]["result"], "COMPLETED");
    // exactly once: nothing left to recover
    let (code, v, _) = e.json(&["recover"]);
    assert_eq!((code, v["recovered"].as_array().unwrap().len()), (0, 0));
}

#[test]
fn charge_scenarios_exit_3_with_the_code() {
    let e = Env::new();
    for (user, amount, code) in [
        (NO_ACCOUNT, 1000, "007_001"),
        (HAPPY, AMOUNT_BENEFIT_MISMATCH, "007_002"),
        (HAPPY, CARD_LIMIT, "007_003"),
        (EMPTY_ACCOUNT, 1000, "007_004"),
    ] {
        let (exit, v, _) = e.charge(user, amount, &[]);
        assert_eq!((exit, v["code"].as_str().unwrap()), (3, code), "{v}");
        assert_eq!(v["outcome"], "DECLINED");
        assert!(!v["description"].as_str().unwrap().is_empty());
    }
}

#[test]
fn cancel_command_and_scenarios() {
    let e = Env::new();
    let (_, c, _) = e.charge(HAPPY, 7000, &[]);
    let nr = c["nrNumber"].as_str().unwrap();
    let cancel = |user: u64, nr: &str| {
        let (t, d) = e.token(seed::card_of(user));
        e.json(&[
            "charge-cancel",
            "--user-id",
            &user.to_string(),
            "--nr-number",
            nr,
            "--one-time-token",
            &t,
            "--dcvv",
            &d,
            "--card-expiry",
            "3108",
        ])
    };
    let (code, v, _) = cancel(HAPPY, nr);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["isPending"], false);
    assert_eq!(card_balance(&e, HAPPY_CARD), HAPPY_CARD_START);
    let (code, v, _) = e.json(&[
        "charge-result",
        "--sequence-id",
        v["sequenceId"].as_str().unwrap(),
    ]);
    assert_eq!((code, v["result"].as_str().unwrap()), (0, "COMPLETED"));
    assert_eq!(cancel(HAPPY, nr).1["code"], "007_030");
    assert_eq!(cancel(HAPPY, NR_OTHER_METHOD).1["code"], "007_040");
    assert_eq!(cancel(NO_ACCOUNT, nr).1["code"], "007_001");
    let (_, c, _) = e.charge(NAME_MISMATCH, 1000, &[]);
    let (code, v, _) = cancel(NAME_MISMATCH, c["nrNumber"].as_str().unwrap());
    assert_eq!((code, v["code"].as_str().unwrap()), (3, "007_043"));
}

#[test]
fn refund_fee_refund_and_scenarios() {
    let e = Env::new();
    let (t, _) = e.token(HAPPY_CARD);
    let (code, v, _) = e.json(&[
        "refund-fee",
        "--user-id",
        &HAPPY.to_string(),
        "--one-time-token",
        &t,
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["balance"], HAPPY_CARD_START);
    assert_eq!(v["refundFeeRate"], 1.0);
    assert_eq!(v["refundable"], true);
    let refund = |user: u64| {
        let (t, d) = e.token(seed::card_of(user));
        e.json(&[
            "refund",
            "--user-id",
            &user.to_string(),
            "--card-expiry",
            "3108",
            "--one-time-token",
            &t,
            "--dcvv",
            &d,
        ])
    };
    let (code, v, _) = refund(HAPPY);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["nrNumber"].as_str().unwrap().len(), 18);
    assert_eq!(card_balance(&e, HAPPY_CARD), 0);
    for (user, code) in [
        (NO_REFUND_ACCOUNT, "009_001"),
        (REFUND_AMOUNT_USED, "009_002"),
        (REFUND_COUNT_USED, "009_003"),
        (REFUND_DENIED, "009_004"),
    ] {
        let (exit, v, _) = refund(user);
        assert_eq!((exit, v["code"].as_str().unwrap()), (3, code));
    }
}

#[test]
fn auto_recharge_commands_and_scenarios() {
    let e = Env::new();
    let reg = |user: u64, card: u16| {
        e.json(&[
            "auto-recharge",
            "register",
            "--user-id",
            &user.to_string(),
            "--par",
            &seed::par_of(card),
        ])
    };
    let (code, v, _) = reg(HAPPY, HAPPY_CARD);
    assert_eq!((code, v["code"].as_str().unwrap()), (0, "000_000"));
    let (code, v, _) = e.json(&["auto-recharge", "list", "--user-id", &HAPPY.to_string()]);
    assert_eq!(code, 0);
    assert_eq!(v["parInfoList"][0]["par"], seed::par_of(HAPPY_CARD));
    assert_eq!(
        v["parInfoList"][0]["registeredDate"]
            .as_str()
            .unwrap()
            .len(),
        14
    );
    for (user, card, code) in [
        (HAPPY, HAPPY_CARD, "007_012"),
        (HAPPY, 99, "001_003"),
        (HAPPY, INACTIVE_CARD, "007_016"),
        (HAPPY, OTHER_PLAN_CARD, "007_017"),
        (
            NO_OPEN_BANK_TERMS,
            seed::card_of(NO_OPEN_BANK_TERMS),
            "007_015",
        ),
        (
            NO_FIRM_BANKING_TERMS,
            seed::card_of(NO_FIRM_BANKING_TERMS),
            "007_027",
        ),
        (
            NO_AUTO_RECHARGE_ACCOUNT,
            seed::card_of(NO_AUTO_RECHARGE_ACCOUNT),
            "007_031",
        ),
        (1, HAPPY_CARD, "000_002"),
    ] {
        let (exit, v, _) = reg(user, card);
        assert_eq!((exit, v["code"].as_str().unwrap()), (3, code));
    }
}

/// Each case: arguments with exactly one invalid value, and the API field that must be named.
#[test]
fn validation_rejections_send_nothing() {
    let e = Env::new();
    let t = "1234567890123456";
    let u = HAPPY.to_string();
    let card = seed::card_no(HAPPY_CARD);
    let par = seed::par_of(HAPPY_CARD);
    let seq31 = "9".repeat(31);
    let nr51 = "K".repeat(51);
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["token", "--card-no", "123"], "cardNo"),
        (vec!["token", "--card-no", &card, "--type", "DEBIT"], "type"),
        (
            vec![
                "charge",
                "--user-id",
                "0",
                "--amount",
                "1",
                "--merchant-id",
                MERCHANT,
                "--one-time-token",
                t,
                "--dcvv",
                "123",
            ],
            "userId",
        ),
        (
            vec![
                "charge",
                "--user-id",
                "10000000000000000000",
                "--amount",
                "1",
                "--merchant-id",
                MERCHANT,
                "--one-time-token",
                t,
                "--dcvv",
                "123",
            ],
            "userId",
        ),
        (
            vec![
                "charge",
                "--user-id",
                &u,
                "--amount",
                "0",
                "--merchant-id",
                MERCHANT,
                "--one-time-token",
                t,
                "--dcvv",
                "123",
            ],
            "amount",
        ),
        (
            vec![
                "charge",
                "--user-id",
                &u,
                "--amount",
                "10000000000",
                "--merchant-id",
                MERCHANT,
                "--one-time-token",
                t,
                "--dcvv",
                "123",
            ],
            "amount",
        ),
        (
            vec![
                "charge",
                "--user-id",
                &u,
                "--amount",
                "1",
                "--merchant-id",
                "123",
                "--one-time-token",
                t,
                "--dcvv",
                "123",
            ],
            "merchantId",
        ),
        (
            vec![
                "charge",
                "--user-id",
                &u,
                "--amount",
                "1",
                "--merchant-id",
                MERCHANT,
                "--one-time-token",
                "123",
                "--dcvv",
                "123",
            ],
            "oneTimeToken",
        ),
        (
            vec![
                "charge",
                "--user-id",
                &u,
                "--amount",
                "1",
                "--merchant-id",
                MERCHANT,
                "--one-time-token",
                t,
                "--dcvv",
                "12",
            ],
            "dcvv",
        ),
        (
            vec![
                "charge",
                "--user-id",
                &u,
                "--amount",
                "1",
                "--merchant-id",
                MERCHANT,
                "--one-time-token",
                t,
                "--dcvv",
                "123",
                "--sequence-id",
                &seq31,
            ],
            "sequenceId",
        ),
        (
            vec![
                "charge-cancel",
                "--user-id",
                &u,
                "--nr-number",
                &nr51,
                "--one-time-token",
                t,
                "--dcvv",
                "123",
            ],
            "nrNumber",
        ),
        (
            vec![
                "charge-cancel",
                "--user-id",
                &u,
                "--nr-number",
                "KMN1",
                "--one-time-token",
                t,
                "--dcvv",
                "123",
                "--card-expiry",
                "3113",
            ],
            "cardExpiry",
        ),
        (vec!["charge-result", "--sequence-id", ""], "sequenceId"),
        (
            vec![
                "refund-fee",
                "--user-id",
                &u,
                "--one-time-token",
                "12345678901234567",
            ],
            "oneTimeToken",
        ),
        (
            vec![
                "refund",
                "--user-id",
                &u,
                "--card-expiry",
                "3100",
                "--one-time-token",
                t,
                "--dcvv",
                "123",
            ],
            "cardExpiry",
        ),
        (
            vec![
                "refund",
                "--user-id",
                &u,
                "--card-expiry",
                "3108",
                "--one-time-token",
                t,
                "--dcvv",
                "",
            ],
            "dcvv",
        ),
        (
            vec![
                "auto-recharge",
                "register",
                "--user-id",
                &u,
                "--par",
                &par[..26],
            ],
            "par",
        ),
        (vec!["auto-recharge", "list", "--user-id", "-1"], "userId"),
        (
            vec!["--time-zone", "kst", "charge-result", "--sequence-id", "S"],
            "X-KM-Time-Zone",
        ),
        (
            vec!["--asp-id", "1", "charge-result", "--sequence-id", "S"],
            "X-KM-User-AspId",
        ),
        (
            vec![
                "--crypto-key-id",
                "xyz",
                "charge-result",
                "--sequence-id",
                "S",
            ],
            "X-KM-Crypto-Key-Id",
        ),
    ];
    for (args, field) in &cases {
        let (code, v, stderr) = e.json(args);
        assert_eq!(code, 2, "{args:?}: {v}");
        assert_eq!(v["field"], *field, "{args:?}");
        assert!(
            stderr.contains(&format!("`{field}`")) && stderr.contains("must be"),
            "{args:?}: {stderr}"
        );
        assert!(
            !stderr.contains("1234567890123456"),
            "secrets echoed: {stderr}"
        );
    }
    assert_eq!(e.sb.requests_received(), 0, "nothing reached the server");
}

#[test]
fn missing_credentials_and_plain_http_are_refused_before_sending() {
    let e = Env::new();
    let out = e
        .cmd()
        .env_remove("KONAPLATE_SECRET_KEY")
        .args(["charge-result", "--sequence-id", "S"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--secret-key"));
    let out = e
        .cmd()
        .args([
            "--base-url",
            "http://example.com/open-api",
            "charge-result",
            "--sequence-id",
            "S",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback"));
    let out = e
        .cmd()
        .args([
            "--server-public-key",
            "/nonexistent.pem",
            "token",
            "--card-no",
            &seed::card_no(11),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(e.sb.requests_received(), 0);
}

#[test]
fn transport_failure_exits_4() {
    let e = Env::new();
    // nobody listens on port 1 (a port picked and freed could be taken by a parallel test)
    assert!(std::net::TcpStream::connect("127.0.0.1:1").is_err());
    let url = "http://127.0.0.1:1/open-api".to_string();
    let out = e
        .cmd()
        .args([
            "--json",
            "--base-url",
            &url,
            "charge-result",
            "--sequence-id",
            "S",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["outcomeUnknown"], false,
        "a refused connection sent nothing"
    );
}

#[test]
fn help_does_not_print_secret_env_values() {
    let e = Env::new();
    // a journal URL's password, too
    let out = e
        .cmd()
        .env(
            "KONAPLATE_JOURNAL",
            "postgresql://kp:db-pa55word@db.example/ledger",
        )
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("KONAPLATE_SECRET_KEY"));
    assert!(help.contains("KONAPLATE_JOURNAL"));
    assert!(!help.contains("db-pa55word"), "journal password in --help");
    assert!(
        !help.contains(konaplate_sandbox::SECRET_KEY),
        "secret value in --help"
    );
    assert!(
        !help.contains(konaplate_sandbox::ACCESS_KEY),
        "access key in --help"
    );
}

#[test]
fn sandbox_command_serves_until_stopped() {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(env!("CARGO_BIN_EXE_konaplate"))
        .args(["sandbox", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().to_string();
    assert!(
        url.starts_with("http://127.0.0.1:") && url.ends_with("/open-api"),
        "{url}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_konaplate"))
        .env_clear()
        .args([
            "--json",
            "--base-url",
            &url,
            "--asp-id",
            konaplate_sandbox::ASP_ID,
            "--access-key",
            konaplate_sandbox::ACCESS_KEY,
            "--secret-key",
            konaplate_sandbox::SECRET_KEY,
        ])
        .args(["charge-result", "--sequence-id", "NOTHING"])
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(out.status.code(), Some(3));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["code"], "007_009");
}

#[test]
fn demo_runs_green() {
    let out = Command::new(env!("CARGO_BIN_EXE_konaplate"))
        .arg("demo")
        .env_clear()
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout
            .trim_end()
            .ends_with("demo: all 12 steps match the sandbox ledger"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().filter(|l| l.contains(" ok ")).count(), 12);
}

#[test]
fn usage_errors_are_exit_2_and_still_one_json_object() {
    let e = Env::new();
    let (code, v, stderr) = e.json(&["charge", "--user-id", "1"]);
    assert_eq!(code, 2);
    assert!(v["error"].is_string(), "{v}");
    assert!(stderr.contains("--amount"), "{stderr}");
    assert_eq!(e.sb.requests_received(), 0);
}
