//! Typed JSON bodies: field values, messages (objects of fields), and the response envelope
//! `{"response":{"code":..,"description":..}, ...fields}` (§5.1).

use core::fmt;

use zeroize::Zeroize;

mod reply;
#[cfg(feature = "serde")]
pub(crate) mod serde;

pub use reply::{
    ApiError, Body, Description, Reply, decode_body, decode_body_into, decode_reply, encode_reply,
    find_enc_data,
};
use crate::error::DecodeError;
use crate::field::{
    AccessKey, AspId, CardExpiry, CardNo, ChargeAmount, ChargeResult, CorrelationId, CryptoKeyId,
    DateTime14, Dcvv, FieldError, MerchantId, NrNumber, OneTimeToken, Par, Percent1,
    RefundNrNumber, SequenceId, TokenType, UserId, Won,
};
use crate::json::{Full, JStr, Kind, Reader, Writer};

/// A JSON value of a typed field.
pub trait Value: Sized {
    /// Reads the value of key `key` (the name used in errors).
    fn read(r: &mut Reader<'_>, key: &'static str) -> Result<Self, DecodeError>;
    /// Writes the value.
    fn write(&self, w: &mut Writer<'_>);
}

/// A JSON object with typed fields (a request body, the fields of a response, a list item).
pub trait Message: Sized + Clone + fmt::Debug + PartialEq {
    /// Fields seen so far while decoding.
    type Partial: Default;
    /// Consumes the value of `key` when it is one of this message's fields (`Ok(true)`).
    fn accept(
        p: &mut Self::Partial,
        key: &JStr<'_>,
        r: &mut Reader<'_>,
    ) -> Result<bool, DecodeError>;
    /// Checks that every required field was present.
    fn finish(p: Self::Partial) -> Result<Self, DecodeError>;
    /// Writes `"key":value` pairs (no braces).
    fn write_fields(&self, w: &mut Writer<'_>);
}

/// Scratch size for decoding an ASCII field value (the longest is 50 bytes).
use crate::base::limits::ASCII_SCRATCH;

/// Reads a string value decoded into `buf`; wrong type or too long → the field's limit.
fn read_text<'b>(
    r: &mut Reader<'_>,
    key: &'static str,
    limit: &'static str,
    buf: &'b mut [u8],
) -> Result<&'b [u8], DecodeError> {
    if r.peek_kind()? != Kind::String {
        return Err(FieldError::new(key, limit).into());
    }
    let s = r.string()?;
    s.decode_into(buf).map_err(|e| match e {
        Some(j) => DecodeError::Json(j),
        None => DecodeError::Field(FieldError::new(key, limit)),
    })
}

fn read_u64(
    r: &mut Reader<'_>,
    key: &'static str,
    limit: &'static str,
) -> Result<u64, DecodeError> {
    if r.peek_kind()? != Kind::Number {
        return Err(FieldError::new(key, limit).into());
    }
    r.number()?
        .as_u64()
        .ok_or(DecodeError::Field(FieldError::new(key, limit)))
}

