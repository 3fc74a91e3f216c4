/*
 * The C lifecycle on a host: POSIX sockets to the local sandbox, the JWE key callbacks with
 * OpenSSL's EVP API (RSA-OAEP-256), a journal file written with fsync, the system clocks.
 *
 *   host HOST:PORT SERVER_PUBLIC_KEY.pem CLIENT_PRIVATE_KEY.pem JOURNAL
 *
 * Prints one line per check and, on success, `c_host_ok=1`; exits non-zero on any failure.
 */
#define _POSIX_C_SOURCE 200809L
#include "lifecycle.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

struct host {
    struct sockaddr_in addr;
    int fd;
    /* the board's NOR flash, emulated: kept in memory, mirrored to a file with fsync */
    uint8_t flash[JOURNAL_SECTORS * JOURNAL_SECTOR_SIZE];
    int flash_fd;
    unsigned writes, erases;
};

struct keys {
    EVP_PKEY *server_public;
    EVP_PKEY *client_private;
};

/* ------------------------------------------------------------------ JWE callbacks */

static int oaep(EVP_PKEY *key, int encrypt, const uint8_t *in, size_t in_len, uint8_t *out, size_t out_cap,
                size_t *out_len) {
    int ok = 0;
    size_t n = out_cap;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
    if (ctx == NULL) return 1;
    if ((encrypt ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx)) == 1 &&
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
        EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1 && EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1) {
        ok = encrypt ? EVP_PKEY_encrypt(ctx, out, &n, in, in_len) == 1 : EVP_PKEY_decrypt(ctx, out, &n, in, in_len) == 1;
    }
    EVP_PKEY_CTX_free(ctx);
    if (!ok) return 1;
    *out_len = n;
    return 0;
}

/* Wraps the CEK to the platform's public key (a secure element would do this inside). */
static int wrap_cek(void *userdata, const uint8_t *cek, size_t cek_len, uint8_t *out, size_t out_cap, size_t *out_len) {
    struct keys *k = userdata;
    return oaep(k->server_public, 1, cek, cek_len, out, out_cap, out_len);
}

/* Unwraps an answer's CEK with the client's private key. */
static int unwrap_cek(void *userdata, const uint8_t *wrapped, size_t wrapped_len, uint8_t *out, size_t out_cap,
                      size_t *out_len) {
    struct keys *k = userdata;
    uint8_t tmp[512];
    size_t n = 0;
    /* OpenSSL wants room for a whole RSA block; copy out only what fits the caller */
    if (oaep(k->client_private, 0, wrapped, wrapped_len, tmp, sizeof tmp, &n) != 0 || n > out_cap) {
        OPENSSL_cleanse(tmp, sizeof tmp);
        return 1;
    }
    memcpy(out, tmp, n);
    OPENSSL_cleanse(tmp, sizeof tmp);
    *out_len = n;
    return 0;
}

static EVP_PKEY *read_key(const char *path, int private_key) {
    EVP_PKEY *k;
    FILE *f = fopen(path, "r");
    if (f == NULL) return NULL;
    k = private_key ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : PEM_read_PUBKEY(f, NULL, NULL, NULL);
    fclose(f);
    return k;
}

/* ------------------------------------------------------------------ the platform */

