//! The flash journal against a strict flash model (`journal::model`): the operations, then the
//! cut test — for each scenario (one call from its first record to its close, compaction, a
//! full journal, recovery itself), the power is cut at every word of every write and erase
//! under every fault model, the journal is rebuilt from the raw image alone, and:
//! * the state read back is exactly the one before or after the cut operation (so every
//!   persist that returned `Ok` is there, and nothing that was never persisted is);
//! * a second open reads the same (recovery is idempotent), also when the recovery itself is
//!   cut, two and three deep;
//! * the next write after a recovery survives another cut;
//! * the flash saw no word written twice, no misaligned or out-of-bounds access.
//!
//! `WRITE_SIZE` 1, 4, 8, 16 and 32; erase units of 4 KiB (and of 2 KiB, two to a sector).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure is a failed test"
)]

use std::collections::BTreeMap;

use konaplate_core::field::{ChargeAmount, MerchantId, SequenceId, UserId};
use konaplate_core::flow::{Answer, Essentials, JournalRecord, Operation, State};
use konaplate_embedded::journal::model::{Cut, Fault, ModelFlash, Wear};
use konaplate_embedded::journal::{Geometry, Journal, JournalError, MIN_SECTOR_SIZE, SCRATCH_LEN};

const SECTOR: u32 = 4096;

fn geo(sectors: u32) -> Geometry {
    Geometry::new(0, SECTOR, sectors)
}

fn rec(seq: &str, state: State, n: u64) -> JournalRecord {
    JournalRecord {
        op: Operation::Charge,
        state,
        sequence_id: SequenceId::new(seq).unwrap(),
        essentials: Essentials {
            user_id: UserId::new(50_000_100_001).unwrap(),
            amount: Some(ChargeAmount::new(1_000 + n).unwrap()),
            merchant_id: Some(MerchantId::new("100000000000101").unwrap()),
            nr_number: None,
        },
        sends: 1,
        created_ms: 1_000,
        updated_ms: 1_000 + n,
        accept_until_ms: 500_000,
        maybe_arrived: state != State::Sending,
        acknowledged: false,
        held_decline: false,
        operator: false,
        answer: Answer::default(),
    }
}

