//! The blocking HTTPS client: the core's [`Call`] over a TCP connection, with TLS (rustls,
//! webpki roots) for `https://`. The request goes on the wire exactly as the core encoded it,
//! and the answer is framed, decrypted and decoded by the call: nothing of HTTP is assembled
//! twice.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use konaplate_core::api::{Endpoint, MovesNoMoney, ReplyOf, Request};
use konaplate_core::call::{Call, CallError, Delivery, Progress};
use konaplate_core::error::{DecodeError, EncodeError};
use konaplate_core::field::{
    AccessKey, AspId, BasePath, CorrelationId, CryptoKeyId, Host, SecretKey, TimeZone,
};
use konaplate_core::http::HttpError;
use konaplate_core::jwe::{Crypto, KeyUnwrap, SealKeys};
use konaplate_core::message::AnyReply;
use konaplate_core::pin::Pin;
use konaplate_core::request::{Credentials, Session, Stamp, Target};
use zeroize::Zeroizing;

use crate::clock;
use crate::keys::{ClientPrivateKey, ServerPublicKey};
use crate::tls;

/// The sandbox's base URL, the default.
pub const DEFAULT_BASE_URL: &str = "https://sandbox.konaplate.com/open-api";

/// Client configuration. Build with [`ClientConfig::new`] and adjust the public fields.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// `scheme://host[:port]/base-path`. Default [`DEFAULT_BASE_URL`]. `http://` is refused
    /// except for loopback hosts (a local sandbox).
    pub base_url: String,
    /// `X-KM-User-AspId`.
    pub asp_id: AspId,
    /// `X-KM-Access-Key`.
    pub access_key: AccessKey,
    /// The HMAC secret key (redacted in `Debug`, zeroized on drop).
    pub secret_key: SecretKey,
    /// `X-KM-Crypto-Key-Id`; required for Encrypted requests.
    pub crypto_key_id: Option<CryptoKeyId>,
    /// The platform's public key; required for Encrypted requests.
    pub server_public_key: Option<ServerPublicKey>,
    /// The project's private key; required to read Encrypted responses.
    pub client_private_key: Option<ClientPrivateKey>,
    /// Zone of the request times (`X-KM-Time-Zone`). Default `KST`.
    pub time_zone: TimeZone,
    /// TCP + TLS connect timeout. Default 10 s.
    pub connect_timeout: Duration,
    /// Time allowed for the whole exchange once connected (send, wait for the answer, read
    /// it). Default 30 s.
    pub read_timeout: Duration,
    /// Largest response body accepted. Default 16 KiB (the largest documented response is
    /// well under 2 KiB, encrypted).
    pub max_response_bytes: usize,
    /// Pinned keys (`--pin-sha256`): when any, the platform's end-entity certificate must,
    /// after full webpki verification, also carry one of them (the SHA-256 of its
    /// `SubjectPublicKeyInfo`); otherwise the connection is refused before the request is
    /// sent. Configure the current key and a backup. Default none.
    pub pins: Vec<Pin>,
    /// Root certificates (DER) trusted besides the webpki roots (`--ca-cert`): a test
    /// platform's private CA. Default none.
    pub extra_roots: Vec<Vec<u8>>,
}

impl ClientConfig {
    /// The default connect timeout, in milliseconds (10 s).
    pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 10_000;
    /// The default read timeout of one exchange, in milliseconds (30 s).
    pub const DEFAULT_READ_TIMEOUT_MS: u64 = 30_000;

    /// A configuration with the documented defaults.
    pub fn new(asp_id: AspId, access_key: AccessKey, secret_key: SecretKey) -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_string(),
            asp_id,
            access_key,
            secret_key,
            crypto_key_id: None,
            server_public_key: None,
            client_private_key: None,
            time_zone: TimeZone::KST,
            connect_timeout: Duration::from_millis(Self::DEFAULT_CONNECT_TIMEOUT_MS),
            read_timeout: Duration::from_millis(Self::DEFAULT_READ_TIMEOUT_MS),
            max_response_bytes: 16 * 1024,
            pins: Vec::new(),
            extra_roots: Vec::new(),
        }
    }
}

