//! The system clock rendered in a platform time zone, OS randomness, and sequenceId minting.

use std::time::{SystemTime, UNIX_EPOCH};

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
