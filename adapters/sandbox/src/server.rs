//! The HTTP server: accept loop, verification, routing, JWE, fault injection.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use konaplate::clock;
use konaplate::{ClientConfig, ClientPrivateKey, ServerPublicKey};
use konaplate_core::jwe::{open_body_in_place, seal_in_place, sealed_len};
use konaplate_core::message::{decode_message, encode_reply};
use konaplate_core::prelude::*;

use crate::ledger::{Ledger, Refusal, describe};

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

/// A transport fault, injected into one request (see [`Sandbox::inject`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Stop listening for the given time: connections are refused (nothing reaches the
    /// sandbox).
    RefuseConnection(Duration),
    /// Read the request, then close without processing it.
    DropBeforeProcessing,
    /// Process and commit the request, then close without answering.
    DropAfterCommit,
    /// Process and commit, then wait this long before answering.
    Delay(Duration),
    /// Answer with this HTTP status and a non-JSON body. 500: after processing and
    /// committing; 502 and 503: without processing (a gateway / an unavailable service).
    Status(u16),
    /// Commit, then send the head and half the body and close.
    TruncatedBody,
    /// Commit, then answer 200 with a body that is not JSON.
    InvalidJson,
    /// Commit, then announce a Content-Length larger than the body sent, and close.
    WrongContentLength,
    /// Commit, then answer with a valid envelope padded to 100 KiB (larger than any client
    /// buffer).
    OversizedBody,
    /// Commit, then send the response one byte at a time, this long apart.
    SlowDrip(Duration),
    /// A slow platform: the request is received and checked (its sequenceId is taken at
    /// once, its token judged at arrival), committed only this long later, then answered.
    /// Meanwhile the result inquiry says "not found" (it answers from committed state only)
    /// and a re-send of the same sequenceId is refused with `000_002`. Money-moving
    /// endpoints only; others are just delayed.
    SlowCommit(Duration),
}

