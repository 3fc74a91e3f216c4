//! Wear of the flash journal: simulates payments on 8 sectors of 4 KiB (the strict flash
//! model) the way a till makes them — each charge journaled before its send and at its
//! answer, closed when the next one starts, a reboot every 300 payments — and reports the
//! erase counts and the projected life at 10,000 erase cycles.
//!
//! `cargo run --release -p konaplate-embedded --example journal_wear [PAYMENTS]`
//! (default 1,000,000). Prints `journal_wear_payments=`, `journal_wear_erases_max=`,
//! `journal_wear_erases_mean=` and `journal_life_payments=` (payments until the most-erased
//! sector reaches 10,000 cycles).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a measurement tool: a failure stops it loudly"
)]

use konaplate_core::field::{ChargeAmount, MerchantId, SequenceId, UserId};
use konaplate_core::flow::{Answer, Essentials, JournalRecord, Operation, State};
use konaplate_core::message::Description;
use konaplate_embedded::journal::model::ModelFlash;
use konaplate_embedded::journal::{Geometry, Journal, SCRATCH_LEN};

const SECTORS: u32 = 8;
const CYCLES: u64 = 10_000;

fn record(n: u64, state: State) -> JournalRecord {
    let mut answer = Answer::default();
    if state == State::Completed {
        // what a real answer leaves: a code, a Korean description, a transaction number
        answer.code = Some(konaplate_core::code::RawCode::new("000_000").unwrap());
        answer.description = Description::new("성공").unwrap();
        answer.nr_number =
            Some(konaplate_core::field::NrNumber::new(&format!("KMN{n:015}")).unwrap());
        answer.is_pending = Some(false);
    }
    JournalRecord {
        op: Operation::Charge,
        state,
        sequence_id: SequenceId::new(&format!("KP2612{n:016}")).unwrap(),
        essentials: Essentials {
            user_id: UserId::new(50_000_100_001).unwrap(),
            amount: Some(ChargeAmount::new(1_000 + n % 50_000).unwrap()),
            merchant_id: Some(MerchantId::new("100000000000101").unwrap()),
            nr_number: None,
        },
        sends: 1,
        created_ms: 1_764_000_000_000 + n * 60_000,
        updated_ms: 1_764_000_000_000 + n * 60_000 + 900,
        accept_until_ms: 1_764_000_000_000 + n * 60_000 + 420_000,
        maybe_arrived: state != State::Sending,
        acknowledged: false,
        held_decline: false,
        operator: false,
        answer,
    }
}

fn main() {
    let payments: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let geometry = Geometry::new(0, 4096, SECTORS);
    let mut flash = ModelFlash::<8, 4096>::new(SECTORS as usize, 1);
    let mut scratch = [0u8; SCRATCH_LEN];
    let mut n = 0u64;
    let mut boots = 0u64;
    while n < payments {
        let (mut journal, _) = Journal::open(&mut flash, geometry, &mut scratch).unwrap();
        boots += 1;
        for _ in 0..300 {
            if n == payments {
                break;
            }
            // the previous payment's outcome was acted on: closed before the next call
            let settled: Vec<SequenceId> = journal.entries().map(|(s, _)| *s).collect();
            for s in &settled {
                journal.close(s).unwrap();
            }
            assert!(journal.can_take_new_call());
            journal.persist(&record(n, State::Sending)).unwrap();
            journal.persist(&record(n, State::Completed)).unwrap();
            n += 1;
        }
        drop(journal);
        flash.reboot();
    }
    assert!(flash.violations().is_empty(), "{:?}", flash.violations());
    let erases = flash.erases();
    let max = *erases.iter().max().unwrap();
    let mean = erases.iter().sum::<u64>() as f64 / erases.len() as f64;
    let life = (payments * CYCLES).checked_div(max).unwrap_or(u64::MAX);
    println!(
        "{payments} payments, {boots} boots, on {SECTORS} sectors of 4 KiB: erases per sector {erases:?}"
    );
    println!("journal_wear_payments={payments}");
    println!("journal_wear_erases_max={max}");
    println!("journal_wear_erases_mean={mean:.1}");
    println!("journal_life_payments={life}");
    println!(
        "projected life at {CYCLES} erase cycles: {life} payments (about {} years at 500 payments a day)",
        life / 500 / 365
    );
}
