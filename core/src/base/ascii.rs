//! ASCII helpers shared by every layer: decimal and hexadecimal digits, without division
//! routines or UTF-8 re-validation.

/// ASCII bytes known valid by construction as `&str` (never fails; empty on impossible input).
#[inline]
pub fn ascii_str(b: &[u8]) -> &str {
    core::str::from_utf8(b).unwrap_or("")
}

/// Where `raw` is in `values`: one copy for every table of wire values (result codes, enums)
/// on a microcontroller, built for size; on a host folded into each constant table.
#[cfg_attr(konaplate_compact, inline(never))]
#[cfg_attr(not(konaplate_compact), inline)]
pub fn position(raw: &[u8], values: &[&str]) -> Option<usize> {
    values.iter().position(|v| eq_bytes(v.as_bytes(), raw))
}

/// `a == b`, compared a word at a time in line: the JSON keys we match are short, and a call
/// to `memcmp` costs more than the comparison. (On a microcontroller, built for size, it is
/// the call.)
#[cfg_attr(not(konaplate_compact), inline(always))]
#[cfg_attr(konaplate_compact, inline)]
pub fn eq_bytes(a: &[u8], b: &[u8]) -> bool {
    if cfg!(konaplate_compact) {
        return a == b;
    }
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n >= 8 {
        let mut i = 0;
        while i + 8 < n {
            if word(a, i) != word(b, i) {
                return false;
            }
            i += 8;
        }
        // the last word, overlapping the one before when `n` is not a multiple of 8
        word(a, n - 8) == word(b, n - 8)
    } else if n >= 4 {
        half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4)
    } else {
        a.iter().zip(b).all(|(x, y)| x == y)
    }
}

#[inline(always)]
fn word(s: &[u8], at: usize) -> u64 {
    s.get(at..at + 8)
        .and_then(|w| <[u8; 8]>::try_from(w).ok())
        .map_or(0, u64::from_ne_bytes)
}

#[inline(always)]
fn half(s: &[u8], at: usize) -> u32 {
    s.get(at..at + 4)
        .and_then(|w| <[u8; 4]>::try_from(w).ok())
        .map_or(0, u32::from_ne_bytes)
}

/// Parses 1..=20 ASCII digits into a `u64` (checked; no sign, no leading `+`).
pub fn parse_u64_digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(v)
}

/// The lower-case hex digit of the low 4 bits of `n`.
#[inline]
pub const fn hex_lower(n: u8) -> u8 {
    match n & 0xF {
        d @ 0..=9 => b'0' + d,
        d => b'a' + d - 10,
    }
}

/// Two ASCII digits at `at` as a number.
#[inline]
pub fn two_digits(s: &[u8], at: usize) -> Option<u8> {
    let a = *s.get(at)?;
    let b = *s.get(at + 1)?;
    if a.is_ascii_digit() && b.is_ascii_digit() {
        Some((a - b'0') * 10 + (b - b'0'))
    } else {
        None
    }
}

/// `(v / 10, v % 10)` by multiplying with the reciprocal: no 64-bit division, which on 32-bit
/// microcontrollers is a sizeable library routine.
#[inline]
pub fn div10(v: u64) -> (u64, u8) {
    let q = ((u128::from(v) * 0xCCCC_CCCC_CCCC_CCCD) >> 67) as u64;
    (q, (v - q * 10) as u8)
}

/// Formats `v` in decimal into `tmp`, returning the used suffix.
#[inline]
pub fn fmt_u64(mut v: u64, tmp: &mut [u8; 20]) -> &[u8] {
    let mut i = tmp.len();
    loop {
        i -= 1;
        let (q, r) = div10(v);
        if let Some(slot) = tmp.get_mut(i) {
            *slot = b'0' + r;
        }
        v = q;
        if v == 0 || i == 0 {
            break;
        }
    }
    tmp.get(i..).unwrap_or(&[])
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #[test]
        fn eq_bytes_is_slice_equality(a in proptest::collection::vec(0u8..4, 0..40), b in proptest::collection::vec(0u8..4, 0..40)) {
            proptest::prop_assert_eq!(eq_bytes(&a, &b), a == b);
            proptest::prop_assert!(eq_bytes(&a, &a.clone()));
        }
    }

    /// The reciprocal division used instead of a 64-bit division on microcontrollers, at its
    /// edges and against the native division on a sweep of values.
    #[test]
    fn div10_matches_native_division() {
        let edges = [
            0u64,
            9,
            10,
            11,
            99,
            100,
            u64::MAX,
            u64::MAX - 1,
            9_999_999_999_999_999_999,
            10_000_000_000_000_000_000,
        ];
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let sweep = (0..100_000).map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        });
        for v in edges.into_iter().chain(sweep) {
            assert_eq!(div10(v), (v / 10, (v % 10) as u8), "{v}");
        }
    }

    #[test]
    fn decimal_and_hex_digits() {
        let mut tmp = [0u8; 20];
        assert_eq!(fmt_u64(0, &mut tmp), b"0");
        assert_eq!(fmt_u64(u64::MAX, &mut tmp), b"18446744073709551615");
        assert_eq!(parse_u64_digits(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64_digits(b"18446744073709551616"), None);
        assert_eq!(parse_u64_digits(b""), None);
        assert_eq!(parse_u64_digits(b"+1"), None);
        assert_eq!(hex_lower(0xab), b'b');
        assert_eq!(two_digits(b"2611", 2), Some(11));
        assert_eq!(two_digits(b"26x1", 2), None);
    }
}
