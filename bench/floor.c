/*
 * floor.c - the crypto-only floor of a handshake: what libcrypto alone
 * spends on the operations that no TLS implementation built on it can
 * avoid. Measured with the same keys and chains as the handshakes:
 *
 *  - X25519: one key generation and one derivation (per side);
 *  - CertificateVerify: one signature (the signer) and one verification
 *    (the peer), SHA-256 over a 130-byte content as in RFC 8446 4.4.3;
 *  - the chain: X509_verify_cert of the leaf and intermediate against the
 *    root, with the hostname "localhost" and the sslserver purpose for a
 *    server chain, sslclient for a client one; measured twice, on
 *    certificates parsed once beforehand (what an implementation that keeps
 *    parsed certificates pays, and the floor) and parsed from DER each time
 *    (what an implementation that parses every chain it receives pays).
 *
 * Hashing the transcript, the key schedule and record protection are left
 * out, so a handshake cannot cost less than this floor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "bench_floor.h"

#define MAX_ITER 4096

typedef struct chain_der {
    uint8_t *der[2]; /* leaf, intermediate */
    int len[2];
} chain_der;

typedef struct floor_keys {
    EVP_PKEY *key[2];  /* ECDSA, RSA (server leaves) */
    EVP_PKEY *ckey[2]; /* client leaves */
    X509_STORE *store;
    chain_der server[2];
    chain_der client[2];
    X509 *parsed_server[2][2]; /* [kind][leaf, intermediate], parsed once */
    X509 *parsed_client[2][2];
} floor_keys;

static double median_us(double *v, int n)
{
    bench_stat st = bench_stat_of(v, (size_t)n);
    return st.median / 1000.0;
}

static EVP_PKEY *load_key(const char *dir, const char *leaf)
{
    char name[64];
    char path[256];
    snprintf(name, sizeof(name), "%s.key", leaf);
    bench_pki_path(path, sizeof(path), dir, name);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return NULL;
    }
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return k;
}

static bool load_chain(const char *dir, const char *leaf, chain_der *out)
{
    char name[64];
    char path[256];
    snprintf(name, sizeof(name), "%s-chain.pem", leaf);
    bench_pki_path(path, sizeof(path), dir, name);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return false;
    }
    bool ok = true;
    for (int i = 0; i < 2 && ok; i++) {
        X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
        out->der[i] = NULL;
        out->len[i] = x != NULL ? i2d_X509(x, &out->der[i]) : -1;
        ok = out->len[i] > 0;
        X509_free(x);
    }
    fclose(f);
    return ok;
}

static X509 *parse_der(const chain_der *ch, int i)
{
    const uint8_t *p = ch->der[i];
    return d2i_X509(NULL, &p, ch->len[i]);
}

static bool keys_parse(floor_keys *k)
{
    bool ok = true;
    for (int kind = 0; kind < 2; kind++) {
        for (int i = 0; i < 2; i++) {
            k->parsed_server[kind][i] = parse_der(&k->server[kind], i);
            k->parsed_client[kind][i] = parse_der(&k->client[kind], i);
            ok = ok && k->parsed_server[kind][i] != NULL && k->parsed_client[kind][i] != NULL;
        }
    }
    return ok;
}

static bool keys_load(const char *dir, floor_keys *k)
{
    memset(k, 0, sizeof(*k));
    char ca[256];
    bench_pki_path(ca, sizeof(ca), dir, "ca.pem");
    k->store = X509_STORE_new();
    k->key[0] = load_key(dir, "server-p256");
    k->key[1] = load_key(dir, "server-rsa2048");
    k->ckey[0] = load_key(dir, "client-p256");
    k->ckey[1] = load_key(dir, "client-rsa2048");
    return k->store != NULL && X509_STORE_load_file(k->store, ca) == 1 && k->key[0] != NULL &&
           k->key[1] != NULL && k->ckey[0] != NULL && k->ckey[1] != NULL &&
           load_chain(dir, "server-p256", &k->server[0]) &&
           load_chain(dir, "server-rsa2048", &k->server[1]) &&
           load_chain(dir, "client-p256", &k->client[0]) &&
           load_chain(dir, "client-rsa2048", &k->client[1]) && keys_parse(k);
}

