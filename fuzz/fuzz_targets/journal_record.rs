//! The journal record decoder and the journal scanner: never panic; a decoded record
//! re-encodes to one that decodes equal; the current format's reader agrees with it; a repaired journal ends on a whole record and keeps
//! every record the damaged one held.
#![no_main]

use konaplate_core::flow::{Item, JournalRecord, Repair, repair_len, scan};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let any = JournalRecord::decode(data);
    if let Ok(rec) = &any {
        let again = JournalRecord::decode(&rec.encode()).expect("re-encoded record decodes");
        assert_eq!(&again, rec);
    }
    // the current format's reader (the flash journals') agrees with decode on its format
    match JournalRecord::decode_current(data) {
        Ok(r) => assert_eq!(any.as_ref(), Ok(&r)),
        Err(_) => assert!(any.is_err() || data.starts_with(b"KPJ1")),
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
