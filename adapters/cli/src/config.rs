//! The client, the journal and the polling policy from the global options.

use std::time::Duration;

use konaplate::core::field::*;
use konaplate::core::flow::Policy;
use konaplate::core::pin::Pin;
use konaplate::journal::{self, Journal, default_path};
use konaplate::keys::pem_text_or_file;
use konaplate::tls::certificates_from_pem;
use konaplate::{Client, ClientConfig, ClientPrivateKey, ServerPublicKey};

use crate::args::Cli;
use crate::output::{Done, exit, field, required};

/// The client from the global options.
pub fn client(cli: &Cli) -> Result<Client, Done> {
    let asp = field(AspId::new(required(
        &cli.asp_id,
        "--asp-id",
        "KONAPLATE_ASP_ID",
    )?))?;
    let access = field(AccessKey::new(required(
        &cli.access_key,
        "--access-key",
        "KONAPLATE_ACCESS_KEY",
    )?))?;
    let secret = field(SecretKey::new(required(
        &cli.secret_key,
        "--secret-key",
        "KONAPLATE_SECRET_KEY",
    )?))?;
    let mut cfg = ClientConfig::new(asp, access, secret);
    if let Some(u) = &cli.base_url {
        cfg.base_url = u.clone();
    }
    cfg.time_zone = field(TimeZone::new(&cli.time_zone))?;
    if let Some(k) = &cli.crypto_key_id {
        cfg.crypto_key_id = Some(field(CryptoKeyId::new(k))?);
    }
    let input = |e: String| Done::fail(exit::INPUT, e);
    // errors name the option, never the value (it may be key material)
    if let Some(k) = &cli.server_public_key {
        let opt = "--server-public-key (KONAPLATE_SERVER_PUBLIC_KEY)";
        let pem = pem_text_or_file(opt, k).map_err(input)?;
        cfg.server_public_key =
            Some(ServerPublicKey::from_pem(&pem).map_err(|e| input(format!("{opt}: {e}")))?);
    }
    if let Some(k) = &cli.client_private_key {
        let opt = "--client-private-key (KONAPLATE_CLIENT_PRIVATE_KEY)";
        let pem = pem_text_or_file(opt, k).map_err(input)?;
        cfg.client_private_key =
            Some(ClientPrivateKey::from_pem(&pem).map_err(|e| input(format!("{opt}: {e}")))?);
    }
    for p in &cli.pin_sha256 {
        let pin = Pin::parse(p).map_err(|e| input(format!("--pin-sha256 {p:?}: {e}")))?;
        cfg.pins.push(pin);
    }
    for path in &cli.ca_cert {
        let pem =
            std::fs::read_to_string(path).map_err(|e| input(format!("--ca-cert {path}: {e}")))?;
        let certs =
            certificates_from_pem(&pem).map_err(|e| input(format!("--ca-cert {path}: {e}")))?;
        cfg.extra_roots.extend(certs);
    }
    if let Some(t) = cli.timeout {
        let t = seconds(t, "--timeout")?;
        cfg.connect_timeout = Duration::from_millis(t);
        cfg.read_timeout = Duration::from_millis(t);
    }
    Client::new(cfg).map_err(|e| Done::fail(exit::INPUT, e.to_string()))
}

/// Seconds of an option as milliseconds; a value too large to count is refused (exit 2).
pub fn seconds(v: u64, option: &str) -> Result<u64, Done> {
    // a century is more than any wait this tool is asked for
    const MAX: u64 = 100 * 365 * 24 * 3600;
    if v > MAX {
        return Err(Done::fail(
            exit::INPUT,
            format!("{option} {v}: at most {MAX} seconds; nothing was sent"),
        ));
    }
    Ok(v * 1000)
}

/// The polling policy of money-moving commands.
pub fn policy(cli: &Cli) -> Result<Policy, Done> {
    let poll = seconds(cli.poll_interval, "--poll-interval")?.max(1000);
    Ok(Policy {
        poll_interval_ms: poll,
        deadline_ms: seconds(cli.max_wait, "--max-wait")?,
        retry_ms: poll.min(2_000),
        token_ttl_ms: seconds(cli.token_ttl, "--token-ttl")?,
        commit_grace_ms: seconds(cli.commit_grace, "--commit-grace")?,
        ..Policy::default()
    })
}

/// The journal (`None` with `--no-journal`): a file, or a PostgreSQL database for a
/// `postgres://` / `postgresql://` URL; what opening it found wrong goes to stderr.
pub fn journal(cli: &Cli) -> Result<Option<Box<dyn Journal>>, Done> {
    if cli.no_journal {
        return Ok(None);
    }
    let location = cli
        .journal
        .clone()
        .unwrap_or_else(|| default_path().display().to_string());
    let lease_ms = seconds(cli.lease, "--lease")?;
    if journal::is_database_url(&location) {
        // a driver blocked in an exchange cannot renew: its lease must outlast a whole one,
        // connecting and reading (`--timeout` sets both)
        let exchange_ms = match cli.timeout {
            Some(t) => 2 * seconds(t, "--timeout")?,
            None => {
                ClientConfig::DEFAULT_CONNECT_TIMEOUT_MS + ClientConfig::DEFAULT_READ_TIMEOUT_MS
            }
        };
        if lease_ms <= exchange_ms {
            return Err(Done::fail(
                exit::INPUT,
                format!(
                    "--lease {}: must be longer than one exchange (connect and read timeouts, {} s), or a replica waiting on a slow answer would lose its lease mid-call; nothing was sent",
                    cli.lease,
                    exchange_ms / 1000
                ),
            ));
        }
    }
    let lease = Duration::from_millis(lease_ms.max(1_000));
    let mut j = journal::open(&location, lease).map_err(|e| {
        let shown = if journal::is_database_url(&location) {
            // the message names the database without its password
            "(database)".to_string()
        } else {
            location.clone()
        };
        Done::fail(
            exit::INPUT,
            format!("cannot open journal {shown}: {e}; nothing was sent"),
        )
    })?;
    for w in j.take_warnings() {
        eprintln!("warning: {w}");
    }
    Ok(Some(j))
}
