//! The four shapes of a validated field: fixed-length, variable-length, secret, number.

macro_rules! common_str_impls {
    ($name:ident) => {
        impl TryFrom<&str> for $name {
            type Error = FieldError;
            fn try_from(s: &str) -> Result<Self, FieldError> {
                Self::new(s)
            }
        }
        impl core::str::FromStr for $name {
            type Err = FieldError;
            fn from_str(s: &str) -> Result<Self, FieldError> {
                Self::new(s)
            }
        }
    };
}

/// The constructors from bytes of a fixed-length field (public or secret): the full check, and
/// the one for bytes a scan has already found all in the field's charset.
macro_rules! fixed_ctors {
    ($api:literal, $len:literal, $cs:expr, $limit:literal $(, check = $chk:path)?) => {
        /// Validates raw bytes against [`Self::LIMIT`].
        pub fn from_bytes(s: &[u8]) -> Result<Self, FieldError> {
            check(s, $len, $len, $cs, $api, $limit)?;
            Self::from_charset_checked(s)
        }
        /// The characters this field admits.
        #[allow(dead_code)]
        pub(crate) const CHARSET: Charset = $cs;
        /// [`Self::from_bytes`] for bytes a scan has already found all in [`Self::CHARSET`]:
        /// every other rule is checked.
        #[allow(dead_code)]
        #[inline]
        pub(crate) fn from_charset_checked(s: &[u8]) -> Result<Self, FieldError> {
            $( $chk(s)?; )?
            to_array(s).map(Self).ok_or(FieldError::new($api, $limit))
        }
    };
}

