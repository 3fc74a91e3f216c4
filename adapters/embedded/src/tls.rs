//! # TLS that authenticates the platform (feature `tls`)
//!
//! A verifier for [embedded-tls] 0.19 that pins the platform's key, and the gate that refuses a
//! connection it did not authenticate, before any request byte is written.
//!
//! * **The pin.** The SHA-256 of the server certificate's whole DER `SubjectPublicKeyInfo` must
//!   be one of the configured [`Pin`]s (the current key and a backup: see
//!   [`konaplate_core::pin`] for the `openssl` pipeline that computes one). Only the
//!   end-entity certificate counts; the chain, the names and the dates are not checked: the
//!   pin is the trust decision, and it survives a renewal of the certificate for the same key.
//! * **The signature.** The server's `CertificateVerify` must verify with that key over the
//!   TLS 1.3 transcript (RFC 8446 §4.4.3): ECDSA P-256 with SHA-256 for a P-256 key,
//!   RSASSA-PSS (`rsa_pss_rsae_sha256/384/512`) for a 2048-bit RSA key, with this crate's
//!   [`crate::rsa`]. Any other key or scheme is refused.
//! * **The gate.** embedded-tls completes a handshake whose server sent neither `Certificate`
//!   nor `CertificateVerify` (a PSK handshake, or a man in the middle who skips them) without
//!   ever calling a verifier. [`open`] (and [`open_async`]) run the handshake and then refuse,
//!   with [`OpenError::Refused`], every connection whose verifier did not reach
//!   "authenticated": the request is never handed to it.
//!
//! TLS 1.3 only (embedded-tls speaks nothing else), cipher suite `TLS_AES_128_GCM_SHA256` or
//! `TLS_AES_256_GCM_SHA384`, key exchange on P-256. A platform that offers only TLS 1.2 cannot
//! be reached this way: see the README.
//!
//! ```no_run
//! # use konaplate_embedded::tls::{self, PinnedProvider};
//! # use konaplate_core::pin::Pin;
//! # fn demo<S: embedded_io::Read + embedded_io::Write>(
//! #     tcp: S, rng: impl rand_core::CryptoRng + rand_core::RngCore,
//! # ) -> Result<(), tls::OpenError> {
//! use embedded_tls::{Aes128GcmSha256, blocking::TlsConnection};
//! const PINS: [Pin; 2] = [Pin::from_sha256([0x11; 32]), Pin::from_sha256([0x22; 32])];
//! let (mut rx, mut tx) = ([0u8; 16_640], [0u8; 4096]);
//! let config = tls::config("api.konaplate.com");
//! let mut provider = PinnedProvider::<Aes128GcmSha256, _>::new(rng, &PINS);
//! let mut conn = TlsConnection::new(tcp, &mut rx, &mut tx);
//! tls::open(&mut conn, &config, &mut provider)?;
//! // only now is `conn` a stream for the till's calls
//! # Ok(()) }
//! ```
//!
//! [embedded-tls]: https://docs.rs/embedded-tls/0.19.0

use core::marker::PhantomData;

use embedded_tls::{
    CertificateEntryRef, CertificateRef, CertificateVerifyRef, CryptoProvider, CryptoRngCore,
    SignatureScheme, TlsCipherSuite, TlsConfig, TlsContext, TlsError, TlsVerifier,
};
use konaplate_core::pin::{Pins, SpkiKey, spki_key};
use p256::ecdsa::signature::Verifier as _;
use sha2::digest::Digest;

pub use konaplate_core::pin::{Pin, PinError};

use crate::rsa::{PssHash, RsaPublicKey};

/// Why the platform was not authenticated. The connection must be dropped: nothing of a
/// request was written to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Refusal {
    /// The server sent no `Certificate` (a PSK-only handshake, or a man in the middle
    /// skipping server authentication).
    NoCertificate,
    /// The server's `Certificate` was not followed by a `CertificateVerify`.
    NoCertificateVerify,
    /// The server's certificate list was empty.
    EmptyCertificateList,
    /// The end-entity certificate is not a DER X.509 certificate.
    NotX509,
    /// The certificate's key is none of the pins.
    PinMismatch,
    /// The pinned key is of a kind not verified here (only P-256 and 2048-bit RSA are).
    UnsupportedKey,
    /// The `CertificateVerify` scheme does not go with the key (or is not one of TLS 1.3's).
    UnsupportedScheme,
    /// The `CertificateVerify` signature does not verify with the pinned key.
    BadSignature,
    /// Server authentication messages out of order (a second `Certificate`, a
    /// `CertificateVerify` before any).
    OutOfOrder,
}

