//! The answer envelope `{"response":{"code":..,"description":..}, ...fields}`: decoding it
//! into a [`Reply`], finding `encData`, and encoding it (for the sandbox and tests).

use core::fmt;

use crate::code::{RawCode, ResultCode};
use crate::error::DecodeError;
use crate::field::{FieldError, Text};
use crate::json::{Full, Kind, NextKey, Reader, Writer};

use super::{Fields, Message, Seen, accept_field, accept_index};

/// `response.description`: the platform's message text (often Korean), fully unescaped, kept
/// as UTF-8 bytes checked once while decoding (see [`Text`]).
pub type Description = Text<{ crate::base::limits::DESCRIPTION_CAPACITY }>;

impl Description {
    /// Capacity in bytes of UTF-8 (85 Hangul syllables or 256 ASCII characters).
    pub const CAPACITY: usize = crate::base::limits::DESCRIPTION_CAPACITY;
    /// API name, for errors.
    pub const API_NAME: &'static str = "response.description";
    /// The SDK's capacity, as reported in errors.
    pub const LIMIT: &'static str = "text of at most 256 bytes of UTF-8";

    /// Copies `s`; errors when it exceeds [`Self::CAPACITY`].
    pub fn new(s: &str) -> Result<Self, FieldError> {
        Self::copy(s, Self::API_NAME, Self::LIMIT)
    }
}

/// A decoded plaintext response: the envelope's code and description, and the endpoint's
/// fields when the code is `000_000`.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
// the description's 256-byte buffer last: an empty reply is then a few stores at its start,
// not a fill of the whole buffer (which the compiler otherwise merges its neighbours into)
#[repr(C)]
pub struct Reply<R, C> {
    /// `response.code`, mapped to the endpoint's code type.
    pub code: C,
    /// The endpoint's fields: `Some` exactly when `code` is success (every required field was
    /// then checked present). Known fields present in a failure reply are validated but not
    /// kept.
    pub body: Option<R>,
    /// `response.description`.
    pub description: Description,
}

impl<R, C: ResultCode> Reply<R, C> {
    /// `true` for `000_000`.
    pub fn is_success(&self) -> bool {
        self.code.is_success()
    }
    /// The fields on success; the code and description otherwise.
    pub fn into_result(self) -> Result<R, ApiError<C>> {
        match self.body {
            Some(b) if self.code.is_success() => Ok(b),
            _ => Err(ApiError {
                code: self.code,
                description: self.description,
            }),
        }
    }
}

/// The API answered with a result code other than `000_000`.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ApiError<C> {
    /// The result code.
    pub code: C,
    /// The platform's description.
    pub description: Description,
}

impl<C: ResultCode> fmt::Display for ApiError<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.code.as_str(), self.description)?;
        if let Some(m) = self.code.documented_message() {
            write!(f, " [documented: {m}]")?;
        }
        Ok(())
    }
}

impl<C: ResultCode> core::error::Error for ApiError<C> {}

/// Reads the `response` object, writing code and description straight into their final
/// places (large values are never moved after being written).
fn read_envelope_into(
    r: &mut Reader<'_>,
    code: &mut heapless::Vec<u8, { crate::base::limits::CODE_CAPACITY }>,
    description: &mut heapless::Vec<u8, { Description::CAPACITY }>,
) -> Result<(bool, bool), DecodeError> {
    if r.peek_kind()? != Kind::Object {
        return Err(FieldError::new("response", "a JSON object with code and description").into());
    }
    r.begin_object()?;
    let (mut has_code, mut has_description) = (false, false);
    let mut first = true;
    // on a host: `code` then `description`, taken in place straight away (the usual order);
    // whatever follows, or anything else, the general loop
    if !cfg!(konaplate_compact) && r.take_key(&mut first, b"code") {
        has_code = true;
        read_code(r, code)?;
        if r.take_key(&mut first, b"description") {
            has_description = true;
            read_string_into(
                r,
                Description::API_NAME,
                Description::LIMIT,
                description.as_mut_view(),
            )?;
        }
    }
    loop {
        // `code` then `description`, matched in place; anything else the general way
        let expected: &[u8] = if !has_code {
            b"code"
        } else if !has_description {
            b"description"
        } else {
            b""
        };
        let (is_code, is_description) = match r.next_key_expecting(&mut first, expected)? {
            NextKey::End => break,
            NextKey::Expected => (!has_code, has_code),
            NextKey::Other(k) => (k.eq_str("code"), k.eq_str("description")),
        };
        if is_code {
            if core::mem::replace(&mut has_code, true) {
                return Err(DecodeError::Duplicate {
                    field: RawCode::API_NAME,
                });
            }
            read_code(r, code)?;
        } else if is_description {
            if core::mem::replace(&mut has_description, true) {
                return Err(DecodeError::Duplicate {
                    field: Description::API_NAME,
                });
            }
            read_string_into(
                r,
                Description::API_NAME,
                Description::LIMIT,
                description.as_mut_view(),
            )?;
        } else {
            r.skip_value()?;
        }
    }
    Ok((has_code, has_description))
}

