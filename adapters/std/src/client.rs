//! The blocking HTTPS client (ureq 3 + rustls).

use std::fmt;
use std::time::Duration;

use konaplate_core::api::{Endpoint, ReplyOf, Request};
use konaplate_core::error::{DecodeError, EncodeError};
use konaplate_core::field::{
    AccessKey, AspId, CorrelationId, CryptoKeyId, Host, SecretKey, TimeZone,
};
use konaplate_core::jwe::{Crypto, KeyUnwrap, SealKeys};
use konaplate_core::request::{Credentials, Session, SignedHeaders, Target, encode_body};
use konaplate_core::response::open_body;

use crate::clock;
use crate::keys::{ClientPrivateKey, ServerPublicKey};

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
}

impl ClientConfig {
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
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            max_response_bytes: 16 * 1024,
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
        }
    }
}

impl std::error::Error for ConfigError {}

/// Splits and checks a base URL: returns (https, host, port-less host for loopback check).
fn check_base_url(url: &str) -> Result<(), ConfigError> {
    let bad = || ConfigError::BaseUrl(url.to_string());
    let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(bad());
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if authority.is_empty()
        || path.ends_with('/')
        || path.contains(['?', '#', ' '])
        || authority.contains(['@', ' '])
    {
        return Err(bad());
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    if host.is_empty() {
        return Err(bad());
    }
    if !https && !is_loopback(host) {
        return Err(ConfigError::PlainHttp(url.to_string()));
    }
    Ok(())
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
    /// The response body exceeded [`ClientConfig::max_response_bytes`].
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
    /// The Correlation-Id the platform echoed, verbatim.
    pub response_correlation_id: Option<String>,
    /// The response body was JWE-encrypted (and was decrypted).
    pub encrypted_response: bool,
    /// The envelope and fields.
    pub reply: ReplyOf<E>,
}

/// A response as received: status and plaintext body (decrypted if it was `encData`).
pub struct RawReply {
    /// HTTP status.
    pub status: u16,
    /// The Correlation-Id we sent.
    pub correlation_id: CorrelationId,
    /// The Correlation-Id echoed, verbatim.
    pub response_correlation_id: Option<String>,
    /// The body was JWE-encrypted.
    pub encrypted: bool,
    /// The plaintext body (zeroized on drop: it may hold a one-time token).
    pub body: zeroize::Zeroizing<Vec<u8>>,
}

impl fmt::Debug for RawReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RawReply")
            .field("status", &self.status)
            .field("correlation_id", &self.correlation_id)
            .field("encrypted", &self.encrypted)
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// The blocking client. Cheap to share by reference across threads.
pub struct Client {
    config: ClientConfig,
    session: Session,
    agent: ureq::Agent,
    offset_minutes: i32,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Checks the configuration and builds the HTTP agent (no pooled connections: every call
    /// uses a fresh connection, so a failure is never blamed on a stale socket).
    pub fn new(config: ClientConfig) -> Result<Self, ConfigError> {
        check_base_url(&config.base_url)?;
        let offset_minutes = clock::zone_offset_minutes(&config.time_zone)
            .ok_or_else(|| ConfigError::TimeZone(config.time_zone.to_string()))?;
        let credentials = Credentials::new(
            config.asp_id,
            config.access_key.clone(),
            &config.secret_key,
            config.crypto_key_id,
        );
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .max_idle_connections(0)
            .timeout_connect(Some(config.connect_timeout))
            .timeout_resolve(Some(config.connect_timeout))
            .timeout_send_request(Some(config.read_timeout))
            .timeout_send_body(Some(config.read_timeout))
            .timeout_recv_response(Some(config.read_timeout))
            .timeout_recv_body(Some(config.read_timeout))
            .build()
            .into();
        // the Host header and prefix are ureq's to write; the signature covers only the body
        let target =
            Target::new(Host::parse("konaplate").unwrap_or_else(|_| unreachable!("valid host")));
        Ok(Self {
            config,
            session: Session::new(credentials, target),
            agent,
            offset_minutes,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// Sends `req` to its endpoint and decodes the reply. Encrypted requests are sent as JWE;
    /// any `encData` answer is decrypted with the client key. HTTP 5xx and undecodable
    /// bodies are [`Error::OutcomeUnknown`].
    pub fn send<R: Request>(&self, req: &R) -> Result<Exchange<R::Endpoint>, Error> {
        let raw = self.send_raw(req)?;
        let correlation_id = raw.correlation_id;
        if raw.status >= 500 {
            return Err(Error::OutcomeUnknown {
                correlation_id,
                reason: Unknown::ServerError { status: raw.status },
            });
        }
        let reply = konaplate_core::message::decode_reply(&raw.body).map_err(|error| {
            Error::OutcomeUnknown {
                correlation_id,
                reason: Unknown::Decode {
                    status: raw.status,
                    error,
                },
            }
        })?;
        Ok(Exchange {
            status: raw.status,
            correlation_id,
            response_correlation_id: raw.response_correlation_id.clone(),
            encrypted_response: raw.encrypted,
            reply,
        })
    }

    /// Encodes and signs `req` as it would be sent now, without sending it: every local
    /// rejection (a missing key, a clock out of range, a buffer) shows here, so a
    /// money-moving call can be refused before it is journaled.
    pub fn check<R: Request>(&self, req: &R) -> Result<(), Error> {
        self.encode(req).map(|_| ())
    }

    /// The body and signed headers of `req` (the core decides whether to encrypt).
    fn encode<R: Request>(
        &self,
        req: &R,
    ) -> Result<(zeroize::Zeroizing<Vec<u8>>, SignedHeaders), Error> {
        let stamp = clock::stamp(self.config.time_zone, self.offset_minutes)
            .map_err(|e| Error::Rejected(Rejection::Clock(e.to_string())))?;
        let mut buf = zeroize::Zeroizing::new(vec![0u8; 8192]);
        let (len, headers) = encode_body(&self.session, &stamp, req, self.crypto(), &mut buf)
            .map_err(|e| match e {
                EncodeError::EncryptionRequired { .. } => {
                    Error::Rejected(Rejection::MissingServerPublicKey)
                }
                e => Error::Rejected(Rejection::Encode(e)),
            })?;
        buf.truncate(len);
        Ok((buf, headers))
    }

    /// The keys of this client and fresh randomness, lent to the core for one request.
    fn crypto(&self) -> StdCrypto<'_> {
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

    /// Sends `req` and returns the HTTP status and the plaintext body (decrypted when it was
    /// `encData`), without interpreting them: what the recovery flow consumes. An encrypted
    /// body that cannot be decrypted is [`Error::OutcomeUnknown`].
    pub fn send_raw<R: Request>(&self, req: &R) -> Result<RawReply, Error> {
        let (body, headers) = self.encode(req)?;
        let correlation_id = headers.correlation_id;
        let (status, response_correlation_id, mut body) =
            self.post(<R::Endpoint as Endpoint>::PATH, &headers, &body)?;
        let (encrypted, range) =
            open_body(&mut body, self.crypto()).map_err(|error| Error::OutcomeUnknown {
                correlation_id,
                reason: Unknown::Decode { status, error },
            })?;
        if encrypted {
            let plain = body.get(range).unwrap_or(&[]).to_vec();
            zeroize::Zeroize::zeroize(&mut body);
            body = plain;
        }
        Ok(RawReply {
            status,
            correlation_id,
            response_correlation_id,
            encrypted,
            body: zeroize::Zeroizing::new(body),
        })
    }

    /// Posts `body` with the signed headers; returns status, echoed correlation id, body.
    fn post(
        &self,
        path: &str,
        headers: &SignedHeaders,
        body: &[u8],
    ) -> Result<(u16, Option<String>, Vec<u8>), Error> {
        let correlation_id = headers.correlation_id;
        let url = format!("{}{}", self.config.base_url, path);
        let mut rb = self
            .agent
            .post(&url)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json");
        for (name, value) in headers.iter() {
            rb = rb.header(name, value);
        }
        let mut resp = rb.send(body).map_err(|e| classify(e, correlation_id))?;
        let status = resp.status().as_u16();
        let echoed = resp
            .headers()
            .get("x-km-correlation-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let limit = self.config.max_response_bytes;
        let body = resp
            .body_mut()
            .with_config()
            .limit(limit as u64)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => Error::OutcomeUnknown {
                    correlation_id,
                    reason: Unknown::TooLarge { limit },
                },
                other => classify(other, correlation_id),
            })?;
        Ok((status, echoed, body))
    }
}

/// Maps a transport error: only failures that happen before a connection exists are
/// "not sent"; everything after is "outcome unknown".
fn classify(e: ureq::Error, correlation_id: CorrelationId) -> Error {
    use ureq::Timeout as T;
    let not_sent = |reason: String| Error::NotSent {
        correlation_id,
        reason,
    };
    let unknown = |reason| Error::OutcomeUnknown {
        correlation_id,
        reason,
    };
    match e {
        ureq::Error::HostNotFound => not_sent("host not found".into()),
        ureq::Error::ConnectionFailed => not_sent("connection failed".into()),
        // no application data is written before the TLS handshake completes
        ureq::Error::Tls(msg) => not_sent(format!("TLS: {msg}")),
        ureq::Error::Timeout(t @ (T::Resolve | T::Connect)) => not_sent(format!("{t} timeout")),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
            not_sent(format!("connection refused: {io}"))
        }
        ureq::Error::Timeout(t) => unknown(Unknown::Timeout(t.to_string())),
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
            unknown(Unknown::Timeout(io.to_string()))
        }
        other => unknown(Unknown::Connection(other.to_string())),
    }
}

/// The client's keys as the core's [`Crypto`]: the platform's public key for requests, the
/// client's private key for answers, and one request's randomness (zeroized on drop).
struct StdCrypto<'a> {
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
