/*
 * test_crypto.c - the libcrypto adapter: hashes, HMAC, HKDF, the TLS 1.2
 * PRF, AEAD, key exchange, credentials, signatures and randomness.
 *
 * Keys and self-signed certificates are made fresh with libcrypto here.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"

static pt_algs *algs;

static int group_setup(void **state)
{
    (void)state;
    pt_error err;
    pt_error_init(&err);
    algs = pt_algs_new(&err);
    return algs == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
    (void)state;
    pt_algs_free(algs);
    return 0;
}

static int nibble(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    return c - 'a' + 10;
}

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint8_t)(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
    }
    return n;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want_hex)
{
    uint8_t want[256];
    size_t n = unhex(want_hex, want, sizeof(want));
    assert_int_equal(len, n);
    assert_memory_equal(got, want, n);
}

/* --- Hashes, HMAC, HKDF, PRF ---------------------------------------------- */

static void test_hash_peek_copy(void **state)
{
    (void)state;
    pt_error err;
    pt_hash h = {0}, copy = {0};
    uint8_t a[PT_MAX_HASH], b[PT_MAX_HASH], want[PT_MAX_HASH];
    assert_int_equal(pt_hash_init(&h, algs, PT_SHA384, &err), PETREL_OK);
    assert_int_equal(pt_hash_update(&h, "ab", 2, &err), PETREL_OK);
    assert_int_equal(pt_hash_copy(&copy, &h, &err), PETREL_OK);
    assert_int_equal(pt_hash_update(&h, "c", 1, &err), PETREL_OK);
    assert_int_equal(pt_hash_peek(&h, a, &err), PETREL_OK);
    /* FIPS 180-2 SHA-384("abc") */
    assert_hex(a, 48,
               "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
               "8086072ba1e7cc2358baeca134c825a7");
    /* Peeking does not end the hash. */
    assert_int_equal(pt_hash_update(&h, "d", 1, &err), PETREL_OK);
    assert_int_equal(pt_hash_peek(&h, b, &err), PETREL_OK);
    assert_int_equal(pt_hash_oneshot(algs, PT_SHA384, "abcd", 4, want, &err), PETREL_OK);
    assert_memory_equal(b, want, 48);
    /* The copy kept its own state: "ab" then "x". */
    assert_int_equal(pt_hash_update(&copy, "x", 1, &err), PETREL_OK);
    assert_int_equal(pt_hash_peek(&copy, b, &err), PETREL_OK);
    assert_int_equal(pt_hash_oneshot(algs, PT_SHA384, "abx", 3, want, &err), PETREL_OK);
    assert_memory_equal(b, want, 48);
    assert_int_equal(pt_hash_len(PT_SHA256), 32);
    assert_int_equal(pt_hash_len(PT_SHA384), 48);
    pt_hash_free(&h);
    pt_hash_free(&copy);
}

/* RFC 4231 test case 2. */
static void test_hmac(void **state)
{
    (void)state;
    pt_error err;
    uint8_t out[PT_MAX_HASH];
    const char *data = "what do ya want for nothing?";
    assert_int_equal(
        pt_hmac(algs, PT_SHA256, (const uint8_t *)"Jefe", 4, data, strlen(data), out, &err),
        PETREL_OK);
    assert_hex(out, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    assert_int_equal(
        pt_hmac(algs, PT_SHA384, (const uint8_t *)"Jefe", 4, data, strlen(data), out, &err),
        PETREL_OK);
    assert_hex(out, 48,
               "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e"
               "8e2240ca5e69e2c78b3239ecfab21649");
}

/* An empty key is zero-padded like any short key. */
static void test_hmac_empty_key(void **state)
{
    (void)state;
    pt_error err;
    uint8_t out[PT_MAX_HASH];
    assert_int_equal(pt_hmac(algs, PT_SHA256, NULL, 0, "", 0, out, &err), PETREL_OK);
    assert_hex(out, 32, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

/* RFC 5869 A.1 (test case 1). */
static void test_hkdf_rfc5869(void **state)
{
    (void)state;
    pt_error err;
    uint8_t ikm[22], salt[13], info[10], prk[PT_MAX_HASH], okm[42];
    memset(ikm, 0x0b, sizeof(ikm));
    for (size_t i = 0; i < sizeof(salt); i++) {
        salt[i] = (uint8_t)i;
    }
    for (size_t i = 0; i < sizeof(info); i++) {
        info[i] = (uint8_t)(0xf0 + i);
    }
    assert_int_equal(
        pt_hkdf_extract(algs, PT_SHA256, salt, sizeof(salt), ikm, sizeof(ikm), prk, &err),
        PETREL_OK);
    assert_hex(prk, 32, "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
    assert_int_equal(
        pt_hkdf_expand(algs, PT_SHA256, prk, info, sizeof(info), okm, sizeof(okm), &err),
        PETREL_OK);
    assert_hex(okm, 42,
               "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
               "34007208d5b887185865");
}

static void test_hkdf_label_limits(void **state)
{
    (void)state;
    pt_error err;
    uint8_t secret[32] = {0}, out[32];
    char label[256];
    memset(label, 'a', 250);
    label[250] = '\0';
    /* RFC 8446 7.1: the prefixed label is at most 255 bytes. */
    assert_int_equal(pt_hkdf_expand_label(algs, PT_SHA256, secret, label, NULL, 0, out, 32, &err),
                     PETREL_ERR_INTERNAL);
}

/* The PRF against libcrypto's own TLS1-PRF, for both hashes and lengths
 * that end inside and on a block boundary. */
static void reference_prf(const char *md, const uint8_t *secret, size_t secret_len,
                          const char *label, const uint8_t *seed, size_t seed_len, uint8_t *out,
                          size_t out_len)
{
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
    EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(kdf);
    uint8_t full_seed[128];
    size_t label_len = strlen(label);
    memcpy(full_seed, label, label_len);
    memcpy(full_seed + label_len, seed, seed_len);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)md, 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, secret_len),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, full_seed, label_len + seed_len),
        OSSL_PARAM_construct_end(),
    };
    assert_int_equal(EVP_KDF_derive(kctx, out, out_len, params), 1);
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
}

