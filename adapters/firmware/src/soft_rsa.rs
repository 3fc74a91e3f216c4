//! The software RSA on the till (feature `rsa`): `konaplate_embedded::rsa` wraps the token
//! request's key to the platform's public key and opens the recorded cancellation's key with
//! the till's private key — the sandbox's test keys, as DER in the image's `.fixtures`
//! section (provisioned data on a real till, in protected flash) — and the costs of one wrap,
//! one unwrap and one RSA-PSS verification, counted in instructions under QEMU.

use core::cell::Cell;
use core::sync::atomic::{AtomicU32, Ordering};

use cortex_m::interrupt::Mutex;
use static_cell::StaticCell;

#[cfg(feature = "rsa-measure")]
use konaplate_core::jwe::KeyWrap;
use konaplate_core::jwe::Keys;
use konaplate_core::sign::sha256;
#[cfg(feature = "rsa-measure")]
use konaplate_embedded::rsa::{MODULUS_BYTES, PssHash};
use konaplate_embedded::rsa::{OaepUnwrap, OaepWrap, RsaPrivateKey, RsaPublicKey};

#[cfg(feature = "rsa-measure")]
use crate::check;
use crate::fail;

#[unsafe(link_section = ".fixtures")]
static PLATFORM_PUBLIC_DER: [u8; include_bytes!(concat!(env!("OUT_DIR"), "/server_public.der"))
    .len()] = *include_bytes!(concat!(env!("OUT_DIR"), "/server_public.der"));
#[unsafe(link_section = ".fixtures")]
static TILL_PRIVATE_DER: [u8; include_bytes!(concat!(env!("OUT_DIR"), "/client_private.der"))
    .len()] = *include_bytes!(concat!(env!("OUT_DIR"), "/client_private.der"));

/// A message and its RSA-PSS-SHA256 signature by the platform's (sandbox) key, made with
/// `openssl dgst -sha256 -sign server_private.pem -sigopt rsa_padding_mode:pss -sigopt
/// rsa_pss_saltlen:digest`: what a TLS server's `CertificateVerify` is.
#[cfg(feature = "rsa-measure")]
const PSS_MESSAGE: &[u8] = b"TLS 1.3, server CertificateVerify (konaplate firmware measurement)";
#[cfg(feature = "rsa-measure")]
#[unsafe(link_section = ".fixtures")]
static PSS_SIGNATURE: [u8; 256] = [
    0x32, 0x17, 0x20, 0x67, 0x69, 0x2F, 0x78, 0xD4, 0x73, 0xF5, 0x69, 0x14, 0x5F, 0x32, 0xAD, 0xB8,
    0xF1, 0xE4, 0x1A, 0xCF, 0xA5, 0x59, 0x55, 0x6A, 0x15, 0x6F, 0xD6, 0xD8, 0xA8, 0xCD, 0xAA, 0x03,
    0x11, 0x19, 0xB4, 0xB2, 0x25, 0x8E, 0x17, 0xA1, 0xF2, 0x09, 0x7A, 0x44, 0xE1, 0x06, 0xA3, 0x8B,
    0xC6, 0x18, 0xC0, 0xDB, 0x6A, 0x4B, 0x11, 0x49, 0x29, 0x05, 0x88, 0x5B, 0x76, 0x28, 0xFD, 0x28,
    0xA5, 0x69, 0x2D, 0x1D, 0x30, 0x29, 0x54, 0xAC, 0x0B, 0xF8, 0xF2, 0xAB, 0x69, 0xC2, 0xB4, 0x37,
    0xC1, 0x31, 0x0B, 0xBC, 0xA4, 0x0A, 0xF2, 0xC8, 0x84, 0x1A, 0x5A, 0x88, 0x01, 0xA9, 0x91, 0x9E,
    0xA8, 0x4E, 0x77, 0x0B, 0x99, 0xED, 0xF3, 0xAF, 0x8A, 0x83, 0xF9, 0xFE, 0x01, 0x70, 0x0E, 0x91,
    0x49, 0xF4, 0xD4, 0x4D, 0x09, 0xA9, 0x3D, 0xEB, 0x86, 0xCB, 0xD9, 0x75, 0xE0, 0x6C, 0x35, 0x0A,
    0x9B, 0x16, 0x0A, 0x30, 0xC4, 0xD6, 0x6B, 0x2E, 0x47, 0x34, 0xFD, 0xCD, 0x7E, 0x5F, 0x98, 0x9F,
    0xC8, 0x4A, 0x1D, 0xF3, 0x15, 0xBF, 0x1B, 0xF3, 0xDE, 0x05, 0x5B, 0x71, 0x24, 0x40, 0x8D, 0xFF,
    0xD7, 0x68, 0x36, 0xB1, 0x79, 0xF3, 0x00, 0xA1, 0x18, 0x3E, 0xA5, 0x23, 0x9D, 0xD1, 0xC8, 0xE5,
    0x51, 0x19, 0x10, 0xAD, 0x99, 0xC8, 0x39, 0x39, 0x4E, 0x57, 0x26, 0x81, 0x77, 0xEC, 0xEE, 0xD1,
    0xDF, 0xC5, 0x94, 0x1B, 0x9D, 0x94, 0x36, 0x0D, 0x76, 0x7B, 0xB2, 0x75, 0x27, 0xC9, 0xF5, 0xF8,
    0xE0, 0xE2, 0xAB, 0x3A, 0x79, 0xD0, 0x72, 0x54, 0xEE, 0x2D, 0x97, 0xE1, 0xBE, 0xDE, 0x0F, 0x8B,
    0x5A, 0x4B, 0x49, 0x09, 0x88, 0xC8, 0x9B, 0x3D, 0x2B, 0x4A, 0x9D, 0x6A, 0x2C, 0xF3, 0xBE, 0x48,
    0xE2, 0x64, 0x23, 0x98, 0xC3, 0xE0, 0x26, 0x4C, 0xA3, 0x71, 0x98, 0xA1, 0x10, 0xA8, 0x44, 0x1F,
];