/// The configuration cannot work.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The base URL is malformed.
    BaseUrl(String),
    /// `http://` to a host that is not loopback.
    PlainHttp(String),
    /// A time zone whose offset the SDK does not know.
    TimeZone(String),
    /// TLS could not be set up.
    Tls(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::BaseUrl(u) => {
                write!(f, "base URL {u:?}: expected https://host[:port]/path")
            }
            ConfigError::PlainHttp(u) => write!(
                f,
                "base URL {u:?}: plain http:// is only allowed to a loopback host (127.0.0.1, ::1, localhost)"
            ),
            ConfigError::TimeZone(z) => {
                write!(f, "time zone {z}: known zones are KST, JST, UTC and GMT")
            }
            ConfigError::Tls(e) => write!(f, "TLS: {e}"),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Where requests go, read from a base URL.
#[derive(Clone, Debug)]
struct Origin {
    https: bool,
    /// The host to connect to and to verify the certificate of (no brackets, no port).
    host: String,
    port: u16,
    /// The `Host` header and the path prefix.
    target: Target,
}

/// Splits and checks a base URL.
fn parse_base_url(url: &str) -> Result<Origin, ConfigError> {
    let bad = || ConfigError::BaseUrl(url.to_string());
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(bad());
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    if authority.is_empty()
        || path.ends_with('/')
        || path.contains(['?', '#', ' '])
        || authority.contains(['@', ' '])
    {
        return Err(bad());
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(bad)?;
        (h, after.strip_prefix(':'))
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(bad());
    }
    let port = match port {
        None => {
            if https {
                443
            } else {
                80
            }
        }
        Some(p) => p.parse::<u16>().map_err(|_| bad())?,
    };
    if !https && !is_loopback(host) {
        return Err(ConfigError::PlainHttp(url.to_string()));
    }
    let base_path = BasePath::parse(if path.is_empty() { "/" } else { path }).map_err(|_| bad())?;
    let target = Target {
        host: Host::parse(authority).map_err(|_| bad())?,
        base_path,
    };
    Ok(Origin {
        https,
        host: host.to_string(),
        port,
        target,
    })
}

fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// A request that failed. Every variant says whether the platform may have received it.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Rejected before anything was sent (bad input, missing key or configuration).
    Rejected(Rejection),
    /// Nothing reached the platform: DNS failure, connection refused, connect timeout.
    NotSent {
        /// The request's Correlation-Id.
        correlation_id: CorrelationId,
        /// What happened.
        reason: String,
    },
    /// The request may have been received and processed; its outcome is unknown. For a
    /// charge or a cancellation, learn it with the result inquiry using the same sequenceId.
    OutcomeUnknown {
        /// The request's Correlation-Id.
        correlation_id: CorrelationId,
        /// What happened.
        reason: Unknown,
    },
}

/// Why a request was rejected locally.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Rejection {
    /// Encoding failed (buffer, missing crypto key id, key wrap).
    Encode(EncodeError),
    /// The request is Encrypted but no server public key is configured.
    MissingServerPublicKey,
    /// The system clock is outside the range the platform accepts.
    Clock(String),
}

/// Why an outcome is unknown.
#[derive(Debug)]
#[non_exhaustive]
pub enum Unknown {
    /// A timeout after the connection was made.
    Timeout(String),
    /// The connection broke after it was made (reset, closed early, TLS failure, ...).
    Connection(String),
    /// HTTP 5xx: the platform or a gateway failed; the request may have been processed.
    ServerError {
        /// HTTP status.
        status: u16,
    },
    /// The response could not be decoded (truncated, not JSON, missing fields, encrypted
    /// without a client key, ...).
    Decode {
        /// HTTP status.
        status: u16,
        /// The decoder's error.
        error: DecodeError,
    },
    /// The response exceeded [`ClientConfig::max_response_bytes`] (and 4 KiB for its head).
    TooLarge {
        /// The limit.
        limit: usize,
    },
}

impl fmt::Display for Unknown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unknown::Timeout(s) => write!(f, "timeout: {s}"),
            Unknown::Connection(s) => write!(f, "connection failed after connecting: {s}"),
            Unknown::ServerError { status } => write!(f, "HTTP {status} from the server"),
            Unknown::Decode { status, error } => {
                write!(f, "undecodable response (HTTP {status}): {error}")
            }
            Unknown::TooLarge { limit } => write!(f, "response body larger than {limit} bytes"),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Rejected(Rejection::Encode(e)) => write!(f, "request rejected, nothing sent: {e}"),
            Error::Rejected(Rejection::MissingServerPublicKey) => f.write_str(
                "request rejected, nothing sent: this request is Encrypted and needs the server public key",
            ),
            Error::Rejected(Rejection::Clock(e)) => {
                write!(f, "request rejected, nothing sent: system clock: {e}")
            }
            Error::NotSent { correlation_id, reason } => {
                write!(f, "not sent (correlation id {correlation_id}): {reason}")
            }
            Error::OutcomeUnknown { correlation_id, reason } => {
                write!(f, "outcome unknown (correlation id {correlation_id}): {reason}")
            }
        }
    }
}

