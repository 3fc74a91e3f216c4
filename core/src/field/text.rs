//! [`Text`]: UTF-8 text of at most `N` bytes, kept as its checked bytes. The envelope's code
//! ([`crate::code::RawCode`], 32 bytes) and description ([`crate::message::Description`], 256
//! bytes) are this one type.

use core::fmt;

use super::FieldError;

/// UTF-8 text of at most `N` bytes, kept as bytes that were checked to be UTF-8 when they
/// were stored: [`Text::as_str`] converts on demand (the core has no `unsafe`, and
/// `core::str::from_utf8` is the only safe way from bytes to `str`), so a value that is never
/// printed never pays for it.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Text<const N: usize>(heapless::Vec<u8, N>);

impl<const N: usize> Text<N> {
    /// Copies `s`; a text longer than `N` bytes is refused naming `field` and `limit`.
    pub(crate) fn copy(
        s: &str,
        field: &'static str,
        limit: &'static str,
    ) -> Result<Self, FieldError> {
        let mut h = heapless::Vec::new();
        h.extend_from_slice(s.as_bytes())
            .map_err(|_| FieldError::new(field, limit))?;
        Ok(Self(h))
    }
    /// Wraps bytes the JSON reader checked as UTF-8.
    pub(crate) fn from_checked(h: heapless::Vec<u8, N>) -> Self {
        Self(h)
    }
    /// The storage, for a reader that checks what it writes there as UTF-8.
    pub(crate) fn checked_storage(&mut self) -> &mut heapless::Vec<u8, N> {
        &mut self.0
    }
    /// The text.
    pub fn as_str(&self) -> &str {
        // always valid: every constructor puts UTF-8 here
        core::str::from_utf8(&self.0).unwrap_or("")
    }
    /// The text's UTF-8 bytes (no conversion).
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl<const N: usize> fmt::Debug for Text<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}
impl<const N: usize> fmt::Display for Text<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
#[cfg(feature = "defmt")]
impl<const N: usize> defmt::Format for Text<N> {
    fn format(&self, f: defmt::Formatter<'_>) {
        defmt::write!(f, "{=str}", self.as_str())
    }
}
