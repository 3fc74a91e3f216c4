//! A strict NOR flash for host tests and fuzzing (feature `flash-model`, std): what a journal
//! may assume of real flash, and nothing more.
//!
//! * `WRITE_SIZE` = `READ_SIZE` = `W` bytes, `ERASE_SIZE` = `E` bytes; every access aligned
//!   and in bounds, or it is refused and recorded as a violation;
//! * erased bytes read `0xFF`; a write clears bits (`old & new`); **a word is written at most
//!   once between erases** (ECC flash), or the write is refused and recorded;
//! * faults, injected at a chosen byte of a chosen write or erase: the power is cut there and
//!   the operation's rest does not happen ([`Fault::Stop`]), the word under way gets random
//!   1→0 bits ([`Fault::Torn`]) or keeps bits that read differently each time
//!   ([`Fault::Metastable`]); an erase cut there leaves the rest of the unit as it was, or
//!   with random bits set ([`Fault::Torn`]) or undecided; worn erase units whose writes or
//!   erases fail ([`Wear`]); bit flips in the stored image ([`ModelFlash::flip`]); reads
//!   of an intact word that fail a few times ([`ModelFlash::flaky`]).
//!
//! After a cut every access fails until [`ModelFlash::reboot`]: the image is what a till
//! would find at the next boot.

extern crate std;

use std::collections::{BTreeMap, BTreeSet};
use std::string::String;
use std::vec;
use std::vec::Vec;

use embedded_storage::nor_flash::{
    ErrorType, NorFlash, NorFlashError, NorFlashErrorKind, ReadNorFlash,
};

/// What the power cut does to the operation under way, from its chosen byte on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The rest of the operation does not happen.
    Stop,
    /// The word under way gets a random part of its change (a write: some of its 1→0 bits;
    /// an erase: the rest of the unit gets random 0→1 bits).
    Torn,
    /// The bits the word under way was changing read differently each time (an erase: the
    /// rest of the unit's programmed bits).
    Metastable,
}

/// Where and how the power is cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cut {
    /// The write or erase it hits, counting from 0 since the model was made or rebooted.
    pub op: u64,
    /// The byte of that operation where it hits (0: before anything happened).
    pub at: usize,
    /// What it does.
    pub fault: Fault,
}

/// A worn erase unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wear {
    /// Writes fail (an error, nothing written).
    WritesFail,
    /// Writes return `Ok` but some bits do not program.
    WritesGarble,
    /// Erases fail (an error, nothing erased).
    ErasesFail,
    /// Erases return `Ok` but some bits stay programmed.
    ErasesStick,
    /// Writes program the data, then return an error anyway.
    WritesLie,
}

/// The model's errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelError {
    /// The power is off (a cut happened).
    PowerOff,
    /// A misaligned access.
    NotAligned,
    /// An access past the end.
    OutOfBounds,
    /// A word written twice without an erase.
    Rewrite,
    /// A worn unit failed the operation.
    Worn,
    /// A read of a word a cut left half programmed (flash with ECC).
    Ecc,
}

impl NorFlashError for ModelError {
    fn kind(&self) -> NorFlashErrorKind {
        match self {
            ModelError::NotAligned => NorFlashErrorKind::NotAligned,
            ModelError::OutOfBounds => NorFlashErrorKind::OutOfBounds,
            _ => NorFlashErrorKind::Other,
        }
    }
}

/// A strict NOR flash of `W`-byte words and `E`-byte erase units.
#[derive(Clone, Debug)]
pub struct ModelFlash<const W: usize, const E: usize> {
    bytes: Vec<u8>,
    /// Per word: programmed (or touched by a cut) since its unit's last erase.
    written: Vec<bool>,
    /// Per byte: bits that read differently each time.
    undecided: BTreeMap<usize, u8>,
    /// Words a cut left half programmed or half erased: with `ecc`, reading them fails.
    weak: BTreeSet<usize>,
    /// Per word: reads touching it that still fail (transient read errors).
    flaky: BTreeMap<usize, u32>,
    ecc: bool,
    /// Per erase unit: erases so far.
    erases: Vec<u64>,
    wear: BTreeMap<usize, Wear>,
    cut: Option<Cut>,
    powered: bool,
    ops: u64,
    log: Vec<Op>,
    rng: u64,
    violations: Vec<String>,
}

