/*
 * The demo lifecycle over konaplate.h (see lifecycle.h). No C library formatting, no heap:
 * it runs unchanged on a Cortex-M4F. Every result is checked.
 */
#include "lifecycle.h"

#include <string.h>

/* one buffer, as a till would have (JWE needs 4 KiB): the request, then the response */
uint8_t exchange_buf[4096];
konaplate_journal journal;

void text_copy(char *dst, size_t cap, const char *src) {
    size_t i = 0;
    if (cap == 0) return;
    for (; src[i] != '\0' && i + 1 < cap; i++) dst[i] = src[i];
    dst[i] = '\0';
}

size_t text_len(const char *s) {
    size_t n = 0;
    while (s[n] != '\0') n++;
    return n;
}

bool text_eq(const char *a, const char *b) {
    size_t i = 0;
    for (; a[i] != '\0' && a[i] == b[i]; i++) {}
    return a[i] == b[i];
}

uint32_t u64_divmod(uint64_t *v, uint16_t d) {
    /* long division in 16-bit digits: every step fits 32 bits (the remainder is below d) */
    uint64_t q = 0;
    uint32_t rem = 0;
    int shift;
    for (shift = 48; shift >= 0; shift -= 16) {
        uint32_t cur = (rem << 16) | (uint32_t)((*v >> shift) & 0xFFFFu);
        q = (q << 16) | (cur / d);
        rem = cur % d;
    }
    *v = q;
    return rem;
}

char *u64_text(uint64_t v, char *buf, size_t cap) {
    char tmp[21];
    size_t n = 0, i;
    do {
        tmp[n++] = (char)('0' + u64_divmod(&v, 10));
    } while (v != 0 && n < sizeof tmp);
    for (i = 0; i < n && i + 1 < cap; i++) buf[i] = tmp[n - 1 - i];
    buf[i < cap ? i : cap - 1] = '\0';
    return buf;
}

/* Joins up to four strings into one log line. */
void say(const struct platform *p, const char *a, const char *b, const char *c, const char *d) {
    char line[256];
    size_t n = 0;
    const char *parts[4];
    size_t k;
    parts[0] = a;
    parts[1] = b;
    parts[2] = c;
    parts[3] = d;
    for (k = 0; k < 4; k++) {
        const char *s = parts[k];
        if (s == NULL) continue;
        while (*s != '\0' && n + 1 < sizeof line) line[n++] = *s++;
    }
    line[n] = '\0';
    p->log(p->ctx, line);
}

static unsigned check(const struct platform *p, struct lifecycle *lc, bool ok, const char *what) {
    say(p, ok ? "  ok   " : "  FAIL ", what, NULL, NULL);
    if (!ok) lc->failures++;
    return ok ? 0u : 1u;
}

void report_error(const struct platform *p, const char *call, konaplate_result r, const konaplate_error *e) {
    char code[24];
    say(p, "  error from ", call, ": result ", u64_text(r, code, sizeof code));
    if (e->field[0] != '\0') say(p, "    field ", e->field, ", limit: ", e->limit);
    say(p, "    ", e->message, NULL, NULL);
}

/* A sequenceId: prefix + 16 random hex digits. */
static void new_sequence_id(const struct platform *p, const char *prefix, char out[KONAPLATE_SEQUENCE_ID_SIZE]) {
    static const char hex[] = "0123456789abcdef";
    uint8_t r[8];
    size_t n, i;
    p->random(p->ctx, r, sizeof r);
    text_copy(out, KONAPLATE_SEQUENCE_ID_SIZE, prefix);
    n = text_len(out);
    for (i = 0; i < sizeof r && n + 2 < KONAPLATE_SEQUENCE_ID_SIZE; i++) {
        out[n++] = hex[r[i] >> 4];
        out[n++] = hex[r[i] & 15];
    }
    out[n] = '\0';
}

void fresh_crypto(const struct platform *p, konaplate_crypto *c) {
    c->wrap = p->wrap;
    c->unwrap = p->unwrap;
    c->userdata = p->key_userdata;
    p->random(p->ctx, c->cek, sizeof c->cek);
    p->random(p->ctx, c->iv, sizeof c->iv);
}

