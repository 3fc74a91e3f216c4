//! The state every part of the sandbox shares: its settings, the ledger, the faults armed, the
//! request log and the keys. A leaf: it imports nothing of the sandbox but the ledger and the
//! fault type, so that the server, the routes, the page and the verifier all stand on it.

use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use konaplate::{ClientPrivateKey, ServerPublicKey};
use konaplate_core::field::{AccessKey, AspId, CryptoKeyId};
use konaplate_core::sign::Signer;

use crate::faults::Fault;
use crate::ledger::Ledger;

/// Sandbox settings.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Port on 127.0.0.1 (0 = any free port).
    pub port: u16,
    /// How long pending charges/cancellations stay `PENDING` (the platform re-checks every 5
    /// minutes; the sandbox default is 2 seconds).
    pub pending_for: Duration,
    /// Validity of a default one-time token (30 s, as documented).
    pub token_ttl: Duration,
    /// Largest accepted difference between `X-KM-Tran-Time` and the sandbox clock.
    pub max_clock_skew: Duration,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            port: 0,
            pending_for: Duration::from_secs(2),
            token_ttl: Duration::from_secs(30),
            max_clock_skew: Duration::from_secs(600),
        }
    }
}

/// One request as the sandbox saw it.
#[derive(Clone, Debug)]
pub struct Logged {
    /// Endpoint name (`charge`, ...) or the raw path when unknown.
    pub endpoint: String,
    /// HTTP status answered (0 when the connection was dropped).
    pub status: u16,
    /// Result code answered.
    pub code: String,
    /// `X-KM-Correlation-Id` received.
    pub correlation_id: String,
    /// A fault applied to it.
    pub fault: Option<Fault>,
}

pub(crate) struct Keys {
    pub(crate) server_private: ClientPrivateKey,
    pub(crate) client_public: ServerPublicKey,
}

pub(crate) struct Shared {
    pub(crate) config: SandboxConfig,
    pub(crate) ledger: Mutex<Ledger>,
    pub(crate) faults: Mutex<Vec<(String, Fault)>>,
    pub(crate) log: Mutex<Vec<Logged>>,
    pub(crate) keys: Keys,
    pub(crate) signer: Signer,
    pub(crate) asp_id: AspId,
    pub(crate) access_key: AccessKey,
    pub(crate) crypto_key_id: CryptoKeyId,
    pub(crate) refuse: Mutex<Option<Duration>>,
    pub(crate) refusing: AtomicBool,
    pub(crate) stop: AtomicBool,
    pub(crate) base_url: String,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Takes the first fault armed for `endpoint` (or for every endpoint, `*`).
pub(crate) fn take_fault(shared: &Shared, endpoint: &str) -> Option<Fault> {
    let mut f = lock(&shared.faults);
    let i = f.iter().position(|(e, _)| e == "*" || e == endpoint)?;
    Some(f.remove(i).1)
}
