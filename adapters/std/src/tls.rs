//! TLS for `https://`: rustls with full webpki verification (the webpki roots, plus any extra
//! roots a test platform needs), and optionally pinned keys: the end-entity certificate must
//! then also carry one of them (the SHA-256 of its whole DER `SubjectPublicKeyInfo`, see
//! [`konaplate_core::pin`]). A refusal happens in the handshake, before any request byte.

use std::sync::Arc;

use konaplate_core::pin::{Pin, Pins};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// Certificates (DER) of a PEM text: every `CERTIFICATE` block, at least one.
pub fn certificates_from_pem(pem: &str) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for c in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        out.push(
            c.map_err(|e| format!("not a PEM certificate: {e}"))?
                .to_vec(),
        );
    }
    if out.is_empty() {
        return Err("no PEM CERTIFICATE block".into());
    }
    Ok(out)
}

/// The rustls client configuration: webpki roots and `extra_roots`, then `pins` (none: no
/// pinning).
pub(crate) fn client_config(
    extra_roots: &[Vec<u8>],
    pins: &[Pin],
) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    for der in extra_roots {
        roots
            .add(CertificateDer::from(der.clone()))
            .map_err(|e| format!("extra root certificate: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    if pins.is_empty() {
        return Ok(builder.with_root_certificates(roots).with_no_client_auth());
    }
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
        .build()
        .map_err(|e| e.to_string())?;
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned {
            webpki,
            pins: pins.to_vec(),
        }))
        .with_no_client_auth())
}

/// A rustls configuration that verifies servers (chain and name) against `roots` only, or the
/// webpki roots when `None`: for the journal's database.
#[cfg(feature = "postgres")]
pub(crate) fn verifying_config(roots: Option<&[Vec<u8>]>) -> Result<rustls::ClientConfig, String> {
    let mut store = rustls::RootCertStore::empty();
    match roots {
        None => store.roots = webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        Some(ders) => {
            for der in ders {
                store
                    .add(CertificateDer::from(der.clone()))
                    .map_err(|e| format!("root certificate: {e}"))?;
            }
        }
    }
    Ok(rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| e.to_string())?
    .with_root_certificates(store)
    .with_no_client_auth())
}

/// webpki's verification, and then the pin.
#[derive(Debug)]
struct Pinned {
    webpki: Arc<WebPkiServerVerifier>,
    pins: Vec<Pin>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        Pins::new(&self.pins)
            .check(end_entity)
            .map_err(|e| rustls::Error::General(format!("{e} (--pin-sha256)")))?;
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}