/// One write or erase the model took (for choosing where to cut).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    /// An erase (else a write).
    pub erase: bool,
    /// Its offset.
    pub offset: u32,
    /// Its length in bytes.
    pub len: usize,
}

impl<const W: usize, const E: usize> ModelFlash<W, E> {
    /// An erased flash of `units` erase units; `seed` drives every random choice.
    pub fn new(units: usize, seed: u64) -> Self {
        let len = units * E;
        Self {
            bytes: vec![0xFF; len],
            written: vec![false; len / W],
            undecided: BTreeMap::new(),
            weak: BTreeSet::new(),
            flaky: BTreeMap::new(),
            ecc: false,
            erases: vec![0; units],
            wear: BTreeMap::new(),
            cut: None,
            powered: true,
            ops: 0,
            log: Vec::new(),
            rng: seed | 1,
            violations: Vec::new(),
        }
    }

    /// Cuts the power at `cut` (counted from now on).
    pub fn arm(&mut self, cut: Cut) {
        self.cut = Some(cut);
    }

    /// Flash with ECC: a read of a word a cut left half programmed or half erased fails.
    pub fn ecc(&mut self, on: bool) {
        self.ecc = on;
    }

    /// The next `times` reads touching the word at byte `offset` fail (a transient read
    /// error: a marginal cell, a bus glitch); the word itself is intact.
    pub fn flaky(&mut self, offset: usize, times: u32) {
        self.flaky.insert(offset / W, times);
    }

    /// Wears erase unit `unit` out.
    pub fn wear_out(&mut self, unit: usize, wear: Wear) {
        self.wear.insert(unit, wear);
    }

    /// Power on again after a cut: the image stays; the operation count and log restart.
    pub fn reboot(&mut self) {
        self.powered = true;
        self.cut = None;
        self.ops = 0;
        self.log.clear();
    }

    /// The writes and erases taken since the model was made or rebooted.
    pub fn log(&self) -> &[Op] {
        &self.log
    }

    /// Whether a cut happened (the power is off).
    pub fn is_off(&self) -> bool {
        !self.powered
    }

    /// Writes and erases so far (since the model was made or rebooted).
    pub fn ops(&self) -> u64 {
        self.ops
    }

    /// Erases so far, per erase unit (wear).
    pub fn erases(&self) -> &[u64] {
        &self.erases
    }

    /// Accesses a correct journal never makes: rewrites, misaligned, out of bounds.
    pub fn violations(&self) -> &[String] {
        &self.violations
    }

    /// Flips bit `bit` of the stored image (damage at rest).
    pub fn flip(&mut self, bit: usize) {
        if let Some(b) = self.bytes.get_mut(bit / 8) {
            *b ^= 1 << (bit % 8);
        }
    }

    /// The stored image (undecided bits as they happen to read now).
    pub fn image(&mut self) -> Vec<u8> {
        let mut out = self.bytes.clone();
        let _ = self.read_raw(0, &mut out);
        out
    }

    fn next(&mut self) -> u64 {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        x
    }

    fn check(
        &mut self,
        what: &str,
        offset: u32,
        len: usize,
        align: usize,
    ) -> Result<usize, ModelError> {
        if !self.powered {
            return Err(ModelError::PowerOff);
        }
        let at = offset as usize;
        if at.checked_add(len).is_none_or(|end| end > self.bytes.len()) {
            self.violations
                .push(std::format!("{what} out of bounds at {at}+{len}"));
            return Err(ModelError::OutOfBounds);
        }
        if !at.is_multiple_of(align) || !len.is_multiple_of(align) {
            self.violations
                .push(std::format!("{what} misaligned at {at}+{len}"));
            return Err(ModelError::NotAligned);
        }
        Ok(at)
    }

