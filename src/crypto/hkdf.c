/*
 * hkdf.c - HKDF (RFC 5869) with TLS 1.3's labels (RFC 8446 7.1), and the
 * TLS 1.2 PRF (RFC 5246 5), all built on the context's HMAC.
 */
#include <string.h>

#include "crypto/ossl.h"

#define LABEL_PREFIX "tls13 "
#define LABEL_PREFIX_LEN 6
#define PT_HKDF_LABEL_MAX (2 + 1 + 255 + 1 + 255)

petrel_status pt_hkdf_extract(const pt_algs *algs, pt_hash_alg alg, const uint8_t *salt,
                              size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                              uint8_t out[PT_MAX_HASH], pt_error *err)
{
    static const uint8_t zeros[PT_MAX_HASH] = {0};
    if (salt == NULL) {
        /* RFC 5869 2.2: an absent salt is HashLen zero octets. */
        salt = zeros;
        salt_len = pt_hash_len(alg);
    }
    return pt_hmac(algs, alg, salt, salt_len, ikm, ikm_len, out, err);
}

/* HKDF-Expand's blocks from mac keyed by the PRK (RFC 5869 2.3):
 * T(i) = HMAC(PRK, T(i-1) | info | i). */
static petrel_status expand_blocks(EVP_MAC_CTX *mac, size_t hlen, const uint8_t *info,
                                   size_t info_len, uint8_t *out, size_t out_len, pt_error *err)
{
    uint8_t t[PT_MAX_HASH];
    size_t t_len = 0;
    petrel_status st = PETREL_OK;
    for (size_t done = 0, i = 1; done < out_len && st == PETREL_OK; i++) {
        uint8_t counter = (uint8_t)i;
        st = pt_hmac_update(mac, t, t_len, err);
        if (st == PETREL_OK) {
            st = pt_hmac_update(mac, info, info_len, err);
        }
        if (st == PETREL_OK) {
            st = pt_hmac_update(mac, &counter, 1, err);
        }
        if (st == PETREL_OK) {
            st = pt_hmac_final_again(mac, t, err);
        }
        t_len = hlen;
        size_t n = out_len - done < hlen ? out_len - done : hlen;
        if (st == PETREL_OK) {
            memcpy(out + done, t, n);
        }
        done += n;
    }
    pt_wipe(t, sizeof(t));
    return st;
}

petrel_status pt_hkdf_expand(const pt_algs *algs, pt_hash_alg alg, const uint8_t *prk,
                             const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len,
                             pt_error *err)
{
    size_t hlen = pt_hash_len(alg);
    if (out_len > 255 * hlen) {
        return pt_fail(err, PETREL_ERR_INTERNAL, -1, "HKDF-Expand asked for %zu bytes", out_len);
    }
    EVP_MAC_CTX *mac = NULL;
    PT_TRY(pt_hmac_begin(algs, alg, prk, hlen, &mac, err));
    petrel_status st = expand_blocks(mac, hlen, info, info_len, out, out_len, err);
    EVP_MAC_CTX_free(mac);
    return st;
}

/*
 * RFC 8446 7.1:
 *   struct {
 *       uint16 length = Length;
 *       opaque label<7..255> = "tls13 " + Label;
 *       opaque context<0..255> = Context;
 *   } HkdfLabel;
 * Writes the HkdfLabel into info; returns its length, 0 when out of range.
 */
static size_t hkdf_label(pt_hash_alg alg, const char *label, const uint8_t *context,
                         size_t context_len, size_t out_len, uint8_t info[PT_HKDF_LABEL_MAX])
{
    size_t label_len = strlen(label);
    if (label_len > 255 - LABEL_PREFIX_LEN || context_len > 255 || out_len > 0xffff ||
        out_len > 255 * pt_hash_len(alg)) {
        return 0;
    }
    size_t n = 0;
    info[n++] = (uint8_t)(out_len >> 8);
    info[n++] = (uint8_t)out_len;
    info[n++] = (uint8_t)(LABEL_PREFIX_LEN + label_len);
    memcpy(info + n, LABEL_PREFIX, LABEL_PREFIX_LEN);
    n += LABEL_PREFIX_LEN;
    memcpy(info + n, label, label_len);
    n += label_len;
    info[n++] = (uint8_t)context_len;
    if (context_len > 0) {
        memcpy(info + n, context, context_len);
        n += context_len;
    }
    return n;
}

static petrel_status label_out_of_range(pt_error *err, const char *label)
{
    return pt_fail(err, PETREL_ERR_INTERNAL, -1,
                   "HKDF-Expand-Label called with label '%s' or lengths out of range", label);
}

