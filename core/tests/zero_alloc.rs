//! Proof of zero heap allocation: a counting global allocator, armed only on this test's
//! thread, while every endpoint is encoded (plain or JWE) and decoded (plain or JWE).
//! (The counting allocator needs `unsafe impl GlobalAlloc`; the library itself is
//! `#![forbid(unsafe_code)]`.)
#![allow(unsafe_code)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicUsize, Ordering};

use konaplate_core::jwe::{KeyWrapError, seal_in_place};

use konaplate_core::prelude::*;
use konaplate_core::{api::*, code::*, field::*};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
thread_local!(static ARMED: Cell<bool> = const { Cell::new(false) });

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if ARMED.with(|a| a.get()) {
            ALLOCS.fetch_add(1, Ordering::SeqCst);
        }
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        if ARMED.with(|a| a.get()) {
            ALLOCS.fetch_add(1, Ordering::SeqCst);
        }
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Counts allocations made by `f` on this thread.
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCS.load(Ordering::SeqCst);
    ARMED.with(|a| a.set(true));
    f();
    ARMED.with(|a| a.set(false));
    ALLOCS.load(Ordering::SeqCst) - before
}

struct Pad;
impl KeyWrap for Pad {
    fn wrap_key(&mut self, cek: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        out[..256].fill(0);
        out[..cek.len()].copy_from_slice(cek);
        Ok(256)
    }
}
impl KeyUnwrap for Pad {
    fn unwrap_key(&mut self, wrapped: &[u8], out: &mut [u8]) -> Result<usize, KeyWrapError> {
        out[..16].copy_from_slice(&wrapped[..16]);
        Ok(16)
    }
}

/// One whole exchange of `req` through a call: encodes it (JWE when its endpoint is
/// Encrypted: the core decides), writes it, then answers `body` (sealed when `encrypt`) in a
/// chunked response and decodes it.
fn round<R: Request>(
    session: &Session,
    s: &Stamp,
    req: &R,
    body: &<R::Endpoint as Endpoint>::Response,
    encrypt: bool,
) where
    ReplyOf<R::Endpoint>: AnyReply,
{
    let mut buf = [0u8; 4096];
    let keys = || Keys {
        wrap: Pad,
        unwrap: Pad,
        cek: [7; 16],
        iv: [9; 12],
    };
    let mut call = Call::new(session, s, req, keys(), &mut buf).unwrap();
    let n = call.outgoing(&buf).len();
    assert!(n > 0);
    call.sent(&mut buf, n).unwrap();

    let head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    let mut b = [0u8; 3000];
    let mut n =
        konaplate_core::message::encode_reply("000_000", "성공 \\u", Some(body), &mut b).unwrap();
    if encrypt {
        n = seal_in_place(&mut b, n, &mut Pad, &[3; 16], &[4; 12]).unwrap();
    }
    // chunked framing by hand, without allocating
    let mut resp = [0u8; 3100];
    let mut len = 0;
    let mut put = |x: &[u8]| {
        resp[len..len + x.len()].copy_from_slice(x);
        len += x.len();
    };
    put(head);
    let mut hex = [0u8; 8];
    let h = {
        let mut v = n;
        let mut i = hex.len();
        loop {
            i -= 1;
            hex[i] = b"0123456789abcdef"[v % 16];
            v /= 16;
            if v == 0 {
                break;
            }
        }
        &hex[i..]
    };
    put(h);
    put(b"\r\n");
    put(&b[..n]);
    put(b"\r\n0\r\n\r\n");
    for piece in resp[..len].chunks(64) {
        call.incoming(&mut buf).unwrap()[..piece.len()].copy_from_slice(piece);
        call.received(&mut buf, piece.len()).unwrap();
    }
    let mut reply = ReplyOf::<R::Endpoint>::empty();
    let a = call.finish(&mut buf, keys(), &mut reply).unwrap();
    assert_eq!(a.encrypted, encrypt);
    assert_eq!(reply.body.as_ref(), Some(body));
}

