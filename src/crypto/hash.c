/*
 * hash.c - running hashes (the handshake transcript) and HMAC.
 */
#include <openssl/core_names.h>

#include "crypto/ossl.h"

static const EVP_MD *hash_md(const pt_algs *algs, pt_hash_alg alg)
{
    return algs->md[alg == PT_SHA384 ? 1 : 0];
}

petrel_status pt_hash_init(pt_hash *h, const pt_algs *algs, pt_hash_alg alg, pt_error *err)
{
    h->alg = alg;
    h->md_ctx = EVP_MD_CTX_new();
    if (h->md_ctx == NULL) {
        return pt_fail(err, PETREL_ERR_NO_MEMORY, -1, "out of memory for a hash");
    }
    if (EVP_DigestInit_ex(h->md_ctx, hash_md(algs, alg), NULL) != 1) {
        pt_hash_free(h);
        return pt_ossl_internal(err, "EVP_DigestInit_ex");
    }
    return PETREL_OK;
}

petrel_status pt_hash_update(pt_hash *h, const void *data, size_t len, pt_error *err)
{
    if (len > 0 && EVP_DigestUpdate(h->md_ctx, data, len) != 1) {
        return pt_ossl_internal(err, "EVP_DigestUpdate");
    }
    return PETREL_OK;
}

petrel_status pt_hash_peek(const pt_hash *h, uint8_t out[PT_MAX_HASH], pt_error *err)
{
    EVP_MD_CTX *tmp = EVP_MD_CTX_new();
    if (tmp == NULL) {
        return pt_fail(err, PETREL_ERR_NO_MEMORY, -1, "out of memory for a hash");
    }
    petrel_status st = PETREL_OK;
    if (EVP_MD_CTX_copy_ex(tmp, h->md_ctx) != 1 || EVP_DigestFinal_ex(tmp, out, NULL) != 1) {
        st = pt_ossl_internal(err, "the transcript hash");
    }
    EVP_MD_CTX_free(tmp);
    return st;
}

petrel_status pt_hash_copy(pt_hash *dst, const pt_hash *src, pt_error *err)
{
    if (dst->md_ctx == NULL) {
        dst->md_ctx = EVP_MD_CTX_new();
        if (dst->md_ctx == NULL) {
            return pt_fail(err, PETREL_ERR_NO_MEMORY, -1, "out of memory for a hash");
        }
    }
    dst->alg = src->alg;
    if (EVP_MD_CTX_copy_ex(dst->md_ctx, src->md_ctx) != 1) {
        pt_hash_free(dst);
        return pt_ossl_internal(err, "EVP_MD_CTX_copy_ex");
    }
    return PETREL_OK;
}

void pt_hash_free(pt_hash *h)
{
    if (h == NULL) {
        return;
    }
    EVP_MD_CTX_free(h->md_ctx);
    h->md_ctx = NULL;
}

petrel_status pt_hash_oneshot(const pt_algs *algs, pt_hash_alg alg, const void *data, size_t len,
                              uint8_t out[PT_MAX_HASH], pt_error *err)
{
    if (EVP_Digest(data, len, out, NULL, hash_md(algs, alg), NULL) != 1) {
        return pt_ossl_internal(err, "EVP_Digest");
    }
    return PETREL_OK;
}

/* --- HMAC ------------------------------------------------------------------ */

petrel_status pt_hmac_begin(const pt_algs *algs, pt_hash_alg alg, const uint8_t *key,
                            size_t key_len, EVP_MAC_CTX **out, pt_error *err)
{
    /* The template already names the digest: duplicating it avoids a
     * fetch by name on every HMAC. */
    EVP_MAC_CTX *mac = EVP_MAC_CTX_dup(algs->hmac_tmpl[alg == PT_SHA384 ? 1 : 0]);
    if (mac == NULL) {
        return pt_ossl_internal(err, "EVP_MAC_CTX_dup");
    }
    static const uint8_t empty[1] = {0};
    if (EVP_MAC_init(mac, key_len > 0 ? key : empty, key_len, NULL) != 1) {
        EVP_MAC_CTX_free(mac);
        return pt_ossl_internal(err, "EVP_MAC_init");
    }
    *out = mac;
    return PETREL_OK;
}

petrel_status pt_hmac_update(EVP_MAC_CTX *mac, const void *data, size_t len, pt_error *err)
{
    if (len > 0 && EVP_MAC_update(mac, data, len) != 1) {
        return pt_ossl_internal(err, "EVP_MAC_update");
    }
    return PETREL_OK;
}

petrel_status pt_hmac_final_again(EVP_MAC_CTX *mac, uint8_t out[PT_MAX_HASH], pt_error *err)
{
    size_t out_len = 0;
    /* Initialising without a key restarts from the keyed state. */
    if (EVP_MAC_final(mac, out, &out_len, PT_MAX_HASH) != 1 ||
        EVP_MAC_init(mac, NULL, 0, NULL) != 1) {
        return pt_ossl_internal(err, "EVP_MAC_final");
    }
    return PETREL_OK;
}

petrel_status pt_hmac_finish(EVP_MAC_CTX *mac, uint8_t out[PT_MAX_HASH], pt_error *err)
{
    size_t out_len = 0;
    int ok = EVP_MAC_final(mac, out, &out_len, PT_MAX_HASH);
    /* Freeing the context wipes the keyed state HMAC holds. */
    EVP_MAC_CTX_free(mac);
    if (ok != 1) {
        return pt_ossl_internal(err, "EVP_MAC_final");
    }
    return PETREL_OK;
}

petrel_status pt_hmac(const pt_algs *algs, pt_hash_alg alg, const uint8_t *key, size_t key_len,
                      const void *data, size_t len, uint8_t out[PT_MAX_HASH], pt_error *err)
{
    EVP_MAC_CTX *mac = NULL;
    PT_TRY(pt_hmac_begin(algs, alg, key, key_len, &mac, err));
    petrel_status st = pt_hmac_update(mac, data, len, err);
    if (st != PETREL_OK) {
        EVP_MAC_CTX_free(mac);
        return st;
    }
    return pt_hmac_finish(mac, out, err);
}
