/*
 * The demo lifecycle in C over konaplate.h — token, charge, result, cancellation, refund fee,
 * refund, auto-recharge register and list — with the money-moving calls driven through
 * konaplate_flow (journal record persisted before every send). The same source runs on a
 * host (POSIX sockets, OpenSSL) and on a Cortex-M4F under QEMU (recorded answers): the
 * platform part comes in through `struct platform`.
 */
#ifndef KONAPLATE_LIFECYCLE_H
#define KONAPLATE_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "konaplate.h"

/* How one exchange ended. */
enum exchange_status {
    EXCHANGE_OK = 0,       /* a whole response is in the buffer */
    EXCHANGE_NOT_SENT = 1, /* nothing left the machine (connect refused, ...) */
    EXCHANGE_LOST = 2,     /* the request may have arrived; no whole answer came */
};

struct platform {
    void *ctx;
    /* Writes req[0..req_len] to a new connection and reads the answer into resp[0..cap]
     * until konaplate_response_complete says it is whole; fills *http. */
    enum exchange_status (*exchange)(void *ctx, const uint8_t *req, size_t req_len,
                                     uint8_t *resp, size_t cap, konaplate_http *http);
    /* Milliseconds on a monotonic clock, and waiting until a time on it. */
    uint64_t (*now_ms)(void *ctx);
    void (*sleep_until)(void *ctx, uint64_t ms);
    /* The wall clock in KST and fresh random bits for a stamp. */
    void (*stamp)(void *ctx, konaplate_stamp *out);
    /* Fresh random bytes (CEK, IV, sequenceId). */
    void (*random)(void *ctx, uint8_t *out, size_t len);
    /* Durably appends a journal record (KONAPLATE_RECORD_SIZE bytes). 0 on success. */
    int (*persist)(void *ctx, const uint8_t *record, size_t len);
    /* JWE key callbacks and their userdata. */
    konaplate_wrap_fn wrap;
    konaplate_unwrap_fn unwrap;
    void *key_userdata;
    /* One line of progress. */
    void (*log)(void *ctx, const char *line);
};

/* What the lifecycle uses and what it learned (for the caller's own checks). */
struct lifecycle {
    /* inputs */
    const char *card_no;
    uint64_t user_id;
    const char *merchant_id;
    const char *card_expiry;
    const char *par;
    uint64_t charge_amount;
    /* outputs */
    char charge_sequence_id[31];
    char charge_nr_number[51];
    char cancel_sequence_id[31];
    char refund_sequence_id[31];
    char refund_nr_number[19];
    uint64_t refund_fee_balance;
    uint64_t refund_fee;
    uint64_t refund_amount;
    bool cancel_answer_encrypted;
    unsigned steps;
    unsigned failures;
};

/* Runs every step on `session`; returns the number of failed checks (0: all passed). */
unsigned run_lifecycle(const struct platform *p, const konaplate_session *session, struct lifecycle *lc);

/* NULL pointers, too-small buffers, invalid fields, hostile responses, damaged records:
 * each gets its documented error code. Returns the number of failed checks. */
unsigned run_bad_inputs(const struct platform *p, const konaplate_session *session);

/* Small helpers without the C library's formatting (the firmware has none). */
void text_copy(char *dst, size_t cap, const char *src);
size_t text_len(const char *s);
bool text_eq(const char *a, const char *b);
char *u64_text(uint64_t v, char *buf, size_t cap);

#endif
