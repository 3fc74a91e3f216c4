//! The embedded client over scripted in-memory streams (tiny reads, early close, oversize,
//! arbitrary bytes) and over real sockets against the sandbox, with the money driver running
//! a charge whose answer is lost to COMPLETED.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::convert::Infallible;

use embedded_io::{ErrorType, Read, Write};
use konaplate::core::call::{Call, CallError};
use konaplate::core::flow::{Flow, JournalRecord, Outcome, Policy, State};
use konaplate::core::http::HttpError;
use konaplate::core::prelude::*;
use konaplate::core::{api::*, field::*};
use konaplate_embedded::{
    BUFFER_ENCRYPTED, Error, Keys, NoCrypto, Till, call, call_without_journal, complete, drive,
};
use proptest::prelude::*;

/// A stream that serves `input` at most `chunk` bytes per read, records what is written, and
/// optionally accepts zero bytes.
struct Script {
    input: Vec<u8>,
    at: usize,
    chunk: usize,
    written: Vec<u8>,
    write_zero: bool,
}

impl Script {
    fn new(input: &[u8], chunk: usize) -> Self {
        Script {
            input: input.to_vec(),
            at: 0,
            chunk: chunk.max(1),
            written: Vec::new(),
            write_zero: false,
        }
    }
}
impl ErrorType for Script {
    type Error = Infallible;
}
impl Read for Script {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let n = (self.input.len() - self.at).min(self.chunk).min(buf.len());
        buf[..n].copy_from_slice(&self.input[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}
impl Write for Script {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        if self.write_zero {
            return Ok(0);
        }
        let n = buf.len().min(7);
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

fn ctx() -> (Session, (), Stamp) {
    (
        Session::new(
            Credentials::new(
                AspId::new(konaplate_sandbox::ASP_ID).unwrap(),
                AccessKey::new(konaplate_sandbox::ACCESS_KEY).unwrap(),
                &SecretKey::new(konaplate_sandbox::SECRET_KEY).unwrap(),
                Some(CryptoKeyId::new(konaplate_sandbox::CRYPTO_KEY_ID).unwrap()),
            ),
            Target::new(Host::parse("sandbox.konaplate.com").unwrap()),
        ),
        (),
        konaplate::clock::stamp(TimeZone::KST, 540).unwrap(),
    )
}

const BODY: &str = r#"{"response":{"code":"000_000","description":"\uc131\uacf5"},"nrNumber":"KMN221114031773543","isPending":false,"x":[1,{"y":null}]}"#;

fn with_length() -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\nX-KM-Correlation-Id: 261123195406-0abcdef\r\nContent-Length: {}\r\n\r\n{BODY}", BODY.len()).into_bytes()
}
fn chunked() -> Vec<u8> {
    let mut v = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for part in BODY.as_bytes().chunks(11) {
        v.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        v.extend_from_slice(part);
        v.extend_from_slice(b"\r\n");
    }
    v.extend_from_slice(b"0\r\n\r\n");
    v
}
fn until_close() -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\n\r\n{BODY}").into_bytes()
}

fn charge_req() -> ChargeRequest {
    ChargeRequest {
        sequence_id: SequenceId::new("EMB-1").unwrap(),
        user_id: UserId::new(50_000_100_001).unwrap(),
        amount: ChargeAmount::new(1000).unwrap(),
        one_time_token: OneTimeToken::new("1234567890123456").unwrap(),
        dcvv: Dcvv::new("123").unwrap(),
        merchant_id: MerchantId::new("100000000000101").unwrap(),
    }
}

#[test]
fn every_read_size_and_framing_decodes_the_same() {
    let (c, _, s) = ctx();
    for response in [with_length(), chunked(), until_close()] {
        for chunk in 1..=response.len() {
            let mut stream = Script::new(&response, chunk);
            let mut buf = [0u8; 2048];
            let (_, reply) =
                call_without_journal(&mut stream, &c, &s, &charge_req(), NoCrypto, &mut buf)
                    .unwrap();
            let b = reply.body.unwrap();
            assert_eq!(b.nr_number.as_str(), "KMN221114031773543", "chunk {chunk}");
            assert_eq!(reply.description.as_str(), "성공");
            assert!(stream.written.starts_with(
                b"POST /open-api/api/v1/recharges/by-bank-accounts/no-hce HTTP/1.1\r\n"
            ));
            assert!(
                stream
                    .written
                    .ends_with(br#""merchantId":"100000000000101"}"#),
                "the whole request was written"
            );
            assert!(buf.iter().all(|&b| b == 0), "nothing left in the buffer");
        }
    }
}

#[test]
fn a_peer_closing_early_is_a_typed_error_at_every_point() {
    let (c, _, s) = ctx();
    for response in [with_length(), chunked()] {
        for cut in 0..response.len() {
            let mut stream = Script::new(&response[..cut], 3);
            let mut buf = [0u8; 2048];
            match call_without_journal(&mut stream, &c, &s, &charge_req(), NoCrypto, &mut buf) {
                Err(e @ Error::Call(CallError::Http(HttpError::Closed { .. }))) => {
                    assert!(e.outcome_unknown())
                }
                other => panic!("cut {cut}: {other:?}"),
            }
        }
    }
}

#[test]
fn oversize_heads_and_bodies_are_typed_errors() {
    let (c, _, s) = ctx();
    let mut small = [0u8; 400];
    let mut stream = Script::new(&with_length(), 64);
    // the request itself does not fit 400 bytes
    assert!(matches!(
        call_without_journal(&mut stream, &c, &s, &charge_req(), NoCrypto, &mut small),
        Err(Error::Encode(EncodeError::BufferTooSmall { .. }))
    ));
    let big_head = format!(
        "HTTP/1.1 200 OK\r\nX-Pad: {}\r\nContent-Length: 2\r\n\r\n{{}}",
        "a".repeat(3000)
    );
    let mut buf = [0u8; 2048];
    let r = call_without_journal(
        &mut Script::new(big_head.as_bytes(), 100),
        &c,
        &s,
        &charge_req(),
        NoCrypto,
        &mut buf,
    );
    assert!(
        matches!(
            r,
            Err(Error::Call(CallError::Http(HttpError::HeadTooLarge {
                capacity: 2048
            })))
        ),
        "{r:?}"
    );
    let big_body = "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n";
    let r = call_without_journal(
        &mut Script::new(big_body.as_bytes(), 100),
        &c,
        &s,
        &charge_req(),
        NoCrypto,
        &mut buf,
    );
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
    let mut endless = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for _ in 0..100 {
        endless.extend_from_slice(b"20\r\n01234567890123456789012345678901\r\n");
    }
    let r = call_without_journal(
        &mut Script::new(&endless, 100),
        &c,
        &s,
        &charge_req(),
        NoCrypto,
        &mut buf,
    );
    assert!(
        matches!(
            r,
            Err(Error::Call(CallError::Http(HttpError::BodyTooLarge { .. })))
        ),
        "{r:?}"
    );
    assert!(buf.iter().all(|&b| b == 0), "nothing left in the buffer");
}

#[test]
fn a_stream_accepting_zero_bytes_is_an_error_not_a_panic() {
    let (c, _, s) = ctx();
    let mut stream = Script::new(&with_length(), 10);
    stream.write_zero = true;
    let mut buf = [0u8; 2048];
    assert!(matches!(
        call_without_journal(&mut stream, &c, &s, &charge_req(), NoCrypto, &mut buf),
        Err(Error::Call(CallError::WriteZero))
    ));
}

#[test]
fn encrypted_response_without_a_key_is_reported() {
    let (c, _, s) = ctx();
    let body = r#"{"encData":"a.b.c.d.e"}"#;
    let resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut buf = [0u8; 2048];
    let r = call_without_journal(
        &mut Script::new(resp.as_bytes(), 50),
        &c,
        &s,
        &CancelRequest {
            sequence_id: SequenceId::new("S").unwrap(),
            user_id: UserId::new(1).unwrap(),
            nr_number: NrNumber::new("K").unwrap(),
            one_time_token: OneTimeToken::new("1234567890123456").unwrap(),
            dcvv: Dcvv::new("123").unwrap(),
            card_expiry: None,
        },
        NoCrypto,
        &mut buf,
    );
    assert!(
        matches!(
            r,
            Err(Error::Call(CallError::Body {
                status: 200,
                error: DecodeError::Encrypted
            }))
        ),
        "{r:?}"
    );
}

proptest! {
    #[test]
    fn arbitrary_streams_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..3000), chunk in 1usize..64) {
        let (c, _, s) = ctx();
        let mut buf = [0u8; 2048];
        let _ = call_without_journal(&mut Script::new(&bytes, chunk), &c, &s, &charge_req(), NoCrypto, &mut buf);
        prop_assert!(buf.iter().all(|&b| b == 0), "nothing left in the buffer");
    }
}

