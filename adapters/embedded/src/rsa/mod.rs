//! # RSA without a heap (feature `rsa`)
//!
//! RSA-OAEP-256 (SHA-256, MGF1-SHA-256, empty label) for the JWE key wrap of a till that has no
//! RSA secure element: [`OaepWrap`] seals the content key of a token request to the platform's
//! public key, [`OaepUnwrap`] opens the key of an encrypted answer with the till's private
//! key. 2048-bit keys, fixed-size integers from `crypto-bigint` (no allocation, `no_std`), the
//! keys parsed from DER without allocation: a `SubjectPublicKeyInfo` or PKCS#1 `RSAPublicKey`,
//! a PKCS#8 `PrivateKeyInfo` or PKCS#1 `RSAPrivateKey`.
//!
//! The private-key operation runs in constant time: the Chinese remainder theorem over the two
//! primes with `crypto-bigint`'s constant-time exponentiation, the ciphertext blinded by a fresh
//! random factor (from your random source) so that no two operations see the same input, and
//! the result checked against the public key before it is used (a fault does not leak a
//! prime). The OAEP decoding checks every byte without an early exit.
//!
//! ```
//! # use konaplate_embedded::rsa::{OaepWrap, RsaPublicKey};
//! # use konaplate_core::jwe::KeyWrap;
//! # fn demo(spki_der: &[u8], mut random: impl FnMut(&mut [u8])) -> Option<()> {
//! let platform = RsaPublicKey::from_der(spki_der).ok()?;
//! let mut wrap = OaepWrap::new(&platform, &mut random);
//! let mut wrapped = [0u8; 256];
//! let n = wrap.wrap_key(&[0x11; 16], &mut wrapped).ok()?;
//! assert_eq!(n, 256);
//! # Some(()) }
//! ```

use crypto_bigint::modular::{FixedMontyForm, FixedMontyParams};
use crypto_bigint::{NonZero, Odd, U64, U1024, U2048, Uint};
use konaplate_core::jwe::{KeyUnwrap, KeyWrap, KeyWrapError};
use konaplate_core::sign::sha256;
use zeroize::Zeroize;

mod der;

/// Bytes of a modulus (and of a ciphertext): 2048 bits.
pub const MODULUS_BYTES: usize = 256;
const HASH: usize = 32;
/// The longest message OAEP-256 carries in one 2048-bit block.
pub const MAX_MESSAGE: usize = MODULUS_BYTES - 2 * HASH - 2;
/// SHA-256 of the empty label.
const LABEL_HASH: [u8; 32] = [
    0xE3, 0xB0, 0xC4, 0x42, 0x98, 0xFC, 0x1C, 0x14, 0x9A, 0xFB, 0xF4, 0xC8, 0x99, 0x6F, 0xB9, 0x24,
    0x27, 0xAE, 0x41, 0xE4, 0x64, 0x9B, 0x93, 0x4C, 0xA4, 0x95, 0x99, 0x1B, 0x78, 0x52, 0xB8, 0x55,
];

const WIDE: usize = U2048::LIMBS;
const HALF: usize = U1024::LIMBS;

/// Why a key was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum KeyError {
    /// Not a DER RSA key of a form read here (SubjectPublicKeyInfo, PKCS#1, PKCS#8).
    Der,
    /// Not a 2048-bit key with two 1024-bit primes and a public exponent below 2^64.
    Size,
    /// The parts do not make a key (an even modulus, a prime that does not divide it).
    Inconsistent,
}

impl core::fmt::Display for KeyError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            KeyError::Der => "not a DER RSA key (SubjectPublicKeyInfo, PKCS#1 or PKCS#8)",
            KeyError::Size => {
                "not a 2048-bit RSA key with two 1024-bit primes and an exponent below 2^64"
            }
            KeyError::Inconsistent => "the RSA key's parts are inconsistent",
        })
    }
}

