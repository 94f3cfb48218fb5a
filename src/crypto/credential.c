/*
 * credential.c - our certificate chain and private key, loaded from PEM
 * files or memory.
 *
 * Encrypted keys are decrypted through the application's password
 * callback; without one, loading fails instead of prompting on a terminal.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "crypto/ossl.h"

struct pt_credential {
    size_t count;
    X509 **certs;  /* leaf first */
    uint8_t **der; /* DER of each certificate, as sent */
    size_t *der_len;
    EVP_PKEY *key;
};

/* Where PEM text comes from: a file, or memory (path NULL). */
typedef struct pem_source {
    const char *path;
    const void *data;
    size_t len;
} pem_source;

/* The password callback as libcrypto calls it. */
typedef struct password_state {
    petrel_password_cb cb;
    void *userdata;
    bool asked;
} password_state;

static int password_trampoline(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    password_state *pw = u;
    pw->asked = true;
    if (pw->cb == NULL) {
        return -1; /* never fall back to prompting on the terminal */
    }
    int n = pw->cb(buf, size, pw->userdata);
    return n < 0 || n > size ? -1 : n;
}

/* "'path'" or "memory", for sentences. */
static void source_label(const pem_source *src, char *out, size_t cap)
{
    if (src->path != NULL) {
        snprintf(out, cap, "'%s'", src->path);
    } else {
        snprintf(out, cap, "the in-memory PEM");
    }
}

static petrel_status source_open(const pem_source *src, const char *what, BIO **out, pt_error *err)
{
    if (src->path == NULL) {
        if (src->len > INT32_MAX) {
            return pt_fail(err, PETREL_ERR_CONFIG, -1, "the %s PEM data is too large", what);
        }
        *out = BIO_new_mem_buf(src->data, (int)src->len);
        return *out != NULL ? PETREL_OK : pt_ossl_internal(err, "BIO_new_mem_buf");
    }
    FILE *f = fopen(src->path, "rb");
    if (f == NULL) {
        return pt_fail(err, PETREL_ERR_CONFIG, -1, "cannot read %s file '%s': %s", what, src->path,
                       strerror(errno));
    }
    *out = BIO_new_fp(f, BIO_CLOSE);
    if (*out == NULL) {
        fclose(f);
        return pt_ossl_internal(err, "BIO_new_fp");
    }
    return PETREL_OK;
}

static petrel_status cred_add_cert(pt_credential *cred, X509 *x, pt_error *err)
{
    size_t n = cred->count + 1;
    X509 **certs = pt_realloc(cred->certs, n * sizeof(*certs));
    if (certs != NULL) {
        cred->certs = certs;
    }
    uint8_t **der = pt_realloc(cred->der, n * sizeof(*der));
    if (der != NULL) {
        cred->der = der;
    }
    size_t *der_len = pt_realloc(cred->der_len, n * sizeof(*der_len));
    if (der_len != NULL) {
        cred->der_len = der_len;
    }
    if (certs == NULL || der == NULL || der_len == NULL) {
        return pt_fail(err, PETREL_ERR_NO_MEMORY, -1, "out of memory for a certificate chain");
    }
    uint8_t *buf = NULL;
    int len = i2d_X509(x, &buf);
    if (len <= 0) {
        return pt_ossl_internal(err, "i2d_X509");
    }
    cred->certs[cred->count] = x;
    cred->der[cred->count] = buf;
    cred->der_len[cred->count] = (size_t)len;
    cred->count = n;
    return PETREL_OK;
}

