//! Strict JSON (RFC 8259) reading and writing on caller buffers, without allocation.
//!
//! Why our own and not serde-json-core (see `../shared/STYLE.md` §2, §9.3): serde-json-core
//! leaves `\uXXXX` escapes un-decoded in `&str`/`heapless::String`, rejects surrogate pairs,
//! fails the whole decode when an *ignored* field holds a long or emoji-escaped string, skips
//! ignored scalars without validating them (`tru` passes), accepts raw control characters, and
//! recurses without a limit (a deeply nested ignored field aborts the process). This reader:
//!
//! * validates the whole body as UTF-8 first and rejects a UTF-8 byte-order mark;
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
    /// Byte offset into the body.
    pub offset: usize,
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

#[inline]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl<'a> Reader<'a> {
    /// Starts reading `body`: rejects a BOM and invalid UTF-8 up front.
    pub fn new(body: &'a [u8]) -> Res<Self> {
        if body.starts_with(&[0xEF, 0xBB, 0xBF]) {
            return Err(JsonError { kind: JsonErrorKind::ByteOrderMark, offset: 0 });
        }
        if let Err(e) = core::str::from_utf8(body) {
            return Err(JsonError { kind: JsonErrorKind::InvalidUtf8, offset: e.valid_up_to() });
        }
        Ok(Self { s: body, pos: 0, depth: 0 })
    }

    /// Current byte offset.
    pub fn offset(&self) -> usize {
        self.pos
    }

    #[inline]
    fn err<T>(&self, kind: JsonErrorKind) -> Res<T> {
        Err(JsonError { kind, offset: self.pos })
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    #[inline]
    fn ws(&mut self) {
        while let Some(b) = self.peek() {
            if is_ws(b) {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    #[inline]
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

    fn push(&mut self) -> Res<()> {
        if self.depth >= MAX_DEPTH {
            return self.err(JsonErrorKind::TooDeep);
        }
        self.depth += 1;
        Ok(())
    }

    /// The type of the next value (skips whitespace; consumes nothing else).
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
    pub fn begin_object(&mut self) -> Res<()> {
        self.expect(b'{')?;
        self.push()
    }

    /// The next key of the current object, or `None` after consuming its `}`. `first` must be
    /// `true` before the first call for an object; the reader clears it.
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
        let key = self.string()?;
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

    /// Reads a string value (escapes are validated, not decoded).
    pub fn string(&mut self) -> Res<JStr<'a>> {
        self.expect(b'"')?;
        let start = self.pos;
        let mut escaped = false;
        loop {
            let Some(b) = self.peek() else {
                return self.err(JsonErrorKind::UnexpectedEnd);
            };
            match b {
                b'"' => {
                    let raw = self.s.get(start..self.pos).unwrap_or(&[]);
                    self.pos += 1;
                    // The body was validated as UTF-8 and `"` never occurs inside a multi-byte
                    // sequence, so this slice is valid UTF-8.
                    let raw = core::str::from_utf8(raw).unwrap_or("");
                    return Ok(JStr { raw, escaped, offset: start });
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
                0x00..=0x1F => return self.err(JsonErrorKind::ControlCharacter),
                _ => self.pos += 1,
            }
        }
    }

    /// Reads a number token (syntax-checked).
    pub fn number(&mut self) -> Res<JNum<'a>> {
        self.ws();
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                while matches!(self.peek(), Some(b'0'..=b'9')) {
                    self.pos += 1;
                }
            }
            Some(_) => return self.err(JsonErrorKind::InvalidNumber),
            None => return self.err(JsonErrorKind::UnexpectedEnd),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.digits()?;
        }
        let raw = self.s.get(start..self.pos).unwrap_or(&[]);
        Ok(JNum { raw: core::str::from_utf8(raw).unwrap_or("") })
    }

    fn digits(&mut self) -> Res<()> {
        match self.peek() {
            Some(b'0'..=b'9') => {}
            Some(_) => return self.err(JsonErrorKind::InvalidNumber),
            None => return self.err(JsonErrorKind::UnexpectedEnd),
        }
        while matches!(self.peek(), Some(b'0'..=b'9')) {
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
                    Err(JsonError { kind: JsonErrorKind::UnexpectedEnd, offset: self.s.len() })
                } else {
                    self.err(JsonErrorKind::UnexpectedByte)
                }
            }
        }
    }

    /// Reads `true` or `false`.
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
                    self.string()?;
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
                            self.string()?;
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
        if self.pos == self.s.len() { Ok(()) } else { self.err(JsonErrorKind::TrailingCharacters) }
    }
}