/// `bytes` (big-endian, at most the integer's size) as an integer.
fn uint<const L: usize>(bytes: &[u8]) -> Option<Uint<L>> {
    let size = Uint::<L>::BYTES;
    if bytes.len() > size || size > MODULUS_BYTES {
        return None;
    }
    let mut buf = [0u8; MODULUS_BYTES];
    buf.get_mut(size - bytes.len()..size)?
        .copy_from_slice(bytes);
    let u = Uint::<L>::from_be_slice(buf.get(..size)?);
    buf.zeroize();
    Some(u)
}

fn to_bytes(x: &U2048, out: &mut [u8; MODULUS_BYTES]) {
    let enc = x.to_be_bytes();
    out.copy_from_slice(enc.as_ref());
}

/// An RSA public key (2048-bit modulus).
#[derive(Clone, Debug)]
pub struct RsaPublicKey {
    n: U2048,
    e: U64,
    params: FixedMontyParams<WIDE>,
}

impl RsaPublicKey {
    /// Reads a DER `SubjectPublicKeyInfo` (what `openssl rsa -pubout -outform DER` writes) or a
    /// PKCS#1 `RSAPublicKey`.
    pub fn from_der(der_bytes: &[u8]) -> Result<Self, KeyError> {
        let (n, e) = der::public_key(der_bytes).ok_or(KeyError::Der)?;
        Self::from_parts(n, e)
    }

    /// A key from its modulus and exponent (big-endian).
    pub fn from_parts(n: &[u8], e: &[u8]) -> Result<Self, KeyError> {
        if n.len() != MODULUS_BYTES || n.first().is_none_or(|&b| b & 0x80 == 0) {
            return Err(KeyError::Size);
        }
        let n = uint::<WIDE>(n).ok_or(KeyError::Size)?;
        let e_val = uint::<{ U64::LIMBS }>(e).ok_or(KeyError::Size)?;
        // an exponent of 1, or an even one, is no RSA key
        if e.is_empty() || !bool::from(e_val.is_odd()) || e == [1] {
            return Err(KeyError::Inconsistent);
        }
        let odd: Option<Odd<U2048>> = Odd::new(n).into();
        let odd = odd.ok_or(KeyError::Inconsistent)?;
        Ok(RsaPublicKey {
            n,
            e: e_val,
            params: FixedMontyParams::new_vartime(odd),
        })
    }

    /// `x^e mod n` for `x < n` (`None` otherwise).
    fn apply(&self, x: &U2048) -> Option<U2048> {
        if x >= &self.n {
            return None;
        }
        Some(
            FixedMontyForm::new(x, &self.params)
                .pow_vartime(&self.e)
                .retrieve(),
        )
    }

    /// RSA-OAEP-256 encryption of `message` (at most [`MAX_MESSAGE`] bytes) with a 32-byte
    /// seed from `random`, into `out`.
    pub fn oaep_encrypt(
        &self,
        message: &[u8],
        random: &mut dyn FnMut(&mut [u8]),
        out: &mut [u8; MODULUS_BYTES],
    ) -> Result<(), KeyWrapError> {
        if message.len() > MAX_MESSAGE {
            return Err(KeyWrapError);
        }
        let mut em = [0u8; MODULUS_BYTES];
        let (head, db) = em.split_at_mut(1 + HASH);
        let seed = head.get_mut(1..).ok_or(KeyWrapError)?;
        // DB = lHash || PS || 0x01 || M
        let ps_end = db.len() - message.len() - 1;
        db.get_mut(..HASH)
            .ok_or(KeyWrapError)?
            .copy_from_slice(&LABEL_HASH);
        *db.get_mut(ps_end).ok_or(KeyWrapError)? = 0x01;
        db.get_mut(ps_end + 1..)
            .ok_or(KeyWrapError)?
            .copy_from_slice(message);
        random(seed);
        mgf1_xor(seed, db);
        mgf1_xor(db, seed);
        let m = uint::<WIDE>(&em).ok_or(KeyWrapError)?;
        em.zeroize();
        let c = self.apply(&m).ok_or(KeyWrapError)?;
        to_bytes(&c, out);
        Ok(())
    }
}