/* ------------------------------------------------------------------ the one exchange loop */

int move_bytes(const struct platform *p, konaplate_call *call) {
    konaplate_progress progress = KONAPLATE_PROGRESS_NEED_MORE;
    size_t start = 0, len = 0;
    long n;
    int ok = -1;
    if (p->connect(p->ctx) != 0) return -1;
    for (;;) {
        if (konaplate_call_outgoing(call, exchange_buf, sizeof exchange_buf, &start, &len, NULL) != KONAPLATE_RESULT_OK)
            goto out;
        if (len == 0) break;
        n = p->send(p->ctx, exchange_buf + start, len);
        if (n < 0) goto out;
        if (konaplate_call_sent(call, exchange_buf, sizeof exchange_buf, (size_t)n, NULL) != KONAPLATE_RESULT_OK) goto out;
    }
    while (progress != KONAPLATE_PROGRESS_COMPLETE) {
        if (konaplate_call_incoming(call, exchange_buf, sizeof exchange_buf, &start, &len, NULL) != KONAPLATE_RESULT_OK)
            goto out;
        n = p->recv(p->ctx, exchange_buf + start, len);
        if (n < 0) goto out;
        if (konaplate_call_received(call, exchange_buf, sizeof exchange_buf, (size_t)n, &progress, NULL) !=
            KONAPLATE_RESULT_OK)
            goto out;
    }
    ok = 0;
out:
    p->close(p->ctx);
    return ok;
}

/* Drops a call's storage; a refusal (a call still in use) is reported, never ignored. */
static void wipe_call(const struct platform *p, konaplate_call *call) {
    konaplate_result r = konaplate_call_wipe(call);
    if (r != KONAPLATE_RESULT_OK) say(p, "  konaplate_call_wipe refused: the call is in use", NULL, NULL, NULL);
}

/* A plain call begun in `call`: moves its bytes; on failure gives it up (the buffer wiped). */
static bool transfer(const struct platform *p, konaplate_call *call, const char *what) {
    konaplate_delivery delivery;
    konaplate_error e;
    konaplate_result r;
    if (move_bytes(p, call) == 0) return true;
    r = konaplate_call_abort(call, exchange_buf, sizeof exchange_buf, &delivery, &e);
    if (r != KONAPLATE_RESULT_OK) {
        report_error(p, "konaplate_call_abort", r, &e);
        return false;
    }
    say(p, "  exchange failed: ", what, delivery == KONAPLATE_DELIVERY_NOT_SENT ? " (not sent)" : " (may have arrived)",
        NULL);
    return false;
}

/* ------------------------------------------------------------------ plain calls */

static bool get_token(const struct platform *p, const konaplate_session *s, struct lifecycle *lc,
                      char token[KONAPLATE_TOKEN_SIZE], char dcvv[KONAPLATE_DCVV_SIZE]) {
    konaplate_token_request req;
    konaplate_token_reply reply;
    konaplate_crypto crypto;
    konaplate_stamp stamp;
    konaplate_call call;
    konaplate_error e;
    konaplate_result r;
    bool ok;
    memset(&req, 0, sizeof req);
    text_copy(req.card_no, sizeof req.card_no, lc->card_no);
    fresh_crypto(p, &crypto);
    p->stamp(p->ctx, &stamp);
    r = konaplate_call_token(&call, s, &stamp, &req, &crypto, exchange_buf, sizeof exchange_buf, &e);
    konaplate_wipe(&req, sizeof req);
    if (r != KONAPLATE_RESULT_OK) {
        report_error(p, "konaplate_call_token", r, &e);
        konaplate_wipe(&crypto, sizeof crypto);
        return false;
    }
    if (!transfer(p, &call, "token")) {
        konaplate_wipe(&crypto, sizeof crypto);
        return false;
    }
    r = konaplate_call_finish_token(&call, exchange_buf, sizeof exchange_buf, &crypto, &reply, &e);
    konaplate_wipe(&crypto, sizeof crypto);
    wipe_call(p, &call);
    if (r != KONAPLATE_RESULT_OK) {
        report_error(p, "konaplate_call_finish_token", r, &e);
        return false;
    }
    ok = reply.header.success && reply.header.has_body && text_len(reply.one_time_token) == 16 &&
         text_len(reply.dcvv) == 3;
    if (ok) {
        text_copy(token, KONAPLATE_TOKEN_SIZE, reply.one_time_token);
        text_copy(dcvv, KONAPLATE_DCVV_SIZE, reply.dcvv);
    }
    konaplate_wipe(&reply, sizeof reply);
    lc->steps++;
    check(p, lc, ok, "token: a 16-digit one-time token and a 3-digit DCVV (request sealed as JWE)");
    return ok;
}