static void test_tls12_prf(void **state)
{
    (void)state;
    pt_error err;
    uint8_t secret[48], seed[64], got[100], want[100];
    for (size_t i = 0; i < sizeof(secret); i++) {
        secret[i] = (uint8_t)(i * 7 + 1);
    }
    for (size_t i = 0; i < sizeof(seed); i++) {
        seed[i] = (uint8_t)(i * 13 + 5);
    }
    static const size_t lens[] = {12, 32, 48, 100};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(pt_tls12_prf(algs, PT_SHA256, secret, 48, "key expansion", seed, 64, got,
                                      lens[i], &err),
                         PETREL_OK);
        reference_prf("SHA256", secret, 48, "key expansion", seed, 64, want, lens[i]);
        assert_memory_equal(got, want, lens[i]);
        assert_int_equal(pt_tls12_prf(algs, PT_SHA384, secret, 48, "master secret", seed, 64, got,
                                      lens[i], &err),
                         PETREL_OK);
        reference_prf("SHA384", secret, 48, "master secret", seed, 64, want, lens[i]);
        assert_memory_equal(got, want, lens[i]);
    }
}

/* --- AEAD ------------------------------------------------------------------ */

static void aead_round_trip(pt_aead_alg alg)
{
    pt_error err;
    pt_error_init(&err);
    uint8_t key[PT_MAX_KEY], nonce[PT_AEAD_NONCE], aad[13], buf[300], orig[300], tag[PT_AEAD_TAG];
    for (size_t i = 0; i < sizeof(key); i++) {
        key[i] = (uint8_t)(i + 1);
    }
    memset(nonce, 0x5a, sizeof(nonce));
    memset(aad, 0x17, sizeof(aad));
    for (size_t i = 0; i < sizeof(buf); i++) {
        buf[i] = orig[i] = (uint8_t)(i * 3);
    }
    pt_aead seal = {0}, open = {0};
    assert_int_equal(pt_aead_init(&seal, algs, alg, key, true, &err), PETREL_OK);
    assert_int_equal(pt_aead_init(&open, algs, alg, key, false, &err), PETREL_OK);
    for (int round = 0; round < 3; round++) {
        nonce[11] = (uint8_t)round; /* a fresh nonce per record, same key */
        assert_int_equal(pt_aead_seal(&seal, nonce, aad, sizeof(aad), buf, sizeof(buf), tag, &err),
                         PETREL_OK);
        assert_memory_not_equal(buf, orig, sizeof(buf));
        assert_int_equal(pt_aead_open(&open, nonce, aad, sizeof(aad), buf, sizeof(buf), tag, &err),
                         PETREL_OK);
        assert_memory_equal(buf, orig, sizeof(buf));
    }
    /* A flipped bit in ciphertext, tag, additional data or nonce. */
    for (int what = 0; what < 4; what++) {
        assert_int_equal(pt_aead_seal(&seal, nonce, aad, sizeof(aad), buf, sizeof(buf), tag, &err),
                         PETREL_OK);
        uint8_t *target = what == 0 ? buf + 100 : what == 1 ? tag + 15 : what == 2 ? aad : nonce;
        *target ^= 0x01;
        assert_int_equal(pt_aead_open(&open, nonce, aad, sizeof(aad), buf, sizeof(buf), tag, &err),
                         PETREL_ERR_PROTOCOL);
        assert_int_equal(err.pub.alert, PETREL_ALERT_BAD_RECORD_MAC);
        assert_non_null(strstr(err.pub.message, "bad record MAC"));
        /* The unauthenticated plaintext is not left behind. */
        uint8_t zeros[sizeof(buf)] = {0};
        assert_memory_equal(buf, zeros, sizeof(buf));
        *target ^= 0x01;
        memcpy(buf, orig, sizeof(buf));
    }
    pt_aead_free(&seal);
    pt_aead_free(&open);
    pt_aead_free(&open); /* freeing twice is harmless */
}

