//! `konaplate demo`: the whole lifecycle against an in-process sandbox, each step checked
//! against the sandbox's own ledger. Exits 0 only when every step did what the ledger says.

use std::time::Duration;

use konaplate::core::flow::{Outcome, Policy};
use konaplate::core::prelude::*;
use konaplate::core::{api::*, field::*};
use konaplate::money;
use konaplate::{Client, mint_sequence_id};
use konaplate_sandbox::seed::{self, HAPPY, HAPPY_CARD, MERCHANT};
use konaplate_sandbox::{Sandbox, SandboxConfig, TxnState};

struct Demo {
    sb: Sandbox,
    client: Client,
    step: usize,
    failures: usize,
}

const CHARGE: u64 = 50_000;

impl Demo {
    fn step(&mut self, name: &str, detail: String, checks: Vec<(&str, bool)>) {
        self.step += 1;
        let ok = checks.iter().all(|(_, ok)| *ok);
        println!(
            "{:>2}. {:<24} {} {}",
            self.step,
            name,
            if ok { "ok " } else { "FAIL" },
            detail
        );
        for (what, ok) in checks {
            if !ok {
                println!("      ledger check failed: {what}");
                self.failures += 1;
            }
        }
    }

    fn token(&mut self) -> Option<TokenResponse> {
        let req = TokenRequest {
            card_no: CardNo::new(&seed::card_no(HAPPY_CARD)).ok()?,
            token_type: None,
        };
        match self.client.send(&req) {
            Ok(x) => {
                let code = x.reply.code.to_string();
                let t = x.reply.into_result().ok();
                let checks = vec![(
                    "token issued (000_000, 16-digit token, 3-digit DCVV)",
                    t.is_some(),
                )];
                self.step("token", format!("{code} (request sent as JWE)"), checks);
                t
            }
            Err(e) => {
                self.step("token", e.to_string(), vec![("token issued", false)]);
                None
            }
        }
    }

    fn card_balance(&self) -> u64 {
        self.sb
            .ledger()
            .card(&seed::card_no(HAPPY_CARD))
            .map_or(0, |c| c.balance)
    }
    fn account_balance(&self) -> u64 {
        self.sb
            .ledger()
            .member(HAPPY)
            .and_then(|m| m.account.as_ref())
            .map_or(0, |a| a.balance)
    }

    fn money<R: Request>(&mut self, req: R) -> Option<money::Report>
    where
        R::Endpoint: MoneyEndpoint,
    {
        let policy = Policy {
            poll_interval_ms: 500,
            deadline_ms: 30_000,
            ..Policy::default()
        };
        money::run_without_journal(&self.client, &req, policy, &mut |_| {}).ok()
    }

    fn inquire(&mut self, seq: SequenceId, label: &str) {
        let x = self.client.send(&ChargeResultRequest { sequence_id: seq });
        let result = x.ok().and_then(|x| x.reply.body).map(|b| b.result);
        let ledger = self.sb.ledger().txn(seq.as_str()).map(|t| t.state);
        self.step(
            "charge-result",
            format!("{label} {seq}: {}", result.map_or("-", |r| r.as_str())),
            vec![
                (
                    "inquiry says COMPLETED",
                    result == Some(ChargeResult::Completed),
                ),
                ("ledger says COMPLETED", ledger == Some(TxnState::Completed)),
            ],
        );
    }
}

