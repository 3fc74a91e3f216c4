//! The journal record decoder and the journal scanner: never panic; a decoded record
//! re-encodes to one that decodes equal; a repaired journal ends on a whole record and keeps
//! every record the damaged one held.
#![no_main]

use konaplate_core::flow::{Item, JournalRecord, Repair, repair_len, scan};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(rec) = JournalRecord::decode(data) {
        let again = JournalRecord::decode(&rec.encode()).expect("re-encoded record decodes");
        assert_eq!(again, rec);
    }
    let records = scan(data)
        .filter(|i| matches!(i, Item::Record { .. }))
        .count();
    match repair_len(data) {
        Repair::Whole => {}
        Repair::CutTo(n) => {
            assert!(n < data.len());
            let cut = &data[..n];
            assert_eq!(
                repair_len(cut),
                Repair::Whole,
                "a repaired journal is whole"
            );
            let kept = scan(cut)
                .filter(|i| matches!(i, Item::Record { .. }))
                .count();
            assert_eq!(kept, records, "the cut removed a whole record");
        }
        Repair::NotAJournal => assert_eq!(records, 0),
        other => panic!("unknown repair {other:?}"),
    }
});