/// Real sockets: the embedded client against the sandbox, JWE both ways through the std
/// crate's RSA key wrap.
#[test]
fn against_the_sandbox_over_tcp() {
    use embedded_io_adapters::std::FromStd;
    let sb = konaplate_sandbox::Sandbox::start(Default::default()).unwrap();
    let target = Target {
        host: Host::parse(&sb.addr().to_string()).unwrap(),
        base_path: BasePath::open_api(),
    };
    let c = Session::new(ctx().0.credentials, target);
    let mut server =
        konaplate::ServerPublicKey::from_pem(konaplate_sandbox::SERVER_PUBLIC_KEY_PEM).unwrap();
    let mut client =
        konaplate::ClientPrivateKey::from_pem(konaplate_sandbox::CLIENT_PRIVATE_KEY_PEM).unwrap();
    let connect = || FromStd::new(std::net::TcpStream::connect(sb.addr()).unwrap());
    let stamp = || konaplate::clock::stamp(TimeZone::KST, 540).unwrap();
    let mut buf = [0u8; BUFFER_ENCRYPTED];
    let card = konaplate_sandbox::seed::card_no(konaplate_sandbox::seed::HAPPY_CARD);
    let token = |buf: &mut [u8],
                 server: &mut konaplate::ServerPublicKey,
                 client: &mut konaplate::ClientPrivateKey| {
        let mut cek = [0u8; 16];
        let mut iv = [0u8; 12];
        konaplate::clock::random_bytes(&mut cek);
        konaplate::clock::random_bytes(&mut iv);
        let keys = Keys {
            wrap: server,
            unwrap: client,
            cek,
            iv,
        };
        let (_, reply) = call(
            &mut connect(),
            &c,
            &stamp(),
            &TokenRequest {
                card_no: CardNo::new(&card).unwrap(),
                token_type: None,
            },
            keys,
            buf,
        )
        .unwrap();
        reply.into_result().unwrap()
    };
    let tok = token(&mut buf, &mut server, &mut client);
    let charge = ChargeRequest {
        sequence_id: SequenceId::new("EMB-TCP-1").unwrap(),
        user_id: UserId::new(konaplate_sandbox::seed::HAPPY).unwrap(),
        amount: ChargeAmount::new(2_500).unwrap(),
        one_time_token: tok.one_time_token,
        dcvv: tok.dcvv,
        merchant_id: MerchantId::new(konaplate_sandbox::seed::MERCHANT).unwrap(),
    };
    let (x, reply) =
        call_without_journal(&mut connect(), &c, &stamp(), &charge, NoCrypto, &mut buf).unwrap();
    assert_eq!(x.head.status, 200);
    let nr = reply.into_result().unwrap().nr_number;
    // the two halves of call_into: make the call per endpoint, then complete it through the
    // endpoint-independent path into any reply (as a dyn AnyReply)
    let mut out = ReplyOf::<ChargeResultInquiry>::empty();
    let mut request = Call::new(
        &c,
        &stamp(),
        &ChargeResultRequest {
            sequence_id: charge.sequence_id,
        },
        NoCrypto,
        &mut buf,
    )
    .unwrap();
    let sent = complete(
        &mut connect(),
        &mut request,
        &mut NoCrypto,
        &mut buf,
        &mut out,
    )
    .unwrap();
    assert_eq!(sent.head.status, 200);
    assert!(!sent.encrypted);
    assert_eq!(sent.head.correlation_id, Some(*request.correlation_id()));
    assert_eq!(
        out.body.map(|b| (b.result, b.nr_number)),
        Some((ChargeResult::Completed, Some(nr)))
    );
    let tok = token(&mut buf, &mut server, &mut client);
    let keys = Keys {
        wrap: &mut server,
        unwrap: &mut client,
        cek: [1; 16],
        iv: [2; 12],
    };
    let cancel = CancelRequest {
        sequence_id: SequenceId::new("EMB-TCP-2").unwrap(),
        user_id: UserId::new(konaplate_sandbox::seed::HAPPY).unwrap(),
        nr_number: nr,
        one_time_token: tok.one_time_token,
        dcvv: tok.dcvv,
        card_expiry: None,
    };
    let (x, reply) =
        call_without_journal(&mut connect(), &c, &stamp(), &cancel, keys, &mut buf).unwrap();
    assert!(x.encrypted, "the cancellation answer is JWE");
    assert!(!reply.body.unwrap().is_pending);
    assert!(sb.ledger().txn("EMB-TCP-2").is_some());
}

