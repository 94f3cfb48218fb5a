/*
 * pair.c - in-memory client/server pairs for the in-process tests.
 */
#include "pair.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

const char *pki(const char *name)
{
    static char slots[8][512];
    static int next;
    const char *dir = getenv("PETREL_TEST_DATA");
    if (dir == NULL) {
        fail_msg("PETREL_TEST_DATA is not set; run the tests through ctest");
    }
    char *out = slots[next++ % 8];
    snprintf(out, sizeof(slots[0]), "%s/%s", dir, name);
    return out;
}

petrel_ctx *server_ctx(const char *leaf)
{
    char chain[128];
    char key[128];
    snprintf(chain, sizeof(chain), "%s-chain.pem", leaf);
    snprintf(key, sizeof(key), "%s.key", leaf);
    petrel_ctx *ctx = petrel_ctx_new(PETREL_SERVER);
    assert_non_null(ctx);
    petrel_status st = petrel_ctx_load_cert_chain(ctx, pki(chain), pki(key), NULL, NULL);
    if (st != PETREL_OK) {
        fail_msg("load_cert_chain: %s", petrel_ctx_error(ctx)->message);
    }
    st = petrel_ctx_load_verify_locations(ctx, pki("ca.pem"), NULL, NULL, 0);
    assert_int_equal(st, PETREL_OK);
    return ctx;
}

petrel_ctx *client_ctx(void)
{
    petrel_ctx *ctx = petrel_ctx_new(PETREL_CLIENT);
    assert_non_null(ctx);
    petrel_status st = petrel_ctx_load_verify_locations(ctx, pki("ca.pem"), NULL, NULL, 0);
    if (st != PETREL_OK) {
        fail_msg("load_verify_locations: %s", petrel_ctx_error(ctx)->message);
    }
    return ctx;
}

pair pair_new(petrel_ctx *cctx, petrel_ctx *sctx)
{
    pair p;
    p.c = petrel_conn_new(cctx, "localhost");
    p.s = petrel_conn_new(sctx, NULL);
    assert_non_null(p.c);
    assert_non_null(p.s);
    return p;
}

void pair_free(pair *p)
{
    petrel_conn_free(p->c);
    petrel_conn_free(p->s);
}

size_t pair_move(petrel_conn *from, petrel_conn *to)
{
    size_t total = 0;
    for (;;) {
        size_t len = 0;
        const uint8_t *out = petrel_conn_output_peek(from, &len);
        if (len == 0) {
            return total;
        }
        size_t used = 0;
        petrel_status st = petrel_conn_feed(to, out, len, &used);
        if (st != PETREL_OK) {
            /* Only a receiver that has already failed refuses input. */
            assert_int_equal(st, petrel_conn_error(to)->status);
            assert_int_not_equal(st, PETREL_ERR_MISUSE);
            return total;
        }
        if (used == 0) {
            /* The receiver holds all it may: the rest waits at the sender. */
            return total;
        }
        petrel_conn_output_consume(from, used);
        total += used;
    }
}

static bool settled(petrel_status st)
{
    return st != PETREL_ERR_WANT_READ && st != PETREL_ERR_WANT_WRITE;
}

petrel_status pair_handshake(pair *p, petrel_status *server_status)
{
    petrel_status cs = PETREL_ERR_WANT_READ;
    petrel_status ss = PETREL_ERR_WANT_READ;
    for (int i = 0; i < 50; i++) {
        if (!settled(cs)) {
            cs = petrel_conn_do_handshake(p->c);
        }
        size_t moved = pair_move(p->c, p->s);
        if (!settled(ss)) {
            ss = petrel_conn_do_handshake(p->s);
        }
        moved += pair_move(p->s, p->c);
        if (settled(cs) && settled(ss) && moved == 0) {
            break;
        }
        if (moved == 0 && !settled(cs) && !settled(ss)) {
            fail_msg("handshake stalled: both sides want input");
        }
    }
    if (server_status != NULL) {
        *server_status = ss;
    }
    return cs;
}

void pair_handshake_ok(pair *p)
{
    petrel_status ss;
    petrel_status cs = pair_handshake(p, &ss);
    if (cs != PETREL_OK || ss != PETREL_OK) {
        fail_msg("handshake failed: client %s (%s), server %s (%s)", petrel_status_name(cs),
                 petrel_conn_error(p->c)->message, petrel_status_name(ss),
                 petrel_conn_error(p->s)->message);
    }
}

void pair_exchange(pair *p, petrel_conn *from, petrel_conn *to, const void *data, size_t len)
{
    size_t written = 0;
    petrel_status st = petrel_conn_write(from, data, len, &written);
    assert_int_equal(st, PETREL_OK);
    assert_int_equal(written, len);
    pair_move(from, to);
    uint8_t *got = malloc(len);
    assert_non_null(got);
    size_t have = 0;
    while (have < len) {
        size_t n = 0;
        st = petrel_conn_read(to, got + have, len - have, &n);
        if (st == PETREL_ERR_WANT_READ) {
            /* a reply (KeyUpdate, PHA answer) may have to travel first */
            size_t moved = pair_move(to, from) + pair_move(from, to);
            assert_true(moved > 0);
            continue;
        }
        assert_int_equal(st, PETREL_OK);
        have += n;
    }
    assert_memory_equal(got, data, len);
    free(got);
}

void pair_pump(pair *p, int rounds)
{
    for (int i = 0; i < rounds; i++) {
        petrel_status st = petrel_conn_process(p->c);
        (void)st;
        pair_move(p->c, p->s);
        st = petrel_conn_process(p->s);
        (void)st;
        pair_move(p->s, p->c);
    }
}
