//! The size of every C array, each tied to the core's limit for its value by a compile-time
//! assertion: a string array holds the longest valid value and its NUL, and no more.

use konaplate_core::field::{
    CardExpiry, CardNo, CorrelationId, DateTime14, Dcvv, MerchantId, NrNumber, OneTimeToken, Par,
    RefundNrNumber, SequenceId, TimeZone,
};
use konaplate_core::limits;

/// Bytes of a C array holding `sequenceId` (1 to 30 characters), its NUL included.
pub const KONAPLATE_SEQUENCE_ID_SIZE: usize = 31;
/// Bytes of a C array holding `oneTimeToken` (16 digits), its NUL included.
pub const KONAPLATE_TOKEN_SIZE: usize = 17;
/// Bytes of a C array holding `dcvv` (3 digits), its NUL included.
pub const KONAPLATE_DCVV_SIZE: usize = 4;
/// Bytes of a C array holding `merchantId` (15 digits), its NUL included.
pub const KONAPLATE_MERCHANT_ID_SIZE: usize = 16;
/// Bytes of a C array holding a charge's `nrNumber` (1 to 50 characters), its NUL included.
pub const KONAPLATE_NR_NUMBER_SIZE: usize = 51;
/// Bytes of a C array holding a refund's `nrNumber` (18 characters), its NUL included.
pub const KONAPLATE_REFUND_NR_NUMBER_SIZE: usize = 19;
/// Bytes of a C array holding `cardExpiry` (`YYMM`), its NUL included.
pub const KONAPLATE_CARD_EXPIRY_SIZE: usize = 5;
/// Bytes of a C array holding `cardNo` (16 digits), its NUL included.
pub const KONAPLATE_CARD_NO_SIZE: usize = 17;
/// Bytes of a C array holding `par` (27 characters), its NUL included.
pub const KONAPLATE_PAR_SIZE: usize = 28;
/// Bytes of a C array holding `registeredDate` (`yyyyMMddHHmmss`), its NUL included.
pub const KONAPLATE_DATE_TIME_SIZE: usize = 15;
/// Bytes of a C array holding `response.code` (up to 32 bytes), its NUL included.
pub const KONAPLATE_CODE_SIZE: usize = 33;
/// Bytes of a C array holding `response.description` (up to 256 bytes of UTF-8), its NUL included.
pub const KONAPLATE_DESCRIPTION_SIZE: usize = 257;
/// Bytes of a C array holding `X-KM-Correlation-Id` (20 characters), its NUL included.
pub const KONAPLATE_CORRELATION_ID_SIZE: usize = 21;
/// Bytes of a C array holding `X-KM-Time-Zone` (3 letters), its NUL included.
pub const KONAPLATE_TIME_ZONE_SIZE: usize = 4;

/// Most plans a list answer holds (the core's limit: more is a decode error, never cut).
pub const KONAPLATE_MAX_LIST_ITEMS: usize = 16;

// every C array is as large as the core's limit for its value, and no larger
const _: () = {
    assert!(KONAPLATE_SEQUENCE_ID_SIZE == SequenceId::MAX_LEN + 1);
    assert!(KONAPLATE_TOKEN_SIZE == OneTimeToken::LEN + 1);
    assert!(KONAPLATE_DCVV_SIZE == Dcvv::LEN + 1);
    assert!(KONAPLATE_MERCHANT_ID_SIZE == MerchantId::LEN + 1);
    assert!(KONAPLATE_NR_NUMBER_SIZE == NrNumber::MAX_LEN + 1);
    assert!(KONAPLATE_REFUND_NR_NUMBER_SIZE == RefundNrNumber::LEN + 1);
    assert!(KONAPLATE_CARD_EXPIRY_SIZE == CardExpiry::LEN + 1);
    assert!(KONAPLATE_CARD_NO_SIZE == CardNo::LEN + 1);
    assert!(KONAPLATE_PAR_SIZE == Par::LEN + 1);
    assert!(KONAPLATE_DATE_TIME_SIZE == DateTime14::LEN + 1);
    assert!(KONAPLATE_CODE_SIZE == limits::CODE_CAPACITY + 1);
    assert!(KONAPLATE_DESCRIPTION_SIZE == limits::DESCRIPTION_CAPACITY + 1);
    assert!(KONAPLATE_CORRELATION_ID_SIZE == CorrelationId::LEN + 1);
    assert!(KONAPLATE_TIME_ZONE_SIZE == TimeZone::LEN + 1);
    assert!(KONAPLATE_MAX_LIST_ITEMS == limits::MAX_LIST_ITEMS);
};
