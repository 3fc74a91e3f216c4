//! `konaplate`: the command-line client of the KONA PLATE Open API SDK.

mod args;
mod config;
mod demo;
mod money;
mod output;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use konaplate::core::prelude::*;
use konaplate::money::MoneyRequest;
use serde_json::{Value, json};

use args::{AutoRecharge, Cli, Command, JournalAction};
use config::client;
use output::{Done, emit, exchange, exit, field, opt_field};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            // --help / --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // usage errors are input rejected before anything was sent (exit 2); --json still
            // gets its one object
            if std::env::args().any(|a| a == "--json") {
                let mut d = Done::fail(exit::INPUT, e.kind().to_string());
                d.json.insert("usage".into(), json!(e.render().to_string()));
                println!("{}", Value::Object(d.json));
            }
            let _ = e.print();
            return ExitCode::from(exit::INPUT);
        }
    };
    let done = match &cli.command {
        Command::Sandbox { port, pending_seconds, fault } => return sandbox(*port, *pending_seconds, fault),
        Command::Demo => return ExitCode::from(demo::run()),
        _ => run(&cli),
    };
    emit(&cli, &done);
    ExitCode::from(done.exit)
}

fn run(cli: &Cli) -> Done {
    match command(cli) {
        Ok(d) | Err(d) => d,
    }
}

fn command(cli: &Cli) -> Result<Done, Done> {
    match &cli.command {
        Command::Token { card_no, token_type } => {
            let req = TokenRequest {
                card_no: field(CardNo::new(card_no))?,
                token_type: opt_field(token_type.as_deref(), TokenType::new)?,
            };
            let c = client(cli)?;
            Ok(exchange(c.send::<IssueToken>(&req), None))
        }
        Command::Charge(a) => {
            let req = ChargeRequest {
                sequence_id: sequence(&a.sequence_id)?,
                user_id: field(UserId::parse(&a.user_id))?,
                amount: field(ChargeAmount::parse(&a.amount))?,
                one_time_token: field(OneTimeToken::new(&a.one_time_token))?,
                dcvv: field(Dcvv::new(&a.dcvv))?,
                merchant_id: field(MerchantId::new(&a.merchant_id))?,
            };
            money::money_command(cli, MoneyRequest::Charge(req), a.sequence_id.is_none())
        }
        Command::ChargeCancel(a) => {
            let req = CancelRequest {
                sequence_id: sequence(&a.sequence_id)?,
                user_id: field(UserId::parse(&a.user_id))?,
                nr_number: field(NrNumber::new(&a.nr_number))?,
                one_time_token: field(OneTimeToken::new(&a.one_time_token))?,
                dcvv: field(Dcvv::new(&a.dcvv))?,
                card_expiry: opt_field(a.card_expiry.as_deref(), CardExpiry::new)?,
            };
            money::money_command(cli, MoneyRequest::Cancel(req), a.sequence_id.is_none())
        }
        Command::Refund(a) => {
            let req = RefundRequest {
                sequence_id: sequence(&a.sequence_id)?,
                user_id: field(UserId::parse(&a.user_id))?,
                card_expiry: field(CardExpiry::new(&a.card_expiry))?,
                dcvv: field(Dcvv::new(&a.dcvv))?,
                one_time_token: field(OneTimeToken::new(&a.one_time_token))?,
            };
            money::money_command(cli, MoneyRequest::Refund(req), a.sequence_id.is_none())
        }
        Command::ChargeResult { sequence_id } => {
            let seq = field(SequenceId::new(sequence_id))?;
            let c = client(cli)?;
            Ok(exchange(c.send::<ChargeResultInquiry>(&ChargeResultRequest { sequence_id: seq }), Some(&seq)))
        }
        Command::RefundFee { user_id, one_time_token } => {
            let req = RefundFeeRequest {
                one_time_token: field(OneTimeToken::new(one_time_token))?,
                user_id: field(UserId::parse(user_id))?,
            };
            let c = client(cli)?;
            Ok(exchange(c.send::<RefundFee>(&req), None))
        }
        Command::AutoRecharge(AutoRecharge::Register { user_id, par }) => {
            let req = AutoRechargeRegisterRequest { user_id: field(UserId::parse(user_id))?, par: field(Par::new(par))? };
            let c = client(cli)?;
            Ok(exchange(c.send::<AutoRechargeRegister>(&req), None))
        }
        Command::AutoRecharge(AutoRecharge::List { user_id }) => {
            let req = AutoRechargeListRequest { user_id: field(UserId::parse(user_id))? };
            let c = client(cli)?;
            Ok(exchange(c.send::<AutoRechargeList>(&req), None))
        }
        Command::Recover => money::recover(cli),
        Command::Journal { action: None | Some(JournalAction::List) } => money::journal_list(cli),
        Command::Journal { action: Some(JournalAction::Resolve { sequence_id, outcome, note, force }) } => {
            money::journal_resolve(cli, sequence_id, *outcome, note, *force)
        }
        Command::Sandbox { .. } | Command::Demo => Err(Done::fail(exit::INPUT, "internal: handled in main")),
    }
}

fn sequence(given: &Option<String>) -> Result<SequenceId, Done> {
    match given {
        Some(s) => field(SequenceId::new(s)),
        None => Ok(konaplate::mint_sequence_id()),
    }
}

fn sandbox(port: Option<u16>, pending_seconds: u64, faults: &[String]) -> ExitCode {
    let cfg = konaplate_sandbox::SandboxConfig {
        port: port.unwrap_or(0),
        pending_for: Duration::from_secs(pending_seconds),
        ..Default::default()
    };
    let mut parsed = Vec::new();
    for f in faults {
        let Some((endpoint, fault)) = f.split_once('=') else {
            eprintln!("error: --fault {f}: expected ENDPOINT=FAULT");
            return ExitCode::from(exit::INPUT);
        };
        match konaplate_sandbox::Fault::parse(fault) {
            Ok(x) => parsed.push((endpoint.to_string(), x)),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(exit::INPUT);
            }
        }
    }
    let sb = match konaplate_sandbox::Sandbox::start(cfg) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: cannot start the sandbox: {e}");
            return ExitCode::from(exit::TRANSPORT);
        }
    };
    for (endpoint, fault) in parsed {
        sb.inject(&endpoint, fault);
    }
    let keys = std::env::temp_dir().join(format!("konaplate-sandbox-keys-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&keys);
    let server_key = keys.join("server_public.pem");
    let client_key = keys.join("client_private.pem");
    let _ = std::fs::write(&server_key, konaplate_sandbox::SERVER_PUBLIC_KEY_PEM);
    let _ = std::fs::write(&client_key, konaplate_sandbox::CLIENT_PRIVATE_KEY_PEM);
    println!("{}", sb.base_url());
    eprintln!("KONA PLATE sandbox (test data only) listening; stop with Ctrl-C. To use it:");
    eprintln!("export KONAPLATE_BASE_URL={}", sb.base_url());
    eprintln!("export KONAPLATE_ASP_ID={}", konaplate_sandbox::ASP_ID);
    eprintln!("export KONAPLATE_ACCESS_KEY={}", konaplate_sandbox::ACCESS_KEY);
    eprintln!("export KONAPLATE_SECRET_KEY={}", konaplate_sandbox::SECRET_KEY);
    eprintln!("export KONAPLATE_CRYPTO_KEY_ID={}", konaplate_sandbox::CRYPTO_KEY_ID);
    eprintln!("export KONAPLATE_SERVER_PUBLIC_KEY={}", server_key.display());
    eprintln!("export KONAPLATE_CLIENT_PRIVATE_KEY={}", client_key.display());
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}
