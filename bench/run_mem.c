/*
 * run_mem.c - memory per connection, two ways.
 *
 * Allocator: every heap block is tagged with the side that was running
 * when it was made (alloc.c). The peak of a handshake is the highest live
 * total of a side from connection creation to the end of its handshake;
 * the idle figure is what a side still holds once the handshake is over
 * and nothing is in flight, averaged over many connections held at once.
 *
 * RSS: the growth of the resident set while N connected pairs are held,
 * divided by N (both sides together, allocator slack and page rounding
 * included), after malloc_trim so that freed memory is not reused.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench_run.h"

typedef struct mem_result {
    double peak[2];        /* bytes, median over handshakes */
    double idle[2];        /* bytes per connection */
    double idle_crypto[2]; /* of which requested through CRYPTO_malloc */
    double rss_pair;       /* bytes per connected pair */
} mem_result;

static long rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    char line[128];
    long resident = -1;
    if (f == NULL) {
        return -1;
    }
    if (fgets(line, sizeof(line), f) != NULL) {
        char *end = NULL;
        strtol(line, &end, 10); /* total size, then the resident pages */
        resident = strtol(end, NULL, 10);
    }
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

static int peaks(const bench_impl *im, void *env, int n, mem_result *out)
{
    double *pk[2] = {calloc((size_t)n, sizeof(double)), calloc((size_t)n, sizeof(double))};
    int rc = pk[0] != NULL && pk[1] != NULL ? 0 : -1;
    for (int i = 0; i < n && rc == 0; i++) {
        bench_mem before;
        bench_mem after;
        bench_alloc_reset_peak(SIDE_CLIENT);
        bench_alloc_reset_peak(SIDE_SERVER);
        bench_alloc_snapshot(&before);
        void *p = im->pair_new(env, "localhost");
        rc = p != NULL && im->handshake(p) == 0 ? 0 : -1;
        bench_alloc_snapshot(&after);
        for (int s = 0; s < 2 && rc == 0; s++) {
            pk[s][i] = (double)(after.peak[s] - before.live[s]);
        }
        if (p != NULL) {
            im->pair_free(p);
        }
    }
    for (int s = 0; s < 2 && rc == 0; s++) {
        out->peak[s] = bench_stat_of(pk[s], (size_t)n).median;
    }
    free(pk[0]);
    free(pk[1]);
    return rc;
}

/* Establishes n pairs and keeps them; returns the array or NULL. */
static void **hold(const bench_impl *im, void *env, int n)
{
    void **pairs = calloc((size_t)n, sizeof(void *));
    for (int i = 0; pairs != NULL && i < n; i++) {
        pairs[i] = im->pair_new(env, "localhost");
        if (pairs[i] == NULL || im->handshake(pairs[i]) != 0) {
            return NULL;
        }
    }
    return pairs;
}

static void release(const bench_impl *im, void **pairs, int n)
{
    for (int i = 0; i < n; i++) {
        im->pair_free(pairs[i]);
    }
    free(pairs);
}

static int idle(const bench_impl *im, void *env, int n, mem_result *out)
{
    bench_mem before;
    bench_mem after;
    bench_alloc_snapshot(&before);
    void **pairs = hold(im, env, n);
    if (pairs == NULL) {
        return -1;
    }
    bench_alloc_snapshot(&after);
    for (int s = 0; s < 2; s++) {
        out->idle[s] = (double)(after.live[s] - before.live[s]) / n;
        out->idle_crypto[s] = (double)(after.live_crypto[s] - before.live_crypto[s]) / n;
    }
    release(im, pairs, n);
    return 0;
}

static int rss_slope(const bench_impl *im, void *env, int n, mem_result *out)
{
    malloc_trim(0);
    long before = rss_bytes();
    void **pairs = hold(im, env, n);
    if (pairs == NULL) {
        return -1;
    }
    long after = rss_bytes();
    out->rss_pair = (double)(after - before) / n;
    release(im, pairs, n);
    malloc_trim(0);
    return 0;
}

static int measure(const bench_params *bp, const bench_impl *im, bool release, mem_result *out)
{
    bench_case bc = bench_case_make(bp, BENCH_TLS13, "server-p256", NULL, "TLS_AES_128_GCM_SHA256");
    bc.release_buffers = release;
    void *env = im->env_new(&bc);
    int rc = env != NULL ? 0 : -1;
    for (int i = 0; i < 5 && rc == 0; i++) {
        void *p = im->pair_new(env, "localhost");
        rc = p != NULL && im->handshake(p) == 0 ? 0 : -1;
        if (p != NULL) {
            im->pair_free(p);
        }
    }
    bench_alloc_counting(true);
    rc = rc == 0 ? peaks(im, env, bp->mem_peak_pairs, out) : rc;
    rc = rc == 0 ? idle(im, env, bp->mem_idle_pairs, out) : rc;
    bench_alloc_counting(false);
    rc = rc == 0 ? rss_slope(im, env, bp->rss_pairs, out) : rc;
    if (env != NULL) {
        im->env_free(env);
    }
    return rc;
}

/* r[0] Petrel, r[1] OpenSSL, r[2] OpenSSL with SSL_MODE_RELEASE_BUFFERS */
static void mem_row(const char *label, const char *side, const double v[3], double target)
{
    double ratio = v[0] / v[1];
    printf("%-30s %-7s %10.0f %10.0f %9.3f %12.0f %9.3f", label, side, v[0], v[1], ratio, v[2],
           v[0] / v[2]);
    if (target > 0) {
        printf("   <= %.3f %s", target, ratio <= target ? "met" : "MISSED");
        char what[80];
        snprintf(what, sizeof(what), "memory: %s, %s (Petrel/OpenSSL)", label, side);
        report_target(what, ratio, target, "<=");
    }
    printf("\n");
}

int bench_memory(const bench_params *bp)
{
    report_title("Memory per connection (ECDSA P-256 server, no client certificate)");
    mem_result r[3];
    for (int i = 0; i < 3; i++) {
        if (measure(bp, bench_impls[i == 0 ? 0 : 1], i == 2, &r[i]) != 0) {
            return -1;
        }
    }
    printf("%-30s %-7s %10s %10s %9s %12s %9s   target  [bytes]\n", "row", "side", "Petrel",
           "OpenSSL", "P/O", "OpenSSL+RB", "P/O+RB");
    static const char *const sides[2] = {"client", "server"};
    for (int s = 0; s < 2; s++) {
        double v[3] = {r[0].peak[s], r[1].peak[s], r[2].peak[s]};
        mem_row("peak during handshake", sides[s], v, 0.5);
    }
    for (int s = 0; s < 2; s++) {
        double v[3] = {r[0].idle[s], r[1].idle[s], r[2].idle[s]};
        mem_row("idle established", sides[s], v, 0.2);
    }
    for (int s = 0; s < 2; s++) {
        double v[3] = {r[0].idle_crypto[s], r[1].idle_crypto[s], r[2].idle_crypto[s]};
        mem_row("  of which via CRYPTO_malloc", sides[s], v, 0);
    }
    double rss[3] = {r[0].rss_pair, r[1].rss_pair, r[2].rss_pair};
    mem_row("RSS slope per pair", "both", rss, 0);
    printf("(allocator: median of %d handshakes for the peak, %d connections held for idle; "
           "RSS: %d pairs held. OpenSSL+RB: OpenSSL with SSL_MODE_RELEASE_BUFFERS, not its "
           "default; the targets compare with the default)\n",
           bp->mem_peak_pairs, bp->mem_idle_pairs, bp->rss_pairs);
    return 0;
}
