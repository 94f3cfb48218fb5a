/*
 * store.c - trust anchors and CRLs (X509_STORE).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "crypto/ossl.h"

struct pt_store {
    X509_STORE *x509;
    size_t certs;
    size_t crls;
};

X509_STORE *pt_store_x509(const pt_store *store)
{
    return store->x509;
}

pt_store *pt_store_new(pt_error *err)
{
    pt_store *store = pt_calloc(1, sizeof(*store));
    if (store == NULL) {
        pt_fail(err, PETREL_ERR_NO_MEMORY, -1, "out of memory for a trust store");
        return NULL;
    }
    store->x509 = X509_STORE_new();
    if (store->x509 == NULL) {
        pt_ossl_internal(err, "X509_STORE_new");
        pt_free(store);
        return NULL;
    }
    return store;
}

void pt_store_free(pt_store *store)
{
    if (store == NULL) {
        return;
    }
    X509_STORE_free(store->x509);
    pt_free(store);
}

size_t pt_store_cert_count(const pt_store *store)
{
    return store->certs;
}

size_t pt_store_crl_count(const pt_store *store)
{
    return store->crls;
}

/* Counts what the store holds in memory (a hashed directory is read lazily,
 * during verification, and is not counted). */
/* Counts what was loaded, and fills each certificate's extension cache
 * (key identifiers, purposes): verification would do it on first use, from
 * whichever of the threads sharing the context came first, while others
 * read it. Done here, the store is only read once connections exist.
 * Certificates of a hashed directory are loaded during verification and
 * are not covered. */
static void store_recount(pt_store *store)
{
    store->certs = 0;
    store->crls = 0;
    if (X509_STORE_lock(store->x509) != 1) {
        return;
    }
    STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store->x509);
    for (int i = 0; i < sk_X509_OBJECT_num(objs); i++) {
        X509_OBJECT *obj = sk_X509_OBJECT_value(objs, i);
        X509_LOOKUP_TYPE type = X509_OBJECT_get_type(obj);
        store->certs += type == X509_LU_X509;
        store->crls += type == X509_LU_CRL;
        if (type == X509_LU_X509) {
            (void)X509_check_purpose(X509_OBJECT_get0_X509(obj), -1, 0);
        }
    }
    X509_STORE_unlock(store->x509);
    ERR_clear_error();
}

static petrel_status load_file(pt_store *store, const char *cafile, pt_error *err)
{
    FILE *f = fopen(cafile, "rb");
    if (f == NULL) {
        return pt_fail(err, PETREL_ERR_CONFIG, -1, "cannot read CA file '%s': %s", cafile,
                       strerror(errno));
    }
    fclose(f);
    X509_LOOKUP *lookup = X509_STORE_add_lookup(store->x509, X509_LOOKUP_file());
    if (lookup == NULL) {
        return pt_ossl_internal(err, "X509_STORE_add_lookup");
    }
    ERR_clear_error();
    if (X509_load_cert_crl_file(lookup, cafile, X509_FILETYPE_PEM) <= 0) {
        return pt_ossl_fail(err, PETREL_ERR_CONFIG, -1,
                            "no certificates or CRLs found in CA file '%s'", cafile);
    }
    return PETREL_OK;
}

static petrel_status load_dir(pt_store *store, const char *capath, pt_error *err)
{
    struct stat sb;
    if (stat(capath, &sb) != 0) {
        return pt_fail(err, PETREL_ERR_CONFIG, -1, "cannot read CA directory '%s': %s", capath,
                       strerror(errno));
    }
    if (!S_ISDIR(sb.st_mode)) {
        return pt_fail(err, PETREL_ERR_CONFIG, -1, "CA path '%s' is not a directory", capath);
    }
    X509_LOOKUP *lookup = X509_STORE_add_lookup(store->x509, X509_LOOKUP_hash_dir());
    if (lookup == NULL || X509_LOOKUP_add_dir(lookup, capath, X509_FILETYPE_PEM) != 1) {
        return pt_ossl_fail(err, PETREL_ERR_CONFIG, -1, "cannot use CA directory '%s'", capath);
    }
    return PETREL_OK;
}

/* Adds every certificate and CRL of PEM text; returns how many. */
static int add_pem(X509_STORE *x509, BIO *bio)
{
    STACK_OF(X509_INFO) *infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
    int added = 0;
    for (int i = 0; i < sk_X509_INFO_num(infos); i++) {
        X509_INFO *info = sk_X509_INFO_value(infos, i);
        if (info->x509 != NULL && X509_STORE_add_cert(x509, info->x509) == 1) {
            added++;
        }
        if (info->crl != NULL && X509_STORE_add_crl(x509, info->crl) == 1) {
            added++;
        }
    }
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    return added;
}

/* Adds DER certificates laid end to end; -1 when the data does not parse. */
static int add_der(X509_STORE *x509, const uint8_t *data, size_t len)
{
    const uint8_t *p = data;
    const uint8_t *end = data + len;
    int added = 0;
    while (p < end) {
        X509 *x = d2i_X509(NULL, &p, end - p);
        if (x == NULL) {
            return -1;
        }
        added += X509_STORE_add_cert(x509, x) == 1;
        X509_free(x);
    }
    return added;
}

static bool looks_like_pem(const void *data, size_t len)
{
    static const char marker[] = "-----BEGIN ";
    const size_t mlen = sizeof(marker) - 1;
    const uint8_t *p = data;
    for (size_t i = 0; i + mlen <= len; i++) {
        if (memcmp(p + i, marker, mlen) == 0) {
            return true;
        }
    }
    return false;
}

static petrel_status load_data(pt_store *store, const void *cadata, size_t len, pt_error *err)
{
    if (len == 0 || len > INT_MAX) {
        return pt_fail(err, PETREL_ERR_CONFIG, -1, "cadata is %s",
                       len == 0 ? "empty" : "too large");
    }
    ERR_clear_error();
    int added;
    if (looks_like_pem(cadata, len)) {
        BIO *bio = BIO_new_mem_buf(cadata, (int)len);
        if (bio == NULL) {
            return pt_ossl_internal(err, "BIO_new_mem_buf");
        }
        added = add_pem(store->x509, bio);
        BIO_free(bio);
    } else {
        added = add_der(store->x509, cadata, len);
    }
    if (added <= 0) {
        return pt_ossl_fail(err, PETREL_ERR_CONFIG, -1, "no certificates or CRLs found in cadata");
    }
    ERR_clear_error();
    return PETREL_OK;
}

petrel_status pt_store_load(pt_store *store, const char *cafile, const char *capath,
                            const void *cadata, size_t cadata_len, pt_error *err)
{
    if (cafile == NULL && capath == NULL && cadata == NULL) {
        return pt_fail(err, PETREL_ERR_MISUSE, -1, "cafile, capath and cadata are all NULL");
    }
    petrel_status st = PETREL_OK;
    if (cafile != NULL) {
        st = load_file(store, cafile, err);
    }
    if (st == PETREL_OK && capath != NULL) {
        st = load_dir(store, capath, err);
    }
    if (st == PETREL_OK && cadata != NULL) {
        st = load_data(store, cadata, cadata_len, err);
    }
    store_recount(store);
    return st;
}

petrel_status pt_store_load_default(pt_store *store, pt_error *err)
{
    if (X509_STORE_set_default_paths(store->x509) != 1) {
        return pt_ossl_fail(err, PETREL_ERR_CONFIG, -1, "cannot load the default trust store");
    }
    ERR_clear_error();
    store_recount(store);
    return PETREL_OK;
}
