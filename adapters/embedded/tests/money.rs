//! Money on the till, end to end: the money driver with its journal on the strict flash model,
//! against the sandbox over 127.0.0.1, the power cut at every flash operation of a charge whose
//! answer is lost; after each cut the till boots, recovers, and the platform holds exactly
//! the one transaction the outcome says. Then the refusals: an older call open, a sequenceId
//! already journaled, a journal without room — each before anything is sent.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failure is a failed test"
)]

use std::net::{SocketAddr, TcpStream};

use konaplate::core::api::{ChargeRequest, RefundRequest, TokenRequest};
use konaplate::core::field::*;
use konaplate::core::flow::{Outcome, Policy};
use konaplate::core::prelude::*;
use konaplate_embedded::journal::model::{Cut, Fault, ModelFlash};
use konaplate_embedded::journal::{Geometry, Journal, SCRATCH_LEN};
use konaplate_embedded::money::{self, Device, MoneyError};
use konaplate_embedded::{BUFFER_ENCRYPTED, Keys, call};

type Flash = ModelFlash<8, 4096>;
const GEO: Geometry = Geometry::new(0, 4096, 3);

fn session(sb: &konaplate_sandbox::Sandbox) -> Session {
    Session::new(
        Credentials::new(
            AspId::new(konaplate_sandbox::ASP_ID).unwrap(),
            AccessKey::new(konaplate_sandbox::ACCESS_KEY).unwrap(),
            &SecretKey::new(konaplate_sandbox::SECRET_KEY).unwrap(),
            Some(CryptoKeyId::new(konaplate_sandbox::CRYPTO_KEY_ID).unwrap()),
        ),
        Target {
            host: Host::parse(&sb.addr().to_string()).unwrap(),
            base_path: BasePath::open_api(),
        },
    )
}

/// A till on the host: the wall clock, real sockets to the sandbox, short sleeps.
struct HostTill {
    addr: SocketAddr,
    connects: usize,
}

impl Device for HostTill {
    type Stream<'s> = embedded_io_adapters::std::FromStd<TcpStream>;
    fn now_ms(&mut self) -> u64 {
        konaplate::clock::unix_millis()
    }
    fn stamp(&mut self) -> Stamp {
        konaplate::clock::stamp(TimeZone::KST, 540).unwrap()
    }
    fn connect(&mut self) -> Option<Self::Stream<'_>> {
        self.connects += 1;
        let s = TcpStream::connect(self.addr).ok()?;
        s.set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .ok()?;
        Some(embedded_io_adapters::std::FromStd::new(s))
    }
    fn wait_until(&mut self, at_ms: u64) {
        let d = at_ms.saturating_sub(konaplate::clock::unix_millis());
        std::thread::sleep(std::time::Duration::from_millis(d.min(20)));
    }
}

fn token(sb: &konaplate_sandbox::Sandbox, session: &Session) -> (OneTimeToken, Dcvv) {
    let mut server =
        konaplate::ServerPublicKey::from_pem(konaplate_sandbox::SERVER_PUBLIC_KEY_PEM).unwrap();
    let mut client =
        konaplate::ClientPrivateKey::from_pem(konaplate_sandbox::CLIENT_PRIVATE_KEY_PEM).unwrap();
    let card = konaplate_sandbox::seed::card_no(konaplate_sandbox::seed::HAPPY_CARD);
    let mut buf = [0u8; BUFFER_ENCRYPTED];
    let stream =
        &mut embedded_io_adapters::std::FromStd::new(TcpStream::connect(sb.addr()).unwrap());
    let keys = Keys {
        wrap: &mut server,
        unwrap: &mut client,
        cek: [3; 16],
        iv: [4; 12],
    };
    let (_, reply) = call(
        stream,
        session,
        &konaplate::clock::stamp(TimeZone::KST, 540).unwrap(),
        &TokenRequest {
            card_no: CardNo::new(&card).unwrap(),
            token_type: None,
        },
        keys,
        &mut buf,
    )
    .unwrap();
    let t = reply.into_result().unwrap();
    (t.one_time_token, t.dcvv)
}

