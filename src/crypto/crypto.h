/*
 * crypto.h - the protocol's window onto libcrypto.
 *
 * Only the files of src/crypto include OpenSSL headers. The rest of the
 * library sees the small interfaces below: hashes, HMAC and HKDF, AEAD,
 * key exchange, signatures, credentials and chain verification.
 *
 * Algorithms are fetched once, into a pt_algs owned by a context and shared
 * read-only by all its connections and threads.
 *
 * Every fallible function returns a petrel_status and, on failure, fills the
 * pt_error it was given with a sentence (libcrypto's error queue drained into
 * it). Verification failures of peer data (bad signature, bad key share,
 * failed AEAD) return PETREL_ERR_PROTOCOL with the alert the RFC names.
 */
#ifndef PT_CRYPTO_H
#define PT_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/common.h"

#define PT_MAX_HASH 48 /* SHA-384 */
#define PT_MAX_KEY 32  /* AES-256 / ChaCha20 */
#define PT_AEAD_NONCE 12
#define PT_AEAD_TAG 16
#define PT_MAX_SHARE 133 /* uncompressed P-521 point would be 133; P-384 is 97 */
#define PT_MAX_SECRET 66
#define PT_MAX_SIGNATURE 1024

typedef enum pt_hash_alg { PT_SHA256 = 0, PT_SHA384 = 1 } pt_hash_alg;

typedef enum pt_aead_alg {
    PT_AES_128_GCM = 0,
    PT_AES_256_GCM = 1,
    PT_CHACHA20_POLY1305 = 2,
} pt_aead_alg;

/* Wire code points. */
enum {
    PT_TLS_AES_128_GCM_SHA256 = 0x1301,
    PT_TLS_AES_256_GCM_SHA384 = 0x1302,
    PT_TLS_CHACHA20_POLY1305_SHA256 = 0x1303,
    PT_ECDHE_ECDSA_AES128_GCM_SHA256 = 0xc02b,
    PT_ECDHE_ECDSA_AES256_GCM_SHA384 = 0xc02c,
    PT_ECDHE_RSA_AES128_GCM_SHA256 = 0xc02f,
    PT_ECDHE_RSA_AES256_GCM_SHA384 = 0xc030,
    PT_ECDHE_RSA_CHACHA20_POLY1305 = 0xcca8,
    PT_ECDHE_ECDSA_CHACHA20_POLY1305 = 0xcca9,
};
enum {
    PT_GROUP_SECP256R1 = 0x0017,
    PT_GROUP_SECP384R1 = 0x0018,
    PT_GROUP_X25519 = 0x001d,
};
enum {
    PT_SIG_RSA_PKCS1_SHA256 = 0x0401,
    PT_SIG_RSA_PKCS1_SHA384 = 0x0501,
    PT_SIG_RSA_PKCS1_SHA512 = 0x0601,
    PT_SIG_ECDSA_SECP256R1_SHA256 = 0x0403,
    PT_SIG_ECDSA_SECP384R1_SHA384 = 0x0503,
    PT_SIG_ECDSA_SECP521R1_SHA512 = 0x0603,
    PT_SIG_RSA_PSS_RSAE_SHA256 = 0x0804,
    PT_SIG_RSA_PSS_RSAE_SHA384 = 0x0805,
    PT_SIG_RSA_PSS_RSAE_SHA512 = 0x0806,
    PT_SIG_ED25519 = 0x0807,
    PT_SIG_RSA_PSS_PSS_SHA256 = 0x0809,
    PT_SIG_RSA_PSS_PSS_SHA384 = 0x080a,
    PT_SIG_RSA_PSS_PSS_SHA512 = 0x080b,
};

/* --- Algorithms fetched once ------------------------------------------- */

typedef struct pt_algs pt_algs;
pt_algs *pt_algs_new(pt_error *err);
void pt_algs_free(pt_algs *algs);

size_t pt_hash_len(pt_hash_alg alg);

/* --- Randomness ---------------------------------------------------------- */

petrel_status pt_random(void *buf, size_t len, pt_error *err) PT_MUST_USE;
/* Used by petrel_insecure_set_deterministic_random. */
void pt_random_set_deterministic(bool on, uint64_t seed);
/* True while that deterministic stream is on. */
bool pt_random_is_deterministic(void);

/* --- Hashes, HMAC, HKDF -------------------------------------------------- */

/* A running hash (the transcript). */
typedef struct pt_hash {
    void *md_ctx; /* EVP_MD_CTX */
    pt_hash_alg alg;
} pt_hash;

