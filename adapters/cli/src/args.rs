//! The command line. This is a contract scripts depend on: names, environment variables and
//! exit statuses are documented in the README and tested.

use clap::{Args, Parser, Subcommand};

/// KONA PLATE prepaid-card Open API client.
///
/// Exit status: 0 success (000_000); 2 input rejected before anything was sent; 3 the API
/// answered another result code (or the inquiry said FAILED); 4 transport failure: nothing was
/// sent, or a refund's outcome is unknown; 5 still open when polling stopped (pending or in
/// doubt: `konaplate recover` finishes it).
#[derive(Debug, Parser)]
#[command(name = "konaplate", version, about, long_about = None)]
pub struct Cli {
    /// Base URL of the API (http:// only for loopback hosts).
    #[arg(long, env = "KONAPLATE_BASE_URL", global = true)]
    pub base_url: Option<String>,
    /// ASP ID (X-KM-User-AspId), 15 digits.
    #[arg(long, env = "KONAPLATE_ASP_ID", global = true)]
    pub asp_id: Option<String>,
    /// Access key (X-KM-Access-Key), 40 characters.
    #[arg(
        long,
        env = "KONAPLATE_ACCESS_KEY",
        hide_env_values = true,
        global = true
    )]
    pub access_key: Option<String>,
    /// Secret key that signs requests (X-KM-Tran-Token).
    #[arg(
        long,
        env = "KONAPLATE_SECRET_KEY",
        hide_env_values = true,
        global = true
    )]
    pub secret_key: Option<String>,
    /// Encryption key ID (X-KM-Crypto-Key-Id), 32 hex digits.
    #[arg(long, env = "KONAPLATE_CRYPTO_KEY_ID", global = true)]
    pub crypto_key_id: Option<String>,
    /// The platform's public key or certificate: PEM text, or a path to a PEM file.
    #[arg(
        long,
        env = "KONAPLATE_SERVER_PUBLIC_KEY",
        hide_env_values = true,
        global = true
    )]
    pub server_public_key: Option<String>,
    /// Your client private key (PKCS#8 or PKCS#1): PEM text, or a path to a PEM file.
    #[arg(
        long,
        env = "KONAPLATE_CLIENT_PRIVATE_KEY",
        hide_env_values = true,
        global = true
    )]
    pub client_private_key: Option<String>,
    /// Time zone of request times (X-KM-Time-Zone): KST, JST, UTC or GMT.
    #[arg(
        long,
        env = "KONAPLATE_TIME_ZONE",
        default_value = "KST",
        global = true
    )]
    pub time_zone: String,
    /// Pin the platform's key: the SHA-256 of its certificate's SubjectPublicKeyInfo, 44
    /// characters of base64 (or 64 hex digits). Repeat it (or separate with commas) for the
    /// current key and the backup; the certificate is still fully verified, and a key none of
    /// them names is refused before anything is sent.
    #[arg(
        long = "pin-sha256",
        env = "KONAPLATE_PIN_SHA256",
        value_name = "PIN",
        value_delimiter = ',',
        global = true
    )]
    pub pin_sha256: Vec<String>,
    /// Also trust the CA certificates of this PEM file (a test platform's private CA); the
    /// public web roots stay trusted.
    #[arg(long, env = "KONAPLATE_CA_CERT", value_name = "PATH", global = true)]
    pub ca_cert: Vec<String>,
    /// Connect and read timeout in seconds.
    #[arg(long, value_name = "SECONDS", global = true)]
    pub timeout: Option<u64>,
    /// Print exactly one JSON object on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// Journal for money-moving commands: a file path, or a PostgreSQL URL
    /// (postgres://... or postgresql://..., `?host=/dir` for a Unix socket) shared by replicas;
    /// a remote database over verified TLS only (`sslrootcert=FILE` for its CA).
    #[arg(
        long,
        env = "KONAPLATE_JOURNAL",
        // a database URL may carry a password: --help never prints the variable's value
        hide_env_values = true,
        value_name = "PATH|URL",
        global = true
    )]
    pub journal: Option<String>,
    /// Seconds a replica keeps a journal entry it drives without renewing it (a PostgreSQL
    /// journal; renewed while driving): after that, another replica's `recover` takes it over.
    #[arg(
        long,
        env = "KONAPLATE_LEASE",
        value_name = "SECONDS",
        default_value_t = 60,
        global = true
    )]
    pub lease: u64,
    /// Do not journal money-moving commands (an interrupted call cannot be recovered).
    #[arg(long, global = true)]
    pub no_journal: bool,
    /// Seconds between result inquiries while a charge or cancellation is pending.
    #[arg(long, value_name = "SECONDS", default_value_t = 300, global = true)]
    pub poll_interval: u64,
    /// Stop polling after this many seconds (exit 5 if still open; `recover` resumes).
    #[arg(long, value_name = "SECONDS", default_value_t = 3600, global = true)]
    pub max_wait: u64,
    /// Longest validity of the one-time token a money command carries: 300 (ATM and CREDIT
    /// tokens, the safe default) or 30 (a default token). Until it has passed, plus a grace,
    /// "previous transaction not found" does not prove that a request never arrived.
    #[arg(long, value_name = "SECONDS", default_value_t = 300, global = true)]
    pub token_ttl: u64,
    /// How long after its token expired KONA PLATE may still commit a request it accepted.
    /// Lower it only for a platform whose commit time you know (a local sandbox).
    #[arg(long, value_name = "SECONDS", default_value_t = 120, global = true)]
    pub commit_grace: u64,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Issue a one-time token and DCVV for a card (request Encrypted).
    Token {
        /// Card number (16 digits).
        #[arg(long)]
        card_no: String,
        /// Token type: ATM or CREDIT (omitted: default, valid 30 seconds).
        #[arg(long = "type")]
        token_type: Option<String>,
    },
    /// Charge the card from the member's bank account.
    Charge(ChargeArgs),
    /// Cancel a charge.
    ChargeCancel(CancelArgs),
    /// Ask the result of a charge or cancellation.
    ChargeResult {
        /// The sequenceId of the charge or cancellation.
        #[arg(long)]
        sequence_id: String,
    },
    /// Search the fee of a refund.
    RefundFee {
        /// Member ID.
        #[arg(long, allow_hyphen_values = true)]
        user_id: String,
        /// One-time token. Prefer KONAPLATE_ONE_TIME_TOKEN or `-` (read from standard input).
        #[arg(long, env = "KONAPLATE_ONE_TIME_TOKEN", hide_env_values = true)]
        one_time_token: String,
    },
    /// Refund the card balance to the member's account.
    Refund(RefundArgs),
    /// Auto-recharge at payment.
    #[command(subcommand)]
    AutoRecharge(AutoRecharge),
    /// Resolve every open journaled call through the result inquiry and print the outcomes.
    Recover,
    /// List the journal's entries (open ones first), or close an unknown refund.
    Journal {
        #[command(subcommand)]
        action: Option<JournalAction>,
    },
    /// Run the local sandbox and print the URL it listens on; serve until stopped.
    Sandbox {
        /// Port on 127.0.0.1 (default: any free port).
        #[arg(long)]
        port: Option<u16>,
        /// Seconds a pending charge/cancel stays PENDING.
        #[arg(long, value_name = "SECONDS", default_value_t = 2)]
        pending_seconds: u64,
        /// Inject a fault into the next request of an endpoint: ENDPOINT=FAULT, e.g.
        /// charge=drop-after, refund=status:500, *=delay:5000. Faults: refuse[:MS],
        /// drop-before, drop-after, delay[:MS], status:500|502|503, truncate, invalid-json,
        /// wrong-length, oversized, drip[:MS]. Repeatable.
        #[arg(long, value_name = "ENDPOINT=FAULT")]
        fault: Vec<String>,
    },
    /// Start the sandbox in-process and run the whole lifecycle against it, checking every
    /// step against the sandbox's ledger.
    Demo {
        /// Keep the sandbox serving after the demo (its ledger page and API) until Ctrl-C.
        #[arg(long)]
        serve: bool,
    },
}