/// The request (with its one-time token and DCVV in plaintext) never stays in the buffer:
/// not after a reply shorter than it, not after a failed write, not after an encode error.
#[test]
fn the_plaintext_request_is_wiped_from_the_buffer() {
    let (c, _, s) = ctx();
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    // a tiny answer: the rest of the buffer once held the request
    let short = b"HTTP/1.1 200 OK\r\nContent-Length: 55\r\n\r\n{\"response\":{\"code\":\"009_004\",\"description\":\"no\"}}";
    let mut stream = Script::new(short, 64);
    let mut buf = [0u8; 2048];
    let _ = call_without_journal(&mut stream, &c, &s, &charge_req(), NoCrypto, &mut buf);
    assert!(
        contains(&stream.written, b"1234567890123456"),
        "the token was sent"
    );
    assert!(
        !contains(&buf, b"1234567890123456"),
        "the token stayed in the buffer"
    );
    assert!(
        !contains(&buf, b"\"dcvv\":\"123\""),
        "the DCVV stayed in the buffer"
    );
    // a peer that stops accepting bytes
    let mut stream = Script::new(b"", 1);
    stream.write_zero = true;
    let mut buf = [0u8; 2048];
    assert!(call_without_journal(&mut stream, &c, &s, &charge_req(), NoCrypto, &mut buf).is_err());
    assert!(!contains(&buf, b"1234567890123456"));
    // a buffer too small for the request: nothing sent, nothing left
    let mut stream = Script::new(b"", 1);
    let mut buf = [0u8; 300];
    assert!(matches!(
        call_without_journal(&mut stream, &c, &s, &charge_req(), NoCrypto, &mut buf),
        Err(Error::Encode(_))
    ));
    assert!(stream.written.is_empty());
    assert!(!contains(&buf, b"1234567890123456"));
}