/// Runs the demo; returns the exit status.
pub fn run(serve: bool) -> u8 {
    let sb = match Sandbox::start(SandboxConfig {
        pending_for: Duration::from_secs(1),
        ..Default::default()
    }) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot start the sandbox: {e}");
            return crate::output::exit::TRANSPORT;
        }
    };
    let client = match Client::new(sb.client_config()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return crate::output::exit::INPUT;
        }
    };
    println!(
        "KONA PLATE demo against the built-in sandbox at {}",
        sb.base_url()
    );
    println!(
        "member {HAPPY}, card {}, merchant {MERCHANT}",
        seed::card_no(HAPPY_CARD)
    );
    let mut d = Demo {
        sb,
        client,
        step: 0,
        failures: 0,
    };
    let user = UserId::new(HAPPY).unwrap_or_else(|_| unreachable!("seed member"));
    let start_card = d.card_balance();
    let start_account = d.account_balance();

    // 1-3: token, charge, result
    let Some(t) = d.token() else {
        return finish(&d, serve);
    };
    let charge_seq = mint_sequence_id();
    let charge = ChargeRequest {
        sequence_id: charge_seq,
        user_id: user,
        amount: ChargeAmount::new(CHARGE).unwrap_or_else(|_| unreachable!("in range")),
        one_time_token: t.one_time_token,
        dcvv: t.dcvv,
        merchant_id: MerchantId::new(MERCHANT).unwrap_or_else(|_| unreachable!("seed merchant")),
    };
    let r = d.money(charge);
    let nr = match r.as_ref().map(|r| &r.outcome) {
        Some(Outcome::Completed { nr_number, .. }) => *nr_number,
        _ => None,
    };
    let (card, account) = (d.card_balance(), d.account_balance());
    d.step(
        "charge",
        format!(
            "{CHARGE} KRW, sequenceId {charge_seq}, nrNumber {}",
            nr.map_or("-".into(), |n| n.to_string())
        ),
        vec![
            ("charge completed with an nrNumber", nr.is_some()),
            (
                "card balance rose by the amount",
                card == start_card + CHARGE,
            ),
            (
                "bank account fell by the amount",
                account + CHARGE == start_account,
            ),
            (
                "sent exactly once",
                r.as_ref().is_some_and(|r| r.record.sends == 1),
            ),
        ],
    );
    d.inquire(charge_seq, "charge");

    // 4-6: token, cancel, result
    let Some(t) = d.token() else {
        return finish(&d, serve);
    };
    let Some(nr) = nr else {
        return finish(&d, serve);
    };
    let cancel_seq = mint_sequence_id();
    let cancel = CancelRequest {
        sequence_id: cancel_seq,
        user_id: user,
        nr_number: nr,
        one_time_token: t.one_time_token,
        dcvv: t.dcvv,
        card_expiry: None,
    };
    let r = d.money(cancel);
    let encrypted = r.as_ref().is_some_and(|r| r.response_encrypted);
    let done = matches!(
        r.as_ref().map(|r| &r.outcome),
        Some(Outcome::Completed { .. })
    );
    let (card, account) = (d.card_balance(), d.account_balance());
    let cancelled =
        d.sb.ledger()
            .txn(charge_seq.as_str())
            .is_some_and(|t| t.cancelled);
    d.step(
        "charge-cancel",
        format!("nrNumber {nr}, sequenceId {cancel_seq} (response decrypted from JWE)"),
        vec![
            ("cancellation completed", done),
            (
                "the response came encrypted (JWE) and was decrypted",
                encrypted,
            ),
            ("card balance back to the start", card == start_card),
            ("bank account restored", account == start_account),
            ("the charge is marked cancelled", cancelled),
        ],
    );
    d.inquire(cancel_seq, "cancel");

    // 7-10: token, refund-fee, token, refund
    let Some(t) = d.token() else {
        return finish(&d, serve);
    };
    let fee = d
        .client
        .send(&RefundFeeRequest {
            one_time_token: t.one_time_token,
            user_id: user,
        })
        .ok()
        .and_then(|x| x.reply.body);
    let balance = d.card_balance();
    let expected_fee = balance * konaplate_sandbox::ledger::REFUND_FEE_TENTHS / 1000;
    let fee_ok = fee.as_ref().is_some_and(|f| {
        f.balance.get() == balance
            && f.refund_fee.get() == expected_fee
            && f.refund_amount.get() == balance - expected_fee
            && f.refundable
    });
    d.step(
        "refund-fee",
        fee.as_ref().map_or("-".into(), |f| {
            format!(
                "balance {} fee {} ({}%) refund {}",
                f.balance, f.refund_fee, f.refund_fee_rate, f.refund_amount
            )
        }),
        vec![(
            "figures match the ledger's card balance and fee rate",
            fee_ok,
        )],
    );
    let Some(t) = d.token() else {
        return finish(&d, serve);
    };
    let refund_seq = mint_sequence_id();
    let expiry = CardExpiry::new(seed::CARD_EXPIRY).unwrap_or_else(|_| unreachable!("seed expiry"));
    let refund = RefundRequest {
        sequence_id: refund_seq,
        user_id: user,
        card_expiry: expiry,
        dcvv: t.dcvv,
        one_time_token: t.one_time_token,
    };
    let r = d.money(refund);
    let record = d.sb.ledger().refund_record(refund_seq.as_str()).cloned();
    let card_after = d.card_balance();
    d.step(
        "refund",
        format!(
            "sequenceId {refund_seq}, {} KRW to the bank",
            record.as_ref().map_or(0, |r| r.amount)
        ),
        vec![
            (
                "refund completed",
                matches!(
                    r.as_ref().map(|r| &r.outcome),
                    Some(Outcome::Completed { .. })
                ),
            ),
            (
                "ledger refunded balance minus fee",
                record
                    .as_ref()
                    .is_some_and(|r| r.amount == balance - expected_fee && r.fee == expected_fee),
            ),
            ("card balance is zero", card_after == 0),
        ],
    );

    // 11-12: auto-recharge at payment
    let par = Par::new(&seed::par_of(HAPPY_CARD)).unwrap_or_else(|_| unreachable!("seed PAR"));
    let x = d
        .client
        .send(&AutoRechargeRegisterRequest { user_id: user, par });
    let ok = x.as_ref().is_ok_and(|x| x.reply.is_success());
    let planned =
        d.sb.ledger()
            .plans()
            .iter()
            .any(|p| p.par == par.as_str() && p.user_id == HAPPY);
    d.step(
        "auto-recharge register",
        format!("PAR {par} (request sent as JWE)"),
        vec![
            ("registered (000_000)", ok),
            ("ledger holds the plan", planned),
        ],
    );
    let list = d
        .client
        .send(&AutoRechargeListRequest { user_id: user })
        .ok()
        .and_then(|x| x.reply.body);
    let pars: Vec<String> = list
        .iter()
        .flat_map(|l| l.par_info_list.iter().map(|p| p.par.to_string()))
        .collect();
    let ledger_pars: Vec<String> =
        d.sb.ledger()
            .plans()
            .iter()
            .filter(|p| p.user_id == HAPPY)
            .map(|p| p.par.clone())
            .collect();
    d.step(
        "auto-recharge list",
        format!("{} plan(s): {}", pars.len(), pars.join(", ")),
        vec![(
            "list equals the ledger's plans",
            !pars.is_empty() && pars == ledger_pars,
        )],
    );
    finish(&d, serve)
}

fn finish(d: &Demo, serve: bool) -> u8 {
    let code = if d.failures == 0 && d.step == 12 {
        println!("demo: all {} steps match the sandbox ledger", d.step);
        crate::output::exit::OK
    } else {
        println!(
            "demo: {} check(s) failed, {} of 12 steps ran",
            d.failures, d.step
        );
        crate::output::exit::API
    };
    if serve {
        println!("the sandbox's ledger: {}", d.sb.page_url());
        println!("serving until Ctrl-C");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&stop);
        if ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::SeqCst)).is_ok()
        {
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    code
}
