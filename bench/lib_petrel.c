/*
 * lib_petrel.c - the Petrel driver: two connections of the sans-I/O API
 * joined by memory. Output taken from one side (on that side's clock) is
 * fed to the other (on the receiver's clock): one copy on each side, as
 * libssl's BIO pair makes one inside SSL_write and one inside SSL_read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "petrel.h"

#define XFER_CAP ((size_t)256 * 1024)
#define READ_CAP ((size_t)16 * 1024)

typedef struct pt_env {
    petrel_ctx *cctx;
    petrel_ctx *sctx;
    size_t cap;
} pt_env;

/* Bytes taken from one side and not yet accepted by the other. */
typedef struct lane {
    uint8_t *buf;
    size_t off;
    size_t len;
} lane;

typedef struct pt_pair {
    petrel_conn *c;
    petrel_conn *s;
    lane lanes[2]; /* indexed by the sending side */
    uint8_t *rbuf;
} pt_pair;

static bool ctx_fail(petrel_ctx *ctx, const char *what)
{
    fprintf(stderr, "petrel: %s: %s\n", what, petrel_ctx_error(ctx)->message);
    return false;
}

static bool load_chain(petrel_ctx *ctx, const char *dir, const char *leaf)
{
    char chain[256];
    char key[256];
    char name[64];
    snprintf(name, sizeof(name), "%s-chain.pem", leaf);
    bench_pki_path(chain, sizeof(chain), dir, name);
    snprintf(name, sizeof(name), "%s.key", leaf);
    bench_pki_path(key, sizeof(key), dir, name);
    if (petrel_ctx_load_cert_chain(ctx, chain, key, NULL, NULL) != PETREL_OK) {
        return ctx_fail(ctx, "load_cert_chain");
    }
    return true;
}

/* X25519 for the key exchange. In TLS 1.2 both sides list P-256 after it:
 * RFC 8422 5.1 makes supported_groups name the curves of ECDSA
 * certificates as well, a server (both libraries) takes an ECDSA P-256
 * certificate only when the client lists P-256, and OpenSSL's server
 * accepts a P-256 client certificate only when its own list has P-256.
 * Both clients list X25519 first and both servers honour that, so the
 * exchange stays X25519 (the sanity pass prints it). */
static const char *groups_for(const bench_case *bc)
{
    return bc->version == BENCH_TLS12 ? "x25519:P-256" : "x25519";
}

static bool common_setup(petrel_ctx *ctx, const bench_case *bc)
{
    char ca[256];
    bench_pki_path(ca, sizeof(ca), bc->pki_dir, "ca.pem");
    if (petrel_ctx_load_verify_locations(ctx, ca, NULL, NULL, 0) != PETREL_OK) {
        return ctx_fail(ctx, "load_verify_locations");
    }
    /* The one version of the case, and its one suite: TLS 1.2 suites are
     * set with set_ciphers, TLS 1.3 ones with set_ciphersuites. */
    petrel_status suite = bc->version == BENCH_TLS12 ? petrel_ctx_set_ciphers(ctx, bc->suite)
                                                     : petrel_ctx_set_ciphersuites(ctx, bc->suite);
    int version = bc->version == BENCH_TLS12 ? PETREL_TLS1_2 : PETREL_TLS1_3;
    if (petrel_ctx_set_minimum_version(ctx, version) != PETREL_OK ||
        petrel_ctx_set_maximum_version(ctx, version) != PETREL_OK || suite != PETREL_OK ||
        petrel_ctx_set_groups(ctx, groups_for(bc)) != PETREL_OK) {
        return ctx_fail(ctx, "settings");
    }
    if (bc->require_ems && petrel_ctx_set_require_extended_master_secret(ctx, true) != PETREL_OK) {
        return ctx_fail(ctx, "require_extended_master_secret");
    }
    return true;
}

static bool client_setup(petrel_ctx *ctx, const bench_case *bc)
{
    if (!common_setup(ctx, bc)) {
        return false;
    }
    if (petrel_ctx_set_verify_mode(ctx, PETREL_CERT_REQUIRED) != PETREL_OK ||
        petrel_ctx_set_check_hostname(ctx, true) != PETREL_OK) {
        return ctx_fail(ctx, "client verification");
    }
    if (bc->pha && petrel_ctx_set_post_handshake_auth(ctx, true) != PETREL_OK) {
        return ctx_fail(ctx, "post_handshake_auth");
    }
    return bc->client_leaf == NULL || load_chain(ctx, bc->pki_dir, bc->client_leaf);
}