fn charge(seq: &str, amount: u64, tok: &(OneTimeToken, Dcvv)) -> ChargeRequest {
    ChargeRequest {
        sequence_id: SequenceId::new(seq).unwrap(),
        user_id: UserId::new(konaplate_sandbox::seed::HAPPY).unwrap(),
        amount: ChargeAmount::new(amount).unwrap(),
        one_time_token: tok.0.clone(),
        dcvv: tok.1.clone(),
        merchant_id: MerchantId::new(konaplate_sandbox::seed::MERCHANT).unwrap(),
    }
}

fn policy() -> Policy {
    Policy {
        retry_ms: 20,
        ..Policy::default()
    }
}

/// Boots: opens the journal and recovers; returns every outcome reported.
fn boot(flash: &mut Flash, till: &mut HostTill, session: &Session) -> Vec<(String, Outcome)> {
    flash.reboot();
    let mut scratch = [0u8; SCRATCH_LEN];
    let (mut journal, _) = Journal::open(&mut *flash, GEO, &mut scratch).unwrap();
    let mut buf = [0u8; BUFFER_ENCRYPTED];
    let mut seen = Vec::new();
    money::recover(
        till,
        &mut journal,
        session,
        policy(),
        NoCrypto,
        &mut buf,
        |s, o| seen.push((s.as_str().to_string(), o.clone())),
    )
    .unwrap();
    seen
}

/// The power is cut at every flash operation of a charge whose answer is lost (before its
/// record, after the send, while the inquiry's answer is written, ...): after the reboot the
/// recovery reports the platform's real outcome, and the ledger holds exactly what it says.
#[test]
fn a_cut_at_any_flash_operation_of_a_lost_charge_recovers_to_the_platform_s_outcome() {
    let sb = konaplate_sandbox::Sandbox::start(Default::default()).unwrap();
    let session = session(&sb);
    // the operations of an open, and of the uncut run after it
    let (open_ops, ops) = {
        let mut flash = Flash::new(3, 7);
        let mut till = HostTill {
            addr: sb.addr(),
            connects: 0,
        };
        boot(&mut flash, &mut till, &session);
        flash.reboot();
        let mut scratch = [0u8; SCRATCH_LEN];
        let (journal, _) = Journal::open(&mut flash, GEO, &mut scratch).unwrap();
        let a = journal.release().ops();
        let (journal, _) = Journal::open(&mut flash, GEO, &mut scratch).unwrap();
        let b = journal.release().ops();
        let (mut journal, _) = Journal::open(&mut flash, GEO, &mut scratch).unwrap();
        let tok = token(&sb, &session);
        sb.inject("charge", konaplate_sandbox::Fault::DropAfterCommit);
        let mut buf = [0u8; BUFFER_ENCRYPTED];
        let o = money::run(
            &mut till,
            &mut journal,
            &session,
            charge("EMB-CUT-REF", 1_100, &tok),
            policy(),
            NoCrypto,
            &mut buf,
        )
        .unwrap();
        assert!(
            matches!(
                o,
                Outcome::Completed {
                    from_inquiry: true,
                    ..
                }
            ),
            "{o:?}"
        );
        (b - a, journal.release().ops() - b - (b - a))
    };
    assert!(ops >= 3, "the flow's records: {ops}");
    let mut cuts = 0;
    let (mut completed, mut nothing) = (0, 0);
    for k in 0..ops {
        for fault in [Fault::Stop, Fault::Torn, Fault::Metastable] {
            cuts += 1;
            let seq = format!("EMB-CUT-{k}-{fault:?}");
            let mut flash = Flash::new(3, 11 + k);
            let mut till = HostTill {
                addr: sb.addr(),
                connects: 0,
            };
            boot(&mut flash, &mut till, &session);
            flash.reboot();
            let mut scratch = [0u8; SCRATCH_LEN];
            let tok = token(&sb, &session);
            let charges = || sb.log().iter().filter(|l| l.endpoint == "charge").count();
            let charges_before = charges();
            sb.inject("charge", konaplate_sandbox::Fault::DropAfterCommit);
            {
                let (journal, _) = Journal::open(&mut flash, GEO, &mut scratch).unwrap();
                let at = journal.release().ops() + open_ops;
                flash.arm(Cut {
                    op: at + k,
                    at: 24,
                    fault,
                });
                let (mut journal, _) = Journal::open(&mut flash, GEO, &mut scratch).unwrap();
                let mut buf = [0u8; BUFFER_ENCRYPTED];
                let r = money::run(
                    &mut till,
                    &mut journal,
                    &session,
                    charge(&seq, 1_200, &tok),
                    policy(),
                    NoCrypto,
                    &mut buf,
                );
                assert!(
                    flash_cut(&r),
                    "cut {k} {fault:?}: the run was not cut: {r:?}"
                );
            }
            sb.clear_faults();
            let seen = boot(&mut flash, &mut till, &session);
            let txn = sb.ledger().txn(&seq).cloned();
            match seen.iter().find(|(s, _)| *s == seq) {
                Some((_, Outcome::Completed { .. })) => {
                    completed += 1;
                    let t = txn.unwrap_or_else(|| {
                        panic!("cut {k} {fault:?}: COMPLETED without a transaction")
                    });
                    assert_eq!(t.amount, 1_200);
                }
                Some((_, Outcome::NotProcessed)) | None => {
                    nothing += 1;
                    assert!(
                        txn.is_none(),
                        "cut {k} {fault:?}: a transaction the till does not know of: {seen:?}"
                    );
                }
                Some((_, o)) => {
                    panic!("cut {k} {fault:?}: {o:?} after a recovery with the platform up")
                }
            }
            // and nothing is ever sent twice: one charge request for the sequenceId at most
            let sent = charges() - charges_before;
            assert!(
                sent <= 1,
                "cut {k} {fault:?}: the charge was sent {sent} times"
            );
            assert!(flash.violations().is_empty(), "{:?}", flash.violations());
        }
    }
    assert!(cuts >= 9);
    eprintln!(
        "{ops} flash operations cut {cuts} ways: {completed} completed, {nothing} never sent"
    );
    assert!(
        completed > 0 && nothing > 0,
        "cuts both before and after the send"
    );
}

