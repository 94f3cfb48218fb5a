/*
 * run_hs.c - the handshake sections: a sanity pass that shows what each
 * library negotiates (and that a wrong hostname fails), full handshakes,
 * and the post-handshake authentication round.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench_run.h"

#define SUITE "TLS_AES_128_GCM_SHA256"
#define SUITE12_ECDSA "ECDHE-ECDSA-AES128-GCM-SHA256"
#define SUITE12_RSA "ECDHE-RSA-AES128-GCM-SHA256"

typedef struct hs_case {
    const char *label;
    int version;
    const char *suite;
    int kind;         /* 0 ECDSA P-256, 1 RSA 2048: the chains, and the index into bench_floor */
    bool mutual;      /* client authentication in the handshake */
    double target[2]; /* speed targets, client and server; 0 for none */
} hs_case;

static const char *const server_leaves[2] = {"server-p256", "server-rsa2048"};
static const char *const client_leaves[2] = {"client-p256", "client-rsa2048"};

/* The TLS 1.3 cases come first: the row of rotating chains is printed after
 * them. The targets of TLS 1.2 are those of TLS 1.3. */
static const hs_case hs_cases[] = {
    {"TLS1.3 full ECDSA P-256", BENCH_TLS13, SUITE, 0, false, {2.2, 2.2}},
    {"TLS1.3 full RSA-2048", BENCH_TLS13, SUITE, 1, false, {3.0, 1.4}},
    {"TLS1.3 mutual ECDSA P-256", BENCH_TLS13, SUITE, 0, true, {0, 0}},
    {"TLS1.3 mutual RSA-2048", BENCH_TLS13, SUITE, 1, true, {0, 0}},
    {"TLS1.2 full ECDHE-ECDSA", BENCH_TLS12, SUITE12_ECDSA, 0, false, {2.2, 2.2}},
    {"TLS1.2 full ECDHE-RSA", BENCH_TLS12, SUITE12_RSA, 1, false, {3.0, 1.4}},
    {"TLS1.2 mutual ECDHE-ECDSA", BENCH_TLS12, SUITE12_ECDSA, 0, true, {0, 0}},
    {"TLS1.2 mutual ECDHE-RSA", BENCH_TLS12, SUITE12_RSA, 1, true, {0, 0}},
};
#define HS_CASES (sizeof(hs_cases) / sizeof(hs_cases[0]))
#define HS_CASES13 4

static const char *const side_names[2] = {"client", "server"};

const bench_impl *const bench_impls[2] = {&bench_petrel, &bench_openssl};

bench_case bench_case_make(const bench_params *bp, int version, const char *server_leaf,
                           const char *client_leaf, const char *suite)
{
    bench_case bc = {
        .pki_dir = bp->pki_dir,
        .version = version,
        .server_leaf = server_leaf,
        .client_leaf = client_leaf,
        .client_auth = client_leaf != NULL,
        .pha = false,
        .suite = suite,
        .transport_cap = 64 * 1024,
    };
    return bc;
}

static bench_case hs_case_make(const bench_params *bp, const hs_case *hc)
{
    return bench_case_make(bp, hc->version, server_leaves[hc->kind],
                           hc->mutual ? client_leaves[hc->kind] : NULL, hc->suite);
}

static bench_case pha_case(const bench_params *bp)
{
    bench_case bc = bench_case_make(bp, BENCH_TLS13, "server-p256", "client-p256", SUITE);
    bc.client_auth = false;
    bc.pha = true;
    return bc;
}

/* One connection: new, handshake, free. */
static int one_handshake(const bench_impl *im, void *env, const char *host)
{
    void *p = im->pair_new(env, host);
    if (p == NULL) {
        return -1;
    }
    int rc = im->handshake(p);
    im->pair_free(p);
    return rc;
}

