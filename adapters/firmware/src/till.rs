//! Money on the till under QEMU (feature `till`): a charge, its cancellation and a refund
//! through `konaplate_embedded::money`, the records in `konaplate_embedded::journal` on a
//! flash region that survives between runs, recovered at every boot.
//!
//! * **The flash** is a region of the board's flash address space (QEMU models it as RAM, so
//!   the program can write it) mirrored to a host file through semihosting: every write and
//!   erase goes to both, and a boot loads the file. It is strict: a word written twice before
//!   an erase fails the run.
//! * **The power cut**: `target/till/cut` names a flash operation; when the program reaches
//!   it, that operation is done halfway (the first half of its bytes) and the program stops
//!   there, as a till loses power — the next run is the next boot.
//! * **The platform** is simulated from the sandbox's recorded answers: it commits each money
//!   request it receives in a ledger file (one line per transaction), loses the answer to the
//!   charge (the connection closes first), answers the result inquiry from its ledger
//!   (`COMPLETED`, or `007_009` not found), and answers the cancellation (JWE) and the refund.
//! * **The till** records each final outcome in a log file (its receipts) before the next
//!   call; a charge that was never processed is made again under a new sequenceId.
//!
//! `scripts/firmware-check` runs it once whole, then cuts the power at every flash operation
//! of that run, boots until the till finishes, and checks the ledger: exactly one transaction
//! for each of the three calls.

use core::cell::RefCell;

use cortex_m_semihosting::{nr, syscall};
use embedded_storage::nor_flash::{ErrorType, NorFlash, NorFlashErrorKind, ReadNorFlash};
use konaplate_core::api::{
    CancelCharge, CancelRequest, Charge, ChargeRequest, ChargeResultInquiry, Endpoint, Refund,
    RefundRequest,
};
use konaplate_core::field::{
    CardExpiry, ChargeAmount, Dcvv, MerchantId, NrNumber, OneTimeToken, SequenceId, TimeZone,
    Timestamp, UserId,
};
use konaplate_core::flow::{MoneyRequest, Outcome, Policy};
use konaplate_core::request::Stamp;
use konaplate_embedded::journal::Geometry;

use crate::{digits, fail, fixtures, must, out};

/// Journal sectors of 4 KiB in the region.
pub const SECTORS: u32 = 3;
const SECTOR: usize = 4096;
const REGION: usize = SECTORS as usize * SECTOR;
/// Where the journal lives in [`HostFlash`].
pub const GEOMETRY: Geometry = Geometry::new(0, SECTOR as u32, SECTORS);

const FLASH_FILE: &str = "target/till/flash.bin\0";
const CUT_FILE: &str = "target/till/cut\0";
const LEDGER_FILE: &str = "target/till/ledger\0";
const RECEIPTS_FILE: &str = "target/till/receipts\0";

/// The journal's region: in the board's flash address space, not loaded from the image (a
/// boot fills it from the host file).
#[unsafe(link_section = ".journal")]
static mut REGION_BYTES: [u8; REGION] = [0xFF; REGION];

// ---------------------------------------------------------------- host files

/// A host file opened through semihosting.
struct HostFile(usize);

impl HostFile {
    fn open(name: &str, mode: usize) -> Option<HostFile> {
        // SAFETY: the semihosting OPEN call reads `name` (NUL-terminated, its length given
        // without the NUL) and returns a handle or -1.
        let fd = unsafe { syscall!(OPEN, name.as_ptr(), mode, name.len() - 1) } as isize;
        (fd >= 0).then_some(HostFile(fd as usize))
    }
    fn len(&self) -> usize {
        // SAFETY: FLEN on an open handle.
        let n = unsafe { syscall!(FLEN, self.0) } as isize;
        n.max(0) as usize
    }
    fn seek(&self, at: usize) {
        // SAFETY: SEEK on an open handle to an absolute position.
        unsafe { syscall!(SEEK, self.0, at) };
    }
    fn read(&self, buf: &mut [u8]) -> usize {
        // SAFETY: READ writes at most `buf.len()` bytes into `buf`; it returns the bytes NOT read.
        let left = unsafe { syscall!(READ, self.0, buf.as_mut_ptr(), buf.len()) };
        buf.len().saturating_sub(left)
    }
    fn write(&self, buf: &[u8]) {
        // SAFETY: WRITE reads `buf.len()` bytes of `buf`.
        unsafe { syscall!(WRITE, self.0, buf.as_ptr(), buf.len()) };
    }
}

