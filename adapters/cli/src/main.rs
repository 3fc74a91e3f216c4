//! `konaplate`: the command-line client of the KONA PLATE Open API SDK.

mod args;
mod demo;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use konaplate::core::code::ResultCode;
use konaplate::core::flow::{Operation, Outcome, Policy};
use konaplate::core::message::{Message, decode_reply, encode_message};
use konaplate::core::prelude::*;
use konaplate::journal::{FileJournal, default_path};
use konaplate::keys::pem_text_or_file;
use konaplate::money::{self, MaybeJournal, MoneyRequest, Progress, Report, RunError};
use konaplate::{Client, ClientConfig, ClientPrivateKey, Error, Exchange, ServerPublicKey};
use serde_json::{Map, Value, json};

use args::{AutoRecharge, Cli, Command};

/// Exit statuses (a contract).
pub mod exit {
    /// `000_000`.
    pub const OK: u8 = 0;
    /// Input rejected before anything was sent.
    pub const INPUT: u8 = 2;
    /// The API answered another result code (or the inquiry said FAILED).
    pub const API: u8 = 3;
    /// Transport failure: outcome unknown, or nothing was sent.
    pub const TRANSPORT: u8 = 4;
    /// Still pending when polling stopped.
    pub const PENDING: u8 = 5;
}

/// A finished command: exit status and what to print.
pub struct Done {
    exit: u8,
    json: Map<String, Value>,
    human: Vec<String>,
}

impl Done {
    fn fail(exit: u8, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut json = Map::new();
        json.insert("error".into(), json!(message));
        Done { exit, json, human: vec![format!("error: {message}")] }
    }
}

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

/// With `--json`, stdout is exactly one JSON object. Errors (no API answer) always go to
/// stderr as well; an API answer goes to stdout.
fn emit(cli: &Cli, done: &Done) {
    let is_error = done.json.contains_key("error");
    if cli.json {
        println!("{}", Value::Object(done.json.clone()));
    }
    for line in &done.human {
        if is_error {
            eprintln!("{line}");
        } else if !cli.json {
            println!("{line}");
        }
    }
}

/// Validates one input with a core constructor; a rejection is exit 2 naming the field.
fn field<T>(r: Result<T, FieldError>) -> Result<T, Done> {
    r.map_err(|e| {
        let mut d = Done::fail(exit::INPUT, format!("{e} (nothing was sent)"));
        d.json.insert("field".into(), json!(e.field()));
        d.json.insert("limit".into(), json!(e.limit()));
        d
    })
}

/// Like [`field`] for an optional input.
fn opt_field<T>(v: Option<&str>, ctor: impl FnOnce(&str) -> Result<T, FieldError>) -> Result<Option<T>, Done> {
    v.map(|s| field(ctor(s))).transpose()
}

fn required<'a>(v: &'a Option<String>, flag: &str, env: &str) -> Result<&'a str, Done> {
    v.as_deref().ok_or_else(|| Done::fail(exit::INPUT, format!("missing {flag} (or {env}); nothing was sent")))
}

/// The client from the global options.
pub fn client(cli: &Cli) -> Result<Client, Done> {
    let asp = field(AspId::new(required(&cli.asp_id, "--asp-id", "KONAPLATE_ASP_ID")?))?;
    let access = field(AccessKey::new(required(&cli.access_key, "--access-key", "KONAPLATE_ACCESS_KEY")?))?;
    let secret = field(SecretKey::new(required(&cli.secret_key, "--secret-key", "KONAPLATE_SECRET_KEY")?))?;
    let mut cfg = ClientConfig::new(asp, access, secret);
    if let Some(u) = &cli.base_url {
        cfg.base_url = u.clone();
    }
    cfg.time_zone = field(TimeZone::new(&cli.time_zone))?;
    if let Some(k) = &cli.crypto_key_id {
        cfg.crypto_key_id = Some(field(CryptoKeyId::new(k))?);
    }
    let input = |e: String| Done::fail(exit::INPUT, e);
    if let Some(k) = &cli.server_public_key {
        let pem = pem_text_or_file(k).map_err(input)?;
        cfg.server_public_key = Some(ServerPublicKey::from_pem(&pem).map_err(|e| input(e.to_string()))?);
    }
    if let Some(k) = &cli.client_private_key {
        let pem = pem_text_or_file(k).map_err(input)?;
        cfg.client_private_key = Some(ClientPrivateKey::from_pem(&pem).map_err(|e| input(e.to_string()))?);
    }
    if let Some(t) = cli.timeout {
        cfg.connect_timeout = Duration::from_secs(t);
        cfg.read_timeout = Duration::from_secs(t);
    }
    Client::new(cfg).map_err(|e| Done::fail(exit::INPUT, e.to_string()))
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
            money_command(cli, MoneyRequest::Charge(req), a.sequence_id.is_none())
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
            money_command(cli, MoneyRequest::Cancel(req), a.sequence_id.is_none())
        }
        Command::Refund(a) => {
            let req = RefundRequest {
                sequence_id: sequence(&a.sequence_id)?,
                user_id: field(UserId::parse(&a.user_id))?,
                card_expiry: field(CardExpiry::new(&a.card_expiry))?,
                dcvv: field(Dcvv::new(&a.dcvv))?,
                one_time_token: field(OneTimeToken::new(&a.one_time_token))?,
            };
            money_command(cli, MoneyRequest::Refund(req), a.sequence_id.is_none())
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
        Command::Recover => recover(cli),
        Command::Sandbox { .. } | Command::Demo => Err(Done::fail(exit::INPUT, "internal: handled in main")),
    }
}

