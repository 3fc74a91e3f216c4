//! Whole HTTP responses (head + Content-Length or chunked body + JSON) read through a call in
//! reads of any size: never panics, and leaves nothing in the buffer; the
//! head parser never accepts what httparse rejects and agrees with it on where the head ends;
//! a chunked body decoded in two pieces split anywhere equals the one-shot decode.
#![no_main]

use konaplate_core::api::*;
use konaplate_core::field::*;
use konaplate_core::http::{ChunkedDecoder, HttpError, MAX_RESPONSE_HEADERS, parse_response_head};
use konaplate_core::prelude::*;
use libfuzzer_sys::fuzz_target;

/// `data` as the answer to `req`, read `piece` bytes at a time, then the peer closes.
fn answer<R: Request>(req: &R, data: &[u8], piece: usize)
where
    ReplyOf<R::Endpoint>: AnyReply,
{
    let session = Session::new(
        Credentials::new(
            AspId::new("100000000000001").unwrap(),
            AccessKey::new("abcdefg-0123456789abcdef0123456789abcdef").unwrap(),
            &SecretKey::new("s").unwrap(),
            None,
        ),
        Target::new(Host::parse("h").unwrap()),
    );
    let stamp = Stamp::new(
        Timestamp::new(2026, 11, 23, 19, 54, 6, 123).unwrap(),
        TimeZone::KST,
        1,
    );
    let mut buf = [0u8; 2048];
    let mut call = Call::new(&session, &stamp, req, NoCrypto, &mut buf).unwrap();
    let n = call.outgoing(&buf).len();
    call.sent(&mut buf, n).unwrap();
    let mut rest = data;
    let mut progress = Ok(Progress::NeedMore);
    while !rest.is_empty() && progress == Ok(Progress::NeedMore) {
        let Ok(space) = call.incoming(&mut buf) else {
            break;
        };
        let k = piece.max(1).min(rest.len()).min(space.len());
        if k == 0 {
            break;
        }
        space[..k].copy_from_slice(&rest[..k]);
        rest = &rest[k..];
        progress = call.received(&mut buf, k);
    }
    if progress == Ok(Progress::NeedMore) {
        progress = call.closed(&mut buf);
    }
    if progress == Ok(Progress::Complete) {
        // asking again changes nothing
        assert_eq!(call.received(&mut buf, 0), Ok(Progress::Complete));
        let mut reply = ReplyOf::<R::Endpoint>::empty();
        let _ = call.finish(&mut buf, NoCrypto, &mut reply);
    } else {
        call.abort(&mut buf);
    }
    assert!(
        buf.iter().all(|&b| b == 0),
        "the call left bytes in the buffer"
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&split, data)) = data.split_first() else {
        return;
    };
    let piece = usize::from(split % 64) + 1;
    let user_id = UserId::new(1).unwrap();
    answer(
        &ChargeResultRequest {
            sequence_id: SequenceId::new("S").unwrap(),
        },
        data,
        piece,
    );
    answer(&AutoRechargeListRequest { user_id }, data, piece);
    answer(
        &RefundFeeRequest {
            one_time_token: OneTimeToken::new("1234567890123456").unwrap(),
            user_id,
        },
        data,
        piece,
    );
    let ours = parse_response_head(data);
    let mut slots = [httparse::EMPTY_HEADER; MAX_RESPONSE_HEADERS];
    let mut theirs = httparse::Response::new(&mut slots);
    match (theirs.parse(data), &ours) {
        (Ok(httparse::Status::Complete(n)), Ok(Some(h))) => {
            assert_eq!(n, h.head_len);
            assert_eq!(theirs.code, Some(h.status));
        }
        (Ok(httparse::Status::Complete(_)), Err(HttpError::UnexpectedInformational { status })) => {
            assert_eq!(theirs.code, Some(*status));
        }
        (Err(_) | Ok(httparse::Status::Partial), Ok(Some(_))) => {
            panic!(
                "accepted a head httparse does not: {:?}",
                String::from_utf8_lossy(data)
            )
        }
        _ => {}
    }
    if let Ok(Some(head)) = ours {
        let body = &data[head.head_len..];
        let mut one = body.to_vec();
        let mut dec = ChunkedDecoder::new();
        let mut w1 = 0;
        let r1 = dec.decode(&mut one, 0..body.len(), &mut w1);
        let cut = usize::from(split) % (body.len() + 1);
        let mut two = body.to_vec();
        let mut dec2 = ChunkedDecoder::new();
        let mut w2 = 0;
        let r2 = dec2.decode(&mut two, 0..cut, &mut w2).and_then(|a| {
            if a < cut {
                Ok(a)
            } else {
                dec2.decode(&mut two, cut..body.len(), &mut w2)
                    .map(|b| a + b)
            }
        });
        match (r1, r2) {
            (Ok(a), Ok(b)) => {
                assert_eq!(a, b);
                assert_eq!(dec.is_done(), dec2.is_done());
                assert_eq!(one[..w1], two[..w2]);
            }
            (Err(_), Err(_)) => {}
            (a, b) => panic!("split decode differs: {a:?} vs {b:?}"),
        }
    }
});
