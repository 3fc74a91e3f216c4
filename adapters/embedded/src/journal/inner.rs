//! The journal's logic, written once over the async flash traits and compiled twice (see
//! `konaplate-bisync`): as written for the async journal, and with `async` and `.await` removed
//! over the blocking traits for the blocking one. The including module supplies `NorFlash` and
//! `bisync`.

use super::{NorFlash, bisync};
use heapless::Vec;
use konaplate_core::field::SequenceId;
use konaplate_core::flow::{JournalRecord, State};

use crate::journal::format::{
    self, ENTRY_HEADER, EntryHeader, Kind, MAX_ALIGN, PREFIX, SCRATCH_LEN, SECTOR_HEADER,
    close_key, pad,
};
use crate::journal::{Geometry, JournalError, MAX_LIVE, OpenReport, is_settled};

/// A live entry: a sequenceId whose latest record sits in the active sector.
#[derive(Clone, Debug)]
pub(crate) struct Live {
    pub(crate) sequence_id: SequenceId,
    pub(crate) state: State,
    /// Where its latest record's entry starts in the active sector, and its padded length.
    pub(crate) offset: u32,
    pub(crate) len: u32,
    /// The record before it in this sector (offset, length), if any: what a copy falls back
    /// to when the latest no longer reads intact (a tail a cut left undecided).
    pub(crate) prev: Option<(u32, u32)>,
}

/// Sector `s`'s bit in a mask of sectors (3 to 32 of them).
fn bit(s: u32) -> u32 {
    1u32.checked_shl(s).unwrap_or(0)
}

/// Bytes of a complete marker's payload.
const DONE_PAYLOAD: usize = 8;

/// How far from the newest readable sector header a sector whose header broke is looked for.
const MAX_CANDIDATES: u32 = 16;

pub(crate) struct Inner<F> {
    pub(crate) flash: F,
    pub(crate) geo: Geometry,
    pub(crate) align: usize,
    pub(crate) active: u32,
    pub(crate) active_seq: u32,
    /// The highest sector sequence number seen on the flash (an unfinished compaction's
    /// included): the next sector gets a higher one.
    pub(crate) max_seq: u32,
    /// The next free offset in the active sector.
    pub(crate) pos: u32,
    pub(crate) live: Vec<Live, MAX_LIVE>,
    /// The scan met more live records than the index holds.
    pub(crate) overflow: bool,
    /// At open, until the first compaction: the last entry of the journal's sector, the one
    /// write a power cut may have left undecided. Only its record may turn out not written.
    pub(crate) tail: Option<u32>,
    /// Sectors (a bit each) known to hold no journal: found by the open blank, beyond reading
    /// or with an unfinished compaction, or wiped by a compaction of this run that failed
    /// before its complete marker. Free for the next copy. (One whose marker's write failed
    /// is not: the marker may have stuck after all, and then it is the journal the next boot
    /// takes.)
    pub(crate) stale: u32,
}

type Result<T, E> = core::result::Result<T, JournalError<E>>;

/// Frames an entry into the scratch for a sector sequence number, an offset and the
/// alignment; returns its padded length.
type Frame<'a> = dyn Fn(&mut [u8; SCRATCH_LEN], u32, u32, usize) -> Option<usize> + 'a;

/// What scanning a sector found.
#[derive(Default)]
struct SectorScan {
    /// The snapshot is complete: its `Done` reads, or an entry appended after it does.
    done: bool,
    entries: u32,
    damaged: u32,
    corrected: u32,
    torn_tail: bool,
    end: u32,
    /// Where the last intact entry starts.
    last: Option<u32>,
}

#[bisync]
impl<F: NorFlash> Inner<F> {
    fn base(&self, sector: u32) -> u32 {
        self.geo.offset + sector * self.geo.sector_size
    }

    async fn read(&mut self, at: u32, buf: &mut [u8]) -> Result<(), F::Error> {
        self.flash.read(at, buf).await.map_err(JournalError::Flash)
    }

