//! The money-moving commands (`charge`, `charge-cancel`, `refund`), `recover` and `journal`.
//!
//! Every report is rendered from the call's journal record, so a re-run of a finished
//! sequenceId prints exactly what the first run printed.

use std::io::IsTerminal;
use std::time::Duration;

use konaplate::core::field::Timestamp;
use konaplate::core::field::*;
use konaplate::core::flow::{Closure, JournalRecord, Operation, Outcome, outcome_of_record};
use konaplate::core::prelude::*;
use konaplate::journal::Journal;
use konaplate::money::{self, Progress, Report, RunError};
use serde_json::{Map, Value, json};

use crate::args::{Cli, Resolution};
use crate::config::{client, journal, policy};
use crate::output::{Done, exit, field, human_lines, transport};

/// The command name of an operation.
pub fn operation_name(op: Operation) -> &'static str {
    match op {
        Operation::Charge => "charge",
        Operation::Cancel => "charge-cancel",
        Operation::Refund => "refund",
    }
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
                Progress::Sending(n) if n > 1 => {
                    format!("sending again (attempt {n}), same sequenceId")
                }
                Progress::Sending(_) => "sending".to_string(),
                Progress::Inquiring => "asking the result inquiry".to_string(),
                Progress::Waiting(d) => format!("waiting; next step in {}s", d.as_secs()),
                _ => "working".to_string(),
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

/// The exit status of an outcome.
pub fn exit_of(o: &Outcome) -> u8 {
    match o {
        Outcome::Completed { .. } => exit::OK,
        Outcome::Declined { .. } | Outcome::Failed => exit::API,
        Outcome::NotProcessed | Outcome::Unknown => exit::TRANSPORT,
        _ => exit::PENDING,
    }
}

/// What the platform said about a call, from its journal record: `"code"`, `"description"`,
/// the fields learned under their API names, `"sequenceId"` and `"outcome"`.
fn record_json(rec: &JournalRecord, outcome: &Outcome) -> Map<String, Value> {
    let a = &rec.answer;
    let mut m = Map::new();
    if rec.operator {
        m.insert("resolvedBy".into(), json!("operator"));
        m.insert("note".into(), json!(a.description.as_str()));
    } else if let Some(code) = &a.code {
        m.insert("code".into(), json!(code.as_str()));
        m.insert("description".into(), json!(a.description.as_str()));
    }
    if let Some(nr) = &a.nr_number {
        m.insert("nrNumber".into(), json!(nr.as_str()));
    }
    if let Some(p) = a.is_pending {
        m.insert("isPending".into(), json!(p));
    }
    if let Some(r) = a.result {
        m.insert("result".into(), json!(r.as_str()));
    }
    m.insert("sequenceId".into(), json!(rec.sequence_id.as_str()));
    m.insert("outcome".into(), json!(outcome.word()));
    m
}

/// The report of a money-moving call.
pub fn render(r: &Report) -> Done {
    let json = record_json(&r.record, &r.outcome);
    let mut human = human_lines(&json);
    let seq = r.record.sequence_id;
    match r.outcome {
        Outcome::Unknown => human.push(format!(
            "outcome unknown: the refund may have reached KONA PLATE, which offers no inquiry for it. Never send it again; check with KONA PLATE, then close it: konaplate journal resolve {seq} --outcome completed|not-processed --note TEXT"
        )),
        Outcome::InDoubt => human.push(format!(
            "in doubt: the request may have reached KONA PLATE, which has not said what became of it yet. Run `konaplate recover` later; never send it again under a new sequenceId ({seq})"
        )),
        Outcome::StillPending => human.push("still pending: run `konaplate recover` later to learn the outcome".into()),
        Outcome::NotProcessed => {
            human.push("the request never reached KONA PLATE, or can no longer be accepted and KONA PLATE has no trace of it: nothing moved".into())
        }
        _ => {}
    }
    Done {
        exit: exit_of(&r.outcome),
        json,
        human,
    }
}

