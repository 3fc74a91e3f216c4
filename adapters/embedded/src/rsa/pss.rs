//! RSASSA-PSS verification (RFC 8017 §8.1.2), with MGF1 over the same hash and a salt as long
//! as the hash: what TLS 1.3's `rsa_pss_rsae_sha256/384/512` signatures are (RFC 8446 §4.2.3).
//! Public data only, so nothing here needs constant time.

use sha2::digest::Digest;
use sha2::{Sha256, Sha384, Sha512};

use super::{MODULUS_BYTES, RsaPublicKey, WIDE, to_bytes, uint};

/// The hash of an RSA-PSS signature (and of its MGF1; the salt is as long as the hash).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PssHash {
    /// SHA-256, 32-byte salt.
    Sha256,
    /// SHA-384, 48-byte salt.
    Sha384,
    /// SHA-512, 64-byte salt.
    Sha512,
}

/// The signature does not verify with this key (or is not `MODULUS_BYTES` long).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct SignatureError;

impl core::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("the RSA-PSS signature does not verify with the key")
    }
}

impl RsaPublicKey {
    /// Verifies an RSASSA-PSS signature of `message` (MGF1 with `hash`, salt length equal to
    /// the hash's).
    pub fn verify_pss(
        &self,
        hash: PssHash,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        match hash {
            PssHash::Sha256 => self.verify_pss_with::<Sha256>(message, signature),
            PssHash::Sha384 => self.verify_pss_with::<Sha384>(message, signature),
            PssHash::Sha512 => self.verify_pss_with::<Sha512>(message, signature),
        }
        .ok_or(SignatureError)
    }

    fn verify_pss_with<D: Digest>(&self, message: &[u8], signature: &[u8]) -> Option<()> {
        if signature.len() != MODULUS_BYTES {
            return None;
        }
        // RSAVP1: m = s^e mod n, s < n
        let m = self.apply(&uint::<WIDE>(signature)?)?;
        let mut em = [0u8; MODULUS_BYTES];
        to_bytes(&m, &mut em);
        // the modulus has exactly 2048 bits (from_parts), so emBits = 2047, emLen = 256:
        // one leftmost bit of EM must be zero
        let h_len = <D as Digest>::output_size();
        let s_len = h_len;
        let em_len = MODULUS_BYTES;
        let db_len = em_len.checked_sub(h_len + 1)?;
        let ps_len = em_len.checked_sub(h_len + s_len + 2)?;
        if em.last() != Some(&0xBC) {
            return None;
        }
        let (db, rest) = em.split_at_mut(db_len);
        let h = rest.get(..h_len)?;
        if db.first()? & 0x80 != 0 {
            return None;
        }
        mgf1_xor::<D>(h, db);
        *db.first_mut()? &= 0x7F;
        // DB = PS (zeros) || 0x01 || salt
        if db.get(..ps_len)?.iter().any(|&b| b != 0) || *db.get(ps_len)? != 0x01 {
            return None;
        }
        let salt = db.get(ps_len + 1..)?;
        // H' = Hash(0x00 * 8 || Hash(M) || salt)
        let expected = D::new()
            .chain_update([0u8; 8])
            .chain_update(D::digest(message))
            .chain_update(salt)
            .finalize();
        (expected.as_slice() == h).then_some(())
    }
}

/// `out ^= MGF1-D(seed)`.
fn mgf1_xor<D: Digest>(seed: &[u8], out: &mut [u8]) {
    let h_len = <D as Digest>::output_size();
    for (counter, chunk) in out.chunks_mut(h_len).enumerate() {
        let mask = D::new()
            .chain_update(seed)
            .chain_update((counter as u32).to_be_bytes())
            .finalize();
        for (o, m) in chunk.iter_mut().zip(mask.iter()) {
            *o ^= m;
        }
    }
}
