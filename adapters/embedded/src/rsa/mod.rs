//! # RSA without a heap (feature `rsa`)
//!
//! RSA-OAEP-256 (SHA-256, MGF1-SHA-256, empty label) for the JWE key wrap of a till that has no RSA
//! secure element, and RSASSA-PSS verification ([`RsaPublicKey::verify_pss`]) for the signature of
//! a pinned TLS server (`konaplate_embedded::tls`): [`OaepWrap`] seals the content key of a token
//! request to the platform's public key, [`OaepUnwrap`] opens the key of an encrypted answer with
//! the till's private key. 2048-bit keys, fixed-size integers from `crypto-bigint` (no allocation,
//! `no_std`), the keys parsed from DER without allocation: a `SubjectPublicKeyInfo` or PKCS#1
//! `RSAPublicKey`, a PKCS#8 `PrivateKeyInfo` or PKCS#1 `RSAPrivateKey`.
//!
//! The private-key operation runs in constant time: the Chinese remainder theorem over the two
//! primes, each half a fixed-window exponentiation over every bit of the exponent's width with
//! constant-time table reads (`crypto-bigint`'s Montgomery multiplication, in place); the
//! ciphertext blinded by a fresh random factor `r` (from your random source) so that no two
//! exponentiations see the same input, `r^-1` taken modulo each prime (by Fermat); and the
//! result checked against the public key before it is used (a fault does not leak a prime). The
//! OAEP decoding checks every byte without an early exit.
//!
//! What this does not defend against: the ciphertext is reduced modulo each prime *before* it is
//! blinded (blinding modulo n first costs more stack than the till has), which an attacker with
//! a power or EM probe on the till and chosen ciphertexts can target; and the temporaries of the
//! arithmetic (each carries a copy of its prime's parameters) are left on the stack, where only
//! the key struct itself is zeroized. A secure element is the answer to a physical attacker.
//!
//! Measured on a Cortex-M4F (`scripts/firmware-check`, opt-level z): about 24 KB of flash; a wrap
//! takes about 5 KB of stack and 1.3 million instructions, an unwrap under 6 KB and 106 million
//! (the private key's two half-size exponentiations and, for the blinding, two more by Fermat); the
//! parsed keys are about 0.8 KB (public) and 1.2 KB (private), best kept in a `static` and parsed
//! once at boot.
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
use crypto_bigint::{
    ConstOne, CtAssign, CtEq, MontyForm, MontyMultiplier, Odd, U64, U1024, U2048, Uint, Word,
};
use konaplate_core::jwe::{KeyUnwrap, KeyWrap, KeyWrapError};
use konaplate_core::sign::sha256;
use zeroize::Zeroize;

mod der;
mod pss;

pub use pss::{PssHash, SignatureError};

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

/// The Montgomery multiplier of a modulus: products and squares in place, by reference.
type Multiplier<'a, const L: usize> = <FixedMontyForm<L> as MontyForm>::Multiplier<'a>;

/// Bits of the exponent taken per multiplication in [`pow_secret`].
const WINDOW: u32 = 3;

/// `base^exponent` for a public exponent, square and multiply over its bits (the time
/// depends on the exponent only). Works in place: two numbers of the modulus' size on the
/// stack, where `crypto-bigint`'s `pow_vartime` keeps a table of sixteen.
#[inline(never)]
fn pow_public<const L: usize>(
    base: &FixedMontyForm<L>,
    exponent: &U64,
    params: &FixedMontyParams<L>,
) -> FixedMontyForm<L> {
    let mut multiplier = Multiplier::<L>::from(params);
    let mut acc = *base;
    for i in (0..exponent.bit_width_vartime().saturating_sub(1)).rev() {
        multiplier.square_assign(&mut acc);
        if exponent.bit_vartime(i) {
            multiplier.mul_assign(&mut acc, base);
        }
    }
    acc
}