#[derive(Clone, Debug)]
enum Step {
    Persist(JournalRecord),
    Close(&'static str),
    Compact,
    /// A new call the journal must refuse: `Full`, nothing written.
    Refused(JournalRecord),
}

type Map = BTreeMap<String, JournalRecord>;

fn apply(m: &mut Map, s: &Step) {
    match s {
        Step::Persist(r) => {
            m.insert(r.sequence_id.as_str().into(), r.clone());
        }
        Step::Close(k) => {
            m.remove(*k);
        }
        Step::Compact | Step::Refused(_) => {}
    }
}

/// The journal's whole state: every live record, read back.
fn state<F: embedded_storage::nor_flash::NorFlash>(
    j: &mut Journal<F, &mut [u8; SCRATCH_LEN]>,
) -> Map {
    let keys: Vec<SequenceId> = j.entries().map(|(k, _)| *k).collect();
    keys.iter()
        .map(|k| {
            (
                k.as_str().to_string(),
                j.read(k).expect("a live record reads"),
            )
        })
        .collect()
}

/// Runs `steps` after an open; returns how many completed before the power went off (the
/// open counts as step 0), and an error for any other failure.
fn play<const W: usize, const E: usize>(
    flash: &mut ModelFlash<W, E>,
    sectors: u32,
    steps: &[Step],
) -> Result<usize, String> {
    let mut scratch = [0u8; SCRATCH_LEN];
    let (mut j, _) = match Journal::open(&mut *flash, geo(sectors), &mut scratch) {
        Ok(x) => x,
        Err(e) => return off_or(flash_off(&e), 0, format!("open: {e:?}")),
    };
    for (i, s) in steps.iter().enumerate() {
        let r = match s {
            Step::Persist(r) => j.persist(r),
            Step::Close(k) => j.close(&SequenceId::new(k).unwrap()),
            Step::Compact => j.compact(),
            Step::Refused(r) => {
                if j.can_take_new_call() {
                    return Err(format!("step {i}: a full journal says it can take a call"));
                }
                match j.persist(r) {
                    Err(JournalError::Full) => Ok(()),
                    other => Err(other.err().unwrap_or(JournalError::NotFound)),
                }
            }
        };
        if let Err(e) = r {
            drop(j);
            let off = flash.is_off();
            return off_or(off, i + 1, format!("step {i} {s:?}: {e:?}"));
        }
    }
    Ok(steps.len() + 1)
}

fn flash_off<E: std::fmt::Debug>(e: &JournalError<E>) -> bool {
    // (the model's PowerOff surfaces as a failed read, or as a sector that took no write)
    matches!(e, JournalError::Flash(_) | JournalError::Worn)
}

fn off_or(off: bool, done: usize, what: String) -> Result<usize, String> {
    if off { Ok(done) } else { Err(what) }
}

/// Opens the journal in `flash` and reads its state (no cut armed).
fn recover<const W: usize, const E: usize>(
    flash: &mut ModelFlash<W, E>,
    sectors: u32,
) -> Result<Map, String> {
    let mut scratch = [0u8; SCRATCH_LEN];
    let (mut j, _) = Journal::open(&mut *flash, geo(sectors), &mut scratch)
        .map_err(|e| format!("recovery: {e:?}"))?;
    Ok(state(&mut j))
}

/// Where to cut an operation: every word of it (and after its last byte).
fn positions<const W: usize>(len: usize, every: usize) -> impl Iterator<Item = usize> {
    (0..=len).step_by(W.max(every))
}

struct Scenario {
    name: &'static str,
    /// The steps that make the image the scenario starts from (run uncut).
    setup: Vec<Step>,
    steps: Vec<Step>,
}

fn a_call() -> Scenario {
    Scenario {
        name: "a call from its first record to its close",
        setup: vec![],
        steps: vec![
            Step::Persist(rec("KP-A", State::Sending, 1)),
            Step::Persist(rec("KP-A", State::Lost, 2)),
            Step::Persist(rec("KP-A", State::Completed, 3)),
            Step::Close("KP-A"),
        ],
    }
}

fn compaction() -> Scenario {
    let mut steps = vec![
        Step::Persist(rec("KP-S1", State::Completed, 1)),
        Step::Persist(rec("KP-S2", State::Declined, 2)),
        Step::Persist(rec("KP-B", State::Sending, 3)),
    ];
    // enough changes of the open call to fill the sector and move twice
    for n in 0..30 {
        let st = if n % 2 == 0 {
            State::Lost
        } else {
            State::Pending
        };
        steps.push(Step::Persist(rec("KP-B", st, 10 + n)));
    }
    steps.push(Step::Compact);
    steps.push(Step::Persist(rec("KP-B", State::Completed, 99)));
    Scenario {
        name: "compaction with open and settled records",
        setup: vec![],
        steps,
    }
}

fn full() -> Scenario {
    let setup: Vec<Step> = (0..8)
        .map(|i| Step::Persist(rec(&format!("KP-F{i}"), State::Completed, i)))
        .collect();
    Scenario {
        name: "a full journal",
        setup,
        steps: vec![
            Step::Refused(rec("KP-NEW", State::Sending, 50)),
            Step::Close("KP-F3"),
            Step::Persist(rec("KP-NEW", State::Sending, 51)),
        ],
    }
}

fn recovery() -> Scenario {
    Scenario {
        name: "recovery of an open call",
        setup: vec![
            Step::Persist(rec("KP-S", State::Completed, 1)),
            Step::Persist(rec("KP-R", State::Sending, 2)),
            Step::Persist(rec("KP-R", State::Lost, 3)),
        ],
        steps: vec![Step::Persist(rec("KP-R", State::Completed, 4))],
    }
}

const FAULTS: [Fault; 3] = [Fault::Stop, Fault::Torn, Fault::Metastable];

/// The cut test of one scenario: returns (cuts made, recoveries cut).
fn cut_test<const W: usize, const E: usize>(
    sc: &Scenario,
    sectors: u32,
    seed: u64,
    ecc: bool,
) -> (u64, u64) {
    let units = (sectors * SECTOR) as usize / E;
    let mut base = ModelFlash::<W, E>::new(units, seed);
    base.ecc(ecc);
    assert_eq!(
        play(&mut base, sectors, &sc.setup),
        Ok(sc.setup.len() + 1),
        "{}: setup",
        sc.name
    );
    base.reboot();
    let mut before_all = Map::new();
    for s in &sc.setup {
        apply(&mut before_all, s);
    }
    // the uncut run: its operations are the cut points
    let mut clean = base.clone();
    assert_eq!(
        play(&mut clean, sectors, &sc.steps),
        Ok(sc.steps.len() + 1),
        "{}: uncut",
        sc.name
    );
    let ops: Vec<_> = clean.log().to_vec();
    let mut states = vec![before_all.clone()];
    for s in &sc.steps {
        let mut m = states.last().unwrap().clone();
        apply(&mut m, s);
        states.push(m);
    }
    assert_eq!(
        recover(&mut clean, sectors).unwrap(),
        *states.last().unwrap(),
        "{}: uncut state",
        sc.name
    );
    let (mut cuts, mut deep) = (0u64, 0u64);
    for (i, op) in ops.iter().enumerate() {
        for at in positions::<W>(op.len, if op.erase { 64 } else { 1 }) {
            for fault in FAULTS {
                cuts += 1;
                let what = format!(
                    "{} W={W} E={E}: cut {fault:?} at byte {at} of op {i} ({op:?})",
                    sc.name
                );
                let mut f = base.clone();
                f.arm(Cut {
                    op: i as u64,
                    at,
                    fault,
                });
                let done =
                    play(&mut f, sectors, &sc.steps).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert!(f.is_off() || done == sc.steps.len() + 1, "{what}: not cut");
                // the step under way when the power went: before it, or after it (a cut in
                // the open that starts the run changes nothing)
                let (before, after) = if done == 0 {
                    (&states[0], &states[0])
                } else {
                    let k = (done - 1).min(sc.steps.len());
                    (&states[k], &states[(k + 1).min(sc.steps.len())])
                };
                f.reboot();
                let image = f.clone();
                let got = recover(&mut f, sectors).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert!(
                    &got == before || &got == after,
                    "{what}: recovered neither before nor after\n got {:?}\n before {:?}\n after {:?}",
                    got.keys(),
                    before.keys(),
                    after.keys()
                );
                f.reboot();
                let again = recover(&mut f, sectors).unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(again, got, "{what}: a second recovery read otherwise");
                assert!(f.violations().is_empty(), "{what}: {:?}", f.violations());
                // the next write after the recovery survives a cut of the one after it
                if i % 3 == 0 {
                    f.reboot();
                    next_write_survives(&mut f, sectors, &got, &what);
                }
                // the recovery itself cut, two deep (and sometimes three)
                if (i + at / W.max(1)).is_multiple_of(11) {
                    deep += recovery_cut(&image, sectors, before, after, &what, 2, seed ^ i as u64);
                }
            }
        }
    }
    (cuts, deep)
}

fn next_write_survives<const W: usize, const E: usize>(
    f: &mut ModelFlash<W, E>,
    sectors: u32,
    got: &Map,
    what: &str,
) {
    let mut scratch = [0u8; SCRATCH_LEN];
    let r = rec("KP-NEXT", State::Sending, 77);
    {
        let (mut j, _) = Journal::open(&mut *f, geo(sectors), &mut scratch).unwrap();
        if !j.can_take_new_call() {
            return;
        }
        j.persist(&r)
            .unwrap_or_else(|e| panic!("{what}: the next write: {e:?}"));
    }
    // the write after it is cut at its start
    let ops_so_far = f.ops();
    f.arm(Cut {
        op: ops_so_far,
        at: 0,
        fault: Fault::Torn,
    });
    {
        if let Ok((mut j, _)) = Journal::open(&mut *f, geo(sectors), &mut scratch) {
            let _ = j.persist(&rec("KP-NEXT", State::Lost, 78));
        }
    }
    f.reboot();
    let m = recover(f, sectors).unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut want = got.clone();
    want.insert("KP-NEXT".into(), r);
    let mut want_lost = want.clone();
    want_lost.insert("KP-NEXT".into(), rec("KP-NEXT", State::Lost, 78));
    assert!(
        m == want || m == want_lost,
        "{what}: the write after the recovery was lost"
    );
    assert!(
        f.violations().is_empty(),
        "{what}: after the next write: {:?}",
        f.violations()
    );
}

/// Cuts the recovery of `image` at every operation (at 3 places, every fault); the next
/// recovery must still read `before` or `after`, and read it again. Returns the cuts made.
fn recovery_cut<const W: usize, const E: usize>(
    image: &ModelFlash<W, E>,
    sectors: u32,
    before: &Map,
    after: &Map,
    what: &str,
    depth: u32,
    seed: u64,
) -> u64 {
    let mut clean = image.clone();
    recover(&mut clean, sectors).unwrap();
    let ops: Vec<_> = clean.log().to_vec();
    let mut n = 0;
    for (i, op) in ops.iter().enumerate() {
        for at in [0, op.len / 2 / W.max(1) * W.max(1), op.len] {
            for fault in FAULTS {
                n += 1;
                let mut f = image.clone();
                f.arm(Cut {
                    op: i as u64,
                    at,
                    fault,
                });
                let _ = recover(&mut f, sectors);
                f.reboot();
                let cut_image = f.clone();
                let got = recover(&mut f, sectors).unwrap_or_else(|e| {
                    panic!("{what}; recovery cut {fault:?} at {at} of op {i}: {e}")
                });
                assert!(
                    &got == before || &got == after,
                    "{what}; recovery cut {fault:?} at {at} of op {i} (depth {depth}): neither before nor after"
                );
                f.reboot();
                assert_eq!(
                    recover(&mut f, sectors).unwrap(),
                    got,
                    "{what}; recovery cut: not idempotent"
                );
                assert!(f.violations().is_empty(), "{what}: {:?}", f.violations());
                if depth < 3 && (seed + i as u64 + at as u64).is_multiple_of(29) {
                    n += recovery_cut(
                        &cut_image,
                        sectors,
                        before,
                        after,
                        what,
                        depth + 1,
                        seed / 3,
                    );
                }
            }
        }
    }
    n
}

fn all_scenarios<const W: usize, const E: usize>(seed: u64) {
    all_scenarios_on::<W, E>(seed, false);
}

fn all_scenarios_on<const W: usize, const E: usize>(seed: u64, ecc: bool) {
    let mut total = (0, 0);
    for sc in [a_call(), compaction(), full(), recovery()] {
        let (c, d) = cut_test::<W, E>(&sc, 3, seed, ecc);
        total.0 += c;
        total.1 += d;
    }
    println!(
        "W={W} E={E}{}: {} cuts, {} recoveries cut",
        if ecc {
            " (ECC: half-programmed words do not read)"
        } else {
            ""
        },
        total.0,
        total.1
    );
    assert!(total.0 > 1_000);
}

#[test]
fn cuts_write_size_1() {
    all_scenarios::<1, 4096>(0x11);
}
#[test]
fn cuts_write_size_4() {
    all_scenarios::<4, 4096>(0x44);
}
#[test]
fn cuts_write_size_8() {
    all_scenarios::<8, 4096>(0x88);
}
#[test]
fn cuts_write_size_16_erase_2k() {
    all_scenarios::<16, 2048>(0x16);
}
#[test]
fn cuts_write_size_8_on_ecc_flash() {
    all_scenarios_on::<8, 4096>(0x8E, true);
}
#[test]
fn cuts_write_size_32() {
    all_scenarios::<32, 4096>(0x32);
}

// ---------------------------------------------------------------- the operations

#[test]
fn a_blank_region_is_formatted_and_records_round_trip() {
    let mut f = ModelFlash::<8, 4096>::new(3, 1);
    let mut scratch = [0u8; SCRATCH_LEN];
    let (mut j, report) = Journal::open(&mut f, geo(3), &mut scratch).unwrap();
    assert!(report.formatted);
    let a = rec("KP-1", State::Sending, 1);
    j.persist(&a).unwrap();
    assert_eq!(j.read(&a.sequence_id).unwrap(), a);
    assert_eq!(j.open_calls().collect::<Vec<_>>(), vec![a.sequence_id]);
    let b = rec("KP-1", State::Completed, 2);
    j.persist(&b).unwrap();
    assert_eq!(j.read(&b.sequence_id).unwrap(), b, "the latest record wins");
    // the bytes as persisted: the record's own encoding, folded zero runs unfolded
    let mut bytes = [0xAAu8; JournalRecord::LEN];
    j.read_into(&b.sequence_id, &mut bytes).unwrap();
    assert_eq!(bytes, b.encode());
    assert_eq!(j.open_calls().count(), 0);
    // a settled record is never replaced, an open call never closed
    assert_eq!(
        j.persist(&rec("KP-1", State::Lost, 3)),
        Err(JournalError::Settled)
    );
    j.persist(&rec("KP-2", State::Sending, 4)).unwrap();
    assert_eq!(
        j.close(&SequenceId::new("KP-2").unwrap()),
        Err(JournalError::StillOpen)
    );
    j.close(&b.sequence_id).unwrap();
    assert_eq!(j.read(&b.sequence_id), Err(JournalError::NotFound));
    assert_eq!(
        j.read_into(&b.sequence_id, &mut bytes),
        Err(JournalError::NotFound)
    );
    drop(j);
    let (mut j, report) = Journal::open(&mut f, geo(3), &mut scratch).unwrap();
    assert!(!report.formatted);
    assert_eq!((report.open_calls, report.settled), (1, 0));
    assert_eq!(state(&mut j).keys().collect::<Vec<_>>(), vec!["KP-2"]);
    assert!(f.violations().is_empty());
}

#[test]
fn the_geometry_is_checked() {
    let mut f = ModelFlash::<8, 4096>::new(3, 1);
    let mut scratch = [0u8; SCRATCH_LEN];
    for (g, why) in [
        (Geometry::new(0, 4096, 2), "3 to 32 sectors"),
        (Geometry::new(0, 4096, 4), "capacity"),
        (Geometry::new(100, 4096, 3), "multiples"),
        (Geometry::new(0, 2048, 3), "multiples"),
    ] {
        match Journal::open(&mut f, g, &mut scratch) {
            Err(JournalError::Geometry(w)) => assert!(w.contains(why), "{w}"),
            other => panic!("{g:?}: {:?}", other.err()),
        }
    }
}

/// A flash whose erase unit (16 bytes) is smaller than its write unit (32): a journal sector
/// must be a multiple of both, or a write rounded up to 32 bytes would reach the next sector.
struct SmallErase(Vec<u8>);

impl embedded_storage::nor_flash::ErrorType for SmallErase {
    type Error = embedded_storage::nor_flash::NorFlashErrorKind;
}
impl embedded_storage::nor_flash::ReadNorFlash for SmallErase {
    const READ_SIZE: usize = 1;
    fn read(&mut self, o: u32, b: &mut [u8]) -> Result<(), Self::Error> {
        let src = self.0.get(o as usize..o as usize + b.len());
        b.copy_from_slice(src.ok_or(Self::Error::OutOfBounds)?);
        Ok(())
    }
    fn capacity(&self) -> usize {
        self.0.len()
    }
}
impl embedded_storage::nor_flash::NorFlash for SmallErase {
    const WRITE_SIZE: usize = 32;
    const ERASE_SIZE: usize = 16;
    fn erase(&mut self, a: u32, b: u32) -> Result<(), Self::Error> {
        let dst = self.0.get_mut(a as usize..b as usize);
        dst.ok_or(Self::Error::OutOfBounds)?.fill(0xFF);
        Ok(())
    }
    fn write(&mut self, o: u32, b: &[u8]) -> Result<(), Self::Error> {
        let dst = self.0.get_mut(o as usize..o as usize + b.len());
        dst.ok_or(Self::Error::OutOfBounds)?.copy_from_slice(b);
        Ok(())
    }
}

#[test]
fn sectors_are_multiples_of_the_write_size_too() {
    let mut f = SmallErase(vec![0xFF; 16 * 1024]);
    let mut scratch = [0u8; SCRATCH_LEN];
    for g in [Geometry::new(0, 2320, 3), Geometry::new(16, 2304, 3)] {
        match Journal::open(&mut f, g, &mut scratch) {
            Err(JournalError::Geometry(w)) => assert!(w.contains("WRITE_SIZE"), "{w}"),
            other => panic!("{g:?}: {:?}", other.err()),
        }
    }
    // a multiple of both opens, and a record persists and reads back
    let (mut j, report) = Journal::open(&mut f, Geometry::new(32, 2336, 3), &mut scratch).unwrap();
    assert!(report.formatted);
    j.persist(&rec("KP-SE", State::Sending, 1)).unwrap();
    assert_eq!(
        j.read(&SequenceId::new("KP-SE").unwrap()).unwrap(),
        rec("KP-SE", State::Sending, 1)
    );
}

#[test]
fn a_sector_below_the_documented_floor_is_refused_at_every_alignment() {
    let mut scratch = [0u8; SCRATCH_LEN];
    // 2208 and 2240 hold the entries the format needs at 4-byte alignment, but the floor
    // documented (and promised to the C ABI) is MIN_SECTOR_SIZE for every flash
    for size in [2208, 2240, MIN_SECTOR_SIZE - 32] {
        let mut f = ModelFlash::<4, 32>::new(3 * size as usize / 32, 2);
        match Journal::open(&mut f, Geometry::new(0, size, 3), &mut scratch) {
            Err(JournalError::Geometry(w)) => assert!(w.contains("2304"), "{w}"),
            other => panic!("{size}: {:?}", other.err()),
        }
    }
    let mut f = ModelFlash::<4, 32>::new(3 * MIN_SECTOR_SIZE as usize / 32, 2);
    let (mut j, report) =
        Journal::open(&mut f, Geometry::new(0, MIN_SECTOR_SIZE, 3), &mut scratch).unwrap();
    assert!(report.formatted);
    j.persist(&rec("KP-MIN", State::Sending, 1)).unwrap();
}

#[test]
fn a_full_journal_refuses_a_new_call_before_anything_is_written() {
    let mut f = ModelFlash::<4, 4096>::new(3, 2);
    let mut scratch = [0u8; SCRATCH_LEN];
    let (mut j, _) = Journal::open(&mut f, geo(3), &mut scratch).unwrap();
    let mut n = 0;
    while j.can_take_new_call() {
        j.persist(&rec(&format!("KP-{n}"), State::Completed, n))
            .unwrap();
        n += 1;
    }
    assert!(n >= 6, "a 4 KiB sector holds {n} settled records");
    let before = state(&mut j);
    drop(j);
    let ops = f.log().len();
    let (mut j, _) = Journal::open(&mut f, geo(3), &mut scratch).unwrap();
    let _ = ops;
    let at = j.entries().count();
    assert_eq!(at as u64, n);
    assert!(!j.can_take_new_call());
    assert_eq!(state(&mut j), before);
    assert!(f.violations().is_empty());
}

#[test]
fn damage_is_reported_and_never_hides_later_records() {
    let mut f = ModelFlash::<4, 4096>::new(3, 3);
    let mut scratch = [0u8; SCRATCH_LEN];
    {
        let (mut j, _) = Journal::open(&mut f, geo(3), &mut scratch).unwrap();
        for i in 0..4 {
            j.persist(&rec(&format!("KP-D{i}"), State::Completed, i))
                .unwrap();
        }
    }
    // find the second record's entry in the image and flip a bit of its payload
    let img = f.image();
    let hits: Vec<usize> = (0..img.len() - 4)
        .filter(|&i| img[i..i + 2] == [0x4B, 0xE1] && i.is_multiple_of(4))
        .collect();
    assert!(hits.len() >= 5, "{hits:?}");
    // one flipped bit is corrected: nothing is lost, the report says so
    let mut one = f.clone();
    one.flip((hits[2] + 20) * 8 + 3);
    one.reboot();
    let (mut j, report) = Journal::open(&mut one, geo(3), &mut scratch).unwrap();
    assert_eq!(
        (report.damaged_entries, report.corrected_entries),
        (0, 1),
        "{report:?}"
    );
    assert_eq!(state(&mut j).len(), 4);
    drop(j);
    // two flipped bits in one entry are not: that entry is skipped and reported
    f.flip((hits[2] + 20) * 8 + 3);
    f.flip((hits[2] + 30) * 8 + 6);
    let (mut j, report) = Journal::open(&mut f, geo(3), &mut scratch).unwrap();
    assert_eq!(report.damaged_entries, 1, "{report:?}");
    let keys: Vec<String> = state(&mut j).into_keys().collect();
    assert_eq!(
        keys.len(),
        3,
        "the records after the damaged one are read: {keys:?}"
    );
    assert!(keys.contains(&"KP-D3".to_string()));
}

#[test]
fn bit_flips_anywhere_never_make_a_phantom_or_a_panic() {
    let mut f = ModelFlash::<4, 4096>::new(3, 4);
    let mut scratch = [0u8; SCRATCH_LEN];
    let mut all = Map::new();
    {
        let (mut j, _) = Journal::open(&mut f, geo(3), &mut scratch).unwrap();
        for i in 0..5 {
            let r = rec(
                &format!("KP-B{i}"),
                if i == 4 {
                    State::Lost
                } else {
                    State::Completed
                },
                i,
            );
            j.persist(&r).unwrap();
            all.insert(r.sequence_id.as_str().into(), r);
        }
    }
    let pristine = f.clone();
    for bit in (0..3 * 4096 * 8).step_by(13) {
        let mut g = pristine.clone();
        g.flip(bit);
        g.reboot();
        let got = match recover(&mut g, 3) {
            Ok(m) => m,
            Err(e) => panic!("bit {bit}: {e}"),
        };
        for (k, r) in &got {
            assert_eq!(
                all.get(k),
                Some(r),
                "bit {bit}: a record that was never persisted"
            );
        }
        // one flipped bit costs nothing: an entry's is corrected, a sector header's is
        // recovered from its entries, a blank byte's is skipped
        assert_eq!(
            got.len(),
            all.len(),
            "bit {bit}: {} of {} records lost",
            all.len() - got.len(),
            all.len()
        );
    }
}

#[test]
fn a_read_that_fails_twice_loses_nothing() {
    // a transient read error (a marginal cell, a bus glitch) at any word: the open reads
    // again, and reads exactly what was persisted, the last entry of a sector included
    let mut f = ModelFlash::<8, 4096>::new(3, 5);
    let mut scratch = [0u8; SCRATCH_LEN];
    let mut all = Map::new();
    {
        let (mut j, _) = Journal::open(&mut f, geo(3), &mut scratch).unwrap();
        for i in 0..3 {
            let r = rec(&format!("KP-R{i}"), State::Sending, i);
            j.persist(&r).unwrap();
            all.insert(r.sequence_id.as_str().into(), r);
        }
    }
    let img = f.image();
    let mut checked = 0;
    for word in (0..img.len()).step_by(8) {
        if img[word..word + 8].iter().all(|&b| b == 0xFF) {
            continue;
        }
        let mut g = f.clone();
        g.reboot();
        g.flaky(word, 2);
        let (mut j, report) = Journal::open(&mut g, geo(3), &mut scratch).unwrap();
        assert_eq!(state(&mut j), all, "word {word}: {report:?}");
        assert_eq!(
            (report.damaged_entries, report.torn_tail),
            (0, false),
            "word {word}: an intact entry reported as damage"
        );
        checked += 1;
    }
    assert!(checked >= 30, "{checked} words checked");
}

#[test]
fn worn_sectors_are_skipped_and_nothing_is_lost() {
    for wear in [
        Wear::WritesFail,
        Wear::WritesGarble,
        Wear::WritesLie,
        Wear::ErasesFail,
        Wear::ErasesStick,
    ] {
        let mut f = ModelFlash::<8, 4096>::new(4, 5);
        f.wear_out(2, wear);
        let mut scratch = [0u8; SCRATCH_LEN];
        let mut want = Map::new();
        {
            let (mut j, _) = Journal::open(&mut f, geo(4), &mut scratch).unwrap();
            // enough to go round the ring of 4 sectors twice
            for n in 0..400 {
                let r = rec(
                    "KP-W",
                    if n % 2 == 0 {
                        State::Lost
                    } else {
                        State::Pending
                    },
                    n,
                );
                j.persist(&r)
                    .unwrap_or_else(|e| panic!("{wear:?} record {n}: {e:?}"));
                // what a persist said is durable reads back
                assert_eq!(
                    j.read(&r.sequence_id).as_ref(),
                    Ok(&r),
                    "{wear:?} record {n}"
                );
                want.insert("KP-W".into(), r);
            }
            j.persist(&rec("KP-S", State::Completed, 1)).unwrap();
            want.insert("KP-S".into(), rec("KP-S", State::Completed, 1));
        }
        f.reboot();
        assert!(
            f.erases()[2] > 0 || wear == Wear::ErasesFail,
            "{wear:?}: the worn sector was reached"
        );
        assert!(
            f.erases()
                .iter()
                .all(|&e| e > 0 || wear == Wear::ErasesFail),
            "{wear:?}: {:?}",
            f.erases()
        );
        assert_eq!(recover(&mut f, 4).unwrap(), want, "{wear:?}");
        assert!(f.violations().is_empty(), "{wear:?}: {:?}", f.violations());
    }
}

#[test]
fn the_async_journal_is_the_same_journal() {
    struct Asy<F>(F);
    impl<F: embedded_storage::nor_flash::ErrorType> embedded_storage::nor_flash::ErrorType for Asy<F> {
        type Error = F::Error;
    }
    impl<F: embedded_storage::nor_flash::ReadNorFlash>
        embedded_storage_async::nor_flash::ReadNorFlash for Asy<F>
    {
        const READ_SIZE: usize = F::READ_SIZE;
        async fn read(&mut self, o: u32, b: &mut [u8]) -> Result<(), F::Error> {
            embassy_futures::yield_now().await;
            self.0.read(o, b)
        }
        fn capacity(&self) -> usize {
            self.0.capacity()
        }
    }
    impl<F: embedded_storage::nor_flash::NorFlash> embedded_storage_async::nor_flash::NorFlash
        for Asy<F>
    {
        const WRITE_SIZE: usize = F::WRITE_SIZE;
        const ERASE_SIZE: usize = F::ERASE_SIZE;
        async fn erase(&mut self, a: u32, b: u32) -> Result<(), F::Error> {
            embassy_futures::yield_now().await;
            self.0.erase(a, b)
        }
        async fn write(&mut self, o: u32, b: &[u8]) -> Result<(), F::Error> {
            embassy_futures::yield_now().await;
            self.0.write(o, b)
        }
    }
    let mut f = ModelFlash::<16, 4096>::new(3, 6);
    let mut scratch = [0u8; SCRATCH_LEN];
    embassy_futures::block_on(async {
        let (mut j, _) =
            konaplate_embedded::journal::asynch::Journal::open(Asy(&mut f), geo(3), &mut scratch)
                .await
                .unwrap();
        j.persist(&rec("KP-AS", State::Sending, 1)).await.unwrap();
        j.persist(&rec("KP-AS", State::Completed, 2)).await.unwrap();
    });
    // what the async journal wrote, the blocking one reads
    let m = recover(&mut f, 3).unwrap();
    assert_eq!(m.get("KP-AS"), Some(&rec("KP-AS", State::Completed, 2)));
}

/// The model flash shared with the test, which damages it while the journal runs.
struct Shared<'a>(&'a std::cell::RefCell<ModelFlash<8, 4096>>);

