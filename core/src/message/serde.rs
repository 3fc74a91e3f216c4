//! `serde` support (feature `serde`): every field type, message and reply serializes under
//! the API's own field names, and deserializes **through the validating constructors** — an
//! invalid value cannot be deserialized, and the error names the API field and its limit
//! (`invalid `dcvv`: must be exactly 3 ASCII digits`). Works without `std` or `alloc`.
//!
//! Serializing a secret field (one-time token, DCVV, card number) writes its value: that is
//! what forwarding a token reply needs. Do it only towards where the secret must go.
//!
//! ```
//! # #[cfg(feature = "serde")] {
//! use konaplate_core::prelude::*;
//! use konaplate_core::{api::*, field::*};
//! let req: ChargeResultRequest = serde_json::from_str(r#"{"sequenceId":"MNR000000001CR"}"#).unwrap();
//! assert_eq!(req.sequence_id.as_str(), "MNR000000001CR");
//! let err = serde_json::from_str::<ChargeResultRequest>(r#"{"sequenceId":"no spaces"}"#).unwrap_err();
//! assert!(err.to_string().starts_with("invalid `sequenceId`: must be 1 to 30 characters"));
//! assert_eq!(serde_json::to_string(&req).unwrap(), r#"{"sequenceId":"MNR000000001CR"}"#);
//! # }
//! ```

use core::fmt;
use core::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeMap, SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

use crate::code::{RawCode, ResultCode};
use crate::field::{
    AccessKey, AspId, CardExpiry, CardNo, ChargeAmount, ChargeResult, CorrelationId, CryptoKeyId,
    DateTime14, Dcvv, FieldError, MerchantId, NrNumber, OneTimeToken, Par, Percent1,
    RefundNrNumber, SequenceId, TimeZone, TokenType, UserId, Won,
};
use crate::message::{Description, Reply};

/// A value deserialized under a known JSON key, so its errors name that key.
#[doc(hidden)]
pub trait KeyedField: Sized {
    /// Deserializes the value of `key`.
    fn de_keyed<'de, D: Deserializer<'de>>(d: D, key: &'static str) -> Result<Self, D::Error>;
}

fn field_err<E: de::Error>(e: FieldError) -> E {
    E::custom(e)
}

/// Accepts a string and hands it to a validating constructor.
struct StrVisitor<T> {
    key: &'static str,
    limit: &'static str,
    ctor: fn(&str) -> Result<T, FieldError>,
}

impl<T> Visitor<'_> for StrVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.key, self.limit)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.ctor)(v).map_err(|e| field_err(e.for_field(self.key)))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<T, E> {
        let s = core::str::from_utf8(v)
            .map_err(|_| field_err(FieldError::new(self.key, self.limit)))?;
        self.visit_str(s)
    }
}

/// Accepts an unsigned number and hands it to a validating constructor.
struct U64Visitor<T> {
    key: &'static str,
    limit: &'static str,
    ctor: fn(u64) -> Result<T, FieldError>,
}

impl<T> Visitor<'_> for U64Visitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.key, self.limit)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        (self.ctor)(v).map_err(|e| field_err(e.for_field(self.key)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        let v = u64::try_from(v).map_err(|_| field_err(FieldError::new(self.key, self.limit)))?;
        self.visit_u64(v)
    }
}

macro_rules! str_fields {
    ($($t:ty => $access:ident),* $(,)?) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.$access())
            }
        }
        impl KeyedField for $t {
            fn de_keyed<'de, D: Deserializer<'de>>(d: D, key: &'static str) -> Result<Self, D::Error> {
                d.deserialize_str(StrVisitor { key, limit: <$t>::LIMIT, ctor: <$t>::new })
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <$t as KeyedField>::de_keyed(d, <$t>::API_NAME)
            }
        }
    )*};
}

str_fields!(
    SequenceId => as_str, NrNumber => as_str, RefundNrNumber => as_str, Par => as_str,
    CardExpiry => as_str, MerchantId => as_str, DateTime14 => as_str, AspId => as_str,
    AccessKey => expose, CryptoKeyId => as_str, CorrelationId => as_str, TimeZone => as_str,
    TokenType => as_str, ChargeResult => as_str,
    OneTimeToken => expose, Dcvv => expose, CardNo => expose,
);

macro_rules! number_fields {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_u64(self.get())
            }
        }
        impl KeyedField for $t {
            fn de_keyed<'de, D: Deserializer<'de>>(d: D, key: &'static str) -> Result<Self, D::Error> {
                d.deserialize_u64(U64Visitor { key, limit: <$t>::LIMIT, ctor: <$t>::new })
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <$t as KeyedField>::de_keyed(d, <$t>::API_NAME)
            }
        }
    )*};
}

