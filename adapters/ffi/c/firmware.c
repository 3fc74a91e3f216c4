/*
 * The C lifecycle on a Cortex-M4F under QEMU (mps2-an386): the same lifecycle.c and
 * bad_inputs.c as the host program, over the sandbox's recorded answers (fixtures.h,
 * generated from adapters/firmware/src/fixtures.rs) served in 5-byte pieces. The JWE key
 * callbacks stand in for a secure element. Output through semihosting; no C library
 * formatting, no heap.
 */
#include <stdint.h>
#include <string.h>

#include "fixtures.h"
#include "lifecycle.h"

/* ------------------------------------------------------------------ semihosting */

static int semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static void put(const char *s) { semihost(0x04, s); /* SYS_WRITE0 */ }

static void line(const char *s) {
    put(s);
    put("\n");
}

static void __attribute__((noreturn)) finish(int ok) {
    /* SYS_EXIT with ADP_Stopped_ApplicationExit (success) or ADP_Stopped_RunTimeErrorUnknown */
    semihost(0x18, (const void *)(uintptr_t)(ok ? 0x20026 : 0x20023));
    for (;;) {}
}

void abort(void) {
    line("abort");
    finish(0);
}

/* ------------------------------------------------------------------ the platform */

struct replay {
    uint64_t clock_ms;
    uint32_t rng;
    uint8_t line[96];                       /* the start of the request sent */
    size_t line_len;
    const uint8_t *answer;
    size_t answer_len, at;
};

static bool contains(const uint8_t *hay, size_t n, const char *needle) {
    size_t m = text_len(needle), i;
    for (i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0) return true;
    return false;
}

/* A new "connection": the request line it is sent decides which recorded answer comes back. */
static int connect_platform(void *ctx) {
    struct replay *r = ctx;
    r->line_len = 0;
    r->answer = NULL;
    r->at = 0;
    return 0;
}

static long send_bytes(void *ctx, const uint8_t *b, size_t n) {
    struct replay *r = ctx;
    size_t i;
    for (i = 0; i < n && r->line_len < sizeof r->line; i++) r->line[r->line_len++] = b[i];
    return (long)n;
}

static void pick_answer(struct replay *r) {
    const uint8_t *req = r->line;
    size_t line_end = 0;
    while (line_end < r->line_len && req[line_end] != '\r') line_end++;
    if (contains(req, line_end, "onetimetoken")) { r->answer = FIX_TOKEN; r->answer_len = sizeof FIX_TOKEN; }
    else if (contains(req, line_end, "no-hce/cancel")) { r->answer = FIX_CANCEL; r->answer_len = sizeof FIX_CANCEL; }
    else if (contains(req, line_end, "result/inquiry")) { r->answer = FIX_CHARGE_RESULT_CHUNKED; r->answer_len = sizeof FIX_CHARGE_RESULT_CHUNKED; }
    else if (contains(req, line_end, "no-hce")) { r->answer = FIX_CHARGE; r->answer_len = sizeof FIX_CHARGE; }
    else if (contains(req, line_end, "refund/fee")) { r->answer = FIX_REFUND_FEE; r->answer_len = sizeof FIX_REFUND_FEE; }
    else if (contains(req, line_end, "refund/card")) { r->answer = FIX_REFUND; r->answer_len = sizeof FIX_REFUND; }
    else if (contains(req, line_end, "payments/register")) { r->answer = FIX_REGISTER; r->answer_len = sizeof FIX_REGISTER; }
    else if (contains(req, line_end, "plans")) { r->answer = FIX_LIST; r->answer_len = sizeof FIX_LIST; }
}

/* The recorded answer, in 5-byte pieces, as from a slow socket; then the peer closes. */
static long recv_bytes(void *ctx, uint8_t *b, size_t cap) {
    struct replay *r = ctx;
    size_t n;
    if (r->answer == NULL) pick_answer(r);
    if (r->answer == NULL) return -1;
    n = r->answer_len - r->at;
    if (n > 5) n = 5;
    if (n > cap) n = cap;
    memcpy(b, r->answer + r->at, n);
    r->at += n;
    return (long)n;
}

