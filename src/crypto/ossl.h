/*
 * ossl.h - what the files of src/crypto share among themselves.
 *
 * Private to src/crypto: it includes OpenSSL headers, which no other part
 * of the library may see.
 */
#ifndef PT_CRYPTO_OSSL_H
#define PT_CRYPTO_OSSL_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"

/* Everything fetched once per context and shared read-only. */
struct pt_algs {
    EVP_MD *md[3];         /* SHA-256, SHA-384, SHA-512 */
    EVP_CIPHER *cipher[3]; /* indexed by pt_aead_alg */
    EVP_MAC *hmac;
    EVP_MAC_CTX *hmac_tmpl[2];          /* HMAC with the digest set, duplicated per use */
    uint8_t empty_hash[2][PT_MAX_HASH]; /* SHA-256(""), SHA-384("") */
};

/* Records a failure whose cause libcrypto queued: the formatted sentence,
 * then the reasons drained from the error queue. */
petrel_status pt_ossl_fail(pt_error *err, petrel_status status, int alert, const char *fmt, ...)
    PT_PRINTF(4, 5);
/* Shorthand for an unexpected libcrypto failure in operation what. */
petrel_status pt_ossl_internal(pt_error *err, const char *what);

/* Whether pt_random gives the fixed stream (random.c). */
bool pt_random_is_deterministic(void);

/* The digest for a hash size in bits (256, 384, 512); NULL for 0. */
const EVP_MD *pt_algs_md_bits(const pt_algs *algs, int bits);

/* --- HMAC as a stream (hash.c) ------------------------------------------ */

petrel_status pt_hmac_begin(const pt_algs *algs, pt_hash_alg alg, const uint8_t *key,
                            size_t key_len, EVP_MAC_CTX **out, pt_error *err) PT_MUST_USE;
petrel_status pt_hmac_update(EVP_MAC_CTX *mac, const void *data, size_t len,
                             pt_error *err) PT_MUST_USE;
/* Writes the MAC and makes mac ready for a new message under the same
 * key, without keying it again. */
petrel_status pt_hmac_final_again(EVP_MAC_CTX *mac, uint8_t out[PT_MAX_HASH],
                                  pt_error *err) PT_MUST_USE;
/* Writes the MAC and frees mac, whatever the outcome. */
petrel_status pt_hmac_finish(EVP_MAC_CTX *mac, uint8_t out[PT_MAX_HASH], pt_error *err) PT_MUST_USE;

/* --- Signature algorithms (sigalg.c) ------------------------------------ */

typedef enum pt_key_kind {
    PT_KEY_OTHER = 0,
    PT_KEY_RSA,     /* rsaEncryption */
    PT_KEY_RSA_PSS, /* id-RSASSA-PSS */
    PT_KEY_EC,
    PT_KEY_ED25519,
} pt_key_kind;

typedef struct pt_sigalg_info {
    uint16_t code;
    pt_key_kind kind; /* the key type the algorithm needs */
    int hash_bits;    /* 256, 384, 512; 0 for Ed25519 */
    bool pss;
    int curve_nid; /* ECDSA: the curve TLS 1.3 binds to the algorithm */
    bool tls13;    /* allowed in TLS 1.3 signatures */
} pt_sigalg_info;

/* NULL for an algorithm we do not implement. */
const pt_sigalg_info *pt_sigalg_lookup(uint16_t code);
/* Kind of a key and, for EC keys, its curve's NID (0 otherwise). */
pt_key_kind pt_key_kind_of(const EVP_PKEY *pkey, int *curve_nid);
/* Bits of security OpenSSL's level asks for: 0, 80, 112, 128, 192, 256. */
int pt_security_level_bits(int level);
/* Security bits of a signature algorithm's hash (Ed25519: 128). */
int pt_sigalg_security_bits(const pt_sigalg_info *info);
/* Whether key can make or check signatures of info at all. tls13 adds
 * RFC 8446's restrictions. On refusal, why holds a short reason. */
bool pt_sigalg_fits_key(const pt_sigalg_info *info, const EVP_PKEY *key, bool tls13,
                        const char **why);
/* Sets RSA-PSS padding with a salt as long as the hash and MGF1 with the
 * same hash (RFC 8446 4.2.3) on a signing or verifying context. */
petrel_status pt_sigalg_setup_pss(EVP_PKEY_CTX *pctx, pt_error *err) PT_MUST_USE;

/* --- Certificates -------------------------------------------------------- */

X509_STORE *pt_store_x509(const pt_store *store);

/* The description of a leaf, built on first request (certinfo.c). */
typedef struct pt_certinfo_cache {
    bool built;
    char *subject;
    char *issuer;
    char **dns;
    size_t dns_count;
    char **ips;
    size_t ip_count;
} pt_certinfo_cache;

/* Parses one DER certificate (exactly, no trailing bytes), sharing the
 * parsed object with earlier identical certificates. NULL when it does not
 * parse. The caller owns one reference. */
X509 *pt_cert_cache_parse(const uint8_t *der, size_t len);

struct pt_peer_chain {
    X509 **certs;  /* leaf first */
    uint8_t **der; /* each certificate as received */
    size_t *der_len;
    size_t count;
    size_t verified_len;
    pt_certinfo_cache info;
};

void pt_certinfo_clear(pt_peer_chain *chain);
/* "2024-01-01 00:00:00 UTC"; false when t does not convert. */
bool pt_asn1_time_text(const ASN1_TIME *t, char *out, size_t cap);
EVP_PKEY *pt_credential_key(const pt_credential *cred);

#endif