#[test]
fn every_endpoint_encodes_and_decodes_without_allocating() {
    // fixtures are built before arming
    let creds = Credentials::new(
        AspId::new("100000000000001").unwrap(),
        AccessKey::new("abcdefg-0123456789abcdef0123456789abcdef").unwrap(),
        &SecretKey::new("kona-sandbox-secret-0001").unwrap(),
        Some(CryptoKeyId::new("0123456789abcdef0123456789abcdef").unwrap()),
    );
    let session = Session::new(
        creds,
        Target::new(Host::parse("sandbox.konaplate.com").unwrap()),
    );
    let stamp = Stamp::new(
        Timestamp::new(2026, 11, 23, 10, 0, 0, 1).unwrap(),
        TimeZone::KST,
        5,
    );
    let seq = SequenceId::new("MNR000000001CR").unwrap();
    let user = UserId::new(50_000_104_652).unwrap();
    let tok = OneTimeToken::new("9461442187322710").unwrap();
    let dcvv = Dcvv::new("366").unwrap();
    let par = Par::new("Q1ABCDEF0123456789ABCDEF012").unwrap();
    let nr = NrNumber::new("KMN221114031773543").unwrap();
    let token_req = TokenRequest {
        card_no: CardNo::new("9410123456789012").unwrap(),
        token_type: Some(TokenType::Atm),
    };
    let charge = ChargeRequest {
        sequence_id: seq,
        user_id: user,
        amount: ChargeAmount::new(10_000).unwrap(),
        one_time_token: tok.clone(),
        dcvv: dcvv.clone(),
        merchant_id: MerchantId::new("100000000000123").unwrap(),
    };
    let cancel = CancelRequest {
        sequence_id: seq,
        user_id: user,
        nr_number: nr,
        one_time_token: tok.clone(),
        dcvv: dcvv.clone(),
        card_expiry: Some(CardExpiry::new("3108").unwrap()),
    };
    let result = ChargeResultRequest { sequence_id: seq };
    let fee = RefundFeeRequest {
        one_time_token: tok.clone(),
        user_id: user,
    };
    let refund = RefundRequest {
        sequence_id: seq,
        user_id: user,
        card_expiry: CardExpiry::new("3108").unwrap(),
        dcvv: dcvv.clone(),
        one_time_token: tok.clone(),
    };
    let register = AutoRechargeRegisterRequest { user_id: user, par };
    let list = AutoRechargeListRequest { user_id: user };

    let token_res = TokenResponse {
        one_time_token: tok.clone(),
        dcvv: dcvv.clone(),
        expiry_time: Some(1_700_000_000_000),
    };
    let charge_res = ChargeResponse {
        nr_number: nr,
        is_pending: false,
    };
    let cancel_res = CancelResponse { is_pending: true };
    let result_res = ChargeResultResponse {
        result: ChargeResult::Completed,
        nr_number: Some(nr),
    };
    let w = Won::new(1000).unwrap();
    let p = Percent1::from_tenths(15, "x").unwrap();
    let fee_res = RefundFeeResponse {
        par,
        refund_fee_rate: p,
        balance: w,
        refund_check_balance: w,
        discount_amount: w,
        refund_fee: w,
        refund_amount: w,
        expired_fee: w,
        refundable: true,
        refund_threshold_balance: w,
        refund_threshold_ratio: p,
        current_balance_ratio: p,
        last_loaded_balance: w,
    };
    let refund_res = RefundResponse {
        nr_number: RefundNrNumber::new("KMN221114031773543").unwrap(),
    };
    let mut items = heapless::Vec::new();
    items
        .push(ParInfo {
            par,
            registered_date: DateTime14::new("20261123195406").unwrap(),
        })
        .unwrap();
    let list_res = AutoRechargeListResponse {
        par_info_list: items,
    };

    let n = allocations(|| {
        round(&session, &stamp, &token_req, &token_res, true);
        round(&session, &stamp, &charge, &charge_res, false);
        round(&session, &stamp, &cancel, &cancel_res, true);
        round(&session, &stamp, &result, &result_res, false);
        round(&session, &stamp, &fee, &fee_res, false);
        round(&session, &stamp, &refund, &refund_res, false);
        round(&session, &stamp, &register, &Empty {}, false);
        round(&session, &stamp, &list, &list_res, false);

        // error paths allocate nothing either
        assert!(Dcvv::new("12").is_err());
        assert!(
            konaplate_core::message::decode_reply::<ChargeResponse, ChargeCode>(
                b"{\"x\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]}"
            )
            .is_err()
        );
    });
    assert_eq!(n, 0, "heap allocations in the core");

    // the counter works (the check above could fail)
    assert!(allocations(|| drop(vec![1u8; 10])) > 0);
}