/// A till for the tests: TCP to the sandbox, the system clock, a journal in memory.
struct TestTill {
    addr: std::net::SocketAddr,
    journal: Vec<JournalRecord>,
    connects: usize,
}

impl Till for TestTill {
    type Stream<'s> = embedded_io_adapters::std::FromStd<std::net::TcpStream>;
    type Error = std::io::Error;
    fn now_ms(&mut self) -> u64 {
        konaplate::clock::unix_millis()
    }
    fn stamp(&mut self) -> Stamp {
        konaplate::clock::stamp(TimeZone::KST, 540).unwrap()
    }
    fn connect(&mut self) -> Option<Self::Stream<'_>> {
        self.connects += 1;
        let s = std::net::TcpStream::connect(self.addr).ok()?;
        s.set_read_timeout(Some(std::time::Duration::from_secs(2)))
            .ok()?;
        Some(embedded_io_adapters::std::FromStd::new(s))
    }
    fn persist(&mut self, record: &JournalRecord) -> Result<(), std::io::Error> {
        self.journal
            .push(JournalRecord::decode(&record.encode()).unwrap());
        Ok(())
    }
    fn wait_until(&mut self, at_ms: u64) {
        let d = at_ms.saturating_sub(konaplate::clock::unix_millis());
        std::thread::sleep(std::time::Duration::from_millis(d.min(50)));
    }
}

