//! The bytes on flash: sector headers, entry frames, and the zero-run encoding of a record.
//!
//! A journal sector starts with a header, written only after the sector was erased and read
//! back blank:
//!
//! | bytes | field |
//! |---|---|
//! | 0..4 | magic `KPFJ` |
//! | 4 | format version (1) |
//! | 5..8 | zero |
//! | 8..12 | the sector's sequence number (u32 LE; the newest sector has the highest) |
//! | 12..16 | CRC-32 of bytes 0..12 and the sector's index in the region |
//!
//! Entries follow, each at an offset that is a multiple of the flash's alignment (the larger
//! of 4, `READ_SIZE` and `WRITE_SIZE`), each written by one program operation and read back
//! before the operation returns:
//!
//! | bytes | field |
//! |---|---|
//! | 0..2 | magic `4B E1` |
//! | 2 | kind: 1 record, 2 close, 3 snapshot complete, 4 a record copied by a compaction |
//! | 3 | encoding of a record: 0 raw, 1 zero runs |
//! | 4..6 | payload length (u16 LE) |
//! | 6..8 | zero |
//! | 8..12 | header CRC-32 of bytes 0..8, the sector's sequence number and the entry's offset |
//! | 12.. | payload |
//! | then 4 | CRC-32 of bytes 0..12 and the payload |
//!
//! then `0xFF` up to the alignment. Binding the header CRC to the sector and the offset means
//! that no bytes written anywhere else (a record's payload, an older sector's entries, a torn
//! write) can pass for an entry here. A single flipped bit (at rest) is corrected on read: the
//! header's CRC locates one in the header's first 8 bytes or in itself, the entry's CRC one in
//! the payload or in itself (CRC-32's Hamming distance is at least 4 at these lengths: one flip is
//! corrected and two are never miscorrected); a corrected record must pass the record's own
//! checksum too.

use konaplate_core::field::SequenceId;
use konaplate_core::flow::{Crc32, JournalRecord, State};

/// Bytes of the sector header.
pub(crate) const SECTOR_HEADER: usize = 16;
/// Bytes of an entry's header.
pub(crate) const ENTRY_HEADER: usize = 12;
/// Largest payload: a record, raw.
pub(crate) const MAX_PAYLOAD: usize = JournalRecord::LEN;
/// Largest alignment supported (`WRITE_SIZE` / `READ_SIZE` of 1, 2, 4, 8, 16 or 32).
pub(crate) const MAX_ALIGN: usize = 32;
/// Scratch a journal needs: the largest entry, padded.
pub const SCRATCH_LEN: usize = pad(ENTRY_HEADER + MAX_PAYLOAD + 4, MAX_ALIGN);

pub(crate) const SECTOR_MAGIC: [u8; 4] = *b"KPFJ";
pub(crate) const VERSION: u8 = 1;
pub(crate) const ENTRY_MAGIC: [u8; 2] = [0x4B, 0xE1];

/// What an entry holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A journal record (the latest of its sequenceId wins).
    Record = 1,
    /// The record of a sequenceId is closed: dropped at the next compaction.
    Close = 2,
    /// The sector's snapshot of every live record is complete: from here on the sector alone
    /// holds the journal.
    Done = 3,
    /// A live record copied into a new sector by a compaction (before its `Done`). Records
    /// and closes are only ever appended after a `Done`: one of them proves the sector's
    /// snapshot complete even when its `Done` no longer reads.
    Copy = 4,
}

impl Kind {
    fn of(b: u8) -> Option<Kind> {
        match b {
            1 => Some(Kind::Record),
            2 => Some(Kind::Close),
            3 => Some(Kind::Done),
            4 => Some(Kind::Copy),
            _ => None,
        }
    }
}

/// `n` rounded up to a multiple of `align` (a power of two).
pub(crate) const fn pad(n: usize, align: usize) -> usize {
    (n + align - 1) & !(align - 1)
}