pub fn money_command<R: Request>(cli: &Cli, req: &R, minted: bool) -> Result<Done, Done>
where
    R::Endpoint: MoneyEndpoint,
{
    let c = client(cli)?;
    let policy = policy(cli)?;
    let mut j = journal(cli)?;
    let seq = <R::Endpoint as MoneyEndpoint>::sequence_id(req);
    if minted && !cli.json {
        eprintln!("sequenceId: {seq} (minted; keep it to ask the result)");
    }
    let spinner = Spinner::new(cli);
    let report = match j.as_deref_mut() {
        Some(j) => money::run(&c, j, req, policy, &mut |p| spinner.show(p)),
        // --no-journal, deliberately
        None => money::run_without_journal(&c, req, policy, &mut |p| spinner.show(p)),
    };
    drop(spinner);
    match report {
        Ok(r) => {
            if r.replayed {
                eprintln!(
                    "replayed from the journal: sequenceId {seq} was sent before; nothing was sent now"
                );
            }
            Ok(render(&r))
        }
        Err(e) => Err(run_error(e, &seq)),
    }
}

fn run_error(e: RunError, seq: &SequenceId) -> Done {
    let mut d = match e {
        RunError::Rejected(e) => return transport(e, Some(seq)),
        RunError::Journal(e) => {
            let mut d = Done::fail(exit::TRANSPORT, format!("journal failed: {e}"));
            d.json.insert("outcomeUnknown".into(), json!(false));
            d
        }
        e @ RunError::InDoubt(_) => {
            // the call had begun: it is open in the journal, and `recover` finishes it
            let mut d = Done::fail(exit::PENDING, format!("{e}"));
            d.json.insert("outcomeUnknown".into(), json!(true));
            d.human.push(format!(
                "  run `konaplate recover` once the journal works; never send it again under a new sequenceId ({seq})"
            ));
            d
        }
        e @ RunError::Busy(_) => Done::fail(exit::PENDING, e.to_string()),
        e @ RunError::Fenced(_) => {
            // another replica took the call over: it finishes it; this one wrote nothing more
            let mut d = Done::fail(exit::PENDING, e.to_string());
            d.json.insert("fenced".into(), json!(true));
            d
        }
        e @ RunError::Mismatch { field, .. } => {
            let mut d = Done::fail(exit::INPUT, e.to_string());
            d.json.insert("field".into(), json!(field));
            d
        }
        // a failure this CLI does not know: the call may still be open
        e => Done::fail(exit::PENDING, e.to_string()),
    };
    d.json.insert("sequenceId".into(), json!(seq.as_str()));
    d
}

pub fn recover(cli: &Cli) -> Result<Done, Done> {
    let c = client(cli)?;
    let policy = policy(cli)?;
    let Some(mut j) = journal(cli)? else {
        return Err(Done::fail(
            exit::INPUT,
            "recover needs a journal (remove --no-journal)",
        ));
    };
    let all = j
        .latest()
        .map_err(|e| Done::fail(exit::TRANSPORT, format!("journal: {e}")))?;
    let unreadable = unreadable_now(&mut *j);
    let open: Vec<JournalRecord> = all.into_iter().filter(|r| r.state.is_open()).collect();
    let mut items = Vec::new();
    let mut human = Vec::new();
    let mut worst = exit::OK;
    let spinner = Spinner::new(cli);
    for rec in &open {
        let name = operation_name(rec.op);
        let seq = rec.sequence_id;
        let (mut item, word, code) = if rec.state.awaits_platform() {
            match money::resume(&c, &mut *j, &seq, policy, &mut |p| spinner.show(p)) {
                Ok(report) => {
                    let d = render(&report);
                    let code = if report.outcome.is_final() {
                        exit::OK
                    } else {
                        d.exit
                    };
                    (d.json, report.outcome.word(), code)
                }
                Err(RunError::Busy(_) | RunError::Fenced(_)) => {
                    // driven by another live process (or taken over from this one meanwhile)
                    let mut m = record_json(rec, &outcome_of_record(rec));
                    m.insert("busy".into(), json!(true));
                    (m, "BUSY", exit::PENDING)
                }
                Err(e) => return Err(run_error(e, &seq)),
            }
        } else {
            // a refund whose outcome is unknown: only an operator can close it
            let o = outcome_of_record(rec);
            let mut m = record_json(rec, &o);
            m.insert("awaits".into(), json!("operator"));
            (m, o.word(), exit::TRANSPORT)
        };
        item.insert("operation".into(), json!(name));
        human.push(match word {
            "BUSY" => format!("{name} {seq} -> being driven by another konaplate process (left alone)"),
            "UNKNOWN" => format!(
                "{name} {seq} -> UNKNOWN: check with KONA PLATE, then `konaplate journal resolve {seq} --outcome completed|not-processed --note TEXT`"
            ),
            w => format!("{name} {seq} -> {w}"),
        });
        // every final answer counts as resolved, including declined, failed and "never
        // arrived"; an open entry does not (5), nor an unknown refund (4)
        worst = worst.max(code);
        items.push(Value::Object(item));
    }
    drop(spinner);
    if open.is_empty() && unreadable == 0 {
        human.push("nothing to recover".into());
    }
    let mut json = Map::new();
    json.insert("recovered".into(), Value::Array(items));
    if unreadable > 0 {
        // each may be an open call: never "nothing to recover"
        human.push(format!(
            "{unreadable} journal record(s) could not be read (see the warnings) and were not recovered: each may be an open call. Recover them with a konaplate that reads them; never send them again under a new sequenceId"
        ));
        json.insert("unreadable".into(), json!(unreadable));
        worst = worst.max(exit::PENDING);
    }
    Ok(Done {
        exit: worst,
        json,
        human,
    })
}

