//! Money on the till: charges, cancellations and refunds through the core's flow, their
//! records in the [`Journal`] on flash, and [`recover`] at boot.
//!
//! The rules, as payment terminals keep them for reversals:
//! * **At boot**, open the journal and call [`recover`]: every call a power cut interrupted is
//!   driven to the platform's outcome (or stays plainly open when the platform cannot be
//!   reached), and every settled one is reported again, for a receipt the cut may have
//!   stopped.
//! * **A new call is refused while an older call of this till awaits the platform**
//!   ([`MoneyError::OpenCall`]): an in-doubt charge is resolved before the next customer pays,
//!   never forgotten behind a new one. Call [`recover`] again (it needs the network). A refund
//!   whose outcome cannot be learned (`UNKNOWN`, no inquiry exists) does not block: it waits for
//!   an operator's word, appended with `JournalRecord::closed_by_operator`.
//! * **Before a new call, the settled ones are closed**: their outcome was returned (by
//!   [`run`] or [`recover`]) and the till has moved on. Then the journal must have room for the
//!   new call's records, or the call is refused before anything is sent
//!   ([`MoneyError::Full`]).
//!
//! ```no_run
//! # use konaplate_core::prelude::*;
//! # use konaplate_core::flow::{Policy, Outcome};
//! # use konaplate_embedded::journal::{Geometry, Journal, SCRATCH_LEN};
//! # use konaplate_embedded::money::{self, Device};
//! # fn till<D: Device, F: embedded_storage::nor_flash::NorFlash>(device: &mut D, flash: F,
//! #     session: &Session, charge: konaplate_core::api::ChargeRequest) -> Result<(), money::MoneyError<F::Error>> {
//! let mut scratch = [0u8; SCRATCH_LEN];
//! let (mut journal, _) = Journal::open(flash, Geometry::new(0x8_0000, 4096, 8), &mut scratch)?;
//! let mut buf = [0u8; konaplate_embedded::BUFFER_ENCRYPTED];
//! // at boot: finish what a power cut interrupted
//! money::recover(device, &mut journal, session, Policy::default(), NoCrypto, &mut buf,
//!     |sequence_id, outcome| { /* show or print it */ })?;
//! // a customer pays
//! match money::run(device, &mut journal, session, charge, Policy::default(), NoCrypto, &mut buf)? {
//!     Outcome::Completed { .. } => { /* paid */ }
//!     o if !o.is_final() => { /* open: recover() settles it before the next call */ }
//!     _ => { /* declined, failed, not processed: nothing moved */ }
//! }
//! # Ok(()) }
//! ```

use core::borrow::BorrowMut;

use embedded_io::{Read, Write};
use embedded_storage::nor_flash::NorFlash;
use heapless::Vec;
use konaplate_core::field::SequenceId;
use konaplate_core::flow::{Flow, JournalRecord, MoneyRequest, Outcome, Policy};
use konaplate_core::jwe::Crypto;
use konaplate_core::request::{Session, Stamp};

use crate::blocking::{Till, drive};
use crate::journal::{Journal, JournalError, MAX_LIVE, Scratch};

/// What a till supplies besides its journal: its clock, stamps, connections and waiting.
pub trait Device {
    /// A connection to the platform (TCP, or TLS over it). It may borrow the till (a TLS
    /// connection's record buffers, say): the driver drops it before it uses the till again.
    type Stream<'s>: Read + Write
    where
        Self: 's;
    /// The till's clock in milliseconds: monotonic, and counting on across reboots (an RTC's
    /// milliseconds since an epoch, never set back). Records keep the times of their call
    /// (when it was made, until when the platform may still accept it) and a resumed call
    /// compares them with this clock after the reboot: a counter that restarts at boot keeps
    /// an unanswered call open until it passes the old times again, and a clock set forward
    /// can end one as not processed too early.
    fn now_ms(&mut self) -> u64;
    /// The calendar time and a fresh random Correlation-Id for the next request.
    fn stamp(&mut self) -> Stamp;
    /// A new connection to the platform, or `None` when there is none now: nothing was sent,
    /// and the flow tries again later.
    fn connect(&mut self) -> Option<Self::Stream<'_>>;
    /// Waits until `at_ms` (returning earlier is fine: the driver asks again).
    fn wait_until(&mut self, at_ms: u64);
}

/// Why a money call was refused or stopped.
#[derive(Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum MoneyError<E> {
    /// The journal could not persist: the call stopped, and its last durable state is in the
    /// journal (resume it with [`recover`]); or it could not be read or closed.
    Journal(JournalError<E>),
    /// Refused, nothing sent: an older call of this till still awaits the platform. Settle it
    /// with [`recover`] first.
    OpenCall(SequenceId),
    /// Refused, nothing sent: the journal has a record of this sequenceId already (each call
    /// needs its own).
    SameSequenceId(SequenceId),
    /// Refused, nothing sent: the journal has no room for the call's records.
    Full,
}

