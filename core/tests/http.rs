//! HTTP/1.1 response framing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use common::{cancel_request, exchange, feed, session, stamp, write_all};
use konaplate_core::call::{Call, CallError};
use konaplate_core::code::*;
use konaplate_core::http::{
    ChunkedDecoder, Framing, HttpError, Progress, ResponseReader, parse_response_head,
};
use konaplate_core::prelude::*;

/// Feeds the first `cut` bytes of `response` to a cancellation's call in one read: what the
/// call says before the peer closes.
fn partial(response: &[u8]) -> Result<Progress, CallError> {
    let mut buf = vec![0u8; 4096];
    let mut call = Call::new(
        &session(),
        &stamp(),
        &cancel_request("C1"),
        NoCrypto,
        &mut buf,
    )
    .unwrap();
    write_all(&mut call, &mut buf);
    feed(&mut call, &mut buf, response, usize::MAX)
}

const BODY: &str = r#"{"response":{"code":"000_000","description":"성공"},"isPending":false}"#;

fn with_length() -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-KM-Correlation-Id: 261123195406-0abcdef\r\nX-KM-Crypto-Key-Id: 0123456789abcdef0123456789abcdef\r\nContent-Length: {}\r\n\r\n{BODY}",
        BODY.len()
    )
    .into_bytes()
}

fn chunked(sizes: &[usize]) -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    let mut rest = BODY.as_bytes();
    let mut i = 0;
    while !rest.is_empty() {
        let n = sizes[i % sizes.len()].min(rest.len());
        out.extend_from_slice(format!("{n:X};ext=1\r\n").as_bytes());
        out.extend_from_slice(&rest[..n]);
        out.extend_from_slice(b"\r\n");
        rest = &rest[n..];
        i += 1;
    }
    out.extend_from_slice(b"0\r\nX-Trailer: t\r\n\r\n");
    out
}

#[test]
fn head_fields_are_read() {
    let buf = with_length();
    let h = parse_response_head(&buf).unwrap().unwrap();
    assert_eq!(h.status, 200);
    assert_eq!(h.framing, Framing::Length(BODY.len()));
    assert_eq!(h.correlation_id.unwrap().as_str(), "261123195406-0abcdef");
    assert_eq!(
        h.crypto_key_id.unwrap().as_str(),
        "0123456789abcdef0123456789abcdef"
    );
    assert_eq!(&buf[h.head_len..], BODY.as_bytes());
}

#[test]
fn every_truncation_of_the_head_is_partial() {
    let buf = with_length();
    let head_len = parse_response_head(&buf).unwrap().unwrap().head_len;
    for cut in 0..head_len {
        assert_eq!(parse_response_head(&buf[..cut]), Ok(None), "cut at {cut}");
    }
}

#[test]
fn every_truncation_of_the_body_is_incomplete() {
    let buf = with_length();
    for cut in 0..buf.len() {
        assert_eq!(partial(&buf[..cut]), Ok(Progress::NeedMore), "cut at {cut}");
    }
    assert_eq!(partial(&buf), Ok(Progress::Complete));
    let (r, reply) = exchange(&cancel_request("C1"), &buf);
    r.unwrap();
    assert_eq!(reply.description.as_str(), "성공");
}

#[test]
fn chunked_bodies_decode_for_many_chunkings() {
    for sizes in [&[1usize][..], &[2, 3], &[7], &[1000], &[5, 1, 13]] {
        let (r, reply) = exchange(&cancel_request("C1"), &chunked(sizes));
        assert_eq!(r.unwrap().head.framing, Framing::Chunked);
        assert!(!reply.body.unwrap().is_pending);
    }
}

#[test]
fn chunked_decoder_split_at_every_position() {
    let full = chunked(&[3, 11]);
    let head = parse_response_head(&full).unwrap().unwrap();
    let encoded = &full[head.head_len..];
    for split in 0..=encoded.len() {
        let mut buf = encoded.to_vec();
        let mut dec = ChunkedDecoder::new();
        let mut write = 0;
        let used1 = dec.decode(&mut buf, 0..split, &mut write).unwrap();
        assert_eq!(used1, split);
        let used2 = dec
            .decode(&mut buf, split..encoded.len(), &mut write)
            .unwrap();
        assert_eq!(used1 + used2, encoded.len());
        assert!(dec.is_done());
        assert_eq!(&buf[..write], BODY.as_bytes(), "split at {split}");
    }
}

