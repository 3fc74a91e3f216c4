//! The journal in PostgreSQL, shared by the replicas of a back office (feature `postgres`).
//!
//! * **Schema.** Created and versioned by the SDK on connect (under an advisory lock, so
//!   replicas starting together do not race): `konaplate_journal_schema` (the version, 1),
//!   `konaplate_journal_entries` (one row per sequenceId: the latest record, its state and
//!   operation, the lease) and `konaplate_journal_history` (every record ever written,
//!   appended in the same transaction as the entry's update: the full history).
//! * **Durability.** Every write is one transaction, committed with `synchronous_commit` on
//!   before `Ok`: written ahead before any byte of the call leaves.
//! * **Leases with fencing tokens.** Driving an entry takes its lease: granted when nobody
//!   holds it or the holder's lease expired, each grant with a token one larger than the
//!   last. Writes and renewals name the token and fail ([`super::fenced`]) once another
//!   process was granted a larger one: a replica paused past its lease (a long GC, SIGSTOP, a
//!   network partition) cannot write over the replica that recovered its call. Lease times
//!   come from the database's clock (`now()`), never a replica's.
//! * **Clocks in step.** An open call's deadline (until when the platform may still accept
//!   it) is written by the replica that made the call and compared by the one that resumes
//!   it: a replica whose clock is more than [`MAX_CLOCK_SKEW_MS`] off the database's is
//!   refused on connect and before each call it would take (nothing sent), never left to end
//!   another's call as "never arrived" early.
//! * **Recovery.** `recover` on any replica lists the open entries and takes the lease of each
//!   whose lease expired; a live one is left alone.
//! * **The wire.** A Unix socket or a loopback address is used as it is. Any other host is
//!   reached over TLS only (rustls, the client's own stack), and the server's certificate is
//!   always verified, chain and name, whatever the URL's `sslmode` says (`require` included:
//!   a journal that trusts any server is one an impostor can fence or feed). The roots are
//!   the webpki roots, or the PEM file of `sslrootcert=`. `sslmode=disable`, `allow` or
//!   `prefer` for a remote host is refused before connecting: they would let the journal's
//!   rows, and the password, cross the network in the clear.

use std::io;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use konaplate_core::field::SequenceId;
use konaplate_core::flow::JournalRecord;
use postgres::config::{Host, SslMode};
use postgres::{Client, Config, NoTls};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::{Journal, Lease, LeaseKind, fenced};

/// How far (ms) a replica's clock may be from the database's: replicas so set stay within
/// twice this of each other, well inside the flow's commit grace.
pub const MAX_CLOCK_SKEW_MS: i64 = 5_000;

/// How far the database's clock `db` read between this machine's `before` and `after` is
/// outside that window by more than `max` (ms; negative: this machine is ahead).
fn clock_skew(before: i64, db: i64, after: i64, max: i64) -> Option<i64> {
    if db < before.saturating_sub(max) {
        Some(db - before)
    } else if db > after.saturating_add(max) {
        Some(db - after)
    } else {
        None
    }
}

/// The schema version this code writes and reads.
const SCHEMA_VERSION: i32 = 1;
/// `pg_advisory_xact_lock` key for schema changes: "KPJ1" as an integer.
const SCHEMA_LOCK: i64 = 0x4B50_4A31;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS konaplate_journal_schema (
    version integer NOT NULL
);
CREATE TABLE IF NOT EXISTS konaplate_journal_entries (
    sequence_id text PRIMARY KEY,
    record      bytea,
    state       text,
    operation   text,
    first_seen  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz,
    lease_token bigint NOT NULL DEFAULT 0,
    lease_owner text,
    lease_until timestamptz
);
CREATE TABLE IF NOT EXISTS konaplate_journal_history (
    id          bigserial PRIMARY KEY,
    sequence_id text NOT NULL,
    record      bytea NOT NULL,
    state       text NOT NULL,
    lease_token bigint NOT NULL,
    written_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS konaplate_journal_history_seq
    ON konaplate_journal_history (sequence_id, id);
";

/// A journal in a PostgreSQL database.
pub struct PgJournal {
    client: Client,
    /// To connect again after the connection dropped (a database restart, a failover).
    config: Config,
    wire: Wire,
    location: String,
    lease_millis: i64,
    owner: String,
    warnings: Vec<String>,
}

impl std::fmt::Debug for PgJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgJournal")
            .field("location", &self.location)
            .field("lease_millis", &self.lease_millis)
            .field("owner", &self.owner)
            .finish_non_exhaustive()
    }
}