fn flash_cut<T: std::fmt::Debug>(
    r: &Result<T, MoneyError<konaplate_embedded::journal::model::ModelError>>,
) -> bool {
    // a cut stops the call with the journal's error; "refused, nothing sent" (`Full`) is for
    // the checks before a call begins, never a cut inside it
    matches!(r, Err(MoneyError::Journal(_))) || r.is_ok()
}

#[test]
fn a_new_call_is_refused_while_an_older_one_awaits_the_platform() {
    let sb = konaplate_sandbox::Sandbox::start(Default::default()).unwrap();
    let session = session(&sb);
    let mut flash = Flash::new(3, 21);
    let mut scratch = [0u8; SCRATCH_LEN];
    let (mut journal, _) = Journal::open(&mut flash, GEO, &mut scratch).unwrap();
    let mut till = HostTill {
        addr: sb.addr(),
        connects: 0,
    };
    let tok = token(&sb, &session);
    // the platform commits the charge and its answer is lost, and every inquiry within the
    // deadline goes unanswered: the charge stays open
    sb.inject("charge", konaplate_sandbox::Fault::DropAfterCommit);
    for _ in 0..64 {
        sb.inject(
            "charge-result",
            konaplate_sandbox::Fault::DropBeforeProcessing,
        );
    }
    let mut buf = [0u8; BUFFER_ENCRYPTED];
    let quick = Policy {
        retry_ms: 20,
        deadline_ms: 300,
        max_sends: 1,
        ..Policy::default()
    };
    let o = money::run(
        &mut till,
        &mut journal,
        &session,
        charge("EMB-OPEN-1", 1_300, &tok),
        quick,
        NoCrypto,
        &mut buf,
    )
    .unwrap();
    assert!(!o.is_final(), "the charge must stay open: {o:?}");
    let received = sb.requests_received();
    let tok2 = tok.clone();
    let r = money::run(
        &mut till,
        &mut journal,
        &session,
        charge("EMB-OPEN-2", 1_400, &tok2),
        policy(),
        NoCrypto,
        &mut buf,
    );
    assert_eq!(
        r,
        Err(MoneyError::OpenCall(SequenceId::new("EMB-OPEN-1").unwrap()))
    );
    assert_eq!(sb.requests_received(), received, "nothing was sent");
    // the platform answers again: recover learns the charge completed, and the same
    // sequenceId again is refused
    sb.clear_faults();
    let mut outcomes = Vec::new();
    money::recover(
        &mut till,
        &mut journal,
        &session,
        policy(),
        NoCrypto,
        &mut buf,
        |s, o| outcomes.push((*s, o.clone())),
    )
    .unwrap();
    assert_eq!(
        outcomes
            .iter()
            .map(|(s, o)| (
                s.as_str().to_string(),
                o.is_final(),
                matches!(o, Outcome::Completed { .. })
            ))
            .collect::<Vec<_>>(),
        vec![("EMB-OPEN-1".to_string(), true, true)],
        "{outcomes:?}"
    );
    let r = money::run(
        &mut till,
        &mut journal,
        &session,
        charge("EMB-OPEN-1", 1_300, &tok),
        policy(),
        NoCrypto,
        &mut buf,
    );
    assert_eq!(
        r,
        Err(MoneyError::SameSequenceId(
            SequenceId::new("EMB-OPEN-1").unwrap()
        ))
    );
}