static bool inquire(const struct platform *p, const konaplate_session *s, const char *seq, konaplate_charge_result want,
                    struct lifecycle *lc) {
    konaplate_charge_result_request req;
    konaplate_charge_result_reply reply;
    konaplate_stamp stamp;
    konaplate_call call;
    konaplate_error e;
    konaplate_result r;
    bool ok;
    memset(&req, 0, sizeof req);
    text_copy(req.sequence_id, sizeof req.sequence_id, seq);
    p->stamp(p->ctx, &stamp);
    r = konaplate_call_charge_result(&call, s, &stamp, &req, NULL, exchange_buf, sizeof exchange_buf, &e);
    if (r != KONAPLATE_RESULT_OK) {
        report_error(p, "konaplate_call_charge_result", r, &e);
        return false;
    }
    if (!transfer(p, &call, "charge-result")) return false;
    r = konaplate_call_finish_charge_result(&call, exchange_buf, sizeof exchange_buf, NULL, &reply, &e);
    wipe_call(p, &call);
    if (r != KONAPLATE_RESULT_OK) {
        report_error(p, "konaplate_call_finish_charge_result", r, &e);
        return false;
    }
    ok = reply.header.success && reply.result == want;
    lc->steps++;
    check(p, lc, ok, "charge-result: the inquiry says COMPLETED");
    return ok;
}

/* ------------------------------------------------------------------ money calls */

bool drive_flow(const struct platform *p, const konaplate_session *s, konaplate_flow *flow, konaplate_action *done,
                bool *answer_encrypted) {
    konaplate_error e;
    konaplate_result r;
    memset(done, 0, sizeof *done); /* NONE until the flow says DONE */
    for (;;) {
        konaplate_action a;
        konaplate_crypto crypto;
        konaplate_stamp stamp;
        konaplate_call call;
        bool encrypted = false;
        r = konaplate_flow_poll(flow, p->now_ms(p->ctx), &a, &e);
        if (r != KONAPLATE_RESULT_OK) {
            report_error(p, "konaplate_flow_poll", r, &e);
            return false;
        }
        switch (a.kind) {
        case KONAPLATE_ACTION_KIND_PERSIST:
            /* write-ahead: durable before the flow goes on (a send comes only after); the
             * record, its persist and the mark in one call, none of them to forget */
            r = konaplate_journal_persist_flow(&journal, flow, &e);
            if (r != KONAPLATE_RESULT_OK) {
                report_error(p, "konaplate_journal_persist_flow", r, &e);
                return false;
            }
            break;
        case KONAPLATE_ACTION_KIND_SEND:
        case KONAPLATE_ACTION_KIND_INQUIRE:
            fresh_crypto(p, &crypto);
            p->stamp(p->ctx, &stamp); /* a fresh stamp for every call; the same sequenceId and token */
            r = konaplate_flow_call(flow, &call, s, &stamp, &crypto, exchange_buf, sizeof exchange_buf, &e);
            if (r != KONAPLATE_RESULT_OK) {
                report_error(p, "konaplate_flow_call", r, &e);
                konaplate_wipe(&crypto, sizeof crypto);
                return false;
            }
            (void)move_bytes(p, &call); /* however far it got: the flow judges */
            r = konaplate_flow_end_call(flow, p->now_ms(p->ctx), &call, exchange_buf, sizeof exchange_buf, &crypto,
                                        &encrypted, &e);
            if (a.kind == KONAPLATE_ACTION_KIND_SEND) *answer_encrypted = *answer_encrypted || encrypted;
            konaplate_wipe(&crypto, sizeof crypto);
            if (r != KONAPLATE_RESULT_OK) {
                konaplate_delivery delivery;
                report_error(p, "konaplate_flow_end_call", r, &e);
                /* not taken: give the call up here, so the buffer holds nothing of it */
                (void)konaplate_call_abort(&call, exchange_buf, sizeof exchange_buf, &delivery, NULL);
                wipe_call(p, &call);
                return false;
            }
            wipe_call(p, &call);
            break;
        case KONAPLATE_ACTION_KIND_WAIT:
            p->sleep_until(p->ctx, a.wait_until_ms);
            break;
        case KONAPLATE_ACTION_KIND_DONE:
            *done = a;
            return true;
        default:
            say(p, "  an action this program does not know", NULL, NULL, NULL);
            return false;
        }
    }
}