/* n handshakes; microseconds per handshake of each side into out. */
static int hs_batch(const bench_impl *im, void *env, int n, double out[2])
{
    uint64_t before[2] = {bench_side_ns[0], bench_side_ns[1]};
    for (int i = 0; i < n; i++) {
        if (one_handshake(im, env, "localhost") != 0) {
            return -1;
        }
    }
    for (int s = 0; s < 2; s++) {
        out[s] = (double)(bench_side_ns[s] - before[s]) / 1000.0 / n;
    }
    return 0;
}

static int sanity_one(const bench_impl *im, const bench_case *bc, const char *label)
{
    bench_case sc = *bc;
    sc.require_ems = bc->version == BENCH_TLS12;
    void *env = im->env_new(&sc);
    void *p = env != NULL ? im->pair_new(env, "localhost") : NULL;
    if (p == NULL || im->handshake(p) != 0 || (bc->pha && im->pha_round(p) != 0)) {
        fprintf(stderr, "%s: %s failed\n", im->name, label);
        return -1;
    }
    char line[384];
    im->describe(p, line, sizeof(line));
    im->pair_free(p);
    /* The hostname check is on: another name must fail. */
    fprintf(stderr, "(%s, %s: a failure for the name wrong.test is expected here)\n", im->name,
            label);
    int wrong = one_handshake(im, env, "wrong.test");
    im->env_free(env);
    if (wrong == 0) {
        fprintf(stderr, "%s: %s: a wrong hostname was accepted\n", im->name, label);
        return -1;
    }
    printf("%-26s %-8s %s; wrong.test refused\n", label, im->name, line);
    return 0;
}

static int sanity_pair(const bench_case *bc, const char *label)
{
    for (int i = 0; i < 2; i++) {
        if (sanity_one(bench_impls[i], bc, label) != 0) {
            return -1;
        }
    }
    return 0;
}

int bench_sanity(const bench_params *bp)
{
    report_title("What each library negotiates (one handshake per setting; a wrong hostname "
                 "must fail)");
    for (size_t c = 0; c < HS_CASES; c++) {
        if (c == HS_CASES13) {
            bench_case pc = pha_case(bp);
            if (sanity_pair(&pc, "TLS1.3 + post-hs auth") != 0) {
                return -1;
            }
        }
        bench_case bc = hs_case_make(bp, &hs_cases[c]);
        if (sanity_pair(&bc, hs_cases[c].label) != 0) {
            return -1;
        }
    }
    return 0;
}

/* The floor of each side: [side][0] on pre-parsed certificates, [side][1]
 * parsing them too. */
static void hs_floor(const hs_case *hc, const bench_floor *f, double out[2][2])
{
    int k = hc->kind;
    bool auth = hc->mutual;
    double chain_s[2] = {f->chain_server_parsed[k], f->chain_server[k]};
    double chain_c[2] = {f->chain_client_parsed[k], f->chain_client[k]};
    for (int v = 0; v < 2; v++) {
        out[SIDE_CLIENT][v] = f->kex + chain_s[v] + f->verify[k] + (auth ? f->client_sign[k] : 0);
        out[SIDE_SERVER][v] = f->kex + f->sign[k] + (auth ? chain_c[v] + f->client_verify[k] : 0);
    }
}

/* samples[case][impl][side][rep]; the last case is the rotating row */
typedef double hs_samples[HS_CASES + 1][2][2][BENCH_MAX_REPS];

/* The client meets one of ROT_CHAINS server chains in turn, more than a
 * cache of parsed certificates of 32 entries holds. */
#define ROT_CHAINS 64

typedef struct rot_envs {
    void *env[2][ROT_CHAINS];
    char leaf[ROT_CHAINS][16];
    int next[2];
} rot_envs;

static int rot_batch(const bench_impl *im, int i, rot_envs *re, int n, double out[2])
{
    uint64_t before[2] = {bench_side_ns[0], bench_side_ns[1]};
    for (int k = 0; k < n; k++) {
        void *env = re->env[i][re->next[i]++ % ROT_CHAINS];
        if (one_handshake(im, env, "localhost") != 0) {
            return -1;
        }
    }
    for (int s = 0; s < 2; s++) {
        out[s] = (double)(bench_side_ns[s] - before[s]) / 1000.0 / n;
    }
    return 0;
}

