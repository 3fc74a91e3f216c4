/*
 * Bad inputs get their documented error codes, never a crash: NULL pointers, too-small
 * buffers, invalid fields (the error names the field and its limit), uninitialized storage,
 * hostile responses and damaged journal records.
 */
#include "lifecycle.h"

#include <string.h>

unsigned check_failures;

void expect(const struct platform *p, bool ok, const char *what) {
    char line[200];
    size_t n;
    text_copy(line, sizeof line, ok ? "  ok   " : "  FAIL ");
    n = text_len(line);
    text_copy(line + n, sizeof line - n, what);
    p->log(p->ctx, line);
    if (!ok) check_failures++;
}

bool all_zero(const uint8_t *b, size_t n) {
    size_t i;
    for (i = 0; i < n; i++)
        if (b[i] != 0) return false;
    return true;
}

void valid_charge(konaplate_charge_request *r) {
    memset(r, 0, sizeof *r);
    text_copy(r->sequence_id, sizeof r->sequence_id, "BAD-1");
    r->user_id = 50000100001u;
    r->amount = 1000;
    text_copy(r->one_time_token, sizeof r->one_time_token, "1234567890123456");
    text_copy(r->dcvv, sizeof r->dcvv, "123");
    text_copy(r->merchant_id, sizeof r->merchant_id, "100000000000101");
}

