/*
 * kex.c - ephemeral key exchange: x25519 (RFC 7748) and the NIST curves
 * P-256 and P-384 with uncompressed points (RFC 8446 4.2.8.2).
 */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>

#include "crypto/ossl.h"

struct pt_kex {
    uint16_t group;
    EVP_PKEY *key;
};

typedef struct group_info {
    uint16_t code;
    const char *name;    /* for messages */
    const char *type;    /* key type for EVP_PKEY_Q_keygen */
    const char *curve;   /* EC curve, NULL for x25519 */
    const char *nist_sn; /* the curve's short name in the object table */
    size_t share_len;    /* TLS encoding of a public share */
    size_t secret_len;
    int security_bits;
} group_info;

static const group_info groups[] = {
    {PT_GROUP_X25519, "x25519", "X25519", NULL, NULL, 32, 32, 128},
    {PT_GROUP_SECP256R1, "secp256r1", "EC", "P-256", "prime256v1", 65, 32, 128},
    {PT_GROUP_SECP384R1, "secp384r1", "EC", "P-384", "secp384r1", 97, 48, 192},
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

/* A private scalar in [1, n - 1] from pt_random: 64 bits more than the
 * order are reduced, so the bias is negligible. */
static bool scalar_from_stream(const EC_GROUP *group, size_t len, BIGNUM *priv)
{
    uint8_t seed[48 + 8];
    BIGNUM *range = BN_new();
    BN_CTX *bn_ctx = BN_CTX_secure_new();
    bool ok = range != NULL && bn_ctx != NULL && len + 8 <= sizeof(seed) &&
              pt_random(seed, len + 8, NULL) == PETREL_OK &&
              BN_bin2bn(seed, (int)(len + 8), priv) != NULL &&
              BN_sub(range, EC_GROUP_get0_order(group), BN_value_one()) &&
              BN_mod(priv, priv, range, bn_ctx) && BN_add_word(priv, 1);
    pt_wipe(seed, sizeof(seed));
    BN_CTX_free(bn_ctx);
    BN_free(range);
    return ok;
}

/* The key pair (priv, priv * G) as an EVP_PKEY. */
static EVP_PKEY *ec_key_from_scalar(const group_info *g, const EC_GROUP *group, const BIGNUM *priv)
{
    uint8_t point[PT_MAX_SHARE];
    EC_POINT *pub = EC_POINT_new(group);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    OSSL_PARAM *params = NULL;
    EVP_PKEY *key = NULL;
    if (pub != NULL && bld != NULL && ctx != NULL &&
        EC_POINT_mul(group, pub, priv, NULL, NULL, NULL) == 1 &&
        EC_POINT_point2oct(group, pub, POINT_CONVERSION_UNCOMPRESSED, point, sizeof(point), NULL) ==
            g->share_len &&
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, g->curve, 0) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) == 1 &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, g->share_len) == 1) {
        params = OSSL_PARAM_BLD_to_param(bld);
    }
    if (params != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
        EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_KEYPAIR, params) != 1) {
        key = NULL;
    }
    /* The scalar is a secure BIGNUM, so its copy in params lives in the
     * secure heap, which is cleared on free. */
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(ctx);
    EC_POINT_free(pub);
    return key;
}

static EVP_PKEY *ec_key_from_stream(const group_info *g)
{
    EC_GROUP *group = EC_GROUP_new_by_curve_name(OBJ_sn2nid(g->nist_sn));
    BIGNUM *priv = BN_secure_new();
    EVP_PKEY *key = NULL;
    if (group != NULL && priv != NULL && scalar_from_stream(group, g->secret_len, priv)) {
        key = ec_key_from_scalar(g, group, priv);
    }
    BN_clear_free(priv);
    EC_GROUP_free(group);
    return key;
}

/* With deterministic randomness (fuzzing, reproducible tests) key shares
 * come from the same fixed stream as everything else. */
static EVP_PKEY *keygen_from_stream(const group_info *g)
{
    if (g->curve != NULL) {
        return ec_key_from_stream(g);
    }
    uint8_t priv[32];
    if (pt_random(priv, sizeof(priv), NULL) != PETREL_OK) {
        return NULL;
    }
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key_ex(NULL, g->type, NULL, priv, sizeof(priv));
    pt_wipe(priv, sizeof(priv));
    return key;
}

static EVP_PKEY *group_keygen(const group_info *g)
{
    if (pt_random_is_deterministic()) {
        return keygen_from_stream(g);
    }
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
