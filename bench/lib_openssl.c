/*
 * lib_openssl.c - the reference driver: OpenSSL's libssl, a client and a
 * server joined by a BIO pair. The BIO pair is the transport: it is made
 * and its ring buffers are allocated before any timed call, and it is
 * freed after the SSL objects, so neither its time nor its memory is
 * charged to a side (Petrel's transport buffers are the benchmark's too).
 *
 * Settings that match Petrel's: one protocol version, one suite, X25519
 * only, security level 2, the client verifies the chain and the hostname,
 * no session tickets (Petrel's server sends none), no session cache. In
 * TLS 1.2 also no renegotiation (Petrel declines it); the extended master
 * secret is on by default in both libraries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "bench.h"

#define READ_CAP (16 * 1024)

typedef struct os_env {
    SSL_CTX *cctx;
    SSL_CTX *sctx;
    size_t cap;
} os_env;

typedef struct os_pair {
    SSL *c;
    SSL *s;
    BIO *cb; /* the client's end of the BIO pair */
    BIO *sb;
    uint8_t rbuf[READ_CAP];
} os_pair;

static bool ossl_fail(const char *what)
{
    char msg[256];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, msg, sizeof(msg));
    fprintf(stderr, "openssl: %s: %s\n", what, e != 0 ? msg : "failed");
    ERR_clear_error();
    return false;
}

static bool load_chain(SSL_CTX *ctx, const char *dir, const char *leaf)
{
    char chain[256];
    char key[256];
    char name[64];
    snprintf(name, sizeof(name), "%s-chain.pem", leaf);
    bench_pki_path(chain, sizeof(chain), dir, name);
    snprintf(name, sizeof(name), "%s.key", leaf);
    bench_pki_path(key, sizeof(key), dir, name);
    if (SSL_CTX_use_certificate_chain_file(ctx, chain) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        return ossl_fail("load chain");
    }
    return true;
}

/* The same groups as Petrel's (lib_petrel.c explains P-256 in TLS 1.2). */
static const char *groups_for(const bench_case *bc)
{
    return bc->version == BENCH_TLS12 ? "X25519:P-256" : "X25519";
}

static bool common_setup(SSL_CTX *ctx, const bench_case *bc)
{
    char ca[256];
    bench_pki_path(ca, sizeof(ca), bc->pki_dir, "ca.pem");
    SSL_CTX_set_security_level(ctx, 2);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    if (bc->release_buffers) {
        SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    }
    int version = bc->version == BENCH_TLS12 ? TLS1_2_VERSION : TLS1_3_VERSION;
    if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1 ||
        SSL_CTX_set_min_proto_version(ctx, version) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, version) != 1 ||
        SSL_CTX_set1_groups_list(ctx, groups_for(bc)) != 1) {
        return ossl_fail("settings");
    }
    if (bc->version == BENCH_TLS13) {
        return SSL_CTX_set_ciphersuites(ctx, bc->suite) == 1 || ossl_fail("ciphersuites");
    }
    /* TLS 1.2: stateless tickets are off on both ends (the client offers
     * no session_ticket extension, as Petrel's does not). */
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    return SSL_CTX_set_cipher_list(ctx, bc->suite) == 1 || ossl_fail("cipher_list");
}

