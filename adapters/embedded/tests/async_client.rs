//! The async client (`asynch`, feature `async`): every covered endpoint against the sandbox
//! over real tokio sockets (JWE both ways); and over an in-memory stream that answers
//! `Pending` and tiny reads at random points, decoding exactly as the blocking client does on
//! the same bytes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use konaplate::core::call::CallError;
use konaplate::core::flow::{Flow, JournalRecord, Outcome, Policy, State};
use konaplate::core::http::HttpError;
use konaplate::core::prelude::*;
use konaplate::core::{api::*, field::*};
use konaplate_embedded::{BUFFER_ENCRYPTED, Error, Keys, asynch};
use konaplate_sandbox::seed::{self, HAPPY, HAPPY_CARD, MERCHANT};
use proptest::prelude::*;

fn session_for(addr: std::net::SocketAddr) -> Session {
    Session::new(
        Credentials::new(
            AspId::new(konaplate_sandbox::ASP_ID).unwrap(),
            AccessKey::new(konaplate_sandbox::ACCESS_KEY).unwrap(),
            &SecretKey::new(konaplate_sandbox::SECRET_KEY).unwrap(),
            Some(CryptoKeyId::new(konaplate_sandbox::CRYPTO_KEY_ID).unwrap()),
        ),
        Target {
            host: Host::parse(&addr.to_string()).unwrap(),
            base_path: BasePath::open_api(),
        },
    )
}

fn stamp() -> Stamp {
    konaplate::clock::stamp(TimeZone::KST, 540).unwrap()
}

struct Rsa {
    server: konaplate::ServerPublicKey,
    client: konaplate::ClientPrivateKey,
}

impl Rsa {
    fn new() -> Self {
        Rsa {
            server: konaplate::ServerPublicKey::from_pem(konaplate_sandbox::SERVER_PUBLIC_KEY_PEM)
                .unwrap(),
            client: konaplate::ClientPrivateKey::from_pem(
                konaplate_sandbox::CLIENT_PRIVATE_KEY_PEM,
            )
            .unwrap(),
        }
    }
    /// Fresh keys for one request.
    fn keys(&mut self) -> Keys<&mut konaplate::ServerPublicKey, &mut konaplate::ClientPrivateKey> {
        let mut cek = [0u8; 16];
        let mut iv = [0u8; 12];
        konaplate::clock::random_bytes(&mut cek);
        konaplate::clock::random_bytes(&mut iv);
        Keys {
            wrap: &mut self.server,
            unwrap: &mut self.client,
            cek,
            iv,
        }
    }
}

