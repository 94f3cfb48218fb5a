/*
 * test_verify.c - trust stores and peer chain verification.
 *
 * A small PKI is made with libcrypto when the group starts: a root CA, an
 * intermediate CA, and leaves signed by the intermediate (a normal one, an
 * expired one, a revoked one, one with only a CN, one with an RSA-1024 key,
 * one for clients only), plus a CRL from the intermediate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/crypto.h"

#define REVOKED_SERIAL 666

typedef struct pki {
    EVP_PKEY *ca_key, *inter_key, *leaf_key, *small_key;
    X509 *ca, *inter, *leaf, *expired, *revoked, *cn_only, *san_and_cn, *small, *client_only;
    X509 *self_signed, *sha1, *no_akid;
    X509_CRL *crl;
    char *ca_pem;     /* the root alone */
    char *ca_crl_pem; /* the root and the intermediate's CRL */
} pki;

static pki p;

/* --- Making the PKI --------------------------------------------------------- */

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    assert_non_null(ext);
    assert_int_equal(X509_add_ext(x, ext, -1), 1);
    X509_EXTENSION_free(ext);
}

typedef struct cert_spec {
    const char *cn;
    bool ca;
    const char *san; /* NULL for none */
    const char *eku; /* NULL for serverAuth,clientAuth on leaves */
    long not_before; /* seconds from now */
    long not_after;
    long serial;
    bool sha1; /* signed with SHA-1 instead of SHA-256 */
} cert_spec;

static X509 *issue(const cert_spec *spec, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), spec->serial);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"Petrel Test", -1,
                               -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)spec->cn, -1, -1,
                               0);
    issuer = issuer != NULL ? issuer : x;
    X509_set_issuer_name(x, X509_get_subject_name(issuer));
    X509_gmtime_adj(X509_getm_notBefore(x), spec->not_before);
    X509_gmtime_adj(X509_getm_notAfter(x), spec->not_after);
    X509_set_pubkey(x, key);
    add_ext(x, issuer, NID_subject_key_identifier, "hash");
    add_ext(x, issuer, NID_authority_key_identifier, "keyid");
    if (spec->ca) {
        add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(x, issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
        add_ext(x, issuer, NID_ext_key_usage,
                spec->eku != NULL ? spec->eku : "serverAuth,clientAuth");
    }
    if (spec->san != NULL) {
        add_ext(x, issuer, NID_subject_alt_name, spec->san);
    }
    const EVP_MD *md = spec->sha1 ? EVP_sha1() : EVP_sha256();
    assert_true(X509_sign(x, issuer_key != NULL ? issuer_key : key, md) > 0);
    return x;
}

static X509_CRL *make_crl(X509 *issuer, EVP_PKEY *issuer_key, long serial)
{
    X509_CRL *crl = X509_CRL_new();
    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer));
    ASN1_TIME *t = ASN1_TIME_adj(NULL, time(NULL), 0, -3600);
    X509_CRL_set1_lastUpdate(crl, t);
    ASN1_TIME_adj(t, time(NULL), 7, 0);
    X509_CRL_set1_nextUpdate(crl, t);
    X509_REVOKED *rev = X509_REVOKED_new();
    ASN1_INTEGER *sn = ASN1_INTEGER_new();
    ASN1_INTEGER_set(sn, serial);
    X509_REVOKED_set_serialNumber(rev, sn);
    ASN1_TIME_adj(t, time(NULL), 0, -600);
    X509_REVOKED_set_revocationDate(rev, t);
    X509_CRL_add0_revoked(crl, rev);
    X509_CRL_sort(crl);
    assert_true(X509_CRL_sign(crl, issuer_key, EVP_sha256()) > 0);
    ASN1_INTEGER_free(sn);
    ASN1_TIME_free(t);
    return crl;
}

static char *pem_text(X509 *x, X509_CRL *crl)
{
    BIO *bio = BIO_new(BIO_s_mem());
    assert_int_equal(PEM_write_bio_X509(bio, x), 1);
    if (crl != NULL) {
        assert_int_equal(PEM_write_bio_X509_CRL(bio, crl), 1);
    }
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    char *text = malloc((size_t)n + 1);
    memcpy(text, data, (size_t)n);
    text[n] = '\0';
    BIO_free(bio);
    return text;
}

