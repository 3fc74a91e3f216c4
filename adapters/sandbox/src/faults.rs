//! Fault injection: what can go wrong with one request, and how a fault is delivered.

use std::io;
use std::net::{Shutdown, TcpStream};
use std::thread;
use std::time::Duration;

use crate::http::write_response;
use crate::routes::Answer;
use crate::server::{Shared, lock};

/// A transport fault, injected into one request (see [`crate::Sandbox::inject`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Stop listening for the given time: connections are refused (nothing reaches the
    /// sandbox).
    RefuseConnection(Duration),
    /// Read the request, then close without processing it.
    DropBeforeProcessing,
    /// Process and commit the request, then close without answering.
    DropAfterCommit,
    /// Process and commit, then wait this long before answering.
    Delay(Duration),
    /// Answer with this HTTP status and a non-JSON body. 500: after processing and
    /// committing; 502 and 503: without processing (a gateway / an unavailable service).
    Status(u16),
    /// Commit, then send the head and half the body and close.
    TruncatedBody,
    /// Commit, then answer 200 with a body that is not JSON.
    InvalidJson,
    /// Commit, then announce a Content-Length larger than the body sent, and close.
    WrongContentLength,
    /// Commit, then answer with a valid envelope padded to 100 KiB (larger than any client
    /// buffer).
    OversizedBody,
    /// Commit, then send the response one byte at a time, this long apart.
    SlowDrip(Duration),
    /// A slow platform: the request is received and checked (its sequenceId is taken at
    /// once, its token judged at arrival), committed only this long later, then answered.
    /// Meanwhile the result inquiry says "not found" (it answers from committed state only)
    /// and a re-send of the same sequenceId is refused with `000_002`. Money-moving
    /// endpoints only; others are just delayed.
    SlowCommit(Duration),
}

impl Fault {
    /// Parses the CLI form: `refuse`, `drop-before`, `drop-after`, `delay:MS`, `status:CODE`,
    /// `truncate`, `invalid-json`, `wrong-length`, `oversized`, `drip:MS`, `slow-commit:MS`.
    pub fn parse(s: &str) -> Result<Fault, String> {
        let (name, arg) = match s.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (s, None),
        };
        let ms = |a: Option<&str>, default: u64| -> Result<Duration, String> {
            match a {
                None => Ok(Duration::from_millis(default)),
                Some(v) => v
                    .parse()
                    .map(Duration::from_millis)
                    .map_err(|_| format!("fault {s}: {v} is not milliseconds")),
            }
        };
        Ok(match name {
            "refuse" => Fault::RefuseConnection(ms(arg, 500)?),
            "drop-before" => Fault::DropBeforeProcessing,
            "drop-after" => Fault::DropAfterCommit,
            "delay" => Fault::Delay(ms(arg, 5000)?),
            "status" => match arg.map(str::parse::<u16>) {
                Some(Ok(c @ (500 | 502 | 503))) => Fault::Status(c),
                _ => return Err(format!("fault {s}: status must be 500, 502 or 503")),
            },
            "truncate" => Fault::TruncatedBody,
            "invalid-json" => Fault::InvalidJson,
            "wrong-length" => Fault::WrongContentLength,
            "oversized" => Fault::OversizedBody,
            "drip" => Fault::SlowDrip(ms(arg, 20)?),
            "slow-commit" => Fault::SlowCommit(ms(arg, 3000)?),
            _ => {
                return Err(format!(
                    "unknown fault {s:?}: refuse[:MS], drop-before, drop-after, delay[:MS], status:500|502|503, truncate, invalid-json, wrong-length, oversized, drip[:MS], slow-commit[:MS]"
                ));
            }
        })
    }
}

pub(crate) fn take_fault(shared: &Shared, endpoint: &str) -> Option<Fault> {
    let mut f = lock(&shared.faults);
    let i = f.iter().position(|(e, _)| e == "*" || e == endpoint)?;
    Some(f.remove(i).1)
}

pub(crate) fn deliver(
    stream: &mut TcpStream,
    a: &Answer,
    extra: &[(&str, String)],
    fault: Option<Fault>,
) -> io::Result<()> {
    match fault {
        Some(Fault::DropAfterCommit) => stream.shutdown(Shutdown::Both),
        Some(Fault::Delay(d)) => {
            thread::sleep(d);
            write_response(stream, a.status, extra, &a.body, None, None)
        }
        Some(Fault::Status(s)) => {
            write_response(stream, s, extra, b"Internal Server Error", None, None)
        }
        Some(Fault::TruncatedBody) => {
            let half = a.body.get(..a.body.len() / 2).unwrap_or_default();
            write_response(stream, a.status, extra, half, None, Some(a.body.len()))?;
            stream.shutdown(Shutdown::Both)
        }
        Some(Fault::InvalidJson) => write_response(
            stream,
            200,
            extra,
            b"{\"response\":{\"code\":\"000_000\",\"descr",
            None,
            None,
        ),
        Some(Fault::WrongContentLength) => {
            write_response(
                stream,
                a.status,
                extra,
                &a.body,
                None,
                Some(a.body.len() + 7),
            )?;
            stream.shutdown(Shutdown::Both)
        }
        Some(Fault::OversizedBody) => {
            let mut big = a.body.clone();
            if big.last() == Some(&b'}') {
                big.pop();
                big.extend_from_slice(b",\"padding\":\"");
                big.resize(big.len() + 100 * 1024, b'x');
                big.extend_from_slice(b"\"}");
            }
            write_response(stream, a.status, extra, &big, None, None)
        }
        Some(Fault::SlowDrip(d)) => write_response(stream, a.status, extra, &a.body, Some(d), None),
        _ => write_response(stream, a.status, extra, &a.body, None, None),
    }
}