static void test_aead_aes128(void **state)
{
    (void)state;
    assert_int_equal(pt_aead_key_len(PT_AES_128_GCM), 16);
    aead_round_trip(PT_AES_128_GCM);
}

static void test_aead_aes256(void **state)
{
    (void)state;
    assert_int_equal(pt_aead_key_len(PT_AES_256_GCM), 32);
    aead_round_trip(PT_AES_256_GCM);
}

static void test_aead_chacha(void **state)
{
    (void)state;
    assert_int_equal(pt_aead_key_len(PT_CHACHA20_POLY1305), 32);
    aead_round_trip(PT_CHACHA20_POLY1305);
}

/* RFC 8439 2.8.2: the ChaCha20-Poly1305 AEAD example. */
static void test_aead_chacha_vector(void **state)
{
    (void)state;
    pt_error err;
    uint8_t key[32], nonce[12], aad[12], tag[16];
    unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", key, 32);
    unhex("070000004041424344454647", nonce, 12);
    unhex("50515253c0c1c2c3c4c5c6c7", aad, 12);
    char text[] = "Ladies and Gentlemen of the class of '99: If I could offer you only one tip "
                  "for the future, sunscreen would be it.";
    pt_aead a = {0};
    assert_int_equal(pt_aead_init(&a, algs, PT_CHACHA20_POLY1305, key, true, &err), PETREL_OK);
    assert_int_equal(pt_aead_seal(&a, nonce, aad, 12, (uint8_t *)text, 114, tag, &err), PETREL_OK);
    assert_hex((uint8_t *)text, 16, "d31a8d34648e60db7b86afbc53ef7ec2");
    assert_hex(tag, 16, "1ae10b594f09e26a7e902ecbd0600691");
    pt_aead_free(&a);
}

/* --- Key exchange ---------------------------------------------------------- */

static void test_kex_agree(void **state)
{
    (void)state;
    static const uint16_t groups[] = {PT_GROUP_X25519, PT_GROUP_SECP256R1, PT_GROUP_SECP384R1};
    static const size_t share_lens[] = {32, 65, 97};
    static const size_t secret_lens[] = {32, 32, 48};
    for (size_t i = 0; i < 3; i++) {
        pt_error err;
        pt_kex *a = NULL, *b = NULL;
        uint8_t pa[PT_MAX_SHARE], pb[PT_MAX_SHARE], sa[PT_MAX_SECRET], sb[PT_MAX_SECRET];
        size_t la = 0, lb = 0, na = 0, nb = 0;
        assert_true(pt_group_supported(groups[i]));
        assert_int_equal(pt_kex_generate(algs, groups[i], &a, pa, sizeof(pa), &la, &err),
                         PETREL_OK);
        assert_int_equal(pt_kex_generate(algs, groups[i], &b, pb, sizeof(pb), &lb, &err),
                         PETREL_OK);
        assert_int_equal(la, share_lens[i]);
        assert_int_equal(lb, share_lens[i]);
        if (groups[i] != PT_GROUP_X25519) {
            assert_int_equal(pa[0], 0x04); /* uncompressed point */
        }
        assert_int_equal(pt_kex_derive(a, pb, lb, sa, sizeof(sa), &na, &err), PETREL_OK);
        assert_int_equal(pt_kex_derive(b, pa, la, sb, sizeof(sb), &nb, &err), PETREL_OK);
        assert_int_equal(na, secret_lens[i]);
        assert_int_equal(nb, na);
        assert_memory_equal(sa, sb, na);
        pt_kex_free(a);
        pt_kex_free(b);
    }
    assert_false(pt_group_supported(0x0019));
    assert_int_equal(pt_group_security_bits(PT_GROUP_X25519), 128);
    assert_int_equal(pt_group_security_bits(PT_GROUP_SECP384R1), 192);
}

/* With deterministic randomness the key shares repeat with the seed, and
 * still agree. */
static void test_kex_deterministic(void **state)
{
    (void)state;
    static const uint16_t groups[] = {PT_GROUP_X25519, PT_GROUP_SECP256R1, PT_GROUP_SECP384R1};
    for (size_t i = 0; i < 3; i++) {
        pt_error err;
        pt_kex *a = NULL, *b = NULL, *c = NULL;
        uint8_t pa[PT_MAX_SHARE], pb[PT_MAX_SHARE], pc[PT_MAX_SHARE];
        uint8_t sa[PT_MAX_SECRET], sc[PT_MAX_SECRET];
        size_t la = 0, lb = 0, lc = 0, na = 0, nc = 0;
        pt_random_set_deterministic(true, 7);
        assert_int_equal(pt_kex_generate(algs, groups[i], &a, pa, sizeof(pa), &la, &err),
                         PETREL_OK);
        assert_int_equal(pt_kex_generate(algs, groups[i], &c, pc, sizeof(pc), &lc, &err),
                         PETREL_OK);
        pt_random_set_deterministic(true, 7);
        assert_int_equal(pt_kex_generate(algs, groups[i], &b, pb, sizeof(pb), &lb, &err),
                         PETREL_OK);
        pt_random_set_deterministic(false, 0);
        assert_int_equal(la, lb);
        assert_memory_equal(pa, pb, la);
        assert_memory_not_equal(pa, pc, la);
        assert_int_equal(pt_kex_derive(a, pc, lc, sa, sizeof(sa), &na, &err), PETREL_OK);
        assert_int_equal(pt_kex_derive(c, pa, la, sc, sizeof(sc), &nc, &err), PETREL_OK);
        assert_int_equal(na, nc);
        assert_memory_equal(sa, sc, na);
        pt_kex_free(a);
        pt_kex_free(b);
        pt_kex_free(c);
    }
}