impl Drop for HostFile {
    fn drop(&mut self) {
        // SAFETY: CLOSE on an open handle, once.
        unsafe { syscall!(CLOSE, self.0) };
    }
}

/// The whole content of a small host file into `buf`; its length (0 when absent). A file
/// longer than `buf` fails the run: a part of a ledger is a wrong ledger.
fn read_file(name: &str, buf: &mut [u8]) -> usize {
    match HostFile::open(name, nr::open::R_BINARY) {
        Some(f) if f.len() > buf.len() => fail("a host file longer than its buffer"),
        Some(f) => {
            let n = f.len();
            f.read(buf.get_mut(..n).unwrap_or(&mut []))
        }
        None => 0,
    }
}

/// Appends `parts` as one line to a host file.
fn append_line(name: &str, parts: &[&[u8]]) {
    // (opened for update and written at its end: QEMU's append mode writes at the start)
    let Some(f) = HostFile::open(name, nr::open::RW_BINARY)
        .or_else(|| HostFile::open(name, nr::open::W_TRUNC_BINARY))
    else {
        fail("host file")
    };
    f.seek(f.len());
    for p in parts {
        f.write(p);
    }
    f.write(b"\n");
}

fn number(text: &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    let mut any = false;
    for &b in text {
        if b.is_ascii_digit() {
            v = v.checked_mul(10)?.checked_add(u32::from(b - b'0'))?;
            any = true;
        } else if any {
            break;
        }
    }
    any.then_some(v)
}

// ---------------------------------------------------------------- the flash

/// The journal's flash: the region in the board's address space, mirrored to the host file,
/// strict about rewrites, with the power cut at the operation `target/till/cut` names.
pub struct HostFlash {
    file: HostFile,
    ops: u32,
    cut_at: Option<u32>,
}

/// The flash's only error: an access a correct journal never makes.
#[derive(Debug)]
pub struct Misuse;

impl embedded_storage::nor_flash::NorFlashError for Misuse {
    fn kind(&self) -> NorFlashErrorKind {
        NorFlashErrorKind::Other
    }
}

fn region() -> &'static mut [u8; REGION] {
    // SAFETY: one program thread; the region is only reached through the one `HostFlash`
    // (and the boot that fills it before).
    unsafe { &mut *core::ptr::addr_of_mut!(REGION_BYTES) }
}

impl HostFlash {
    /// Power on: the region as the host file keeps it (blank the first time).
    pub fn boot() -> HostFlash {
        let r = region();
        r.fill(0xFF);
        if let Some(f) = HostFile::open(FLASH_FILE, nr::open::R_BINARY) {
            let n = f.len().min(REGION);
            f.read(r.get_mut(..n).unwrap_or(&mut []));
        }
        // the file stays as long as the till runs: every change goes to it
        let Some(file) = HostFile::open(FLASH_FILE, nr::open::RW_BINARY)
            .or_else(|| HostFile::open(FLASH_FILE, nr::open::RW_TRUNC_BINARY))
        else {
            fail("flash file")
        };
        file.seek(0);
        file.write(r);
        let mut c = [0u8; 12];
        let n = read_file(CUT_FILE, &mut c);
        HostFlash {
            file,
            ops: 0,
            cut_at: number(c.get(..n).unwrap_or(&[])),
        }
    }

    /// Flash operations (writes and erases) so far.
    pub fn ops(&self) -> u32 {
        self.ops
    }

