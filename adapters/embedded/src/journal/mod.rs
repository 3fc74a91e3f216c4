//! # The money journal on NOR flash
//!
//! Where a till keeps the [`JournalRecord`] of every charge, cancellation and refund it has
//! not finished with: written before a byte of the request leaves and at every change, read at
//! boot to resume what a power cut interrupted. Over any `embedded-storage` 0.3
//! [`NorFlash`] (blocking, [`Journal`]) or, with feature
//! `async`, `embedded-storage-async` 0.4 (`asynch::Journal`); no allocation, a scratch buffer
//! of [`SCRATCH_LEN`] bytes that you own.
//!
//! ```
//! # use konaplate_embedded::journal::{Geometry, Journal, SCRATCH_LEN};
//! # fn demo<F: embedded_storage::nor_flash::NorFlash>(flash: F) -> Result<(), konaplate_embedded::journal::JournalError<F::Error>> {
//! // 4 sectors of 4 KiB at offset 0x8_0000 of the flash (a region of its own)
//! let geometry = Geometry::new(0x8_0000, 4096, 4);
//! let mut scratch = [0u8; SCRATCH_LEN];
//! let (mut journal, report) = Journal::open(flash, geometry, &mut scratch)?;
//! if report.damaged_entries > 0 { /* log it: damage on flash was found and skipped */ }
//! if report.corrected_entries > 0 { /* log it: a bit flipped at rest, corrected */ }
//! for call in journal.open_calls() {
//!     // resume each with konaplate_core::flow::Flow::resume(&journal.read(&call)?, ..)
//! }
//! # Ok(()) }
//! ```
//!
//! ## What it guarantees
//!
//! * **A persist that returned `Ok` is never lost**, whatever power cut follows: the entry was
//!   written by one program operation and read back before `Ok`.
//! * **A cut leaves the state before or after the operation it cut**, never a mix, never a
//!   record that was not persisted, never two of one sequenceId; a cut during the recovery at
//!   boot, two or three deep, too.
//! * **No word is written twice** between erases (flash with ECC: STM32H7, L5, U5), and
//!   nothing is ever written after bytes whose state a cut may have left undecided: each boot
//!   (and each compaction) copies the live records into a freshly erased sector and works
//!   there.
//! * **Full is said before anything is sent**: [`Journal::can_take_new_call`] (and the money
//!   driver, which asks it) refuses a new call when the journal could not hold its records;
//!   an open record is never dropped to make room.
//! * **One flipped bit costs nothing**: a bit that flipped at rest anywhere in an entry (its
//!   header, its payload or a checksum) is located by the entry's CRC-32 and corrected as it is
//!   read ([`OpenReport::corrected_entries`]); a corrected record must pass the record's own
//!   checksum too. A sector header's is corrected the same way (one damaged further is
//!   recovered from its entries).
//! * **Damage is reported, never hidden**: an entry damaged beyond one bit is skipped and
//!   counted ([`OpenReport::damaged_entries`]); the entries after it are read.
//!
//! ## The format (version 1)
//!
//! The region is `sectors` journal sectors of `sector_size` bytes (a multiple of the flash's
//! erase, write and read sizes; 3 to 32 sectors of at least 2304 bytes). Exactly one
//! sector is the journal at any time: the one with the highest sequence number whose snapshot
//! is complete. It starts with a copy of every live record (the latest record of each
//! sequenceId not closed), then a *complete* marker, then the records and close markers
//! appended since. When it fills, and at every boot, the live records move to the next sector
//! in the ring: erase it, check it reads blank, write its header, copy, mark complete. A cut
//! before the marker leaves the old sector the journal; after it, the new one. The byte layout
//! is in the source (`journal/format.rs`). Records are stored with their zero runs folded
//! (about 200 of their 512 bytes).
//!
//! | a power cut during | leaves |
//! |---|---|
//! | a record's write | the record before it (the persist had not returned), or the new one |
//! | an erase, a header, a copy of a compaction | the old sector as the journal, unchanged |
//! | the complete marker | the old sector, or the new one: the same records |
//! | the recovery at boot | the same, for the next boot to do again |
//!
//! ## Wiring
//!
//! Give the journal a region of its own (no other code may write or erase it), aligned to the
//! erase size; `sector_size` 4 KiB or more (a journal sector may span several erase units).
//! It holds at most [`MAX_LIVE`] live records, and as many as one sector holds with room for
//! a new call (a record takes about 200 bytes, 544 at most): about 8 in 4 KiB. The flash's `WRITE_SIZE` and `READ_SIZE` may be
//! 1, 2, 4, 8, 16 or 32. Open it once at boot, before the first money call; resume every
//! [`Journal::open_calls`] before a new one (the money driver does both).

