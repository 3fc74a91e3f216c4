//! The money journal on NOR flash for C tills: `konaplate_embedded::journal` behind three
//! flash callbacks (read, write, erase, with your userdata) and the flash's geometry, in
//! caller storage. Persist every record a flow asks for (`PERSIST`: `konaplate_flow_record`,
//! then `konaplate_journal_persist`, then `konaplate_flow_persisted`); at boot, open it and
//! resume every entry that awaits the platform (`konaplate_journal_read` into
//! `konaplate_flow_resume`) before any new call.

use core::ffi::{c_char, c_int, c_void};

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};
use konaplate_core::field::SequenceId;
use konaplate_core::flow::JournalRecord;
use konaplate_embedded::journal::{Geometry, Journal, JournalError, SCRATCH_LEN, Scratch};

use crate::c::{
    BusyGuard, CallbackFailed, Failure, Tagged, finish, konaplate_error, konaplate_result,
    non_null, non_null_mut, not_busy, ptr_text, put_text, store, stored, stored_mut, wipe_stored,
    write_out,
};
use crate::flow::{CFlow, konaplate_flow, konaplate_state, state_of};
use crate::limits::KONAPLATE_SEQUENCE_ID_SIZE;

/// 64-bit words of storage for a `konaplate_journal`.
pub const KONAPLATE_JOURNAL_WORDS: usize = 160;

/// Reads `len` bytes at `offset` of the flash into `out`. Returns 0 on success.
pub type konaplate_flash_read_fn = Option<
    unsafe extern "C" fn(userdata: *mut c_void, offset: u32, out: *mut u8, len: usize) -> c_int,
>;
/// Programs `len` bytes at `offset` (each byte erased before: the journal never writes a word
/// twice between erases). Returns 0 once they are written.
pub type konaplate_flash_write_fn = Option<
    unsafe extern "C" fn(userdata: *mut c_void, offset: u32, data: *const u8, len: usize) -> c_int,
>;
/// Erases `[from, to)` (whole erase units) to `0xFF`. Returns 0 once it is erased.
pub type konaplate_flash_erase_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, from: u32, to: u32) -> c_int>;

/// Your NOR flash: three callbacks and its geometry. The journal reads and writes in aligned
/// runs of 32 bytes (any write size from 1 to 32 that divides 32 takes them) and erases whole
/// journal sectors. A callback may not call back into the library on the journal it serves.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct konaplate_flash {
    /// Read callback.
    pub read: konaplate_flash_read_fn,
    /// Write callback.
    pub write: konaplate_flash_write_fn,
    /// Erase callback.
    pub erase: konaplate_flash_erase_fn,
    /// Passed to every callback.
    pub userdata: *mut c_void,
    /// Bytes of the flash (offsets run from 0).
    pub capacity: u32,
    /// The flash's write unit in bytes: 1, 2, 4, 8, 16 or 32.
    pub write_size: u32,
    /// The flash's erase unit in bytes.
    pub erase_size: u32,
}

impl NorFlashError for CallbackFailed {
    fn kind(&self) -> NorFlashErrorKind {
        NorFlashErrorKind::Other
    }
}

/// The C flash as the journal's `NorFlash`: 32-byte accesses (a multiple of every supported
/// write size), erases of whole journal sectors (checked against the erase unit at open).
struct CFlash(konaplate_flash);

impl ErrorType for CFlash {
    type Error = CallbackFailed;
}

impl ReadNorFlash for CFlash {
    const READ_SIZE: usize = 32;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), CallbackFailed> {
        let f = self.0.read.ok_or(CallbackFailed)?;
        // SAFETY: the callback gets a valid buffer of `bytes.len()` writable bytes (the
        // header's contract for the callback: it writes at most `len`).
        let rc = unsafe { f(self.0.userdata, offset, bytes.as_mut_ptr(), bytes.len()) };
        if rc == 0 { Ok(()) } else { Err(CallbackFailed) }
    }
    fn capacity(&self) -> usize {
        self.0.capacity as usize
    }
}

impl NorFlash for CFlash {
    const WRITE_SIZE: usize = 32;
    const ERASE_SIZE: usize = 1;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), CallbackFailed> {
        let f = self.0.erase.ok_or(CallbackFailed)?;
        // SAFETY: a plain call with the range.
        let rc = unsafe { f(self.0.userdata, from, to) };
        if rc == 0 { Ok(()) } else { Err(CallbackFailed) }
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), CallbackFailed> {
        let f = self.0.write.ok_or(CallbackFailed)?;
        // SAFETY: the callback gets `bytes.len()` readable bytes.
        let rc = unsafe { f(self.0.userdata, offset, bytes.as_ptr(), bytes.len()) };
        if rc == 0 { Ok(()) } else { Err(CallbackFailed) }
    }
}

