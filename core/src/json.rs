//! Strict JSON (RFC 8259) reading and writing on caller buffers, without allocation.
//!
//! Why our own and not serde-json-core: serde-json-core
//! leaves `\uXXXX` escapes un-decoded in `&str`/`heapless::String`, rejects surrogate pairs,
//! fails the whole decode when an *ignored* field holds a long or emoji-escaped string, skips
//! ignored scalars without validating them (`tru` passes), accepts raw control characters, and
//! recurses without a limit (a deeply nested ignored field aborts the process). This reader:
//!
//! * rejects a UTF-8 byte-order mark and invalid UTF-8 anywhere: bytes outside strings must be
//!   ASCII JSON syntax, and every string holding non-ASCII bytes is validated (detected while
//!   scanning, so ASCII text costs nothing extra);
//! * is iterative: skipping an unknown value uses a bit stack, never recursion, and nesting
//!   deeper than [`MAX_DEPTH`] is a typed error;
//! * checks every token's syntax, including ignored ones (numbers, literals, escapes);
//! * decodes escapes (including surrogate pairs) only for the strings we keep; a lone
//!   surrogate in a kept string is an error. Strings of ignored fields are checked for escape
//!   syntax only, as serde_json does for ignored values.

use core::fmt;

/// Deepest nesting of arrays/objects accepted anywhere in a body (the envelope itself is 1).
pub const MAX_DEPTH: usize = 32;

/// What was wrong with the JSON text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum JsonErrorKind {
    /// The text ended inside a value.
    UnexpectedEnd,
    /// A byte that cannot start or continue the expected token.
    UnexpectedByte,
    /// A UTF-8 byte-order mark before the JSON text.
    ByteOrderMark,
    /// The body is not valid UTF-8.
    InvalidUtf8,
    /// A raw control character (< 0x20) inside a string.
    ControlCharacter,
    /// A malformed `\` escape.
    InvalidEscape,
    /// A `\uD800`-`\uDFFF` escape that is not part of a valid surrogate pair, in a kept string.
    LoneSurrogate,
    /// A malformed number (leading zeros, missing digits, ...).
    InvalidNumber,
    /// Arrays/objects nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Non-whitespace after the top-level value.
    TrailingCharacters,
}

impl JsonErrorKind {
    /// A short description.
    pub const fn as_str(self) -> &'static str {
        match self {
            JsonErrorKind::UnexpectedEnd => "unexpected end of JSON text",
            JsonErrorKind::UnexpectedByte => "unexpected byte",
            JsonErrorKind::ByteOrderMark => "UTF-8 byte-order mark before the JSON text",
            JsonErrorKind::InvalidUtf8 => "invalid UTF-8",
            JsonErrorKind::ControlCharacter => "raw control character in a string",
            JsonErrorKind::InvalidEscape => "invalid escape sequence",
            JsonErrorKind::LoneSurrogate => "lone UTF-16 surrogate in a \\u escape",
            JsonErrorKind::InvalidNumber => "invalid number",
            JsonErrorKind::TooDeep => "nesting deeper than 32 levels",
            JsonErrorKind::TrailingCharacters => "characters after the JSON value",
        }
    }
}

/// A JSON syntax error and the byte offset where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JsonError {
    /// What went wrong.
    pub kind: JsonErrorKind,
    /// Byte offset into the body (`u32` keeps results of the hot parsing functions
    /// register-sized).
    pub offset: u32,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.kind.as_str(), self.offset)
    }
}

impl core::error::Error for JsonError {}

/// The JSON type of the next value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `{`
    Object,
    /// `[`
    Array,
    /// `"`
    String,
    /// `-` or a digit
    Number,
    /// `true` / `false`
    Bool,
    /// `null`
    Null,
}

/// A pull reader over one JSON text.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    s: &'a [u8],
    pos: usize,
    depth: usize,
}

type Res<T> = Result<T, JsonError>;

