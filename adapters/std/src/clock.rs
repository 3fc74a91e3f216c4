//! The system clock rendered in a platform time zone, OS randomness, and sequenceId minting.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use konaplate_core::field::{FieldError, SequenceId, TimeZone, Timestamp};
use konaplate_core::request::Stamp;
use rand_core::{OsRng, RngCore};

/// The UTC offset in minutes of a time-zone name the platform uses, or `None` when the SDK
/// does not know it. Known: `KST` (+09:00, the platform's zone and the default), `JST`
/// (+09:00), `UTC` and `GMT` (+00:00).
pub fn zone_offset_minutes(zone: &TimeZone) -> Option<i32> {
    match zone.as_str() {
        "KST" | "JST" => Some(9 * 60),
        "UTC" | "GMT" => Some(0),
        _ => None,
    }
}

/// Milliseconds since the Unix epoch from the system clock.
pub fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// A money flow's clock (ms): the wall clock as the flow starts (or resumes), then the
/// monotonic clock's elapsed time on top. A flow's deadlines are spans of real time within the
/// call, and the wall clock is not one: an NTP step forward in the middle of a call would make
/// the flow think the request's acceptance window had passed and end a charge the platform is
/// still committing as not processed (and the till would charge again). Made afresh for each
/// call, so the deadlines a journal record holds are anchored to the wall clock of the moment
/// the call began and compare with another process's (and another machine's) clock; a clock
/// kept for the life of a process would carry every later correction, and a suspend (the
/// monotonic clock stops), into them.
#[derive(Clone, Copy, Debug)]
pub struct FlowClock {
    base: u64,
    origin: Instant,
}

impl FlowClock {
    /// A clock reading `base` now.
    pub fn new(base: u64) -> Self {
        Self {
            base,
            origin: Instant::now(),
        }
    }

    /// A clock reading the wall clock ([`unix_millis`]) now.
    pub fn from_wall() -> Self {
        Self::new(unix_millis())
    }

    /// `base` plus the monotonic time since the clock was made (never less than before).
    pub fn now(&self) -> u64 {
        let elapsed = u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.base.saturating_add(elapsed)
    }
}

/// The current wall-clock time in a zone `offset_minutes` east of UTC.
pub fn now(offset_minutes: i32) -> Result<Timestamp, FieldError> {
    Timestamp::from_unix_millis(unix_millis(), offset_minutes)
}

/// A request stamp: the current time in `zone` and a Correlation-Id with 28 random bits from
/// the OS.
pub fn stamp(zone: TimeZone, offset_minutes: i32) -> Result<Stamp, FieldError> {
    Ok(Stamp::new(now(offset_minutes)?, zone, OsRng.next_u32()))
}

/// Fills `buf` from the OS RNG (CEKs and IVs of the JWE).
pub fn random_bytes(buf: &mut [u8]) {
    OsRng.fill_bytes(buf);
}

/// A fresh, unique `sequenceId`: `KP` + the UTC time `yyyyMMddHHmmssSSS` + 8 random hex
/// digits (27 characters, within the 1..=30 limit). Keep it: it is the key of the result
/// inquiry.
pub fn mint_sequence_id() -> SequenceId {
    let t = now(0).unwrap_or_else(|_| {
        Timestamp::new(2000, 1, 1, 0, 0, 0, 0).unwrap_or_else(|_| unreachable!("valid"))
    });
    let mut d = [0u8; 17];
    t.write_17(&mut d);
    let s = format!("KP{}{:08x}", String::from_utf8_lossy(&d), OsRng.next_u32());
    SequenceId::new(&s).unwrap_or_else(|_| unreachable!("27 ASCII alphanumerics"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flow_clock_follows_the_monotonic_clock_not_the_wall() {
        // a base far from the wall clock (as after a step): the clock keeps to it
        let base = 1_000_000;
        let clock = FlowClock::new(base);
        let mut last = clock.now();
        assert!((base..base + 1_000).contains(&last), "{last}");
        for _ in 0..50 {
            std::thread::sleep(std::time::Duration::from_millis(1));
            let t = clock.now();
            assert!(t >= last, "went back: {last} then {t}");
            last = t;
        }
        assert!(last >= base + 50, "50 naps of 1 ms: {}", last - base);
        assert!(last < base + 60_000, "it read the wall clock: {last}");
    }

    #[test]
    fn a_clock_from_the_wall_starts_at_the_wall_clock() {
        let wall = unix_millis();
        let clock = FlowClock::from_wall();
        let t = clock.now();
        assert!(t >= wall && t <= unix_millis() + 1_000, "{t} vs {wall}");
        assert!(clock.now() >= t);
    }
}
