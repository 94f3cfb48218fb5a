/*
 * algs.c - algorithms fetched once, and the bridge from libcrypto's error
 * queue to our error records.
 *
 * Fetching an algorithm takes locks and a lookup in the provider store, so
 * a context fetches every digest, cipher and MAC it needs once, and each
 * connection borrows them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>

#include "crypto/ossl.h"

static const char *const md_names[] = {"SHA256", "SHA384", "SHA512"};
static const char *const cipher_names[] = {"AES-128-GCM", "AES-256-GCM", "ChaCha20-Poly1305"};

/* Appends the reasons queued by libcrypto to text, emptying the queue. */
static void drain_errors(char *text, size_t cap)
{
    size_t used = strlen(text);
    const size_t start = used;
    const char *sep = ": ";
    unsigned long code;
    while ((code = ERR_get_error()) != 0) {
        const char *reason = ERR_reason_error_string(code);
        char fallback[32];
        if (reason == NULL) {
            snprintf(fallback, sizeof(fallback), "error %08lx", code);
            reason = fallback;
        }
        /* Decoders that are tried in turn repeat the same reasons. */
        if (used < cap && strstr(text + start, reason) == NULL) {
            int n = snprintf(text + used, cap - used, "%s%s", sep, reason);
            used += n > 0 ? (size_t)n : 0;
        }
        sep = ", ";
    }
}

petrel_status pt_ossl_fail(pt_error *err, petrel_status status, int alert, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pt_vfail(err, status, alert, fmt, ap);
    va_end(ap);
    if (err == NULL) {
        ERR_clear_error();
        return status;
    }
    drain_errors(err->text, sizeof(err->text));
    return status;
}

petrel_status pt_ossl_internal(pt_error *err, const char *what)
{
    return pt_ossl_fail(err, PETREL_ERR_INTERNAL, -1, "libcrypto failed in %s", what);
}

static EVP_MAC_CTX *hmac_template(EVP_MAC *mac, const char *md_name)
{
    EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
    if (ctx == NULL) {
        return NULL;
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)md_name, 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_CTX_set_params(ctx, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static bool algs_fetch(pt_algs *algs)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(md_names); i++) {
        algs->md[i] = EVP_MD_fetch(NULL, md_names[i], NULL);
        if (algs->md[i] == NULL) {
            return false;
        }
    }
    for (size_t i = 0; i < PT_ARRAY_LEN(cipher_names); i++) {
        algs->cipher[i] = EVP_CIPHER_fetch(NULL, cipher_names[i], NULL);
        if (algs->cipher[i] == NULL) {
            return false;
        }
    }
    algs->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (algs->hmac == NULL) {
        return false;
    }
    for (size_t i = 0; i < PT_ARRAY_LEN(algs->hmac_tmpl); i++) {
        algs->hmac_tmpl[i] = hmac_template(algs->hmac, md_names[i]);
        if (algs->hmac_tmpl[i] == NULL ||
            EVP_Digest("", 0, algs->empty_hash[i], NULL, algs->md[i], NULL) != 1) {
            return false;
        }
    }
    return true;
}

const uint8_t *pt_empty_hash(const pt_algs *algs, pt_hash_alg alg)
{
    return algs->empty_hash[alg == PT_SHA384 ? 1 : 0];
}

pt_algs *pt_algs_new(pt_error *err)
{
    pt_algs *algs = pt_calloc(1, sizeof(*algs));
    if (algs == NULL) {
        pt_fail(err, PETREL_ERR_NO_MEMORY, -1, "out of memory for algorithms");
        return NULL;
    }
    if (!algs_fetch(algs)) {
        pt_ossl_fail(err, PETREL_ERR_INTERNAL, -1,
                     "cannot fetch SHA-2, AES-GCM, ChaCha20-Poly1305 or HMAC from libcrypto");
        pt_algs_free(algs);
        return NULL;
    }
    return algs;
}

void pt_algs_free(pt_algs *algs)
{
    if (algs == NULL) {
        return;
    }
    for (size_t i = 0; i < PT_ARRAY_LEN(algs->md); i++) {
        EVP_MD_free(algs->md[i]);
    }
    for (size_t i = 0; i < PT_ARRAY_LEN(algs->cipher); i++) {
        EVP_CIPHER_free(algs->cipher[i]);
    }
    for (size_t i = 0; i < PT_ARRAY_LEN(algs->hmac_tmpl); i++) {
        EVP_MAC_CTX_free(algs->hmac_tmpl[i]);
    }
    EVP_MAC_free(algs->hmac);
    pt_free(algs);
}

const EVP_MD *pt_algs_md_bits(const pt_algs *algs, int bits)
{
    switch (bits) {
    case 256:
        return algs->md[0];
    case 384:
        return algs->md[1];
    case 512:
        return algs->md[2];
    default:
        return NULL;
    }
}

size_t pt_hash_len(pt_hash_alg alg)
{
    return alg == PT_SHA384 ? 48 : 32;
}