type CJournal = Journal<CFlash, Scratch>;

/// What a journal's storage holds: a journal, or nothing yet while `konaplate_journal_open`
/// runs (then it is also busy: a flash callback of the open that calls back into the library
/// on this storage is refused, whatever it held before).
#[allow(
    clippy::large_enum_variant,
    reason = "it lives in the caller's storage, written once in place: no heap to box into"
)]
enum Slot {
    Opening,
    Open(CJournal),
}

impl Tagged for Slot {
    const NAME: &'static [u8] = b"konaplate_journal";
}

fn opening() -> Failure {
    Failure::say(
        konaplate_result::Busy,
        "`journal` is being opened (a flash callback of the open may not call back into the library on it)",
    )
}

/// Storage for a journal (its scratch included). Open it with `konaplate_journal_open`; wipe
/// it with `konaplate_journal_wipe`. Do not copy it.
#[repr(C)]
pub struct konaplate_journal {
    /// Opaque.
    pub _opaque: [u64; KONAPLATE_JOURNAL_WORDS],
}

/// What `konaplate_journal_open` found.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct konaplate_journal_report {
    /// No journal was there: the region was formatted.
    pub formatted: bool,
    /// Intact entries read.
    pub entries: u32,
    /// Entries a bit flip broke (skipped; the ones after them were read).
    pub damaged_entries: u32,
    /// Entries read with one flipped bit, corrected (log it: a flash wearing out).
    pub corrected_entries: u32,
    /// The last write was cut by a power loss (its persist never returned OK).
    pub torn_tail: bool,
    /// Calls that await the platform or an operator: resume them before any new call.
    pub open_calls: u32,
    /// Settled calls not closed yet.
    pub settled: u32,
}

/// One live entry of the journal.
#[repr(C)]
pub struct konaplate_journal_entry {
    /// Its `sequenceId`, NUL-terminated.
    pub sequence_id: [c_char; KONAPLATE_SEQUENCE_ID_SIZE],
    /// Its journaled state.
    pub state: konaplate_state,
    /// Final: the platform's word is known (close it once acted on).
    pub is_final: bool,
    /// It awaits the platform: resume it (`konaplate_journal_read`, `konaplate_flow_resume`).
    pub awaits_platform: bool,
}

unsafe fn journal_mut<'a>(j: *mut konaplate_journal) -> Result<&'a mut CJournal, Failure> {
    // SAFETY: forwarded contract.
    match unsafe { stored_mut::<konaplate_journal, Slot>(j, "journal") }? {
        Slot::Open(j) => Ok(j),
        Slot::Opening => Err(opening()),
    }
}

unsafe fn journal_ref<'a>(j: *const konaplate_journal) -> Result<&'a CJournal, Failure> {
    // SAFETY: forwarded contract.
    match unsafe { stored::<konaplate_journal, Slot>(j, "journal") }? {
        Slot::Open(j) => Ok(j),
        Slot::Opening => Err(opening()),
    }
}

fn sequence_id(p: *const c_char) -> Result<SequenceId, Failure> {
    // SAFETY: `p` is NULL (reported) or a NUL-terminated string (the header's contract).
    let s = unsafe { ptr_text(p, "sequenceId", 30) }?;
    Ok(SequenceId::new(s)?)
}