/// The sector header for sector `index` with sequence number `seq`.
pub(crate) fn sector_header(index: u32, seq: u32) -> [u8; SECTOR_HEADER] {
    let mut h = [0u8; SECTOR_HEADER];
    let (head, crc) = h.split_at_mut(12);
    if let Some(m) = head.get_mut(..4) {
        m.copy_from_slice(&SECTOR_MAGIC);
    }
    if let Some(v) = head.get_mut(4) {
        *v = VERSION;
    }
    if let Some(s) = head.get_mut(8..12) {
        s.copy_from_slice(&seq.to_le_bytes());
    }
    let c = Crc32::new()
        .update(head)
        .update(&index.to_le_bytes())
        .finish();
    crc.copy_from_slice(&c.to_le_bytes());
    h
}

/// The sequence number of a valid sector header for sector `index` in `h`, one flipped bit
/// of it corrected in `h` (its CRC covers its first 12 bytes, then the sector's index, and is
/// stored after the 12 bytes).
pub(crate) fn sector_header_at(index: u32, h: &mut [u8]) -> Option<u32> {
    let head = h.get(..12)?;
    let stored = u32::from_le_bytes(h.get(12..16)?.try_into().ok()?);
    let syndrome = Crc32::new()
        .update(head)
        .update(&index.to_le_bytes())
        .finish()
        ^ stored;
    if syndrome != 0 && !correct(h, 12, 4, 0, syndrome) {
        return None;
    }
    let head = h.get(..12)?;
    if head.get(..4) != Some(&SECTOR_MAGIC[..]) || head.get(4) != Some(&VERSION) {
        return None;
    }
    Some(u32::from_le_bytes(head.get(8..12)?.try_into().ok()?))
}

/// A parsed entry header.
#[derive(Clone, Copy, Debug)]
pub(crate) struct EntryHeader {
    pub(crate) kind: Kind,
    pub(crate) encoding: u8,
    pub(crate) len: usize,
    /// One flipped bit of the entry (its header or the rest) was corrected in the buffer.
    pub(crate) corrected: bool,
}

fn header_crc(first: &[u8], sector_seq: u32, offset: u32) -> u32 {
    Crc32::new()
        .update(first)
        .update(&sector_seq.to_le_bytes())
        .update(&offset.to_le_bytes())
        .finish()
}

/// Frames the payload already in `buf[ENTRY_HEADER .. ENTRY_HEADER + len]` as an entry of
/// `kind` at `offset` of a sector with sequence number `sector_seq`: writes the header and the
/// trailing CRC and pads with `0xFF`. Returns the entry's length, padded to `align`.
pub(crate) fn frame(
    buf: &mut [u8],
    kind: Kind,
    encoding: u8,
    len: usize,
    sector_seq: u32,
    offset: u32,
    align: usize,
) -> Option<usize> {
    let total = pad(ENTRY_HEADER + len + 4, align);
    if len > MAX_PAYLOAD || total > buf.len() {
        return None;
    }
    let mut first = [0u8; 8];
    first[..2].copy_from_slice(&ENTRY_MAGIC);
    first[2] = kind as u8;
    first[3] = encoding;
    first[4..6].copy_from_slice(&(len as u16).to_le_bytes());
    buf.get_mut(..8)?.copy_from_slice(&first);
    let hcrc = header_crc(&first, sector_seq, offset);
    buf.get_mut(8..12)?.copy_from_slice(&hcrc.to_le_bytes());
    let body = ENTRY_HEADER + len;
    let crc = Crc32::new().update(buf.get(..body)?).finish();
    buf.get_mut(body..body + 4)?
        .copy_from_slice(&crc.to_le_bytes());
    buf.get_mut(body + 4..total)?.fill(0xFF);
    Some(total)
}

/// The header at `offset` of a sector with sequence number `sector_seq`, if it is one (its
/// CRC checks, nothing corrected).
pub(crate) fn parse_entry_header(h: &[u8], sector_seq: u32, offset: u32) -> Option<EntryHeader> {
    let first = h.get(..8)?;
    let crc = u32::from_le_bytes(h.get(8..12)?.try_into().ok()?);
    if header_crc(first, sector_seq, offset) != crc {
        return None;
    }
    fields(first)
}

/// The fields of an entry header's first 8 bytes, if they are well formed.
fn fields(first: &[u8]) -> Option<EntryHeader> {
    if first.get(..2) != Some(&ENTRY_MAGIC[..]) || first.get(6..8) != Some(&[0, 0][..]) {
        return None;
    }
    let len = usize::from(u16::from_le_bytes(first.get(4..6)?.try_into().ok()?));
    let kind = Kind::of(*first.get(2)?)?;
    if len > MAX_PAYLOAD {
        return None;
    }
    Some(EntryHeader {
        kind,
        encoding: *first.get(3)?,
        len,
        corrected: false,
    })
}