impl core::fmt::Display for Refusal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Refusal::NoCertificate => "the server sent no certificate: not authenticated",
            Refusal::NoCertificateVerify => {
                "the server did not prove it holds its certificate's key (no CertificateVerify)"
            }
            Refusal::EmptyCertificateList => "the server's certificate list is empty",
            Refusal::NotX509 => "the server's certificate is not a DER X.509 certificate",
            Refusal::PinMismatch => {
                "the server's key (SHA-256 of its SubjectPublicKeyInfo) is none of the pins"
            }
            Refusal::UnsupportedKey => {
                "the server's key is neither P-256 nor 2048-bit RSA: cannot be verified"
            }
            Refusal::UnsupportedScheme => {
                "the server's signature scheme does not go with its key (ECDSA P-256/SHA-256 \
                 or RSA-PSS-RSAE expected)"
            }
            Refusal::BadSignature => {
                "the server's CertificateVerify signature does not verify with the pinned key"
            }
            Refusal::OutOfOrder => "the server's authentication messages are out of order",
        })
    }
}

/// Why [`open`] gave no connection. In every case no request byte was written.
#[derive(Clone, Copy, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum OpenError {
    /// The platform was not authenticated.
    Refused(Refusal),
    /// The handshake failed otherwise (I/O, an alert, a protocol error).
    Tls(TlsError),
}

impl OpenError {
    /// The refusal, when the platform was not authenticated.
    pub fn refusal(&self) -> Option<Refusal> {
        match self {
            OpenError::Refused(r) => Some(*r),
            OpenError::Tls(_) => None,
        }
    }
}

impl core::fmt::Display for OpenError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            OpenError::Refused(r) => write!(f, "TLS: refused: {r}"),
            OpenError::Tls(e) => write!(f, "TLS handshake failed: {e:?}"),
        }
    }
}

/// The key a pinned certificate carried.
#[derive(Clone, Debug)]
enum ServerKey {
    P256(p256::ecdsa::VerifyingKey),
    Rsa(RsaPublicKey),
}

enum State<H> {
    /// No certificate seen yet.
    Waiting,
    /// The certificate matched a pin; its signature over the transcript is still to come.
    Pinned { key: ServerKey, transcript: H },
    /// The server proved it holds a pinned key.
    Authenticated,
    /// Refused; the handshake fails.
    Refused(Refusal),
}

/// An embedded-tls [`TlsVerifier`] that accepts exactly a server holding one of the pinned
/// keys (see the [module](self)). Use it through [`PinnedProvider`] and [`open`], which reset
/// it for every connection and refuse a connection it did not authenticate.
pub struct PinnedVerifier<'p, CipherSuite: TlsCipherSuite> {
    pins: Pins<'p>,
    state: State<CipherSuite::Hash>,
}

impl<'p, CipherSuite: TlsCipherSuite> PinnedVerifier<'p, CipherSuite> {
    /// A verifier accepting the keys of `pins` (an empty set accepts nothing).
    pub fn new(pins: &'p [Pin]) -> Self {
        PinnedVerifier {
            pins: Pins::new(pins),
            state: State::Waiting,
        }
    }

    /// Forgets the last connection.
    pub fn reset(&mut self) {
        self.state = State::Waiting;
    }

    /// `Ok` when the server proved it holds a pinned key; otherwise why not.
    pub fn authenticated(&self) -> Result<(), Refusal> {
        match &self.state {
            State::Authenticated => Ok(()),
            State::Waiting => Err(Refusal::NoCertificate),
            State::Pinned { .. } => Err(Refusal::NoCertificateVerify),
            State::Refused(r) => Err(*r),
        }
    }

    /// Records a refusal and gives embedded-tls its error.
    fn refuse(&mut self, r: Refusal) -> TlsError {
        self.state = State::Refused(r);
        match r {
            Refusal::BadSignature | Refusal::UnsupportedScheme => TlsError::InvalidSignature,
            _ => TlsError::InvalidCertificate,
        }
    }

