//! Every capacity the SDK chooses, in one place. (The API's own field limits — 16-digit
//! token, 1..=30-character sequenceId — live with their types in [`crate::field`].)

/// Most header lines a response head may have.
pub const MAX_RESPONSE_HEADERS: usize = 32;
/// Deepest JSON nesting read (unknown fields included): bounds the work and keeps the stack
/// fixed on a microcontroller.
pub const MAX_JSON_DEPTH: usize = 32;
/// Bytes of UTF-8 kept of `response.description` (85 Hangul syllables or 256 ASCII
/// characters); a longer description is a decode error naming the field, never truncated.
pub const DESCRIPTION_CAPACITY: usize = 256;
/// Bytes kept of a result code (`NNN_NNN` is 7; unknown codes are kept verbatim).
pub const CODE_CAPACITY: usize = 32;
/// Items a list field (`parInfoList`) holds; more are an error, never truncated.
pub const MAX_LIST_ITEMS: usize = 16;
/// Scratch for decoding an escaped ASCII field value (the longest field is 50 bytes).
pub const ASCII_SCRATCH: usize = 64;
/// Largest wrapped content key of a JWE (RSA-4096).
pub const MAX_WRAPPED_KEY: usize = 512;
/// Largest JWE protected header accepted, base64url.
pub const MAX_JWE_HEADER: usize = 512;
/// A buffer that fits every covered request and response in plaintext (the largest is a
/// full auto-recharge list, about 1.7 KiB with its head).
pub const BUFFER_PLAIN: usize = 2048;
/// A buffer that fits every covered request and response with JWE encryption (an RSA-2048
/// key wrap adds 342 characters; base64url adds a third).
pub const BUFFER_ENCRYPTED: usize = 4096;