static int make_pki(void **state)
{
    (void)state;
    p.ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    p.inter_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    p.leaf_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    p.small_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
    const long day = 86400;
    const char *san = "DNS:www.example.test,DNS:*.wild.example.test,IP:127.0.0.1,IP:::1";
    /* cn, ca, san, eku, not_before, not_after, serial, sha1 */
    cert_spec ca = {"Petrel Test Root", true, NULL, NULL, -day, 3650 * day, 1, false};
    cert_spec inter = {"Petrel Test Intermediate", true, NULL, NULL, -day, 365 * day, 2, false};
    cert_spec leaf = {"www.example.test", false, san, NULL, -day, 30 * day, 10, false};
    cert_spec expired = {"www.example.test", false, san, NULL, -30 * day, -day, 11, false};
    cert_spec revoked = {"www.example.test", false,          san,  NULL, -day,
                         30 * day,           REVOKED_SERIAL, false};
    cert_spec cn_only = {"cn.example.test", false, NULL, NULL, -day, 30 * day, 12, false};
    cert_spec san_cn = {
        "cn.example.test", false, "DNS:other.example.test", NULL, -day, 30 * day, 13, false};
    cert_spec small = {"www.example.test", false, san, NULL, -day, 30 * day, 14, false};
    cert_spec client = {
        "client.example.test", false, NULL, "clientAuth", -day, 30 * day, 15, false};
    cert_spec self = {"www.example.test", false, san, NULL, -day, 30 * day, 16, false};
    cert_spec sha1 = {"www.example.test", false, san, NULL, -day, 30 * day, 17, true};
    p.ca = issue(&ca, p.ca_key, NULL, NULL);
    p.inter = issue(&inter, p.inter_key, p.ca, p.ca_key);
    p.leaf = issue(&leaf, p.leaf_key, p.inter, p.inter_key);
    p.expired = issue(&expired, p.leaf_key, p.inter, p.inter_key);
    p.revoked = issue(&revoked, p.leaf_key, p.inter, p.inter_key);
    p.cn_only = issue(&cn_only, p.leaf_key, p.inter, p.inter_key);
    p.san_and_cn = issue(&san_cn, p.leaf_key, p.inter, p.inter_key);
    p.small = issue(&small, p.small_key, p.inter, p.inter_key);
    p.client_only = issue(&client, p.leaf_key, p.inter, p.inter_key);
    p.self_signed = issue(&self, p.leaf_key, NULL, NULL);
    p.sha1 = issue(&sha1, p.leaf_key, p.inter, p.inter_key);
    /* The same leaf without an authority key identifier, which only
     * strict checking (RFC 5280 4.2.1.1) refuses. */
    p.no_akid = issue(&leaf, p.leaf_key, p.inter, p.inter_key);
    int akid_at = X509_get_ext_by_NID(p.no_akid, NID_authority_key_identifier, -1);
    X509_EXTENSION_free(X509_delete_ext(p.no_akid, akid_at));
    assert_true(X509_sign(p.no_akid, p.inter_key, EVP_sha256()) > 0);
    p.crl = make_crl(p.inter, p.inter_key, REVOKED_SERIAL);
    p.ca_pem = pem_text(p.ca, NULL);
    p.ca_crl_pem = pem_text(p.ca, p.crl);
    return 0;
}

static int free_pki(void **state)
{
    (void)state;
    X509 *certs[] = {p.ca,         p.inter, p.leaf,        p.expired,     p.revoked, p.cn_only,
                     p.san_and_cn, p.small, p.client_only, p.self_signed, p.sha1,    p.no_akid};
    for (size_t i = 0; i < PT_ARRAY_LEN(certs); i++) {
        X509_free(certs[i]);
    }
    EVP_PKEY_free(p.ca_key);
    EVP_PKEY_free(p.inter_key);
    EVP_PKEY_free(p.leaf_key);
    EVP_PKEY_free(p.small_key);
    X509_CRL_free(p.crl);
    free(p.ca_pem);
    free(p.ca_crl_pem);
    return 0;
}

/* --- Helpers ----------------------------------------------------------------- */

