//! Just enough DER to read RSA keys: PKCS#1 `RSAPublicKey` / `RSAPrivateKey`, a
//! `SubjectPublicKeyInfo`, a PKCS#8 `PrivateKeyInfo`. No allocation, no panic on any input:
//! every length is checked against what is left.

/// A DER element: its tag and its contents.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    pub(crate) tag: u8,
    pub(crate) value: &'a [u8],
}

pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const NULL: u8 = 0x05;
pub(crate) const OID: u8 = 0x06;

/// `1.2.840.113549.1.1.1`, rsaEncryption.
pub(crate) const RSA_ENCRYPTION: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];

/// A reader over the elements of one DER value.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader(bytes)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The next element (definite lengths only, at most 4 length bytes).
    pub(crate) fn next(&mut self) -> Option<Tlv<'a>> {
        let (&tag, rest) = self.0.split_first()?;
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7F);
            if n == 0 || n > 4 {
                return None;
            }
            let (len_bytes, rest) = (rest.get(..n)?, rest.get(n..)?);
            // DER: the shortest form, no leading zero
            if len_bytes.first() == Some(&0) {
                return None;
            }
            let len = len_bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            if len < 0x80 {
                return None;
            }
            (len, rest)
        };
        let value = rest.get(..len)?;
        self.0 = rest.get(len..)?;
        Some(Tlv { tag, value })
    }

    /// The next element, which must have `tag`.
    pub(crate) fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        let t = self.next()?;
        (t.tag == tag).then_some(t.value)
    }

    /// The next element, a non-negative INTEGER: its big-endian magnitude without leading
    /// zeros.
    pub(crate) fn unsigned(&mut self) -> Option<&'a [u8]> {
        let v = self.expect(INTEGER)?;
        let (&first, _) = v.split_first()?;
        if first & 0x80 != 0 {
            return None;
        }
        // DER: a leading zero only before a byte with its top bit set
        if first == 0 && v.len() > 1 && v.get(1).is_some_and(|&b| b & 0x80 == 0) {
            return None;
        }
        let start = v.iter().position(|&b| b != 0).unwrap_or(v.len());
        v.get(start..)
    }
}

/// The `RSAPublicKey` inside a `SubjectPublicKeyInfo` (or the bytes themselves when they are
/// one already).
pub(crate) fn public_key(der: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut outer = Reader::new(der);
    let mut seq = Reader::new(outer.expect(SEQUENCE)?);
    if !outer.is_empty() {
        return None;
    }
    let first = seq.next()?;
    let key = match first.tag {
        // PKCS#1 RSAPublicKey: SEQUENCE { modulus, publicExponent }
        INTEGER => der,
        // SubjectPublicKeyInfo: SEQUENCE { AlgorithmIdentifier, BIT STRING }
        SEQUENCE => {
            algorithm_is_rsa(first.value)?;
            let bits = seq.expect(BIT_STRING)?;
            if !seq.is_empty() {
                return None;
            }
            let (&unused, key) = bits.split_first()?;
            if unused != 0 {
                return None;
            }
            key
        }
        _ => return None,
    };
    let mut k = Reader::new(Reader::new(key).expect(SEQUENCE)?);
    let n = k.unsigned()?;
    let e = k.unsigned()?;
    k.is_empty().then_some((n, e))
}

fn algorithm_is_rsa(alg: &[u8]) -> Option<()> {
    let mut a = Reader::new(alg);
    if a.expect(OID)? != RSA_ENCRYPTION {
        return None;
    }
    // the parameters are NULL (or absent)
    match a.next() {
        None => Some(()),
        Some(t) if t.tag == NULL && t.value.is_empty() && a.is_empty() => Some(()),
        _ => None,
    }
}

/// The parts of an `RSAPrivateKey` (PKCS#1), from it or from the PKCS#8 `PrivateKeyInfo`
/// around it: n, e, d, p, q, dP, dQ, qInv.
pub(crate) fn private_key(der: &[u8]) -> Option<[&[u8]; 8]> {
    let mut outer = Reader::new(der);
    let body = outer.expect(SEQUENCE)?;
    if !outer.is_empty() {
        return None;
    }
    let mut seq = Reader::new(body);
    let version = seq.unsigned()?;
    if !version.is_empty() {
        return None; // version 0 (two primes) only
    }
    let second = seq.next()?;
    let pkcs1 = match second.tag {
        // PKCS#8: version, AlgorithmIdentifier, OCTET STRING { RSAPrivateKey } [, attributes]
        SEQUENCE => {
            algorithm_is_rsa(second.value)?;
            let inner = seq.expect(OCTET_STRING)?;
            let mut r = Reader::new(inner);
            let body = r.expect(SEQUENCE)?;
            if !r.is_empty() {
                return None;
            }
            let mut k = Reader::new(body);
            if !k.unsigned()?.is_empty() {
                return None;
            }
            return parts(k);
        }
        // PKCS#1: the modulus follows the version
        INTEGER => body,
        _ => return None,
    };
    let mut k = Reader::new(pkcs1);
    k.unsigned()?;
    parts(k)
}

fn parts(mut k: Reader<'_>) -> Option<[&[u8]; 8]> {
    let mut out: [&[u8]; 8] = [&[]; 8];
    for slot in &mut out {
        *slot = k.unsigned()?;
    }
    k.is_empty().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_and_integers_are_strict() {
        // a long form for a short length is not DER
        assert!(Reader::new(&[0x02, 0x81, 0x01, 0x05]).next().is_none());
        // a length past the end
        assert!(Reader::new(&[0x02, 0x05, 0x01]).next().is_none());
        // a negative integer, a needless leading zero
        assert!(Reader::new(&[0x02, 0x01, 0x80]).unsigned().is_none());
        assert!(Reader::new(&[0x02, 0x02, 0x00, 0x01]).unsigned().is_none());
        assert_eq!(
            Reader::new(&[0x02, 0x02, 0x00, 0x80]).unsigned(),
            Some(&[0x80u8][..])
        );
        assert_eq!(Reader::new(&[0x02, 0x01, 0x00]).unsigned(), Some(&[][..]));
        assert!(public_key(&[]).is_none());
        assert!(private_key(&[0x30, 0x00]).is_none());
    }
}