number_fields!(UserId, ChargeAmount, Won);

impl Serialize for Percent1 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.tenths();
        if t.is_multiple_of(10) {
            s.serialize_u64(u64::from(t / 10))
        } else {
            s.serialize_f64(f64::from(t) / 10.0)
        }
    }
}

struct PercentVisitor(&'static str);

impl Visitor<'_> for PercentVisitor {
    type Value = Percent1;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.0, Percent1::LIMIT)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Percent1, E> {
        let err = || field_err(FieldError::new(self.0, Percent1::LIMIT));
        let tenths = v
            .checked_mul(10)
            .and_then(|t| u16::try_from(t).ok())
            .ok_or_else(err)?;
        Percent1::from_tenths(tenths, self.0).map_err(field_err)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Percent1, E> {
        let v =
            u64::try_from(v).map_err(|_| field_err(FieldError::new(self.0, Percent1::LIMIT)))?;
        self.visit_u64(v)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Percent1, E> {
        let err = || field_err(FieldError::new(self.0, Percent1::LIMIT));
        let scaled = v * 10.0;
        if !(0.0..=f64::from(Percent1::MAX_TENTHS) + 0.5).contains(&scaled) {
            return Err(err());
        }
        let tenths = (scaled + 0.5) as u16;
        let off = f64::from(tenths) - scaled;
        if !(-1e-6..=1e-6).contains(&off) {
            // more than one decimal
            return Err(err());
        }
        Percent1::from_tenths(tenths, self.0).map_err(field_err)
    }
}

impl KeyedField for Percent1 {
    fn de_keyed<'de, D: Deserializer<'de>>(d: D, key: &'static str) -> Result<Self, D::Error> {
        d.deserialize_any(PercentVisitor(key))
    }
}

impl<'de> Deserialize<'de> for Percent1 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Self::de_keyed(d, "percent")
    }
}

macro_rules! plain_fields {
    ($($t:ty),*) => {$(
        impl KeyedField for $t {
            fn de_keyed<'de, D: Deserializer<'de>>(d: D, _key: &'static str) -> Result<Self, D::Error> {
                <$t>::deserialize(d)
            }
        }
    )*};
}

plain_fields!(bool, u64);

impl<T: de::DeserializeOwned, const N: usize> KeyedField for heapless::Vec<T, N> {
    fn de_keyed<'de, D: Deserializer<'de>>(d: D, _key: &'static str) -> Result<Self, D::Error> {
        <heapless::Vec<T, N>>::deserialize(d)
    }
}

impl Serialize for RawCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
impl<'de> Deserialize<'de> for RawCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor {
            key: RawCode::API_NAME,
            limit: RawCode::LIMIT,
            ctor: RawCode::new,
        })
    }
}

impl Serialize for Description {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
impl<'de> Deserialize<'de> for Description {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(StrVisitor {
            key: Description::API_NAME,
            limit: Description::LIMIT,
            ctor: Description::new,
        })
    }
}

/// A JSON object key, copied without allocation. Keys longer than any API field name are
/// kept as "unknown" (their value is skipped).
#[doc(hidden)]
pub struct Key(heapless::String<32>, bool); // API keys are at most 22 bytes

impl Key {
    /// The key, when it fit.
    pub fn as_str(&self) -> Option<&str> {
        (!self.1).then(|| self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                let mut s = heapless::String::new();
                let overflow = s.push_str(v).is_err();
                Ok(Key(s, overflow))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Key, E> {
                match core::str::from_utf8(v) {
                    Ok(s) => self.visit_str(s),
                    Err(_) => Ok(Key(heapless::String::new(), true)),
                }
            }
        }
        d.deserialize_identifier(V)
    }
}

/// Deserializes the value of `key` as `Option<T>` (`null` = absent), naming `key` in errors.
#[doc(hidden)]
pub struct Keyed<T>(pub &'static str, pub PhantomData<T>);

impl<'de, T: KeyedField> DeserializeSeed<'de> for Keyed<T> {
    type Value = Option<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        struct V<T>(&'static str, PhantomData<T>);
        impl<'de, T: KeyedField> Visitor<'de> for V<T> {
            type Value = Option<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "the value of `{}`", self.0)
            }
            fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
                Ok(None)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
                Ok(None)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
                T::de_keyed(d, self.0).map(Some)
            }
        }
        d.deserialize_option(V(self.0, PhantomData))
    }
}