/// Opens the journal in `sectors` journal sectors of `sector_size` bytes at `offset` of
/// `flash` (at boot, before any money call): reads every sector, takes the newest complete
/// one, skips (and reports in `*report`, NULL allowed) what a power cut or a bit flip left,
/// and moves the live records into a freshly erased sector. Formats an empty region.
/// `sector_size` and `offset` must be multiples of the flash's erase unit and of 32,
/// `sector_size` at least 2304 (4096 or more advised), `sectors` 3 to 32; `write_size` 1 to
/// 32, a power of two (`KONAPLATE_RESULT_INVALID_ARGUMENT` otherwise). The callbacks are
/// copied. A journal the storage held is dropped first; while the open runs, a flash
/// callback that calls back into the library on this storage is refused
/// (`KONAPLATE_RESULT_BUSY`); on an error the storage holds no journal
/// (`KONAPLATE_RESULT_NOT_INITIALIZED` until it is opened again).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_journal_open(
    journal: *mut konaplate_journal,
    flash: *const konaplate_flash,
    offset: u32,
    sector_size: u32,
    sectors: u32,
    report: *mut konaplate_journal_report,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: `report` is NULL, misaligned (not written) or writable.
    unsafe { write_out(report, konaplate_journal_report::default()) };
    let r = (|| {
        // SAFETY: the pointers are NULL (reported) or valid (the header's contract). A journal
        // in use by a running call (a flash callback opening it again) is refused before its
        // flash is read or written: an open compacts into a fresh sector, which would leave
        // the running call's journal appending to a sector no longer the newest
        unsafe { not_busy::<konaplate_journal, Slot>(journal, "journal") }?;
        let f = *unsafe { non_null(flash, "flash") }?;
        let ws = f.write_size;
        let bad = if f.read.is_none() || f.write.is_none() || f.erase.is_none() {
            Some("every flash callback is needed")
        } else if ws == 0 || !ws.is_power_of_two() || ws > 32 {
            Some("write_size must be 1, 2, 4, 8, 16 or 32")
        } else if f.erase_size == 0
            || !sector_size.is_multiple_of(f.erase_size)
            || !offset.is_multiple_of(f.erase_size)
            || !sector_size.is_multiple_of(32)
            || !offset.is_multiple_of(32)
        {
            // (the library reads and writes in units of 32 bytes: none reaches the next sector)
            Some("offset and sector_size must be multiples of erase_size and of 32")
        } else {
            None
        };
        if let Some(why) = bad {
            return Err(Failure::say(konaplate_result::InvalidArgument, why));
        }
        // the storage holds nothing but the open from here on (a journal it held is dropped,
        // its secrets wiped), marked busy while the flash callbacks run: a callback that
        // opens it again, or persists to the journal it held, is refused (an inner open would
        // compact into a sector newer than the one this open leaves its journal appending to)
        unsafe { store(journal, "journal", Slot::Opening) }?;
        let busy = unsafe { BusyGuard::enter::<konaplate_journal, Slot>(journal) };
        let opened = CJournal::open(
            CFlash(f),
            Geometry::new(offset, sector_size, sectors),
            [0u8; SCRATCH_LEN],
        );
        drop(busy);
        let (j, rep) = match opened {
            Ok(o) => o,
            Err(e) => {
                // nothing half-opened is left: the storage reads as never initialized
                unsafe { wipe_stored::<konaplate_journal, Slot>(journal) };
                return Err(Failure::journal(e));
            }
        };
        let out = konaplate_journal_report {
            formatted: rep.formatted,
            entries: rep.entries,
            damaged_entries: rep.damaged_entries,
            corrected_entries: rep.corrected_entries,
            torn_tail: rep.torn_tail,
            open_calls: rep.open_calls,
            settled: rep.settled,
        };
        // SAFETY: forwarded contract.
        unsafe { store(journal, "journal", Slot::Open(j)) }?;
        // SAFETY: as above.
        unsafe { write_out(report, out) };
        Ok(())
    })();
    finish(r, err)
}

/// Persists the journal record `record[0 .. record_len]` (what `konaplate_flow_record` gave):
/// written and read back before `KONAPLATE_RESULT_OK`. A damaged record is
/// `KONAPLATE_RESULT_RECORD`; a new call's record when the journal has no room is
/// `KONAPLATE_RESULT_JOURNAL_FULL` (nothing written: do not send); a new call's record while
/// an older call awaits the platform is `KONAPLATE_RESULT_IN_USE` (the message names it;
/// nothing written: resume that one first); a record that would replace a settled one is
/// `KONAPLATE_RESULT_JOURNAL`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_journal_persist(
    journal: *mut konaplate_journal,
    record: *const u8,
    record_len: usize,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        if record.is_null() {
            return Err(Failure::null("record"));
        }
        // SAFETY: `record` points to `record_len` readable bytes.
        let bytes = unsafe { core::slice::from_raw_parts(record, record_len) };
        let rec = JournalRecord::decode_current_as::<Failure>(bytes)?;
        // SAFETY: the pointer is NULL (reported) or a journal's storage.
        let j = unsafe { journal_mut(journal) }?;
        admit(j, &rec)?;
        // the flash callbacks run: the journal is in use until the record is durable
        let _busy = unsafe { BusyGuard::enter::<konaplate_journal, Slot>(journal) };
        j.persist(&rec).map_err(Failure::journal)
    })();
    finish(r, err)
}

