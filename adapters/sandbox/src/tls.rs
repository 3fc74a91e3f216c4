//! A TLS 1.3 front for the sandbox (rustls), with test certificates: what tests of the TLS
//! clients connect to. It relays the plaintext of each connection to a sandbox and counts
//! the request bytes it received, so a test can tell that a refused connection carried none.
//!
//! What it presents is chosen per front ([`Presented`]): a P-256 or a 2048-bit RSA server key
//! with its certificate, both from the sandbox's test CA ([`TEST_CA_PEM`]), or one of the
//! ways a man in the middle would fail: another key under the same name, a certificate whose
//! `CertificateVerify` is signed by another key, an empty certificate list, a certificate
//! that is not X.509. The keys are test keys, published here: never trust [`TEST_CA_PEM`]
//! outside a test.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// The test CA that issued the server certificates below (P-256).
pub const TEST_CA_PEM: &str = include_str!("../tls/ca.pem");
/// A P-256 server certificate for `localhost` and `127.0.0.1`.
pub const P256_CERT_PEM: &str = include_str!("../tls/p256.pem");
const P256_KEY_PEM: &str = include_str!("../tls/p256.key");
/// A 2048-bit RSA server certificate for `localhost` and `127.0.0.1`.
pub const RSA_CERT_PEM: &str = include_str!("../tls/rsa.pem");
const RSA_KEY_PEM: &str = include_str!("../tls/rsa.key");
/// Another P-256 key's certificate under the same names, from the same CA.
pub const OTHER_CERT_PEM: &str = include_str!("../tls/other.pem");
const OTHER_KEY_PEM: &str = include_str!("../tls/other.key");

/// What a [`TlsFront`] presents in its handshakes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presented {
    /// The P-256 certificate, signed with its key.
    P256,
    /// The RSA certificate, signed with its key (RSA-PSS).
    Rsa,
    /// Another key's certificate under the same name (a valid chain to the same CA).
    OtherKey,
    /// The P-256 certificate, but the `CertificateVerify` signed with another key.
    WrongSigner,
    /// An empty certificate list (and a `CertificateVerify` by the P-256 key).
    EmptyList,
    /// One "certificate" that is not X.509 (and a `CertificateVerify` by the P-256 key).
    NotX509,
}

fn cert(pem: &str) -> io::Result<CertificateDer<'static>> {
    CertificateDer::from_pem_slice(pem.as_bytes()).map_err(io::Error::other)
}

fn signing_key(
    provider: &rustls::crypto::CryptoProvider,
    pem: &str,
) -> io::Result<Arc<dyn rustls::sign::SigningKey>> {
    let der = PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(io::Error::other)?;
    provider
        .key_provider
        .load_private_key(der)
        .map_err(io::Error::other)
}

impl Presented {
    fn certified_key(self, provider: &rustls::crypto::CryptoProvider) -> io::Result<CertifiedKey> {
        let (chain, key) = match self {
            Presented::P256 => (vec![cert(P256_CERT_PEM)?], P256_KEY_PEM),
            Presented::Rsa => (vec![cert(RSA_CERT_PEM)?], RSA_KEY_PEM),
            Presented::OtherKey => (vec![cert(OTHER_CERT_PEM)?], OTHER_KEY_PEM),
            Presented::WrongSigner => (vec![cert(P256_CERT_PEM)?], OTHER_KEY_PEM),
            Presented::EmptyList => (vec![], P256_KEY_PEM),
            Presented::NotX509 => (
                vec![CertificateDer::from(b"not a certificate at all".to_vec())],
                P256_KEY_PEM,
            ),
        };
        // no consistency check between chain and key: the broken cases are the point
        Ok(CertifiedKey::new(chain, signing_key(provider, key)?))
    }
}

#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl ResolvesServerCert for Fixed {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

/// A TLS 1.3 server on 127.0.0.1 relaying every connection's plaintext to `backend`.
pub struct TlsFront {
    addr: SocketAddr,
    received: Arc<AtomicUsize>,
    handshakes: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    threads: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: Option<JoinHandle<()>>,
}

