//! The journal record decoder: never panics; a decoded record re-encodes to one that decodes
//! equal.
#![no_main]

use konaplate_core::flow::JournalRecord;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(rec) = JournalRecord::decode(data) {
        let again = JournalRecord::decode(&rec.encode()).expect("re-encoded record decodes");
        assert_eq!(again, rec);
    }
});
