//! The page a developer looks at while integrating: `GET /` on the sandbox shows its members
//! and cards with balances, every transaction with its sequenceId, state and nrNumber, the
//! auto-recharge plans, the faults armed and the latest requests, refreshing itself every two
//! seconds. Server-rendered HTML, no script, no build step. `GET /state.json` is the same as
//! one JSON object, for scripts. Card numbers are masked; no token, DCVV or key is shown.

use std::fmt::Write as _;
use std::time::Instant;

use crate::faults::Fault;
use crate::ledger::{Ledger, TxnKind, TxnState};
use crate::state::{Logged, Shared, lock};

/// Escapes text for HTML.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `941000******0011`: the first six and last four digits, as on a receipt.
pub fn mask_card(card_no: &str) -> String {
    let n = card_no.len();
    if n < 10 {
        return "*".repeat(n);
    }
    format!(
        "{}{}{}",
        &card_no[..6],
        "*".repeat(n - 10),
        &card_no[n - 4..]
    )
}

fn won(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One row of the transactions table.
struct Row {
    order: u64,
    kind: &'static str,
    sequence_id: String,
    user_id: u64,
    card: String,
    amount: u64,
    state: String,
    nr_number: String,
    note: String,
}

fn nr_order(nr: &str) -> u64 {
    nr.get(3..).and_then(|d| d.parse().ok()).unwrap_or(0)
}

fn rows(l: &Ledger, now: Instant) -> Vec<Row> {
    let mut rows: Vec<Row> = l
        .txns()
        .map(|t| Row {
            order: nr_order(&t.nr_number),
            kind: match t.kind {
                TxnKind::Charge => "charge",
                TxnKind::Cancel => "cancellation",
            },
            sequence_id: t.sequence_id.clone(),
            user_id: t.user_id,
            card: mask_card(&t.card_no),
            amount: t.amount,
            state: match t.state {
                TxnState::Completed => "COMPLETED".into(),
                TxnState::Failed => "FAILED".into(),
                TxnState::Pending { at, completes } => format!(
                    "PENDING ({} in {} s)",
                    if completes { "completes" } else { "fails" },
                    at.saturating_duration_since(now).as_secs()
                ),
            },
            nr_number: t.nr_number.clone(),
            note: match (&t.cancels, t.cancelled, t.cancel_pending) {
                (Some(c), _, _) => format!("cancels {c}"),
                (None, true, _) => "cancelled".into(),
                (None, _, true) => "cancellation pending".into(),
                _ => String::new(),
            },
        })
        .collect();
    rows.extend(l.refunds().map(|r| Row {
        order: nr_order(&r.nr_number),
        kind: "refund",
        sequence_id: r.sequence_id.clone(),
        user_id: r.user_id,
        card: mask_card(&r.card_no),
        amount: r.amount,
        state: "COMPLETED".into(),
        nr_number: r.nr_number.clone(),
        note: format!("fee {}", won(r.fee)),
    }));
    rows.sort_by_key(|r| std::cmp::Reverse(r.order));
    rows
}

fn fault_text(f: &Fault) -> String {
    match f {
        Fault::RefuseConnection(d) => format!("refuse:{}", d.as_millis()),
        Fault::DropBeforeProcessing => "drop-before".into(),
        Fault::DropAfterCommit => "drop-after".into(),
        Fault::Delay(d) => format!("delay:{}", d.as_millis()),
        Fault::Status(s) => format!("status:{s}"),
        Fault::TruncatedBody => "truncate".into(),
        Fault::InvalidJson => "invalid-json".into(),
        Fault::WrongContentLength => "wrong-length".into(),
        Fault::OversizedBody => "oversized".into(),
        Fault::SlowDrip(d) => format!("drip:{}", d.as_millis()),
        Fault::SlowCommit(d) => format!("slow-commit:{}", d.as_millis()),
    }
}

/// A member: user id, name, the bank account (description, balance), refund account set.
type MemberRow = (u64, String, Option<(String, u64)>, bool);

/// What the page and `state.json` show, gathered under the locks at once.
struct Snapshot {
    members: Vec<MemberRow>,
    cards: Vec<(String, String, u64, u64, bool)>,
    rows: Vec<Row>,
    plans: Vec<(u64, String, String)>,
    faults: Vec<(String, String)>,
    refusing: bool,
    log: Vec<Logged>,
    received: usize,
}

fn snapshot(shared: &Shared) -> Snapshot {
    let now = Instant::now();
    let mut l = lock(&shared.ledger);
    l.settle(now);
    let members = l
        .members()
        .map(|m| {
            let acct = m
                .account
                .as_ref()
                .map(|a| (format!("{} {} ({})", a.bank, a.number, a.holder), a.balance));
            (m.user_id, m.name.to_string(), acct, m.refund_account)
        })
        .collect();
    let cards = l
        .cards()
        .map(|c| {
            (
                mask_card(&c.card_no),
                c.par.clone(),
                c.user_id,
                c.balance,
                c.active,
            )
        })
        .collect();
    let rows = rows(&l, now);
    let plans = l
        .plans()
        .iter()
        .map(|p| (p.user_id, p.par.clone(), p.registered.clone()))
        .collect();
    drop(l);
    let faults = lock(&shared.faults)
        .iter()
        .map(|(e, f)| (e.clone(), fault_text(f)))
        .collect();
    let refusing = shared.refusing.load(std::sync::atomic::Ordering::SeqCst);
    let all = lock(&shared.log);
    let received = all.len();
    let log = all.iter().rev().take(30).cloned().collect();
    Snapshot {
        members,
        cards,
        rows,
        plans,
        faults,
        refusing,
        log,
        received,
    }
}

/// The HTML page.
pub(crate) fn render(shared: &Shared, base_url: &str) -> String {
    let s = snapshot(shared);
    let mut h = String::with_capacity(16 * 1024);
    let _ = write!(
        h,
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
<title>KONA PLATE sandbox</title>
<style>
body {{ font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1b1f24; }}
h1 {{ font-size: 1.4em; margin: 0 0 .2em; }} h2 {{ font-size: 1.1em; margin: 1.4em 0 .4em; }}
table {{ border-collapse: collapse; }} th, td {{ padding: .25em .7em; border-bottom: 1px solid #d8dee4; text-align: left; white-space: nowrap; }}
th {{ background: #f3f5f7; }} td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
code {{ font: 13px ui-monospace, monospace; }} .ok {{ color: #1a7f37; }} .bad {{ color: #cf222e; }} .wait {{ color: #9a6700; }}
.muted {{ color: #57606a; }}
</style></head><body>
<h1>KONA PLATE sandbox</h1>
<p class="muted">Test data only. Base URL <code>{}</code> · {} requests received · refreshes every 2 s</p>
"#,
        esc(base_url),
        s.received
    );
    h.push_str("<h2>Members</h2><table><tr><th>userId</th><th>name</th><th>bank account</th><th>account balance (KRW)</th><th>refund account</th></tr>");
    for (id, name, acct, refund) in &s.members {
        let (a, bal) = match acct {
            Some((a, b)) => (esc(a), won(*b)),
            None => ("—".into(), "—".into()),
        };
        let _ = write!(
            h,
            "<tr><td><code>{id}</code></td><td>{}</td><td>{a}</td><td class=n>{bal}</td><td>{}</td></tr>",
            esc(name),
            if *refund { "yes" } else { "no" }
        );
    }
    h.push_str("</table><h2>Cards</h2><table><tr><th>card</th><th>PAR</th><th>member</th><th>balance (KRW)</th><th>status</th></tr>");
    for (card, par, user, bal, active) in &s.cards {
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td><code>{user}</code></td><td class=n>{}</td><td>{}</td></tr>",
            esc(card),
            esc(par),
            won(*bal),
            if *active { "ACTIVE" } else { "INACTIVE" }
        );
    }
    let _ = write!(
        h,
        "</table><h2>Transactions ({})</h2><table><tr><th>sequenceId</th><th>kind</th><th>state</th><th>nrNumber</th><th>member</th><th>card</th><th>amount (KRW)</th><th></th></tr>",
        s.rows.len()
    );
    for r in &s.rows {
        let class = if r.state.starts_with("COMPLETED") {
            "ok"
        } else if r.state.starts_with("FAILED") {
            "bad"
        } else {
            "wait"
        };
        let _ = write!(
            h,
            "<tr><td><code>{}</code></td><td>{}</td><td class={class}>{}</td><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td><td class=n>{}</td><td class=muted>{}</td></tr>",
            esc(&r.sequence_id),
            r.kind,
            esc(&r.state),
            esc(&r.nr_number),
            r.user_id,
            esc(&r.card),
            won(r.amount),
            esc(&r.note)
        );
    }
    h.push_str("</table><h2>Auto-recharge at payment</h2>");
    if s.plans.is_empty() {
        h.push_str("<p class=muted>No plan registered.</p>");
    } else {
        h.push_str("<table><tr><th>member</th><th>PAR</th><th>registered</th></tr>");
        for (user, par, reg) in &s.plans {
            let _ = write!(
                h,
                "<tr><td><code>{user}</code></td><td><code>{}</code></td><td>{}</td></tr>",
                esc(par),
                esc(reg)
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<h2>Faults armed</h2>");
    if s.faults.is_empty() && !s.refusing {
        h.push_str("<p class=muted>None: every request is answered normally.</p>");
    } else {
        h.push_str("<table><tr><th>endpoint</th><th>fault (next request)</th></tr>");
        if s.refusing {
            h.push_str("<tr><td>*</td><td class=bad>refusing connections now</td></tr>");
        }
        for (e, f) in &s.faults {
            let _ = write!(
                h,
                "<tr><td><code>{}</code></td><td><code>{}</code></td></tr>",
                esc(e),
                esc(f)
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<h2>Latest requests</h2><table><tr><th>endpoint</th><th>HTTP</th><th>code</th><th>Correlation-Id</th><th>fault</th></tr>");
    for l in &s.log {
        let status = if l.status == 0 {
            "dropped".to_string()
        } else {
            l.status.to_string()
        };
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{status}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>",
            esc(&l.endpoint),
            esc(&l.code),
            esc(&l.correlation_id),
            l.fault.as_ref().map(fault_text).unwrap_or_default()
        );
    }
    h.push_str("</table></body></html>\n");
    h
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The same as one JSON object.
pub(crate) fn state_json(shared: &Shared) -> String {
    let s = snapshot(shared);
    let mut j = String::from("{\"members\":[");
    for (i, (id, name, acct, refund)) in s.members.iter().enumerate() {
        let _ = write!(
            j,
            "{}{{\"userId\":{id},\"name\":{},\"accountBalance\":{},\"refundAccount\":{refund}}}",
            if i > 0 { "," } else { "" },
            json_str(name),
            acct.as_ref().map_or("null".into(), |(_, b)| b.to_string())
        );
    }
    j.push_str("],\"cards\":[");
    for (i, (card, par, user, bal, active)) in s.cards.iter().enumerate() {
        let _ = write!(
            j,
            "{}{{\"card\":{},\"par\":{},\"userId\":{user},\"balance\":{bal},\"active\":{active}}}",
            if i > 0 { "," } else { "" },
            json_str(card),
            json_str(par)
        );
    }
    j.push_str("],\"transactions\":[");
    for (i, r) in s.rows.iter().enumerate() {
        let _ = write!(
            j,
            "{}{{\"sequenceId\":{},\"kind\":\"{}\",\"state\":{},\"nrNumber\":{},\"userId\":{},\"amount\":{}}}",
            if i > 0 { "," } else { "" },
            json_str(&r.sequence_id),
            r.kind,
            json_str(&r.state),
            json_str(&r.nr_number),
            r.user_id,
            r.amount
        );
    }
    j.push_str("],\"plans\":[");
    for (i, (user, par, reg)) in s.plans.iter().enumerate() {
        let _ = write!(
            j,
            "{}{{\"userId\":{user},\"par\":{},\"registeredDate\":{}}}",
            if i > 0 { "," } else { "" },
            json_str(par),
            json_str(reg)
        );
    }
    j.push_str("],\"faults\":[");
    for (i, (e, f)) in s.faults.iter().enumerate() {
        let _ = write!(
            j,
            "{}{{\"endpoint\":{},\"fault\":{}}}",
            if i > 0 { "," } else { "" },
            json_str(e),
            json_str(f)
        );
    }
    let _ = write!(
        j,
        "],\"refusing\":{},\"requestsReceived\":{}}}",
        s.refusing, s.received
    );
    j
}