/// Reads `response.code`: on a host, a code of letters, digits, `-` and `_` (every
/// documented one) is found and copied in one scan; anything else the general way.
#[inline]
fn read_code(
    r: &mut Reader<'_>,
    code: &mut heapless::Vec<u8, { crate::base::limits::CODE_CAPACITY }>,
) -> Result<(), DecodeError> {
    if !cfg!(konaplate_compact)
        && let Some(raw) = r.string_in_class(
            &crate::field::JSON_CLASSES,
            crate::field::Charset::Sequence.bit(),
        )
    {
        code.clear();
        return Ok(code
            .extend_from_slice(raw)
            .map_err(|_| FieldError::new(RawCode::API_NAME, RawCode::LIMIT))?);
    }
    read_string_into(r, RawCode::API_NAME, RawCode::LIMIT, code.as_mut_view())
}

#[inline(never)]
fn read_string_into(
    r: &mut Reader<'_>,
    key: &'static str,
    limit: &'static str,
    out: &mut heapless::vec::VecView<u8>,
) -> Result<(), DecodeError> {
    if r.peek_kind()? != Kind::String {
        return Err(FieldError::new(key, limit).into());
    }
    r.string_into(out).map_err(|e| match e {
        Some(j) => DecodeError::Json(j),
        None => DecodeError::Field(FieldError::new(key, limit)),
    })
}

impl<R, C: ResultCode> Reply<R, C> {
    /// An empty reply to decode into (code `Other("")`, empty description, no body).
    pub fn empty() -> Self {
        Self {
            code: C::empty(),
            description: Description::default(),
            body: None,
        }
    }
}

/// What the non-generic part of a body decode found.
struct Envelope {
    has_env: bool,
    has_code: bool,
    has_description: bool,
    enc: Option<core::ops::Range<usize>>,
}

