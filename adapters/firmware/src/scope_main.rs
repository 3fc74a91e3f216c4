//! The C lifecycle's scope in Rust alone: the eight endpoints with JWE both ways (the
//! blocking example's exchanges), then the till's charge, cancellation and refund through the
//! money driver with the flash journal. No C layer and no C program: the floor of what the C
//! till's image holds.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use konaplate_firmware_example::till::{self, Receipts};
use konaplate_firmware_example::{blocking, demo_session, digits, out, paint_stack, peak_stack};

#[entry]
fn main() -> ! {
    paint_stack();
    let (n, _) = blocking::exercise();
    let session = demo_session();
    let ops = till::blocking::boot(&session);
    till::report(&Receipts::load(), ops);
    let mut d = [0u8; 20];
    out(&[
        b"scope: ",
        digits(n, &mut d),
        b" endpoints, then the till\n",
    ]);
    out(&[b"stack_peak_bytes=", digits(peak_stack(), &mut d), b"\n"]);
    debug::exit(debug::EXIT_SUCCESS);
    #[expect(clippy::empty_loop, reason = "only reached when no debugger answers")]
    loop {}
}