/// `x` becomes `x^exponent`, in constant time: a fixed window of [`WINDOW`] bits over every
/// bit of the exponent's width (never its length), each table entry read by a constant-time
/// select, the same squarings and multiplications whatever the exponent. In place, the table
/// of the eight powers kept as bare integers (1 KiB for a 1024-bit prime) and wiped before it
/// returns: `crypto-bigint`'s `pow` (a 4-bit window of whole numbers in Montgomery form)
/// keeps more copies than a till's stack can hold; 3 bits cost 6 % more multiplications
/// than 4 and half the table.
#[inline(never)]
fn pow_secret<const L: usize>(
    x: &mut FixedMontyForm<L>,
    exponent: &Uint<L>,
    params: &FixedMontyParams<L>,
) {
    let mut multiplier = Multiplier::<L>::from(params);
    let mut table = [Uint::<L>::ZERO; 1 << WINDOW];
    let mut power = *x;
    for (i, slot) in table.iter_mut().enumerate() {
        match i {
            0 => *slot = *params.one(),
            1 => *slot = *x.as_montgomery(),
            _ => {
                multiplier.mul_assign(&mut power, x);
                *slot = *power.as_montgomery();
            }
        }
    }
    *x.as_montgomery_mut() = *params.one();
    for w in (0..Uint::<L>::BITS.div_ceil(WINDOW)).rev() {
        for _ in 0..WINDOW {
            multiplier.square_assign(x);
        }
        // the window's bits, read without a branch (bits past the width read as 0)
        let mut index: Word = 0;
        for k in 0..WINDOW {
            index |= Word::from(exponent.bit(w * WINDOW + k).to_u8()) << k;
        }
        let pick = power.as_montgomery_mut();
        for (i, entry) in table.iter().enumerate() {
            pick.ct_assign(entry, (i as Word).ct_eq(&index));
        }
        multiplier.mul_assign(x, &power);
    }
    table.zeroize();
    power.zeroize();
}

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

/// A 2048-bit modulus and an exponent below 2^64, checked.
fn modulus_and_exponent(n: &[u8], e: &[u8]) -> Result<(Odd<U2048>, U64), KeyError> {
    if n.len() != MODULUS_BYTES || n.first().is_none_or(|&b| b & 0x80 == 0) {
        return Err(KeyError::Size);
    }
    let n = uint::<WIDE>(n).ok_or(KeyError::Size)?;
    let e_val = uint::<{ U64::LIMBS }>(e).ok_or(KeyError::Size)?;
    // an exponent of 1, or an even one, is no RSA key
    if !bool::from(e_val.is_odd()) || e_val == U64::ONE {
        return Err(KeyError::Inconsistent);
    }
    let odd: Option<Odd<U2048>> = Odd::new(n).into();
    Ok((odd.ok_or(KeyError::Inconsistent)?, e_val))
}

/// An RSA public key (2048-bit modulus).
#[derive(Clone, Debug)]
pub struct RsaPublicKey {
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
    #[inline(never)]
    pub fn from_parts(n: &[u8], e: &[u8]) -> Result<Self, KeyError> {
        let (n, e) = modulus_and_exponent(n, e)?;
        Ok(Self::new(n, e))
    }

    fn new(n: Odd<U2048>, e: U64) -> Self {
        RsaPublicKey {
            e,
            params: FixedMontyParams::new_vartime(n),
        }
    }

    /// The modulus.
    fn n(&self) -> &U2048 {
        self.params.modulus().as_ref()
    }

    /// `x^e mod n` for `x < n` (`None` otherwise).
    #[inline(never)]
    fn apply(&self, x: &U2048) -> Option<U2048> {
        if x >= self.n() {
            return None;
        }
        let base = FixedMontyForm::new(x, &self.params);
        Some(pow_public(&base, &self.e, &self.params).retrieve())
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
    e: U64,
    p: FixedMontyParams<HALF>,
    q: FixedMontyParams<HALF>,
    dp: U1024,
    dq: U1024,
    /// `q^-1 mod p`, in Montgomery form mod p.
    q_inv: U1024,
}

impl core::fmt::Debug for RsaPrivateKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RsaPrivateKey")
            .field("e", &self.e)
            .finish_non_exhaustive()
    }
}

impl Drop for RsaPrivateKey {
    fn drop(&mut self) {
        self.p.zeroize();
        self.q.zeroize();
        self.dp.zeroize();
        self.dq.zeroize();
        self.q_inv.zeroize();
    }
}

/// 2048 bits from `random`.
#[inline(never)]
fn random_wide(random: &mut dyn FnMut(&mut [u8])) -> Option<U2048> {
    let mut bytes = [0u8; MODULUS_BYTES];
    random(&mut bytes);
    let r = uint::<WIDE>(&bytes);
    bytes.zeroize();
    r
}

/// `x mod m` for a 2048-bit `x` and a prime's parameters, in Montgomery form.
#[inline(never)]
fn reduce(x: &U2048, params: &FixedMontyParams<HALF>) -> FixedMontyForm<HALF> {
    FixedMontyForm::new(&x.rem(params.modulus().as_nz_ref()), params)
}

/// `(c r^e) mod m` for the prime `m`.
#[inline(never)]
fn blind(c: &U2048, r: &U2048, e: &U64, params: &FixedMontyParams<HALF>) -> FixedMontyForm<HALF> {
    let mut b = pow_public(&reduce(r, params), e, params);
    b *= &reduce(c, params);
    b
}