    /// Reads `len` bytes at `at` (a multiple of the alignment) into `buf`, the read rounded up
    /// to the flash's read size.
    async fn read_padded(&mut self, at: u32, buf: &mut [u8], len: usize) -> Result<(), F::Error> {
        let n = pad(len, self.align);
        let dst = buf
            .get_mut(..n)
            .ok_or(JournalError::Geometry("scratch smaller than an entry"))?;
        self.read(at, dst).await
    }

    /// Reads the entry at `offset` of sector `s` (`len` bytes) into `scratch` and checks it:
    /// a header of sector sequence `seq` at that offset, and a whole entry that passes its
    /// checksum. A read that fails or does not check is tried again, up to three times (a
    /// weak bit, a transient ECC error), before the entry counts as damaged.
    async fn read_entry(
        &mut self,
        s: u32,
        seq: u32,
        offset: u32,
        len: u32,
        scratch: &mut [u8; SCRATCH_LEN],
    ) -> Option<EntryHeader> {
        let at = self.base(s) + offset;
        for _ in 0..3 {
            if self.read_padded(at, scratch, len as usize).await.is_err() {
                continue;
            }
            // one bit flipped at rest is corrected in the scratch (and so in every copy)
            // (a corrected record must pass its own checksum too; a corrected close is
            // refused, never taken for the close of another call: its settled record is
            // closed again later)
            if let Some(mut h) = format::header_at(scratch, seq, offset)
                && format::entry_intact(scratch, &mut h)
                && (!h.corrected
                    || match h.kind {
                        Kind::Record | Kind::Copy => format::record_crc_ok(scratch, &h),
                        Kind::Close => false,
                        Kind::Done => true,
                    })
            {
                return Some(h);
            }
        }
        None
    }

    /// Opens the journal in `flash` (see [`crate::journal::Journal::open`]).
    pub(crate) async fn open(
        flash: F,
        geo: Geometry,
        scratch: &mut [u8; SCRATCH_LEN],
    ) -> Result<(Self, OpenReport), F::Error> {
        let align = geo.check::<F::Error>(
            [F::WRITE_SIZE, F::READ_SIZE, F::ERASE_SIZE],
            flash.capacity(),
        )?;
        let mut j = Inner {
            flash,
            geo,
            align,
            active: 0,
            active_seq: 0,
            max_seq: 0,
            pos: 0,
            live: Vec::new(),
            overflow: false,
            tail: None,
            stale: 0,
        };
        let mut report = OpenReport::default();
        // every sector's header; the newest complete one is the journal
        let mut best: Option<(u32, u32)> = None; // (seq, sector)
        let mut max_seq = 0u32;
        let mut headers: Vec<Option<u32>, 32> = Vec::new();
        for s in 0..geo.sectors {
            let header = j.sector_seq(s).await;
            if let Some(seq) = header {
                max_seq = max_seq.max(seq);
            }
            let _ = headers.push(header);
        }
        for s in 0..geo.sectors {
            let mut header = headers.get(s as usize).copied().flatten();
            if header.is_none() && !j.reads_as(j.base(s), None, SECTOR_HEADER).await {
                // a sector whose header a bit flip broke still binds every entry to its
                // sequence number: recovered from its first entry (it can only be newer than
                // the sectors whose headers read)
                header = j.seq_from_entries(s, max_seq, scratch).await;
                if header.is_none() {
                    report.unreadable_sectors += 1;
                }
            }
            let Some(seq) = header else {
                // blank, or beyond reading: no journal (free for the next copy)
                j.stale |= bit(s);
                continue;
            };
            max_seq = max_seq.max(seq);
            let scan = j.scan(s, seq, scratch, false).await?;
            if scan.done && best.is_none_or(|(b, _)| seq > b) {
                best = Some((seq, s));
            } else if !scan.done {
                report.unfinished_compactions += 1;
                j.stale |= bit(s);
            }
        }
        match best {
            Some((seq, s)) => {
                j.active = s;
                j.active_seq = seq;
                let scan = j.scan(s, seq, scratch, true).await?;
                report.entries = scan.entries;
                report.damaged_entries = scan.damaged;
                report.corrected_entries = scan.corrected;
                report.torn_tail = scan.torn_tail;
                j.pos = scan.end;
                // the last intact entry is the write a cut may have left undecided, unless a
                // torn one follows it (then that was the cut write: this one was read back)
                j.tail = if scan.torn_tail { None } else { scan.last };
                report.formatted = false;
            }
            None => {
                report.formatted = true;
                // no journal yet: the sector before 0, so that the first one used is 0
                j.active = geo.sectors - 1;
                j.active_seq = 0;
            }
        }
        // the state just read is made durable in a fresh sector: nothing is ever appended
        // after bytes whose fate a power cut may have left open, and a decision taken on a
        // doubtful tail is not taken differently by the next boot
        j.max_seq = max_seq;
        if j.overflow {
            return Err(JournalError::Overflow);
        }
        j.compact(scratch).await?;
        report.open_calls = j.live.iter().filter(|l| !is_settled(l.state)).count() as u32;
        report.settled = j.live.len() as u32 - report.open_calls;
        Ok((j, report))
    }