impl std::error::Error for Error {}

impl Error {
    /// `true` when the platform may have processed the request.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, Error::OutcomeUnknown { .. })
    }
}

/// One completed exchange: the decoded reply and what identifies it.
#[derive(Debug)]
pub struct Exchange<E: Endpoint> {
    /// HTTP status.
    pub status: u16,
    /// The Correlation-Id we sent.
    pub correlation_id: CorrelationId,
    /// The Correlation-Id the platform echoed, when it did.
    pub response_correlation_id: Option<CorrelationId>,
    /// The response body was JWE-encrypted (and was decrypted).
    pub encrypted_response: bool,
    /// The envelope and fields.
    pub reply: ReplyOf<E>,
}

/// Why a transport stopped: what the driver of a call needs to say (the call itself knows
/// whether any byte of the request left).
#[derive(Debug)]
pub(crate) enum Transport {
    /// Nothing could be connected, or a timeout.
    Io(io::Error),
    /// The call stopped (zero-byte write, framing, a response too large).
    Call(CallError),
}

/// The blocking client. Cheap to share by reference across threads.
pub struct Client {
    config: ClientConfig,
    session: Session,
    endpoint: Origin,
    tls: Option<Arc<rustls::ClientConfig>>,
    offset_minutes: i32,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A TCP connection, with TLS over it for `https://`.
enum Conn {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Conn {
    fn socket(&self) -> &TcpStream {
        match self {
            Conn::Plain(s) => s,
            Conn::Tls(t) => &t.sock,
        }
    }
    /// Bounds the next read or write by what is left before `deadline`.
    fn until(&self, deadline: Instant) -> io::Result<()> {
        bound(self.socket(), deadline)
    }
}

/// Bounds the next reads and writes on `sock` by what is left before `deadline`.
fn bound(sock: &TcpStream, deadline: Instant) -> io::Result<()> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::Error::new(io::ErrorKind::TimedOut, "timed out"));
    }
    sock.set_read_timeout(Some(left))?;
    sock.set_write_timeout(Some(left))
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf),
            Conn::Tls(t) => t.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(s) => s.write(buf),
            Conn::Tls(t) => t.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(s) => s.flush(),
            Conn::Tls(t) => t.flush(),
        }
    }
}