static int rot_open(const bench_params *bp, rot_envs *re)
{
    if (bench_rotate_generate(bp->pki_dir, ROT_CHAINS) != 0) {
        return -1;
    }
    for (int c = 0; c < ROT_CHAINS; c++) {
        snprintf(re->leaf[c], sizeof(re->leaf[c]), "rot-%d", c);
        bench_case bc = bench_case_make(bp, BENCH_TLS13, re->leaf[c], NULL, SUITE);
        for (int i = 0; i < 2; i++) {
            re->env[i][c] = bench_impls[i]->env_new(&bc);
            if (re->env[i][c] == NULL ||
                one_handshake(bench_impls[i], re->env[i][c], "localhost") != 0) {
                return -1;
            }
        }
    }
    return 0;
}

static void rot_close(rot_envs *re)
{
    for (int c = 0; c < ROT_CHAINS; c++) {
        for (int i = 0; i < 2; i++) {
            if (re->env[i][c] != NULL) {
                bench_impls[i]->env_free(re->env[i][c]);
            }
        }
    }
}

static int hs_envs(const bench_params *bp, void *envs[HS_CASES][2])
{
    for (size_t c = 0; c < HS_CASES; c++) {
        bench_case bc = hs_case_make(bp, &hs_cases[c]);
        for (int i = 0; i < 2; i++) {
            double ignored[2];
            envs[c][i] = bench_impls[i]->env_new(&bc);
            if (envs[c][i] == NULL ||
                hs_batch(bench_impls[i], envs[c][i], 5 + bp->hs_batch / 5, ignored) != 0) {
                return -1;
            }
        }
    }
    return 0;
}

static void hs_report_case(size_t c, const bench_params *bp, const bench_floor *floor,
                           hs_samples *smp, const char *label)
{
    double fl[2][2];
    hs_floor(&hs_cases[c < HS_CASES ? c : 0], floor, fl);
    for (int s = 0; s < 2; s++) {
        bench_stat a = bench_stat_of((*smp)[c][0][s], (size_t)bp->reps);
        bench_stat b = bench_stat_of((*smp)[c][1][s], (size_t)bp->reps);
        double target = c < HS_CASES ? hs_cases[c].target[s] : 0;
        report_row(label, side_names[s], a, b, false, fl[s], target);
    }
}

static void hs_report(const bench_params *bp, const bench_floor *floor, hs_samples *smp)
{
    char unit[64];
    snprintf(unit, sizeof(unit), "us per handshake, %d batches of %d", bp->reps, bp->hs_batch);
    report_columns(unit, true);
    for (size_t c = 0; c < HS_CASES; c++) {
        if (c == HS_CASES13) {
            hs_report_case(HS_CASES, bp, floor, smp, "TLS1.3 ECDSA, 64 chains");
        }
        hs_report_case(c, bp, floor, smp, hs_cases[c].label);
    }
    printf("(TLS1.2 rows: the floor is the same set of operations as in TLS 1.3, with the same\n"
           " values: X25519 keygen+derive, the ServerKeyExchange signature and its verification,\n"
           " the chain; in \"mutual\" the client's CertificateVerify signature and its "
           "verification)\n");
}