static pt_store *store_from(const char *pem)
{
    pt_error err;
    pt_store *store = pt_store_new(&err);
    assert_non_null(store);
    if (pem != NULL) {
        assert_int_equal(pt_store_load(store, NULL, NULL, pem, strlen(pem), &err), PETREL_OK);
    }
    return store;
}

/* Parses leaf (+ the intermediate when with_inter) as a peer chain. */
static pt_peer_chain *peer_chain(X509 *leaf, bool with_inter)
{
    pt_error err;
    uint8_t *ders[2] = {NULL, NULL};
    size_t lens[2];
    lens[0] = (size_t)i2d_X509(leaf, &ders[0]);
    lens[1] = (size_t)i2d_X509(p.inter, &ders[1]);
    pt_peer_chain *chain = NULL;
    assert_int_equal(
        pt_peer_chain_parse((const uint8_t *const *)ders, lens, with_inter ? 2 : 1, &chain, &err),
        PETREL_OK);
    OPENSSL_free(ders[0]);
    OPENSSL_free(ders[1]);
    return chain;
}

static pt_verify_params server_params(const char *host)
{
    pt_verify_params vp = {
        .peer_is_server = true,
        .hostname = host,
        .hostname_checks_cn = true,
        .flags = PETREL_VERIFY_X509_TRUSTED_FIRST,
        .security_level = 2,
    };
    return vp;
}

static void expect_ok(X509 *leaf, const char *store_pem, const pt_verify_params *vp)
{
    pt_error err;
    pt_error_init(&err);
    pt_store *store = store_from(store_pem);
    pt_peer_chain *chain = peer_chain(leaf, true);
    petrel_status st = pt_peer_chain_verify(chain, store, vp, &err);
    if (st != PETREL_OK) {
        fail_msg("verification failed: %s", err.pub.message);
    }
    assert_int_equal(pt_peer_chain_len(chain), 2);
    assert_int_equal(pt_peer_chain_verified_len(chain), 3);
    pt_peer_chain_free(chain);
    pt_store_free(store);
}

static void expect_fail(X509 *leaf, bool with_inter, const char *store_pem,
                        const pt_verify_params *vp, long code, int alert, const char *frag)
{
    pt_error err;
    pt_error_init(&err);
    pt_store *store = store_from(store_pem);
    pt_peer_chain *chain = peer_chain(leaf, with_inter);
    assert_int_equal(pt_peer_chain_verify(chain, store, vp, &err), PETREL_ERR_CERT_VERIFY);
    assert_int_equal(err.pub.status, PETREL_ERR_CERT_VERIFY);
    if (err.pub.verify_code != code || err.pub.alert != alert ||
        strstr(err.pub.message, frag) == NULL) {
        fail_msg("got code %ld alert %d '%s'; want code %ld alert %d '%s'", err.pub.verify_code,
                 err.pub.alert, err.pub.message, code, alert, frag);
    }
    assert_int_equal(pt_peer_chain_verified_len(chain), 0);
    pt_peer_chain_free(chain);
    pt_store_free(store);
}

/* --- Path validation ------------------------------------------------------------ */

static void test_ok(void **state)
{
    (void)state;
    pt_verify_params vp = server_params("www.example.test");
    expect_ok(p.leaf, p.ca_pem, &vp);
    /* No name check asked for. */
    vp.hostname = NULL;
    expect_ok(p.leaf, p.ca_pem, &vp);
    /* RFC 6125 6.4.3: a wildcard covers one label. */
    vp.hostname = "a.wild.example.test";
    expect_ok(p.leaf, p.ca_pem, &vp);
    vp.hostname = "a.b.wild.example.test";
    expect_fail(p.leaf, true, p.ca_pem, &vp, X509_V_ERR_HOSTNAME_MISMATCH,
                PETREL_ALERT_BAD_CERTIFICATE, "not valid for 'a.b.wild.example.test'");
}

static void test_expired(void **state)
{
    (void)state;
    pt_verify_params vp = server_params("www.example.test");
    expect_fail(p.expired, true, p.ca_pem, &vp, X509_V_ERR_CERT_HAS_EXPIRED,
                PETREL_ALERT_CERTIFICATE_EXPIRED,
                "certificate verify failed: certificate has "
                "expired (notAfter ");
}

