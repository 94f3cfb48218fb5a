/*
 * test_ctx.c - the context: Python's defaults and rules, version refusals,
 * freezing, list parsing, loading errors, limits, ALPN, key log, names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "api/ctx.h"
#include "api/names.h"
#include "petrel.h"

static petrel_ctx *client_ctx(void)
{
    petrel_ctx *ctx = petrel_ctx_new(PETREL_CLIENT);
    assert_non_null(ctx);
    return ctx;
}

static petrel_ctx *server_ctx(void)
{
    petrel_ctx *ctx = petrel_ctx_new(PETREL_SERVER);
    assert_non_null(ctx);
    return ctx;
}

/* The path of a file of the test PKI (tests/pki/README.md). */
static const char *pki(const char *name)
{
    static char path[4][512];
    static int slot;
    const char *dir = getenv("PETREL_TEST_DATA");
    assert_non_null(dir);
    slot = (slot + 1) % 4;
    snprintf(path[slot], sizeof(path[slot]), "%s/%s", dir, name);
    return path[slot];
}

static void assert_error(const petrel_ctx *ctx, petrel_status status, const char *fragment)
{
    const petrel_error *e = petrel_ctx_error(ctx);
    assert_int_equal(e->status, status);
    if (strstr(e->message, fragment) == NULL) {
        fail_msg("error '%s' does not contain '%s'", e->message, fragment);
    }
}

/* ---- defaults ----------------------------------------------------------- */

static void test_client_defaults(void **state)
{
    (void)state;
    petrel_ctx *ctx = client_ctx();
    assert_int_equal(petrel_ctx_protocol(ctx), PETREL_CLIENT);
    assert_int_equal(petrel_ctx_verify_mode(ctx), PETREL_CERT_REQUIRED);
    assert_true(petrel_ctx_check_hostname(ctx));
    assert_int_equal(petrel_ctx_minimum_version(ctx), PETREL_TLS1_2);
    assert_int_equal(petrel_ctx_maximum_version(ctx), PETREL_TLS1_3);
    assert_int_equal(petrel_ctx_security_level(ctx), 2);
    assert_int_equal(petrel_ctx_verify_flags(ctx), PETREL_VERIFY_X509_TRUSTED_FIRST);
    assert_true(petrel_ctx_hostname_checks_common_name(ctx));
    assert_false(petrel_ctx_post_handshake_auth(ctx));
    assert_int_equal(petrel_ctx_error(ctx)->status, PETREL_OK);
    assert_string_equal(petrel_ctx_error(ctx)->message, "");
    petrel_ctx_free(ctx);
}

static void test_server_defaults(void **state)
{
    (void)state;
    petrel_ctx *ctx = server_ctx();
    assert_int_equal(petrel_ctx_protocol(ctx), PETREL_SERVER);
    assert_int_equal(petrel_ctx_verify_mode(ctx), PETREL_CERT_NONE);
    assert_false(petrel_ctx_check_hostname(ctx));
    assert_int_equal(petrel_ctx_minimum_version(ctx), PETREL_TLS1_2);
    assert_int_equal(petrel_ctx_maximum_version(ctx), PETREL_TLS1_3);
    assert_int_equal(petrel_ctx_security_level(ctx), 2);
    assert_false(petrel_ctx_post_handshake_auth(ctx));
    petrel_ctx_free(ctx);
}

static void test_default_lists(void **state)
{
    (void)state;
    petrel_ctx *ctx = client_ctx();
    static const uint16_t suites13[] = {0x1302, 0x1303, 0x1301};
    static const uint16_t suites12[] = {0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc02b, 0xc02f};
    static const uint16_t groups[] = {0x001d, 0x0017, 0x0018};
    assert_int_equal(ctx->suites13_count, 3);
    assert_memory_equal(ctx->suites13, suites13, sizeof(suites13));
    assert_int_equal(ctx->suites12_count, 6);
    assert_memory_equal(ctx->suites12, suites12, sizeof(suites12));
    assert_int_equal(ctx->groups_count, 3);
    assert_memory_equal(ctx->groups, groups, sizeof(groups));
    assert_int_equal(ctx->alpn_len, 0);
    assert_null(ctx->cred);
    assert_non_null(ctx->store);
    assert_int_equal(pt_ctx_min_version(ctx), PETREL_TLS1_2);
    assert_int_equal(pt_ctx_max_version(ctx), PETREL_TLS1_3);
    petrel_ctx_free(ctx);
}