/// The top-level loop of every body decode, written once (not per endpoint): the envelope
/// into `code` and `description`, `encData`, and every other key offered to `fields`.
fn decode_top(
    body: &[u8],
    code: &mut heapless::Vec<u8, { crate::base::limits::CODE_CAPACITY }>,
    description: &mut heapless::Vec<u8, { Description::CAPACITY }>,
    fields: &mut dyn Fields,
) -> Result<Envelope, DecodeError> {
    let mut r = Reader::new(body)?;
    if r.peek_kind()? != Kind::Object {
        return Err(FieldError::new("body", "a JSON object").into());
    }
    r.begin_object()?;
    description.clear();
    // `null` counts as absent, but a repeated key is a duplicate even after a null
    let (mut env_seen, mut enc_seen) = (false, false);
    let mut e = Envelope {
        has_env: false,
        has_code: false,
        has_description: false,
        enc: None,
    };
    let mut seen = Seen::default();
    let mut first = true;
    let keys = fields.keys();
    loop {
        // the envelope usually comes first, then the fields in documented order: each key is
        // matched in place against the one expected (on a host, a run of them by the message's
        // own straight-line reader)
        if env_seen && !cfg!(konaplate_compact) {
            fields.read_in_order(&mut first, &mut seen, &mut r)?;
        }
        let expected = if env_seen {
            seen.expected(keys)
        } else {
            b"response"
        };
        let k = match r.next_key_expecting(&mut first, expected)? {
            NextKey::End => break,
            NextKey::Expected if env_seen => {
                let i = seen.next;
                accept_index(fields, &mut seen, i, &mut r)?;
                continue;
            }
            NextKey::Expected => None,
            NextKey::Other(k) => Some(k),
        };
        if k.is_none_or(|k| k.eq_str("response")) {
            if core::mem::replace(&mut env_seen, true) {
                return Err(DecodeError::Duplicate { field: "response" });
            }
            if r.peek_kind()? == Kind::Null {
                r.null()?;
            } else {
                (e.has_code, e.has_description) = read_envelope_into(&mut r, code, description)?;
                e.has_env = true;
            }
        } else if k.is_some_and(|k| k.eq_str("encData")) {
            if core::mem::replace(&mut enc_seen, true) {
                return Err(DecodeError::Duplicate { field: "encData" });
            }
            let limit = "a compact JWE string";
            match r.peek_kind()? {
                Kind::Null => r.null()?,
                Kind::String => {
                    let s = r.string()?;
                    if s.has_escapes() {
                        // base64url and '.' never need escaping; anything else is not a JWE
                        return Err(FieldError::new("encData", limit).into());
                    }
                    e.enc = Some(s.offset()..s.offset() + s.raw_bytes().len());
                }
                _ => return Err(FieldError::new("encData", limit).into()),
            }
        } else if let Some(k) = k {
            accept_field(fields, keys, &mut seen, &k, &mut r)?;
        }
    }
    r.end()?;
    Ok(e)
}

/// Decodes a plaintext response body (JSON text) of message `R` with codes `C` into `out`, in
/// place; a body that carries `encData` is [`DecodeError::Encrypted`] (then `out` is
/// unspecified). The body of [`AnyReply::decode_plain`] and [`decode_reply`], written once.
///
/// Unknown fields anywhere are skipped. Writing in place keeps large values (the 256-byte
/// description) from being copied after they are filled.
pub(crate) fn decode_plain_into<R: Message, C: ResultCode>(
    body: &[u8],
    out: &mut Reply<R, C>,
) -> Result<(), DecodeError> {
    let Reply {
        code,
        description,
        body: slot,
    } = out;
    let mut fields = Decoding::<R, C> {
        partial: R::Partial::default(),
        slot,
        code,
    };
    decode_parts(body, description.checked_storage(), &mut fields)
}

/// A reply being decoded, as the endpoint-independent decoder sees it (through [`Fields`]):
/// the message's fields read so far, and where the body and the typed code go at the end.
/// The only per-endpoint code of a decode is this type's [`Fields::finish_reply`].
struct Decoding<'o, R: Message, C> {
    partial: R::Partial,
    slot: &'o mut Option<R>,
    code: &'o mut C,
}

impl<R: Message, C: ResultCode> Fields for Decoding<'_, R, C> {
    #[inline]
    fn keys(&self) -> &'static [&'static str] {
        self.partial.keys()
    }
    #[inline]
    fn read(&mut self, index: usize, r: &mut Reader<'_>) -> Result<(), DecodeError> {
        self.partial.read(index, r)
    }
    #[inline]
    fn read_in_order(
        &mut self,
        first: &mut bool,
        seen: &mut Seen,
        r: &mut Reader<'_>,
    ) -> Result<(), DecodeError> {
        self.partial.read_in_order(first, seen, r)
    }
    fn finish_reply(&mut self, code: RawCode) -> Result<(), DecodeError> {
        if code.is_success() {
            R::finish_into(&mut self.partial, self.slot)?;
        } else {
            *self.slot = None;
        }
        *self.code = C::from_raw(code);
        Ok(())
    }
}