static void test_untrusted(void **state)
{
    (void)state;
    pt_verify_params vp = server_params("www.example.test");
    expect_fail(p.leaf, true, NULL, &vp, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                PETREL_ALERT_UNKNOWN_CA,
                "certificate verify failed: unable to get local issuer certificate");
    /* Without the intermediate the root cannot be reached either. */
    expect_fail(p.leaf, false, p.ca_pem, &vp, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY,
                PETREL_ALERT_UNKNOWN_CA, "unable to get local issuer certificate");
    expect_fail(p.self_signed, false, p.ca_pem, &vp, X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT,
                PETREL_ALERT_UNKNOWN_CA, "certificate verify failed: self-signed certificate");
}

static void test_partial_chain(void **state)
{
    (void)state;
    /* With PARTIAL_CHAIN an intermediate in the store is an anchor. */
    char *inter_pem = pem_text(p.inter, NULL);
    pt_verify_params vp = server_params("www.example.test");
    expect_fail(p.leaf, false, inter_pem, &vp, X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT,
                PETREL_ALERT_UNKNOWN_CA, "unable to get issuer certificate");
    vp.flags |= PETREL_VERIFY_X509_PARTIAL_CHAIN;
    pt_error err;
    pt_store *store = store_from(inter_pem);
    pt_peer_chain *chain = peer_chain(p.leaf, false);
    assert_int_equal(pt_peer_chain_verify(chain, store, &vp, &err), PETREL_OK);
    assert_int_equal(pt_peer_chain_verified_len(chain), 2);
    pt_peer_chain_free(chain);
    pt_store_free(store);
    free(inter_pem);
}

static void test_wrong_host(void **state)
{
    (void)state;
    pt_verify_params vp = server_params("evil.example.test");
    expect_fail(p.leaf, true, p.ca_pem, &vp, X509_V_ERR_HOSTNAME_MISMATCH,
                PETREL_ALERT_BAD_CERTIFICATE,
                "certificate verify failed: Hostname mismatch, certificate is not valid for "
                "'evil.example.test'.");
}

static void test_ip_san(void **state)
{
    (void)state;
    pt_verify_params vp = server_params("127.0.0.1");
    expect_ok(p.leaf, p.ca_pem, &vp);
    vp.hostname = "::1";
    expect_ok(p.leaf, p.ca_pem, &vp);
    vp.hostname = "127.0.0.2";
    expect_fail(p.leaf, true, p.ca_pem, &vp, X509_V_ERR_IP_ADDRESS_MISMATCH,
                PETREL_ALERT_BAD_CERTIFICATE,
                "certificate verify failed: IP address mismatch, certificate is not valid for "
                "'127.0.0.2'.");
    /* An IP address never matches a DNS name, nor the reverse. */
    vp.hostname = "10.0.0.1";
    expect_fail(p.cn_only, true, p.ca_pem, &vp, X509_V_ERR_IP_ADDRESS_MISMATCH,
                PETREL_ALERT_BAD_CERTIFICATE, "IP address mismatch");
}

static void test_cn_fallback(void **state)
{
    (void)state;
    pt_verify_params vp = server_params("cn.example.test");
    /* No DNS SAN: the CN is used while hostname_checks_cn is on... */
    expect_ok(p.cn_only, p.ca_pem, &vp);
    /* ...and never when it is off. */
    vp.hostname_checks_cn = false;
    expect_fail(p.cn_only, true, p.ca_pem, &vp, X509_V_ERR_HOSTNAME_MISMATCH,
                PETREL_ALERT_BAD_CERTIFICATE, "not valid for 'cn.example.test'.");
    /* With a DNS SAN the CN is ignored even when the fallback is on. */
    vp.hostname_checks_cn = true;
    expect_fail(p.san_and_cn, true, p.ca_pem, &vp, X509_V_ERR_HOSTNAME_MISMATCH,
                PETREL_ALERT_BAD_CERTIFICATE, "not valid for 'cn.example.test'.");
    vp.hostname = "other.example.test";
    expect_ok(p.san_and_cn, p.ca_pem, &vp);
}