/// The bit (`byte * 8 + bit`) of a `len`-byte message whose flip changes its CRC-32 by
/// `syndrome`, if there is one. The CRC is linear: a flip of bit `k` of byte `b` changes the
/// checksum by the register value a single 1 bit becomes after the `8 * (len - b) - k` shifts
/// that follow it. CRC-32 keeps a Hamming distance of at least 4 over messages far longer
/// than an entry (up to 91,607 bits), so the syndromes of every single-bit flip of a message
/// and of its stored checksum all differ (one flipped bit is found, never mistaken for
/// another), and two flipped bits never pass for one. Three can, in the longest entries: a
/// corrected record is checked against its own checksum as well.
fn flipped_bit(syndrome: u32, len: usize) -> Option<usize> {
    let mut d = 1u32;
    for m in 1..=8 * len {
        d = (d >> 1) ^ (0xEDB8_8320 & (d & 1).wrapping_neg());
        if d == syndrome {
            let k = (8 - m % 8) % 8;
            return Some((len - (m + k) / 8) * 8 + k);
        }
    }
    None
}

/// Corrects in `buf` the one flipped bit whose CRC-32 syndrome is `syndrome`, if there is
/// one: the CRC covers `buf[..covered]` and then `virtual_len` bytes that are not in `buf`
/// (known, so never corrected), and is stored at `buf[covered..covered + 4]` (a flip there
/// changes it by a single bit). Bits before `from_bit` are not corrected, and erased bytes
/// are never "corrected" into something written.
fn correct(
    buf: &mut [u8],
    covered: usize,
    virtual_len: usize,
    from_bit: usize,
    syndrome: u32,
) -> bool {
    if buf
        .get(..covered)
        .is_none_or(|b| b.iter().all(|&x| x == 0xFF))
    {
        return false;
    }
    let at = if syndrome.is_power_of_two() {
        8 * covered + syndrome.trailing_zeros() as usize
    } else {
        match flipped_bit(syndrome, covered + virtual_len) {
            Some(at) if at >= from_bit && at < 8 * covered => at,
            _ => return false,
        }
    };
    match buf.get_mut(at / 8) {
        Some(b) => {
            *b ^= 1 << (at % 8);
            true
        }
        None => false,
    }
}

/// [`parse_entry_header`], one flipped bit of the header corrected in `h` (a bit flip at rest:
/// the header's CRC covers its first 8 bytes, then the sector's sequence number and the
/// offset, and is stored after the 8 bytes).
pub(crate) fn header_at(h: &mut [u8], sector_seq: u32, offset: u32) -> Option<EntryHeader> {
    let first = h.get(..8)?;
    let stored = u32::from_le_bytes(h.get(8..12)?.try_into().ok()?);
    let syndrome = header_crc(first, sector_seq, offset) ^ stored;
    if syndrome != 0 && !correct(h, 8, 8, 0, syndrome) {
        return None;
    }
    let mut e = fields(h.get(..8)?)?;
    e.corrected = syndrome != 0;
    Some(e)
}

/// Whether the whole entry in `buf` (header parsed as `h`) passes its CRC, once one flipped
/// bit after its header (a bit flip at rest) is corrected in `buf` (then `h.corrected`).
pub(crate) fn entry_intact(buf: &mut [u8], h: &mut EntryHeader) -> bool {
    let body = ENTRY_HEADER + h.len;
    let (Some(b), Some(Ok(c))) = (
        buf.get(..body),
        buf.get(body..body + 4).map(<[u8; 4]>::try_from),
    ) else {
        return false;
    };
    let syndrome = Crc32::new().update(b).finish() ^ u32::from_le_bytes(c);
    if syndrome == 0 {
        return true;
    }
    // a header that parsed is intact: the flip is in the payload or the CRC, or not one flip
    h.corrected = correct(buf, body, 0, 8 * ENTRY_HEADER, syndrome);
    h.corrected
}

