//! Calendar times: the 14-digit `yyyyMMddHHmmss` and a millisecond instant.

use core::fmt;

use super::{Charset, FieldError, check, to_array};
use crate::base::ascii::ascii_str;

fixed_field!(
    /// A 14-digit calendar time `yyyyMMddHHmmss` (`registeredDate`).
    DateTime14, "registeredDate", 14, Charset::Digits,
    "14 digits yyyyMMddHHmmss forming a real date and time", check = Self::extra_check
);
impl DateTime14 {
    fn extra_check(s: &[u8]) -> Result<(), FieldError> {
        // runs after the charset check: all 14 bytes are digits, so no digit is checked again
        let d = |i: usize| s.get(i).map_or(0, |b| b.wrapping_sub(b'0'));
        let two = |i: usize| d(i) * 10 + d(i + 1);
        let year = u16::from(two(0)) * 100 + u16::from(two(2));
        Timestamp::new(year, two(4), two(6), two(8), two(10), two(12), 0)
            .map(|_| ())
            .map_err(|_| FieldError::new(Self::API_NAME, Self::LIMIT))
    }
}

/// A wall-clock instant with millisecond precision, in the zone named by the request's
/// [`TimeZone`](super::TimeZone). The core has no clock: callers pass the time in.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Timestamp {
    year: u16,
    month: u8,
    day: u8,
    hour: u8,
    minute: u8,
    second: u8,
    millis: u16,
}

impl Timestamp {
    /// The limit reported for a rejected time.
    pub const LIMIT: &'static str =
        "a calendar time in years 2000..=9999 (month 1-12, valid day, 00:00:00.000-23:59:59.999)";

    /// Validates a calendar time (proleptic Gregorian, years 2000..=9999, no leap seconds).
    pub const fn new(
        year: u16,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
        millis: u16,
    ) -> Result<Self, FieldError> {
        let err = FieldError::new("X-KM-Tran-Time", Self::LIMIT);
        if year < 2000 || year > 9999 || month == 0 || month > 12 {
            return Err(err);
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(err);
        }
        if hour > 23 || minute > 59 || second > 59 || millis > 999 {
            return Err(err);
        }
        Ok(Self {
            year,
            month,
            day,
            hour,
            minute,
            second,
            millis,
        })
    }

    /// The instant `unix_millis` milliseconds after 1970-01-01T00:00:00 shifted by
    /// `offset_minutes` (e.g. +540 for KST). Errors outside years 2000..=9999.
    pub fn from_unix_millis(unix_millis: u64, offset_minutes: i32) -> Result<Self, FieldError> {
        let err = FieldError::new("X-KM-Tran-Time", Self::LIMIT);
        let shifted = i128::from(unix_millis) + i128::from(offset_minutes) * 60_000;
        if shifted < 0 {
            return Err(err);
        }
        let millis = (shifted % 1000) as u16;
        let secs = shifted / 1000;
        let days = secs / 86_400;
        let sod = secs % 86_400;
        let (y, m, d) = civil_from_days(i64::try_from(days).map_err(|_| err)?);
        let year = u16::try_from(y).map_err(|_| err)?;
        Self::new(
            year,
            m,
            d,
            (sod / 3600) as u8,
            (sod % 3600 / 60) as u8,
            (sod % 60) as u8,
            millis,
        )
    }

    /// Milliseconds since 1970-01-01T00:00:00 of this wall-clock time (zone ignored).
    pub fn unix_millis(&self) -> u64 {
        let days = days_from_civil(i64::from(self.year), self.month, self.day);
        let secs = days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        u64::try_from(secs).unwrap_or(0) * 1000 + u64::from(self.millis)
    }

    /// Year (2000..=9999).
    pub const fn year(&self) -> u16 {
        self.year
    }
    /// Month (1..=12).
    pub const fn month(&self) -> u8 {
        self.month
    }
    /// Day of month.
    pub const fn day(&self) -> u8 {
        self.day
    }
    /// Hour (0..=23).
    pub const fn hour(&self) -> u8 {
        self.hour
    }
    /// Minute (0..=59).
    pub const fn minute(&self) -> u8 {
        self.minute
    }
    /// Second (0..=59).
    pub const fn second(&self) -> u8 {
        self.second
    }
    /// Millisecond (0..=999).
    pub const fn millis(&self) -> u16 {
        self.millis
    }

    /// Writes `yyyyMMddHHmmssSSS` (17 digits, the Tran-Token time part).
    pub fn write_17(&self, out: &mut [u8; 17]) {
        // eight two-digit groups (yy yy MM dd HH mm ss SS) and the last millisecond digit
        let groups = [
            (self.year / 100) as u8,
            (self.year % 100) as u8,
            self.month,
            self.day,
            self.hour,
            self.minute,
            self.second,
            (self.millis / 10) as u8,
        ];
        for (pair, g) in out.chunks_exact_mut(2).zip(groups) {
            if let [a, b] = pair {
                *a = b'0' + g / 10;
                *b = b'0' + g % 10;
            }
        }
        if let Some(last) = out.get_mut(16) {
            *last = b'0' + (self.millis % 10) as u8;
        }
    }
}

const fn is_leap(y: u16) -> bool {
    (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400)
}

const fn days_in_month(y: u16, m: u8) -> u8 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 => {
            if is_leap(y) {
                29
            } else {
                28
            }
        }
        _ => 0,
    }
}

/// Howard Hinnant's `civil_from_days`.
fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Howard Hinnant's `days_from_civil`.
fn days_from_civil(y: i64, m: u8, d: u8) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}