static bool client_setup(SSL_CTX *ctx, const bench_case *bc)
{
    if (!common_setup(ctx, bc)) {
        return false;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (bc->pha) {
        SSL_CTX_set_post_handshake_auth(ctx, 1);
    }
    return bc->client_leaf == NULL || load_chain(ctx, bc->pki_dir, bc->client_leaf);
}

static bool server_setup(SSL_CTX *ctx, const bench_case *bc)
{
    if (!common_setup(ctx, bc) || !load_chain(ctx, bc->pki_dir, bc->server_leaf)) {
        return false;
    }
    if (SSL_CTX_set_num_tickets(ctx, (size_t)bc->tickets) != 1) {
        return ossl_fail("num_tickets");
    }
    int mode = SSL_VERIFY_NONE;
    if (bc->client_auth) {
        mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    } else if (bc->pha) {
        mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT | SSL_VERIFY_POST_HANDSHAKE;
    }
    SSL_CTX_set_verify(ctx, mode, NULL);
    return true;
}

static void os_env_free(void *envp)
{
    os_env *env = envp;
    if (env != NULL) {
        SSL_CTX_free(env->cctx);
        SSL_CTX_free(env->sctx);
        free(env);
    }
}

static void *os_env_new(const bench_case *bc)
{
    os_env *env = calloc(1, sizeof(*env));
    if (env == NULL) {
        return NULL;
    }
    env->cap = bc->transport_cap;
    env->cctx = SSL_CTX_new(TLS_client_method());
    env->sctx = SSL_CTX_new(TLS_server_method());
    if (env->cctx == NULL || env->sctx == NULL || !client_setup(env->cctx, bc) ||
        !server_setup(env->sctx, bc)) {
        ossl_fail("SSL_CTX_new");
        os_env_free(env);
        return NULL;
    }
    return env;
}

static void os_pair_free(void *pp)
{
    os_pair *p = pp;
    if (p == NULL) {
        return;
    }
    /* Freed without close_notify, libssl would mark the client's session
     * as not resumable (ssl_clear_bad_session), and with it the session
     * that later connections offer; Petrel keeps a session usable. */
    if (p->c != NULL) {
        SSL_set_shutdown(p->c, SSL_SENT_SHUTDOWN);
    }
    ON_SIDE(SIDE_CLIENT, SSL_free(p->c));
    ON_SIDE(SIDE_SERVER, SSL_free(p->s));
    BIO_free(p->cb);
    BIO_free(p->sb);
    free(p);
}

/* A BIO pair whose ring buffers exist already, so that no side pays for them. */
static bool transport_new(os_pair *p, size_t cap)
{
    if (BIO_new_bio_pair(&p->cb, cap, &p->sb, cap) != 1) {
        return ossl_fail("BIO_new_bio_pair");
    }
    uint8_t byte = 0;
    if (BIO_write(p->cb, "x", 1) != 1 || BIO_read(p->sb, &byte, 1) != 1 ||
        BIO_write(p->sb, "x", 1) != 1 || BIO_read(p->cb, &byte, 1) != 1) {
        return ossl_fail("BIO pair warm-up");
    }
    /* SSL_set_bio takes one reference; the pair keeps its own until freed. */
    BIO_up_ref(p->cb);
    BIO_up_ref(p->sb);
    return true;
}

static void *os_pair_new(void *envp, const char *host)
{
    os_env *env = envp;
    os_pair *p = calloc(1, sizeof(*p));
    if (p == NULL || !transport_new(p, env->cap)) {
        free(p);
        return NULL;
    }
    bool ok = false;
    ON_SIDE(SIDE_CLIENT, {
        p->c = SSL_new(env->cctx);
        ok = p->c != NULL && SSL_set_tlsext_host_name(p->c, host) == 1 &&
             SSL_set1_host(p->c, host) == 1;
        if (ok) {
            SSL_set_bio(p->c, p->cb, p->cb);
            SSL_set_connect_state(p->c);
        }
    });
    ON_SIDE(SIDE_SERVER, {
        p->s = SSL_new(env->sctx);
        if (p->s != NULL) {
            SSL_set_bio(p->s, p->sb, p->sb);
            SSL_set_accept_state(p->s);
        }
    });
    if (!ok || p->s == NULL) {
        ossl_fail("SSL_new");
        os_pair_free(p);
        return NULL;
    }
    return p;
}

/* 1 when done, 0 when it wants input, -1 on failure. */
static int step(SSL *ssl, int ret, const char *who)
{
    if (ret == 1) {
        return 1;
    }
    int err = SSL_get_error(ssl, ret);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
        return 0;
    }
    char what[96];
    snprintf(what, sizeof(what), "%s (SSL_get_error %d, verify %ld)", who, err,
             SSL_get_verify_result(ssl));
    ossl_fail(what);
    return -1;
}

