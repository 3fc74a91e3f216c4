//! Every response decoder and every request decoder on arbitrary bodies: never panics, and a
//! decoded reply re-encodes to a body that decodes to the same reply.
#![no_main]

use konaplate_core::code::ResultCode;
use konaplate_core::message::{
    Message, decode_message, decode_reply, encode_message, encode_reply,
};
use konaplate_core::{api::*, code::*};
use libfuzzer_sys::fuzz_target;

fn response<R: Message, C: ResultCode>(data: &[u8]) {
    if let Ok(reply) = decode_reply::<R, C>(data) {
        let mut buf = vec![0u8; data.len() * 2 + 512];
        let n = encode_reply(
            reply.code.as_str(),
            reply.description.as_str(),
            reply.body.as_ref(),
            &mut buf,
        )
        .unwrap();
        match decode_reply::<R, C>(&buf[..n]) {
            Ok(again) => assert_eq!(again, reply),
            Err(e) => panic!("re-encoded reply does not decode: {e:?}"),
        }
    }
}

fn request<M: Message>(data: &[u8]) {
    if let Ok(m) = decode_message::<M>(data) {
        let mut buf = vec![0u8; data.len() * 2 + 512];
        let n = encode_message(&m, &mut buf).unwrap();
        assert_eq!(decode_message::<M>(&buf[..n]).unwrap(), m);
    }
}

fuzz_target!(|data: &[u8]| {
    response::<TokenResponse, TokenCode>(data);
    response::<ChargeResponse, ChargeCode>(data);
    response::<CancelResponse, CancelCode>(data);
    response::<ChargeResultResponse, ChargeResultCode>(data);
    response::<RefundFeeResponse, RefundFeeCode>(data);
    response::<RefundResponse, RefundCode>(data);
    response::<Empty, AutoRechargeRegisterCode>(data);
    response::<AutoRechargeListResponse, AutoRechargeListCode>(data);
    request::<TokenRequest>(data);
    request::<ChargeRequest>(data);
    request::<CancelRequest>(data);
    request::<ChargeResultRequest>(data);
    request::<RefundFeeRequest>(data);
    request::<RefundRequest>(data);
    request::<AutoRechargeRegisterRequest>(data);
    request::<AutoRechargeListRequest>(data);
});