    fn pin(&self, cert: &CertificateRef<'_>) -> Result<ServerKey, Refusal> {
        let leaf = match cert.entries.first() {
            None => return Err(Refusal::EmptyCertificateList),
            Some(CertificateEntryRef::X509(der)) => *der,
            Some(CertificateEntryRef::RawPublicKey(_)) => return Err(Refusal::NotX509),
        };
        let spki = self.pins.check(leaf).map_err(|e| match e {
            PinError::Mismatch => Refusal::PinMismatch,
            _ => Refusal::NotX509,
        })?;
        match spki_key(spki).map_err(|_| Refusal::NotX509)? {
            SpkiKey::P256 { point } => p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .map(ServerKey::P256)
                .map_err(|_| Refusal::UnsupportedKey),
            SpkiKey::Rsa { rsa_public_key } => RsaPublicKey::from_der(rsa_public_key)
                .map(ServerKey::Rsa)
                .map_err(|_| Refusal::UnsupportedKey),
            SpkiKey::Other => Err(Refusal::UnsupportedKey),
        }
    }
}

/// The content a TLS 1.3 server signs: 64 spaces, the context string, a zero byte, the
/// transcript hash (RFC 8446 §4.4.3).
const CONTEXT: &[u8] = b"TLS 1.3, server CertificateVerify\x00";
const SIGNED_MAX: usize = 64 + 34 + 64;

fn verify(
    key: &ServerKey,
    scheme: SignatureScheme,
    transcript_hash: &[u8],
    signature: &[u8],
) -> Result<(), Refusal> {
    let mut signed = [0x20u8; SIGNED_MAX];
    let len = 64 + CONTEXT.len() + transcript_hash.len();
    let content = signed.get_mut(..len).ok_or(Refusal::UnsupportedScheme)?;
    content
        .get_mut(64..64 + CONTEXT.len())
        .ok_or(Refusal::UnsupportedScheme)?
        .copy_from_slice(CONTEXT);
    content
        .get_mut(64 + CONTEXT.len()..)
        .ok_or(Refusal::UnsupportedScheme)?
        .copy_from_slice(transcript_hash);
    let content: &[u8] = content;
    match (key, scheme) {
        (ServerKey::P256(k), SignatureScheme::EcdsaSecp256r1Sha256) => {
            let sig =
                p256::ecdsa::Signature::from_der(signature).map_err(|_| Refusal::BadSignature)?;
            k.verify(content, &sig).map_err(|_| Refusal::BadSignature)
        }
        (ServerKey::Rsa(k), scheme) => {
            let hash = match scheme {
                SignatureScheme::RsaPssRsaeSha256 => PssHash::Sha256,
                SignatureScheme::RsaPssRsaeSha384 => PssHash::Sha384,
                SignatureScheme::RsaPssRsaeSha512 => PssHash::Sha512,
                _ => return Err(Refusal::UnsupportedScheme),
            };
            k.verify_pss(hash, content, signature)
                .map_err(|_| Refusal::BadSignature)
        }
        _ => Err(Refusal::UnsupportedScheme),
    }
}

impl<CipherSuite: TlsCipherSuite> TlsVerifier<CipherSuite> for PinnedVerifier<'_, CipherSuite> {
    /// The pin authenticates the key; the name is only sent (SNI), not checked.
    fn set_hostname_verification(&mut self, _hostname: &str) -> Result<(), TlsError> {
        Ok(())
    }

    fn verify_certificate(
        &mut self,
        transcript: &CipherSuite::Hash,
        cert: CertificateRef<'_>,
    ) -> Result<(), TlsError> {
        if !matches!(self.state, State::Waiting) {
            return Err(self.refuse(Refusal::OutOfOrder));
        }
        match self.pin(&cert) {
            Ok(key) => {
                // the transcript up to and including the Certificate: what the server signs
                self.state = State::Pinned {
                    key,
                    transcript: transcript.clone(),
                };
                Ok(())
            }
            Err(r) => Err(self.refuse(r)),
        }
    }

    fn verify_signature(&mut self, verify_ref: CertificateVerifyRef<'_>) -> Result<(), TlsError> {
        let State::Pinned { key, transcript } = &self.state else {
            return Err(self.refuse(Refusal::OutOfOrder));
        };
        let hash = transcript.clone().finalize();
        match verify(
            key,
            verify_ref.signature_scheme,
            hash.as_slice(),
            verify_ref.signature,
        ) {
            Ok(()) => {
                self.state = State::Authenticated;
                Ok(())
            }
            Err(r) => Err(self.refuse(r)),
        }
    }
}

