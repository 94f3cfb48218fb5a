/*
 * kex.c - ephemeral key exchange: x25519 (RFC 7748) and the NIST curves
 * P-256 and P-384 with uncompressed points (RFC 8446 4.2.8.2).
 */
#include <string.h>

#include <openssl/core_names.h>

#include "crypto/ossl.h"

struct pt_kex {
    uint16_t group;
    EVP_PKEY *key;
};

typedef struct group_info {
    uint16_t code;
    const char *name;   /* for messages */
    const char *type;   /* key type for EVP_PKEY_Q_keygen */
    const char *curve;  /* EC curve, NULL for x25519 */
    size_t share_len;   /* TLS encoding of a public share */
    size_t secret_len;
    int security_bits;
} group_info;

static const group_info groups[] = {
    {PT_GROUP_X25519, "x25519", "X25519", NULL, 32, 32, 128},
    {PT_GROUP_SECP256R1, "secp256r1", "EC", "P-256", 65, 32, 128},
    {PT_GROUP_SECP384R1, "secp384r1", "EC", "P-384", 97, 48, 192},
};

static const group_info *group_lookup(uint16_t group)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(groups); i++) {
        if (groups[i].code == group) {
            return &groups[i];
        }
    }
    return NULL;
}

bool pt_group_supported(uint16_t group)
{
    return group_lookup(group) != NULL;
}

int pt_group_security_bits(uint16_t group)
{
    const group_info *g = group_lookup(group);
    return g != NULL ? g->security_bits : 0;
}

static EVP_PKEY *group_keygen(const group_info *g)
{
    if (g->curve != NULL) {
        return EVP_PKEY_Q_keygen(NULL, NULL, g->type, g->curve);
    }
    return EVP_PKEY_Q_keygen(NULL, NULL, g->type);
}

petrel_status pt_kex_generate(const pt_algs *algs, uint16_t group, pt_kex **out, uint8_t *pub,
                              size_t pub_cap, size_t *pub_len, pt_error *err)
{
    (void)algs;
    const group_info *g = group_lookup(group);
    if (g == NULL) {
        return pt_fail(err, PETREL_ERR_INTERNAL, -1, "key exchange group 0x%04x is not supported",
                       group);
    }
    if (pub_cap < g->share_len) {
        return pt_fail(err, PETREL_ERR_INTERNAL, -1, "no room for a %s key share", g->name);
    }
    pt_kex *kex = pt_calloc(1, sizeof(*kex));
    if (kex == NULL) {
        return pt_fail(err, PETREL_ERR_NO_MEMORY, -1, "out of memory for a key share");
    }
    kex->group = group;
    kex->key = group_keygen(g);
    uint8_t *enc = NULL;
    size_t enc_len = kex->key != NULL ? EVP_PKEY_get1_encoded_public_key(kex->key, &enc) : 0;
    if (enc_len != g->share_len) {
        OPENSSL_free(enc);
        pt_kex_free(kex);
        return pt_ossl_internal(err, "key share generation");
    }
    memcpy(pub, enc, enc_len);
    *pub_len = enc_len;
    OPENSSL_free(enc);
    *out = kex;
    return PETREL_OK;
}

/* Imports the peer's share into a key on our group. RFC 8446 4.2.8.2: the
 * NIST curve shares are uncompressed points, which must lie on the curve. */
static petrel_status import_peer(const pt_kex *kex, const group_info *g, const uint8_t *peer,
                                 size_t peer_len, EVP_PKEY **out, pt_error *err)
{
    if (peer_len != g->share_len) {
        return pt_fault(err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "the peer's %s key share is %zu bytes long, not %zu", g->name, peer_len,
                        g->share_len);
    }
    if (g->curve != NULL && peer[0] != 0x04) {
        return pt_fault(err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "the peer's %s key share is not an uncompressed point", g->name);
    }
    EVP_PKEY *key = EVP_PKEY_new();
    if (key == NULL || EVP_PKEY_copy_parameters(key, kex->key) != 1) {
        EVP_PKEY_free(key);
        return pt_ossl_internal(err, "EVP_PKEY_copy_parameters");
    }
    if (EVP_PKEY_set1_encoded_public_key(key, peer, peer_len) != 1) {
        EVP_PKEY_free(key);
        return pt_ossl_fail(err, PETREL_ERR_PROTOCOL, PETREL_ALERT_ILLEGAL_PARAMETER,
                            "the peer's %s key share is not a point on the curve", g->name);
    }
    *out = key;
    return PETREL_OK;
}

static bool all_zero(const uint8_t *p, size_t len)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++) {
        acc |= p[i];
    }
    return acc == 0;
}

static petrel_status derive(pt_kex *kex, const group_info *g, EVP_PKEY *peer, uint8_t *secret,
                            size_t *secret_len, pt_error *err)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, kex->key, NULL);
    if (ctx == NULL || EVP_PKEY_derive_init(ctx) != 1) {
        EVP_PKEY_CTX_free(ctx);
        return pt_ossl_internal(err, "EVP_PKEY_derive_init");
    }
    /* Validating the peer key rejects points not on the curve and the
     * point at infinity. */
    if (EVP_PKEY_derive_set_peer_ex(ctx, peer, 1) != 1) {
        EVP_PKEY_CTX_free(ctx);
        return pt_ossl_fail(err, PETREL_ERR_PROTOCOL, PETREL_ALERT_ILLEGAL_PARAMETER,
                            "the peer's %s key share is not a valid public key", g->name);
    }
    size_t len = g->secret_len;
    int ok = EVP_PKEY_derive(ctx, secret, &len);
    EVP_PKEY_CTX_free(ctx);
    /* RFC 8446 7.4.2: an all-zero x25519 result MUST be refused; libcrypto
     * fails the derivation itself in that case. */
    if (ok != 1 || len != g->secret_len || all_zero(secret, len)) {
        pt_wipe(secret, g->secret_len);
        return pt_ossl_fail(err, PETREL_ERR_PROTOCOL, PETREL_ALERT_ILLEGAL_PARAMETER,
                            "the peer's %s key share gives an invalid shared secret", g->name);
    }
    *secret_len = len;
    return PETREL_OK;
}

petrel_status pt_kex_derive(pt_kex *kex, const uint8_t *peer, size_t peer_len, uint8_t *secret,
                            size_t secret_cap, size_t *secret_len, pt_error *err)
{
    const group_info *g = group_lookup(kex->group);
    if (secret_cap < g->secret_len) {
        return pt_fail(err, PETREL_ERR_INTERNAL, -1, "no room for a %s shared secret", g->name);
    }
    EVP_PKEY *peer_key = NULL;
    PT_TRY(import_peer(kex, g, peer, peer_len, &peer_key, err));
    petrel_status st = derive(kex, g, peer_key, secret, secret_len, err);
    EVP_PKEY_free(peer_key);
    return st;
}

void pt_kex_free(pt_kex *kex)
{
    if (kex == NULL) {
        return;
    }
    /* Freeing the key clears its private scalar. */
    EVP_PKEY_free(kex->key);
    pt_free_secret(kex, sizeof(*kex));
}
