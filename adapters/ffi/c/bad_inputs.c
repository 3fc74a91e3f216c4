/*
 * Bad inputs get their documented error codes, never a crash: NULL pointers, too-small
 * buffers, invalid fields (the error names the field and its limit), uninitialized storage,
 * hostile responses and damaged journal records.
 */
#include "lifecycle.h"

#include <string.h>

static unsigned failures;

static void expect(const struct platform *p, bool ok, const char *what) {
    char line[200];
    size_t n;
    text_copy(line, sizeof line, ok ? "  ok   " : "  FAIL ");
    n = text_len(line);
    text_copy(line + n, sizeof line - n, what);
    p->log(p->ctx, line);
    if (!ok) failures++;
}

static bool all_zero(const uint8_t *b, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        if (b[i] != 0) return false;
    return true;
}

static void valid_charge(konaplate_charge_request *r) {
    memset(r, 0, sizeof *r);
    text_copy(r->sequence_id, sizeof r->sequence_id, "BAD-1");
    r->user_id = 50000100001u;
    r->amount = 1000;
    text_copy(r->one_time_token, sizeof r->one_time_token, "1234567890123456");
    text_copy(r->dcvv, sizeof r->dcvv, "123");
    text_copy(r->merchant_id, sizeof r->merchant_id, "100000000000101");
}

static void valid_stamp(konaplate_stamp *s) {
    memset(s, 0, sizeof *s);
    s->year = 2026;
    s->month = 11;
    s->day = 23;
    s->hour = 19;
    s->minute = 54;
    s->second = 6;
    s->millisecond = 123;
    text_copy(s->time_zone, sizeof s->time_zone, "KST");
    s->random = 0x0abcdef1u;
}

