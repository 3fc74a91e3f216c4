//! The pinned TLS of the embedded client (`konaplate_embedded::tls`, feature `tls`) over
//! loopback TLS 1.3: a rustls front for the sandbox with test certificates (P-256 and RSA),
//! and a bare server that skips server authentication the way a man in the middle would.
//!
//! The embedded client, blocking and async, issues a token (the software RSA wraps its key),
//! charges and cancels through the money driver (the cancellation's JWE answer opened by the
//! software RSA) and inquires, over the pinned connection. Refused, each with no request byte
//! received by the server: another key under the same name, a `CertificateVerify` signed by
//! another key, an empty certificate list, a certificate that is not X.509, and a handshake
//! without any `Certificate`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure is a failed test"
)]

use std::net::{SocketAddr, TcpStream};

use base64::Engine;
use embedded_io_adapters::std::FromStd;
use embedded_tls::Aes128GcmSha256;
use konaplate_core::api::{CancelRequest, ChargeRequest, ChargeResultRequest, TokenRequest};
use konaplate_core::field::*;
use konaplate_core::flow::{Flow, JournalRecord, Outcome, Policy};
use konaplate_core::pin::{Pin, certificate_spki};
use konaplate_core::prelude::*;
use konaplate_embedded::rsa::{OaepUnwrap, OaepWrap, RsaPrivateKey, RsaPublicKey};
use konaplate_embedded::tls::{self, OpenError, PinnedProvider, Refusal};
use konaplate_embedded::{BUFFER_ENCRYPTED, Keys};
use konaplate_sandbox::seed;
use konaplate_sandbox::tls::{OTHER_CERT_PEM, P256_CERT_PEM, Presented, RSA_CERT_PEM, TlsFront};

type BlockingTls<'b> =
    embedded_tls::blocking::TlsConnection<'b, FromStd<TcpStream>, Aes128GcmSha256>;

const RECORD: usize = 16_640;

fn der(pem: &str) -> Vec<u8> {
    let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap()
}

fn pin_of(cert_pem: &str) -> Pin {
    Pin::of_spki(certificate_spki(&der(cert_pem)).unwrap())
}

/// The pins of a till that trusts both test server keys (P-256 current, RSA backup).
fn pins() -> [Pin; 2] {
    [pin_of(P256_CERT_PEM), pin_of(RSA_CERT_PEM)]
}

fn session_for(addr: SocketAddr) -> Session {
    Session::new(
        Credentials::new(
            AspId::new(konaplate_sandbox::ASP_ID).unwrap(),
            AccessKey::new(konaplate_sandbox::ACCESS_KEY).unwrap(),
            &SecretKey::new(konaplate_sandbox::SECRET_KEY).unwrap(),
            Some(CryptoKeyId::new(konaplate_sandbox::CRYPTO_KEY_ID).unwrap()),
        ),
        Target {
            host: Host::parse(&addr.to_string()).unwrap(),
            base_path: BasePath::open_api(),
        },
    )
}

fn stamp() -> Stamp {
    konaplate::clock::stamp(TimeZone::KST, 540).unwrap()
}

/// A test random source for the RSA (OAEP seeds, blinding): the OS's.
fn random(out: &mut [u8]) {
    konaplate::clock::random_bytes(out);
}

/// The till's software RSA: the platform's public key, the till's private key.
struct SoftRsa {
    platform: RsaPublicKey,
    till: RsaPrivateKey,
}

impl SoftRsa {
    fn new() -> Self {
        SoftRsa {
            platform: RsaPublicKey::from_der(&der(konaplate_sandbox::SERVER_PUBLIC_KEY_PEM))
                .unwrap(),
            till: RsaPrivateKey::from_der(&der(konaplate_sandbox::CLIENT_PRIVATE_KEY_PEM)).unwrap(),
        }
    }
}

fn fresh() -> ([u8; 16], [u8; 12]) {
    let (mut cek, mut iv) = ([0u8; 16], [0u8; 12]);
    random(&mut cek);
    random(&mut iv);
    (cek, iv)
}

