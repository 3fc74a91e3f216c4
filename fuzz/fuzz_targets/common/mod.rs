//! Scaffolding shared by the embedded-client targets: a scripted blocking stream, a toy key
//! wrap that lets the fuzzer reach AES-GCM, and the fixed session and stamp.

use std::convert::Infallible;

use konaplate_core::jwe::{KeyUnwrap, KeyWrap, KeyWrapError};
use konaplate_core::prelude::*;
use konaplate_core::{api::*, field::*};

/// Serves `input` at most `chunk` bytes per read and records what is written.
pub struct Script<'a> {
    pub input: &'a [u8],
    pub chunk: usize,
    pub written: Vec<u8>,
}
impl<'a> Script<'a> {
    pub fn new(input: &'a [u8], chunk: usize) -> Self {
        Script {
            input,
            chunk,
            written: Vec::new(),
        }
    }
}
impl embedded_io::ErrorType for Script<'_> {
    type Error = Infallible;
}
impl embedded_io::Read for Script<'_> {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, Infallible> {
        let n = self.input.len().min(self.chunk).min(buf.len());
        buf[..n].copy_from_slice(&self.input[..n]);
        self.input = &self.input[n..];
        Ok(n)
    }
}
impl embedded_io::Write for Script<'_> {
    fn write(&mut self, buf: &[u8]) -> Result<usize, Infallible> {
        let n = buf.len().min(self.chunk);
        self.written.extend_from_slice(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        Ok(())
    }
}

/// A stand-in for RSA-OAEP (too slow to fuzz): a 16- or 32-byte "wrapped key" is the key, so
/// the fuzzer reaches AES-GCM and the decoder behind it with keys it chooses.
pub struct Toy;
impl KeyWrap for Toy {
    fn wrap_key(&mut self, cek: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        let o = out.get_mut(..cek.len()).ok_or(KeyWrapError)?;
        o.copy_from_slice(cek);
        Ok(cek.len())
    }
}
impl KeyUnwrap for Toy {
    fn unwrap_key(&mut self, wrapped: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        match wrapped.len() {
            16 | 32 => {
                out[..wrapped.len()].copy_from_slice(wrapped);
                Ok(wrapped.len())
            }
            _ => Err(KeyWrapError),
        }
    }
}
pub fn toy() -> Keys<Toy, Toy> {
    Keys {
        wrap: Toy,
        unwrap: Toy,
        cek: [3; 16],
        iv: [4; 12],
    }
}

/// The sandbox credentials and a fixed stamp, so every run encodes the same request.
pub fn ctx() -> (Session, Stamp) {
    let creds = Credentials::new(
        AspId::new("100000000000001").unwrap(),
        AccessKey::new("SANDBOX-0123456789abcdef0123456789abcdef").unwrap(),
        &SecretKey::new("kona-sandbox-secret-0001").unwrap(),
        Some(CryptoKeyId::new("00000000000000000000000000c0ffee").unwrap()),
    );
    let target = Target::new(Host::parse("sandbox.konaplate.com").unwrap());
    let time = Timestamp::new(2026, 11, 23, 19, 54, 6, 123).unwrap();
    (
        Session::new(creds, target),
        Stamp::new(time, TimeZone::KST, 0x0abc_def0),
    )
}

// the fields the requests below share
pub fn user() -> UserId {
    UserId::new(50_000_100_001).unwrap()
}
pub fn ott() -> OneTimeToken {
    OneTimeToken::new("1234567890123456").unwrap()
}
pub fn seq() -> SequenceId {
    SequenceId::new("FUZZ-1").unwrap()
}

/// A valid charge (plain endpoint).
pub fn charge() -> ChargeRequest {
    ChargeRequest {
        sequence_id: seq(),
        user_id: user(),
        amount: ChargeAmount::new(1000).unwrap(),
        one_time_token: ott(),
        dcvv: Dcvv::new("123").unwrap(),
        merchant_id: MerchantId::new("100000000000101").unwrap(),
    }
}

/// A valid cancel of a charge (encrypted endpoint).
pub fn cancel() -> CancelRequest {
    CancelRequest {
        sequence_id: seq(),
        user_id: user(),
        nr_number: NrNumber::new("KMN221114031773543").unwrap(),
        one_time_token: ott(),
        dcvv: Dcvv::new("123").unwrap(),
        card_expiry: None,
    }
}