/// Prints to stderr what reading the journal just found wrong (a record it could not read: a
/// newer konaplate's, or damaged; the database journal reads records only now, after its
/// open's warnings were printed) and returns how many things it found.
fn unreadable_now(j: &mut dyn Journal) -> usize {
    let warnings = j.take_warnings();
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    warnings.len()
}

/// Unix milliseconds as `2026-11-29T14:18:51.123Z`.
fn iso(ms: u64) -> String {
    match Timestamp::from_unix_millis(ms, 0) {
        Ok(t) => {
            let mut d = [0u8; 17];
            t.write_17(&mut d);
            let s = String::from_utf8_lossy(&d);
            format!(
                "{}-{}-{}T{}:{}:{}.{}Z",
                &s[0..4],
                &s[4..6],
                &s[6..8],
                &s[8..10],
                &s[10..12],
                &s[12..14],
                &s[14..17]
            )
        }
        Err(_) => ms.to_string(),
    }
}

fn entry_json(j: &mut dyn Journal, rec: &JournalRecord) -> Map<String, Value> {
    let o = outcome_of_record(rec);
    let mut m = Map::new();
    m.insert("sequenceId".into(), json!(rec.sequence_id.as_str()));
    m.insert("operation".into(), json!(operation_name(rec.op)));
    m.insert("state".into(), json!(o.word()));
    m.insert("open".into(), json!(rec.state.is_open()));
    if rec.state.awaits_platform() {
        m.insert("awaits".into(), json!("platform"));
        m.insert(
            "busy".into(),
            json!(j.is_driven_elsewhere(&rec.sequence_id).unwrap_or(false)),
        );
    } else if rec.state.is_open() {
        m.insert("awaits".into(), json!("operator"));
    }
    let e = &rec.essentials;
    m.insert("userId".into(), json!(e.user_id.get()));
    if let Some(a) = e.amount {
        m.insert("amount".into(), json!(a.get()));
    }
    if let Some(mid) = &e.merchant_id {
        m.insert("merchantId".into(), json!(mid.as_str()));
    }
    if let Some(nr) = &e.nr_number {
        m.insert("chargeNrNumber".into(), json!(nr.as_str()));
    }
    for (k, v) in record_json(rec, &o) {
        if k != "sequenceId" && k != "outcome" {
            m.insert(k, v);
        }
    }
    m.insert("sends".into(), json!(rec.sends));
    m.insert("created".into(), json!(iso(rec.created_ms)));
    m.insert("updated".into(), json!(iso(rec.updated_ms)));
    if rec.state.is_open() {
        m.insert("acceptUntil".into(), json!(iso(rec.accept_until_ms)));
    }
    m
}