/// What protects the connection to the database.
#[derive(Clone)]
enum Wire {
    /// A Unix socket or loopback, without TLS (as the URL asked).
    Local,
    /// TLS, the server's chain and name verified against these roots.
    Tls(Arc<rustls::ClientConfig>),
}

impl Wire {
    fn connect(&self, config: &Config) -> Result<Client, postgres::Error> {
        match self {
            Wire::Local => config.connect(NoTls),
            Wire::Tls(tls) => {
                config.connect(MakeRustlsConnect::new(rustls::ClientConfig::clone(tls)))
            }
        }
    }
}

/// The URL without its `sslmode` and `sslrootcert` parameters (libpq's, which the driver does
/// not read), and their values.
fn take_ssl_params(url: &str) -> (String, Option<String>, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), None, None);
    };
    // the query starts at the first '?' after the user information (a password may hold one)
    let after_at = rest.rfind('@').map_or(0, |i| i + 1);
    let Some(q) = rest.get(after_at..).and_then(|r| r.find('?')) else {
        return (url.to_string(), None, None);
    };
    let (head, query) = rest.split_at(after_at + q);
    let (mut mode, mut root) = (None, None);
    let kept: Vec<&str> = query
        .trim_start_matches('?')
        .split('&')
        .filter(|kv| match kv.split_once('=') {
            Some(("sslmode", v)) => {
                mode = Some(percent_decode(v));
                false
            }
            Some(("sslrootcert", v)) => {
                root = Some(percent_decode(v));
                false
            }
            _ => !kv.is_empty(),
        })
        .collect();
    let query = if kept.is_empty() {
        String::new()
    } else {
        format!("?{}", kept.join("&"))
    };
    (format!("{scheme}://{head}{query}"), mode, root)
}