static bool server_setup(petrel_ctx *ctx, const bench_case *bc)
{
    if (!common_setup(ctx, bc) || !load_chain(ctx, bc->pki_dir, bc->server_leaf)) {
        return false;
    }
    if (petrel_ctx_set_num_tickets(ctx, (size_t)bc->tickets) != PETREL_OK) {
        return ctx_fail(ctx, "num_tickets");
    }
    if ((bc->client_auth || bc->pha) &&
        petrel_ctx_set_verify_mode(ctx, PETREL_CERT_REQUIRED) != PETREL_OK) {
        return ctx_fail(ctx, "server verify_mode");
    }
    if (bc->pha && petrel_ctx_set_post_handshake_auth(ctx, true) != PETREL_OK) {
        return ctx_fail(ctx, "post_handshake_auth");
    }
    return true;
}

static void pt_env_free(void *envp)
{
    pt_env *env = envp;
    if (env != NULL) {
        petrel_ctx_free(env->cctx);
        petrel_ctx_free(env->sctx);
        free(env);
    }
}

static void *pt_env_new(const bench_case *bc)
{
    pt_env *env = calloc(1, sizeof(*env));
    if (env == NULL) {
        return NULL;
    }
    env->cap = bc->transport_cap;
    env->cctx = petrel_ctx_new(PETREL_CLIENT);
    env->sctx = petrel_ctx_new(PETREL_SERVER);
    if (env->cctx == NULL || env->sctx == NULL || !client_setup(env->cctx, bc) ||
        !server_setup(env->sctx, bc)) {
        pt_env_free(env);
        return NULL;
    }
    return env;
}

static void pt_pair_free(void *pp)
{
    pt_pair *p = pp;
    if (p == NULL) {
        return;
    }
    ON_SIDE(SIDE_CLIENT, petrel_conn_free(p->c));
    ON_SIDE(SIDE_SERVER, petrel_conn_free(p->s));
    free(p->lanes[0].buf);
    free(p->lanes[1].buf);
    free(p->rbuf);
    free(p);
}

static void *pt_pair_new(void *envp, const char *host)
{
    pt_env *env = envp;
    pt_pair *p = calloc(1, sizeof(*p));
    if (p == NULL) {
        return NULL;
    }
    p->lanes[0].buf = malloc(XFER_CAP);
    p->lanes[1].buf = malloc(XFER_CAP);
    p->rbuf = malloc(READ_CAP);
    ON_SIDE(SIDE_CLIENT, p->c = petrel_conn_new(env->cctx, host));
    ON_SIDE(SIDE_SERVER, p->s = petrel_conn_new(env->sctx, NULL));
    if (p->c == NULL || p->s == NULL || p->lanes[0].buf == NULL || p->lanes[1].buf == NULL ||
        p->rbuf == NULL) {
        fprintf(stderr, "petrel: conn_new failed\n");
        pt_pair_free(p);
        return NULL;
    }
    return p;
}

static petrel_conn *conn_of(pt_pair *p, bench_side side)
{
    return side == SIDE_CLIENT ? p->c : p->s;
}

/* Moves output of `from` to its peer until the output is empty or the peer
 * accepts no more. Returns the bytes accepted, or -1 on a feed failure. */
static long flow(pt_pair *p, bench_side from)
{
    bench_side to = from == SIDE_CLIENT ? SIDE_SERVER : SIDE_CLIENT;
    lane *ln = &p->lanes[from];
    long total = 0;
    for (;;) {
        if (ln->off == ln->len) {
            /* Asking whether there is output is not timed: libssl's side
             * has no such call, and the bracket would cost more than it. */
            if (petrel_conn_output_pending(conn_of(p, from)) == 0) {
                return total;
            }
            size_t n;
            ON_SIDE(from, n = petrel_conn_take_output(conn_of(p, from), ln->buf, XFER_CAP));
            ln->off = 0;
            ln->len = n;
        }
        size_t used = 0;
        petrel_status st;
        ON_SIDE(to,
                st = petrel_conn_feed(conn_of(p, to), ln->buf + ln->off, ln->len - ln->off, &used));
        if (st != PETREL_OK) {
            fprintf(stderr, "petrel: feed: %s\n", petrel_status_name(st));
            return -1;
        }
        if (used == 0) {
            return total;
        }
        ln->off += used;
        total += (long)used;
    }
}

