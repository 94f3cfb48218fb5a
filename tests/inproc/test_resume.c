/*
 * test_resume.c - TLS 1.3 session resumption with PSK-(EC)DHE (RFC 8446
 * 2.2, 4.2.9, 4.2.11, 4.6.1) with both ends in one process: tickets issued
 * and kept, resumption skipping the certificate, every suite and both key
 * share paths (with and without HelloRetryRequest), tickets that must lead
 * to a full handshake (foreign, expired, other name, client certificate
 * required), wire faults (a binder, the extension order, a missing
 * extension, the selected identity), post-handshake messages on a resumed
 * connection, threads sharing a session, and the binder against the RFC
 * 8448 section 4 trace.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "engine/internal.h"
#include "pair.h"

/* --- Helpers -------------------------------------------------------------- */

typedef struct trace {
    char text[16384];
    size_t len;
} trace;

static void on_trace(const petrel_conn *conn, const char *event, void *userdata)
{
    (void)conn;
    trace *t = userdata;
    int n = snprintf(t->text + t->len, sizeof(t->text) - t->len, "%s\n", event);
    if (n > 0 && t->len + (size_t)n < sizeof(t->text)) {
        t->len += (size_t)n;
    }
}

static bool traced(const trace *t, const char *fragment)
{
    return strstr(t->text, fragment) != NULL;
}

/* A full handshake whose client then takes in the tickets; returns the
 * session of the newest one. */
static petrel_session *full_session(petrel_ctx *cctx, petrel_ctx *sctx)
{
    pair p = pair_new(cctx, sctx);
    pair_handshake_ok(&p);
    assert_false(petrel_conn_session_reused(p.c));
    assert_false(petrel_conn_session_reused(p.s));
    pair_pump(&p, 2);
    petrel_session *s = petrel_conn_get_session(p.c);
    assert_non_null(s);
    pair_free(&p);
    return s;
}

/* A pair whose client offers s, with traces on both sides. */
static pair offer_pair(petrel_ctx *cctx, petrel_ctx *sctx, petrel_session *s, trace *ct, trace *st)
{
    pair p = pair_new(cctx, sctx);
    memset(ct, 0, sizeof(*ct));
    memset(st, 0, sizeof(*st));
    petrel_conn_set_trace_callback(p.c, on_trace, ct);
    petrel_conn_set_trace_callback(p.s, on_trace, st);
    assert_int_equal(petrel_conn_set_session(p.c, s), PETREL_OK);
    return p;
}

static void leaf_der(const petrel_conn *conn, uint8_t *out, size_t cap, size_t *len)
{
    petrel_cert_info info;
    assert_int_equal(petrel_conn_peer_cert(conn, &info), PETREL_OK);
    assert_true(info.der_len <= cap);
    memcpy(out, info.der, info.der_len);
    *len = info.der_len;
}

/* The client's first flight as bytes: one plaintext record holding the
 * ClientHello. */
static size_t client_hello_record(pair *p, uint8_t *rec, size_t cap)
{
    assert_int_equal(petrel_conn_do_handshake(p->c), PETREL_ERR_WANT_READ);
    size_t n = petrel_conn_take_output(p->c, rec, cap);
    assert_true(n > 9 && rec[0] == 22 && rec[5] == PT_HS_CLIENT_HELLO);
    assert_int_equal(((size_t)rec[3] << 8 | rec[4]) + 5, n);
    return n;
}

static size_t u16_at(const uint8_t *p, size_t off)
{
    return (size_t)p[off] << 8 | p[off + 1];
}

/* The extension block of a hello at the start of rec: [*start, *end). */
static void hello_exts(const uint8_t *rec, bool client, size_t *start, size_t *end)
{
    size_t off = 5 + 4 + 2 + 32;
    off += 1 + rec[off];
    if (client) {
        off += 2 + u16_at(rec, off);
        off += 1 + rec[off];
    } else {
        off += 2 + 1;
    }
    *end = off + 2 + u16_at(rec, off);
    *start = off + 2;
}

/* Offset of the extension of a type in [start, end); 0 when absent. The
 * last extension's offset goes to *last. */
static size_t find_ext(const uint8_t *rec, size_t start, size_t end, uint16_t type, size_t *last)
{
    size_t found = 0;
    for (size_t off = start; off < end; off += 4 + u16_at(rec, off + 2)) {
        if (u16_at(rec, off) == type) {
            found = off;
        }
        *last = off;
    }
    return found;
}

static void feed_all(petrel_conn *conn, const uint8_t *data, size_t len)
{
    size_t used = 0;
    assert_int_equal(petrel_conn_feed(conn, data, len, &used), PETREL_OK);
    assert_int_equal(used, len);
}

static void expect_fault(petrel_conn *conn, petrel_status st, int alert, const char *fragment)
{
    const petrel_error *e = petrel_conn_error(conn);
    if (st != PETREL_ERR_PROTOCOL || e->alert != alert || strstr(e->message, fragment) == NULL) {
        fail_msg("got %s alert %d (%s); expected PROTOCOL alert %d with '%s'",
                 petrel_status_name(st), e->alert, e->message, alert, fragment);
    }
}

/* The peer reads the alert the failing side sent. */
static void expect_peer_alert(petrel_conn *from, petrel_conn *to, int alert)
{
    pair_move(from, to);
    petrel_status st = petrel_conn_do_handshake(to);
    assert_int_equal(st, PETREL_ERR_PEER_ALERT);
    assert_int_equal(petrel_conn_error(to)->alert, alert);
}

/* --- RFC 8448 section 4 values ------------------------------------------ */

static const uint8_t rfc8448_res_master[32] = {
    0xa3, 0x4b, 0xe5, 0x3b, 0x07, 0xab, 0x35, 0xb8, 0x50, 0x3d, 0x76, 0x26, 0xa7, 0xca, 0xd4, 0x96,
    0x68, 0x73, 0xeb, 0xde, 0xa1, 0x35, 0xc4, 0xb2, 0xe4, 0xcd, 0x28, 0xe4, 0xb8, 0x12, 0xac, 0x54,
};

static const uint8_t rfc8448_psk[32] = {
    0xca, 0xe5, 0xce, 0x63, 0xca, 0x4b, 0x2a, 0x73, 0x33, 0xa7, 0xce, 0xf4, 0x43, 0x51, 0xee, 0xa4,
    0xb6, 0xa0, 0xb6, 0xda, 0xbf, 0xe5, 0x2e, 0x8f, 0xa8, 0x82, 0x8c, 0x57, 0x60, 0x2b, 0x80, 0x7c,
};