static void test_revoked(void **state)
{
    (void)state;
    pt_verify_params vp = server_params("www.example.test");
    vp.flags |= PETREL_VERIFY_CRL_CHECK_LEAF;
    expect_fail(p.revoked, true, p.ca_crl_pem, &vp, X509_V_ERR_CERT_REVOKED,
                PETREL_ALERT_CERTIFICATE_REVOKED, "certificate verify failed: certificate revoked");
    /* The same CRL lets a certificate it does not list through. */
    expect_ok(p.leaf, p.ca_crl_pem, &vp);
    /* Without CRL checking the revoked certificate passes. */
    vp.flags = 0;
    expect_ok(p.revoked, p.ca_crl_pem, &vp);
}

static void test_missing_crl(void **state)
{
    (void)state;
    pt_verify_params vp = server_params("www.example.test");
    vp.flags |= PETREL_VERIFY_CRL_CHECK_LEAF;
    expect_fail(p.leaf, true, p.ca_pem, &vp, X509_V_ERR_UNABLE_TO_GET_CRL,
                PETREL_ALERT_CERTIFICATE_UNKNOWN,
                "certificate verify failed: unable to get certificate CRL");
    /* Checking the whole chain needs the root's CRL for the intermediate. */
    vp.flags |= PETREL_VERIFY_CRL_CHECK_CHAIN;
    expect_fail(p.leaf, true, p.ca_crl_pem, &vp, X509_V_ERR_UNABLE_TO_GET_CRL,
                PETREL_ALERT_CERTIFICATE_UNKNOWN, "unable to get certificate CRL");
}

static void test_small_key(void **state)
{
    (void)state;
    pt_verify_params vp = server_params("www.example.test");
    expect_fail(p.small, true, p.ca_pem, &vp, X509_V_ERR_EE_KEY_TOO_SMALL,
                PETREL_ALERT_BAD_CERTIFICATE,
                "certificate verify failed: EE certificate key too weak (key too small: 1024 "
                "bits at security level 2)");
    vp.security_level = 1;
    expect_ok(p.small, p.ca_pem, &vp);
    vp.security_level = 0;
    expect_ok(p.small, p.ca_pem, &vp);
}

/* PETREL_VERIFY_X509_STRICT reaches X509_verify_cert. */
static void test_strict(void **state)
{
    (void)state;
    pt_verify_params vp = server_params("www.example.test");
    expect_ok(p.no_akid, p.ca_pem, &vp);
    vp.flags |= PETREL_VERIFY_X509_STRICT;
    expect_ok(p.leaf, p.ca_pem, &vp);
    expect_fail(p.no_akid, true, p.ca_pem, &vp, X509_V_ERR_MISSING_AUTHORITY_KEY_IDENTIFIER,
                PETREL_ALERT_BAD_CERTIFICATE, "Missing Authority Key Identifier");
}

/* A SHA-1 signature rates below 80 bits: refused from level 1 up. */
static void test_weak_digest(void **state)
{
    (void)state;
    pt_verify_params vp = server_params("www.example.test");
    vp.security_level = 1;
    expect_fail(p.sha1, true, p.ca_pem, &vp, X509_V_ERR_CA_MD_TOO_WEAK,
                PETREL_ALERT_BAD_CERTIFICATE, "digest too weak for security level 1");
    vp.security_level = 0;
    expect_ok(p.sha1, p.ca_pem, &vp);
}

static void test_purpose(void **state)
{
    (void)state;
    pt_verify_params vp = server_params(NULL);
    expect_fail(p.client_only, true, p.ca_pem, &vp, X509_V_ERR_INVALID_PURPOSE,
                PETREL_ALERT_UNSUPPORTED_CERTIFICATE, "unsuitable certificate purpose");
    vp.peer_is_server = false;
    expect_ok(p.client_only, p.ca_pem, &vp);
}

/* --- Parsing and describing ---------------------------------------------------- */