/// `x r^-1`, `r^-1` by Fermat (`r^(m-2)` for the prime `m`): the same constant-time
/// exponentiation as the key's, no inversion code of its own (a constant-time inversion costs
/// a till 3 KiB of flash). `false` when `m` divides `r`.
#[inline(never)]
fn unblind(x: &mut FixedMontyForm<HALF>, r: &U2048, params: &FixedMontyParams<HALF>) -> bool {
    let mut r_inv = reduce(r, params);
    if bool::from(r_inv.as_montgomery().is_zero()) {
        return false;
    }
    let fermat = params.modulus().as_ref().wrapping_sub(&U1024::from_u8(2));
    pow_secret(&mut r_inv, &fermat, params);
    *x *= &r_inv;
    r_inv.zeroize();
    true
}

/// One half of the blinded CRT: `((c r^e)^d r^-1) mod m` for the prime `m` (Montgomery form).
/// Constant time in `d` and `r`; `None` when `m` divides `r`.
#[inline(never)]
fn blinded_half(
    c: &U2048,
    r: &U2048,
    e: &U64,
    d: &U1024,
    params: &FixedMontyParams<HALF>,
) -> Option<U1024> {
    let mut m = blind(c, r, e, params);
    pow_secret(&mut m, d, params);
    let unblinded = unblind(&mut m, r, params);
    let out = *m.as_montgomery();
    m.zeroize();
    unblinded.then_some(out)
}

/// Whether `m^e = c mod m` for the prime `m` (the fault check, half of `m^e = c mod n`).
#[inline(never)]
fn checks_out(m: &U2048, c: &U2048, e: &U64, params: &FixedMontyParams<HALF>) -> bool {
    pow_public(&reduce(m, params), e, params).as_montgomery() == reduce(c, params).as_montgomery()
}

impl RsaPrivateKey {
    /// Reads a DER PKCS#8 `PrivateKeyInfo` (what `openssl pkcs8 -topk8 -nocrypt -outform DER`
    /// writes) or a PKCS#1 `RSAPrivateKey`. Checks that the primes make the modulus and that
    /// the CRT exponents and coefficient make a working key (one round trip).
    pub fn from_der(der_bytes: &[u8]) -> Result<Self, KeyError> {
        let key = Self::parse(der_bytes)?;
        key.check()?;
        Ok(key)
    }

    /// The key's parts, each of the right size, the primes making the modulus.
    #[inline(never)]
    fn parse(der_bytes: &[u8]) -> Result<Self, KeyError> {
        let [n, e, _d, p, q, dp, dq, qinv] = der::private_key(der_bytes).ok_or(KeyError::Der)?;
        let (n, e) = modulus_and_exponent(n, e)?;
        let size =
            |b: &[u8]| b.len() == MODULUS_BYTES / 2 && b.first().is_some_and(|&x| x & 0x80 != 0);
        if !size(p) || !size(q) {
            return Err(KeyError::Size);
        }
        let half = |b: &[u8]| uint::<HALF>(b).ok_or(KeyError::Size);
        let (pv, qv) = (half(p)?, half(q)?);
        // p * q must be n
        let (lo, hi) = pv.widening_mul(&qv);
        let pq: U2048 = lo.concat(&hi);
        if &pq != n.as_ref() {
            return Err(KeyError::Inconsistent);
        }
        let odd = |v: U1024| -> Result<Odd<U1024>, KeyError> {
            let o: Option<Odd<U1024>> = Odd::new(v).into();
            o.ok_or(KeyError::Inconsistent)
        };
        let p_params = FixedMontyParams::new(odd(pv)?);
        Ok(RsaPrivateKey {
            e,
            q_inv: *FixedMontyForm::new(&half(qinv)?, &p_params).as_montgomery(),
            p: p_params,
            q: FixedMontyParams::new(odd(qv)?),
            dp: half(dp)?,
            dq: half(dq)?,
        })
    }

    /// That the coefficient is `q^-1 mod p` and that the exponents make the primes work.
    fn check(&self) -> Result<(), KeyError> {
        if !self.coefficient_is_right() || !self.round_trips() {
            return Err(KeyError::Inconsistent);
        }
        Ok(())
    }

    /// `q_inv q = 1 mod p`.
    #[inline(never)]
    fn coefficient_is_right(&self) -> bool {
        let q_wide: U2048 = self.q.modulus().as_ref().resize();
        let q_mod_p = reduce(&q_wide, &self.p);
        let q_inv = FixedMontyForm::from_montgomery(self.q_inv, &self.p);
        (q_mod_p * q_inv).retrieve() == U1024::ONE
    }