static const uint8_t rfc8448_early_secret[32] = {
    0x79, 0x26, 0xbf, 0x24, 0x6b, 0x73, 0xdd, 0x7c, 0xf3, 0xaa, 0x5a, 0x75, 0xec, 0x3d, 0xc9, 0x1a,
    0xe3, 0xa2, 0x34, 0xc0, 0x05, 0x65, 0x74, 0x4a, 0xf5, 0x16, 0x97, 0x31, 0x3a, 0x08, 0x5f, 0xff,
};

static const uint8_t rfc8448_client_hello[512] = {
    0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x75, 0x0e, 0x18, 0x4c, 0x0c, 0x28, 0xd3, 0x65, 0xff, 0xab,
    0x68, 0xb7, 0x4c, 0xb2, 0x02, 0xfd, 0xb4, 0x95, 0xad, 0x19, 0xf5, 0x27, 0xc6, 0xe6, 0xce, 0xbe,
    0xc3, 0x5b, 0x44, 0x3b, 0x9b, 0x35, 0x00, 0x00, 0x06, 0x13, 0x01, 0x13, 0x03, 0x13, 0x02, 0x01,
    0x00, 0x01, 0xcd, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x09, 0x00, 0x00, 0x06, 0x73, 0x65, 0x72, 0x76,
    0x65, 0x72, 0xff, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x14, 0x00, 0x12, 0x00, 0x1d, 0x00,
    0x17, 0x00, 0x18, 0x00, 0x19, 0x01, 0x00, 0x01, 0x01, 0x01, 0x02, 0x01, 0x03, 0x01, 0x04, 0x00,
    0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20, 0x58, 0x39, 0xe3, 0x2b, 0x2b, 0x0e, 0x47,
    0x21, 0x1f, 0xf3, 0x09, 0x8d, 0x99, 0x8e, 0xd0, 0x37, 0x9a, 0x07, 0xb2, 0x99, 0xb8, 0x46, 0x58,
    0x5b, 0x7f, 0xab, 0x62, 0xc6, 0x13, 0x57, 0xd1, 0x74, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x2b, 0x00,
    0x03, 0x02, 0x03, 0x04, 0x00, 0x0d, 0x00, 0x20, 0x00, 0x1e, 0x04, 0x03, 0x05, 0x03, 0x06, 0x03,
    0x02, 0x03, 0x08, 0x04, 0x08, 0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01, 0x06, 0x01, 0x02, 0x01,
    0x04, 0x02, 0x05, 0x02, 0x06, 0x02, 0x02, 0x02, 0x00, 0x2d, 0x00, 0x02, 0x01, 0x01, 0x00, 0x1c,
    0x00, 0x02, 0x40, 0x01, 0x00, 0x15, 0x00, 0x57, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x29, 0x00, 0xdd, 0x00, 0xb8, 0x00, 0xb2, 0xf3, 0x5e, 0xda, 0xe4, 0xe6, 0x04, 0x04, 0xd6, 0xf4,
    0x0f, 0xa1, 0x7f, 0x00, 0x00, 0x00, 0x00, 0x83, 0x93, 0xd1, 0x63, 0xfb, 0x4f, 0x5f, 0x10, 0x5f,
    0xe2, 0x05, 0x6c, 0xae, 0xb3, 0x2a, 0xc7, 0x00, 0x70, 0x70, 0x04, 0x59, 0x31, 0x02, 0x6d, 0xb0,
    0x7d, 0x58, 0xdd, 0x58, 0x09, 0x0d, 0x62, 0x9a, 0xf5, 0x9e, 0xcb, 0x7f, 0xba, 0x35, 0x3d, 0x5d,
    0x96, 0x53, 0xa7, 0x08, 0xfb, 0xcf, 0x0f, 0x51, 0x5c, 0x1b, 0x82, 0xdb, 0x6b, 0x08, 0x97, 0x71,
    0x79, 0xdf, 0xc6, 0x84, 0xd2, 0x2f, 0xcf, 0x7b, 0xd5, 0xc1, 0x22, 0x22, 0xab, 0x63, 0xff, 0xd9,
    0xd2, 0xbc, 0x46, 0x17, 0x6d, 0x14, 0x4a, 0xe9, 0x8a, 0xd9, 0x34, 0x16, 0x89, 0x48, 0x22, 0xac,
    0x50, 0x64, 0x06, 0x5f, 0x92, 0x99, 0x5a, 0x6f, 0x05, 0x2f, 0xa3, 0xa7, 0x31, 0x70, 0x36, 0x57,
    0x81, 0x7e, 0xa7, 0xa8, 0xde, 0x73, 0x14, 0x86, 0x61, 0x76, 0x8f, 0x7f, 0x62, 0x09, 0x8f, 0xb4,
    0x5c, 0x0a, 0x9d, 0xde, 0x04, 0xa9, 0xcf, 0x1a, 0xa4, 0x20, 0x6f, 0x13, 0xdd, 0x05, 0x5d, 0xf3,
    0xed, 0x5f, 0xa6, 0x81, 0xbb, 0xf8, 0x76, 0xe3, 0x62, 0xad, 0x9c, 0x0a, 0x68, 0xd2, 0xb5, 0x26,
    0x6c, 0x79, 0xaa, 0x80, 0x6c, 0xbf, 0xe6, 0x11, 0x3b, 0x93, 0x3d, 0x09, 0x37, 0x00, 0x21, 0x20,
    0x71, 0x8c, 0xd8, 0xf2, 0x2e, 0x8e, 0xd7, 0x1d, 0x1a, 0x23, 0xf7, 0xc8, 0x8f, 0x63, 0xd4, 0x54,
    0x87, 0xaf, 0xe5, 0x81, 0x57, 0xcb, 0xc5, 0x7e, 0x66, 0xbd, 0x13, 0x23, 0xe4, 0x1a, 0x8c, 0xd8,
};

static const uint8_t rfc8448_binder_hash[32] = {
    0x6f, 0xd1, 0x74, 0x87, 0x90, 0x8d, 0x45, 0xca, 0x0b, 0xb7, 0xd5, 0xe5, 0xa9, 0x68, 0xf9, 0x4a,
    0xa4, 0x32, 0x96, 0xb3, 0xfd, 0x57, 0x8d, 0x0c, 0x10, 0x25, 0x40, 0xc3, 0x80, 0xa2, 0x3e, 0x68,
};

