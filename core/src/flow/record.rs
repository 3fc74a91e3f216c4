//! The journal record: one money-moving call's durable state in [`JournalRecord::LEN`] bytes
//! with a CRC-32, written before every send and at every transition.
//!
//! Records carry no secret: never the one-time token, the DCVV or a key.

use crate::base::describe::{Describe, Sink, display_by_describe};

use crate::code::RawCode;
use crate::field::{
    ChargeAmount, ChargeResult, FieldError, MerchantId, NrNumber, SequenceId, UserId,
};
use crate::message::Description;

use super::{Answer, Essentials, Operation, State};

/// A journal entry: operation, sequenceId, request essentials, state, what the platform said,
/// times, checksum. Serialized as exactly [`JournalRecord::LEN`] bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct JournalRecord {
    /// The operation.
    pub op: Operation,
    /// Its state.
    pub state: State,
    /// Its sequenceId (the journal's key).
    pub sequence_id: SequenceId,
    /// The request essentials (no secrets).
    pub essentials: Essentials,
    /// Times the request was handed to the transport.
    pub sends: u8,
    /// When the call was created (driver clock, Unix milliseconds for the std driver).
    pub created_ms: u64,
    /// When this record was made.
    pub updated_ms: u64,
    /// From this time on the request can no longer be accepted by the platform: its one-time
    /// token has expired and the commit grace has passed (see [`super::Policy`]). Before it,
    /// "previous transaction not found" means "not yet", not "never".
    pub accept_until_ms: u64,
    /// Some send may have reached the platform.
    pub maybe_arrived: bool,
    /// The platform acknowledged the transaction (`isPending`, or the inquiry said `PENDING`).
    pub acknowledged: bool,
    /// `answer` holds a decline of a re-send, which only counts once the inquiry confirms
    /// that nothing completed.
    pub held_decline: bool,
    /// Closed by an operator; `answer.description` is the operator's note.
    pub operator: bool,
    /// What the platform said (the answer that decided the outcome, or the latest one).
    pub answer: Answer,
}

/// Why a journal record could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum RecordError {
    /// Fewer bytes than a record (a torn write at the end of the journal).
    Short,
    /// Not a record (magic or version).
    Magic,
    /// The CRC-32 does not match (corruption or a torn write).
    Checksum,
    /// A field is out of range.
    Field(FieldError),
}

impl Describe for RecordError {
    fn describe(&self, out: &mut dyn Sink) {
        match self {
            RecordError::Short => out.put("journal record truncated"),
            RecordError::Magic => out.put("not a journal record"),
            RecordError::Checksum => out.put("journal record checksum mismatch"),
            RecordError::Field(e) => {
                out.put("journal record: ");
                e.describe(out);
            }
        }
    }
}

display_by_describe!(RecordError);

impl core::error::Error for RecordError {}

/// Magic of the current record format.
pub(crate) const MAGIC: &[u8; 4] = b"KPJ2";
/// Magic of the first format (256 bytes), still read.
pub(crate) const MAGIC_V1: &[u8; 4] = b"KPJ1";
/// Size of a first-format record.
pub(crate) const LEN_V1: usize = 256;

/// The record size announced by a magic, if it is one.
pub(crate) fn len_of_magic(magic: &[u8]) -> Option<usize> {
    if magic == MAGIC {
        Some(JournalRecord::LEN)
    } else if magic == MAGIC_V1 {
        Some(LEN_V1)
    } else {
        None
    }
}

/// CRC-32 (IEEE 802.3, reflected, as zlib's `crc32`).
pub(crate) fn crc32(data: &[u8]) -> u32 {
    Crc32::new().update(data).finish()
}

/// CRC-32 (IEEE 802.3, reflected, as zlib's `crc32`) over several pieces: the checksum of a
/// journal record, and of the frames a journal on flash keeps records in.
///
/// ```
/// use konaplate_core::flow::Crc32;
/// assert_eq!(Crc32::new().update(b"1234").update(b"56789").finish(), 0xCBF4_3926);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Crc32(u32);

impl Crc32 {
    /// An empty checksum.
    pub const fn new() -> Self {
        Self(0xFFFF_FFFF)
    }
    /// Adds `data`.
    #[must_use]
    pub fn update(mut self, data: &[u8]) -> Self {
        for &b in data {
            self.0 ^= u32::from(b);
            for _ in 0..8 {
                let mask = (self.0 & 1).wrapping_neg();
                self.0 = (self.0 >> 1) ^ (0xEDB8_8320 & mask);
            }
        }
        self
    }
    /// The checksum of everything added.
    pub const fn finish(self) -> u32 {
        !self.0
    }
}