/// `%XX` escapes of a URL parameter's value, decoded (an invalid one is kept as it is).
fn percent_decode(v: &str) -> String {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (c, hex) {
            (b'%', Some(x)) => {
                out.push(x);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first host (or host address) of `config` that is neither a Unix socket nor loopback.
/// `localhost` counts as local only while every address it resolves to is loopback (a
/// resolver that sends it elsewhere makes it remote: TLS).
fn remote_host(config: &Config) -> Option<String> {
    let addr = config
        .get_hostaddrs()
        .iter()
        .find(|a| !a.is_loopback())
        .map(|a| a.to_string());
    addr.or_else(|| {
        config.get_hosts().iter().find_map(|h| match h {
            Host::Tcp(name)
                if name
                    .parse()
                    .is_ok_and(|ip: std::net::IpAddr| ip.is_loopback()) =>
            {
                None
            }
            Host::Tcp(name) if name == "localhost" => {
                use std::net::ToSocketAddrs;
                let local = (name.as_str(), 0)
                    .to_socket_addrs()
                    .is_ok_and(|mut addrs| addrs.all(|a| a.ip().is_loopback()));
                (!local).then(|| name.clone())
            }
            Host::Tcp(name) => Some(name.clone()),
            #[cfg(unix)]
            Host::Unix(_) => None,
        })
    })
}

/// Whether `config` reaches its server through Unix sockets only (libpq ignores `sslmode`
/// there: no TLS on a socket).
fn sockets_only(config: &Config) -> bool {
    config.get_hostaddrs().is_empty()
        && config
            .get_hosts()
            .iter()
            .all(|h| !matches!(h, Host::Tcp(_)))
}

/// The database of `config` for messages, as a URL: user, hosts, ports and database, never a
/// password (`postgresql://kp@db:5432/ledger`, `postgresql://kp@/ledger?host=/dir&port=5432`).
fn describe(config: &Config) -> String {
    let ports = config.get_ports();
    let (mut tcp, mut sockets) = (Vec::new(), Vec::new());
    for (i, h) in config.get_hosts().iter().enumerate() {
        let port = ports.get(i).or(ports.first());
        match (h, port) {
            (Host::Tcp(name), Some(p)) => tcp.push(format!("{name}:{p}")),
            (Host::Tcp(name), None) => tcp.push(name.clone()),
            #[cfg(unix)]
            (Host::Unix(dir), _) => sockets.push(dir.display().to_string()),
        }
    }
    let mut query = Vec::new();
    if !sockets.is_empty() {
        query.push(format!("host={}", sockets.join(",")));
        if let (true, Some(p)) = (tcp.is_empty(), ports.first()) {
            query.push(format!("port={p}"));
        }
    }
    format!(
        "postgresql://{}@{}/{}{}{}",
        config.get_user().unwrap_or(""),
        tcp.join(","),
        config.get_dbname().unwrap_or(""),
        if query.is_empty() { "" } else { "?" },
        query.join("&")
    )
}

/// How to reach the database of `config`, from the URL's `sslmode` and `sslrootcert`.
fn wire(
    location: &str,
    config: &mut Config,
    mode: Option<&str>,
    root: Option<&str>,
) -> io::Result<Wire> {
    let refuse = |kind, msg: String| io::Error::new(kind, format!("journal {location}: {msg}"));
    if sockets_only(config) {
        config.ssl_mode(SslMode::Disable);
        return Ok(Wire::Local);
    }
    let tls = match (mode, remote_host(config)) {
        (Some("require" | "verify-ca" | "verify-full"), _) | (None, Some(_)) => true,
        (Some(m @ ("disable" | "allow" | "prefer")), Some(host)) => {
            return Err(refuse(
                io::ErrorKind::Unsupported,
                format!(
                    "sslmode={m} for {host}, which is not local, would let the journal's rows and the password cross the network in the clear; a remote database is reached over verified TLS only (remove sslmode, or use verify-full)"
                ),
            ));
        }
        (Some("disable" | "allow" | "prefer") | None, None) => false,
        (Some(m), _) => {
            return Err(refuse(
                io::ErrorKind::InvalidInput,
                format!(
                    "sslmode={m}: expected disable, allow, prefer, require, verify-ca or verify-full"
                ),
            ));
        }
    };
    if !tls {
        config.ssl_mode(SslMode::Disable);
        return Ok(Wire::Local);
    }
    let roots = match root {
        None | Some("system") => None,
        Some(path) => {
            let pem = std::fs::read_to_string(path).map_err(|e| {
                refuse(
                    io::ErrorKind::InvalidInput,
                    format!("sslrootcert {path}: {e}"),
                )
            })?;
            Some(crate::tls::certificates_from_pem(&pem).map_err(|e| {
                refuse(
                    io::ErrorKind::InvalidInput,
                    format!("sslrootcert {path}: {e}"),
                )
            })?)
        }
    };
    let cfg = crate::tls::verifying_config(roots.as_deref())
        .map_err(|e| refuse(io::ErrorKind::InvalidInput, format!("TLS: {e}")))?;
    // never fall back to the clear when the server declines TLS
    config.ssl_mode(SslMode::Require);
    Ok(Wire::Tls(Arc::new(cfg)))
}

fn db(e: postgres::Error) -> io::Error {
    // a lost connection is an I/O failure like a full disk: the caller stops before sending.
    // The driver's own text is terse ("db error"): the server's message, or the cause, says
    // what went wrong
    let detail = match (e.as_db_error(), std::error::Error::source(&e)) {
        (Some(d), _) => format!(": {} {}", d.severity(), d.message()),
        (None, Some(cause)) => format!(": {cause}"),
        (None, None) => String::new(),
    };
    io::Error::other(format!("journal database: {e}{detail}"))
}

/// Who holds a lease, for operators reading the table: host and process.
fn owner() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".to_string());
    format!("{host}:{}", std::process::id())
}

fn unreadable(seq: &str, e: konaplate_core::flow::RecordError) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "journal database: the record of sequenceId {seq} cannot be read ({e:?}; a newer konaplate's, or damaged); refusing to continue it or write over it"
        ),
    )
}

fn decode(seq: &str, bytes: &[u8], warnings: &mut Vec<String>) -> Option<JournalRecord> {
    match JournalRecord::decode(bytes) {
        Ok(r) => Some(r),
        Err(e) => {
            warnings.push(format!(
                "journal database: the record of sequenceId {seq} cannot be read ({e:?}); it is left as it is"
            ));
            None
        }
    }
}

