//! The file journal: torn tails, damage, final states, permissions, locks and concurrent
//! writers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::io::Write;

use konaplate::core::api::ChargeRequest;
use konaplate::core::field::*;
use konaplate::core::flow::{Flow, JournalRecord, Policy, State};
use konaplate::journal::FileJournal;

fn rec(seq: &str, state: State) -> JournalRecord {
    let charge = ChargeRequest {
        sequence_id: SequenceId::new(seq).unwrap(),
        user_id: UserId::new(50_000_100_001).unwrap(),
        amount: ChargeAmount::new(1_000).unwrap(),
        one_time_token: OneTimeToken::new("1234567890123456").unwrap(),
        dcvv: Dcvv::new("123").unwrap(),
        merchant_id: MerchantId::new("100000000000101").unwrap(),
    };
    // the record written before its first send
    let mut f = Flow::start(charge, Policy::default(), 1);
    f.poll(1);
    let mut r = f.record();
    if state != State::Sending {
        r.maybe_arrived = true;
        r.updated_ms = 2;
    }
    r.state = state;
    r
}

#[test]
fn a_torn_tail_is_cut_on_open_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.kpj");
    let mut j = FileJournal::open(&path).unwrap();
    j.append(&rec("A", State::Lost)).unwrap();
    drop(j);
    // a write cut by power loss: the first 100 bytes of a record
    let torn = rec("A", State::Completed).encode();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap()
        .write_all(&torn[..100])
        .unwrap();
    let mut j = FileJournal::open(&path).unwrap();
    let w = j.take_warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("cut 100 bytes of a torn write"), "{w:?}");
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        JournalRecord::LEN as u64
    );
    // a record appended now lands on a whole record, and everything is read
    j.append(&rec("B", State::Pending)).unwrap();
    let j = FileJournal::open(&path).unwrap();
    assert_eq!(j.latest().len(), 2);
    assert_eq!(j.unfinished().len(), 2);
    assert_eq!(
        j.latest_of(&SequenceId::new("B").unwrap()).unwrap().state,
        State::Pending
    );
}

#[test]
fn damage_in_the_middle_is_reported_and_the_records_after_it_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.kpj");
    let mut bytes = rec("A", State::Lost).encode().to_vec();
    bytes.extend_from_slice(&[0x42; 100]);
    bytes.extend_from_slice(&rec("B", State::Pending).encode());
    std::fs::write(&path, &bytes).unwrap();
    let mut j = FileJournal::open(&path).unwrap();
    let w = j.take_warnings();
    assert!(
        w.iter()
            .any(|w| w.contains("100 damaged bytes at offset 512")),
        "{w:?}"
    );
    assert_eq!(
        j.latest().len(),
        2,
        "the record after the damage is not hidden"
    );
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        bytes.len() as u64,
        "damage in the middle is kept"
    );
}

#[test]
fn a_file_that_is_not_a_journal_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, b"my shopping list: rice, kimchi").unwrap();
    let e = FileJournal::open(&path).unwrap_err();
    assert!(e.to_string().contains("not a konaplate journal"), "{e}");
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"my shopping list: rice, kimchi"
    );
}

#[test]
fn a_final_state_is_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let mut j = FileJournal::open(dir.path().join("j.kpj")).unwrap();
    j.append(&rec("A", State::Lost)).unwrap();
    j.append(&rec("A", State::Completed)).unwrap();
    let e = j.append(&rec("A", State::NotProcessed)).unwrap_err();
    assert!(e.to_string().contains("refusing"), "{e}");
    // by another process too
    let mut other = FileJournal::open(dir.path().join("j.kpj")).unwrap();
    assert!(other.append(&rec("A", State::Lost)).is_err());
    assert_eq!(
        other
            .latest_of(&SequenceId::new("A").unwrap())
            .unwrap()
            .state,
        State::Completed
    );
}

#[cfg(unix)]
#[test]
fn files_are_private_and_directories_fsynced() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state/konaplate/j.kpj");
    FileJournal::open(&path).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&dir.path().join("state/konaplate")), 0o700);
    assert_eq!(mode(&dir.path().join("state")), 0o700);
    // a journal left readable by others is tightened, and the operator told
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let mut j = FileJournal::open(&path).unwrap();
    assert_eq!(mode(&path), 0o600);
    assert!(
        j.take_warnings()
            .iter()
            .any(|w| w.contains("readable by others"))
    );
    // entry lock files are private too
    let lock = j
        .try_lock_entry(&SequenceId::new("A").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(
        mode(&dir.path().join("state/konaplate/j.kpj.locks/A.lock")),
        0o600
    );
    j.release_entry(lock).unwrap();
    assert!(
        !dir.path()
            .join("state/konaplate/j.kpj.locks/A.lock")
            .exists(),
        "no lock file is left for an entry that needs none"
    );
}

#[test]
fn an_entry_driven_by_one_handle_is_busy_for_another() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.kpj");
    let mut a = FileJournal::open(&path).unwrap();
    let b = FileJournal::open(&path).unwrap();
    let seq = SequenceId::new("BUSY-1").unwrap();
    a.append(&rec("BUSY-1", State::Lost)).unwrap();
    let held = a.try_lock_entry(&seq).unwrap().expect("free");
    assert!(
        b.try_lock_entry(&seq).unwrap().is_none(),
        "a second driver is refused"
    );
    assert!(b.is_driven_elsewhere(&seq).unwrap());
    // another entry is not blocked
    assert!(
        b.try_lock_entry(&SequenceId::new("OTHER").unwrap())
            .unwrap()
            .is_some()
    );
    a.release_entry(held).unwrap();
    assert!(!b.is_driven_elsewhere(&seq).unwrap());
    assert!(b.try_lock_entry(&seq).unwrap().is_some());
}

/// Eight threads, each with its own handle (as separate processes would have), append
/// interleaved records: every record is whole and readable afterwards.
#[test]
fn concurrent_writers_never_tear_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.kpj");
    FileJournal::open(&path).unwrap();
    std::thread::scope(|s| {
        for t in 0..8 {
            let path = &path;
            s.spawn(move || {
                let mut j = FileJournal::open(path).unwrap();
                for i in 0..25 {
                    let seq = format!("T{t}-{i}");
                    j.append(&rec(&seq, State::Lost)).unwrap();
                    j.append(&rec(&seq, State::Completed)).unwrap();
                }
            });
        }
    });
    let mut j = FileJournal::open(&path).unwrap();
    assert!(j.take_warnings().is_empty());
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        8 * 25 * 2 * JournalRecord::LEN as u64
    );
    let latest = j.latest();
    assert_eq!(latest.len(), 200);
    assert!(latest.iter().all(|r| r.state == State::Completed));
    assert_eq!(j.records().unwrap().len(), 400);
}
