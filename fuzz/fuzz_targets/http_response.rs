//! Whole HTTP responses (head + Content-Length or chunked body + JSON): never panics; the
//! head parser never accepts what httparse rejects and agrees with it on where the head ends;
//! a chunked body decoded in two pieces split anywhere equals the one-shot decode.
#![no_main]

use konaplate_core::api::*;
use konaplate_core::http::{ChunkedDecoder, HttpError, MAX_RESPONSE_HEADERS, parse_response_head};
use konaplate_core::prelude::*;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&split, data)) = data.split_first() else {
        return;
    };
    let _ = decode_response::<Charge>(&mut data.to_vec(), NoCrypto);
    let _ = decode_response::<AutoRechargeList>(&mut data.to_vec(), NoCrypto);
    let _ = decode_response::<RefundFee>(&mut data.to_vec(), NoCrypto);
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
