//! RSA keys from PEM and the RSA-OAEP-256 key wrap of the core's JWE.
//!
//! * The platform's **server public key** (requests are encrypted to it): an SPKI public key
//!   (`-----BEGIN PUBLIC KEY-----`), a PKCS#1 public key (`BEGIN RSA PUBLIC KEY`), or an X.509
//!   certificate (`BEGIN CERTIFICATE`, what the portal hands out).
//! * The project's **client private key** (responses are decrypted with it, D9): PKCS#8
//!   (`BEGIN PRIVATE KEY`) or PKCS#1 (`BEGIN RSA PRIVATE KEY`).
//!
//! Security note: `rsa` 0.9 carries RUSTSEC-2023-0071 (Marvin timing attack) for private-key
//! operations. Encrypting to the server key is not affected; decrypting responses with the
//! client key is, in principle, observable by timing to a local attacker.

use std::fmt;

use konaplate_core::jwe::{KeyUnwrap, KeyWrap, KeyWrapError};
use rand_core::OsRng;
use rsa::pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey};
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use rsa::{Oaep, RsaPrivateKey, RsaPublicKey};
use sha2::Sha256;
use x509_cert::der::{DecodePem, Encode};
use zeroize::Zeroizing;

/// A key could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    /// Which key ("server public key", "client private key").
    pub what: &'static str,
    /// Why.
    pub reason: String,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.reason)
    }
}

impl std::error::Error for KeyError {}

/// The platform's public key: the JWE key wrap of requests.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerPublicKey(RsaPublicKey);

impl fmt::Debug for ServerPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use rsa::traits::PublicKeyParts;
        write!(f, "ServerPublicKey(RSA-{})", self.0.size() * 8)
    }
}

impl ServerPublicKey {
    /// Reads an SPKI or PKCS#1 public key, or an X.509 certificate, from PEM text.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let err = |reason: String| KeyError {
            what: "server public key",
            reason,
        };
        // text before the PEM (an openssl export's "Bag Attributes") is ignored
        let t = pem.find("-----BEGIN").map_or(pem, |i| &pem[i..]);
        let key = if t.starts_with("-----BEGIN CERTIFICATE-----") {
            let cert = x509_cert::Certificate::from_pem(t.as_bytes())
                .map_err(|e| err(format!("invalid X.509 certificate: {e}")))?;
            let der = cert
                .tbs_certificate
                .subject_public_key_info
                .to_der()
                .map_err(|e| err(format!("certificate key: {e}")))?;
            RsaPublicKey::from_public_key_der(&der)
                .map_err(|e| err(format!("certificate does not hold an RSA key: {e}")))?
        } else if t.starts_with("-----BEGIN RSA PUBLIC KEY-----") {
            RsaPublicKey::from_pkcs1_pem(t).map_err(|e| err(format!("invalid PKCS#1 key: {e}")))?
        } else if t.starts_with("-----BEGIN PUBLIC KEY-----") {
            RsaPublicKey::from_public_key_pem(t)
                .map_err(|e| err(format!("invalid SPKI public key: {e}")))?
        } else {
            return Err(err(
                "expected PEM: BEGIN CERTIFICATE, BEGIN PUBLIC KEY or BEGIN RSA PUBLIC KEY".into(),
            ));
        };
        Ok(Self(key))
    }

    /// The key as an SPKI PEM.
    pub fn to_pem(&self) -> String {
        self.0
            .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
            .unwrap_or_default()
    }

    /// The inner key.
    pub fn rsa(&self) -> &RsaPublicKey {
        &self.0
    }

    /// From an `rsa` key.
    pub fn from_rsa(key: RsaPublicKey) -> Self {
        Self(key)
    }
}

impl KeyWrap for ServerPublicKey {
    fn wrap_key(&mut self, cek: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        (&*self).wrap_key(cek, out)
    }
}

