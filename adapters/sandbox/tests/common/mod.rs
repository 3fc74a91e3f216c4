//! Shared helpers for the sandbox's end-to-end tests (real sockets on 127.0.0.1).
#![allow(dead_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use konaplate::core::prelude::*;

use konaplate::core::{api::*, field::*};
use konaplate::{Client, Exchange};
use konaplate_sandbox::seed::{self, card_no};
use konaplate_sandbox::{Sandbox, SandboxConfig};

pub fn start() -> (Sandbox, Client) {
    start_with(SandboxConfig {
        pending_for: Duration::from_millis(300),
        ..Default::default()
    })
}

pub fn start_with(cfg: SandboxConfig) -> (Sandbox, Client) {
    let sb = Sandbox::start(cfg).unwrap();
    let client = Client::new(sb.client_config()).unwrap();
    (sb, client)
}

pub fn token(c: &Client, card: u16) -> TokenResponse {
    let x = c
        .send(&TokenRequest {
            card_no: CardNo::new(&card_no(card)).unwrap(),
            token_type: None,
        })
        .unwrap();
    x.reply.into_result().unwrap()
}

pub fn seq(s: &str) -> SequenceId {
    SequenceId::new(s).unwrap()
}

pub fn charge(c: &Client, user: u64, amount: u64, sequence: &str) -> Exchange<Charge> {
    let t = token(c, seed::card_of(user));
    charge_with(c, user, amount, sequence, t, seed::MERCHANT)
}

pub fn charge_with(
    c: &Client,
    user: u64,
    amount: u64,
    sequence: &str,
    t: TokenResponse,
    merchant: &str,
) -> Exchange<Charge> {
    // the sandbox's tests probe the platform one request at a time: no journal, by name
    c.send_without_journal(&ChargeRequest {
        sequence_id: seq(sequence),
        user_id: UserId::new(user).unwrap(),
        amount: ChargeAmount::new(amount).unwrap(),
        one_time_token: t.one_time_token,
        dcvv: t.dcvv,
        merchant_id: MerchantId::new(merchant).unwrap(),
    })
    .unwrap()
}

pub fn cancel(c: &Client, user: u64, nr: &str, sequence: &str) -> Exchange<CancelCharge> {
    let t = token(c, seed::card_of(user));
    c.send_without_journal(&CancelRequest {
        sequence_id: seq(sequence),
        user_id: UserId::new(user).unwrap(),
        nr_number: NrNumber::new(nr).unwrap(),
        one_time_token: t.one_time_token,
        dcvv: t.dcvv,
        card_expiry: None,
    })
    .unwrap()
}

pub fn inquire(c: &Client, sequence: &str) -> Exchange<ChargeResultInquiry> {
    c.send(&ChargeResultRequest {
        sequence_id: seq(sequence),
    })
    .unwrap()
}

pub fn refund(c: &Client, user: u64, sequence: &str) -> Exchange<Refund> {
    let t = token(c, seed::card_of(user));
    c.send_without_journal(&RefundRequest {
        sequence_id: seq(sequence),
        user_id: UserId::new(user).unwrap(),
        card_expiry: CardExpiry::new(seed::CARD_EXPIRY).unwrap(),
        dcvv: t.dcvv,
        one_time_token: t.one_time_token,
    })
    .unwrap()
}

pub fn register(c: &Client, user: u64, card: u16) -> Exchange<AutoRechargeRegister> {
    c.send(&AutoRechargeRegisterRequest {
        user_id: UserId::new(user).unwrap(),
        par: Par::new(&seed::par_of(card)).unwrap(),
    })
    .unwrap()
}

pub fn card_balance(sb: &Sandbox, card: u16) -> u64 {
    sb.ledger().card(&card_no(card)).unwrap().balance
}

pub fn account_balance(sb: &Sandbox, user: u64) -> u64 {
    sb.ledger()
        .member(user)
        .unwrap()
        .account
        .as_ref()
        .unwrap()
        .balance
}

/// Sends a hand-made request (any body, any headers) and returns (status, body).
pub fn raw(
    sb: &Sandbox,
    path: &str,
    body: &[u8],
    tweak: impl Fn(&mut Vec<(String, String)>),
) -> (u16, String) {
    let creds = Credentials::new(
        AspId::new(konaplate_sandbox::ASP_ID).unwrap(),
        AccessKey::new(konaplate_sandbox::ACCESS_KEY).unwrap(),
        &SecretKey::new(konaplate_sandbox::SECRET_KEY).unwrap(),
        Some(CryptoKeyId::new(konaplate_sandbox::CRYPTO_KEY_ID).unwrap()),
    );
    let stamp = konaplate::clock::stamp(TimeZone::KST, 540).unwrap();
    let signed = konaplate::core::request::SignedHeaders::sign(&creds, &stamp, body);
    let mut headers: Vec<(String, String)> =
        vec![("Content-Type".into(), "application/json".into())];
    headers.extend(signed.iter().map(|(n, v)| (n.to_string(), v.to_string())));
    tweak(&mut headers);
    let mut s = TcpStream::connect(sb.addr()).unwrap();
    let mut req = format!(
        "POST /open-api{path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (n, v) in &headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text[9..12].parse().unwrap();
    let body = text.split_once("\r\n\r\n").unwrap().1.to_string();
    (status, body)
}

pub fn set(headers: &mut Vec<(String, String)>, name: &str, value: Option<&str>) {
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    if let Some(v) = value {
        headers.push((name.to_string(), v.to_string()));
    }
}
