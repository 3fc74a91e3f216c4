//! The async image: the crate's exchanges with the async client, run as one task on
//! `embassy-executor`'s Cortex-M thread-mode executor over a stream that answers `Pending`
//! before every other read and write; then one success line, the peak stack use and the size
//! of the largest client future for `scripts/firmware-check`.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use embassy_executor::{Executor, Spawner};
use konaplate_firmware_example::{asynch, digits, fail, out, paint_stack, peak_stack};
use static_cell::StaticCell;

#[embassy_executor::task]
async fn run(_spawner: Spawner) {
    let (n, largest) = asynch::exercise().await;
    let peak = peak_stack();
    let (mut a, mut b, mut c) = ([0u8; 20], [0u8; 20], [0u8; 20]);
    out(&[
        b"konaplate firmware (async, embassy-executor): ",
        digits(n, &mut a),
        b" endpoints encoded, signed and decoded OK on Cortex-M4F\n",
    ]);
    out(&[b"stack_peak_bytes=", digits(peak, &mut b), b"\n"]);
    out(&[b"async_future_bytes=", digits(largest, &mut c), b"\n"]);
    debug::exit(debug::EXIT_SUCCESS);
}

static EXECUTOR: StaticCell<Executor> = StaticCell::new();

#[entry]
fn main() -> ! {
    paint_stack();
    // the software RSA's keys, parsed before the exchanges' deep frames exist
    #[cfg(feature = "rsa")]
    konaplate_firmware_example::soft_rsa::boot();
    let executor = EXECUTOR.init(Executor::new());
    executor.run(|spawner| match run(spawner) {
        Ok(token) => spawner.spawn(token),
        Err(_) => fail("spawn"),
    })
}