/// What the `message!` macro generates for serde: field-by-field (de)serialization, so a
/// reply can put its message's fields beside `response` in one object.
#[doc(hidden)]
pub trait SerdeMessage: Sized {
    /// Fields seen so far.
    type Seen: Default;
    /// Number of fields serialization writes.
    fn field_count(&self) -> usize;
    /// Writes the fields into a map.
    fn serialize_fields<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error>;
    /// Writes the fields into a struct.
    fn serialize_struct_fields<M: SerializeStruct>(&self, st: &mut M) -> Result<(), M::Error>;
    /// Reads the value of `key` when it is one of the fields (`Ok(true)`).
    fn de_field<'de, A: MapAccess<'de>>(
        seen: &mut Self::Seen,
        key: &str,
        map: &mut A,
    ) -> Result<bool, A::Error>;
    /// Checks that every required field was present.
    fn de_finish<E: de::Error>(seen: Self::Seen) -> Result<Self, E>;
}

/// Deserializes a message (unknown keys skipped, `null` = absent, duplicates refused).
#[doc(hidden)]
pub fn de_message<'de, M: SerdeMessage, D: Deserializer<'de>>(
    d: D,
    name: &'static str,
) -> Result<M, D::Error> {
    struct V<M>(&'static str, PhantomData<M>);
    impl<'de, M: SerdeMessage> Visitor<'de> for V<M> {
        type Value = M;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a {} object", self.0)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<M, A::Error> {
            let mut seen = M::Seen::default();
            while let Some(k) = map.next_key::<Key>()? {
                let known = match k.as_str() {
                    Some(k) => M::de_field(&mut seen, k, &mut map)?,
                    None => false,
                };
                if !known {
                    map.next_value::<IgnoredAny>()?;
                }
            }
            M::de_finish(seen)
        }
    }
    d.deserialize_map(V(name, PhantomData))
}

/// The `response` envelope.
struct Envelope<'a>(&'a str, &'a str);

impl Serialize for Envelope<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("response", 2)?;
        st.serialize_field("code", self.0)?;
        st.serialize_field("description", self.1)?;
        st.end()
    }
}

/// A reply serializes as the platform sent it: `{"response":{"code","description"}, ...}`.
impl<R: SerdeMessage, C: ResultCode> Serialize for Reply<R, C> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let n = 1 + self.body.as_ref().map_or(0, R::field_count);
        let mut map = s.serialize_map(Some(n))?;
        map.serialize_entry(
            "response",
            &Envelope(self.code.as_str(), self.description.as_str()),
        )?;
        if let Some(b) = &self.body {
            b.serialize_fields(&mut map)?;
        }
        map.end()
    }
}

#[derive(Default)]
struct EnvelopeDe {
    code: Option<RawCode>,
    description: Option<Description>,
}

impl<'de> Deserialize<'de> for EnvelopeDe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EnvelopeDe;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`response`: an object with code and description")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EnvelopeDe, A::Error> {
                let mut e = EnvelopeDe::default();
                while let Some(k) = map.next_key::<Key>()? {
                    match k.as_str() {
                        Some("code") if e.code.is_none() => e.code = Some(map.next_value()?),
                        Some("code") => return Err(de::Error::duplicate_field("code")),
                        Some("description") if e.description.is_none() => {
                            e.description = Some(map.next_value()?)
                        }
                        Some("description") => {
                            return Err(de::Error::duplicate_field("description"));
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(e)
            }
        }
        d.deserialize_map(V)
    }
}

/// A reply deserializes like the decoder reads it: the envelope's code and description, and
/// the endpoint's fields (required ones checked) when the code is `000_000`.
impl<'de, R: SerdeMessage, C: ResultCode> Deserialize<'de> for Reply<R, C> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<R, C>(PhantomData<(R, C)>);
        impl<'de, R: SerdeMessage, C: ResultCode> Visitor<'de> for V<R, C> {
            type Value = Reply<R, C>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a reply object with `response`")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Reply<R, C>, A::Error> {
                let mut env: Option<EnvelopeDe> = None;
                let mut seen = R::Seen::default();
                while let Some(k) = map.next_key::<Key>()? {
                    let known = match k.as_str() {
                        Some("response") if env.is_some() => {
                            return Err(de::Error::duplicate_field("response"));
                        }
                        Some("response") => {
                            env = Some(map.next_value()?);
                            true
                        }
                        Some(k) => R::de_field(&mut seen, k, &mut map)?,
                        None => false,
                    };
                    if !known {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                let env = env.ok_or_else(|| de::Error::missing_field("response"))?;
                let code = env
                    .code
                    .ok_or_else(|| de::Error::missing_field("response.code"))?;
                let description = env
                    .description
                    .ok_or_else(|| de::Error::missing_field("response.description"))?;
                let body = if code.is_success() {
                    Some(R::de_finish(seen)?)
                } else {
                    None
                };
                Ok(Reply {
                    code: C::from_raw(code),
                    description,
                    body,
                })
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}