    /// Applies `bytes` at `at` in the region and the file; at the cut, half of them and stop.
    fn change(&mut self, at: usize, len: usize, mut f: impl FnMut(usize, &mut u8)) {
        let op = self.ops;
        self.ops += 1;
        let cut = self.cut_at == Some(op);
        let n = if cut { len / 2 } else { len };
        let r = region();
        for i in 0..n {
            if let Some(b) = r.get_mut(at + i) {
                f(i, b);
            }
        }
        self.file.seek(at);
        self.file.write(r.get(at..at + n).unwrap_or(&[]));
        if cut {
            let mut d = [0u8; 20];
            out(&[
                b"power cut at flash operation ",
                digits(op as usize, &mut d),
                b"\n",
            ]);
            cortex_m_semihosting::debug::exit(cortex_m_semihosting::debug::EXIT_SUCCESS);
            #[expect(clippy::empty_loop, reason = "the power is gone")]
            loop {}
        }
    }
}

impl ErrorType for HostFlash {
    type Error = Misuse;
}

impl ReadNorFlash for HostFlash {
    const READ_SIZE: usize = 4;
    fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Misuse> {
        embedded_storage::nor_flash::check_read(self, offset, bytes.len()).map_err(|_| Misuse)?;
        let at = offset as usize;
        bytes.copy_from_slice(region().get(at..at + bytes.len()).ok_or(Misuse)?);
        Ok(())
    }
    fn capacity(&self) -> usize {
        REGION
    }
}

impl NorFlash for HostFlash {
    const WRITE_SIZE: usize = 8;
    const ERASE_SIZE: usize = SECTOR;
    fn erase(&mut self, from: u32, to: u32) -> Result<(), Misuse> {
        embedded_storage::nor_flash::check_erase(self, from, to).map_err(|_| Misuse)?;
        self.change(from as usize, (to - from) as usize, |_, b| *b = 0xFF);
        Ok(())
    }
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Misuse> {
        embedded_storage::nor_flash::check_write(self, offset, bytes.len()).map_err(|_| Misuse)?;
        let at = offset as usize;
        // write once per word: every word written must be erased now
        let r = region().get(at..at + bytes.len()).ok_or(Misuse)?;
        if r.iter().any(|&b| b != 0xFF) {
            fail("a flash word written twice");
        }
        self.change(at, bytes.len(), |i, b| {
            *b &= bytes.get(i).copied().unwrap_or(0xFF)
        });
        Ok(())
    }
}

// ---------------------------------------------------------------- the platform