use core::borrow::BorrowMut;

use embedded_storage::nor_flash::NorFlash;
use konaplate_core::error::{Describe, Sink};
use konaplate_core::field::SequenceId;
use konaplate_core::flow::{JournalRecord, RecordError, State};

mod format;
#[cfg(feature = "flash-model")]
pub mod model;

/// The journal's logic (`inner.rs`) over the blocking flash traits: the async source with
/// `async` and `.await` removed, straight-line code.
#[path = "."]
mod blocking {
    pub(crate) use embedded_storage::nor_flash::NorFlash;
    pub(crate) use konaplate_bisync::blocking as bisync;
    pub(crate) mod inner;
}

/// The same source as written, over the async flash traits.
#[cfg(feature = "async")]
#[path = "."]
mod nonblocking {
    pub(crate) use embedded_storage_async::nor_flash::NorFlash;
    pub(crate) use konaplate_bisync::asynchronous as bisync;
    #[allow(
        clippy::duplicate_mod,
        reason = "the one source of the journal's logic, compiled a second time as async"
    )]
    pub(crate) mod inner;
}

pub use format::SCRATCH_LEN;

use blocking::inner::Inner;

/// Final, or closed by an operator: the platform's word is known or given up on.
pub(crate) fn is_settled(state: State) -> bool {
    state.is_final()
}

/// Most records the journal holds at once: open calls, and settled ones not closed yet.
pub const MAX_LIVE: usize = 8;

/// Smallest journal sector (bytes): a header, four entries of the largest size and the
/// marker, at any alignment. 4 KiB or more is advised.
pub const MIN_SECTOR_SIZE: u32 = 2304;

/// Where the journal lives on the flash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Offset of the region in the flash (a multiple of the erase, write and read sizes).
    pub offset: u32,
    /// Bytes of one journal sector: a multiple of the flash's erase, write and read sizes.
    pub sector_size: u32,
    /// Journal sectors in the region (3 to 32: a compaction never erases the journal before
    /// the current one, so that one damaged marker never costs the journal).
    pub sectors: u32,
}

impl Geometry {
    /// `sectors` journal sectors of `sector_size` bytes from `offset`.
    pub const fn new(offset: u32, sector_size: u32, sectors: u32) -> Self {
        Self {
            offset,
            sector_size,
            sectors,
        }
    }

    /// Checks the geometry against a flash of `[WRITE_SIZE, READ_SIZE, ERASE_SIZE]` and
    /// `capacity`; returns the alignment of entries.
    fn check<E>(
        &self,
        [write, read, erase]: [usize; 3],
        capacity: usize,
    ) -> Result<usize, JournalError<E>> {
        let align = write.max(read).max(4);
        let erase = erase as u64;
        let size = u64::from(self.sector_size);
        let end = u64::from(self.offset) + size * u64::from(self.sectors);
        // a header, four entries of the largest size and the marker, at the least (the
        // documented floor is the same for every alignment)
        let need = ((format::pad(16, align) + 4 * format::SCRATCH_LEN) as u64)
            .max(u64::from(MIN_SECTOR_SIZE));
        let why = if !align.is_power_of_two() || align > format::MAX_ALIGN {
            Some("WRITE_SIZE and READ_SIZE must be 1, 2, 4, 8, 16 or 32")
        } else if erase == 0
            || size % erase != 0
            || u64::from(self.offset) % erase != 0
            || size % align as u64 != 0
            || u64::from(self.offset) % align as u64 != 0
        {
            // (a read or a write rounded up to the alignment never reaches the next sector)
            Some("offset and sector_size must be multiples of ERASE_SIZE, WRITE_SIZE and READ_SIZE")
        } else if self.sectors < 3 || self.sectors > 32 {
            Some("the journal needs 3 to 32 sectors")
        } else if size < need {
            Some("sector_size too small: at least 2304 bytes (4 KiB or more advised)")
        } else if end > capacity as u64 || end > u64::from(u32::MAX) {
            Some("the region ends past the flash's capacity")
        } else {
            None
        };
        match why {
            Some(w) => Err(JournalError::Geometry(w)),
            None => Ok(align),
        }
    }
}