/// A blocking till whose connections are pinned TLS to the front.
struct TlsTill<'p> {
    addr: SocketAddr,
    config: embedded_tls::TlsConfig<'static>,
    provider: PinnedProvider<'p, Aes128GcmSha256, rand::rngs::OsRng>,
    rx: Box<[u8; RECORD]>,
    tx: Box<[u8; 4096]>,
    journal: Vec<JournalRecord>,
    refused: Vec<OpenError>,
}

impl<'p> TlsTill<'p> {
    fn new(addr: SocketAddr, pins: &'p [Pin]) -> Self {
        TlsTill {
            addr,
            config: tls::config("localhost"),
            provider: PinnedProvider::new(rand::rngs::OsRng, pins),
            rx: Box::new([0; RECORD]),
            tx: Box::new([0; 4096]),
            journal: Vec::new(),
            refused: Vec::new(),
        }
    }

    /// A pinned connection, or why not.
    fn open(&mut self) -> Result<BlockingTls<'_>, OpenError> {
        let sock = TcpStream::connect(self.addr).unwrap();
        sock.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let mut conn = BlockingTls::new(FromStd::new(sock), &mut self.rx[..], &mut self.tx[..]);
        tls::open(&mut conn, &self.config, &mut self.provider)?;
        Ok(conn)
    }
}

impl konaplate_embedded::Till for TlsTill<'_> {
    type Stream<'s>
        = BlockingTls<'s>
    where
        Self: 's;
    type Error = std::io::Error;
    fn now_ms(&mut self) -> u64 {
        konaplate::clock::unix_millis()
    }
    fn stamp(&mut self) -> Stamp {
        stamp()
    }
    fn connect(&mut self) -> Option<Self::Stream<'_>> {
        // a refused connection is a call not sent: the flow tries again later
        let sock = TcpStream::connect(self.addr).ok()?;
        sock.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .ok()?;
        let mut conn = BlockingTls::new(FromStd::new(sock), &mut self.rx[..], &mut self.tx[..]);
        match tls::open(&mut conn, &self.config, &mut self.provider) {
            Ok(()) => Some(conn),
            Err(e) => {
                self.refused.push(e);
                None
            }
        }
    }
    fn persist(&mut self, record: &JournalRecord) -> Result<(), std::io::Error> {
        self.journal
            .push(JournalRecord::decode(&record.encode()).unwrap());
        Ok(())
    }
    fn wait_until(&mut self, at_ms: u64) {
        let d = at_ms.saturating_sub(konaplate::clock::unix_millis());
        std::thread::sleep(std::time::Duration::from_millis(d.min(20)));
    }
}

fn token_request() -> TokenRequest {
    TokenRequest {
        card_no: CardNo::new(&seed::card_no(seed::HAPPY_CARD)).unwrap(),
        token_type: None,
    }
}