impl PgJournal {
    /// Connects to the database at `url` (libpq's URL form: `postgresql://user@host/db`, or
    /// `postgresql:///db?host=/run/postgresql` for a Unix socket), creating the schema when it
    /// is missing. `lease` is how long an entry stays this process's without a renewal.
    ///
    /// A Unix socket or loopback is used as it is; any other host only over TLS that verifies
    /// the server (chain and name, against the webpki roots or `sslrootcert=FILE`), whatever
    /// `sslmode` says; `sslmode=disable|allow|prefer` for a remote host is refused before
    /// connecting.
    pub fn connect(url: &str, lease: Duration) -> io::Result<Self> {
        let url = url.trim();
        // the driver ends the user information at the first '@', a reader at the last: a
        // password's '@' must be percent-encoded, or part of it would be taken for the host
        // (and shown in messages)
        if url.matches('@').count() > 1 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "journal: the PostgreSQL URL holds more than one '@': percent-encode an '@' in the password (or anywhere else) as %40",
            ));
        }
        let (url, mode, root) = take_ssl_params(url);
        let mut config = Config::from_str(&url).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("journal: not a PostgreSQL URL: {e}"),
            )
        })?;
        let location = describe(&config);
        let wire = wire(&location, &mut config, mode.as_deref(), root.as_deref())?;
        let client = wire.connect(&config).map_err(db)?;
        let config_again = config.clone();
        let lease_millis = i64::try_from(lease.as_millis()).unwrap_or(i64::MAX).max(1);
        let mut j = PgJournal {
            client,
            config: config_again,
            wire,
            location,
            lease_millis,
            owner: owner(),
            warnings: Vec::new(),
        };
        j.client
            .batch_execute("SET synchronous_commit TO on")
            .map_err(db)?;
        j.migrate()?;
        j.check_clock()?;
        Ok(j)
    }

    /// Refuses a machine whose clock is more than [`MAX_CLOCK_SKEW_MS`] off the database's.
    fn check_clock(&mut self) -> io::Result<()> {
        let before = crate::clock::unix_millis() as i64;
        let row = self
            .conn()?
            .query_one(
                "SELECT (extract(epoch FROM pg_catalog.clock_timestamp()) * 1000)::bigint",
                &[],
            )
            .map_err(db)?;
        let after = crate::clock::unix_millis() as i64;
        match clock_skew(before, row.get(0), after, MAX_CLOCK_SKEW_MS) {
            None => Ok(()),
            Some(d) => Err(io::Error::other(format!(
                "journal database: this machine's clock is {:.1} s {} the database's (at most {} s allowed): replicas compare an open call's deadline across machines, so keep their clocks in step (NTP); nothing was sent",
                d.unsigned_abs() as f64 / 1000.0,
                if d > 0 { "behind" } else { "ahead of" },
                MAX_CLOCK_SKEW_MS / 1000
            ))),
        }
    }

    /// The connection, made again when it dropped. A write that failed with the old one is
    /// not retried here: its caller stops (the write may or may not have committed, and the
    /// entry's next reader decides from what is there).
    fn conn(&mut self) -> io::Result<&mut Client> {
        if self.client.is_closed() {
            let mut client = self.wire.connect(&self.config).map_err(db)?;
            client
                .batch_execute("SET synchronous_commit TO on")
                .map_err(db)?;
            self.client = client;
        }
        Ok(&mut self.client)
    }

    /// Creates the schema, or checks the one there.
    fn migrate(&mut self) -> io::Result<()> {
        let mut tx = self.client.transaction().map_err(db)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
            .map_err(db)?;
        tx.batch_execute(SCHEMA).map_err(db)?;
        let version: Option<i32> = tx
            .query_opt("SELECT max(version) FROM konaplate_journal_schema", &[])
            .map_err(db)?
            .and_then(|row| row.get(0));
        match version {
            None => {
                tx.execute(
                    "INSERT INTO konaplate_journal_schema (version) VALUES ($1)",
                    &[&SCHEMA_VERSION],
                )
                .map_err(db)?;
            }
            Some(v) if v == SCHEMA_VERSION => {}
            Some(v) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "journal {}: schema version {v}, this version of konaplate reads {SCHEMA_VERSION}; refusing to touch it",
                        self.location
                    ),
                ));
            }
        }
        tx.commit().map_err(db)
    }

    /// The lease duration, in milliseconds.
    pub fn lease_millis(&self) -> i64 {
        self.lease_millis
    }

    /// The records of `sql`'s rows (sequenceId, record bytes); one that cannot be decoded is
    /// reported in the warnings and left out.
    fn read_records(&mut self, sql: &str) -> io::Result<Vec<JournalRecord>> {
        let rows = self.conn()?.query(sql, &[]).map_err(db)?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let seq: String = row.get(0);
            let bytes: Vec<u8> = row.get(1);
            out.extend(decode(&seq, &bytes, &mut self.warnings));
        }
        Ok(out)
    }

    /// Entries with a record, and history rows.
    pub fn counts(&mut self) -> io::Result<(i64, i64)> {
        let row = self
            .conn()?
            .query_one(
                "SELECT (SELECT count(*) FROM konaplate_journal_entries WHERE record IS NOT NULL), \
                        (SELECT count(*) FROM konaplate_journal_history)",
                &[],
            )
            .map_err(db)?;
        Ok((row.get(0), row.get(1)))
    }
}