    /// The sequence number of sector `s`'s header, if it reads and checks.
    /// A read that fails or does not check is tried again, up to three times (a weak bit, a
    /// transient ECC error).
    async fn sector_seq(&mut self, s: u32) -> Option<u32> {
        let mut h = [0u8; MAX_ALIGN];
        for _ in 0..3 {
            if self
                .read_padded(self.base(s), &mut h, SECTOR_HEADER)
                .await
                .is_ok()
                && let Some(seq) = format::sector_header_at(s, &mut h)
            {
                return Some(seq);
            }
        }
        None
    }

    /// The sequence number of a sector whose header does not read, from its first entry's
    /// header CRC (bound to the sector's sequence number): the candidates after `after`.
    async fn seq_from_entries(
        &mut self,
        s: u32,
        after: u32,
        scratch: &mut [u8; SCRATCH_LEN],
    ) -> Option<u32> {
        let pos = pad(SECTOR_HEADER, self.align) as u32;
        self.read_padded(self.base(s) + pos, scratch, ENTRY_HEADER)
            .await
            .ok()?;
        let head = scratch.get(..ENTRY_HEADER)?;
        (1..=2 * MAX_CANDIDATES)
            .filter_map(|d| {
                // newer than every readable header, or (a stale sector) a little older
                if d <= MAX_CANDIDATES {
                    after.checked_add(d)
                } else {
                    after.checked_sub(d - MAX_CANDIDATES)
                }
            })
            .find(|&q| format::parse_entry_header(head, q, pos).is_some())
    }

    /// Whether `len` bytes at `at` (a multiple of the alignment) read back as `bytes`, or as
    /// erased with `None`; a read that fails is a no.
    async fn reads_as(&mut self, at: u32, bytes: Option<&[u8]>, len: usize) -> bool {
        let mut chunk = [0u8; MAX_ALIGN];
        let mut done = 0usize;
        while done < len {
            let n = MAX_ALIGN.min(pad(len - done, self.align));
            let c = chunk.get_mut(..n).unwrap_or(&mut []);
            if self.read(at + done as u32, c).await.is_err() {
                return false;
            }
            let same = match bytes {
                Some(b) => b.get(done..done + n) == Some(&*c),
                None => c.iter().all(|&b| b == 0xFF),
            };
            if !same {
                return false;
            }
            done += n;
        }
        true
    }