/// What [`Journal::open`] found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct OpenReport {
    /// No journal was there: the region was formatted.
    pub formatted: bool,
    /// Intact entries read from the journal's sector.
    pub entries: u32,
    /// Entries a bit flip (or other damage) broke, skipped; the ones after them were read.
    pub damaged_entries: u32,
    /// Entries read with one flipped bit, corrected (and written whole by the compaction the
    /// open ends with). Worth a log line: bits that flip at rest are a flash wearing out.
    pub corrected_entries: u32,
    /// The last write was cut by a power loss and is not part of the journal (the persist it
    /// belonged to never returned `Ok`).
    pub torn_tail: bool,
    /// Sectors with a compaction a power cut interrupted (ignored).
    pub unfinished_compactions: u32,
    /// Sectors that are neither blank nor a journal sector (an erase a cut interrupted).
    pub unreadable_sectors: u32,
    /// Open calls: resume each before any new call.
    pub open_calls: u32,
    /// Settled calls (final) not closed yet.
    pub settled: u32,
}

/// Why the journal could not do what was asked. After an error the journal holds the state
/// before the operation, or after it when a write the flash called failed had stuck (as after
/// a power cut); a refusal (`Full`, `Settled`, `StillOpen`, `NotFound`, `Geometry`) writes
/// nothing.
#[derive(Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum JournalError<E> {
    /// The flash driver failed a read the journal could not do without.
    Flash(E),
    /// The geometry does not fit the flash (what is wrong).
    Geometry(&'static str),
    /// No room for another call: [`MAX_LIVE`] records are live, or the sector could not hold
    /// them with one more. Close settled calls; an open one is never dropped.
    Full,
    /// The record would replace a settled (final) one of its sequenceId: refused.
    Settled,
    /// An open call cannot be closed: resume it to its outcome first.
    StillOpen,
    /// No live record of that sequenceId.
    NotFound,
    /// The record's entry no longer passes its checksum (a bit flip on the flash); or a
    /// compaction met an open call whose record no longer reads, and left the journal as it
    /// was rather than drop it (an operator must check that call with KONA PLATE).
    Damaged,
    /// No sector of the region takes an erase and the writes after it: the flash is worn.
    Worn,
    /// The flash holds more live records than this build can index (another build's
    /// journal): refused, never read with a record missing.
    Overflow,
    /// Refused, nothing written ([`Journal::prepare_new_call`]): an older call of this
    /// journal still awaits the platform ([`Journal::awaiting_platform`]). Resume it to its
    /// outcome first.
    OpenCall,
    /// Refused, nothing written ([`Journal::prepare_new_call`]): the journal holds a record
    /// of this sequenceId already (each call needs its own).
    Taken,
}

/// A record that reads intact but does not decode is damaged.
impl<E> From<RecordError> for JournalError<E> {
    fn from(_: RecordError) -> Self {
        JournalError::Damaged
    }
}

impl<E: core::fmt::Debug> Describe for JournalError<E> {
    fn describe(&self, out: &mut dyn Sink) {
        match self {
            JournalError::Flash(_) => out.put("the flash driver failed a read"),
            JournalError::Geometry(why) => {
                out.put("journal geometry: ");
                out.put(why);
            }
            JournalError::Full => out.put(
                "the journal cannot take another call (close settled calls first); nothing was sent",
            ),
            JournalError::Settled => out.put("a settled record is never replaced"),
            JournalError::StillOpen => out.put("an open call cannot be closed: resume it first"),
            JournalError::NotFound => out.put("no live record of that sequenceId"),
            JournalError::Damaged => out.put("the record is damaged on the flash"),
            JournalError::Worn => out.put("no journal sector takes an erase and its writes"),
            JournalError::Overflow => {
                out.put("the flash holds more live records than this build can index")
            }
            JournalError::OpenCall => {
                out.put("an older call awaits the platform: resume it first; nothing was sent")
            }
            JournalError::Taken => {
                out.put("the journal holds a record of this sequenceId already; nothing was sent")
            }
        }
    }
}

impl<E: core::fmt::Debug> core::fmt::Display for JournalError<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        struct W<'a, 'b>(&'a mut core::fmt::Formatter<'b>, core::fmt::Result);
        impl Sink for W<'_, '_> {
            fn put(&mut self, s: &str) {
                if self.1.is_ok() {
                    self.1 = self.0.write_str(s);
                }
            }
        }
        let mut w = W(f, Ok(()));
        self.describe(&mut w);
        w.1
    }
}

impl<E: core::fmt::Debug> core::error::Error for JournalError<E> {}

/// The scratch a journal works in: borrowed (`&mut [u8; SCRATCH_LEN]`) or owned (an array),
/// for a journal kept in a `static`.
pub type Scratch = [u8; SCRATCH_LEN];

