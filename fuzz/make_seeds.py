#!/usr/bin/env python3
"""Writes the fuzz seed corpora (fuzz/seeds/<target>/) from the API documents' examples:
the envelope of every covered endpoint with the documented fields, result codes and Korean
descriptions, observed test-data values (core/docs/api-facts.md §6.3, §9), HTTP heads, a JWE shape, journal
records. Run from fuzz/: python3 make_seeds.py"""
import json, os, struct, zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds")

def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8"))

env = lambda code, desc: {"response": {"code": code, "description": desc}}
bodies = {
    "token": {**env("000_000", "Success"), "oneTimeToken": "9461442187322710", "dcvv": "366", "expiryTime": 1700000030000},
    "charge": {**env("000_000", "Success."), "nrNumber": "KMN221114031773543", "isPending": False},
    "charge_pending": {**env("000_000", "Success."), "nrNumber": "KMN221114031773543", "isPending": True},
    "charge_declined": env("007_004", "Withdraw failure from PG."),
    "cancel": {**env("000_000", "Success."), "isPending": False},
    "cancel_declined": env("007_030", "충전 취소가 불가능한 거래."),
    "result": {**env("000_000", "Success"), "result": "COMPLETED"},
    "result_not_found": env("007_009", "Previous transaction not found."),
    "fee": {**env("000_000", "Success"), "par": "Q1ABCDEF0123456789ABCDEF012", "refundFeeRate": 1.5, "balance": 50000,
            "refundCheckBalance": 50000, "discountAmount": 0, "refundFee": 750, "refundAmount": 49250, "expiredFee": 0,
            "refundable": True, "refundThresholdBalance": 1000000000, "refundThresholdRatio": 60.0,
            "currentBalanceRatio": 12.5, "lastLoadedBalance": 100000},
    "refund": {**env("000_000", "Success"), "nrNumber": "KMN221114031773543"},
    "refund_declined": env("009_002", "Refund amount over limit in month."),
    "register": env("000_000", "Success."),
    "register_declined": env("007_027", "User does not accept firm banking terms and conditions."),
    "list": {**env("000_000", "Success."), "parInfoList": [{"par": "Q1ABCDEF0123456789ABCDEF012", "registeredDate": "20261123195406"}]},
    "list_empty": {**env("000_000", "Success."), "parInfoList": []},
    "encrypted": {"encData": "eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMTI4R0NNIn0.AAAA.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA"},
}
requests = {
    "req_token": {"cardNo": "9410123456789012", "type": "ATM"},
    "req_charge": {"sequenceId": "202211149990015", "userId": 50000104652, "amount": 10000, "oneTimeToken": "9461442187322710", "dcvv": "366", "merchantId": "100000000000123"},
    "req_cancel": {"dcvv": "366", "userId": 50000104652, "nrNumber": "KMN221114031773543", "cardExpiry": "2509", "sequenceId": "202211149990015", "oneTimeToken": "9461442187322710"},
    "req_result": {"sequenceId": "MNR000000001CR"},
    "req_fee": {"oneTimeToken": "9461442187322710", "userId": 50000104652},
    "req_refund": {"sequenceId": "monari-1700000000000", "userId": 9999999999999999999, "cardExpiry": "3108", "dcvv": "366", "oneTimeToken": "9461442187322710"},
    "req_register": {"userId": 50000104652, "par": "Q1ABCDEF0123456789ABCDEF012"},
    "req_list": {"userId": 50000104652},
}
def text(obj, escape=False):
    return json.dumps(obj, ensure_ascii=escape, separators=(",", ":"))

for name, b in {**bodies, **requests}.items():
    write("decode_bodies", name, text(b))
    write("decode_bodies", name + "_escaped", text(b, escape=True))
# the differential target takes a selector byte: 0 charge, 1 fee, 2 list
for sel, names in ((0, ["charge", "charge_pending", "charge_declined", "encrypted"]), (1, ["fee", "refund_declined"]), (2, ["list", "list_empty", "register"])):
    for n in names:
        write("json_differential", f"{n}", bytes([sel]) + text(bodies[n]).encode())
        write("json_differential", f"{n}_escaped", bytes([sel]) + text(bodies[n], escape=True).encode())
for n in ["charge", "fee", "list"]:
    body = text(bodies[n]).encode()
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-KM-Correlation-Id: 221108120814-0abcdef\r\nContent-Length: %d\r\n\r\n" % len(body)
    write("http_response", n, b"\x07" + head + body)
    chunked = b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n" + b"".join(
        b"%x;ext\r\n" % len(body[i:i + 9]) + body[i:i + 9] + b"\r\n" for i in range(0, len(body), 9)) + b"0\r\nX-T: 1\r\n\r\n"
    write("http_response", n + "_chunked", b"\x21" + chunked)