/// A string token as it appears in the text (between the quotes), escapes not yet decoded.
#[derive(Clone, Copy, Debug)]
pub struct JStr<'a> {
    raw: &'a str,
    escaped: bool,
    offset: usize,
}

impl<'a> JStr<'a> {
    /// The raw text between the quotes.
    pub fn raw(&self) -> &'a str {
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
        Unescape { rest: self.raw.as_bytes(), raw: self.raw, offset: self.offset }
    }
    /// Compares the decoded text with `s` (fast path when there are no escapes).
    pub fn eq_str(&self, s: &str) -> bool {
        if !self.escaped {
            return self.raw == s;
        }
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
            let src = self.raw.as_bytes();
            let dst = out.get_mut(..src.len()).ok_or(None)?;
            dst.copy_from_slice(src);
            return Ok(dst);
        }
        let mut n = 0usize;
        for c in self.chars() {
            let c = c.map_err(Some)?;
            let mut tmp = [0u8; 4];
            let enc = c.encode_utf8(&mut tmp).as_bytes();
            out.get_mut(n..n + enc.len()).ok_or(None)?.copy_from_slice(enc);
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
        if !self.escaped {
            return out.push_str(self.raw).map_err(|_| None);
        }
        for c in self.chars() {
            out.push(c.map_err(Some)?).map_err(|_| None)?;
        }
        Ok(())
    }
}

/// Iterator over the decoded characters of a [`JStr`].
#[derive(Clone, Debug)]
pub struct Unescape<'a> {
    rest: &'a [u8],
    raw: &'a str,
    offset: usize,
}

impl Unescape<'_> {
    fn hex4(&mut self) -> Option<u32> {
        let (h, rest) = self.rest.split_at_checked(4)?;
        self.rest = rest;
        let mut v = 0u32;
        for &b in h {
            v = v * 16 + (b as char).to_digit(16)?;
        }
        Some(v)
    }
    fn err(&self, kind: JsonErrorKind) -> JsonError {
        JsonError { kind, offset: self.offset + (self.raw.len() - self.rest.len()) }
    }
}

impl Iterator for Unescape<'_> {
    type Item = Result<char, JsonError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&b, rest) = self.rest.split_first()?;
        if b != b'\\' {
            // a plain UTF-8 sequence: decode one char from the remaining valid UTF-8
            let at = self.raw.len() - self.rest.len();
            let c = self.raw.get(at..).and_then(|s| s.chars().next())?;
            self.rest = self.rest.get(c.len_utf8()..).unwrap_or(&[]);
            return Some(Ok(c));
        }
        let (&e, rest) = match rest.split_first() {
            Some(x) => x,
            None => return Some(Err(self.err(JsonErrorKind::InvalidEscape))),
        };
        self.rest = rest;
        let c = match e {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{08}',
            b'f' => '\u{0C}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let Some(hi) = self.hex4() else {
                    return Some(Err(self.err(JsonErrorKind::InvalidEscape)));
                };
                match hi {
                    0xD800..=0xDBFF => {
                        // must be followed by \uDC00-\uDFFF
                        if self.rest.starts_with(b"\\u") {
                            self.rest = self.rest.get(2..).unwrap_or(&[]);
                            match self.hex4() {
                                Some(lo @ 0xDC00..=0xDFFF) => {
                                    let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                    match char::from_u32(cp) {
                                        Some(c) => c,
                                        None => {
                                            return Some(Err(self.err(JsonErrorKind::LoneSurrogate)));
                                        }
                                    }
                                }
                                Some(_) => {
                                    return Some(Err(self.err(JsonErrorKind::LoneSurrogate)));
                                }
                                None => return Some(Err(self.err(JsonErrorKind::InvalidEscape))),
                            }
                        } else {
                            return Some(Err(self.err(JsonErrorKind::LoneSurrogate)));
                        }
                    }
                    0xDC00..=0xDFFF => return Some(Err(self.err(JsonErrorKind::LoneSurrogate))),
                    cp => match char::from_u32(cp) {
                        Some(c) => c,
                        None => return Some(Err(self.err(JsonErrorKind::InvalidEscape))),
                    },
                }
            }
            _ => return Some(Err(self.err(JsonErrorKind::InvalidEscape))),
        };
        Some(Ok(c))
    }
}