/// The endpoint-independent part of [`decode_plain_into`], once for every endpoint: the whole
/// body, the envelope checked present (a body that is `encData` is refused: it must be
/// decrypted first), then the reply built by `fields`.
#[inline(never)]
fn decode_parts(
    body: &[u8],
    description: &mut heapless::Vec<u8, { Description::CAPACITY }>,
    fields: &mut dyn Fields,
) -> Result<(), DecodeError> {
    let mut code = heapless::Vec::<u8, { crate::base::limits::CODE_CAPACITY }>::new();
    let e = decode_top(body, &mut code, description, fields)?;
    if e.enc.is_some() {
        return Err(DecodeError::Encrypted);
    }
    if !e.has_env {
        return Err(DecodeError::Missing { field: "response" });
    }
    if !e.has_code {
        return Err(DecodeError::Missing {
            field: RawCode::API_NAME,
        });
    }
    if !e.has_description {
        return Err(DecodeError::Missing {
            field: Description::API_NAME,
        });
    }
    // (the one check of the code's characters, whichever way it was read; `000_000`, the
    // common case, is known clean)
    if code.as_slice() != crate::code::SUCCESS.as_bytes() && !RawCode::admits(&code) {
        return Err(FieldError::new(RawCode::API_NAME, RawCode::LIMIT).into());
    }
    fields.finish_reply(RawCode::from_checked(code))
}

/// No fields: every key but the envelope's is skipped.
struct NoFields;

impl Fields for NoFields {
    fn keys(&self) -> &'static [&'static str] {
        &[]
    }
    fn read(&mut self, _: usize, _: &mut Reader<'_>) -> Result<(), DecodeError> {
        Ok(())
    }
}

/// The reply storage of some endpoint, as [`crate::call::Call::finish`] decodes into it: one
/// copy of every client's exchange (and one async state machine) serves every endpoint, the
/// reply's type being the only per-endpoint part. Implemented for every endpoint's
/// [`ReplyOf`](crate::api::ReplyOf); you do not implement it.
pub trait AnyReply {
    /// The path of the endpoint this is the reply of (a call checks its answer goes into the
    /// right reply).
    fn endpoint_path(&self) -> &'static str;
    /// Decodes a plaintext response body into `self`, in place (nothing of the reply is
    /// copied): the layer under [`crate::call::Call`], for a body you already hold. Unknown
    /// fields anywhere are skipped; an `encData` body is [`DecodeError::Encrypted`] (a call
    /// decrypts it first).
    fn decode_plain(&mut self, body: &[u8]) -> Result<(), DecodeError>;
}

/// The range of the `encData` string of a JSON object body, if it has one (the envelope and
/// other fields are checked for syntax only).
pub(crate) fn find_enc_data(body: &[u8]) -> Result<Option<core::ops::Range<usize>>, DecodeError> {
    let mut code = heapless::Vec::new();
    let mut description = heapless::Vec::new();
    Ok(decode_top(body, &mut code, &mut description, &mut NoFields)?.enc)
}

/// Decodes a plaintext response body you already hold (a test, a log, a body a transport of
/// your own received and decrypted) into a reply by value; an encrypted one is
/// [`DecodeError::Encrypted`]. To decode into storage you keep, use [`AnyReply::decode_plain`];
/// for a whole exchange on the wire, [`crate::call::Call`].
pub fn decode_reply<R: Message, C: ResultCode>(body: &[u8]) -> Result<Reply<R, C>, DecodeError> {
    // decoded where it is returned: the reply (a 256-byte description) is never copied
    let mut out = Ok(Reply::empty());
    if let Ok(reply) = &mut out
        && let Err(e) = decode_plain_into(body, reply)
    {
        out = Err(e);
    }
    out
}

/// Encodes a response envelope (used by the sandbox and by tests): `{"response":{...}}` plus
/// the fields of `body` when given.
pub fn encode_reply<R: Message>(
    code: &str,
    description: &str,
    body: Option<&R>,
    out: &mut [u8],
) -> Result<usize, Full> {
    let mut w = Writer::new(out);
    w.begin_object();
    w.key("response");
    w.begin_object();
    w.key("code");
    w.string(code);
    w.key("description");
    w.string(description);
    w.end_object();
    if let Some(b) = body {
        b.write_fields(&mut w);
    }
    w.end_object();
    w.finish()
}