petrel_status pt_hash_init(pt_hash *h, const pt_algs *algs, pt_hash_alg alg,
                           pt_error *err) PT_MUST_USE;
petrel_status pt_hash_update(pt_hash *h, const void *data, size_t len, pt_error *err) PT_MUST_USE;
/* The digest of everything so far; the hash keeps running. */
petrel_status pt_hash_peek(const pt_hash *h, uint8_t out[PT_MAX_HASH], pt_error *err) PT_MUST_USE;
/* Makes dst an independent copy of src's running state. dst is either
 * zeroed ({0}) or a live hash, whose state is then replaced. */
petrel_status pt_hash_copy(pt_hash *dst, const pt_hash *src, pt_error *err) PT_MUST_USE;
/* Safe on a zeroed hash and when called twice. */
void pt_hash_free(pt_hash *h);
petrel_status pt_hash_oneshot(const pt_algs *algs, pt_hash_alg alg, const void *data, size_t len,
                              uint8_t out[PT_MAX_HASH], pt_error *err) PT_MUST_USE;

petrel_status pt_hmac(const pt_algs *algs, pt_hash_alg alg, const uint8_t *key, size_t key_len,
                      const void *data, size_t len, uint8_t out[PT_MAX_HASH],
                      pt_error *err) PT_MUST_USE;
/* HKDF-Extract (RFC 5869); a NULL salt is hash-length zeros. out is
 * pt_hash_len(alg) bytes. */
petrel_status pt_hkdf_extract(const pt_algs *algs, pt_hash_alg alg, const uint8_t *salt,
                              size_t salt_len, const uint8_t *ikm, size_t ikm_len,
                              uint8_t out[PT_MAX_HASH], pt_error *err) PT_MUST_USE;
/* HKDF-Expand (RFC 5869 2.3) from a pseudorandom key of pt_hash_len(alg)
 * bytes; out_len is at most 255 hash lengths. */
petrel_status pt_hkdf_expand(const pt_algs *algs, pt_hash_alg alg, const uint8_t *prk,
                             const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len,
                             pt_error *err) PT_MUST_USE;
/* HKDF-Expand-Label (RFC 8446 7.1): label without the "tls13 " prefix. */
petrel_status pt_hkdf_expand_label(const pt_algs *algs, pt_hash_alg alg, const uint8_t *secret,
                                   const char *label, const uint8_t *context, size_t context_len,
                                   uint8_t *out, size_t out_len, pt_error *err) PT_MUST_USE;
/* A secret keyed into HMAC once, for several HKDF-Expand-Label calls
 * under it (a traffic secret's key and IV, the handshake and master
 * secrets' Derive-Secret). Zeroed ({0}) when unused; free wipes it. */
typedef struct pt_kdf {
    void *mac; /* EVP_MAC_CTX */
    pt_hash_alg alg;
} pt_kdf;

petrel_status pt_kdf_key(pt_kdf *k, const pt_algs *algs, pt_hash_alg alg, const uint8_t *secret,
                         pt_error *err) PT_MUST_USE;
petrel_status pt_kdf_expand_label(pt_kdf *k, const char *label, const uint8_t *context,
                                  size_t context_len, uint8_t *out, size_t out_len,
                                  pt_error *err) PT_MUST_USE;
/* Safe on a zeroed pt_kdf and when called twice. */
void pt_kdf_free(pt_kdf *k);
/* The hash of the empty string for alg (RFC 8446 7.1's Derive-Secret of
 * "derived"), computed once per context. */
const uint8_t *pt_empty_hash(const pt_algs *algs, pt_hash_alg alg);
/* TLS 1.2 PRF (RFC 5246 5) with the suite's hash. */
petrel_status pt_tls12_prf(const pt_algs *algs, pt_hash_alg alg, const uint8_t *secret,
                           size_t secret_len, const char *label, const uint8_t *seed,
                           size_t seed_len, uint8_t *out, size_t out_len,
                           pt_error *err) PT_MUST_USE;

/* --- AEAD ---------------------------------------------------------------- */

typedef struct pt_aead {
    void *cipher_ctx; /* EVP_CIPHER_CTX, key set once */
    pt_aead_alg alg;
    bool encrypt;
} pt_aead;

size_t pt_aead_key_len(pt_aead_alg alg);
petrel_status pt_aead_init(pt_aead *a, const pt_algs *algs, pt_aead_alg alg, const uint8_t *key,
                           bool encrypt, pt_error *err) PT_MUST_USE;