static void close_platform(void *ctx) { (void)ctx; }

static uint64_t now_ms(void *ctx) {
    struct replay *r = ctx;
    return r->clock_ms += 3; /* a clock that moves a little with every look */
}

static void sleep_until(void *ctx, uint64_t ms) {
    struct replay *r = ctx;
    if (ms > r->clock_ms) r->clock_ms = ms;
}

/* A stand-in for a hardware random source (use your TRNG). */
static void random_bytes(void *ctx, uint8_t *out, size_t len) {
    struct replay *r = ctx;
    size_t i;
    for (i = 0; i < len; i++) {
        r->rng ^= r->rng << 13;
        r->rng ^= r->rng >> 17;
        r->rng ^= r->rng << 5;
        out[i] = (uint8_t)r->rng;
    }
}

static void stamp(void *ctx, konaplate_stamp *s) {
    struct replay *r = ctx;
    uint64_t ms = r->clock_ms;
    memset(s, 0, sizeof *s);
    s->year = 2026;
    s->month = 11;
    s->day = 23;
    s->hour = 19;
    s->minute = 54;
    s->second = 6;
    s->millisecond = (uint16_t)u64_divmod(&ms, 1000);
    text_copy(s->time_zone, sizeof s->time_zone, "KST");
    random_bytes(ctx, (uint8_t *)&s->random, sizeof s->random);
}

/* The board's NOR flash: 3 sectors of 4 KiB of RAM here; a byte is programmed once after an
 * erase. */
static uint8_t flash_mem[JOURNAL_SECTORS * JOURNAL_SECTOR_SIZE] __attribute__((section(".journal")));
static unsigned flash_writes;

static int flash_read(void *userdata, uint32_t offset, uint8_t *out, size_t len) {
    (void)userdata;
    if ((size_t)offset + len > sizeof flash_mem) return 1;
    memcpy(out, flash_mem + offset, len);
    return 0;
}

static int flash_write(void *userdata, uint32_t offset, const uint8_t *data, size_t len) {
    size_t i;
    (void)userdata;
    if ((size_t)offset + len > sizeof flash_mem) return 1;
    for (i = 0; i < len; i++)
        if (flash_mem[offset + i] != 0xFF) return 1;
    memcpy(flash_mem + offset, data, len);
    flash_writes++;
    return 0;
}

static int flash_erase(void *userdata, uint32_t from, uint32_t to) {
    (void)userdata;
    if (to > sizeof flash_mem || from > to) return 1;
    memset(flash_mem + from, 0xFF, to - from);
    return 0;
}

/* The secure element stand-in: wraps by padding (nobody unwraps the example's requests) and
 * unwraps the recorded cancellation's key to the CEK the real client key protects. */
static int wrap_cek(void *userdata, const uint8_t *cek, size_t cek_len, uint8_t *out, size_t out_cap, size_t *out_len) {
    (void)userdata;
    if (out_cap < 256 || cek_len > 256) return 1;
    memset(out, 0x5a, 256);
    memcpy(out, cek, cek_len);
    *out_len = 256;
    return 0;
}

static int unwrap_cek(void *userdata, const uint8_t *wrapped, size_t wrapped_len, uint8_t *out, size_t out_cap,
                      size_t *out_len) {
    (void)userdata;
    if (wrapped_len != FIX_CANCEL_WRAPPED_LEN || memcmp(wrapped, FIX_CANCEL_WRAPPED_PREFIX, sizeof FIX_CANCEL_WRAPPED_PREFIX) != 0 ||
        out_cap < sizeof FIX_CANCEL_CEK)
        return 1;
    memcpy(out, FIX_CANCEL_CEK, sizeof FIX_CANCEL_CEK);
    *out_len = sizeof FIX_CANCEL_CEK;
    return 0;
}

extern uint32_t _ebss;

/* Counts `pattern` in the dead stack: from the end of .bss up to just below this frame. */
static unsigned stack_hits(void *ctx, const uint8_t *pattern, size_t len) {
    const uint8_t *sp, *p;
    unsigned n = 0;
    (void)ctx;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (p = (const uint8_t *)&_ebss; p + len + 64 <= sp; p++)
        if (memcmp(p, pattern, len) == 0) n++;
    return n;
}