/// The platform commits the charge and the answer is lost: the blocking money driver resolves
/// it through the result inquiry to COMPLETED, with exactly one transaction, the journal
/// written before the send.
#[test]
fn a_charge_whose_answer_is_lost_ends_completed_through_the_flow() {
    let sb = konaplate_sandbox::Sandbox::start(Default::default()).unwrap();
    let target = Target {
        host: Host::parse(&sb.addr().to_string()).unwrap(),
        base_path: BasePath::open_api(),
    };
    let session = Session::new(ctx().0.credentials, target);
    let mut server =
        konaplate::ServerPublicKey::from_pem(konaplate_sandbox::SERVER_PUBLIC_KEY_PEM).unwrap();
    let mut client =
        konaplate::ClientPrivateKey::from_pem(konaplate_sandbox::CLIENT_PRIVATE_KEY_PEM).unwrap();
    let mut buf = [0u8; BUFFER_ENCRYPTED];
    let card = konaplate_sandbox::seed::card_no(konaplate_sandbox::seed::HAPPY_CARD);
    let keys = Keys {
        wrap: &mut server,
        unwrap: &mut client,
        cek: [3; 16],
        iv: [4; 12],
    };
    let stream = &mut embedded_io_adapters::std::FromStd::new(
        std::net::TcpStream::connect(sb.addr()).unwrap(),
    );
    let (_, reply) = call(
        stream,
        &session,
        &konaplate::clock::stamp(TimeZone::KST, 540).unwrap(),
        &TokenRequest {
            card_no: CardNo::new(&card).unwrap(),
            token_type: None,
        },
        keys,
        &mut buf,
    )
    .unwrap();
    let tok = reply.into_result().unwrap();
    let charge = ChargeRequest {
        sequence_id: SequenceId::new("EMB-LOST-1").unwrap(),
        user_id: UserId::new(konaplate_sandbox::seed::HAPPY).unwrap(),
        amount: ChargeAmount::new(1_500).unwrap(),
        one_time_token: tok.one_time_token,
        dcvv: tok.dcvv,
        merchant_id: MerchantId::new(konaplate_sandbox::seed::MERCHANT).unwrap(),
    };
    sb.inject("charge", konaplate_sandbox::Fault::DropAfterCommit);
    let mut till = TestTill {
        addr: sb.addr(),
        journal: Vec::new(),
        connects: 0,
    };
    let policy = Policy {
        retry_ms: 50,
        ..Policy::default()
    };
    let mut flow = Flow::start(charge, policy, till.now_ms());
    let outcome = drive(&mut till, &session, &mut flow, NoCrypto, &mut buf).unwrap();
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
    // journaled before the send, in doubt after the lost answer, completed at the end
    let states: Vec<State> = till.journal.iter().map(|r| r.state).collect();
    assert_eq!(states.first(), Some(&State::Sending));
    assert!(states.contains(&State::Lost), "{states:?}");
    assert_eq!(states.last(), Some(&State::Completed));
    assert_eq!(till.connects, 2, "one send, one inquiry");
    let txn = sb.ledger().txn("EMB-LOST-1").cloned().unwrap();
    assert_eq!(txn.amount, 1_500);
    assert_eq!(
        sb.log().iter().filter(|l| l.endpoint == "charge").count(),
        1,
        "sent exactly once"
    );
    assert!(buf.iter().all(|&b| b == 0), "nothing left in the buffer");
}
