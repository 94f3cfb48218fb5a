/*
 * main.c - petrel-bench: Petrel against OpenSSL's libssl in one process.
 *
 *   petrel-bench [--quick] [--reps N] [--only LIST] [--pki DIR]
 *   petrel-bench --callgrind KIND --lib petrel|openssl --side client|server [-n N]
 *
 * The first form runs the comparison (docs/PERFORMANCE.md explains the
 * method); LIST is a comma-separated subset of
 * floor,hs,resume,pha,bulk,mem,threads.
 * The second form runs N handshakes (or post-handshake rounds, or writes of
 * 1 MiB / 1 KiB with AES-128-GCM) of one KIND for an instruction count under
 * valgrind --tool=callgrind --collect-atstart=no: only the calls of the given
 * side are collected (bench/callgrind.sh runs it for every combination).
 * TLS 1.3 kinds: ecdsa, rsa, ecdsa-mutual, rsa-mutual, resume, resume-rsa (resumed
 * handshakes), pha, bulk-1m, bulk-1k (AES-128-GCM), bulk-chacha-1m,
 * bulk-chacha-1k;
 * TLS 1.2 kinds: ecdsa12, rsa12, ecdsa12-mutual, rsa12-mutual, bulk12-1m,
 * bulk12-1k (ECDHE with AES-128-GCM).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <unistd.h>
#ifdef PETREL_BENCH_HAVE_CALLGRIND
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_TOGGLE_COLLECT
#endif

#include "bench_run.h"
#include "petrel.h"

_Thread_local uint64_t bench_side_ns[2];
int bench_cg_side = -1;

__attribute__((noinline)) void bench_cg_toggle(bench_side side)
{
    CALLGRIND_TOGGLE_COLLECT;
}

typedef struct options {
    bench_params bp;
    const char *only;
    const char *cg_kind;
    const char *cg_lib;
    const char *cg_side;
    int cg_n;
} options;

static void params_for(bench_params *bp, bool quick)
{
    bp->quick = quick;
    bp->reps = quick ? 7 : 21;
    bp->hs_batch = quick ? 60 : 200;
    bp->pha_batch = quick ? 60 : 200;
    bp->bulk_big = (size_t)(quick ? 16 : 64) * 1024 * 1024;
    bp->bulk_small = (size_t)(quick ? 2 : 8) * 1024 * 1024;
    bp->mem_peak_pairs = quick ? 50 : 200;
    bp->mem_idle_pairs = quick ? 300 : 1000;
    bp->rss_pairs = quick ? 300 : 1000;
    bp->thread_hs = quick ? 200 : 500;
    bp->floor_iter = quick ? 300 : 2000;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: petrel-bench [--quick] [--reps N] [--only floor,hs,resume,pha,bulk,mem,"
            "threads] [--pki DIR]\n"
            "       petrel-bench --callgrind KIND --lib petrel|openssl --side client|server "
            "[-n N]\n"
            "KIND: ecdsa rsa ecdsa-mutual rsa-mutual resume resume-rsa pha bulk-1m bulk-1k "
            "bulk-chacha-1m bulk-chacha-1k (TLS 1.3),\n"
            "      ecdsa12 rsa12 ecdsa12-mutual rsa12-mutual bulk12-1m bulk12-1k (TLS 1.2)\n");
    return 2;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < lo || v > hi) {
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int parse_args(int argc, char **argv, options *o)
{
    memset(o, 0, sizeof(*o));
    bool quick = false;
    int reps = 0;
    o->cg_n = 50;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--quick") == 0) {
            quick = true;
            continue;
        }
        if (v == NULL) {
            return -1;
        }
        i++;
        if (strcmp(a, "--reps") == 0 && parse_int(v, 1, BENCH_MAX_REPS, &reps) == 0) {
        } else if (strcmp(a, "-n") == 0 && parse_int(v, 1, 100000, &o->cg_n) == 0) {
        } else if (strcmp(a, "--only") == 0) {
            o->only = v;
        } else if (strcmp(a, "--pki") == 0) {
            o->bp.pki_dir = v;
        } else if (strcmp(a, "--callgrind") == 0) {
            o->cg_kind = v;
        } else if (strcmp(a, "--lib") == 0) {
            o->cg_lib = v;
        } else if (strcmp(a, "--side") == 0) {
            o->cg_side = v;
        } else {
            return -1;
        }
    }
    const char *pki = o->bp.pki_dir;
    params_for(&o->bp, quick);
    o->bp.pki_dir = pki;
    if (reps > 0) {
        o->bp.reps = reps;
    }
    return 0;
}

/* ---- callgrind mode ---- */

