/*
 * bench_run.h - the sections of a benchmark run and the report they write.
 */
#ifndef PETREL_BENCH_RUN_H
#define PETREL_BENCH_RUN_H

#include "bench.h"
#include "bench_floor.h"

#define BENCH_MAX_REPS 32

typedef struct bench_params {
    bool quick;
    const char *pki_dir;
    int reps;           /* interleaved repetitions of every batch */
    int hs_batch;       /* handshakes per batch */
    int pha_batch;      /* post-handshake rounds per batch */
    size_t bulk_big;    /* bytes per batch with 1 MiB writes */
    size_t bulk_small;  /* bytes per batch with 1 KiB writes */
    int mem_peak_pairs; /* handshakes whose peak is measured */
    int mem_idle_pairs; /* connections held at once for the idle figure */
    int rss_pairs;      /* connections held at once for the RSS slope */
    int thread_hs;      /* handshakes per thread per batch */
    int floor_iter;     /* samples of each crypto-only operation */
} bench_params;

/* The two libraries, Petrel and OpenSSL. */
extern const bench_impl *const bench_impls[2];

/* Which library runs k-th (0 or 1) in repetition r: the order alternates,
 * A B in even repetitions and B A in odd ones, so that neither library
 * always runs right after the other. */
static inline int bench_order(int r, int k)
{
    return (r + k) % 2;
}

/* A case with the run's PKI and defaults filled in. */
bench_case bench_case_make(const bench_params *bp, int version, const char *server_leaf,
                           const char *client_leaf, const char *suite);

/* Each section prints its table; all return 0 or -1. */
int bench_sanity(const bench_params *bp);
int bench_handshakes(const bench_params *bp, const bench_floor *floor);
int bench_pha(const bench_params *bp, const bench_floor *floor);
int bench_resumption(const bench_params *bp, const bench_floor *floor);

/* Resumption pieces shared with the callgrind mode (run_resume.c): the case
 * (server sends one ticket), a session from one full handshake, and one
 * resumed connection (check: fail unless both ends resumed). */
bench_case bench_resume_case(const bench_params *bp, const char *leaf);
void *bench_session_from_full(const bench_impl *im, void *env);
int bench_resumed_one(const bench_impl *im, void *env, void *session, bool check);
int bench_bulk(const bench_params *bp);
int bench_memory(const bench_params *bp);
int bench_threads(const bench_params *bp);

/* Writes count server chains rot-N-chain.pem / rot-N.key into the PKI
 * directory (rotate.c). */
int bench_rotate_generate(const char *dir, int count);

/* ---- report (report.c) ---- */

void report_title(const char *title);
void report_columns(const char *unit, bool with_floor);
/* One row: medians and ranges for both libraries, the speed ratio
 * (OpenSSL/Petrel for times, Petrel/OpenSSL for rates), optional floors
 * (NULL: none; [0] on pre-parsed certificates, [1] parsing them too) and
 * the target ratio of the issue (0: none). */
void report_row(const char *label, const char *side, bench_stat petrel, bench_stat openssl,
                bool rate, const double *floor, double target);
/* Records a target for the closing summary. */
void report_target(const char *what, double measured, double target, const char *unit);
void report_summary(void);

#endif
