/*
 * tls12_keys.c - the TLS 1.2 key schedule (RFC 5246 6.3, 7.4.9, 8.1) with
 * the extended master secret of RFC 7627.
 *
 *   master_secret = PRF(pre_master_secret, "extended master secret",
 *                       Hash(handshake_messages through ClientKeyExchange))
 *                 or PRF(pre_master_secret, "master secret",
 *                        client_random + server_random)       [peer without EMS]
 *   key_block     = PRF(master_secret, "key expansion",
 *                       server_random + client_random)
 *                 = client key, server key, client IV, server IV  [AEAD: no MAC keys]
 *   verify_data   = PRF(master_secret, "client finished" | "server finished",
 *                       Hash(handshake_messages))[0..11]
 *
 * The PRF's hash is the suite's (SHA-256, or SHA-384 for the AES-256-GCM
 * suites). The transcript of a TLS 1.2 handshake stays raw bytes, hashed
 * when a value above needs it.
 */
#include <stdint.h>
#include <string.h>

#include "engine/internal.h"

#define PT_TLS12_MASTER 48
#define PT_TLS12_VERIFY_DATA 12
/* RFC 5288 3: a 4-byte salt; RFC 7905 2: a 12-byte IV. */
#define PT_TLS12_GCM_SALT 4

/* RFC 5246 7.4.8: a CertificateVerify signs the raw handshake messages, so
 * they are kept beside the running hash only while one can still come:
 * on a server that asks for a certificate, on a client that has one. The
 * extended master secret and both Finished messages read the hash. */
petrel_status pt_tls12_transcript_start(petrel_conn *conn)
{
    const petrel_ctx *ctx = conn->ctx;
    bool signs =
        conn->role == PETREL_SERVER ? ctx->verify_mode != PETREL_CERT_NONE : ctx->cred != NULL;
    pt_transcript *tr = &conn->hs->tr;
    if (signs) {
        return pt_tr_start_hash_keep_raw(tr, ctx->algs, conn->hash, &conn->err);
    }
    return pt_tr_start_hash(tr, ctx->algs, conn->hash, &conn->err);
}

petrel_status pt_tls12_transcript_hash(petrel_conn *conn, uint8_t out[PT_MAX_HASH])
{
    return pt_tr_hash(&conn->hs->tr, out, &conn->err);
}

/* Logs the master secret in the NSS key-log format of TLS 1.2. */
static void keylog_master(petrel_conn *conn, const uint8_t *master)
{
    const petrel_ctx *ctx = conn->ctx;
    if (ctx->keylog_cb == NULL && ctx->keylog_path == NULL) {
        return;
    }
    static const char hex[] = "0123456789abcdef";
    static const char label[] = "CLIENT_RANDOM ";
    char line[sizeof(label) + 64 + 1 + 2 * PT_TLS12_MASTER + 1];
    size_t n = sizeof(label) - 1;
    memcpy(line, label, n);
    for (size_t i = 0; i < 32; i++) {
        line[n++] = hex[conn->client_random[i] >> 4];
        line[n++] = hex[conn->client_random[i] & 15];
    }
    line[n++] = ' ';
    for (size_t i = 0; i < PT_TLS12_MASTER; i++) {
        line[n++] = hex[master[i] >> 4];
        line[n++] = hex[master[i] & 15];
    }
    line[n] = '\0';
    pt_ctx_keylog(ctx, conn, line);
    pt_wipe(line, sizeof(line));
}

petrel_status pt_tls12_master_secret(petrel_conn *conn)
{
    struct pt_hs *hs = conn->hs;
    const pt_algs *algs = conn->ctx->algs;
    uint8_t seed[64];
    size_t seed_len;
    const char *label;
    petrel_status st = PETREL_OK;
    if (hs->t12.ems) {
        /* RFC 7627 4: the session hash covers the messages through
         * ClientKeyExchange. */
        label = "extended master secret";
        seed_len = pt_hash_len(conn->hash);
        st = pt_tls12_transcript_hash(conn, seed);
    } else {
        label = "master secret";
        seed_len = 64;
        memcpy(seed, conn->client_random, 32);
        memcpy(seed + 32, hs->server_random, 32);
    }
    if (st == PETREL_OK) {
        st = pt_tls12_prf(algs, conn->hash, hs->t12.pms, hs->t12.pms_len, label, seed, seed_len,
                          hs->master_secret, PT_TLS12_MASTER, &conn->err);
    }
    pt_wipe(hs->t12.pms, sizeof(hs->t12.pms));
    hs->t12.pms_len = 0;
    PT_TRY(st);
    keylog_master(conn, hs->master_secret);
    return PETREL_OK;
}