/// What the simulated platform answers a request with.
pub enum Answer {
    /// The connection closes before any byte (the answer is lost).
    Lost,
    /// These bytes.
    Bytes(&'static [u8]),
}

const NOT_FOUND: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 78\r\n\r\n{\"response\":{\"code\":\"007_009\",\"description\":\"previous transaction not found\"}}";

/// Bytes of the platform's ledger: a line (`K KP-TILL-K-N`, 14 bytes) for each of the three
/// transactions, with room for one more that a wrong till would make (and the run fails on).
const LEDGER_LEN: usize = 64;

/// The simulated platform's ledger: the sequenceIds it committed, kept in a host file (one line
/// each) across the till's boots.
pub struct Platform {
    ledger: [u8; LEDGER_LEN],
    len: usize,
}

impl Default for Platform {
    fn default() -> Self {
        Self::load()
    }
}

impl Platform {
    /// The ledger as the host file keeps it.
    pub fn load() -> Platform {
        let mut ledger = [0u8; LEDGER_LEN];
        let len = read_file(LEDGER_FILE, &mut ledger);
        Platform { ledger, len }
    }

    /// Whether the platform committed `seq`: what an operator learns by asking KONA PLATE
    /// about a refund whose answer was lost (no inquiry exists for refunds).
    pub fn committed(&self, seq: &SequenceId) -> bool {
        self.has(seq.as_bytes())
    }

    fn has(&self, seq: &[u8]) -> bool {
        self.ledger
            .get(..self.len)
            .unwrap_or(&[])
            .split(|&b| b == b'\n')
            .any(|l| l.get(2..) == Some(seq))
    }

    fn commit(&mut self, kind: u8, seq: &[u8]) {
        append_line(LEDGER_FILE, &[&[kind, b' '], seq]);
        let line_len = seq.len() + 3;
        let Some(dst) = self.ledger.get_mut(self.len..self.len + line_len) else {
            fail("the platform's ledger is full: more transactions than calls")
        };
        dst[0] = kind;
        dst[1] = b' ';
        dst[2..2 + seq.len()].copy_from_slice(seq);
        dst[line_len - 1] = b'\n';
        self.len += line_len;
    }

    /// Takes a request (its request line and sequenceId): commits a money request it sees
    /// for the first time, and says what it answers.
    pub fn answer(&mut self, line: &[u8], seq: &[u8]) -> Answer {
        let path = line.split(|&b| b == b' ').nth(1).unwrap_or(b"");
        let is = |p: &str| path.ends_with(p.as_bytes());
        if is(ChargeResultInquiry::PATH) {
            return if self.has(seq) {
                Answer::Bytes(&fixtures::CHARGE_RESULT_CHUNKED)
            } else {
                Answer::Bytes(NOT_FOUND)
            };
        }
        let (kind, answer) = if is(CancelCharge::PATH) {
            (b'X', Answer::Bytes(&fixtures::CANCEL))
        } else if is(Charge::PATH) {
            // the charge's answer is lost: the inquiry has to find out
            (b'C', Answer::Lost)
        } else if is(Refund::PATH) {
            (b'R', Answer::Bytes(&fixtures::REFUND))
        } else {
            fail("an endpoint the till does not use")
        };
        if !self.has(seq) {
            self.commit(kind, seq);
        }
        answer
    }
}

/// A connection to the simulated platform: takes the request, keeping only what the platform
/// looks at (the request line and the `sequenceId`, found as the bytes pass), then serves the
/// answer in 5-byte reads (or closes at once when the answer is lost).
pub struct Connection<'p> {
    platform: &'p RefCell<Platform>,
    line: [u8; 96],
    line_len: usize,
    line_done: bool,
    seq: [u8; 30],
    seq_len: usize,
    /// Bytes of `"sequenceId":"` matched so far; then capturing until the closing quote.
    matched: usize,
    seq_done: bool,
    answer: Option<Answer>,
    at: usize,
}

const SEQ_KEY: &[u8] = b"\"sequenceId\":\"";

impl<'p> Connection<'p> {
    /// A new connection.
    pub fn new(platform: &'p RefCell<Platform>) -> Self {
        Connection {
            platform,
            line: [0; 96],
            line_len: 0,
            line_done: false,
            seq: [0; 30],
            seq_len: 0,
            matched: 0,
            seq_done: false,
            answer: None,
            at: 0,
        }
    }

    /// Takes written bytes.
    pub fn take(&mut self, buf: &[u8]) -> usize {
        for &b in buf {
            if !self.line_done {
                self.line_done = b == b'\n';
                if let Some(c) = self.line.get_mut(self.line_len) {
                    *c = b;
                    self.line_len += 1;
                }
            } else if self.seq_done {
            } else if self.matched == SEQ_KEY.len() {
                if b == b'"' {
                    self.seq_done = true;
                } else if let Some(c) = self.seq.get_mut(self.seq_len) {
                    *c = b;
                    self.seq_len += 1;
                }
            } else if SEQ_KEY.get(self.matched) == Some(&b) {
                self.matched += 1;
            } else {
                self.matched = usize::from(SEQ_KEY.first() == Some(&b));
            }
        }
        buf.len()
    }

    /// Gives the next bytes of the answer (0: closed).
    pub fn give(&mut self, buf: &mut [u8]) -> usize {
        if self.answer.is_none() {
            let line = self.line.get(..self.line_len).unwrap_or(&[]);
            let seq = self.seq.get(..self.seq_len).unwrap_or(&[]);
            self.answer = Some(self.platform.borrow_mut().answer(line, seq));
        }
        match &self.answer {
            Some(Answer::Bytes(b)) => {
                let rest = b.get(self.at..).unwrap_or(&[]);
                let n = rest.len().min(5).min(buf.len());
                buf[..n].copy_from_slice(&rest[..n]);
                self.at += n;
                n
            }
            _ => 0,
        }
    }
}

// ---------------------------------------------------------------- the till

/// The till's receipts: the final outcome of each call, in a host file (`S seq [nr]`).
pub struct Receipts {
    log: [u8; 512],
    len: usize,
}

impl Receipts {
    /// As the host file keeps them.
    pub fn load() -> Receipts {
        let mut log = [0u8; 512];
        let len = read_file(RECEIPTS_FILE, &mut log);
        Receipts { log, len }
    }

