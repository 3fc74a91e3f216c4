//! The sans-IO response reader: every recorded sandbox response (the firmware example's
//! fixtures), and chunked, until-close and error cases, split at every byte position and fed
//! in every read size from 1 up, decode identically — and so does a whole [`Call`] fed the
//! same way, which leaves nothing in the buffer.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

mod common;

use konaplate_core::http::{Framing, HttpError, Progress, ResponseHead, ResponseReader};

/// The recorded responses of `adapters/firmware/src/fixtures.rs` (Rust byte-string literals).
fn recorded() -> Vec<Vec<u8>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../adapters/firmware/src/fixtures.rs"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    for part in text.split("*b\"").skip(1) {
        let mut bytes = Vec::new();
        let mut chars = part.chars();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next().unwrap() {
                    'r' => bytes.push(b'\r'),
                    'n' => bytes.push(b'\n'),
                    '"' => bytes.push(b'"'),
                    '\\' => bytes.push(b'\\'),
                    'x' => {
                        let h: String = chars.by_ref().take(2).collect();
                        bytes.push(u8::from_str_radix(&h, 16).unwrap());
                    }
                    other => panic!("escape {other}"),
                },
                c => {
                    let mut b = [0u8; 4];
                    bytes.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                }
            }
        }
        out.push(bytes);
    }
    assert!(out.len() >= 8, "the recorded responses were found");
    out
}

const BODY: &str = r#"{"response":{"code":"000_000","description":"성공"},"result":"COMPLETED"}"#;

fn chunked() -> Vec<u8> {
    let mut v = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for (i, part) in BODY.as_bytes().chunks(7).enumerate() {
        let ext = if i % 2 == 0 { ";x=1" } else { "" };
        v.extend_from_slice(format!("{:x}{ext}\r\n", part.len()).as_bytes());
        v.extend_from_slice(part);
        v.extend_from_slice(b"\r\n");
    }
    v.extend_from_slice(b"0\r\nX-Trailer: yes\r\n\r\n");
    v
}

fn until_close() -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{BODY}").into_bytes()
}

fn all_responses() -> Vec<Vec<u8>> {
    let mut v = recorded();
    v.push(chunked());
    v.push(until_close());
    v
}

/// Feeds `input` in pieces of `sizes` (cycled), closing when it ends: (head, body bytes).
fn read_in_pieces(
    input: &[u8],
    sizes: &[usize],
    capacity: usize,
) -> Result<(ResponseHead, Vec<u8>), HttpError> {
    let mut buf = vec![0u8; capacity];
    let mut r = ResponseReader::new();
    let mut at = 0;
    let mut i = 0;
    loop {
        let spare = r.spare(buf.len())?;
        let n = sizes[i % sizes.len()]
            .min(input.len() - at)
            .min(spare.len());
        i += 1;
        let progress = if n == 0 {
            r.closed(&mut buf)?
        } else {
            buf[spare.start..spare.start + n].copy_from_slice(&input[at..at + n]);
            at += n;
            r.received(&mut buf, n)?
        };
        if progress == Progress::Complete {
            // calling again after completion keeps answering the same
            assert_eq!(r.received(&mut buf, 0)?, Progress::Complete);
            assert_eq!(r.closed(&mut buf)?, Progress::Complete);
            let (head, body) = r.response().unwrap();
            return Ok((head, buf[body].to_vec()));
        }
    }
}

fn reference(input: &[u8]) -> (ResponseHead, Vec<u8>) {
    read_in_pieces(input, &[input.len()], 8192).unwrap()
}

#[test]
fn every_read_size_decodes_identically() {
    for input in all_responses() {
        let want = reference(&input);
        for size in 1..=input.len() {
            let got = read_in_pieces(&input, &[size], 8192).unwrap();
            assert_eq!(got, want, "read size {size}");
        }
        // irregular sizes too
        assert_eq!(
            read_in_pieces(&input, &[1, 5, 2, 13, 3], 8192).unwrap(),
            want
        );
    }
}

#[test]
fn every_split_point_decodes_identically() {
    for input in all_responses() {
        let want = reference(&input);
        for split in 1..input.len() {
            let got = read_in_pieces(&input, &[split, input.len()], 8192).unwrap();
            assert_eq!(got, want, "split at {split}");
        }
    }
}

#[test]
fn a_chunked_body_needs_no_more_buffer_than_its_decoded_size() {
    // decoded in place as it arrives: the framing never needs room of its own
    let input = chunked();
    let (head, body) = reference(&input);
    let capacity = head.head_len + body.len() + 8;
    assert!(
        capacity < input.len(),
        "the encoded form is larger than the buffer"
    );
    assert_eq!(read_in_pieces(&input, &[3], capacity).unwrap().1, body);
}