static petrel_status load_certs(pt_credential *cred, const pem_source *src, pt_error *err)
{
    BIO *bio = NULL;
    PT_TRY(source_open(src, "certificate", &bio, err));
    X509 *x;
    petrel_status st = PETREL_OK;
    ERR_clear_error();
    while (st == PETREL_OK && (x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        st = cred_add_cert(cred, x, err);
        if (st != PETREL_OK) {
            X509_free(x);
        }
    }
    BIO_free(bio);
    if (st != PETREL_OK) {
        return st;
    }
    /* The loop ends at the first block that is not a certificate; only a
     * clean end of input is expected. */
    bool clean_end = ERR_GET_REASON(ERR_peek_last_error()) == PEM_R_NO_START_LINE;
    if (cred->count > 0 && clean_end) {
        ERR_clear_error();
        return PETREL_OK;
    }
    char label[300];
    source_label(src, label, sizeof(label));
    if (cred->count == 0 && clean_end) {
        ERR_clear_error();
        return pt_fail(err, PETREL_ERR_CONFIG, -1, "no certificate found in %s", label);
    }
    return pt_ossl_fail(err, PETREL_ERR_CONFIG, -1, "cannot load a certificate from %s", label);
}

static petrel_status load_key(pt_credential *cred, const pem_source *src, petrel_password_cb cb,
                              void *userdata, pt_error *err)
{
    BIO *bio = NULL;
    PT_TRY(source_open(src, "private key", &bio, err));
    password_state pw = {cb, userdata, false};
    cred->key = PEM_read_bio_PrivateKey(bio, NULL, password_trampoline, &pw);
    BIO_free(bio);
    if (cred->key != NULL) {
        ERR_clear_error();
        return PETREL_OK;
    }
    char label[300];
    source_label(src, label, sizeof(label));
    if (pw.asked && cb == NULL) {
        return pt_ossl_fail(err, PETREL_ERR_CONFIG, -1,
                            "the private key in %s is encrypted and no password was given", label);
    }
    if (pw.asked) {
        return pt_ossl_fail(err, PETREL_ERR_CONFIG, -1,
                            "cannot decrypt the private key in %s (wrong password?)", label);
    }
    /* The decoders only report "unsupported" here, which says less than
     * the sentence. */
    ERR_clear_error();
    return pt_fail(err, PETREL_ERR_CONFIG, -1, "no private key found in %s", label);
}

/* RFC 8446 4.4.2: the key must be the one of the end-entity certificate. */
static petrel_status check_match(const pt_credential *cred, const pem_source *certs,
                                 const pem_source *key, pt_error *err)
{
    if (X509_check_private_key(cred->certs[0], cred->key) == 1) {
        return PETREL_OK;
    }
    ERR_clear_error();
    char cert_label[300];
    char key_label[300];
    source_label(certs, cert_label, sizeof(cert_label));
    source_label(key, key_label, sizeof(key_label));
    return pt_fail(err, PETREL_ERR_CONFIG, -1,
                   "the private key in %s does not match the certificate in %s", key_label,
                   cert_label);
}

static petrel_status credential_load(const pem_source *certs, const pem_source *key,
                                     petrel_password_cb cb, void *userdata, pt_credential **out,
                                     pt_error *err)
{
    pt_credential *cred = pt_calloc(1, sizeof(*cred));
    if (cred == NULL) {
        return pt_fail(err, PETREL_ERR_NO_MEMORY, -1, "out of memory for a credential");
    }
    petrel_status st = load_certs(cred, certs, err);
    if (st == PETREL_OK) {
        st = load_key(cred, key, cb, userdata, err);
    }
    if (st == PETREL_OK) {
        st = check_match(cred, certs, key, err);
    }
    if (st != PETREL_OK) {
        pt_credential_free(cred);
        return st;
    }
    *out = cred;
    return PETREL_OK;
}

petrel_status pt_credential_load(const char *certfile, const char *keyfile, petrel_password_cb cb,
                                 void *userdata, pt_credential **out, pt_error *err)
{
    pem_source certs = {certfile, NULL, 0};
    pem_source key = {keyfile != NULL ? keyfile : certfile, NULL, 0};
    return credential_load(&certs, &key, cb, userdata, out, err);
}

petrel_status pt_credential_load_mem(const void *cert_pem, size_t cert_len, const void *key_pem,
                                     size_t key_len, petrel_password_cb cb, void *userdata,
                                     pt_credential **out, pt_error *err)
{
    pem_source certs = {NULL, cert_pem, cert_len};
    pem_source key = {NULL, cert_pem, cert_len};
    if (key_pem != NULL) {
        key.data = key_pem;
        key.len = key_len;
    }
    return credential_load(&certs, &key, cb, userdata, out, err);
}

void pt_credential_free(pt_credential *cred)
{
    if (cred == NULL) {
        return;
    }
    for (size_t i = 0; i < cred->count; i++) {
        X509_free(cred->certs[i]);
        OPENSSL_free(cred->der[i]);
    }
    pt_free(cred->certs);
    pt_free(cred->der);
    pt_free(cred->der_len);
    /* Freeing the key clears its private parts. */
    EVP_PKEY_free(cred->key);
    pt_free(cred);
}

size_t pt_credential_count(const pt_credential *cred)
{
    return cred->count;
}

const uint8_t *pt_credential_der(const pt_credential *cred, size_t i, size_t *len)
{
    if (i >= cred->count) {
        *len = 0;
        return NULL;
    }
    *len = cred->der_len[i];
    return cred->der[i];
}

EVP_PKEY *pt_credential_key(const pt_credential *cred)
{
    return cred->key;
}
