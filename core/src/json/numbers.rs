//! Numbers: integers read straight into their width, decimals read exactly as scaled
//! integers (never through a float).

/// A number token as it appears in the text (syntax already valid).
#[derive(Clone, Copy, Debug)]
pub struct JNum<'a> {
    pub(super) raw: &'a [u8],
    /// The value when the token is an unsigned integer that fits a `u64`.
    pub(super) int: Option<u64>,
    /// A non-negative number without exponent of at most 19 digits: all its digits as one
    /// integer, and how many of them follow the point (`12.5` = `(125, 1)`).
    pub(super) dec: Option<(u64, u8)>,
}

impl<'a> JNum<'a> {
    /// The raw token (ASCII).
    pub fn raw(&self) -> &'a str {
        core::str::from_utf8(self.raw).unwrap_or("")
    }

    /// The value as a `u64` when the token is an unsigned integer (no sign, fraction or
    /// exponent) that fits. `-0` is not one (serde_json reads it as the float -0.0).
    #[inline]
    pub fn as_u64(&self) -> Option<u64> {
        self.int
    }

    /// The exact value scaled by 10^`scale` when it is a non-negative number with at most
    /// `scale` significant decimals (exponents allowed), e.g. `12.5` with scale 1 = 125.
    pub fn as_scaled(&self, scale: u32) -> Option<u64> {
        // the common case, read while scanning: no more decimals than the scale (on a host;
        // a microcontroller, built for size, takes the general way below, which agrees)
        if !cfg!(konaplate_compact)
            && let Some((mant, frac)) = self.dec
            && u32::from(frac) <= scale
        {
            let mut v = mant;
            for _ in u32::from(frac)..scale {
                v = v.checked_mul(10)?;
            }
            return Some(v);
        }
        let (neg, b) = match self.raw.strip_prefix(b"-") {
            Some(r) => (true, r),
            None => (false, self.raw),
        };
        // significant digits only: zeros are deferred into the exponent until a nonzero digit
        // follows, so a nonzero mantissa never ends in 0
        let mut mant: u64 = 0;
        let mut zeros: i32 = 0;
        let mut frac: i32 = 0;
        let mut seen_dot = false;
        let mut exp: i32 = 0;
        let mut it = b.iter();
        while let Some(&c) = it.next() {
            match c {
                b'0'..=b'9' => {
                    if c == b'0' {
                        zeros += 1;
                    } else {
                        for _ in 0..zeros {
                            mant = mant.checked_mul(10)?;
                        }
                        zeros = 0;
                        mant = mant.checked_mul(10)?.checked_add(u64::from(c - b'0'))?;
                    }
                    frac += i32::from(seen_dot);
                }
                b'.' => seen_dot = true,
                b'e' | b'E' => {
                    let mut sign = 1;
                    for &d in it.by_ref() {
                        match d {
                            b'-' => sign = -1,
                            b'+' => {}
                            // clamp absurd exponents: they can only overflow or underflow
                            _ => exp = (exp * 10 + i32::from(d - b'0')).min(100_000),
                        }
                    }
                    exp *= sign;
                }
                _ => return None,
            }
        }
        if mant == 0 {
            return Some(0);
        }
        // value * 10^scale = mant * 10^shift, exact only for shift >= 0 (see above)
        let shift = exp + zeros - frac + i32::try_from(scale).ok()?;
        if neg || !(0..=20).contains(&shift) {
            return None;
        }
        let mut v = mant;
        for _ in 0..shift {
            v = v.checked_mul(10)?;
        }
        Some(v)
    }
}