/// The keys, parsed once at boot (see [`boot`]), each in place in its own static.
static PLATFORM: StaticCell<RsaPublicKey> = StaticCell::new();
static TILL: StaticCell<RsaPrivateKey> = StaticCell::new();
static LOADED: Mutex<Cell<Option<SoftRsa>>> = Mutex::new(Cell::new(None));

/// The keys: parsed and checked at the first call (which a till makes at boot, before its
/// deepest work: the parsing's own stack is then gone), the same keys after.
pub fn boot() -> SoftRsa {
    cortex_m::interrupt::free(|cs| {
        let loaded = LOADED.borrow(cs);
        if let Some(keys) = loaded.get() {
            return keys;
        }
        let keys = SoftRsa {
            platform: PLATFORM.init_with(platform_key),
            till: TILL.init_with(till_key),
        };
        loaded.set(Some(keys));
        keys
    })
}

#[inline(never)]
fn platform_key() -> RsaPublicKey {
    match RsaPublicKey::from_der(&PLATFORM_PUBLIC_DER) {
        Ok(k) => k,
        Err(_) => fail("platform key"),
    }
}

#[inline(never)]
fn till_key() -> RsaPrivateKey {
    match RsaPrivateKey::from_der(&TILL_PRIVATE_DER) {
        Ok(k) => k,
        Err(_) => fail("till key"),
    }
}

/// The platform's public key and the till's private key.
#[derive(Clone, Copy)]
pub struct SoftRsa {
    pub platform: &'static RsaPublicKey,
    pub till: &'static RsaPrivateKey,
}

impl SoftRsa {
    /// One request's keys: the software RSA both ways, a fresh CEK and IV.
    pub fn keys<'a>(
        &'a self,
        pad: &'a mut dyn FnMut(&mut [u8]),
        blind: &'a mut dyn FnMut(&mut [u8]),
    ) -> Keys<OaepWrap<'a>, OaepUnwrap<'a>> {
        let (mut cek, mut iv) = ([0u8; 16], [0u8; 12]);
        random(&mut cek);
        random(&mut iv);
        Keys {
            wrap: OaepWrap::new(self.platform, pad),
            unwrap: OaepUnwrap::new(self.till, blind),
            cek,
            iv,
        }
    }
}

static DRBG: AtomicU32 = AtomicU32::new(0);

/// The example's random source: SHA-256 of a counter that starts at 0 at every boot, so
/// every boot repeats the same CEKs, IVs, OAEP seeds and blinding factors. QEMU's board has
/// no TRNG. **Never ship this**: a till draws these bytes from its hardware random generator.
pub fn random(out: &mut [u8]) {
    for chunk in out.chunks_mut(32) {
        let n = DRBG.fetch_add(1, Ordering::Relaxed);
        let block = sha256(&n.to_le_bytes());
        for (o, b) in chunk.iter_mut().zip(block) {
            *o = b;
        }
    }
}