impl Client {
    /// Checks the configuration and prepares TLS (the webpki roots, any extra roots and
    /// pins). Every call uses a fresh connection, so a failure is never blamed on a stale
    /// socket.
    pub fn new(config: ClientConfig) -> Result<Self, ConfigError> {
        let endpoint = parse_base_url(&config.base_url)?;
        let offset_minutes = clock::zone_offset_minutes(&config.time_zone)
            .ok_or_else(|| ConfigError::TimeZone(config.time_zone.to_string()))?;
        let credentials = Credentials::new(
            config.asp_id,
            config.access_key.clone(),
            &config.secret_key,
            config.crypto_key_id,
        );
        if !endpoint.https && !config.pins.is_empty() {
            return Err(ConfigError::Tls(
                "pinned keys (--pin-sha256) need an https:// base URL".into(),
            ));
        }
        let tls = if endpoint.https {
            let cfg =
                tls::client_config(&config.extra_roots, &config.pins).map_err(ConfigError::Tls)?;
            Some(Arc::new(cfg))
        } else {
            None
        };
        let session = Session::new(credentials, endpoint.target);
        Ok(Self {
            config,
            session,
            endpoint,
            tls,
            offset_minutes,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The credentials and target every request of this client is made with.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Sends `req` to its endpoint and decodes the reply. Encrypted requests are sent as JWE;
    /// any `encData` answer is decrypted with the client key. HTTP 5xx and undecodable
    /// bodies are [`Error::OutcomeUnknown`].
    ///
    /// Money requests (a charge, its cancellation, a refund) do not compile here: they belong
    /// in [`crate::money::run`], which journals them before the send and finds out what became
    /// of a lost answer. A tool that keeps its own durable record says so by name:
    /// [`Client::send_without_journal`].
    ///
    /// ```compile_fail
    /// // error: `Charge` moves money: drive it through the journaled money flow
    /// fn f(c: &konaplate::Client, r: &konaplate::core::api::ChargeRequest) { let _ = c.send(r); }
    /// ```
    /// ```compile_fail
    /// fn f(c: &konaplate::Client, r: &konaplate::core::api::CancelRequest) { let _ = c.send(r); }
    /// ```
    /// ```compile_fail
    /// fn f(c: &konaplate::Client, r: &konaplate::core::api::RefundRequest) { let _ = c.send(r); }
    /// ```
    /// ```no_run
    /// // what does compile: the rest, and money by its deliberate name
    /// use konaplate::core::api::*;
    /// fn f(c: &konaplate::Client, q: &ChargeResultRequest, r: &ChargeRequest, x: &CancelRequest,
    ///     f: &RefundRequest) {
    ///     let _ = c.send(q);
    ///     let _ = (c.send_without_journal(r), c.send_without_journal(x), c.send_without_journal(f));
    /// }
    /// ```
    pub fn send<R: Request>(&self, req: &R) -> Result<Exchange<R::Endpoint>, Error>
    where
        R::Endpoint: MovesNoMoney,
        ReplyOf<R::Endpoint>: AnyReply,
    {
        self.send_without_journal(req)
    }

    /// [`Client::send`] for any request, money requests included, **without a journal**: sent
    /// once, its answer decoded, nothing written ahead and no inquiry after a lost answer (an
    /// [`Error::OutcomeUnknown`] charge may or may not have been made). Only for a tool that
    /// keeps its own durable record of every sequenceId before it calls this; everyone else
    /// drives money through [`crate::money::run`].
    pub fn send_without_journal<R: Request>(&self, req: &R) -> Result<Exchange<R::Endpoint>, Error>
    where
        ReplyOf<R::Endpoint>: AnyReply,
    {
        let mut buf = self.buffer();
        let mut crypto = self.crypto();
        let mut call = self.call(req, &mut crypto, &mut buf)?;
        let correlation_id = *call.correlation_id();
        let unknown = |reason| Error::OutcomeUnknown {
            correlation_id,
            reason,
        };
        if let Err(t) = self.exchange(&mut call, &mut buf) {
            return Err(match (call.abort(&mut buf), t) {
                (Delivery::NotSent, Transport::Io(e)) => Error::NotSent {
                    correlation_id,
                    reason: e.to_string(),
                },
                (_, t) => unknown(unknown_of(t, &self.config)),
            });
        }
        let mut reply = ReplyOf::<R::Endpoint>::empty();
        let answered = call
            .finish(&mut buf, &mut crypto, &mut reply)
            .map_err(|e| unknown(unknown_of(Transport::Call(e), &self.config)))?;
        if answered.head.status >= 500 {
            return Err(unknown(Unknown::ServerError {
                status: answered.head.status,
            }));
        }
        Ok(Exchange {
            status: answered.head.status,
            correlation_id,
            response_correlation_id: answered.head.correlation_id,
            encrypted_response: answered.encrypted,
            reply,
        })
    }

    /// Encodes and signs `req` as it would be sent now, without sending it: every local
    /// rejection (a missing key, a clock out of range, a buffer) shows here, so a
    /// money-moving call can be refused before it is journaled.
    pub fn check<R: Request>(&self, req: &R) -> Result<(), Error> {
        let mut buf = self.buffer();
        let mut call = self.call(req, self.crypto(), &mut buf)?;
        call.abort(&mut buf);
        Ok(())
    }

    /// The call for `req`, encoded now (the core decides whether to encrypt).
    fn call<R: Request>(
        &self,
        req: &R,
        crypto: impl Crypto,
        buf: &mut [u8],
    ) -> Result<Call, Error> {
        let stamp = self.stamp()?;
        Call::new(&self.session, &stamp, req, crypto, buf).map_err(rejected)
    }

    /// A stamp for a request made now.
    pub(crate) fn stamp(&self) -> Result<Stamp, Error> {
        clock::stamp(self.config.time_zone, self.offset_minutes)
            .map_err(|e| Error::Rejected(Rejection::Clock(e.to_string())))
    }

    /// A buffer for one call: the request, then the whole response (head and body).
    pub(crate) fn buffer(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(vec![
            0u8;
            self.config.max_response_bytes.saturating_add(4096)
        ])
    }

    /// The keys of this client and fresh randomness, lent to the core for one request.
    pub(crate) fn crypto(&self) -> StdCrypto<'_> {
        let mut cek = [0u8; 16];
        let mut iv = [0u8; 12];
        clock::random_bytes(&mut cek);
        clock::random_bytes(&mut iv);
        StdCrypto {
            server: self.config.server_public_key.as_ref(),
            client: self.config.client_private_key.as_ref(),
            cek,
            iv,
        }
    }

    /// Moves the bytes of `call`: connects (TCP, then TLS for `https://`) within the connect
    /// timeout, then writes the request and reads the answer within the read timeout.
    pub(crate) fn exchange(&self, call: &mut Call, buf: &mut [u8]) -> Result<(), Transport> {
        let mut conn = self.connect().map_err(Transport::Io)?;
        let deadline = Instant::now() + self.config.read_timeout;
        while !call.outgoing(buf).is_empty() {
            conn.until(deadline).map_err(Transport::Io)?;
            let n = conn.write(call.outgoing(buf)).map_err(Transport::Io)?;
            call.sent(buf, n).map_err(Transport::Call)?;
        }
        conn.until(deadline).map_err(Transport::Io)?;
        conn.flush().map_err(Transport::Io)?;
        loop {
            conn.until(deadline).map_err(Transport::Io)?;
            let space = call.incoming(buf).map_err(Transport::Call)?;
            let n = match conn.read(space) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Transport::Io(e)),
            };
            if call.received(buf, n).map_err(Transport::Call)? == Progress::Complete {
                return Ok(());
            }
        }
    }

