/*
 * test_cli_args.c - the petrel command's options and the context they
 * build: one option per setting, --ciphers split by protocol version, and
 * refusals reported with the option's name and the library's sentence.
 *
 * The command's option parser is compiled into this test directly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../tools/petrel/options.c"

#include "api/ctx.h"

/* The command's reporting helpers, capturing the last line instead of
 * printing it. */
static char last_failure[512];

int tool_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_failure, sizeof(last_failure), fmt, ap);
    va_end(ap);
    return 1;
}

int tool_fail_error(const char *what, const petrel_error *err)
{
    return tool_fail("%s: %s", what, err->message);
}

static opts_result parse(petrel_role role, tool_opts *o, const char *const *args)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = role == PETREL_CLIENT ? "client" : "server";
    for (size_t i = 0; args[i] != NULL; i++) {
        argv[argc++] = (char *)args[i];
    }
    argv[argc] = NULL;
    last_failure[0] = '\0';
    return opts_parse(argc, argv, role, o);
}

static petrel_ctx *client_from(const char *const *args)
{
    tool_opts o;
    assert_int_equal(parse(PETREL_CLIENT, &o, args), OPTS_OK);
    return opts_make_ctx(&o, PETREL_CLIENT);
}

static void test_client_defaults_untouched(void **state)
{
    (void)state;
    const char *args[] = {"127.0.0.1:443", NULL};
    tool_opts o;
    assert_int_equal(parse(PETREL_CLIENT, &o, args), OPTS_OK);
    assert_string_equal(o.target, "127.0.0.1:443");
    petrel_ctx *ctx = opts_make_ctx(&o, PETREL_CLIENT);
    assert_non_null(ctx);
    assert_int_equal(petrel_ctx_verify_mode(ctx), PETREL_CERT_REQUIRED);
    assert_true(petrel_ctx_check_hostname(ctx));
    assert_int_equal(petrel_ctx_security_level(ctx), 2);
    assert_int_equal(ctx->suites13_count, 3);
    assert_int_equal(ctx->suites12_count, 6);
    petrel_ctx_free(ctx);
}

static void test_each_setting(void **state)
{
    (void)state;
    const char *args[] = {"--min-version",
                          "1.3",
                          "--max-version",
                          "1.3",
                          "--no-check-hostname",
                          "--verify-mode",
                          "optional",
                          "--no-hostname-cn",
                          "--verify-flag",
                          "x509-strict",
                          "--verify-flag",
                          "partial-chain",
                          "--security-level",
                          "3",
                          "--groups",
                          "P-384:x25519",
                          "--alpn",
                          "h2,http/1.1",
                          "--post-handshake-auth",
                          "localhost:8443",
                          NULL};
    petrel_ctx *ctx = client_from(args);
    assert_non_null(ctx);
    assert_int_equal(petrel_ctx_minimum_version(ctx), PETREL_TLS1_3);
    assert_int_equal(petrel_ctx_maximum_version(ctx), PETREL_TLS1_3);
    assert_false(petrel_ctx_check_hostname(ctx));
    assert_int_equal(petrel_ctx_verify_mode(ctx), PETREL_CERT_OPTIONAL);
    assert_false(petrel_ctx_hostname_checks_common_name(ctx));
    /* Flags are added to the default trusted-first. */
    assert_int_equal(petrel_ctx_verify_flags(ctx), PETREL_VERIFY_X509_TRUSTED_FIRST |
                                                       PETREL_VERIFY_X509_STRICT |
                                                       PETREL_VERIFY_X509_PARTIAL_CHAIN);
    assert_int_equal(petrel_ctx_security_level(ctx), 3);
    assert_int_equal(ctx->groups_count, 2);
    assert_int_equal(ctx->groups[0], 0x0018);
    assert_int_equal(ctx->alpn_len, 12);
    assert_memory_equal(ctx->alpn, "\x02h2\x08http/1.1", 12);
    assert_true(petrel_ctx_post_handshake_auth(ctx));
    petrel_ctx_free(ctx);
}

static void test_ciphers_split_by_version(void **state)
{
    (void)state;
    const char *args[] = {"--ciphers",
                          "TLS_CHACHA20_POLY1305_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:"
                          "TLS_AES_128_GCM_SHA256",
                          "127.0.0.1:1", NULL};
    petrel_ctx *ctx = client_from(args);
    assert_non_null(ctx);
    assert_int_equal(ctx->suites13_count, 2);
    assert_int_equal(ctx->suites13[0], 0x1303);
    assert_int_equal(ctx->suites13[1], 0x1301);
    assert_int_equal(ctx->suites12_count, 1);
    assert_int_equal(ctx->suites12[0], 0xc02b);
    petrel_ctx_free(ctx);

    /* Only TLS 1.3 names: the TLS 1.2 list keeps its defaults. */
    const char *only13[] = {"--ciphers", "TLS_AES_256_GCM_SHA384", "127.0.0.1:1", NULL};
    ctx = client_from(only13);
    assert_non_null(ctx);
    assert_int_equal(ctx->suites13_count, 1);
    assert_int_equal(ctx->suites12_count, 6);
    petrel_ctx_free(ctx);
}

