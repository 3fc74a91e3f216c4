//! Strings: the raw token, escapes (surrogate pairs combined, lone ones refused), and
//! decoding into a caller's buffer.

use super::{JsonError, JsonErrorKind, offset32};

/// A string token as it appears in the text (between the quotes), escapes not yet decoded.
#[derive(Clone, Copy, Debug)]
pub struct JStr<'a> {
    /// The bytes between the quotes: valid UTF-8 (checked while reading).
    pub(super) raw: &'a [u8],
    pub(super) escaped: bool,
    pub(super) offset: usize,
}

impl<'a> JStr<'a> {
    /// The raw text between the quotes (valid UTF-8: checked while reading; converted here,
    /// the only safe way from bytes to `str`, so a string that is only skipped or compared
    /// never pays for it).
    pub fn raw(&self) -> &'a str {
        core::str::from_utf8(self.raw).unwrap_or("")
    }
    /// The raw bytes between the quotes.
    pub fn raw_bytes(&self) -> &'a [u8] {
        self.raw
    }
    /// Whether the raw text contains any `\` escape.
    pub fn has_escapes(&self) -> bool {
        self.escaped
    }
    /// Byte offset of the raw text in the body.
    pub fn offset(&self) -> usize {
        self.offset
    }
    /// The decoded characters; an invalid escape or lone surrogate yields an error item.
    pub fn chars(&self) -> Unescape<'a> {
        let raw = self.raw();
        Unescape {
            rest: raw.as_bytes(),
            raw,
            offset: self.offset,
        }
    }
    /// Compares the decoded text with `s` (fast path when there are no escapes).
    #[inline]
    pub fn eq_str(&self, s: &str) -> bool {
        if !self.escaped {
            return crate::base::ascii::eq_bytes(self.raw, s.as_bytes());
        }
        self.eq_str_escaped(s)
    }

    #[cold]
    #[inline(never)]
    fn eq_str_escaped(&self, s: &str) -> bool {
        let mut want = s.as_bytes();
        let matched = self.pieces(&mut |piece| match want.strip_prefix(piece) {
            Some(rest) => {
                want = rest;
                true
            }
            None => false,
        });
        matched == Ok(true) && want.is_empty()
    }
    /// Decodes into `out`, returning the used prefix; `Err(None)` when `out` is too small,
    /// `Err(Some(e))` on an invalid escape.
    pub fn decode_into<'o>(&self, out: &'o mut [u8]) -> Result<&'o [u8], Option<JsonError>> {
        if !self.escaped {
            let src = self.raw;
            let dst = out.get_mut(..src.len()).ok_or(None)?;
            dst.copy_from_slice(src);
            return Ok(dst);
        }
        let mut n = 0usize;
        let fitted = self
            .pieces(&mut |piece| match out.get_mut(n..n + piece.len()) {
                Some(dst) => {
                    dst.copy_from_slice(piece);
                    n += piece.len();
                    true
                }
                None => false,
            })
            .map_err(Some)?;
        if !fitted {
            return Err(None);
        }
        out.get(..n).ok_or(None)
    }
    /// Checks every escape (a lone surrogate or an invalid escape is the error).
    #[cold]
    #[inline(never)]
    pub(crate) fn check_escapes(&self) -> Result<(), JsonError> {
        self.pieces(&mut |_| true).map(drop)
    }
    /// The decoded text in order, as byte pieces: each run of text between escapes as it
    /// stands, each escape as its character's UTF-8. `piece` returns `false` to stop (then
    /// `Ok(false)`); an invalid escape or lone surrogate met before that is an error. One
    /// byte-level walk serves comparing and decoding (no `char` iteration of the plain runs).
    fn pieces(&self, piece: &mut dyn FnMut(&[u8]) -> bool) -> Result<bool, JsonError> {
        let b = self.raw;
        let (mut i, mut run) = (0usize, 0usize);
        while let Some(&c) = b.get(i) {
            if c != b'\\' {
                i += 1;
                continue;
            }
            if !piece(b.get(run..i).unwrap_or(&[])) {
                return Ok(false);
            }
            let (ch, used) = decode_escape(b, i).map_err(|kind| JsonError {
                kind,
                offset: offset32(self.offset + i),
            })?;
            if !piece(ch.encode_utf8(&mut [0u8; 4]).as_bytes()) {
                return Ok(false);
            }
            i += used;
            run = i;
        }
        Ok(piece(b.get(run..).unwrap_or(&[])))
    }
    /// Decodes into a `heapless::String` (as its view: one copy for every capacity);
    /// `Err(None)` when it does not fit.
    pub fn decode_to_string(
        &self,
        out: &mut heapless::string::StringView,
    ) -> Result<(), Option<JsonError>> {
        out.clear();
        let text = self.raw();
        if !self.escaped {
            return out.push_str(text).map_err(|_| None);
        }
        // copy the runs between escapes in bulk; decode each escape in place
        let b = text.as_bytes();
        let (mut i, mut run) = (0usize, 0usize);
        while let Some(&c) = b.get(i) {
            if c != b'\\' {
                i += 1;
                continue;
            }
            out.push_str(text.get(run..i).unwrap_or(""))
                .map_err(|_| None)?;
            let (ch, used) = decode_escape(b, i).map_err(|kind| {
                Some(JsonError {
                    kind,
                    offset: offset32(self.offset + i),
                })
            })?;
            out.push(ch).map_err(|_| None)?;
            i += used;
            run = i;
        }
        out.push_str(text.get(run..).unwrap_or(""))
            .map_err(|_| None)
    }
}