/// A byte offset as stored in [`JsonError`] (saturating; bodies are far smaller).
#[inline]
fn offset32(pos: usize) -> u32 {
    u32::try_from(pos).unwrap_or(u32::MAX)
}

#[inline]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl<'a> Reader<'a> {
    /// Starts reading `body` (a UTF-8 byte-order mark is rejected here; invalid UTF-8 where
    /// it is met).
    pub fn new(body: &'a [u8]) -> Res<Self> {
        if body.starts_with(&[0xEF, 0xBB, 0xBF]) {
            return Err(JsonError {
                kind: JsonErrorKind::ByteOrderMark,
                offset: 0,
            });
        }
        Ok(Self {
            s: body,
            pos: 0,
            depth: 0,
        })
    }

    /// Current byte offset.
    pub fn offset(&self) -> usize {
        self.pos
    }

    #[inline]
    fn err<T>(&self, kind: JsonErrorKind) -> Res<T> {
        Err(JsonError {
            kind,
            offset: offset32(self.pos),
        })
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline)]
    fn ws(&mut self) {
        while let Some(b) = self.peek() {
            if is_ws(b) {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline)]
    fn peek_ws(&mut self) -> Res<u8> {
        self.ws();
        match self.peek() {
            Some(b) => Ok(b),
            None => self.err(JsonErrorKind::UnexpectedEnd),
        }
    }

    #[inline]
    fn expect(&mut self, want: u8) -> Res<()> {
        if self.peek_ws()? == want {
            self.pos += 1;
            Ok(())
        } else {
            self.err(JsonErrorKind::UnexpectedByte)
        }
    }

    #[inline]
    fn push(&mut self) -> Res<()> {
        if self.depth >= MAX_DEPTH {
            return self.err(JsonErrorKind::TooDeep);
        }
        self.depth += 1;
        Ok(())
    }

    /// The type of the next value (skips whitespace; consumes nothing else).
    #[inline]
    pub fn peek_kind(&mut self) -> Res<Kind> {
        match self.peek_ws()? {
            b'{' => Ok(Kind::Object),
            b'[' => Ok(Kind::Array),
            b'"' => Ok(Kind::String),
            b'-' | b'0'..=b'9' => Ok(Kind::Number),
            b't' | b'f' => Ok(Kind::Bool),
            b'n' => Ok(Kind::Null),
            _ => self.err(JsonErrorKind::UnexpectedByte),
        }
    }

    /// Consumes `{`.
    #[inline]
    pub fn begin_object(&mut self) -> Res<()> {
        self.expect(b'{')?;
        self.push()
    }

    /// The next key of the current object, or `None` after consuming its `}`. `first` must be
    /// `true` before the first call for an object; the reader clears it.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline)]
    pub fn next_key(&mut self, first: &mut bool) -> Res<Option<JStr<'a>>> {
        let b = self.peek_ws()?;
        if b == b'}' {
            self.pos += 1;
            self.depth = self.depth.saturating_sub(1);
            return Ok(None);
        }
        if !*first {
            if b != b',' {
                return self.err(JsonErrorKind::UnexpectedByte);
            }
            self.pos += 1;
        }
        *first = false;
        if self.peek_ws()? != b'"' {
            return self.err(JsonErrorKind::UnexpectedByte);
        }
        let key = self.string_at_quote()?;
        if key.has_escapes() {
            // keys of the objects we read are decoded, so they must be valid text (a lone
            // surrogate is an error, as for any kept string); keys inside skipped values are
            // only syntax-checked
            for c in key.chars() {
                c?;
            }
        }
        self.expect(b':')?;
        Ok(Some(key))
    }

    /// Consumes `[`.
    pub fn begin_array(&mut self) -> Res<()> {
        self.expect(b'[')?;
        self.push()
    }

    /// `true` when another element follows (its value is next), `false` after consuming `]`.
    pub fn next_item(&mut self, first: &mut bool) -> Res<bool> {
        let b = self.peek_ws()?;
        if b == b']' {
            self.pos += 1;
            self.depth = self.depth.saturating_sub(1);
            return Ok(false);
        }
        if !*first {
            if b != b',' {
                return self.err(JsonErrorKind::UnexpectedByte);
            }
            self.pos += 1;
            self.ws();
        }
        *first = false;
        Ok(true)
    }

    /// Advances over bytes that need no attention inside a string (anything but `"`, `\\` and
    /// control characters), eight at a time.
    /// Returns whether any skipped byte was non-ASCII.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline)]
    fn skip_plain(&mut self) -> bool {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        let mut high = 0u64;
        while let Some(chunk) = self.s.get(self.pos..self.pos + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(chunk);
            let v = u64::from_le_bytes(w);
            // a byte is zero in x ^ (c * ONES) exactly where v has byte c; bytes < 0x20 have
            // their high bit set after subtracting 0x20 (and were < 0x80)
            let quote = v ^ (ONES * u64::from(b'"'));
            let slash = v ^ (ONES * u64::from(b'\\'));
            let special = (quote.wrapping_sub(ONES) & !quote)
                | (slash.wrapping_sub(ONES) & !slash)
                | (v.wrapping_sub(ONES * 0x20) & !v);
            let found = special & HIGHS;
            if found != 0 {
                // borrows can only flag bytes *above* a real match, so the lowest flag is
                // exact: that is the first byte needing attention
                let n = found.trailing_zeros() / 8;
                high |= v & HIGHS & ((1u64 << (n * 8)).wrapping_sub(1));
                self.pos += n as usize;
                return high != 0;
            }
            high |= v & HIGHS;
            self.pos += 8;
        }
        while let Some(&b) = self.s.get(self.pos) {
            if b == b'"' || b == b'\\' || b < 0x20 {
                break;
            }
            high |= u64::from(b & 0x80);
            self.pos += 1;
        }
        high != 0
    }

    /// Reads a string value (escapes are validated, not decoded).
    #[inline]
    pub fn string(&mut self) -> Res<JStr<'a>> {
        if self.peek_ws()? != b'"' {
            return self.err(JsonErrorKind::UnexpectedByte);
        }
        self.string_at_quote()
    }

    /// Reads a string whose opening quote is the current byte.
    #[cfg_attr(not(target_os = "none"), inline(always))]
    #[cfg_attr(target_os = "none", inline)]
    fn string_at_quote(&mut self) -> Res<JStr<'a>> {
        self.pos += 1;
        let start = self.pos;
        let mut escaped = false;
        let mut non_ascii = false;
        loop {
            non_ascii |= self.skip_plain();
            let Some(b) = self.peek() else {
                return self.err(JsonErrorKind::UnexpectedEnd);
            };
            match b {
                b'"' => {
                    let raw = self.s.get(start..self.pos).unwrap_or(&[]);
                    // ASCII needs no check; anything else is validated once, here
                    let text = if non_ascii {
                        match core::str::from_utf8(raw) {
                            Ok(t) => Some(t),
                            Err(e) => {
                                return Err(JsonError {
                                    kind: JsonErrorKind::InvalidUtf8,
                                    offset: offset32(start + e.valid_up_to()),
                                });
                            }
                        }
                    } else {
                        None
                    };
                    self.pos += 1;
                    return Ok(JStr {
                        raw,
                        text,
                        escaped,
                        offset: start,
                    });
                }
                b'\\' => {
                    escaped = true;
                    self.pos += 1;
                    match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.pos += 1
                        }
                        Some(b'u') => {
                            self.pos += 1;
                            for _ in 0..4 {
                                match self.peek() {
                                    Some(h) if h.is_ascii_hexdigit() => self.pos += 1,
                                    Some(_) => return self.err(JsonErrorKind::InvalidEscape),
                                    None => return self.err(JsonErrorKind::UnexpectedEnd),
                                }
                            }
                        }
                        Some(_) => return self.err(JsonErrorKind::InvalidEscape),
                        None => return self.err(JsonErrorKind::UnexpectedEnd),
                    }
                }
                _ => return self.err(JsonErrorKind::ControlCharacter),
            }
        }
    }

    /// Reads a number token (syntax-checked).
    #[inline]
    pub fn number(&mut self) -> Res<JNum<'a>> {
        self.ws();
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        // the integer part, accumulated while scanning (None on overflow)
        let mut int: Option<u64> = Some(0);
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                while let Some(&d @ b'0'..=b'9') = self.s.get(self.pos) {
                    int = int
                        .and_then(|v| v.checked_mul(10))
                        .and_then(|v| v.checked_add(u64::from(d - b'0')));
                    self.pos += 1;
                }
            }
            Some(_) => return self.err(JsonErrorKind::InvalidNumber),
            None => return self.err(JsonErrorKind::UnexpectedEnd),
        }
        let mut integer = !negative;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.digits()?;
            integer = false;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.digits()?;
            integer = false;
        }
        let raw = self.s.get(start..self.pos).unwrap_or(&[]);
        Ok(JNum {
            raw,
            int: if integer { int } else { None },
        })
    }

    fn digits(&mut self) -> Res<()> {
        match self.peek() {
            Some(b'0'..=b'9') => {}
            Some(_) => return self.err(JsonErrorKind::InvalidNumber),
            None => return self.err(JsonErrorKind::UnexpectedEnd),
        }
        while let Some(b'0'..=b'9') = self.s.get(self.pos) {
            self.pos += 1;
        }
        Ok(())
    }

    fn literal(&mut self, lit: &[u8]) -> Res<()> {
        let end = self.pos + lit.len();
        match self.s.get(self.pos..end) {
            Some(got) if got == lit => {
                self.pos = end;
                Ok(())
            }
            Some(_) => self.err(JsonErrorKind::UnexpectedByte),
            None => {
                // distinguish a truncated literal from a wrong one
                let rest = self.s.get(self.pos..).unwrap_or(&[]);
                if lit.starts_with(rest) {
                    Err(JsonError {
                        kind: JsonErrorKind::UnexpectedEnd,
                        offset: offset32(self.s.len()),
                    })
                } else {
                    self.err(JsonErrorKind::UnexpectedByte)
                }
            }
        }
    }

    /// Reads `true` or `false`.
    #[inline]
    pub fn boolean(&mut self) -> Res<bool> {
        match self.peek_ws()? {
            b't' => self.literal(b"true").map(|_| true),
            b'f' => self.literal(b"false").map(|_| false),
            _ => self.err(JsonErrorKind::UnexpectedByte),
        }
    }

    /// Reads `null`.
    pub fn null(&mut self) -> Res<()> {
        self.ws();
        self.literal(b"null")
    }

    /// Skips one complete value of any type, iteratively, validating its syntax.
    pub fn skip_value(&mut self) -> Res<()> {
        // bit i of `stack` = 1 when the i-th open container (from the skip's start) is an
        // object; `open` counts them. MAX_DEPTH < 64, so the stack never overflows.
        let mut stack: u64 = 0;
        let mut open: u32 = 0;
        loop {
            // a value starts here
            match self.peek_ws()? {
                b'{' => {
                    self.pos += 1;
                    self.push()?;
                    if self.peek_ws()? == b'}' {
                        self.pos += 1;
                        self.depth = self.depth.saturating_sub(1);
                    } else {
                        stack |= 1u64 << (open & 63);
                        open += 1;
                        self.string()?;
                        self.expect(b':')?;
                        continue;
                    }
                }
                b'[' => {
                    self.pos += 1;
                    self.push()?;
                    if self.peek_ws()? == b']' {
                        self.pos += 1;
                        self.depth = self.depth.saturating_sub(1);
                    } else {
                        stack &= !(1u64 << (open & 63));
                        open += 1;
                        continue;
                    }
                }
                b'"' => {
                    self.string_at_quote()?;
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => {
                    self.number()?;
                }
                _ => return self.err(JsonErrorKind::UnexpectedByte),
            }
            // a value ended: close containers or move to the next element
            loop {
                if open == 0 {
                    return Ok(());
                }
                let top_is_object = stack & (1u64 << ((open - 1) & 63)) != 0;
                match self.peek_ws()? {
                    b',' => {
                        self.pos += 1;
                        if top_is_object {
                            if self.peek_ws()? != b'"' {
                                return self.err(JsonErrorKind::UnexpectedByte);
                            }
                            self.string_at_quote()?;
                            self.expect(b':')?;
                        }
                        break;
                    }
                    b'}' if top_is_object => {
                        self.pos += 1;
                        open -= 1;
                        self.depth = self.depth.saturating_sub(1);
                    }
                    b']' if !top_is_object => {
                        self.pos += 1;
                        open -= 1;
                        self.depth = self.depth.saturating_sub(1);
                    }
                    _ => return self.err(JsonErrorKind::UnexpectedByte),
                }
            }
        }
    }

    /// Requires that only whitespace remains.
    pub fn end(&mut self) -> Res<()> {
        self.ws();
        if self.pos == self.s.len() {
            Ok(())
        } else {
            self.err(JsonErrorKind::TrailingCharacters)
        }
    }
}

