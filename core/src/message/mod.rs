//! Typed JSON bodies: field values, messages (objects of fields), and the response envelope
//! `{"response":{"code":..,"description":..}, ...fields}` (§5.1).

use core::fmt;

use zeroize::Zeroize;

mod reply;
#[cfg(feature = "serde")]
pub(crate) mod serde;

use crate::error::DecodeError;
use crate::field::{
    AccessKey, AspId, CardExpiry, CardNo, ChargeAmount, ChargeResult, CorrelationId, CryptoKeyId,
    DateTime14, Dcvv, FieldError, MerchantId, NrNumber, OneTimeToken, Par, Percent1,
    RefundNrNumber, SequenceId, TokenType, UserId, Won,
};
use crate::json::{Full, JStr, Kind, NextKey, Reader, Writer};
pub use reply::{AnyReply, ApiError, Description, Reply, decode_reply, encode_reply};
pub(crate) use reply::{decode_plain_into, find_enc_data};

/// A JSON value of a typed field.
pub trait Value: Sized {
    /// Reads the value of key `key` (the name used in errors).
    fn read(r: &mut Reader<'_>, key: &'static str) -> Result<Self, DecodeError>;
    /// Reads the value into `slot` (in place for large values, which are never copied).
    #[inline]
    fn read_into(
        slot: &mut Option<Self>,
        r: &mut Reader<'_>,
        key: &'static str,
    ) -> Result<(), DecodeError> {
        *slot = Some(Self::read(r, key)?);
        Ok(())
    }
    /// Writes the value.
    fn write(&self, w: &mut Writer<'_>);
}

/// A JSON object with typed fields (a request body, the fields of a response, a list item),
/// described as data: its keys, where each value goes while decoding, and how it is written.
/// One decoder and one encoder serve every message; only the stores are per field.
pub trait Message: Sized + Clone + fmt::Debug + PartialEq {
    /// The fields read so far while decoding (each `None` until read).
    type Partial: Default + Fields;
    /// Checks that every required field was read, and builds the message.
    fn finish(p: Self::Partial) -> Result<Self, DecodeError>;
    /// [`Message::finish`] into `slot`, where the message is built in place, taking the
    /// values out of `p` (left empty on success; untouched when a required field is missing).
    fn finish_into(p: &mut Self::Partial, slot: &mut Option<Self>) -> Result<(), DecodeError>;
    /// Writes `"key":value` pairs (no braces).
    fn write_fields(&self, w: &mut Writer<'_>);
}

/// The object-safe half of a message being decoded: its keys, and the store of each field.
#[doc(hidden)]
pub trait Fields {
    /// The JSON keys of the message's fields, in order (at most 32).
    fn keys(&self) -> &'static [&'static str];
    /// Reads the (non-`null`) value of field `index` into its slot.
    fn read(&mut self, index: usize, r: &mut Reader<'_>) -> Result<(), DecodeError>;
    /// Reads the fields that come next in documented order (from `seen`'s expected one on),
    /// as long as they do, with each value's reader called directly; stops, having consumed
    /// nothing more, at the first key that is not the expected one (or at the end of the
    /// object), for the general loop to handle. On a host the message macro writes this out
    /// per message (straight-line code, the fast path of every decode); on a microcontroller,
    /// built for size, it reads nothing and the general loop does all the work.
    #[inline]
    fn read_in_order(
        &mut self,
        _first: &mut bool,
        _seen: &mut Seen,
        _r: &mut Reader<'_>,
    ) -> Result<(), DecodeError> {
        Ok(())
    }
    /// After a reply's envelope was read: builds the body (on success) and the typed code
    /// from `code`. Only the reply decoder's own wrapper does anything here.
    #[inline]
    fn finish_reply(&mut self, _code: crate::code::RawCode) -> Result<(), DecodeError> {
        Ok(())
    }
}

/// Reads a value into its slot (the one line each field contributes to a decoder).
#[doc(hidden)]
#[inline]
pub fn read_into<T: Value>(
    slot: &mut Option<T>,
    r: &mut Reader<'_>,
    key: &'static str,
) -> Result<(), DecodeError> {
    T::read_into(slot, r, key)
}

/// What the decoding loop of one object remembers: which keys were seen (for duplicates) and
/// where the next key is expected (objects usually list their keys in the documented order).
#[doc(hidden)]
#[derive(Default)]
pub struct Seen {
    bits: u32,
    next: usize,
}

impl Seen {
    /// Whether field `i` is the one expected next (the fast path reads only that one).
    #[inline(always)]
    pub fn expects(&self, i: usize) -> bool {
        self.next == i
    }
    /// Marks field `i` (found by its key) read: a second time is [`DecodeError::Duplicate`].
    #[inline(always)]
    pub fn mark(&mut self, i: usize, key: &'static str) -> Result<(), DecodeError> {
        let bit = 1u32.checked_shl(i as u32).unwrap_or(0);
        if self.bits & bit != 0 {
            return Err(DecodeError::Duplicate { field: key });
        }
        self.bits |= bit;
        self.next = i + 1;
        Ok(())
    }
}

/// The value of a field the fast path found by its key: `null` is absent, anything else goes
/// to the field's reader.
#[doc(hidden)]
#[inline(always)]
pub fn read_present<T: Value>(
    slot: &mut Option<T>,
    r: &mut Reader<'_>,
    key: &'static str,
) -> Result<(), DecodeError> {
    if r.peek_kind()? == Kind::Null {
        Ok(r.null()?)
    } else {
        T::read_into(slot, r, key)
    }
}

/// Offers the value of `key` to `fields` (one copy for every message; `keys` are the
/// message's): a known key's value is read into its slot, `null` counts as absent, a key seen
/// twice is [`DecodeError::Duplicate`] (even after a `null`, as serde does); any other key's
/// value is skipped.
#[inline(never)]
pub(crate) fn accept_field(
    fields: &mut dyn Fields,
    keys: &[&str],
    seen: &mut Seen,
    key: &JStr<'_>,
    r: &mut Reader<'_>,
) -> Result<(), DecodeError> {
    match key_index_from(key, keys, seen.next) {
        Some(i) => accept_index(fields, seen, i, r),
        // an unknown value; on a host, a plain printable string (an id, a trace) is passed
        // over in one table scan
        None if !cfg!(konaplate_compact)
            && r.string_in_class(
                &crate::field::JSON_CLASSES,
                crate::field::Charset::Graphic.bit(),
            )
            .is_some() =>
        {
            Ok(())
        }
        None => Ok(r.skip_value()?),
    }
}

/// Reads the value of field `i` (found by its key): duplicates refused, `null` absent.
#[inline(never)]
pub(crate) fn accept_index(
    fields: &mut dyn Fields,
    seen: &mut Seen,
    i: usize,
    r: &mut Reader<'_>,
) -> Result<(), DecodeError> {
    seen.mark(i, fields.keys().get(i).copied().unwrap_or(""))?;
    if r.peek_kind()? == Kind::Null {
        Ok(r.null()?)
    } else {
        fields.read(i, r)
    }
}

impl Seen {
    /// The key expected next (the one after the last matched), as bytes; empty: none.
    #[inline]
    pub(crate) fn expected<'k>(&self, keys: &'k [&'k str]) -> &'k [u8] {
        keys.get(self.next).map_or(&[], |k| k.as_bytes())
    }
}

/// The position of `key` in `keys`, trying `keys[next]` first (the key that follows the last
/// one matched, in documented order) before scanning them all.
#[inline]
fn key_index_from(key: &JStr<'_>, keys: &[&str], next: usize) -> Option<usize> {
    if let Some(k) = keys.get(next)
        && key.eq_str(k)
    {
        return Some(next);
    }
    key_index(key, keys)
}

/// Scratch size for decoding an ASCII field value (the longest is 50 bytes).
use crate::base::limits::ASCII_SCRATCH;

fn read_u64(
    r: &mut Reader<'_>,
    key: &'static str,
    limit: &'static str,
) -> Result<u64, DecodeError> {
    if r.peek_kind()? != Kind::Number {
        return Err(FieldError::new(key, limit).into());
    }
    r.number_u64()?
        .ok_or(DecodeError::Field(FieldError::new(key, limit)))
}

/// Reads an ASCII field: validated straight from the input when it has no escapes (the
/// common case), else decoded into a small scratch buffer first (zeroized after use when the
/// field is a secret). One copy serves every field type: only `parse` is per type.
#[inline(never)]
fn read_ascii(
    r: &mut Reader<'_>,
    key: &'static str,
    limit: &'static str,
    secret: bool,
    parse: &mut dyn FnMut(&[u8]) -> Result<(), FieldError>,
) -> Result<(), DecodeError> {
    if r.peek_kind()? != Kind::String {
        return Err(FieldError::new(key, limit).into());
    }
    let s = r.string()?;
    if !s.has_escapes() {
        return parse(s.raw_bytes()).map_err(|e| e.for_field(key).into());
    }
    let mut buf = [0u8; ASCII_SCRATCH];
    let res = match s.decode_into(&mut buf) {
        Ok(b) => parse(b).map_err(|e| e.for_field(key).into()),
        Err(Some(j)) => Err(DecodeError::Json(j)),
        Err(None) => Err(DecodeError::Field(FieldError::new(key, limit))),
    };
    if secret {
        buf.zeroize();
    }
    res
}

/// [`read_ascii`] into `slot` with the constructor `from_bytes`.
#[inline]
fn read_ascii_into<T>(
    slot: &mut Option<T>,
    r: &mut Reader<'_>,
    key: &'static str,
    limit: &'static str,
    secret: bool,
    from_bytes: fn(&[u8]) -> Result<T, FieldError>,
) -> Result<(), DecodeError> {
    read_ascii(r, key, limit, secret, &mut |b| {
        *slot = Some(from_bytes(b)?);
        Ok(())
    })
}

macro_rules! ascii_value {
    ($($t:ty => $access:ident, $secret:expr);* $(;)?) => {$(
        impl Value for $t {
            fn read(r: &mut Reader<'_>, key: &'static str) -> Result<Self, DecodeError> {
                let mut slot = None;
                Self::read_into(&mut slot, r, key)?;
                slot.ok_or(DecodeError::Field(FieldError::new(key, <$t>::LIMIT)))
            }
            #[cfg_attr(konaplate_compact, inline(never))]
            #[cfg_attr(not(konaplate_compact), inline)]
            fn read_into(slot: &mut Option<Self>, r: &mut Reader<'_>, key: &'static str) -> Result<(), DecodeError> {
                // on a host: one scan finds the value's end and checks its characters; any
                // other string (an escape, another character) or value goes the general way
                if !cfg!(konaplate_compact)
                    && let Some(raw) = r.string_in_class(&crate::field::JSON_CLASSES, <$t>::CHARSET.bit())
                {
                    *slot = Some(<$t>::from_charset_checked(raw).map_err(|e| e.for_field(key))?);
                    return Ok(());
                }
                read_ascii_into(slot, r, key, <$t>::LIMIT, $secret, <$t>::from_bytes)
            }
            #[inline]
            fn write(&self, w: &mut Writer<'_>) {
                w.plain_string(self.$access());
            }
        }
    )*};
}

ascii_value!(
    SequenceId => as_bytes, false; NrNumber => as_bytes, false; RefundNrNumber => as_bytes, false;
    Par => as_bytes, false; CardExpiry => as_bytes, false; MerchantId => as_bytes, false;
    DateTime14 => as_bytes, false; AspId => as_bytes, false; AccessKey => expose_bytes, true;
    CryptoKeyId => as_bytes, false; CorrelationId => as_bytes, false;
    OneTimeToken => expose_bytes, true; Dcvv => expose_bytes, true; CardNo => expose_bytes, true;
);

macro_rules! number_value {
    ($($t:ty),*) => {$(
        impl Value for $t {
            #[cfg_attr(konaplate_compact, inline(never))]
            #[cfg_attr(not(konaplate_compact), inline)]
            fn read(r: &mut Reader<'_>, key: &'static str) -> Result<Self, DecodeError> {
                let v = read_u64(r, key, <$t>::LIMIT)?;
                <$t>::new(v).map_err(|e| e.for_field(key).into())
            }
            #[inline]
            fn write(&self, w: &mut Writer<'_>) {
                w.u64(self.get());
            }
        }
    )*};
}

number_value!(UserId, ChargeAmount, Won);

macro_rules! enum_value {
    ($($t:ty),*) => {$(
        impl Value for $t {
            fn read(r: &mut Reader<'_>, key: &'static str) -> Result<Self, DecodeError> {
                let mut slot = None;
                Self::read_into(&mut slot, r, key)?;
                slot.ok_or(DecodeError::Field(FieldError::new(key, <$t>::LIMIT)))
            }
            #[cfg_attr(konaplate_compact, inline(never))]
            #[cfg_attr(not(konaplate_compact), inline)]
            fn read_into(slot: &mut Option<Self>, r: &mut Reader<'_>, key: &'static str) -> Result<(), DecodeError> {
                read_ascii_into(slot, r, key, <$t>::LIMIT, false, <$t>::from_bytes)
            }
            fn write(&self, w: &mut Writer<'_>) {
                w.plain_string(self.as_str().as_bytes());
            }
        }
    )*};
}

enum_value!(TokenType, ChargeResult);

impl Value for bool {
    #[cfg_attr(konaplate_compact, inline(never))]
    #[cfg_attr(not(konaplate_compact), inline)]
    fn read(r: &mut Reader<'_>, key: &'static str) -> Result<Self, DecodeError> {
        if r.peek_kind()? != Kind::Bool {
            return Err(FieldError::new(key, "true or false").into());
        }
        Ok(r.boolean()?)
    }
    fn write(&self, w: &mut Writer<'_>) {
        w.boolean(*self);
    }
}

impl Value for u64 {
    #[cfg_attr(konaplate_compact, inline(never))]
    #[cfg_attr(not(konaplate_compact), inline)]
    fn read(r: &mut Reader<'_>, key: &'static str) -> Result<Self, DecodeError> {
        read_u64(r, key, "a whole number from 0 to 18446744073709551615")
    }
    fn write(&self, w: &mut Writer<'_>) {
        w.u64(*self);
    }
}

impl Value for Percent1 {
    #[cfg_attr(konaplate_compact, inline(never))]
    #[cfg_attr(not(konaplate_compact), inline)]
    fn read(r: &mut Reader<'_>, key: &'static str) -> Result<Self, DecodeError> {
        let err = FieldError::new(key, Percent1::LIMIT);
        if r.peek_kind()? != Kind::Number {
            return Err(err.into());
        }
        let tenths = r.number()?.as_scaled(1).ok_or(err)?;
        let tenths = u16::try_from(tenths).map_err(|_| err)?;
        Ok(Percent1::from_tenths(tenths, key)?)
    }
    fn write(&self, w: &mut Writer<'_>) {
        w.scaled(u64::from(self.tenths()), 1);
    }
}

/// Most items a list field holds (`parInfoList`). A member has a handful of cards; more items
/// than this are reported as an error, never truncated.
pub const MAX_LIST_ITEMS: usize = crate::base::limits::MAX_LIST_ITEMS;

impl<T: Message> Value for heapless::Vec<T, MAX_LIST_ITEMS> {
    fn read(r: &mut Reader<'_>, key: &'static str) -> Result<Self, DecodeError> {
        let mut slot = None;
        Self::read_into(&mut slot, r, key)?;
        Ok(slot.unwrap_or_default())
    }
    /// Fills the list where it is stored, item by item.
    #[inline(never)]
    fn read_into(
        slot: &mut Option<Self>,
        r: &mut Reader<'_>,
        key: &'static str,
    ) -> Result<(), DecodeError> {
        let limit = "an array of at most 16 objects";
        if r.peek_kind()? != Kind::Array {
            return Err(FieldError::new(key, limit).into());
        }
        r.begin_array()?;
        let out = slot.insert(heapless::Vec::new());
        let mut first = true;
        while r.next_item(&mut first)? {
            let item = read_object::<T>(r, key)?;
            out.push(item).map_err(|_| FieldError::new(key, limit))?;
        }
        Ok(())
    }
    fn write(&self, w: &mut Writer<'_>) {
        w.begin_array();
        for item in self {
            w.element();
            w.begin_object();
            item.write_fields(w);
            w.end_object();
        }
        w.end_array();
    }
}

/// The position of `key` in `keys` (a message's field names), if it is one of them.
#[doc(hidden)]
pub fn key_index(key: &JStr<'_>, keys: &[&str]) -> Option<usize> {
    keys.iter().position(|k| key.eq_str(k))
}

/// Reads a JSON object into message `M` (unknown keys skipped).
pub fn read_object<M: Message>(r: &mut Reader<'_>, key: &'static str) -> Result<M, DecodeError> {
    let mut p = M::Partial::default();
    read_fields(r, key, &mut p)?;
    M::finish(p)
}

/// The loop of [`read_object`], once for every message.
#[inline(never)]
fn read_fields(
    r: &mut Reader<'_>,
    key: &'static str,
    fields: &mut dyn Fields,
) -> Result<(), DecodeError> {
    if r.peek_kind()? != Kind::Object {
        return Err(FieldError::new(key, "a JSON object").into());
    }
    r.begin_object()?;
    let mut seen = Seen::default();
    let mut first = true;
    let keys = fields.keys();
    loop {
        if !cfg!(konaplate_compact) {
            fields.read_in_order(&mut first, &mut seen, r)?;
        }
        match r.next_key_expecting(&mut first, seen.expected(keys))? {
            NextKey::End => return Ok(()),
            NextKey::Expected => {
                let i = seen.next;
                accept_index(fields, &mut seen, i, r)?
            }
            NextKey::Other(k) => accept_field(fields, keys, &mut seen, &k, r)?,
        }
    }
}

/// Encodes message `m` as a JSON object into `out`; returns the length.
pub fn encode_message<M: Message>(m: &M, out: &mut [u8]) -> Result<usize, Full> {
    encode_fields(m, out)
}

/// The object-safe part of [`Message`] the encoders use, so that one copy of the request
/// path serves every message.
pub(crate) trait WriteFields {
    fn write_fields_dyn(&self, w: &mut Writer<'_>);
}

impl<M: Message> WriteFields for M {
    fn write_fields_dyn(&self, w: &mut Writer<'_>) {
        self.write_fields(w);
    }
}

/// Encodes the fields of `m` as one JSON object (one copy for every message).
#[inline(never)]
pub(crate) fn encode_fields(m: &dyn WriteFields, out: &mut [u8]) -> Result<usize, Full> {
    let mut w = Writer::new(out);
    w.begin_object();
    m.write_fields_dyn(&mut w);
    w.end_object();
    w.finish()
}

/// Decodes a complete JSON text that is one object of message `M` (unknown keys skipped).
/// The sandbox uses this for request bodies.
pub fn decode_message<M: Message>(body: &[u8]) -> Result<M, DecodeError> {
    let mut r = Reader::new(body)?;
    let m = read_object::<M>(&mut r, "body")?;
    r.end()?;
    Ok(m)
}

/// Defines a message struct: its fields (`req` = Required, `opt` = Optional, never sent as
/// `null`), its decoder and encoder. When decoding, `null` means absent for every field; a
/// required field absent on a success reply is [`DecodeError::Missing`].
macro_rules! message {
    (
        $(#[$m:meta])*
        pub struct $name:ident / $partial:ident {
            $( $(#[$fm:meta])* $kind:ident $field:ident : $ty:ty = $key:literal ),* $(,)?
        }
    ) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub struct $name {
            $( $(#[$fm])* #[doc = concat!("\n\nJSON key `", $key, "`.")] pub $field: message!(@ty $kind $ty), )*
        }

        #[doc(hidden)]
        #[derive(Default)]
        pub struct $partial {
            $( $field: Option<$ty>, )*
        }

        impl $crate::message::Fields for $partial {
            fn keys(&self) -> &'static [&'static str] {
                &[$($key),*]
            }

            #[allow(unused_variables, unused_mut, unused_assignments)]
            fn read(
                &mut self,
                i: usize,
                r: &mut $crate::json::Reader<'_>,
            ) -> Result<(), $crate::error::DecodeError> {
                let mut index = 0usize;
                $(
                    if i == index {
                        return $crate::message::read_into(&mut self.$field, r, $key);
                    }
                    index += 1;
                )*
                Ok(())
            }

            #[cfg(not(konaplate_compact))]
            #[allow(unused_variables, unused_mut, unused_assignments)]
            fn read_in_order(
                &mut self,
                first: &mut bool,
                seen: &mut $crate::message::Seen,
                r: &mut $crate::json::Reader<'_>,
            ) -> Result<(), $crate::error::DecodeError> {
                let mut index = 0usize;
                $(
                    if seen.expects(index) {
                        if !r.take_key(first, $key.as_bytes()) {
                            return Ok(());
                        }
                        seen.mark(index, $key)?;
                        $crate::message::read_present(&mut self.$field, r, $key)?;
                    }
                    index += 1;
                )*
                Ok(())
            }
        }

        impl $crate::message::Message for $name {
            type Partial = $partial;

            #[allow(unused_variables)]
            fn finish(p: $partial) -> Result<Self, $crate::error::DecodeError> {
                Ok(Self {
                    $( $field: message!(@finish $kind p.$field, $key), )*
                })
            }

            #[allow(unused_variables)]
            fn finish_into(p: &mut $partial, slot: &mut Option<Self>) -> Result<(), $crate::error::DecodeError> {
                // every required field is checked before anything moves
                $( message!(@check $kind p.$field, $key); )*
                *slot = Some(Self {
                    $( $field: message!(@take $kind p.$field.take(), $key), )*
                });
                Ok(())
            }

            #[allow(unused_variables)]
            fn write_fields(&self, w: &mut $crate::json::Writer<'_>) {
                $( message!(@write $kind w, self.$field, $key); )*
            }
        }

        #[cfg(feature = "serde")]
        impl $crate::message::serde::SerdeMessage for $name {
            // the values, and which keys were seen (`null` included, for duplicates)
            type Seen = ($partial, u32);

            fn field_count(&self) -> usize {
                0 $( + message!(@count $kind self.$field) )*
            }

            #[allow(unused_variables)]
            fn serialize_fields<M: serde::ser::SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
                $( message!(@ser_map $kind map, self.$field, $key); )*
                Ok(())
            }

            #[allow(unused_variables)]
            fn serialize_struct_fields<M: serde::ser::SerializeStruct>(&self, st: &mut M) -> Result<(), M::Error> {
                $( message!(@ser_struct $kind st, self.$field, $key); )*
                Ok(())
            }

            #[allow(unused_variables, unused_mut, unused_assignments)]
            fn de_field<'de, A: serde::de::MapAccess<'de>>(
                seen: &mut ($partial, u32),
                key: &str,
                map: &mut A,
            ) -> Result<bool, A::Error> {
                let mut bit = 1u32;
                $(
                    if key == $key {
                        if seen.1 & bit != 0 {
                            return Err(<A::Error as serde::de::Error>::duplicate_field($key));
                        }
                        seen.1 |= bit;
                        seen.0.$field = map.next_value_seed(
                            $crate::message::serde::Keyed::<$ty>($key, core::marker::PhantomData),
                        )?;
                        return Ok(true);
                    }
                    bit <<= 1;
                )*
                Ok(false)
            }

            #[allow(unused_variables)]
            fn de_finish<E: serde::de::Error>(seen: ($partial, u32)) -> Result<Self, E> {
                let p = seen.0;
                Ok(Self {
                    $( $field: message!(@de_finish $kind p.$field, $key), )*
                })
            }
        }

        /// Serializes under the API's field names (optional fields omitted when absent).
        #[cfg(feature = "serde")]
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeStruct;
                use $crate::message::serde::SerdeMessage;
                let mut st = s.serialize_struct(stringify!($name), self.field_count())?;
                self.serialize_struct_fields(&mut st)?;
                st.end()
            }
        }

        /// Deserializes through the validating constructors: an invalid value is an error
        /// naming the field and its limit; unknown keys are skipped; `null` means absent.
        #[cfg(feature = "serde")]
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::message::serde::de_message(d, stringify!($name))
            }
        }