impl KeyWrap for &ServerPublicKey {
    fn wrap_key(&mut self, cek: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        let wrapped = self
            .0
            .encrypt(&mut OsRng, Oaep::new::<Sha256>(), cek)
            .map_err(|_| KeyWrapError)?;
        out.get_mut(..wrapped.len())
            .ok_or(KeyWrapError)?
            .copy_from_slice(&wrapped);
        Ok(wrapped.len())
    }
}

/// The project's private key: unwraps the JWE key of responses. Redacted in `Debug`; the
/// `rsa` crate zeroizes it on drop.
#[derive(Clone)]
pub struct ClientPrivateKey(RsaPrivateKey);

impl fmt::Debug for ClientPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClientPrivateKey(<redacted>)")
    }
}

impl ClientPrivateKey {
    /// Reads a PKCS#8 or PKCS#1 private key from PEM text.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let err = |reason: String| KeyError {
            what: "client private key",
            reason,
        };
        let t = pem.find("-----BEGIN").map_or(pem, |i| &pem[i..]);
        let key = if t.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
            RsaPrivateKey::from_pkcs1_pem(t).map_err(|e| err(format!("invalid PKCS#1 key: {e}")))?
        } else if t.starts_with("-----BEGIN PRIVATE KEY-----") {
            RsaPrivateKey::from_pkcs8_pem(t).map_err(|e| err(format!("invalid PKCS#8 key: {e}")))?
        } else {
            return Err(err(
                "expected PEM: BEGIN PRIVATE KEY or BEGIN RSA PRIVATE KEY".into(),
            ));
        };
        Ok(Self(key))
    }

    /// The matching public key.
    pub fn public_key(&self) -> ServerPublicKey {
        ServerPublicKey(self.0.to_public_key())
    }

    /// The inner key.
    pub fn rsa(&self) -> &RsaPrivateKey {
        &self.0
    }
}

impl KeyUnwrap for ClientPrivateKey {
    fn unwrap_key(&mut self, wrapped: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        (&*self).unwrap_key(wrapped, out)
    }
}

impl KeyUnwrap for &ClientPrivateKey {
    fn unwrap_key(&mut self, wrapped: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        let cek = Zeroizing::new(
            self.0
                .decrypt(Oaep::new::<Sha256>(), wrapped)
                .map_err(|_| KeyWrapError)?,
        );
        out.get_mut(..cek.len())
            .ok_or(KeyWrapError)?
            .copy_from_slice(&cek);
        Ok(cek.len())
    }
}

/// A key argument as the CLI and configuration take it: PEM text, or a path to a PEM file.
///
/// Text holding a `-----BEGIN` line is PEM; surrounding whitespace and quotes (as a `.env`
/// file leaves them) are tolerated, and so are literal `\n` escapes in one-line PEM text.
/// Anything else is read as a path. Errors name `option` and never the value, which may be
/// key material; the returned text is wiped when dropped.
pub fn pem_text_or_file(option: &str, value: &str) -> Result<Zeroizing<String>, String> {
    let pem = unquote(value);
    if pem.contains("-----BEGIN") {
        let text = if pem.contains("\\n") && !pem.contains('\n') {
            pem.replace("\\n", "\n")
        } else {
            pem.to_string()
        };
        return Ok(Zeroizing::new(text));
    }
    if pem.is_empty() || pem.contains('\n') || pem.len() > 4096 {
        return Err(format!(
            "{option}: neither PEM text (no -----BEGIN line) nor a file path"
        ));
    }
    let text = std::fs::read_to_string(pem).map_err(|e| {
        format!(
            "{option}: not PEM text, and the file it names cannot be read ({})",
            e.kind()
        )
    })?;
    let text = Zeroizing::new(text);
    if !text.contains("-----BEGIN") {
        return Err(format!(
            "{option}: the file it names holds no PEM (no -----BEGIN line)"
        ));
    }
    Ok(text)
}

/// `value` without surrounding whitespace and one pair of matching quotes.
fn unquote(value: &str) -> &str {
    let v = value.trim();
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|x| x.strip_suffix(q)) {
            return inner.trim();
        }
    }
    v
}