static void test_parse_errors(void **state)
{
    (void)state;
    pt_error err;
    pt_peer_chain *chain = NULL;
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    const uint8_t *der = junk;
    size_t len = sizeof(junk);
    assert_int_equal(pt_peer_chain_parse(&der, &len, 1, &chain, &err), PETREL_ERR_PROTOCOL);
    assert_int_equal(err.pub.alert, PETREL_ALERT_BAD_CERTIFICATE);
    assert_non_null(strstr(err.pub.message, "certificate 0 of the peer's chain does not parse"));
    assert_null(chain);

    /* A good certificate with one byte more: RFC 8446 4.4.2 holds one
     * certificate per entry. */
    uint8_t *buf = NULL;
    int n = i2d_X509(p.leaf, &buf);
    uint8_t *longer = malloc((size_t)n + 1);
    memcpy(longer, buf, (size_t)n);
    longer[n] = 0;
    const uint8_t *ders[2] = {buf, longer};
    size_t lens[2] = {(size_t)n, (size_t)n + 1};
    assert_int_equal(pt_peer_chain_parse(ders, lens, 2, &chain, &err), PETREL_ERR_PROTOCOL);
    assert_non_null(strstr(err.pub.message, "certificate 1 of"));
    assert_int_equal(pt_peer_chain_parse(ders, lens, 0, &chain, &err), PETREL_ERR_PROTOCOL);
    assert_int_equal(err.pub.alert, PETREL_ALERT_DECODE_ERROR);
    OPENSSL_free(buf);
    free(longer);
}

static void test_chain_info(void **state)
{
    (void)state;
    pt_error err;
    pt_peer_chain *chain = peer_chain(p.leaf, true);
    petrel_cert_info info;
    assert_int_equal(pt_peer_chain_info(chain, &info, &err), PETREL_OK);
    assert_string_equal(info.subject, "CN=www.example.test,O=Petrel Test");
    assert_string_equal(info.issuer, "CN=Petrel Test Intermediate,O=Petrel Test");
    assert_int_equal(info.dns_name_count, 2);
    assert_string_equal(info.dns_names[0], "www.example.test");
    assert_string_equal(info.dns_names[1], "*.wild.example.test");
    assert_int_equal(info.ip_address_count, 2);
    assert_string_equal(info.ip_addresses[0], "127.0.0.1");
    assert_string_equal(info.ip_addresses[1], "::1");
    int64_t now = (int64_t)time(NULL);
    assert_true(info.not_before > now - 86400 - 60 && info.not_before <= now - 86400 + 60);
    assert_true(info.not_after > now + 30 * 86400 - 60 && info.not_after <= now + 30 * 86400 + 60);
    uint8_t *der = NULL;
    int n = i2d_X509(p.leaf, &der);
    assert_int_equal(info.der_len, (size_t)n);
    assert_memory_equal(info.der, der, (size_t)n);
    OPENSSL_free(der);
    /* A second call gives the same strings. */
    petrel_cert_info again;
    assert_int_equal(pt_peer_chain_info(chain, &again, &err), PETREL_OK);
    assert_ptr_equal(again.subject, info.subject);
    pt_peer_chain_free(chain);

    chain = peer_chain(p.cn_only, false);
    assert_int_equal(pt_peer_chain_info(chain, &info, &err), PETREL_OK);
    assert_int_equal(info.dns_name_count, 0);
    assert_int_equal(info.ip_address_count, 0);
    pt_peer_chain_free(chain);
}

/* --- Trust stores ---------------------------------------------------------------- */

