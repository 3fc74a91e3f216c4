/*
 * The demo lifecycle in C over konaplate.h — token, charge, result, cancellation, refund fee,
 * refund, auto-recharge register and list — every exchange a konaplate_call whose bytes one
 * short loop moves, the money-moving ones driven through a konaplate_flow (its record persisted
 * whenever the flow asks, before every send). The same source runs on a host (POSIX sockets,
 * OpenSSL) and on a Cortex-M4F under QEMU (recorded answers): the platform part comes in
 * through `struct platform`.
 */
#ifndef KONAPLATE_LIFECYCLE_H
#define KONAPLATE_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "konaplate.h"

struct platform {
    void *ctx;
    /* Opens a connection to the platform; 0 on success (on failure nothing was written). */
    int (*connect)(void *ctx);
    /* Writes up to `len` bytes: the number the socket took, or -1 (the request may have
     * left). */
    long (*send)(void *ctx, const uint8_t *bytes, size_t len);
    /* Reads up to `cap` bytes: the number read (0: the peer closed), or -1 (a timeout, a
     * reset). */
    long (*recv)(void *ctx, uint8_t *bytes, size_t cap);
    /* Closes the connection. */
    void (*close)(void *ctx);
    /* Milliseconds on a monotonic clock, and waiting until a time on it. */
    uint64_t (*now_ms)(void *ctx);
    void (*sleep_until)(void *ctx, uint64_t ms);
    /* The wall clock in KST and fresh random bits for a stamp. */
    void (*stamp)(void *ctx, konaplate_stamp *out);
    /* Fresh random bytes (CEK, IV, sequenceId). */
    void (*random)(void *ctx, uint8_t *out, size_t len);
    /* The board's NOR flash (callbacks and geometry): the money journal lives in its first
     * JOURNAL_SECTORS sectors of 4 KiB. */
    konaplate_flash flash;
    /* JWE key callbacks and their userdata. */
    konaplate_wrap_fn wrap;
    konaplate_unwrap_fn unwrap;
    void *key_userdata;
    /* One line of progress. */
    void (*log)(void *ctx, const char *line);
    /* How many times `pattern` is in the dead part of the stack (below the caller's frame);
     * NULL where the stack cannot be read (a host under AddressSanitizer). */
    unsigned (*stack_hits)(void *ctx, const uint8_t *pattern, size_t len);
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
    char charge_sequence_id[KONAPLATE_SEQUENCE_ID_SIZE];
    char charge_nr_number[KONAPLATE_NR_NUMBER_SIZE];
    char cancel_sequence_id[KONAPLATE_SEQUENCE_ID_SIZE];
    char refund_sequence_id[KONAPLATE_SEQUENCE_ID_SIZE];
    char refund_nr_number[KONAPLATE_REFUND_NR_NUMBER_SIZE];
    uint64_t refund_fee_balance;
    uint64_t refund_fee;
    uint64_t refund_amount;
    bool cancel_answer_encrypted;
    unsigned steps;
    unsigned failures;
};

/* The one buffer of every exchange (request, then response; JWE needs 4 KiB). */
extern uint8_t exchange_buf[4096];

/* The money journal on the board's flash: 3 sectors of 4 KiB from offset 0. */
#define JOURNAL_SECTORS 3u
#define JOURNAL_SECTOR_SIZE 4096u
extern konaplate_journal journal;

/* Opens the journal at boot and drives every call it holds that awaits the platform to its
 * outcome (resumed from its record, never sent again); closes settled ones. Returns the
 * number of calls it resumed, or -1 when the journal or the library failed. */
int open_and_recover(const struct platform *p, const konaplate_session *s, konaplate_journal_report *report);

/* Moves the bytes of `call` over a new connection: 0 when the whole answer is in, -1 when
 * the connection failed (give the call up: konaplate_call_abort, or back to its flow). */
int move_bytes(const struct platform *p, konaplate_call *call);

/* Fresh keys for one exchange (the CEK and IV are random every time). */
void fresh_crypto(const struct platform *p, konaplate_crypto *c);

/* Drives `flow` to its end: persists its record whenever it asks, makes every call it hands
 * out. `*done` is its last action (DONE). False when the journal or the library failed (the
 * call then stays open in the journal: never send it again under a new sequenceId). */
bool drive_flow(const struct platform *p, const konaplate_session *s, konaplate_flow *flow, konaplate_action *done,
                bool *answer_encrypted);

/* Runs every step on `session`; returns the number of failed checks (0: all passed). */
unsigned run_lifecycle(const struct platform *p, const konaplate_session *session, struct lifecycle *lc);

/* NULL pointers, too-small buffers, invalid fields, hostile responses, damaged records:
 * each gets its documented error code. Returns the number of failed checks. */
unsigned run_bad_inputs(const struct platform *p, const konaplate_session *session);

/* The caller's side of the contract: misaligned or foreign storage, a flow over an open one,
 * another call's answer, out-parameters on errors, a cleared error on success, nothing of an
 * answer left in the buffer, embedded NULs, a callback calling back, a response that closes
 * early or does not fit, a resume after a reboot. Returns the number of failed checks. */
unsigned run_contract(const struct platform *p, const konaplate_session *session);

/* What the checks share (bad_inputs.c). */
extern unsigned check_failures;
void expect(const struct platform *p, bool ok, const char *what);
bool all_zero(const uint8_t *b, size_t n);
void valid_charge(konaplate_charge_request *r);
void valid_stamp(konaplate_stamp *s);
/* Writes the whole request of `call` (as a socket that takes everything). */
konaplate_result write_request(konaplate_call *call, uint8_t *buf, size_t cap);
/* Feeds `answer` to `call` in 7-byte reads, up to COMPLETE or the first error. */
konaplate_result feed_answer(konaplate_call *call, uint8_t *buf, size_t cap, const char *answer, size_t len,
                             konaplate_progress *progress, konaplate_error *e);
/* Begins the result inquiry of "BAD-Q" in `call`. */
konaplate_result begin_inquiry(konaplate_call *call, const konaplate_session *session, uint8_t *buf, size_t cap);

/* Small helpers without the C library's formatting (the firmware has none). */
void text_copy(char *dst, size_t cap, const char *src);
size_t text_len(const char *s);
bool text_eq(const char *a, const char *b);
/* v / d into v, returning v % d (d nonzero), in 32-bit arithmetic: a Cortex-M has no 64-bit
 * divide, and libgcc's would add about 1 KiB to the image. */
uint32_t u64_divmod(uint64_t *v, uint16_t d);
char *u64_text(uint64_t v, char *buf, size_t cap);
void say(const struct platform *p, const char *a, const char *b, const char *c, const char *d);
void report_error(const struct platform *p, const char *call, konaplate_result r, const konaplate_error *e);

#endif