/// A number token as it appears in the text (syntax already valid).
#[derive(Clone, Copy, Debug)]
pub struct JNum<'a> {
    raw: &'a str,
}

impl<'a> JNum<'a> {
    /// The raw token.
    pub fn raw(&self) -> &'a str {
        self.raw
    }

    /// The value as a `u64` when the token is an unsigned integer (no sign, fraction or
    /// exponent) that fits. `-0` is not one (serde_json reads it as the float -0.0).
    pub fn as_u64(&self) -> Option<u64> {
        crate::field::parse_u64_digits(self.raw.as_bytes())
    }

    /// The exact value scaled by 10^`scale` when it is a non-negative number with at most
    /// `scale` significant decimals (exponents allowed), e.g. `12.5` with scale 1 = 125.
    pub fn as_scaled(&self, scale: u32) -> Option<u64> {
        let b = self.raw.as_bytes();
        let (neg, b) = match b.strip_prefix(b"-") {
            Some(r) => (true, r),
            None => (false, b),
        };
        let mut mant: u64 = 0;
        let mut frac_digits: i64 = 0;
        // zeros not yet folded into `mant` (so trailing zeros never overflow it)
        let mut zeros: u32 = 0;
        let mut i = 0usize;
        let mut seen_dot = false;
        let mut exp: i64 = 0;
        while let Some(&c) = b.get(i) {
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
                    if seen_dot {
                        frac_digits += 1;
                    }
                }
                b'.' => seen_dot = true,
                b'e' | b'E' => {
                    let e = b.get(i + 1..)?;
                    let (eneg, digits) = match e.split_first() {
                        Some((b'-', d)) => (true, d),
                        Some((b'+', d)) => (false, d),
                        _ => (false, e),
                    };
                    // clamp absurd exponents; they can only make the value 0 or overflow
                    let mut ev: i64 = 0;
                    for &d in digits {
                        ev = (ev * 10 + i64::from(d - b'0')).min(1_000_000);
                    }
                    exp = if eneg { -ev } else { ev };
                    break;
                }
                _ => return None,
            }
            i += 1;
        }
        let exp = exp + i64::from(zeros);
        // value = mant * 10^(exp - frac_digits); want value * 10^scale
        let shift = exp - frac_digits + i64::from(scale);
        let v = if mant == 0 {
            0
        } else if shift >= 0 {
            let mut v = mant;
            for _ in 0..shift.min(40) {
                v = v.checked_mul(10)?;
            }
            v
        } else {
            let mut v = mant;
            for _ in 0..(-shift).min(40) {
                if !v.is_multiple_of(10) {
                    return None;
                }
                v /= 10;
            }
            if -shift > 40 {
                return None;
            }
            v
        };
        if neg && v != 0 { None } else { Some(v) }
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
        Self { buf, pos: 0, need_comma: false }
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
        if self.pos <= self.buf.len() { Ok(self.pos) } else { Err(Full { needed: self.pos }) }
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
        let div = 10u64.saturating_pow(scale);
        let mut tmp = [0u8; 20];
        self.raw(fmt_u64(v / div, &mut tmp));
        if scale > 0 {
            self.byte(b'.');
            let mut tmp2 = [0u8; 20];
            let digits = fmt_u64(v % div, &mut tmp2);
            for _ in digits.len()..scale as usize {
                self.byte(b'0');
            }
            self.raw(digits);
        }
        self.need_comma = true;
    }
    /// `true` / `false`.
    pub fn boolean(&mut self, v: bool) {
        self.raw(if v { b"true" } else { b"false" });
        self.need_comma = true;
    }
}

/// Formats `v` in decimal into `tmp`, returning the used suffix.
#[inline]
pub(crate) fn fmt_u64(mut v: u64, tmp: &mut [u8; 20]) -> &[u8] {
    let mut i = tmp.len();
    loop {
        i -= 1;
        if let Some(slot) = tmp.get_mut(i) {
            *slot = b'0' + (v % 10) as u8;
        }
        v /= 10;
        if v == 0 || i == 0 {
            break;
        }
    }
    tmp.get(i..).unwrap_or(&[])
}
