//! The images' memory routines: byte loops, the size-first choice newlib-nano makes for C
//! firmware (the C image links those).
//!
//! `compiler-builtins` defines `memcpy`, `memset`, `memcmp` and the ARM EABI variants
//! (`__aeabi_memcpy4`, `__aeabi_memclr8`, ...) weakly, word-at-a-time and unrolled for speed:
//! about 1.8 KB of a till's flash. The strong definitions here take their place at link time,
//! about 150 bytes in all. The buffers a till copies are at most a few KiB, once per call, so
//! the cost in time is a few microseconds per exchange. They are written in assembly because
//! a Rust byte loop may be recognised as a `memcpy` idiom and compiled into a call to itself.
//! Each routine sits in its own section, so the linker keeps only those the image calls.

core::arch::global_asm!(
    ".syntax unified",
    ".thumb",
    // memcpy(dst r0, src r1, n r2) -> dst; the __aeabi_memcpy* variants return nothing and
    // may assume alignment, which a byte loop does not need
    ".section .text.konaplate_memcpy,\"ax\",%progbits",
    ".global memcpy",
    ".global __aeabi_memcpy",
    ".global __aeabi_memcpy4",
    ".global __aeabi_memcpy8",
    ".type memcpy,%function",
    ".type __aeabi_memcpy,%function",
    ".type __aeabi_memcpy4,%function",
    ".type __aeabi_memcpy8,%function",
    ".thumb_func",
    "memcpy:",
    ".thumb_func",
    "__aeabi_memcpy:",
    ".thumb_func",
    "__aeabi_memcpy4:",
    ".thumb_func",
    "__aeabi_memcpy8:",
    "    mov r12, r0",
    "1:  subs r2, r2, #1",
    "    bcc 2f",
    "    ldrb r3, [r1], #1",
    "    strb r3, [r12], #1",
    "    b 1b",
    "2:  bx lr",
    // memmove(dst r0, src r1, n r2) -> dst: forward when dst <= src, else from the end
    ".section .text.konaplate_memmove,\"ax\",%progbits",
    ".global memmove",
    ".global __aeabi_memmove",
    ".global __aeabi_memmove4",
    ".global __aeabi_memmove8",
    ".type memmove,%function",
    ".type __aeabi_memmove,%function",
    ".type __aeabi_memmove4,%function",
    ".type __aeabi_memmove8,%function",
    ".thumb_func",
    "memmove:",
    ".thumb_func",
    "__aeabi_memmove:",
    ".thumb_func",
    "__aeabi_memmove4:",
    ".thumb_func",
    "__aeabi_memmove8:",
    "    mov r12, r0",
    "    cmp r0, r1",
    "    bls 3f",
    "    add r1, r1, r2",
    "    add r12, r12, r2",
    "1:  subs r2, r2, #1",
    "    bcc 2f",
    "    ldrb r3, [r1, #-1]!",
    "    strb r3, [r12, #-1]!",
    "    b 1b",
    "3:  subs r2, r2, #1",
    "    bcc 2f",
    "    ldrb r3, [r1], #1",
    "    strb r3, [r12], #1",
    "    b 3b",
    "2:  bx lr",
    // memset(dst r0, c r1, n r2) -> dst
    ".section .text.konaplate_memset,\"ax\",%progbits",
    ".global memset",
    ".type memset,%function",
    ".thumb_func",
    "memset:",
    "    mov r12, r0",
    "1:  subs r2, r2, #1",
    "    bcc 2f",
    "    strb r1, [r12], #1",
    "    b 1b",
    "2:  bx lr",
    // __aeabi_memset*(dst r0, n r1, c r2): memset's arguments in another order
    ".section .text.konaplate_aeabi_memset,\"ax\",%progbits",
    ".global __aeabi_memset",
    ".global __aeabi_memset4",
    ".global __aeabi_memset8",
    ".type __aeabi_memset,%function",
    ".type __aeabi_memset4,%function",
    ".type __aeabi_memset8,%function",
    ".thumb_func",
    "__aeabi_memset:",
    ".thumb_func",
    "__aeabi_memset4:",
    ".thumb_func",
    "__aeabi_memset8:",
    "    mov r3, r1",
    "    mov r1, r2",
    "    mov r2, r3",
    "    b memset",
    // __aeabi_memclr*(dst r0, n r1)
    ".section .text.konaplate_aeabi_memclr,\"ax\",%progbits",
    ".global __aeabi_memclr",
    ".global __aeabi_memclr4",
    ".global __aeabi_memclr8",
    ".type __aeabi_memclr,%function",
    ".type __aeabi_memclr4,%function",
    ".type __aeabi_memclr8,%function",
    ".thumb_func",
    "__aeabi_memclr:",
    ".thumb_func",
    "__aeabi_memclr4:",
    ".thumb_func",
    "__aeabi_memclr8:",
    "    mov r2, r1",
    "    movs r1, #0",
    "    b memset",
    // memcmp(a r0, b r1, n r2) -> the difference of the first unequal bytes, or 0; bcmp
    // (equal or not) is the same
    ".section .text.konaplate_memcmp,\"ax\",%progbits",
    ".global memcmp",
    ".global bcmp",
    ".type memcmp,%function",
    ".type bcmp,%function",
    ".thumb_func",
    "memcmp:",
    ".thumb_func",
    "bcmp:",
    "1:  subs r2, r2, #1",
    "    bcc 2f",
    "    ldrb r3, [r0], #1",
    "    ldrb r12, [r1], #1",
    "    subs r3, r3, r12",
    "    beq 1b",
    "    mov r0, r3",
    "    bx lr",
    "2:  movs r0, #0",
    "    bx lr",
    ".text",
);