/* Derives with a bad peer share and expects illegal_parameter. */
static void expect_bad_share(uint16_t group, const uint8_t *peer, size_t len, const char *frag)
{
    pt_error err;
    pt_error_init(&err);
    pt_kex *k = NULL;
    uint8_t pub[PT_MAX_SHARE], secret[PT_MAX_SECRET];
    size_t pub_len = 0, secret_len = 0;
    assert_int_equal(pt_kex_generate(algs, group, &k, pub, sizeof(pub), &pub_len, &err), PETREL_OK);
    assert_int_equal(pt_kex_derive(k, peer, len, secret, sizeof(secret), &secret_len, &err),
                     PETREL_ERR_PROTOCOL);
    assert_int_equal(err.pub.alert, PETREL_ALERT_ILLEGAL_PARAMETER);
    if (strstr(err.pub.message, frag) == NULL) {
        fail_msg("'%s' not in '%s'", frag, err.pub.message);
    }
    pt_kex_free(k);
}

static void test_kex_invalid_shares(void **state)
{
    (void)state;
    pt_error err;
    uint8_t share[PT_MAX_SHARE];
    size_t len = 0;
    pt_kex *k = NULL;
    /* Wrong lengths. */
    memset(share, 0x42, sizeof(share));
    expect_bad_share(PT_GROUP_X25519, share, 31, "is 31 bytes long, not 32");
    expect_bad_share(PT_GROUP_SECP256R1, share, 64, "is 64 bytes long, not 65");
    expect_bad_share(PT_GROUP_SECP384R1, share, 65, "is 65 bytes long, not 97");
    /* RFC 8446 7.4.2: the all-zero x25519 result (a small-order point). */
    memset(share, 0, 32);
    expect_bad_share(PT_GROUP_X25519, share, 32, "invalid shared secret");
    share[0] = 1; /* the point of order 1 */
    expect_bad_share(PT_GROUP_X25519, share, 32, "invalid shared secret");
    /* A compressed point and the infinity encoding. */
    assert_int_equal(
        pt_kex_generate(algs, PT_GROUP_SECP256R1, &k, share, sizeof(share), &len, &err), PETREL_OK);
    pt_kex_free(k);
    share[0] = 0x02;
    expect_bad_share(PT_GROUP_SECP256R1, share, 65, "not an uncompressed point");
    memset(share, 0, 65);
    expect_bad_share(PT_GROUP_SECP256R1, share, 65, "not an uncompressed point");
    /* A point off the curve: a real point with y changed. */
    for (int g = 0; g < 2; g++) {
        uint16_t group = g == 0 ? PT_GROUP_SECP256R1 : PT_GROUP_SECP384R1;
        assert_int_equal(pt_kex_generate(algs, group, &k, share, sizeof(share), &len, &err),
                         PETREL_OK);
        pt_kex_free(k);
        share[len - 1] ^= 0x01;
        expect_bad_share(group, share, len, "not a point on the curve");
        memset(share + 1, 0, len - 1); /* (0, 0) is not on either curve */
        expect_bad_share(group, share, len, "not a point on the curve");
    }
}

/* --- Keys, certificates, credentials ---------------------------------------- */

static EVP_PKEY *make_key(const char *type)
{
    EVP_PKEY *key = NULL;
    if (strcmp(type, "RSA") == 0) {
        key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    } else if (strcmp(type, "RSA1024") == 0) {
        key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    } else if (strcmp(type, "RSA-PSS") == 0) {
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
        assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048), 1);
        assert_int_equal(EVP_PKEY_generate(ctx, &key), 1);
        EVP_PKEY_CTX_free(ctx);
    } else if (strcmp(type, "RSA-PSS-SHA384") == 0) {
        /* An RSA-PSS key whose parameters allow SHA-384 only. */
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
        assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_pss_keygen_md(ctx, EVP_sha384()), 1);
        assert_int_equal(EVP_PKEY_generate(ctx, &key), 1);
        EVP_PKEY_CTX_free(ctx);
    } else if (strcmp(type, "P-256") == 0 || strcmp(type, "P-384") == 0) {
        key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", type);
    } else {
        key = EVP_PKEY_Q_keygen(NULL, NULL, type);
    }
    assert_non_null(key);
    return key;
}