impl Journal for PgJournal {
    fn location(&self) -> String {
        self.location.clone()
    }

    fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    fn latest_of(&mut self, sequence_id: &SequenceId) -> io::Result<Option<JournalRecord>> {
        let row = self
            .conn()?
            .query_opt(
                "SELECT record FROM konaplate_journal_entries WHERE sequence_id = $1 AND record IS NOT NULL",
                &[&sequence_id.as_str()],
            )
            .map_err(db)?;
        match row {
            None => Ok(None),
            Some(row) => {
                let bytes: Vec<u8> = row.get(0);
                // never "not there": an entry this process cannot read may be a completed
                // charge (a newer replica's format, damage), and a new send under its
                // sequenceId would turn the platform's refusal into a wrong final answer
                JournalRecord::decode(&bytes)
                    .map(Some)
                    .map_err(|e| unreadable(sequence_id.as_str(), e))
            }
        }
    }

    fn latest(&mut self) -> io::Result<Vec<JournalRecord>> {
        self.read_records(
            "SELECT sequence_id, record FROM konaplate_journal_entries WHERE record IS NOT NULL ORDER BY first_seen, sequence_id",
        )
    }

    fn records(&mut self) -> io::Result<Vec<JournalRecord>> {
        self.read_records("SELECT sequence_id, record FROM konaplate_journal_history ORDER BY id")
    }

