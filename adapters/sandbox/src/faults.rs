//! Fault injection: what can go wrong with one request (how a fault is delivered is in
//! [`crate::deliver`]).

use std::time::Duration;

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