static void test_default_limits(void **state)
{
    (void)state;
    petrel_ctx *ctx = server_ctx();
    petrel_limits l;
    petrel_ctx_limits(ctx, &l);
    assert_int_equal(l.max_handshake_message, 65536);
    assert_int_equal(l.max_cert_chain_len, 10);
    assert_int_equal(l.max_cert_chain_bytes, 102400);
    assert_int_equal(l.max_buffered_plaintext, 65536);
    petrel_ctx_free(ctx);
}

static void test_bad_role(void **state)
{
    (void)state;
    assert_null(petrel_ctx_new((petrel_role)0));
    assert_null(petrel_ctx_new((petrel_role)3));
}

/* ---- Python's verify_mode / check_hostname interplay -------------------- */

static void test_cert_none_refused_while_check_hostname(void **state)
{
    (void)state;
    petrel_ctx *ctx = client_ctx();
    assert_int_equal(petrel_ctx_set_verify_mode(ctx, PETREL_CERT_NONE), PETREL_ERR_MISUSE);
    assert_string_equal(petrel_ctx_error(ctx)->message,
                        "Cannot set verify_mode to CERT_NONE when check_hostname is enabled.");
    assert_int_equal(petrel_ctx_verify_mode(ctx), PETREL_CERT_REQUIRED);

    assert_int_equal(petrel_ctx_set_verify_mode(ctx, PETREL_CERT_OPTIONAL), PETREL_OK);
    assert_int_equal(petrel_ctx_verify_mode(ctx), PETREL_CERT_OPTIONAL);
    assert_int_equal(petrel_ctx_error(ctx)->status, PETREL_OK);

    assert_int_equal(petrel_ctx_set_check_hostname(ctx, false), PETREL_OK);
    assert_int_equal(petrel_ctx_set_verify_mode(ctx, PETREL_CERT_NONE), PETREL_OK);
    assert_int_equal(petrel_ctx_verify_mode(ctx), PETREL_CERT_NONE);
    petrel_ctx_free(ctx);
}

static void test_check_hostname_upgrades_cert_none(void **state)
{
    (void)state;
    petrel_ctx *ctx = server_ctx();
    assert_int_equal(petrel_ctx_set_check_hostname(ctx, true), PETREL_OK);
    assert_int_equal(petrel_ctx_verify_mode(ctx), PETREL_CERT_REQUIRED);
    assert_true(petrel_ctx_check_hostname(ctx));

    /* CERT_OPTIONAL is kept: only CERT_NONE is upgraded. */
    petrel_ctx *ctx2 = server_ctx();
    assert_int_equal(petrel_ctx_set_verify_mode(ctx2, PETREL_CERT_OPTIONAL), PETREL_OK);
    assert_int_equal(petrel_ctx_set_check_hostname(ctx2, true), PETREL_OK);
    assert_int_equal(petrel_ctx_verify_mode(ctx2), PETREL_CERT_OPTIONAL);
    petrel_ctx_free(ctx);
    petrel_ctx_free(ctx2);
}

static void test_invalid_verify_mode(void **state)
{
    (void)state;
    petrel_ctx *ctx = server_ctx();
    assert_int_equal(petrel_ctx_set_verify_mode(ctx, (petrel_verify_mode)3), PETREL_ERR_MISUSE);
    assert_error(ctx, PETREL_ERR_MISUSE, "invalid verify mode 3");
    assert_int_equal(petrel_ctx_verify_mode(ctx), PETREL_CERT_NONE);
    petrel_ctx_free(ctx);
}

/* ---- versions ----------------------------------------------------------- */

static void test_old_versions_refused(void **state)
{
    (void)state;
    petrel_ctx *ctx = client_ctx();
    static const int old[] = {0x0300, 0x0301, 0x0302};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(petrel_ctx_set_minimum_version(ctx, old[i]), PETREL_ERR_MISUSE);
        assert_error(ctx, PETREL_ERR_MISUSE, "is not supported");
        assert_error(ctx, PETREL_ERR_MISUSE, "RFC 8996");
        assert_int_equal(petrel_ctx_set_maximum_version(ctx, old[i]), PETREL_ERR_MISUSE);
    }
    assert_error(ctx, PETREL_ERR_MISUSE, "TLSv1.1 is not supported");
    assert_int_equal(petrel_ctx_minimum_version(ctx), PETREL_TLS1_2);
    assert_int_equal(petrel_ctx_maximum_version(ctx), PETREL_TLS1_3);
    petrel_ctx_free(ctx);
}