static const uint8_t rfc8448_binder[32] = {
    0x71, 0x8c, 0xd8, 0xf2, 0x2e, 0x8e, 0xd7, 0x1d, 0x1a, 0x23, 0xf7, 0xc8, 0x8f, 0x63, 0xd4, 0x54,
    0x87, 0xaf, 0xe5, 0x81, 0x57, 0xcb, 0xc5, 0x7e, 0x66, 0xbd, 0x13, 0x23, 0xe4, 0x1a, 0x8c, 0xd8,
};

/* --- Issuing and resuming ------------------------------------------------- */

static void test_resumption_skips_certificate(void **state)
{
    (void)state;
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    assert_int_equal(petrel_ctx_num_tickets(sctx), 2);
    pair p = pair_new(cctx, sctx);
    pair_handshake_ok(&p);
    pair_pump(&p, 2);
    assert_int_equal(petrel_conn_session_tickets(p.c), 2);
    uint8_t first_der[4096];
    size_t first_len;
    leaf_der(p.c, first_der, sizeof(first_der), &first_len);
    size_t chain_len = petrel_conn_unverified_chain_len(p.c);
    size_t verified_len = petrel_conn_verified_chain_len(p.c);
    assert_true(verified_len > 0);
    petrel_session *s = petrel_conn_get_session(p.c);
    assert_non_null(s);
    /* The same object until another ticket arrives. */
    petrel_session *again = petrel_conn_get_session(p.c);
    assert_ptr_equal(s, again);
    petrel_session_free(again);
    assert_null(petrel_conn_get_session(p.s));
    assert_int_equal(petrel_session_lifetime(s), 7200);
    assert_true(petrel_session_time(s) > 1700000000);
    pair_free(&p);

    trace ct;
    trace st;
    p = offer_pair(cctx, sctx, s, &ct, &st);
    pair_handshake_ok(&p);
    assert_true(petrel_conn_session_reused(p.c));
    assert_true(petrel_conn_session_reused(p.s));
    assert_false(traced(&st, "sent Certificate"));
    assert_false(traced(&st, "sent CertificateVerify"));
    assert_null(petrel_conn_signature_algorithm(p.s));
    assert_null(petrel_conn_peer_signature_algorithm(p.c));
    /* The client reports the original server's chain and its verification. */
    uint8_t der[4096];
    size_t len;
    leaf_der(p.c, der, sizeof(der), &len);
    assert_int_equal(len, first_len);
    assert_memory_equal(der, first_der, len);
    assert_int_equal(petrel_conn_unverified_chain_len(p.c), chain_len);
    assert_int_equal(petrel_conn_verified_chain_len(p.c), verified_len);
    assert_int_equal(petrel_conn_verify_result(p.c), 0);
    assert_false(petrel_conn_has_peer_cert(p.s));
    pair_exchange(&p, p.c, p.s, "ping", 4);
    pair_exchange(&p, p.s, p.c, "pong", 4);
    /* A resumed connection gets tickets too, and its session resumes. */
    pair_pump(&p, 2);
    petrel_session *next = petrel_conn_get_session(p.c);
    assert_non_null(next);
    pair_free(&p);
    petrel_session_free(s);
    p = offer_pair(cctx, sctx, next, &ct, &st);
    petrel_session_free(next); /* the connection holds its own reference */
    pair_handshake_ok(&p);
    assert_true(petrel_conn_session_reused(p.c));
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static void resume_with(const char *suite, const char *cgroups, const char *sgroups, bool hrr)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    assert_int_equal(petrel_ctx_set_ciphersuites(cctx, suite), PETREL_OK);
    assert_int_equal(petrel_ctx_set_groups(cctx, cgroups), PETREL_OK);
    assert_int_equal(petrel_ctx_set_groups(sctx, sgroups), PETREL_OK);
    petrel_session *s = full_session(cctx, sctx);
    trace ct;
    trace st;
    pair p = offer_pair(cctx, sctx, s, &ct, &st);
    pair_handshake_ok(&p);
    if (!petrel_conn_session_reused(p.c) || !petrel_conn_session_reused(p.s)) {
        fail_msg("%s %s/%s not resumed:\nclient:\n%s\nserver:\n%s", suite, cgroups, sgroups,
                 ct.text, st.text);
    }
    assert_string_equal(petrel_conn_cipher(p.c), suite);
    assert_int_equal(traced(&st, "HelloRetryRequest"), hrr);
    assert_string_equal(petrel_conn_group(p.c), petrel_conn_group(p.s));
    pair_exchange(&p, p.c, p.s, "resumed", 7);
    pair_free(&p);
    petrel_session_free(s);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static void test_every_suite_and_group_path(void **state)
{
    (void)state;
    static const char *const suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                         "TLS_CHACHA20_POLY1305_SHA256"};
    for (size_t i = 0; i < PT_ARRAY_LEN(suites); i++) {
        resume_with(suites[i], "x25519", "x25519", false);
        resume_with(suites[i], "P-256", "P-256:x25519", false);
        /* The client's share is for a group the server does not take. */
        resume_with(suites[i], "P-256:x25519", "x25519", true);
        resume_with(suites[i], "x25519:P-384", "P-384", true);
    }
}

/* RFC 8446 4.1.2: after a HelloRetryRequest whose suite has another hash,
 * the client drops the PSK and the handshake is a full one. */
