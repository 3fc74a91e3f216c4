//! Figures (information, not a gate): journaled charges per second against the in-process
//! sandbox with 1, 4 and 16 replicas (each a thread with its own journal handle and, for
//! PostgreSQL, its own connection), on the file journal and on PostgreSQL; and the cost of one
//! journal write against its floor measured in the same run — one `fsync` of a 512-byte append
//! for the file, one single-row committed transaction for the database.
//!
//! ```sh
//! cargo run --release -p konaplate-cli --example journal_figures            # the file journal
//! scripts/pg run -- cargo run --release -p konaplate-cli --example journal_figures  # and PostgreSQL
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a measuring tool: a failure is a failed run"
)]

use std::io::Write;
use std::time::{Duration, Instant};

use konaplate::Client;
use konaplate::core::api::{ChargeRequest, TokenRequest, TokenResponse};
use konaplate::core::field::*;
use konaplate::core::flow::{Flow, JournalRecord, Policy};
use konaplate::journal::{FileJournal, Journal, PgJournal};
use konaplate::money;
use konaplate_sandbox::seed::{self, HAPPY, HAPPY_CARD, MERCHANT};
use konaplate_sandbox::{Sandbox, SandboxConfig};

const CHARGES_PER_REPLICA: usize = 12;
const WRITES: usize = 200;

fn client(sb: &Sandbox) -> Client {
    Client::new(sb.client_config()).unwrap()
}

fn token(c: &Client) -> TokenResponse {
    let req = TokenRequest {
        card_no: CardNo::new(&seed::card_no(HAPPY_CARD)).unwrap(),
        token_type: None,
    };
    c.send(&req).unwrap().reply.into_result().unwrap()
}

fn charge(seq: &str, t: TokenResponse) -> ChargeRequest {
    ChargeRequest {
        sequence_id: SequenceId::new(seq).unwrap(),
        user_id: UserId::new(HAPPY).unwrap(),
        amount: ChargeAmount::new(10).unwrap(),
        one_time_token: t.one_time_token,
        dcvv: t.dcvv,
        merchant_id: MerchantId::new(MERCHANT).unwrap(),
    }
}

/// A new database on the test cluster (`None` without one).
fn database(name: &str) -> Option<String> {
    let base = std::env::var("KONAPLATE_TEST_PG").ok()?;
    let db = format!("kp_figures_{name}_{}", std::process::id());
    let mut admin = postgres::Client::connect(&base, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .unwrap();
    Some(base.replacen("/postgres?", &format!("/{db}?"), 1))
}

/// Charges per second with `replicas` threads, each opening its journal with `open`.
fn throughput(sb: &Sandbox, replicas: usize, open: &(dyn Fn() -> Box<dyn Journal> + Sync)) -> f64 {
    // tokens first: only the journaled charges are timed
    let c = client(sb);
    let tokens: Vec<Vec<TokenResponse>> = (0..replicas)
        .map(|_| (0..CHARGES_PER_REPLICA).map(|_| token(&c)).collect())
        .collect();
    let run = std::process::id();
    let start = Instant::now();
    std::thread::scope(|s| {
        for (r, tokens) in tokens.into_iter().enumerate() {
            s.spawn(move || {
                let c = client(sb);
                let mut j = open();
                for (i, t) in tokens.into_iter().enumerate() {
                    let req = charge(&format!("F{run}-{replicas}-{r}-{i}"), t);
                    let report =
                        money::run(&c, &mut *j, &req, Policy::default(), &mut |_| {}).unwrap();
                    assert!(report.outcome.is_final(), "{:?}", report.outcome);
                }
            });
        }
    });
    (replicas * CHARGES_PER_REPLICA) as f64 / start.elapsed().as_secs_f64()
}

fn record(i: usize) -> JournalRecord {
    let t = TokenResponse {
        one_time_token: OneTimeToken::new("1234567890123456").unwrap(),
        dcvv: Dcvv::new("123").unwrap(),
        expiry_time: None,
    };
    let mut f = Flow::start(charge(&format!("W{i}"), t), Policy::default(), 1);
    f.poll(1);
    f.record()
}

fn per_op(n: usize, mut f: impl FnMut(usize)) -> Duration {
    let start = Instant::now();
    for i in 0..n {
        f(i);
    }
    start.elapsed() / n as u32
}

fn main() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file_path = dir.path().join("figures.kpj");
    let pg = database("throughput");
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "| replicas | file journal (charges/s) | PostgreSQL (charges/s) |"
    )
    .unwrap();
    writeln!(out, "|---|---|---|").unwrap();
    for replicas in [1, 4, 16] {
        let path = file_path.clone();
        let file = throughput(&sb, replicas, &move || {
            Box::new(FileJournal::open(&path).unwrap()) as Box<dyn Journal>
        });
        let db = pg.as_ref().map(|url| {
            let url = url.clone();
            throughput(&sb, replicas, &move || {
                Box::new(PgJournal::connect(&url, Duration::from_secs(60)).unwrap())
                    as Box<dyn Journal>
            })
        });
        writeln!(
            out,
            "| {replicas} | {file:.1} | {} |",
            db.map_or("(no PostgreSQL)".to_string(), |d| format!("{d:.1}"))
        )
        .unwrap();
    }

    // one write against its floor
    let floor_file = {
        let path = dir.path().join("floor.bin");
        let mut f = std::fs::File::create(&path).unwrap();
        per_op(WRITES, |_| {
            f.write_all(&[0u8; JournalRecord::LEN]).unwrap();
            f.sync_data().unwrap();
        })
    };
    let write_file = {
        let mut j = FileJournal::open(dir.path().join("writes.kpj")).unwrap();
        per_op(WRITES, |i| j.append(&record(i)).unwrap())
    };
    writeln!(out).unwrap();
    writeln!(out, "| one write | floor | journal | ratio |").unwrap();
    writeln!(out, "|---|---|---|---|").unwrap();
    writeln!(
        out,
        "| file: append + fsync | {:?} | {:?} | {:.2} |",
        floor_file,
        write_file,
        write_file.as_secs_f64() / floor_file.as_secs_f64()
    )
    .unwrap();
    if let Some(url) = database("writes") {
        let floor_db = {
            let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
            c.batch_execute("CREATE TABLE floor (id integer, b bytea)")
                .unwrap();
            let bytes = vec![0u8; JournalRecord::LEN];
            per_op(WRITES, |i| {
                let i = i as i32;
                c.execute("INSERT INTO floor VALUES ($1, $2)", &[&i, &bytes])
                    .unwrap();
            })
        };
        let write_db = {
            let mut j = PgJournal::connect(&url, Duration::from_secs(60)).unwrap();
            per_op(WRITES, |i| {
                let r = record(i);
                let lease = j.try_lease(&r.sequence_id).unwrap().unwrap();
                j.append(&r, Some(&lease)).unwrap();
                j.release(lease).unwrap();
            })
        };
        writeln!(
            out,
            "| PostgreSQL: one committed insert / lease + write + release | {:?} | {:?} | {:.2} |",
            floor_db,
            write_db,
            write_db.as_secs_f64() / floor_db.as_secs_f64()
        )
        .unwrap();
    }
}