static void keys_free(floor_keys *k)
{
    X509_STORE_free(k->store);
    for (int i = 0; i < 2; i++) {
        EVP_PKEY_free(k->key[i]);
        EVP_PKEY_free(k->ckey[i]);
        for (int j = 0; j < 2; j++) {
            X509_free(k->parsed_server[i][j]);
            X509_free(k->parsed_client[i][j]);
            OPENSSL_free(k->server[i].der[j]);
            OPENSSL_free(k->client[i].der[j]);
        }
    }
}

/* X25519 key generation and derivation with a fixed peer, one side's work. */
static int kex_once(EVP_PKEY *peer)
{
    EVP_PKEY *own = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    EVP_PKEY_CTX *dctx = own != NULL ? EVP_PKEY_CTX_new_from_pkey(NULL, own, NULL) : NULL;
    uint8_t secret[32];
    size_t len = sizeof(secret);
    int ok = dctx != NULL && EVP_PKEY_derive_init(dctx) == 1 &&
             EVP_PKEY_derive_set_peer(dctx, peer) == 1 && EVP_PKEY_derive(dctx, secret, &len) == 1;
    EVP_PKEY_CTX_free(dctx);
    EVP_PKEY_free(own);
    return ok ? 0 : -1;
}

static bool set_pss(EVP_PKEY_CTX *pctx, EVP_PKEY *key)
{
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
        return true;
    }
    return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1;
}

/* RFC 8446 4.4.3: 64 spaces, the context string, a zero, the transcript hash. */
static void cv_content(uint8_t out[130])
{
    memset(out, 0x20, 64);
    memcpy(out + 64, "TLS 1.3, server CertificateVerify", 33);
    out[97] = 0;
    memset(out + 98, 0x5a, 32);
}

static int sign_once(EVP_PKEY *key, uint8_t *sig, size_t *siglen)
{
    uint8_t msg[130];
    cv_content(msg);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = md != NULL && EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) == 1 &&
             set_pss(pctx, key) && EVP_DigestSign(md, sig, siglen, msg, sizeof(msg)) == 1;
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

static int verify_once(EVP_PKEY *key, const uint8_t *sig, size_t siglen)
{
    uint8_t msg[130];
    cv_content(msg);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = md != NULL && EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, key) == 1 &&
             set_pss(pctx, key) && EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg)) == 1;
    EVP_MD_CTX_free(md);
    return ok ? 0 : -1;
}

/* X509_verify_cert of leaf + intermediate against the root. */
static int verify_chain(X509_STORE *store, X509 *leaf, X509 *inter, bool server_chain)
{
    STACK_OF(X509) *untrusted = sk_X509_new_null();
    X509_STORE_CTX *vctx = X509_STORE_CTX_new();
    int ok = untrusted != NULL && vctx != NULL && sk_X509_push(untrusted, inter) > 0 &&
             X509_STORE_CTX_init(vctx, store, leaf, untrusted) == 1;
    if (ok) {
        X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(vctx);
        X509_STORE_CTX_set_purpose(vctx, server_chain ? X509_PURPOSE_SSL_SERVER
                                                      : X509_PURPOSE_SSL_CLIENT);
        ok = !server_chain || X509_VERIFY_PARAM_set1_host(param, "localhost", 0) == 1;
        ok = ok && X509_verify_cert(vctx) == 1;
    }
    X509_STORE_CTX_free(vctx);
    sk_X509_free(untrusted);
    return ok ? 0 : -1;
}

/* The chain as received: parsed from DER, then verified. */
static int chain_once(X509_STORE *store, const chain_der *ch, bool server_chain)
{
    X509 *leaf = parse_der(ch, 0);
    X509 *inter = parse_der(ch, 1);
    int rc = leaf != NULL && inter != NULL ? verify_chain(store, leaf, inter, server_chain) : -1;
    X509_free(inter);
    X509_free(leaf);
    return rc;
}