/// Token, charge (money driver), inquiry, cancel (money driver, JWE answer) over pinned TLS,
/// blocking, against a front presenting `presented`.
fn blocking_money_over(presented: Presented, prefix: &str) {
    let sb = konaplate_sandbox::Sandbox::start(Default::default()).unwrap();
    let front = TlsFront::start(sb.addr(), presented).unwrap();
    let session = session_for(front.addr());
    let pins = pins();
    let mut till = TlsTill::new(front.addr(), &pins);
    let mut rsa = SoftRsa::new();
    let mut buf = [0u8; BUFFER_ENCRYPTED];
    let token = |till: &mut TlsTill<'_>, rsa: &mut SoftRsa, buf: &mut [u8]| {
        let (mut r1, mut r2) = (random, random);
        let (cek, iv) = fresh();
        let keys = Keys {
            wrap: OaepWrap::new(&rsa.platform, &mut r1),
            unwrap: OaepUnwrap::new(&rsa.till, &mut r2),
            cek,
            iv,
        };
        let mut conn = till.open().unwrap();
        let (_, reply) =
            konaplate_embedded::call(&mut conn, &session, &stamp(), &token_request(), keys, buf)
                .unwrap();
        reply.into_result().unwrap()
    };

    // the charge, through the money driver over the till's pinned connections
    let t = token(&mut till, &mut rsa, &mut buf);
    let charge_id = format!("{prefix}-CHARGE");
    let charge = ChargeRequest {
        sequence_id: SequenceId::new(&charge_id).unwrap(),
        user_id: UserId::new(seed::HAPPY).unwrap(),
        amount: ChargeAmount::new(3_000).unwrap(),
        one_time_token: t.one_time_token,
        dcvv: t.dcvv,
        merchant_id: MerchantId::new(seed::MERCHANT).unwrap(),
    };
    let mut flow = Flow::start(charge, Policy::default(), konaplate::clock::unix_millis());
    let outcome =
        konaplate_embedded::drive(&mut till, &session, &mut flow, NoCrypto, &mut buf).unwrap();
    let Outcome::Completed {
        nr_number: Some(nr),
        ..
    } = outcome
    else {
        panic!("{outcome:?} (refused: {:?})", till.refused);
    };

    // the inquiry
    let mut conn = till.open().unwrap();
    let (_, reply) = konaplate_embedded::call(
        &mut conn,
        &session,
        &stamp(),
        &ChargeResultRequest {
            sequence_id: SequenceId::new(&charge_id).unwrap(),
        },
        NoCrypto,
        &mut buf,
    )
    .unwrap();
    drop(conn);
    assert_eq!(reply.into_result().unwrap().result, ChargeResult::Completed);

    // the cancellation: its answer is JWE, opened by the software RSA
    let t = token(&mut till, &mut rsa, &mut buf);
    let cancel = CancelRequest {
        sequence_id: SequenceId::new(&format!("{prefix}-CANCEL")).unwrap(),
        user_id: UserId::new(seed::HAPPY).unwrap(),
        nr_number: nr,
        one_time_token: t.one_time_token,
        dcvv: t.dcvv,
        card_expiry: None,
    };
    let (mut r1, mut r2) = (random, random);
    let (cek, iv) = fresh();
    let keys = Keys {
        wrap: OaepWrap::new(&rsa.platform, &mut r1),
        unwrap: OaepUnwrap::new(&rsa.till, &mut r2),
        cek,
        iv,
    };
    let mut flow = Flow::start(cancel, Policy::default(), konaplate::clock::unix_millis());
    let outcome =
        konaplate_embedded::drive(&mut till, &session, &mut flow, keys, &mut buf).unwrap();
    assert!(
        matches!(outcome, Outcome::Completed { .. }),
        "{outcome:?} (refused: {:?})",
        till.refused
    );

    assert!(till.refused.is_empty(), "{:?}", till.refused);
    assert!(sb.ledger().txn(&charge_id).is_some_and(|t| t.cancelled));
    assert!(front.request_bytes_received() > 0);
    assert!(
        front.handshakes_completed() >= 5,
        "every call on its own pinned connection"
    );
    assert!(buf.iter().all(|&b| b == 0), "nothing left in the buffer");
}

#[test]
fn blocking_money_over_pinned_tls_to_a_p256_server() {
    blocking_money_over(Presented::P256, "TLS-P256");
}

#[test]
fn blocking_money_over_pinned_tls_to_an_rsa_server() {
    blocking_money_over(Presented::Rsa, "TLS-RSA");
}

/// Each way a server can fail to prove it holds a pinned key is refused with its reason,
/// the request is never written, and the server receives no request byte; the money driver
/// sees "no connection" and never sends.
#[test]
fn unauthenticated_servers_are_refused_before_any_request_byte() {
    let sb = konaplate_sandbox::Sandbox::start(Default::default()).unwrap();
    let pins = pins();
    for (presented, expected) in [
        (Presented::OtherKey, Refusal::PinMismatch),
        (Presented::WrongSigner, Refusal::BadSignature),
        (Presented::EmptyList, Refusal::EmptyCertificateList),
        (Presented::NotX509, Refusal::NotX509),
    ] {
        let front = TlsFront::start(sb.addr(), presented).unwrap();
        let mut till = TlsTill::new(front.addr(), &pins);
        match till.open() {
            Err(e) => assert_eq!(e.refusal(), Some(expected), "{presented:?}: {e}"),
            Ok(_) => panic!("{presented:?}: accepted"),
        }
        // the driver: a charge never leaves
        let charge = ChargeRequest {
            sequence_id: SequenceId::new(&format!("REFUSED-{presented:?}")).unwrap(),
            user_id: UserId::new(seed::HAPPY).unwrap(),
            amount: ChargeAmount::new(1_000).unwrap(),
            one_time_token: OneTimeToken::new("0123456789012345").unwrap(),
            dcvv: Dcvv::new("123").unwrap(),
            merchant_id: MerchantId::new(seed::MERCHANT).unwrap(),
        };
        let policy = Policy {
            retry_ms: 10,
            ..Policy::default()
        };
        let mut flow = Flow::start(charge, policy, konaplate::clock::unix_millis());
        let mut buf = [0u8; BUFFER_ENCRYPTED];
        let session = session_for(front.addr());
        let outcome =
            konaplate_embedded::drive(&mut till, &session, &mut flow, NoCrypto, &mut buf).unwrap();
        assert_eq!(outcome, Outcome::NotProcessed, "{presented:?}");
        assert!(!till.refused.is_empty());
        assert!(
            till.refused.iter().all(|e| e.refusal() == Some(expected)),
            "{presented:?}: {:?}",
            till.refused
        );
        assert_eq!(front.request_bytes_received(), 0, "{presented:?}");
    }
    assert_eq!(sb.requests_received(), 0, "nothing reached the platform");
}