static void test_hrr_with_other_hash_drops_psk(void **state)
{
    (void)state;
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    assert_int_equal(petrel_ctx_set_ciphersuites(sctx, "TLS_AES_256_GCM_SHA384"), PETREL_OK);
    assert_int_equal(petrel_ctx_set_groups(cctx, "P-256:x25519"), PETREL_OK);
    assert_int_equal(petrel_ctx_set_groups(sctx, "x25519"), PETREL_OK);
    petrel_session *s = full_session(cctx, sctx);
    /* Pretend the session came from a SHA-256 suite. */
    s->suite = PT_TLS_AES_128_GCM_SHA256;
    trace ct;
    trace st;
    pair p = offer_pair(cctx, sctx, s, &ct, &st);
    pair_handshake_ok(&p);
    assert_false(petrel_conn_session_reused(p.c));
    assert_false(petrel_conn_session_reused(p.s));
    assert_true(traced(&ct, "offered a session"));
    assert_true(traced(&ct, "session dropped"));
    assert_true(traced(&st, "HelloRetryRequest"));
    pair_free(&p);
    petrel_session_free(s);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* --- Tickets that lead to a full handshake ---------------------------------- */

static void full_handshake_expected(petrel_ctx *cctx, petrel_ctx *sctx, petrel_session *s,
                                    const char *client_says, const char *server_says)
{
    trace ct;
    trace st;
    pair p = offer_pair(cctx, sctx, s, &ct, &st);
    pair_handshake_ok(&p);
    assert_false(petrel_conn_session_reused(p.c));
    assert_false(petrel_conn_session_reused(p.s));
    assert_true(traced(&st, "sent Certificate"));
    if (client_says != NULL && !traced(&ct, client_says)) {
        fail_msg("client trace lacks '%s':\n%s", client_says, ct.text);
    }
    if (server_says != NULL && !traced(&st, server_says)) {
        fail_msg("server trace lacks '%s':\n%s", server_says, st.text);
    }
    pair_exchange(&p, p.c, p.s, "full", 4);
    pair_free(&p);
}

static void test_foreign_ticket(void **state)
{
    (void)state;
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *issuer = server_ctx("server-p256");
    petrel_ctx *other = server_ctx("server-p256");
    petrel_session *s = full_session(cctx, issuer);
    full_handshake_expected(cctx, other, s, "server declined", "not a ticket of this context");
    /* The issuer still takes it. */
    trace ct;
    trace st;
    pair p = offer_pair(cctx, issuer, s, &ct, &st);
    pair_handshake_ok(&p);
    assert_true(petrel_conn_session_reused(p.s));
    pair_free(&p);
    petrel_session_free(s);
    petrel_ctx_free(cctx);
    petrel_ctx_free(issuer);
    petrel_ctx_free(other);
}

static void test_altered_ticket(void **state)
{
    (void)state;
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    petrel_session *s = full_session(cctx, sctx);
    s->ticket[s->ticket_len / 2] ^= 0x01;
    full_handshake_expected(cctx, sctx, s, "offered a session", "not a ticket of this context");
    petrel_session_free(s);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* RFC 8446 4.6.1: neither side uses a ticket past its lifetime. */
static void test_expired_ticket(void **state)
{
    (void)state;
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    assert_int_equal(petrel_ctx_set_session_timeout(sctx, 10), PETREL_OK);
    assert_int_equal(petrel_ctx_session_timeout(sctx), 10);
    petrel_session *s = full_session(cctx, sctx);
    assert_int_equal(petrel_session_lifetime(s), 10);
    pt_clock_skew(11 * 1000);
    /* The client keeps it to itself. */
    full_handshake_expected(cctx, sctx, s, "session not offered", NULL);
    /* A client that thinks it still valid is refused by the server. */
    s->lifetime = 3600;
    full_handshake_expected(cctx, sctx, s, "offered a session", "it has expired");
    pt_clock_skew(0);
    petrel_session_free(s);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static void test_other_server_name_not_offered(void **state)
{
    (void)state;
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    petrel_session *s = full_session(cctx, sctx);
    petrel_conn *c = petrel_conn_new(cctx, "server.test");
    assert_non_null(c);
    trace ct = {0};
    petrel_conn_set_trace_callback(c, on_trace, &ct);
    assert_int_equal(petrel_conn_set_session(c, s), PETREL_OK);
    assert_int_equal(petrel_conn_do_handshake(c), PETREL_ERR_WANT_READ);
    assert_true(traced(&ct, "session not offered"));
    assert_false(traced(&ct, "offered a session"));
    petrel_conn_free(c);
    /* A server name that differs only in case is the same name. */
    c = petrel_conn_new(cctx, "LocalHost");
    memset(&ct, 0, sizeof(ct));
    petrel_conn_set_trace_callback(c, on_trace, &ct);
    assert_int_equal(petrel_conn_set_session(c, s), PETREL_OK);
    assert_int_equal(petrel_conn_do_handshake(c), PETREL_ERR_WANT_READ);
    assert_true(traced(&ct, "offered a session"));
    petrel_conn_free(c);
    /* A client that offers it anyway (its recorded name altered) meets a
     * server that checks the ticket's server name. */
    pt_free(s->hostname);
    s->hostname = pt_strdup("server.test");
    pair p = {petrel_conn_new(cctx, "server.test"), petrel_conn_new(sctx, NULL)};
    trace st = {0};
    petrel_conn_set_trace_callback(p.s, on_trace, &st);
    assert_int_equal(petrel_conn_set_session(p.c, s), PETREL_OK);
    pair_handshake_ok(&p);
    assert_false(petrel_conn_session_reused(p.s));
    assert_true(traced(&st, "issued for another server name"));
    pair_free(&p);
    petrel_session_free(s);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* A TLS 1.2 server ignores pre_shared_key; TLS 1.2 is never resumed. */
static void test_tls12_server_ignores_session(void **state)
{
    (void)state;
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    petrel_ctx *old = server_ctx("server-p256");
    assert_int_equal(petrel_ctx_set_maximum_version(old, PETREL_TLS1_2), PETREL_OK);
    petrel_session *s = full_session(cctx, sctx);
    trace ct;
    trace st;
    pair p = offer_pair(cctx, old, s, &ct, &st);
    pair_handshake_ok(&p);
    assert_true(traced(&ct, "offered a session"));
    assert_int_equal(petrel_conn_version(p.c), PETREL_TLS1_2);
    assert_false(petrel_conn_session_reused(p.c));
    assert_false(petrel_conn_session_reused(p.s));
    pair_pump(&p, 2);
    assert_null(petrel_conn_get_session(p.c));
    pair_free(&p);
    petrel_session_free(s);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
    petrel_ctx_free(old);
}

static void test_alpn_must_match(void **state)
{
    (void)state;
    static const char *const h2[] = {"h2"};
    static const char *const http11[] = {"http/1.1"};
    static const char *const both[] = {"h2", "http/1.1"};
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    petrel_ctx *other = server_ctx("server-p256");
    assert_int_equal(petrel_ctx_set_alpn_protocols(cctx, both, 2), PETREL_OK);
    assert_int_equal(petrel_ctx_set_alpn_protocols(sctx, h2, 1), PETREL_OK);
    assert_int_equal(petrel_ctx_set_alpn_protocols(other, http11, 1), PETREL_OK);
    /* The same ticket key, so that only the protocol differs. */
    memcpy(other->ticket_key_name, sctx->ticket_key_name, sizeof(sctx->ticket_key_name));
    memcpy(other->ticket_key, sctx->ticket_key, sizeof(sctx->ticket_key));
    petrel_session *s = full_session(cctx, sctx);
    trace ct;
    trace st;
    pair p = offer_pair(cctx, sctx, s, &ct, &st);
    pair_handshake_ok(&p);
    assert_true(petrel_conn_session_reused(p.s));
    assert_string_equal(petrel_conn_alpn_selected(p.c), "h2");
    pair_free(&p);
    full_handshake_expected(cctx, other, s, "server declined", "another application protocol");
    petrel_session_free(s);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
    petrel_ctx_free(other);
}

/* --- Client authentication ---------------------------------------------------- */

static petrel_ctx *client_with_cert(void)
{
    petrel_ctx *cctx = client_ctx();
    assert_int_equal(petrel_ctx_load_cert_chain(cctx, pki("client-p256-chain.pem"),
                                                pki("client-p256.key"), NULL, NULL),
                     PETREL_OK);
    return cctx;
}

static petrel_ctx *server_requiring_cert(void)
{
    petrel_ctx *sctx = server_ctx("server-p256");
    assert_int_equal(petrel_ctx_load_verify_locations(sctx, pki("ca.pem"), NULL, NULL, 0),
                     PETREL_OK);
    assert_int_equal(petrel_ctx_set_verify_mode(sctx, PETREL_CERT_REQUIRED), PETREL_OK);
    return sctx;
}

/* The ticket records the client's chain: a resumed server reports it. */
static void test_client_chain_carried_in_ticket(void **state)
{
    (void)state;
    petrel_ctx *cctx = client_with_cert();
    petrel_ctx *sctx = server_requiring_cert();
    pair p = pair_new(cctx, sctx);
    pair_handshake_ok(&p);
    pair_pump(&p, 2);
    uint8_t first[4096];
    size_t first_len;
    leaf_der(p.s, first, sizeof(first), &first_len);
    size_t verified = petrel_conn_verified_chain_len(p.s);
    petrel_session *s = petrel_conn_get_session(p.c);
    assert_non_null(s);
    pair_free(&p);
    trace ct;
    trace st;
    p = offer_pair(cctx, sctx, s, &ct, &st);
    pair_handshake_ok(&p);
    assert_true(petrel_conn_session_reused(p.s));
    assert_false(traced(&st, "sent CertificateRequest"));
    uint8_t der[4096];
    size_t len;
    leaf_der(p.s, der, sizeof(der), &len);
    assert_int_equal(len, first_len);
    assert_memory_equal(der, first, len);
    assert_int_equal(petrel_conn_verified_chain_len(p.s), verified);
    pair_free(&p);
    petrel_session_free(s);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* A CERT_REQUIRED server never lets a ticket without a client certificate
 * stand in for one: the handshake is full and asks for the certificate. */
static void test_cert_required_refuses_anonymous_ticket(void **state)
{
    (void)state;
    petrel_ctx *cctx = client_with_cert();
    petrel_ctx *anon = server_ctx("server-p256");
    petrel_ctx *strict = server_requiring_cert();
    /* The same ticket key, so that only the recorded outcome differs. */
    memcpy(strict->ticket_key_name, anon->ticket_key_name, sizeof(anon->ticket_key_name));
    memcpy(strict->ticket_key, anon->ticket_key, sizeof(anon->ticket_key));
    petrel_session *s = full_session(cctx, anon);
    trace ct;
    trace st;
    pair p = offer_pair(cctx, strict, s, &ct, &st);
    pair_handshake_ok(&p);
    assert_false(petrel_conn_session_reused(p.s));
    assert_true(traced(&st, "records no client certificate"));
    assert_true(traced(&st, "sent CertificateRequest"));
    assert_true(petrel_conn_has_peer_cert(p.s));
    pair_free(&p);
    /* The anonymous server itself resumes it. */
    p = offer_pair(cctx, anon, s, &ct, &st);
    pair_handshake_ok(&p);
    assert_true(petrel_conn_session_reused(p.s));
    assert_false(petrel_conn_has_peer_cert(p.s));
    pair_free(&p);
    petrel_session_free(s);
    petrel_ctx_free(cctx);
    petrel_ctx_free(anon);
    petrel_ctx_free(strict);
}

/* --- Wire faults ----------------------------------------------------------------- */

typedef struct fault_fx {
    petrel_ctx *cctx;
    petrel_ctx *sctx;
    petrel_session *s;
    pair p;
    uint8_t rec[8192];
    size_t len;
} fault_fx;

static void fault_begin(fault_fx *f)
{
    f->cctx = client_ctx();
    f->sctx = server_ctx("server-p256");
    f->s = full_session(f->cctx, f->sctx);
    f->p = pair_new(f->cctx, f->sctx);
    assert_int_equal(petrel_conn_set_session(f->p.c, f->s), PETREL_OK);
    f->len = client_hello_record(&f->p, f->rec, sizeof(f->rec));
}

static void fault_end(fault_fx *f)
{
    pair_free(&f->p);
    petrel_session_free(f->s);
    petrel_ctx_free(f->cctx);
    petrel_ctx_free(f->sctx);
}

static petrel_status server_takes_edited_hello(fault_fx *f)
{
    feed_all(f->p.s, f->rec, f->len);
    return petrel_conn_do_handshake(f->p.s);
}

/* RFC 8446 4.2.11: a binder that does not verify aborts with decrypt_error. */
static void test_tampered_binder(void **state)
{
    (void)state;
    fault_fx f;
    fault_begin(&f);
    f.rec[f.len - 1] ^= 0x80; /* the binder ends the ClientHello */
    petrel_status st = server_takes_edited_hello(&f);
    expect_fault(f.p.s, st, PETREL_ALERT_DECRYPT_ERROR,
                 "PSK binder does not match the ClientHello (RFC 8446 4.2.11.2)");
    expect_peer_alert(f.p.s, f.p.c, PETREL_ALERT_DECRYPT_ERROR);
    fault_end(&f);
}

/* RFC 8446 4.2.11: pre_shared_key must be the last extension. */
static void test_psk_not_last(void **state)
{
    (void)state;
    fault_fx f;
    fault_begin(&f);
    size_t start;
    size_t end;
    size_t last = 0;
    hello_exts(f.rec, true, &start, &end);
    assert_int_equal(end, f.len);
    size_t psk_at = find_ext(f.rec, start, end, PT_EXT_PRE_SHARED_KEY, &last);
    assert_int_equal(psk_at, last);
    /* Move it to the front: every length stays right. */
    uint8_t psk[4096];
    size_t psk_len = end - last;
    memcpy(psk, f.rec + last, psk_len);
    memmove(f.rec + start + psk_len, f.rec + start, last - start);
    memcpy(f.rec + start, psk, psk_len);
    petrel_status st = server_takes_edited_hello(&f);
    expect_fault(f.p.s, st, PETREL_ALERT_ILLEGAL_PARAMETER,
                 "pre_shared_key is not the last extension (RFC 8446 4.2.11)");
    expect_peer_alert(f.p.s, f.p.c, PETREL_ALERT_ILLEGAL_PARAMETER);
    fault_end(&f);
}

/* RFC 8446 4.2.9: pre_shared_key needs psk_key_exchange_modes. */
static void test_missing_psk_modes(void **state)
{
    (void)state;
    fault_fx f;
    fault_begin(&f);
    size_t start;
    size_t end;
    size_t last;
    hello_exts(f.rec, true, &start, &end);
    size_t modes = find_ext(f.rec, start, end, PT_EXT_PSK_KEY_EXCHANGE_MODES, &last);
    assert_true(modes != 0);
    /* An unknown code point in its place, which the server ignores. */
    f.rec[modes] = 0xfa;
    f.rec[modes + 1] = 0xfa;
    petrel_status st = server_takes_edited_hello(&f);
    expect_fault(f.p.s, st, PETREL_ALERT_MISSING_EXTENSION,
                 "pre_shared_key without psk_key_exchange_modes (RFC 8446 4.2.9)");
    expect_peer_alert(f.p.s, f.p.c, PETREL_ALERT_MISSING_EXTENSION);
    fault_end(&f);
}

/* Only psk_ke offered: the server does not resume (it needs (EC)DHE). */
static void test_psk_ke_only_is_full_handshake(void **state)
{
    (void)state;
    fault_fx f;
    fault_begin(&f);
    size_t start;
    size_t end;
    size_t last;
    hello_exts(f.rec, true, &start, &end);
    size_t modes = find_ext(f.rec, start, end, PT_EXT_PSK_KEY_EXCHANGE_MODES, &last);
    assert_int_equal(f.rec[modes + 5], 1);
    f.rec[modes + 5] = 0; /* psk_ke */
    /* The binder no longer matches the edited ClientHello: the server
     * declines the PSK before it would check it. */
    petrel_status st = server_takes_edited_hello(&f);
    assert_int_equal(st, PETREL_ERR_WANT_READ);
    assert_false(f.p.s->hs->resumed);
    fault_end(&f);
}

/* RFC 8446 4.2.11: a selected_identity the client did not offer is
 * illegal_parameter. */
static void test_selected_identity_out_of_range(void **state)
{
    (void)state;
    fault_fx f;
    fault_begin(&f);
    feed_all(f.p.s, f.rec, f.len);
    assert_int_equal(petrel_conn_do_handshake(f.p.s), PETREL_ERR_WANT_READ);
    uint8_t out[16384];
    size_t n = petrel_conn_take_output(f.p.s, out, sizeof(out));
    assert_true(n > 0 && out[5] == PT_HS_SERVER_HELLO);
    size_t start;
    size_t end;
    size_t last;
    hello_exts(out, false, &start, &end);
    size_t psk = find_ext(out, start, end, PT_EXT_PRE_SHARED_KEY, &last);
    assert_true(psk != 0);
    assert_int_equal(u16_at(out, psk + 4), 0);
    out[psk + 5] = 1;
    feed_all(f.p.c, out, n);
    petrel_status st = petrel_conn_do_handshake(f.p.c);
    expect_fault(f.p.c, st, PETREL_ALERT_ILLEGAL_PARAMETER,
                 "server selected PSK identity 1, but the client offered only one");
    fault_end(&f);
}

/* --- Settings and misuse ----------------------------------------------------------- */

static void test_num_tickets(void **state)
{
    (void)state;
    petrel_ctx *cctx = client_ctx();
    assert_int_equal(petrel_ctx_num_tickets(cctx), 0);
    assert_int_equal(petrel_ctx_set_num_tickets(cctx, 1), PETREL_ERR_MISUSE);
    petrel_ctx *sctx = server_ctx("server-p256");
    assert_int_equal(petrel_ctx_set_num_tickets(sctx, 17), PETREL_ERR_MISUSE);
    assert_int_equal(petrel_ctx_set_session_timeout(sctx, 0), PETREL_ERR_MISUSE);
    assert_int_equal(petrel_ctx_set_session_timeout(sctx, 604801), PETREL_ERR_MISUSE);
    assert_int_equal(petrel_ctx_set_num_tickets(sctx, 0), PETREL_OK);
    pair p = pair_new(cctx, sctx);
    pair_handshake_ok(&p);
    pair_exchange(&p, p.s, p.c, "x", 1);
    pair_pump(&p, 2);
    assert_int_equal(petrel_conn_session_tickets(p.c), 0);
    assert_null(petrel_conn_get_session(p.c));
    pair_free(&p);
    petrel_ctx_free(sctx);
    sctx = server_ctx("server-p256");
    assert_int_equal(petrel_ctx_set_num_tickets(sctx, 3), PETREL_OK);
    assert_int_equal(petrel_ctx_num_tickets(sctx), 3);
    p = pair_new(cctx, sctx);
    pair_handshake_ok(&p);
    pair_pump(&p, 2);
    assert_int_equal(petrel_conn_session_tickets(p.c), 3);
    /* The context is frozen now. */
    assert_int_equal(petrel_ctx_set_num_tickets(sctx, 1), PETREL_ERR_MISUSE);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* RFC 8446 4.2.9: no tickets for a client that cannot use them. */
static void test_no_tickets_without_psk_dhe_ke(void **state)
{
    (void)state;
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    pair p = pair_new(cctx, sctx);
    trace st = {0};
    petrel_conn_set_trace_callback(p.s, on_trace, &st);
    assert_int_equal(petrel_conn_do_handshake(p.c), PETREL_ERR_WANT_READ);
    pair_move(p.c, p.s);
    assert_int_equal(petrel_conn_do_handshake(p.s), PETREL_ERR_WANT_READ);
    assert_true(p.s->client_psk_dhe);
    /* As if the ClientHello had offered psk_ke alone. */
    p.s->client_psk_dhe = false;
    pair_handshake_ok(&p);
    pair_pump(&p, 2);
    assert_int_equal(petrel_conn_session_tickets(p.c), 0);
    assert_true(traced(&st, "cannot resume with psk_dhe_ke"));
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static void test_set_session_misuse(void **state)
{
    (void)state;
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *other = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    petrel_session *s = full_session(cctx, sctx);
    pair p = pair_new(cctx, sctx);
    assert_int_equal(petrel_conn_set_session(p.s, s), PETREL_ERR_MISUSE);
    assert_int_equal(petrel_conn_set_session(NULL, s), PETREL_ERR_MISUSE);
    pair_handshake_ok(&p);
    assert_int_equal(petrel_conn_set_session(p.c, s), PETREL_ERR_MISUSE);
    assert_non_null(strstr(petrel_conn_error(p.c)->message, "before the handshake"));
    pair_free(&p);
    pair q = pair_new(other, sctx);
    assert_int_equal(petrel_conn_set_session(q.c, s), PETREL_ERR_MISUSE);
    assert_non_null(strstr(petrel_conn_error(q.c)->message, "different context"));
    /* NULL clears: a full handshake. */
    assert_int_equal(petrel_conn_set_session(q.c, NULL), PETREL_OK);
    pair_free(&q);
    /* The session outlives its connection and its context's other users. */
    petrel_ctx_free(cctx);
    petrel_session_free(s);
    petrel_ctx_free(other);
    petrel_ctx_free(sctx);
    assert_null(petrel_conn_get_session(NULL));
    petrel_session_free(NULL);
    assert_false(petrel_conn_session_reused(NULL));
}

/* --- After a resumed handshake ------------------------------------------------------ */

static void test_key_update_and_pha_after_resumption(void **state)
{
    (void)state;
    petrel_ctx *cctx = client_with_cert();
    petrel_ctx *sctx = server_requiring_cert();
    assert_int_equal(petrel_ctx_set_post_handshake_auth(sctx, true), PETREL_OK);
    assert_int_equal(petrel_ctx_set_post_handshake_auth(cctx, true), PETREL_OK);
    petrel_session *s = full_session(cctx, sctx);
    trace ct;
    trace st;
    pair p = offer_pair(cctx, sctx, s, &ct, &st);
    pair_handshake_ok(&p);
    assert_true(petrel_conn_session_reused(p.s));
    assert_false(petrel_conn_has_peer_cert(p.s));
    assert_int_equal(petrel_conn_key_update(p.c, true), PETREL_OK);
    pair_exchange(&p, p.c, p.s, "after update", 12);
    pair_exchange(&p, p.s, p.c, "answer", 6);
    assert_true(traced(&st, "sent KeyUpdate"));
    assert_int_equal(petrel_conn_verify_client_post_handshake(p.s), PETREL_OK);
    pair_pump(&p, 4);
    assert_false(petrel_conn_peer_cert_pending(p.s));
    assert_true(petrel_conn_has_peer_cert(p.s));
    pair_exchange(&p, p.s, p.c, "authenticated", 13);
    pair_free(&p);
    petrel_session_free(s);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* --- Threads --------------------------------------------------------------------------- */

typedef struct shared {
    petrel_ctx *cctx;
    petrel_ctx *sctx;
    petrel_session *s;
    int resumed; /* per thread */
} shared;

/* Moves everything pending from one side to the other, without cmocka
 * (which is not thread-safe). */
static bool relay(petrel_conn *from, petrel_conn *to)
{
    uint8_t buf[4096];
    while (petrel_conn_output_pending(from) > 0) {
        size_t n = petrel_conn_take_output(from, buf, sizeof(buf));
        size_t used = 0;
        if (petrel_conn_feed(to, buf, n, &used) != PETREL_OK || used != n) {
            return false;
        }
    }
    return true;
}

static bool resume_once(shared *sh)
{
    petrel_conn *c = petrel_conn_new(sh->cctx, "localhost");
    petrel_conn *s = petrel_conn_new(sh->sctx, NULL);
    bool ok = c != NULL && s != NULL && petrel_conn_set_session(c, sh->s) == PETREL_OK;
    petrel_status cs = PETREL_ERR_WANT_READ;
    petrel_status ss = PETREL_ERR_WANT_READ;
    for (int i = 0; ok && i < 10 && (cs != PETREL_OK || ss != PETREL_OK); i++) {
        cs = petrel_conn_do_handshake(c);
        ok = relay(c, s);
        ss = petrel_conn_do_handshake(s);
        ok = ok && relay(s, c);
    }
    ok = ok && cs == PETREL_OK && ss == PETREL_OK && petrel_conn_session_reused(c) &&
         petrel_conn_session_reused(s);
    petrel_conn_free(c);
    petrel_conn_free(s);
    return ok;
}

static void *resume_many(void *arg)
{
    shared *sh = arg;
    for (int i = 0; i < 20; i++) {
        sh->resumed += resume_once(sh) ? 1 : 0;
    }
    return NULL;
}

/* Threads share one session and one server context. */
static void test_threads_share_a_session(void **state)
{
    (void)state;
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    petrel_session *s = full_session(cctx, sctx);
    shared sh[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        sh[i] = (shared){cctx, sctx, s, 0};
        assert_int_equal(pthread_create(&th[i], NULL, resume_many, &sh[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(sh[i].resumed, 20);
    }
    petrel_session_free(s);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* --- RFC 8448 section 4: the binder of a resumed ClientHello ------------------------- */

/* A NewSessionTicket the server's keys seal by hand: lifetime 3600, the
 * given ticket and extension block. Returns its length in msg. */
static size_t make_nst(uint8_t *msg, size_t cap, size_t ticket_len, const uint8_t *ext,
                       size_t ext_len)
{
    size_t body = 4 + 4 + 1 + 1 + 2 + ticket_len + 2 + ext_len;
    assert_true(4 + body <= cap);
    size_t n = 0;
    msg[n++] = PT_HS_NEW_SESSION_TICKET;
    msg[n++] = (uint8_t)(body >> 16);
    msg[n++] = (uint8_t)(body >> 8);
    msg[n++] = (uint8_t)body;
    static const uint8_t head[] = {0, 0, 0x0e, 0x10, 1, 2, 3, 4, 1, 0x42};
    memcpy(msg + n, head, sizeof(head));
    n += sizeof(head);
    msg[n++] = (uint8_t)(ticket_len >> 8);
    msg[n++] = (uint8_t)ticket_len;
    memset(msg + n, 0x5a, ticket_len);
    n += ticket_len;
    msg[n++] = (uint8_t)(ext_len >> 8);
    msg[n++] = (uint8_t)ext_len;
    if (ext_len > 0) {
        memcpy(msg + n, ext, ext_len);
    }
    return n + ext_len;
}

/* The server's keys seal msg as a handshake message. */
static void server_sends(pair *p, const uint8_t *msg, size_t len)
{
    assert_int_equal(pt_send_handshake(p->s, msg, len, NULL), PETREL_OK);
    assert_int_equal(pt_flush_handshake(p->s), PETREL_OK);
}

/* The client reads a NewSessionTicket with this extension block and fails
 * with alert, its sentence mentioning fragment. */
static void ticket_refused(petrel_ctx *cctx, petrel_ctx *sctx, const uint8_t *ext, size_t ext_len,
                           int alert, const char *fragment)
{
    static uint8_t msg[512];
    pair p = pair_new(cctx, sctx);
    pair_handshake_ok(&p);
    server_sends(&p, msg, make_nst(msg, sizeof(msg), 100, ext, ext_len));
    pair_move(p.s, p.c);
    uint8_t b[16];
    size_t n = 0;
    assert_int_equal(petrel_conn_read(p.c, b, sizeof(b), &n), PETREL_ERR_PROTOCOL);
    assert_int_equal(petrel_conn_error(p.c)->alert, alert);
    assert_non_null(strstr(petrel_conn_error(p.c)->message, fragment));
    pair_free(&p);
}

/* The largest ticket RFC 8446 allows is taken in without ending the
 * connection, and dropped, since it could not be offered; a ticket just
 * small enough is kept. Extensions a ticket cannot carry, or a malformed
 * early_data, end the connection with their alert. */
static void test_large_and_malformed_tickets(void **state)
{
    static uint8_t msg[80 * 1024];
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    assert_int_equal(petrel_ctx_set_num_tickets(sctx, 0), PETREL_OK);
    pair p = pair_new(cctx, sctx);
    pair_handshake_ok(&p);
    server_sends(&p, msg, make_nst(msg, sizeof(msg), 65535, NULL, 0));
    pair_exchange(&p, p.s, p.c, "still connected", 15);
    assert_null(petrel_conn_get_session(p.c));
    server_sends(&p, msg, make_nst(msg, sizeof(msg), PT_TICKET_OFFER_MAX, NULL, 0));
    pair_exchange(&p, p.s, p.c, "kept", 4);
    petrel_session *sess = petrel_conn_get_session(p.c);
    assert_non_null(sess);
    pair_free(&p);
    /* Offered, its ClientHello stays within the server's message limit; the
     * server cannot open the ticket and makes a full handshake. */
    pair again = pair_new(cctx, sctx);
    assert_int_equal(petrel_conn_set_session(again.c, sess), PETREL_OK);
    pair_handshake_ok(&again);
    assert_false(petrel_conn_session_reused(again.c));
    pair_free(&again);
    petrel_session_free(sess);
    /* RFC 8446 4.2: key_share is known, not a NewSessionTicket's. */
    static const uint8_t key_share_ext[] = {0, 51, 0, 2, 0, 29};
    ticket_refused(cctx, sctx, key_share_ext, sizeof(key_share_ext), PETREL_ALERT_ILLEGAL_PARAMETER,
                   "cannot carry");
    static const uint8_t bad_early[] = {0, 42, 0, 2, 0, 0};
    ticket_refused(cctx, sctx, bad_early, sizeof(bad_early), PETREL_ALERT_DECODE_ERROR,
                   "early_data");
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static void test_rfc8448_binder(void **state)
{
    (void)state;
    pt_error err;
    pt_error_init(&err);
    pt_algs *algs = pt_algs_new(&err);
    assert_non_null(algs);
    /* resumption PSK = HKDF-Expand-Label(res master, "resumption", 0x0000) */
    static const uint8_t nonce[2] = {0, 0};
    uint8_t psk[32];
    assert_int_equal(pt_hkdf_expand_label(algs, PT_SHA256, rfc8448_res_master, "resumption", nonce,
                                          sizeof(nonce), psk, sizeof(psk), &err),
                     PETREL_OK);
    assert_memory_equal(psk, rfc8448_psk, 32);
    uint8_t early[PT_MAX_HASH];
    assert_int_equal(pt_hkdf_extract(algs, PT_SHA256, NULL, 0, psk, 32, early, &err), PETREL_OK);
    assert_memory_equal(early, rfc8448_early_secret, 32);
    /* The truncated ClientHello ends before the binders list: its 2-byte
     * length, one binder's 1-byte length and 32 bytes. */
    size_t truncated = sizeof(rfc8448_client_hello) - 2 - 33;
    assert_int_equal(truncated, 477);
    pt_transcript tr;
    pt_tr_init(&tr);
    uint8_t hash[PT_MAX_HASH];
    assert_int_equal(
        pt_tr_hash_with(&tr, algs, PT_SHA256, rfc8448_client_hello, truncated, hash, &err),
        PETREL_OK);
    pt_tr_free(&tr);
    assert_memory_equal(hash, rfc8448_binder_hash, 32);
    uint8_t binder[PT_MAX_HASH];
    assert_int_equal(pt_psk_binder(algs, PT_SHA256, psk, hash, binder, &err), PETREL_OK);
    assert_memory_equal(binder, rfc8448_binder, 32);
    assert_memory_equal(binder, rfc8448_client_hello + sizeof(rfc8448_client_hello) - 32, 32);
    pt_algs_free(algs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resumption_skips_certificate),
        cmocka_unit_test(test_every_suite_and_group_path),
        cmocka_unit_test(test_hrr_with_other_hash_drops_psk),
        cmocka_unit_test(test_foreign_ticket),
        cmocka_unit_test(test_altered_ticket),
        cmocka_unit_test(test_expired_ticket),
        cmocka_unit_test(test_other_server_name_not_offered),
        cmocka_unit_test(test_tls12_server_ignores_session),
        cmocka_unit_test(test_alpn_must_match),
        cmocka_unit_test(test_client_chain_carried_in_ticket),
        cmocka_unit_test(test_cert_required_refuses_anonymous_ticket),
        cmocka_unit_test(test_tampered_binder),
        cmocka_unit_test(test_psk_not_last),
        cmocka_unit_test(test_missing_psk_modes),
        cmocka_unit_test(test_psk_ke_only_is_full_handshake),
        cmocka_unit_test(test_selected_identity_out_of_range),
        cmocka_unit_test(test_num_tickets),
        cmocka_unit_test(test_no_tickets_without_psk_dhe_ke),
        cmocka_unit_test(test_set_session_misuse),
        cmocka_unit_test(test_key_update_and_pha_after_resumption),
        cmocka_unit_test(test_threads_share_a_session),
        cmocka_unit_test(test_large_and_malformed_tickets),
        cmocka_unit_test(test_rfc8448_binder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
