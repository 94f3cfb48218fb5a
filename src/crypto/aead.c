/*
 * aead.c - AES-GCM and ChaCha20-Poly1305 in place.
 *
 * The key is set once per direction; each record only sets its nonce, so a
 * record costs no allocation and no key schedule.
 */
#include <limits.h>

#include <openssl/core_names.h>

#include "crypto/ossl.h"

size_t pt_aead_key_len(pt_aead_alg alg)
{
    return alg == PT_AES_128_GCM ? 16 : 32;
}

petrel_status pt_aead_init(pt_aead *a, const pt_algs *algs, pt_aead_alg alg, const uint8_t *key,
                           bool encrypt, pt_error *err)
{
    a->alg = alg;
    a->encrypt = encrypt;
    a->cipher_ctx = EVP_CIPHER_CTX_new();
    if (a->cipher_ctx == NULL) {
        return pt_fail(err, PETREL_ERR_NO_MEMORY, -1, "out of memory for a cipher");
    }
    /* Both GCM and ChaCha20-Poly1305 default to the 12-byte nonce TLS uses
     * (RFC 8446 5.3), so no IV length needs setting. */
    if (EVP_CipherInit_ex(a->cipher_ctx, algs->cipher[alg], NULL, key, NULL, encrypt) != 1) {
        pt_aead_free(a);
        return pt_ossl_internal(err, "EVP_CipherInit_ex (key)");
    }
    return PETREL_OK;
}

/* The tag goes through the provider's parameters directly: the ctrl
 * interface would translate to the same parameters on every record. */
static bool tag_param(EVP_CIPHER_CTX *ctx, uint8_t *tag, bool set)
{
    OSSL_PARAM params[2] = {
        OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, PT_AEAD_TAG),
        OSSL_PARAM_END,
    };
    return (set ? EVP_CIPHER_CTX_set_params(ctx, params)
                : EVP_CIPHER_CTX_get_params(ctx, params)) == 1;
}

/* Sets the nonce and feeds the additional data. */
static bool aead_start(pt_aead *a, const uint8_t nonce[PT_AEAD_NONCE], const uint8_t *aad,
                       size_t aad_len)
{
    int outl = 0;
    if (EVP_CipherInit_ex(a->cipher_ctx, NULL, NULL, NULL, nonce, a->encrypt) != 1) {
        return false;
    }
    return aad_len == 0 || EVP_CipherUpdate(a->cipher_ctx, NULL, &outl, aad, (int)aad_len) == 1;
}

petrel_status pt_aead_seal(pt_aead *a, const uint8_t nonce[PT_AEAD_NONCE], const uint8_t *aad,
                           size_t aad_len, uint8_t *buf, size_t len, uint8_t tag[PT_AEAD_TAG],
                           pt_error *err)
{
    int outl = 0;
    int finl = 0;
    if (len > INT_MAX || aad_len > INT_MAX) {
        return pt_fail(err, PETREL_ERR_INTERNAL, -1, "AEAD input of %zu bytes is too long", len);
    }
    if (!aead_start(a, nonce, aad, aad_len) ||
        EVP_CipherUpdate(a->cipher_ctx, buf, &outl, buf, (int)len) != 1 ||
        EVP_CipherFinal_ex(a->cipher_ctx, buf + outl, &finl) != 1 ||
        !tag_param(a->cipher_ctx, tag, false)) {
        return pt_ossl_internal(err, "AEAD encryption");
    }
    return PETREL_OK;
}

petrel_status pt_aead_seal_from(pt_aead *a, const uint8_t nonce[PT_AEAD_NONCE], const uint8_t *aad,
                                size_t aad_len, const uint8_t *in, size_t len, const uint8_t *tail,
                                size_t tail_len, uint8_t *out, uint8_t tag[PT_AEAD_TAG],
                                pt_error *err)
{
    int outl = 0;
    int taill = 0;
    int finl = 0;
    if (len > INT_MAX || tail_len > INT_MAX || aad_len > INT_MAX) {
        return pt_fail(err, PETREL_ERR_INTERNAL, -1, "AEAD input of %zu bytes is too long", len);
    }
    if (!aead_start(a, nonce, aad, aad_len) ||
        (len > 0 && EVP_CipherUpdate(a->cipher_ctx, out, &outl, in, (int)len) != 1) ||
        (tail_len > 0 &&
         EVP_CipherUpdate(a->cipher_ctx, out + outl, &taill, tail, (int)tail_len) != 1) ||
        EVP_CipherFinal_ex(a->cipher_ctx, out + outl + taill, &finl) != 1 ||
        !tag_param(a->cipher_ctx, tag, false)) {
        return pt_ossl_internal(err, "AEAD encryption");
    }
    return PETREL_OK;
}

petrel_status pt_aead_open_split(pt_aead *a, const uint8_t nonce[PT_AEAD_NONCE], const uint8_t *aad,
                                 size_t aad_len, uint8_t *buf, size_t len,
                                 const uint8_t tag[PT_AEAD_TAG], uint8_t *head, size_t head_len,
                                 pt_error *err)
{
    int headl = 0;
    int outl = 0;
    int finl = 0;
    if (len > INT_MAX || aad_len > INT_MAX) {
        return pt_fault(err, PETREL_ALERT_RECORD_OVERFLOW, "AEAD input of %zu bytes is too long",
                        len);
    }
    if (head_len > len) {
        head_len = len;
    }
    size_t rest = len - head_len;
    if (!aead_start(a, nonce, aad, aad_len) ||
        (head_len > 0 && EVP_CipherUpdate(a->cipher_ctx, head, &headl, buf, (int)head_len) != 1) ||
        (rest > 0 &&
         EVP_CipherUpdate(a->cipher_ctx, buf + head_len, &outl, buf + head_len, (int)rest) != 1) ||
        !tag_param(a->cipher_ctx, (uint8_t *)tag, true)) {
        return pt_ossl_internal(err, "AEAD decryption");
    }
    if (EVP_CipherFinal_ex(a->cipher_ctx, buf + head_len + outl, &finl) != 1) {
        /* The plaintext of a forged record must not be used: wipe it. */
        if (head_len > 0) {
            pt_wipe(head, head_len);
        }
        pt_wipe(buf, len);
        return pt_ossl_fail(err, PETREL_ERR_PROTOCOL, PETREL_ALERT_BAD_RECORD_MAC,
                            "record authentication failed (bad record MAC)");
    }
    return PETREL_OK;
}

petrel_status pt_aead_open(pt_aead *a, const uint8_t nonce[PT_AEAD_NONCE], const uint8_t *aad,
                           size_t aad_len, uint8_t *buf, size_t len, const uint8_t tag[PT_AEAD_TAG],
                           pt_error *err)
{
    return pt_aead_open_split(a, nonce, aad, aad_len, buf, len, tag, NULL, 0, err);
}

void pt_aead_free(pt_aead *a)
{
    if (a == NULL) {
        return;
    }
    /* Freeing the context cleanses the expanded key. */
    EVP_CIPHER_CTX_free(a->cipher_ctx);
    a->cipher_ctx = NULL;
}