/// A till that pins only the other key refuses the real server's key, and one without pins
/// refuses everything.
#[test]
fn only_the_pinned_keys_are_accepted() {
    let sb = konaplate_sandbox::Sandbox::start(Default::default()).unwrap();
    let front = TlsFront::start(sb.addr(), Presented::P256).unwrap();
    let other = [pin_of(OTHER_CERT_PEM)];
    let e = TlsTill::new(front.addr(), &other).open().err().unwrap();
    assert_eq!(e.refusal(), Some(Refusal::PinMismatch));
    let e = TlsTill::new(front.addr(), &[]).open().err().unwrap();
    assert_eq!(e.refusal(), Some(Refusal::PinMismatch));
    // the backup pin alone is enough
    let backup = [pin_of(OTHER_CERT_PEM), pin_of(P256_CERT_PEM)];
    assert!(TlsTill::new(front.addr(), &backup).open().is_ok());
    assert_eq!(front.request_bytes_received(), 0);
}

/// A server that sends neither `Certificate` nor `CertificateVerify`: embedded-tls alone
/// completes the handshake and would send the request (shown first); the gate refuses it.
#[test]
fn a_handshake_without_a_certificate_is_refused_by_the_gate() {
    let bare = bare::Bare::start();
    let pins = pins();

    // embedded-tls by itself: the handshake completes, the verifier was never called
    let sock = TcpStream::connect(bare.addr()).unwrap();
    let (mut rx, mut tx) = (vec![0u8; RECORD], vec![0u8; 4096]);
    let mut conn = BlockingTls::new(FromStd::new(sock), &mut rx, &mut tx);
    let config = tls::config("localhost");
    let mut provider = PinnedProvider::<Aes128GcmSha256, _>::new(rand::rngs::OsRng, &pins);
    conn.open(embedded_tls::TlsContext::new(&config, &mut provider))
        .unwrap();
    assert_eq!(
        provider.verifier().authenticated(),
        Err(Refusal::NoCertificate)
    );
    use embedded_io::Write as _;
    conn.write_all(b"POST").unwrap();
    conn.flush().unwrap();
    drop(conn);
    bare.wait_connections(1);
    assert_eq!(
        bare.request_bytes_received(),
        4,
        "without the gate, bytes leave"
    );

    // through the gate: refused, nothing written
    let mut till = TlsTill::new(bare.addr(), &pins);
    let e = till.open().err().unwrap();
    assert_eq!(e.refusal(), Some(Refusal::NoCertificate), "{e}");
    bare.wait_connections(2);
    assert_eq!(
        bare.handshakes_completed(),
        2,
        "the handshake itself completed"
    );
    assert_eq!(
        bare.request_bytes_received(),
        4,
        "no byte of the refused connection"
    );
}

mod asynch_tls {
    use super::*;
    use embedded_io_adapters::tokio_1::FromTokio;
    use konaplate_embedded::asynch;

    type AsyncTls<'b> =
        embedded_tls::TlsConnection<'b, FromTokio<tokio::net::TcpStream>, Aes128GcmSha256>;

