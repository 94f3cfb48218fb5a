/*
 * run_resume.c - resumed TLS 1.3 handshakes (a PSK from a ticket together
 * with X25519, RFC 8446 2.2): the client offers the session of an earlier
 * connection, the server accepts it and, as after every handshake, sends
 * one new ticket. No certificate is sent, signed or verified.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_run.h"

typedef struct rs_case {
    const char *label;
    const char *leaf; /* the server chain of the first, full handshake */
} rs_case;

static const rs_case rs_cases[] = {
    {"TLS1.3 resumed, ECDSA P-256", "server-p256"},
    {"TLS1.3 resumed, RSA-2048", "server-rsa2048"},
};
#define RS_CASES (sizeof(rs_cases) / sizeof(rs_cases[0]))

static const char *const side_names[2] = {"client", "server"};

bench_case bench_resume_case(const bench_params *bp, const char *leaf)
{
    bench_case bc = bench_case_make(bp, BENCH_TLS13, leaf, NULL, "TLS_AES_128_GCM_SHA256");
    bc.tickets = 1;
    return bc;
}

int bench_resumed_one(const bench_impl *im, void *env, void *session, bool check)
{
    void *p = im->pair_new(env, "localhost");
    if (p == NULL) {
        return -1;
    }
    int rc = im->session_offer(p, session);
    rc = rc == 0 ? im->handshake(p) : rc;
    if (rc == 0 && check && !im->resumed(p)) {
        fprintf(stderr, "%s: the offered session was not resumed\n", im->name);
        rc = -1;
    }
    im->pair_free(p);
    return rc;
}

void *bench_session_from_full(const bench_impl *im, void *env)
{
    void *p = im->pair_new(env, "localhost");
    if (p == NULL) {
        return NULL;
    }
    void *session = im->handshake(p) == 0 ? im->session_take(p) : NULL;
    im->pair_free(p);
    return session;
}

typedef struct rs_env {
    void *env;
    void *session;
} rs_env;

static int rs_batch(const bench_impl *im, rs_env *e, int n, double out[2])
{
    uint64_t before[2] = {bench_side_ns[0], bench_side_ns[1]};
    for (int i = 0; i < n; i++) {
        if (bench_resumed_one(im, e->env, e->session, false) != 0) {
            return -1;
        }
    }
    for (int s = 0; s < 2; s++) {
        out[s] = (double)(bench_side_ns[s] - before[s]) / 1000.0 / n;
    }
    return 0;
}

/* Builds the contexts, takes a session from a full handshake and shows
 * that offering it resumes. */
static int rs_open(const bench_params *bp, const rs_case *rc, const bench_impl *im, rs_env *e)
{
    bench_case bc = bench_resume_case(bp, rc->leaf);
    e->env = im->env_new(&bc);
    e->session = e->env != NULL ? bench_session_from_full(im, e->env) : NULL;
    if (e->session == NULL || bench_resumed_one(im, e->env, e->session, true) != 0) {
        fprintf(stderr, "%s: %s: no resumption\n", im->name, rc->label);
        return -1;
    }
    void *p = im->pair_new(e->env, "localhost");
    int r = p != NULL ? im->session_offer(p, e->session) : -1;
    r = r == 0 ? im->handshake(p) : r;
    if (r == 0) {
        char line[384];
        im->describe(p, line, sizeof(line));
        printf("%-30s %-8s %s; resumed: %s\n", rc->label, im->name, line,
               im->resumed(p) ? "yes" : "NO");
    }
    if (p != NULL) {
        im->pair_free(p);
    }
    double warm[2];
    return r == 0 ? rs_batch(im, e, 5 + bp->hs_batch / 5, warm) : -1;
}

static void rs_close(const bench_impl *im, rs_env *e)
{
    if (e->session != NULL) {
        im->session_free(e->session);
    }
    if (e->env != NULL) {
        im->env_free(e->env);
    }
}

int bench_resumption(const bench_params *bp, const bench_floor *f)
{
    report_title("Resumed handshakes (TLS 1.3 ticket + X25519, TLS_AES_128_GCM_SHA256; the "
                 "server sends one new ticket after each, in both libraries)");
    rs_env envs[RS_CASES][2] = {{{NULL, NULL}}};
    double(*smp)[2][2][BENCH_MAX_REPS] = calloc(RS_CASES, sizeof(*smp));
    int rc = smp != NULL ? 0 : -1;
    for (size_t c = 0; c < RS_CASES && rc == 0; c++) {
        for (int i = 0; i < 2 && rc == 0; i++) {
            rc = rs_open(bp, &rs_cases[c], bench_impls[i], &envs[c][i]);
        }
    }
    for (int r = 0; r < bp->reps && rc == 0; r++) {
        for (size_t c = 0; c < RS_CASES && rc == 0; c++) {
            for (int k = 0; k < 2 && rc == 0; k++) {
                int i = bench_order(r, k);
                double v[2] = {0, 0};
                rc = rs_batch(bench_impls[i], &envs[c][i], bp->hs_batch, v);
                smp[c][i][0][r] = v[0];
                smp[c][i][1][r] = v[1];
            }
        }
    }
    if (rc == 0) {
        char unit[64];
        snprintf(unit, sizeof(unit), "us per handshake, %d batches of %d", bp->reps, bp->hs_batch);
        report_columns(unit, true);
        /* The floor of a resumed handshake: each side's X25519 only. */
        double fl[2] = {f->kex, f->kex};
        for (size_t c = 0; c < RS_CASES; c++) {
            for (int s = 0; s < 2; s++) {
                report_row(rs_cases[c].label, side_names[s],
                           bench_stat_of(smp[c][0][s], (size_t)bp->reps),
                           bench_stat_of(smp[c][1][s], (size_t)bp->reps), false, fl, 0);
            }
        }
    }
    for (size_t c = 0; c < RS_CASES; c++) {
        for (int i = 0; i < 2; i++) {
            rs_close(bench_impls[i], &envs[c][i]);
        }
    }
    free(smp);
    return rc;
}