#[test]
fn a_journal_without_room_refuses_the_call_before_anything_is_sent() {
    let sb = konaplate_sandbox::Sandbox::start(Default::default()).unwrap();
    let session = session(&sb);
    let mut flash = Flash::new(3, 31);
    let mut scratch = [0u8; SCRATCH_LEN];
    let (mut journal, _) =
        Journal::open(&mut flash, Geometry::new(0, 4096, 3), &mut scratch).unwrap();
    // refunds whose answers were lost: UNKNOWN, awaiting an operator (they do not block, and
    // they are never dropped)
    let mut n = 0;
    while journal.can_take_new_call() {
        let r = konaplate::core::flow::JournalRecord {
            state: konaplate::core::flow::State::Unknown,
            ..unknown_refund(&format!("EMB-UNK-{n}"))
        };
        journal.persist(&r).unwrap();
        n += 1;
    }
    let mut till = HostTill {
        addr: sb.addr(),
        connects: 0,
    };
    let tok = token(&sb, &session);
    let received = sb.requests_received();
    let mut buf = [0u8; BUFFER_ENCRYPTED];
    let r = money::run(
        &mut till,
        &mut journal,
        &session,
        charge("EMB-FULL-1", 1_500, &tok),
        policy(),
        NoCrypto,
        &mut buf,
    );
    assert_eq!(r, Err(MoneyError::Full));
    assert_eq!(
        (sb.requests_received(), till.connects),
        (received, 0),
        "nothing was sent"
    );
    assert_eq!(journal.entries().count(), n, "no open record dropped");
}

fn unknown_refund(seq: &str) -> konaplate::core::flow::JournalRecord {
    let req = RefundRequest {
        sequence_id: SequenceId::new(seq).unwrap(),
        user_id: UserId::new(50_000_100_001).unwrap(),
        card_expiry: CardExpiry::new("3108").unwrap(),
        dcvv: Dcvv::new("123").unwrap(),
        one_time_token: OneTimeToken::new("1234567890123456").unwrap(),
    };
    let f = konaplate::core::flow::Flow::start(req, Policy::default(), 1_000);
    f.record()
}