/// An RSA private key (2048-bit, two primes), kept for the Chinese remainder theorem. Its
/// secret parts are zeroized on drop; `Debug` shows none of them.
pub struct RsaPrivateKey {
    public: RsaPublicKey,
    p: FixedMontyParams<HALF>,
    q: FixedMontyParams<HALF>,
    q_value: U1024,
    dp: U1024,
    dq: U1024,
    /// `q^-1 mod p`, in Montgomery form mod p.
    q_inv: FixedMontyForm<HALF>,
}

impl core::fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RsaPrivateKey")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
}

impl Drop for RsaPrivateKey {
    fn drop(&mut self) {
        self.p.zeroize();
        self.q.zeroize();
        self.q_value.zeroize();
        self.dp.zeroize();
        self.dq.zeroize();
        self.q_inv.zeroize();
    }
}

impl RsaPrivateKey {
    /// Reads a DER PKCS#8 `PrivateKeyInfo` (what `openssl pkcs8 -topk8 -nocrypt -outform DER`
    /// writes) or a PKCS#1 `RSAPrivateKey`. Checks that the primes make the modulus and that
    /// the CRT exponents and coefficient make a working key (one round trip).
    pub fn from_der(der_bytes: &[u8]) -> Result<Self, KeyError> {
        let [n, e, _d, p, q, dp, dq, qinv] = der::private_key(der_bytes).ok_or(KeyError::Der)?;
        let public = RsaPublicKey::from_parts(n, e)?;
        let size =
            |b: &[u8]| b.len() == MODULUS_BYTES / 2 && b.first().is_some_and(|&x| x & 0x80 != 0);
        if !size(p) || !size(q) {
            return Err(KeyError::Size);
        }
        let half = |b: &[u8]| uint::<HALF>(b).ok_or(KeyError::Size);
        let (pv, qv) = (half(p)?, half(q)?);
        let (dp, dq, qinv) = (half(dp)?, half(dq)?, half(qinv)?);
        // p * q must be n
        let (lo, hi) = pv.widening_mul(&qv);
        let pq: U2048 = lo.concat(&hi);
        if pq != public.n {
            return Err(KeyError::Inconsistent);
        }
        let odd = |v: U1024| -> Result<Odd<U1024>, KeyError> {
            let o: Option<Odd<U1024>> = Odd::new(v).into();
            o.ok_or(KeyError::Inconsistent)
        };
        let p_params = FixedMontyParams::new(odd(pv)?);
        let q_params = FixedMontyParams::new(odd(qv)?);
        let key = RsaPrivateKey {
            public,
            p: p_params,
            q: q_params,
            q_value: qv,
            dp,
            dq,
            q_inv: FixedMontyForm::new(&qinv, &p_params),
        };
        // the coefficient is q^-1 mod p
        let p_nz: Option<NonZero<U1024>> = NonZero::new(pv).into();
        let p_nz = p_nz.ok_or(KeyError::Inconsistent)?;
        let q_mod_p = FixedMontyForm::new(&qv.rem(&p_nz), &p_params);
        if (q_mod_p * key.q_inv).retrieve() != U1024::ONE {
            return Err(KeyError::Inconsistent);
        }
        // and the exponents make the primes work: one round trip of a value that differs
        // modulo p and modulo q
        let x = key.public.n.wrapping_sub(&U2048::from_u64(2));
        let c = key.public.apply(&x).ok_or(KeyError::Inconsistent)?;
        if key.crt(&c) != x {
            return Err(KeyError::Inconsistent);
        }
        Ok(key)
    }

    /// The public half.
    pub fn public_key(&self) -> &RsaPublicKey {
        &self.public
    }

