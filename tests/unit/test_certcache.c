/*
 * test_certcache.c - the shared cache of parsed certificates: a hit returns
 * the same object, and the cache never changes what parses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/pem.h>

#include "crypto/ossl.h"

/* DER of the first certificate of a PKI file, malloc'ed. */
static uint8_t *load_der(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", getenv("PETREL_TEST_DATA"), name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    uint8_t *der = NULL;
    int n = i2d_X509(x, &der);
    assert_true(n > 0);
    X509_free(x);
    uint8_t *copy = malloc((size_t)n + 1);
    memcpy(copy, der, (size_t)n);
    OPENSSL_free(der);
    *len = (size_t)n;
    return copy;
}

static void test_hit_returns_same_object(void **state)
{
    size_t len;
    uint8_t *der = load_der("server-p256.pem", &len);
    X509 *a = pt_cert_cache_parse(der, len);
    X509 *b = pt_cert_cache_parse(der, len);
    assert_non_null(a);
    assert_ptr_equal(a, b);
    size_t len2;
    uint8_t *der2 = load_der("int-ca.pem", &len2);
    X509 *c = pt_cert_cache_parse(der2, len2);
    assert_non_null(c);
    assert_ptr_not_equal(a, c);
    X509_free(a);
    X509_free(b);
    X509_free(c);
    free(der);
    free(der2);
}

static void test_cache_keeps_exactness(void **state)
{
    size_t len;
    uint8_t *der = load_der("server-p256.pem", &len);
    X509 *a = pt_cert_cache_parse(der, len);
    assert_non_null(a);
    /* The same bytes plus one: trailing data is refused even when the
     * prefix is cached. */
    der[len] = 0;
    assert_null(pt_cert_cache_parse(der, len + 1));
    /* One changed byte in the signature is a different certificate. */
    der[len - 1] ^= 1;
    X509 *b = pt_cert_cache_parse(der, len);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    assert_null(pt_cert_cache_parse(der, 10));
    X509_free(a);
    X509_free(b);
    free(der);
}

/* More certificates than slots: older ones are evicted and still parse. */
static void test_eviction(void **state)
{
    size_t len;
    uint8_t *der = load_der("server-p256.pem", &len);
    X509 *first = pt_cert_cache_parse(der, len);
    for (int i = 0; i < 40; i++) {
        der[len - 1] = (uint8_t)i;
        X509 *x = pt_cert_cache_parse(der, len);
        assert_non_null(x);
        X509_free(x);
    }
    X509_free(first);
    free(der);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_returns_same_object),
        cmocka_unit_test(test_cache_keeps_exactness),
        cmocka_unit_test(test_eviction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