/// The journal over a blocking flash. See the [module](self) for what it guarantees. `S` is
/// its scratch: `&mut [u8; SCRATCH_LEN]` or `[u8; SCRATCH_LEN]`.
pub struct Journal<F: NorFlash, S: BorrowMut<Scratch>> {
    inner: Inner<F>,
    scratch: S,
}

impl<F: NorFlash, S: BorrowMut<Scratch>> Journal<F, S> {
    /// Opens the journal in `geometry` of `flash` at boot: reads every sector, takes the
    /// newest complete one, skips (and reports) what a power cut or a bit flip left, and
    /// moves the live records into a freshly erased sector. Formats an empty region.
    pub fn open(
        flash: F,
        geometry: Geometry,
        mut scratch: S,
    ) -> Result<(Self, OpenReport), JournalError<F::Error>> {
        let (inner, report) = Inner::open(flash, geometry, scratch.borrow_mut())?;
        Ok((Self { inner, scratch }, report))
    }

    /// Persists `record` durably: written and read back before `Ok`. Its sequenceId's
    /// earlier record is superseded; a settled one is never replaced ([`JournalError::Settled`]).
    /// A new sequenceId is refused when the journal has no room for it and one more record
    /// ([`JournalError::Full`], nothing written). After an error the journal holds the state
    /// before or after the record, as after a power cut: a write the flash said failed may
    /// still have stuck.
    pub fn persist(&mut self, record: &JournalRecord) -> Result<(), JournalError<F::Error>> {
        self.inner.persist(record, self.scratch.borrow_mut())
    }

    /// Closes the settled call `sequence_id` once you have acted on its outcome: its record
    /// is dropped at the next compaction. An open call is refused ([`JournalError::StillOpen`]).
    pub fn close(&mut self, sequence_id: &SequenceId) -> Result<(), JournalError<F::Error>> {
        self.inner.close(sequence_id, self.scratch.borrow_mut())
    }

    /// The latest record of `sequence_id`, decoded ([`Journal::read_into`], then
    /// `JournalRecord::decode_current`; a record that does not decode is
    /// [`JournalError::Damaged`]).
    pub fn read(
        &mut self,
        sequence_id: &SequenceId,
    ) -> Result<JournalRecord, JournalError<F::Error>> {
        let mut bytes = [0u8; JournalRecord::LEN];
        self.read_into(sequence_id, &mut bytes)?;
        JournalRecord::decode_current_as(&bytes)
    }

    /// The latest record of `sequence_id` as it was persisted (`JournalRecord::encode`'s
    /// bytes, their entry's checksum checked, not decoded) into `out`: to hand on as bytes
    /// (the C ABI does), or to decode where its errors are handled. An error writes no part
    /// of a record into `out`.
    pub fn read_into(
        &mut self,
        sequence_id: &SequenceId,
        out: &mut [u8; JournalRecord::LEN],
    ) -> Result<(), JournalError<F::Error>> {
        self.inner
            .read_into(sequence_id, self.scratch.borrow_mut(), out)
    }

    /// Moves the live records into the next sector now (bounded: one erase, at most
    /// [`MAX_LIVE`] + 2 writes, unless sectors are worn).
    pub fn compact(&mut self) -> Result<(), JournalError<F::Error>> {
        self.inner.compact(self.scratch.borrow_mut())
    }

    /// Every live record's sequenceId and state: open calls and settled ones not closed.
    pub fn entries(&self) -> impl Iterator<Item = (&SequenceId, State)> {
        self.inner.live.iter().map(|l| (&l.sequence_id, l.state))
    }

    /// The open calls: resume each before a new one (copies of their sequenceIds).
    pub fn open_calls(&self) -> impl Iterator<Item = SequenceId> + use<'_, F, S> {
        self.inner
            .live
            .iter()
            .filter(|l| !is_settled(l.state))
            .map(|l| l.sequence_id)
    }

    /// Whether a new call's records would fit (asked before anything is sent).
    pub fn can_take_new_call(&self) -> bool {
        self.inner.can_take_new_call()
    }

    /// The first call that awaits the platform (the one [`JournalError::OpenCall`] means):
    /// resume it before a new one.
    pub fn awaiting_platform(&self) -> Option<SequenceId> {
        self.inner.awaiting_platform()
    }

    /// Makes the journal ready for a new money call under `sequence_id`, before its flow
    /// starts (what [`crate::money::run`] does first): refused while an older call awaits the
    /// platform ([`JournalError::OpenCall`]: an in-doubt charge is resolved before the next
    /// customer pays) or when `sequence_id` has a record already ([`JournalError::Taken`]);
    /// then the settled calls are closed (their outcome was returned and acted on), and the
    /// journal must have room for the new call's records ([`JournalError::Full`]). A refund
    /// whose outcome is unknown neither blocks nor is closed: it waits for an operator.
    pub fn prepare_new_call(
        &mut self,
        sequence_id: &SequenceId,
    ) -> Result<(), JournalError<F::Error>> {
        self.inner
            .prepare_new_call(sequence_id, self.scratch.borrow_mut())
    }

    /// The flash back.
    pub fn release(self) -> F {
        self.inner.flash
    }
}

