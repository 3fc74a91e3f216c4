//! The server: the running sandbox, its accept loop, and one connection's handling.

use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use konaplate::{ClientConfig, ClientPrivateKey, ServerPublicKey};
use konaplate_core::field::*;
use konaplate_core::sign::Signer;

use crate::deliver::deliver;
use crate::faults::Fault;
use crate::http::{read_request, write_content, write_response};
use crate::ledger::Ledger;
use crate::page;
use crate::routes::{Route, process};
use crate::state::{Keys, Logged, SandboxConfig, Shared, lock, take_fault};

/// A running sandbox on 127.0.0.1. Stops when dropped.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Binds 127.0.0.1:`port` and serves on a background thread.
    pub fn start(config: SandboxConfig) -> io::Result<Sandbox> {
        let listener = TcpListener::bind(("127.0.0.1", config.port))?;
        let addr = listener.local_addr()?;
        let bad = |e: String| io::Error::new(io::ErrorKind::InvalidData, e);
        let keys = Keys {
            server_private: ClientPrivateKey::from_pem(crate::SERVER_PRIVATE_KEY_PEM)
                .map_err(|e| bad(e.to_string()))?,
            client_public: ServerPublicKey::from_pem(crate::CLIENT_PUBLIC_KEY_PEM)
                .map_err(|e| bad(e.to_string()))?,
        };
        let f = |e: FieldError| bad(e.to_string());
        let shared = Arc::new(Shared {
            ledger: Mutex::new(Ledger::seeded(config.pending_for)),
            config,
            faults: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            keys,
            signer: Signer::new(&SecretKey::new(crate::SECRET_KEY).map_err(f)?),
            asp_id: AspId::new(crate::ASP_ID).map_err(f)?,
            access_key: AccessKey::new(crate::ACCESS_KEY).map_err(f)?,
            crypto_key_id: CryptoKeyId::new(crate::CRYPTO_KEY_ID).map_err(f)?,
            refuse: Mutex::new(None),
            refusing: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            base_url: format!("http://{addr}/open-api"),
        });
        let s = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name("konaplate-sandbox".into())
            .spawn(move || accept_loop(listener, addr, s))?;
        Ok(Sandbox {
            addr,
            shared,
            thread: Some(thread),
        })
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/open-api`.
    pub fn base_url(&self) -> String {
        format!("http://{}/open-api", self.addr)
    }

    /// `http://127.0.0.1:PORT/`: the page showing the ledger.
    pub fn page_url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// A client configuration with the sandbox's credentials and keys.
    pub fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new(
            self.shared.asp_id,
            self.shared.access_key.clone(),
            SecretKey::new(crate::SECRET_KEY).unwrap_or_else(|_| unreachable!("valid constant")),
        );
        c.base_url = self.base_url();
        c.crypto_key_id = Some(self.shared.crypto_key_id);
        c.server_public_key = ServerPublicKey::from_pem(crate::SERVER_PUBLIC_KEY_PEM).ok();
        c.client_private_key = ClientPrivateKey::from_pem(crate::CLIENT_PRIVATE_KEY_PEM).ok();
        c
    }

    /// The ledger (locked; keep the guard short).
    pub fn ledger(&self) -> MutexGuard<'_, Ledger> {
        let mut l = lock(&self.shared.ledger);
        l.settle(Instant::now());
        l
    }

    /// Every request received so far.
    pub fn log(&self) -> Vec<Logged> {
        lock(&self.shared.log).clone()
    }

    /// Number of requests that reached the sandbox.
    pub fn requests_received(&self) -> usize {
        lock(&self.shared.log).len()
    }

    /// Applies `fault` to the next request for `endpoint` (an endpoint name such as `charge`,
    /// `charge-cancel`, `refund`, or `*` for any). [`Fault::RefuseConnection`] applies at once
    /// to all connections, for its duration; this call returns once the listener is closed.
    pub fn inject(&self, endpoint: &str, fault: Fault) {
        if let Fault::RefuseConnection(d) = fault {
            *lock(&self.shared.refuse) = Some(d);
            let deadline = Instant::now() + Duration::from_secs(2);
            while !self.shared.refusing.load(Ordering::SeqCst) && Instant::now() < deadline {
                thread::sleep(Duration::from_millis(1));
            }
            return;
        }
        lock(&self.shared.faults).push((endpoint.to_string(), fault));
    }

    /// Forgets every fault not yet applied.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// `true` while connections are being refused.
    pub fn is_refusing(&self) -> bool {
        self.shared.refusing.load(Ordering::SeqCst) || lock(&self.shared.refuse).is_some()
    }

    /// Blocks until the sandbox listens again after a [`Fault::RefuseConnection`].
    pub fn wait_listening(&self) {
        while self.is_refusing() {
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Stops serving (also done on drop).
    pub fn stop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
    }
}

