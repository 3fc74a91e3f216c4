//! The till image, async: the same till as `konaplate-firmware-till`, over the async journal
//! and driver, as one task on `embassy-executor`'s thread-mode executor.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use embassy_executor::{Executor, Spawner};
use konaplate_firmware_example::till::{self, Receipts};
use konaplate_firmware_example::{demo_session, digits, fail, out, paint_stack, peak_stack};
use static_cell::StaticCell;

#[embassy_executor::task]
async fn run(_spawner: Spawner) {
    let session = demo_session();
    let ops = till::asynch::boot(&session).await;
    till::report(&Receipts::load(), ops);
    let mut d = [0u8; 20];
    out(&[b"stack_peak_bytes=", digits(peak_stack(), &mut d), b"\n"]);
    debug::exit(debug::EXIT_SUCCESS);
}

static EXECUTOR: StaticCell<Executor> = StaticCell::new();

#[entry]
fn main() -> ! {
    paint_stack();
    let executor = EXECUTOR.init(Executor::new());
    executor.run(|spawner| match run(spawner) {
        Ok(token) => spawner.spawn(token),
        Err(_) => fail("spawn"),
    })
}
