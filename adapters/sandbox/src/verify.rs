//! Verifying a request as the platform does: the seven X-KM headers, the Tran-Token HMAC over
//! the exact body, Tran-Time against the token and the clock, the Crypto-Key-Id.

use konaplate::clock;
use konaplate_core::field::*;
use konaplate_core::sign::TranToken;

use crate::http::RawRequest;
use crate::state::Shared;

/// Verifies the seven X-KM headers as the platform does; `Err` names the failing header.
pub(crate) fn verify_headers(
    shared: &Shared,
    req: &RawRequest,
    encrypted_request: bool,
) -> Result<(), &'static str> {
    let h = |name: &'static str| req.header(name).ok_or(name);
    if !req
        .header("Content-Type")
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"))
    {
        return Err("Content-Type");
    }
    let asp = AspId::new(h("X-KM-User-AspId")?).map_err(|_| "X-KM-User-AspId")?;
    if asp != shared.asp_id {
        return Err("X-KM-User-AspId");
    }
    CorrelationId::new(h("X-KM-Correlation-Id")?).map_err(|_| "X-KM-Correlation-Id")?;
    let key = AccessKey::new(h("X-KM-Access-Key")?).map_err(|_| "X-KM-Access-Key")?;
    if key != shared.access_key {
        return Err("X-KM-Access-Key");
    }
    let token = TranToken::new(h("X-KM-Tran-Token")?).map_err(|_| "X-KM-Tran-Token")?;
    if !shared.signer.verify(&token, &req.body) {
        return Err("X-KM-Tran-Token");
    }
    let time = TranTime::new(h("X-KM-Tran-Time")?).map_err(|_| "X-KM-Tran-Time")?;
    if !token.time_part().starts_with(time.as_str()) {
        return Err("X-KM-Tran-Time");
    }
    let zone = TimeZone::new(h("X-KM-Time-Zone")?).map_err(|_| "X-KM-Time-Zone")?;
    let offset = clock::zone_offset_minutes(&zone).ok_or("X-KM-Time-Zone")?;
    let now = clock::now(offset).map_err(|_| "X-KM-Tran-Time")?;
    let sent = Timestamp::new(
        time.as_str()[..4].parse().unwrap_or(0),
        time.as_str()[4..6].parse().unwrap_or(0),
        time.as_str()[6..8].parse().unwrap_or(0),
        time.as_str()[8..10].parse().unwrap_or(0),
        time.as_str()[10..12].parse().unwrap_or(0),
        time.as_str()[12..14].parse().unwrap_or(0),
        0,
    )
    .map_err(|_| "X-KM-Tran-Time")?;
    let skew = now.unix_millis().abs_diff(sent.unix_millis());
    if skew > shared.config.max_clock_skew.as_millis() as u64 {
        return Err("X-KM-Tran-Time");
    }
    match req.header("X-KM-Crypto-Key-Id") {
        Some(v) => {
            let id = CryptoKeyId::new(v).map_err(|_| "X-KM-Crypto-Key-Id")?;
            if id != shared.crypto_key_id {
                return Err("X-KM-Crypto-Key-Id");
            }
        }
        None if encrypted_request => return Err("X-KM-Crypto-Key-Id"),
        None => {}
    }
    Ok(())
}