/// A string token as it appears in the text (between the quotes), escapes not yet decoded.
#[derive(Clone, Copy, Debug)]
pub struct JStr<'a> {
    raw: &'a [u8],
    /// The raw bytes as text when they held non-ASCII bytes (validated while reading).
    text: Option<&'a str>,
    escaped: bool,
    offset: usize,
}

impl<'a> JStr<'a> {
    /// The raw text between the quotes (valid UTF-8: checked while reading).
    pub fn raw(&self) -> &'a str {
        match self.text {
            Some(t) => t,
            // ASCII only: always valid
            None => core::str::from_utf8(self.raw).unwrap_or(""),
        }
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
            return self.raw == s.as_bytes();
        }
        self.eq_str_escaped(s)
    }

    fn eq_str_escaped(&self, s: &str) -> bool {
        let mut want = s.chars();
        for c in self.chars() {
            match (c, want.next()) {
                (Ok(a), Some(b)) if a == b => {}
                _ => return false,
            }
        }
        want.next().is_none()
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
        for c in self.chars() {
            let c = c.map_err(Some)?;
            let mut tmp = [0u8; 4];
            let enc = c.encode_utf8(&mut tmp).as_bytes();
            out.get_mut(n..n + enc.len())
                .ok_or(None)?
                .copy_from_slice(enc);
            n += enc.len();
        }
        out.get(..n).ok_or(None)
    }
    /// Decodes into a `heapless::String`; `Err(None)` when it does not fit.
    pub fn decode_to_string<const N: usize>(
        &self,
        out: &mut heapless::String<N>,
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
fn hex4_at(b: &[u8], at: usize) -> Option<u32> {
    let h = b.get(at..at + 4)?;
    let mut v = 0u32;
    for &d in h {
        v = (v << 4) | hex_val(d)?;
    }
    Some(v)
}

/// Decodes the escape starting at `b[i] == '\\'`: the character and the bytes it used.
/// Surrogate pairs combine; a lone surrogate is an error.
#[inline]
fn decode_escape(b: &[u8], i: usize) -> Result<(char, usize), JsonErrorKind> {
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

/// A number token as it appears in the text (syntax already valid).
#[derive(Clone, Copy, Debug)]
pub struct JNum<'a> {
    raw: &'a [u8],
    /// The value when the token is an unsigned integer that fits a `u64`.
    int: Option<u64>,
}

impl<'a> JNum<'a> {
    /// The raw token (ASCII).
    pub fn raw(&self) -> &'a str {
        core::str::from_utf8(self.raw).unwrap_or("")
    }

    /// The value as a `u64` when the token is an unsigned integer (no sign, fraction or
    /// exponent) that fits. `-0` is not one (serde_json reads it as the float -0.0).
    #[inline]
    pub fn as_u64(&self) -> Option<u64> {
        self.int
    }

    /// The exact value scaled by 10^`scale` when it is a non-negative number with at most
    /// `scale` significant decimals (exponents allowed), e.g. `12.5` with scale 1 = 125.
    pub fn as_scaled(&self, scale: u32) -> Option<u64> {
        let (neg, b) = match self.raw.strip_prefix(b"-") {
            Some(r) => (true, r),
            None => (false, self.raw),
        };
        // significant digits only: zeros are deferred into the exponent until a nonzero digit
        // follows, so a nonzero mantissa never ends in 0
        let mut mant: u64 = 0;
        let mut zeros: i32 = 0;
        let mut frac: i32 = 0;
        let mut seen_dot = false;
        let mut exp: i32 = 0;
        let mut it = b.iter();
        while let Some(&c) = it.next() {
            match c {
                b'0'..=b'9' => {
                    if c == b'0' {
                        zeros += 1;
                    } else {
                        for _ in 0..zeros {
                            mant = mant.checked_mul(10)?;
                        }
                        zeros = 0;
                        mant = mant.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
                    }
                    frac += i32::from(seen_dot);
                }
                b'.' => seen_dot = true,
                b'e' | b'E' => {
                    let mut sign = 1;
                    for &d in it.by_ref() {
                        match d {
                            b'-' => sign = -1,
                            b'+' => {}
                            // clamp absurd exponents: they can only overflow or underflow
                            _ => exp = (exp * 10 + i32::from(d - b'0')).min(100_000),
                        }
                    }
                    exp *= sign;
                }
                _ => return None,
            }
        }
        if mant == 0 {
            return Some(0);
        }
        // value * 10^scale = mant * 10^shift, exact only for shift >= 0 (see above)
        let shift = exp + zeros - frac + i32::try_from(scale).ok()?;
        if neg || !(0..=20).contains(&shift) {
            return None;
        }
        let mut v = mant;
        for _ in 0..shift {
            v = v.checked_mul(10)?;
        }
        Some(v)
    }
}