/// Encoding 1: a zero byte is followed by how many zeros it stands for (1 to 255); every
/// other byte is itself. A record is mostly zero padding: it shrinks to about a third.
pub(crate) const ZERO_RUNS: u8 = 1;
/// Encoding 0: the record's 512 bytes as they are (when zero runs would not be shorter).
pub(crate) const RAW: u8 = 0;

/// Encodes `record` into `out`, returning (encoding, length).
pub(crate) fn encode_record(record: &[u8; JournalRecord::LEN], out: &mut [u8]) -> (u8, usize) {
    let mut n = 0usize;
    let mut i = 0usize;
    let mut fits = true;
    while i < record.len() && fits {
        let b = record.get(i).copied().unwrap_or(0);
        if b == 0 {
            let mut run = 1usize;
            while run < 255 && record.get(i + run) == Some(&0) {
                run += 1;
            }
            fits = put2(out, n, 0, run as u8);
            n += 2;
            i += run;
        } else {
            fits = put2(out, n, b, None);
            n += 1;
            i += 1;
        }
        if n >= JournalRecord::LEN {
            fits = false;
        }
    }
    if fits {
        return (ZERO_RUNS, n);
    }
    if let Some(o) = out.get_mut(..JournalRecord::LEN) {
        o.copy_from_slice(record);
    }
    (RAW, JournalRecord::LEN)
}

/// Writes `a` (and `b` when given) at `out[n..]`; false when it does not fit.
fn put2(out: &mut [u8], n: usize, a: u8, b: impl Into<Option<u8>>) -> bool {
    let Some(x) = out.get_mut(n) else {
        return false;
    };
    *x = a;
    match b.into() {
        Some(b) => match out.get_mut(n + 1) {
            Some(y) => {
                *y = b;
                true
            }
            None => false,
        },
        None => true,
    }
}

/// Decodes a record's payload into `out` (exactly [`JournalRecord::LEN`] bytes, or `None`).
/// With `out` shorter than a record, decodes only that prefix.
pub(crate) fn decode_record(encoding: u8, payload: &[u8], out: &mut [u8]) -> Option<()> {
    match encoding {
        RAW => {
            let src = payload.get(..out.len())?;
            if payload.len() != JournalRecord::LEN {
                return None;
            }
            out.copy_from_slice(src);
            Some(())
        }
        ZERO_RUNS => {
            let mut w = 0usize;
            let mut bytes = payload.iter();
            while let Some(&b) = bytes.next() {
                let run = if b == 0 {
                    usize::from(*bytes.next()?)
                } else {
                    1
                };
                if run == 0 || w + run > JournalRecord::LEN {
                    return None;
                }
                for k in w..w + run {
                    if let Some(o) = out.get_mut(k) {
                        *o = b;
                    }
                }
                w += run;
            }
            (w == JournalRecord::LEN).then_some(())
        }
        _ => None,
    }
}

/// Whether the record an entry holds passes the record's own checksum (its last 4 bytes, over
/// the rest): asked of an entry a correction changed, so that a torn write one flipped bit
/// away from passing its entry's CRC is never taken for a record.
pub(crate) fn record_crc_ok(buf: &[u8], h: &EntryHeader) -> bool {
    let mut full = [0u8; JournalRecord::LEN];
    let decoded = buf
        .get(ENTRY_HEADER..ENTRY_HEADER + h.len)
        .and_then(|p| decode_record(h.encoding, p, &mut full));
    let (body, crc) = full.split_at(JournalRecord::LEN - 4);
    decoded.is_some() && Crc32::new().update(body).finish().to_le_bytes() == *crc
}

/// Where the bytes of a record start in a decoded prefix: op, state (see the record's
/// layout in `konaplate_core::flow::record`).
pub(crate) const PREFIX: usize = 40;
const AT_STATE: usize = 5;
const AT_SEQ: usize = 8;

/// The key of the record entry whose frame is in `buf` (its header parsed as `h`): its payload
/// decoded into `out` (the record's first [`PREFIX`] bytes, or all of it), then the sequenceId
/// and state read from those bytes.
pub(crate) fn record_key(
    buf: &[u8],
    h: &EntryHeader,
    out: &mut [u8],
) -> Option<(SequenceId, State)> {
    if !matches!(h.kind, Kind::Record | Kind::Copy) {
        return None;
    }
    decode_record(
        h.encoding,
        buf.get(ENTRY_HEADER..ENTRY_HEADER + h.len)?,
        out,
    )?;
    key_of(out)
}