    /// Scans sector `s` (sequence `seq`); with `build`, rebuilds the live set from it.
    async fn scan(
        &mut self,
        s: u32,
        seq: u32,
        scratch: &mut [u8; SCRATCH_LEN],
        build: bool,
    ) -> Result<SectorScan, F::Error> {
        let mut out = SectorScan::default();
        if build {
            self.live.clear();
        }
        let size = self.geo.sector_size;
        let mut pos = pad(SECTOR_HEADER, self.align) as u32;
        out.end = pos;
        let mut resync = false;
        let mut damage_since_valid = false;
        while pos as usize + ENTRY_HEADER + 4 <= size as usize {
            let at = self.base(s) + pos;
            // read until it is blank or a header, up to three times (a weak bit, a transient
            // ECC error: one bad read must not make an intact last entry look torn); a word a
            // cut left half programmed may not even read (ECC): garbage, like any
            let (mut blank, mut got) = (false, None);
            for _ in 0..3 {
                if self.read_padded(at, scratch, ENTRY_HEADER).await.is_ok() {
                    let head = scratch.get_mut(..ENTRY_HEADER).unwrap_or(&mut []);
                    blank = head.iter().all(|&b| b == 0xFF);
                    got = format::header_at(head, seq, pos);
                    if blank || got.is_some() {
                        break;
                    }
                }
            }
            if !resync && blank {
                break;
            }
            let Some(h) = got else {
                if !resync {
                    out.damaged += 1;
                    damage_since_valid = true;
                }
                resync = true;
                pos += self.align as u32;
                continue;
            };
            let total = pad(ENTRY_HEADER + h.len + 4, self.align) as u32;
            if pos + total > size {
                out.damaged += u32::from(!resync);
                damage_since_valid = true;
                resync = true;
                pos += self.align as u32;
                continue;
            }
            // the whole entry, read again until it checks (its header with it)
            let entry = self.read_entry(s, seq, pos, total, scratch).await;
            resync = false;
            let Some(h) = entry.filter(|e| e.len == h.len) else {
                out.damaged += 1;
                damage_since_valid = true;
                pos += total;
                continue;
            };
            damage_since_valid = false;
            out.entries += 1;
            out.corrected += u32::from(h.corrected);
            out.last = Some(pos);
            if build {
                self.take(&h, scratch, pos, total);
            }
            if matches!(h.kind, Kind::Done | Kind::Record | Kind::Close) {
                out.done = true;
            }
            pos += total;
            out.end = pos;
        }
        out.torn_tail = damage_since_valid;
        if damage_since_valid && out.damaged > 0 {
            // the last damage is the tail a cut left: reported as torn, not as damage
            out.damaged -= 1;
        }
        Ok(out)
    }

    /// Applies one intact entry at `pos` to the live set.
    fn take(&mut self, h: &EntryHeader, scratch: &[u8], pos: u32, total: u32) {
        let payload = scratch
            .get(ENTRY_HEADER..ENTRY_HEADER + h.len)
            .unwrap_or(&[]);
        match h.kind {
            Kind::Record | Kind::Copy => {
                let Some((seq, state)) = format::record_key(scratch, h, &mut [0u8; PREFIX]) else {
                    return;
                };
                // more than this build's index holds (another build's journal): the journal is
                // refused, never read with a record missing
                self.overflow |= !self.upsert(seq, state, pos, total);
            }
            Kind::Close => {
                if let Some(seq) = close_key(payload) {
                    self.forget(&seq);
                }
            }
            Kind::Done => {}
        }
    }

    /// Makes the entry at `offset` (`len` bytes) the latest record of `seq`, the one before it
    /// kept as its fallback; false when a new sequenceId finds the index full.
    fn upsert(&mut self, seq: SequenceId, state: State, offset: u32, len: u32) -> bool {
        let mut live = Live {
            sequence_id: seq,
            state,
            offset,
            len,
            prev: None,
        };
        match self.live.iter_mut().find(|l| l.sequence_id == seq) {
            Some(l) => {
                live.prev = Some((l.offset, l.len));
                *l = live;
                true
            }
            None => self.live.push(live).is_ok(),
        }
    }