static const char *outcome_word(konaplate_outcome o) {
    switch (o) {
    case KONAPLATE_OUTCOME_COMPLETED: return "COMPLETED";
    case KONAPLATE_OUTCOME_DECLINED: return "DECLINED";
    case KONAPLATE_OUTCOME_FAILED: return "FAILED";
    case KONAPLATE_OUTCOME_NOT_PROCESSED: return "NOT_PROCESSED";
    case KONAPLATE_OUTCOME_PENDING: return "PENDING";
    case KONAPLATE_OUTCOME_IN_DOUBT: return "IN_DOUBT";
    case KONAPLATE_OUTCOME_UNKNOWN: return "UNKNOWN";
    default: return "NONE";
    }
}

/* Before a new money call (the library's rule, as the Rust driver keeps it): refused while an
 * older call awaits the platform or the sequenceId is taken; settled calls closed (their
 * outcome was acted on); room for the new one. Nothing is sent otherwise. */
static bool ready_for_new_call(const struct platform *p, const konaplate_flow *flow) {
    konaplate_flow_info info;
    konaplate_error e;
    konaplate_result r = konaplate_flow_get_info(flow, &info, &e);
    if (r == KONAPLATE_RESULT_OK) r = konaplate_journal_prepare_call(&journal, info.sequence_id, &e);
    if (r == KONAPLATE_RESULT_IN_USE)
        say(p, "  refused: ", e.message, NULL, NULL);
    else if (r == KONAPLATE_RESULT_JOURNAL_FULL)
        say(p, "  refused: the journal has no room for another call", NULL, NULL, NULL);
    else if (r != KONAPLATE_RESULT_OK)
        report_error(p, "the journal", r, &e);
    return r == KONAPLATE_RESULT_OK;
}

int open_and_recover(const struct platform *p, const konaplate_session *s, konaplate_journal_report *report) {
    static uint8_t record[KONAPLATE_RECORD_SIZE];
    static konaplate_flow flow;
    konaplate_journal_entry entry;
    konaplate_action done;
    konaplate_policy policy;
    konaplate_error e;
    konaplate_result r;
    uint32_t n = 0, i;
    int resumed = 0;
    bool encrypted = false;
    r = konaplate_journal_open(&journal, &p->flash, 0, JOURNAL_SECTOR_SIZE, JOURNAL_SECTORS, report, &e);
    if (r != KONAPLATE_RESULT_OK) {
        report_error(p, "konaplate_journal_open", r, &e);
        return -1;
    }
    konaplate_policy_default(&policy);
    r = konaplate_journal_count(&journal, &n, &e);
    for (i = 0; r == KONAPLATE_RESULT_OK && i < n; i++) {
        r = konaplate_journal_get_entry(&journal, i, &entry, &e);
        if (r != KONAPLATE_RESULT_OK || !entry.awaits_platform) continue;
        /* resumed from its record: never sent again, resolved through the inquiry */
        r = konaplate_journal_read(&journal, entry.sequence_id, record, sizeof record, &e);
        if (r == KONAPLATE_RESULT_OK) r = konaplate_flow_resume(&flow, record, sizeof record, &policy, p->now_ms(p->ctx), &e);
        if (r != KONAPLATE_RESULT_OK) break;
        if (!drive_flow(p, s, &flow, &done, &encrypted)) return -1;
        say(p, "  recovered ", entry.sequence_id, done.is_final ? ": final" : ": still open", NULL);
        if (konaplate_flow_wipe(&flow) != KONAPLATE_RESULT_OK) return -1;
        resumed++;
    }
    if (r != KONAPLATE_RESULT_OK) {
        report_error(p, "recovery", r, &e);
        return -1;
    }
    return resumed;
}