impl embedded_storage::nor_flash::ErrorType for Shared<'_> {
    type Error = konaplate_embedded::journal::model::ModelError;
}
impl embedded_storage::nor_flash::ReadNorFlash for Shared<'_> {
    const READ_SIZE: usize = 8;
    fn read(&mut self, o: u32, b: &mut [u8]) -> Result<(), Self::Error> {
        self.0.borrow_mut().read(o, b)
    }
    fn capacity(&self) -> usize {
        self.0.borrow().capacity()
    }
}
impl embedded_storage::nor_flash::NorFlash for Shared<'_> {
    const WRITE_SIZE: usize = 8;
    const ERASE_SIZE: usize = 4096;
    fn erase(&mut self, a: u32, b: u32) -> Result<(), Self::Error> {
        self.0.borrow_mut().erase(a, b)
    }
    fn write(&mut self, o: u32, b: &[u8]) -> Result<(), Self::Error> {
        self.0.borrow_mut().write(o, b)
    }
}

/// An open call whose record the flash damages while the till runs is never dropped by a
/// compaction: the compaction refuses (`Damaged`) and the journal stays as it was.
#[test]
fn a_damaged_open_call_is_never_compacted_away() {
    let cell = std::cell::RefCell::new(ModelFlash::<8, 4096>::new(3, 12));
    let mut scratch = [0u8; SCRATCH_LEN];
    let (mut j, _) = Journal::open(Shared(&cell), geo(3), &mut scratch).unwrap();
    let open = rec("KP-DMG", State::Lost, 1);
    j.persist(&rec("KP-OK", State::Completed, 2)).unwrap();
    j.persist(&open).unwrap();
    // flip a bit of the open call's entry (the last entry written in the active sector): it
    // is corrected when read; a second flipped bit in it is beyond correction
    let image = cell.borrow_mut().image();
    let hits: Vec<usize> = (0..image.len() - 2)
        .filter(|&i| image[i..i + 2] == [0x4B, 0xE1] && i.is_multiple_of(8))
        .collect();
    let last = *hits.last().unwrap();
    cell.borrow_mut().flip((last + 20) * 8);
    assert_eq!(j.read(&open.sequence_id).as_ref(), Ok(&open));
    cell.borrow_mut().flip((last + 31) * 8 + 5);
    assert_eq!(j.read(&open.sequence_id), Err(JournalError::Damaged));
    assert_eq!(
        j.compact(),
        Err(JournalError::Damaged),
        "the compaction refuses to drop it"
    );
    // the damage is not hidden: the call is still listed as open
    assert!(j.open_calls().any(|s| s == open.sequence_id));
}