/// Instructions counted by QEMU's `-icount shift=0` clock (one instruction per virtual
/// nanosecond) through SysTick, calibrated against a loop of a known instruction count.
#[cfg(feature = "rsa-measure")]
mod count {
    use core::sync::atomic::{AtomicU32, Ordering};
    use cortex_m::peripheral::syst::SystClkSource;
    use cortex_m_rt::exception;

    static WRAPS: AtomicU32 = AtomicU32::new(0);
    const RELOAD: u32 = 0x00FF_FFFF;

    #[exception]
    fn SysTick() {
        WRAPS.fetch_add(1, Ordering::Relaxed);
    }

    /// SysTick ticks since it started (24-bit counter plus the wraps the interrupt counted).
    fn ticks() -> u64 {
        loop {
            let w = WRAPS.load(Ordering::Relaxed);
            let v = cortex_m::peripheral::SYST::get_current();
            if WRAPS.load(Ordering::Relaxed) == w {
                return u64::from(w) * u64::from(RELOAD + 1) + u64::from(RELOAD - v);
            }
        }
    }

    /// Runs `f` and returns the SysTick ticks it took.
    pub fn ticks_of<T>(syst: &mut cortex_m::peripheral::SYST, f: impl FnOnce() -> T) -> (T, u64) {
        syst.disable_counter();
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(RELOAD);
        syst.clear_current();
        WRAPS.store(0, Ordering::Relaxed);
        syst.enable_interrupt();
        syst.enable_counter();
        // a cleared counter reads 0 until its first tick loads the reload value, and that
        // load is no wrap: start counting once it has happened
        while cortex_m::peripheral::SYST::get_current() == 0 {}
        WRAPS.store(0, Ordering::Relaxed);
        let start = ticks();
        let r = f();
        let end = ticks();
        syst.disable_counter();
        (r, end.saturating_sub(start))
    }

    /// 2 000 000 instructions: a two-instruction loop (`subs`, `bne`) a million times.
    pub fn calibration() {
        // SAFETY: a register-only loop; r0 is declared clobbered.
        unsafe {
            core::arch::asm!(
                "2:",
                "subs {n}, {n}, #1",
                "bne 2b",
                n = inout(reg) 1_000_000u32 => _,
                options(nomem, nostack),
            );
        }
    }
    pub const CALIBRATION_INSTRUCTIONS: u64 = 2_000_000;
}

/// The instructions of one wrap, one unwrap and one PSS verification: (wrap, unwrap,
/// verify). Each result is checked.
#[cfg(feature = "rsa-measure")]
pub fn measure(rsa: &SoftRsa) -> (u64, u64, u64) {
    let Some(mut cp) = cortex_m::Peripherals::take() else {
        fail("peripherals")
    };
    let syst = &mut cp.SYST;
    let ((), cal) = count::ticks_of(syst, count::calibration);
    check(cal > 0, "SysTick under -icount");
    let insns = |ticks: u64| ticks * count::CALIBRATION_INSTRUCTIONS / cal;
    let (mut pad, mut blind) = (random, random);
    let cek = [0x5Au8; 16];
    // a wrap to the till's own public key, so that the unwrap below opens it
    let till_public = rsa.till.public_key();
    let mut wrapped = [0u8; MODULUS_BYTES];
    let (wrap, t_wrap) = count::ticks_of(syst, || {
        OaepWrap::new(&till_public, &mut pad).wrap_key(&cek, &mut wrapped)
    });
    check(wrap == Ok(MODULUS_BYTES), "rsa wrap");
    let mut out = [0u8; 32];
    let (got, t_unwrap) = count::ticks_of(syst, || {
        rsa.till.oaep_decrypt(&wrapped, &mut blind, &mut out)
    });
    check(
        got == Ok(16) && out.get(..16) == Some(&cek[..]),
        "rsa unwrap",
    );
    let (ok, t_verify) = count::ticks_of(syst, || {
        rsa.platform
            .verify_pss(PssHash::Sha256, PSS_MESSAGE, &PSS_SIGNATURE)
    });
    check(ok.is_ok(), "rsa-pss verify");
    // and a damaged signature is refused
    let mut bad = PSS_SIGNATURE;
    bad[100] ^= 1;
    check(
        rsa.platform
            .verify_pss(PssHash::Sha256, PSS_MESSAGE, &bad)
            .is_err(),
        "rsa-pss refuses",
    );
    (insns(t_wrap), insns(t_unwrap), insns(t_verify))
}