unsigned run_bad_inputs(const struct platform *p, const konaplate_session *session) {
    static uint8_t buf[4096];
    static konaplate_session blank;
    konaplate_charge_request charge;
    konaplate_stamp stamp;
    konaplate_encoded enc;
    konaplate_error e;
    konaplate_result r;
    failures = 0;
    valid_stamp(&stamp);

    /* NULL pointers */
    r = konaplate_session_init(NULL, "100000000000001", "SANDBOX-0123456789abcdef0123456789abcdef", "s", NULL, "h", &e);
    expect(p, r == KONAPLATE_RESULT_NULL_POINTER && e.result == r, "NULL session storage: KONAPLATE_RESULT_NULL_POINTER");
    valid_charge(&charge);
    r = konaplate_encode_charge(session, &stamp, NULL, NULL, buf, sizeof buf, &enc, &e);
    expect(p, r == KONAPLATE_RESULT_NULL_POINTER, "NULL request: KONAPLATE_RESULT_NULL_POINTER");
    r = konaplate_encode_charge(session, &stamp, &charge, NULL, NULL, sizeof buf, &enc, NULL);
    expect(p, r == KONAPLATE_RESULT_NULL_POINTER, "NULL output buffer (and NULL err): KONAPLATE_RESULT_NULL_POINTER");
    r = konaplate_decode_charge(buf, 2, NULL, NULL, &e);
    expect(p, r == KONAPLATE_RESULT_NULL_POINTER, "NULL reply: KONAPLATE_RESULT_NULL_POINTER");
    r = konaplate_flow_poll(NULL, 0, NULL, &e);
    expect(p, r == KONAPLATE_RESULT_NULL_POINTER, "NULL flow: KONAPLATE_RESULT_NULL_POINTER");

    /* storage that was never initialized */
    memset(&blank, 0, sizeof blank);
    r = konaplate_encode_charge(&blank, &stamp, &charge, NULL, buf, sizeof buf, &enc, &e);
    expect(p, r == KONAPLATE_RESULT_NOT_INITIALIZED, "uninitialized session: KONAPLATE_RESULT_NOT_INITIALIZED");

    /* invalid fields name the field and the limit, and nothing is sent */
    charge.dcvv[2] = '\0';
    memset(buf, 0x55, sizeof buf);
    r = konaplate_encode_charge(session, &stamp, &charge, NULL, buf, sizeof buf, &enc, &e);
    expect(p, r == KONAPLATE_RESULT_INVALID_FIELD && text_eq(e.field, "dcvv") && text_eq(e.limit, "exactly 3 ASCII digits"),
           "a 2-digit DCVV: KONAPLATE_RESULT_INVALID_FIELD, field dcvv, limit \"exactly 3 ASCII digits\"");
    valid_charge(&charge);
    memset(charge.sequence_id, 'A', sizeof charge.sequence_id); /* 31 characters, no NUL */
    r = konaplate_encode_charge(session, &stamp, &charge, NULL, buf, sizeof buf, &enc, &e);
    expect(p, r == KONAPLATE_RESULT_INVALID_FIELD && text_eq(e.field, "sequenceId"),
           "an unterminated 31-character sequenceId: KONAPLATE_RESULT_INVALID_FIELD, field sequenceId");
    valid_charge(&charge);
    charge.amount = 0;
    r = konaplate_encode_charge(session, &stamp, &charge, NULL, buf, sizeof buf, &enc, &e);
    expect(p, r == KONAPLATE_RESULT_INVALID_FIELD && text_eq(e.field, "amount"), "amount 0: KONAPLATE_RESULT_INVALID_FIELD, field amount");
    {
        konaplate_session s2;
        r = konaplate_session_init(&s2, "12345", "SANDBOX-0123456789abcdef0123456789abcdef", "secret", NULL, "h", &e);
        expect(p, r == KONAPLATE_RESULT_INVALID_FIELD && text_eq(e.field, "X-KM-User-AspId"),
               "a 5-digit ASP ID: KONAPLATE_RESULT_INVALID_FIELD, field X-KM-User-AspId");
    }
    {
        konaplate_stamp bad = stamp;
        bad.month = 13;
        valid_charge(&charge);
        r = konaplate_encode_charge(session, &bad, &charge, NULL, buf, sizeof buf, &enc, &e);
        expect(p, r == KONAPLATE_RESULT_INVALID_FIELD, "month 13 in the stamp: KONAPLATE_RESULT_INVALID_FIELD");
    }

    /* a buffer too small: an error, and no secret left in it */
    valid_charge(&charge);
    memset(buf, 0x55, sizeof buf);
    r = konaplate_encode_charge(session, &stamp, &charge, NULL, buf, 200, &enc, &e);
    expect(p, r == KONAPLATE_RESULT_BUFFER_TOO_SMALL && all_zero(buf, 200),
           "a 200-byte buffer: KONAPLATE_RESULT_BUFFER_TOO_SMALL, and nothing left in it");

    /* an Encrypted request without keys */
    {
        konaplate_token_request t;
        memset(&t, 0, sizeof t);
        text_copy(t.card_no, sizeof t.card_no, "9410000000000011");
        r = konaplate_encode_token(session, &stamp, &t, NULL, buf, sizeof buf, &enc, &e);
        expect(p, r == KONAPLATE_RESULT_ENCRYPTION_REQUIRED, "a token request without crypto: KONAPLATE_RESULT_ENCRYPTION_REQUIRED");
        t.token_type = 7;
        r = konaplate_encode_token(session, &stamp, &t, NULL, buf, sizeof buf, &enc, &e);
        expect(p, r == KONAPLATE_RESULT_INVALID_FIELD && text_eq(e.field, "type"), "token type 7: KONAPLATE_RESULT_INVALID_FIELD, field type");
    }

    /* hostile responses */
    {
        konaplate_http http;
        konaplate_charge_reply reply;
        static const char garbage[] = "HTTP/1.1 2x0 OK\r\n\r\n";
        static const char partial[] = "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"resp";
        static const char conflicting[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}";
        static const char no_envelope[] = "{\"nrNumber\":\"KMN1\",\"isPending\":false}";
        static const char encrypted[] = "{\"encData\":\"a.b.c.d.e\"}";
        static const char bad_chunk[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n";
        memcpy(buf, garbage, sizeof garbage - 1);
        r = konaplate_response_complete(buf, sizeof garbage - 1, false, &http, &e);
        expect(p, r == KONAPLATE_RESULT_HTTP, "a garbled status line: KONAPLATE_RESULT_HTTP");
        memcpy(buf, partial, sizeof partial - 1);
        r = konaplate_response_complete(buf, sizeof partial - 1, false, &http, &e);
        expect(p, r == KONAPLATE_RESULT_INCOMPLETE, "a body shorter than its Content-Length: KONAPLATE_RESULT_INCOMPLETE");
        memcpy(buf, conflicting, sizeof conflicting - 1);
        r = konaplate_response_complete(buf, sizeof conflicting - 1, false, &http, &e);
        expect(p, r == KONAPLATE_RESULT_HTTP, "Content-Length with chunked: KONAPLATE_RESULT_HTTP");
        memcpy(buf, bad_chunk, sizeof bad_chunk - 1);
        r = konaplate_response_complete(buf, sizeof bad_chunk - 1, false, &http, &e);
        expect(p, r == KONAPLATE_RESULT_HTTP, "a malformed chunk size: KONAPLATE_RESULT_HTTP");
        memcpy(buf, no_envelope, sizeof no_envelope - 1);
        r = konaplate_decode_charge(buf, sizeof no_envelope - 1, NULL, &reply, &e);
        expect(p, r == KONAPLATE_RESULT_DECODE, "a body without its envelope: KONAPLATE_RESULT_DECODE");
        memcpy(buf, encrypted, sizeof encrypted - 1);
        r = konaplate_decode_charge(buf, sizeof encrypted - 1, NULL, &reply, &e);
        expect(p, r == KONAPLATE_RESULT_ENCRYPTED_NO_KEY, "an encData body without an unwrap callback: KONAPLATE_RESULT_ENCRYPTED_NO_KEY");
        buf[0] = '{';
        r = konaplate_decode_charge(buf, 1, NULL, &reply, &e);
        expect(p, r == KONAPLATE_RESULT_DECODE && reply.header.has_body == false, "a truncated JSON body: KONAPLATE_RESULT_DECODE, reply zeroed");
    }

    /* journal records */
    {
        static konaplate_flow flow;
        uint8_t record[KONAPLATE_RECORD_SIZE];
        valid_charge(&charge);
        r = konaplate_flow_charge(&flow, &charge, NULL, 1000, &e);
        expect(p, r == KONAPLATE_RESULT_OK, "a new charge flow");
        r = konaplate_flow_record(&flow, record, 100, &e);
        expect(p, r == KONAPLATE_RESULT_BUFFER_TOO_SMALL, "a 100-byte record buffer: KONAPLATE_RESULT_BUFFER_TOO_SMALL");
        r = konaplate_flow_record(&flow, record, sizeof record, &e);
        expect(p, r == KONAPLATE_RESULT_OK, "the record of a new flow");
        record[40] ^= 0x01;
        r = konaplate_flow_resume(&flow, record, sizeof record, NULL, 2000, &e);
        expect(p, r == KONAPLATE_RESULT_RECORD, "a record with one flipped bit: KONAPLATE_RESULT_RECORD");
        r = konaplate_flow_resume(&flow, record, 10, NULL, 2000, &e);
        expect(p, r == KONAPLATE_RESULT_RECORD, "a 10-byte record: KONAPLATE_RESULT_RECORD");
        konaplate_flow_wipe(&flow);
        r = konaplate_flow_record(&flow, record, sizeof record, &e);
        expect(p, r == KONAPLATE_RESULT_NOT_INITIALIZED, "a wiped flow: KONAPLATE_RESULT_NOT_INITIALIZED");
    }
    return failures;
}
