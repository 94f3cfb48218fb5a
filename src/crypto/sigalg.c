/*
 * sigalg.c - the TLS signature algorithms (RFC 8446 4.2.3) we can make and
 * check, and how each one fits a key and a security level.
 */
#include <openssl/core_names.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>

#include "crypto/ossl.h"

static const pt_sigalg_info sigalgs[] = {
    {PT_SIG_ECDSA_SECP256R1_SHA256, PT_KEY_EC, 256, false, NID_X9_62_prime256v1, true},
    {PT_SIG_ECDSA_SECP384R1_SHA384, PT_KEY_EC, 384, false, NID_secp384r1, true},
    {PT_SIG_ECDSA_SECP521R1_SHA512, PT_KEY_EC, 512, false, NID_secp521r1, true},
    {PT_SIG_ED25519, PT_KEY_ED25519, 0, false, 0, true},
    {PT_SIG_RSA_PSS_RSAE_SHA256, PT_KEY_RSA, 256, true, 0, true},
    {PT_SIG_RSA_PSS_RSAE_SHA384, PT_KEY_RSA, 384, true, 0, true},
    {PT_SIG_RSA_PSS_RSAE_SHA512, PT_KEY_RSA, 512, true, 0, true},
    {PT_SIG_RSA_PSS_PSS_SHA256, PT_KEY_RSA_PSS, 256, true, 0, true},
    {PT_SIG_RSA_PSS_PSS_SHA384, PT_KEY_RSA_PSS, 384, true, 0, true},
    {PT_SIG_RSA_PSS_PSS_SHA512, PT_KEY_RSA_PSS, 512, true, 0, true},
    /* RFC 8446 4.4.3: PKCS #1 v1.5 signatures are TLS 1.2 only. */
    {PT_SIG_RSA_PKCS1_SHA256, PT_KEY_RSA, 256, false, 0, false},
    {PT_SIG_RSA_PKCS1_SHA384, PT_KEY_RSA, 384, false, 0, false},
    {PT_SIG_RSA_PKCS1_SHA512, PT_KEY_RSA, 512, false, 0, false},
};

const pt_sigalg_info *pt_sigalg_lookup(uint16_t code)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(sigalgs); i++) {
        if (sigalgs[i].code == code) {
            return &sigalgs[i];
        }
    }
    return NULL;
}

static int ec_curve_nid(const EVP_PKEY *pkey)
{
    char name[64];
    size_t len = 0;
    if (EVP_PKEY_get_group_name(pkey, name, sizeof(name), &len) != 1) {
        return 0;
    }
    int nid = OBJ_sn2nid(name);
    if (nid == NID_undef) {
        nid = EC_curve_nist2nid(name);
    }
    return nid;
}

pt_key_kind pt_key_kind_of(const EVP_PKEY *pkey, int *curve_nid)
{
    *curve_nid = 0;
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        return PT_KEY_RSA;
    }
    if (EVP_PKEY_is_a(pkey, "RSA-PSS")) {
        return PT_KEY_RSA_PSS;
    }
    if (EVP_PKEY_is_a(pkey, "EC")) {
        *curve_nid = ec_curve_nid(pkey);
        return PT_KEY_EC;
    }
    if (EVP_PKEY_is_a(pkey, "ED25519")) {
        return PT_KEY_ED25519;
    }
    return PT_KEY_OTHER;
}

int pt_security_level_bits(int level)
{
    static const int bits[] = {0, 80, 112, 128, 192, 256};
    if (level <= 0) {
        return 0;
    }
    return level >= 5 ? bits[5] : bits[level];
}

int pt_sigalg_security_bits(const pt_sigalg_info *info)
{
    /* A hash of n bits resists collisions at n/2; Ed25519 is rated 128. */
    return info->hash_bits == 0 ? 128 : info->hash_bits / 2;
}

static const char *kind_mismatch(pt_key_kind kind)
{
    switch (kind) {
    case PT_KEY_RSA:
        return "the key is RSA (rsaEncryption), the algorithm needs another type";
    case PT_KEY_RSA_PSS:
        return "the key is RSA-PSS, the algorithm needs another type";
    case PT_KEY_EC:
        return "the key is EC, the algorithm needs another type";
    case PT_KEY_ED25519:
        return "the key is Ed25519, the algorithm needs another type";
    default:
        return "the key type is not supported for TLS signatures";
    }
}

/* An RSA-PSS key may carry parameters that restrict it to one hash
 * (RFC 4055 3.1); one without them allows any. */
static bool pss_digest_allowed(const EVP_PKEY *key, int hash_bits)
{
    char name[64];
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_RSA_DIGEST, name, sizeof(name), NULL) !=
        1) {
        return true;
    }
    /* The name is the provider's ("SHA2-384"), which the digest table
     * knows under its aliases. */
    const EVP_MD *md = EVP_get_digestbyname(name);
    int nid = md != NULL ? EVP_MD_get_type(md) : NID_undef;
    int want = hash_bits == 256 ? NID_sha256 : hash_bits == 384 ? NID_sha384 : NID_sha512;
    return nid == want;
}

bool pt_sigalg_fits_key(const pt_sigalg_info *info, const EVP_PKEY *key, bool tls13,
                        const char **why)
{
    int curve = 0;
    pt_key_kind kind = pt_key_kind_of(key, &curve);
    *why = NULL;
    if (kind != info->kind) {
        *why = kind_mismatch(kind);
        return false;
    }
    if (tls13 && !info->tls13) {
        *why = "RSASSA-PKCS1-v1_5 is not allowed in TLS 1.3 (RFC 8446 4.4.3)";
        return false;
    }
    if (kind == PT_KEY_EC && tls13 && curve != info->curve_nid) {
        /* RFC 8446 4.2.3: in TLS 1.3 each ECDSA algorithm names its curve. */
        *why = "the ECDSA algorithm names another curve than the key's (RFC 8446 4.2.3)";
        return false;
    }
    if (kind == PT_KEY_RSA_PSS && !pss_digest_allowed(key, info->hash_bits)) {
        *why = "the RSA-PSS key is restricted to another hash";
        return false;
    }
    if (info->pss && EVP_PKEY_get_size(key) < 2 * info->hash_bits / 8 + 2) {
        /* PSS with a salt as long as the hash needs emLen >= 2 hLen + 2. */
        *why = "the RSA key is too short for PSS with this hash";
        return false;
    }
    return true;
}

petrel_status pt_sigalg_setup_pss(EVP_PKEY_CTX *pctx, pt_error *err)
{
    /* MGF1 is left unset: libcrypto then uses the signing digest, and a
     * restricted RSA-PSS key refuses to have it set at all. */
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1) {
        return pt_ossl_internal(err, "setting RSA-PSS parameters");
    }
    return PETREL_OK;
}
