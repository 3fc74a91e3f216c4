//! The flash journal under many power cuts per run: the input is a program of persists,
//! closes, compactions and reboots, each reboot with a cut armed at an arbitrary byte of an
//! arbitrary later flash operation under an arbitrary fault. After every cut the journal is
//! rebuilt from the raw image alone, and its state must be exactly the one before or after the
//! operation the cut hit, read the same a second time, and the flash must never have seen a
//! word written twice, a misaligned or an out-of-bounds access. Then bit flips at rest: no
//! record that was never persisted may appear, and nothing may panic.
#![no_main]

use std::collections::BTreeMap;

use konaplate_core::field::{ChargeAmount, MerchantId, SequenceId, UserId};
use konaplate_core::flow::{Answer, Essentials, JournalRecord, Operation, State};
use konaplate_embedded::journal::model::{Cut, Fault, ModelFlash};
use konaplate_embedded::journal::{Geometry, Journal, JournalError, SCRATCH_LEN};
use libfuzzer_sys::fuzz_target;

type Flash = ModelFlash<8, 4096>;
const GEO: Geometry = Geometry::new(0, 4096, 3);
type Map = BTreeMap<u8, JournalRecord>;

fn rec(key: u8, state: State, n: u64) -> JournalRecord {
    JournalRecord {
        op: Operation::Charge,
        state,
        sequence_id: SequenceId::new(&format!("KP-FZ-{key}")).unwrap(),
        essentials: Essentials {
            user_id: UserId::new(50_000_100_001).unwrap(),
            amount: Some(ChargeAmount::new(1 + n).unwrap()),
            merchant_id: Some(MerchantId::new("100000000000101").unwrap()),
            nr_number: None,
        },
        sends: 1,
        created_ms: 1,
        updated_ms: n,
        accept_until_ms: 2,
        maybe_arrived: true,
        acknowledged: false,
        held_decline: false,
        operator: false,
        answer: Answer::default(),
    }
}

fn next_state(s: Option<State>) -> Option<State> {
    match s {
        None => Some(State::Sending),
        Some(State::Sending) => Some(State::Lost),
        Some(State::Lost) => Some(State::Pending),
        Some(State::Pending) => Some(State::Completed),
        _ => None,
    }
}

fn read_all(flash: &mut Flash) -> Option<Map> {
    let mut scratch = [0u8; SCRATCH_LEN];
    let (mut j, _) = Journal::open(&mut *flash, GEO, &mut scratch).ok()?;
    let keys: Vec<SequenceId> = j.entries().map(|(k, _)| *k).collect();
    let mut m = Map::new();
    for k in keys {
        let r = j.read(&k).ok()?;
        let key: u8 = k.as_str().trim_start_matches("KP-FZ-").parse().ok()?;
        m.insert(key, r);
    }
    Some(m)
}

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.iter().copied();
    let mut flash = Flash::new(3, 0x5eed ^ data.len() as u64);
    let mut state = Map::new();
    let mut n = 0u64;
    let mut scratch = [0u8; SCRATCH_LEN];
    // epochs: an optional cut armed, an open, operations until the input or the power ends
    for _epoch in 0..16 {
        let Some(arm) = bytes.next() else { break };
        if arm & 1 == 1 {
            let op = u64::from(bytes.next().unwrap_or(0) % 24);
            let at = usize::from(bytes.next().unwrap_or(0)) * 8;
            let fault = [Fault::Stop, Fault::Torn, Fault::Metastable][usize::from(arm >> 1) % 3];
            flash.arm(Cut { op, at, fault });
        }
        let mut before = state.clone();
        let mut after = state.clone();
        let opened = Journal::open(&mut flash, GEO, &mut scratch);
        if let Ok((mut j, _)) = opened {
            for _ in 0..8 {
                let Some(b) = bytes.next() else { break };
                let key = b % 4;
                before = state.clone();
                after = state.clone();
                let r = match b >> 2 & 3 {
                    0 | 1 => match next_state(state.get(&key).map(|r| r.state)) {
                        Some(s) => {
                            n += 1;
                            let r = rec(key, s, n);
                            after.insert(key, r.clone());
                            j.persist(&r)
                        }
                        None => {
                            after.remove(&key);
                            j.close(&state[&key].sequence_id)
                        }
                    },
                    2 => j.compact(),
                    _ => match state.get(&key) {
                        // the state after a close is without it, whatever the close returns
                        Some(r) if r.state.is_final() => {
                            after.remove(&key);
                            j.close(&r.sequence_id)
                        }
                        Some(r) => match j.close(&r.sequence_id) {
                            Err(JournalError::StillOpen) => Ok(()),
                            other => other,
                        },
                        None => Ok(()),
                    },
                };
                match r {
                    Ok(()) => state = after.clone(),
                    Err(JournalError::Full) => {
                        after = state.clone();
                    }
                    Err(e) => {
                        assert!(flash_is_off(&e), "an error with the power on: {e:?}");
                        break;
                    }
                }
            }
        }
        // the boot after this epoch
        let was_cut = flash.is_off();
        flash.reboot();
        let got = read_all(&mut flash).expect("the journal opens after a cut");
        if was_cut {
            assert!(
                got == before || got == after,
                "neither before nor after the cut operation"
            );
        } else {
            assert_eq!(got, state, "no cut, yet the state changed");
        }
        flash.reboot();
        assert_eq!(
            read_all(&mut flash).as_ref(),
            Some(&got),
            "a second recovery read otherwise"
        );
        assert!(flash.violations().is_empty(), "{:?}", flash.violations());
        state = got;
        flash.reboot();
    }
    // damage at rest: a few bit flips anywhere; what is read was persisted
    let mut persisted: Vec<JournalRecord> = Vec::new();
    persisted.extend(state.values().cloned());
    for b in bytes.take(4) {
        flash.flip(usize::from(b) * 97 % (3 * 4096 * 8));
    }
    flash.reboot();
    if let Some(m) = read_all(&mut flash) {
        for r in m.values() {
            assert!(
                r.updated_ms <= n && r.sequence_id.as_str().starts_with("KP-FZ-"),
                "a record that was never persisted"
            );
        }
    }
});

fn flash_is_off<E>(e: &JournalError<E>) -> bool {
    matches!(e, JournalError::Flash(_) | JournalError::Worn)
}