/// The answer to the flow's `PERSIST` in one call: persists the record of `flow` as it stands
/// in `journal` (written and read back) and marks it durable — `konaplate_flow_record`,
/// `konaplate_journal_persist` and `konaplate_flow_persisted` together, so that no step can be
/// left out and no record copy is left in your memory. Results as `konaplate_journal_persist`;
/// on any error the flow is not marked (it asks to `PERSIST` again: send nothing). While the
/// flash callbacks run, both objects are in use (`KONAPLATE_RESULT_BUSY` to a callback that
/// calls back on either).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_journal_persist_flow(
    journal: *mut konaplate_journal,
    flow: *mut konaplate_flow,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        // SAFETY: the pointers are NULL (reported) or valid storages (the header's contract);
        // two different storages (the same one fails one of the two tags)
        let f = unsafe { stored_mut::<konaplate_flow, CFlow>(flow, "flow") }?;
        let j = unsafe { journal_mut(journal) }?;
        let rec = f.record();
        admit(j, &rec)?;
        let flow_busy = unsafe { BusyGuard::enter::<konaplate_flow, CFlow>(flow) };
        let busy = unsafe { BusyGuard::enter::<konaplate_journal, Slot>(journal) };
        let persisted = j.persist(&rec);
        drop((busy, flow_busy));
        persisted.map_err(Failure::journal)?;
        f.persisted();
        Ok(())
    })();
    finish(r, err)
}

/// Before a new money call under `sequence_id`, before its flow starts (what the Rust
/// driver does first): refused while an older call awaits the platform
/// (`KONAPLATE_RESULT_IN_USE`, the message names it: resume it to its outcome first — an
/// in-doubt charge is resolved before the next customer pays), or when the journal holds
/// `sequence_id` already (`KONAPLATE_RESULT_INVALID_ARGUMENT`: each call needs its own); then
/// the settled calls are closed (their outcome was returned and acted on) and the journal
/// must have room for the new call's records (`KONAPLATE_RESULT_JOURNAL_FULL`). On
/// `KONAPLATE_RESULT_OK` start the flow; on anything else send nothing. A refund whose outcome
/// is unknown neither blocks nor is closed: it waits for an operator.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_journal_prepare_call(
    journal: *mut konaplate_journal,
    sequence_id_p: *const c_char,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: as above.
    let r = unsafe {
        on_journal(journal, sequence_id_p, |j, seq| {
            match j.prepare_new_call(seq) {
                Err(JournalError::OpenCall) => {
                    // the message names the call to resume
                    Err(match j.awaiting_platform() {
                        Some(open) => Failure::awaits_platform(open),
                        None => Failure::journal(JournalError::OpenCall),
                    })
                }
                other => other.map_err(Failure::journal),
            }
        })
    };
    finish(r, err)
}

/// A new call's first record while an older call awaits the platform is refused
/// (`KONAPLATE_RESULT_IN_USE`, naming it; nothing written) as `konaplate_journal_prepare_call`
/// refuses the call: a program that left that step out still never sends a second charge
/// while one is in doubt. The records of calls the journal holds pass.
fn admit(j: &CJournal, rec: &JournalRecord) -> Result<(), Failure> {
    if j.entries().any(|(s, _)| *s == rec.sequence_id) {
        return Ok(());
    }
    match j.awaiting_platform() {
        Some(open) => Err(Failure::awaits_platform(open)),
        None => Ok(()),
    }
}

/// A step on the journal for the call `sequence_id_p`, the journal marked busy while its flash
/// callbacks run.
unsafe fn on_journal(
    journal: *mut konaplate_journal,
    sequence_id_p: *const c_char,
    step: impl FnOnce(&mut CJournal, &SequenceId) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let seq = sequence_id(sequence_id_p)?;
    // SAFETY: the pointer is NULL (reported) or a journal's storage.
    let j = unsafe { journal_mut(journal) }?;
    let _busy = unsafe { BusyGuard::enter::<konaplate_journal, Slot>(journal) };
    step(j, &seq)
}

/// Closes the settled call `sequence_id` once you have acted on its outcome (its record is
/// dropped at the next compaction). An open call is refused (`KONAPLATE_RESULT_JOURNAL`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_journal_close(
    journal: *mut konaplate_journal,
    sequence_id_p: *const c_char,
    err: *mut konaplate_error,
) -> konaplate_result {
    // SAFETY: as above.
    let r = unsafe {
        on_journal(journal, sequence_id_p, |j, seq| {
            j.close(seq).map_err(Failure::journal)
        })
    };
    finish(r, err)
}