/// The output buffer was too small; `needed` bytes would have sufficed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Full {
    /// Bytes the complete output needs.
    pub needed: usize,
}

/// A JSON writer into a caller's buffer.
///
/// Writes never fail: past the end of the buffer the writer only counts, so that
/// [`Writer::finish`] can report the exact size that would have sufficed.
#[derive(Debug)]
pub struct Writer<'b> {
    buf: &'b mut [u8],
    pos: usize,
    need_comma: bool,
}

impl<'b> Writer<'b> {
    /// Writes from the start of `buf`.
    pub fn new(buf: &'b mut [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            need_comma: false,
        }
    }

    /// Bytes written (or counted) so far.
    pub fn len(&self) -> usize {
        self.pos
    }

    /// `true` when nothing was written.
    pub fn is_empty(&self) -> bool {
        self.pos == 0
    }

    /// The length written, or [`Full`] with the length needed.
    pub fn finish(self) -> Result<usize, Full> {
        if self.pos <= self.buf.len() {
            Ok(self.pos)
        } else {
            Err(Full { needed: self.pos })
        }
    }

    /// Appends raw bytes.
    #[inline]
    pub fn raw(&mut self, b: &[u8]) {
        let end = self.pos + b.len();
        if let Some(dst) = self.buf.get_mut(self.pos..end) {
            dst.copy_from_slice(b);
        }
        self.pos = end;
    }

    #[inline]
    fn byte(&mut self, b: u8) {
        if let Some(dst) = self.buf.get_mut(self.pos) {
            *dst = b;
        }
        self.pos += 1;
    }

    /// `{`
    pub fn begin_object(&mut self) {
        self.byte(b'{');
        self.need_comma = false;
    }
    /// `}`
    pub fn end_object(&mut self) {
        self.byte(b'}');
        self.need_comma = true;
    }
    /// `[`
    pub fn begin_array(&mut self) {
        self.byte(b'[');
        self.need_comma = false;
    }
    /// `]`
    pub fn end_array(&mut self) {
        self.byte(b']');
        self.need_comma = true;
    }
    /// The separator before an array element.
    pub fn element(&mut self) {
        if self.need_comma {
            self.byte(b',');
        }
        self.need_comma = false;
    }
    /// `"key":` (with a leading comma when needed). `key` must not need escaping.
    #[inline]
    pub fn key(&mut self, key: &str) {
        if self.need_comma {
            self.byte(b',');
        }
        self.byte(b'"');
        self.raw(key.as_bytes());
        self.raw(b"\":");
        self.need_comma = false;
    }
    /// A string value, escaped as JSON requires (`"`, `\`, control characters); UTF-8 is
    /// written as is.
    pub fn string(&mut self, s: &str) {
        self.byte(b'"');
        let bytes = s.as_bytes();
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let esc: &[u8] = match b {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0C => b"\\f",
                0x00..=0x1F => b"",
                _ => continue,
            };
            self.raw(bytes.get(start..i).unwrap_or(&[]));
            if esc.is_empty() {
                self.raw(b"\\u00");
                self.byte(crate::field::hex_lower(b >> 4));
                self.byte(crate::field::hex_lower(b));
            } else {
                self.raw(esc);
            }
            start = i + 1;
        }
        self.raw(bytes.get(start..).unwrap_or(&[]));
        self.byte(b'"');
        self.need_comma = true;
    }
    /// A string value known to need no escaping (validated ASCII field values).
    #[inline]
    pub fn plain_string(&mut self, s: &[u8]) {
        self.byte(b'"');
        self.raw(s);
        self.byte(b'"');
        self.need_comma = true;
    }
    /// An unsigned integer.
    #[inline]
    pub fn u64(&mut self, v: u64) {
        let mut tmp = [0u8; 20];
        let s = fmt_u64(v, &mut tmp);
        self.raw(s);
        self.need_comma = true;
    }
    /// A non-negative decimal with `scale` fraction digits (`tenths = 125, scale 1` → `12.5`).
    pub fn scaled(&mut self, v: u64, scale: u32) {
        // all digits, then the point before the last `scale` of them (no division)
        let mut tmp = [0u8; 20];
        let digits = fmt_u64(v, &mut tmp);
        let scale = (scale as usize).min(19);
        let int_len = digits.len().saturating_sub(scale);
        if int_len == 0 {
            self.byte(b'0');
        } else {
            self.raw(digits.get(..int_len).unwrap_or(&[]));
        }
        if scale > 0 {
            self.byte(b'.');
            for _ in digits.len()..scale {
                self.byte(b'0');
            }
            self.raw(digits.get(int_len..).unwrap_or(&[]));
        }
        self.need_comma = true;
    }
    /// `true` / `false`.
    pub fn boolean(&mut self, v: bool) {
        self.raw(if v { b"true" } else { b"false" });
        self.need_comma = true;
    }
}

/// `(v / 10, v % 10)` by multiplying with the reciprocal: no 64-bit division, which on 32-bit
/// microcontrollers is a sizeable library routine.
#[inline]
pub fn div10(v: u64) -> (u64, u8) {
    let q = ((u128::from(v) * 0xCCCC_CCCC_CCCC_CCCD) >> 67) as u64;
    (q, (v - q * 10) as u8)
}

/// Formats `v` in decimal into `tmp`, returning the used suffix.
#[inline]
pub(crate) fn fmt_u64(mut v: u64, tmp: &mut [u8; 20]) -> &[u8] {
    let mut i = tmp.len();
    loop {
        i -= 1;
        let (q, r) = div10(v);
        if let Some(slot) = tmp.get_mut(i) {
            *slot = b'0' + r;
        }
        v = q;
        if v == 0 || i == 0 {
            break;
        }
    }
    tmp.get(i..).unwrap_or(&[])
}