fn sequence(given: &Option<String>) -> Result<SequenceId, Done> {
    match given {
        Some(s) => field(SequenceId::new(s)),
        None => Ok(konaplate::mint_sequence_id()),
    }
}

/// `"code"`, `"description"` and every field of the reply under its API name.
fn reply_json<R: Message, C: ResultCode>(reply: &Reply<R, C>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("code".into(), json!(reply.code.as_str()));
    m.insert("description".into(), json!(reply.description.as_str()));
    if let Some(body) = &reply.body {
        let mut buf = vec![0u8; 16 * 1024];
        if let Ok(Value::Object(fields)) = encode_message(body, &mut buf)
            .map_err(|_| ())
            .and_then(|n| serde_json::from_slice::<Value>(&buf[..n]).map_err(|_| ()))
        {
            m.extend(fields);
        }
    }
    m
}

fn human_lines(m: &Map<String, Value>) -> Vec<String> {
    let mut lines = Vec::new();
    let code = m.get("code").and_then(Value::as_str).unwrap_or("");
    let desc = m.get("description").and_then(Value::as_str).unwrap_or("");
    if !code.is_empty() {
        lines.push(format!("{code} {desc}"));
    }
    for (k, v) in m {
        if k == "code" || k == "description" {
            continue;
        }
        let text = match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        lines.push(format!("  {k}: {text}"));
    }
    lines
}

fn transport(e: Error, seq: Option<&SequenceId>) -> Done {
    let exit = match e {
        Error::Rejected(_) => exit::INPUT,
        _ => exit::TRANSPORT,
    };
    let mut d = Done::fail(exit, e.to_string());
    d.json.insert("outcomeUnknown".into(), json!(e.outcome_unknown()));
    if let Some(s) = seq {
        d.json.insert("sequenceId".into(), json!(s.as_str()));
        d.human.push(format!("  sequenceId: {s}"));
    }
    d
}

fn exchange<E: Endpoint>(r: Result<Exchange<E>, Error>, seq: Option<&SequenceId>) -> Done {
    match r {
        Err(e) => transport(e, seq),
        Ok(x) => {
            let mut json = reply_json(&x.reply);
            if let Some(s) = seq {
                json.insert("sequenceId".into(), json!(s.as_str()));
            }
            let exit = if x.reply.is_success() { exit::OK } else { exit::API };
            Done { exit, human: human_lines(&json), json }
        }
    }
}

fn policy(cli: &Cli) -> Policy {
    Policy {
        poll_interval_ms: cli.poll_interval.max(1) * 1000,
        deadline_ms: cli.max_wait * 1000,
        retry_ms: (cli.poll_interval.max(1) * 1000).min(2_000),
        ..Policy::default()
    }
}

fn journal(cli: &Cli) -> Result<Option<FileJournal>, Done> {
    if cli.no_journal {
        return Ok(None);
    }
    let path = cli.journal.as_ref().map_or_else(default_path, Into::into);
    FileJournal::open(&path)
        .map(Some)
        .map_err(|e| Done::fail(exit::INPUT, format!("cannot open journal {}: {e}; nothing was sent", path.display())))
}

/// A spinner on stderr while waiting, only on a terminal and never in --json mode.
struct Spinner(Option<indicatif::ProgressBar>);

impl Spinner {
    fn new(cli: &Cli) -> Self {
        if cli.json || !std::io::stderr().is_terminal() {
            return Spinner(None);
        }
        let pb = indicatif::ProgressBar::new_spinner();
        pb.enable_steady_tick(Duration::from_millis(120));
        Spinner(Some(pb))
    }
    fn show(&self, p: Progress) {
        if let Some(pb) = &self.0 {
            pb.set_message(match p {
                Progress::Sending(n) if n > 1 => format!("sending again (attempt {n}), same sequenceId"),
                Progress::Sending(_) => "sending".to_string(),
                Progress::Inquiring => "asking the result inquiry".to_string(),
                Progress::Waiting(d) => format!("pending; next inquiry in {}s", d.as_secs()),
            });
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
        }
    }
}