for s in ["KMV1:20221108120814608:lCk+bG7jDeAojlw4Ee3AFZ6NUf56RMQklV+cMPiqm9I=", "221108120814-0abcdef", "20221108120814",
          "9461442187322710", "366", "Q1ABCDEF0123456789ABCDEF012", "2509", "100000000000123", "KMN221114031773543",
          "MNR000000001CR", "abcdefg-0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef", "KST", "ATM",
          "COMPLETED", "9999999999999999999", "9999999999", "sandbox.konaplate.com", "/open-api"]:
    write("fields", s.replace("/", "_").replace(":", "_").replace("+", "_")[:40], s)
for i, s in enumerate(["\\ud64d\\uae38\\ub3d9", "\\ud83d\\ude00", "\\ud800", "a\\\"b\\\\c\\/d\\n", "성공", "\\u0000"]):
    write("unescape", "s%d" % i, s)
write("jwe", "shape", b"\x00" + bodies["encrypted"]["encData"].encode())
write("jwe", "seal", b"\x01\x05\x00" + text(bodies["cancel"]).encode())
# journal records: layout of konaplate_core::flow::JournalRecord::encode
def record(op, state, seq, user, amount, merchant, nr, code):
    b = bytearray(256)
    b[0:4] = b"KPJ1"; b[4] = op; b[5] = state; b[6] = 1; b[7] = len(seq); b[8:8 + len(seq)] = seq
    b[38:46] = struct.pack("<Q", user); b[46:54] = struct.pack("<Q", amount)
    if merchant: b[54] = 1; b[55:70] = merchant
    if nr: b[70] = len(nr); b[71:71 + len(nr)] = nr
    b[121:129] = struct.pack("<Q", 1700000000000); b[129:137] = struct.pack("<Q", 1700000001000)
    if code: b[137] = len(code); b[138:138 + len(code)] = code
    b[252:256] = struct.pack("<I", zlib.crc32(bytes(b[:252])))
    return bytes(b)
write("journal_record", "charge_sending", record(1, 1, b"KP20261123000000000abcdef01", 50000104652, 10000, b"100000000000123", b"", b""))
write("journal_record", "cancel_completed", record(2, 10, b"C1", 50000104652, 0, b"", b"KMN221114031773543", b""))
write("journal_record", "refund_declined", record(3, 11, b"R1", 1, 0, b"", b"", b"009_004"))
write("flow_ops", "empty", b"\x00" * 16)
# regression: serde's derived structs accept arrays for objects; the reference must not
write("json_differential", "array-as-object", b"\x02" + b'{"response":["r1","i"]\n\n\n}')

# embedded_client: selector (0 charge, 1 cancel [JWE], 2 token [JWE], 3 fee, 4 list), read-size
# byte (low 6 bits + 1 bytes per read), then the peer's bytes
import base64
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")
def jwe_toy(plain, key=bytes(range(16)), iv=bytes(12)):
    # the fuzz target's Toy unwrap takes a 16/32-byte "wrapped key" as the key itself
    header = b64u(b'{"alg":"RSA-OAEP-256","enc":"A128GCM"}')
    ct = AESGCM(key).encrypt(iv, plain, header)
    return b".".join([header, b64u(key), b64u(iv), b64u(ct[:-16]), b64u(ct[-16:])])
def http(body, status=b"200 OK", chunk=None):
    head = b"HTTP/1.1 " + status + b"\r\nX-KM-Correlation-Id: 261123195406-0abcdef\r\n"
    if chunk is None:
        return head + b"Content-Length: %d\r\n\r\n" % len(body) + body
    return head + b"Transfer-Encoding: chunked\r\n\r\n" + b"".join(
        b"%x\r\n" % len(body[i:i + chunk]) + body[i:i + chunk] + b"\r\n" for i in range(0, len(body), chunk)) + b"0\r\n\r\n"
enc = lambda name: text({"encData": jwe_toy(text(bodies[name]).encode()).decode()}).encode()
for name, sel, body in [("charge", 0, text(bodies["charge"]).encode()), ("charge_declined", 0, text(bodies["charge_declined"]).encode()),
                        ("cancel_jwe", 1, enc("cancel")), ("cancel_declined_jwe", 1, enc("cancel_declined")),
                        ("token_jwe", 2, enc("token")), ("fee", 3, text(bodies["fee"]).encode()), ("list", 4, text(bodies["list"]).encode())]:
    write("embedded_client", name, bytes([sel, 63]) + http(body))
    write("embedded_client", name + "_chunked_small_reads", bytes([sel, 2]) + http(body, chunk=7))
write("embedded_client", "until_close", bytes([0, 10]) + b"HTTP/1.1 200 OK\r\n\r\n" + text(bodies["charge"]).encode())
write("embedded_client", "small_buffer", bytes([4, 0xC0 | 31]) + http(text(bodies["list"]).encode()))
