//! What a command prints: one JSON object with `--json`, human lines otherwise, and the
//! exit status (a contract documented in the README).

use konaplate::core::code::ResultCode;
use konaplate::core::field::*;
use konaplate::core::prelude::*;
use konaplate::{Error, Exchange};
use serde_json::{Map, Value, json};

use crate::args::Cli;

/// Exit statuses (a contract).
pub mod exit {
    /// `000_000`.
    pub const OK: u8 = 0;
    /// Input rejected before anything was sent.
    pub const INPUT: u8 = 2;
    /// The API answered another result code (or the inquiry said FAILED).
    pub const API: u8 = 3;
    /// Transport failure: nothing was sent, or a refund's outcome is unknown.
    pub const TRANSPORT: u8 = 4;
    /// Still open when polling stopped (pending or in doubt): `recover` finishes it.
    pub const PENDING: u8 = 5;
}

/// A finished command: exit status and what to print.
pub struct Done {
    pub exit: u8,
    pub json: Map<String, Value>,
    pub human: Vec<String>,
}

impl Done {
    pub fn fail(exit: u8, message: impl Into<String>) -> Self {
        let message = message.into();
        let mut json = Map::new();
        json.insert("error".into(), json!(message));
        Done {
            exit,
            json,
            human: vec![format!("error: {message}")],
        }
    }
}

/// With `--json`, stdout is exactly one JSON object. Errors (no API answer) always go to
/// stderr as well; an API answer goes to stdout.
pub fn emit(cli: &Cli, done: &Done) {
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
pub fn field<T>(r: Result<T, FieldError>) -> Result<T, Done> {
    r.map_err(|e| {
        let mut d = Done::fail(exit::INPUT, format!("{e} (nothing was sent)"));
        d.json.insert("field".into(), json!(e.field()));
        d.json.insert("limit".into(), json!(e.limit()));
        d
    })
}

/// Like [`field`] for an optional input.
pub fn opt_field<T>(
    v: Option<&str>,
    ctor: impl FnOnce(&str) -> Result<T, FieldError>,
) -> Result<Option<T>, Done> {
    v.map(|s| field(ctor(s))).transpose()
}

pub fn required<'a>(v: &'a Option<String>, flag: &str, env: &str) -> Result<&'a str, Done> {
    v.as_deref().ok_or_else(|| {
        Done::fail(
            exit::INPUT,
            format!("missing {flag} (or {env}); nothing was sent"),
        )
    })
}

/// `"code"`, `"description"` and every field of the reply under its API name (the core's
/// `serde` support).
pub fn reply_json<R: serde::Serialize, C: ResultCode>(reply: &Reply<R, C>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("code".into(), json!(reply.code.as_str()));
    m.insert("description".into(), json!(reply.description.as_str()));
    if let Some(Ok(Value::Object(fields))) = reply.body.as_ref().map(serde_json::to_value) {
        m.extend(fields);
    }
    m
}

pub fn human_lines(m: &Map<String, Value>) -> Vec<String> {
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

pub fn transport(e: Error, seq: Option<&SequenceId>) -> Done {
    let exit = match e {
        Error::Rejected(_) => exit::INPUT,
        _ => exit::TRANSPORT,
    };
    let mut d = Done::fail(exit, e.to_string());
    d.json
        .insert("outcomeUnknown".into(), json!(e.outcome_unknown()));
    if let Some(s) = seq {
        d.json.insert("sequenceId".into(), json!(s.as_str()));
        d.human.push(format!("  sequenceId: {s}"));
    }
    d
}

pub fn exchange<E: Endpoint>(r: Result<Exchange<E>, Error>, seq: Option<&SequenceId>) -> Done
where
    E::Response: serde::Serialize,
{
    match r {
        Err(e) => transport(e, seq),
        Ok(x) => {
            let mut json = reply_json(&x.reply);
            if let Some(s) = seq {
                json.insert("sequenceId".into(), json!(s.as_str()));
            }
            let exit = if x.reply.is_success() {
                exit::OK
            } else {
                exit::API
            };
            Done {
                exit,
                human: human_lines(&json),
                json,
            }
        }
    }
}