/// A public (non-secret) fixed-length ASCII field.
macro_rules! fixed_field {
    ($(#[$m:meta])* $name:ident, $api:literal, $len:literal, $cs:expr, $limit:literal $(, check = $chk:path)?) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; $len]);

        impl $name {
            /// The API (JSON or header) name of this field.
            pub const API_NAME: &'static str = $api;
            /// The documented limit this type enforces.
            pub const LIMIT: &'static str = $limit;
            /// Length in bytes (always exactly this).
            pub const LEN: usize = $len;

            /// Validates `s` against [`Self::LIMIT`].
            pub fn new(s: &str) -> Result<Self, FieldError> {
                Self::from_bytes(s.as_bytes())
            }
            fixed_ctors!($api, $len, $cs, $limit $(, check = $chk)?);
            /// The value.
            pub fn as_str(&self) -> &str {
                ascii_str(&self.0)
            }
            /// The value's bytes (ASCII; no validation on access).
            #[inline]
            pub fn as_bytes(&self) -> &[u8] {
                &self.0
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.as_str())
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        #[cfg(feature = "defmt")]
        impl defmt::Format for $name {
            fn format(&self, f: defmt::Formatter<'_>) {
                defmt::write!(f, "{}", self.as_str())
            }
        }
        common_str_impls!($name);
    };
}

/// A secret fixed-length ASCII field: redacted in Debug/defmt, no Display, zeroized on drop.
macro_rules! secret_field {
    ($(#[$m:meta])* $name:ident, $api:literal, $len:literal, $cs:expr, $limit:literal) => {
        $(#[$m])*
        ///
        /// Secret: `Debug` and `defmt` print `<redacted>`, there is no `Display`, and the
        /// bytes are zeroized when the value is dropped. Use [`Self::expose`] deliberately.
        #[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
        pub struct $name([u8; $len]);

        impl $name {
            /// The API (JSON) name of this field.
            pub const API_NAME: &'static str = $api;
            /// The documented limit this type enforces.
            pub const LIMIT: &'static str = $limit;
            /// Length in bytes (always exactly this).
            pub const LEN: usize = $len;

            /// Validates `s` against [`Self::LIMIT`].
            pub fn new(s: &str) -> Result<Self, FieldError> {
                Self::from_bytes(s.as_bytes())
            }
            fixed_ctors!($api, $len, $cs, $limit);
            /// The secret value. Every use is a place where the secret leaves this type.
            pub fn expose(&self) -> &str {
                ascii_str(&self.0)
            }
            /// The secret value's bytes (ASCII digits).
            #[inline]
            pub fn expose_bytes(&self) -> &[u8] {
                &self.0
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
        #[cfg(feature = "defmt")]
        impl defmt::Format for $name {
            fn format(&self, f: defmt::Formatter<'_>) {
                defmt::write!(f, "{}(<redacted>)", stringify!($name))
            }
        }
        common_str_impls!($name);
    };
}

/// A public variable-length ASCII field of `min..=max` bytes.
macro_rules! var_field {
    ($(#[$m:meta])* $name:ident, $api:literal, $min:literal, $max:literal, $cs:expr, $limit:literal) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name(AsciiBuf<$max>);

        impl $name {
            /// The API (JSON) name of this field.
            pub const API_NAME: &'static str = $api;
            /// The documented limit this type enforces.
            pub const LIMIT: &'static str = $limit;
            /// Longest admitted value in bytes.
            pub const MAX_LEN: usize = $max;

            /// Validates `s` against [`Self::LIMIT`].
            pub fn new(s: &str) -> Result<Self, FieldError> {
                Self::from_bytes(s.as_bytes())
            }
            /// Validates raw bytes against [`Self::LIMIT`].
            pub fn from_bytes(s: &[u8]) -> Result<Self, FieldError> {
                check(s, $min, $max, $cs, $api, $limit)?;
                AsciiBuf::from_checked(s).map(Self).ok_or(FieldError::new($api, $limit))
            }
            /// The characters this field admits.
            #[allow(dead_code)]
            pub(crate) const CHARSET: Charset = $cs;
            /// [`Self::from_bytes`] for bytes a scan has already found all in [`Self::CHARSET`]:
            /// the length is checked.
            #[allow(dead_code)]
            #[inline]
            pub(crate) fn from_charset_checked(s: &[u8]) -> Result<Self, FieldError> {
                if s.len() < $min {
                    return Err(FieldError::new($api, $limit));
                }
                AsciiBuf::from_checked(s).map(Self).ok_or(FieldError::new($api, $limit))
            }
            /// The value.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
            /// The value's bytes (ASCII; no validation on access).
            #[inline]
            pub fn as_bytes(&self) -> &[u8] {
                self.0.as_bytes()
            }
        }
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.as_str())
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        #[cfg(feature = "defmt")]
        impl defmt::Format for $name {
            fn format(&self, f: defmt::Formatter<'_>) {
                defmt::write!(f, "{}", self.as_str())
            }
        }
        common_str_impls!($name);
    };
}

/// A bounded unsigned number field.
macro_rules! number_field {
    ($(#[$m:meta])* $name:ident, $api:literal, $min:expr, $max:expr, $limit:literal) => {
        number_field!($(#[$m])* $name: u64, $api, $min, $max, $limit);
    };
    // held in `$repr` (a `u32` when the maximum fits: half the size, and no 64-bit moves or
    // arithmetic on a 32-bit core); the API is `u64` either way
    ($(#[$m:meta])* $name:ident: $repr:ty, $api:literal, $min:expr, $max:expr, $limit:literal) => {
        $(#[$m])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        #[cfg_attr(feature = "defmt", derive(defmt::Format))]
        pub struct $name($repr);

        const _: () = assert!($max <= <$repr>::MAX as u64);

        impl $name {
            /// The API (JSON) name of this field.
            pub const API_NAME: &'static str = $api;
            /// The documented limit this type enforces.
            pub const LIMIT: &'static str = $limit;
            /// Smallest admitted value.
            pub const MIN: u64 = $min;
            /// Largest admitted value.
            pub const MAX: u64 = $max;

            /// Validates `v` against [`Self::LIMIT`].
            pub const fn new(v: u64) -> Result<Self, FieldError> {
                if v < Self::MIN || v > Self::MAX {
                    Err(FieldError::new($api, $limit))
                } else {
                    // in range of `$repr` (asserted above)
                    Ok(Self(v as $repr))
                }
            }
            /// The value.
            pub const fn get(self) -> u64 {
                self.0 as u64
            }
            /// Parses decimal digits (as typed on a command line) and validates.
            pub fn parse(s: &str) -> Result<Self, FieldError> {
                parse_u64_digits(s.as_bytes())
                    .ok_or(FieldError::new($api, $limit))
                    .and_then(Self::new)
            }
        }
        impl TryFrom<u64> for $name {
            type Error = FieldError;
            fn try_from(v: u64) -> Result<Self, FieldError> {
                Self::new(v)
            }
        }
        impl core::str::FromStr for $name {
            type Err = FieldError;
            fn from_str(s: &str) -> Result<Self, FieldError> {
                Self::parse(s)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
        impl From<$name> for u64 {
            fn from(v: $name) -> u64 {
                v.get()
            }
        }
    };
}