unsafe extern "C" {
    fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8;
    fn memmove(dst: *mut u8, src: *const u8, n: usize) -> *mut u8;
    fn memset(dst: *mut u8, c: i32, n: usize) -> *mut u8;
    fn memcmp(a: *const u8, b: *const u8, n: usize) -> i32;
    fn __aeabi_memset(dst: *mut u8, n: usize, c: i32);
    fn __aeabi_memclr(dst: *mut u8, n: usize);
}

const GUARD: u8 = 0xA5;

fn pattern(i: usize) -> u8 {
    (i * 7 + 3) as u8
}

/// Bytes `at..at + n` of `buf` are `want(i)`, and every other byte is `GUARD`.
fn holds(buf: &[u8; 64], at: usize, n: usize, want: impl Fn(usize) -> u8) -> bool {
    buf.iter().enumerate().all(|(j, &b)| {
        if j >= at && j < at + n {
            b == want(j - at)
        } else {
            b == GUARD
        }
    })
}

/// Checks the routines on the device (the blocking example runs it first): every length
/// 0..=40 at every alignment of source and destination, both directions of an overlapping
/// move, both argument orders of `memset`, and `memcmp`'s sign. Never inlined: its buffers
/// would stay in the caller's frame for the rest of the run.
#[inline(never)]
pub fn self_test() -> bool {
    let mut src = [0u8; 64];
    for (i, b) in src.iter_mut().enumerate() {
        *b = pattern(i);
    }
    for n in 0..=40 {
        for s in 0..4 {
            for d in 0..4 {
                let mut dst = [GUARD; 64];
                // SAFETY: `s + n` and `d + n` are within the 64-byte arrays; they do not overlap.
                let r = unsafe { memcpy(dst.as_mut_ptr().add(d), src.as_ptr().add(s), n) };
                if r != dst.as_mut_ptr().wrapping_add(d) || !holds(&dst, d, n, |i| pattern(s + i)) {
                    return false;
                }
                let mut buf = [GUARD; 64];
                // SAFETY: within `buf`, as above.
                unsafe {
                    __aeabi_memset(buf.as_mut_ptr().add(d), n, 0x3C);
                }
                if !holds(&buf, d, n, |_| 0x3C) {
                    return false;
                }
                // SAFETY: within `buf`.
                unsafe {
                    __aeabi_memclr(buf.as_mut_ptr().add(d), n);
                }
                if !holds(&buf, d, n, |_| 0) {
                    return false;
                }
                let mut buf = [GUARD; 64];
                // SAFETY: within `buf`.
                let r = unsafe { memset(buf.as_mut_ptr().add(s), 0x5A, n) };
                if r != buf.as_mut_ptr().wrapping_add(s) || !holds(&buf, s, n, |_| 0x5A) {
                    return false;
                }
                // overlapping moves, forwards (dst before src) and backwards (dst after src)
                let shift = 1 + s + d;
                for (from, to) in [(shift, 0), (0, shift)] {
                    let mut buf = [GUARD; 64];
                    for i in 0..n {
                        buf[from + i] = pattern(i);
                    }
                    // SAFETY: `from + n` and `to + n` are at most 47: within `buf`.
                    unsafe {
                        memmove(buf.as_mut_ptr().add(to), buf.as_ptr().add(from), n);
                    }
                    let moved = (0..n).all(|i| buf[to + i] == pattern(i));
                    if !moved {
                        return false;
                    }
                }
            }
        }
        // memcmp: 0 when equal, else the sign of the first difference
        let a = src;
        let mut b = src;
        // SAFETY: `n` is at most 40: within both arrays.
        if unsafe { memcmp(a.as_ptr(), b.as_ptr(), n) } != 0 {
            return false;
        }
        if n > 0 {
            b[n - 1] = b[n - 1].wrapping_add(1);
            let lower = a[n - 1] < b[n - 1];
            // SAFETY: as above.
            let (ab, ba) = unsafe {
                (
                    memcmp(a.as_ptr(), b.as_ptr(), n),
                    memcmp(b.as_ptr(), a.as_ptr(), n),
                )
            };
            if (ab < 0) != lower || (ba < 0) == lower || ab == 0 || ba == 0 {
                return false;
            }
        }
    }
    true
}
