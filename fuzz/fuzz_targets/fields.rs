//! Every field validator: never panics; an accepted value round-trips and re-validates; a
//! rejection names the field's API name.
#![no_main]

use konaplate_core::field::*;
use libfuzzer_sys::fuzz_target;

macro_rules! text_fields {
    ($s:expr; $($t:ty => $get:ident),*) => {$(
        match <$t>::new($s) {
            Ok(v) => {
                assert_eq!(v.$get(), $s);
                assert!(<$t>::new(v.$get()).is_ok());
                assert!($s.is_ascii());
            }
            Err(e) => assert_eq!(e.field(), <$t>::API_NAME),
        }
    )*};
}

macro_rules! number_fields {
    ($n:expr, $s:expr; $($t:ty),*) => {$(
        match <$t>::new($n) {
            Ok(v) => assert!(v.get() >= <$t>::MIN && v.get() <= <$t>::MAX),
            Err(_) => assert!($n < <$t>::MIN || $n > <$t>::MAX),
        }
        if let Ok(v) = <$t>::parse($s) {
            assert_eq!(<$t>::parse(&v.to_string()), Ok(v));
        }
    )*};
}

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = core::str::from_utf8(data) {
        text_fields!(s;
            SequenceId => as_str, NrNumber => as_str, RefundNrNumber => as_str, Par => as_str,
            CardExpiry => as_str, MerchantId => as_str, AspId => as_str, AccessKey => expose,
            CryptoKeyId => as_str, TimeZone => as_str, CorrelationId => as_str, TranTime => as_str,
            DateTime14 => as_str, Host => as_str, BasePath => as_str,
            OneTimeToken => expose, Dcvv => expose, CardNo => expose);
        let _ = SecretKey::new(s).map(|k| assert_eq!(k.expose(), s.as_bytes()));
        let _ = TokenType::new(s).map(|t| assert_eq!(t.as_str(), s));
        let _ = ChargeResult::new(s).map(|t| assert_eq!(t.as_str(), s));
        let _ = konaplate_core::sign::TranToken::new(s).map(|t| assert_eq!(t.as_str(), s));
        let n = data
            .iter()
            .fold(0u64, |a, &b| a.wrapping_mul(31).wrapping_add(u64::from(b)));
        number_fields!(n, s; UserId, ChargeAmount, Won);
    }
    // calendar times and the Correlation-Id generated from them
    if data.len() >= 13 {
        let d = data;
        let year = u16::from_le_bytes([d[0], d[1]]);
        if let Ok(t) = Timestamp::new(
            year,
            d[2],
            d[3],
            d[4],
            d[5],
            d[6],
            u16::from_le_bytes([d[7], d[8]]),
        ) {
            let random = u32::from_le_bytes([d[9], d[10], d[11], d[12]]);
            let c = CorrelationId::generate(&t, random);
            assert!(CorrelationId::new(c.as_str()).is_ok() || t.year() >= 2100);
            assert!(TranTime::new(t.tran_time().as_str()).is_ok());
            let back = Timestamp::from_unix_millis(t.unix_millis(), 0).ok();
            assert_eq!(back, Some(t));
        }
    }
});