    fn lines(&self) -> impl Iterator<Item = &[u8]> {
        self.log
            .get(..self.len)
            .unwrap_or(&[])
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
    }

    /// The word recorded for `seq`.
    pub fn of(&self, seq: &SequenceId) -> Option<&[u8]> {
        self.lines().find_map(|l| {
            let mut parts = l.split(|&b| b == b' ');
            let s = parts.next()?;
            (s == seq.as_bytes()).then(|| parts.next().unwrap_or(b""))
        })
    }

    /// Records a final outcome (once per sequenceId).
    pub fn record(&mut self, seq: &SequenceId, outcome: &Outcome) {
        if !outcome.is_final() || self.of(seq).is_some() {
            return;
        }
        let word = outcome.word().as_bytes();
        append_line(RECEIPTS_FILE, &[seq.as_bytes(), b" ", word]);
        let n = seq.as_bytes().len() + word.len() + 2;
        let Some(dst) = self.log.get_mut(self.len..self.len + n) else {
            fail("the receipts log is full")
        };
        dst[..seq.as_bytes().len()].copy_from_slice(seq.as_bytes());
        dst[seq.as_bytes().len()] = b' ';
        dst[seq.as_bytes().len() + 1..n - 1].copy_from_slice(word);
        dst[n - 1] = b'\n';
        self.len += n;
    }
}

/// The sequenceId of a call's attempt: `KP-TILL-<kind>-<attempt>`.
pub fn sequence_id(kind: u8, attempt: u8) -> SequenceId {
    let mut id = *b"KP-TILL-C-0";
    id[8] = kind;
    id[10] = b'0' + attempt;
    must(SequenceId::new(
        core::str::from_utf8(&id).unwrap_or("KP-TILL"),
    ))
}

const USER_ID: UserId = must_const(UserId::new(50_000_100_001));
const AMOUNT: ChargeAmount = must_const(ChargeAmount::new(50_000));

const fn must_const<T: Copy>(r: Result<T, konaplate_core::field::FieldError>) -> T {
    match r {
        Ok(v) => v,
        Err(_) => panic!("a constant of the till out of its limits"),
    }
}

/// The three calls of the till, in order, each in attempts: `(kind, attempt)` → its request.
/// A call never processed is made again as the next attempt.
pub fn request(kind: u8, attempt: u8) -> MoneyRequest {
    let sequence_id = sequence_id(kind, attempt);
    let one_time_token = must(OneTimeToken::new(fixtures::TOKEN_VALUE));
    let dcvv = must(Dcvv::new(fixtures::DCVV_VALUE));
    match kind {
        b'C' => ChargeRequest {
            sequence_id,
            user_id: USER_ID,
            amount: AMOUNT,
            one_time_token,
            dcvv,
            merchant_id: must(MerchantId::new("100000000000101")),
        }
        .into(),
        b'X' => CancelRequest {
            sequence_id,
            user_id: USER_ID,
            nr_number: must(NrNumber::new(fixtures::CHARGE_NR)),
            one_time_token,
            dcvv,
            card_expiry: None,
        }
        .into(),
        _ => RefundRequest {
            sequence_id,
            user_id: USER_ID,
            card_expiry: must(CardExpiry::new("3108")),
            dcvv,
            one_time_token,
        }
        .into(),
    }
}

/// The next call to make: the first kind whose attempts so far ended not processed (or not at
/// all), with its next attempt. `None`: all three are done.
pub fn next_call(receipts: &Receipts) -> Option<(u8, u8)> {
    for kind in [b'C', b'X', b'R'] {
        let mut attempt = 0;
        loop {
            match receipts.of(&sequence_id(kind, attempt)) {
                Some(b"NOT_PROCESSED") => attempt += 1,
                Some(_) => break,
                None => return Some((kind, attempt)),
            }
            if attempt > 5 {
                fail("a call never processed five times");
            }
        }
    }
    None
}

const STAMP_TIME: Timestamp = must_const(Timestamp::new(2026, 12, 2, 12, 0, 0, 0));

/// The till's clock: the host's time (semihosting), moved on by every wait (nothing waits).
pub struct Clock {
    base_ms: u64,
    skipped_ms: u64,
    stamps: u32,
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock {
    /// Now.
    pub fn new() -> Clock {
        // SAFETY: TIME takes no argument and returns the host's seconds since 1970.
        let secs = unsafe { syscall!(TIME) } as u64;
        Clock {
            base_ms: secs * 1_000,
            skipped_ms: 0,
            stamps: 0,
        }
    }
    /// Milliseconds.
    pub fn now_ms(&self) -> u64 {
        self.base_ms + self.skipped_ms
    }
    /// Moves on to `at_ms`.
    pub fn wait_until(&mut self, at_ms: u64) {
        self.skipped_ms = self.skipped_ms.max(at_ms.saturating_sub(self.base_ms));
    }
    /// A stamp with a fresh Correlation-Id.
    pub fn stamp(&mut self) -> Stamp {
        self.stamps += 1;
        Stamp::new(
            STAMP_TIME,
            TimeZone::KST,
            (self.now_ms() as u32 ^ self.stamps.wrapping_mul(0x9E37_79B9)) & 0x0FFF_FFFF,
        )
    }
}

/// The timing of the till's calls: the defaults, and retries that need no real time.
pub fn policy() -> Policy {
    Policy {
        retry_ms: 1_000,
        ..Policy::default()
    }
}

/// Prints the till's end: what each call came to, the flash operations, `till_ok=1`.
pub fn report(receipts: &Receipts, flash_ops: u32) {
    for kind in [b'C', b'X', b'R'] {
        for attempt in 0..6 {
            let seq = sequence_id(kind, attempt);
            if let Some(word) = receipts.of(&seq) {
                out(&[b"till: ", seq.as_bytes(), b" ", word, b"\n"]);
            }
        }
    }
    let mut d = [0u8; 20];
    out(&[b"flash_ops=", digits(flash_ops as usize, &mut d), b"\n"]);
    out(&[b"till_ok=1\n"]);
}

// ---------------------------------------------------------------- the two drivers

/// The blocking till: boot, recover, then the calls still to make.
pub mod blocking {
    use core::cell::RefCell;
    use core::convert::Infallible;

