//! What a caller gives the core to encrypt requests and decrypt responses: a key wrap to the
//! platform's public key with fresh randomness per request, and a key unwrap with the
//! client's private key. The core decides *when* to use them (an endpoint's Encrypted marks,
//! an `encData` answer); the caller only decides *how* (software RSA, a secure element).

use zeroize::Zeroize;

use super::{KeyUnwrap, KeyWrap};

/// The key wrap and this request's fresh randomness, lent to the core for one request. The
/// CEK and IV are borrowed, never copied: they stay only where the caller keeps (and
/// zeroizes) them.
pub struct SealKeys<'a> {
    /// Wraps the content key to the platform's public key.
    pub wrap: &'a mut dyn KeyWrap,
    /// This request's content-encryption key (fresh random bytes).
    pub cek: &'a [u8; 16],
    /// This request's IV (fresh random bytes).
    pub iv: &'a [u8; 12],
}

/// How requests are encrypted and responses decrypted.
pub trait Crypto {
    /// For one Encrypted request: the key wrap and this request's fresh CEK and IV. `None`
    /// when this caller cannot encrypt (an Encrypted request is then refused before anything
    /// is sent).
    fn seal(&mut self) -> Option<SealKeys<'_>>;
    /// The key unwrap for encrypted answers; `None` when this caller cannot decrypt (an
    /// encrypted answer is then an error).
    fn unwrap(&mut self) -> Option<&mut dyn KeyUnwrap>;
}

impl<C: Crypto + ?Sized> Crypto for &mut C {
    fn seal(&mut self) -> Option<SealKeys<'_>> {
        (**self).seal()
    }
    fn unwrap(&mut self) -> Option<&mut dyn KeyUnwrap> {
        (**self).unwrap()
    }
}

/// No encryption: Encrypted requests are refused, encrypted answers are errors. Plenty for
/// the endpoints whose requests are plain.
#[derive(Clone, Copy, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct NoCrypto;

impl Crypto for NoCrypto {
    fn seal(&mut self) -> Option<SealKeys<'_>> {
        None
    }
    fn unwrap(&mut self) -> Option<&mut dyn KeyUnwrap> {
        None
    }
}

/// A key wrap, a key unwrap, and the randomness for one request (use a fresh `Keys` per
/// request: the CEK and IV must never repeat). The CEK and IV are zeroized when dropped.
pub struct Keys<W: KeyWrap, U: KeyUnwrap> {
    /// Wraps CEKs to the platform's public key.
    pub wrap: W,
    /// Unwraps CEKs with the client private key.
    pub unwrap: U,
    /// This request's content-encryption key (fresh random bytes).
    pub cek: [u8; 16],
    /// This request's IV (fresh random bytes).
    pub iv: [u8; 12],
}

impl<W: KeyWrap, U: KeyUnwrap> Crypto for Keys<W, U> {
    fn seal(&mut self) -> Option<SealKeys<'_>> {
        Some(SealKeys {
            wrap: &mut self.wrap,
            cek: &self.cek,
            iv: &self.iv,
        })
    }
    fn unwrap(&mut self) -> Option<&mut dyn KeyUnwrap> {
        Some(&mut self.unwrap)
    }
}

impl<W: KeyWrap, U: KeyUnwrap> Drop for Keys<W, U> {
    fn drop(&mut self) {
        self.cek.zeroize();
        self.iv.zeroize();
    }
}

/// Decryption only: answers are unwrapped with `U`, requests are never encrypted (for a
/// caller that only reads, or a test).
#[derive(Clone, Copy, Debug)]
pub struct DecryptOnly<U: KeyUnwrap>(pub U);

impl<U: KeyUnwrap> Crypto for DecryptOnly<U> {
    fn seal(&mut self) -> Option<SealKeys<'_>> {
        None
    }
    fn unwrap(&mut self) -> Option<&mut dyn KeyUnwrap> {
        Some(&mut self.0)
    }
}