/* Encrypts buf in place and writes the 16-byte tag. */
petrel_status pt_aead_seal(pt_aead *a, const uint8_t nonce[PT_AEAD_NONCE], const uint8_t *aad,
                           size_t aad_len, uint8_t *buf, size_t len, uint8_t tag[PT_AEAD_TAG],
                           pt_error *err) PT_MUST_USE;
/* Encrypts in[0..len) followed by tail[0..tail_len) into out (which must
 * not overlap in) and writes the tag: one pass from the caller's data to
 * the output buffer. */
petrel_status pt_aead_seal_from(pt_aead *a, const uint8_t nonce[PT_AEAD_NONCE], const uint8_t *aad,
                                size_t aad_len, const uint8_t *in, size_t len, const uint8_t *tail,
                                size_t tail_len, uint8_t *out, uint8_t tag[PT_AEAD_TAG],
                                pt_error *err) PT_MUST_USE;
/* Decrypts buf in place; a bad tag is PETREL_ERR_PROTOCOL, bad_record_mac,
 * and leaves buf zeroed. */
petrel_status pt_aead_open(pt_aead *a, const uint8_t nonce[PT_AEAD_NONCE], const uint8_t *aad,
                           size_t aad_len, uint8_t *buf, size_t len, const uint8_t tag[PT_AEAD_TAG],
                           pt_error *err) PT_MUST_USE;
/* As pt_aead_open, but the first head_len bytes of plaintext (at most len)
 * are written to head instead of buf; the rest replaces its ciphertext in
 * buf. A bad tag leaves both zeroed. */
petrel_status pt_aead_open_split(pt_aead *a, const uint8_t nonce[PT_AEAD_NONCE], const uint8_t *aad,
                                 size_t aad_len, uint8_t *buf, size_t len,
                                 const uint8_t tag[PT_AEAD_TAG], uint8_t *head, size_t head_len,
                                 pt_error *err) PT_MUST_USE;
/* Safe on a zeroed pt_aead and when called twice. */
void pt_aead_free(pt_aead *a);

/* --- Key exchange -------------------------------------------------------- */

typedef struct pt_kex pt_kex;
bool pt_group_supported(uint16_t group);
/* Minimum security level at which a group is allowed (x25519 and P-256: 3
 * bits-of-security 128, P-384: 192), as OpenSSL rates them. */
int pt_group_security_bits(uint16_t group);
/* Makes an ephemeral key; writes the public share in the TLS encoding. */
petrel_status pt_kex_generate(const pt_algs *algs, uint16_t group, pt_kex **out, uint8_t *pub,
                              size_t pub_cap, size_t *pub_len, pt_error *err) PT_MUST_USE;
/* Derives the shared secret from the peer's share. A malformed or invalid
 * share is PETREL_ERR_PROTOCOL, illegal_parameter. */
petrel_status pt_kex_derive(pt_kex *kex, const uint8_t *peer, size_t peer_len, uint8_t *secret,
                            size_t secret_cap, size_t *secret_len, pt_error *err) PT_MUST_USE;
void pt_kex_free(pt_kex *kex);

/* --- Credentials (our certificate chain and key) ------------------------ */

typedef struct pt_credential pt_credential;
petrel_status pt_credential_load(const char *certfile, const char *keyfile, petrel_password_cb cb,
                                 void *userdata, pt_credential **out, pt_error *err) PT_MUST_USE;
petrel_status pt_credential_load_mem(const void *cert_pem, size_t cert_len, const void *key_pem,
                                     size_t key_len, petrel_password_cb cb, void *userdata,
                                     pt_credential **out, pt_error *err) PT_MUST_USE;
void pt_credential_free(pt_credential *cred);
/* DER certificates, leaf first. */
size_t pt_credential_count(const pt_credential *cred);
const uint8_t *pt_credential_der(const pt_credential *cred, size_t i, size_t *len);
/* Picks our signature algorithm: the first of peer_prefs (in the peer's
 * order) that our key can make and the security level allows; tls13
 * excludes rsa_pkcs1 and ECDSA curve mismatches. 0 when none fits. */
uint16_t pt_credential_pick_sigalg(const pt_credential *cred, const uint16_t *peer_prefs,
                                   size_t count, bool tls13, int security_level);
/* Security bits of the leaf key (RSA-2048: 112, P-256: 128). */
int pt_credential_security_bits(const pt_credential *cred);
petrel_status pt_sign(const pt_credential *cred, const pt_algs *algs, uint16_t sigalg,
                      const uint8_t *msg, size_t msg_len, uint8_t *sig, size_t sig_cap,
                      size_t *sig_len, pt_error *err) PT_MUST_USE;

