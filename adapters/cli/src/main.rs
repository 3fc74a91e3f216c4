//! `konaplate`: the command-line client of the KONA PLATE Open API SDK.

mod args;
mod config;
mod demo;
mod money;
mod output;
mod secrets;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use konaplate::core::{api::*, field::*};
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
        Command::Sandbox {
            port,
            pending_seconds,
            fault,
        } => return sandbox(*port, *pending_seconds, fault),
        Command::Demo { serve } => return ExitCode::from(demo::run(*serve)),
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
        Command::Token {
            card_no,
            token_type,
        } => {
            let req = TokenRequest {
                card_no: field(CardNo::new(card_no))?,
                token_type: opt_field(token_type.as_deref(), TokenType::new)?,
            };
            let c = client(cli)?;
            Ok(exchange(c.send(&req), None))
        }
        Command::Charge(a) => {
            let (one_time_token, dcvv) = secrets::token_and_dcvv(&a.one_time_token, Some(&a.dcvv))?;
            let req = ChargeRequest {
                sequence_id: sequence(&a.sequence_id)?,
                user_id: field(UserId::parse(&a.user_id))?,
                amount: field(ChargeAmount::parse(&a.amount))?,
                one_time_token,
                dcvv: dcvv.ok_or_else(|| Done::fail(exit::INPUT, "missing --dcvv"))?,
                merchant_id: field(MerchantId::new(&a.merchant_id))?,
            };
            money::money_command(cli, &req, a.sequence_id.is_none())
        }
        Command::ChargeCancel(a) => {
            let (one_time_token, dcvv) = secrets::token_and_dcvv(&a.one_time_token, Some(&a.dcvv))?;
            let req = CancelRequest {
                sequence_id: sequence(&a.sequence_id)?,
                user_id: field(UserId::parse(&a.user_id))?,
                nr_number: field(NrNumber::new(&a.nr_number))?,
                one_time_token,
                dcvv: dcvv.ok_or_else(|| Done::fail(exit::INPUT, "missing --dcvv"))?,
                card_expiry: opt_field(a.card_expiry.as_deref(), CardExpiry::new)?,
            };
            money::money_command(cli, &req, a.sequence_id.is_none())
        }
        Command::Refund(a) => {
            let (one_time_token, dcvv) = secrets::token_and_dcvv(&a.one_time_token, Some(&a.dcvv))?;
            let req = RefundRequest {
                sequence_id: sequence(&a.sequence_id)?,
                user_id: field(UserId::parse(&a.user_id))?,
                card_expiry: field(CardExpiry::new(&a.card_expiry))?,
                dcvv: dcvv.ok_or_else(|| Done::fail(exit::INPUT, "missing --dcvv"))?,
                one_time_token,
            };
            money::money_command(cli, &req, a.sequence_id.is_none())
        }
        Command::ChargeResult { sequence_id } => {
            let seq = field(SequenceId::new(sequence_id))?;
            let c = client(cli)?;
            Ok(exchange(
                c.send(&ChargeResultRequest { sequence_id: seq }),
                Some(&seq),
            ))
        }
        Command::RefundFee {
            user_id,
            one_time_token,
        } => {
            let (one_time_token, _) = secrets::token_and_dcvv(one_time_token, None)?;
            let req = RefundFeeRequest {
                one_time_token,
                user_id: field(UserId::parse(user_id))?,
            };
            let c = client(cli)?;
            Ok(exchange(c.send(&req), None))
        }
        Command::AutoRecharge(AutoRecharge::Register { user_id, par }) => {
            let req = AutoRechargeRegisterRequest {
                user_id: field(UserId::parse(user_id))?,
                par: field(Par::new(par))?,
            };
            let c = client(cli)?;
            Ok(exchange(c.send(&req), None))
        }
        Command::AutoRecharge(AutoRecharge::List { user_id }) => {
            let req = AutoRechargeListRequest {
                user_id: field(UserId::parse(user_id))?,
            };
            let c = client(cli)?;
            Ok(exchange(c.send(&req), None))
        }
        Command::Recover => money::recover(cli),
        Command::Journal {
            action: None | Some(JournalAction::List),
        } => money::journal_list(cli),
        Command::Journal {
            action:
                Some(JournalAction::Resolve {
                    sequence_id,
                    outcome,
                    note,
                    force,
                }),
        } => money::journal_resolve(cli, sequence_id, *outcome, note, *force),
        Command::Sandbox { .. } | Command::Demo { .. } => {
            Err(Done::fail(exit::INPUT, "internal: handled in main"))
        }
    }
}

