//! The I/O of an exchange, written once for both clients.
//!
//! `client!()` expands to the blocking functions, `client!(async, .await)` to the async ones:
//! the same lines, with `async` before the functions that do I/O and `.await` after each I/O
//! call. Everything that does no I/O (encoding, framing, decryption, decoding, wiping) is in
//! plain functions of the crate root and the core, shared by both.
//!
//! `call_into` and `call_raw` encode the request at once (it needs no I/O) and hand the rest
//! to an exchange that does not depend on the endpoint: the reply is decoded through
//! [`DecodeInto`]. In the async client this makes the future they return the same type for
//! every endpoint — one state machine in flash, whatever the number of endpoints used.

macro_rules! client {
    // the return type of `call_into` / `call_raw`: the result, or a future of it
    (@ret [] $lt:lifetime [$($capture:tt)*] $out:ty) => { $out };
    (@ret [async] $lt:lifetime [$($capture:tt)*] $out:ty) => {
        impl core::future::Future<Output = $out> + use<$($capture)*>
    };

    ($($async:ident, $($await:tt)+)?) => {
        use core::ops::Range;

        use konaplate_core::api::{ReplyOf, Request};
        use konaplate_core::http::{Progress, ResponseHead, ResponseReader};
        use konaplate_core::message::DecodeInto;
        use konaplate_core::request::{EncodedRequest, Session, Stamp, encode_request};

        use crate::{
            Crypto, Error, Exchange, RawResponse, Sent, encoded, finish, finish_into, open_raw,
            wipe_request,
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

        /// The endpoint-independent part of an exchange (one copy per stream and crypto type,
        /// not per endpoint): write the `request_len` bytes of the encoded request and wipe
        /// them, read the response, decrypt an `encData` body in place. The request's
        /// description stays with the caller (it is not moved through every frame).
        $($async)? fn transact<S: Read + Write, C: Crypto>(
            stream: &mut S,
            request_len: usize,
            mut crypto: C,
            buf: &mut [u8],
        ) -> Result<RawResponse, Error<S::Error>> {
            let written = write_all(stream, buf.get(..request_len).unwrap_or(&[])) $($($await)+)?;
            wipe_request(buf, request_len, written)?;
            let (head, body) = read_response(stream, buf) $($($await)+)??;
            open_raw(buf, head, body, &mut crypto)
        }

        /// [`transact`] for an encoded request (or the encoding error), returned with the raw
        /// response.
        $($async)? fn transact_raw<S: Read + Write, C: Crypto>(
            stream: &mut S,
            request: Result<EncodedRequest, Error<S::Error>>,
            crypto: C,
            buf: &mut [u8],
        ) -> Result<(EncodedRequest, RawResponse), Error<S::Error>> {
            let request = request?;
            let raw = transact(stream, request.len, crypto, buf) $($($await)+)??;
            Ok((request, raw))
        }

        /// Sends `req` over `stream` and returns the raw response (decrypted in place when the
        /// body is `encData`), for callers that feed the exactly-once flow
        /// ([`konaplate_core::flow`]) with [`konaplate_core::flow::Event::Response`]. The
        /// request is encoded when this is called.
        pub fn call_raw<'a, R: Request, S: Read + Write, C: Crypto>(
            stream: &'a mut S,
            session: &Session,
            stamp: &Stamp,
            req: &R,
            mut crypto: C,
            buf: &'a mut [u8],
        ) -> client!(@ret [$($async)?] 'a ['a, R, S, C] Result<(EncodedRequest, RawResponse), Error<S::Error>>) {
            let request = encoded(encode_request(session, stamp, req, &mut crypto, buf), buf);
            transact_raw(stream, request, crypto, buf)
        }

        /// Like [`call`], decoding into caller-owned storage: `out` is overwritten in place, so
        /// no reply is ever copied (the leanest path in flash and stack). The request is
        /// encoded when this is called; what is left does not depend on the endpoint.
        pub fn call_into<'a, R: Request, S: Read + Write, C: Crypto>(
            stream: &'a mut S,
            session: &Session,
            stamp: &Stamp,
            req: &R,
            mut crypto: C,
            buf: &'a mut [u8],
            out: &'a mut ReplyOf<R::Endpoint>,
        ) -> client!(@ret [$($async)?] 'a ['a, R, S, C] Result<Sent, Error<S::Error>>) {
            let request = encoded(encode_request(session, stamp, req, &mut crypto, buf), buf);
            exchange(stream, request, crypto, buf, out)
        }

        /// The endpoint-independent half of [`call_into`]: sends a request already encoded
        /// with [`encode_request`] (at the front of `buf`, with the same `crypto`) and decodes
        /// the answer into `out`, any endpoint's reply. Firmware that calls several endpoints
        /// through one function of its own encodes per endpoint (a small generic step) and
        /// links one copy of everything else.
        pub fn send_into<'a, S: Read + Write, C: Crypto>(
            stream: &'a mut S,
            request: EncodedRequest,
            crypto: C,
            buf: &'a mut [u8],
            out: &'a mut dyn DecodeInto,
        ) -> client!(@ret [$($async)?] 'a ['a, S, C] Result<Sent, Error<S::Error>>) {
            exchange(stream, Ok(request), crypto, buf, out)
        }

        /// The endpoint-independent exchange behind [`call_into`] and [`send_into`].
        $($async)? fn exchange<S: Read + Write, C: Crypto>(
            stream: &mut S,
            request: Result<EncodedRequest, Error<S::Error>>,
            crypto: C,
            buf: &mut [u8],
            out: &mut dyn DecodeInto,
        ) -> Result<Sent, Error<S::Error>> {
            let request = request?;
            let raw = transact(stream, request.len, crypto, buf) $($($await)+)??;
            finish_into(buf, request, raw, out)
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