#[test]
fn the_body_of_a_recorded_response_is_what_the_platform_sent() {
    for input in recorded() {
        let (head, body) = reference(&input);
        assert_eq!(head.status, 200);
        assert!(
            body.starts_with(b"{\""),
            "{}",
            String::from_utf8_lossy(&body)
        );
        assert!(body.ends_with(b"}"));
        assert!(head.correlation_id.is_some());
    }
    let (head, body) = reference(&chunked());
    assert_eq!(
        (head.framing, &body[..]),
        (Framing::Chunked, BODY.as_bytes())
    );
    let (head, body) = reference(&until_close());
    assert_eq!(
        (head.framing, &body[..]),
        (Framing::UntilClose, BODY.as_bytes())
    );
}

#[test]
fn a_peer_closing_early_is_an_error_at_every_point() {
    for input in all_responses() {
        let until_close = reference(&input).0.framing == Framing::UntilClose;
        for cut in 0..input.len() {
            let r = read_in_pieces(&input[..cut], &[3], 8192);
            let head_len = reference(&input).0.head_len;
            if until_close && cut >= head_len {
                // the body ends where the peer closed
                assert_eq!(r.unwrap().1, input[head_len..cut].to_vec());
            } else {
                assert_eq!(
                    r.unwrap_err(),
                    HttpError::Closed { received: cut },
                    "cut at {cut}"
                );
            }
        }
    }
}

#[test]
fn responses_larger_than_the_buffer_are_typed_errors() {
    let input = recorded().remove(0);
    let (head, body) = reference(&input);
    // the head does not fit
    assert_eq!(
        read_in_pieces(&input, &[7], head.head_len - 1),
        Err(HttpError::HeadTooLarge {
            capacity: head.head_len - 1
        })
    );
    // the announced body does not fit: said as soon as the head is read
    let cap = head.head_len + body.len() - 1;
    assert_eq!(
        read_in_pieces(&input, &[7], cap),
        Err(HttpError::BodyTooLarge {
            needed: head.head_len + body.len(),
            capacity: cap
        })
    );
    // a chunked or until-close body that does not fit
    let input = until_close();
    let (head, body) = reference(&input);
    let cap = head.head_len + body.len() - 1;
    assert_eq!(
        read_in_pieces(&input, &[4], cap),
        Err(HttpError::BodyTooLarge {
            needed: 0,
            capacity: cap
        })
    );
    let mut big = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n".to_vec();
    big.extend_from_slice(&[b'x'; 0x400]);
    big.extend_from_slice(b"\r\n0\r\n\r\n");
    assert!(matches!(
        read_in_pieces(&big, &[64], 600),
        Err(HttpError::BodyTooLarge { needed: 0, .. })
    ));
}

#[test]
fn a_content_length_response_is_never_read_past() {
    let mut input = recorded().remove(1);
    let want = reference(&input);
    input.extend_from_slice(b"HTTP/1.1 200 OK\r\n"); // a pipelined next response
    let mut buf = vec![0u8; 8192];
    let mut r = ResponseReader::new();
    let mut at = 0;
    loop {
        let spare = r.spare(buf.len()).unwrap();
        let n = spare.len().min(input.len() - at).min(40);
        buf[spare.start..spare.start + n].copy_from_slice(&input[at..at + n]);
        at += n;
        if r.received(&mut buf, n).unwrap() == Progress::Complete {
            let (_, body) = r.response().unwrap();
            assert_eq!(buf[body].to_vec(), want.1);
            break;
        }
    }
    assert_eq!(
        at,
        input.len() - b"HTTP/1.1 200 OK\r\n".len(),
        "nothing of the next response was consumed"
    );
}

#[test]
fn a_call_fed_in_pieces_decodes_identically_and_leaves_nothing() {
    use konaplate_core::prelude::*;
    use konaplate_core::{api::ChargeResultInquiry, field::ChargeResult};
    let length = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{BODY}",
        BODY.len()
    )
    .into_bytes();
    for input in [chunked(), until_close(), length] {
        for piece in [1, 2, 3, 5, 7, 64, input.len()] {
            let mut buf = vec![0u8; 2048];
            let request = common::inquiry_request("S1");
            let mut call = Call::new(
                &common::session(),
                &common::stamp(),
                &request,
                NoCrypto,
                &mut buf,
            )
            .unwrap();
            common::write_all(&mut call, &mut buf);
            let mut progress = common::feed(&mut call, &mut buf, &input, piece).unwrap();
            if progress == Progress::NeedMore {
                progress = call.received(&mut buf, 0).unwrap(); // the peer closes
            }
            assert_eq!(progress, Progress::Complete, "{piece}-byte reads");
            // asking again after completion answers the same, and reads nothing more
            assert_eq!(call.received(&mut buf, 0).unwrap(), Progress::Complete);
            assert!(call.incoming(&mut buf).unwrap().is_empty());
            let mut reply = ReplyOf::<ChargeResultInquiry>::empty();
            call.finish(&mut buf, NoCrypto, &mut reply).unwrap();
            assert_eq!(
                reply.body.as_ref().map(|b| b.result),
                Some(ChargeResult::Completed)
            );
            assert_eq!(reply.description.as_str(), "성공");
            assert!(buf.iter().all(|&b| b == 0), "nothing left in the buffer");
        }
    }
}
