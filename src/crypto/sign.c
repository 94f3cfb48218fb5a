/*
 * sign.c - choosing and making our signatures (RFC 8446 4.2.3, 4.4.3;
 * RFC 5246 7.4.1.4.1).
 */
#include "crypto/ossl.h"

int pt_credential_security_bits(const pt_credential *cred)
{
    return EVP_PKEY_get_security_bits(pt_credential_key(cred));
}

/* Whether the security level allows a key of key_bits with info. */
static bool level_allows(const pt_sigalg_info *info, int key_bits, int security_level)
{
    int need = pt_security_level_bits(security_level);
    return key_bits >= need && pt_sigalg_security_bits(info) >= need;
}

uint16_t pt_credential_pick_sigalg(const pt_credential *cred, const uint16_t *peer_prefs,
                                   size_t count, bool tls13, int security_level)
{
    const EVP_PKEY *key = pt_credential_key(cred);
    int key_bits = EVP_PKEY_get_security_bits(key);
    for (size_t i = 0; i < count; i++) {
        const pt_sigalg_info *info = pt_sigalg_lookup(peer_prefs[i]);
        const char *why = NULL;
        if (info != NULL && pt_sigalg_fits_key(info, key, tls13, &why) &&
            level_allows(info, key_bits, security_level)) {
            return info->code;
        }
    }
    return 0;
}

static petrel_status sign_init(EVP_MD_CTX *mctx, const pt_sigalg_info *info, const pt_algs *algs,
                               EVP_PKEY *key, pt_error *err)
{
    EVP_PKEY_CTX *pctx = NULL;
    const EVP_MD *md = pt_algs_md_bits(algs, info->hash_bits);
    if (EVP_DigestSignInit(mctx, &pctx, md, NULL, key) != 1) {
        return pt_ossl_internal(err, "EVP_DigestSignInit");
    }
    return info->pss ? pt_sigalg_setup_pss(pctx, err) : PETREL_OK;
}

petrel_status pt_sign(const pt_credential *cred, const pt_algs *algs, uint16_t sigalg,
                      const uint8_t *msg, size_t msg_len, uint8_t *sig, size_t sig_cap,
                      size_t *sig_len, pt_error *err)
{
    EVP_PKEY *key = pt_credential_key(cred);
    const pt_sigalg_info *info = pt_sigalg_lookup(sigalg);
    const char *why = "the algorithm is not supported";
    if (info == NULL || !pt_sigalg_fits_key(info, key, false, &why)) {
        return pt_fail(err, PETREL_ERR_INTERNAL, -1,
                       "cannot sign with signature algorithm 0x%04x: %s", sigalg, why);
    }
    if (sig_cap < (size_t)EVP_PKEY_get_size(key)) {
        return pt_fail(err, PETREL_ERR_INTERNAL, -1, "no room for a %d-byte signature",
                       EVP_PKEY_get_size(key));
    }
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    if (mctx == NULL) {
        return pt_fail(err, PETREL_ERR_NO_MEMORY, -1, "out of memory for a signature");
    }
    petrel_status st = sign_init(mctx, info, algs, key, err);
    size_t len = sig_cap;
    if (st == PETREL_OK && EVP_DigestSign(mctx, sig, &len, msg, msg_len) != 1) {
        st = pt_ossl_internal(err, "EVP_DigestSign");
    }
    EVP_MD_CTX_free(mctx);
    if (st == PETREL_OK) {
        *sig_len = len;
    }
    return st;
}