/// The latest record of `sequence_id` (`KONAPLATE_RECORD_SIZE` bytes into
/// `out[0 .. out_cap]`, zeroed first), to resume it with `konaplate_flow_resume`: the bytes as
/// persisted, their entry's checksum checked; `konaplate_flow_resume` decodes and checks the
/// record (`KONAPLATE_RESULT_RECORD` when it does not decode).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_journal_read(
    journal: *mut konaplate_journal,
    sequence_id_p: *const c_char,
    out: *mut u8,
    out_cap: usize,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        // SAFETY: `out` is NULL (reported) or `out_cap` writable bytes.
        let out = unsafe { crate::c::buffer(out, out_cap) }?;
        out.fill(0);
        let seq = sequence_id(sequence_id_p)?;
        let dst = out
            .first_chunk_mut::<{ JournalRecord::LEN }>()
            .ok_or_else(|| {
                Failure::text(
                    konaplate_result::BufferTooSmall,
                    crate::flow::RECORD_TOO_SMALL,
                )
            })?;
        // SAFETY: as above.
        let j = unsafe { journal_mut(journal) }?;
        let _busy = unsafe { BusyGuard::enter::<konaplate_journal, Slot>(journal) };
        // the bytes as persisted: konaplate_flow_resume decodes (and checks) them
        j.read_into(&seq, dst).map_err(Failure::journal)?;
        Ok(())
    })();
    finish(r, err)
}

/// How many live entries the journal holds (open calls and settled ones not closed): read
/// each with `konaplate_journal_entry`. `*count` is 0 on error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_journal_count(
    journal: *const konaplate_journal,
    count: *mut u32,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        // SAFETY: as above.
        let c = unsafe { non_null_mut(count, "count") }?;
        *c = 0;
        let j = unsafe { journal_ref(journal) }?;
        *c = j.entries().count() as u32;
        Ok(())
    })();
    finish(r, err)
}

/// The live entry `index` (0 .. `konaplate_journal_count`) into `*entry` (an empty
/// sequenceId and state `OTHER` on error).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_journal_get_entry(
    journal: *const konaplate_journal,
    index: u32,
    entry: *mut konaplate_journal_entry,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        // SAFETY: as above.
        let e = unsafe { non_null_mut(entry, "entry") }?;
        put_text(&mut e.sequence_id, b"");
        e.state = konaplate_state::Other;
        e.is_final = false;
        e.awaits_platform = false;
        let j = unsafe { journal_ref(journal) }?;
        let (seq, state) = j.entries().nth(index as usize).ok_or_else(|| {
            Failure::say(konaplate_result::InvalidArgument, "no entry at that index")
        })?;
        put_text(&mut e.sequence_id, seq.as_bytes());
        e.state = state_of(state);
        e.is_final = state.is_final();
        e.awaits_platform = state.awaits_platform();
        Ok(())
    })();
    finish(r, err)
}

/// Whether a new call's records would fit (`*yes`; false on error). Ask before a new call:
/// with no room, do not start it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_journal_can_take_new_call(
    journal: *const konaplate_journal,
    yes: *mut bool,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        // SAFETY: as above.
        let y = unsafe { non_null_mut(yes, "yes") }?;
        *y = false;
        let j = unsafe { journal_ref(journal) }?;
        *y = j.can_take_new_call();
        Ok(())
    })();
    finish(r, err)
}

/// Moves the live records into the next sector now (bounded: one erase and a few writes).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_journal_compact(
    journal: *mut konaplate_journal,
    err: *mut konaplate_error,
) -> konaplate_result {
    let r = (|| {
        // SAFETY: as above.
        let j = unsafe { journal_mut(journal) }?;
        let _busy = unsafe { BusyGuard::enter::<konaplate_journal, Slot>(journal) };
        j.compact().map_err(Failure::journal)
    })();
    finish(r, err)
}

/// Drops the journal and zeroes its storage (the flash keeps everything). NULL is ignored; a
/// journal in use by a running call is left alone (`KONAPLATE_RESULT_BUSY`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn konaplate_journal_wipe(
    journal: *mut konaplate_journal,
) -> konaplate_result {
    // SAFETY: `journal` is NULL or a journal's storage.
    unsafe { wipe_stored::<konaplate_journal, Slot>(journal) }
}
