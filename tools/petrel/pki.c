/*
 * pki.c - the demo's throw-away PKI, built with libcrypto.
 */
#include "pki.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

/* One day either side of now: enough for a demo, useless afterwards. */
#define DEMO_VALIDITY_SECONDS (24L * 60 * 60)

typedef struct issued {
    X509 *cert;
    EVP_PKEY *key;
} issued;

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    int ok = ext != NULL && X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

static int set_name(X509 *cert, const char *cn)
{
    X509_NAME *name = X509_get_subject_name(cert);
    const unsigned char *o = (const unsigned char *)"Petrel Demo";
    if (X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, o, -1, -1, 0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1,
                                   0) != 1) {
        return -1;
    }
    return 0;
}

/* A certificate for a new P-256 key, signed by issuer (self-signed when
 * issuer is NULL). exts is a list of (nid, value) pairs ending with 0. */
static int make_cert(issued *out, const issued *issuer, const char *cn, long serial,
                     const int *nids, const char *const *values)
{
    out->key = EVP_EC_gen("P-256");
    out->cert = X509_new();
    if (out->key == NULL || out->cert == NULL || X509_set_version(out->cert, 2) != 1 ||
        ASN1_INTEGER_set(X509_get_serialNumber(out->cert), serial) != 1 ||
        X509_gmtime_adj(X509_getm_notBefore(out->cert), -DEMO_VALIDITY_SECONDS) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(out->cert), DEMO_VALIDITY_SECONDS) == NULL ||
        set_name(out->cert, cn) != 0 || X509_set_pubkey(out->cert, out->key) != 1) {
        return -1;
    }
    X509 *issuer_cert = issuer != NULL ? issuer->cert : out->cert;
    EVP_PKEY *issuer_key = issuer != NULL ? issuer->key : out->key;
    if (X509_set_issuer_name(out->cert, X509_get_subject_name(issuer_cert)) != 1) {
        return -1;
    }
    for (size_t i = 0; nids[i] != 0; i++) {
        if (add_ext(out->cert, issuer_cert, nids[i], values[i]) != 0) {
            return -1;
        }
    }
    return X509_sign(out->cert, issuer_key, EVP_sha256()) > 0 ? 0 : -1;
}

static int to_blob(BIO *bio, pem_blob *out)
{
    char *p = NULL;
    long n = BIO_get_mem_data(bio, &p);
    out->data = n > 0 ? OPENSSL_malloc((size_t)n + 1) : NULL;
    if (out->data == NULL) {
        return -1;
    }
    memcpy(out->data, p, (size_t)n);
    out->data[n] = '\0';
    out->len = (size_t)n;
    return 0;
}

static int pem_certs(pem_blob *out, X509 *first, X509 *second)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int ok = bio != NULL && PEM_write_bio_X509(bio, first) == 1 &&
             (second == NULL || PEM_write_bio_X509(bio, second) == 1) && to_blob(bio, out) == 0;
    BIO_free(bio);
    return ok ? 0 : -1;
}

static int pem_key(pem_blob *out, EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    int ok = bio != NULL && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1 &&
             to_blob(bio, out) == 0;
    BIO_free_all(bio);
    return ok ? 0 : -1;
}

static void issued_free(issued *i)
{
    X509_free(i->cert);
    EVP_PKEY_free(i->key);
}

static int make_all(issued *ca, issued *server, issued *client)
{
    static const int ca_nids[] = {NID_basic_constraints, NID_key_usage, NID_subject_key_identifier,
                                  0};
    static const char *const ca_values[] = {"critical,CA:TRUE", "critical,keyCertSign,cRLSign",
                                            "hash"};
    static const int leaf_nids[] = {NID_basic_constraints,
                                    NID_key_usage,
                                    NID_ext_key_usage,
                                    NID_subject_alt_name,
                                    NID_authority_key_identifier,
                                    0};
    static const char *const server_values[] = {"CA:FALSE", "critical,digitalSignature",
                                                "serverAuth", "DNS:localhost,IP:127.0.0.1",
                                                "keyid"};
    static const char *const client_values[] = {"CA:FALSE", "critical,digitalSignature",
                                                "clientAuth", "DNS:client.demo", "keyid"};
    if (make_cert(ca, NULL, "Petrel Demo CA", 1, ca_nids, ca_values) != 0 ||
        make_cert(server, ca, "localhost", 2, leaf_nids, server_values) != 0 ||
        make_cert(client, ca, "client.demo", 3, leaf_nids, client_values) != 0) {
        return -1;
    }
    return 0;
}

int demo_pki_make(demo_pki *pki, char *why, size_t why_cap)
{
    issued ca = {0};
    issued server = {0};
    issued client = {0};
    memset(pki, 0, sizeof(*pki));
    int rc = make_all(&ca, &server, &client);
    if (rc == 0) {
        rc = pem_certs(&pki->ca_cert, ca.cert, NULL) | pem_key(&pki->server_key, server.key) |
             pem_key(&pki->client_key, client.key) |
             pem_certs(&pki->server_chain, server.cert, ca.cert) |
             pem_certs(&pki->client_chain, client.cert, ca.cert);
    }
    if (rc != 0) {
        unsigned long e = ERR_get_error();
        snprintf(why, why_cap, "making the demo certificates failed: %s",
                 e != 0 ? ERR_reason_error_string(e) : "unknown libcrypto error");
        ERR_clear_error();
        demo_pki_free(pki);
    }
    issued_free(&ca);
    issued_free(&server);
    issued_free(&client);
    return rc == 0 ? 0 : -1;
}

static void blob_free(pem_blob *b, int secret)
{
    if (b->data != NULL && secret) {
        OPENSSL_clear_free(b->data, b->len);
    } else {
        OPENSSL_free(b->data);
    }
    b->data = NULL;
    b->len = 0;
}

void demo_pki_free(demo_pki *pki)
{
    blob_free(&pki->ca_cert, 0);
    blob_free(&pki->server_chain, 0);
    blob_free(&pki->server_key, 1);
    blob_free(&pki->client_chain, 0);
    blob_free(&pki->client_key, 1);
}