static X509 *make_self_signed(EVP_PKEY *key, const char *cn)
{
    X509 *x = X509_new();
    assert_non_null(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    bool no_digest = EVP_PKEY_is_a(key, "ED25519");
    /* SHA-384 suits every key made here, the restricted RSA-PSS one too. */
    assert_true(X509_sign(x, key, no_digest ? NULL : EVP_sha384()) > 0);
    return x;
}

/* PEM text in a malloc'd string. */
static char *bio_text(BIO *bio, size_t *len)
{
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    char *text = test_malloc((size_t)n + 1);
    memcpy(text, data, (size_t)n);
    text[n] = '\0';
    *len = (size_t)n;
    BIO_free(bio);
    return text;
}

static char *cert_pem(X509 *x, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_X509(bio, x), 1);
    return bio_text(bio, len);
}

static char *key_pem(EVP_PKEY *key, const char *password, size_t *len)
{
    BIO *bio = BIO_new(BIO_s_mem());
    const EVP_CIPHER *enc = password != NULL ? EVP_aes_256_cbc() : NULL;
    int plen = password != NULL ? (int)strlen(password) : 0;
    assert_int_equal(
        PEM_write_bio_PrivateKey(bio, key, enc, (unsigned char *)password, plen, NULL, NULL), 1);
    return bio_text(bio, len);
}

/* A credential for a fresh key of type, through the in-memory loader. */
static pt_credential *make_credential(const char *type, X509 **cert_out)
{
    pt_error err;
    EVP_PKEY *key = make_key(type);
    X509 *x = make_self_signed(key, "test");
    size_t clen = 0, klen = 0;
    char *c = cert_pem(x, &clen);
    char *k = key_pem(key, NULL, &klen);
    pt_credential *cred = NULL;
    assert_int_equal(pt_credential_load_mem(c, clen, k, klen, NULL, NULL, &cred, &err), PETREL_OK);
    test_free(c);
    test_free(k);
    EVP_PKEY_free(key);
    if (cert_out != NULL) {
        *cert_out = x;
    } else {
        X509_free(x);
    }
    return cred;
}

static pt_peer_chain *chain_of(const pt_credential *cred)
{
    pt_error err;
    size_t len = 0;
    const uint8_t *der = pt_credential_der(cred, 0, &len);
    pt_peer_chain *chain = NULL;
    assert_int_equal(pt_peer_chain_parse(&der, &len, 1, &chain, &err), PETREL_OK);
    return chain;
}

/* Signs with sigalg, checks the peer side accepts it and refuses a change
 * to the message or a wrong algorithm. */
static void sign_verify(const char *type, uint16_t sigalg, uint16_t wrong_sigalg)
{
    pt_error err;
    pt_error_init(&err);
    pt_credential *cred = make_credential(type, NULL);
    pt_peer_chain *chain = chain_of(cred);
    uint8_t msg[130], sig[PT_MAX_SIGNATURE];
    size_t sig_len = 0;
    memset(msg, 0x20, 64);
    memcpy(msg + 64, "TLS 1.3, server CertificateVerify", 34);
    memset(msg + 98, 0xab, 32);
    if (pt_sign(cred, algs, sigalg, msg, sizeof(msg), sig, sizeof(sig), &sig_len, &err) !=
        PETREL_OK) {
        fail_msg("%s cannot sign with 0x%04x: %s", type, sigalg, err.pub.message);
    }
    if (pt_peer_verify_signature(chain, algs, sigalg, msg, sizeof(msg), sig, sig_len, 2, &err) !=
        PETREL_OK) {
        fail_msg("%s signature 0x%04x does not verify: %s", type, sigalg, err.pub.message);
    }
    msg[100] ^= 1;
    assert_int_equal(
        pt_peer_verify_signature(chain, algs, sigalg, msg, sizeof(msg), sig, sig_len, 2, &err),
        PETREL_ERR_PROTOCOL);
    assert_int_equal(err.pub.alert, PETREL_ALERT_DECRYPT_ERROR);
    msg[100] ^= 1;
    assert_int_equal(pt_peer_verify_signature(chain, algs, wrong_sigalg, msg, sizeof(msg), sig,
                                              sig_len, 2, &err),
                     PETREL_ERR_PROTOCOL);
    assert_int_equal(err.pub.alert, PETREL_ALERT_ILLEGAL_PARAMETER);
    assert_non_null(strstr(err.pub.message, "does not fit its certificate"));
    pt_peer_chain_free(chain);
    pt_credential_free(cred);
}

static void test_sign_rsa_pss_rsae(void **state)
{
    (void)state;
    sign_verify("RSA", PT_SIG_RSA_PSS_RSAE_SHA256, PT_SIG_RSA_PSS_PSS_SHA256);
    sign_verify("RSA", PT_SIG_RSA_PSS_RSAE_SHA384, PT_SIG_ECDSA_SECP384R1_SHA384);
    sign_verify("RSA", PT_SIG_RSA_PKCS1_SHA256, PT_SIG_ED25519);
}

