//! The I/O of an exchange, written once for both clients.
//!
//! `client!()` expands to the blocking functions, `client!(async, .await)` to the async ones:
//! the same lines, with `async` before each `fn` and `.await` after each I/O call. Everything
//! that does no I/O (encoding, framing, decryption, decoding, wiping) is in plain functions of
//! the crate root and the core, shared by both.

macro_rules! client {
    ($($async:ident, $($await:tt)+)?) => {
        use core::ops::Range;

        use konaplate_core::api::{ReplyOf, Request};
        use konaplate_core::http::{Progress, ResponseHead, ResponseReader};
        use konaplate_core::request::{EncodedRequest, Session, Stamp, encode_request};

        use crate::{
            Crypto, DecodeFn, EncodeFn, Error, Exchange, RawResponse, Sent, encoded, finish,
            finish_into, open_raw, wipe_request,
        };

        /// Writes all of `bytes`, then flushes; a stream that accepts zero bytes is
        /// [`Error::WriteZero`] (never a panic).
        pub $($async)? fn write_all<S: Write>(stream: &mut S, mut bytes: &[u8]) -> Result<(), Error<S::Error>> {
            while !bytes.is_empty() {
                match stream.write(bytes) $($($await)+)? {
                    Ok(0) => return Err(Error::WriteZero),
                    Ok(n) => bytes = bytes.get(n..).unwrap_or(&[]),
                    Err(e) => return Err(Error::Write(e)),
                }
            }
            stream.flush() $($($await)+)? .map_err(Error::Write)
        }

        /// Reads one HTTP/1.1 response from `stream` into `buf`: the I/O around the core's
        /// [`ResponseReader`], which does all the framing (head parsed once; body by
        /// `Content-Length`, `chunked` decoded in place as it arrives, or until the peer
        /// closes). Returns the head and where the body is in `buf`.
        pub $($async)? fn read_response<S: Read>(stream: &mut S, buf: &mut [u8]) -> Result<(ResponseHead, Range<usize>), Error<S::Error>> {
            let mut reader = ResponseReader::new();
            loop {
                let spare = reader.spare(buf.len()).map_err(Error::from_http)?;
                let progress = match stream.read(buf.get_mut(spare).unwrap_or(&mut [])) $($($await)+)? {
                    Ok(0) => reader.closed(buf),
                    Ok(n) => reader.received(buf, n),
                    Err(e) => return Err(Error::Read(e)),
                };
                if let Progress::Complete { head, body } = progress.map_err(Error::from_http)? {
                    return Ok((head, body));
                }
            }
        }

        /// The endpoint-independent part of an exchange (one copy per stream type, not per
        /// endpoint): write the encoded request and wipe it, read the response, decrypt an
        /// `encData` body in place.
        $($async)? fn transact<S: Read + Write>(
            stream: &mut S,
            sent_len: usize,
            crypto: &mut dyn Crypto,
            buf: &mut [u8],
        ) -> Result<RawResponse, Error<S::Error>> {
            let written = write_all(stream, buf.get(..sent_len).unwrap_or(&[])) $($($await)+)?;
            wipe_request(buf, sent_len, written)?;
            let (head, body) = read_response(stream, buf) $($($await)+)??;
            open_raw(buf, head, body, crypto)
        }

        /// Sends `req` over `stream` and returns the raw response (decrypted in place when the
        /// body is `encData`), for callers that feed the exactly-once flow
        /// ([`konaplate_core::flow`]) with [`konaplate_core::flow::Event::Response`].
        pub $($async)? fn call_raw<R: Request, S: Read + Write, C: Crypto>(
            stream: &mut S,
            session: &Session,
            stamp: &Stamp,
            req: &R,
            mut crypto: C,
            buf: &mut [u8],
        ) -> Result<(EncodedRequest, RawResponse), Error<S::Error>> {
            let sent = encoded(encode_request(session, stamp, req, &mut crypto, buf), buf)?;
            let raw = transact(stream, sent.len, &mut crypto, buf) $($($await)+)??;
            Ok((sent, raw))
        }

        /// Like [`call`], decoding into caller-owned storage: `out` is overwritten in place, so
        /// no reply is ever copied (the leanest path in flash and stack).
        pub $($async)? fn call_into<R: Request, S: Read + Write, C: Crypto>(
            stream: &mut S,
            session: &Session,
            stamp: &Stamp,
            req: &R,
            mut crypto: C,
            buf: &mut [u8],
            out: &mut ReplyOf<R::Endpoint>,
        ) -> Result<Sent, Error<S::Error>> {
            // only these two closures depend on the endpoint; everything else is one copy per
            // stream type
            let mut encode = |buf: &mut [u8], crypto: &mut dyn Crypto| encode_request(session, stamp, req, crypto, buf);
            let mut decode = |body: &[u8]| konaplate_core::message::decode_body_into(body, out);
            exchange(stream, &mut encode, &mut crypto, buf, &mut decode) $($($await)+)?
        }

        /// The endpoint-independent exchange behind [`call_into`].
        $($async)? fn exchange<S: Read + Write>(
            stream: &mut S,
            encode: &mut EncodeFn<'_>,
            crypto: &mut dyn Crypto,
            buf: &mut [u8],
            decode: &mut DecodeFn<'_>,
        ) -> Result<Sent, Error<S::Error>> {
            let request = encoded(encode(buf, crypto), buf)?;
            let raw = transact(stream, request.len, crypto, buf) $($($await)+)??;
            finish_into(buf, request, raw, decode)
        }

        /// Sends `req` over `stream` and decodes the reply. `buf` holds the request and then
        /// the response ([`crate::BUFFER_PLAIN`] or [`crate::BUFFER_ENCRYPTED`] bytes
        /// suffice); the request and any decrypted plaintext are wiped from it afterwards.
        pub $($async)? fn call<R: Request, S: Read + Write, C: Crypto>(
            stream: &mut S,
            session: &Session,
            stamp: &Stamp,
            req: &R,
            crypto: C,
            buf: &mut [u8],
        ) -> Result<Exchange<R::Endpoint>, Error<S::Error>> {
            let (sent, raw) = call_raw(stream, session, stamp, req, crypto, buf) $($($await)+)??;
            finish(buf, sent, raw)
        }
    };
}