    /// `c^d mod n` by the Chinese remainder theorem, constant time in the secret parts.
    fn crt(&self, c: &U2048) -> U2048 {
        let p_nz = NonZero::new(*self.p.modulus().as_ref());
        let q_nz = NonZero::new(*self.q.modulus().as_ref());
        let (p_nz, q_nz): (Option<NonZero<U1024>>, Option<NonZero<U1024>>) =
            (p_nz.into(), q_nz.into());
        let (Some(p_nz), Some(q_nz)) = (p_nz, q_nz) else {
            return U2048::ZERO;
        };
        let m1 = FixedMontyForm::new(&c.rem(&p_nz), &self.p).pow(&self.dp);
        let m2 = FixedMontyForm::new(&c.rem(&q_nz), &self.q).pow(&self.dq);
        // h = q^-1 (m1 - m2) mod p; m = m2 + h q
        let m2_mod_p = FixedMontyForm::new(&m2.retrieve().rem(&p_nz), &self.p);
        let h = (m1 - m2_mod_p) * self.q_inv;
        let (lo, hi) = self.q_value.widening_mul(&h.retrieve());
        let hq: U2048 = lo.concat(&hi);
        let m2_wide: U2048 = m2.retrieve().resize();
        hq.wrapping_add(&m2_wide)
    }

    /// `c^d mod n`, blinded by a random factor from `random`, checked against the public key.
    fn private_op(&self, c: &U2048, random: &mut dyn FnMut(&mut [u8])) -> Option<U2048> {
        let n = &self.public;
        let n_nz: Option<NonZero<U2048>> = NonZero::new(n.n).into();
        let n_nz = n_nz?;
        for _ in 0..4 {
            let mut r_bytes = [0u8; MODULUS_BYTES];
            random(&mut r_bytes);
            let r = uint::<WIDE>(&r_bytes)?.rem(&n_nz);
            r_bytes.zeroize();
            let r_form = FixedMontyForm::new(&r, &n.params);
            let r_inv: Option<FixedMontyForm<WIDE>> = r_form.invert().into();
            let Some(r_inv) = r_inv else {
                continue;
            };
            let blinded = FixedMontyForm::new(c, &n.params) * r_form.pow_vartime(&n.e);
            let blinded = blinded.retrieve();
            let m_blinded = self.crt(&blinded);
            // a fault in the computation must not leave this function: check it
            if n.apply(&m_blinded) != Some(blinded) {
                return None;
            }
            let m = (FixedMontyForm::new(&m_blinded, &n.params) * r_inv).retrieve();
            return Some(m);
        }
        None
    }

    /// RSA-OAEP-256 decryption of `ciphertext` (exactly [`MODULUS_BYTES`]) into `out`;
    /// returns the message's length. Every check runs to the end before it is judged.
    pub fn oaep_decrypt(
        &self,
        ciphertext: &[u8],
        random: &mut dyn FnMut(&mut [u8]),
        out: &mut [u8],
    ) -> Result<usize, KeyWrapError> {
        if ciphertext.len() != MODULUS_BYTES {
            return Err(KeyWrapError);
        }
        let c = uint::<WIDE>(ciphertext).ok_or(KeyWrapError)?;
        if c >= self.public.n {
            return Err(KeyWrapError);
        }
        let m = self.private_op(&c, random).ok_or(KeyWrapError)?;
        let mut em = [0u8; MODULUS_BYTES];
        to_bytes(&m, &mut em);
        let r = oaep_decode(&mut em, out);
        em.zeroize();
        r
    }
}

/// `out ^= MGF1-SHA-256(seed)`.
fn mgf1_xor(seed: &[u8], out: &mut [u8]) {
    let mut input = [0u8; MODULUS_BYTES + 4];
    let n = seed.len().min(MODULUS_BYTES);
    if let Some(s) = input.get_mut(..n) {
        s.copy_from_slice(seed.get(..n).unwrap_or(&[]));
    }
    for (counter, chunk) in out.chunks_mut(HASH).enumerate() {
        if let Some(c) = input.get_mut(n..n + 4) {
            c.copy_from_slice(&(counter as u32).to_be_bytes());
        }
        let mask = sha256(input.get(..n + 4).unwrap_or(&[]));
        for (o, m) in chunk.iter_mut().zip(mask.iter()) {
            *o ^= m;
        }
    }
    input.zeroize();
}