/* Times `iter` runs of one operation; returns the median in microseconds. */
#define TIME_OP(out, iter, call)                                                                   \
    do {                                                                                           \
        for (int i_ = 0; i_ < (iter); i_++) {                                                      \
            uint64_t t0_ = bench_now();                                                            \
            if ((call) != 0) {                                                                     \
                fprintf(stderr, "floor: %s failed\n", #call);                                      \
                return -1;                                                                         \
            }                                                                                      \
            samples[i_] = (double)(bench_now() - t0_);                                             \
        }                                                                                          \
        (out) = median_us(samples, (iter));                                                        \
    } while (0)

static int measure_kind(floor_keys *k, int kind, int iter, bench_floor *out, double *samples)
{
    uint8_t sig[512];
    size_t siglen = sizeof(sig);
    if (sign_once(k->key[kind], sig, &siglen) != 0) {
        return -1;
    }
    TIME_OP(out->sign[kind], iter, (siglen = sizeof(sig), sign_once(k->key[kind], sig, &siglen)));
    TIME_OP(out->verify[kind], iter, verify_once(k->key[kind], sig, siglen));
    TIME_OP(out->chain_server[kind], iter, chain_once(k->store, &k->server[kind], true));
    TIME_OP(out->chain_client[kind], iter, chain_once(k->store, &k->client[kind], false));
    X509 **ps = k->parsed_server[kind];
    X509 **pc = k->parsed_client[kind];
    TIME_OP(out->chain_server_parsed[kind], iter, verify_chain(k->store, ps[0], ps[1], true));
    TIME_OP(out->chain_client_parsed[kind], iter, verify_chain(k->store, pc[0], pc[1], false));
    siglen = sizeof(sig);
    TIME_OP(out->client_sign[kind], iter,
            (siglen = sizeof(sig), sign_once(k->ckey[kind], sig, &siglen)));
    TIME_OP(out->client_verify[kind], iter, verify_once(k->ckey[kind], sig, siglen));
    return 0;
}

/* Keeps in acc the lower of each figure: the floor is measured in a few
 * rounds, and a round that other work on the machine slowed down should
 * not raise it. */
static void floor_keep_lower(bench_floor *acc, const bench_floor *x)
{
    double *a = (double *)acc;
    const double *b = (const double *)x;
    for (size_t i = 0; i < sizeof(*acc) / sizeof(double); i++) {
        if (b[i] < a[i]) {
            a[i] = b[i];
        }
    }
}

static int floor_round(const char *pki_dir, int iter, bench_floor *out);

int bench_floor_measure(const char *pki_dir, int iter, bench_floor *out)
{
    int rc = floor_round(pki_dir, iter, out);
    for (int r = 1; r < BENCH_FLOOR_ROUNDS && rc == 0; r++) {
        bench_floor more;
        memset(&more, 0, sizeof(more));
        rc = floor_round(pki_dir, iter, &more);
        if (rc == 0) {
            floor_keep_lower(out, &more);
        }
    }
    return rc;
}

static int floor_round(const char *pki_dir, int iter, bench_floor *out)
{
    floor_keys k;
    double *samples = calloc(MAX_ITER, sizeof(double));
    if (iter > MAX_ITER) {
        iter = MAX_ITER;
    }
    int rc = -1;
    EVP_PKEY *peer = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    if (samples != NULL && peer != NULL && keys_load(pki_dir, &k)) {
        rc = 0;
        TIME_OP(out->kex, iter, kex_once(peer));
        for (int kind = 0; kind < 2 && rc == 0; kind++) {
            rc = measure_kind(&k, kind, iter, out, samples);
        }
        keys_free(&k);
    } else {
        fprintf(stderr, "floor: cannot load the PKI from %s\n", pki_dir);
    }
    EVP_PKEY_free(peer);
    free(samples);
    return rc;
}