static void test_unknown_versions_refused(void **state)
{
    (void)state;
    petrel_ctx *ctx = client_ctx();
    static const int bad[] = {0, 0x0305, 0x7f1c, -3, 0x0200, 0xfefd};
    for (size_t i = 0; i < PT_ARRAY_LEN(bad); i++) {
        assert_int_equal(petrel_ctx_set_minimum_version(ctx, bad[i]), PETREL_ERR_MISUSE);
        assert_error(ctx, PETREL_ERR_MISUSE, "unknown TLS version");
    }
    petrel_ctx_free(ctx);
}

static void test_versions_and_sentinels(void **state)
{
    (void)state;
    petrel_ctx *ctx = client_ctx();
    assert_int_equal(petrel_ctx_set_minimum_version(ctx, PETREL_TLS1_3), PETREL_OK);
    assert_int_equal(petrel_ctx_minimum_version(ctx), PETREL_TLS1_3);
    assert_int_equal(pt_ctx_min_version(ctx), PETREL_TLS1_3);

    assert_int_equal(petrel_ctx_set_minimum_version(ctx, PETREL_VERSION_MINIMUM_SUPPORTED),
                     PETREL_OK);
    assert_int_equal(petrel_ctx_minimum_version(ctx), PETREL_VERSION_MINIMUM_SUPPORTED);
    assert_int_equal(pt_ctx_min_version(ctx), PETREL_TLS1_2);

    assert_int_equal(petrel_ctx_set_maximum_version(ctx, PETREL_VERSION_MAXIMUM_SUPPORTED),
                     PETREL_OK);
    assert_int_equal(petrel_ctx_maximum_version(ctx), PETREL_VERSION_MAXIMUM_SUPPORTED);
    assert_int_equal(pt_ctx_max_version(ctx), PETREL_TLS1_3);

    /* Python allows either sentinel on either bound. */
    assert_int_equal(petrel_ctx_set_minimum_version(ctx, PETREL_VERSION_MAXIMUM_SUPPORTED),
                     PETREL_OK);
    assert_int_equal(pt_ctx_min_version(ctx), PETREL_TLS1_3);

    /* A minimum above the maximum is accepted here (each handshake fails). */
    assert_int_equal(petrel_ctx_set_maximum_version(ctx, PETREL_TLS1_2), PETREL_OK);
    assert_int_equal(pt_ctx_min_version(ctx), PETREL_TLS1_3);
    assert_int_equal(pt_ctx_max_version(ctx), PETREL_TLS1_2);
    petrel_ctx_free(ctx);
}

/* ---- security level, flags, PHA ----------------------------------------- */

static void test_security_level(void **state)
{
    (void)state;
    petrel_ctx *ctx = client_ctx();
    assert_int_equal(petrel_ctx_set_security_level(ctx, -1), PETREL_ERR_MISUSE);
    assert_error(ctx, PETREL_ERR_MISUSE, "between 0 and 5");
    assert_int_equal(petrel_ctx_set_security_level(ctx, 6), PETREL_ERR_MISUSE);
    assert_int_equal(petrel_ctx_security_level(ctx), 2);
    for (int level = 0; level <= 5; level++) {
        assert_int_equal(petrel_ctx_set_security_level(ctx, level), PETREL_OK);
        assert_int_equal(petrel_ctx_security_level(ctx), level);
    }
    petrel_ctx_free(ctx);
}

static void test_verify_flags(void **state)
{
    (void)state;
    petrel_ctx *ctx = client_ctx();
    unsigned long flags = PETREL_VERIFY_CRL_CHECK_CHAIN | PETREL_VERIFY_X509_STRICT |
                          PETREL_VERIFY_X509_PARTIAL_CHAIN;
    assert_int_equal(petrel_ctx_set_verify_flags(ctx, flags), PETREL_OK);
    assert_int_equal(petrel_ctx_verify_flags(ctx), flags);
    assert_int_equal(petrel_ctx_set_verify_flags(ctx, 0x1u), PETREL_ERR_MISUSE);
    assert_error(ctx, PETREL_ERR_MISUSE, "unknown verify flags 0x1");
    assert_int_equal(petrel_ctx_verify_flags(ctx), flags);
    assert_int_equal(petrel_ctx_set_verify_flags(ctx, 0), PETREL_OK);
    assert_int_equal(petrel_ctx_verify_flags(ctx), 0);
    petrel_ctx_free(ctx);
}