static int connect_platform(void *ctx) {
    struct host *h = ctx;
    struct timeval tv = {10, 0};
    h->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (h->fd < 0) return -1;
    setsockopt(h->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(h->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(h->fd, (const struct sockaddr *)&h->addr, sizeof h->addr) != 0) {
        close(h->fd);
        h->fd = -1;
        return -1; /* nothing left the machine */
    }
    return 0;
}

static long send_bytes(void *ctx, const uint8_t *b, size_t n) {
    struct host *h = ctx;
    ssize_t w = send(h->fd, b, n, MSG_NOSIGNAL);
    return w < 0 ? -1 : (long)w;
}

static long recv_bytes(void *ctx, uint8_t *b, size_t cap) {
    struct host *h = ctx;
    ssize_t n = recv(h->fd, b, cap, 0);
    return n < 0 ? -1 : (long)n; /* -1: a timeout or a reset, after the request may have left */
}

static void close_platform(void *ctx) {
    struct host *h = ctx;
    if (h->fd >= 0) close(h->fd);
    h->fd = -1;
}

static uint64_t now_ms(void *ctx) {
    struct timespec t;
    (void)ctx;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void sleep_until(void *ctx, uint64_t ms) {
    uint64_t now = now_ms(ctx);
    if (ms > now) {
        struct timespec t = {(time_t)((ms - now) / 1000u), (long)((ms - now) % 1000u) * 1000000L};
        nanosleep(&t, NULL);
    }
}

static void random_bytes(void *ctx, uint8_t *out, size_t len) {
    (void)ctx;
    if (RAND_bytes(out, (int)len) != 1) abort();
}

static void stamp(void *ctx, konaplate_stamp *s) {
    struct timespec t;
    struct tm kst;
    time_t secs;
    uint8_t r[4];
    clock_gettime(CLOCK_REALTIME, &t);
    secs = t.tv_sec + 9 * 3600; /* KST is UTC+9, no daylight saving */
    gmtime_r(&secs, &kst);
    memset(s, 0, sizeof *s);
    s->year = (uint16_t)(kst.tm_year + 1900);
    s->month = (uint8_t)(kst.tm_mon + 1);
    s->day = (uint8_t)kst.tm_mday;
    s->hour = (uint8_t)kst.tm_hour;
    s->minute = (uint8_t)kst.tm_min;
    s->second = (uint8_t)(kst.tm_sec > 59 ? 59 : kst.tm_sec);
    s->millisecond = (uint16_t)(t.tv_nsec / 1000000L);
    text_copy(s->time_zone, sizeof s->time_zone, "KST");
    random_bytes(ctx, r, sizeof r);
    s->random = (uint32_t)r[0] | (uint32_t)r[1] << 8 | (uint32_t)r[2] << 16 | (uint32_t)r[3] << 24;
}

/* ------------------------------------------------------------------ the flash */

static int mirror(struct host *h, uint32_t at, size_t len) {
    return pwrite(h->flash_fd, h->flash + at, len, (off_t)at) == (ssize_t)len && fsync(h->flash_fd) == 0 ? 0 : 1;
}

static int flash_read(void *userdata, uint32_t offset, uint8_t *out, size_t len) {
    struct host *h = userdata;
    if ((size_t)offset + len > sizeof h->flash) return 1;
    memcpy(out, h->flash + offset, len);
    return 0;
}

/* NOR flash: a byte is programmed once after an erase (the journal never does otherwise). */
static int flash_write(void *userdata, uint32_t offset, const uint8_t *data, size_t len) {
    struct host *h = userdata;
    size_t i;
    if ((size_t)offset + len > sizeof h->flash) return 1;
    for (i = 0; i < len; i++) {
        if (h->flash[offset + i] != 0xFF) {
            fprintf(stderr, "flash: byte %u written twice\n", (unsigned)(offset + i));
            return 1;
        }
    }
    memcpy(h->flash + offset, data, len);
    h->writes++;
    return mirror(h, offset, len);
}

static int flash_erase(void *userdata, uint32_t from, uint32_t to) {
    struct host *h = userdata;
    if (to > sizeof h->flash || from > to || from % JOURNAL_SECTOR_SIZE != 0 || to % JOURNAL_SECTOR_SIZE != 0) return 1;
    memset(h->flash + from, 0xFF, to - from);
    h->erases++;
    return mirror(h, from, to - from);
}

static void log_line(void *ctx, const char *line) {
    (void)ctx;
    puts(line);
}

int main(int argc, char **argv) {
    struct host h;
    struct keys k;
    struct platform p;
    struct lifecycle lc;
    konaplate_session session;
    konaplate_error e;
    konaplate_result r;
    char *colon;
    unsigned failures;
    char host_arg[64];

    if (argc != 5) {
        fprintf(stderr, "usage: %s HOST:PORT SERVER_PUBLIC_KEY.pem CLIENT_PRIVATE_KEY.pem FLASH_IMAGE\n", argv[0]);
        return 2;
    }
    printf("konaplate %s (C ABI), header sizes: session %u bytes, flow %u bytes, call %u bytes, record %u bytes\n",
           konaplate_version(), (unsigned)sizeof(konaplate_session), (unsigned)sizeof(konaplate_flow),
           (unsigned)sizeof(konaplate_call), (unsigned)KONAPLATE_RECORD_SIZE);
    memset(&h, 0, sizeof h);
    h.fd = -1;
    text_copy(host_arg, sizeof host_arg, argv[1]);
    colon = strchr(host_arg, ':');
    if (colon == NULL) return 2;
    *colon = '\0';
    h.addr.sin_family = AF_INET;
    h.addr.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host_arg, &h.addr.sin_addr) != 1) return 2;
    /* the flash as the file keeps it (blank the first time) */
    memset(h.flash, 0xFF, sizeof h.flash);
    h.flash_fd = open(argv[4], O_RDWR | O_CREAT, 0600);
    if (h.flash_fd < 0 || pread(h.flash_fd, h.flash, sizeof h.flash, 0) < 0 || mirror(&h, 0, sizeof h.flash) != 0) {
        perror("flash");
        return 2;
    }
    k.server_public = read_key(argv[2], 0);
    k.client_private = read_key(argv[3], 1);
    if (k.server_public == NULL || k.client_private == NULL) {
        fprintf(stderr, "cannot read the keys\n");
        return 2;
    }

    memset(&p, 0, sizeof p);
    p.ctx = &h;
    p.connect = connect_platform;
    p.send = send_bytes;
    p.recv = recv_bytes;
    p.close = close_platform;
    p.now_ms = now_ms;
    p.sleep_until = sleep_until;
    p.stamp = stamp;
    p.random = random_bytes;
    p.flash.read = flash_read;
    p.flash.write = flash_write;
    p.flash.erase = flash_erase;
    p.flash.userdata = &h;
    p.flash.capacity = sizeof h.flash;
    p.flash.write_size = 8;
    p.flash.erase_size = JOURNAL_SECTOR_SIZE;
    p.wrap = wrap_cek;
    p.unwrap = unwrap_cek;
    p.key_userdata = &k;
    p.log = log_line;

    /* the sandbox's project credentials; the Host header is what was dialled */
    r = konaplate_session_init(&session, "100000000000001", "SANDBOX-0123456789abcdef0123456789abcdef",
                               "kona-sandbox-secret-0001", "00000000000000000000000000c0ffee", argv[1], &e);
    if (r != KONAPLATE_RESULT_OK) {
        fprintf(stderr, "session: %s\n", e.message);
        return 1;
    }

    memset(&lc, 0, sizeof lc);
    lc.card_no = "9410000000000011";
    lc.user_id = 50000100001u;
    lc.merchant_id = "100000000000101";
    lc.card_expiry = "3108";
    lc.par = "Q10000000000000000000000011";
    lc.charge_amount = 7000;
    failures = run_lifecycle(&p, &session, &lc);
    puts("bad inputs");
    failures += run_bad_inputs(&p, &session);
    puts("the caller's side of the contract");
    failures += run_contract(&p, &session);

    printf("journal: %u flash writes, %u erases, mirrored with fsync\n", h.writes, h.erases);
    printf("charge %s nr %s, cancel %s, refund %s nr %s, refund fee: balance %llu fee %llu amount %llu\n",
           lc.charge_sequence_id, lc.charge_nr_number, lc.cancel_sequence_id, lc.refund_sequence_id, lc.refund_nr_number,
           (unsigned long long)lc.refund_fee_balance, (unsigned long long)lc.refund_fee,
           (unsigned long long)lc.refund_amount);
    konaplate_session_wipe(&session);
    EVP_PKEY_free(k.server_public);
    EVP_PKEY_free(k.client_private);
    konaplate_journal_wipe(&journal);
    close(h.flash_fd);
    if (failures != 0 || lc.steps != 11) {
        printf("c_host_ok=0 (%u failed checks, %u of 11 steps)\n", failures, lc.steps);
        return 1;
    }
    puts("c_host_ok=1");
    return 0;
}