    struct AsyncTlsTill<'p> {
        addr: SocketAddr,
        config: embedded_tls::TlsConfig<'static>,
        provider: PinnedProvider<'p, Aes128GcmSha256, rand::rngs::OsRng>,
        rx: Box<[u8; RECORD]>,
        tx: Box<[u8; 4096]>,
        refused: Vec<OpenError>,
    }

    impl AsyncTlsTill<'_> {
        async fn open(&mut self) -> Result<AsyncTls<'_>, OpenError> {
            let sock = tokio::net::TcpStream::connect(self.addr).await.unwrap();
            let mut conn = AsyncTls::new(FromTokio::new(sock), &mut self.rx[..], &mut self.tx[..]);
            tls::open_async(&mut conn, &self.config, &mut self.provider).await?;
            Ok(conn)
        }
    }

    impl asynch::Till for AsyncTlsTill<'_> {
        type Stream<'s>
            = AsyncTls<'s>
        where
            Self: 's;
        type Error = std::io::Error;
        fn now_ms(&mut self) -> u64 {
            konaplate::clock::unix_millis()
        }
        fn stamp(&mut self) -> Stamp {
            stamp()
        }
        async fn connect(&mut self) -> Option<Self::Stream<'_>> {
            let sock = tokio::net::TcpStream::connect(self.addr).await.ok()?;
            let mut conn = AsyncTls::new(FromTokio::new(sock), &mut self.rx[..], &mut self.tx[..]);
            match tls::open_async(&mut conn, &self.config, &mut self.provider).await {
                Ok(()) => Some(conn),
                Err(e) => {
                    self.refused.push(e);
                    None
                }
            }
        }
        async fn persist(&mut self, _record: &JournalRecord) -> Result<(), std::io::Error> {
            Ok(())
        }
        async fn wait_until(&mut self, at_ms: u64) {
            let d = at_ms.saturating_sub(konaplate::clock::unix_millis());
            tokio::time::sleep(std::time::Duration::from_millis(d.min(20))).await;
        }
    }

    /// The async client: token, charge (driver), inquiry, cancel (driver, JWE answer) over
    /// pinned TLS to the RSA server, and a refusal of another key with no request byte.
    #[tokio::test(flavor = "current_thread")]
    async fn async_money_over_pinned_tls() {
        let sb = konaplate_sandbox::Sandbox::start(Default::default()).unwrap();
        let front = TlsFront::start(sb.addr(), Presented::Rsa).unwrap();
        let session = session_for(front.addr());
        let pins = pins();
        let mut till = AsyncTlsTill {
            addr: front.addr(),
            config: tls::config("localhost"),
            provider: PinnedProvider::new(rand::rngs::OsRng, &pins),
            rx: Box::new([0; RECORD]),
            tx: Box::new([0; 4096]),
            refused: Vec::new(),
        };
        let rsa = SoftRsa::new();
        let mut buf = [0u8; BUFFER_ENCRYPTED];
        let (mut r1, mut r2) = (random, random);

        let (cek, iv) = fresh();
        let keys = Keys {
            wrap: OaepWrap::new(&rsa.platform, &mut r1),
            unwrap: OaepUnwrap::new(&rsa.till, &mut r2),
            cek,
            iv,
        };
        let mut conn = till.open().await.unwrap();
        let (_, reply) = asynch::call(
            &mut conn,
            &session,
            &stamp(),
            &token_request(),
            keys,
            &mut buf,
        )
        .await
        .unwrap();
        drop(conn);
        let t = reply.into_result().unwrap();
        let charge = ChargeRequest {
            sequence_id: SequenceId::new("TLS-ASYNC-CHARGE").unwrap(),
            user_id: UserId::new(seed::HAPPY).unwrap(),
            amount: ChargeAmount::new(2_500).unwrap(),
            one_time_token: t.one_time_token,
            dcvv: t.dcvv,
            merchant_id: MerchantId::new(seed::MERCHANT).unwrap(),
        };
        let mut flow = Flow::start(charge, Policy::default(), konaplate::clock::unix_millis());
        let outcome = asynch::drive(&mut till, &session, &mut flow, NoCrypto, &mut buf)
            .await
            .unwrap();
        let Outcome::Completed {
            nr_number: Some(nr),
            ..
        } = outcome
        else {
            panic!("{outcome:?} {:?}", till.refused);
        };
        let mut conn = till.open().await.unwrap();
        let (_, reply) = asynch::call(
            &mut conn,
            &session,
            &stamp(),
            &ChargeResultRequest {
                sequence_id: SequenceId::new("TLS-ASYNC-CHARGE").unwrap(),
            },
            NoCrypto,
            &mut buf,
        )
        .await
        .unwrap();
        drop(conn);
        assert_eq!(reply.into_result().unwrap().result, ChargeResult::Completed);

        let (cek, iv) = fresh();
        let keys = Keys {
            wrap: OaepWrap::new(&rsa.platform, &mut r1),
            unwrap: OaepUnwrap::new(&rsa.till, &mut r2),
            cek,
            iv,
        };
        let mut conn = till.open().await.unwrap();
        let (_, reply) = asynch::call(
            &mut conn,
            &session,
            &stamp(),
            &token_request(),
            keys,
            &mut buf,
        )
        .await
        .unwrap();
        drop(conn);
        let t = reply.into_result().unwrap();
        let cancel = CancelRequest {
            sequence_id: SequenceId::new("TLS-ASYNC-CANCEL").unwrap(),
            user_id: UserId::new(seed::HAPPY).unwrap(),
            nr_number: nr,
            one_time_token: t.one_time_token,
            dcvv: t.dcvv,
            card_expiry: None,
        };
        let (cek, iv) = fresh();
        let keys = Keys {
            wrap: OaepWrap::new(&rsa.platform, &mut r1),
            unwrap: OaepUnwrap::new(&rsa.till, &mut r2),
            cek,
            iv,
        };
        let mut flow = Flow::start(cancel, Policy::default(), konaplate::clock::unix_millis());
        let outcome = asynch::drive(&mut till, &session, &mut flow, keys, &mut buf)
            .await
            .unwrap();
        assert!(matches!(outcome, Outcome::Completed { .. }), "{outcome:?}");
        assert!(till.refused.is_empty(), "{:?}", till.refused);
        assert!(
            sb.ledger()
                .txn("TLS-ASYNC-CHARGE")
                .is_some_and(|t| t.cancelled)
        );

        // another key under the same name: refused, nothing received
        let sb2 = konaplate_sandbox::Sandbox::start(Default::default()).unwrap();
        let evil = TlsFront::start(sb2.addr(), Presented::OtherKey).unwrap();
        till.addr = evil.addr();
        let e = till.open().await.err().unwrap();
        assert_eq!(e.refusal(), Some(Refusal::PinMismatch));
        assert_eq!(evil.request_bytes_received(), 0);
        assert_eq!(sb2.requests_received(), 0);
    }
}