static void log_line(void *ctx, const char *s) {
    (void)ctx;
    line(s);
}

/* ------------------------------------------------------------------ startup and stack use */

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
#define PAINT 0xDEADBEEFu

static uint32_t peak_stack(void) {
    uint32_t *p = &_ebss;
    while (p < &_estack && *p == PAINT) p++;
    return (uint32_t)((uintptr_t)&_estack - (uintptr_t)p);
}

int main(void) {
    static struct replay r;
    static struct platform p;
    static struct lifecycle lc;
    static konaplate_session session;
    konaplate_error e;
    unsigned failures;
    char num[24];

    r.rng = 0x2545F491u;
    p.ctx = &r;
    p.connect = connect_platform;
    p.send = send_bytes;
    p.recv = recv_bytes;
    p.close = close_platform;
    p.now_ms = now_ms;
    p.sleep_until = sleep_until;
    p.stamp = stamp;
    p.random = random_bytes;
    memset(flash_mem, 0xFF, sizeof flash_mem);
    p.flash.read = flash_read;
    p.flash.write = flash_write;
    p.flash.erase = flash_erase;
    p.flash.userdata = NULL;
    p.flash.capacity = sizeof flash_mem;
    p.flash.write_size = 8;
    p.flash.erase_size = JOURNAL_SECTOR_SIZE;
    p.wrap = wrap_cek;
    p.unwrap = unwrap_cek;
    p.key_userdata = NULL;
    p.log = log_line;
    p.stack_hits = stack_hits;

    if (konaplate_session_init(&session, "100000000000001", "SANDBOX-0123456789abcdef0123456789abcdef",
                               "kona-sandbox-secret-0001", "00000000000000000000000000c0ffee", "sandbox.konaplate.com",
                               &e) != KONAPLATE_RESULT_OK) {
        line(e.message);
        finish(0);
    }
    lc.card_no = "9410000000000011";
    lc.user_id = 50000100001u;
    lc.merchant_id = "100000000000101";
    lc.card_expiry = "3108";
    lc.par = FIX_PAR;
    lc.charge_amount = 50000;
    failures = run_lifecycle(&p, &session, &lc);
#ifndef KONAPLATE_LIFECYCLE_ONLY
    line("bad inputs");
    failures += run_bad_inputs(&p, &session);
    line("the caller's side of the contract");
    failures += run_contract(&p, &session);
#endif
    konaplate_session_wipe(&session);

    put("journal: flash writes ");
    line(u64_text(flash_writes, num, sizeof num));
    if (failures != 0 || lc.steps != 11) {
        line("c_firmware: FAILED");
        finish(0);
    }
    put("c_firmware: ");
    put(u64_text(lc.steps, num, sizeof num));
#ifndef KONAPLATE_LIFECYCLE_ONLY
    line(" lifecycle steps, every bad input and the contract OK on Cortex-M4F");
#else
    line(" lifecycle steps OK on Cortex-M4F (the till's image: no checks linked)");
#endif
    put("stack_peak_bytes=");
    line(u64_text(peak_stack(), num, sizeof num));
    finish(1);
}

void Reset_Handler(void) {
    uint32_t *src = &_sidata, *dst = &_sdata;
    uint32_t *sp;
    while (dst < &_edata) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss; dst++) *dst = 0;
    /* the FPU (the library is built for the hard-float ABI) */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n isb");
    /* paint the unused stack to measure its peak use */
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (dst = &_ebss; dst + 16 < sp; dst++) *dst = PAINT;
    (void)main();
    finish(0);
}

static void Fault_Handler(void) {
    line("fault");
    finish(0);
}

__attribute__((section(".isr_vector"), used)) static const void *const vectors[16] = {
    &_estack, (const void *)Reset_Handler, (const void *)Fault_Handler, (const void *)Fault_Handler,
    (const void *)Fault_Handler, (const void *)Fault_Handler, (const void *)Fault_Handler,
};