    fn read_raw(&mut self, at: usize, out: &mut [u8]) -> Result<(), ModelError> {
        let settled = self.undecided.range(at..at + out.len()).next().is_none();
        if let (true, Some(src)) = (settled, self.bytes.get(at..at + out.len())) {
            out.copy_from_slice(src);
            return Ok(());
        }
        for (i, o) in out.iter_mut().enumerate() {
            let mut b = self.bytes.get(at + i).copied().unwrap_or(0xFF);
            if let Some(&m) = self.undecided.get(&(at + i)) {
                let r = self.next() as u8;
                b = (b & !m) | (r & m);
            }
            *o = b;
        }
        Ok(())
    }

    /// Whether this operation is the one the cut hits; counts and logs it.
    fn hit(&mut self, erase: bool, offset: u32, len: usize) -> Option<Cut> {
        let op = self.ops;
        self.ops += 1;
        self.log.push(Op { erase, offset, len });
        self.cut.filter(|c| c.op == op)
    }
}

impl<const W: usize, const E: usize> ErrorType for ModelFlash<W, E> {
    type Error = ModelError;
}

impl<const W: usize, const E: usize> ReadNorFlash for ModelFlash<W, E> {
    const READ_SIZE: usize = W;

    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), ModelError> {
        let at = self.check("read", offset, bytes.len(), W)?;
        let mut transient = false;
        for (_, left) in self.flaky.range_mut(at / W..(at + bytes.len()).div_ceil(W)) {
            if *left > 0 {
                *left -= 1;
                transient = true;
            }
        }
        if transient {
            return Err(ModelError::Ecc);
        }
        if self.ecc
            && self
                .weak
                .range(at / W..(at + bytes.len()).div_ceil(W))
                .next()
                .is_some()
        {
            return Err(ModelError::Ecc);
        }
        self.read_raw(at, bytes)
    }

    fn capacity(&self) -> usize {
        self.bytes.len()
    }
}