fn money_command(cli: &Cli, req: MoneyRequest, minted: bool) -> Result<Done, Done> {
    let c = client(cli)?;
    let mut j = journal(cli)?;
    if minted && !cli.json {
        eprintln!("sequenceId: {} (minted; keep it to ask the result)", req.sequence_id());
    }
    let spinner = Spinner::new(cli);
    let journal = MaybeJournal(j.as_mut().map(|j| j as &mut dyn konaplate::core::flow::Journal<Error = std::io::Error>));
    let report = money::run(&c, journal, &req, policy(cli), &mut |p| spinner.show(p));
    drop(spinner);
    match report {
        Ok(r) => Ok(render_report(&r)),
        Err(RunError::Rejected(e)) => Err(transport(e, Some(&req.sequence_id()))),
        Err(RunError::Journal(e)) => {
            let mut d = Done::fail(exit::TRANSPORT, format!("journal write failed: {e}"));
            d.json.insert("sequenceId".into(), json!(req.sequence_id().as_str()));
            Err(d)
        }
    }
}

fn outcome_name(o: &Outcome) -> &'static str {
    match o {
        Outcome::Completed { .. } => "COMPLETED",
        Outcome::Declined { .. } => "DECLINED",
        Outcome::Failed => "FAILED",
        Outcome::NotProcessed => "NOT_PROCESSED",
        Outcome::StillPending => "PENDING",
        Outcome::Unknown => "UNKNOWN",
    }
}

/// The JSON/human report of a money-moving call.
pub fn render_report(r: &Report) -> Done {
    let mut json = Map::new();
    // the request's own answer, when one was decodable
    if let Some((_, body)) = &r.response {
        let m = match r.operation {
            Operation::Charge => decode_reply::<ChargeResponse, ChargeCode>(body).ok().map(|x| reply_json(&x)),
            Operation::Cancel => decode_reply::<CancelResponse, CancelCode>(body).ok().map(|x| reply_json(&x)),
            Operation::Refund => decode_reply::<RefundResponse, RefundCode>(body).ok().map(|x| reply_json(&x)),
        };
        if let Some(m) = m {
            json.extend(m);
        }
    }
    // an outcome learned from the inquiry (or "never arrived"): the inquiry's envelope
    let inquiry = r.inquiry.as_ref().and_then(|(_, body)| {
        decode_reply::<ChargeResultResponse, ChargeResultCode>(body).ok().map(|x| reply_json(&x))
    });
    let result = r.outcome.inquiry_result();
    if let Some(m) = inquiry.filter(|_| result.is_some() || r.outcome == Outcome::NotProcessed) {
        json.extend(m);
    }
    if let Some(result) = result {
        json.insert("result".into(), json!(result.as_str()));
    }
    if let Outcome::Completed { nr_number: Some(nr), .. } = &r.outcome {
        json.entry("nrNumber").or_insert_with(|| json!(nr.as_str()));
    }
    json.insert("sequenceId".into(), json!(r.sequence_id.as_str()));
    json.insert("outcome".into(), json!(outcome_name(&r.outcome)));
    let exit = match r.outcome {
        Outcome::Completed { .. } => exit::OK,
        Outcome::Declined { .. } | Outcome::Failed => exit::API,
        Outcome::NotProcessed | Outcome::Unknown => exit::TRANSPORT,
        Outcome::StillPending => exit::PENDING,
    };
    let mut human = human_lines(&json);
    match r.outcome {
        Outcome::Unknown => human.push(format!(
            "outcome unknown: keep sequenceId {} and check with KONA PLATE before retrying",
            r.sequence_id
        )),
        Outcome::NotProcessed => human.push("the request never reached KONA PLATE: nothing moved".into()),
        Outcome::StillPending => {
            human.push("still pending: run `konaplate recover` later to learn the outcome".into())
        }
        _ => {}
    }
    Done { exit, json, human }
}

fn recover(cli: &Cli) -> Result<Done, Done> {
    let c = client(cli)?;
    let Some(mut j) = journal(cli)? else {
        return Err(Done::fail(exit::INPUT, "recover needs a journal (remove --no-journal)"));
    };
    let todo = j.unfinished().map_err(|e| Done::fail(exit::TRANSPORT, format!("cannot read journal: {e}")))?;
    let mut items = Vec::new();
    let mut human = Vec::new();
    let mut worst = exit::OK;
    let spinner = Spinner::new(cli);
    for rec in &todo {
        let journal = MaybeJournal(Some(&mut j));
        let report = money::resume(&c, journal, rec, policy(cli), &mut |p| spinner.show(p))
            .map_err(|e| Done::fail(exit::TRANSPORT, e.to_string()))?;
        let d = render_report(&report);
        let mut item = d.json.clone();
        item.insert("operation".into(), json!(report.operation.name()));
        human.push(format!(
            "{} {} -> {}",
            report.operation.name(),
            report.sequence_id,
            outcome_name(&report.outcome)
        ));
        // every final answer counts as resolved, including "declined", "failed" and "never
        // arrived"; only an unknown or a still-pending entry is not
        worst = worst.max(match report.outcome {
            Outcome::Unknown => exit::TRANSPORT,
            Outcome::StillPending => exit::PENDING,
            _ => exit::OK,
        });
        items.push(Value::Object(item));
    }
    drop(spinner);
    if todo.is_empty() {
        human.push("nothing to recover".into());
    }
    let mut json = Map::new();
    json.insert("recovered".into(), Value::Array(items));
    Ok(Done { exit: worst, json, human })
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
