/*
 * keysched.c - the TLS 1.3 key schedule (RFC 8446 7.1) and key log.
 *
 *   PSK or 0 -> HKDF-Extract = Early Secret -> Derive-Secret(., "derived", "")
 *   (EC)DHE -> HKDF-Extract = Handshake Secret -> {c,s} hs traffic
 *   0 -> HKDF-Extract = Master Secret -> {c,s} ap traffic, res master
 */
#include <stdio.h>
#include <string.h>

#include "engine/internal.h"

pt_aead_alg pt_suite_aead(uint16_t suite)
{
    switch (suite) {
    case PT_TLS_AES_256_GCM_SHA384:
    case PT_ECDHE_ECDSA_AES256_GCM_SHA384:
    case PT_ECDHE_RSA_AES256_GCM_SHA384:
        return PT_AES_256_GCM;
    case PT_TLS_CHACHA20_POLY1305_SHA256:
    case PT_ECDHE_RSA_CHACHA20_POLY1305:
    case PT_ECDHE_ECDSA_CHACHA20_POLY1305:
        return PT_CHACHA20_POLY1305;
    default:
        return PT_AES_128_GCM;
    }
}

pt_hash_alg pt_suite_hash(uint16_t suite)
{
    switch (suite) {
    case PT_TLS_AES_256_GCM_SHA384:
    case PT_ECDHE_ECDSA_AES256_GCM_SHA384:
    case PT_ECDHE_RSA_AES256_GCM_SHA384:
        return PT_SHA384;
    default:
        return PT_SHA256;
    }
}

/* Derive-Secret(secret, label, transcript hash). */
static petrel_status derive(petrel_conn *conn, const uint8_t *secret, const char *label,
                            const uint8_t *hash, uint8_t *out)
{
    size_t n = pt_hash_len(conn->hash);
    return pt_hkdf_expand_label(conn->ctx->algs, conn->hash, secret, label, hash, n, out, n,
                                &conn->err);
}

/* Derive-Secret(secret, "derived", "") */
static petrel_status derive_empty(petrel_conn *conn, const uint8_t *secret, uint8_t *out)
{
    return derive(conn, secret, "derived", pt_empty_hash(conn->ctx->algs, conn->hash), out);
}

/* Derive-Secret(secret, label_a, hash) into a and (secret, label_b, hash)
 * into b, with the secret keyed into HMAC once. */
static petrel_status derive_pair(petrel_conn *conn, const uint8_t *secret, const uint8_t *hash,
                                 const char *label_a, uint8_t *a, const char *label_b, uint8_t *b)
{
    size_t n = pt_hash_len(conn->hash);
    pt_kdf k = {0};
    PT_TRY(pt_kdf_key(&k, conn->ctx->algs, conn->hash, secret, &conn->err));
    petrel_status st = pt_kdf_expand_label(&k, label_a, hash, n, a, n, &conn->err);
    if (st == PETREL_OK) {
        st = pt_kdf_expand_label(&k, label_b, hash, n, b, n, &conn->err);
    }
    pt_kdf_free(&k);
    return st;
}

void pt_keylog(petrel_conn *conn, const char *label, const uint8_t *secret)
{
    const petrel_ctx *ctx = conn->ctx;
    if (ctx->keylog_cb == NULL && ctx->keylog_path == NULL) {
        return;
    }
    static const char hex[] = "0123456789abcdef";
    char line[64 + 1 + 64 + 1 + 2 * PT_MAX_HASH + 1];
    size_t n = (size_t)snprintf(line, sizeof(line), "%s ", label);
    for (size_t i = 0; i < 32; i++) {
        line[n++] = hex[conn->client_random[i] >> 4];
        line[n++] = hex[conn->client_random[i] & 15];
    }
    line[n++] = ' ';
    for (size_t i = 0; i < pt_hash_len(conn->hash); i++) {
        line[n++] = hex[secret[i] >> 4];
        line[n++] = hex[secret[i] & 15];
    }
    line[n] = '\0';
    pt_ctx_keylog(ctx, conn, line);
    pt_wipe(line, sizeof(line));
}

petrel_status pt_ks_install(petrel_conn *conn, const uint8_t *secret, bool write)
{
    if (write) {
        PT_TRY(pt_flush_handshake(conn));
    }
    pt_aead_alg aead = pt_suite_aead(conn->suite);
    size_t key_len = pt_aead_key_len(aead);
    uint8_t key[PT_MAX_KEY];
    uint8_t iv[PT_AEAD_NONCE];
    const pt_algs *algs = conn->ctx->algs;
    pt_kdf k = {0};
    PT_TRY(pt_kdf_key(&k, algs, conn->hash, secret, &conn->err));
    petrel_status st = pt_kdf_expand_label(&k, "key", NULL, 0, key, key_len, &conn->err);
    if (st == PETREL_OK) {
        st = pt_kdf_expand_label(&k, "iv", NULL, 0, iv, sizeof(iv), &conn->err);
    }
    pt_kdf_free(&k);
    if (st == PETREL_OK) {
        pt_record_dir *d = write ? &conn->rl.wr : &conn->rl.rd;
        st = pt_record_set_key(d, algs, aead, key, iv, sizeof(iv), true, write, &conn->err);
    }
    pt_wipe(key, sizeof(key));
    pt_wipe(iv, sizeof(iv));
    if (!write) {
        conn->rd_epoch++;
    }
    return st;
}

