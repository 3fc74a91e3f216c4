//! The std client's TLS over loopback TLS 1.3 (the sandbox's TLS front): full webpki
//! verification to the test CA, and the optional pins — a key none of them names is refused
//! in the handshake, with no request byte received by the server.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use konaplate::core::api::TokenRequest;
use konaplate::core::field::CardNo;
use konaplate::core::pin::{Pin, certificate_spki};
use konaplate::tls::certificates_from_pem;
use konaplate::{Client, ClientConfig, ConfigError, Error};
use konaplate_sandbox::Sandbox;
use konaplate_sandbox::seed::{HAPPY_CARD, card_no};
use konaplate_sandbox::tls::{P256_CERT_PEM, Presented, RSA_CERT_PEM, TEST_CA_PEM, TlsFront};

fn pin_of(pem: &str) -> Pin {
    let der = certificates_from_pem(pem).unwrap().remove(0);
    Pin::of_spki(certificate_spki(&der).unwrap())
}

fn config(sb: &Sandbox, front: &TlsFront, pins: Vec<Pin>) -> ClientConfig {
    let mut c = sb.client_config();
    c.base_url = front.base_url();
    c.extra_roots = certificates_from_pem(TEST_CA_PEM).unwrap();
    c.pins = pins;
    c
}

fn token(c: &Client) -> Result<(), Error> {
    let x = c.send(&TokenRequest {
        card_no: CardNo::new(&card_no(HAPPY_CARD)).unwrap(),
        token_type: None,
    })?;
    assert!(x.reply.is_success());
    Ok(())
}

#[test]
fn the_pinned_key_is_accepted_and_any_other_refused_before_the_request() {
    let sb = Sandbox::start(Default::default()).unwrap();
    let good = TlsFront::start(sb.addr(), Presented::P256).unwrap();
    let rsa = TlsFront::start(sb.addr(), Presented::Rsa).unwrap();
    let other = TlsFront::start(sb.addr(), Presented::OtherKey).unwrap();

    // webpki alone (no pins): every server with a chain to the CA is accepted
    for f in [&good, &rsa, &other] {
        token(&Client::new(config(&sb, f, vec![])).unwrap()).unwrap();
    }
    // pinned: the current key or the backup
    let pins = vec![pin_of(P256_CERT_PEM), pin_of(RSA_CERT_PEM)];
    token(&Client::new(config(&sb, &good, pins.clone())).unwrap()).unwrap();
    token(&Client::new(config(&sb, &rsa, pins.clone())).unwrap()).unwrap();
    let before = other.request_bytes_received();
    assert!(before > 0);

    // another key under the same name, from the same CA: refused, nothing sent
    let other_pinned = TlsFront::start(sb.addr(), Presented::OtherKey).unwrap();
    let err = token(&Client::new(config(&sb, &other_pinned, pins)).unwrap()).unwrap_err();
    match &err {
        Error::NotSent { reason, .. } => {
            assert!(reason.contains("none of the pinned keys"), "{reason}")
        }
        e => panic!("{e}"),
    }
    assert_eq!(other_pinned.request_bytes_received(), 0);
    assert_eq!(other_pinned.handshakes_completed(), 0);
}

#[test]
fn webpki_still_verifies_when_keys_are_pinned() {
    let sb = Sandbox::start(Default::default()).unwrap();
    let front = TlsFront::start(sb.addr(), Presented::P256).unwrap();
    // the right pin without the CA: the chain does not verify, refused
    let mut c = config(&sb, &front, vec![pin_of(P256_CERT_PEM)]);
    c.extra_roots.clear();
    let err = token(&Client::new(c).unwrap()).unwrap_err();
    assert!(matches!(err, Error::NotSent { .. }), "{err}");
    // a certificate signed with another key than its own
    let wrong = TlsFront::start(sb.addr(), Presented::WrongSigner).unwrap();
    let err =
        token(&Client::new(config(&sb, &wrong, vec![pin_of(P256_CERT_PEM)])).unwrap()).unwrap_err();
    assert!(matches!(err, Error::NotSent { .. }), "{err}");
    assert_eq!(front.request_bytes_received(), 0);
    assert_eq!(wrong.request_bytes_received(), 0);
    // pins over plain http make no sense: refused at configuration
    let mut c = sb.client_config();
    c.pins = vec![pin_of(P256_CERT_PEM)];
    assert!(matches!(Client::new(c), Err(ConfigError::Tls(_))));
}