static void test_sign_rsa_pss_pss(void **state)
{
    (void)state;
    sign_verify("RSA-PSS", PT_SIG_RSA_PSS_PSS_SHA256, PT_SIG_RSA_PSS_RSAE_SHA256);
    /* A key restricted to SHA-384 signs with it and refuses SHA-256. */
    sign_verify("RSA-PSS-SHA384", PT_SIG_RSA_PSS_PSS_SHA384, PT_SIG_RSA_PSS_PSS_SHA256);
}

static void test_sign_p256(void **state)
{
    (void)state;
    sign_verify("P-256", PT_SIG_ECDSA_SECP256R1_SHA256, PT_SIG_RSA_PSS_RSAE_SHA256);
}

static void test_sign_p384(void **state)
{
    (void)state;
    sign_verify("P-384", PT_SIG_ECDSA_SECP384R1_SHA384, PT_SIG_ED25519);
}

static void test_sign_ed25519(void **state)
{
    (void)state;
    sign_verify("ED25519", PT_SIG_ED25519, PT_SIG_ECDSA_SECP256R1_SHA256);
}

/* RFC 8446 4.2.3: an ECDSA algorithm names its curve in TLS 1.3 only. */
static void test_check_sigalg_curve(void **state)
{
    (void)state;
    pt_error err;
    pt_credential *cred = make_credential("P-384", NULL);
    pt_peer_chain *chain = chain_of(cred);
    assert_int_equal(pt_peer_check_sigalg(chain, PT_SIG_ECDSA_SECP256R1_SHA256, true, 2, &err),
                     PETREL_ERR_PROTOCOL);
    assert_int_equal(err.pub.alert, PETREL_ALERT_ILLEGAL_PARAMETER);
    assert_int_equal(pt_peer_check_sigalg(chain, PT_SIG_ECDSA_SECP256R1_SHA256, false, 2, &err),
                     PETREL_OK);
    assert_int_equal(pt_peer_check_sigalg(chain, PT_SIG_ECDSA_SECP384R1_SHA384, true, 2, &err),
                     PETREL_OK);
    /* SHA-256 gives 128 bits: too weak at level 4 (192 bits). */
    assert_int_equal(pt_peer_check_sigalg(chain, PT_SIG_ECDSA_SECP256R1_SHA256, false, 4, &err),
                     PETREL_ERR_PROTOCOL);
    assert_int_equal(err.pub.alert, PETREL_ALERT_INSUFFICIENT_SECURITY);
    pt_peer_chain_free(chain);
    pt_credential_free(cred);
}

static void test_pick_sigalg(void **state)
{
    (void)state;
    static const uint16_t prefs[] = {
        PT_SIG_ED25519,
        PT_SIG_ECDSA_SECP384R1_SHA384,
        PT_SIG_RSA_PKCS1_SHA256,
        PT_SIG_RSA_PSS_PSS_SHA256,
        PT_SIG_RSA_PSS_RSAE_SHA384,
        PT_SIG_ECDSA_SECP256R1_SHA256,
    };
    size_t n = PT_ARRAY_LEN(prefs);
    pt_credential *rsa = make_credential("RSA", NULL);
    assert_int_equal(pt_credential_security_bits(rsa), 112);
    /* TLS 1.3 skips rsa_pkcs1 (RFC 8446 4.4.3); TLS 1.2 takes it in order. */
    assert_int_equal(pt_credential_pick_sigalg(rsa, prefs, n, true, 2), PT_SIG_RSA_PSS_RSAE_SHA384);
    assert_int_equal(pt_credential_pick_sigalg(rsa, prefs, n, false, 2), PT_SIG_RSA_PKCS1_SHA256);
    /* RSA-2048 gives 112 bits: nothing at level 3. */
    assert_int_equal(pt_credential_pick_sigalg(rsa, prefs, n, true, 3), 0);
    pt_credential_free(rsa);

    pt_credential *pss = make_credential("RSA-PSS", NULL);
    assert_int_equal(pt_credential_pick_sigalg(pss, prefs, n, true, 2), PT_SIG_RSA_PSS_PSS_SHA256);
    pt_credential_free(pss);

    static const uint16_t pss_prefs[] = {PT_SIG_RSA_PSS_PSS_SHA256, PT_SIG_RSA_PSS_PSS_SHA384};
    pt_credential *pss384 = make_credential("RSA-PSS-SHA384", NULL);
    assert_int_equal(pt_credential_pick_sigalg(pss384, pss_prefs, 2, true, 2),
                     PT_SIG_RSA_PSS_PSS_SHA384);
    pt_credential_free(pss384);

    pt_credential *p256 = make_credential("P-256", NULL);
    assert_int_equal(pt_credential_pick_sigalg(p256, prefs, n, true, 2),
                     PT_SIG_ECDSA_SECP256R1_SHA256);
    /* TLS 1.2 does not bind the curve: the first ECDSA entry fits. */
    assert_int_equal(pt_credential_pick_sigalg(p256, prefs, n, false, 2),
                     PT_SIG_ECDSA_SECP384R1_SHA384);
    pt_credential_free(p256);

    pt_credential *p384 = make_credential("P-384", NULL);
    assert_int_equal(pt_credential_pick_sigalg(p384, prefs, n, true, 4),
                     PT_SIG_ECDSA_SECP384R1_SHA384);
    assert_int_equal(pt_credential_pick_sigalg(p384, prefs + 5, 1, true, 2), 0);
    pt_credential_free(p384);

    pt_credential *ed = make_credential("ED25519", NULL);
    assert_int_equal(pt_credential_pick_sigalg(ed, prefs, n, true, 3), PT_SIG_ED25519);
    assert_int_equal(pt_credential_pick_sigalg(ed, prefs, n, true, 4), 0);
    pt_credential_free(ed);

    pt_credential *small = make_credential("RSA1024", NULL);
    assert_int_equal(pt_credential_pick_sigalg(small, prefs, n, true, 2), 0);
    assert_int_equal(pt_credential_pick_sigalg(small, prefs, n, true, 1),
                     PT_SIG_RSA_PSS_RSAE_SHA384);
    pt_credential_free(small);
}

