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

mod numbers;
mod read;
mod strings;
mod write;

pub use numbers::JNum;
pub use read::{NextKey, Reader};
pub use strings::{JStr, Unescape};
pub use write::{Full, Writer};

/// Deepest nesting of arrays/objects accepted anywhere in a body (the envelope itself is 1).
pub const MAX_DEPTH: usize = crate::base::limits::MAX_JSON_DEPTH;

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

impl crate::base::describe::Describe for JsonError {
    fn describe(&self, out: &mut dyn crate::base::describe::Sink) {
        out.put(self.kind.as_str());
        out.put(" at byte ");
        out.put_u64(u64::from(self.offset));
    }
}
crate::base::describe::display_by_describe!(JsonError);

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

/// A byte offset as stored in [`JsonError`] (saturating; bodies are far smaller).
#[inline]
pub(crate) fn offset32(pos: usize) -> u32 {
    u32::try_from(pos).unwrap_or(u32::MAX)
}