/* What one callgrind kind runs. */
typedef struct cg_kind {
    const char *name;
    int version;
    bool rsa;     /* RSA-2048 server (and client) chain, else ECDSA P-256 */
    bool mutual;  /* client certificate in the handshake */
    bool pha;     /* post-handshake rounds instead of handshakes */
    size_t wsize; /* bulk: bytes per write; 0 for handshakes */
    bool resume;  /* resumed handshakes */
    bool chacha;  /* bulk: ChaCha20-Poly1305 instead of AES-128-GCM */
} cg_kind;

static const cg_kind cg_kinds[] = {
    {"ecdsa", BENCH_TLS13, false, false, false, 0, false, false},
    {"rsa", BENCH_TLS13, true, false, false, 0, false, false},
    {"ecdsa-mutual", BENCH_TLS13, false, true, false, 0, false, false},
    {"rsa-mutual", BENCH_TLS13, true, true, false, 0, false, false},
    {"resume", BENCH_TLS13, false, false, false, 0, true, false},
    {"resume-rsa", BENCH_TLS13, true, false, false, 0, true, false},
    {"pha", BENCH_TLS13, false, false, true, 0, false, false},
    {"bulk-1m", BENCH_TLS13, false, false, false, (size_t)1024 * 1024, false, false},
    {"bulk-1k", BENCH_TLS13, false, false, false, 1024, false, false},
    {"bulk-chacha-1m", BENCH_TLS13, false, false, false, (size_t)1024 * 1024, false, true},
    {"bulk-chacha-1k", BENCH_TLS13, false, false, false, 1024, false, true},
    {"ecdsa12", BENCH_TLS12, false, false, false, 0, false, false},
    {"rsa12", BENCH_TLS12, true, false, false, 0, false, false},
    {"ecdsa12-mutual", BENCH_TLS12, false, true, false, 0, false, false},
    {"rsa12-mutual", BENCH_TLS12, true, true, false, 0, false, false},
    {"bulk12-1m", BENCH_TLS12, false, false, false, (size_t)1024 * 1024, false, false},
    {"bulk12-1k", BENCH_TLS12, false, false, false, 1024, false, false},
};

static const cg_kind *cg_kind_of(const char *name)
{
    for (size_t i = 0; i < sizeof(cg_kinds) / sizeof(cg_kinds[0]); i++) {
        if (strcmp(cg_kinds[i].name, name) == 0) {
            return &cg_kinds[i];
        }
    }
    return NULL;
}

static const char *cg_suite(const cg_kind *k)
{
    if (k->version == BENCH_TLS13) {
        return k->chacha ? "TLS_CHACHA20_POLY1305_SHA256" : "TLS_AES_128_GCM_SHA256";
    }
    return k->rsa ? "ECDHE-RSA-AES128-GCM-SHA256" : "ECDHE-ECDSA-AES128-GCM-SHA256";
}

static bench_case cg_case(const options *o, const cg_kind *k)
{
    const char *leaf = k->rsa ? "server-rsa2048" : "server-p256";
    const char *cleaf = k->mutual ? (k->rsa ? "client-rsa2048" : "client-p256") : NULL;
    bench_case bc = bench_case_make(&o->bp, k->version, leaf, cleaf, cg_suite(k));
    if (k->resume) {
        bc = bench_resume_case(&o->bp, leaf);
    }
    if (k->wsize > 0) {
        bc.transport_cap = (size_t)2304 * 1024;
    }
    if (k->pha) {
        bc.client_leaf = "client-p256";
        bc.pha = true;
    }
    return bc;
}

static int cg_one(const bench_impl *im, void *env, bool pha, int side)
{
    if (!pha) {
        bench_cg_side = side;
    }
    void *p = im->pair_new(env, "localhost");
    int rc = p != NULL && im->handshake(p) == 0 ? 0 : -1;
    bench_cg_side = side;
    rc = rc == 0 && pha ? im->pha_round(p) : rc;
    if (pha) {
        bench_cg_side = -1;
    }
    if (p != NULL) {
        im->pair_free(p);
    }
    bench_cg_side = -1;
    return rc;
}