/* --- Trust store and peer chains ----------------------------------------- */

typedef struct pt_store pt_store;
pt_store *pt_store_new(pt_error *err);
void pt_store_free(pt_store *store);
petrel_status pt_store_load(pt_store *store, const char *cafile, const char *capath,
                            const void *cadata, size_t cadata_len, pt_error *err) PT_MUST_USE;
petrel_status pt_store_load_default(pt_store *store, pt_error *err) PT_MUST_USE;
/* Number of trust anchors and CRLs loaded (for error sentences and tests). */
size_t pt_store_cert_count(const pt_store *store);
size_t pt_store_crl_count(const pt_store *store);

/* The chain a peer sent, parsed. */
typedef struct pt_peer_chain pt_peer_chain;
/* Parses DER certificates (leaf first). A certificate that does not parse
 * is PETREL_ERR_PROTOCOL, bad_certificate (or decode_error). */
petrel_status pt_peer_chain_parse(const uint8_t *const *ders, const size_t *lens, size_t count,
                                  pt_peer_chain **out, pt_error *err) PT_MUST_USE;
void pt_peer_chain_free(pt_peer_chain *chain);
size_t pt_peer_chain_len(const pt_peer_chain *chain);
size_t pt_peer_chain_verified_len(const pt_peer_chain *chain);
/* Certificate i as received (NULL past the end). */
const uint8_t *pt_peer_chain_der(const pt_peer_chain *chain, size_t i, size_t *len);
/* Restores the verified length a chain had when it was checked, for a
 * chain rebuilt from a session. */
void pt_peer_chain_set_verified_len(pt_peer_chain *chain, size_t verified_len);
/* An independent copy (same certificates and verified length); a NULL src
 * gives *out = NULL. */
petrel_status pt_peer_chain_dup(const pt_peer_chain *src, pt_peer_chain **out,
                                pt_error *err) PT_MUST_USE;

typedef struct pt_verify_params {
    bool peer_is_server;     /* purpose: TLS server or TLS client */
    const char *hostname;    /* DNS name or IP text; NULL for no name check */
    bool hostname_checks_cn; /* CN fallback when no DNS SAN */
    unsigned long flags;     /* PETREL_VERIFY_* */
    int security_level;
} pt_verify_params;

/* Builds and checks the path with X509_verify_cert. On failure returns
 * PETREL_ERR_CERT_VERIFY with err->pub.verify_code set, err->pub.alert the
 * alert to send (certificate_expired, unknown_ca, bad_certificate,
 * certificate_revoked, ...), and a sentence like Python's: "certificate
 * verify failed: Hostname mismatch, certificate is not valid for 'x'". */
petrel_status pt_peer_chain_verify(pt_peer_chain *chain, const pt_store *store,
                                   const pt_verify_params *params, pt_error *err) PT_MUST_USE;

/* Checks a TLS signature made by the leaf's key. A wrong signature is
 * PETREL_ERR_PROTOCOL, decrypt_error; an algorithm that does not fit the key
 * is illegal_parameter; a key or hash below the security level is
 * insufficient_security. It applies TLS 1.2's rules (an ECDSA algorithm
 * with any curve): TLS 1.3 callers also call pt_peer_check_sigalg with
 * tls13 set. */
petrel_status pt_peer_verify_signature(const pt_peer_chain *chain, const pt_algs *algs,
                                       uint16_t sigalg, const uint8_t *msg, size_t msg_len,
                                       const uint8_t *sig, size_t sig_len, int security_level,
                                       pt_error *err) PT_MUST_USE;

/* The checks pt_peer_verify_signature makes before verifying, with TLS
 * 1.3's rules when tls13 (RFC 8446 4.2.3: an ECDSA algorithm names its
 * curve; 4.4.3: no RSASSA-PKCS1-v1_5). An algorithm that does not fit the
 * key is illegal_parameter; a key or hash below the security level is
 * insufficient_security. */
petrel_status pt_peer_check_sigalg(const pt_peer_chain *chain, uint16_t sigalg, bool tls13,
                                   int security_level, pt_error *err) PT_MUST_USE;

/* Describes the leaf for petrel_conn_peer_cert (strings owned by chain). */
petrel_status pt_peer_chain_info(pt_peer_chain *chain, petrel_cert_info *out,
                                 pt_error *err) PT_MUST_USE;

#endif