/// A compaction takes, before the journal that preceded the current one, a sector a cut left
/// with an unfinished compaction (newer than the journal, holding nothing of it): the previous
/// journal stays on the flash through the compaction, the fallback should the current one's
/// marker be damaged.
#[test]
fn an_unfinished_compaction_is_reused_before_the_previous_journal() {
    let mut f = ModelFlash::<4, 4096>::new(3, 6);
    let mut scratch = [0u8; SCRATCH_LEN];
    let sector_seq = |img: &[u8], s: usize| -> Option<u32> {
        let h = &img[s * 4096..s * 4096 + 16];
        (h[..4] == *b"KPFJ").then(|| u32::from_le_bytes(h[8..12].try_into().unwrap()))
    };
    {
        // the open formats sector 0 (seq 1); a compaction moves to sector 1 (seq 2)
        let (mut j, _) = Journal::open(&mut f, geo(3), &mut scratch).unwrap();
        j.persist(&rec("KP-U1", State::Lost, 1)).unwrap();
        j.compact().unwrap();
    }
    // the next open's compaction (into sector 2, seq 3) is cut after its erase and header:
    // its first copy never happens
    f.reboot();
    f.arm(Cut {
        op: 2,
        at: 0,
        fault: Fault::Stop,
    });
    assert!(Journal::open(&mut f, geo(3), &mut scratch).is_err());
    let img = f.image();
    assert_eq!(
        [0, 1, 2].map(|s| sector_seq(&img, s)),
        [Some(1), Some(2), Some(3)]
    );
    f.reboot();
    let (mut j, report) = Journal::open(&mut f, geo(3), &mut scratch).unwrap();
    assert_eq!(report.unfinished_compactions, 1, "{report:?}");
    assert_eq!(state(&mut j).len(), 1);
    drop(j);
    let img = f.image();
    assert_eq!(
        sector_seq(&img, 0),
        Some(1),
        "the journal before the current one was erased while an unfinished compaction's sector was free"
    );
    assert_eq!(
        sector_seq(&img, 2),
        Some(4),
        "the unfinished compaction's sector was reused"
    );
    assert!(f.violations().is_empty());
}

