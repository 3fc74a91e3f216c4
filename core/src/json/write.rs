//! The writer: into a caller's buffer, counting past its end so the exact size needed
//! can be reported.

use crate::base::ascii::{fmt_u64, hex_lower};

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
                self.byte(hex_lower(b >> 4));
                self.byte(hex_lower(b));
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