/// Every covered endpoint, in the demo's order, through tokio sockets; the sandbox's ledger
/// confirms each money movement.
#[tokio::test(flavor = "current_thread")]
async fn every_endpoint_against_the_sandbox_over_tokio_sockets() {
    use embedded_io_adapters::tokio_1::FromTokio;
    let sb = konaplate_sandbox::Sandbox::start(Default::default()).unwrap();
    let addr = sb.addr();
    let session = session_for(addr);
    let mut rsa = Rsa::new();
    let mut buf = [0u8; BUFFER_ENCRYPTED];
    let user = UserId::new(HAPPY).unwrap();
    let card = seed::card_no(HAPPY_CARD);
    let balance =
        |sb: &konaplate_sandbox::Sandbox| sb.ledger().card(&card).map_or(0, |c| c.balance);
    macro_rules! connect {
        () => {
            FromTokio::new(tokio::net::TcpStream::connect(addr).await.unwrap())
        };
    }

    // token: the request is JWE (the sandbox refuses a plain one)
    let token_req = TokenRequest {
        card_no: CardNo::new(&card).unwrap(),
        token_type: None,
    };
    let (_, reply) = asynch::call(
        &mut connect!(),
        &session,
        &stamp(),
        &token_req,
        rsa.keys(),
        &mut buf,
    )
    .await
    .unwrap();
    let t = reply.into_result().unwrap();

    // charge
    let start = balance(&sb);
    let charge = ChargeRequest {
        sequence_id: SequenceId::new("ASYNC-CHARGE-1").unwrap(),
        user_id: user,
        amount: ChargeAmount::new(7_000).unwrap(),
        one_time_token: t.one_time_token,
        dcvv: t.dcvv,
        merchant_id: MerchantId::new(MERCHANT).unwrap(),
    };
    let (x, reply) = asynch::call_without_journal(
        &mut connect!(),
        &session,
        &stamp(),
        &charge,
        NoCrypto,
        &mut buf,
    )
    .await
    .unwrap();
    assert_eq!(x.head.status, 200);
    assert!(
        x.head.correlation_id.is_some(),
        "the platform echoes the Correlation-Id"
    );
    let charged = reply.into_result().unwrap();
    assert!(!charged.is_pending);
    assert_eq!(balance(&sb), start + 7_000);

    // result inquiry, decoded into caller storage
    let mut out = ReplyOf::<ChargeResultInquiry>::empty();
    let req = ChargeResultRequest {
        sequence_id: charge.sequence_id,
    };
    asynch::call_into(
        &mut connect!(),
        &session,
        &stamp(),
        &req,
        NoCrypto,
        &mut buf,
        &mut out,
    )
    .await
    .unwrap();
    assert_eq!(out.body.map(|b| b.result), Some(ChargeResult::Completed));

    // cancellation: the answer is JWE
    let t = asynch::call(
        &mut connect!(),
        &session,
        &stamp(),
        &token_req,
        rsa.keys(),
        &mut buf,
    )
    .await
    .unwrap()
    .1
    .into_result()
    .unwrap();
    let cancel = CancelRequest {
        sequence_id: SequenceId::new("ASYNC-CANCEL-1").unwrap(),
        user_id: user,
        nr_number: charged.nr_number,
        one_time_token: t.one_time_token,
        dcvv: t.dcvv,
        card_expiry: None,
    };
    let (x, reply) = asynch::call_without_journal(
        &mut connect!(),
        &session,
        &stamp(),
        &cancel,
        rsa.keys(),
        &mut buf,
    )
    .await
    .unwrap();
    assert!(x.encrypted, "the cancellation answer is JWE");
    assert!(!reply.into_result().unwrap().is_pending);
    assert_eq!(balance(&sb), start);
    assert!(
        sb.ledger()
            .txn("ASYNC-CHARGE-1")
            .is_some_and(|t| t.cancelled)
    );

    // refund fee and refund
    let t = asynch::call(
        &mut connect!(),
        &session,
        &stamp(),
        &token_req,
        rsa.keys(),
        &mut buf,
    )
    .await
    .unwrap()
    .1
    .into_result()
    .unwrap();
    let fee_req = RefundFeeRequest {
        one_time_token: t.one_time_token,
        user_id: user,
    };
    let fee = asynch::call(
        &mut connect!(),
        &session,
        &stamp(),
        &fee_req,
        NoCrypto,
        &mut buf,
    )
    .await
    .unwrap()
    .1
    .into_result()
    .unwrap();
    assert_eq!(fee.balance.get(), balance(&sb));
    let t = asynch::call(
        &mut connect!(),
        &session,
        &stamp(),
        &token_req,
        rsa.keys(),
        &mut buf,
    )
    .await
    .unwrap()
    .1
    .into_result()
    .unwrap();
    let refund = RefundRequest {
        sequence_id: SequenceId::new("ASYNC-REFUND-1").unwrap(),
        user_id: user,
        card_expiry: CardExpiry::new(seed::CARD_EXPIRY).unwrap(),
        dcvv: t.dcvv,
        one_time_token: t.one_time_token,
    };
    let (x, reply) = asynch::call_without_journal(
        &mut connect!(),
        &session,
        &stamp(),
        &refund,
        NoCrypto,
        &mut buf,
    )
    .await
    .unwrap();
    assert_eq!(x.head.status, 200);
    assert!(reply.is_success());
    assert!(buf.iter().all(|&b| b == 0), "nothing left in the buffer");
    let record = sb
        .ledger()
        .refund_record("ASYNC-REFUND-1")
        .cloned()
        .unwrap();
    assert_eq!(record.amount, fee.refund_amount.get());
    assert_eq!(balance(&sb), 0);

    // auto-recharge: the registration request is JWE
    let par = Par::new(&seed::par_of(HAPPY_CARD)).unwrap();
    let reg = AutoRechargeRegisterRequest { user_id: user, par };
    let (_, reply) = asynch::call(
        &mut connect!(),
        &session,
        &stamp(),
        &reg,
        rsa.keys(),
        &mut buf,
    )
    .await
    .unwrap();
    assert!(reply.is_success(), "{:?}", reply.code);
    let list = AutoRechargeListRequest { user_id: user };
    let (_, reply) = asynch::call(
        &mut connect!(),
        &session,
        &stamp(),
        &list,
        rsa.keys(),
        &mut buf,
    )
    .await
    .unwrap();
    let pars: Vec<_> = reply
        .into_result()
        .unwrap()
        .par_info_list
        .iter()
        .map(|p| p.par)
        .collect();
    assert_eq!(pars, vec![par]);
    assert!(
        sb.ledger()
            .plans()
            .iter()
            .any(|p| p.par == par.as_str() && p.user_id == HAPPY)
    );
}

