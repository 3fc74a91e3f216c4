//! Secrets: the one-time token, the DCVV, the card number, the access key and the secret
//! key. `Debug` and `defmt` print `<redacted>`, there is no `Display`, and the bytes are
//! zeroized on drop.

use core::fmt;

use super::{Charset, FieldError, check, to_array};
use crate::base::ascii::ascii_str;
use zeroize::{Zeroize, ZeroizeOnDrop};

secret_field!(
    /// One-time token (`oneTimeToken`) from token issuance (§6.1): exactly 16 ASCII digits.
    /// Valid 30 seconds, single use.
    OneTimeToken, "oneTimeToken", 16, Charset::Digits, "exactly 16 ASCII digits"
);
secret_field!(
    /// Dynamic CVV (`dcvv`) issued with the one-time token: exactly 3 ASCII digits.
    Dcvv, "dcvv", 3, Charset::Digits, "exactly 3 ASCII digits"
);
secret_field!(
    /// Card number (`cardNo`) of a physical or mobile card: exactly 16 ASCII digits.
    CardNo, "cardNo", 16, Charset::Digits, "exactly 16 ASCII digits"
);

secret_field!(
    /// Project access key header `X-KM-Access-Key`: exactly 40 ASCII letters, digits or `-`
    /// (observed: 7 + `-` + 32). It points at the secret key (G-CRED), so it is kept like one.
    AccessKey, "X-KM-Access-Key", 40, Charset::AlnumDash,
    "exactly 40 ASCII letters, digits or '-'"
);

/// The HMAC secret key issued with the access key (G-CRED). Length is not documented: we
/// admit 1..=128 printable ASCII characters without space.
///
/// Secret: redacted in `Debug`/`defmt`, no `Display`, zeroized on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey {
    buf: [u8; 128],
    len: u8,
}

impl SecretKey {
    /// Name used in errors.
    pub const API_NAME: &'static str = "secretKey";
    /// The limit this type enforces.
    pub const LIMIT: &'static str = "1 to 128 printable ASCII characters without space";

    /// Validates `s` against [`Self::LIMIT`].
    pub fn new(s: &str) -> Result<Self, FieldError> {
        let b = s.as_bytes();
        check(b, 1, 128, Charset::Graphic, Self::API_NAME, Self::LIMIT)?;
        let mut buf = [0u8; 128];
        buf.get_mut(..b.len())
            .ok_or(FieldError::new(Self::API_NAME, Self::LIMIT))?
            .copy_from_slice(b);
        Ok(Self {
            buf,
            len: b.len() as u8,
        })
    }
    /// The key bytes.
    pub fn expose(&self) -> &[u8] {
        self.buf.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

#[cfg(feature = "defmt")]
impl defmt::Format for SecretKey {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "SecretKey(<redacted>)")
    }
}