/// The same through the async driver and the async journal: a charge whose answer is lost,
/// the power cut after the send, recovered at the next boot to the platform's outcome.
#[tokio::test(flavor = "current_thread")]
async fn the_async_driver_recovers_a_cut_charge() {
    use konaplate_embedded::asynch::money as amoney;
    use konaplate_embedded::journal::asynch::Journal as AsyncJournal;

    struct AsyncTill {
        addr: SocketAddr,
    }
    impl amoney::Device for AsyncTill {
        type Stream<'s> = embedded_io_adapters::tokio_1::FromTokio<tokio::net::TcpStream>;
        fn now_ms(&mut self) -> u64 {
            konaplate::clock::unix_millis()
        }
        fn stamp(&mut self) -> Stamp {
            konaplate::clock::stamp(TimeZone::KST, 540).unwrap()
        }
        async fn connect(&mut self) -> Option<Self::Stream<'_>> {
            let s = tokio::net::TcpStream::connect(self.addr).await.ok()?;
            Some(embedded_io_adapters::tokio_1::FromTokio::new(s))
        }
        async fn wait_until(&mut self, at_ms: u64) {
            let d = at_ms.saturating_sub(konaplate::clock::unix_millis());
            tokio::time::sleep(std::time::Duration::from_millis(d.min(20))).await;
        }
    }
    /// The model flash seen through the async traits (each operation yields first).
    struct Asy<'a>(&'a mut Flash);
    impl embedded_storage::nor_flash::ErrorType for Asy<'_> {
        type Error = konaplate_embedded::journal::model::ModelError;
    }
    impl embedded_storage_async::nor_flash::ReadNorFlash for Asy<'_> {
        const READ_SIZE: usize = 8;
        async fn read(&mut self, o: u32, b: &mut [u8]) -> Result<(), Self::Error> {
            tokio::task::yield_now().await;
            embedded_storage::nor_flash::ReadNorFlash::read(self.0, o, b)
        }
        fn capacity(&self) -> usize {
            embedded_storage::nor_flash::ReadNorFlash::capacity(self.0)
        }
    }
    impl embedded_storage_async::nor_flash::NorFlash for Asy<'_> {
        const WRITE_SIZE: usize = 8;
        const ERASE_SIZE: usize = 4096;
        async fn erase(&mut self, a: u32, b: u32) -> Result<(), Self::Error> {
            tokio::task::yield_now().await;
            embedded_storage::nor_flash::NorFlash::erase(self.0, a, b)
        }
        async fn write(&mut self, o: u32, b: &[u8]) -> Result<(), Self::Error> {
            tokio::task::yield_now().await;
            embedded_storage::nor_flash::NorFlash::write(self.0, o, b)
        }
    }

    let sb = konaplate_sandbox::Sandbox::start(Default::default()).unwrap();
    let session = session(&sb);
    let tok = token(&sb, &session);
    let mut flash = Flash::new(3, 41);
    let mut till = AsyncTill { addr: sb.addr() };
    let mut scratch = [0u8; SCRATCH_LEN];
    let mut buf = [0u8; BUFFER_ENCRYPTED];
    let opened = {
        let (j, _) = AsyncJournal::open(Asy(&mut flash), GEO, &mut scratch)
            .await
            .unwrap();
        j.release().0.ops()
    };
    // the open takes as many operations again; the cut hits the write after the send
    let open_ops = opened;
    flash.arm(Cut {
        op: opened + open_ops + 1,
        at: 24,
        fault: Fault::Torn,
    });
    sb.inject("charge", konaplate_sandbox::Fault::DropAfterCommit);
    {
        let (mut j, _) = AsyncJournal::open(Asy(&mut flash), GEO, &mut scratch)
            .await
            .unwrap();
        let r = amoney::run(
            &mut till,
            &mut j,
            &session,
            charge("EMB-ASYNC-CUT", 1_600, &tok),
            policy(),
            NoCrypto,
            &mut buf,
        )
        .await;
        assert!(matches!(r, Err(MoneyError::Journal(_))), "{r:?}");
    }
    flash.reboot();
    let (mut j, report) = AsyncJournal::open(Asy(&mut flash), GEO, &mut scratch)
        .await
        .unwrap();
    assert_eq!(report.open_calls, 1, "{report:?}");
    let mut seen = Vec::new();
    amoney::recover(
        &mut till,
        &mut j,
        &session,
        policy(),
        NoCrypto,
        &mut buf,
        |s, o| seen.push((s.as_str().to_string(), o.clone())),
    )
    .await
    .unwrap();
    assert!(
        matches!(seen.as_slice(), [(s, Outcome::Completed { from_inquiry: true, .. })] if s == "EMB-ASYNC-CUT"),
        "{seen:?}"
    );
    assert_eq!(sb.ledger().txn("EMB-ASYNC-CUT").unwrap().amount, 1_600);
}