petrel_status pt_hkdf_expand_label(const pt_algs *algs, pt_hash_alg alg, const uint8_t *secret,
                                   const char *label, const uint8_t *context, size_t context_len,
                                   uint8_t *out, size_t out_len, pt_error *err)
{
    pt_kdf k = {0};
    PT_TRY(pt_kdf_key(&k, algs, alg, secret, err));
    petrel_status st = pt_kdf_expand_label(&k, label, context, context_len, out, out_len, err);
    pt_kdf_free(&k);
    return st;
}

petrel_status pt_kdf_key(pt_kdf *k, const pt_algs *algs, pt_hash_alg alg, const uint8_t *secret,
                         pt_error *err)
{
    EVP_MAC_CTX *mac = NULL;
    PT_TRY(pt_hmac_begin(algs, alg, secret, pt_hash_len(alg), &mac, err));
    k->mac = mac;
    k->alg = alg;
    return PETREL_OK;
}

petrel_status pt_kdf_expand_label(pt_kdf *k, const char *label, const uint8_t *context,
                                  size_t context_len, uint8_t *out, size_t out_len, pt_error *err)
{
    uint8_t info[PT_HKDF_LABEL_MAX];
    size_t n = hkdf_label(k->alg, label, context, context_len, out_len, info);
    if (n == 0) {
        return label_out_of_range(err, label);
    }
    return expand_blocks(k->mac, pt_hash_len(k->alg), info, n, out, out_len, err);
}

void pt_kdf_free(pt_kdf *k)
{
    /* Freeing the context wipes the keyed state. */
    EVP_MAC_CTX_free(k->mac);
    k->mac = NULL;
}

/* HMAC(secret, a | label | seed) with mac keyed by secret; mac stays keyed. */
static petrel_status prf_hmac(EVP_MAC_CTX *mac, const uint8_t *a, size_t a_len, const char *label,
                              const uint8_t *seed, size_t seed_len, uint8_t out[PT_MAX_HASH],
                              pt_error *err)
{
    PT_TRY(pt_hmac_update(mac, a, a_len, err));
    PT_TRY(pt_hmac_update(mac, label, label != NULL ? strlen(label) : 0, err));
    PT_TRY(pt_hmac_update(mac, seed, seed_len, err));
    return pt_hmac_final_again(mac, out, err);
}

/* P_hash's output blocks from a keyed HMAC (RFC 5246 5). */
static petrel_status p_hash(EVP_MAC_CTX *mac, size_t hlen, const char *label, const uint8_t *seed,
                            size_t seed_len, uint8_t *out, size_t out_len, pt_error *err)
{
    uint8_t a[PT_MAX_HASH];
    uint8_t block[PT_MAX_HASH];
    /* A(1) = HMAC(secret, label + seed) */
    petrel_status st = prf_hmac(mac, NULL, 0, label, seed, seed_len, a, err);
    for (size_t done = 0; done < out_len && st == PETREL_OK;) {
        st = prf_hmac(mac, a, hlen, label, seed, seed_len, block, err);
        if (st == PETREL_OK) {
            size_t n = out_len - done < hlen ? out_len - done : hlen;
            memcpy(out + done, block, n);
            done += n;
            /* A(i + 1) = HMAC(secret, A(i)) */
            st = prf_hmac(mac, a, hlen, NULL, NULL, 0, a, err);
        }
    }
    pt_wipe(a, sizeof(a));
    pt_wipe(block, sizeof(block));
    return st;
}

/*
 * RFC 5246 5: PRF(secret, label, seed) = P_<hash>(secret, label + seed)
 *   P_hash = HMAC(secret, A(1) + label + seed) + HMAC(secret, A(2) + ...
 *   A(0) = label + seed, A(i) = HMAC(secret, A(i-1))
 * The secret keys one HMAC context for every block.
 */
petrel_status pt_tls12_prf(const pt_algs *algs, pt_hash_alg alg, const uint8_t *secret,
                           size_t secret_len, const char *label, const uint8_t *seed,
                           size_t seed_len, uint8_t *out, size_t out_len, pt_error *err)
{
    EVP_MAC_CTX *mac = NULL;
    PT_TRY(pt_hmac_begin(algs, alg, secret, secret_len, &mac, err));
    petrel_status st = p_hash(mac, pt_hash_len(alg), label, seed, seed_len, out, out_len, err);
    /* Freeing the context wipes the keyed state. */
    EVP_MAC_CTX_free(mac);
    return st;
}