void valid_stamp(konaplate_stamp *s) {
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

konaplate_result write_request(konaplate_call *call, uint8_t *buf, size_t cap) {
    size_t start = 0, len = 0;
    konaplate_result r = konaplate_call_outgoing(call, buf, cap, &start, &len, NULL);
    if (r != KONAPLATE_RESULT_OK) return r;
    return konaplate_call_sent(call, buf, cap, len, NULL);
}

konaplate_result feed_answer(konaplate_call *call, uint8_t *buf, size_t cap, const char *answer, size_t len,
                             konaplate_progress *progress, konaplate_error *e) {
    size_t at = 0;
    *progress = KONAPLATE_PROGRESS_NEED_MORE;
    while (at < len) {
        size_t start = 0, room = 0, n;
        konaplate_result r = konaplate_call_incoming(call, buf, cap, &start, &room, e);
        if (r != KONAPLATE_RESULT_OK) return r;
        n = len - at < 7 ? len - at : 7;
        if (n > room) n = room;
        memcpy(buf + start, answer + at, n);
        at += n;
        r = konaplate_call_received(call, buf, cap, n, progress, e);
        if (r != KONAPLATE_RESULT_OK || *progress == KONAPLATE_PROGRESS_COMPLETE) return r;
    }
    return KONAPLATE_RESULT_OK;
}

konaplate_result begin_inquiry(konaplate_call *call, const konaplate_session *session, uint8_t *buf, size_t cap) {
    konaplate_charge_result_request q;
    konaplate_stamp stamp;
    valid_stamp(&stamp);
    memset(&q, 0, sizeof q);
    text_copy(q.sequence_id, sizeof q.sequence_id, "BAD-Q");
    return konaplate_call_charge_result(call, session, &stamp, &q, NULL, buf, cap, NULL);
}

/* The answer `answer` to a charge's call, decoded into `*reply`. */
static konaplate_result answer_charge(const konaplate_session *session, uint8_t *buf, size_t cap, const char *answer,
                                      konaplate_charge_reply *reply, konaplate_error *e) {
    konaplate_call call;
    konaplate_charge_request charge;
    konaplate_stamp stamp;
    konaplate_progress progress;
    konaplate_delivery delivery;
    konaplate_result r;
    valid_charge(&charge);
    valid_stamp(&stamp);
    memset(&call, 0, sizeof call);
    r = konaplate_call_charge(&call, session, &stamp, &charge, NULL, buf, cap, e);
    if (r == KONAPLATE_RESULT_OK) r = write_request(&call, buf, cap);
    if (r == KONAPLATE_RESULT_OK) r = feed_answer(&call, buf, cap, answer, text_len(answer), &progress, e);
    if (r == KONAPLATE_RESULT_OK && progress == KONAPLATE_PROGRESS_NEED_MORE)
        r = konaplate_call_received(&call, buf, cap, 0, &progress, e); /* the peer closes */
    if (r == KONAPLATE_RESULT_OK) r = konaplate_call_finish_charge(&call, buf, cap, NULL, reply, e);
    konaplate_call_abort(&call, buf, cap, &delivery, NULL);
    konaplate_call_wipe(&call);
    return r;
}

unsigned run_bad_inputs(const struct platform *p, const konaplate_session *session) {
    static uint8_t buf[4096];
    static konaplate_session blank;
    konaplate_charge_request charge;
    konaplate_stamp stamp;
    konaplate_call call;
    konaplate_error e;
    konaplate_result r;
    check_failures = 0;
    valid_stamp(&stamp);
    memset(&call, 0, sizeof call);

    /* NULL pointers */
    r = konaplate_session_init(NULL, "100000000000001", "SANDBOX-0123456789abcdef0123456789abcdef", "s", NULL, "h", &e);
    expect(p, r == KONAPLATE_RESULT_NULL_POINTER && e.result == r, "NULL session storage: KONAPLATE_RESULT_NULL_POINTER");
    valid_charge(&charge);
    r = konaplate_call_charge(&call, session, &stamp, NULL, NULL, buf, sizeof buf, &e);
    expect(p, r == KONAPLATE_RESULT_NULL_POINTER, "NULL request: KONAPLATE_RESULT_NULL_POINTER");
    r = konaplate_call_charge(&call, session, &stamp, &charge, NULL, NULL, sizeof buf, NULL);
    expect(p, r == KONAPLATE_RESULT_NULL_POINTER, "NULL buffer (and NULL err): KONAPLATE_RESULT_NULL_POINTER");
    r = konaplate_call_finish_charge(&call, buf, sizeof buf, NULL, NULL, &e);
    expect(p, r == KONAPLATE_RESULT_NULL_POINTER, "NULL reply: KONAPLATE_RESULT_NULL_POINTER");
    r = konaplate_flow_poll(NULL, 0, NULL, &e);
    expect(p, r == KONAPLATE_RESULT_NULL_POINTER, "NULL flow: KONAPLATE_RESULT_NULL_POINTER");

    /* storage that was never initialized */
    memset(&blank, 0, sizeof blank);
    r = konaplate_call_charge(&call, &blank, &stamp, &charge, NULL, buf, sizeof buf, &e);
    expect(p, r == KONAPLATE_RESULT_NOT_INITIALIZED, "uninitialized session: KONAPLATE_RESULT_NOT_INITIALIZED");
    {
        size_t start = 7, len = 7;
        r = konaplate_call_outgoing(&call, buf, sizeof buf, &start, &len, &e);
        expect(p, r == KONAPLATE_RESULT_NOT_INITIALIZED && start == 0 && len == 0,
               "an uninitialized call: KONAPLATE_RESULT_NOT_INITIALIZED, the out-parameters written (0, 0)");
    }

    /* invalid fields name the field and the limit, and nothing is sent */
    charge.dcvv[2] = '\0';
    memset(buf, 0x55, sizeof buf);
    r = konaplate_call_charge(&call, session, &stamp, &charge, NULL, buf, sizeof buf, &e);
    expect(p, r == KONAPLATE_RESULT_INVALID_FIELD && text_eq(e.field, "dcvv") && text_eq(e.limit, "exactly 3 ASCII digits"),
           "a 2-digit DCVV: KONAPLATE_RESULT_INVALID_FIELD, field dcvv, limit \"exactly 3 ASCII digits\"");
    valid_charge(&charge);
    memset(charge.sequence_id, 'A', sizeof charge.sequence_id); /* 31 characters, no NUL */
    r = konaplate_call_charge(&call, session, &stamp, &charge, NULL, buf, sizeof buf, &e);
    expect(p, r == KONAPLATE_RESULT_INVALID_FIELD && text_eq(e.field, "sequenceId"),
           "an unterminated 31-character sequenceId: KONAPLATE_RESULT_INVALID_FIELD, field sequenceId");
    valid_charge(&charge);
    charge.amount = 0;
    r = konaplate_call_charge(&call, session, &stamp, &charge, NULL, buf, sizeof buf, &e);
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
        r = konaplate_call_charge(&call, session, &bad, &charge, NULL, buf, sizeof buf, &e);
        expect(p, r == KONAPLATE_RESULT_INVALID_FIELD, "month 13 in the stamp: KONAPLATE_RESULT_INVALID_FIELD");
    }

    /* a buffer too small: an error, and no secret left in it */
    valid_charge(&charge);
    memset(buf, 0x55, sizeof buf);
    r = konaplate_call_charge(&call, session, &stamp, &charge, NULL, buf, 200, &e);
    expect(p, r == KONAPLATE_RESULT_BUFFER_TOO_SMALL && all_zero(buf, 200),
           "a 200-byte buffer: KONAPLATE_RESULT_BUFFER_TOO_SMALL, and nothing left in it");

    /* an Encrypted request without keys */
    {
        konaplate_token_request t;
        memset(&t, 0, sizeof t);
        text_copy(t.card_no, sizeof t.card_no, "9410000000000011");
        r = konaplate_call_token(&call, session, &stamp, &t, NULL, buf, sizeof buf, &e);
        expect(p, r == KONAPLATE_RESULT_ENCRYPTION_REQUIRED, "a token request without crypto: KONAPLATE_RESULT_ENCRYPTION_REQUIRED");
        t.token_type = 7;
        r = konaplate_call_token(&call, session, &stamp, &t, NULL, buf, sizeof buf, &e);
        expect(p, r == KONAPLATE_RESULT_INVALID_FIELD && text_eq(e.field, "type"), "token type 7: KONAPLATE_RESULT_INVALID_FIELD, field type");
    }

    /* hostile responses, through a whole call */
    {
        konaplate_charge_reply reply;
        r = answer_charge(session, buf, sizeof buf, "HTTP/1.1 2x0 OK\r\n\r\n", &reply, &e);
        expect(p, r == KONAPLATE_RESULT_HTTP, "a garbled status line: KONAPLATE_RESULT_HTTP");
        r = answer_charge(session, buf, sizeof buf, "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"resp", &reply, &e);
        expect(p, r == KONAPLATE_RESULT_HTTP, "a body shorter than its Content-Length, then the peer closes: KONAPLATE_RESULT_HTTP");
        r = answer_charge(session, buf, sizeof buf, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}",
                          &reply, &e);
        expect(p, r == KONAPLATE_RESULT_HTTP, "Content-Length with chunked: KONAPLATE_RESULT_HTTP");
        r = answer_charge(session, buf, sizeof buf, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
                          &reply, &e);
        expect(p, r == KONAPLATE_RESULT_HTTP, "a malformed chunk size: KONAPLATE_RESULT_HTTP");
        r = answer_charge(session, buf, sizeof buf,
                          "HTTP/1.1 200 OK\r\nContent-Length: 37\r\n\r\n{\"nrNumber\":\"KMN1\",\"isPending\":false}", &reply, &e);
        expect(p, r == KONAPLATE_RESULT_DECODE, "a body without its envelope: KONAPLATE_RESULT_DECODE");
        r = answer_charge(session, buf, sizeof buf, "HTTP/1.1 200 OK\r\nContent-Length: 23\r\n\r\n{\"encData\":\"a.b.c.d.e\"}",
                          &reply, &e);
        expect(p, r == KONAPLATE_RESULT_ENCRYPTED_NO_KEY, "an encData body without an unwrap callback: KONAPLATE_RESULT_ENCRYPTED_NO_KEY");
        r = answer_charge(session, buf, sizeof buf, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n{", &reply, &e);
        expect(p, r == KONAPLATE_RESULT_DECODE && reply.header.has_body == false && all_zero(buf, sizeof buf),
               "a truncated JSON body: KONAPLATE_RESULT_DECODE, the reply zeroed, the buffer wiped");
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
    return check_failures;
}