    /// A new connection, TLS handshake included: nothing of a request is written before it
    /// is complete, so a failure here is "not sent".
    fn connect(&self) -> io::Result<Conn> {
        let e = &self.endpoint;
        let deadline = Instant::now() + self.config.connect_timeout;
        let mut last = io::Error::new(io::ErrorKind::NotFound, "host not found");
        let mut sock = None;
        for addr in (e.host.as_str(), e.port).to_socket_addrs()? {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                last = io::Error::new(io::ErrorKind::TimedOut, "connect timeout");
                break;
            }
            match TcpStream::connect_timeout(&addr, left) {
                Ok(s) => {
                    sock = Some(s);
                    break;
                }
                Err(err) => last = err,
            }
        }
        let sock = sock.ok_or(last)?;
        sock.set_nodelay(true)?;
        let Some(tls) = &self.tls else {
            return Ok(Conn::Plain(sock));
        };
        let name = rustls::pki_types::ServerName::try_from(e.host.clone())
            .map_err(|err| io::Error::new(io::ErrorKind::InvalidInput, err))?;
        let conn = rustls::ClientConnection::new(tls.clone(), name).map_err(io::Error::other)?;
        let mut stream = rustls::StreamOwned::new(conn, sock);
        while stream.conn.is_handshaking() {
            bound(&stream.sock, deadline)?;
            stream.conn.complete_io(&mut stream.sock)?;
        }
        Ok(Conn::Tls(Box::new(stream)))
    }
}

fn rejected(e: EncodeError) -> Error {
    match e {
        EncodeError::EncryptionRequired { .. } => {
            Error::Rejected(Rejection::MissingServerPublicKey)
        }
        e => Error::Rejected(Rejection::Encode(e)),
    }
}

/// What an outcome-unknown failure was.
pub(crate) fn unknown_of(t: Transport, config: &ClientConfig) -> Unknown {
    match t {
        Transport::Io(e)
            if matches!(
                e.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) =>
        {
            Unknown::Timeout(e.to_string())
        }
        Transport::Io(e) => Unknown::Connection(e.to_string()),
        Transport::Call(CallError::Http(
            HttpError::BodyTooLarge { .. } | HttpError::HeadTooLarge { .. },
        )) => Unknown::TooLarge {
            limit: config.max_response_bytes,
        },
        Transport::Call(CallError::Body { status, .. }) if status >= 500 => {
            Unknown::ServerError { status }
        }
        Transport::Call(CallError::Body { status, error }) => Unknown::Decode { status, error },
        Transport::Call(e) => Unknown::Connection(e.to_string()),
    }
}

/// The client's keys as the core's [`Crypto`]: the platform's public key for requests, the
/// client's private key for answers, and one request's randomness (zeroized on drop).
pub(crate) struct StdCrypto<'a> {
    server: Option<&'a ServerPublicKey>,
    client: Option<&'a ClientPrivateKey>,
    cek: [u8; 16],
    iv: [u8; 12],
}

impl Crypto for StdCrypto<'_> {
    fn seal(&mut self) -> Option<SealKeys<'_>> {
        let wrap = self.server.as_mut()?;
        Some(SealKeys {
            wrap,
            cek: &self.cek,
            iv: &self.iv,
        })
    }
    fn unwrap(&mut self) -> Option<&mut dyn KeyUnwrap> {
        Some(self.client.as_mut()? as &mut dyn KeyUnwrap)
    }
}

impl Drop for StdCrypto<'_> {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.cek);
        zeroize::Zeroize::zeroize(&mut self.iv);
    }
}
