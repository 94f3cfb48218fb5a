/*
 * run_threads.c - handshakes per second with one thread, then with two
 * threads sharing the same client and server contexts. Each thread runs
 * complete pairs (client and server), so on this two-core machine perfect
 * scaling is 2.0x; lock contention inside a library shows as less.
 */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "bench_run.h"

typedef struct worker {
    const bench_impl *im;
    void *env;
    int n;
    int rc;
    uint64_t cpu_ns; /* this thread's CPU time */
    long waits;      /* voluntary context switches: blocking on a lock */
} worker;

static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static long voluntary_switches(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_nvcsw : 0;
}

static void *work(void *arg)
{
    worker *w = arg;
    w->rc = 0;
    uint64_t c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    long v0 = voluntary_switches();
    for (int i = 0; i < w->n && w->rc == 0; i++) {
        void *p = w->im->pair_new(w->env, "localhost");
        w->rc = p != NULL && w->im->handshake(p) == 0 ? 0 : -1;
        if (p != NULL) {
            w->im->pair_free(p);
        }
    }
    w->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
    w->waits = voluntary_switches() - v0;
    return NULL;
}

/* What one run of `threads` threads measured. */
typedef struct run_result {
    double rate;       /* handshakes per second of wall time */
    double cpus;       /* CPU time of the process / wall time */
    double cpu_per_hs; /* thread CPU microseconds per handshake */
    double waits_per_hs;
} run_result;

static int run(const bench_impl *im, void *env, int threads, int n, run_result *out)
{
    pthread_t tid[2];
    worker w[2];
    uint64_t c0 = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
    uint64_t t0 = bench_now();
    for (int t = 0; t < threads; t++) {
        w[t] = (worker){im, env, n, -1, 0, 0};
        if (pthread_create(&tid[t], NULL, work, &w[t]) != 0) {
            return -1;
        }
    }
    int rc = 0;
    uint64_t cpu = 0;
    long waits = 0;
    for (int t = 0; t < threads; t++) {
        pthread_join(tid[t], NULL);
        rc |= w[t].rc;
        cpu += w[t].cpu_ns;
        waits += w[t].waits;
    }
    double secs = (double)(bench_now() - t0) / 1e9;
    out->rate = threads * n / secs;
    out->cpus = (double)(clock_ns(CLOCK_PROCESS_CPUTIME_ID) - c0) / 1e9 / secs;
    out->cpu_per_hs = (double)cpu / 1000.0 / (threads * n);
    out->waits_per_hs = (double)waits / (threads * n);
    return rc;
}

/* samples[impl][threads - 1][rep] of each figure */
typedef struct thread_samples {
    double rate[2][2][BENCH_MAX_REPS];
    double cpus[2][2][BENCH_MAX_REPS];
    double cpu_hs[2][2][BENCH_MAX_REPS];
    double waits[2][2][BENCH_MAX_REPS];
    double scale[2][BENCH_MAX_REPS];     /* wall-clock rate, 2 threads / 1 */
    double cpu_scale[2][BENCH_MAX_REPS]; /* 2 x CPU per handshake, 1 thread / 2 */
} thread_samples;

static int thread_loop(const bench_params *bp, void *envs[2], thread_samples *ts)
{
    for (int r = 0; r < bp->reps; r++) {
        for (int k = 0; k < 2; k++) {
            int i = bench_order(r, k);
            for (int t = 0; t < 2; t++) {
                run_result rr;
                if (run(bench_impls[i], envs[i], t + 1, bp->thread_hs, &rr) != 0) {
                    return -1;
                }
                ts->rate[i][t][r] = rr.rate;
                ts->cpus[i][t][r] = rr.cpus;
                ts->cpu_hs[i][t][r] = rr.cpu_per_hs;
                ts->waits[i][t][r] = rr.waits_per_hs;
            }
            ts->scale[i][r] = ts->rate[i][1][r] / ts->rate[i][0][r];
            ts->cpu_scale[i][r] = 2.0 * ts->cpu_hs[i][0][r] / ts->cpu_hs[i][1][r];
        }
    }
    return 0;
}

static void pair_line(const char *label, const double *a, const double *b, size_t n)
{
    bench_stat x = bench_stat_of(a, n);
    bench_stat y = bench_stat_of(b, n);
    char l[40];
    char r[40];
    snprintf(l, sizeof(l), "%.2f (%.2f-%.2f)", x.median, x.min, x.max);
    snprintf(r, sizeof(r), "%.2f (%.2f-%.2f)", y.median, y.min, y.max);
    printf("%-39s %-27s %-27s\n", label, l, r);
}

static void thread_report(const bench_params *bp, thread_samples *ts)
{
    size_t n = (size_t)bp->reps;
    char unit[80];
    snprintf(unit, sizeof(unit), "handshakes/s, %d batches of %d per thread", bp->reps,
             bp->thread_hs);
    report_columns(unit, false);
    for (int t = 0; t < 2; t++) {
        report_row(t == 0 ? "1 thread" : "2 threads", "pair", bench_stat_of(ts->rate[0][t], n),
                   bench_stat_of(ts->rate[1][t], n), true, NULL, 0);
    }
    printf("%-39s %-27s %-27s\n", "", "Petrel", "OpenSSL");
    pair_line("scaling, wall clock (2T/1T)", ts->scale[0], ts->scale[1], n);
    pair_line("CPUs busy during 2T", ts->cpus[0][1], ts->cpus[1][1], n);
    pair_line("thread CPU us/handshake, 1T", ts->cpu_hs[0][0], ts->cpu_hs[1][0], n);
    pair_line("thread CPU us/handshake, 2T", ts->cpu_hs[0][1], ts->cpu_hs[1][1], n);
    pair_line("lock waits per handshake, 2T", ts->waits[0][1], ts->waits[1][1], n);
    pair_line("scaling by CPU cost (2 x 1T/2T)", ts->cpu_scale[0], ts->cpu_scale[1], n);
    printf("(wall-clock scaling needs two idle CPUs; \"CPUs busy\" below 2 with no lock waits "
           "means other work on the machine took them. Scaling by CPU cost is what two idle "
           "CPUs would give when threads do not block: it shows slowdown from shared cache "
           "lines and spinning.)\n");
    report_target("two threads / one thread, wall clock (Petrel)",
                  bench_stat_of(ts->scale[0], n).median, 1.85, "x");
    report_target("two threads / one thread, by CPU cost (Petrel)",
                  bench_stat_of(ts->cpu_scale[0], n).median, 1.85, "x");
}

int bench_threads(const bench_params *bp)
{
    report_title("Threads sharing one context pair (ECDSA P-256, full handshakes, both sides "
                 "in each thread)");
    bench_case bc = bench_case_make(bp, BENCH_TLS13, "server-p256", NULL, "TLS_AES_128_GCM_SHA256");
    void *envs[2] = {bench_impls[0]->env_new(&bc), bench_impls[1]->env_new(&bc)};
    thread_samples *ts = calloc(1, sizeof(*ts));
    int rc = envs[0] != NULL && envs[1] != NULL && ts != NULL ? 0 : -1;
    for (int i = 0; i < 2 && rc == 0; i++) {
        run_result warm;
        rc = run(bench_impls[i], envs[i], 2, 10, &warm);
    }
    rc = rc == 0 ? thread_loop(bp, envs, ts) : rc;
    if (rc == 0) {
        thread_report(bp, ts);
    }
    for (int i = 0; i < 2; i++) {
        if (envs[i] != NULL) {
            bench_impls[i]->env_free(envs[i]);
        }
    }
    free(ts);
    return rc;
}