/// Reads an ASCII field: validated straight from the input when it has no escapes (the
/// common case), else decoded into a small scratch buffer first (zeroized after use when the
/// field is a secret).
fn read_ascii<T>(
    r: &mut Reader<'_>,
    key: &'static str,
    limit: &'static str,
    secret: bool,
    parse: impl FnOnce(&[u8]) -> Result<T, FieldError>,
) -> Result<T, DecodeError> {
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

macro_rules! ascii_value {
    ($($t:ty => $access:ident, $secret:expr);* $(;)?) => {$(
        impl Value for $t {
            #[inline(never)]
            fn read(r: &mut Reader<'_>, key: &'static str) -> Result<Self, DecodeError> {
                read_ascii(r, key, <$t>::LIMIT, $secret, <$t>::from_bytes)
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
            #[inline(never)]
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
            #[inline(never)]
            fn read(r: &mut Reader<'_>, key: &'static str) -> Result<Self, DecodeError> {
                let mut buf = [0u8; 16];
                let b = read_text(r, key, <$t>::LIMIT, &mut buf)?;
                let s = core::str::from_utf8(b).unwrap_or("");
                <$t>::new(s).map_err(|e| e.for_field(key).into())
            }
            fn write(&self, w: &mut Writer<'_>) {
                w.plain_string(self.as_str().as_bytes());
            }
        }
    )*};
}

enum_value!(TokenType, ChargeResult);

impl Value for bool {
    #[inline(never)]
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
    #[inline(never)]
    fn read(r: &mut Reader<'_>, key: &'static str) -> Result<Self, DecodeError> {
        read_u64(r, key, "a whole number from 0 to 18446744073709551615")
    }
    fn write(&self, w: &mut Writer<'_>) {
        w.u64(*self);
    }
}

impl Value for Percent1 {
    #[inline(never)]
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
    #[inline(never)]
    fn read(r: &mut Reader<'_>, key: &'static str) -> Result<Self, DecodeError> {
        if r.peek_kind()? != Kind::Array {
            return Err(FieldError::new(key, "an array of at most 16 objects").into());
        }
        r.begin_array()?;
        let mut out = heapless::Vec::new();
        let mut first = true;
        while r.next_item(&mut first)? {
            let item = read_object::<T>(r, key)?;
            out.push(item)
                .map_err(|_| FieldError::new(key, "an array of at most 16 objects"))?;
        }
        Ok(out)
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
    if r.peek_kind()? != Kind::Object {
        return Err(FieldError::new(key, "a JSON object").into());
    }
    r.begin_object()?;
    let mut p = M::Partial::default();
    let mut first = true;
    while let Some(k) = r.next_key(&mut first)? {
        if !M::accept(&mut p, &k, r)? {
            r.skip_value()?;
        }
    }
    M::finish(p)
}

/// Encodes message `m` as a JSON object into `out`; returns the length. (Not inlined: the
/// encoders call it twice, to measure and to write, and one copy per message is enough.)
#[inline(never)]
pub fn encode_message<M: Message>(m: &M, out: &mut [u8]) -> Result<usize, Full> {
    let mut w = Writer::new(out);
    w.begin_object();
    m.write_fields(&mut w);
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
            // Some(None): the key was present with `null` (= absent, but counts as seen for
            // duplicate detection, as serde does)
            $( $field: Option<Option<$ty>>, )*
        }

        impl $crate::message::Message for $name {
            type Partial = $partial;

            #[allow(unused_variables, unused_mut)]
            fn accept(
                p: &mut $partial,
                key: &$crate::json::JStr<'_>,
                r: &mut $crate::json::Reader<'_>,
            ) -> Result<bool, $crate::error::DecodeError> {
                // one shared lookup finds the field; only the store below is per field
                const KEYS: &[&str] = &[$($key),*];
                let Some(found) = $crate::message::key_index(key, KEYS) else {
                    return Ok(false);
                };
                let mut index = 0usize;
                $(
                    if found == index {
                        if p.$field.is_some() {
                            return Err($crate::error::DecodeError::Duplicate { field: $key });
                        }
                        p.$field = Some(message!(@read r $ty, $key));
                        return Ok(true);
                    }
                    index += 1;
                )*
                let _ = index;
                Ok(false)
            }

            #[allow(unused_variables)]
            fn finish(p: $partial) -> Result<Self, $crate::error::DecodeError> {
                Ok(Self {
                    $( $field: message!(@finish $kind p.$field, $key), )*
                })
            }

            #[allow(unused_variables)]
            fn write_fields(&self, w: &mut $crate::json::Writer<'_>) {
                $( message!(@write $kind w, self.$field, $key); )*
            }
        }

        #[cfg(feature = "serde")]
        impl $crate::message::serde::SerdeMessage for $name {
            type Seen = $partial;

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

            #[allow(unused_variables)]
            fn de_field<'de, A: serde::de::MapAccess<'de>>(
                seen: &mut $partial,
                key: &str,
                map: &mut A,
            ) -> Result<bool, A::Error> {
                $(
                    if key == $key {
                        if seen.$field.is_some() {
                            return Err(<A::Error as serde::de::Error>::duplicate_field($key));
                        }
                        seen.$field = Some(map.next_value_seed(
                            $crate::message::serde::Keyed::<$ty>($key, core::marker::PhantomData),
                        )?);
                        return Ok(true);
                    }
                )*
                Ok(false)
            }

            #[allow(unused_variables)]
            fn de_finish<E: serde::de::Error>(seen: $partial) -> Result<Self, E> {
                Ok(Self {
                    $( $field: message!(@de_finish $kind seen.$field, $key), )*
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
        $v.flatten().ok_or_else(|| E::missing_field($key))?
    };
    (@de_finish opt $v:expr, $key:literal) => { $v.flatten() };
    (@ty req $ty:ty) => { $ty };
    (@ty opt $ty:ty) => { Option<$ty> };
    (@read $r:ident $ty:ty, $key:literal) => {
        if $r.peek_kind()? == $crate::json::Kind::Null {
            $r.null()?;
            None
        } else {
            Some(<$ty as $crate::message::Value>::read($r, $key)?)
        }
    };
    (@finish req $v:expr, $key:literal) => {
        $v.flatten().ok_or($crate::error::DecodeError::Missing { field: $key })?
    };
    (@finish opt $v:expr, $key:literal) => { $v.flatten() };
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