impl TlsFront {
    /// Starts a front presenting `presented`, relaying to `backend` (a sandbox's address).
    pub fn start(backend: SocketAddr, presented: Presented) -> io::Result<TlsFront> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = Arc::new(presented.certified_key(&provider)?);
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(io::Error::other)?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Fixed(key)));
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let received = Arc::new(AtomicUsize::new(0));
        let handshakes = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let threads = Arc::new(Mutex::new(Vec::new()));
        let accept = {
            let (received, handshakes, stop, threads) = (
                received.clone(),
                handshakes.clone(),
                stop.clone(),
                threads.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((sock, _)) => {
                            let (config, received, handshakes, stop) = (
                                config.clone(),
                                received.clone(),
                                handshakes.clone(),
                                stop.clone(),
                            );
                            let t = std::thread::spawn(move || {
                                let _ = relay(sock, backend, config, &received, &handshakes, &stop);
                            });
                            if let Ok(mut v) = threads.lock() {
                                v.push(t);
                            }
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        Ok(TlsFront {
            addr,
            received,
            handshakes,
            stop,
            threads,
            accept: Some(accept),
        })
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:port/open-api`: a base URL for the std client.
    pub fn base_url(&self) -> String {
        format!("https://{}/open-api", self.addr)
    }

    /// Plaintext bytes received from clients after their handshakes (requests), in total.
    pub fn request_bytes_received(&self) -> usize {
        self.received.load(Ordering::SeqCst)
    }

    /// Handshakes completed from the server's side.
    pub fn handshakes_completed(&self) -> usize {
        self.handshakes.load(Ordering::SeqCst)
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
        let threads = self
            .threads
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default();
        for t in threads {
            let _ = t.join();
        }
    }
}

/// One connection: the handshake, then plaintext both ways until both sides are done.
fn relay(
    sock: TcpStream,
    backend: SocketAddr,
    config: Arc<rustls::ServerConfig>,
    received: &AtomicUsize,
    handshakes: &AtomicUsize,
    stop: &AtomicBool,
) -> io::Result<()> {
    sock.set_nonblocking(false)?;
    sock.set_read_timeout(Some(Duration::from_secs(10)))?;
    let conn = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
    let mut tls = rustls::StreamOwned::new(conn, sock);
    while tls.conn.is_handshaking() {
        tls.conn.complete_io(&mut tls.sock)?;
    }
    handshakes.fetch_add(1, Ordering::SeqCst);
    tls.sock.set_read_timeout(Some(Duration::from_millis(5)))?;
    let mut back: Option<TcpStream> = None;
    let mut buf = [0u8; 16 * 1024];
    let (mut client_done, mut backend_done) = (false, false);
    let mut idle = 0u32;
    while !(stop.load(Ordering::SeqCst) || client_done && backend_done) && idle < 2000 {
        let mut moved = false;
        if !client_done {
            match tls.read(&mut buf) {
                Ok(0) => {
                    client_done = true;
                    if let Some(b) = &back {
                        let _ = b.shutdown(Shutdown::Write);
                    } else {
                        backend_done = true;
                    }
                }
                Ok(n) => {
                    received.fetch_add(n, Ordering::SeqCst);
                    if back.is_none() {
                        let b = TcpStream::connect(backend)?;
                        b.set_read_timeout(Some(Duration::from_millis(5)))?;
                        back = Some(b);
                    }
                    if let Some(b) = back.as_mut() {
                        b.write_all(buf.get(..n).unwrap_or(&[]))?;
                    }
                    moved = true;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => {
                    client_done = true;
                    backend_done = back.is_none();
                }
            }
        }
        if let (Some(b), false) = (back.as_mut(), backend_done) {
            match b.read(&mut buf) {
                Ok(0) => {
                    backend_done = true;
                    tls.conn.send_close_notify();
                    let _ = tls.flush();
                }
                Ok(n) => {
                    tls.write_all(buf.get(..n).unwrap_or(&[]))?;
                    tls.flush()?;
                    moved = true;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => backend_done = true,
            }
        }
        idle = if moved { 0 } else { idle + 1 };
    }
    Ok(())
}
