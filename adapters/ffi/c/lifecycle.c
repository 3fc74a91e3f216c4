/*
 * The demo lifecycle over konaplate.h (see lifecycle.h). No C library formatting, no heap:
 * it runs unchanged on a Cortex-M4F.
 */
#include "lifecycle.h"

#include <string.h>

/* one request and one response buffer, as a till would have (JWE needs 4 KiB) */
static uint8_t request_buf[4096];
static uint8_t response_buf[4096];

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

char *u64_text(uint64_t v, char *buf, size_t cap) {
    char tmp[21];
    size_t n = 0, i;
    do {
        tmp[n++] = (char)('0' + (v % 10));
        v /= 10;
    } while (v != 0 && n < sizeof tmp);
    for (i = 0; i < n && i + 1 < cap; i++) buf[i] = tmp[n - 1 - i];
    buf[i < cap ? i : cap - 1] = '\0';
    return buf;
}

/* Joins up to four strings into one log line. */
static void say(const struct platform *p, const char *a, const char *b, const char *c, const char *d) {
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

static void report_error(const struct platform *p, const char *call, konaplate_result r, const konaplate_error *e) {
    char code[24];
    say(p, "  error from ", call, ": result ", u64_text(r, code, sizeof code));
    if (e->field[0] != '\0') say(p, "    field ", e->field, ", limit: ", e->limit);
    say(p, "    ", e->message, NULL, NULL);
}

/* A sequenceId: prefix + 16 random hex digits. */
static void new_sequence_id(const struct platform *p, const char *prefix, char out[31]) {
    static const char hex[] = "0123456789abcdef";
    uint8_t r[8];
    size_t n, i;
    p->random(p->ctx, r, sizeof r);
    text_copy(out, 31, prefix);
    n = text_len(out);
    for (i = 0; i < sizeof r && n + 2 < 31; i++) {
        out[n++] = hex[r[i] >> 4];
        out[n++] = hex[r[i] & 15];
    }
    out[n] = '\0';
}

/* Fresh keys for one exchange (the CEK and IV are random every time). */
static void fresh_crypto(const struct platform *p, konaplate_crypto *c) {
    c->wrap = p->wrap;
    c->unwrap = p->unwrap;
    c->userdata = p->key_userdata;
    p->random(p->ctx, c->cek, sizeof c->cek);
    p->random(p->ctx, c->iv, sizeof c->iv);
}

/* Sends the encoded request in request_buf and wipes it (it may hold a token and a DCVV). */
static enum exchange_status transmit(const struct platform *p, const konaplate_encoded *enc, konaplate_http *http) {
    enum exchange_status s = p->exchange(p->ctx, request_buf, enc->len, response_buf, sizeof response_buf, http);
    konaplate_wipe(request_buf, sizeof request_buf);
    if (s == EXCHANGE_NOT_SENT) say(p, "  exchange: not sent (", enc->correlation_id, ")", NULL);
    if (s == EXCHANGE_LOST) say(p, "  exchange: lost, no whole answer (", enc->correlation_id, ")", NULL);
    return s;
}

/* ------------------------------------------------------------------ plain calls */

static bool get_token(const struct platform *p, const konaplate_session *s, struct lifecycle *lc,
                      char token[17], char dcvv[4]) {
    konaplate_token_request req;
    konaplate_token_reply reply;
    konaplate_crypto crypto;
    konaplate_stamp stamp;
    konaplate_encoded enc;
    konaplate_http http;
    konaplate_error e;
    konaplate_result r;
    bool ok;
    memset(&req, 0, sizeof req);
    text_copy(req.card_no, sizeof req.card_no, lc->card_no);
    fresh_crypto(p, &crypto);
    p->stamp(p->ctx, &stamp);
    r = konaplate_encode_token(s, &stamp, &req, &crypto, request_buf, sizeof request_buf, &enc, &e);
    if (r != KONAPLATE_RESULT_OK) {
        report_error(p, "konaplate_encode_token", r, &e);
        konaplate_wipe(&crypto, sizeof crypto);
        return false;
    }
    if (transmit(p, &enc, &http) != EXCHANGE_OK) {
        konaplate_wipe(&crypto, sizeof crypto);
        return false;
    }
    r = konaplate_decode_token(response_buf + http.body_start, http.body_len, &crypto, &reply, &e);
    konaplate_wipe(&crypto, sizeof crypto);
    if (r != KONAPLATE_RESULT_OK) {
        report_error(p, "konaplate_decode_token", r, &e);
        return false;
    }
    ok = reply.header.success && reply.header.has_body && text_len(reply.one_time_token) == 16 &&
         text_len(reply.dcvv) == 3;
    if (ok) {
        text_copy(token, 17, reply.one_time_token);
        text_copy(dcvv, 4, reply.dcvv);
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
    konaplate_encoded enc;
    konaplate_http http;
    konaplate_error e;
    konaplate_result r;
    bool ok;
    memset(&req, 0, sizeof req);
    text_copy(req.sequence_id, sizeof req.sequence_id, seq);
    p->stamp(p->ctx, &stamp);
    r = konaplate_encode_charge_result(s, &stamp, &req, NULL, request_buf, sizeof request_buf, &enc, &e);
    if (r != KONAPLATE_RESULT_OK) {
        report_error(p, "konaplate_encode_charge_result", r, &e);
        return false;
    }
    if (transmit(p, &enc, &http) != EXCHANGE_OK) return false;
    r = konaplate_decode_charge_result(response_buf + http.body_start, http.body_len, NULL, &reply, &e);
    if (r != KONAPLATE_RESULT_OK) {
        report_error(p, "konaplate_decode_charge_result", r, &e);
        return false;
    }
    ok = reply.header.success && reply.result == want;
    lc->steps++;
    check(p, lc, ok, "charge-result: the inquiry says COMPLETED");
    return ok;
}

/* ------------------------------------------------------------------ money calls */

enum money_op { OP_CHARGE, OP_CANCEL, OP_REFUND };

struct money {
    enum money_op op;
    const char *sequence_id;
    konaplate_charge_request charge;
    konaplate_cancel_request cancel;
    konaplate_refund_request refund;
    bool answer_encrypted;
};

static konaplate_result encode_money(const struct platform *p, const konaplate_session *s, const struct money *m,
                                     konaplate_crypto *crypto, konaplate_encoded *enc, konaplate_error *e) {
    konaplate_stamp stamp;
    p->stamp(p->ctx, &stamp); /* a fresh stamp for every send; the same sequenceId and token */
    switch (m->op) {
    case OP_CHARGE: return konaplate_encode_charge(s, &stamp, &m->charge, crypto, request_buf, sizeof request_buf, enc, e);
    case OP_CANCEL: return konaplate_encode_cancel(s, &stamp, &m->cancel, crypto, request_buf, sizeof request_buf, enc, e);
    default: return konaplate_encode_refund(s, &stamp, &m->refund, crypto, request_buf, sizeof request_buf, enc, e);
    }
}

static bool persist(const struct platform *p, const konaplate_flow *flow) {
    uint8_t record[KONAPLATE_RECORD_SIZE];
    konaplate_error e;
    konaplate_result r = konaplate_flow_record(flow, record, sizeof record, &e);
    if (r != KONAPLATE_RESULT_OK) {
        report_error(p, "konaplate_flow_record", r, &e);
        return false;
    }
    return p->persist(p->ctx, record, sizeof record) == 0;
}

/* The exactly-once recipe: poll, persist before every send, report what happened, persist
 * after every report, until DONE. Returns false when the journal or the library failed
 * (then the call stays open in the journal: never send it again under a new sequenceId). */
static bool drive(const struct platform *p, const konaplate_session *s, konaplate_flow *flow, struct money *m,
                  konaplate_action *done) {
    konaplate_error e;
    konaplate_result r;
    for (;;) {
        konaplate_action a;
        konaplate_http http;
        konaplate_encoded enc;
        konaplate_crypto crypto;
        enum exchange_status st;
        uint64_t now = p->now_ms(p->ctx);
        r = konaplate_flow_poll(flow, now, &a, &e);
        if (r != KONAPLATE_RESULT_OK) {
            report_error(p, "konaplate_flow_poll", r, &e);
            return false;
        }
        if (a.kind == KONAPLATE_ACTION_KIND_DONE) {
            *done = a;
            return persist(p, flow);
        }
        if (a.kind == KONAPLATE_ACTION_KIND_WAIT) {
            p->sleep_until(p->ctx, a.wait_until_ms);
            continue;
        }
        if (a.kind == KONAPLATE_ACTION_KIND_SEND) {
            /* write-ahead: the record is durable before a byte leaves */
            if (!persist(p, flow)) return false;
            fresh_crypto(p, &crypto);
            r = encode_money(p, s, m, &crypto, &enc, &e);
            if (r != KONAPLATE_RESULT_OK) {
                report_error(p, "encode (money)", r, &e);
                konaplate_wipe(&crypto, sizeof crypto);
                return false;
            }
            st = transmit(p, &enc, &http);
            now = p->now_ms(p->ctx);
            if (st == EXCHANGE_NOT_SENT) {
                r = konaplate_flow_not_sent(flow, now, &e);
            } else if (st == EXCHANGE_LOST) {
                r = konaplate_flow_lost(flow, now, &e);
            } else {
                size_t start = 0, len = 0;
                bool encrypted = false;
                uint8_t *body = response_buf + http.body_start;
                /* the flow takes plaintext: open an encData body first */
                r = konaplate_open_body(body, http.body_len, &crypto, &start, &len, &encrypted, &e);
                if (r == KONAPLATE_RESULT_OK) {
                    m->answer_encrypted = m->answer_encrypted || encrypted;
                    r = konaplate_flow_response(flow, now, http.status, body + start, len, &e);
                    konaplate_wipe(body, http.body_len);
                } else {
                    /* an answer that cannot be read leaves the outcome open: in doubt */
                    r = konaplate_flow_lost(flow, now, &e);
                }
            }
            konaplate_wipe(&crypto, sizeof crypto);
        } else { /* INQUIRE */
            konaplate_charge_result_request q;
            konaplate_stamp stamp;
            memset(&q, 0, sizeof q);
            text_copy(q.sequence_id, sizeof q.sequence_id, m->sequence_id);
            p->stamp(p->ctx, &stamp);
            r = konaplate_encode_charge_result(s, &stamp, &q, NULL, request_buf, sizeof request_buf, &enc, &e);
            if (r != KONAPLATE_RESULT_OK) {
                report_error(p, "konaplate_encode_charge_result", r, &e);
                return false;
            }
            st = transmit(p, &enc, &http);
            now = p->now_ms(p->ctx);
            if (st == EXCHANGE_NOT_SENT) {
                r = konaplate_flow_not_sent(flow, now, &e);
            } else if (st == EXCHANGE_LOST) {
                r = konaplate_flow_lost(flow, now, &e);
            } else {
                r = konaplate_flow_inquiry_response(flow, now, http.status, response_buf + http.body_start, http.body_len, &e);
            }
        }
        if (r != KONAPLATE_RESULT_OK) {
            report_error(p, "konaplate_flow_(report)", r, &e);
            return false;
        }
        if (!persist(p, flow)) return false;
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

static bool money_call(const struct platform *p, const konaplate_session *s, struct money *m, konaplate_action *done,
                       struct lifecycle *lc) {
    konaplate_flow flow;
    konaplate_policy policy;
    konaplate_error e;
    konaplate_result r;
    bool ok;
    uint32_t sends = 0;
    konaplate_policy_default(&policy);
    switch (m->op) {
    case OP_CHARGE: r = konaplate_flow_charge(&flow, &m->charge, &policy, p->now_ms(p->ctx), &e); break;
    case OP_CANCEL: r = konaplate_flow_cancel(&flow, &m->cancel, &policy, p->now_ms(p->ctx), &e); break;
    default: r = konaplate_flow_refund(&flow, &m->refund, &policy, p->now_ms(p->ctx), &e); break;
    }
    if (r != KONAPLATE_RESULT_OK) {
        report_error(p, "konaplate_flow_(new)", r, &e);
        lc->failures++;
        return false;
    }
    ok = drive(p, s, &flow, m, done);
    konaplate_flow_sends(&flow, &sends, NULL);
    konaplate_flow_wipe(&flow);
    say(p, "  outcome ", outcome_word(done->outcome), done->is_final ? " (final)" : " (open)", NULL);
    check(p, lc, ok && sends == 1, "sent exactly once, the journal record written before the send and after the answer");
    return ok;
}

/* ------------------------------------------------------------------ the lifecycle */

unsigned run_lifecycle(const struct platform *p, const konaplate_session *s, struct lifecycle *lc) {
    char token[17], dcvv[4];
    konaplate_action done;
    struct money m;

    lc->failures = 0;
    lc->steps = 0;

    /* 1-3: token, charge through the flow, result inquiry */
    say(p, "charge", NULL, NULL, NULL);
    if (!get_token(p, s, lc, token, dcvv)) return lc->failures + 1;
    memset(&m, 0, sizeof m);
    m.op = OP_CHARGE;
    new_sequence_id(p, "KPC-", lc->charge_sequence_id);
    m.sequence_id = lc->charge_sequence_id;
    text_copy(m.charge.sequence_id, sizeof m.charge.sequence_id, lc->charge_sequence_id);
    m.charge.user_id = lc->user_id;
    m.charge.amount = lc->charge_amount;
    text_copy(m.charge.one_time_token, sizeof m.charge.one_time_token, token);
    text_copy(m.charge.dcvv, sizeof m.charge.dcvv, dcvv);
    text_copy(m.charge.merchant_id, sizeof m.charge.merchant_id, lc->merchant_id);
    konaplate_wipe(token, sizeof token);
    konaplate_wipe(dcvv, sizeof dcvv);
    if (!money_call(p, s, &m, &done, lc)) return lc->failures + 1;
    konaplate_wipe(&m.charge, sizeof m.charge);
    lc->steps++;
    check(p, lc, done.outcome == KONAPLATE_OUTCOME_COMPLETED && done.is_final && done.nr_number[0] != '\0',
          "charge: COMPLETED with an nrNumber");
    text_copy(lc->charge_nr_number, sizeof lc->charge_nr_number, done.nr_number);
    if (!inquire(p, s, lc->charge_sequence_id, KONAPLATE_CHARGE_RESULT_COMPLETED, lc)) return lc->failures + 1;

    /* 4-5: token, cancellation through the flow (its answer comes as JWE) */
    say(p, "charge-cancel", NULL, NULL, NULL);
    if (!get_token(p, s, lc, token, dcvv)) return lc->failures + 1;
    memset(&m, 0, sizeof m);
    m.op = OP_CANCEL;
    new_sequence_id(p, "KPX-", lc->cancel_sequence_id);
    m.sequence_id = lc->cancel_sequence_id;
    text_copy(m.cancel.sequence_id, sizeof m.cancel.sequence_id, lc->cancel_sequence_id);
    m.cancel.user_id = lc->user_id;
    text_copy(m.cancel.nr_number, sizeof m.cancel.nr_number, lc->charge_nr_number);
    text_copy(m.cancel.one_time_token, sizeof m.cancel.one_time_token, token);
    text_copy(m.cancel.dcvv, sizeof m.cancel.dcvv, dcvv);
    konaplate_wipe(token, sizeof token);
    konaplate_wipe(dcvv, sizeof dcvv);
    if (!money_call(p, s, &m, &done, lc)) return lc->failures + 1;
    konaplate_wipe(&m.cancel, sizeof m.cancel);
    lc->cancel_answer_encrypted = m.answer_encrypted;
    lc->steps++;
    check(p, lc, done.outcome == KONAPLATE_OUTCOME_COMPLETED && done.is_final, "charge-cancel: COMPLETED");
    check(p, lc, m.answer_encrypted, "charge-cancel: the answer came as JWE and was decrypted through the unwrap callback");

    /* 6-7: token, refund fee */
    say(p, "refund-fee", NULL, NULL, NULL);
    if (!get_token(p, s, lc, token, dcvv)) return lc->failures + 1;
    {
        konaplate_refund_fee_request req;
        konaplate_refund_fee_reply reply;
        konaplate_stamp stamp;
        konaplate_encoded enc;
        konaplate_http http;
        konaplate_error e;
        konaplate_result r;
        memset(&req, 0, sizeof req);
        text_copy(req.one_time_token, sizeof req.one_time_token, token);
        req.user_id = lc->user_id;
        p->stamp(p->ctx, &stamp);
        r = konaplate_encode_refund_fee(s, &stamp, &req, NULL, request_buf, sizeof request_buf, &enc, &e);
        konaplate_wipe(&req, sizeof req);
        if (r != KONAPLATE_RESULT_OK) {
            report_error(p, "konaplate_encode_refund_fee", r, &e);
            return lc->failures + 1;
        }
        if (transmit(p, &enc, &http) != EXCHANGE_OK) return lc->failures + 1;
        r = konaplate_decode_refund_fee(response_buf + http.body_start, http.body_len, NULL, &reply, &e);
        if (r != KONAPLATE_RESULT_OK) {
            report_error(p, "konaplate_decode_refund_fee", r, &e);
            return lc->failures + 1;
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
    if (!get_token(p, s, lc, token, dcvv)) return lc->failures + 1;
    memset(&m, 0, sizeof m);
    m.op = OP_REFUND;
    new_sequence_id(p, "KPR-", lc->refund_sequence_id);
    m.sequence_id = lc->refund_sequence_id;
    text_copy(m.refund.sequence_id, sizeof m.refund.sequence_id, lc->refund_sequence_id);
    m.refund.user_id = lc->user_id;
    text_copy(m.refund.card_expiry, sizeof m.refund.card_expiry, lc->card_expiry);
    text_copy(m.refund.one_time_token, sizeof m.refund.one_time_token, token);
    text_copy(m.refund.dcvv, sizeof m.refund.dcvv, dcvv);
    konaplate_wipe(token, sizeof token);
    konaplate_wipe(dcvv, sizeof dcvv);
    if (!money_call(p, s, &m, &done, lc)) return lc->failures + 1;
    konaplate_wipe(&m.refund, sizeof m.refund);
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
        konaplate_encoded enc;
        konaplate_http http;
        konaplate_error e;
        konaplate_result r;
        uint32_t i;
        bool found = false;
        memset(&reg, 0, sizeof reg);
        reg.user_id = lc->user_id;
        text_copy(reg.par, sizeof reg.par, lc->par);
        fresh_crypto(p, &crypto);
        p->stamp(p->ctx, &stamp);
        r = konaplate_encode_register(s, &stamp, &reg, &crypto, request_buf, sizeof request_buf, &enc, &e);
        if (r != KONAPLATE_RESULT_OK) {
            report_error(p, "konaplate_encode_register", r, &e);
            return lc->failures + 1;
        }
        if (transmit(p, &enc, &http) != EXCHANGE_OK) return lc->failures + 1;
        r = konaplate_decode_register(response_buf + http.body_start, http.body_len, &crypto, &reg_reply, &e);
        konaplate_wipe(&crypto, sizeof crypto);
        if (r != KONAPLATE_RESULT_OK) {
            report_error(p, "konaplate_decode_register", r, &e);
            return lc->failures + 1;
        }
        lc->steps++;
        check(p, lc, reg_reply.header.success, "auto-recharge register: 000_000 (request sealed as JWE)");

        memset(&list, 0, sizeof list);
        list.user_id = lc->user_id;
        p->stamp(p->ctx, &stamp);
        r = konaplate_encode_list(s, &stamp, &list, NULL, request_buf, sizeof request_buf, &enc, &e);
        if (r != KONAPLATE_RESULT_OK) {
            report_error(p, "konaplate_encode_list", r, &e);
            return lc->failures + 1;
        }
        if (transmit(p, &enc, &http) != EXCHANGE_OK) return lc->failures + 1;
        r = konaplate_decode_list(response_buf + http.body_start, http.body_len, NULL, &list_reply, &e);
        if (r != KONAPLATE_RESULT_OK) {
            report_error(p, "konaplate_decode_list", r, &e);
            return lc->failures + 1;
        }
        for (i = 0; i < list_reply.count; i++) {
            if (text_eq(list_reply.items[i].par, lc->par) && text_len(list_reply.items[i].registered_date) == 14) found = true;
        }
        lc->steps++;
        check(p, lc, list_reply.header.success && found, "auto-recharge list: holds the registered PAR with its date");
    }
    return lc->failures;
}
