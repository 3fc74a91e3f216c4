//! `--pin-sha256` / `KONAPLATE_PIN_SHA256` and `--ca-cert` over loopback TLS 1.3 (the
//! sandbox's TLS front): the pinned key is accepted, another key under the same name is
//! refused before anything is sent (exit 4, nothing received), a malformed pin is an input
//! error (exit 2).
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test"
)]

mod common;

use common::Env;
use konaplate::core::pin::{Pin, certificate_spki};
use konaplate::tls::certificates_from_pem;
use konaplate_sandbox::seed::{self, HAPPY_CARD};
use konaplate_sandbox::tls::{OTHER_CERT_PEM, P256_CERT_PEM, Presented, TEST_CA_PEM, TlsFront};

fn pin_of(pem: &str) -> String {
    let der = certificates_from_pem(pem).unwrap().remove(0);
    Pin::of_spki(certificate_spki(&der).unwrap())
        .to_base64()
        .as_str()
        .to_string()
}

#[test]
fn pins_over_loopback_tls() {
    let e = Env::new();
    let ca = e.dir.path().join("ca.pem");
    std::fs::write(&ca, TEST_CA_PEM).unwrap();
    let ca = ca.to_str().unwrap();
    let good = TlsFront::start(e.sb.addr(), Presented::P256).unwrap();
    let evil = TlsFront::start(e.sb.addr(), Presented::OtherKey).unwrap();
    let card = seed::card_no(HAPPY_CARD);
    let (p256, other) = (pin_of(P256_CERT_PEM), pin_of(OTHER_CERT_PEM));
    let run = |front: &TlsFront, extra: &[&str], env_pins: Option<&str>| {
        let mut c = e.cmd();
        c.env("KONAPLATE_BASE_URL", front.base_url());
        if let Some(p) = env_pins {
            c.env("KONAPLATE_PIN_SHA256", p);
        }
        let out = c
            .args(["--json", "--ca-cert", ca])
            .args(extra)
            .args(["token", "--card-no", &card])
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
        )
    };

    // the pinned key, by option, and by the environment with a backup
    let (code, out) = run(&good, &["--pin-sha256", &p256], None);
    assert_eq!(code, 0, "{out}");
    let both = format!("{other},{p256}");
    let (code, out) = run(&good, &[], Some(&both));
    assert_eq!(code, 0, "{out}");
    let (code, out) = run(
        &good,
        &["--pin-sha256", &other, "--pin-sha256", &p256],
        None,
    );
    assert_eq!(code, 0, "{out}");

    // another key under the same name, from the same CA: refused, nothing sent (exit 4)
    let (code, out) = run(&evil, &["--pin-sha256", &p256], None);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("none of the pinned keys"), "{out}");
    assert_eq!(evil.request_bytes_received(), 0);
    // without a pin the same server passes webpki: the pin is what refused it
    let (code, _) = run(&evil, &[], None);
    assert_eq!(code, 0);

    // a malformed pin: an input error naming the option
    let (code, out) = run(&good, &["--pin-sha256", "not-a-pin"], None);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--pin-sha256"), "{out}");
}
