//! The embedded client end to end over a scripted stream: whatever the peer sends (any bytes,
//! split into reads of any size, closed at any point, encrypted or not), `call_without_journal`
//! (money requests included) and the two steps of `call_into` (`Call::new`, `complete`) return
//! a value or a typed error and never panic; the request they wrote is always the complete
//! encoded request; a decoded reply agrees between the two; the buffer holds nothing of the
//! exchange afterwards.
//!
//! Input: byte 0 selects the endpoint and crypto, byte 1 the read size (1..=64) and the
//! buffer size, the rest is what the peer sends.
#![no_main]

mod common;

use common::{Script, cancel, charge, ctx, ott, toy, user};
use konaplate_core::call::Call;
use konaplate_core::prelude::*;
use konaplate_core::{api::*, field::*};
use konaplate_embedded::{BUFFER_ENCRYPTED, Error, call_without_journal, complete};
use libfuzzer_sys::fuzz_target;

fn run<R: Request, C: Crypto>(req: &R, mk: impl Fn() -> C, peer: &[u8], chunk: usize, cap: usize)
where
    R::Endpoint: core::fmt::Debug,
    ReplyOf<R::Endpoint>: core::fmt::Debug + PartialEq + AnyReply,
{
    let (session, stamp) = ctx();
    let mut buf = vec![0u8; cap];

    // call: the request is written whole before any reading
    let mut s = Script::new(peer, chunk);
    let a = call_without_journal(&mut s, &session, &stamp, req, mk(), &mut buf);
    if let Err(Error::Encode(_)) = &a {
        assert!(s.written.is_empty(), "an encoding failure sent bytes");
        return;
    }
    let sent = s.written.clone();
    assert!(sent.starts_with(b"POST "), "request head missing");
    if let Err(e) = &a {
        assert!(e.outcome_unknown());
    }

    // call_into: same request bytes, same verdict, same reply
    let mut s = Script::new(peer, chunk);
    let mut out = ReplyOf::<R::Endpoint>::empty();
    // (call_into takes no money request: its two steps, by hand)
    let mut crypto = mk();
    let b = match Call::new(&session, &stamp, req, &mut crypto, &mut buf) {
        Ok(mut c) => complete(&mut s, &mut c, &mut crypto, &mut buf, &mut out),
        Err(e) => Err(Error::Encode(e)),
    };
    assert_eq!(s.written, sent, "the two ways sent different requests");
    match (&a, &b) {
        (Ok((x, reply)), Ok(y)) => {
            assert_eq!(*reply, out);
            assert_eq!(x, y);
        }
        (Err(_), Err(_)) => {}
        _ => panic!("the two ways disagree: {a:?} vs {b:?}"),
    }
    assert!(
        buf.iter().all(|&b| b == 0),
        "the exchange left bytes in the buffer"
    );
}

fuzz_target!(|data: &[u8]| {
    let [sel, size, peer @ ..] = data else { return };
    let chunk = usize::from(size % 64) + 1;
    // mostly the documented buffer, sometimes one far too small for the response
    let cap = if size & 0xC0 == 0xC0 {
        512
    } else {
        BUFFER_ENCRYPTED
    };
    match sel % 5 {
        0 => run(&charge(), || NoCrypto, peer, chunk, cap),
        1 => run(&cancel(), toy, peer, chunk, cap),
        2 => {
            let r = TokenRequest {
                card_no: CardNo::new("9410123456789012").unwrap(),
                token_type: None,
            };
            run(&r, toy, peer, chunk, cap);
        }
        3 => {
            let r = RefundFeeRequest {
                one_time_token: ott(),
                user_id: user(),
            };
            run(&r, || NoCrypto, peer, chunk, cap);
        }
        _ => {
            let r = AutoRechargeListRequest { user_id: user() };
            run(&r, toy, peer, chunk, cap);
        }
    }
});