fn accept_loop(mut listener: TcpListener, addr: SocketAddr, shared: Arc<Shared>) {
    let _ = listener.set_nonblocking(true);
    while !shared.stop.load(Ordering::SeqCst) {
        if let Some(d) = lock(&shared.refuse).take() {
            drop(listener);
            shared.refusing.store(true, Ordering::SeqCst);
            thread::sleep(d);
            // the same port again (std sets SO_REUSEADDR on Unix)
            let rebound = loop {
                match TcpListener::bind(addr) {
                    Ok(l) => break Some(l),
                    Err(_) if !shared.stop.load(Ordering::SeqCst) => {
                        thread::sleep(Duration::from_millis(10))
                    }
                    Err(_) => break None,
                }
            };
            let Some(l) = rebound else { return };
            let _ = l.set_nonblocking(true);
            listener = l;
            shared.refusing.store(false, Ordering::SeqCst);
            continue;
        }
        match listener.accept() {
            Ok((stream, _)) => {
                let s = Arc::clone(&shared);
                let _ = thread::Builder::new()
                    .name("konaplate-sandbox-conn".into())
                    .spawn(move || {
                        let _ = stream.set_nonblocking(false);
                        handle(stream, &s);
                    });
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(2))
            }
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
}

fn handle(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let req = match read_request(&mut stream) {
        Ok(r) => r,
        Err((0, _)) => return,
        Err((status, why)) => {
            let _ = write_response(
                &mut stream,
                status,
                &[],
                format!("{{\"error\":\"{why}\"}}").as_bytes(),
                None,
                None,
            );
            return;
        }
    };
    if req.method == "GET" {
        // the page for people, and its JSON for scripts; never logged as API requests
        let _ = match req.path.as_str() {
            "/" | "/index.html" => write_content(
                &mut stream,
                200,
                "text/html; charset=utf-8",
                page::render(shared, &shared.base_url).as_bytes(),
            ),
            "/state.json" => write_content(
                &mut stream,
                200,
                "application/json",
                page::state_json(shared).as_bytes(),
            ),
            _ => write_content(
                &mut stream,
                404,
                "text/plain",
                b"not found: the page is at /, the API under /open-api\n",
            ),
        };
        return;
    }
    let route = Route::of(&req.path);
    let endpoint = route.map(Route::name);
    let correlation = req.header("X-KM-Correlation-Id").unwrap_or("").to_string();
    let fault = take_fault(shared, endpoint.unwrap_or(""));
    let mut logged = Logged {
        endpoint: endpoint.map_or_else(|| req.path.clone(), str::to_string),
        status: 0,
        code: String::new(),
        correlation_id: correlation.clone(),
        fault,
    };
    // faults that act before processing
    match fault {
        Some(Fault::DropBeforeProcessing) => {
            let _ = stream.shutdown(Shutdown::Both);
            lock(&shared.log).push(logged);
            return;
        }
        Some(Fault::Status(s @ (502 | 503))) => {
            logged.status = s;
            lock(&shared.log).push(logged);
            let _ = write_response(
                &mut stream,
                s,
                &[],
                b"<html>gateway error</html>",
                None,
                None,
            );
            return;
        }
        _ => {}
    }
    let slow = match fault {
        Some(Fault::SlowCommit(d)) => Some(d),
        _ => None,
    };
    let answer = process(shared, route, req, slow);
    logged.status = answer.status;
    logged.code = answer.code.clone();
    lock(&shared.log).push(logged);
    let mut extra: Vec<(&str, String)> = Vec::new();
    if CorrelationId::new(&correlation).is_ok() {
        extra.push(("X-KM-Correlation-Id", correlation));
    }
    if answer.encrypted {
        extra.push(("X-KM-Crypto-Key-Id", crate::CRYPTO_KEY_ID.to_string()));
    }
    let _ = deliver(&mut stream, &answer, &extra, fault);
}
