/*
 * run_threads.c - handshakes per second with one thread, then with two
 * threads sharing the same client and server contexts. Each thread runs
 * complete pairs (client and server), so on this two-core machine perfect
 * scaling is 2.0x; lock contention inside a library shows as less.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_run.h"

typedef struct worker {
    const bench_impl *im;
    void *env;
    int n;
    int rc;
} worker;

static void *work(void *arg)
{
    worker *w = arg;
    w->rc = 0;
    for (int i = 0; i < w->n && w->rc == 0; i++) {
        void *p = w->im->pair_new(w->env, "localhost");
        w->rc = p != NULL && w->im->handshake(p) == 0 ? 0 : -1;
        if (p != NULL) {
            w->im->pair_free(p);
        }
    }
    return NULL;
}

/* Handshakes per second of wall time with `threads` threads. */
static double run(const bench_impl *im, void *env, int threads, int n)
{
    pthread_t tid[2];
    worker w[2];
    uint64_t t0 = bench_now();
    for (int t = 0; t < threads; t++) {
        w[t] = (worker){im, env, n, -1};
        if (pthread_create(&tid[t], NULL, work, &w[t]) != 0) {
            return -1;
        }
    }
    int rc = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        rc |= w[t].rc;
    }
    double secs = (double)(bench_now() - t0) / 1e9;
    return rc == 0 ? threads * n / secs : -1;
}

int bench_threads(const bench_params *bp)
{
    report_title("Threads sharing one context pair (ECDSA P-256, full handshakes, both sides "
                 "in each thread)");
    bench_case bc = bench_case_make(bp, "server-p256", NULL, "TLS_AES_128_GCM_SHA256");
    void *envs[2] = {bench_impls[0]->env_new(&bc), bench_impls[1]->env_new(&bc)};
    double rate[2][2][BENCH_MAX_REPS];
    double scale[2][BENCH_MAX_REPS];
    int rc = envs[0] != NULL && envs[1] != NULL ? 0 : -1;
    for (int i = 0; i < 2 && rc == 0; i++) {
        rc = run(bench_impls[i], envs[i], 2, 10) > 0 ? 0 : -1;
    }
    for (int r = 0; r < bp->reps && rc == 0; r++) {
        for (int i = 0; i < 2 && rc == 0; i++) {
            rate[i][0][r] = run(bench_impls[i], envs[i], 1, bp->thread_hs);
            rate[i][1][r] = run(bench_impls[i], envs[i], 2, bp->thread_hs);
            scale[i][r] = rate[i][1][r] / rate[i][0][r];
            rc = rate[i][0][r] > 0 && rate[i][1][r] > 0 ? 0 : -1;
        }
    }
    if (rc == 0) {
        char unit[80];
        snprintf(unit, sizeof(unit), "handshakes/s, %d batches of %d per thread", bp->reps,
                 bp->thread_hs);
        report_columns(unit, false);
        for (int t = 0; t < 2; t++) {
            report_row(t == 0 ? "1 thread" : "2 threads", "pair",
                       bench_stat_of(rate[0][t], (size_t)bp->reps),
                       bench_stat_of(rate[1][t], (size_t)bp->reps), true, NULL, 0);
        }
        bench_stat a = bench_stat_of(scale[0], (size_t)bp->reps);
        bench_stat b = bench_stat_of(scale[1], (size_t)bp->reps);
        printf("%-28s %-7s %.2fx (%.2f-%.2f)%14s%.2fx (%.2f-%.2f)   target >= 1.85x: %s\n",
               "scaling 2 threads / 1", "", a.median, a.min, a.max, "", b.median, b.min, b.max,
               a.median >= 1.85 ? "met" : "MISSED");
        report_target("two threads / one thread (Petrel)", a.median, 1.85, "x");
    }
    for (int i = 0; i < 2; i++) {
        if (envs[i] != NULL) {
            bench_impls[i]->env_free(envs[i]);
        }
    }
    return rc;
}