/// A compaction's complete marker fits the sector whatever the live records add up to: no
/// write ever runs past its sector (small sectors, records of every size near full).
#[test]
fn a_full_snapshot_never_writes_past_its_sector() {
    const S: u32 = 2304;
    let g = Geometry::new(0, S, 3);
    let mut worst = 0u32;
    for len in 150..256usize {
        for extra in 0..8usize {
            let mut f = ModelFlash::<4, 256>::new(27, len as u64);
            let mut scratch = [0u8; SCRATCH_LEN];
            let Ok((mut j, _)) = Journal::open(&mut f, g, &mut scratch) else {
                panic!("open");
            };
            // eight calls admitted small, then each answered at length (as records grow)
            let mut n = 0;
            for i in 0..8usize {
                if !j.can_take_new_call() {
                    break;
                }
                j.persist(&rec(&format!("KP-F{i}"), State::Sending, i as u64))
                    .unwrap();
                n += 1;
            }
            for i in 0..n {
                let mut r = rec(&format!("KP-F{i}"), State::Lost, i as u64);
                let l = if i == n - 1 { len + extra } else { len };
                r.answer.description =
                    konaplate_core::message::Description::new(&"d".repeat(l)).unwrap();
                if j.persist(&r).is_err() {
                    // refused as full: the snapshot with this record would not fit
                    break;
                }
            }
            let _ = j.compact();
            drop(j);
            for op in f.log() {
                let (a, b) = (op.offset, op.offset + op.len as u32 - 1);
                assert_eq!(
                    a / S,
                    b / S,
                    "len {len}+{extra}: a {} of {} bytes at {a} crosses a sector end",
                    if op.erase { "erase" } else { "write" },
                    op.len
                );
                worst = worst.max(b % S);
            }
            assert!(f.violations().is_empty(), "{:?}", f.violations());
            f.reboot();
            let (mut j, _) = Journal::open(&mut f, g, &mut scratch).unwrap();
            assert_eq!(state(&mut j).len(), n, "len {len}+{extra}");
        }
    }
    assert!(
        worst > S - 64,
        "the sweep came near a full sector ({worst} of {S})"
    );
}
