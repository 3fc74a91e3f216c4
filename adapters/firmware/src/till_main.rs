//! The till image, blocking: one boot of a till that makes a charge, its cancellation and a
//! refund through the money driver, the journal on a flash region kept in a host file (see
//! the library's `till` module); recovered at every boot; the power cut where
//! `target/till/cut` says.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use konaplate_firmware_example::till::{self, Receipts};
use konaplate_firmware_example::{demo_session, digits, out, paint_stack, peak_stack};

#[entry]
fn main() -> ! {
    paint_stack();
    let session = demo_session();
    let ops = till::blocking::boot(&session);
    till::report(&Receipts::load(), ops);
    let mut d = [0u8; 20];
    out(&[b"stack_peak_bytes=", digits(peak_stack(), &mut d), b"\n"]);
    debug::exit(debug::EXIT_SUCCESS);
    #[expect(clippy::empty_loop, reason = "only reached when no debugger answers")]
    loop {}
}
