//! Just enough DER (X.690) to walk keys and certificates: definite lengths of at most four
//! bytes, in their shortest form, every length checked against what is left. No allocation,
//! no panic on any input.

/// `SEQUENCE` (constructed).
pub const SEQUENCE: u8 = 0x30;
/// `INTEGER`.
pub const INTEGER: u8 = 0x02;
/// `BIT STRING`.
pub const BIT_STRING: u8 = 0x03;
/// `OCTET STRING`.
pub const OCTET_STRING: u8 = 0x04;
/// `NULL`.
pub const NULL: u8 = 0x05;
/// `OBJECT IDENTIFIER`.
pub const OID: u8 = 0x06;
/// `[0]` constructed, context-specific (an X.509 certificate's version).
pub const CONTEXT_0: u8 = 0xA0;

/// `1.2.840.113549.1.1.1`, rsaEncryption (the contents of the OID).
pub const RSA_ENCRYPTION: &[u8] = &[0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01];
/// `1.2.840.10045.2.1`, id-ecPublicKey.
pub const EC_PUBLIC_KEY: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01];
/// `1.2.840.10045.3.1.7`, prime256v1 (secp256r1, P-256).
pub const PRIME256V1: &[u8] = &[0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07];

/// A DER element: its tag, its contents, and its whole encoding (tag and length included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The identifier octet (single-byte tags only).
    pub tag: u8,
    /// The contents.
    pub value: &'a [u8],
    /// Tag, length and contents.
    pub raw: &'a [u8],
}

/// A reader over the elements that follow one another in `bytes`.
#[derive(Clone, Copy, Debug)]
pub struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// A reader over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Reader(bytes)
    }

    /// Nothing left.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The next element, which must have `tag`: its contents.
    pub fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        self.expect_tlv(tag).map(|t| t.value)
    }

    /// The next element, which must have `tag`.
    pub fn expect_tlv(&mut self, tag: u8) -> Option<Tlv<'a>> {
        let t = self.next()?;
        (t.tag == tag).then_some(t)
    }

    /// The next element, a non-negative INTEGER: its big-endian magnitude without leading
    /// zeros (empty for zero).
    pub fn unsigned(&mut self) -> Option<&'a [u8]> {
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

    /// The only element of `bytes`, which must have `tag` and fill it.
    pub fn single(bytes: &'a [u8], tag: u8) -> Option<&'a [u8]> {
        let mut r = Reader::new(bytes);
        let v = r.expect(tag)?;
        r.is_empty().then_some(v)
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Tlv<'a>;

    /// The next element, or `None` when the input ends or is not DER (a multi-byte tag, an
    /// indefinite or non-minimal length, a length past the end). After a `None` the reader
    /// stays where it was.
    fn next(&mut self) -> Option<Tlv<'a>> {
        let all = self.0;
        let (&tag, rest) = all.split_first()?;
        // high-tag-number form (tag number 31 or more) is never needed here
        if tag & 0x1F == 0x1F {
            return None;
        }
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
            let len = len_bytes.iter().try_fold(0usize, |acc, &b| {
                acc.checked_mul(256)?.checked_add(usize::from(b))
            })?;
            if len < 0x80 {
                return None;
            }
            (len, rest)
        };
        let value = rest.get(..len)?;
        let header = all.len().checked_sub(rest.len())?;
        let raw = all.get(..header.checked_add(len)?)?;
        self.0 = rest.get(len..)?;
        Some(Tlv { tag, value, raw })
    }
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
        // indefinite length, a high tag number
        assert!(Reader::new(&[0x30, 0x80, 0x00, 0x00]).next().is_none());
        assert!(Reader::new(&[0x1F, 0x01, 0x00]).next().is_none());
        // a negative integer, a needless leading zero
        assert!(Reader::new(&[0x02, 0x01, 0x80]).unsigned().is_none());
        assert!(Reader::new(&[0x02, 0x02, 0x00, 0x01]).unsigned().is_none());
        assert_eq!(
            Reader::new(&[0x02, 0x02, 0x00, 0x80]).unsigned(),
            Some(&[0x80u8][..])
        );
        assert_eq!(Reader::new(&[0x02, 0x01, 0x00]).unsigned(), Some(&[][..]));
        // the raw encoding covers tag, length and contents, and nothing after
        let bytes = [0x04, 0x02, 0xAA, 0xBB, 0x05, 0x00];
        let mut r = Reader::new(&bytes);
        let t = r.next().unwrap();
        assert_eq!((t.tag, t.value, t.raw), (0x04, &bytes[2..4], &bytes[..4]));
        assert_eq!(r.next().unwrap().raw, &bytes[4..]);
        assert!(r.is_empty());
        assert!(Reader::single(&bytes, OCTET_STRING).is_none());
        assert_eq!(
            Reader::single(&bytes[..4], OCTET_STRING),
            Some(&bytes[2..4])
        );
    }

    #[test]
    fn a_long_length_is_read() {
        let mut bytes = [0u8; 4 + 300];
        bytes[..4].copy_from_slice(&[0x04, 0x82, 0x01, 0x2C]);
        let t = Reader::new(&bytes).next().unwrap();
        assert_eq!(t.value.len(), 300);
        assert_eq!(t.raw.len(), 304);
    }
}