/// A TLS 1.3 server that skips server authentication: ServerHello, then EncryptedExtensions
/// and Finished, with no `Certificate` and no `CertificateVerify` — what a man in the middle
/// would send. ECDHE on P-256, `TLS_AES_128_GCM_SHA256`, the RFC 8446 key schedule. It counts
/// the application bytes each client sends after its Finished.
mod bare {
    use std::io::{self, Read, Write};
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    use aes_gcm::aead::AeadInPlace;
    use aes_gcm::{Aes128Gcm, KeyInit, Nonce};
    use hkdf::Hkdf;
    use hmac::{Hmac, Mac};
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    use sha2::{Digest, Sha256};

    pub struct Bare {
        addr: SocketAddr,
        received: Arc<AtomicUsize>,
        handshakes: Arc<AtomicUsize>,
        connections: Arc<AtomicUsize>,
    }

    impl Bare {
        pub fn start() -> Bare {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let received = Arc::new(AtomicUsize::new(0));
            let handshakes = Arc::new(AtomicUsize::new(0));
            let connections = Arc::new(AtomicUsize::new(0));
            let (r, h, c) = (received.clone(), handshakes.clone(), connections.clone());
            std::thread::spawn(move || {
                for sock in listener.incoming().flatten() {
                    let _ = serve(sock, &r, &h);
                    c.fetch_add(1, Ordering::SeqCst);
                }
            });
            Bare {
                addr,
                received,
                handshakes,
                connections,
            }
        }
        pub fn addr(&self) -> SocketAddr {
            self.addr
        }
        pub fn request_bytes_received(&self) -> usize {
            self.received.load(Ordering::SeqCst)
        }
        pub fn handshakes_completed(&self) -> usize {
            self.handshakes.load(Ordering::SeqCst)
        }
        /// Waits until `n` connections have ended.
        pub fn wait_connections(&self, n: usize) {
            let t = Instant::now();
            while self.connections.load(Ordering::SeqCst) < n {
                assert!(
                    t.elapsed() < Duration::from_secs(10),
                    "the bare server is stuck"
                );
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }

    fn read_record(s: &mut TcpStream) -> io::Result<([u8; 5], Vec<u8>)> {
        let mut header = [0u8; 5];
        s.read_exact(&mut header)?;
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        let mut body = vec![0u8; len];
        s.read_exact(&mut body)?;
        Ok((header, body))
    }

    fn extract(salt: &[u8], ikm: &[u8]) -> Vec<u8> {
        Hkdf::<Sha256>::extract(Some(salt), ikm).0.to_vec()
    }

    fn expand_label(secret: &[u8], label: &str, context: &[u8], len: usize) -> Vec<u8> {
        let full = format!("tls13 {label}");
        let mut info = (len as u16).to_be_bytes().to_vec();
        info.push(full.len() as u8);
        info.extend(full.as_bytes());
        info.push(context.len() as u8);
        info.extend(context);
        let mut out = vec![0u8; len];
        Hkdf::<Sha256>::from_prk(secret)
            .unwrap()
            .expand(&info, &mut out)
            .unwrap();
        out
    }

    struct Traffic {
        cipher: Aes128Gcm,
        iv: Vec<u8>,
        seq: u64,
    }

    impl Traffic {
        fn new(secret: &[u8]) -> Self {
            Traffic {
                cipher: Aes128Gcm::new_from_slice(&expand_label(secret, "key", &[], 16)).unwrap(),
                iv: expand_label(secret, "iv", &[], 12),
                seq: 0,
            }
        }
        fn nonce(&mut self) -> [u8; 12] {
            let mut n = [0u8; 12];
            n.copy_from_slice(&self.iv);
            for (b, s) in n[4..].iter_mut().zip(self.seq.to_be_bytes()) {
                *b ^= s;
            }
            self.seq += 1;
            n
        }
        fn seal(&mut self, content_type: u8, data: &[u8]) -> Vec<u8> {
            let mut inner = data.to_vec();
            inner.push(content_type);
            let len = (inner.len() + 16) as u16;
            let header = [23, 3, 3, (len >> 8) as u8, len as u8];
            let nonce = self.nonce();
            self.cipher
                .encrypt_in_place(Nonce::from_slice(&nonce), &header, &mut inner)
                .unwrap();
            let mut out = header.to_vec();
            out.extend(inner);
            out
        }
        fn open(&mut self, header: &[u8; 5], body: &[u8]) -> Option<(u8, Vec<u8>)> {
            let mut data = body.to_vec();
            let nonce = self.nonce();
            self.cipher
                .decrypt_in_place(Nonce::from_slice(&nonce), header, &mut data)
                .ok()?;
            while data.last() == Some(&0) {
                data.pop();
            }
            let t = data.pop()?;
            Some((t, data))
        }
    }

    /// The client's P-256 key share from its ClientHello (a handshake message), and its
    /// legacy session id.
    fn client_share(ch: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let body = &ch[4..];
        let mut p = 2 + 32;
        let sid_len = usize::from(body[p]);
        let sid = body[p + 1..p + 1 + sid_len].to_vec();
        p += 1 + sid_len;
        let cs_len = usize::from(u16::from_be_bytes([body[p], body[p + 1]]));
        p += 2 + cs_len;
        let comp_len = usize::from(body[p]);
        p += 1 + comp_len;
        let ext_end = p + 2 + usize::from(u16::from_be_bytes([body[p], body[p + 1]]));
        p += 2;
        while p < ext_end {
            let ty = u16::from_be_bytes([body[p], body[p + 1]]);
            let len = usize::from(u16::from_be_bytes([body[p + 2], body[p + 3]]));
            let data = &body[p + 4..p + 4 + len];
            if ty == 0x0033 {
                let mut q = 2;
                while q < data.len() {
                    let group = u16::from_be_bytes([data[q], data[q + 1]]);
                    let klen = usize::from(u16::from_be_bytes([data[q + 2], data[q + 3]]));
                    if group == 0x0017 {
                        return (data[q + 4..q + 4 + klen].to_vec(), sid);
                    }
                    q += 4 + klen;
                }
            }
            p += 4 + len;
        }
        panic!("no P-256 key share in the ClientHello");
    }

    fn handshake_message(ty: u8, body: &[u8]) -> Vec<u8> {
        let len = body.len() as u32;
        let mut m = vec![ty, (len >> 16) as u8, (len >> 8) as u8, len as u8];
        m.extend(body);
        m
    }

    fn serve(mut s: TcpStream, received: &AtomicUsize, handshakes: &AtomicUsize) -> io::Result<()> {
        s.set_read_timeout(Some(Duration::from_secs(5)))?;
        let (header, ch) = read_record(&mut s)?;
        assert_eq!(header[0], 22, "a ClientHello record");
        let (share, sid) = client_share(&ch);
        let secret = p256::ecdh::EphemeralSecret::random(&mut rand::rngs::OsRng);
        let ours = secret.public_key().to_encoded_point(false);
        let theirs = p256::PublicKey::from_sec1_bytes(&share).unwrap();
        let shared = secret.diffie_hellman(&theirs);

        let mut sh = vec![3, 3];
        sh.extend([0x5A; 32]);
        sh.push(sid.len() as u8);
        sh.extend(&sid);
        sh.extend([0x13, 0x01, 0x00]);
        let mut ext = vec![0x00, 0x2B, 0x00, 0x02, 0x03, 0x04];
        ext.extend([0x00, 0x33, 0x00, 69, 0x00, 0x17, 0x00, 65]);
        ext.extend(ours.as_bytes());
        sh.extend((ext.len() as u16).to_be_bytes());
        sh.extend(ext);
        let sh = handshake_message(2, &sh);
        let mut record = vec![22, 3, 3];
        record.extend((sh.len() as u16).to_be_bytes());
        record.extend(&sh);
        s.write_all(&record)?;

        let mut transcript = Sha256::new();
        transcript.update(&ch);
        transcript.update(&sh);
        let zeros = [0u8; 32];
        let empty = Sha256::digest([]);
        let early = extract(&[], &zeros);
        let hs = extract(
            &expand_label(&early, "derived", &empty, 32),
            shared.raw_secret_bytes(),
        );
        let th = transcript.clone().finalize();
        let s_hs = expand_label(&hs, "s hs traffic", &th, 32);
        let c_hs = expand_label(&hs, "c hs traffic", &th, 32);

        // EncryptedExtensions (empty) and Finished: no Certificate, no CertificateVerify
        let ee = handshake_message(8, &[0, 0]);
        transcript.update(&ee);
        let finished_key = expand_label(&s_hs, "finished", &[], 32);
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&finished_key).unwrap();
        mac.update(&transcript.clone().finalize());
        let fin = handshake_message(20, &mac.finalize().into_bytes());
        transcript.update(&fin);
        let mut flight = ee;
        flight.extend(&fin);
        s.write_all(&Traffic::new(&s_hs).seal(22, &flight))?;

        let th2 = transcript.finalize();
        let master = extract(&expand_label(&hs, "derived", &empty, 32), &zeros);
        let c_ap = expand_label(&master, "c ap traffic", &th2, 32);

        // the client's Finished (after an optional ChangeCipherSpec)
        let mut c_keys = Traffic::new(&c_hs);
        loop {
            let (header, body) = read_record(&mut s)?;
            if header[0] == 20 {
                continue;
            }
            let (ty, _) = c_keys.open(&header, &body).expect("the client's Finished");
            assert_eq!(ty, 22);
            break;
        }
        handshakes.fetch_add(1, Ordering::SeqCst);
        // application data until the client goes
        let mut app = Traffic::new(&c_ap);
        while let Ok((header, body)) = read_record(&mut s) {
            match app.open(&header, &body) {
                Some((23, data)) => {
                    received.fetch_add(data.len(), Ordering::SeqCst);
                }
                Some((21, _)) | None => break,
                Some(_) => {}
            }
        }
        Ok(())
    }
}
