//! Money on the till, async: the same rules as the blocking [`crate::money`], over the async
//! journal (`embedded-storage-async` flash) and async connections.
//!
//! See [`crate::money`] for the rules: what is refused, what is closed, when to recover.

use core::borrow::BorrowMut;

use embedded_io_async::{Read, Write};
use embedded_storage_async::nor_flash::NorFlash;
use heapless::Vec;
use konaplate_core::field::SequenceId;
use konaplate_core::flow::{Flow, JournalRecord, MoneyRequest, Outcome, Policy};
use konaplate_core::jwe::Crypto;
use konaplate_core::request::{Session, Stamp};

use crate::asynch::{Till, drive};
use crate::journal::asynch::Journal;
use crate::journal::{JournalError, MAX_LIVE, Scratch};
pub use crate::money::{MoneyError, Recovery};

/// What a till supplies besides its journal: its clock, stamps, connections and waiting.
#[allow(
    async_fn_in_trait,
    reason = "embedded executors run a task on one thread: no Send bound"
)]
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
    async fn connect(&mut self) -> Option<Self::Stream<'_>>;
    /// Waits until `at_ms` (returning earlier is fine: the driver asks again).
    async fn wait_until(&mut self, at_ms: u64);
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
    async fn connect(&mut self) -> Option<D::Stream<'_>> {
        self.device.connect().await
    }
    async fn persist(&mut self, record: &JournalRecord) -> Result<(), Self::Error> {
        self.journal.persist(record).await
    }
    async fn wait_until(&mut self, at_ms: u64) {
        self.device.wait_until(at_ms).await
    }
}

/// Resolves every call in the journal — at boot, and whenever [`run`] says
/// [`MoneyError::OpenCall`]: each open one is resumed from its record and driven to the
/// platform's outcome (never sent again: it is resolved through the result inquiry), each
/// settled one reported as it stands. `report` hears every call's outcome; an open outcome
/// stays open in the journal for the next recovery.
#[allow(clippy::too_many_arguments)] // what a recovery needs: the till, its journal, the call's tools
pub async fn recover<D: Device, F: NorFlash, S: BorrowMut<Scratch>>(
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
        // the record only seeds the flow: scoped, so that the task's future does not keep a
        // copy of it across the drive's awaits
        let mut flow = {
            let rec = match journal.read(seq).await {
                Ok(r) => r,
                Err(JournalError::Damaged) => {
                    done.damaged += 1;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            Flow::resume(&rec, policy, device.now_ms())
        };
        let mut till = OnFlash {
            device: &mut *device,
            journal: &mut *journal,
        };
        let outcome = drive(&mut till, session, &mut flow, &mut crypto, buf)
            .await
            .map_err(MoneyError::Journal)?;
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
/// when the journal has no room (see [`crate::money`]). The outcome may be open
/// ([`Outcome::is_final`]): [`recover`] settles it; never send it again under a new
/// sequenceId.
pub async fn run<D: Device, F: NorFlash, S: BorrowMut<Scratch>>(
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
    if let Err(e) = journal.prepare_new_call(&seq).await {
        return Err(crate::money::refusal(e, seq, journal.awaiting_platform()));
    }
    let mut flow = Flow::start(request, policy, device.now_ms());
    let mut till = OnFlash { device, journal };
    // an error once the call has begun is the journal's, never "refused, nothing sent"
    drive(&mut till, session, &mut flow, &mut crypto, buf)
        .await
        .map_err(MoneyError::Journal)
}