fn sequence(given: &Option<String>) -> Result<SequenceId, Done> {
    match given {
        Some(s) => field(SequenceId::new(s)),
        None => Ok(konaplate::mint_sequence_id()),
    }
}

fn sandbox(port: Option<u16>, pending_seconds: u64, faults: &[String]) -> ExitCode {
    // a pending charge's resolution time is `now + pending`: keep it representable
    if pending_seconds > 365 * 24 * 3600 {
        eprintln!("error: --pending-seconds {pending_seconds}: at most one year (31536000)");
        return ExitCode::from(exit::INPUT);
    }
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
    // the test keys go to a private directory (0700) that is removed when the sandbox stops
    let mut builder = tempfile::Builder::new();
    builder.prefix("konaplate-sandbox-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o700));
    }
    let keys = match builder.tempdir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: cannot create a private directory for the sandbox's test keys: {e}");
            return ExitCode::from(exit::TRANSPORT);
        }
    };
    let server_key = keys.path().join("server_public.pem");
    let client_key = keys.path().join("client_private.pem");
    let written = std::fs::write(&server_key, konaplate_sandbox::SERVER_PUBLIC_KEY_PEM)
        .and_then(|()| private_write(&client_key, konaplate_sandbox::CLIENT_PRIVATE_KEY_PEM));
    if let Err(e) = written {
        eprintln!("error: cannot write the sandbox's test keys: {e}");
        return ExitCode::from(exit::TRANSPORT);
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = std::sync::Arc::clone(&stop);
    if let Err(e) =
        ctrlc::set_handler(move || flag.store(true, std::sync::atomic::Ordering::SeqCst))
    {
        eprintln!("error: cannot handle Ctrl-C: {e}");
        return ExitCode::from(exit::TRANSPORT);
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
    println!("{}", sb.base_url());
    eprintln!(
        "KONA PLATE sandbox (test data only) listening on {}",
        sb.base_url()
    );
    eprintln!("its ledger, live: {}", sb.page_url());
    eprintln!("stop with Ctrl-C. To use it:");
    eprintln!("export KONAPLATE_BASE_URL={}", sb.base_url());
    eprintln!("export KONAPLATE_ASP_ID={}", konaplate_sandbox::ASP_ID);
    eprintln!(
        "export KONAPLATE_ACCESS_KEY={}",
        konaplate_sandbox::ACCESS_KEY
    );
    eprintln!(
        "export KONAPLATE_SECRET_KEY={}",
        konaplate_sandbox::SECRET_KEY
    );
    eprintln!(
        "export KONAPLATE_CRYPTO_KEY_ID={}",
        konaplate_sandbox::CRYPTO_KEY_ID
    );
    eprintln!(
        "export KONAPLATE_SERVER_PUBLIC_KEY={}",
        server_key.display()
    );
    eprintln!(
        "export KONAPLATE_CLIENT_PRIVATE_KEY={}",
        client_key.display()
    );
    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(sb);
    // removes the key files and their directory
    match keys.close() {
        Ok(()) => {
            eprintln!("sandbox stopped; its test keys were removed");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sandbox stopped; could not remove its test keys: {e}");
            ExitCode::from(exit::TRANSPORT)
        }
    }
}

/// Writes a file readable by its owner only.
fn private_write(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)?.write_all(text.as_bytes())
}