#[derive(Debug, Args)]
pub struct ChargeArgs {
    /// Member ID.
    #[arg(long, allow_hyphen_values = true)]
    pub user_id: String,
    /// Amount in KRW (1..=9999999999).
    #[arg(long, allow_hyphen_values = true)]
    pub amount: String,
    /// Merchant ID (15 digits).
    #[arg(long)]
    pub merchant_id: String,
    /// One-time token (16 digits). Prefer KONAPLATE_ONE_TIME_TOKEN or `-` (read from
    /// standard input) over the command line, which other local users can see.
    #[arg(long, env = "KONAPLATE_ONE_TIME_TOKEN", hide_env_values = true)]
    pub one_time_token: String,
    /// DCVV (3 digits). Prefer KONAPLATE_DCVV or `-` (read from standard input).
    #[arg(long, env = "KONAPLATE_DCVV", hide_env_values = true)]
    pub dcvv: String,
    /// Control number (minted and printed when omitted).
    #[arg(long)]
    pub sequence_id: Option<String>,
}

#[derive(Debug, Args)]
pub struct CancelArgs {
    /// Member ID.
    #[arg(long, allow_hyphen_values = true)]
    pub user_id: String,
    /// nrNumber of the charge to cancel.
    #[arg(long)]
    pub nr_number: String,
    /// One-time token (16 digits). Prefer KONAPLATE_ONE_TIME_TOKEN or `-` (read from
    /// standard input) over the command line, which other local users can see.
    #[arg(long, env = "KONAPLATE_ONE_TIME_TOKEN", hide_env_values = true)]
    pub one_time_token: String,
    /// DCVV (3 digits). Prefer KONAPLATE_DCVV or `-` (read from standard input).
    #[arg(long, env = "KONAPLATE_DCVV", hide_env_values = true)]
    pub dcvv: String,
    /// Control number (minted and printed when omitted).
    #[arg(long)]
    pub sequence_id: Option<String>,
    /// Card expiry YYMM (sent by public clients; not on the documentation page, D6).
    #[arg(long)]
    pub card_expiry: Option<String>,
}