/// The OAEP decoding of `em` (unmasked in place), in constant time with respect to its
/// content; the message goes to `out`.
fn oaep_decode(em: &mut [u8; MODULUS_BYTES], out: &mut [u8]) -> Result<usize, KeyWrapError> {
    let (head, db) = em.split_at_mut(1 + HASH);
    let (y, seed) = head.split_at_mut(1);
    mgf1_xor(db, seed);
    mgf1_xor(seed, db);
    // every check accumulates into `bad` (0 = good) with no branch on the content
    let mut bad = u32::from(y.first().copied().unwrap_or(1));
    for (a, b) in db.iter().zip(LABEL_HASH.iter()) {
        bad |= u32::from(a ^ b);
    }
    // the first 0x01 after the label hash, the bytes before it all zero
    let mut found = 0u32; // 0 or 1
    let mut index = 0u32;
    for (i, &b) in db.iter().enumerate().skip(HASH) {
        let is_one = ct_eq(b, 0x01);
        let is_zero = ct_eq(b, 0x00);
        // first one: record its index
        let take = is_one & !found & 1;
        index |= (0u32.wrapping_sub(take)) & (i as u32);
        // before the one, anything but zero is bad
        bad |= !found & !is_zero & !is_one & 1;
        found |= is_one;
    }
    bad |= !found & 1;
    if bad != 0 {
        return Err(KeyWrapError);
    }
    let msg = db.get(index as usize + 1..).ok_or(KeyWrapError)?;
    let dst = out.get_mut(..msg.len()).ok_or(KeyWrapError)?;
    dst.copy_from_slice(msg);
    Ok(msg.len())
}

/// 1 when `a == b`, else 0, without a branch.
fn ct_eq(a: u8, b: u8) -> u32 {
    let x = u32::from(a ^ b);
    // x == 0 exactly when (x - 1) borrows into bit 31
    (x.wrapping_sub(1) >> 31) & 1
}

/// RSA-OAEP-256 key wrap to a public key (the platform's), as the core's [`KeyWrap`].
pub struct OaepWrap<'a> {
    key: &'a RsaPublicKey,
    random: &'a mut dyn FnMut(&mut [u8]),
}

impl<'a> OaepWrap<'a> {
    /// Wraps to `key`, with seeds from `random` (a cryptographic random source).
    pub fn new(key: &'a RsaPublicKey, random: &'a mut dyn FnMut(&mut [u8])) -> Self {
        OaepWrap { key, random }
    }
}

impl KeyWrap for OaepWrap<'_> {
    fn wrap_key(&mut self, cek: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        let dst: &mut [u8; MODULUS_BYTES] = out
            .get_mut(..MODULUS_BYTES)
            .and_then(|o| o.try_into().ok())
            .ok_or(KeyWrapError)?;
        self.key.oaep_encrypt(cek, self.random, dst)?;
        Ok(MODULUS_BYTES)
    }
}

/// RSA-OAEP-256 key unwrap with a private key (the till's), as the core's [`KeyUnwrap`].
pub struct OaepUnwrap<'a> {
    key: &'a RsaPrivateKey,
    random: &'a mut dyn FnMut(&mut [u8]),
}

impl<'a> OaepUnwrap<'a> {
    /// Unwraps with `key`, blinding each operation with randomness from `random`.
    pub fn new(key: &'a RsaPrivateKey, random: &'a mut dyn FnMut(&mut [u8])) -> Self {
        OaepUnwrap { key, random }
    }
}

impl KeyUnwrap for OaepUnwrap<'_> {
    fn unwrap_key(&mut self, wrapped: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        self.key.oaep_decrypt(wrapped, self.random, out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_label_hash_is_sha256_of_nothing() {
        assert_eq!(sha256(b""), LABEL_HASH);
    }

    #[test]
    fn ct_eq_is_exact() {
        for a in 0..=255u8 {
            for b in [0u8, 1, 0x7F, 0x80, 0xFF, a] {
                assert_eq!(ct_eq(a, b), u32::from(a == b), "{a} {b}");
            }
        }
    }
}