pub fn journal_list(cli: &Cli) -> Result<Done, Done> {
    let Some(mut j) = journal(cli)? else {
        return Err(Done::fail(
            exit::INPUT,
            "`journal` needs a journal (remove --no-journal)",
        ));
    };
    let mut all = j
        .latest()
        .map_err(|e| Done::fail(exit::TRANSPORT, format!("journal: {e}")))?;
    let unreadable = unreadable_now(&mut *j);
    // open first (oldest first), then final (newest first)
    all.sort_by(|a, b| {
        b.state.is_open().cmp(&a.state.is_open()).then_with(|| {
            if a.state.is_open() {
                a.created_ms.cmp(&b.created_ms)
            } else {
                b.updated_ms.cmp(&a.updated_ms)
            }
        })
    });
    let entries: Vec<Map<String, Value>> = all.iter().map(|r| entry_json(&mut *j, r)).collect();
    let mut human = vec![format!(
        "journal {} ({} entries, {} open)",
        j.location(),
        all.len(),
        all.iter().filter(|r| r.state.is_open()).count()
    )];
    for e in &entries {
        let s = |k: &str| {
            e.get(k)
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .unwrap_or_default()
        };
        human.push(format!(
            "{:<13} {:<13} {:<30} user {} {}{}{}",
            s("state"),
            s("operation"),
            s("sequenceId"),
            s("userId"),
            e.get("amount")
                .map_or(String::new(), |a| format!("amount {a} ")),
            e.get("nrNumber").map_or(String::new(), |n| format!(
                "nr {} ",
                n.as_str().unwrap_or("")
            )),
            match (e.get("awaits").and_then(Value::as_str), e.get("busy")) {
                (Some("platform"), Some(Value::Bool(true))) =>
                    "(being driven by another process)".to_string(),
                (Some("platform"), _) => "(run `konaplate recover`)".to_string(),
                (Some("operator"), _) =>
                    "(check with KONA PLATE, then `konaplate journal resolve`)".to_string(),
                _ => String::new(),
            }
        ));
    }
    let mut json = Map::new();
    json.insert(
        "entries".into(),
        Value::Array(entries.into_iter().map(Value::Object).collect()),
    );
    if unreadable > 0 {
        human.push(format!(
            "and {unreadable} record(s) that could not be read (see the warnings): each may be an open call"
        ));
        json.insert("unreadable".into(), json!(unreadable));
    }
    Ok(Done {
        exit: exit::OK,
        json,
        human,
    })
}

pub fn journal_resolve(
    cli: &Cli,
    seq: &str,
    outcome: Resolution,
    note: &str,
    force: bool,
) -> Result<Done, Done> {
    let seq = field(SequenceId::new(seq))?;
    if note.trim().is_empty() {
        return Err(Done::fail(
            exit::INPUT,
            "--note: say why (a ticket number, who confirmed it); nothing changed",
        ));
    }
    let Some(mut j) = journal(cli)? else {
        return Err(Done::fail(
            exit::INPUT,
            "`journal resolve` needs a journal (remove --no-journal)",
        ));
    };
    let refuse = |m: String| Err(Done::fail(exit::INPUT, format!("{m}; nothing changed")));
    let Some(lease) = j
        .try_lease(&seq)
        .map_err(|e| Done::fail(exit::TRANSPORT, format!("journal: {e}")))?
    else {
        return Err(Done::fail(
            exit::PENDING,
            format!(
                "sequenceId {seq} is being driven by another konaplate process; nothing changed"
            ),
        ));
    };
    let latest = j
        .latest_of(&seq)
        .map_err(|e| Done::fail(exit::TRANSPORT, format!("journal: {e}")))?;
    let Some(rec) = latest else {
        let _ = j.release(lease);
        return refuse(format!(
            "sequenceId {seq} is not in the journal {}",
            j.location()
        ));
    };
    let now = konaplate::clock::unix_millis();
    let refusal = if rec.state.is_final() {
        Some(format!(
            "sequenceId {seq} is already final ({})",
            outcome_of_record(&rec).word()
        ))
    } else if rec.state.awaits_platform() && !force {
        Some(format!(
            "sequenceId {seq} is a {} the result inquiry can still decide: run `konaplate recover` (or add --force)",
            operation_name(rec.op)
        ))
    } else if now < rec.accept_until_ms && !force {
        Some(format!(
            "KONA PLATE may still commit sequenceId {seq} until {}: check again after that (or add --force)",
            iso(rec.accept_until_ms)
        ))
    } else {
        None
    };
    if let Some(m) = refusal {
        // give the entry back at once: other replicas must not see it busy for a lease
        let _ = j.release(lease);
        return refuse(m);
    }
    let closure = match outcome {
        Resolution::Completed => Closure::Completed,
        Resolution::NotProcessed => Closure::NotProcessed,
    };
    let closed = field(rec.closed_by_operator(closure, note, now))?
        .ok_or_else(|| Done::fail(exit::INPUT, format!("sequenceId {seq} is already final")))?;
    j.append(&closed, Some(&lease))
        .map_err(|e| Done::fail(exit::TRANSPORT, format!("journal write failed: {e}")))?;
    j.release(lease)
        .map_err(|e| Done::fail(exit::TRANSPORT, format!("journal: {e}")))?;
    let json = entry_json(&mut *j, &closed);
    let mut human = vec![format!(
        "{seq}: closed as {} by the operator",
        outcome_of_record(&closed).word()
    )];
    human.extend(human_lines(&json));
    Ok(Done {
        exit: exit::OK,
        json,
        human,
    })
}