impl<const W: usize, const E: usize> NorFlash for ModelFlash<W, E> {
    const WRITE_SIZE: usize = W;
    const ERASE_SIZE: usize = E;

    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), ModelError> {
        let at = self.check("write", offset, data.len(), W)?;
        let first = at / W;
        let words = data.len() / W;
        if let Some(w) = (first..first + words).find(|&w| self.written.get(w) == Some(&true)) {
            self.violations
                .push(std::format!("word {} written twice", w * W));
            return Err(ModelError::Rewrite);
        }
        let unit = at / E;
        let cut = self.hit(false, offset, data.len());
        match self.wear.get(&unit) {
            Some(Wear::WritesFail) => return Err(ModelError::Worn),
            Some(Wear::WritesLie) => {
                for (i, &d) in data.iter().enumerate() {
                    if let Some(b) = self.bytes.get_mut(at + i) {
                        *b &= d;
                    }
                }
                for w in first..first + words {
                    if let Some(f) = self.written.get_mut(w) {
                        *f = true;
                    }
                }
                return Err(ModelError::Worn);
            }
            Some(Wear::WritesGarble) => {
                for (i, &d) in data.iter().enumerate() {
                    let keep = self.next() as u8 | d;
                    if let Some(b) = self.bytes.get_mut(at + i) {
                        *b &= keep | (self.rng as u8 & 0x0F);
                    }
                }
                for w in first..first + words {
                    if let Some(f) = self.written.get_mut(w) {
                        *f = true;
                    }
                }
                return Ok(());
            }
            _ => {}
        }
        let stop = cut.map_or(data.len(), |c| c.at.min(data.len()));
        for (i, &d) in data.iter().enumerate().take(stop) {
            if let Some(b) = self.bytes.get_mut(at + i) {
                *b &= d;
            }
            self.undecided.remove(&(at + i));
        }
        let touched_end = match cut {
            None => data.len(),
            Some(c) => {
                // the word under way, from the cut byte to its end
                let word_end = ((stop / W + 1) * W).min(data.len());
                for i in stop..word_end {
                    let d = data.get(i).copied().unwrap_or(0xFF);
                    let old = self.bytes.get(at + i).copied().unwrap_or(0xFF);
                    let clearing = old & !d;
                    match c.fault {
                        Fault::Stop => {}
                        Fault::Torn => {
                            let r = self.next() as u8;
                            if let Some(b) = self.bytes.get_mut(at + i) {
                                *b &= !(clearing & r);
                            }
                        }
                        Fault::Metastable => {
                            if clearing != 0 {
                                *self.undecided.entry(at + i).or_insert(0) |= clearing;
                            }
                        }
                    }
                }
                match c.fault {
                    // it stopped there: the words it had begun
                    Fault::Stop => stop,
                    _ => word_end.max(stop),
                }
            }
        };
        // every word the operation reached counts as written (a cut one too)
        let reached = touched_end.div_ceil(W);
        // the word the cut hit in the middle of (its bytes neither all old nor all new)
        if let Some(c) = cut
            && ((c.fault != Fault::Stop && stop < data.len()) || !stop.is_multiple_of(W))
        {
            self.weak.insert(first + stop / W);
        }
        for w in first..first + reached {
            if let Some(f) = self.written.get_mut(w) {
                *f = true;
            }
        }
        if cut.is_some() {
            self.powered = false;
            return Err(ModelError::PowerOff);
        }
        Ok(())
    }

    fn erase(&mut self, from: u32, to: u32) -> Result<(), ModelError> {
        if to < from {
            self.violations
                .push(std::format!("erase from {from} to {to}"));
            return Err(ModelError::OutOfBounds);
        }
        let at = self.check("erase", from, (to - from) as usize, E)?;
        let len = (to - from) as usize;
        let cut = self.hit(true, from, len);
        let units: BTreeSet<usize> = (at / E..(at + len) / E).collect();
        for &u in &units {
            match self.wear.get(&u) {
                Some(Wear::ErasesFail) => return Err(ModelError::Worn),
                Some(Wear::ErasesStick) => {
                    if let Some(e) = self.erases.get_mut(u) {
                        *e += 1;
                    }
                    for i in u * E..(u + 1) * E {
                        let stuck = if self.next().is_multiple_of(61) {
                            !(1u8 << (self.rng % 8))
                        } else {
                            0xFF
                        };
                        if let Some(b) = self.bytes.get_mut(i) {
                            *b = stuck;
                        }
                        self.undecided.remove(&i);
                    }
                    for w in u * E / W..(u + 1) * E / W {
                        if let Some(f) = self.written.get_mut(w) {
                            *f = false;
                        }
                    }
                    return Ok(());
                }
                _ => {}
            }
        }
        let stop = cut.map_or(len, |c| c.at.min(len));
        for i in at..at + stop {
            if let Some(b) = self.bytes.get_mut(i) {
                *b = 0xFF;
            }
            self.undecided.remove(&i);
        }
        let erased_words: Vec<usize> = self.weak.range(at / W..(at + stop) / W).copied().collect();
        for w in erased_words {
            self.weak.remove(&w);
        }
        if let Some(c) = cut
            && c.fault != Fault::Stop
            && stop < len
        {
            // the word under way when the erase stopped is neither erased nor programmed
            self.weak.insert((at + stop) / W);
        }
        if let Some(c) = cut {
            for i in at + stop..at + len {
                let old = self.bytes.get(i).copied().unwrap_or(0xFF);
                match c.fault {
                    Fault::Stop => {}
                    Fault::Torn => {
                        let r = self.next() as u8;
                        if let Some(b) = self.bytes.get_mut(i) {
                            *b = old | r;
                        }
                    }
                    Fault::Metastable => {
                        if old != 0xFF {
                            *self.undecided.entry(i).or_insert(0) |= !old;
                        }
                    }
                }
            }
        }
        // a unit counts as erased (its words writable) only once the erase reached all of it
        for &u in &units {
            let (s, e) = (u * E, (u + 1) * E);
            if at + stop >= e {
                if let Some(n) = self.erases.get_mut(u) {
                    *n += 1;
                }
                for w in s / W..e / W {
                    if let Some(f) = self.written.get_mut(w) {
                        *f = false;
                    }
                }
            } else if at + stop > s {
                // a half-erased unit: nothing of it may be programmed before a whole erase
                for w in s / W..e / W {
                    if let Some(f) = self.written.get_mut(w) {
                        *f = true;
                    }
                }
            }
        }
        if cut.is_some() {
            self.powered = false;
            return Err(ModelError::PowerOff);
        }
        Ok(())
    }
}