        #[cfg(feature = "serde")]
        impl $crate::message::serde::KeyedField for $name {
            fn de_keyed<'de, D: serde::Deserializer<'de>>(d: D, _key: &'static str) -> Result<Self, D::Error> {
                $crate::message::serde::de_message(d, stringify!($name))
            }
        }

        impl $crate::message::Value for $name {
            fn read(
                r: &mut $crate::json::Reader<'_>,
                key: &'static str,
            ) -> Result<Self, $crate::error::DecodeError> {
                $crate::message::read_object::<Self>(r, key)
            }
            fn write(&self, w: &mut $crate::json::Writer<'_>) {
                w.begin_object();
                $crate::message::Message::write_fields(self, w);
                w.end_object();
            }
        }
    };

    (@count req $v:expr) => { 1 };
    (@count opt $v:expr) => { usize::from($v.is_some()) };
    (@ser_map req $m:ident, $v:expr, $key:literal) => { $m.serialize_entry($key, &$v)?; };
    (@ser_map opt $m:ident, $v:expr, $key:literal) => {
        if let Some(v) = &$v {
            $m.serialize_entry($key, v)?;
        }
    };
    (@ser_struct req $m:ident, $v:expr, $key:literal) => { $m.serialize_field($key, &$v)?; };
    (@ser_struct opt $m:ident, $v:expr, $key:literal) => {
        match &$v {
            Some(v) => $m.serialize_field($key, v)?,
            None => $m.skip_field($key)?,
        }
    };
    (@de_finish req $v:expr, $key:literal) => {
        $v.ok_or_else(|| E::missing_field($key))?
    };
    (@de_finish opt $v:expr, $key:literal) => { $v };
    (@ty req $ty:ty) => { $ty };
    (@ty opt $ty:ty) => { Option<$ty> };
    (@finish req $v:expr, $key:literal) => {
        $v.ok_or($crate::error::DecodeError::Missing { field: $key })?
    };
    (@finish opt $v:expr, $key:literal) => { $v };
    (@check req $v:expr, $key:literal) => {
        if $v.is_none() {
            return Err($crate::error::DecodeError::Missing { field: $key });
        }
    };
    (@check opt $v:expr, $key:literal) => {};
    // after @check (smaller code than `?` inside the literal); the None arm is not reached
    (@take req $v:expr, $key:literal) => {
        match $v {
            Some(v) => v,
            None => return Err($crate::error::DecodeError::Missing { field: $key }),
        }
    };
    (@take opt $v:expr, $key:literal) => { $v };
    (@write req $w:ident, $v:expr, $key:literal) => {
        $w.key($key);
        $crate::message::Value::write(&$v, $w);
    };
    (@write opt $w:ident, $v:expr, $key:literal) => {
        if let Some(v) = &$v {
            $w.key($key);
            $crate::message::Value::write(v, $w);
        }
    };
}
pub(crate) use message;