/* Drives a flow already started in `flow` and checks it was sent exactly once. */
static bool money_call(const struct platform *p, const konaplate_session *s, konaplate_flow *flow,
                       konaplate_action *done, struct lifecycle *lc, const char *seq, bool *encrypted) {
    konaplate_flow_info info;
    bool ok = ready_for_new_call(p, flow) && drive_flow(p, s, flow, done, encrypted);
    konaplate_result r = konaplate_flow_get_info(flow, &info, NULL);
    if (konaplate_flow_wipe(flow) != KONAPLATE_RESULT_OK) {
        say(p, "  konaplate_flow_wipe refused: the flow is in use", NULL, NULL, NULL);
        ok = false;
    }
    say(p, "  outcome ", outcome_word(done->outcome), done->is_final ? " (final)" : " (open)", NULL);
    check(p, lc, ok && r == KONAPLATE_RESULT_OK && info.sends == 1 && text_eq(info.sequence_id, seq) && info.is_final,
          "sent exactly once under its sequenceId, every record persisted when the flow asked");
    return ok;
}

/* ------------------------------------------------------------------ the lifecycle */

unsigned run_lifecycle(const struct platform *p, const konaplate_session *s, struct lifecycle *lc) {
    char token[KONAPLATE_TOKEN_SIZE], dcvv[KONAPLATE_DCVV_SIZE];
    konaplate_action done;
    konaplate_flow flow;
    konaplate_policy policy;
    konaplate_error e;
    konaplate_result r;
    bool encrypted = false;

    lc->failures = 0;
    lc->steps = 0;
    konaplate_policy_default(&policy);
    memset(&flow, 0, sizeof flow);

    /* boot: the journal opened, what a power cut interrupted finished before anything new */
    {
        konaplate_journal_report report;
        int resumed = open_and_recover(p, s, &report);
        char num[24];
        if (resumed < 0) goto fail;
        say(p, "journal opened", report.formatted ? " (formatted)" : "", ", calls resumed: ", u64_text((uint64_t)resumed, num, sizeof num));
    }

    /* 1-3: token, charge through the flow, result inquiry */
    say(p, "charge", NULL, NULL, NULL);
    if (!get_token(p, s, lc, token, dcvv)) goto fail;
    {
        konaplate_charge_request m;
        memset(&m, 0, sizeof m);
        new_sequence_id(p, "KPC-", lc->charge_sequence_id);
        text_copy(m.sequence_id, sizeof m.sequence_id, lc->charge_sequence_id);
        m.user_id = lc->user_id;
        m.amount = lc->charge_amount;
        text_copy(m.one_time_token, sizeof m.one_time_token, token);
        text_copy(m.dcvv, sizeof m.dcvv, dcvv);
        text_copy(m.merchant_id, sizeof m.merchant_id, lc->merchant_id);
        konaplate_wipe(token, sizeof token);
        konaplate_wipe(dcvv, sizeof dcvv);
        r = konaplate_flow_charge(&flow, &m, &policy, p->now_ms(p->ctx), &e);
        konaplate_wipe(&m, sizeof m); /* the flow keeps its own copy, wiped with it */
        if (r != KONAPLATE_RESULT_OK) {
            report_error(p, "konaplate_flow_charge", r, &e);
            goto fail;
        }
    }
    if (!money_call(p, s, &flow, &done, lc, lc->charge_sequence_id, &encrypted)) goto fail;
    lc->steps++;
    check(p, lc, done.outcome == KONAPLATE_OUTCOME_COMPLETED && done.is_final && done.nr_number[0] != '\0',
          "charge: COMPLETED with an nrNumber");
    text_copy(lc->charge_nr_number, sizeof lc->charge_nr_number, done.nr_number);
    if (!inquire(p, s, lc->charge_sequence_id, KONAPLATE_CHARGE_RESULT_COMPLETED, lc)) goto fail;

    /* 4-5: token, cancellation through the flow (its answer comes as JWE) */
    say(p, "charge-cancel", NULL, NULL, NULL);
    if (!get_token(p, s, lc, token, dcvv)) goto fail;
    {
        konaplate_cancel_request m;
        memset(&m, 0, sizeof m);
        new_sequence_id(p, "KPX-", lc->cancel_sequence_id);
        text_copy(m.sequence_id, sizeof m.sequence_id, lc->cancel_sequence_id);
        m.user_id = lc->user_id;
        text_copy(m.nr_number, sizeof m.nr_number, lc->charge_nr_number);
        text_copy(m.one_time_token, sizeof m.one_time_token, token);
        text_copy(m.dcvv, sizeof m.dcvv, dcvv);
        konaplate_wipe(token, sizeof token);
        konaplate_wipe(dcvv, sizeof dcvv);
        r = konaplate_flow_cancel(&flow, &m, &policy, p->now_ms(p->ctx), &e);
        konaplate_wipe(&m, sizeof m);
        if (r != KONAPLATE_RESULT_OK) {
            report_error(p, "konaplate_flow_cancel", r, &e);
            goto fail;
        }
    }
    encrypted = false;
    if (!money_call(p, s, &flow, &done, lc, lc->cancel_sequence_id, &encrypted)) goto fail;
    lc->cancel_answer_encrypted = encrypted;
    lc->steps++;
    check(p, lc, done.outcome == KONAPLATE_OUTCOME_COMPLETED && done.is_final, "charge-cancel: COMPLETED");
    check(p, lc, encrypted, "charge-cancel: the answer came as JWE and was decrypted through the unwrap callback");

    /* 6-7: token, refund fee */
    say(p, "refund-fee", NULL, NULL, NULL);
    if (!get_token(p, s, lc, token, dcvv)) goto fail;
    {
        konaplate_refund_fee_request req;
        konaplate_refund_fee_reply reply;
        konaplate_stamp stamp;
        konaplate_call call;
        memset(&req, 0, sizeof req);
        text_copy(req.one_time_token, sizeof req.one_time_token, token);
        konaplate_wipe(token, sizeof token); /* the fee needs no DCVV: gone too */
        konaplate_wipe(dcvv, sizeof dcvv);
        req.user_id = lc->user_id;
        p->stamp(p->ctx, &stamp);
        r = konaplate_call_refund_fee(&call, s, &stamp, &req, NULL, exchange_buf, sizeof exchange_buf, &e);
        konaplate_wipe(&req, sizeof req);
        if (r != KONAPLATE_RESULT_OK) {
            report_error(p, "konaplate_call_refund_fee", r, &e);
            goto fail;
        }
        if (!transfer(p, &call, "refund-fee")) goto fail;
        r = konaplate_call_finish_refund_fee(&call, exchange_buf, sizeof exchange_buf, NULL, &reply, &e);
        wipe_call(p, &call);
        if (r != KONAPLATE_RESULT_OK) {
            report_error(p, "konaplate_call_finish_refund_fee", r, &e);
            goto fail;
        }
        lc->refund_fee_balance = reply.balance;
        lc->refund_fee = reply.refund_fee;
        lc->refund_amount = reply.refund_amount;
        lc->steps++;
        check(p, lc, reply.header.success && reply.refundable && reply.refund_fee + reply.refund_amount == reply.balance &&
                         text_eq(reply.par, lc->par),
              "refund-fee: refundable, fee + refund amount = balance, the card's PAR");
    }

    /* 8-9: token, refund through the flow */
    say(p, "refund", NULL, NULL, NULL);
    if (!get_token(p, s, lc, token, dcvv)) goto fail;
    {
        konaplate_refund_request m;
        memset(&m, 0, sizeof m);
        new_sequence_id(p, "KPR-", lc->refund_sequence_id);
        text_copy(m.sequence_id, sizeof m.sequence_id, lc->refund_sequence_id);
        m.user_id = lc->user_id;
        text_copy(m.card_expiry, sizeof m.card_expiry, lc->card_expiry);
        text_copy(m.one_time_token, sizeof m.one_time_token, token);
        text_copy(m.dcvv, sizeof m.dcvv, dcvv);
        konaplate_wipe(token, sizeof token);
        konaplate_wipe(dcvv, sizeof dcvv);
        r = konaplate_flow_refund(&flow, &m, &policy, p->now_ms(p->ctx), &e);
        konaplate_wipe(&m, sizeof m);
        if (r != KONAPLATE_RESULT_OK) {
            report_error(p, "konaplate_flow_refund", r, &e);
            goto fail;
        }
    }
    if (!money_call(p, s, &flow, &done, lc, lc->refund_sequence_id, &encrypted)) goto fail;
    text_copy(lc->refund_nr_number, sizeof lc->refund_nr_number, done.nr_number);
    lc->steps++;
    check(p, lc, done.outcome == KONAPLATE_OUTCOME_COMPLETED && done.is_final && text_len(done.nr_number) == 18,
          "refund: COMPLETED with an 18-character nrNumber");

    /* 10-11: auto-recharge register (request sealed as JWE) and list */
    say(p, "auto-recharge", NULL, NULL, NULL);
    {
        konaplate_register_request reg;
        konaplate_register_reply reg_reply;
        konaplate_list_request list;
        konaplate_list_reply list_reply;
        konaplate_crypto crypto;
        konaplate_stamp stamp;
        konaplate_call call;
        uint32_t i;
        bool found = false;
        memset(&reg, 0, sizeof reg);
        reg.user_id = lc->user_id;
        text_copy(reg.par, sizeof reg.par, lc->par);
        fresh_crypto(p, &crypto);
        p->stamp(p->ctx, &stamp);
        r = konaplate_call_register(&call, s, &stamp, &reg, &crypto, exchange_buf, sizeof exchange_buf, &e);
        if (r != KONAPLATE_RESULT_OK) {
            report_error(p, "konaplate_call_register", r, &e);
            konaplate_wipe(&crypto, sizeof crypto);
            goto fail;
        }
        if (!transfer(p, &call, "auto-recharge register")) {
            konaplate_wipe(&crypto, sizeof crypto);
            goto fail;
        }
        r = konaplate_call_finish_register(&call, exchange_buf, sizeof exchange_buf, &crypto, &reg_reply, &e);
        konaplate_wipe(&crypto, sizeof crypto);
        wipe_call(p, &call);
        if (r != KONAPLATE_RESULT_OK) {
            report_error(p, "konaplate_call_finish_register", r, &e);
            goto fail;
        }
        lc->steps++;
        check(p, lc, reg_reply.header.success, "auto-recharge register: 000_000 (request sealed as JWE)");

        memset(&list, 0, sizeof list);
        list.user_id = lc->user_id;
        p->stamp(p->ctx, &stamp);
        r = konaplate_call_list(&call, s, &stamp, &list, NULL, exchange_buf, sizeof exchange_buf, &e);
        if (r != KONAPLATE_RESULT_OK) {
            report_error(p, "konaplate_call_list", r, &e);
            goto fail;
        }
        if (!transfer(p, &call, "auto-recharge list")) goto fail;
        r = konaplate_call_finish_list(&call, exchange_buf, sizeof exchange_buf, NULL, &list_reply, &e);
        wipe_call(p, &call);
        if (r != KONAPLATE_RESULT_OK) {
            report_error(p, "konaplate_call_finish_list", r, &e);
            goto fail;
        }
        for (i = 0; i < list_reply.count; i++) {
            if (text_eq(list_reply.items[i].par, lc->par) && text_len(list_reply.items[i].registered_date) == 14) found = true;
        }
        lc->steps++;
        check(p, lc, list_reply.header.success && found, "auto-recharge list: holds the registered PAR with its date");
    }
out:
    /* whatever path led here: no token or DCVV stays in this frame */
    konaplate_wipe(token, sizeof token);
    konaplate_wipe(dcvv, sizeof dcvv);
    return lc->failures;
fail:
    lc->failures++;
    goto out;
}
