/*
 * pki.h - a throw-away certificate authority for `petrel demo`, made in
 * memory with libcrypto: a CA, a server certificate for localhost and
 * 127.0.0.1, and a client certificate, all ECDSA P-256, as PEM text.
 */
#ifndef PETREL_PKI_H
#define PETREL_PKI_H

#include <stddef.h>

typedef struct pem_blob {
    char *data;
    size_t len;
} pem_blob;

typedef struct demo_pki {
    pem_blob ca_cert;
    pem_blob server_chain; /* server certificate, then the CA */
    pem_blob server_key;
    pem_blob client_chain;
    pem_blob client_key;
} demo_pki;

/* Returns 0, or -1 with a sentence in why. */
int demo_pki_make(demo_pki *pki, char *why, size_t why_cap);
/* Wipes the keys and frees everything. */
void demo_pki_free(demo_pki *pki);

#endif