/* n resumed handshakes of one session, after 5 uncollected ones. */
static int cg_resume(const bench_impl *im, void *env, const options *o, int side)
{
    void *session = bench_session_from_full(im, env);
    int rc = session != NULL ? bench_resumed_one(im, env, session, true) : -1;
    for (int i = 0; i < 5 + o->cg_n && rc == 0; i++) {
        bench_cg_side = i < 5 ? -1 : side;
        rc = bench_resumed_one(im, env, session, false);
        bench_cg_side = -1;
    }
    if (session != NULL) {
        im->session_free(session);
    }
    return rc;
}

/* n writes of 1 MiB or 1 KiB on one connection, after 5 uncollected ones. */
static int cg_bulk(const bench_impl *im, void *env, const options *o, size_t wsize, int side)
{
    uint8_t *data = calloc(1, wsize);
    void *p = data != NULL ? im->pair_new(env, "localhost") : NULL;
    int rc = p != NULL && im->handshake(p) == 0 ? 0 : -1;
    for (int i = 0; i < 5 + o->cg_n && rc == 0; i++) {
        bench_cg_side = i < 5 ? -1 : side;
        rc = im->transfer(p, data, wsize, wsize);
        bench_cg_side = -1;
    }
    if (p != NULL) {
        im->pair_free(p);
    }
    free(data);
    return rc;
}

static int callgrind_mode(const options *o)
{
    const bench_impl *im = NULL;
    if (o->cg_lib != NULL) {
        im = strcmp(o->cg_lib, "petrel") == 0    ? &bench_petrel
             : strcmp(o->cg_lib, "openssl") == 0 ? &bench_openssl
                                                 : NULL;
    }
    bool client = o->cg_side != NULL && strcmp(o->cg_side, "client") == 0;
    bool server = o->cg_side != NULL && strcmp(o->cg_side, "server") == 0;
    const cg_kind *kind = cg_kind_of(o->cg_kind);
    if (im == NULL || (!client && !server) || kind == NULL) {
        return usage();
    }
    bench_case bc = cg_case(o, kind);
    void *env = im->env_new(&bc);
    int rc = env != NULL ? 0 : -1;
    bool bulk = kind->wsize > 0;
    if (rc == 0 && bulk) {
        rc = cg_bulk(im, env, o, kind->wsize, client ? SIDE_CLIENT : SIDE_SERVER);
    }
    if (rc == 0 && kind->resume) {
        rc = cg_resume(im, env, o, client ? SIDE_CLIENT : SIDE_SERVER);
    }
    for (int i = 0; i < 5 + o->cg_n && rc == 0 && !bulk && !kind->resume; i++) {
        rc = cg_one(im, env, bc.pha, i < 5 ? -1 : (client ? SIDE_CLIENT : SIDE_SERVER));
    }
    if (env != NULL) {
        im->env_free(env);
    }
    printf("%s %s %s: %d %s measured\n", im->name, o->cg_kind, o->cg_side, o->cg_n,
           bulk     ? "writes"
           : bc.pha ? "rounds"
                    : "handshakes");
    return rc == 0 ? 0 : 1;
}

/* ---- the comparison ---- */

static bool wanted(const options *o, const char *section)
{
    if (o->only == NULL) {
        return true;
    }
    size_t n = strlen(section);
    for (const char *p = o->only; (p = strstr(p, section)) != NULL; p += n) {
        bool starts = p == o->only || p[-1] == ',';
        if (starts && (p[n] == ',' || p[n] == '\0')) {
            return true;
        }
    }
    return false;
}

/* The first line of /proc/loadavg: other work on the machine shows in
 * every timing, so the report states it. */
static void print_load(const char *when)
{
    char line[128] = "unknown\n";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f != NULL) {
        if (fgets(line, sizeof(line), f) == NULL) {
            snprintf(line, sizeof(line), "unknown\n");
        }
        fclose(f);
    }
    printf("load average %s: %s", when, line);
}