    /// Drops `seq` from the live set, keeping the others' order (by adjacent swaps: no
    /// memmove linked for it).
    fn forget(&mut self, seq: &SequenceId) {
        let Some(mut i) = self.live.iter().position(|l| &l.sequence_id == seq) else {
            return;
        };
        while i + 1 < self.live.len() {
            self.live.swap(i, i + 1);
            i += 1;
        }
        self.live.pop();
    }

    /// Bytes a snapshot of the live set takes, with `extra` more bytes of records and the
    /// complete marker.
    fn snapshot_len(&self, extra: u32) -> u32 {
        let records: u32 = self.live.iter().map(|l| l.len).sum();
        pad(SECTOR_HEADER, self.align) as u32 + records + extra + self.done_len()
    }

    /// Bytes of a complete marker (its payload: the count of records and the old sector).
    fn done_len(&self) -> u32 {
        pad(ENTRY_HEADER + DONE_PAYLOAD + 4, self.align) as u32
    }

    fn max_entry(&self) -> u32 {
        pad(ENTRY_HEADER + format::MAX_PAYLOAD + 4, self.align) as u32
    }

    /// Whether the journal can take a new call now: a free place in the index, and room for a
    /// snapshot holding it with one more record after it.
    pub(crate) fn can_take_new_call(&self) -> bool {
        self.live.len() < MAX_LIVE
            && self.snapshot_len(2 * self.max_entry()) <= self.geo.sector_size
    }

    /// Writes `bytes` (a multiple of the alignment) at `at` and reads them back; `Ok(false)`
    /// when they did not stick.
    async fn program(&mut self, at: u32, bytes: &[u8]) -> Result<bool, F::Error> {
        if self.flash.write(at, bytes).await.is_err() {
            return Ok(false);
        }
        Ok(self.reads_as(at, Some(bytes), bytes.len()).await)
    }