impl Fault {
    /// Parses the CLI form: `refuse`, `drop-before`, `drop-after`, `delay:MS`, `status:CODE`,
    /// `truncate`, `invalid-json`, `wrong-length`, `oversized`, `drip:MS`, `slow-commit:MS`.
    pub fn parse(s: &str) -> Result<Fault, String> {
        let (name, arg) = match s.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (s, None),
        };
        let ms = |a: Option<&str>, default: u64| -> Result<Duration, String> {
            match a {
                None => Ok(Duration::from_millis(default)),
                Some(v) => v.parse().map(Duration::from_millis).map_err(|_| format!("fault {s}: {v} is not milliseconds")),
            }
        };
        Ok(match name {
            "refuse" => Fault::RefuseConnection(ms(arg, 500)?),
            "drop-before" => Fault::DropBeforeProcessing,
            "drop-after" => Fault::DropAfterCommit,
            "delay" => Fault::Delay(ms(arg, 5000)?),
            "status" => match arg.map(str::parse::<u16>) {
                Some(Ok(c @ (500 | 502 | 503))) => Fault::Status(c),
                _ => return Err(format!("fault {s}: status must be 500, 502 or 503")),
            },
            "truncate" => Fault::TruncatedBody,
            "invalid-json" => Fault::InvalidJson,
            "wrong-length" => Fault::WrongContentLength,
            "oversized" => Fault::OversizedBody,
            "drip" => Fault::SlowDrip(ms(arg, 20)?),
            "slow-commit" => Fault::SlowCommit(ms(arg, 3000)?),
            _ => return Err(format!("unknown fault {s:?}: refuse[:MS], drop-before, drop-after, delay[:MS], status:500|502|503, truncate, invalid-json, wrong-length, oversized, drip[:MS], slow-commit[:MS]")),
        })
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

struct Keys {
    server_private: ClientPrivateKey,
    client_public: ServerPublicKey,
}

struct Shared {
    config: SandboxConfig,
    ledger: Mutex<Ledger>,
    faults: Mutex<Vec<(String, Fault)>>,
    log: Mutex<Vec<Logged>>,
    keys: Keys,
    signer: Signer,
    asp_id: AspId,
    access_key: AccessKey,
    crypto_key_id: CryptoKeyId,
    refuse: Mutex<Option<Duration>>,
    refusing: AtomicBool,
    stop: AtomicBool,
}

/// A running sandbox on 127.0.0.1. Stops when dropped.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Sandbox {
    /// Binds 127.0.0.1:`port` and serves on a background thread.
    pub fn start(config: SandboxConfig) -> io::Result<Sandbox> {
        let listener = TcpListener::bind(("127.0.0.1", config.port))?;
        let addr = listener.local_addr()?;
        let bad = |e: String| io::Error::new(io::ErrorKind::InvalidData, e);
        let keys = Keys {
            server_private: ClientPrivateKey::from_pem(crate::SERVER_PRIVATE_KEY_PEM).map_err(|e| bad(e.to_string()))?,
            client_public: ServerPublicKey::from_pem(crate::CLIENT_PUBLIC_KEY_PEM).map_err(|e| bad(e.to_string()))?,
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
        });
        let s = Arc::clone(&shared);
        let thread = thread::Builder::new()
            .name("konaplate-sandbox".into())
            .spawn(move || accept_loop(listener, addr, s))?;
        Ok(Sandbox { addr, shared, thread: Some(thread) })
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/open-api`.
    pub fn base_url(&self) -> String {
        format!("http://{}/open-api", self.addr)
    }

    /// A client configuration with the sandbox's credentials and keys.
    pub fn client_config(&self) -> ClientConfig {
        let mut c = ClientConfig::new(
            self.shared.asp_id,
            self.shared.access_key,
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
                    Err(_) if !shared.stop.load(Ordering::SeqCst) => thread::sleep(Duration::from_millis(10)),
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
                let _ = thread::Builder::new().name("konaplate-sandbox-conn".into()).spawn(move || {
                    let _ = stream.set_nonblocking(false);
                    handle(stream, &s);
                });
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(Duration::from_millis(2)),
            Err(_) => thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// A request as read off the socket.
struct RawRequest {
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawRequest {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

const MAX_HEAD: usize = 16 * 1024;
const MAX_BODY: usize = 64 * 1024;

fn read_request(stream: &mut TcpStream) -> Result<RawRequest, (u16, &'static str)> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 4096];
    let head_len = loop {
        let n = stream.read(&mut chunk).map_err(|_| (400, "read failed"))?;
        if n == 0 {
            return Err((0, "closed"));
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(n)) => break n,
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => continue,
            Ok(httparse::Status::Partial) => return Err((431, "request head too large")),
            Err(_) => return Err((400, "malformed request")),
        }
    };
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut req = httparse::Request::new(&mut headers);
    let _ = req.parse(&buf);
    if req.method != Some("POST") {
        return Err((405, "only POST"));
    }
    let path = req.path.unwrap_or("").to_string();
    let headers: Vec<(String, String)> = req
        .headers
        .iter()
        .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).trim().to_string()))
        .collect();
    let len = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .ok_or((411, "Content-Length required"))?;
    if len > MAX_BODY {
        return Err((413, "body too large"));
    }
    let mut body = buf[head_len..].to_vec();
    while body.len() < len {
        let n = stream.read(&mut chunk).map_err(|_| (400, "read failed"))?;
        if n == 0 {
            return Err((0, "closed"));
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(len);
    Ok(RawRequest { path, headers, body })
}

/// What to send back.
struct Answer {
    status: u16,
    code: String,
    body: Vec<u8>,
    encrypted: bool,
}

fn handle(mut stream: TcpStream, shared: &Shared) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let req = match read_request(&mut stream) {
        Ok(r) => r,
        Err((0, _)) => return,
        Err((status, why)) => {
            let _ = write_response(&mut stream, status, &[], format!("{{\"error\":\"{why}\"}}").as_bytes(), None, None);
            return;
        }
    };
    let endpoint = endpoint_name(&req.path);
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
            let _ = write_response(&mut stream, s, &[], b"<html>gateway error</html>", None, None);
            return;
        }
        _ => {}
    }
    let slow = match fault {
        Some(Fault::SlowCommit(d)) => Some(d),
        _ => None,
    };
    let answer = process(shared, endpoint, req, slow);
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

fn take_fault(shared: &Shared, endpoint: &str) -> Option<Fault> {
    let mut f = lock(&shared.faults);
    let i = f.iter().position(|(e, _)| e == "*" || e == endpoint)?;
    Some(f.remove(i).1)
}

fn deliver(stream: &mut TcpStream, a: &Answer, extra: &[(&str, String)], fault: Option<Fault>) -> io::Result<()> {
    match fault {
        Some(Fault::DropAfterCommit) => stream.shutdown(Shutdown::Both),
        Some(Fault::Delay(d)) => {
            thread::sleep(d);
            write_response(stream, a.status, extra, &a.body, None, None)
        }
        Some(Fault::Status(s)) => write_response(stream, s, extra, b"Internal Server Error", None, None),
        Some(Fault::TruncatedBody) => {
            let half = &a.body[..a.body.len() / 2];
            write_response(stream, a.status, extra, half, None, Some(a.body.len()))?;
            stream.shutdown(Shutdown::Both)
        }
        Some(Fault::InvalidJson) => write_response(stream, 200, extra, b"{\"response\":{\"code\":\"000_000\",\"descr", None, None),
        Some(Fault::WrongContentLength) => {
            write_response(stream, a.status, extra, &a.body, None, Some(a.body.len() + 7))?;
            stream.shutdown(Shutdown::Both)
        }
        Some(Fault::OversizedBody) => {
            let mut big = a.body.clone();
            if big.last() == Some(&b'}') {
                big.pop();
                big.extend_from_slice(b",\"padding\":\"");
                big.resize(big.len() + 100 * 1024, b'x');
                big.extend_from_slice(b"\"}");
            }
            write_response(stream, a.status, extra, &big, None, None)
        }
        Some(Fault::SlowDrip(d)) => write_response(stream, a.status, extra, &a.body, Some(d), None),
        _ => write_response(stream, a.status, extra, &a.body, None, None),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        411 => "Length Required",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn write_response(
    stream: &mut TcpStream,
    status: u16,
    extra: &[(&str, String)],
    body: &[u8],
    drip: Option<Duration>,
    content_length: Option<usize>,
) -> io::Result<()> {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: {}\r\nConnection: close\r\n",
        reason(status),
        content_length.unwrap_or(body.len())
    )
    .into_bytes();
    for (n, v) in extra {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    if let Some(gap) = drip {
        for b in out {
            stream.write_all(&[b])?;
            stream.flush()?;
            thread::sleep(gap);
        }
        Ok(())
    } else {
        stream.write_all(&out)?;
        stream.flush()
    }
}

fn endpoint_name(path: &str) -> Option<&'static str> {
    let p = path.strip_prefix("/open-api")?;
    Some(match p {
        x if x == IssueToken::PATH => IssueToken::NAME,
        x if x == Charge::PATH => Charge::NAME,
        x if x == CancelCharge::PATH => CancelCharge::NAME,
        x if x == ChargeResultInquiry::PATH => ChargeResultInquiry::NAME,
        x if x == RefundFee::PATH => RefundFee::NAME,
        x if x == Refund::PATH => Refund::NAME,
        x if x == AutoRechargeRegister::PATH => AutoRechargeRegister::NAME,
        x if x == AutoRechargeList::PATH => AutoRechargeList::NAME,
        _ => return None,
    })
}

fn refusal_answer(r: Refusal) -> Answer {
    let status = if r.code == "000_000" { 200 } else { 400 };
    let desc = describe(r.code, r.field);
    let mut buf = vec![0u8; 1024];
    let n = encode_reply::<Empty>(r.code, &desc, None, &mut buf).unwrap_or(0);
    buf.truncate(n);
    Answer { status, code: r.code.to_string(), body: buf, encrypted: false }
}

fn invalid(field: &'static str) -> Answer {
    refusal_answer(Refusal { code: "000_002", field: Some(field) })
}

/// Verifies the seven X-KM headers as the platform does; `Err` names the failing header.
fn verify_headers(shared: &Shared, req: &RawRequest, encrypted_request: bool) -> Result<(), &'static str> {
    let h = |name: &'static str| req.header(name).ok_or(name);
    if !req.header("Content-Type").is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json")) {
        return Err("Content-Type");
    }
    let asp = AspId::new(h("X-KM-User-AspId")?).map_err(|_| "X-KM-User-AspId")?;
    if asp != shared.asp_id {
        return Err("X-KM-User-AspId");
    }
    CorrelationId::new(h("X-KM-Correlation-Id")?).map_err(|_| "X-KM-Correlation-Id")?;
    let key = AccessKey::new(h("X-KM-Access-Key")?).map_err(|_| "X-KM-Access-Key")?;
    if key != shared.access_key {
        return Err("X-KM-Access-Key");
    }
    let token = TranToken::new(h("X-KM-Tran-Token")?).map_err(|_| "X-KM-Tran-Token")?;
    if !shared.signer.verify(&token, &req.body) {
        return Err("X-KM-Tran-Token");
    }
    let time = TranTime::new(h("X-KM-Tran-Time")?).map_err(|_| "X-KM-Tran-Time")?;
    if !token.time_part().starts_with(time.as_str()) {
        return Err("X-KM-Tran-Time");
    }
    let zone = TimeZone::new(h("X-KM-Time-Zone")?).map_err(|_| "X-KM-Time-Zone")?;
    let offset = clock::zone_offset_minutes(&zone).ok_or("X-KM-Time-Zone")?;
    let now = clock::now(offset).map_err(|_| "X-KM-Tran-Time")?;
    let sent = Timestamp::new(
        time.as_str()[..4].parse().unwrap_or(0),
        time.as_str()[4..6].parse().unwrap_or(0),
        time.as_str()[6..8].parse().unwrap_or(0),
        time.as_str()[8..10].parse().unwrap_or(0),
        time.as_str()[10..12].parse().unwrap_or(0),
        time.as_str()[12..14].parse().unwrap_or(0),
        0,
    )
    .map_err(|_| "X-KM-Tran-Time")?;
    let skew = now.unix_millis().abs_diff(sent.unix_millis());
    if skew > shared.config.max_clock_skew.as_millis() as u64 {
        return Err("X-KM-Tran-Time");
    }
    match req.header("X-KM-Crypto-Key-Id") {
        Some(v) => {
            let id = CryptoKeyId::new(v).map_err(|_| "X-KM-Crypto-Key-Id")?;
            if id != shared.crypto_key_id {
                return Err("X-KM-Crypto-Key-Id");
            }
        }
        None if encrypted_request => return Err("X-KM-Crypto-Key-Id"),
        None => {}
    }
    Ok(())
}

fn process(shared: &Shared, endpoint: Option<&'static str>, mut req: RawRequest, slow: Option<Duration>) -> Answer {
    let Some(name) = endpoint else {
        let mut a = refusal_answer(Refusal { code: "000_002", field: Some("path") });
        a.status = 404;
        return a;
    };
    let encrypted_request = match name {
        n if n == IssueToken::NAME => IssueToken::REQUEST_ENCRYPTED,
        n if n == AutoRechargeRegister::NAME => AutoRechargeRegister::REQUEST_ENCRYPTED,
        _ => false,
    };
    if let Err(header) = verify_headers(shared, &req, encrypted_request) {
        return invalid(header);
    }
    // decrypt an encData body (required for Encrypted requests)
    let plain = match open_body_in_place(&mut req.body, &mut &shared.keys.server_private) {
        Ok((was, range)) if was || !encrypted_request => req.body[range].to_vec(),
        Ok(_) => return invalid("encData"),
        Err(_) => return invalid("encData"),
    };
    let now = Instant::now();
    let ttl = shared.config.token_ttl;
    match name {
        n if n == Charge::NAME => money::<Charge>(shared, &plain, slow, |r| r.sequence_id, |l, r, at| l.charge(r, at)),
        n if n == CancelCharge::NAME => {
            money::<CancelCharge>(shared, &plain, slow, |r| r.sequence_id, |l, r, at| l.cancel(r, at))
        }
        n if n == Refund::NAME => money::<Refund>(shared, &plain, slow, |r| r.sequence_id, |l, r, at| l.refund(r, at)),
        _ => {
            if let Some(d) = slow {
                thread::sleep(d);
            }
            let mut ledger = lock(&shared.ledger);
            ledger.settle(now);
            match name {
                n if n == IssueToken::NAME => run::<IssueToken, _>(shared, &plain, |r| ledger.issue_token(r, now, ttl)),
                n if n == ChargeResultInquiry::NAME => run::<ChargeResultInquiry, _>(shared, &plain, |r| ledger.result(r)),
                n if n == RefundFee::NAME => run::<RefundFee, _>(shared, &plain, |r| ledger.refund_fee(r, now)),
                n if n == AutoRechargeRegister::NAME => run::<AutoRechargeRegister, _>(shared, &plain, |r| {
                    let t = clock::now(9 * 60).unwrap_or_else(|_| unreachable!("system clock in range"));
                    let mut d = [0u8; 17];
                    t.write_17(&mut d);
                    let date = DateTime14::from_bytes(&d[..14])
                        .map_err(|_| Refusal { code: "000_002", field: Some("registeredDate") })?;
                    ledger.register(r, date)
                }),
                _ => run::<AutoRechargeList, _>(shared, &plain, |r| ledger.list(r)),
            }
        }
    }
}

/// A money-moving endpoint. On a slow platform (`slow`), the request's sequenceId is taken
/// when it arrives (a re-send meanwhile is refused), the ledger commits only after the delay,
/// and its token is judged as of the arrival.
fn money<E: Endpoint>(
    shared: &Shared,
    body: &[u8],
    slow: Option<Duration>,
    seq_of: fn(&E::Request) -> SequenceId,
    op: impl FnOnce(&mut Ledger, &E::Request, Instant) -> Result<E::Response, Refusal>,
) -> Answer {
    let arrived = Instant::now();
    let req = match decode_message::<E::Request>(body) {
        Ok(r) => r,
        Err(e) => return invalid(field_of(&e)),
    };
    let seq = seq_of(&req);
    if let Some(d) = slow {
        {
            let mut ledger = lock(&shared.ledger);
            ledger.settle(arrived);
            if let Err(r) = ledger.reserve(&seq) {
                return refusal_answer(r);
            }
        }
        thread::sleep(d);
    }
    let mut ledger = lock(&shared.ledger);
    ledger.settle(Instant::now());
    if slow.is_some() {
        ledger.unreserve(&seq);
    }
    let result = op(&mut ledger, &req, arrived);
    drop(ledger);
    answer::<E>(shared, result)
}

/// Decodes the request, runs the ledger operation, and answers.
fn run<E: Endpoint, F>(shared: &Shared, body: &[u8], op: F) -> Answer
where
    F: FnOnce(&E::Request) -> Result<E::Response, Refusal>,
{
    let req = match decode_message::<E::Request>(body) {
        Ok(r) => r,
        Err(e) => return invalid(field_of(&e)),
    };
    answer::<E>(shared, op(&req))
}

/// Encodes (and, when the endpoint's response is Encrypted, seals) the reply.
fn answer<E: Endpoint>(shared: &Shared, result: Result<E::Response, Refusal>) -> Answer {
    let (status, code, reply) = match result {
        Ok(r) => (200, "000_000", Some(r)),
        Err(r) => return refusal_answer(r),
    };
    let desc = describe(code, None);
    let mut buf = vec![0u8; 8192];
    let n = encode_reply::<E::Response>(code, &desc, reply.as_ref(), &mut buf).unwrap_or(0);
    buf.truncate(n);
    let encrypted = E::RESPONSE_ENCRYPTION == Encryption::Yes;
    if encrypted {
        let mut sealed = vec![0u8; sealed_len(n, 256) + 16];
        sealed[..n].copy_from_slice(&buf);
        let mut cek = [0u8; 16];
        let mut iv = [0u8; 12];
        clock::random_bytes(&mut cek);
        clock::random_bytes(&mut iv);
        match seal_in_place(&mut sealed, n, &mut &shared.keys.client_public, &cek, &iv) {
            Ok(m) => {
                sealed.truncate(m);
                buf = sealed;
            }
            Err(_) => return refusal_answer(Refusal { code: "000_002", field: Some("encData") }),
        }
    }
    Answer { status, code: code.to_string(), body: buf, encrypted }
}

/// The field a request-decoding error is about, for the `000_002` description.
fn field_of(e: &DecodeError) -> &'static str {
    match e {
        DecodeError::Field(f) => f.field(),
        DecodeError::Missing { field } | DecodeError::Duplicate { field } => field,
        _ => "body",
    }
}
