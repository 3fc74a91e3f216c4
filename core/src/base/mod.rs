//! The leaves of the core: helpers that depend on nothing else in the crate.

pub mod ascii;
pub mod base64;
pub mod der;
pub mod describe;
pub mod limits;
pub mod utf8;