/// An embedded-tls [`CryptoProvider`] with a [`PinnedVerifier`] and your random source (a
/// hardware TRNG, or a CSPRNG seeded from one). No client certificate.
pub struct PinnedProvider<'p, CipherSuite: TlsCipherSuite, Rng> {
    rng: Rng,
    verifier: PinnedVerifier<'p, CipherSuite>,
    _suite: PhantomData<CipherSuite>,
}

impl<'p, CipherSuite: TlsCipherSuite, Rng: CryptoRngCore> PinnedProvider<'p, CipherSuite, Rng> {
    /// A provider that accepts the keys of `pins`.
    pub fn new(rng: Rng, pins: &'p [Pin]) -> Self {
        PinnedProvider {
            rng,
            verifier: PinnedVerifier::new(pins),
            _suite: PhantomData,
        }
    }

    /// The verifier, as the last handshake left it. Prefer [`open`] / [`open_async`], which
    /// reset it before the handshake and ask it after; for a handshake of your own, call
    /// [`PinnedProvider::reset`] first: a verifier that authenticated an earlier connection
    /// still says so, and embedded-tls never asks it when a server sends no certificate.
    pub fn verifier(&self) -> &PinnedVerifier<'p, CipherSuite> {
        &self.verifier
    }

    /// Forgets the last connection's verification: call it before every handshake that is not
    /// run through [`open`] / [`open_async`].
    pub fn reset(&mut self) {
        self.verifier.reset();
    }
}

impl<CipherSuite: TlsCipherSuite, Rng: CryptoRngCore> CryptoProvider
    for PinnedProvider<'_, CipherSuite, Rng>
{
    type CipherSuite = CipherSuite;
    type Signature = p256::ecdsa::DerSignature;

    fn rng(&mut self) -> impl CryptoRngCore {
        &mut self.rng
    }

    fn verifier(&mut self) -> Result<&mut impl TlsVerifier<CipherSuite>, TlsError> {
        Ok(&mut self.verifier)
    }
}

/// The client configuration for the platform: its name (sent as SNI) and the signature
/// schemes the verifier checks (ECDSA P-256 and, for RSA keys, RSA-PSS) offered.
pub fn config(server_name: &str) -> TlsConfig<'_> {
    TlsConfig::new()
        .enable_rsa_signatures()
        .with_server_name(server_name)
}

/// What the gate decides after a handshake.
fn gate<CipherSuite: TlsCipherSuite>(
    verifier: &PinnedVerifier<'_, CipherSuite>,
    handshake: Result<(), TlsError>,
) -> Result<(), OpenError> {
    match (handshake, verifier.authenticated()) {
        (Ok(()), Ok(())) => Ok(()),
        // the verifier's reason first: it is why embedded-tls failed, if it did
        (_, Err(r)) if matches!(verifier.state, State::Refused(_)) => Err(OpenError::Refused(r)),
        (Err(e), _) => Err(OpenError::Tls(e)),
        (Ok(()), Err(r)) => Err(OpenError::Refused(r)),
    }
}

/// Runs the TLS handshake on `conn` and lets it through only when the server proved it holds
/// a pinned key. On `Err`, drop the connection: nothing was written to it but the handshake.
pub fn open<'a, Socket, CipherSuite, Rng>(
    conn: &mut embedded_tls::blocking::TlsConnection<'a, Socket, CipherSuite>,
    config: &TlsConfig<'_>,
    provider: &mut PinnedProvider<'_, CipherSuite, Rng>,
) -> Result<(), OpenError>
where
    Socket: embedded_io::Read + embedded_io::Write + 'a,
    CipherSuite: TlsCipherSuite + 'static,
    Rng: CryptoRngCore,
{
    provider.verifier.reset();
    let handshake = conn.open(TlsContext::new(config, &mut *provider));
    gate(&provider.verifier, handshake)
}

/// [`open`] for embedded-tls's async connection (embassy-net sockets and the like).
#[cfg(feature = "async")]
pub async fn open_async<'a, Socket, CipherSuite, Rng>(
    conn: &mut embedded_tls::TlsConnection<'a, Socket, CipherSuite>,
    config: &TlsConfig<'_>,
    provider: &mut PinnedProvider<'_, CipherSuite, Rng>,
) -> Result<(), OpenError>
where
    Socket: embedded_io_async::Read + embedded_io_async::Write + 'a,
    CipherSuite: TlsCipherSuite + 'static,
    Rng: CryptoRngCore,
{
    provider.verifier.reset();
    let handshake = conn.open(TlsContext::new(config, &mut *provider)).await;
    gate(&provider.verifier, handshake)
}