    use embedded_io::{ErrorType, Read, Write};
    use konaplate_core::request::{Session, Stamp};
    use konaplate_embedded::journal::{Journal, SCRATCH_LEN};
    use konaplate_embedded::money::{self, Device};

    use konaplate_core::field::SequenceId;
    use konaplate_core::flow::{Closure, State};

    use super::{Clock, Connection, GEOMETRY, HostFlash, Platform, Receipts, next_call};
    use crate::{DemoSecureElement, fail};

    /// A connection as the blocking client sees it.
    pub struct Stream<'p>(Connection<'p>);

    impl ErrorType for Stream<'_> {
        type Error = Infallible;
    }
    impl Read for Stream<'_> {
        fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
            Ok(self.0.give(buf))
        }
    }
    impl Write for Stream<'_> {
        fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
            Ok(self.0.take(buf))
        }
        fn flush(&mut self) -> Result<(), Infallible> {
            Ok(())
        }
    }

    /// The till's device: its clock and the simulated platform.
    struct Till<'p> {
        clock: Clock,
        platform: &'p RefCell<Platform>,
    }

    impl<'p> Device for Till<'p> {
        type Stream<'s>
            = Stream<'p>
        where
            Self: 's;
        fn now_ms(&mut self) -> u64 {
            self.clock.now_ms()
        }
        fn stamp(&mut self) -> Stamp {
            self.clock.stamp()
        }
        fn connect(&mut self) -> Option<Stream<'p>> {
            Some(Stream(Connection::new(self.platform)))
        }
        fn wait_until(&mut self, at_ms: u64) {
            self.clock.wait_until(at_ms)
        }
    }

    /// One boot of the till. Returns the flash operations it made.
    pub fn boot(session: &Session) -> u32 {
        let platform = RefCell::new(Platform::load());
        let mut till = Till {
            clock: Clock::new(),
            platform: &platform,
        };
        let mut receipts = Receipts::load();
        let mut scratch = [0u8; SCRATCH_LEN];
        // the largest exchange is the cancellation's JWE answer (747 bytes): a plain buffer holds it
        let mut buf = [0u8; konaplate_embedded::BUFFER_PLAIN];
        let Ok((mut journal, _)) = Journal::open(HostFlash::boot(), GEOMETRY, &mut scratch) else {
            fail("journal open")
        };
        let mut keys = DemoSecureElement::keys();
        let recovered = money::recover(
            &mut till,
            &mut journal,
            session,
            super::policy(),
            &mut keys,
            &mut buf,
            |s, o| receipts.record(s, o),
        );
        if recovered.is_err() {
            fail("recover");
        }
        // a refund whose answer was lost is UNKNOWN (refunds have no inquiry): the operator
        // asks KONA PLATE and closes it with its word
        let unknown: heapless::Vec<SequenceId, 8> = journal
            .entries()
            .filter(|(_, s)| *s == State::Unknown)
            .map(|(s, _)| *s)
            .collect();
        for seq in &unknown {
            let closure = if platform.borrow().committed(seq) {
                Closure::Completed
            } else {
                Closure::NotProcessed
            };
            let closed = journal.read(seq).ok().and_then(|r| {
                r.closed_by_operator(closure, "checked with KONA PLATE", till.clock.now_ms())
                    .ok()
                    .flatten()
            });
            match closed {
                Some(rec) if journal.persist(&rec).is_ok() => {
                    receipts.record(seq, &konaplate_core::flow::outcome_of_record(&rec))
                }
                _ => fail("closing an unknown refund"),
            }
        }
        while let Some((kind, attempt)) = next_call(&receipts) {
            let req = super::request(kind, attempt);
            let seq = req.sequence_id();
            match money::run(
                &mut till,
                &mut journal,
                session,
                req,
                super::policy(),
                &mut keys,
                &mut buf,
            ) {
                Ok(o) if o.is_final() => receipts.record(&seq, &o),
                Ok(_) => fail("a call left open with the platform up"),
                Err(_) => fail("money::run"),
            }
        }
        journal.release().ops()
    }
}