/// The sequenceId and state of a record from its first [`PREFIX`] bytes.
pub(crate) fn key_of(prefix: &[u8]) -> Option<(SequenceId, State)> {
    if prefix.get(..4) != Some(&b"KPJ2"[..]) {
        return None;
    }
    let state = state_of(*prefix.get(AT_STATE)?)?;
    let n = usize::from(*prefix.get(AT_SEQ)?);
    let id = prefix.get(AT_SEQ + 1..AT_SEQ + 1 + n)?;
    let s = core::str::from_utf8(id).ok()?;
    Some((SequenceId::new(s).ok()?, state))
}

fn state_of(b: u8) -> Option<State> {
    Some(match b {
        1 => State::Sending,
        2 => State::Lost,
        3 => State::Pending,
        10 => State::Completed,
        11 => State::Declined,
        12 => State::Failed,
        13 => State::NotProcessed,
        15 => State::Unknown,
        _ => return None,
    })
}

/// The sequenceId a close entry names.
pub(crate) fn close_key(payload: &[u8]) -> Option<SequenceId> {
    let n = usize::from(*payload.first()?);
    let id = payload.get(1..1 + n)?;
    SequenceId::new(core::str::from_utf8(id).ok()?).ok()
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::indexing_slicing,
        reason = "test code: a wrong index is a failed test"
    )]
    use super::*;

    #[test]
    fn zero_runs_round_trip_and_never_grow_past_raw() {
        let mut rec = [0u8; JournalRecord::LEN];
        rec[..6].copy_from_slice(b"KPJ2\x01\x02");
        rec[300] = 7;
        let mut out = [0u8; MAX_PAYLOAD];
        let (enc, n) = encode_record(&rec, &mut out);
        assert_eq!(enc, ZERO_RUNS);
        assert!(n < 40, "{n}");
        let mut back = [0xAAu8; JournalRecord::LEN];
        decode_record(enc, &out[..n], &mut back).unwrap();
        assert_eq!(back, rec);
        // alternating zeros would double: stored raw
        let mut worst = [0u8; JournalRecord::LEN];
        for (i, b) in worst.iter_mut().enumerate() {
            *b = if i % 2 == 0 { 1 } else { 0 };
        }
        let (enc, n) = encode_record(&worst, &mut out);
        assert_eq!((enc, n), (RAW, JournalRecord::LEN));
        decode_record(enc, &out[..n], &mut back).unwrap();
        assert_eq!(back, worst);
        // a prefix only
        let mut prefix = [0u8; 8];
        let (enc, n) = encode_record(&rec, &mut out);
        decode_record(enc, &out[..n], &mut prefix).unwrap_or(());
        assert_eq!(&prefix[..6], b"KPJ2\x01\x02");
    }

    /// Every single flipped bit of an entry, header, payload or stored CRC, is corrected back
    /// to the entry as written; two flipped bits never pass.
    #[test]
    fn one_flipped_bit_anywhere_in_an_entry_is_corrected() {
        let mut buf = [0u8; SCRATCH_LEN];
        for (i, b) in buf[ENTRY_HEADER..ENTRY_HEADER + 200].iter_mut().enumerate() {
            *b = (i * 7 + 3) as u8;
        }
        let total = frame(&mut buf, Kind::Record, ZERO_RUNS, 200, 5, 96, 4).unwrap();
        let pristine = buf;
        for bit in 0..total * 8 {
            let mut b = pristine;
            b[bit / 8] ^= 1 << (bit % 8);
            let h = header_at(&mut b, 5, 96);
            let mut h = h.unwrap_or_else(|| panic!("bit {bit}: the header"));
            assert!(entry_intact(&mut b, &mut h), "bit {bit}");
            assert!(
                h.corrected || bit >= (ENTRY_HEADER + 200 + 4) * 8,
                "bit {bit}"
            );
            assert_eq!(
                &b[..ENTRY_HEADER + 204],
                &pristine[..ENTRY_HEADER + 204],
                "bit {bit}"
            );
        }
        let mut rng = 0x1234_5678_u32;
        for _ in 0..2000 {
            rng ^= rng << 13;
            rng ^= rng >> 17;
            rng ^= rng << 5;
            let (x, y) = ((rng as usize) % (8 * 216), (rng as usize >> 12) % (8 * 216));
            if x / 8 == y / 8 {
                continue;
            }
            let mut b = pristine;
            b[x / 8] ^= 1 << (x % 8);
            b[y / 8] ^= 1 << (y % 8);
            if let Some(mut h) = header_at(&mut b, 5, 96) {
                assert!(
                    !entry_intact(&mut b, &mut h) || b[..216] == pristine[..216],
                    "bits {x} and {y}: passed as another entry"
                );
            }
        }
    }

    /// Every single flipped bit of a sector header is corrected; erased bytes never pass.
    #[test]
    fn one_flipped_bit_of_a_sector_header_is_corrected() {
        let h = sector_header(2, 77);
        for bit in 0..SECTOR_HEADER * 8 {
            let mut b = h;
            b[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(sector_header_at(2, &mut b), Some(77), "bit {bit}");
            assert_eq!(b, h, "bit {bit}");
        }
        assert_eq!(sector_header_at(2, &mut [0xFF; SECTOR_HEADER]), None);
        let mut other = h;
        assert_eq!(
            sector_header_at(3, &mut other),
            None,
            "another sector's header"
        );
    }

    /// A record entry is checked against the record's own checksum (its last 4 bytes).
    #[test]
    fn a_record_is_checked_against_its_own_checksum() {
        let mut rec = [0u8; JournalRecord::LEN];
        rec[..6].copy_from_slice(b"KPJ2\x01\x02");
        rec[200] = 9;
        let crc = Crc32::new().update(&rec[..JournalRecord::LEN - 4]).finish();
        rec[JournalRecord::LEN - 4..].copy_from_slice(&crc.to_le_bytes());
        for raw in [false, true] {
            let mut r = rec;
            if raw {
                // alternating bytes: stored raw
                for (i, b) in r[10..500].iter_mut().enumerate() {
                    *b = (i % 2) as u8;
                }
                let crc = Crc32::new().update(&r[..JournalRecord::LEN - 4]).finish();
                r[JournalRecord::LEN - 4..].copy_from_slice(&crc.to_le_bytes());
            }
            let mut buf = [0u8; SCRATCH_LEN];
            let (enc, n) = encode_record(&r, &mut buf[ENTRY_HEADER..]);
            assert_eq!(enc == RAW, raw);
            frame(&mut buf, Kind::Record, enc, n, 1, 32, 4).unwrap();
            let h = parse_entry_header(&buf, 1, 32).unwrap();
            assert!(record_crc_ok(&buf, &h), "raw {raw}");
            // a record byte changed under a fresh entry checksum: the entry passes, the record
            // does not
            r[300] ^= 4;
            let (enc, n) = encode_record(&r, &mut buf[ENTRY_HEADER..]);
            frame(&mut buf, Kind::Record, enc, n, 1, 32, 4).unwrap();
            let mut h = parse_entry_header(&buf, 1, 32).unwrap();
            assert!(
                entry_intact(&mut buf, &mut h) && !record_crc_ok(&buf, &h),
                "raw {raw}"
            );
        }
    }

    #[test]
    fn headers_are_bound_to_their_place() {
        let h = sector_header(3, 42);
        assert_eq!(sector_header_at(3, &mut h.clone()), Some(42));
        assert_eq!(
            sector_header_at(2, &mut h.clone()),
            None,
            "another sector's header"
        );
        let mut buf = [0u8; SCRATCH_LEN];
        buf[ENTRY_HEADER..ENTRY_HEADER + 3].copy_from_slice(b"abc");
        let total = frame(&mut buf, Kind::Close, 0, 3, 9, 64, 8).unwrap();
        assert_eq!(total, 24);
        let mut h = parse_entry_header(&buf, 9, 64).unwrap();
        assert!(entry_intact(&mut buf, &mut h) && !h.corrected);
        assert!(parse_entry_header(&buf, 9, 72).is_none(), "another offset");
        assert!(parse_entry_header(&buf, 10, 64).is_none(), "another sector");
        buf[13] ^= 1;
        buf[14] ^= 0x10;
        assert!(!entry_intact(&mut buf, &mut h), "two flipped payload bits");
        assert!(header_at(&mut [0xFF; 12], 9, 64).is_none(), "erased bytes");
    }
}
