//! Secrets stay secret at the edges: key options never echo their value, the one-time token
//! and DCVV can stay off the command line, no --json or error output carries a secret, the
//! sandbox's key files live in a private directory that disappears with it, and numeric
//! options that would overflow are refused naming the option.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::Duration;

use common::Env;
use konaplate_sandbox::seed::*;

const TOKEN_LIKE: &str = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAsecretkeymaterial";

#[test]
fn a_quoted_pem_is_read_and_a_bad_key_is_never_echoed() {
    let e = Env::new();
    // PEM text wrapped in quotes, with surrounding whitespace, as a .env file leaves it
    let quoted = format!(
        "  \"{}\"\n",
        konaplate_sandbox::CLIENT_PRIVATE_KEY_PEM.trim()
    );
    let out = e
        .cmd()
        .env("KONAPLATE_CLIENT_PRIVATE_KEY", &quoted)
        .args(["--json", "token", "--card-no", &card_no(HAPPY_CARD)])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // one-line PEM with literal \n escapes
    let escaped = konaplate_sandbox::CLIENT_PRIVATE_KEY_PEM
        .trim()
        .replace('\n', "\\n");
    let out = e
        .cmd()
        .env("KONAPLATE_CLIENT_PRIVATE_KEY", format!("'{escaped}'"))
        .args(["--json", "token", "--card-no", &card_no(HAPPY_CARD)])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // key material without a PEM header, a corrupted PEM, a PEM of the wrong kind
    let corrupted = konaplate_sandbox::CLIENT_PRIVATE_KEY_PEM.replacen("MII", "XXsecretXX", 1);
    for (value, what) in [
        (TOKEN_LIKE.to_string(), "not PEM text"),
        (corrupted.clone(), "invalid"),
        (
            konaplate_sandbox::SERVER_PUBLIC_KEY_PEM.to_string(),
            "expected PEM",
        ),
    ] {
        let out = e
            .cmd()
            .env("KONAPLATE_CLIENT_PRIVATE_KEY", &value)
            .args(["--json", "token", "--card-no", &card_no(HAPPY_CARD)])
            .output()
            .unwrap();
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(2), "{all}");
        assert!(
            all.contains("--client-private-key"),
            "names the option: {all}"
        );
        assert!(all.contains(what), "{all}");
        assert!(
            !all.contains("secretkeymaterial")
                && !all.contains("XXsecretXX")
                && !all.contains("MII"),
            "echoed the key: {all}"
        );
    }
    assert_eq!(
        e.sb.requests_received(),
        2,
        "nothing was sent with a bad key"
    );
}

#[test]
fn token_and_dcvv_can_come_from_the_environment_or_standard_input() {
    let e = Env::new();
    let user = HAPPY.to_string();
    // from the environment
    let (t, d) = e.token(HAPPY_CARD);
    let out = e
        .cmd()
        .env("KONAPLATE_ONE_TIME_TOKEN", &t)
        .env("KONAPLATE_DCVV", &d)
        .args([
            "--json",
            "charge",
            "--user-id",
            &user,
            "--amount",
            "1000",
            "--merchant-id",
            MERCHANT,
            "--sequence-id",
            "ENV-1",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains(&t) && !stdout.contains(&format!("\"{d}\"")),
        "a secret in --json: {stdout}"
    );
    // from standard input, both as `-`
    let (t, d) = e.token(HAPPY_CARD);
    let mut child = e
        .cmd()
        .args([
            "--json",
            "charge",
            "--user-id",
            &user,
            "--amount",
            "1000",
            "--merchant-id",
            MERCHANT,
            "--sequence-id",
            "STDIN-1",
        ])
        .args(["--one-time-token", "-", "--dcvv", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{t}\n{d}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        e.sb.ledger()
            .txns()
            .filter(|x| x.sequence_id == "STDIN-1")
            .count(),
        1
    );
    // standard input that ends early is an input error naming the option
    let mut child = e
        .cmd()
        .args([
            "--json",
            "refund",
            "--user-id",
            &user,
            "--card-expiry",
            "3108",
            "--one-time-token",
            "-",
            "--dcvv",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"1234567890123456\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--dcvv") && !err.contains("1234567890123456"),
        "{err}"
    );
    // a malformed DCVV is refused without echoing it
    let (t, _) = e.token(HAPPY_CARD);
    let out = e
        .cmd()
        .env("KONAPLATE_ONE_TIME_TOKEN", &t)
        .env("KONAPLATE_DCVV", "98x")
        .args([
            "--json",
            "charge",
            "--user-id",
            &user,
            "--amount",
            "1000",
            "--merchant-id",
            MERCHANT,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        all.contains("dcvv") && !all.contains("98x") && !all.contains(&t),
        "{all}"
    );
}

#[test]
fn help_never_prints_secret_environment_values() {
    let e = Env::new();
    for args in [
        vec!["--help"],
        vec!["charge", "--help"],
        vec!["refund", "--help"],
        vec!["refund-fee", "--help"],
    ] {
        let out = e
            .cmd()
            .env("KONAPLATE_ONE_TIME_TOKEN", "5555444433332222")
            .env("KONAPLATE_DCVV", "987")
            .args(&args)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        for secret in [
            "5555444433332222",
            "987",
            konaplate_sandbox::SECRET_KEY,
            konaplate_sandbox::ACCESS_KEY,
            "BEGIN",
        ] {
            assert!(!text.contains(secret), "{args:?} prints {secret}");
        }
    }
}

#[test]
fn numeric_options_that_would_overflow_are_refused() {
    let e = Env::new();
    for (opt, value) in [
        ("--max-wait", "18446744073709552"),
        ("--poll-interval", "18446744073709552"),
        ("--timeout", "99999999999999"),
        ("--token-ttl", "18446744073709552"),
    ] {
        let (code, v, _) = e.charge(HAPPY, 1_000, &[opt, value]);
        assert_eq!(code, 2, "{opt}: {v}");
        assert!(v["error"].as_str().unwrap().contains(opt), "{opt}: {v}");
    }
    let out = e
        .cmd()
        .args(["sandbox", "--pending-seconds", "18446744073709551615"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--pending-seconds"));
    // nothing but the tokens reached the sandbox
    assert!(e.sb.log().iter().all(|l| l.endpoint == "token"));
}

#[cfg(unix)]
#[test]
fn the_sandbox_keeps_its_keys_private_and_removes_them_when_stopped() {
    use std::os::unix::fs::PermissionsExt;
    let e = Env::new();
    let mut child = e
        .cmd()
        .arg("sandbox")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut client_key = None;
    let mut page = None;
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        if let Some(p) = line
            .trim()
            .strip_prefix("export KONAPLATE_CLIENT_PRIVATE_KEY=")
        {
            client_key = Some(std::path::PathBuf::from(p));
            break;
        }
        if let Some(p) = line.trim().strip_prefix("its ledger, live: ") {
            page = Some(p.to_string());
        }
        line.clear();
    }
    let key = client_key.expect("the sandbox prints where its client key is");
    assert!(
        page.is_some_and(|p| p.starts_with("http://127.0.0.1:")),
        "the sandbox prints its page's address"
    );
    let dir = key.parent().unwrap().to_path_buf();
    assert!(
        !dir.starts_with("/tmp/konaplate-sandbox-keys-"),
        "not a predictable path"
    );
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&key), 0o600);
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .contains("PRIVATE KEY")
    );
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let start = std::time::Instant::now();
    let code = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s.code();
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the sandbox did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, Some(0));
    assert!(
        !dir.exists(),
        "the key directory is removed when the sandbox stops"
    );
}
