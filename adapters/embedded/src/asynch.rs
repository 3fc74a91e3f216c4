//! The async client, over any [`embedded_io_async::Read`] + [`embedded_io_async::Write`]
//! stream: embassy-net's `TcpSocket`, embedded-tls's `TlsConnection`, or anything else that
//! implements the traits. Same shape, same guarantees and — line for line — the same code as
//! the blocking client at the crate root (both are expanded from one source; only the
//! `.await`s differ): caller-owned buffer, no allocation, typed errors, the request and any
//! decrypted plaintext wiped from the buffer after use.
//!
//! The library has no executor, timer or clock of its own. A stalled peer would make a call
//! wait forever, so wrap every call in your own timeout — with Embassy,
//! `embassy_time::with_timeout(Duration::from_secs(30), call(...))` — and treat a timeout like
//! [`Error::Read`]: the request may have reached the platform (see
//! [`Error::outcome_unknown`]; the core's [`konaplate_core::flow`] recovers it).
//!
//! ```no_run
//! # use konaplate_core::prelude::*;
//! # use konaplate_core::{api::*, field::*};
//! # async fn demo<S: embedded_io_async::Read + embedded_io_async::Write>(socket: &mut S,
//! #     session: &Session, stamp: &Stamp) -> Result<(), konaplate_embedded::Error<S::Error>> {
//! let mut buf = [0u8; konaplate_embedded::BUFFER_PLAIN];
//! let req = ChargeResultRequest { sequence_id: SequenceId::new("KP-1").unwrap() };
//! let x = konaplate_embedded::asynch::call(socket, session, stamp, &req, NoCrypto, &mut buf).await?;
//! if let Some(r) = x.reply.body {
//!     let _final = r.result.is_final();
//! }
//! # Ok(()) }
//! ```
//!
//! Futures are stored by the executor: an Embassy task that awaits [`call_into`] needs room
//! for its future in the task's storage. `scripts/firmware-check` prints the size of the
//! largest one in the example image (`async_future_bytes=`); the buffer is the caller's and is
//! not part of it.

use embedded_io_async::{Read, Write};

client!(async, .await);
