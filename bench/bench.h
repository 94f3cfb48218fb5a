/*
 * bench.h - shared pieces of petrel-bench: the per-side meter, the
 * allocation counters, the benchmark cases and the interface that both
 * library drivers (Petrel and OpenSSL's libssl) implement.
 *
 * Every call into a TLS library is made "on a side": the caller brackets
 * it with side_begin/side_end, which adds the elapsed CLOCK_MONOTONIC time
 * to that side's meter, tags the allocations made meanwhile with the side,
 * and, under callgrind, switches instruction collection on for the side
 * being profiled.
 */
#ifndef PETREL_BENCH_H
#define PETREL_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

typedef enum bench_side { SIDE_CLIENT = 0, SIDE_SERVER = 1 } bench_side;

/* ---- allocation counters (alloc.c) ---- */

/* Live and peak bytes per side; "crypto" is the part requested through
 * libcrypto's allocator (CRYPTO_malloc), the rest came from plain malloc. */
typedef struct bench_mem {
    int64_t live[2];
    int64_t live_crypto[2];
    int64_t peak[2];
} bench_mem;

/* Installs the libcrypto allocator hook; must run before any libcrypto call. */
bool bench_alloc_init(void);
/* Counting is off by default; turn it on only while one thread runs. */
void bench_alloc_counting(bool on);
void bench_alloc_snapshot(bench_mem *out);
/* Resets the peak of a side to its current live bytes. */
void bench_alloc_reset_peak(bench_side side);

/* Allocations made by this thread are tagged with side + 1 (0: none). */
extern _Thread_local int bench_alloc_tag;

/* ---- the meter ---- */

/* Nanoseconds spent on each side by this thread, accumulated. */
extern _Thread_local uint64_t bench_side_ns[2];
/* Under callgrind: the side whose calls are collected, -1 for none. */
extern int bench_cg_side;

static inline uint64_t bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_cg_toggle(bench_side side);

static inline uint64_t side_begin(bench_side side)
{
    bench_alloc_tag = (int)side + 1;
    if (bench_cg_side == (int)side) {
        bench_cg_toggle(side);
    }
    return bench_now();
}

static inline void side_end(bench_side side, uint64_t start)
{
    bench_side_ns[side] += bench_now() - start;
    if (bench_cg_side == (int)side) {
        bench_cg_toggle(side);
    }
    bench_alloc_tag = 0;
}

/* Runs one statement on a side. */
#define ON_SIDE(side, stmt)                                                                        \
    do {                                                                                           \
        uint64_t on_side_t0_ = side_begin(side);                                                   \
        stmt;                                                                                      \
        side_end(side, on_side_t0_);                                                               \
    } while (0)

/* ---- cases and drivers ---- */

/* Protocol versions by their wire values: both libraries are set to allow
 * only the one a case names. */
#define BENCH_TLS12 0x0303
#define BENCH_TLS13 0x0304

/* What a pair of contexts is built for. */
typedef struct bench_case {
    const char *pki_dir;
    int version;             /* BENCH_TLS12 or BENCH_TLS13 */
    const char *server_leaf; /* "server-p256" or "server-rsa2048" */
    const char *client_leaf; /* client certificate, NULL for none */
    bool client_auth;        /* server requires a certificate in the handshake */
    bool pha;                /* server asks for it after the handshake instead */
    const char *suite;       /* the one suite offered: TLS 1.3 by IANA name, TLS 1.2 by
                              * OpenSSL's name (ECDHE-ECDSA-AES128-GCM-SHA256) */
    size_t transport_cap;    /* bytes the memory transport holds one way */
    bool release_buffers;    /* OpenSSL only: SSL_MODE_RELEASE_BUFFERS */
    bool require_ems;        /* Petrel only, TLS 1.2: refuse a handshake without the extended
                              * master secret, so that the sanity pass can show it was used
                              * (OpenSSL reports it with SSL_get_extms_support instead) */
    int tickets;             /* TLS 1.3 session tickets the server sends after each handshake */
} bench_case;

/* A library under test. Environments hold the two contexts; pairs hold a
 * connected client and server. All functions return 0 on success and print
 * a sentence to stderr on failure. */
typedef struct bench_impl {
    const char *name;
    void *(*env_new)(const bench_case *bc);
    void (*env_free)(void *env);
    /* New client (aimed at host) and server; untimed transport setup. */
    void *(*pair_new)(void *env, const char *host);
    int (*handshake)(void *pair);
    int (*pha_round)(void *pair);
    /* Client writes len bytes in writes of wsize; server reads them all. */
    int (*transfer)(void *pair, const uint8_t *data, size_t len, size_t wsize);
    void (*pair_free)(void *pair);
    /* One line about what was negotiated, for the report. */
    void (*describe)(void *pair, char *out, size_t cap);
    /* Resumption: after a handshake the client reads until the server's
     * ticket has arrived; returns its session, NULL on failure. */
    void *(*session_take)(void *pair);
    /* Offers a session on a new pair's client, before its handshake. */
    int (*session_offer)(void *pair, void *session);
    /* Whether both ends say the handshake resumed a session. */
    bool (*resumed)(void *pair);
    void (*session_free)(void *session);
} bench_impl;

extern const bench_impl bench_petrel;
extern const bench_impl bench_openssl;

/* ---- test PKI (pki.c) ---- */

/* Generates the PKI into a fresh temporary directory; returns its path
 * (static storage) or NULL. */
const char *bench_pki_generate(void);
void bench_pki_remove(void);
/* "dir/name" into out. */
void bench_pki_path(char *out, size_t cap, const char *dir, const char *name);

/* ---- statistics (stats.c) ---- */

typedef struct bench_stat {
    double median;
    double min;
    double max;
} bench_stat;

bench_stat bench_stat_of(const double *values, size_t count);

#endif
