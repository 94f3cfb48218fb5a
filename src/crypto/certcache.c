/*
 * certcache.c - parsed certificates, shared.
 *
 * Decoding a certificate with libcrypto costs more than verifying its
 * signature (the public key goes through the provider decoders), and a
 * client meets the same server chain again and again. Parsed certificates
 * are therefore kept in a small process-wide table keyed by their exact DER
 * bytes, and handed out as new references. An X509 is shared read-only:
 * libcrypto caches its extensions under its own lock.
 */
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "crypto/ossl.h"

#define PT_CERT_CACHE_SLOTS 32
#define PT_CERT_CACHE_MAX_DER 16384

typedef struct cache_slot {
    uint64_t hash;
    uint8_t *der;
    size_t len;
    X509 *cert;
} cache_slot;

static cache_slot slots[PT_CERT_CACHE_SLOTS];
static size_t next_victim;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

/* FNV-1a: only to find the slot; equality is decided on the bytes. */
static uint64_t der_hash(const uint8_t *der, size_t len)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < len; i++) {
        h = (h ^ der[i]) * 0x100000001b3u;
    }
    return h;
}

static X509 *lookup(uint64_t hash, const uint8_t *der, size_t len)
{
    for (size_t i = 0; i < PT_CERT_CACHE_SLOTS; i++) {
        cache_slot *s = &slots[i];
        if (s->cert != NULL && s->hash == hash && s->len == len && memcmp(s->der, der, len) == 0) {
            X509_up_ref(s->cert);
            return s->cert;
        }
    }
    return NULL;
}

static void insert(uint64_t hash, const uint8_t *der, size_t len, X509 *cert)
{
    uint8_t *copy = pt_malloc(len);
    if (copy == NULL) {
        return;
    }
    memcpy(copy, der, len);
    cache_slot *s = &slots[next_victim];
    next_victim = (next_victim + 1) % PT_CERT_CACHE_SLOTS;
    X509_free(s->cert);
    pt_free(s->der);
    X509_up_ref(cert);
    *s = (cache_slot){hash, copy, len, cert};
}

static X509 *parse(const uint8_t *der, size_t len)
{
    const uint8_t *p = der;
    X509 *x = len <= LONG_MAX ? d2i_X509(NULL, &p, (long)len) : NULL;
    /* Exactly one certificate: trailing bytes are refused too. */
    if (x != NULL && p != der + len) {
        X509_free(x);
        return NULL;
    }
    return x;
}

X509 *pt_cert_cache_parse(const uint8_t *der, size_t len)
{
    if (len > PT_CERT_CACHE_MAX_DER) {
        return parse(der, len);
    }
    uint64_t hash = der_hash(der, len);
    pthread_mutex_lock(&cache_lock);
    X509 *x = lookup(hash, der, len);
    pthread_mutex_unlock(&cache_lock);
    if (x != NULL) {
        return x;
    }
    x = parse(der, len);
    /* Verification fills the certificate's extension cache (key
     * identifiers, purposes) on first use; do it now, before other threads
     * can see the object, so that sharing it only ever reads it. */
    if (x != NULL && X509_check_purpose(x, -1, 0) != 1) {
        X509_free(x);
        return NULL;
    }
    if (x != NULL) {
        pthread_mutex_lock(&cache_lock);
        insert(hash, der, len, x);
        pthread_mutex_unlock(&cache_lock);
    }
    return x;
}