/* --- Loading credentials ------------------------------------------------------ */

static int password_cb(char *buf, int size, void *userdata)
{
    const char *pw = userdata;
    int n = (int)strlen(pw);
    if (n > size) {
        return -1;
    }
    memcpy(buf, pw, (size_t)n);
    return n;
}

static void assert_message(const pt_error *err, const char *frag)
{
    if (strstr(err->pub.message, frag) == NULL) {
        fail_msg("'%s' not in '%s'", frag, err->pub.message);
    }
}

static void test_encrypted_key(void **state)
{
    (void)state;
    pt_error err;
    EVP_PKEY *key = make_key("P-256");
    X509 *x = make_self_signed(key, "enc");
    size_t clen = 0, klen = 0;
    char *c = cert_pem(x, &clen);
    char *k = key_pem(key, "correct horse", &klen);
    pt_credential *cred = NULL;
    assert_int_equal(
        pt_credential_load_mem(c, clen, k, klen, password_cb, "correct horse", &cred, &err),
        PETREL_OK);
    assert_int_equal(pt_credential_count(cred), 1);
    pt_credential_free(cred);
    cred = NULL;
    assert_int_equal(pt_credential_load_mem(c, clen, k, klen, password_cb, "wrong", &cred, &err),
                     PETREL_ERR_CONFIG);
    assert_null(cred);
    assert_message(&err, "cannot decrypt the private key");
    assert_int_equal(pt_credential_load_mem(c, clen, k, klen, NULL, NULL, &cred, &err),
                     PETREL_ERR_CONFIG);
    assert_message(&err, "is encrypted and no password was given");
    test_free(c);
    test_free(k);
    X509_free(x);
    EVP_PKEY_free(key);
}