static void print_machine(const bench_params *bp)
{
    char model[128] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (strncmp(line, "model name", 10) == 0 && strchr(line, ':') != NULL) {
            snprintf(model, sizeof(model), "%s", strchr(line, ':') + 2);
            model[strcspn(model, "\n")] = '\0';
            break;
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    printf("petrel-bench (%s run): %ld CPUs online, CPU \"%s\", %s\n", bp->quick ? "quick" : "full",
           sysconf(_SC_NPROCESSORS_ONLN), model, OpenSSL_version(OPENSSL_VERSION));
    printf("times are the time spent inside each side's calls (CLOCK_MONOTONIC around them), "
           "repetitions interleave the libraries, alternating which goes first (A B, B A, ...)\n");
    print_load("at start");
}

static void print_floor(const bench_floor *f)
{
    report_title(
        "Crypto-only floor with libcrypto alone (us: the lowest of " BENCH_FLOOR_ROUNDS_TEXT
        " rounds' medians)");
    printf("X25519 keygen+derive, one side      %8.1f\n", f->kex);
    printf("%-36s %8s %8s\n", "", "P-256", "RSA-2048");
    printf("%-36s %8.1f %8.1f\n", "CertificateVerify sign (server key)", f->sign[0], f->sign[1]);
    printf("%-36s %8.1f %8.1f\n", "CertificateVerify verify", f->verify[0], f->verify[1]);
    printf("%-36s %8.1f %8.1f\n", "server chain: parse + X509_verify_cert", f->chain_server[0],
           f->chain_server[1]);
    printf("%-36s %8.1f %8.1f\n", "client chain: parse + X509_verify_cert", f->chain_client[0],
           f->chain_client[1]);
    printf("%-36s %8.1f %8.1f\n", "server chain: X509_verify_cert only", f->chain_server_parsed[0],
           f->chain_server_parsed[1]);
    printf("%-36s %8.1f %8.1f\n", "client chain: X509_verify_cert only", f->chain_client_parsed[0],
           f->chain_client_parsed[1]);
    printf("%-36s %8.1f %8.1f\n", "client CertificateVerify sign", f->client_sign[0],
           f->client_sign[1]);
    printf("%-36s %8.1f %8.1f\n", "client CertificateVerify verify", f->client_verify[0],
           f->client_verify[1]);
    printf("(the chains' CA certificates are ECDSA P-256 for both leaf types)\n");
}

static int compare(const options *o)
{
    const bench_params *bp = &o->bp;
    uint64_t t0 = bench_now();
    print_machine(bp);
    bench_floor floor;
    memset(&floor, 0, sizeof(floor));
    int rc = bench_floor_measure(bp->pki_dir, bp->floor_iter, &floor);
    if (rc == 0 && wanted(o, "floor")) {
        print_floor(&floor);
    }
    rc = rc == 0 ? bench_sanity(bp) : rc;
    rc = rc == 0 && wanted(o, "hs") ? bench_handshakes(bp, &floor) : rc;
    rc = rc == 0 && wanted(o, "resume") ? bench_resumption(bp, &floor) : rc;
    rc = rc == 0 && wanted(o, "pha") ? bench_pha(bp, &floor) : rc;
    rc = rc == 0 && wanted(o, "bulk") ? bench_bulk(bp) : rc;
    rc = rc == 0 && wanted(o, "mem") ? bench_memory(bp) : rc;
    rc = rc == 0 && wanted(o, "threads") ? bench_threads(bp) : rc;
    if (rc == 0) {
        report_summary();
        printf("\n");
        print_load("at end");
        printf("wall time %.0f s\n", (double)(bench_now() - t0) / 1e9);
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (!bench_alloc_init()) {
        fprintf(stderr, "petrel-bench: cannot hook libcrypto's allocator\n");
        return 1;
    }
    options o;
    if (parse_args(argc, argv, &o) != 0) {
        return usage();
    }
    bool generated = o.bp.pki_dir == NULL;
    if (generated && (o.bp.pki_dir = bench_pki_generate()) == NULL) {
        return 1;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int rc = o.cg_kind != NULL ? callgrind_mode(&o) : compare(&o);
    if (generated) {
        bench_pki_remove();
    }
    if (rc != 0 && rc != 2) {
        fprintf(stderr, "petrel-bench: failed\n");
        return 1;
    }
    return rc;
}
