/*
 * The caller's side of the C contract, one check per finding of the audit: storage that is
 * misaligned, foreign or filled; a flow started over an open one, or given another call; a
 * flow resumed after a reboot; out-parameters on errors and a cleared error on success;
 * nothing of an answer left in the buffer; values with an embedded NUL; a key callback that
 * calls back; a response that closes early or does not fit; what a call leaves on the stack.
 */
#include "lifecycle.h"

#include <string.h>

static uint8_t buf[4096];

/* ------------------------------------------------------------------ helpers */

/* A charge flow under `seq`, its first record persisted, its request handed out as a call
 * whose bytes were written: the platform may have it. */
static konaplate_result sent_charge(konaplate_flow *flow, konaplate_call *call, const konaplate_session *s,
                                    const char *seq, uint8_t record[KONAPLATE_RECORD_SIZE]) {
    konaplate_charge_request charge;
    konaplate_action a;
    konaplate_stamp stamp;
    konaplate_result r;
    valid_charge(&charge);
    valid_stamp(&stamp);
    text_copy(charge.sequence_id, sizeof charge.sequence_id, seq);
    r = konaplate_flow_charge(flow, &charge, NULL, 1000, NULL);
    konaplate_wipe(&charge, sizeof charge);
    if (r != KONAPLATE_RESULT_OK) return r;
    r = konaplate_flow_poll(flow, 1000, &a, NULL);
    if (r != KONAPLATE_RESULT_OK || a.kind != KONAPLATE_ACTION_KIND_PERSIST) return KONAPLATE_RESULT_FLOW;
    konaplate_flow_record(flow, record, KONAPLATE_RECORD_SIZE, NULL);
    konaplate_flow_persisted(flow, NULL);
    r = konaplate_flow_poll(flow, 1000, &a, NULL);
    if (r != KONAPLATE_RESULT_OK || a.kind != KONAPLATE_ACTION_KIND_SEND) return KONAPLATE_RESULT_FLOW;
    r = konaplate_flow_call(flow, call, s, &stamp, NULL, buf, sizeof buf, NULL);
    if (r != KONAPLATE_RESULT_OK) return r;
    return write_request(call, buf, sizeof buf);
}