static bool settled(petrel_status st)
{
    return st != PETREL_ERR_WANT_READ && st != PETREL_ERR_WANT_WRITE;
}

static int report(pt_pair *p, const char *what, petrel_status cs, petrel_status ss)
{
    fprintf(stderr, "petrel: %s: client %s (%s), server %s (%s)\n", what, petrel_status_name(cs),
            petrel_conn_error(p->c)->message, petrel_status_name(ss),
            petrel_conn_error(p->s)->message);
    return -1;
}

static int pt_handshake(void *pp)
{
    pt_pair *p = pp;
    petrel_status cs = PETREL_ERR_WANT_READ;
    petrel_status ss = PETREL_ERR_WANT_READ;
    for (int i = 0; i < 20; i++) {
        if (!settled(cs)) {
            ON_SIDE(SIDE_CLIENT, cs = petrel_conn_do_handshake(p->c));
        }
        long moved = flow(p, SIDE_CLIENT);
        if (!settled(ss)) {
            ON_SIDE(SIDE_SERVER, ss = petrel_conn_do_handshake(p->s));
        }
        long back = flow(p, SIDE_SERVER);
        if (moved < 0 || back < 0) {
            return -1;
        }
        if (settled(cs) && settled(ss) && moved + back == 0) {
            break;
        }
    }
    return cs == PETREL_OK && ss == PETREL_OK ? 0 : report(p, "handshake", cs, ss);
}

static int pt_pha_round(void *pp)
{
    pt_pair *p = pp;
    petrel_status ss;
    petrel_status cs = PETREL_OK;
    ON_SIDE(SIDE_SERVER, ss = petrel_conn_verify_client_post_handshake(p->s));
    if (ss != PETREL_OK) {
        return report(p, "verify_client_post_handshake", cs, ss);
    }
    ss = PETREL_ERR_WANT_READ;
    for (int i = 0; i < 10 && ss == PETREL_ERR_WANT_READ; i++) {
        ON_SIDE(SIDE_SERVER, ss = petrel_conn_process(p->s));
        if (flow(p, SIDE_SERVER) < 0) {
            return -1;
        }
        size_t n = 0;
        ON_SIDE(SIDE_CLIENT, cs = petrel_conn_read(p->c, p->rbuf, READ_CAP, &n));
        if (flow(p, SIDE_CLIENT) < 0) {
            return -1;
        }
        ON_SIDE(SIDE_SERVER, ss = petrel_conn_process(p->s));
    }
    if (ss != PETREL_OK || !petrel_conn_has_peer_cert(p->s) ||
        petrel_conn_peer_cert_pending(p->s)) {
        return report(p, "post-handshake authentication", cs, ss);
    }
    return 0;
}

/* Reads everything the server has decrypted or can decrypt now. */
static int drain(pt_pair *p, size_t *received)
{
    for (;;) {
        size_t n = 0;
        petrel_status st;
        ON_SIDE(SIDE_SERVER, st = petrel_conn_read(p->s, p->rbuf, READ_CAP, &n));
        *received += n;
        if (st == PETREL_ERR_WANT_READ) {
            return 0;
        }
        if (st != PETREL_OK) {
            return report(p, "read", PETREL_OK, st);
        }
    }
}