static char *write_temp(const char *text, size_t len)
{
    char *path = test_malloc(64);
    snprintf(path, 64, "/tmp/petrel-test-crypto-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

static void test_files_and_mismatch(void **state)
{
    (void)state;
    pt_error err;
    EVP_PKEY *key = make_key("P-256");
    EVP_PKEY *other = make_key("P-256");
    X509 *x = make_self_signed(key, "files");
    size_t clen = 0, klen = 0, olen = 0;
    char *c = cert_pem(x, &clen);
    char *k = key_pem(key, NULL, &klen);
    char *o = key_pem(other, NULL, &olen);
    char *cpath = write_temp(c, clen);
    char *kpath = write_temp(k, klen);
    char *opath = write_temp(o, olen);
    pt_credential *cred = NULL;
    assert_int_equal(pt_credential_load(cpath, kpath, NULL, NULL, &cred, &err), PETREL_OK);
    size_t der_len = 0;
    const uint8_t *der = pt_credential_der(cred, 0, &der_len);
    assert_int_equal((int)der_len, i2d_X509(x, NULL));
    assert_null(pt_credential_der(cred, 1, &der_len));
    pt_credential_free(cred);
    cred = NULL;
    (void)der;

    assert_int_equal(pt_credential_load(cpath, opath, NULL, NULL, &cred, &err), PETREL_ERR_CONFIG);
    assert_null(cred);
    assert_message(&err, "does not match the certificate in");
    assert_message(&err, opath);
    assert_message(&err, cpath);
    assert_int_equal(pt_credential_load_mem(c, clen, o, olen, NULL, NULL, &cred, &err),
                     PETREL_ERR_CONFIG);
    assert_message(&err, "does not match");

    assert_int_equal(pt_credential_load("/nonexistent/cert.pem", kpath, NULL, NULL, &cred, &err),
                     PETREL_ERR_CONFIG);
    assert_message(&err, "cannot read certificate file '/nonexistent/cert.pem': No such file");
    /* The key file holds no certificate. */
    assert_int_equal(pt_credential_load(kpath, kpath, NULL, NULL, &cred, &err), PETREL_ERR_CONFIG);
    assert_message(&err, "no certificate found in");
    /* The certificate file holds no key. */
    assert_int_equal(pt_credential_load(cpath, NULL, NULL, NULL, &cred, &err), PETREL_ERR_CONFIG);
    assert_message(&err, "no private key found in");

    unlink(cpath);
    unlink(kpath);
    unlink(opath);
    test_free(cpath);
    test_free(kpath);
    test_free(opath);
    test_free(c);
    test_free(k);
    test_free(o);
    X509_free(x);
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
}

/* Key and certificate in one PEM, key first, as many servers keep them. */
static void test_combined_pem(void **state)
{
    (void)state;
    pt_error err;
    EVP_PKEY *key = make_key("ED25519");
    X509 *x = make_self_signed(key, "combined");
    size_t clen = 0, klen = 0;
    char *c = cert_pem(x, &clen);
    char *k = key_pem(key, NULL, &klen);
    char *both = test_malloc(clen + klen);
    memcpy(both, k, klen);
    memcpy(both + klen, c, clen);
    pt_credential *cred = NULL;
    assert_int_equal(pt_credential_load_mem(both, clen + klen, NULL, 0, NULL, NULL, &cred, &err),
                     PETREL_OK);
    assert_int_equal(pt_credential_count(cred), 1);
    pt_credential_free(cred);
    test_free(both);
    test_free(c);
    test_free(k);
    X509_free(x);
    EVP_PKEY_free(key);
}

/* --- One pt_algs shared by threads ------------------------------------------ */

typedef struct worker {
    pthread_t thread;
    int failures;
} worker;

static void *hmac_worker(void *arg)
{
    worker *w = arg;
    pt_error err;
    static const char *const data = "what do ya want for nothing?";
    uint8_t want[32];
    unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", want, 32);
    for (int i = 0; i < 2000; i++) {
        uint8_t out[PT_MAX_HASH];
        if (pt_hmac(algs, PT_SHA256, (const uint8_t *)"Jefe", 4, data, strlen(data), out, &err) !=
                PETREL_OK ||
            memcmp(out, want, 32) != 0) {
            w->failures++;
        }
    }
    return NULL;
}

/* The templates in pt_algs are only read, so threads may share them. */
static void test_algs_shared_by_threads(void **state)
{
    (void)state;
    worker workers[4] = {0};
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(pthread_create(&workers[i].thread, NULL, hmac_worker, &workers[i]), 0);
    }
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(workers[i].thread, NULL), 0);
        assert_int_equal(workers[i].failures, 0);
    }
}

/* --- Randomness -------------------------------------------------------------- */

static void test_random(void **state)
{
    (void)state;
    pt_error err;
    uint8_t a[100], b[100], c[100];
    assert_int_equal(pt_random(a, sizeof(a), &err), PETREL_OK);
    assert_int_equal(pt_random(b, sizeof(b), &err), PETREL_OK);
    assert_memory_not_equal(a, b, sizeof(a));

    pt_random_set_deterministic(true, 42);
    assert_int_equal(pt_random(a, 10, &err), PETREL_OK);
    assert_int_equal(pt_random(a + 10, 90, &err), PETREL_OK);
    pt_random_set_deterministic(true, 42);
    /* The same stream whatever the request sizes. */
    assert_int_equal(pt_random(b, 100, &err), PETREL_OK);
    assert_memory_equal(a, b, sizeof(a));
    pt_random_set_deterministic(true, 43);
    assert_int_equal(pt_random(c, 100, &err), PETREL_OK);
    assert_memory_not_equal(a, c, sizeof(a));
    pt_random_set_deterministic(false, 0);
    assert_int_equal(pt_random(c, 100, &err), PETREL_OK);
    assert_memory_not_equal(a, c, sizeof(a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_peek_copy),
        cmocka_unit_test(test_hmac),
        cmocka_unit_test(test_hmac_empty_key),
        cmocka_unit_test(test_hkdf_rfc5869),
        cmocka_unit_test(test_hkdf_label_limits),
        cmocka_unit_test(test_tls12_prf),
        cmocka_unit_test(test_aead_aes128),
        cmocka_unit_test(test_aead_aes256),
        cmocka_unit_test(test_aead_chacha),
        cmocka_unit_test(test_aead_chacha_vector),
        cmocka_unit_test(test_kex_agree),
        cmocka_unit_test(test_kex_deterministic),
        cmocka_unit_test(test_kex_invalid_shares),
        cmocka_unit_test(test_sign_rsa_pss_rsae),
        cmocka_unit_test(test_sign_rsa_pss_pss),
        cmocka_unit_test(test_sign_p256),
        cmocka_unit_test(test_sign_p384),
        cmocka_unit_test(test_sign_ed25519),
        cmocka_unit_test(test_check_sigalg_curve),
        cmocka_unit_test(test_pick_sigalg),
        cmocka_unit_test(test_encrypted_key),
        cmocka_unit_test(test_files_and_mismatch),
        cmocka_unit_test(test_combined_pem),
        cmocka_unit_test(test_algs_shared_by_threads),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
