//! The blocking image: the crate's exchanges with the blocking client (see the library's
//! documentation), then one success line and the peak stack use for `scripts/firmware-check`.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use konaplate_firmware_example::{blocking, digits, out, paint_stack, peak_stack};
// defmt's frames go out through semihosting (the size table's "+defmt" image)
#[cfg(feature = "defmt")]
use defmt_semihosting as _;

#[entry]
fn main() -> ! {
    paint_stack();
    // the image's own memcpy, memmove, memset and memcmp (`mem`) before anything uses them
    if !konaplate_firmware_example::mem::self_test() {
        konaplate_firmware_example::fail("the memory routines");
    }
    // the software RSA's keys, parsed before the exchanges' deep frames exist
    #[cfg(feature = "rsa")]
    konaplate_firmware_example::soft_rsa::boot();
    let (n, _) = blocking::exercise();
    let peak = peak_stack();
    let (mut a, mut b) = ([0u8; 20], [0u8; 20]);
    out(&[
        b"konaplate firmware: ",
        digits(n, &mut a),
        b" endpoints encoded, signed and decoded OK on Cortex-M4F\n",
    ]);
    out(&[b"stack_peak_bytes=", digits(peak, &mut b), b"\n"]);
    #[cfg(feature = "rsa-measure")]
    {
        let rsa = konaplate_firmware_example::soft_rsa::boot();
        let (wrap, unwrap, verify) = konaplate_firmware_example::soft_rsa::measure(&rsa);
        for (name, v) in [
            (&b"rsa_wrap_instructions="[..], wrap),
            (b"rsa_unwrap_instructions=", unwrap),
            (b"rsa_verify_instructions=", verify),
        ] {
            out(&[name, digits(v as usize, &mut a), b"\n"]);
        }
    }
    debug::exit(debug::EXIT_SUCCESS);
    // only reached when no debugger answers the semihosting call
    #[expect(
        clippy::empty_loop,
        reason = "the example has nothing left to do and nothing to wait for"
    )]
    loop {}
}