    fn append(&mut self, record: &JournalRecord, lease: Option<&Lease>) -> io::Result<()> {
        let seq = record.sequence_id;
        let token = lease.map(Lease::token);
        let lease_millis = self.lease_millis;
        let mut tx = self.conn()?.transaction().map_err(db)?;
        // the entry's row, locked until the commit: writers of one entry take turns
        let row = tx
            .query_opt(
                "SELECT record, lease_token, lease_until IS NOT NULL AND lease_until > now() \
                 FROM konaplate_journal_entries WHERE sequence_id = $1 FOR UPDATE",
                &[&seq.as_str()],
            )
            .map_err(db)?;
        let mut current_token = 0i64;
        if let Some(row) = &row {
            let previous: Option<Vec<u8>> = row.get(0);
            current_token = row.get(1);
            let live: bool = row.get(2);
            match token {
                Some(t) if t != current_token => return Err(fenced(&seq, t)),
                None if live => {
                    return Err(io::Error::new(
                        io::ErrorKind::WouldBlock,
                        format!(
                            "journal: sequenceId {seq} is being driven by another process right now; nothing was written"
                        ),
                    ));
                }
                _ => {}
            }
            let prev = match previous.as_deref() {
                None => None,
                Some(b) => Some(JournalRecord::decode(b).map_err(|e| unreadable(seq.as_str(), e))?),
            };
            if let Some(prev) = prev
                && !record.may_follow(&prev)
            {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "journal: sequenceId {} is recorded as {:?} ({:?}); refusing to record {:?} {:?} over it",
                        seq, prev.state, prev.op, record.state, record.op
                    ),
                ));
            }
        } else if let Some(t) = token {
            // a lease is granted with a row: none means the row is not ours
            return Err(fenced(&seq, t));
        }
        let bytes = record.encode().to_vec();
        let state = format!("{:?}", record.state);
        let op = format!("{:?}", record.op);
        if row.is_some() {
            // a write without a lease (an operator's) takes the entry from whoever held it:
            // its token moves on, so a replica whose lease ran out unnoticed is fenced
            tx.execute(
                "UPDATE konaplate_journal_entries SET record = $2, state = $3, operation = $4, updated_at = now(), \
                 lease_until = CASE WHEN $5::boolean THEN now() + $6::bigint * interval '1 millisecond' ELSE lease_until END, \
                 lease_token = CASE WHEN $5::boolean THEN lease_token ELSE lease_token + 1 END \
                 WHERE sequence_id = $1",
                &[&seq.as_str(), &bytes, &state, &op, &token.is_some(), &lease_millis],
            )
            .map_err(db)?;
        } else {
            tx.execute(
                "INSERT INTO konaplate_journal_entries (sequence_id, record, state, operation, updated_at) \
                 VALUES ($1, $2, $3, $4, now())",
                &[&seq.as_str(), &bytes, &state, &op],
            )
            .map_err(db)?;
        }
        tx.execute(
            "INSERT INTO konaplate_journal_history (sequence_id, record, state, lease_token) VALUES ($1, $2, $3, $4)",
            &[&seq.as_str(), &bytes, &state, &current_token],
        )
        .map_err(db)?;
        tx.commit().map_err(db)
    }

    fn try_lease(&mut self, sequence_id: &SequenceId) -> io::Result<Option<Lease>> {
        // a clock that drifted since connect is refused before the call is taken
        self.check_clock()?;
        let (owner, lease_millis) = (self.owner.clone(), self.lease_millis);
        let row = self
            .conn()?
            .query_opt(
                "INSERT INTO konaplate_journal_entries AS e (sequence_id, lease_token, lease_owner, lease_until) \
                 VALUES ($1, 1, $2, now() + $3::bigint * interval '1 millisecond') \
                 ON CONFLICT (sequence_id) DO UPDATE SET lease_token = e.lease_token + 1, \
                   lease_owner = EXCLUDED.lease_owner, lease_until = EXCLUDED.lease_until \
                 WHERE e.lease_until IS NULL OR e.lease_until <= now() \
                 RETURNING lease_token",
                &[&sequence_id.as_str(), &owner, &lease_millis],
            )
            .map_err(db)?;
        Ok(row.map(|row| Lease {
            sequence_id: *sequence_id,
            kind: LeaseKind::Token(row.get(0)),
        }))
    }

    fn renew(&mut self, lease: &Lease) -> io::Result<()> {
        let lease_millis = self.lease_millis;
        let n = self
            .conn()?
            .execute(
                "UPDATE konaplate_journal_entries SET lease_until = now() + $3::bigint * interval '1 millisecond' \
                 WHERE sequence_id = $1 AND lease_token = $2",
                &[&lease.sequence_id.as_str(), &lease.token(), &lease_millis],
            )
            .map_err(db)?;
        if n == 0 {
            return Err(fenced(&lease.sequence_id, lease.token()));
        }
        Ok(())
    }

    fn release(&mut self, lease: Lease) -> io::Result<()> {
        self.conn()?
            .execute(
                "UPDATE konaplate_journal_entries SET lease_until = NULL, lease_owner = NULL \
                 WHERE sequence_id = $1 AND lease_token = $2",
                &[&lease.sequence_id.as_str(), &lease.token()],
            )
            .map_err(db)?;
        Ok(())
    }

    fn is_driven_elsewhere(&mut self, sequence_id: &SequenceId) -> io::Result<bool> {
        let row = self
            .conn()?
            .query_opt(
                "SELECT lease_until IS NOT NULL AND lease_until > now() FROM konaplate_journal_entries WHERE sequence_id = $1",
                &[&sequence_id.as_str()],
            )
            .map_err(db)?;
        Ok(row.is_some_and(|row| row.get(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::{Config, clock_skew, describe, remote_host, sockets_only, take_ssl_params};

    #[test]
    fn a_clock_off_the_databases_by_more_than_the_limit_is_named() {
        // the database's reading falls between this machine's two, give or take the limit
        assert_eq!(clock_skew(10_000, 10_050, 10_100, 5_000), None);
        assert_eq!(clock_skew(10_000, 5_000, 10_100, 5_000), None);
        assert_eq!(clock_skew(10_000, 15_100, 10_100, 5_000), None);
        // this machine behind (the database ahead), and ahead
        assert_eq!(clock_skew(10_000, 15_101, 10_100, 5_000), Some(5_001));
        assert_eq!(clock_skew(10_000, 4_999, 10_100, 5_000), Some(-5_001));
        assert_eq!(clock_skew(0, i64::MAX, 0, i64::MAX), None);
    }

    #[test]
    fn libpq_ssl_parameters_are_taken_out_of_the_url() {
        for (url, rest, mode, root) in [
            (
                "postgresql://kp@db/l?sslmode=verify-full&sslrootcert=/etc/ca%20roots.pem&application_name=a",
                "postgresql://kp@db/l?application_name=a",
                Some("verify-full"),
                Some("/etc/ca roots.pem"),
            ),
            (
                "postgresql://kp@db/l?sslrootcert=system",
                "postgresql://kp@db/l",
                None,
                Some("system"),
            ),
            ("postgresql://kp@db/l", "postgresql://kp@db/l", None, None),
            // a '?' in the password is not the query
            (
                "postgresql://kp:a?b@db/l?sslmode=require",
                "postgresql://kp:a?b@db/l",
                Some("require"),
                None,
            ),
            (
                "postgres://kp@/l?host=/run/pg&sslmode=disable&port=5433",
                "postgres://kp@/l?host=/run/pg&port=5433",
                Some("disable"),
                None,
            ),
        ] {
            let (r, m, c) = take_ssl_params(url);
            assert_eq!(
                (r.as_str(), m.as_deref(), c.as_deref()),
                (rest, mode, root),
                "{url}"
            );
        }
    }

    #[test]
    fn passwords_never_reach_a_message() {
        for (url, shown) in [
            (
                "postgresql://kp:s3cret@localhost/ledger",
                "postgresql://kp@localhost:5432/ledger",
            ),
            (
                "postgres://kp@/ledger?host=/run/pg",
                "postgresql://kp@/ledger?host=/run/pg",
            ),
            (
                "postgresql://kp@db1:5433,db2/ledger?password=s3cret&sslmode=disable",
                "postgresql://kp@db1:5433,db2:5432/ledger",
            ),
            (
                "postgresql://kp:s3%40cret@db.example/ledger?p%61ssword=s3cret",
                "postgresql://kp@db.example:5432/ledger",
            ),
        ] {
            let (rest, _, _) = take_ssl_params(url);
            let config: Config = rest.parse().unwrap();
            assert_eq!(describe(&config), shown, "{url}");
        }
    }

    #[test]
    fn a_second_at_sign_is_refused_without_echoing_the_url() {
        let e = super::PgJournal::connect(
            "postgresql://kp:p@ssw0rd@db.example.com/l?sslmode=disable",
            std::time::Duration::from_secs(30),
        )
        .unwrap_err();
        assert!(e.to_string().contains("%40"), "{e}");
        assert!(!e.to_string().contains("ssw0rd"), "{e}");
    }

    #[test]
    fn sockets_ignore_sslmode_and_loopback_names_stay_local() {
        let config = |u: &str| -> Config { u.parse().unwrap() };
        assert!(sockets_only(&config("postgresql://kp@/l?host=/run/pg")));
        assert!(!sockets_only(&config("postgresql://kp@localhost/l")));
        assert!(!sockets_only(&config(
            "postgresql://kp@/l?host=/run/pg&hostaddr=10.0.0.1"
        )));
        for local in ["127.0.0.1", "[::1]", "localhost", "127.0.0.2"] {
            let c = config(&format!("postgresql://kp@{local}/l"));
            assert_eq!(remote_host(&c), None, "{local}");
        }
        for remote in ["db.example.com", "10.0.0.1", "localhost.example.com"] {
            let c = config(&format!("postgresql://kp@{remote}/l"));
            assert_eq!(remote_host(&c).as_deref(), Some(remote), "{remote}");
        }
        let c = config("postgresql://kp@localhost/l?hostaddr=203.0.113.5");
        assert_eq!(remote_host(&c).as_deref(), Some("203.0.113.5"));
    }
}