    /// One round trip of a value that differs modulo p and modulo q, through the very
    /// operation a decryption runs (blinded by a fixed factor here).
    #[inline(never)]
    fn round_trips(&self) -> bool {
        let x = self.modulus().wrapping_sub(&U2048::from_u64(2));
        let c = self.public_op(&x);
        self.private_op(&c, &mut |b: &mut [u8]| b.fill(0x5A)) == Some(x)
    }

    /// The public half (computed: the private key keeps only what its own operation needs).
    pub fn public_key(&self) -> RsaPublicKey {
        let n: Option<Odd<U2048>> = Odd::new(self.modulus()).into();
        // p q is odd: both primes are (checked when the key was read)
        RsaPublicKey::new(n.unwrap_or(<Odd<U2048> as ConstOne>::ONE), self.e)
    }

    /// `n = p q` (not kept: 256 bytes of a till's RAM).
    #[inline(never)]
    fn modulus(&self) -> U2048 {
        let (lo, hi) = self
            .p
            .modulus()
            .as_ref()
            .widening_mul(self.q.modulus().as_ref());
        lo.concat(&hi)
    }

    /// `x^e mod n`, modulo each prime and combined (no arithmetic modulo n, whose parameters
    /// the private key does not keep).
    #[inline(never)]
    fn public_op(&self, x: &U2048) -> U2048 {
        let c1 = pow_public(&reduce(x, &self.p), &self.e, &self.p);
        let c2 = pow_public(&reduce(x, &self.q), &self.e, &self.q);
        self.combine(c1.as_montgomery(), c2.as_montgomery())
    }

    /// The number that is `m1` mod p and `m2` mod q (both Montgomery form), by Garner:
    /// `m2 + q (q^-1 (m1 - m2) mod p)`.
    #[inline(never)]
    fn combine(&self, m1: &U1024, m2: &U1024) -> U2048 {
        let m2: U2048 = FixedMontyForm::from_montgomery(*m2, &self.q)
            .retrieve()
            .resize();
        let mut h = FixedMontyForm::from_montgomery(*m1, &self.p) - reduce(&m2, &self.p);
        h *= &FixedMontyForm::from_montgomery(self.q_inv, &self.p);
        let (lo, hi) = self.q.modulus().as_ref().widening_mul(&h.retrieve());
        h.zeroize();
        let hq: U2048 = lo.concat(&hi);
        hq.wrapping_add(&m2)
    }

    /// `c^d mod n` for `c < n`: the Chinese remainder theorem, blinded by a random factor `r`
    /// from `random` (`(c r^e)^d r^-1`, every step modulo one prime, `r^-1` by Fermat modulo each
    /// prime), constant time in the secret parts, and checked against
    /// the public key (`m^e = c` modulo both primes) before it is returned.
    #[inline(never)]
    fn private_op(&self, c: &U2048, random: &mut dyn FnMut(&mut [u8])) -> Option<U2048> {
        let e = &self.e;
        for _ in 0..4 {
            // 2048 random bits: only `r mod p` and `r mod q` are used, each uniform but for a
            // bias below 2^-1000
            let mut r = random_wide(random)?;
            let m1 = blinded_half(c, &r, e, &self.dp, &self.p);
            let m2 = blinded_half(c, &r, e, &self.dq, &self.q);
            r.zeroize();
            let (mut m1, mut m2) = match (m1, m2) {
                (Some(m1), Some(m2)) => (m1, m2),
                (mut m1, mut m2) => {
                    // r shares a prime (one chance in 2^1023): another r
                    m1.zeroize();
                    m2.zeroize();
                    continue;
                }
            };
            let m = self.combine(&m1, &m2);
            m1.zeroize();
            m2.zeroize();
            // a fault in the computation must not leave this function: check it
            if !checks_out(&m, c, e, &self.p) || !checks_out(&m, c, e, &self.q) {
                return None;
            }
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
        if c >= self.modulus() {
            return Err(KeyWrapError);
        }
        let mut m = self.private_op(&c, random).ok_or(KeyWrapError)?;
        let r = oaep_decode_number(&m, out);
        m.zeroize();
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

/// The OAEP decoding of the number `m` (its bytes apart, so that they are on the stack only
/// after the private-key operation's are gone).
#[inline(never)]
fn oaep_decode_number(m: &U2048, out: &mut [u8]) -> Result<usize, KeyWrapError> {
    let mut em = [0u8; MODULUS_BYTES];
    to_bytes(m, &mut em);
    let r = oaep_decode(&mut em, out);
    em.zeroize();
    r
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