static int send_one(pt_pair *p, const uint8_t *data, size_t len)
{
    size_t sent = 0;
    size_t received = 0;
    while (received < len) {
        if (sent < len) {
            size_t n = 0;
            petrel_status st;
            ON_SIDE(SIDE_CLIENT, st = petrel_conn_write(p->c, data + sent, len - sent, &n));
            if (st != PETREL_OK && st != PETREL_ERR_WANT_WRITE) {
                return report(p, "write", st, PETREL_OK);
            }
            sent += n;
        }
        long moved = flow(p, SIDE_CLIENT);
        if (moved < 0 || drain(p, &received) != 0) {
            return -1;
        }
        if (moved == 0 && sent == len && received < len && p->lanes[0].off == p->lanes[0].len) {
            fprintf(stderr, "petrel: transfer stalled at %zu of %zu\n", received, len);
            return -1;
        }
    }
    return 0;
}

static int pt_transfer(void *pp, const uint8_t *data, size_t len, size_t wsize)
{
    for (size_t off = 0; off < len; off += wsize) {
        size_t n = len - off < wsize ? len - off : wsize;
        if (send_one(pp, data + off, n) != 0) {
            return -1;
        }
    }
    return 0;
}

static const char *or_unknown(const char *s)
{
    return s != NULL ? s : "?";
}

/* Petrel does not report whether a TLS 1.2 connection used the extended
 * master secret; when both contexts require it, a finished handshake says
 * it did. */
static const char *ems_note(pt_pair *p)
{
    if (petrel_conn_version(p->c) != PETREL_TLS1_2) {
        return "";
    }
    bool required = petrel_ctx_require_extended_master_secret(petrel_conn_context(p->c)) &&
                    petrel_ctx_require_extended_master_secret(petrel_conn_context(p->s));
    return required ? ", extended master secret (required by both)"
                    : ", extended master secret not checked";
}

static void pt_describe(void *pp, char *out, size_t cap)
{
    pt_pair *p = pp;
    char client[96] = "";
    if (petrel_conn_has_peer_cert(p->s)) {
        snprintf(client, sizeof(client), ", server verified the client (signs %s)",
                 or_unknown(petrel_conn_peer_signature_algorithm(p->s)));
    }
    snprintf(
        out, cap, "%s %s %s, server signs %s, client verified chain %zu (result %ld)%s%s",
        or_unknown(petrel_conn_version_name(p->c)), or_unknown(petrel_conn_cipher(p->c)),
        or_unknown(petrel_conn_group(p->c)), or_unknown(petrel_conn_peer_signature_algorithm(p->c)),
        petrel_conn_verified_chain_len(p->c), petrel_conn_verify_result(p->c), client, ems_note(p));
}

static void *pt_session_take(void *pp)
{
    pt_pair *p = pp;
    for (int i = 0; i < 4; i++) {
        if (flow(p, SIDE_SERVER) < 0) {
            return NULL;
        }
        size_t n = 0;
        petrel_status st;
        ON_SIDE(SIDE_CLIENT, st = petrel_conn_read(p->c, p->rbuf, READ_CAP, &n));
        if (st != PETREL_OK && st != PETREL_ERR_WANT_READ) {
            report(p, "reading the ticket", st, PETREL_OK);
            return NULL;
        }
        petrel_session *sess;
        ON_SIDE(SIDE_CLIENT, sess = petrel_conn_get_session(p->c));
        if (sess != NULL) {
            return sess;
        }
    }
    fprintf(stderr, "petrel: no session ticket arrived\n");
    return NULL;
}

static int pt_session_offer(void *pp, void *session)
{
    pt_pair *p = pp;
    petrel_status st;
    ON_SIDE(SIDE_CLIENT, st = petrel_conn_set_session(p->c, session));
    return st == PETREL_OK ? 0 : report(p, "set_session", st, PETREL_OK);
}

static bool pt_resumed(void *pp)
{
    pt_pair *p = pp;
    return petrel_conn_session_reused(p->c) && petrel_conn_session_reused(p->s);
}

static void pt_session_free(void *session)
{
    petrel_session_free(session);
}

const bench_impl bench_petrel = {
    .name = "Petrel",
    .env_new = pt_env_new,
    .env_free = pt_env_free,
    .pair_new = pt_pair_new,
    .handshake = pt_handshake,
    .pha_round = pt_pha_round,
    .transfer = pt_transfer,
    .pair_free = pt_pair_free,
    .describe = pt_describe,
    .session_take = pt_session_take,
    .session_offer = pt_session_offer,
    .resumed = pt_resumed,
    .session_free = pt_session_free,
};