/// The journal over an async flash (`embedded-storage-async` 0.4): the same code as
/// [`Journal`], awaited.
#[cfg(feature = "async")]
pub mod asynch {
    use embedded_storage_async::nor_flash::NorFlash;
    use konaplate_core::field::SequenceId;
    use konaplate_core::flow::{JournalRecord, State};

    use core::borrow::BorrowMut;

    use super::nonblocking::inner::Inner;
    use super::{Geometry, JournalError, OpenReport, Scratch, is_settled};

    /// The journal over an async flash. See [`super::Journal`] for each method.
    pub struct Journal<F: NorFlash, S: BorrowMut<Scratch>> {
        inner: Inner<F>,
        scratch: S,
    }

    impl<F: NorFlash, S: BorrowMut<Scratch>> Journal<F, S> {
        /// See [`super::Journal::open`].
        pub async fn open(
            flash: F,
            geometry: Geometry,
            mut scratch: S,
        ) -> Result<(Self, OpenReport), JournalError<F::Error>> {
            let (inner, report) = Inner::open(flash, geometry, scratch.borrow_mut()).await?;
            Ok((Self { inner, scratch }, report))
        }
        /// See [`super::Journal::persist`].
        pub async fn persist(
            &mut self,
            record: &JournalRecord,
        ) -> Result<(), JournalError<F::Error>> {
            self.inner.persist(record, self.scratch.borrow_mut()).await
        }
        /// See [`super::Journal::close`].
        pub async fn close(
            &mut self,
            sequence_id: &SequenceId,
        ) -> Result<(), JournalError<F::Error>> {
            self.inner
                .close(sequence_id, self.scratch.borrow_mut())
                .await
        }
        /// See [`super::Journal::read`].
        pub async fn read(
            &mut self,
            sequence_id: &SequenceId,
        ) -> Result<JournalRecord, JournalError<F::Error>> {
            let mut bytes = [0u8; JournalRecord::LEN];
            self.read_into(sequence_id, &mut bytes).await?;
            JournalRecord::decode_current_as(&bytes)
        }
        /// See [`super::Journal::read_into`].
        pub async fn read_into(
            &mut self,
            sequence_id: &SequenceId,
            out: &mut [u8; JournalRecord::LEN],
        ) -> Result<(), JournalError<F::Error>> {
            self.inner
                .read_into(sequence_id, self.scratch.borrow_mut(), out)
                .await
        }
        /// See [`super::Journal::compact`].
        pub async fn compact(&mut self) -> Result<(), JournalError<F::Error>> {
            self.inner.compact(self.scratch.borrow_mut()).await
        }
        /// See [`super::Journal::entries`].
        pub fn entries(&self) -> impl Iterator<Item = (&SequenceId, State)> {
            self.inner.live.iter().map(|l| (&l.sequence_id, l.state))
        }
        /// See [`super::Journal::open_calls`].
        pub fn open_calls(&self) -> impl Iterator<Item = SequenceId> + use<'_, F, S> {
            self.inner
                .live
                .iter()
                .filter(|l| !is_settled(l.state))
                .map(|l| l.sequence_id)
        }
        /// See [`super::Journal::can_take_new_call`].
        pub fn can_take_new_call(&self) -> bool {
            self.inner.can_take_new_call()
        }
        /// See [`super::Journal::awaiting_platform`].
        pub fn awaiting_platform(&self) -> Option<SequenceId> {
            self.inner.awaiting_platform()
        }
        /// See [`super::Journal::prepare_new_call`].
        pub async fn prepare_new_call(
            &mut self,
            sequence_id: &SequenceId,
        ) -> Result<(), JournalError<F::Error>> {
            self.inner
                .prepare_new_call(sequence_id, self.scratch.borrow_mut())
                .await
        }
        /// The flash back.
        pub fn release(self) -> F {
            self.inner.flash
        }
    }
}