static void test_post_handshake_auth_and_cn(void **state)
{
    (void)state;
    petrel_ctx *ctx = client_ctx();
    assert_int_equal(petrel_ctx_set_post_handshake_auth(ctx, true), PETREL_OK);
    assert_true(petrel_ctx_post_handshake_auth(ctx));
    assert_int_equal(petrel_ctx_set_hostname_checks_common_name(ctx, false), PETREL_OK);
    assert_false(petrel_ctx_hostname_checks_common_name(ctx));
    petrel_ctx_free(ctx);
}

/* ---- lists ---------------------------------------------------------------- */

static void test_ciphersuites(void **state)
{
    (void)state;
    petrel_ctx *ctx = client_ctx();
    assert_int_equal(
        petrel_ctx_set_ciphersuites(ctx, "TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"),
        PETREL_OK);
    assert_int_equal(ctx->suites13_count, 2);
    assert_int_equal(ctx->suites13[0], 0x1303);
    assert_int_equal(ctx->suites13[1], 0x1301);

    assert_int_equal(petrel_ctx_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_999"),
                     PETREL_ERR_CONFIG);
    assert_error(ctx, PETREL_ERR_CONFIG, "'TLS_AES_999'");
    assert_int_equal(petrel_ctx_set_ciphersuites(ctx, ""), PETREL_ERR_CONFIG);
    assert_error(ctx, PETREL_ERR_CONFIG, "no TLS 1.3 cipher suite selected");
    assert_int_equal(petrel_ctx_set_ciphersuites(ctx, ":::"), PETREL_ERR_CONFIG);
    /* A TLS 1.2 suite is not a TLS 1.3 suite. */
    assert_int_equal(petrel_ctx_set_ciphersuites(ctx, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
                     PETREL_ERR_CONFIG);
    assert_int_equal(petrel_ctx_set_ciphersuites(ctx, NULL), PETREL_ERR_MISUSE);
    /* Failures leave the previous list. */
    assert_int_equal(ctx->suites13_count, 2);
    assert_int_equal(ctx->suites13[0], 0x1303);

    /* Duplicates collapse, order is kept. */
    assert_int_equal(petrel_ctx_set_ciphersuites(ctx,
                                                 "TLS_AES_256_GCM_SHA384:TLS_AES_256_GCM_SHA384:"
                                                 "TLS_AES_128_GCM_SHA256"),
                     PETREL_OK);
    assert_int_equal(ctx->suites13_count, 2);
    assert_int_equal(ctx->suites13[0], 0x1302);
    petrel_ctx_free(ctx);
}

static void test_ciphers12(void **state)
{
    (void)state;
    petrel_ctx *ctx = client_ctx();
    assert_int_equal(petrel_ctx_set_ciphers(ctx, "ECDHE-RSA-AES128-GCM-SHA256:"
                                                 "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
                     PETREL_OK);
    assert_int_equal(ctx->suites12_count, 2);
    assert_int_equal(ctx->suites12[0], 0xc02f);
    assert_int_equal(ctx->suites12[1], 0xcca9);
    assert_int_equal(petrel_ctx_set_ciphers(ctx, "AES128-SHA"), PETREL_ERR_CONFIG);
    assert_error(ctx, PETREL_ERR_CONFIG,
                 "unknown or unsupported TLS 1.2 cipher suite 'AES128-SHA'");
    assert_int_equal(petrel_ctx_set_ciphers(ctx, "TLS_AES_128_GCM_SHA256"), PETREL_ERR_CONFIG);
    assert_int_equal(ctx->suites12_count, 2);
    petrel_ctx_free(ctx);
}

static void test_groups(void **state)
{
    (void)state;
    petrel_ctx *ctx = client_ctx();
    assert_int_equal(petrel_ctx_set_groups(ctx, "P-384:prime256v1"), PETREL_OK);
    assert_int_equal(ctx->groups_count, 2);
    assert_int_equal(ctx->groups[0], 0x0018);
    assert_int_equal(ctx->groups[1], 0x0017);
    assert_int_equal(petrel_ctx_set_groups(ctx, "X25519:P-256:secp256r1"), PETREL_OK);
    assert_int_equal(ctx->groups_count, 2);
    assert_int_equal(ctx->groups[0], 0x001d);
    assert_int_equal(petrel_ctx_set_groups(ctx, "x25519:ffdhe2048"), PETREL_ERR_CONFIG);
    assert_error(ctx, PETREL_ERR_CONFIG, "unknown or unsupported group 'ffdhe2048'");
    assert_int_equal(petrel_ctx_set_groups(ctx, ""), PETREL_ERR_CONFIG);
    assert_error(ctx, PETREL_ERR_CONFIG, "no group selected");
    assert_int_equal(ctx->groups_count, 2);
    petrel_ctx_free(ctx);
}

static void test_alpn(void **state)
{
    (void)state;
    petrel_ctx *ctx = client_ctx();
    const char *protos[] = {"h2", "http/1.1"};
    assert_int_equal(petrel_ctx_set_alpn_protocols(ctx, protos, 2), PETREL_OK);
    assert_int_equal(ctx->alpn_len, 12);
    assert_memory_equal(ctx->alpn, "\x02h2\x08http/1.1", 12);

    char long_name[257];
    memset(long_name, 'a', 256);
    long_name[256] = '\0';
    const char *bad[] = {"h2", long_name};
    assert_int_equal(petrel_ctx_set_alpn_protocols(ctx, bad, 2), PETREL_ERR_MISUSE);
    assert_error(ctx, PETREL_ERR_MISUSE, "1 to 255 bytes");
    const char *empty[] = {""};
    assert_int_equal(petrel_ctx_set_alpn_protocols(ctx, empty, 1), PETREL_ERR_MISUSE);
    assert_int_equal(ctx->alpn_len, 12);

    long_name[255] = '\0';
    const char *max[] = {long_name};
    assert_int_equal(petrel_ctx_set_alpn_protocols(ctx, max, 1), PETREL_OK);
    assert_int_equal(ctx->alpn_len, 256);
    assert_int_equal(petrel_ctx_set_alpn_protocols(ctx, NULL, 0), PETREL_OK);
    assert_int_equal(ctx->alpn_len, 0);
    petrel_ctx_free(ctx);
}

/* ---- loading -------------------------------------------------------------- */

static void test_load_cert_chain_missing_file(void **state)
{
    (void)state;
    petrel_ctx *ctx = server_ctx();
    const char *missing = "/nonexistent/petrel/cert.pem";
    assert_int_equal(petrel_ctx_load_cert_chain(ctx, missing, NULL, NULL, NULL), PETREL_ERR_CONFIG);
    assert_error(ctx, PETREL_ERR_CONFIG, missing);
    assert_null(ctx->cred);
    assert_int_equal(petrel_ctx_load_cert_chain(ctx, NULL, NULL, NULL, NULL), PETREL_ERR_MISUSE);
    petrel_ctx_free(ctx);
}

static void test_load_cert_chain_mismatched_key(void **state)
{
    (void)state;
    petrel_ctx *ctx = server_ctx();
    assert_int_equal(petrel_ctx_load_cert_chain(ctx, pki("server-p256-chain.pem"),
                                                pki("client-p256.key"), NULL, NULL),
                     PETREL_ERR_CONFIG);
    assert_int_equal(petrel_ctx_error(ctx)->status, PETREL_ERR_CONFIG);
    assert_true(strlen(petrel_ctx_error(ctx)->message) > 0);
    assert_null(ctx->cred);

    assert_int_equal(petrel_ctx_load_cert_chain(ctx, pki("server-p256-chain.pem"),
                                                pki("server-p256.key"), NULL, NULL),
                     PETREL_OK);
    assert_non_null(ctx->cred);
    assert_int_equal(petrel_ctx_error(ctx)->status, PETREL_OK);
    /* A failed reload keeps the credential already loaded. */
    assert_int_equal(
        petrel_ctx_load_cert_chain(ctx, pki("server-p384.pem"), pki("server-p256.key"), NULL, NULL),
        PETREL_ERR_CONFIG);
    assert_non_null(ctx->cred);
    petrel_ctx_free(ctx);
}

static void test_load_cert_chain_weak_key(void **state)
{
    (void)state;
    petrel_ctx *ctx = server_ctx();
    assert_int_equal(
        petrel_ctx_load_cert_chain(ctx, pki("rsa1024-chain.pem"), pki("rsa1024.key"), NULL, NULL),
        PETREL_ERR_CONFIG);
    assert_error(ctx, PETREL_ERR_CONFIG, "80 bits of security, security level 2 needs 112");
    assert_null(ctx->cred);
    assert_int_equal(petrel_ctx_set_security_level(ctx, 1), PETREL_OK);
    assert_int_equal(
        petrel_ctx_load_cert_chain(ctx, pki("rsa1024-chain.pem"), pki("rsa1024.key"), NULL, NULL),
        PETREL_OK);
    assert_non_null(ctx->cred);
    petrel_ctx_free(ctx);
}

static void test_load_verify_locations(void **state)
{
    (void)state;
    petrel_ctx *ctx = client_ctx();
    assert_int_equal(petrel_ctx_load_verify_locations(ctx, NULL, NULL, NULL, 0), PETREL_ERR_MISUSE);
    assert_error(ctx, PETREL_ERR_MISUSE, "cannot all be omitted");
    assert_int_equal(petrel_ctx_load_verify_locations(ctx, pki("ca.pem"), NULL, NULL, 0),
                     PETREL_OK);
    assert_int_equal(pt_store_cert_count(ctx->store), 1);
    assert_int_not_equal(
        petrel_ctx_load_verify_locations(ctx, "/nonexistent/petrel/ca.pem", NULL, NULL, 0),
        PETREL_OK);
    assert_true(strlen(petrel_ctx_error(ctx)->message) > 0);
    petrel_ctx_free(ctx);
}

/* ---- limits ----------------------------------------------------------------- */

static void test_limits(void **state)
{
    (void)state;
    petrel_ctx *ctx = server_ctx();
    petrel_limits set = {.max_cert_chain_len = 3, .max_buffered_plaintext = 4096};
    assert_int_equal(petrel_ctx_set_limits(ctx, &set), PETREL_OK);
    petrel_limits got;
    petrel_ctx_limits(ctx, &got);
    assert_int_equal(got.max_handshake_message, 65536);
    assert_int_equal(got.max_cert_chain_len, 3);
    assert_int_equal(got.max_cert_chain_bytes, 102400);
    assert_int_equal(got.max_buffered_plaintext, 4096);

    petrel_limits huge = {.max_handshake_message = 0x1000000};
    assert_int_equal(petrel_ctx_set_limits(ctx, &huge), PETREL_ERR_MISUSE);
    assert_error(ctx, PETREL_ERR_MISUSE, "max_handshake_message");
    petrel_limits edge = {.max_handshake_message = 0xffffff};
    assert_int_equal(petrel_ctx_set_limits(ctx, &edge), PETREL_OK);
    assert_int_equal(petrel_ctx_set_limits(ctx, NULL), PETREL_ERR_MISUSE);
    petrel_ctx_limits(ctx, &got);
    assert_int_equal(got.max_handshake_message, 0xffffff);
    assert_int_equal(got.max_cert_chain_len, 3);
    petrel_ctx_free(ctx);
}

/* ---- connections: hostname rule, freezing, references ------------------- */

static void test_check_hostname_requires_server_hostname(void **state)
{
    (void)state;
    petrel_ctx *ctx = client_ctx();
    assert_null(petrel_conn_new(ctx, NULL));
    assert_error(ctx, PETREL_ERR_MISUSE, "check_hostname requires server_hostname");
    assert_null(petrel_conn_new(ctx, ""));
    assert_null(petrel_conn_new(ctx, ".example"));
    /* The failed attempts did not freeze the context. */
    assert_int_equal(petrel_ctx_set_check_hostname(ctx, false), PETREL_OK);
    petrel_conn *conn = petrel_conn_new(ctx, NULL);
    assert_non_null(conn);
    assert_null(petrel_conn_server_hostname(conn));
    petrel_conn_free(conn);

    petrel_ctx *srv = server_ctx();
    assert_null(petrel_conn_new(srv, "localhost"));
    assert_error(srv, PETREL_ERR_MISUSE, "client");
    petrel_ctx_free(srv);
    petrel_ctx_free(ctx);
}

static void test_frozen_after_first_connection(void **state)
{
    (void)state;
    petrel_ctx *ctx = client_ctx();
    assert_int_equal(petrel_ctx_set_security_level(ctx, 1), PETREL_OK);
    petrel_conn *conn = petrel_conn_new(ctx, "localhost");
    assert_non_null(conn);
    assert_ptr_equal(petrel_conn_context(conn), ctx);
    assert_string_equal(petrel_conn_server_hostname(conn), "localhost");
    assert_int_equal(petrel_conn_role(conn), PETREL_CLIENT);
    assert_false(petrel_conn_handshake_done(conn));
    assert_null(petrel_conn_cipher(conn));
    assert_null(petrel_conn_version_name(conn));
    assert_int_equal(petrel_conn_version(conn), 0);
    assert_false(petrel_conn_has_peer_cert(conn));

    const char *frozen = "context is in use by connections; configure it before creating the "
                         "first connection";
    assert_int_equal(petrel_ctx_set_security_level(ctx, 3), PETREL_ERR_MISUSE);
    assert_string_equal(petrel_ctx_error(ctx)->message, frozen);
    assert_int_equal(petrel_ctx_security_level(ctx), 1);
    assert_int_equal(petrel_ctx_set_minimum_version(ctx, PETREL_TLS1_3), PETREL_ERR_MISUSE);
    assert_int_equal(petrel_ctx_set_check_hostname(ctx, false), PETREL_ERR_MISUSE);
    assert_int_equal(petrel_ctx_set_verify_mode(ctx, PETREL_CERT_OPTIONAL), PETREL_ERR_MISUSE);
    assert_int_equal(petrel_ctx_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256"), PETREL_ERR_MISUSE);
    assert_int_equal(petrel_ctx_set_groups(ctx, "x25519"), PETREL_ERR_MISUSE);
    assert_int_equal(petrel_ctx_set_post_handshake_auth(ctx, true), PETREL_ERR_MISUSE);
    assert_int_equal(petrel_ctx_load_verify_locations(ctx, pki("ca.pem"), NULL, NULL, 0),
                     PETREL_ERR_MISUSE);
    assert_string_equal(petrel_ctx_error(ctx)->message, frozen);
    assert_int_equal(ctx->groups_count, 3);

    /* More connections may still be made, and the context outlives the
     * caller's reference while connections hold theirs. */
    petrel_conn *second = petrel_conn_new(ctx, "localhost");
    assert_non_null(second);
    petrel_ctx_free(ctx);
    assert_int_equal(petrel_ctx_security_level(petrel_conn_context(second)), 1);
    petrel_conn_free(conn);
    petrel_conn_free(second);
}

static void test_refcount(void **state)
{
    (void)state;
    petrel_ctx *ctx = client_ctx();
    petrel_ctx_up_ref(ctx);
    assert_int_equal(atomic_load(&ctx->refs), 2);
    petrel_ctx_free(ctx);
    assert_int_equal(atomic_load(&ctx->refs), 1);
    assert_int_equal(petrel_ctx_security_level(ctx), 2);
    petrel_ctx_free(ctx);
    petrel_ctx_free(NULL);
    petrel_conn_free(NULL);
}

static void test_null_arguments(void **state)
{
    (void)state;
    assert_int_equal(petrel_ctx_set_security_level(NULL, 2), PETREL_ERR_MISUSE);
    assert_int_equal(petrel_ctx_set_verify_mode(NULL, PETREL_CERT_NONE), PETREL_ERR_MISUSE);
    assert_int_equal(petrel_ctx_error(NULL)->status, PETREL_ERR_MISUSE);
    assert_null(petrel_conn_new(NULL, "localhost"));
}

/* ---- key log ------------------------------------------------------------- */

static void test_keylog_file(void **state)
{
    (void)state;
    char path[] = "/tmp/petrel-keylog-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    petrel_ctx *ctx = client_ctx();
    assert_int_equal(petrel_ctx_set_keylog_file(ctx, path), PETREL_OK);
    pt_ctx_keylog(ctx, NULL, "CLIENT_RANDOM aa bb");
    pt_ctx_keylog(ctx, NULL, "SERVER_TRAFFIC_SECRET_0 cc dd");
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char buf[128] = {0};
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    assert_int_equal(n, strlen("CLIENT_RANDOM aa bb\nSERVER_TRAFFIC_SECRET_0 cc dd\n"));
    assert_string_equal(buf, "CLIENT_RANDOM aa bb\nSERVER_TRAFFIC_SECRET_0 cc dd\n");

    assert_int_equal(petrel_ctx_set_keylog_file(ctx, "/nonexistent/dir/keylog"), PETREL_ERR_CONFIG);
    assert_error(ctx, PETREL_ERR_CONFIG, "cannot open key log file '/nonexistent/dir/keylog'");
    assert_int_equal(petrel_ctx_set_keylog_file(ctx, NULL), PETREL_OK);
    assert_null(ctx->keylog_path);
    petrel_ctx_free(ctx);
    unlink(path);
}

static int keylog_calls;
static void count_keylog(const petrel_conn *conn, const char *line, void *userdata)
{
    (void)conn;
    assert_string_equal(line, "X y z");
    assert_ptr_equal(userdata, &keylog_calls);
    keylog_calls++;
}

static void test_keylog_callback(void **state)
{
    (void)state;
    petrel_ctx *ctx = client_ctx();
    petrel_ctx_set_keylog_callback(ctx, count_keylog, &keylog_calls);
    keylog_calls = 0;
    pt_ctx_keylog(ctx, NULL, "X y z");
    assert_int_equal(keylog_calls, 1);
    petrel_ctx_free(ctx);
}

/* ---- names ------------------------------------------------------------------ */

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(pt_suite_name(0x1301), "TLS_AES_128_GCM_SHA256");
    assert_string_equal(pt_suite_name(0x1302), "TLS_AES_256_GCM_SHA384");
    assert_string_equal(pt_suite_name(0x1303), "TLS_CHACHA20_POLY1305_SHA256");
    assert_string_equal(pt_suite_name(0xc02b), "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    assert_string_equal(pt_suite_name(0xcca8), "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
    assert_string_equal(pt_suite_name(0x002f), "unknown");
    assert_string_equal(pt_group_name(0x001d), "x25519");
    assert_string_equal(pt_group_name(0x0017), "secp256r1");
    assert_string_equal(pt_group_name(0x0018), "secp384r1");
    assert_string_equal(pt_sigalg_name(0x0403), "ecdsa_secp256r1_sha256");
    assert_string_equal(pt_sigalg_name(0x0804), "rsa_pss_rsae_sha256");
    assert_string_equal(pt_sigalg_name(0x0807), "ed25519");
    assert_string_equal(pt_version_name(0x0303), "TLSv1.2");
    assert_string_equal(pt_version_name(0x0304), "TLSv1.3");
    assert_string_equal(pt_version_name(-1), "unknown");

    uint16_t code = 0;
    assert_true(pt_sigalg_by_name("rsa_pss_pss_sha384", 18, &code));
    assert_int_equal(code, 0x080a);
    assert_true(pt_group_by_name("P-256xyz", 5, &code));
    assert_int_equal(code, 0x0017);
    assert_false(pt_group_by_name("P-25", 4, &code));
    assert_true(pt_suite_by_name("ECDHE-ECDSA-AES256-GCM-SHA384", 29, &code));
    assert_int_equal(code, 0xc02c);
    assert_true(pt_suite_is_tls13(0x1303));
    assert_false(pt_suite_is_tls13(0xc02c));

    assert_string_equal(petrel_status_name(PETREL_ERR_WANT_READ), "WANT_READ");
    assert_string_equal(petrel_status_name(PETREL_ERR_CERT_VERIFY), "CERT_VERIFY");
    assert_string_equal(petrel_status_name((petrel_status)99), "unknown");
    assert_string_equal(petrel_alert_name(PETREL_ALERT_CERTIFICATE_REQUIRED),
                        "certificate_required");
    assert_string_equal(petrel_alert_name(PETREL_ALERT_NO_APPLICATION_PROTOCOL),
                        "no_application_protocol");
    assert_string_equal(petrel_alert_name(0), "close_notify");
    assert_string_equal(petrel_alert_name(255), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_defaults),
        cmocka_unit_test(test_server_defaults),
        cmocka_unit_test(test_default_lists),
        cmocka_unit_test(test_default_limits),
        cmocka_unit_test(test_bad_role),
        cmocka_unit_test(test_cert_none_refused_while_check_hostname),
        cmocka_unit_test(test_check_hostname_upgrades_cert_none),
        cmocka_unit_test(test_invalid_verify_mode),
        cmocka_unit_test(test_old_versions_refused),
        cmocka_unit_test(test_unknown_versions_refused),
        cmocka_unit_test(test_versions_and_sentinels),
        cmocka_unit_test(test_security_level),
        cmocka_unit_test(test_verify_flags),
        cmocka_unit_test(test_post_handshake_auth_and_cn),
        cmocka_unit_test(test_ciphersuites),
        cmocka_unit_test(test_ciphers12),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_alpn),
        cmocka_unit_test(test_load_cert_chain_missing_file),
        cmocka_unit_test(test_load_cert_chain_mismatched_key),
        cmocka_unit_test(test_load_cert_chain_weak_key),
        cmocka_unit_test(test_load_verify_locations),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_check_hostname_requires_server_hostname),
        cmocka_unit_test(test_frozen_after_first_connection),
        cmocka_unit_test(test_refcount),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_keylog_file),
        cmocka_unit_test(test_keylog_callback),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
