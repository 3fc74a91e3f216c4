//! RSA keys from DER (the reader is the core's `der`): PKCS#1 `RSAPublicKey` / `RSAPrivateKey`, a
//! `SubjectPublicKeyInfo`, a PKCS#8 `PrivateKeyInfo`. No allocation, no panic on any input:
//! every length is checked against what is left.

use konaplate_core::der::{
    BIT_STRING, INTEGER, NULL, OCTET_STRING, OID, RSA_ENCRYPTION, Reader, SEQUENCE,
};

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
    fn empty_keys_are_refused() {
        assert!(public_key(&[]).is_none());
        assert!(public_key(&[0x30, 0x00]).is_none());
        assert!(private_key(&[0x30, 0x00]).is_none());
    }
}