    /// Erases sector `s` and checks it reads blank.
    async fn wipe_sector(&mut self, s: u32) -> Result<bool, F::Error> {
        let from = self.base(s);
        for _ in 0..2 {
            if self
                .flash
                .erase(from, from + self.geo.sector_size)
                .await
                .is_ok()
                && self
                    .reads_as(from, None, self.geo.sector_size as usize)
                    .await
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Copies every live record into the next sector that takes an erase and its writes,
    /// then marks the copy complete: from then on that sector alone is the journal. Bounded:
    /// at most `sectors - 1` erases, each followed by at most `MAX_LIVE + 2` writes.
    pub(crate) async fn compact(
        &mut self,
        scratch: &mut [u8; SCRATCH_LEN],
    ) -> Result<(), F::Error> {
        let old = self.active;
        // from here on the old sector takes no more writes, whatever becomes of this
        // compaction: one that fails (or whose future is dropped) after its complete marker
        // reached the flash leaves a newer sector that the next boot takes for the journal,
        // and a record appended to the old one then would be lost. The next append compacts
        // again, into a sector with a higher sequence number
        self.pos = self.geo.sector_size;
        // the targets, the sectors that hold least first: those known to hold no journal
        // (`stale`); then the oldest journal; last, a sector whose header no longer reads.
        // Never the journal itself, and the journal before it only when nothing else takes
        // the copy: it is the fallback should the journal's marker be damaged
        // (a key per sector; `u32::MAX`: the journal itself, or tried already)
        let mut keys = [u32::MAX; 32];
        for s in (0..self.geo.sectors).filter(|&s| s != old) {
            let header = self.sector_seq(s).await;
            if let Some(q) = header {
                // a header the open could not read counts now: the new sector's sequence
                // number is above every one on the flash, never a second of one
                self.max_seq = self.max_seq.max(q);
            }
            let key = match header {
                _ if self.stale & bit(s) != 0 => 0,
                Some(q) => q.saturating_add(1),
                // a journal's header that no longer reads (a read error, damage): last
                None => u32::MAX - 1,
            };
            if let Some(k) = keys.get_mut(s as usize) {
                *k = key;
            }
        }
        // the lowest key first (the lowest sector among equals): no sort routine is linked
        loop {
            let mut target = 0;
            let mut lowest = u32::MAX;
            for (s, &k) in (0u32..).zip(keys.iter()) {
                if k < lowest {
                    (target, lowest) = (s, k);
                }
            }
            let Some(k) = keys.get_mut(target as usize).filter(|k| **k != u32::MAX) else {
                break;
            };
            *k = u32::MAX;
            // each attempt its own sequence number: two sectors never share one
            let seq = self
                .active_seq
                .max(self.max_seq)
                .checked_add(1)
                .ok_or(JournalError::Overflow)?;
            self.max_seq = seq;
            if !self.wipe_sector(target).await? {
                continue;
            }
            // blank: until its complete marker is written, it holds no journal
            self.stale |= bit(target);
            if let Some(live) = self.fill(old, target, seq, scratch).await? {
                self.tail = None;
                self.live = live.0;
                self.active = target;
                self.active_seq = seq;
                self.pos = live.1;
                return Ok(());
            }
        }
        Err(JournalError::Worn)
    }

    /// Reads the live record `l` of sector `old` into `scratch` for a copy: its latest entry
    /// if it reads intact, else the one before it. Returns its header and its state.
    async fn copy_source(
        &mut self,
        old: u32,
        l: &Live,
        scratch: &mut [u8; SCRATCH_LEN],
    ) -> Option<(EntryHeader, State)> {
        // each candidate read up to three times, as the scan does (a weak bit, a transient ECC
        // error): the latest record falls back to the one before it only when it truly does
        // not read
        for (offset, len) in [Some((l.offset, l.len)), l.prev].into_iter().flatten() {
            let Some(h) = self
                .read_entry(old, self.active_seq, offset, len, scratch)
                .await
            else {
                continue;
            };
            match format::record_key(scratch, &h, &mut [0u8; PREFIX]) {
                Some((seq, state)) if seq == l.sequence_id => return Some((h, state)),
                _ => continue,
            }
        }
        None
    }

    /// Writes the header, the live records (read from sector `old`) and the complete marker
    /// into the blank sector `target`. `None` when a write did not stick.
    async fn fill(
        &mut self,
        old: u32,
        target: u32,
        seq: u32,
        scratch: &mut [u8; SCRATCH_LEN],
    ) -> Result<Option<(Vec<Live, MAX_LIVE>, u32)>, F::Error> {
        let mut h = [0xFFu8; MAX_ALIGN];
        let hlen = pad(SECTOR_HEADER, self.align);
        if let Some(d) = h.get_mut(..SECTOR_HEADER) {
            d.copy_from_slice(&format::sector_header(target, seq));
        }
        if !self
            .program(self.base(target), h.get(..hlen).unwrap_or(&[]))
            .await?
        {
            return Ok(None);
        }
        let mut pos = hlen as u32;
        let mut moved: Vec<Live, MAX_LIVE> = Vec::new();
        // by index, the live set left in place (no copy of it held across the writes)
        for i in 0..self.live.len() {
            let Some(l) = self.live.get(i).cloned() else {
                break;
            };
            // the entry as it stands in the old sector (or, when it no longer reads intact,
            // the record before it: the state before the write a cut left undecided), framed
            // again for its new place
            let Some((hd, state)) = self.copy_source(old, &l, scratch).await else {
                if is_settled(l.state) || (self.tail == Some(l.offset) && l.prev.is_none()) {
                    // a settled record the flash damaged (its outcome was reported), or the
                    // first record of a call whose write the power cut left undecided (the
                    // persist never returned: the state before it has no such call)
                    continue;
                }
                // an open call is never dropped: the old sector stays the journal
                return Err(JournalError::Damaged);
            };
            let Some(total) = format::frame(
                scratch,
                Kind::Copy,
                hd.encoding,
                hd.len,
                seq,
                pos,
                self.align,
            ) else {
                // (an entry that read intact always frames again) never dropped: the old
                // sector stays the journal
                return Err(JournalError::Damaged);
            };
            if pos + total as u32 + self.done_len() > self.geo.sector_size {
                return Err(JournalError::Full);
            }
            if !self
                .program(self.base(target) + pos, scratch.get(..total).unwrap_or(&[]))
                .await?
            {
                return Ok(None);
            }
            let _ = moved.push(Live {
                sequence_id: l.sequence_id,
                state,
                offset: pos,
                len: total as u32,
                prev: None,
            });
            pos += total as u32;
        }
        let count = moved.len() as u32;
        let mut done = [0u8; DONE_PAYLOAD];
        done[..4].copy_from_slice(&count.to_le_bytes());
        done[4..].copy_from_slice(&old.to_le_bytes());
        if let Some(p) = scratch.get_mut(ENTRY_HEADER..ENTRY_HEADER + DONE_PAYLOAD) {
            p.copy_from_slice(&done);
        }
        let Some(total) = format::frame(scratch, Kind::Done, 0, DONE_PAYLOAD, seq, pos, self.align)
        else {
            return Ok(None);
        };
        // from this write on the sector may be the journal the next boot takes
        self.stale &= !bit(target);
        if !self
            .program(self.base(target) + pos, scratch.get(..total).unwrap_or(&[]))
            .await?
        {
            return Ok(None);
        }
        Ok(Some((moved, pos + total as u32)))
    }

    /// Appends the entry `make` frames (for a sector sequence number, an offset and the
    /// alignment) at the end of the active sector. When it does not fit, or a write does not
    /// stick, the live set moves to a fresh sector first (at most twice).
    async fn append(
        &mut self,
        scratch: &mut [u8; SCRATCH_LEN],
        make: &Frame<'_>,
    ) -> Result<(u32, u32), F::Error> {
        let mut moves = 0;
        loop {
            let total = make(scratch, self.active_seq, self.pos, self.align)
                .ok_or(JournalError::Geometry("scratch smaller than an entry"))?
                as u32;
            if self.pos + total > self.geo.sector_size {
                if moves == 2 {
                    return Err(JournalError::Worn);
                }
                // the compaction copies every live record (this key's current one too), then
                // the entry goes after them
                if self.snapshot_len(total) > self.geo.sector_size {
                    return Err(JournalError::Full);
                }
                // (the entry is framed again for its new place)
                self.compact(scratch).await?;
                moves += 1;
                continue;
            }
            let at = self.base(self.active) + self.pos;
            let pos = self.pos;
            // nothing more is ever appended after bytes whose write did not return: not after
            // bytes that did not stick, nor after a write whose future was dropped (it may
            // have reached the flash)
            self.pos = self.geo.sector_size;
            if self
                .program(at, scratch.get(..total as usize).unwrap_or(&[]))
                .await?
            {
                self.pos = pos + total;
                return Ok((pos, total));
            }
        }
    }

    /// Persists `rec` (see [`crate::journal::Journal::persist`]).
    pub(crate) async fn persist(
        &mut self,
        rec: &JournalRecord,
        scratch: &mut [u8; SCRATCH_LEN],
    ) -> Result<(), F::Error> {
        let key = rec.sequence_id;
        match self.live.iter().find(|l| l.sequence_id == key) {
            Some(l) if is_settled(l.state) && l.state != rec.state => {
                return Err(JournalError::Settled);
            }
            Some(_) => {}
            // a new call: an index place, and room for its record with one more after it
            None if !self.can_take_new_call() => return Err(JournalError::Full),
            None => {}
        }
        // encoded on the stack at each framing (once; again after a compaction), so that an
        // async journal's future holds no copy of the record across its flash operations
        let make = |buf: &mut [u8; SCRATCH_LEN], sseq: u32, pos: u32, align: usize| {
            let payload = buf.get_mut(ENTRY_HEADER..ENTRY_HEADER + format::MAX_PAYLOAD)?;
            let (enc, n) = format::encode_record(&rec.encode(), payload);
            format::frame(buf, Kind::Record, enc, n, sseq, pos, align)
        };
        let (offset, len) = self.append(scratch, &make).await?;
        // (a new call's place in the index was checked above)
        self.upsert(key, rec.state, offset, len);
        Ok(())
    }

    /// The first call that awaits the platform (see
    /// [`crate::journal::Journal::awaiting_platform`]).
    pub(crate) fn awaiting_platform(&self) -> Option<SequenceId> {
        let l = self.live.iter().find(|l| l.state.awaits_platform())?;
        Some(l.sequence_id)
    }

    /// Readies the journal for a new call (see
    /// [`crate::journal::Journal::prepare_new_call`]).
    pub(crate) async fn prepare_new_call(
        &mut self,
        seq: &SequenceId,
        scratch: &mut [u8; SCRATCH_LEN],
    ) -> Result<(), F::Error> {
        if self.awaiting_platform().is_some() {
            return Err(JournalError::OpenCall);
        }
        if self.live.iter().any(|l| l.sequence_id == *seq) {
            return Err(JournalError::Taken);
        }
        // settled calls were reported: closed now, so that they never fill the journal
        while let Some(settled) = self.live.iter().find(|l| is_settled(l.state)) {
            let s = settled.sequence_id;
            self.close(&s, scratch).await?;
        }
        if !self.can_take_new_call() {
            return Err(JournalError::Full);
        }
        Ok(())
    }

    /// Closes the settled record of `seq` (see [`crate::journal::Journal::close`]).
    pub(crate) async fn close(
        &mut self,
        seq: &SequenceId,
        scratch: &mut [u8; SCRATCH_LEN],
    ) -> Result<(), F::Error> {
        match self.live.iter().find(|l| &l.sequence_id == seq) {
            None => return Err(JournalError::NotFound),
            Some(l) if !is_settled(l.state) => return Err(JournalError::StillOpen),
            Some(_) => {}
        }
        let id = seq.as_bytes();
        let make = |buf: &mut [u8; SCRATCH_LEN], sseq: u32, pos: u32, align: usize| {
            let p = buf.get_mut(ENTRY_HEADER..ENTRY_HEADER + 1 + id.len())?;
            p.get_mut(0).map(|b| *b = id.len() as u8)?;
            p.get_mut(1..)?.copy_from_slice(id);
            format::frame(buf, Kind::Close, 0, 1 + id.len(), sseq, pos, align)
        };
        self.append(scratch, &make).await?;
        self.forget(seq);
        Ok(())
    }

    /// Reads the latest record of `seq` as it was persisted (its
    /// [`JournalRecord::LEN`] bytes, their entry's checksum checked) into `out`.
    pub(crate) async fn read_into(
        &mut self,
        seq: &SequenceId,
        scratch: &mut [u8; SCRATCH_LEN],
        out: &mut [u8; JournalRecord::LEN],
    ) -> Result<(), F::Error> {
        let l = self
            .live
            .iter()
            .find(|l| &l.sequence_id == seq)
            .cloned()
            .ok_or(JournalError::NotFound)?;
        let h = self
            .read_entry(self.active, self.active_seq, l.offset, l.len, scratch)
            .await;
        if h.is_some_and(|h| format::record_key(scratch, &h, out).is_some_and(|(s, _)| s == *seq)) {
            return Ok(());
        }
        // no part of a record is left behind an error
        out.fill(0);
        Err(JournalError::Damaged)
    }
}