/// The value of one hex digit.
#[inline]
fn hex_val(b: u8) -> Option<u32> {
    match b {
        b'0'..=b'9' => Some(u32::from(b - b'0')),
        b'a'..=b'f' => Some(u32::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u32::from(b - b'A' + 10)),
        _ => None,
    }
}

/// Four hex digits at `b[at..at + 4]`.
#[inline]
pub(super) fn hex4_at(b: &[u8], at: usize) -> Option<u32> {
    let h = b.get(at..at + 4)?;
    let mut v = 0u32;
    for &d in h {
        v = (v << 4) | hex_val(d)?;
    }
    Some(v)
}

/// Decodes the escape starting at `b[i] == '\\'`: the character and the bytes it used.
/// Surrogate pairs combine; a lone surrogate is an error. One copy on a microcontroller.
#[cfg_attr(konaplate_compact, inline(never))]
#[cfg_attr(not(konaplate_compact), inline)]
pub(super) fn decode_escape(b: &[u8], i: usize) -> Result<(char, usize), JsonErrorKind> {
    let simple = match b.get(i + 1) {
        Some(b'"') => '"',
        Some(b'\\') => '\\',
        Some(b'/') => '/',
        Some(b'b') => '\u{08}',
        Some(b'f') => '\u{0C}',
        Some(b'n') => '\n',
        Some(b'r') => '\r',
        Some(b't') => '\t',
        Some(b'u') => {
            let hi = hex4_at(b, i + 2).ok_or(JsonErrorKind::InvalidEscape)?;
            return match hi {
                0xD800..=0xDBFF => {
                    if b.get(i + 6) != Some(&b'\\') || b.get(i + 7) != Some(&b'u') {
                        return Err(JsonErrorKind::LoneSurrogate);
                    }
                    let lo = hex4_at(b, i + 8).ok_or(JsonErrorKind::InvalidEscape)?;
                    if !(0xDC00..=0xDFFF).contains(&lo) {
                        return Err(JsonErrorKind::LoneSurrogate);
                    }
                    let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                    char::from_u32(cp)
                        .map(|c| (c, 12))
                        .ok_or(JsonErrorKind::LoneSurrogate)
                }
                0xDC00..=0xDFFF => Err(JsonErrorKind::LoneSurrogate),
                cp => char::from_u32(cp)
                    .map(|c| (c, 6))
                    .ok_or(JsonErrorKind::InvalidEscape),
            };
        }
        _ => return Err(JsonErrorKind::InvalidEscape),
    };
    Ok((simple, 2))
}

/// Iterator over the decoded characters of a [`JStr`].
#[derive(Clone, Debug)]
pub struct Unescape<'a> {
    rest: &'a [u8],
    raw: &'a str,
    offset: usize,
}

impl Iterator for Unescape<'_> {
    type Item = Result<char, JsonError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&b, _) = self.rest.split_first()?;
        let at = self.raw.len() - self.rest.len();
        if b != b'\\' {
            // a plain UTF-8 sequence: one char from the remaining (valid) text
            let c = self.raw.get(at..).and_then(|s| s.chars().next())?;
            self.rest = self.rest.get(c.len_utf8()..).unwrap_or(&[]);
            return Some(Ok(c));
        }
        match decode_escape(self.rest, 0) {
            Ok((c, used)) => {
                self.rest = self.rest.get(used..).unwrap_or(&[]);
                Some(Ok(c))
            }
            Err(kind) => {
                // stop after an error
                self.rest = &[];
                Some(Err(JsonError {
                    kind,
                    offset: offset32(self.offset + at),
                }))
            }
        }
    }
}