static char *write_temp(const char *text, size_t len)
{
    char *path = malloc(64);
    snprintf(path, 64, "/tmp/petrel-test-verify-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

static void test_store_loading(void **state)
{
    (void)state;
    pt_error err;
    pt_store *store = store_from(p.ca_crl_pem);
    assert_int_equal(pt_store_cert_count(store), 1);
    assert_int_equal(pt_store_crl_count(store), 1);
    pt_store_free(store);

    /* A file with certificates and CRLs. */
    char *path = write_temp(p.ca_crl_pem, strlen(p.ca_crl_pem));
    store = pt_store_new(&err);
    assert_int_equal(pt_store_load(store, path, NULL, NULL, 0, &err), PETREL_OK);
    assert_int_equal(pt_store_cert_count(store), 1);
    assert_int_equal(pt_store_crl_count(store), 1);
    pt_store_free(store);
    unlink(path);
    free(path);

    /* One DER certificate, then the intermediate added as PEM. */
    uint8_t *der = NULL;
    int n = i2d_X509(p.ca, &der);
    store = pt_store_new(&err);
    assert_int_equal(pt_store_load(store, NULL, NULL, der, (size_t)n, &err), PETREL_OK);
    assert_int_equal(pt_store_cert_count(store), 1);
    char *inter_pem = pem_text(p.inter, NULL);
    assert_int_equal(pt_store_load(store, NULL, NULL, inter_pem, strlen(inter_pem), &err),
                     PETREL_OK);
    assert_int_equal(pt_store_cert_count(store), 2);
    assert_int_equal(pt_store_crl_count(store), 0);
    free(inter_pem);
    /* A truncated DER certificate. */
    assert_int_equal(pt_store_load(store, NULL, NULL, der, (size_t)n - 1, &err), PETREL_ERR_CONFIG);
    assert_non_null(strstr(err.pub.message, "no certificates or CRLs found in cadata"));
    OPENSSL_free(der);
    pt_store_free(store);
}

static void test_store_errors(void **state)
{
    (void)state;
    pt_error err;
    pt_store *store = pt_store_new(&err);
    assert_int_equal(pt_store_load(store, "/nonexistent/ca.pem", NULL, NULL, 0, &err),
                     PETREL_ERR_CONFIG);
    assert_string_equal(err.pub.message,
                        "cannot read CA file '/nonexistent/ca.pem': No such file or directory");
    const char *not_pem = "hello\n";
    char *path = write_temp(not_pem, strlen(not_pem));
    assert_int_equal(pt_store_load(store, path, NULL, NULL, 0, &err), PETREL_ERR_CONFIG);
    assert_non_null(strstr(err.pub.message, "no certificates or CRLs found in CA file '"));
    unlink(path);
    free(path);
    assert_int_equal(pt_store_load(store, NULL, "/nonexistent/dir", NULL, 0, &err),
                     PETREL_ERR_CONFIG);
    assert_string_equal(err.pub.message,
                        "cannot read CA directory '/nonexistent/dir': No such file or directory");
    const char *pem_junk = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    assert_int_equal(pt_store_load(store, NULL, NULL, pem_junk, strlen(pem_junk), &err),
                     PETREL_ERR_CONFIG);
    assert_int_equal(pt_store_load(store, NULL, NULL, NULL, 0, &err), PETREL_ERR_MISUSE);
    assert_int_equal(pt_store_cert_count(store), 0);
    assert_int_equal(pt_store_load_default(store, &err), PETREL_OK);
    pt_store_free(store);
}

/* A hashed directory, as c_rehash lays it out: <subject hash>.0. */
static void test_store_directory(void **state)
{
    (void)state;
    pt_error err;
    char dir[] = "/tmp/petrel-test-capath-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char file[128];
    snprintf(file, sizeof(file), "%s/%08lx.0", dir, X509_subject_name_hash(p.ca));
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs(p.ca_pem, f);
    fclose(f);
    pt_store *store = pt_store_new(&err);
    assert_int_equal(pt_store_load(store, NULL, dir, NULL, 0, &err), PETREL_OK);
    pt_peer_chain *chain = peer_chain(p.leaf, true);
    pt_verify_params vp = server_params("www.example.test");
    assert_int_equal(pt_peer_chain_verify(chain, store, &vp, &err), PETREL_OK);
    pt_peer_chain_free(chain);
    pt_store_free(store);
    unlink(file);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok),           cmocka_unit_test(test_expired),
        cmocka_unit_test(test_untrusted),    cmocka_unit_test(test_partial_chain),
        cmocka_unit_test(test_wrong_host),   cmocka_unit_test(test_ip_san),
        cmocka_unit_test(test_cn_fallback),  cmocka_unit_test(test_revoked),
        cmocka_unit_test(test_missing_crl),  cmocka_unit_test(test_small_key),
        cmocka_unit_test(test_weak_digest),  cmocka_unit_test(test_strict),
        cmocka_unit_test(test_purpose),      cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_chain_info),   cmocka_unit_test(test_store_loading),
        cmocka_unit_test(test_store_errors), cmocka_unit_test(test_store_directory),
    };
    return cmocka_run_group_tests(tests, make_pki, free_pki);
}
