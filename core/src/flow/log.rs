//! Reading a journal: a byte log of [`JournalRecord`]s appended one after another.
//!
//! A power loss can cut the last write anywhere (a *torn tail*), and a disk can damage bytes
//! in the middle. [`Scan`] reads every whole record wherever it sits: after damaged bytes it
//! resynchronizes on the next record that passes its checksum, so one bad spot never hides
//! the records after it, and it reports every damaged region instead of skipping it in
//! silence. [`repair_len`] tells how far the journal must be cut back before the next append
//! so that new records never land after a torn tail.

use super::JournalRecord;
use super::record::{MAGIC, len_of_magic};

/// One thing found in a journal's bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Item {
    /// A whole record that passed its checksum.
    Record {
        /// Where it starts.
        offset: usize,
        /// The record.
        record: JournalRecord,
    },
    /// Bytes that are not a whole valid record: a torn write (at the end) or damage.
    Damaged {
        /// Where they start.
        offset: usize,
        /// How many bytes.
        len: usize,
    },
}

/// Iterator over the [`Item`]s of a journal's bytes, in order.
#[derive(Clone, Debug)]
pub struct Scan<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// Reads `bytes` as a journal.
pub fn scan(bytes: &[u8]) -> Scan<'_> {
    Scan { bytes, pos: 0 }
}

fn record_at(bytes: &[u8], at: usize) -> Option<(JournalRecord, usize)> {
    let rest = bytes.get(at..)?;
    let len = len_of_magic(rest.get(..4)?)?;
    JournalRecord::decode(rest).ok().map(|r| (r, len))
}

impl Iterator for Scan<'_> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        let at = self.pos;
        if at >= self.bytes.len() {
            return None;
        }
        if let Some((record, len)) = record_at(self.bytes, at) {
            self.pos = at + len;
            return Some(Item::Record { offset: at, record });
        }
        // resynchronize on the next whole record
        let mut next = at + 1;
        while next < self.bytes.len() {
            if self.bytes.get(next..next + 3) == Some(&MAGIC[..3])
                && record_at(self.bytes, next).is_some()
            {
                break;
            }
            next += 1;
        }
        let next = next.min(self.bytes.len());
        self.pos = next;
        Some(Item::Damaged {
            offset: at,
            len: next - at,
        })
    }
}

/// What [`repair_len`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Repair {
    /// The journal is whole: append at its end.
    Whole,
    /// Cut the journal back to this length (the end of its last whole record, or 0 when its
    /// only content is a torn first record) before appending: what follows is a torn tail.
    CutTo(usize),
    /// The bytes hold no record and do not start like one: this is not a journal (never cut
    /// a file that may be something else).
    NotAJournal,
}

/// How far a journal must be cut back before the next append.
pub fn repair_len(bytes: &[u8]) -> Repair {
    let mut end = None;
    let mut s = scan(bytes);
    while let Some(item) = s.next() {
        if let Item::Record { .. } = item {
            // the scanner stands right after the record it returned
            end = Some(s.pos);
        }
    }
    match end {
        Some(e) if e == bytes.len() => Repair::Whole,
        Some(e) => Repair::CutTo(e),
        None if bytes.is_empty() => Repair::Whole,
        None if starts_like_a_record(bytes) => Repair::CutTo(0),
        None => Repair::NotAJournal,
    }
}

fn starts_like_a_record(bytes: &[u8]) -> bool {
    let n = bytes.len().min(3);
    bytes.get(..n) == MAGIC.get(..n)
}