static int os_handshake(void *pp)
{
    os_pair *p = pp;
    int cs = 0;
    int ss = 0;
    for (int i = 0; i < 20 && (cs == 0 || ss == 0); i++) {
        int r;
        if (cs == 0) {
            ON_SIDE(SIDE_CLIENT, r = SSL_do_handshake(p->c));
            cs = step(p->c, r, "client handshake");
        }
        if (ss == 0 && cs >= 0) {
            ON_SIDE(SIDE_SERVER, r = SSL_do_handshake(p->s));
            ss = step(p->s, r, "server handshake");
        }
        if (cs < 0 || ss < 0) {
            return -1;
        }
    }
    return cs == 1 && ss == 1 ? 0 : -1;
}

static int os_pha_round(void *pp)
{
    os_pair *p = pp;
    int r = 0;
    ON_SIDE(SIDE_SERVER, {
        r = SSL_verify_client_post_handshake(p->s);
        if (r == 1) {
            r = SSL_do_handshake(p->s);
        }
    });
    if (r != 1) {
        ossl_fail("SSL_verify_client_post_handshake");
        return -1;
    }
    size_t n = 0;
    ON_SIDE(SIDE_CLIENT, r = SSL_read_ex(p->c, p->rbuf, READ_CAP, &n));
    if (r != 1 && step(p->c, r, "client answer") < 0) {
        return -1;
    }
    ON_SIDE(SIDE_SERVER, r = SSL_read_ex(p->s, p->rbuf, READ_CAP, &n));
    if (r != 1 && step(p->s, r, "server check") < 0) {
        return -1;
    }
    if (SSL_get0_peer_certificate(p->s) == NULL || SSL_get_verify_result(p->s) != X509_V_OK) {
        fprintf(stderr, "openssl: post-handshake authentication left no verified client\n");
        return -1;
    }
    return 0;
}

static int drain(os_pair *p, size_t *received)
{
    for (;;) {
        size_t n = 0;
        int r;
        ON_SIDE(SIDE_SERVER, r = SSL_read_ex(p->s, p->rbuf, READ_CAP, &n));
        if (r != 1) {
            return step(p->s, r, "read") < 0 ? -1 : 0;
        }
        *received += n;
    }
}

static int send_one(os_pair *p, const uint8_t *data, size_t len)
{
    bool sent = false;
    size_t received = 0;
    for (int guard = 0; received < len; guard++) {
        if (!sent) {
            size_t n = 0;
            int r;
            ON_SIDE(SIDE_CLIENT, r = SSL_write_ex(p->c, data, len, &n));
            if (r != 1 && step(p->c, r, "write") < 0) {
                return -1;
            }
            sent = r == 1;
        }
        if (drain(p, &received) != 0) {
            return -1;
        }
        if (guard > 100000) {
            fprintf(stderr, "openssl: transfer stalled at %zu of %zu\n", received, len);
            return -1;
        }
    }
    return 0;
}

static int os_transfer(void *pp, const uint8_t *data, size_t len, size_t wsize)
{
    for (size_t off = 0; off < len; off += wsize) {
        size_t n = len - off < wsize ? len - off : wsize;
        if (send_one(pp, data + off, n) != 0) {
            return -1;
        }
    }
    return 0;
}

/* The TLS name of the signature scheme the peer of ssl used (RFC 8446
 * 4.2.3), from OpenSSL's key type and digest; the PSS variant follows the
 * type of the peer's key (an rsaEncryption key signs with rsa_pss_rsae). */