#[test]
fn truncated_chunked_body_is_incomplete() {
    let full = chunked(&[4]);
    for cut in 0..full.len() {
        assert_eq!(
            partial(&full[..cut]),
            Ok(Progress::NeedMore),
            "cut at {cut}"
        );
    }
}

#[test]
fn malformed_chunks_are_errors() {
    for bad in [
        &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n"[..],
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\nab\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\n",
    ] {
        assert_eq!(
            partial(bad),
            Err(CallError::Http(HttpError::InvalidChunk)),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
}

#[test]
fn conflicting_framing_is_rejected() {
    let cases: [(&[u8], HttpError); 5] = [
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n",
            HttpError::ConflictingFraming,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
            HttpError::ConflictingFraming,
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\n",
            HttpError::InvalidHeader {
                name: "Content-Length",
                limit: "decimal digits",
            },
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
            HttpError::UnsupportedTransferEncoding,
        ),
        (
            b"HTTP/1.1 100 Continue\r\n\r\n",
            HttpError::UnexpectedInformational { status: 100 },
        ),
    ];
    for (head, want) in cases {
        assert_eq!(parse_response_head(head), Err(want));
    }
    // the same length twice is harmless
    assert!(
        parse_response_head(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\n")
            .is_ok()
    );
}

#[test]
fn bad_xkm_headers_and_syntax_are_typed() {
    assert!(matches!(
        parse_response_head(b"HTTP/1.1 200 OK\r\nX-KM-Correlation-Id: 1234\r\n\r\n"),
        Err(HttpError::InvalidHeader {
            name: "X-KM-Correlation-Id",
            ..
        })
    ));
    assert!(matches!(
        parse_response_head(b"HTTP/2.0 200 OK\r\n\r\n"),
        Err(HttpError::Syntax { .. })
    ));
    assert!(matches!(
        parse_response_head(b"HTTP/1.1 2x0 OK\r\n\r\n"),
        Err(HttpError::Syntax { .. })
    ));
    let many: String = (0..40).map(|i| format!("X-{i}: v\r\n")).collect();
    assert_eq!(
        parse_response_head(format!("HTTP/1.1 200 OK\r\n{many}\r\n").as_bytes()),
        Err(HttpError::TooManyHeaders)
    );
}

#[test]
fn error_status_bodies_still_decode() {
    let body = r#"{"response":{"code":"007_030","description":"충전 취소가 불가능한 거래"}}"#;
    let b = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes();
    let (r, reply) = exchange(&cancel_request("C1"), &b);
    assert_eq!(r.unwrap().head.status, 400);
    assert_eq!(reply.code, CancelCode::NotCancellable);
}

#[test]
fn until_close_framing_takes_the_rest() {
    let mut b = format!("HTTP/1.1 200 OK\r\n\r\n{BODY}").into_bytes();
    let h = parse_response_head(&b).unwrap().unwrap();
    assert_eq!(h.framing, Framing::UntilClose);
    let mut reader = ResponseReader::new();
    let n = b.len();
    assert_eq!(
        reader.received(&mut b, n),
        Ok(Progress::NeedMore),
        "not before the peer closes"
    );
    assert_eq!(reader.closed(&mut b), Ok(Progress::Complete));
    let (_, body) = reader.response().unwrap();
    assert_eq!(&b[body], BODY.as_bytes());
}

// ---------- the head parser against httparse ----------

use proptest::prelude::*;

fn status_lines() -> impl Strategy<Value = Vec<u8>> {
    let version = prop_oneof![
        6 => prop::sample::select(vec!["HTTP/1.1", "HTTP/1.0"]),
        1 => prop::sample::select(vec!["HTTP/2.0", "http/1.1", "HTTP/1.", "HTTP/1.1x"]),
    ];
    let code = prop_oneof![
        6 => prop::sample::select(vec!["200", "404", "503", "204"]),
        1 => prop::sample::select(vec!["20", "2000", "2x0", "", "101"]),
    ];
    let reason = prop_oneof![
        6 => prop::collection::vec(prop::sample::select(b"OK ab\t\xc3\xa9:/".to_vec()), 0..6),
        1 => prop::collection::vec(prop::sample::select(b"O \x00\x01\x7f".to_vec()), 1..3),
    ];
    let shape = 0..4u8;
    (version, code, reason, shape).prop_map(|(v, c, r, shape)| {
        let mut line = v.as_bytes().to_vec();
        match shape {
            0 => {} // no reason phrase
            1 => {
                line.push(b' ');
                line.extend_from_slice(c.as_bytes());
            }
            _ => {
                line.push(b' ');
                line.extend_from_slice(c.as_bytes());
                line.push(b' ');
                line.extend_from_slice(&r);
            }
        }
        line
    })
}

fn header_lines() -> impl Strategy<Value = Vec<u8>> {
    // mostly well-formed lines, so that one bad byte decides
    let name = prop_oneof![
        8 => prop::sample::select(vec!["Content-Type", "Server", "X-Custom", "Date", "x_y", "A!#$%&'*+-.^_`|~9"])
            .prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::collection::vec(prop::sample::select(b"aZ-( \t\x00\xc3@".to_vec()), 0..4),
    ];
    let value = prop_oneof![
        8 => prop::collection::vec(prop::sample::select(b"ab ; =\t\xc3\xa9:".to_vec()), 0..8),
        1 => prop::collection::vec(prop::sample::select(b"ab \t\x00\x01\x7f\r".to_vec()), 0..4),
    ];
    let ending =
        prop_oneof![8 => Just(&b"\r\n"[..]), 1 => Just(&b"\n"[..]), 1 => Just(&b"\r\n "[..])];
    (name, value, ending, prop::bool::weighted(0.95)).prop_map(|(n, v, e, colon)| {
        let mut l = n;
        if colon {
            l.push(b':');
        }
        l.extend_from_slice(&v);
        l.extend_from_slice(e);
        l
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// Ours never accepts what httparse rejects, accepts every head httparse accepts that
    /// ends its lines with CRLF (ours does not take bare LF), and agrees on where the head
    /// ends and on the status.
    #[test]
    fn head_parser_agrees_with_httparse(
        status in status_lines(),
        headers in prop_oneof![8 => prop::collection::vec(header_lines(), 0..6), 1 => prop::collection::vec(header_lines(), 30..40)],
        status_end in prop_oneof![8 => Just(&b"\r\n"[..]), 1 => Just(&b"\n"[..])],
        cut in any::<prop::sample::Index>(),
        whole in any::<bool>(),
    ) {
        let mut head = status;
        head.extend_from_slice(status_end);
        for h in &headers {
            head.extend_from_slice(h);
        }
        head.extend_from_slice(b"\r\n");
        head.extend_from_slice(b"{\"body\":1}");
        let input = if whole { &head[..] } else { &head[..cut.index(head.len() + 1)] };

        let mut slots = [httparse::EMPTY_HEADER; konaplate_core::http::MAX_RESPONSE_HEADERS];
        let theirs = httparse::Response::new(&mut slots).parse(input).map(|s| (s, 0));
        let theirs_code = {
            let mut slots = [httparse::EMPTY_HEADER; konaplate_core::http::MAX_RESPONSE_HEADERS];
            let mut r = httparse::Response::new(&mut slots);
            let _ = r.parse(input);
            r.code
        };
        let ours = parse_response_head(input);
        let bare_lf = input.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r') || input.first() == Some(&b'\n');
        match (&theirs, &ours) {
            (Ok((httparse::Status::Complete(n), _)), Ok(Some(h))) => {
                prop_assert_eq!(*n, h.head_len);
                prop_assert_eq!(theirs_code, Some(h.status));
            }
            (Ok((httparse::Status::Complete(_), _)), Err(HttpError::UnexpectedInformational { status })) => {
                prop_assert_eq!(theirs_code, Some(*status));
            }
            (Ok((httparse::Status::Complete(_), _)), other) => {
                prop_assert!(bare_lf, "httparse accepted a CRLF head we did not: {:?} {:?}", String::from_utf8_lossy(input), other);
            }
            (Ok((httparse::Status::Partial, _)), Ok(Some(_))) => {
                prop_assert!(false, "we accepted a head httparse found incomplete: {:?}", String::from_utf8_lossy(input));
            }
            (Ok((httparse::Status::Partial, _)), _) => {}
            (Err(_), Ok(Some(_))) => {
                prop_assert!(false, "we accepted a head httparse rejected: {:?}", String::from_utf8_lossy(input));
            }
            (Err(_), _) => {}
        }
    }
}
