//! # konaplate-sandbox
//!
//! A local HTTP/1.1 emulator of the KONA PLATE Open API endpoints the SDK covers, for tests and
//! offline work. It verifies what the platform verifies — the seven `X-KM` headers and their
//! formats, the `X-KM-Tran-Token` HMAC over the exact body bytes, `X-KM-Crypto-Key-Id` and the
//! JWE of Encrypted requests — and answers `400` with `000_002` naming the field when they
//! fail. It encrypts the responses the documents mark Encrypted, keeps a ledger that moves
//! money exactly once, reproduces the documented Test Data scenarios (triggers in the README)
//! and injects transport faults on demand.
//!
//! ```no_run
//! let sandbox = konaplate_sandbox::Sandbox::start(Default::default())?;
//! let client = konaplate::Client::new(sandbox.client_config())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod deliver;
mod faults;
mod http;
pub mod ledger;
mod page;
mod routes;
mod server;
mod state;
pub mod tls;
mod verify;

pub use faults::Fault;
pub use ledger::{Ledger, Refusal, Txn, TxnKind, TxnState, describe};
pub use page::mask_card;
pub use server::Sandbox;
pub use state::{Logged, SandboxConfig};

/// The sandbox's ASP ID.
pub const ASP_ID: &str = "100000000000001";
/// The sandbox's access key.
pub const ACCESS_KEY: &str = "SANDBOX-0123456789abcdef0123456789abcdef";
/// The sandbox's secret key (HMAC).
pub const SECRET_KEY: &str = "kona-sandbox-secret-0001";
/// The sandbox's encryption key ID.
pub const CRYPTO_KEY_ID: &str = "00000000000000000000000000c0ffee";
/// The sandbox server's private key (decrypts Encrypted requests). TEST ONLY.
pub const SERVER_PRIVATE_KEY_PEM: &str = include_str!("../keys/server_private.pem");
/// The sandbox server's public key (clients encrypt requests to it).
pub const SERVER_PUBLIC_KEY_PEM: &str = include_str!("../keys/server_public.pem");
/// The same key as a self-signed X.509 certificate.
pub const SERVER_CERT_PEM: &str = include_str!("../keys/server_cert.pem");
/// The client's private key (decrypts Encrypted responses). TEST ONLY.
pub const CLIENT_PRIVATE_KEY_PEM: &str = include_str!("../keys/client_private.pem");
/// The client's public key (the sandbox encrypts responses to it).
pub const CLIENT_PUBLIC_KEY_PEM: &str = include_str!("../keys/client_public.pem");

/// The seeded members, cards and merchants (see the README for what each one triggers).
pub mod seed {
    pub use crate::ledger::{
        AMOUNT_BENEFIT_MISMATCH, AMOUNT_CANCEL_PENDS, AMOUNT_PENDING_COMPLETES,
        AMOUNT_PENDING_FAILS, CARD_LIMIT, HAPPY_CARD_START, MONTHLY_REFUND_AMOUNT,
        MONTHLY_REFUND_COUNT, NR_OTHER_METHOD, card_no, par_of,
    };
    /// Card expiry of every seed card.
    pub const CARD_EXPIRY: &str = "3108";
    /// A merchant that exists.
    pub const MERCHANT: &str = "100000000000101";
    /// Happy-path member (account with 5,000,000 KRW, card with 30,000 KRW, refund account, all
    /// terms agreed).
    pub const HAPPY: u64 = 50_000_100_001;
    /// Its card.
    pub const HAPPY_CARD: u16 = 11;
    /// Member without a bank account (`007_001`).
    pub const NO_ACCOUNT: u64 = 50_000_100_002;
    /// Member whose account is empty (`007_004`).
    pub const EMPTY_ACCOUNT: u64 = 50_000_100_003;
    /// Member whose account holder name differs (`007_043` on cancel).
    pub const NAME_MISMATCH: u64 = 50_000_100_004;
    /// Member without a refund account (`009_001`).
    pub const NO_REFUND_ACCOUNT: u64 = 50_000_100_005;
    /// Member with 3 refunds this month (`009_003`).
    pub const REFUND_COUNT_USED: u64 = 50_000_100_006;
    /// Member with 1,990,000 KRW refunded this month (`009_002`).
    pub const REFUND_AMOUNT_USED: u64 = 50_000_100_007;
    /// Member whose refunds are refused (`009_004`).
    pub const REFUND_DENIED: u64 = 50_000_100_008;
    /// Member without Open Banking terms (`007_015`).
    pub const NO_OPEN_BANK_TERMS: u64 = 50_000_100_009;
    /// Member without firm-banking terms (`007_027`).
    pub const NO_FIRM_BANKING_TERMS: u64 = 50_000_100_010;
    /// Member without an auto-recharge account (`007_031`).
    pub const NO_AUTO_RECHARGE_ACCOUNT: u64 = 50_000_100_011;
    /// The card of member `user` (the happy member's first card for [`HAPPY`]).
    pub fn card_of(user: u64) -> u16 {
        match user {
            HAPPY => HAPPY_CARD,
            u => (u - 50_000_100_000 + 10) as u16,
        }
    }
    /// The happy member's INACTIVE card (`007_016`).
    pub const INACTIVE_CARD: u16 = 22;
    /// The happy member's card that already has another auto-recharge plan (`007_017`).
    pub const OTHER_PLAN_CARD: u16 = 23;
}