static const char completed[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 103\r\n\r\n"
    "{\"response\":{\"code\":\"000_000\",\"description\":\"ok\"},\"result\":\"COMPLETED\",\"nrNumber\":\"KMN000000000000777\"}";

/* Drives `flow` (a charge whose answer was lost, or one resumed) to its outcome from `now`:
 * each record persisted in `j` as the flow asks, each inquiry answered COMPLETED. OK when
 * it ends COMPLETED. */
static konaplate_result settle(konaplate_journal *j, konaplate_flow *flow, konaplate_call *call,
                               const konaplate_session *s, uint64_t now) {
    konaplate_action a;
    konaplate_stamp stamp;
    konaplate_progress progress;
    konaplate_result r;
    unsigned steps;
    valid_stamp(&stamp);
    for (steps = 0; steps < 20; steps++) {
        r = konaplate_flow_poll(flow, now, &a, NULL);
        if (r != KONAPLATE_RESULT_OK) return r;
        if (a.kind == KONAPLATE_ACTION_KIND_PERSIST) {
            r = konaplate_journal_persist_flow(j, flow, NULL);
            if (r != KONAPLATE_RESULT_OK) return r;
        } else if (a.kind == KONAPLATE_ACTION_KIND_INQUIRE) {
            r = konaplate_flow_call(flow, call, s, &stamp, NULL, buf, sizeof buf, NULL);
            if (r == KONAPLATE_RESULT_OK) r = write_request(call, buf, sizeof buf);
            if (r == KONAPLATE_RESULT_OK)
                r = feed_answer(call, buf, sizeof buf, completed, sizeof completed - 1, &progress, NULL);
            konaplate_flow_end_call(flow, now, call, buf, sizeof buf, NULL, NULL, NULL);
            konaplate_call_wipe(call);
        } else if (a.kind == KONAPLATE_ACTION_KIND_WAIT) {
            now = a.wait_until_ms;
        } else {
            return a.kind == KONAPLATE_ACTION_KIND_DONE && a.outcome == KONAPLATE_OUTCOME_COMPLETED
                       ? KONAPLATE_RESULT_OK
                       : KONAPLATE_RESULT_FLOW;
        }
    }
    return KONAPLATE_RESULT_FLOW;
}

/* An unwrap callback that calls back into the library on the flow (and the call) it is
 * opening an answer for, then fails: every re-entry must be refused, and the flow kept. */
struct flow_reentry {
    konaplate_flow *flow;
    konaplate_call *call;
    konaplate_result poll_result, charge_result, wipe_result, call_wipe_result, record_result;
    unsigned calls;
};

static int reentrant_unwrap(void *userdata, const uint8_t *wrapped, size_t wrapped_len, uint8_t *out,
                            size_t out_cap, size_t *out_len) {
    struct flow_reentry *re = userdata;
    konaplate_action a;
    konaplate_charge_request charge;
    uint8_t record[KONAPLATE_RECORD_SIZE];
    (void)wrapped;
    (void)wrapped_len;
    (void)out;
    (void)out_cap;
    (void)out_len;
    re->calls++;
    re->poll_result = konaplate_flow_poll(re->flow, 3000, &a, NULL);
    valid_charge(&charge);
    re->charge_result = konaplate_flow_charge(re->flow, &charge, NULL, 3000, NULL);
    konaplate_wipe(&charge, sizeof charge);
    re->record_result = konaplate_flow_record(re->flow, record, sizeof record, NULL);
    re->wipe_result = konaplate_flow_wipe(re->flow);
    re->call_wipe_result = konaplate_call_wipe(re->call);
    return 1;
}

/* A whole JWE answer (`encData`, A128GCM): its key is for the unwrap callback to open. */
static const char encrypted_answer[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 459\r\n\r\n"
    "{\"encData\":\"eyJhbGciOiJSU0EtT0FFUC0yNTYiLCJlbmMiOiJBMTI4R0NNIn0.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5fYGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn-AgYKDhIWGh4iJiouMjY6PkJGSk5SVlpeYmZqbnJ2en6ChoqOkpaanqKmqq6ytrq-wsbKztLW2t7i5uru8vb6_wMHCw8TFxsfIycrLzM3Oz9DR0tPU1dbX2Nna29zd3t_g4eLj5OXm5-jp6uvs7e7v8PHy8_T19vf4-fr7_P3-_w.AAAAAAAAAAAAAAAA.eyJ4IjoxfQ.AAAAAAAAAAAAAAAAAAAAAA\"}";

/* A wrap callback that tries to wipe the session it is called for. */
struct reentry {
    konaplate_session *session;
    konaplate_call *call;
    konaplate_result wipe_result, init_result, begin_result;
};

static int reentrant_wrap(void *userdata, const uint8_t *cek, size_t cek_len, uint8_t *out, size_t out_cap,
                          size_t *out_len) {
    struct reentry *re = userdata;
    re->wipe_result = konaplate_session_wipe(re->session);
    re->init_result = konaplate_session_init(re->session, "100000000000002", "SANDBOX-0123456789abcdef0123456789abcdef",
                                             "another-secret", NULL, "evil.example", NULL);
    re->begin_result = begin_inquiry(re->call, re->session, buf, sizeof buf);
    if (out_cap < 256 || cek_len > 256) return 1;
    memset(out, 0, 256);
    memcpy(out, cek, cek_len);
    *out_len = 256;
    return 0;
}

/* A second flash for the journal checks: 3 sectors of 4 KiB of RAM, strict about rewrites;
 * `reenter` makes the write callback call back into the library on its journal. */
static uint8_t jflash[3 * 4096];
static konaplate_journal *reenter, *reopen;
static konaplate_result reentered;
/* writes and erases the flash took, and how many a re-entrant open made */
static unsigned jops, reopened_ops;

static konaplate_flash jflash_of(void);

static int jread(void *u, uint32_t off, uint8_t *out, size_t len) {
    (void)u;
    if ((size_t)off + len > sizeof jflash) return 1;
    memcpy(out, jflash + off, len);
    return 0;
}
static int jwrite(void *u, uint32_t off, const uint8_t *data, size_t len) {
    size_t i;
    (void)u;
    if ((size_t)off + len > sizeof jflash) return 1;
    for (i = 0; i < len; i++)
        if (jflash[off + i] != 0xFF) return 1;
    memcpy(jflash + off, data, len);
    jops++;
    if (reenter != NULL) reentered = konaplate_journal_compact(reenter, NULL);
    if (reopen != NULL) {
        konaplate_journal *j = reopen;
        unsigned before = jops;
        konaplate_flash f = jflash_of();
        reopen = NULL;
        reentered = konaplate_journal_open(j, &f, 0, 4096, 3, NULL, NULL);
        reopened_ops = jops - before;
    }
    return 0;
}
static int jerase(void *u, uint32_t from, uint32_t to) {
    (void)u;
    if (to > sizeof jflash || from > to) return 1;
    memset(jflash + from, 0xFF, to - from);
    jops++;
    return 0;
}
static konaplate_flash jflash_of(void) {
    konaplate_flash f;
    memset(&f, 0, sizeof f);
    f.read = jread;
    f.write = jwrite;
    f.erase = jerase;
    f.capacity = sizeof jflash;
    f.write_size = 8;
    f.erase_size = 4096;
    return f;
}

/* ------------------------------------------------------------------ the checks */

unsigned run_contract(const struct platform *p, const konaplate_session *session) {
    static uint64_t raw[KONAPLATE_FLOW_WORDS + 1];
    static konaplate_session copy;
    static konaplate_flow flow, other, rebooted;
    static konaplate_call call, call2;
    uint8_t record[KONAPLATE_RECORD_SIZE];
    konaplate_charge_request charge;
    konaplate_stamp stamp;
    konaplate_action a;
    konaplate_flow_info info;
    konaplate_error e;
    konaplate_result r;
    check_failures = 0;
    valid_stamp(&stamp);

    /* 1. misaligned storage is refused, never written (a HardFault on Cortex-M4F before) */
    r = konaplate_session_init((konaplate_session *)((uint8_t *)raw + 1), "100000000000001",
                               "SANDBOX-0123456789abcdef0123456789abcdef", "s", NULL, "h", &e);
    expect(p, r == KONAPLATE_RESULT_INVALID_ARGUMENT && e.result == r, "a session at an odd address: KONAPLATE_RESULT_INVALID_ARGUMENT");
    valid_charge(&charge);
    r = konaplate_flow_charge((konaplate_flow *)((uint8_t *)raw + 4), &charge, NULL, 1000, &e);
    expect(p, r == KONAPLATE_RESULT_INVALID_ARGUMENT, "a flow 4 bytes off its alignment: KONAPLATE_RESULT_INVALID_ARGUMENT");
    r = begin_inquiry((konaplate_call *)((uint8_t *)raw + 2), session, buf, sizeof buf);
    expect(p, r == KONAPLATE_RESULT_INVALID_ARGUMENT && all_zero(buf, sizeof buf),
           "a call at an odd address: KONAPLATE_RESULT_INVALID_ARGUMENT, nothing encoded into the buffer");
    {
        konaplate_token_request token;
        konaplate_crypto *odd = (konaplate_crypto *)((uint8_t *)raw + 1);
        memset(&token, 0, sizeof token);
        memcpy(token.card_no, "9410000000000011", 17);
        r = konaplate_call_token(&call, session, &stamp, &token, odd, buf, sizeof buf, &e);
        expect(p, r == KONAPLATE_RESULT_INVALID_ARGUMENT && text_eq(e.field, "") && all_zero(buf, sizeof buf),
               "keys at an odd address: KONAPLATE_RESULT_INVALID_ARGUMENT, nothing encoded");
        konaplate_call_wipe(&call);
    }

    /* 2. storage from another build, overwritten or filled is refused, never run */
    memcpy(&copy, session, sizeof copy);
    ((uint64_t *)&copy)[0] ^= 0x10; /* the layout tag of another build */
    r = begin_inquiry(&call, &copy, buf, sizeof buf);
    expect(p, r == KONAPLATE_RESULT_NOT_INITIALIZED, "a session stamped by another build: KONAPLATE_RESULT_NOT_INITIALIZED");
    memcpy(&copy, session, sizeof copy);
    ((uint64_t *)&copy)[KONAPLATE_SESSION_WORDS - 1] = 0; /* a copy cut short */
    r = begin_inquiry(&call, &copy, buf, sizeof buf);
    expect(p, r == KONAPLATE_RESULT_NOT_INITIALIZED, "a session copy cut short: KONAPLATE_RESULT_NOT_INITIALIZED");
    konaplate_wipe(&copy, sizeof copy);
    memset(&flow, 0, sizeof flow);
    r = konaplate_flow_poll(&flow, 0, &a, &e);
    expect(p, r == KONAPLATE_RESULT_NOT_INITIALIZED && a.kind == KONAPLATE_ACTION_KIND_NONE,
           "a zero-filled flow: KONAPLATE_RESULT_NOT_INITIALIZED (not COMPLETED, final)");
    memset(&flow, 0xA5, sizeof flow);
    r = konaplate_flow_poll(&flow, 0, &a, &e);
    expect(p, r == KONAPLATE_RESULT_NOT_INITIALIZED, "a flow filled with 0xA5: KONAPLATE_RESULT_NOT_INITIALIZED (no crash)");

    /* 3. out-parameters are written on every path; the error is cleared on success */
    memset(&a, 0x7f, sizeof a);
    memset(&flow, 0, sizeof flow);
    valid_charge(&charge);
    charge.dcvv[0] = 'x';
    r = konaplate_flow_charge(&flow, &charge, NULL, 1000, &e); /* refused: the flow stays empty */
    expect(p, r == KONAPLATE_RESULT_INVALID_FIELD && text_eq(e.field, "dcvv"), "a charge with a bad DCVV is refused");
    r = konaplate_flow_poll(&flow, 1000, &a, &e);
    expect(p, r == KONAPLATE_RESULT_NOT_INITIALIZED && a.kind == KONAPLATE_ACTION_KIND_NONE && a.wait_until_ms == 0 &&
                  a.outcome == KONAPLATE_OUTCOME_NONE && a.code[0] == '\0',
           "polling the refused charge's flow: *action written (NONE), never left to fall into INQUIRE");
    memset(&info, 0x7f, sizeof info);
    r = konaplate_flow_get_info(&flow, &info, &e);
    expect(p, r == KONAPLATE_RESULT_NOT_INITIALIZED && info.sends == 0 && info.sequence_id[0] == '\0',
           "konaplate_flow_info on it: *info written (zeroed)");
    r = begin_inquiry(&call, session, buf, sizeof buf);
    r = konaplate_call_correlation_id(&call, (char *)record, sizeof record, &e);
    expect(p, r == KONAPLATE_RESULT_OK && e.result == KONAPLATE_RESULT_OK && e.field[0] == '\0' && e.message[0] == '\0',
           "a success after a failure: *err cleared (result OK, no field, no message)");
    {
        size_t len = 77;
        r = konaplate_call_outgoing(&call, buf, sizeof buf, NULL, &len, &e);
        expect(p, r == KONAPLATE_RESULT_NULL_POINTER && len == 0,
               "outgoing with a NULL start: KONAPLATE_RESULT_NULL_POINTER, and *len still written (0)");
    }
    konaplate_call_abort(&call, buf, sizeof buf, (konaplate_delivery *)&info.sends, NULL);
    konaplate_call_wipe(&call);

    /* 4. a flow cannot lose a call */
    r = sent_charge(&flow, &call, session, "KPC-OPEN-1", record);
    expect(p, r == KONAPLATE_RESULT_OK, "a charge handed out and written (the platform may have it)");
    valid_charge(&charge);
    r = konaplate_flow_charge(&flow, &charge, NULL, 2000, &e);
    expect(p, r == KONAPLATE_RESULT_IN_USE, "a second charge over that flow: KONAPLATE_RESULT_IN_USE (it was silently replaced)");
    r = konaplate_flow_resume(&flow, record, sizeof record, NULL, 2000, &e);
    expect(p, r == KONAPLATE_RESULT_IN_USE, "a resume over that flow: KONAPLATE_RESULT_IN_USE");
    r = begin_inquiry(&call, session, buf, sizeof buf);
    expect(p, r == KONAPLATE_RESULT_IN_USE, "a new call over its written call: KONAPLATE_RESULT_IN_USE");
    /* another flow's call is refused, and changes nothing */
    r = sent_charge(&other, &call2, session, "KPC-OTHER-1", record);
    r = konaplate_flow_end_call(&flow, 2000, &call2, buf, sizeof buf, NULL, NULL, &e);
    konaplate_flow_get_info(&flow, &info, NULL);
    expect(p, r == KONAPLATE_RESULT_FLOW && info.state == KONAPLATE_STATE_SENDING,
           "flow A given flow B's call: KONAPLATE_RESULT_FLOW, A unchanged");
    konaplate_call_abort(&call2, buf, sizeof buf, (konaplate_delivery *)&info.sends, NULL);
    konaplate_call_wipe(&call2);
    konaplate_flow_wipe(&other);
    /* a call given back with another buffer length is refused, and nothing is taken or lost */
    r = konaplate_flow_end_call(&flow, 2000, &call, buf, sizeof buf - 1, NULL, NULL, &e);
    konaplate_flow_get_info(&flow, &info, NULL);
    expect(p, r == KONAPLATE_RESULT_INVALID_ARGUMENT && info.state == KONAPLATE_STATE_SENDING,
           "end_call with another buffer length: KONAPLATE_RESULT_INVALID_ARGUMENT, the flow unchanged");
    {
        konaplate_delivery d = KONAPLATE_DELIVERY_NOT_SENT;
        r = konaplate_call_abort(&call, buf, sizeof buf - 1, &d, &e);
        expect(p, r == KONAPLATE_RESULT_INVALID_ARGUMENT && d == KONAPLATE_DELIVERY_MAYBE_RECEIVED,
               "abort with another buffer length: KONAPLATE_RESULT_INVALID_ARGUMENT (and *delivery says maybe)");
    }
    /* C can ask a flow what it is */
    r = konaplate_call_abort(&call, buf, sizeof buf, (konaplate_delivery *)&info.sends, NULL);
    r = konaplate_flow_end_call(&flow, 2000, &call, buf, sizeof buf, NULL, NULL, &e);
    konaplate_call_wipe(&call);
    r = konaplate_flow_get_info(&flow, &info, &e);
    expect(p, r == KONAPLATE_RESULT_OK && info.operation == KONAPLATE_OPERATION_CHARGE && info.state == KONAPLATE_STATE_LOST &&
                  !info.is_final && info.sends == 1 && text_eq(info.sequence_id, "KPC-OPEN-1"),
           "konaplate_flow_info: CHARGE, LOST (in doubt), 1 send, sequenceId KPC-OPEN-1");
    /* 5. a reboot: the storage is lost, the last record is not; the resumed flow completes */
    konaplate_flow_poll(&flow, 2000, &a, NULL); /* PERSIST: the LOST record */
    konaplate_flow_record(&flow, record, sizeof record, NULL);
    konaplate_flow_persisted(&flow, NULL);
    memset(&rebooted, 0xA5, sizeof rebooted); /* RAM after power-up */
    r = konaplate_flow_resume(&rebooted, record, sizeof record, NULL, 5000, &e);
    expect(p, r == KONAPLATE_RESULT_OK, "after the reboot: resumed from the last record");
    {
        unsigned steps = 0, calls = 0;
        bool done = false;
        while (!done && steps++ < 20) {
            konaplate_progress progress;
            r = konaplate_flow_poll(&rebooted, 5000, &a, &e);
            if (r != KONAPLATE_RESULT_OK) break;
            if (a.kind == KONAPLATE_ACTION_KIND_PERSIST) {
                konaplate_flow_record(&rebooted, record, sizeof record, NULL);
                konaplate_flow_persisted(&rebooted, NULL);
            } else if (a.kind == KONAPLATE_ACTION_KIND_INQUIRE) {
                calls++;
                r = konaplate_flow_call(&rebooted, &call, session, &stamp, NULL, buf, sizeof buf, &e);
                if (r == KONAPLATE_RESULT_OK) r = write_request(&call, buf, sizeof buf);
                if (r == KONAPLATE_RESULT_OK)
                    r = feed_answer(&call, buf, sizeof buf, completed, sizeof completed - 1, &progress, &e);
                r = konaplate_flow_end_call(&rebooted, 5000, &call, buf, sizeof buf, NULL, NULL, &e);
                konaplate_call_wipe(&call);
            } else {
                done = a.kind == KONAPLATE_ACTION_KIND_DONE;
                if (!done) break;
            }
        }
        expect(p, done && a.outcome == KONAPLATE_OUTCOME_COMPLETED && a.is_final && a.from_inquiry &&
                      text_eq(a.nr_number, "KMN000000000000777") && calls == 1 && all_zero(buf, sizeof buf),
               "the resumed charge: one inquiry, COMPLETED (final, from the inquiry), never sent again");
        konaplate_flow_get_info(&rebooted, &info, NULL);
        expect(p, info.sends == 1 && info.state == KONAPLATE_STATE_COMPLETED, "its record: COMPLETED after 1 send");
    }
    konaplate_flow_wipe(&rebooted);
    /* a call of a flow that was wiped and resumed from the same record is not the new one's */
    {
        uint8_t rec0[KONAPLATE_RECORD_SIZE];
        r = sent_charge(&other, &call2, session, "KPC-REINC-1", rec0);
        konaplate_flow_wipe(&other); /* wiped with its call out: the record still holds it */
        r = konaplate_flow_resume(&other, rec0, sizeof rec0, NULL, 3000, &e);
        r = konaplate_flow_poll(&other, 3000, &a, &e);
        while (r == KONAPLATE_RESULT_OK && a.kind == KONAPLATE_ACTION_KIND_PERSIST) {
            konaplate_flow_record(&other, rec0, sizeof rec0, NULL);
            konaplate_flow_persisted(&other, NULL);
            r = konaplate_flow_poll(&other, 3000, &a, &e);
        }
        {
            static uint8_t buf2[4096];
            r = konaplate_flow_call(&other, &call, session, &stamp, NULL, buf2, sizeof buf2, &e);
            expect(p, r == KONAPLATE_RESULT_OK && a.kind == KONAPLATE_ACTION_KIND_INQUIRE, "the resumed flow hands out its inquiry");
            r = konaplate_flow_end_call(&other, 3000, &call2, buf, sizeof buf, NULL, NULL, &e);
            expect(p, r == KONAPLATE_RESULT_FLOW, "the wiped incarnation's call given to the resumed flow: KONAPLATE_RESULT_FLOW");
            konaplate_call_abort(&call, buf2, sizeof buf2, (konaplate_delivery *)&info.sends, NULL);
            konaplate_flow_end_call(&other, 3000, &call, buf2, sizeof buf2, NULL, NULL, NULL);
            konaplate_call_wipe(&call);
        }
        konaplate_call_abort(&call2, buf, sizeof buf, (konaplate_delivery *)&info.sends, NULL);
        konaplate_call_wipe(&call2);
        konaplate_flow_wipe(&other);
    }
    r = konaplate_flow_charge(&flow, &charge, NULL, 2000, &e);
    expect(p, r == KONAPLATE_RESULT_IN_USE, "the pre-reboot flow is still open in its storage: refused until wiped");
    konaplate_flow_wipe(&flow);
    r = konaplate_flow_charge(&flow, &charge, NULL, 2000, &e);
    expect(p, r == KONAPLATE_RESULT_OK, "once wiped, a new charge may start there");
    konaplate_flow_wipe(&flow);

    /* 6. the response buffer holds nothing of an answer once decoded: no token, no DCVV */
    {
        static const char token_answer[] =
            "HTTP/1.1 200 OK\r\nContent-Length: 97\r\n\r\n"
            "{\"response\":{\"code\":\"000_000\",\"description\":\"ok\"},\"oneTimeToken\":\"9461442187322710\",\"dcvv\":\"366\"}";
        konaplate_token_request t;
        konaplate_token_reply reply;
        konaplate_crypto crypto;
        konaplate_progress progress;
        memset(&t, 0, sizeof t);
        text_copy(t.card_no, sizeof t.card_no, "9410000000000011");
        memset(&crypto, 0, sizeof crypto);
        crypto.wrap = p->wrap;
        crypto.unwrap = p->unwrap;
        crypto.userdata = p->key_userdata;
        r = konaplate_call_token(&call, session, &stamp, &t, &crypto, buf, sizeof buf, &e);
        if (r == KONAPLATE_RESULT_OK) r = write_request(&call, buf, sizeof buf);
        if (r == KONAPLATE_RESULT_OK) r = feed_answer(&call, buf, sizeof buf, token_answer, sizeof token_answer - 1, &progress, &e);
        if (r == KONAPLATE_RESULT_OK) r = konaplate_call_finish_token(&call, buf, sizeof buf, &crypto, &reply, &e);
        expect(p, r == KONAPLATE_RESULT_OK && text_eq(reply.dcvv, "366") && all_zero(buf, sizeof buf),
               "a plain token answer: decoded, and the buffer holds nothing of it (token, DCVV, head)");
        konaplate_wipe(&reply, sizeof reply);
        konaplate_wipe(&crypto, sizeof crypto);
        konaplate_call_wipe(&call);
    }

    /* 7. a value with an embedded NUL is malformed, never cut short into C */
    {
        static const char nul_code[] = "HTTP/1.1 200 OK\r\nContent-Length: 76\r\n\r\n"
                                       "{\"response\":{\"code\":\"000_000\\u0000X\",\"description\":\"\"},\"result\":\"COMPLETED\"}";
        static const char nul_desc[] = "HTTP/1.1 200 OK\r\nContent-Length: 77\r\n\r\n"
                                       "{\"response\":{\"code\":\"000_000\",\"description\":\"a\\u0000b\"},\"result\":\"COMPLETED\"}";
        konaplate_charge_result_reply reply;
        konaplate_progress progress;
        begin_inquiry(&call, session, buf, sizeof buf);
        write_request(&call, buf, sizeof buf);
        feed_answer(&call, buf, sizeof buf, nul_code, sizeof nul_code - 1, &progress, &e);
        r = konaplate_call_finish_charge_result(&call, buf, sizeof buf, NULL, &reply, &e);
        expect(p, r == KONAPLATE_RESULT_DECODE && text_eq(e.field, "response.code") && !reply.header.success &&
                      reply.header.code[0] == '\0',
               "code \"000_000\\u0000X\": KONAPLATE_RESULT_DECODE (response.code), never \"000_000\"");
        konaplate_call_wipe(&call);
        begin_inquiry(&call, session, buf, sizeof buf);
        write_request(&call, buf, sizeof buf);
        feed_answer(&call, buf, sizeof buf, nul_desc, sizeof nul_desc - 1, &progress, &e);
        r = konaplate_call_finish_charge_result(&call, buf, sizeof buf, NULL, &reply, &e);
        expect(p, r == KONAPLATE_RESULT_DECODE && text_eq(e.field, "response.description") && !reply.header.has_body,
               "a description with a NUL: KONAPLATE_RESULT_DECODE (response.description), the reply left zeroed");
        konaplate_call_wipe(&call);
    }

    /* 8. a key callback that calls back into the library on the same objects is refused */
    {
        static konaplate_session s2;
        struct reentry re;
        konaplate_token_request t;
        konaplate_crypto crypto;
        size_t start = 0, len = 0;
        r = konaplate_session_init(&s2, "100000000000001", "SANDBOX-0123456789abcdef0123456789abcdef",
                                   "kona-sandbox-secret-0001", "00000000000000000000000000c0ffee", "sandbox.konaplate.com", &e);
        re.session = &s2;
        re.call = &call;
        re.wipe_result = re.init_result = re.begin_result = KONAPLATE_RESULT_OK;
        memset(&crypto, 0, sizeof crypto);
        crypto.wrap = reentrant_wrap;
        crypto.userdata = &re;
        memset(&t, 0, sizeof t);
        text_copy(t.card_no, sizeof t.card_no, "9410000000000011");
        r = konaplate_call_token(&call, &s2, &stamp, &t, &crypto, buf, sizeof buf, &e);
        konaplate_call_outgoing(&call, buf, sizeof buf, &start, &len, NULL);
        expect(p, re.wipe_result == KONAPLATE_RESULT_BUSY && r == KONAPLATE_RESULT_OK && len > 0 &&
                      memchr(buf + start, 0, len) == NULL,
               "a wrap callback wiping its session: KONAPLATE_RESULT_BUSY, the request intact (no NUL in its headers)");
        expect(p, re.init_result == KONAPLATE_RESULT_BUSY && re.begin_result == KONAPLATE_RESULT_BUSY,
               "the same callback re-initializing the session, or beginning a call with it: KONAPLATE_RESULT_BUSY");
        konaplate_call_abort(&call, buf, sizeof buf, (konaplate_delivery *)&info.sends, NULL);
        konaplate_call_wipe(&call);
        expect(p, konaplate_session_wipe(&s2) == KONAPLATE_RESULT_OK, "after the call the session wipes");
    }

    /* 8b. an unwrap callback that calls back into the library on the flow it runs for */
    {
        static konaplate_flow f3;
        static konaplate_call c3;
        uint8_t rec[KONAPLATE_RECORD_SIZE];
        struct flow_reentry re;
        konaplate_crypto crypto;
        konaplate_progress progress;
        bool encrypted = true;
        memset(&re, 0, sizeof re);
        re.flow = &f3;
        re.call = &c3;
        r = sent_charge(&f3, &c3, session, "KPC-REENTER-1", rec);
        expect(p, r == KONAPLATE_RESULT_OK, "a charge handed out and written, for the unwrap re-entry");
        feed_answer(&c3, buf, sizeof buf, encrypted_answer, sizeof encrypted_answer - 1, &progress, NULL);
        memset(&crypto, 0, sizeof crypto);
        crypto.unwrap = reentrant_unwrap;
        crypto.userdata = &re;
        r = konaplate_flow_end_call(&f3, 3000, &c3, buf, sizeof buf, &crypto, &encrypted, &e);
        expect(p, re.calls == 1 && re.poll_result == KONAPLATE_RESULT_BUSY && re.charge_result == KONAPLATE_RESULT_BUSY &&
                      re.record_result == KONAPLATE_RESULT_BUSY,
               "an unwrap callback polling its flow, starting a charge over it or taking its record: KONAPLATE_RESULT_BUSY");
        expect(p, re.wipe_result == KONAPLATE_RESULT_BUSY && re.call_wipe_result == KONAPLATE_RESULT_BUSY,
               "the same callback wiping the flow or its call: KONAPLATE_RESULT_BUSY (the in-doubt charge is kept)");
        konaplate_flow_get_info(&f3, &info, NULL);
        expect(p, r == KONAPLATE_RESULT_OK && !encrypted && info.operation == KONAPLATE_OPERATION_CHARGE &&
                      info.state == KONAPLATE_STATE_LOST && !info.is_final && info.sends == 1 &&
                      text_eq(info.sequence_id, "KPC-REENTER-1") && all_zero(buf, sizeof buf),
               "the answer it could not open is taken as lost: the charge open (never final), the buffer wiped");
        konaplate_call_wipe(&c3);
        /* the flow is whole: it goes on to its next step, and wipes once no call runs */
        r = konaplate_flow_poll(&f3, 3000, &a, &e);
        expect(p, r == KONAPLATE_RESULT_OK && a.kind != KONAPLATE_ACTION_KIND_DONE,
               "after the callback the flow goes on (it asks for its next step, not done)");
        expect(p, konaplate_flow_wipe(&f3) == KONAPLATE_RESULT_OK, "after the call the flow wipes");
    }

    /* 9. a response that closes early or does not fit is reported; completion is idempotent */
    {
        static const char head_only[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{\"re";
        static const char huge[] = "HTTP/1.1 200 OK\r\nContent-Length: 9000\r\n\r\n";
        static char big_head[4200];
        konaplate_progress progress;
        size_t i;
        begin_inquiry(&call, session, buf, sizeof buf);
        write_request(&call, buf, sizeof buf);
        feed_answer(&call, buf, sizeof buf, head_only, sizeof head_only - 1, &progress, &e);
        r = konaplate_call_received(&call, buf, sizeof buf, 0, &progress, &e); /* the peer closes */
        expect(p, r == KONAPLATE_RESULT_HTTP && progress == KONAPLATE_PROGRESS_NEED_MORE && all_zero(buf, sizeof buf),
               "a peer closing early: KONAPLATE_RESULT_HTTP, the buffer wiped");
        konaplate_call_wipe(&call);
        begin_inquiry(&call, session, buf, sizeof buf);
        write_request(&call, buf, sizeof buf);
        r = feed_answer(&call, buf, sizeof buf, huge, sizeof huge - 1, &progress, &e);
        expect(p, r == KONAPLATE_RESULT_BUFFER_TOO_SMALL, "a body larger than the buffer: KONAPLATE_RESULT_BUFFER_TOO_SMALL");
        konaplate_call_wipe(&call);
        memcpy(big_head, "HTTP/1.1 200 OK\r\nX-Pad: ", 24);
        for (i = 24; i < sizeof big_head; i++) big_head[i] = 'a';
        begin_inquiry(&call, session, buf, sizeof buf);
        write_request(&call, buf, sizeof buf);
        r = feed_answer(&call, buf, sizeof buf, big_head, sizeof big_head, &progress, &e);
        expect(p, r == KONAPLATE_RESULT_BUFFER_TOO_SMALL, "a head larger than the buffer: KONAPLATE_RESULT_BUFFER_TOO_SMALL");
        konaplate_call_wipe(&call);
        begin_inquiry(&call, session, buf, sizeof buf);
        write_request(&call, buf, sizeof buf);
        feed_answer(&call, buf, sizeof buf, completed, sizeof completed - 1, &progress, &e);
        r = konaplate_call_received(&call, buf, sizeof buf, 0, &progress, &e);
        expect(p, r == KONAPLATE_RESULT_OK && progress == KONAPLATE_PROGRESS_COMPLETE,
               "asking again after COMPLETE: COMPLETE again (idempotent)");
        {
            konaplate_charge_result_reply reply;
            r = konaplate_call_finish_charge_result(&call, buf, sizeof buf, NULL, &reply, &e);
            expect(p, r == KONAPLATE_RESULT_OK && reply.result == KONAPLATE_CHARGE_RESULT_COMPLETED,
                   "and the answer decodes once");
        }
        konaplate_call_wipe(&call);
    }

    /* 10. what a call leaves in dead stack frames (compiler copies Rust cannot wipe) is gone
     * after konaplate_scrub_stack, measured where the stack can be read (the firmware) */
    if (p->stack_hits != NULL) {
        static const uint8_t cek_pattern[16] = {0xC3, 0x5A, 0x17, 0xE9, 0x42, 0x8B, 0x6D, 0xF0,
                                                0x21, 0x9C, 0x3E, 0xA7, 0x54, 0xB8, 0x0F, 0xD6};
        static const char card[] = "9410000000000099";
        static const char secret[] = "kona-secret-for-the-scrub";
        static konaplate_session s3;
        konaplate_token_request t;
        konaplate_crypto crypto;
        unsigned before, after;
        char num[24], num2[24];
        r = konaplate_session_init(&s3, "100000000000001", "SANDBOX-0123456789abcdef0123456789abcdef", secret,
                                   "00000000000000000000000000c0ffee", "sandbox.konaplate.com", &e);
        memset(&crypto, 0, sizeof crypto);
        crypto.wrap = p->wrap;
        crypto.userdata = p->key_userdata;
        memcpy(crypto.cek, cek_pattern, sizeof crypto.cek);
        memset(&t, 0, sizeof t);
        text_copy(t.card_no, sizeof t.card_no, card);
        r = konaplate_call_token(&call, &s3, &stamp, &t, &crypto, buf, sizeof buf, &e);
        konaplate_call_abort(&call, buf, sizeof buf, (konaplate_delivery *)&info.sends, NULL);
        konaplate_call_wipe(&call);
        konaplate_wipe(&crypto, sizeof crypto);
        konaplate_wipe(&t, sizeof t);
        konaplate_session_wipe(&s3);
        /* whole copies and pieces: the CEK, the card number's last 8 digits, the secret */
        before = p->stack_hits(p->ctx, cek_pattern, sizeof cek_pattern) +
                 p->stack_hits(p->ctx, (const uint8_t *)card + 8, 8) +
                 p->stack_hits(p->ctx, (const uint8_t *)secret, sizeof secret - 1);
        konaplate_scrub_stack();
        after = p->stack_hits(p->ctx, cek_pattern, sizeof cek_pattern) +
                p->stack_hits(p->ctx, (const uint8_t *)card + 8, 8) +
                p->stack_hits(p->ctx, (const uint8_t *)secret, sizeof secret - 1);
        say(p, "  pieces of the CEK, card number and secret in dead stack: ", u64_text(before, num, sizeof num),
            " before the scrub, after: ", u64_text(after, num2, sizeof num2));
        expect(p, r == KONAPLATE_RESULT_OK && before > 0 && after == 0,
               "what the token call left in dead stack frames is gone after konaplate_scrub_stack");
    }

    /* 11. the journal on flash: storage, geometry and records are checked; a full journal
     * refuses before anything is written; an open call is never closed; a callback that calls
     * back is BUSY; after a reboot the journal gives back the open call, which resumes */
    {
        static uint64_t jraw[KONAPLATE_JOURNAL_WORDS + 1];
        static konaplate_journal j;
        static konaplate_flow f2;
        konaplate_flash fl = jflash_of();
        konaplate_journal_report rep;
        konaplate_journal_entry entry;
        uint8_t rec[KONAPLATE_RECORD_SIZE];
        uint32_t n = 77;
        bool room = true;
        unsigned filled = 0;
        memset(jflash, 0xFF, sizeof jflash);
        r = konaplate_journal_open((konaplate_journal *)((uint8_t *)jraw + 4), &fl, 0, 4096, 3, &rep, &e);
        expect(p, r == KONAPLATE_RESULT_INVALID_ARGUMENT, "a journal 4 bytes off its alignment: KONAPLATE_RESULT_INVALID_ARGUMENT");
        fl.write_size = 3;
        r = konaplate_journal_open(&j, &fl, 0, 4096, 3, &rep, &e);
        expect(p, r == KONAPLATE_RESULT_INVALID_ARGUMENT, "a flash with a write size of 3: KONAPLATE_RESULT_INVALID_ARGUMENT");
        fl = jflash_of();
        fl.erase = NULL;
        r = konaplate_journal_open(&j, &fl, 0, 4096, 3, &rep, &e);
        expect(p, r == KONAPLATE_RESULT_INVALID_ARGUMENT, "a flash without an erase callback: KONAPLATE_RESULT_INVALID_ARGUMENT");
        fl = jflash_of();
        fl.erase_size = 16;
        r = konaplate_journal_open(&j, &fl, 0, 2320, 3, &rep, &e);
        expect(p, r == KONAPLATE_RESULT_INVALID_ARGUMENT && strstr(e.message, "of 32") != NULL,
               "sectors of 2320 bytes (a multiple of the erase size, not of 32): KONAPLATE_RESULT_INVALID_ARGUMENT");
        r = konaplate_journal_count(&j, &n, &e);
        expect(p, r == KONAPLATE_RESULT_NOT_INITIALIZED && n == 0, "an unopened journal: NOT_INITIALIZED, *count written (0)");
        fl = jflash_of();
        r = konaplate_journal_open(&j, &fl, 0, 4096, 3, &rep, &e);
        expect(p, r == KONAPLATE_RESULT_OK && rep.formatted && rep.open_calls == 0, "a blank region: formatted");
        /* a charge's first record, then a damaged one */
        r = sent_charge(&f2, &call, session, "KPC-J-1", rec);
        konaplate_call_abort(&call, buf, sizeof buf, (konaplate_delivery *)&info.sends, NULL);
        konaplate_call_wipe(&call);
        r = konaplate_journal_persist(&j, rec, sizeof rec, &e);
        expect(p, r == KONAPLATE_RESULT_OK, "the charge's record persisted on flash");
        rec[100] ^= 1;
        r = konaplate_journal_persist(&j, rec, sizeof rec, &e);
        expect(p, r == KONAPLATE_RESULT_RECORD, "a damaged record: KONAPLATE_RESULT_RECORD, nothing written");
        r = konaplate_journal_close(&j, "KPC-J-1", &e);
        expect(p, r == KONAPLATE_RESULT_JOURNAL, "closing a call that may have been sent: KONAPLATE_RESULT_JOURNAL");
        jops = 0;
        r = konaplate_journal_prepare_call(&j, "KPC-J-2", &e);
        expect(p, r == KONAPLATE_RESULT_IN_USE && strstr(e.message, "KPC-J-1") != NULL && jops == 0,
               "a new call while KPC-J-1 awaits the platform: KONAPLATE_RESULT_IN_USE naming it, nothing written");
        /* a flash callback that calls back into the library on its journal */
        rec[100] ^= 1;
        reenter = &j;
        reentered = KONAPLATE_RESULT_OK;
        r = konaplate_journal_compact(&j, &e);
        reenter = NULL;
        expect(p, r == KONAPLATE_RESULT_OK && reentered == KONAPLATE_RESULT_BUSY,
               "a flash callback compacting its own journal: KONAPLATE_RESULT_BUSY, the outer call unharmed");
        /* ... or opening it again: refused before it reads or writes (an open compacts into a
         * fresh sector, and the running call's journal would go on in one no longer the newest) */
        reopen = &j;
        reentered = KONAPLATE_RESULT_OK;
        reopened_ops = 99;
        r = konaplate_journal_compact(&j, &e);
        expect(p, r == KONAPLATE_RESULT_OK && reentered == KONAPLATE_RESULT_BUSY && reopened_ops == 0,
               "a flash callback opening its own journal again: KONAPLATE_RESULT_BUSY, not one flash write");
        /* ... and from inside an open of that storage, opening it again or compacting it: the
         * storage holds nothing but the running open until it returns (an inner open would
         * compact into a sector newer than the one the outer open's journal appends to) */
        reopen = &j;
        reentered = KONAPLATE_RESULT_OK;
        reopened_ops = 99;
        r = konaplate_journal_open(&j, &fl, 0, 4096, 3, &rep, &e);
        expect(p, r == KONAPLATE_RESULT_OK && reentered == KONAPLATE_RESULT_BUSY && reopened_ops == 0 && rep.open_calls == 1,
               "a flash callback of an open opening the same storage again: KONAPLATE_RESULT_BUSY, not one flash write");
        reenter = &j;
        reentered = KONAPLATE_RESULT_OK;
        r = konaplate_journal_open(&j, &fl, 0, 4096, 3, &rep, &e);
        reenter = NULL;
        expect(p, r == KONAPLATE_RESULT_OK && reentered == KONAPLATE_RESULT_BUSY && rep.open_calls == 1,
               "a flash callback of an open compacting the journal being opened: KONAPLATE_RESULT_BUSY, the open unharmed");
        /* a reboot: the RAM is lost, the flash is not */
        konaplate_journal_wipe(&j);
        konaplate_flow_wipe(&f2);
        memset(&j, 0xA5, sizeof j);
        {
            /* ... and a bit flipped at rest in the newest sector's first entry (KPC-J-1's
             * record, after the 32-byte header) */
            size_t s, newest = 0;
            uint32_t newest_seq = 0;
            for (s = 0; s < 3; s++) {
                const uint8_t *h = jflash + s * 4096;
                uint32_t seq = (uint32_t)h[8] | (uint32_t)h[9] << 8 | (uint32_t)h[10] << 16 | (uint32_t)h[11] << 24;
                if (memcmp(h, "KPFJ", 4) == 0 && seq > newest_seq) {
                    newest = s;
                    newest_seq = seq;
                }
            }
            jflash[newest * 4096 + 32 + 12 + 5] ^= 0x08;
        }
        r = konaplate_journal_open(&j, &fl, 0, 4096, 3, &rep, &e);
        expect(p, r == KONAPLATE_RESULT_OK && !rep.formatted && rep.open_calls == 1 && rep.corrected_entries == 1 &&
                      rep.damaged_entries == 0,
               "after the reboot: one open call on flash, the flipped bit corrected (corrected_entries 1)");
        r = konaplate_journal_get_entry(&j, 0, &entry, &e);
        expect(p, r == KONAPLATE_RESULT_OK && text_eq(entry.sequence_id, "KPC-J-1") && entry.awaits_platform &&
                      entry.state == KONAPLATE_STATE_SENDING,
               "its entry: KPC-J-1, SENDING, awaits the platform");
        memset(rec, 0, sizeof rec);
        r = konaplate_journal_read(&j, "KPC-J-1", rec, sizeof rec, &e);
        if (r == KONAPLATE_RESULT_OK) r = konaplate_flow_resume(&f2, rec, sizeof rec, NULL, 9000, &e);
        expect(p, r == KONAPLATE_RESULT_OK, "read back and resumed");
        konaplate_flow_wipe(&f2);
        r = konaplate_journal_get_entry(&j, 5, &entry, &e);
        expect(p, r == KONAPLATE_RESULT_INVALID_ARGUMENT && entry.sequence_id[0] == '\0',
               "an entry past the end: INVALID_ARGUMENT, *entry written (empty)");
        /* a program that leaves out konaplate_journal_prepare_call: a second charge's first
         * record while KPC-J-1 awaits the platform is refused all the same (IN_USE, naming
         * it, nothing written), through either persist */
        r = sent_charge(&f2, &call, session, "KPC-J-SKIP", rec);
        konaplate_call_abort(&call, buf, sizeof buf, (konaplate_delivery *)&info.sends, NULL);
        konaplate_call_wipe(&call);
        konaplate_flow_wipe(&f2);
        jops = 0;
        r = konaplate_journal_persist(&j, rec, sizeof rec, &e);
        expect(p, r == KONAPLATE_RESULT_IN_USE && strstr(e.message, "KPC-J-1") != NULL && jops == 0,
               "a second call's record while KPC-J-1 awaits the platform: IN_USE naming it, nothing written");
        {
            konaplate_charge_request charge;
            valid_charge(&charge);
            text_copy(charge.sequence_id, sizeof charge.sequence_id, "KPC-J-SKIP2");
            konaplate_flow_charge(&f2, &charge, NULL, 1000, NULL);
            konaplate_wipe(&charge, sizeof charge);
            jops = 0;
            r = konaplate_journal_persist_flow(&j, &f2, &e);
            konaplate_flow_poll(&f2, 1000, &a, NULL);
            expect(p, r == KONAPLATE_RESULT_IN_USE && jops == 0 && a.kind == KONAPLATE_ACTION_KIND_PERSIST,
                   "and through konaplate_journal_persist_flow: IN_USE, nothing written, the flow still asks PERSIST");
            konaplate_flow_wipe(&f2);
        }
        /* KPC-J-1 to its outcome: resumed, the inquiry says COMPLETED, its record persisted */
        r = konaplate_journal_read(&j, "KPC-J-1", rec, sizeof rec, &e);
        if (r == KONAPLATE_RESULT_OK) r = konaplate_flow_resume(&f2, rec, sizeof rec, NULL, 9000, &e);
        if (r == KONAPLATE_RESULT_OK) r = settle(&j, &f2, &call, session, 9000);
        konaplate_flow_wipe(&f2);
        r = r == KONAPLATE_RESULT_OK ? konaplate_journal_get_entry(&j, 0, &entry, &e) : r;
        expect(p, r == KONAPLATE_RESULT_OK && entry.state == KONAPLATE_STATE_COMPLETED && !entry.awaits_platform,
               "KPC-J-1 resumed to COMPLETED, its record on flash");
        /* fill it with settled calls (each one's answer lost, the inquiry saying COMPLETED)
         * until there is no room for another */
        while (konaplate_journal_can_take_new_call(&j, &room, NULL) == KONAPLATE_RESULT_OK && room && filled < 20) {
            char seq[KONAPLATE_SEQUENCE_ID_SIZE] = "KPC-JF-";
            seq[7] = (char)('A' + filled);
            r = sent_charge(&f2, &call, session, seq, rec);
            if (r == KONAPLATE_RESULT_OK) r = konaplate_journal_persist(&j, rec, sizeof rec, &e);
            konaplate_call_abort(&call, buf, sizeof buf, (konaplate_delivery *)&info.sends, NULL);
            konaplate_flow_end_call(&f2, 1000, &call, buf, sizeof buf, NULL, NULL, NULL);
            konaplate_call_wipe(&call);
            if (r == KONAPLATE_RESULT_OK) r = settle(&j, &f2, &call, session, 1000);
            konaplate_flow_wipe(&f2);
            if (r != KONAPLATE_RESULT_OK) break;
            filled++;
        }
        expect(p, r == KONAPLATE_RESULT_OK && filled > 0, "settled calls persisted until the journal has no room");
        r = sent_charge(&f2, &call, session, "KPC-J-LAST", rec);
        konaplate_call_abort(&call, buf, sizeof buf, (konaplate_delivery *)&info.sends, NULL);
        konaplate_call_wipe(&call);
        konaplate_flow_wipe(&f2);
        r = konaplate_journal_persist(&j, rec, sizeof rec, &e);
        konaplate_journal_count(&j, &n, NULL);
        expect(p, !room && r == KONAPLATE_RESULT_JOURNAL_FULL && n == filled + 1,
               "a full journal: no room for a new call, its record refused (JOURNAL_FULL), nothing dropped");
        /* the one-call persist: refused the same way, and the flow not marked durable */
        {
            konaplate_charge_request charge;
            valid_charge(&charge);
            text_copy(charge.sequence_id, sizeof charge.sequence_id, "KPC-J-ONE");
            konaplate_flow_charge(&f2, &charge, NULL, 1000, NULL);
            konaplate_wipe(&charge, sizeof charge);
            jops = 0;
            r = konaplate_journal_persist_flow(&j, &f2, &e);
            konaplate_flow_poll(&f2, 1000, &a, NULL);
            expect(p, r == KONAPLATE_RESULT_JOURNAL_FULL && jops == 0 && a.kind == KONAPLATE_ACTION_KIND_PERSIST,
                   "konaplate_journal_persist_flow into a full journal: JOURNAL_FULL, nothing written, the flow still asks PERSIST");
            r = konaplate_journal_persist_flow(&j, (konaplate_flow *)&j, &e);
            expect(p, r == KONAPLATE_RESULT_NOT_INITIALIZED, "a journal given as its own flow: NOT_INITIALIZED");
            konaplate_flow_wipe(&f2);
        }
        konaplate_journal_wipe(&j);
    }
    /* 9. the caller's misorders */
    {
        static konaplate_flow f3;
        size_t i;
        bool token_left = false, dcvv_left = false;
        konaplate_delivery d = KONAPLATE_DELIVERY_NOT_SENT;
        /* a call begun over one that wrote nothing: the old request's token and DCVV go */
        valid_charge(&charge);
        r = konaplate_call_charge(&call, session, &stamp, &charge, NULL, buf, sizeof buf, &e);
        konaplate_wipe(&charge, sizeof charge);
        for (i = 0; i + 16 <= sizeof buf; i++) token_left |= memcmp(buf + i, "1234567890123456", 16) == 0;
        expect(p, r == KONAPLATE_RESULT_OK && token_left, "a charge call begun (its token in the buffer, nothing written yet)");
        r = begin_inquiry(&call, session, buf, sizeof buf);
        token_left = false;
        for (i = 0; i + 16 <= sizeof buf; i++) token_left |= memcmp(buf + i, "1234567890123456", 16) == 0;
        for (i = 0; i + 4 <= sizeof buf; i++) dcvv_left |= memcmp(buf + i, "dcvv", 4) == 0;
        expect(p, r == KONAPLATE_RESULT_OK && !token_left && !dcvv_left,
               "an inquiry begun over it in the same buffer: no trace of the charge's token or DCVV");
        /* an abort with a NULL delivery still wipes */
        r = konaplate_call_abort(&call, buf, sizeof buf, NULL, &e);
        expect(p, r == KONAPLATE_RESULT_NULL_POINTER && all_zero(buf, sizeof buf),
               "an abort with a NULL delivery: KONAPLATE_RESULT_NULL_POINTER, and the buffer wiped all the same");
        r = konaplate_call_abort(&call, buf, sizeof buf, &d, &e);
        expect(p, r == KONAPLATE_RESULT_OK && d == KONAPLATE_DELIVERY_NOT_SENT, "aborted: it was never sent");
        konaplate_call_wipe(&call);
        /* "persisted" without a record taken is refused, and no send is handed out */
        valid_charge(&charge);
        text_copy(charge.sequence_id, sizeof charge.sequence_id, "KPC-NOREC");
        r = konaplate_flow_charge(&f3, &charge, NULL, 1000, &e);
        konaplate_wipe(&charge, sizeof charge);
        konaplate_flow_poll(&f3, 1000, &a, NULL);
        expect(p, r == KONAPLATE_RESULT_OK && a.kind == KONAPLATE_ACTION_KIND_PERSIST, "a charge: PERSIST first");
        r = konaplate_flow_persisted(&f3, &e);
        expect(p, r == KONAPLATE_RESULT_FLOW, "konaplate_flow_persisted with no record taken: KONAPLATE_RESULT_FLOW");
        konaplate_flow_poll(&f3, 1000, &a, NULL);
        expect(p, a.kind == KONAPLATE_ACTION_KIND_PERSIST, "still PERSIST, never SEND with nothing journaled");
        /* a record refused for a short buffer leaves nothing stale in it */
        memset(record, 0xA5, sizeof record);
        r = konaplate_flow_record(&f3, record, 100, &e);
        expect(p, r == KONAPLATE_RESULT_BUFFER_TOO_SMALL && all_zero(record, 100),
               "konaplate_flow_record into 100 bytes: BUFFER_TOO_SMALL, those bytes zeroed");
        r = konaplate_flow_record(&f3, record, sizeof record, &e);
        if (r == KONAPLATE_RESULT_OK) r = konaplate_flow_persisted(&f3, &e);
        konaplate_flow_poll(&f3, 1000, &a, NULL);
        expect(p, r == KONAPLATE_RESULT_OK && a.kind == KONAPLATE_ACTION_KIND_SEND, "with its record taken: SEND");
        konaplate_flow_wipe(&f3);
    }
    return check_failures;
}