#[derive(Debug, Args)]
pub struct RefundArgs {
    /// Member ID.
    #[arg(long, allow_hyphen_values = true)]
    pub user_id: String,
    /// Card expiry YYMM.
    #[arg(long)]
    pub card_expiry: String,
    /// One-time token (16 digits). Prefer KONAPLATE_ONE_TIME_TOKEN or `-` (read from
    /// standard input) over the command line, which other local users can see.
    #[arg(long, env = "KONAPLATE_ONE_TIME_TOKEN", hide_env_values = true)]
    pub one_time_token: String,
    /// DCVV (3 digits). Prefer KONAPLATE_DCVV or `-` (read from standard input).
    #[arg(long, env = "KONAPLATE_DCVV", hide_env_values = true)]
    pub dcvv: String,
    /// Control number (minted and printed when omitted).
    #[arg(long)]
    pub sequence_id: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum JournalAction {
    /// List every entry, open ones first (the default).
    List,
    /// Close an open entry on your word after checking with KONA PLATE (for a refund whose
    /// outcome is unknown). Appended as a new record: the history stays.
    Resolve {
        /// The entry's sequenceId.
        sequence_id: String,
        /// What KONA PLATE told you.
        #[arg(long, value_enum)]
        outcome: Resolution,
        /// Why (a ticket number, who confirmed it), at most 256 bytes.
        #[arg(long)]
        note: String,
        /// Also close a charge or cancellation the inquiry has not decided, or an entry the
        /// platform could still commit.
        #[arg(long)]
        force: bool,
    },
}

/// What KONA PLATE said about an entry.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Resolution {
    /// The money moved.
    Completed,
    /// The platform never processed it.
    NotProcessed,
}

#[derive(Debug, Subcommand)]
pub enum AutoRecharge {
    /// Register auto-recharge at payment for a card (request Encrypted).
    Register {
        /// Member ID.
        #[arg(long, allow_hyphen_values = true)]
        user_id: String,
        /// The card's PAR (27 characters).
        #[arg(long)]
        par: String,
    },
    /// List the cards with auto-recharge at payment.
    List {
        /// Member ID.
        #[arg(long, allow_hyphen_values = true)]
        user_id: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// clap prints an argument's current environment value in --help unless hidden; every
    /// secret-bearing argument, in every subcommand, must hide it (clap-rs/clap#1299).
    #[test]
    fn secret_env_values_are_hidden_in_help() {
        fn walk(cmd: &clap::Command, checked: &mut usize) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                let secret = [
                    "secret",
                    "private",
                    "access",
                    "public_key",
                    "one_time_token",
                    "dcvv",
                ];
                if secret.iter().any(|s| id.contains(s)) {
                    assert!(
                        arg.is_hide_env_values_set(),
                        "{} {id} shows its env value in --help",
                        cmd.get_name()
                    );
                    *checked += 1;
                }
            }
            for sub in cmd.get_subcommands() {
                walk(sub, checked);
            }
        }
        let mut checked = 0;
        walk(&Cli::command(), &mut checked);
        // 4 global keys, token and DCVV of charge, charge-cancel, refund, the refund fee's token
        assert!(checked >= 11, "{checked}");
    }

    #[test]
    fn command_is_well_formed() {
        Cli::command().debug_assert();
    }
}