static void peer_scheme(SSL *ssl, char *out, size_t cap)
{
    int type = NID_undef;
    int md = NID_undef;
    X509 *peer = SSL_get0_peer_certificate(ssl);
    EVP_PKEY *key = peer != NULL ? X509_get0_pubkey(peer) : NULL;
    if (SSL_get_peer_signature_type_nid(ssl, &type) != 1 ||
        SSL_get_peer_signature_nid(ssl, &md) != 1) {
        snprintf(out, cap, "?");
    } else if (type == EVP_PKEY_EC && md == NID_sha256) {
        snprintf(out, cap, "ecdsa_secp256r1_sha256");
    } else if (type == EVP_PKEY_RSA_PSS && md == NID_sha256) {
        bool rsae = key != NULL && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA;
        snprintf(out, cap, "%s", rsae ? "rsa_pss_rsae_sha256" : "rsa_pss_pss_sha256");
    } else if (type == EVP_PKEY_RSA && md == NID_sha256) {
        snprintf(out, cap, "rsa_pkcs1_sha256");
    } else {
        snprintf(out, cap, "%s+%s", OBJ_nid2sn(type), OBJ_nid2sn(md));
    }
}

static void os_describe(void *pp, char *out, size_t cap)
{
    os_pair *p = pp;
    char server_sig[48];
    peer_scheme(p->c, server_sig, sizeof(server_sig));
    char client[96] = "";
    if (SSL_get0_peer_certificate(p->s) != NULL) {
        char client_sig[48];
        peer_scheme(p->s, client_sig, sizeof(client_sig));
        snprintf(client, sizeof(client), ", server verified the client (signs %s)", client_sig);
    }
    const char *ems = "";
    if (SSL_version(p->c) == TLS1_2_VERSION) {
        bool both = SSL_get_extms_support(p->c) == 1 && SSL_get_extms_support(p->s) == 1;
        ems = both ? ", extended master secret (used by both)" : ", NO extended master secret";
    }
    STACK_OF(X509) *chain = SSL_get0_verified_chain(p->c);
    snprintf(out, cap, "%s %s %s, server signs %s, client verified chain %d (result %ld)%s%s",
             SSL_get_version(p->c), SSL_CIPHER_standard_name(SSL_get_current_cipher(p->c)),
             OBJ_nid2sn(SSL_get_negotiated_group(p->c)), server_sig,
             chain != NULL ? sk_X509_num(chain) : 0, SSL_get_verify_result(p->c), client, ems);
}

static void *os_session_take(void *pp)
{
    os_pair *p = pp;
    for (int i = 0; i < 4; i++) {
        size_t n = 0;
        int r;
        ON_SIDE(SIDE_CLIENT, r = SSL_read_ex(p->c, p->rbuf, READ_CAP, &n));
        if (r != 1 && step(p->c, r, "reading the ticket") < 0) {
            return NULL;
        }
        SSL_SESSION *sess;
        ON_SIDE(SIDE_CLIENT, sess = SSL_get1_session(p->c));
        if (sess != NULL && SSL_SESSION_is_resumable(sess)) {
            return sess;
        }
        SSL_SESSION_free(sess);
    }
    fprintf(stderr, "openssl: no session ticket arrived\n");
    return NULL;
}

static int os_session_offer(void *pp, void *session)
{
    os_pair *p = pp;
    int r;
    ON_SIDE(SIDE_CLIENT, r = SSL_set_session(p->c, session));
    return r == 1 ? 0 : (ossl_fail("SSL_set_session"), -1);
}

static bool os_resumed(void *pp)
{
    os_pair *p = pp;
    return SSL_session_reused(p->c) == 1 && SSL_session_reused(p->s) == 1;
}

static void os_session_free(void *session)
{
    SSL_SESSION_free(session);
}

const bench_impl bench_openssl = {
    .name = "OpenSSL",
    .env_new = os_env_new,
    .env_free = os_env_free,
    .pair_new = os_pair_new,
    .handshake = os_handshake,
    .pha_round = os_pha_round,
    .transfer = os_transfer,
    .pair_free = os_pair_free,
    .describe = os_describe,
    .session_take = os_session_take,
    .session_offer = os_session_offer,
    .resumed = os_resumed,
    .session_free = os_session_free,
};
