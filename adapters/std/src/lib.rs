//! # konaplate
//!
//! The blocking std client of the KONA PLATE prepaid-card Open API, on the `no_std` core
//! ([`konaplate_core`], re-exported as [`core`]): the core's calls over TCP with rustls, RSA-OAEP-256 keys from
//! PEM for the JWE message encryption, the system clock in the platform's zone, OS randomness
//! for Correlation-Ids, and a minter of unique sequenceIds.
//!
//! ```no_run
//! use konaplate::core::prelude::*;
//! use konaplate::core::{api::*, field::*};
//! use konaplate::{Client, ClientConfig, ServerPublicKey, ClientPrivateKey, mint_sequence_id};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let mut cfg = ClientConfig::new(
//!     AspId::new("100000000000001")?,
//!     AccessKey::new("abcdefg-0123456789abcdef0123456789abcdef")?,
//!     SecretKey::new("my-secret-key")?,
//! );
//! cfg.crypto_key_id = Some(CryptoKeyId::new("0123456789abcdef0123456789abcdef")?);
//! cfg.server_public_key = Some(ServerPublicKey::from_pem(&std::fs::read_to_string("server.pem")?)?);
//! cfg.client_private_key = Some(ClientPrivateKey::from_pem(&std::fs::read_to_string("client.pem")?)?);
//! let client = Client::new(cfg)?;
//!
//! let token = client.send(&TokenRequest {
//!     card_no: CardNo::new("9410123456789012")?,
//!     token_type: None,
//! })?.reply.into_result()?;
//! // money moves through the journaled driver: written ahead before every send, resumed (never
//! // re-sent blindly) after a crash, replayed when the sequenceId comes again
//! let mut journal = konaplate::journal::FileJournal::open("journal.kpj")?;
//! let report = konaplate::money::run(
//!     &client,
//!     &mut journal,
//!     &ChargeRequest {
//!         sequence_id: mint_sequence_id(), // the call's idempotency key: keep it
//!         user_id: UserId::new(50000104652)?,
//!         amount: ChargeAmount::new(10_000)?,
//!         one_time_token: token.one_time_token,
//!         dcvv: token.dcvv,
//!         merchant_id: MerchantId::new("100000000000123")?,
//!     },
//!     konaplate::core::flow::Policy::default(),
//!     &mut |_| {},
//! )?;
//! println!("{}", report.outcome.word());
//! # Ok(()) }
//! ```
//!
//! Money-moving calls belong in [`money::run`]: it journals them in a [`journal::Journal`]
//! and drives them to the platform's real outcome, exactly once (see the core's
//! [`konaplate_core::flow`]).
//!
//! # Features
//!
//! | feature | default | what it does |
//! |---|---|---|
//! | `serde` | no | `Serialize`/`Deserialize` for the core's field types, requests and replies |
//! | `postgres` | no | [`journal::PgJournal`]: the journal in PostgreSQL, shared by replicas |
#![forbid(unsafe_code)]

pub mod client;
pub mod clock;
pub mod journal;
pub mod keys;
pub mod money;
pub mod tls;

pub use client::{
    Client, ClientConfig, ConfigError, DEFAULT_BASE_URL, Error, Exchange, Rejection, Unknown,
};
pub use clock::mint_sequence_id;
pub use keys::{ClientPrivateKey, KeyError, ServerPublicKey};
/// The protocol core.
pub use konaplate_core as core;
