//! Messages without `core::fmt`: every error of the core says what went wrong through
//! [`Describe`], into any [`Sink`]. Its `Display` is that same description written to a
//! formatter, so there is one text for every error; a caller that must not link `core::fmt`
//! (the C library, built for a microcontroller's flash) writes it into a buffer of its own.

use core::fmt;

use super::ascii::{ascii_str, fmt_u64};

/// Where a description is written.
pub trait Sink {
    /// Appends text.
    fn put(&mut self, s: &str);
    /// Appends a number in decimal.
    fn put_u64(&mut self, n: u64) {
        let mut tmp = [0u8; 20];
        self.put(ascii_str(fmt_u64(n, &mut tmp)));
    }
}

/// A value that says what it is in plain words (an error: what was wrong and where).
pub trait Describe {
    /// Writes the description into `out`.
    fn describe(&self, out: &mut dyn Sink);
}

/// A formatter as a [`Sink`], keeping the first error.
struct Formatter<'a, 'b>(&'a mut fmt::Formatter<'b>, fmt::Result);

impl Sink for Formatter<'_, '_> {
    fn put(&mut self, s: &str) {
        if self.1.is_ok() {
            self.1 = self.0.write_str(s);
        }
    }
}

/// `Display` through [`Describe`].
pub(crate) fn display(d: &dyn Describe, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let mut sink = Formatter(f, Ok(()));
    d.describe(&mut sink);
    sink.1
}

/// Implements `Display` for types that implement [`Describe`].
macro_rules! display_by_describe {
    ($($t:ty),* $(,)?) => {$(
        impl core::fmt::Display for $t {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                $crate::base::describe::display(self, f)
            }
        }
    )*};
}
pub(crate) use display_by_describe;