int bench_handshakes(const bench_params *bp, const bench_floor *floor)
{
    report_title("Full handshakes (X25519; suites TLS 1.3: " SUITE ", TLS 1.2: ECDHE-ECDSA- "
                 "or ECDHE-RSA-AES128-GCM-SHA256; client checks chain and hostname; \"mutual\": "
                 "server requires and verifies a client chain)");
    void *envs[HS_CASES][2] = {{NULL}};
    hs_samples *smp = calloc(1, sizeof(*smp));
    rot_envs *re = calloc(1, sizeof(*re));
    int rc = smp != NULL && re != NULL ? hs_envs(bp, envs) : -1;
    rc = rc == 0 ? rot_open(bp, re) : rc;
    for (int r = 0; r < bp->reps && rc == 0; r++) {
        for (int k = 0; k < 2 && rc == 0; k++) {
            int i = bench_order(r, k);
            double v[2] = {0, 0};
            rc = rot_batch(bench_impls[i], i, re, bp->hs_batch, v);
            (*smp)[HS_CASES][i][0][r] = v[0];
            (*smp)[HS_CASES][i][1][r] = v[1];
        }
        for (size_t c = 0; c < HS_CASES && rc == 0; c++) {
            for (int k = 0; k < 2 && rc == 0; k++) {
                int i = bench_order(r, k);
                double v[2] = {0, 0};
                rc = hs_batch(bench_impls[i], envs[c][i], bp->hs_batch, v);
                (*smp)[c][i][0][r] = v[0];
                (*smp)[c][i][1][r] = v[1];
            }
        }
    }
    if (rc == 0) {
        hs_report(bp, floor, smp);
    }
    for (size_t c = 0; c < HS_CASES; c++) {
        for (int i = 0; i < 2; i++) {
            if (envs[c][i] != NULL) {
                bench_impls[i]->env_free(envs[c][i]);
            }
        }
    }
    if (re != NULL) {
        rot_close(re);
    }
    free(re);
    free(smp);
    return rc;
}

/* n rounds, each on a fresh connection whose handshake is not counted. */
static int pha_batch(const bench_impl *im, void *env, int n, double out[2])
{
    uint64_t spent[2] = {0, 0};
    for (int i = 0; i < n; i++) {
        void *p = im->pair_new(env, "localhost");
        if (p == NULL || im->handshake(p) != 0) {
            return -1;
        }
        uint64_t before[2] = {bench_side_ns[0], bench_side_ns[1]};
        int rc = im->pha_round(p);
        spent[0] += bench_side_ns[0] - before[0];
        spent[1] += bench_side_ns[1] - before[1];
        im->pair_free(p);
        if (rc != 0) {
            return -1;
        }
    }
    out[0] = (double)spent[0] / 1000.0 / n;
    out[1] = (double)spent[1] / 1000.0 / n;
    return 0;
}

int bench_pha(const bench_params *bp, const bench_floor *f)
{
    report_title("Post-handshake authentication round (server asks, ECDSA P-256 client chain "
                 "sent, signed and verified)");
    bench_case bc = pha_case(bp);
    void *envs[2] = {bench_impls[0]->env_new(&bc), bench_impls[1]->env_new(&bc)};
    double smp[2][2][BENCH_MAX_REPS];
    double warm[2];
    int rc = envs[0] != NULL && envs[1] != NULL ? 0 : -1;
    for (int i = 0; i < 2 && rc == 0; i++) {
        rc = pha_batch(bench_impls[i], envs[i], 5, warm);
    }
    for (int r = 0; r < bp->reps && rc == 0; r++) {
        for (int k = 0; k < 2 && rc == 0; k++) {
            int i = bench_order(r, k);
            double v[2] = {0, 0};
            rc = pha_batch(bench_impls[i], envs[i], bp->pha_batch, v);
            smp[i][0][r] = v[0];
            smp[i][1][r] = v[1];
        }
    }
    if (rc == 0) {
        char unit[64];
        snprintf(unit, sizeof(unit), "us per round, %d batches of %d", bp->reps, bp->pha_batch);
        report_columns(unit, true);
        double fl[2][2] = {{f->client_sign[0], f->client_sign[0]},
                           {f->chain_client_parsed[0] + f->client_verify[0],
                            f->chain_client[0] + f->client_verify[0]}};
        for (int s = 0; s < 2; s++) {
            report_row("TLS1.3 post-handshake auth", side_names[s],
                       bench_stat_of(smp[0][s], (size_t)bp->reps),
                       bench_stat_of(smp[1][s], (size_t)bp->reps), false, fl[s], 0);
        }
    }
    for (int i = 0; i < 2; i++) {
        if (envs[i] != NULL) {
            bench_impls[i]->env_free(envs[i]);
        }
    }
    return rc;
}