impl Default for Crc32 {
    fn default() -> Self {
        Self::new()
    }
}

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(at..at + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

fn get(buf: &[u8], at: usize, len: usize) -> &[u8] {
    buf.get(at..at + len).unwrap_or(&[])
}

fn get_u64(buf: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(buf.get(at..at + 8).unwrap_or(&[0; 8]));
    u64::from_le_bytes(b)
}

fn byte(buf: &[u8], at: usize) -> u8 {
    buf.get(at).copied().unwrap_or(0)
}

fn bad(field: &'static str, limit: &'static str) -> RecordError {
    RecordError::Field(FieldError::new(field, limit))
}

/// A length-prefixed ASCII field.
fn get_prefixed(b: &[u8], len_at: usize, max: usize) -> Option<&[u8]> {
    let n = usize::from(byte(b, len_at));
    if n > max {
        return None;
    }
    b.get(len_at + 1..len_at + 1 + n)
}

fn get_nr(b: &[u8], len_at: usize, field: &'static str) -> Result<Option<NrNumber>, RecordError> {
    match get_prefixed(b, len_at, NrNumber::MAX_LEN) {
        None => Err(bad(field, "1 to 50")),
        Some([]) => Ok(None),
        Some(s) => NrNumber::from_bytes(s)
            .map(Some)
            .map_err(RecordError::Field),
    }
}

fn get_code(b: &[u8], len_at: usize) -> Result<RawCode, RecordError> {
    let raw = get_prefixed(b, len_at, 32).ok_or(bad(RawCode::API_NAME, RawCode::LIMIT))?;
    let s = core::str::from_utf8(raw).map_err(|_| bad(RawCode::API_NAME, "UTF-8"))?;
    RawCode::new(s).map_err(RecordError::Field)
}

fn check_crc(b: &[u8], len: usize) -> Result<(), RecordError> {
    let mut crc = [0u8; 4];
    crc.copy_from_slice(b.get(len - 4..len).unwrap_or(&[0; 4]));
    if crc32(get(b, 0, len - 4)) == u32::from_le_bytes(crc) {
        Ok(())
    } else {
        Err(RecordError::Checksum)
    }
}

// Layout of the current format (little-endian integers, length-prefixed strings):
const AT_FLAGS: usize = 7;
const AT_SEQ: usize = 8; // len + 30
const AT_USER: usize = 39;
const AT_AMOUNT: usize = 47;
const AT_MERCHANT: usize = 55; // flag + 15
const AT_TARGET_NR: usize = 71; // len + 50
const AT_CREATED: usize = 122;
const AT_UPDATED: usize = 130;
const AT_ACCEPT_UNTIL: usize = 138;
const AT_NR: usize = 146; // len + 50
const AT_PENDING: usize = 197;
const AT_RESULT: usize = 198;
const AT_CODE: usize = 199; // len + 32
const AT_DESC: usize = 232; // u16 len + 256
const AT_CRC: usize = 508;

const F_MAYBE_ARRIVED: u8 = 1;
const F_ACKNOWLEDGED: u8 = 2;
const F_HELD_DECLINE: u8 = 4;
const F_OPERATOR: u8 = 8;
const F_HAS_CODE: u8 = 16;

impl JournalRecord {
    /// Serialized size.
    pub const LEN: usize = 512;

    /// Serializes (little-endian integers, length-prefixed strings, CRC-32 at the end).
    ///
    /// Layout: `0..4` magic `KPJ2`, `4` op, `5` state, `6` sends, `7` flags (1 maybe
    /// arrived, 2 acknowledged, 4 held decline, 8 operator, 16 has code), `8` sequenceId
    /// length, `9..39` sequenceId, `39..47` userId, `47..55` amount (0 = none), `55` merchant
    /// present, `56..71` merchantId, `71` target nrNumber length, `72..122` target nrNumber,
    /// `122..130` created, `130..138` updated, `138..146` accept-until, `146` learned nrNumber
    /// length, `147..197` learned nrNumber, `197` isPending (0 none, 1 false, 2 true), `198`
    /// result (0 none, 1 COMPLETED, 2 FAILED, 3 PENDING), `199` code length, `200..232`
    /// code, `232..234` description length, `234..490` description (UTF-8), `490..508` zero,
    /// `508..512` CRC-32 of bytes `0..508`.
    pub fn encode(&self) -> [u8; Self::LEN] {
        let mut b = [0u8; Self::LEN];
        put(&mut b, 0, MAGIC);
        let mut flags = 0;
        for (on, bit) in [
            (self.maybe_arrived, F_MAYBE_ARRIVED),
            (self.acknowledged, F_ACKNOWLEDGED),
            (self.held_decline, F_HELD_DECLINE),
            (self.operator, F_OPERATOR),
            (self.answer.code.is_some(), F_HAS_CODE),
        ] {
            if on {
                flags |= bit;
            }
        }
        put(
            &mut b,
            4,
            &[self.op as u8, self.state as u8, self.sends, flags],
        );
        let seq = self.sequence_id.as_bytes();
        put(&mut b, AT_SEQ, &[seq.len() as u8]);
        put(&mut b, AT_SEQ + 1, seq);
        let e = &self.essentials;
        put(&mut b, AT_USER, &e.user_id.get().to_le_bytes());
        put(
            &mut b,
            AT_AMOUNT,
            &e.amount.map_or(0, ChargeAmount::get).to_le_bytes(),
        );
        if let Some(m) = &e.merchant_id {
            put(&mut b, AT_MERCHANT, &[1]);
            put(&mut b, AT_MERCHANT + 1, m.as_bytes());
        }
        for (at, nr) in [
            (AT_TARGET_NR, &e.nr_number),
            (AT_NR, &self.answer.nr_number),
        ] {
            if let Some(nr) = nr {
                put(&mut b, at, &[nr.as_bytes().len() as u8]);
                put(&mut b, at + 1, nr.as_bytes());
            }
        }
        put(&mut b, AT_CREATED, &self.created_ms.to_le_bytes());
        put(&mut b, AT_UPDATED, &self.updated_ms.to_le_bytes());
        put(&mut b, AT_ACCEPT_UNTIL, &self.accept_until_ms.to_le_bytes());
        let pending = match self.answer.is_pending {
            None => 0,
            Some(false) => 1,
            Some(true) => 2,
        };
        let result = match self.answer.result {
            None => 0,
            Some(ChargeResult::Completed) => 1,
            Some(ChargeResult::Failed) => 2,
            Some(ChargeResult::Pending) => 3,
        };
        put(&mut b, AT_PENDING, &[pending, result]);
        if let Some(c) = &self.answer.code {
            put(&mut b, AT_CODE, &[c.as_str().len() as u8]);
            put(&mut b, AT_CODE + 1, c.as_str().as_bytes());
        }
        let d = self.answer.description.as_str().as_bytes();
        put(&mut b, AT_DESC, &(d.len() as u16).to_le_bytes());
        put(&mut b, AT_DESC + 2, d);
        let crc = crc32(get(&b, 0, AT_CRC));
        put(&mut b, AT_CRC, &crc.to_le_bytes());
        b
    }

    /// Parses and checks a record (this format or the first, 256-byte one); never panics on
    /// any input. `bytes` may be longer than the record.
    pub fn decode(bytes: &[u8]) -> Result<Self, RecordError> {
        if bytes.get(..4) == Some(MAGIC_V1.as_slice()) {
            let b = bytes.get(..LEN_V1).ok_or(RecordError::Short)?;
            check_crc(b, LEN_V1)?;
            return decode_v1(b);
        }
        Self::decode_current(bytes)
    }

    /// [`JournalRecord::decode`] for this format only: a store that has only ever held this
    /// version's records (a till's flash journal) links no reader of the first one. A
    /// first-format record is [`RecordError::Magic`].
    pub fn decode_current(bytes: &[u8]) -> Result<Self, RecordError> {
        Self::decode_current_as(bytes)
    }

    /// [`JournalRecord::decode_current`] into a result of the caller's error type (any
    /// `From<RecordError>`): the record is built in place in that result, not moved into it
    /// out of another (on a till, a move of 520 bytes that costs more code than the checks).
    pub fn decode_current_as<E: From<RecordError>>(bytes: &[u8]) -> Result<Self, E> {
        let magic = bytes.get(..4).ok_or(RecordError::Short)?;
        if magic != MAGIC.as_slice() {
            return Err(RecordError::Magic.into());
        }
        let b = bytes.get(..Self::LEN).ok_or(RecordError::Short)?;
        check_crc(b, Self::LEN)?;
        let op = Operation::from_u8(byte(b, 4)).ok_or(bad("operation", "1, 2 or 3"))?;
        let state = State::from_u8(byte(b, 5)).ok_or(bad("state", "a known state"))?;
        let flags = byte(b, AT_FLAGS);
        let sequence_id = SequenceId::from_bytes(
            get_prefixed(b, AT_SEQ, SequenceId::MAX_LEN).ok_or(bad("sequenceId", "1 to 30"))?,
        )
        .map_err(RecordError::Field)?;
        let essentials = Essentials {
            user_id: UserId::new(get_u64(b, AT_USER)).map_err(RecordError::Field)?,
            amount: match get_u64(b, AT_AMOUNT) {
                0 => None,
                v => Some(ChargeAmount::new(v).map_err(RecordError::Field)?),
            },
            merchant_id: match byte(b, AT_MERCHANT) {
                0 => None,
                _ => Some(
                    MerchantId::from_bytes(get(b, AT_MERCHANT + 1, 15))
                        .map_err(RecordError::Field)?,
                ),
            },
            nr_number: get_nr(b, AT_TARGET_NR, "nrNumber")?,
        };
        let is_pending = match byte(b, AT_PENDING) {
            0 => None,
            1 => Some(false),
            2 => Some(true),
            _ => return Err(bad("isPending", "absent, false or true").into()),
        };
        let result = match byte(b, AT_RESULT) {
            0 => None,
            1 => Some(ChargeResult::Completed),
            2 => Some(ChargeResult::Failed),
            3 => Some(ChargeResult::Pending),
            _ => return Err(bad(ChargeResult::API_NAME, ChargeResult::LIMIT).into()),
        };
        let code = if flags & F_HAS_CODE != 0 {
            Some(get_code(b, AT_CODE)?)
        } else {
            None
        };
        let mut dl = [0u8; 2];
        dl.copy_from_slice(get(b, AT_DESC, 2));
        let desc_len = usize::from(u16::from_le_bytes(dl));
        let desc_raw = b
            .get(AT_DESC + 2..AT_DESC + 2 + desc_len)
            .filter(|_| desc_len <= Description::CAPACITY)
            .ok_or(bad(Description::API_NAME, Description::LIMIT))?;
        let desc_str =
            core::str::from_utf8(desc_raw).map_err(|_| bad(Description::API_NAME, "UTF-8"))?;
        Ok(Self {
            op,
            state,
            sequence_id,
            essentials,
            sends: byte(b, 6),
            created_ms: get_u64(b, AT_CREATED),
            updated_ms: get_u64(b, AT_UPDATED),
            accept_until_ms: get_u64(b, AT_ACCEPT_UNTIL),
            maybe_arrived: flags & F_MAYBE_ARRIVED != 0,
            acknowledged: flags & F_ACKNOWLEDGED != 0,
            held_decline: flags & F_HELD_DECLINE != 0,
            operator: flags & F_OPERATOR != 0,
            answer: Answer {
                code,
                description: Description::new(desc_str).map_err(RecordError::Field)?,
                nr_number: get_nr(b, AT_NR, "nrNumber")?,
                is_pending,
                result,
            },
        })
    }

    /// `true` when this record may follow `previous` (the latest record of the same
    /// sequenceId) in a journal: a final state is never replaced by a different one, and a
    /// sequenceId belongs to one operation.
    pub fn may_follow(&self, previous: &JournalRecord) -> bool {
        if previous.op != self.op {
            return false;
        }
        if previous.state.is_final() {
            return self.state == previous.state;
        }
        true
    }
}

/// The first format (`KPJ1`, 256 bytes): `4` op, `5` state, `6` sends, `7..38` sequenceId,
/// `38` userId, `46` amount, `54..70` merchant, `70..121` nrNumber (the cancelled charge's for
/// a cancellation, else the learned one), `121` created, `129` updated, `137..170` code.
fn decode_v1(b: &[u8]) -> Result<JournalRecord, RecordError> {
    let op = Operation::from_u8(byte(b, 4)).ok_or(bad("operation", "1, 2 or 3"))?;
    let state = match byte(b, 5) {
        // "still pending at the deadline" is pending
        14 => State::Pending,
        v => State::from_u8(v).ok_or(bad("state", "a known state"))?,
    };
    let sequence_id = SequenceId::from_bytes(
        get_prefixed(b, 7, SequenceId::MAX_LEN).ok_or(bad("sequenceId", "1 to 30"))?,
    )
    .map_err(RecordError::Field)?;
    let nr = get_nr(b, 70, "nrNumber")?;
    let (target, learned) = match op {
        Operation::Cancel => (nr, None),
        _ => (None, nr),
    };
    let code = match byte(b, 137) {
        0 => None,
        _ => Some(get_code(b, 137)?),
    };
    let created_ms = get_u64(b, 121);
    let defaults = super::Policy::default();
    Ok(JournalRecord {
        op,
        state,
        sequence_id,
        essentials: Essentials {
            user_id: UserId::new(get_u64(b, 38)).map_err(RecordError::Field)?,
            amount: match get_u64(b, 46) {
                0 => None,
                v => Some(ChargeAmount::new(v).map_err(RecordError::Field)?),
            },
            merchant_id: match byte(b, 54) {
                0 => None,
                _ => Some(MerchantId::from_bytes(get(b, 55, 15)).map_err(RecordError::Field)?),
            },
            nr_number: target,
        },
        sends: byte(b, 6),
        created_ms,
        updated_ms: get_u64(b, 129),
        accept_until_ms: created_ms
            .saturating_add(defaults.token_ttl_ms)
            .saturating_add(defaults.commit_grace_ms),
        maybe_arrived: state != State::Sending || byte(b, 6) > 0,
        acknowledged: state == State::Pending,
        held_decline: false,
        operator: false,
        answer: Answer {
            code,
            nr_number: learned,
            ..Answer::default()
        },
    })
}
