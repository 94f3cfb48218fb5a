/*
 * rotate.c - many server chains for the row where a client meets a new
 * chain on every handshake. Leaves are made in-process with libcrypto:
 * ECDSA P-256 keys, CN=localhost, subjectAltName DNS:localhost, serverAuth,
 * issued by the test PKI's intermediate (int-ca.pem / int-ca.key), and
 * written as rot-N-chain.pem (leaf + intermediate) and rot-N.key.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bench_run.h"

static X509 *read_cert(const char *dir, const char *name)
{
    char path[256];
    bench_pki_path(path, sizeof(path), dir, name);
    FILE *f = fopen(path, "r");
    X509 *x = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    if (f != NULL) {
        fclose(f);
    }
    return x;
}

static EVP_PKEY *read_key(const char *dir, const char *name)
{
    char path[256];
    bench_pki_path(path, sizeof(path), dir, name);
    FILE *f = fopen(path, "r");
    EVP_PKEY *k = f != NULL ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;
    if (f != NULL) {
        fclose(f);
    }
    return k;
}

static bool add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    bool ok = ext != NULL && X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

static X509 *make_leaf(X509 *issuer, EVP_PKEY *issuer_key, EVP_PKEY *key, long serial)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    bool ok = x != NULL && name != NULL && X509_set_version(x, 2) == 1 &&
              ASN1_INTEGER_set(X509_get_serialNumber(x), serial) == 1 &&
              X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                         (const unsigned char *)"Petrel Test", -1, -1, 0) == 1 &&
              X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                         (const unsigned char *)"localhost", -1, -1, 0) == 1 &&
              X509_set_subject_name(x, name) == 1 &&
              X509_set_issuer_name(x, X509_get_subject_name(issuer)) == 1 &&
              X509_gmtime_adj(X509_getm_notBefore(x), -3600) != NULL &&
              X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600) != NULL &&
              X509_set_pubkey(x, key) == 1 &&
              add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE") &&
              add_ext(x, issuer, NID_key_usage, "critical,digitalSignature") &&
              add_ext(x, issuer, NID_ext_key_usage, "serverAuth") &&
              add_ext(x, issuer, NID_subject_alt_name, "DNS:localhost") &&
              X509_sign(x, issuer_key, EVP_sha256()) > 0;
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

static bool write_leaf(const char *dir, int i, X509 *leaf, X509 *issuer, EVP_PKEY *key)
{
    char name[64];
    char path[256];
    snprintf(name, sizeof(name), "rot-%d-chain.pem", i);
    bench_pki_path(path, sizeof(path), dir, name);
    FILE *f = fopen(path, "w");
    bool ok = f != NULL && PEM_write_X509(f, leaf) == 1 && PEM_write_X509(f, issuer) == 1;
    if (f != NULL) {
        ok = fclose(f) == 0 && ok;
    }
    snprintf(name, sizeof(name), "rot-%d.key", i);
    bench_pki_path(path, sizeof(path), dir, name);
    f = fopen(path, "w");
    ok = ok && f != NULL && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
    if (f != NULL) {
        ok = fclose(f) == 0 && ok;
    }
    return ok;
}

int bench_rotate_generate(const char *dir, int count)
{
    X509 *issuer = read_cert(dir, "int-ca.pem");
    EVP_PKEY *issuer_key = read_key(dir, "int-ca.key");
    bool ok = issuer != NULL && issuer_key != NULL;
    for (int i = 0; i < count && ok; i++) {
        EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        X509 *leaf = key != NULL ? make_leaf(issuer, issuer_key, key, 5000 + i) : NULL;
        ok = leaf != NULL && write_leaf(dir, i, leaf, issuer, key);
        X509_free(leaf);
        EVP_PKEY_free(key);
    }
    X509_free(issuer);
    EVP_PKEY_free(issuer_key);
    if (!ok) {
        fprintf(stderr, "petrel-bench: cannot make the rotating chains in %s\n", dir);
    }
    return ok ? 0 : -1;
}