/// An in-memory async stream: each read and write first answers `Pending` when the script
/// says so (waking itself), then serves at most `chunk` bytes.
struct Stalling {
    input: Vec<u8>,
    at: usize,
    chunk: usize,
    /// Which calls (reads and writes, counted together) answer `Pending` first.
    stalls: Vec<bool>,
    calls: usize,
    written: Vec<u8>,
    pendings: usize,
}

impl Stalling {
    fn new(input: &[u8], chunk: usize, stalls: Vec<bool>) -> Self {
        Stalling {
            input: input.to_vec(),
            at: 0,
            chunk: chunk.max(1),
            stalls,
            calls: 0,
            written: Vec::new(),
            pendings: 0,
        }
    }
    fn stall_now(&mut self) -> bool {
        let s = !self.stalls.is_empty() && self.stalls[self.calls % self.stalls.len()];
        self.calls += 1;
        s
    }
}

/// `Pending` once (after waking the task), then ready.
struct YieldOnce(bool);
impl Future for YieldOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

impl embedded_io_async::ErrorType for Stalling {
    type Error = Infallible;
}
impl embedded_io_async::Read for Stalling {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        if self.stall_now() {
            self.pendings += 1;
            YieldOnce(false).await;
        }
        let n = (self.input.len() - self.at).min(self.chunk).min(buf.len());
        buf[..n].copy_from_slice(&self.input[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
impl embedded_io_async::Write for Stalling {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        if self.stall_now() {
            self.pendings += 1;
            YieldOnce(false).await;
        }
        let n = buf.len().min(self.chunk);
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    async fn flush(&mut self) -> Result<(), Infallible> {
        if self.stall_now() {
            self.pendings += 1;
            YieldOnce(false).await;
        }
        Ok(())
    }
}

/// The blocking twin of [`Stalling`] (no stalls), for the comparison.
struct Plain {
    input: Vec<u8>,
    at: usize,
    chunk: usize,
    written: Vec<u8>,
}
impl embedded_io::ErrorType for Plain {
    type Error = Infallible;
}
impl embedded_io::Read for Plain {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let n = (self.input.len() - self.at).min(self.chunk).min(buf.len());
        buf[..n].copy_from_slice(&self.input[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
impl embedded_io::Write for Plain {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        let n = buf.len().min(self.chunk);
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

fn offline_session() -> Session {
    session_for("127.0.0.1:9".parse().unwrap())
}

fn charge_req() -> ChargeRequest {
    ChargeRequest {
        sequence_id: SequenceId::new("ASYNC-1").unwrap(),
        user_id: UserId::new(50_000_100_001).unwrap(),
        amount: ChargeAmount::new(1000).unwrap(),
        one_time_token: OneTimeToken::new("1234567890123456").unwrap(),
        dcvv: Dcvv::new("123").unwrap(),
        merchant_id: MerchantId::new("100000000000101").unwrap(),
    }
}

const BODY: &str = r#"{"response":{"code":"000_000","description":"\uc131\uacf5"},"nrNumber":"KMN221114031773543","isPending":false}"#;

/// A response of one of three framings, optionally cut short or corrupted.
fn responses() -> impl Strategy<Value = Vec<u8>> {
    let framing = 0..3u8;
    let cut = any::<prop::sample::Index>();
    let damage =
        prop_oneof![4 => Just(None), 1 => any::<(prop::sample::Index, u8)>().prop_map(Some)];
    (framing, cut, any::<bool>(), damage).prop_map(|(f, cut, whole, damage)| {
        let mut v = match f {
            0 => format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{BODY}",
                BODY.len()
            )
            .into_bytes(),
            1 => {
                let mut v = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
                for part in BODY.as_bytes().chunks(13) {
                    v.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
                    v.extend_from_slice(part);
                    v.extend_from_slice(b"\r\n");
                }
                v.extend_from_slice(b"0\r\n\r\n");
                v
            }
            _ => format!("HTTP/1.1 200 OK\r\n\r\n{BODY}").into_bytes(),
        };
        if let Some((at, byte)) = damage {
            let i = at.index(v.len());
            v[i] = byte;
        }
        if !whole {
            v.truncate(cut.index(v.len() + 1));
        }
        v
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Whatever the bytes, the read sizes and where the stream stalls, the async client's
    /// result equals the blocking client's on the same bytes, and so does what it wrote.
    #[test]
    fn stalls_and_tiny_reads_decode_as_the_blocking_client_does(
        response in responses(),
        chunk in 1usize..40,
        stalls in prop::collection::vec(any::<bool>(), 1..16),
    ) {
        let session = offline_session();
        let stamp = stamp();
        let mut stream = Stalling::new(&response, chunk, stalls);
        let mut abuf = [0u8; 2048];
        let a = embassy_futures::block_on(asynch::call_without_journal(&mut stream, &session, &stamp, &charge_req(), NoCrypto, &mut abuf));
        let mut plain = Plain { input: response.clone(), at: 0, chunk: chunk.max(1), written: Vec::new() };
        let mut bbuf = [0u8; 2048];
        let b = konaplate_embedded::call_without_journal(&mut plain, &session, &stamp, &charge_req(), NoCrypto, &mut bbuf);
        prop_assert_eq!(&stream.written, &plain.written);
        prop_assert_eq!(abuf, bbuf, "the buffers differ afterwards");
        match (&a, &b) {
            (Ok(x), Ok(y)) => prop_assert_eq!(x, y),
            (Err(x), Err(y)) => prop_assert_eq!(format!("{x:?}"), format!("{y:?}")),
            _ => prop_assert!(false, "async {:?} vs blocking {:?}", a.is_ok(), b.is_ok()),
        }
    }
}

#[test]
fn the_stalling_stream_really_stalls_and_tiny_reads_still_decode() {
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{BODY}",
        BODY.len()
    )
    .into_bytes();
    let mut stream = Stalling::new(&response, 1, vec![true, false, true]);
    let mut buf = [0u8; 2048];
    let (_, reply) = embassy_futures::block_on(asynch::call_without_journal(
        &mut stream,
        &offline_session(),
        &stamp(),
        &charge_req(),
        NoCrypto,
        &mut buf,
    ))
    .unwrap();
    assert_eq!(reply.body.unwrap().nr_number.as_str(), "KMN221114031773543");
    assert!(stream.pendings > 100, "only {} stalls", stream.pendings);
}

#[test]
fn async_errors_are_typed_like_the_blocking_ones() {
    let session = offline_session();
    // a peer closing early
    let cut = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{}",
        BODY.len(),
        &BODY[..20]
    )
    .into_bytes();
    let mut buf = [0u8; 2048];
    let r = embassy_futures::block_on(asynch::call_without_journal(
        &mut Stalling::new(&cut, 7, vec![true]),
        &session,
        &stamp(),
        &charge_req(),
        NoCrypto,
        &mut buf,
    ));
    assert!(
        matches!(
            r,
            Err(Error::Call(CallError::Http(HttpError::Closed { .. })))
        ),
        "{r:?}"
    );
    // a response larger than the buffer
    let big = "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n";
    let r = embassy_futures::block_on(asynch::call_without_journal(
        &mut Stalling::new(big.as_bytes(), 9, vec![false, true]),
        &session,
        &stamp(),
        &charge_req(),
        NoCrypto,
        &mut buf,
    ));
    assert!(
        matches!(
            r,
            Err(Error::Call(CallError::Http(HttpError::BodyTooLarge {
                needed: 5041,
                capacity: 2048
            })))
        ),
        "{r:?}"
    );
    assert!(buf.iter().all(|&b| b == 0), "nothing left in the buffer");
    // the request does not fit: nothing written, nothing left
    let mut small = [0u8; 300];
    let mut stream = Stalling::new(b"", 1, vec![true]);
    let r = embassy_futures::block_on(asynch::call_without_journal(
        &mut stream,
        &session,
        &stamp(),
        &charge_req(),
        NoCrypto,
        &mut small,
    ));
    assert!(matches!(r, Err(Error::Encode(_))), "{r:?}");
    assert!(stream.written.is_empty());
    assert!(small.iter().all(|&b| b == 0));
}

/// A write that accepts zero bytes, through the async path.
#[test]
fn an_async_stream_accepting_zero_bytes_is_an_error() {
    struct Zero;
    impl embedded_io_async::ErrorType for Zero {
        type Error = Infallible;
    }
    impl embedded_io_async::Read for Zero {
        async fn read(&mut self, _: &mut [u8]) -> Result<usize, Infallible> {
            Ok(0)
        }
    }
    impl embedded_io_async::Write for Zero {
        async fn write(&mut self, _: &[u8]) -> Result<usize, Infallible> {
            Ok(0)
        }
        async fn flush(&mut self) -> Result<(), Infallible> {
            Ok(())
        }
    }
    let mut buf = [0u8; 2048];
    let r = embassy_futures::block_on(asynch::call_without_journal(
        &mut Zero,
        &offline_session(),
        &stamp(),
        &charge_req(),
        NoCrypto,
        &mut buf,
    ));
    assert!(matches!(r, Err(Error::Call(CallError::WriteZero))), "{r:?}");
    assert!(
        !buf.windows(16).any(|w| w == b"1234567890123456"),
        "the request stayed in the buffer"
    );
}

/// An async till for the tests: tokio sockets to the sandbox, the system clock, tokio's
/// sleep, a journal in memory.
struct AsyncTill {
    addr: std::net::SocketAddr,
    journal: Vec<JournalRecord>,
    connects: usize,
}

impl asynch::Till for AsyncTill {
    type Stream<'s> = embedded_io_adapters::tokio_1::FromTokio<tokio::net::TcpStream>;
    type Error = std::io::Error;
    fn now_ms(&mut self) -> u64 {
        konaplate::clock::unix_millis()
    }
    fn stamp(&mut self) -> Stamp {
        stamp()
    }
    async fn connect(&mut self) -> Option<Self::Stream<'_>> {
        self.connects += 1;
        let s = tokio::net::TcpStream::connect(self.addr).await.ok()?;
        Some(embedded_io_adapters::tokio_1::FromTokio::new(s))
    }
    async fn persist(&mut self, record: &JournalRecord) -> Result<(), std::io::Error> {
        self.journal
            .push(JournalRecord::decode(&record.encode()).unwrap());
        Ok(())
    }
    async fn wait_until(&mut self, at_ms: u64) {
        let d = at_ms.saturating_sub(konaplate::clock::unix_millis());
        tokio::time::sleep(std::time::Duration::from_millis(d.min(50))).await;
    }
}

/// The platform commits the charge and the connection drops before the answer: the async
/// money driver resolves it through the result inquiry to COMPLETED, sent exactly once.
#[tokio::test(flavor = "current_thread")]
async fn a_charge_whose_answer_is_lost_ends_completed_through_the_async_flow() {
    use embedded_io_adapters::tokio_1::FromTokio;
    let sb = konaplate_sandbox::Sandbox::start(Default::default()).unwrap();
    let session = session_for(sb.addr());
    let mut rsa = Rsa::new();
    let mut buf = [0u8; BUFFER_ENCRYPTED];
    let token_req = TokenRequest {
        card_no: CardNo::new(&seed::card_no(HAPPY_CARD)).unwrap(),
        token_type: None,
    };
    let mut stream = FromTokio::new(tokio::net::TcpStream::connect(sb.addr()).await.unwrap());
    let (_, reply) = asynch::call(
        &mut stream,
        &session,
        &stamp(),
        &token_req,
        rsa.keys(),
        &mut buf,
    )
    .await
    .unwrap();
    let t = reply.into_result().unwrap();
    let charge = ChargeRequest {
        sequence_id: SequenceId::new("ASYNC-LOST-1").unwrap(),
        user_id: UserId::new(HAPPY).unwrap(),
        amount: ChargeAmount::new(2_000).unwrap(),
        one_time_token: t.one_time_token,
        dcvv: t.dcvv,
        merchant_id: MerchantId::new(MERCHANT).unwrap(),
    };
    sb.inject("charge", konaplate_sandbox::Fault::DropAfterCommit);
    let mut till = AsyncTill {
        addr: sb.addr(),
        journal: Vec::new(),
        connects: 0,
    };
    let policy = Policy {
        retry_ms: 50,
        ..Policy::default()
    };
    let mut flow = Flow::start(charge, policy, konaplate::clock::unix_millis());
    let outcome = asynch::drive(&mut till, &session, &mut flow, NoCrypto, &mut buf)
        .await
        .unwrap();
    assert!(
        matches!(
            outcome,
            Outcome::Completed {
                from_inquiry: true,
                ..
            }
        ),
        "{outcome:?}"
    );
    let states: Vec<State> = till.journal.iter().map(|r| r.state).collect();
    assert_eq!(
        states.first(),
        Some(&State::Sending),
        "journaled before the send"
    );
    assert!(states.contains(&State::Lost), "{states:?}");
    assert_eq!(states.last(), Some(&State::Completed));
    assert_eq!(till.connects, 2, "one send, one inquiry");
    assert_eq!(
        sb.ledger().txn("ASYNC-LOST-1").map(|t| t.amount),
        Some(2_000)
    );
    assert_eq!(
        sb.log().iter().filter(|l| l.endpoint == "charge").count(),
        1,
        "sent exactly once"
    );
    assert!(buf.iter().all(|&b| b == 0), "nothing left in the buffer");
}