petrel_status pt_ks_handshake(petrel_conn *conn, const uint8_t *ecdhe, size_t ecdhe_len)
{
    struct pt_hs *hs = conn->hs;
    const pt_algs *algs = conn->ctx->algs;
    uint8_t early[PT_MAX_HASH];
    uint8_t salt[PT_MAX_HASH];
    uint8_t hash[PT_MAX_HASH];
    static const uint8_t no_psk[PT_MAX_HASH] = {0};
    size_t n = pt_hash_len(conn->hash);
    /* The resumption PSK, or without one HashLen zero bytes (RFC 8446 7.1). */
    const uint8_t *psk = hs->resumed ? hs->psk : no_psk;
    petrel_status st = pt_hkdf_extract(algs, conn->hash, NULL, 0, psk, n, early, &conn->err);
    if (st == PETREL_OK) {
        st = derive_empty(conn, early, salt);
    }
    if (st == PETREL_OK) {
        st = pt_hkdf_extract(algs, conn->hash, salt, n, ecdhe, ecdhe_len, hs->handshake_secret,
                             &conn->err);
    }
    if (st == PETREL_OK) {
        st = pt_tr_hash(&hs->tr, hash, &conn->err);
    }
    if (st == PETREL_OK) {
        st = derive_pair(conn, hs->handshake_secret, hash, "c hs traffic", hs->client_hs_secret,
                         "s hs traffic", hs->server_hs_secret);
    }
    pt_wipe(early, sizeof(early));
    pt_wipe(salt, sizeof(salt));
    PT_TRY(st);
    pt_keylog(conn, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", hs->client_hs_secret);
    pt_keylog(conn, "SERVER_HANDSHAKE_TRAFFIC_SECRET", hs->server_hs_secret);
    return PETREL_OK;
}

/* Called with the transcript through the server Finished. */
petrel_status pt_ks_application(petrel_conn *conn)
{
    struct pt_hs *hs = conn->hs;
    uint8_t salt[PT_MAX_HASH];
    uint8_t zeros[PT_MAX_HASH] = {0};
    uint8_t hash[PT_MAX_HASH];
    size_t n = pt_hash_len(conn->hash);
    petrel_status st = derive_empty(conn, hs->handshake_secret, salt);
    if (st == PETREL_OK) {
        st = pt_hkdf_extract(conn->ctx->algs, conn->hash, salt, n, zeros, n, hs->master_secret,
                             &conn->err);
    }
    if (st == PETREL_OK) {
        st = pt_tr_hash(&hs->tr, hash, &conn->err);
    }
    if (st == PETREL_OK) {
        st = derive_pair(conn, hs->master_secret, hash, "c ap traffic", conn->client_app_secret,
                         "s ap traffic", conn->server_app_secret);
    }
    pt_wipe(salt, sizeof(salt));
    PT_TRY(st);
    pt_keylog(conn, "CLIENT_TRAFFIC_SECRET_0", conn->client_app_secret);
    pt_keylog(conn, "SERVER_TRAFFIC_SECRET_0", conn->server_app_secret);
    return PETREL_OK;
}

/* Called with the transcript through the client Finished. */
petrel_status pt_ks_resumption(petrel_conn *conn)
{
    uint8_t hash[PT_MAX_HASH];
    PT_TRY(pt_tr_hash(&conn->hs->tr, hash, &conn->err));
    return derive(conn, conn->hs->master_secret, "res master", hash, conn->resumption_secret);
}

/* RFC 8446 7.2: application_traffic_secret_N+1. */
petrel_status pt_ks_update(petrel_conn *conn, bool write)
{
    bool client_side = (conn->role == PETREL_CLIENT) == write;
    uint8_t *secret = client_side ? conn->client_app_secret : conn->server_app_secret;
    uint8_t next[PT_MAX_HASH];
    size_t n = pt_hash_len(conn->hash);
    PT_TRY(pt_hkdf_expand_label(conn->ctx->algs, conn->hash, secret, "traffic upd", NULL, 0, next,
                                n, &conn->err));
    memcpy(secret, next, n);
    pt_wipe(next, sizeof(next));
    return pt_ks_install(conn, secret, write);
}

/* RFC 8446 4.4.4: HMAC(finished_key, transcript hash). */
petrel_status pt_ks_finished(petrel_conn *conn, const uint8_t *base, const uint8_t *hash,
                             uint8_t out[PT_MAX_HASH])
{
    uint8_t key[PT_MAX_HASH];
    size_t n = pt_hash_len(conn->hash);
    petrel_status st = pt_hkdf_expand_label(conn->ctx->algs, conn->hash, base, "finished", NULL, 0,
                                            key, n, &conn->err);
    if (st == PETREL_OK) {
        st = pt_hmac(conn->ctx->algs, conn->hash, key, n, hash, n, out, &conn->err);
    }
    pt_wipe(key, sizeof(key));
    return st;
}