/* RFC 5246 6.3: key_block = PRF(master_secret, "key expansion",
 * server_random + client_random), computed once for both directions. */
static petrel_status key_block(petrel_conn *conn, size_t len)
{
    struct pt_hs *hs = conn->hs;
    if (hs->t12.key_block_uses > 0) {
        return PETREL_OK;
    }
    uint8_t seed[64];
    memcpy(seed, hs->server_random, 32);
    memcpy(seed + 32, conn->client_random, 32);
    return pt_tls12_prf(conn->ctx->algs, conn->hash, hs->master_secret, PT_TLS12_MASTER,
                        "key expansion", seed, sizeof(seed), hs->t12.key_block, len, &conn->err);
}

petrel_status pt_tls12_install_keys(petrel_conn *conn, bool write)
{
    struct pt_hs *hs = conn->hs;
    pt_aead_alg aead = pt_suite_aead(conn->suite);
    size_t key_len = pt_aead_key_len(aead);
    size_t iv_len = aead == PT_CHACHA20_POLY1305 ? PT_AEAD_NONCE : PT_TLS12_GCM_SALT;
    if (write) {
        PT_TRY(pt_flush_handshake(conn));
    }
    petrel_status st = key_block(conn, 2 * key_len + 2 * iv_len);
    const uint8_t *block = hs->t12.key_block;
    bool client_side = (conn->role == PETREL_CLIENT) == write;
    const uint8_t *key = block + (client_side ? 0 : key_len);
    const uint8_t *iv = block + 2 * key_len + (client_side ? 0 : iv_len);
    pt_record_dir *d = write ? &conn->rl.wr : &conn->rl.rd;
    if (st == PETREL_OK) {
        st = pt_record_set_key(d, conn->ctx->algs, aead, key, iv, iv_len, false, write, &conn->err);
    }
    if (st != PETREL_OK || ++hs->t12.key_block_uses == 2) {
        pt_wipe(hs->t12.key_block, sizeof(hs->t12.key_block));
    }
    PT_TRY(st);
    /* TLS 1.2 has no KeyUpdate: the key serves the whole connection, and
     * the record layer still refuses to let the sequence number wrap. */
    d->limit = UINT64_MAX;
    if (!write) {
        conn->rd_epoch++;
    }
    return PETREL_OK;
}

static petrel_status verify_data(petrel_conn *conn, bool from_client,
                                 uint8_t out[PT_TLS12_VERIFY_DATA])
{
    uint8_t hash[PT_MAX_HASH];
    PT_TRY(pt_tls12_transcript_hash(conn, hash));
    return pt_tls12_prf(conn->ctx->algs, conn->hash, conn->hs->master_secret, PT_TLS12_MASTER,
                        from_client ? "client finished" : "server finished", hash,
                        pt_hash_len(conn->hash), out, PT_TLS12_VERIFY_DATA, &conn->err);
}

/*   struct { opaque verify_data[verify_data_length]; } Finished;  (RFC 5246 7.4.9) */
petrel_status pt_tls12_finished_send(petrel_conn *conn)
{
    uint8_t msg[4 + PT_TLS12_VERIFY_DATA] = {PT_HS_FINISHED, 0, 0, PT_TLS12_VERIFY_DATA};
    petrel_status st = verify_data(conn, conn->role == PETREL_CLIENT, msg + 4);
    if (st == PETREL_OK) {
        st = pt_send_handshake(conn, msg, sizeof(msg), NULL);
    }
    pt_wipe(msg, sizeof(msg));
    return st;
}

petrel_status pt_tls12_finished_check(petrel_conn *conn, pt_span body)
{
    uint8_t expected[PT_TLS12_VERIFY_DATA];
    if (body.len != PT_TLS12_VERIFY_DATA) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                        "Finished of %zu bytes; TLS 1.2 expects %d", body.len,
                        PT_TLS12_VERIFY_DATA);
    }
    PT_TRY(verify_data(conn, conn->role == PETREL_SERVER, expected));
    int diff = pt_ct_memcmp(expected, body.p, sizeof(expected));
    pt_wipe(expected, sizeof(expected));
    if (diff != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_DECRYPT_ERROR,
                        "peer's Finished does not match the handshake (RFC 5246 7.4.9)");
    }
    return PETREL_OK;
}
