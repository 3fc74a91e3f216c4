//! The pull reader: tokens, nesting, skipping unknown values without recursion.

use super::{JNum, JStr, JsonError, JsonErrorKind, Kind, MAX_DEPTH, offset32};

/// What [`Reader::next_key_expecting`] found.
#[derive(Clone, Copy, Debug)]
pub enum NextKey<'a> {
    /// The object ended (its `}` was consumed).
    End,
    /// The expected key (its `:` was consumed).
    Expected,
    /// Another key (its `:` was consumed).
    Other(JStr<'a>),
}

/// A pull reader over one JSON text.
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    s: &'a [u8],
    pos: usize,
    depth: usize,
}

type Res<T> = Result<T, JsonError>;

/// Accumulates the decimal digits of `s` from `i` into `v` (wrapping: callers count the digits
/// and trust the value only up to 19 of them); returns where the digits end and the value.
#[inline(always)]
fn scan_digits(s: &[u8], mut i: usize, mut v: u64) -> (usize, u64) {
    while let Some(&d) = s.get(i) {
        let x = d.wrapping_sub(b'0');
        if x > 9 {
            break;
        }
        v = v.wrapping_mul(10).wrapping_add(u64::from(x));
        i += 1;
    }
    (i, v)
}

/// Appends code point `cp` (below 0x10000, not a surrogate) as UTF-8, byte by byte (no copy
/// call for one to three bytes); all of it or, when it does not fit, nothing.
#[inline(always)]
fn push_utf8(out: &mut heapless::vec::VecView<u8>, cp: u32) -> Result<(), ()> {
    // the casts keep the low bits, which is what each UTF-8 byte carries
    let (bytes, n) = if cp < 0x80 {
        ([cp as u8, 0, 0], 1)
    } else if cp < 0x800 {
        ([0xC0 | (cp >> 6) as u8, 0x80 | (cp & 0x3F) as u8, 0], 2)
    } else {
        (
            [
                0xE0 | (cp >> 12) as u8,
                0x80 | ((cp >> 6) & 0x3F) as u8,
                0x80 | (cp & 0x3F) as u8,
            ],
            3,
        )
    };
    if out.capacity() - out.len() < n {
        return Err(());
    }
    for &b in bytes.iter().take(n) {
        out.push(b).map_err(|_| ())?;
    }
    Ok(())
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

    #[cfg_attr(not(konaplate_compact), inline(always))]
    #[cfg_attr(konaplate_compact, inline)]
    fn ws(&mut self) {
        while let Some(b) = self.peek() {
            if is_ws(b) {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    #[cfg_attr(not(konaplate_compact), inline(always))]
    #[cfg_attr(konaplate_compact, inline)]
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
    #[cfg_attr(not(konaplate_compact), inline(always))]
    #[cfg_attr(konaplate_compact, inline)]
    pub fn next_key(&mut self, first: &mut bool) -> Res<Option<JStr<'a>>> {
        Ok(match self.next_key_expecting(first, b"")? {
            NextKey::End => None,
            NextKey::Expected => None,
            NextKey::Other(k) => Some(k),
        })
    }

    /// Like [`Reader::next_key`], matching the key in place against `expected` first (the
    /// key a caller expects next, in documented order; empty: none): a match costs one
    /// comparison and no scan. `expected` must be plain ASCII without `"` or `\\`.
    #[cfg_attr(not(konaplate_compact), inline(always))]
    #[cfg_attr(konaplate_compact, inline)]
    pub fn next_key_expecting(&mut self, first: &mut bool, expected: &[u8]) -> Res<NextKey<'a>> {
        let b = self.peek_ws()?;
        if b == b'}' {
            self.pos += 1;
            self.depth = self.depth.saturating_sub(1);
            return Ok(NextKey::End);
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
        if !expected.is_empty() {
            let start = self.pos + 1;
            let end = start + expected.len();
            if self.s.get(end) == Some(&b'"')
                && self
                    .s
                    .get(start..end)
                    .is_some_and(|got| crate::base::ascii::eq_bytes(got, expected))
            {
                self.pos = end + 1;
                self.expect(b':')?;
                return Ok(NextKey::Expected);
            }
        }
        let key = self.key_at_quote()?;
        if key.has_escapes() {
            // keys of the objects we read are decoded, so they must be valid text (a lone
            // surrogate is an error, as for any kept string); keys inside skipped values are
            // only syntax-checked
            key.check_escapes()?;
        }
        self.expect(b':')?;
        Ok(NextKey::Other(key))
    }

    /// Consumes the next key of the current object (with its `,` and `:`) when it is exactly
    /// `key`, and returns `true`; otherwise consumes nothing and returns `false` (the end of
    /// the object, another key, an escape in the key or bad syntax are all left to
    /// [`Reader::next_key_expecting`]). `key` must be plain ASCII without `"` or `\\`.
    #[inline(always)]
    pub fn take_key(&mut self, first: &mut bool, key: &[u8]) -> bool {
        let save = self.pos;
        self.ws();
        if !*first {
            if self.peek() != Some(b',') {
                self.pos = save;
                return false;
            }
            self.pos += 1;
            self.ws();
        }
        let start = self.pos + 1;
        let end = start + key.len();
        if self.peek() == Some(b'"')
            && self.s.get(end) == Some(&b'"')
            && self
                .s
                .get(start..end)
                .is_some_and(|got| crate::base::ascii::eq_bytes(got, key))
        {
            self.pos = end + 1;
            self.ws();
            if self.peek() == Some(b':') {
                self.pos += 1;
                *first = false;
                return true;
            }
        }
        self.pos = save;
        false
    }

    /// Reads a string value made only of bytes whose entry in `classes` has a bit of `class`
    /// set, in one scan: `Some(bytes)` when the string holds nothing else (it is consumed),
    /// `None` when it holds anything else or is not a string (nothing is consumed: read it
    /// the general way). `classes` must give `"`, `\\`, control characters and non-ASCII
    /// bytes no class.
    #[inline(always)]
    pub fn string_in_class(&mut self, classes: &[u8; 256], class: u8) -> Option<&'a [u8]> {
        let save = self.pos;
        self.ws();
        if self.peek() == Some(b'"') {
            let start = self.pos + 1;
            let mut i = start;
            while let Some(&b) = self.s.get(i) {
                if classes.get(usize::from(b)).copied().unwrap_or(0) & class == 0 {
                    break;
                }
                i += 1;
            }
            if self.s.get(i) == Some(&b'"') {
                self.pos = i + 1;
                return self.s.get(start..i);
            }
        }
        self.pos = save;
        None
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
    #[cfg_attr(not(konaplate_compact), inline(always))]
    #[cfg_attr(konaplate_compact, inline)]
    fn skip_plain(&mut self) -> bool {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGHS: u64 = 0x8080_8080_8080_8080;
        let mut high = 0u64;
        // a microcontroller, built for size, takes the byte loop below for everything
        while !cfg!(konaplate_compact)
            && let Some(chunk) = self.s.get(self.pos..self.pos + 8)
        {
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

    /// Reads a key whose opening quote is the current byte: keys are short ASCII words, read
    /// byte by byte; anything else (an escape, a non-ASCII byte) goes the general way.
    #[cfg_attr(not(konaplate_compact), inline(always))]
    #[cfg_attr(konaplate_compact, inline)]
    fn key_at_quote(&mut self) -> Res<JStr<'a>> {
        let start = self.pos + 1;
        let mut i = start;
        while let Some(&b) = self.s.get(i) {
            if b == b'"' {
                self.pos = i + 1;
                return Ok(JStr {
                    raw: self.s.get(start..i).unwrap_or(&[]),
                    escaped: false,
                    offset: start,
                });
            }
            if b == b'\\' || !(0x20..0x80).contains(&b) {
                break;
            }
            i += 1;
        }
        self.string_at_quote()
    }

    /// Reads a string whose opening quote is the current byte.
    #[cfg_attr(not(konaplate_compact), inline(always))]
    #[cfg_attr(konaplate_compact, inline)]
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
                    // ASCII needs no check; anything else is checked once, here
                    if non_ascii && let Err(valid) = crate::base::utf8::check(raw) {
                        return Err(JsonError {
                            kind: JsonErrorKind::InvalidUtf8,
                            offset: offset32(start + valid),
                        });
                    }
                    self.pos += 1;
                    return Ok(JStr {
                        raw,
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

    /// Reads a string value and decodes it into `out` (UTF-8 bytes) in the same pass: runs of
    /// plain bytes are found eight at a time, checked as UTF-8 once (only when they hold
    /// non-ASCII bytes) and appended; escapes are decoded. `out` holds valid UTF-8 afterwards.
    /// `Err(None)`: it does not fit `out` (the string was still consumed only if it was read
    /// to its end).
    pub fn string_into(
        &mut self,
        out: &mut heapless::vec::VecView<u8>,
    ) -> Result<(), Option<JsonError>> {
        out.clear();
        if self.peek_ws().map_err(Some)? != b'"' {
            return self.err(JsonErrorKind::UnexpectedByte).map_err(Some);
        }
        self.pos += 1;
        loop {
            let start = self.pos;
            let non_ascii = self.skip_plain();
            if self.pos >= self.s.len() {
                // the text ends inside the string: truncated, whatever the run holds
                return self.err(JsonErrorKind::UnexpectedEnd).map_err(Some);
            }
            let run = self.s.get(start..self.pos).unwrap_or(&[]);
            if non_ascii && let Err(valid) = crate::base::utf8::check(run) {
                return Err(Some(JsonError {
                    kind: JsonErrorKind::InvalidUtf8,
                    offset: offset32(start + valid),
                }));
            }
            if !run.is_empty() {
                out.extend_from_slice(run).map_err(|_| None)?;
            }
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    // the common escape, `\uXXXX` of a character outside the surrogates (Korean
                    // text often arrives so), written straight out as its UTF-8 bytes (not on
                    // a microcontroller, built for size: there the general decoder does it)
                    if !cfg!(konaplate_compact)
                        && self.s.get(self.pos + 1) == Some(&b'u')
                        && let Some(cp) = super::strings::hex4_at(self.s, self.pos + 2)
                        && !(0xD800..=0xDFFF).contains(&cp)
                    {
                        self.pos += 6;
                        push_utf8(out, cp).map_err(|_| None)?;
                        continue;
                    }
                    let (c, used) =
                        super::strings::decode_escape(self.s, self.pos).map_err(|kind| {
                            // an escape cut off by the end of the text is a truncation
                            let rest = self.s.get(self.pos + 1..).unwrap_or(&[]);
                            // (a plain scan: `contains` on bytes is a word-wise memchr, large code
                            // for this cold path)
                            #[allow(clippy::manual_contains)]
                            let closed = rest.iter().any(|&b| b == b'"');
                            let kind = if closed {
                                kind
                            } else {
                                JsonErrorKind::UnexpectedEnd
                            };
                            Some(JsonError {
                                kind,
                                offset: offset32(self.pos),
                            })
                        })?;
                    self.pos += used;
                    out.extend_from_slice(c.encode_utf8(&mut [0u8; 4]).as_bytes())
                        .map_err(|_| None)?;
                }
                Some(_) => return self.err(JsonErrorKind::ControlCharacter).map_err(Some),
                None => return self.err(JsonErrorKind::UnexpectedEnd).map_err(Some),
            }
        }
    }

    /// Reads a number token (syntax-checked) in one pass: the digits are accumulated while
    /// they are scanned (an integer of at most 19 digits cannot overflow a `u64`, so no check
    /// per digit), and a plain decimal keeps its digits as a mantissa for
    /// [`JNum::as_scaled`].
    #[inline]
    pub fn number(&mut self) -> Res<JNum<'a>> {
        self.ws();
        let s = self.s;
        let start = self.pos;
        let negative = s.get(start) == Some(&b'-');
        let mut i = start + usize::from(negative);
        let int_start = i;
        let mut mant: u64 = 0;
        match s.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => (i, mant) = scan_digits(s, i, 0),
            Some(_) => {
                self.pos = i;
                return self.err(JsonErrorKind::InvalidNumber);
            }
            None => {
                self.pos = i;
                return self.err(JsonErrorKind::UnexpectedEnd);
            }
        }
        let int_digits = i - int_start;
        let mut frac_digits = 0;
        if s.get(i) == Some(&b'.') {
            i += 1;
            let frac_start = i;
            (i, mant) = scan_digits(s, i, mant);
            frac_digits = i - frac_start;
            if frac_digits == 0 {
                self.pos = i;
                return self.err(if i < s.len() {
                    JsonErrorKind::InvalidNumber
                } else {
                    JsonErrorKind::UnexpectedEnd
                });
            }
        }
        let mut exponent = false;
        if matches!(s.get(i), Some(b'e' | b'E')) {
            exponent = true;
            self.pos = i + 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.digits()?;
            i = self.pos;
        }
        self.pos = i;
        let raw = s.get(start..i).unwrap_or(&[]);
        // the accumulated mantissa is exact when it holds at most 19 digits
        let exact = int_digits + frac_digits <= 19;
        let plain = !negative && !exponent;
        let int = if !plain || frac_digits != 0 {
            None
        } else if exact {
            Some(mant)
        } else {
            crate::base::ascii::parse_u64_digits(raw)
        };
        Ok(JNum {
            raw,
            int,
            // (kept for the host's fast path of `as_scaled` only)
            dec: if !cfg!(konaplate_compact) && plain && exact {
                Some((mant, frac_digits as u8))
            } else {
                None
            },
        })
    }

    /// Reads a number token whose value is wanted as a `u64`: `Some` when it is an unsigned
    /// integer that fits, `None` for any other number (still syntax-checked and consumed).
    /// Integers are read in one scan without building a [`JNum`] (on a microcontroller, built
    /// for size, through [`Reader::number`], one copy of the scanner).
    #[inline]
    pub fn number_u64(&mut self) -> Res<Option<u64>> {
        if cfg!(konaplate_compact) {
            return Ok(self.number()?.as_u64());
        }
        self.ws();
        let s = self.s;
        let start = self.pos;
        let mut i = start;
        let mut v: u64 = 0;
        match s.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => (i, v) = scan_digits(s, i, 0),
            // a sign, or not a number: the general reader decides
            _ => return self.number_u64_general(),
        }
        // at most 19 digits cannot overflow; a fraction or exponent is not an integer
        if i - start > 19 || matches!(s.get(i), Some(b'.' | b'e' | b'E')) {
            return self.number_u64_general();
        }
        self.pos = i;
        Ok(Some(v))
    }

    /// [`Reader::number_u64`] for what its scan does not take: out of line, so that the common
    /// path saves no registers for it.
    #[cold]
    #[inline(never)]
    fn number_u64_general(&mut self) -> Res<Option<u64>> {
        Ok(self.number()?.as_u64())
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
            Some(got) if crate::base::ascii::eq_bytes(got, lit) => {
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
        // object; `open` counts them. MAX_DEPTH <= 32, so the stack never overflows (a
        // 32-bit word: no 64-bit shifts emulated on a 32-bit core).
        const _: () = assert!(MAX_DEPTH <= 32);
        let mut stack: u32 = 0;
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
                        stack |= 1u32 << (open & 31);
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
                        stack &= !(1u32 << (open & 31));
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
                let top_is_object = stack & (1u32 << ((open - 1) & 31)) != 0;
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
