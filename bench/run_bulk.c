/*
 * run_bulk.c - bulk transfer: the client writes, the server reads, on an
 * established connection per suite. Each write is read in full before the
 * next one starts; throughput is bytes moved over each side's time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_run.h"

#define MIB ((size_t)1024 * 1024)

typedef struct bulk_suite {
    int version;
    const char *suite; /* as the case takes it */
    const char *iana;  /* as both libraries report it */
    const char *label;
} bulk_suite;

static const bulk_suite suites[] = {
    {BENCH_TLS13, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", "TLS1.3 AES-128-GCM"},
    {BENCH_TLS13, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", "TLS1.3 AES-256-GCM"},
    {BENCH_TLS13, "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256",
     "TLS1.3 ChaCha20-Poly1305"},
    {BENCH_TLS12, "ECDHE-ECDSA-AES128-GCM-SHA256", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
     "TLS1.2 AES-128-GCM"},
    {BENCH_TLS12, "ECDHE-ECDSA-AES256-GCM-SHA384", "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
     "TLS1.2 AES-256-GCM"},
    {BENCH_TLS12, "ECDHE-ECDSA-CHACHA20-POLY1305", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
     "TLS1.2 ChaCha20-Poly1305"},
};
#define SUITES (sizeof(suites) / sizeof(suites[0]))

typedef struct bulk_size {
    size_t wsize;
    const char *label;
    double target;
} bulk_size;

static const bulk_size sizes[2] = {{MIB, "1 MiB", 1.15}, {1024, "1 KiB", 1.3}};

typedef struct bulk_conn {
    void *env;
    void *pair;
} bulk_conn;

/* MB/s (10^6 bytes) of each side for one transfer of len bytes. */
static int bulk_batch(const bench_impl *im, bulk_conn *bc, const uint8_t *data, size_t len,
                      size_t wsize, double out[2])
{
    uint64_t before[2] = {bench_side_ns[0], bench_side_ns[1]};
    if (im->transfer(bc->pair, data, len, wsize) != 0) {
        return -1;
    }
    for (int s = 0; s < 2; s++) {
        double ns = (double)(bench_side_ns[s] - before[s]);
        out[s] = (double)len * 1000.0 / ns;
    }
    return 0;
}

/* The connection speaks the version and suite of its row: the description
 * starts with "TLSv1.x SUITE ". */
static int bulk_check(const bench_impl *im, void *pair, const bulk_suite *su)
{
    char line[384];
    char want[96];
    im->describe(pair, line, sizeof(line));
    snprintf(want, sizeof(want), "TLSv1.%d %s ", su->version == BENCH_TLS12 ? 2 : 3, su->iana);
    if (strncmp(line, want, strlen(want)) != 0) {
        fprintf(stderr, "%s: %s: negotiated %s\n", im->name, su->label, line);
        return -1;
    }
    return 0;
}

static int bulk_open(const bench_params *bp, bulk_conn conns[SUITES][2], const uint8_t *data)
{
    for (size_t su = 0; su < SUITES; su++) {
        bench_case bc =
            bench_case_make(bp, suites[su].version, "server-p256", NULL, suites[su].suite);
        bc.transport_cap = 2 * MIB + 256 * 1024;
        for (int i = 0; i < 2; i++) {
            const bench_impl *im = bench_impls[i];
            bulk_conn *c = &conns[su][i];
            c->env = im->env_new(&bc);
            c->pair = c->env != NULL ? im->pair_new(c->env, "localhost") : NULL;
            if (c->pair == NULL || im->handshake(c->pair) != 0 ||
                bulk_check(im, c->pair, &suites[su]) != 0 ||
                im->transfer(c->pair, data, 4 * MIB, MIB) != 0 ||
                im->transfer(c->pair, data, 256 * 1024, 1024) != 0) {
                return -1;
            }
        }
    }
    return 0;
}

static void bulk_close(bulk_conn conns[SUITES][2])
{
    for (size_t su = 0; su < SUITES; su++) {
        for (int i = 0; i < 2; i++) {
            if (conns[su][i].pair != NULL) {
                bench_impls[i]->pair_free(conns[su][i].pair);
            }
            if (conns[su][i].env != NULL) {
                bench_impls[i]->env_free(conns[su][i].env);
            }
        }
    }
}

/* samples[suite][size][impl][side][rep] */
typedef double bulk_samples[SUITES][2][2][2][BENCH_MAX_REPS];

static void bulk_report(const bench_params *bp, bulk_samples *smp)
{
    char unit[128];
    snprintf(unit, sizeof(unit),
             "MB/s of each side's time, writes of 1 MiB / 1 KiB, %d batches of %zu MiB / %zu KiB",
             bp->reps, bp->bulk_big / MIB, bp->bulk_small / 1024);
    report_columns(unit, false);
    for (size_t su = 0; su < SUITES; su++) {
        for (int z = 0; z < 2; z++) {
            char label[64];
            snprintf(label, sizeof(label), "%s %s", suites[su].label, sizes[z].label);
            for (int s = 0; s < 2; s++) {
                bench_stat a = bench_stat_of((*smp)[su][z][0][s], (size_t)bp->reps);
                bench_stat b = bench_stat_of((*smp)[su][z][1][s], (size_t)bp->reps);
                report_row(label, s == 0 ? "send" : "receive", a, b, true, NULL, sizes[z].target);
            }
        }
    }
    printf("(every connection was checked to have negotiated the version and suite of its row; "
           "TLS 1.2 with an ECDSA P-256 server)\n");
}

static int bulk_loop(const bench_params *bp, bulk_conn conns[SUITES][2], const uint8_t *data,
                     bulk_samples *smp)
{
    const size_t totals[2] = {bp->bulk_big, bp->bulk_small};
    for (int r = 0; r < bp->reps; r++) {
        for (size_t su = 0; su < SUITES; su++) {
            for (int z = 0; z < 2; z++) {
                for (int k = 0; k < 2; k++) {
                    int i = bench_order(r, k);
                    double v[2] = {0, 0};
                    if (bulk_batch(bench_impls[i], &conns[su][i], data, totals[z], sizes[z].wsize,
                                   v) != 0) {
                        return -1;
                    }
                    (*smp)[su][z][i][0][r] = v[0];
                    (*smp)[su][z][i][1][r] = v[1];
                }
            }
        }
    }
    return 0;
}

int bench_bulk(const bench_params *bp)
{
    report_title("Bulk transfer, client to server, on one established connection per suite");
    size_t len = bp->bulk_big > 4 * MIB ? bp->bulk_big : 4 * MIB;
    uint8_t *data = malloc(len);
    bulk_conn conns[SUITES][2] = {{{NULL, NULL}}};
    bulk_samples *smp = calloc(1, sizeof(*smp));
    if (data == NULL || smp == NULL) {
        free(data);
        free(smp);
        return -1;
    }
    uint32_t x = 12345;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        data[i] = (uint8_t)(x >> 24);
    }
    int rc = bulk_open(bp, conns, data);
    if (rc == 0) {
        rc = bulk_loop(bp, conns, data, smp);
    }
    if (rc == 0) {
        bulk_report(bp, smp);
    }
    bulk_close(conns);
    free(smp);
    free(data);
    return rc;
}