/// The async till: the same, over the async journal and client.
pub mod asynch {
    use core::cell::RefCell;
    use core::convert::Infallible;

    use embedded_io_async::{ErrorType, Read, Write};
    use konaplate_core::request::{Session, Stamp};
    use konaplate_embedded::asynch::money::{self, Device};
    use konaplate_embedded::journal::SCRATCH_LEN;
    use konaplate_embedded::journal::asynch::Journal;

    use konaplate_core::field::SequenceId;
    use konaplate_core::flow::{Closure, State};

    use super::{Clock, Connection, GEOMETRY, HostFlash, Platform, Receipts, next_call};
    use crate::{DemoSecureElement, fail};

    /// The host flash through the async traits (its operations complete at once).
    pub struct AsyncFlash(pub HostFlash);

    impl embedded_storage_async::nor_flash::ErrorType for AsyncFlash {
        type Error = super::Misuse;
    }
    impl embedded_storage_async::nor_flash::ReadNorFlash for AsyncFlash {
        const READ_SIZE: usize = 4;
        async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), super::Misuse> {
            embedded_storage::nor_flash::ReadNorFlash::read(&mut self.0, offset, bytes)
        }
        fn capacity(&self) -> usize {
            embedded_storage::nor_flash::ReadNorFlash::capacity(&self.0)
        }
    }
    impl embedded_storage_async::nor_flash::NorFlash for AsyncFlash {
        const WRITE_SIZE: usize = 8;
        const ERASE_SIZE: usize = super::SECTOR;
        async fn erase(&mut self, from: u32, to: u32) -> Result<(), super::Misuse> {
            embedded_storage::nor_flash::NorFlash::erase(&mut self.0, from, to)
        }
        async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), super::Misuse> {
            embedded_storage::nor_flash::NorFlash::write(&mut self.0, offset, bytes)
        }
    }

    /// A connection as the async client sees it.
    pub struct Stream<'p>(Connection<'p>);

    impl ErrorType for Stream<'_> {
        type Error = Infallible;
    }
    impl Read for Stream<'_> {
        async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
            Ok(self.0.give(buf))
        }
    }
    impl Write for Stream<'_> {
        async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
            Ok(self.0.take(buf))
        }
        async fn flush(&mut self) -> Result<(), Infallible> {
            Ok(())
        }
    }

    struct Till<'p> {
        clock: Clock,
        platform: &'p RefCell<Platform>,
    }

    impl<'p> Device for Till<'p> {
        type Stream<'s>
            = Stream<'p>
        where
            Self: 's;
        fn now_ms(&mut self) -> u64 {
            self.clock.now_ms()
        }
        fn stamp(&mut self) -> Stamp {
            self.clock.stamp()
        }
        async fn connect(&mut self) -> Option<Stream<'p>> {
            Some(Stream(Connection::new(self.platform)))
        }
        async fn wait_until(&mut self, at_ms: u64) {
            self.clock.wait_until(at_ms)
        }
    }

    /// One boot of the till. Returns the flash operations it made.
    pub async fn boot(session: &Session) -> u32 {
        let platform = RefCell::new(Platform::load());
        let mut till = Till {
            clock: Clock::new(),
            platform: &platform,
        };
        let mut receipts = Receipts::load();
        let mut scratch = [0u8; SCRATCH_LEN];
        // the largest exchange is the cancellation's JWE answer (747 bytes): a plain buffer holds it
        let mut buf = [0u8; konaplate_embedded::BUFFER_PLAIN];
        let Ok((mut journal, _)) =
            Journal::open(AsyncFlash(HostFlash::boot()), GEOMETRY, &mut scratch).await
        else {
            fail("journal open")
        };
        let mut keys = DemoSecureElement::keys();
        let recovered = money::recover(
            &mut till,
            &mut journal,
            session,
            super::policy(),
            &mut keys,
            &mut buf,
            |s, o| receipts.record(s, o),
        )
        .await;
        if recovered.is_err() {
            fail("recover");
        }
        // a refund whose answer was lost is UNKNOWN: the operator asks KONA PLATE and closes it
        let unknown: heapless::Vec<SequenceId, 8> = journal
            .entries()
            .filter(|(_, s)| *s == State::Unknown)
            .map(|(s, _)| *s)
            .collect();
        for seq in &unknown {
            let closure = if platform.borrow().committed(seq) {
                Closure::Completed
            } else {
                Closure::NotProcessed
            };
            let closed = match journal.read(seq).await {
                Ok(r) => r
                    .closed_by_operator(closure, "checked with KONA PLATE", till.clock.now_ms())
                    .ok()
                    .flatten(),
                Err(_) => None,
            };
            match closed {
                Some(rec) if journal.persist(&rec).await.is_ok() => {
                    receipts.record(seq, &konaplate_core::flow::outcome_of_record(&rec))
                }
                _ => fail("closing an unknown refund"),
            }
        }
        while let Some((kind, attempt)) = next_call(&receipts) {
            let req = super::request(kind, attempt);
            let seq = req.sequence_id();
            match money::run(
                &mut till,
                &mut journal,
                session,
                req,
                super::policy(),
                &mut keys,
                &mut buf,
            )
            .await
            {
                Ok(o) if o.is_final() => receipts.record(&seq, &o),
                Ok(_) => fail("a call left open with the platform up"),
                Err(_) => fail("money::run"),
            }
        }
        journal.release().0.ops()
    }
}