static void test_unknown_cipher_named(void **state)
{
    (void)state;
    const char *args[] = {"--ciphers", "TLS_AES_128_GCM_SHA256:RC4-MD5", "127.0.0.1:1", NULL};
    assert_null(client_from(args));
    assert_non_null(strstr(last_failure, "--ciphers"));
    assert_non_null(strstr(last_failure, "'RC4-MD5'"));
}

static void test_python_rule_reported(void **state)
{
    (void)state;
    const char *args[] = {"--verify-mode", "none", "127.0.0.1:1", NULL};
    assert_null(client_from(args));
    assert_string_equal(last_failure, "--verify-mode: Cannot set verify_mode to CERT_NONE when "
                                      "check_hostname is enabled.");
    const char *ok[] = {"--verify-mode", "none", "--no-check-hostname", "127.0.0.1:1", NULL};
    petrel_ctx *ctx = client_from(ok);
    assert_non_null(ctx);
    assert_int_equal(petrel_ctx_verify_mode(ctx), PETREL_CERT_NONE);
    petrel_ctx_free(ctx);
}

static void test_bad_values_refused(void **state)
{
    (void)state;
    tool_opts o;
    const char *v11[] = {"--min-version", "1.1", "127.0.0.1:1", NULL};
    assert_int_equal(parse(PETREL_CLIENT, &o, v11), OPTS_BAD);
    assert_non_null(strstr(last_failure, "--min-version 1.1"));
    const char *mode[] = {"--verify-mode", "sometimes", "127.0.0.1:1", NULL};
    assert_int_equal(parse(PETREL_CLIENT, &o, mode), OPTS_BAD);
    const char *flag[] = {"--verify-flag", "crl-check-everything", "127.0.0.1:1", NULL};
    assert_int_equal(parse(PETREL_CLIENT, &o, flag), OPTS_BAD);
    const char *level[] = {"--security-level", "two", "127.0.0.1:1", NULL};
    assert_int_equal(parse(PETREL_CLIENT, &o, level), OPTS_BAD);

    /* A parsed level out of range is refused by the library. */
    const char *high[] = {"--security-level", "9", "127.0.0.1:1", NULL};
    assert_null(client_from(high));
    assert_non_null(strstr(last_failure, "--security-level: security level 9"));
}

static void test_positionals_and_roles(void **state)
{
    (void)state;
    tool_opts o;
    const char *none[] = {NULL};
    assert_int_equal(parse(PETREL_CLIENT, &o, none), OPTS_BAD);
    const char *two[] = {"a:1", "b:2", NULL};
    assert_int_equal(parse(PETREL_CLIENT, &o, two), OPTS_BAD);
    const char *server_only[] = {"--once", "127.0.0.1:1", NULL};
    assert_int_equal(parse(PETREL_CLIENT, &o, server_only), OPTS_BAD);
    assert_non_null(strstr(last_failure, "not a client option"));

    const char *no_listen[] = {"--cert", "c.pem", NULL};
    assert_int_equal(parse(PETREL_SERVER, &o, no_listen), OPTS_BAD);
    const char *pha_path[] = {"--listen", "127.0.0.1:0", "--pha-path", "/x", NULL};
    assert_int_equal(parse(PETREL_SERVER, &o, pha_path), OPTS_BAD);
    assert_non_null(strstr(last_failure, "--pha-path needs --http"));

    const char *server[] = {"--listen", "127.0.0.1:0", "--http", "--pha-path",
                            "/secret",  "--once",      NULL};
    assert_int_equal(parse(PETREL_SERVER, &o, server), OPTS_OK);
    assert_string_equal(o.listen, "127.0.0.1:0");
    assert_int_equal(o.mode, SERVE_HTTP);
    assert_string_equal(o.pha_path, "/secret");
    assert_true(o.once);
    const char *commands[] = {"--listen", "[::1]:0", "--commands", NULL};
    assert_int_equal(parse(PETREL_SERVER, &o, commands), OPTS_OK);
    assert_int_equal(o.mode, SERVE_COMMANDS);
}

static void test_key_without_cert(void **state)
{
    (void)state;
    const char *args[] = {"--key", "k.pem", "127.0.0.1:1", NULL};
    assert_null(client_from(args));
    assert_non_null(strstr(last_failure, "--key needs --cert"));
    const char *missing[] = {"--cafile", "/nonexistent/petrel/ca.pem", "127.0.0.1:1", NULL};
    assert_null(client_from(missing));
    assert_non_null(strstr(last_failure, "--cafile"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_defaults_untouched),
        cmocka_unit_test(test_each_setting),
        cmocka_unit_test(test_ciphers_split_by_version),
        cmocka_unit_test(test_unknown_cipher_named),
        cmocka_unit_test(test_python_rule_reported),
        cmocka_unit_test(test_bad_values_refused),
        cmocka_unit_test(test_positionals_and_roles),
        cmocka_unit_test(test_key_without_cert),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