impl<E> From<JournalError<E>> for MoneyError<E> {
    fn from(e: JournalError<E>) -> Self {
        match e {
            JournalError::Full => MoneyError::Full,
            e => MoneyError::Journal(e),
        }
    }
}

/// A refusal of `prepare_new_call` for the call `seq`, as the money driver says it: naming the
/// older call that awaits the platform (`open`), or the sequenceId taken.
pub(crate) fn refusal<E>(
    e: JournalError<E>,
    seq: SequenceId,
    open: Option<SequenceId>,
) -> MoneyError<E> {
    match (e, open) {
        (JournalError::OpenCall, Some(open)) => MoneyError::OpenCall(open),
        (JournalError::Taken, _) => MoneyError::SameSequenceId(seq),
        (e, _) => e.into(),
    }
}

/// What [`recover`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub struct Recovery {
    /// Calls reported with a final outcome (settled now, or before the cut).
    pub settled: u32,
    /// Calls still open (the platform could not say yet, or a refund awaits an operator).
    pub open: u32,
    /// Records the flash no longer reads intact (skipped; see the journal's report).
    pub damaged: u32,
}

/// The device and the journal as the flow's driver sees a till.
struct OnFlash<'a, 'j, D, F: NorFlash, S: BorrowMut<Scratch>> {
    device: &'a mut D,
    journal: &'j mut Journal<F, S>,
}

impl<D: Device, F: NorFlash, S: BorrowMut<Scratch>> Till for OnFlash<'_, '_, D, F, S> {
    type Stream<'s>
        = D::Stream<'s>
    where
        Self: 's;
    type Error = JournalError<F::Error>;
    fn now_ms(&mut self) -> u64 {
        self.device.now_ms()
    }
    fn stamp(&mut self) -> Stamp {
        self.device.stamp()
    }
    fn connect(&mut self) -> Option<D::Stream<'_>> {
        self.device.connect()
    }
    fn persist(&mut self, record: &JournalRecord) -> Result<(), Self::Error> {
        self.journal.persist(record)
    }
    fn wait_until(&mut self, at_ms: u64) {
        self.device.wait_until(at_ms)
    }
}

/// Resolves every call in the journal — at boot, and whenever [`run`] says
/// [`MoneyError::OpenCall`]: each open one is resumed from its record and driven to the
/// platform's outcome (never sent again: it is resolved through the result inquiry), each
/// settled one reported as it stands. `report` hears every call's outcome; an open outcome
/// stays open in the journal for the next recovery.
#[allow(clippy::too_many_arguments)] // what a recovery needs: the till, its journal, the call's tools
pub fn recover<D: Device, F: NorFlash, S: BorrowMut<Scratch>>(
    device: &mut D,
    journal: &mut Journal<F, S>,
    session: &Session,
    policy: Policy,
    mut crypto: impl Crypto,
    buf: &mut [u8],
    mut report: impl FnMut(&SequenceId, &Outcome),
) -> Result<Recovery, MoneyError<F::Error>> {
    let calls: Vec<SequenceId, MAX_LIVE> = journal.entries().map(|(s, _)| *s).collect();
    let mut done = Recovery::default();
    for seq in &calls {
        let rec = match journal.read(seq) {
            Ok(r) => r,
            Err(JournalError::Damaged) => {
                done.damaged += 1;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let mut flow = Flow::resume(&rec, policy, device.now_ms());
        let mut till = OnFlash {
            device: &mut *device,
            journal: &mut *journal,
        };
        let outcome =
            drive(&mut till, session, &mut flow, &mut crypto, buf).map_err(MoneyError::Journal)?;
        if outcome.is_final() {
            done.settled += 1;
        } else {
            done.open += 1;
        }
        report(seq, &outcome);
    }
    Ok(done)
}

/// Makes one money call — a charge, a cancellation or a refund — through the flow, its record
/// in the journal before a byte leaves and at every change. Refused before anything is sent
/// while an older call awaits the platform, when the sequenceId is in the journal already, or
/// when the journal has no room (see the [module](self)). The outcome may be open
/// ([`Outcome::is_final`]): [`recover`] settles it; never send it again under a new
/// sequenceId.
pub fn run<D: Device, F: NorFlash, S: BorrowMut<Scratch>>(
    device: &mut D,
    journal: &mut Journal<F, S>,
    session: &Session,
    request: impl Into<MoneyRequest>,
    policy: Policy,
    mut crypto: impl Crypto,
    buf: &mut [u8],
) -> Result<Outcome, MoneyError<F::Error>> {
    let request = request.into();
    // refused before anything is sent: an older call open, the sequenceId taken, no room
    let seq = request.sequence_id();
    if let Err(e) = journal.prepare_new_call(&seq) {
        return Err(refusal(e, seq, journal.awaiting_platform()));
    }
    let mut flow = Flow::start(request, policy, device.now_ms());
    let mut till = OnFlash { device, journal };
    // by reference, as recover passes it: one instance of the driver is linked for both
    // an error once the call has begun is the journal's, never "refused, nothing sent"
    drive(&mut till, session, &mut flow, &mut crypto, buf).map_err(MoneyError::Journal)
}
