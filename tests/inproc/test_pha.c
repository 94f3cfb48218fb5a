/*
 * test_pha.c - TLS 1.3 post-handshake client authentication (RFC 8446 4.6.2)
 * with both ends in one process: the full verify_mode x post_handshake_auth
 * x certificate matrix, several rounds, misuse, interleaved data, and
 * wire-level faults injected by sealing hand-made messages with a peer's
 * real keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/internal.h"
#include "pair.h"

typedef struct setup {
    petrel_ctx *cctx;
    petrel_ctx *sctx;
    pair p;
} setup;

static void setup_new(setup *t, petrel_verify_mode mode, bool server_pha, bool client_pha,
                      bool client_cert)
{
    t->cctx = client_ctx();
    t->sctx = server_ctx("server-p256");
    /* Some tests count the records the server sends after the handshake. */
    assert_int_equal(petrel_ctx_set_num_tickets(t->sctx, 0), PETREL_OK);
    assert_int_equal(petrel_ctx_set_verify_mode(t->sctx, mode), PETREL_OK);
    assert_int_equal(petrel_ctx_set_post_handshake_auth(t->sctx, server_pha), PETREL_OK);
    assert_int_equal(petrel_ctx_set_post_handshake_auth(t->cctx, client_pha), PETREL_OK);
    if (client_cert) {
        assert_int_equal(petrel_ctx_load_cert_chain(t->cctx, pki("client-p256-chain.pem"),
                                                    pki("client-p256.key"), NULL, NULL),
                         PETREL_OK);
    }
    t->p = pair_new(t->cctx, t->sctx);
}

static void setup_free(setup *t)
{
    pair_free(&t->p);
    petrel_ctx_free(t->cctx);
    petrel_ctx_free(t->sctx);
}

/* The client reads (answering requests) and the server processes, until the
 * server's round is over or someone fails. Returns the server's status. */
static petrel_status drive_round(setup *t)
{
    petrel_status st = PETREL_ERR_WANT_READ;
    for (int i = 0; i < 10 && st == PETREL_ERR_WANT_READ; i++) {
        pair_move(t->p.s, t->p.c);
        uint8_t b[64];
        size_t n;
        petrel_status cs = petrel_conn_read(t->p.c, b, sizeof(b), &n);
        assert_true(cs == PETREL_ERR_WANT_READ || cs == PETREL_OK || cs == PETREL_ERR_PEER_ALERT ||
                    cs == PETREL_ERR_PROTOCOL);
        pair_move(t->p.c, t->p.s);
        st = petrel_conn_process(t->p.s);
    }
    return st;
}

static void expect_client_named(setup *t)
{
    petrel_cert_info info;
    assert_true(petrel_conn_has_peer_cert(t->p.s));
    assert_int_equal(petrel_conn_peer_cert(t->p.s, &info), PETREL_OK);
    assert_non_null(strstr(info.subject, "CN=client.test"));
    assert_int_equal(petrel_conn_verified_chain_len(t->p.s), 3);
    assert_int_equal(petrel_conn_unverified_chain_len(t->p.s), 2);
}

/* RFC 8446 4.6.2 end to end: anonymous, then asked, then named. */
static void test_round_trip_and_second_round(void **state)
{
    setup t;
    setup_new(&t, PETREL_CERT_REQUIRED, true, true, true);
    pair_handshake_ok(&t.p);
    assert_false(petrel_conn_has_peer_cert(t.p.s));
    assert_false(petrel_conn_peer_cert_pending(t.p.s));
    assert_int_equal(petrel_conn_verify_client_post_handshake(t.p.s), PETREL_OK);
    assert_true(petrel_conn_peer_cert_pending(t.p.s));
    assert_int_equal(petrel_conn_process(t.p.s), PETREL_ERR_WANT_READ);
    assert_int_equal(drive_round(&t), PETREL_OK);
    assert_false(petrel_conn_peer_cert_pending(t.p.s));
    expect_client_named(&t);
    pair_exchange(&t.p, t.p.c, t.p.s, "after round one", 15);
    /* A second round on the same connection starts from clean state. */
    assert_int_equal(petrel_conn_verify_client_post_handshake(t.p.s), PETREL_OK);
    assert_int_equal(drive_round(&t), PETREL_OK);
    expect_client_named(&t);
    pair_exchange(&t.p, t.p.s, t.p.c, "after round two", 15);
    setup_free(&t);
}

/* verify_mode x post_handshake_auth (each side) x certificate. */
static void matrix_cell(petrel_verify_mode mode, bool spha, bool cpha, bool cert)
{
    setup t;
    setup_new(&t, mode, spha, cpha, cert);
    petrel_status ss;
    petrel_status cs = pair_handshake(&t.p, &ss);
    bool in_handshake = mode != PETREL_CERT_NONE && !spha;
    if (in_handshake && mode == PETREL_CERT_REQUIRED && !cert) {
        assert_int_equal(ss, PETREL_ERR_PROTOCOL);
        assert_int_equal(petrel_conn_error(t.p.s)->alert, PETREL_ALERT_CERTIFICATE_REQUIRED);
        setup_free(&t);
        return;
    }
    assert_int_equal(cs, PETREL_OK);
    assert_int_equal(ss, PETREL_OK);
    assert_int_equal(petrel_conn_has_peer_cert(t.p.s), in_handshake && cert);
    petrel_status pha = petrel_conn_verify_client_post_handshake(t.p.s);
    if (mode == PETREL_CERT_NONE || !spha || !cpha) {
        assert_int_equal(pha, PETREL_ERR_MISUSE);
        pair_exchange(&t.p, t.p.c, t.p.s, "usable", 6);
        setup_free(&t);
        return;
    }
    assert_int_equal(pha, PETREL_OK);
    petrel_status st = drive_round(&t);
    if (cert) {
        assert_int_equal(st, PETREL_OK);
        expect_client_named(&t);
    } else if (mode == PETREL_CERT_OPTIONAL) {
        assert_int_equal(st, PETREL_OK);
        assert_false(petrel_conn_has_peer_cert(t.p.s));
        pair_exchange(&t.p, t.p.c, t.p.s, "goes on", 7);
    } else {
        assert_int_equal(st, PETREL_ERR_PROTOCOL);
        assert_int_equal(petrel_conn_error(t.p.s)->alert, PETREL_ALERT_CERTIFICATE_REQUIRED);
        assert_non_null(strstr(petrel_conn_error(t.p.s)->message, "required"));
        uint8_t b[8];
        size_t n;
        pair_move(t.p.s, t.p.c);
        assert_int_equal(petrel_conn_read(t.p.c, b, sizeof(b), &n), PETREL_ERR_PEER_ALERT);
        assert_int_equal(petrel_conn_error(t.p.c)->alert, PETREL_ALERT_CERTIFICATE_REQUIRED);
    }
    setup_free(&t);
}

static void test_matrix(void **state)
{
    const petrel_verify_mode modes[] = {PETREL_CERT_NONE, PETREL_CERT_OPTIONAL,
                                        PETREL_CERT_REQUIRED};
    for (int m = 0; m < 3; m++) {
        for (int cell = 0; cell < 8; cell++) {
            matrix_cell(modes[m], cell & 1, (cell >> 1) & 1, (cell >> 2) & 1);
        }
    }
}

static void test_optional_decline_then_second_round(void **state)
{
    setup t;
    setup_new(&t, PETREL_CERT_OPTIONAL, true, true, false);
    pair_handshake_ok(&t.p);
    assert_int_equal(petrel_conn_verify_client_post_handshake(t.p.s), PETREL_OK);
    assert_int_equal(drive_round(&t), PETREL_OK);
    assert_false(petrel_conn_has_peer_cert(t.p.s));
    assert_int_equal(petrel_conn_verify_client_post_handshake(t.p.s), PETREL_OK);
    assert_int_equal(drive_round(&t), PETREL_OK);
    assert_false(petrel_conn_has_peer_cert(t.p.s));
    pair_exchange(&t.p, t.p.c, t.p.s, "still here", 10);
    setup_free(&t);
}

static void expect_misuse(petrel_conn *conn, const char *fragment)
{
    assert_int_equal(petrel_conn_verify_client_post_handshake(conn), PETREL_ERR_MISUSE);
    const char *msg = petrel_conn_error(conn)->message;
    if (strstr(msg, fragment) == NULL) {
        fail_msg("expected '%s' in '%s'", fragment, msg);
    }
}

static void test_misuse_leaves_connection_usable(void **state)
{
    setup t;
    setup_new(&t, PETREL_CERT_REQUIRED, true, true, true);
    expect_misuse(t.p.s, "completed handshake");
    pair_handshake_ok(&t.p);
    expect_misuse(t.p.c, "server");
    assert_int_equal(petrel_conn_verify_client_post_handshake(t.p.s), PETREL_OK);
    expect_misuse(t.p.s, "already outstanding");
    assert_int_equal(drive_round(&t), PETREL_OK);
    pair_exchange(&t.p, t.p.c, t.p.s, "ok", 2);
    setup_free(&t);

    setup_new(&t, PETREL_CERT_REQUIRED, true, false, true);
    pair_handshake_ok(&t.p);
    expect_misuse(t.p.s, "did not offer");
    pair_exchange(&t.p, t.p.c, t.p.s, "ok", 2);
    setup_free(&t);

    setup_new(&t, PETREL_CERT_REQUIRED, false, true, true);
    pair_handshake_ok(&t.p);
    expect_misuse(t.p.s, "post_handshake_auth is off");
    setup_free(&t);

    setup_new(&t, PETREL_CERT_NONE, true, true, true);
    pair_handshake_ok(&t.p);
    expect_misuse(t.p.s, "CERT_NONE");
    pair_exchange(&t.p, t.p.s, t.p.c, "ok", 2);
    setup_free(&t);
}

static void test_h2_forbids_pha(void **state)
{
    setup t;
    const char *h2[] = {"h2"};
    t.cctx = client_ctx();
    t.sctx = server_ctx("server-p256");
    assert_int_equal(petrel_ctx_set_verify_mode(t.sctx, PETREL_CERT_REQUIRED), PETREL_OK);
    assert_int_equal(petrel_ctx_set_post_handshake_auth(t.sctx, true), PETREL_OK);
    assert_int_equal(petrel_ctx_set_post_handshake_auth(t.cctx, true), PETREL_OK);
    assert_int_equal(petrel_ctx_set_alpn_protocols(t.sctx, h2, 1), PETREL_OK);
    assert_int_equal(petrel_ctx_set_alpn_protocols(t.cctx, h2, 1), PETREL_OK);
    t.p = pair_new(t.cctx, t.sctx);
    pair_handshake_ok(&t.p);
    expect_misuse(t.p.s, "HTTP/2");
    pair_exchange(&t.p, t.p.c, t.p.s, "ok", 2);
    setup_free(&t);
}

/* Application data before, between and after the answer keeps its order. */
static void test_interleaved_data(void **state)
{
    setup t;
    setup_new(&t, PETREL_CERT_REQUIRED, true, true, true);
    pair_handshake_ok(&t.p);
    size_t n;
    assert_int_equal(petrel_conn_write(t.p.s, "A", 1, &n), PETREL_OK);
    assert_int_equal(petrel_conn_verify_client_post_handshake(t.p.s), PETREL_OK);
    assert_int_equal(petrel_conn_write(t.p.s, "B", 1, &n), PETREL_OK);
    assert_int_equal(petrel_conn_write(t.p.c, "c", 1, &n), PETREL_OK);
    pair_move(t.p.c, t.p.s);
    pair_move(t.p.s, t.p.c);
    char got[4] = {0};
    assert_int_equal(petrel_conn_read(t.p.c, got, 1, &n), PETREL_OK);
    assert_int_equal(petrel_conn_read(t.p.c, got + 1, 1, &n), PETREL_OK);
    assert_memory_equal(got, "AB", 2);
    assert_int_equal(petrel_conn_write(t.p.c, "d", 1, &n), PETREL_OK);
    pair_move(t.p.c, t.p.s);
    /* "c" came before the answer, "d" after it. */
    assert_int_equal(petrel_conn_read(t.p.s, got, 1, &n), PETREL_OK);
    assert_int_equal(got[0], 'c');
    assert_true(petrel_conn_peer_cert_pending(t.p.s) || petrel_conn_has_peer_cert(t.p.s));
    assert_int_equal(petrel_conn_read(t.p.s, got, 1, &n), PETREL_OK);
    assert_int_equal(got[0], 'd');
    assert_false(petrel_conn_peer_cert_pending(t.p.s));
    expect_client_named(&t);
    setup_free(&t);
}

/* Counts TLS records in a byte stream. */
static size_t count_records(const uint8_t *p, size_t len)
{
    size_t n = 0;
    while (len >= 5) {
        size_t rl = 5 + (((size_t)p[3] << 8) | p[4]);
        assert_true(rl <= len);
        p += rl;
        len -= rl;
        n++;
    }
    assert_int_equal(len, 0);
    return n;
}

static size_t answer_records(size_t max_fragment)
{
    setup t;
    setup_new(&t, PETREL_CERT_REQUIRED, true, true, true);
    pair_handshake_ok(&t.p);
    t.p.c->rl.max_fragment = max_fragment;
    assert_int_equal(petrel_conn_verify_client_post_handshake(t.p.s), PETREL_OK);
    pair_move(t.p.s, t.p.c);
    uint8_t b[8];
    size_t n;
    assert_int_equal(petrel_conn_read(t.p.c, b, sizeof(b), &n), PETREL_ERR_WANT_READ);
    uint8_t wire[16384];
    size_t len = petrel_conn_take_output(t.p.c, wire, sizeof(wire));
    size_t records = count_records(wire, len);
    size_t used;
    assert_int_equal(petrel_conn_feed(t.p.s, wire, len, &used), PETREL_OK);
    assert_int_equal(petrel_conn_process(t.p.s), PETREL_OK);
    expect_client_named(&t);
    setup_free(&t);
    return records;
}

static void test_answer_packed_and_split(void **state)
{
    assert_int_equal(answer_records(16384), 1);
    assert_true(answer_records(37) > 10);
}

/* Seals a hand-made handshake message with conn's current keys. */
static void inject(petrel_conn *conn, const uint8_t *msg, size_t len)
{
    petrel_status st = pt_send_handshake(conn, msg, len, NULL);
    assert_int_equal(st, PETREL_OK);
    assert_int_equal(pt_flush_handshake(conn), PETREL_OK);
}

static void expect_server_fault(setup *t, int alert, const char *fragment)
{
    pair_move(t->p.c, t->p.s);
    petrel_status st = petrel_conn_process(t->p.s);
    assert_int_equal(st, PETREL_ERR_PROTOCOL);
    assert_int_equal(petrel_conn_error(t->p.s)->alert, alert);
    if (fragment != NULL && strstr(petrel_conn_error(t->p.s)->message, fragment) == NULL) {
        fail_msg("expected '%s' in '%s'", fragment, petrel_conn_error(t->p.s)->message);
    }
    /* The alert is on the wire: the client reads it. */
    pair_move(t->p.s, t->p.c);
    uint8_t b[8];
    size_t n;
    st = petrel_conn_read(t->p.c, b, sizeof(b), &n);
    if (st != PETREL_ERR_PEER_ALERT) {
        fail_msg("client read: %s: %s", petrel_status_name(st), petrel_conn_error(t->p.c)->message);
    }
    assert_int_equal(petrel_conn_error(t->p.c)->alert, alert);
}

/* Drops what the server sent (its request), keeping the client's record
 * counter in step so later records still decrypt. */
static void drop_server_output(setup *t)
{
    uint8_t sink[4096];
    size_t n = petrel_conn_take_output(t->p.s, sink, sizeof(sink));
    assert_true(n > 0);
    t->p.c->rl.rd.seq += count_records(sink, n);
}

/* The server asks; the request is dropped; the test answers instead. */
static void ask_and_drop(setup *t)
{
    pair_handshake_ok(&t->p);
    assert_int_equal(petrel_conn_verify_client_post_handshake(t->p.s), PETREL_OK);
    drop_server_output(t);
}

static void inject_certificate(setup *t, const uint8_t *context, bool with_chain)
{
    assert_int_equal(pt_certificate_send(t->p.c, context, PT_PHA_CONTEXT_LEN, with_chain, NULL),
                     PETREL_OK);
    assert_int_equal(pt_flush_handshake(t->p.c), PETREL_OK);
}

/* A Finished of the right length whose MAC is wrong. */
static void inject_fake_finished(petrel_conn *conn)
{
    size_t n = pt_hash_len(conn->hash);
    uint8_t msg[4 + PT_MAX_HASH] = {PT_HS_FINISHED, 0, 0, (uint8_t)n, 1, 2, 3};
    inject(conn, msg, 4 + n);
}

static void test_finished_only_answer(void **state)
{
    setup t;
    setup_new(&t, PETREL_CERT_OPTIONAL, true, true, true);
    ask_and_drop(&t);
    inject_fake_finished(t.p.c);
    expect_server_fault(&t, PETREL_ALERT_UNEXPECTED_MESSAGE, "Finished");
    setup_free(&t);
}

static void test_certificate_without_cert_verify(void **state)
{
    setup t;
    setup_new(&t, PETREL_CERT_REQUIRED, true, true, true);
    ask_and_drop(&t);
    inject_certificate(&t, t.p.s->pha->context, true);
    inject_fake_finished(t.p.c);
    expect_server_fault(&t, PETREL_ALERT_UNEXPECTED_MESSAGE, "Finished");
    setup_free(&t);
}

static void test_second_round_omits_cert_verify(void **state)
{
    setup t;
    setup_new(&t, PETREL_CERT_REQUIRED, true, true, true);
    pair_handshake_ok(&t.p);
    assert_int_equal(petrel_conn_verify_client_post_handshake(t.p.s), PETREL_OK);
    assert_int_equal(drive_round(&t), PETREL_OK);
    assert_int_equal(petrel_conn_verify_client_post_handshake(t.p.s), PETREL_OK);
    drop_server_output(&t);
    inject_certificate(&t, t.p.s->pha->context, true);
    inject_fake_finished(t.p.c);
    expect_server_fault(&t, PETREL_ALERT_UNEXPECTED_MESSAGE, "Finished");
    setup_free(&t);
}

static void test_context_never_requested(void **state)
{
    setup t;
    setup_new(&t, PETREL_CERT_REQUIRED, true, true, true);
    ask_and_drop(&t);
    uint8_t wrong[PT_PHA_CONTEXT_LEN] = {9, 9, 9};
    inject_certificate(&t, wrong, true);
    expect_server_fault(&t, PETREL_ALERT_ILLEGAL_PARAMETER, "never requested");
    setup_free(&t);
}

static void test_bad_finished_is_decrypt_error(void **state)
{
    setup t;
    setup_new(&t, PETREL_CERT_OPTIONAL, true, true, false);
    ask_and_drop(&t);
    inject_certificate(&t, t.p.s->pha->context, false);
    inject_fake_finished(t.p.c);
    expect_server_fault(&t, PETREL_ALERT_DECRYPT_ERROR, "Finished");
    setup_free(&t);
}

static void test_bad_cert_verify_is_decrypt_error(void **state)
{
    setup t;
    setup_new(&t, PETREL_CERT_REQUIRED, true, true, true);
    ask_and_drop(&t);
    inject_certificate(&t, t.p.s->pha->context, true);
    uint8_t cv[4 + 4 + 70] = {PT_HS_CERTIFICATE_VERIFY, 0, 0, 74, 0x04, 0x03, 0, 70, 0x30, 0x44};
    inject(t.p.c, cv, sizeof(cv));
    expect_server_fault(&t, PETREL_ALERT_DECRYPT_ERROR, NULL);
    setup_free(&t);
}

/* Client side: RFC 8446 4.3.2 and 4.6.2. */
static void expect_client_fault(setup *t, int alert, const char *fragment)
{
    pair_move(t->p.s, t->p.c);
    uint8_t b[8];
    size_t n;
    assert_int_equal(petrel_conn_read(t->p.c, b, sizeof(b), &n), PETREL_ERR_PROTOCOL);
    assert_int_equal(petrel_conn_error(t->p.c)->alert, alert);
    if (strstr(petrel_conn_error(t->p.c)->message, fragment) == NULL) {
        fail_msg("expected '%s' in '%s'", fragment, petrel_conn_error(t->p.c)->message);
    }
    pair_move(t->p.c, t->p.s);
    assert_int_equal(petrel_conn_read(t->p.s, b, sizeof(b), &n), PETREL_ERR_PEER_ALERT);
    assert_int_equal(petrel_conn_error(t->p.s)->alert, alert);
}

static const uint8_t cr_empty_context[] = {
    PT_HS_CERTIFICATE_REQUEST, 0, 0, 11, 0, 0, 8, 0, 13, 0, 4, 0, 2, 4, 3};

static void test_request_to_client_that_did_not_offer(void **state)
{
    setup t;
    setup_new(&t, PETREL_CERT_REQUIRED, true, false, true);
    pair_handshake_ok(&t.p);
    static const uint8_t cr[] = {
        PT_HS_CERTIFICATE_REQUEST, 0, 0, 12, 1, 7, 0, 8, 0, 13, 0, 4, 0, 2, 4, 3};
    inject(t.p.s, cr, sizeof(cr));
    expect_client_fault(&t, PETREL_ALERT_UNEXPECTED_MESSAGE, "did not offer");
    setup_free(&t);
}

static void test_empty_context_after_handshake(void **state)
{
    setup t;
    setup_new(&t, PETREL_CERT_REQUIRED, true, true, true);
    pair_handshake_ok(&t.p);
    inject(t.p.s, cr_empty_context, sizeof(cr_empty_context));
    expect_client_fault(&t, PETREL_ALERT_ILLEGAL_PARAMETER, "empty certificate_request_context");
    setup_free(&t);
}

/* RFC 8446 4.2: server_name is known but not a CertificateRequest's. */
static const uint8_t cr_with_server_name[] = {
    PT_HS_CERTIFICATE_REQUEST, 0, 0, 16, 1, 9, 0, 12, 0, 13, 0, 4, 0, 2, 4, 3, 0, 0, 0, 0};

static void test_request_with_misplaced_extension(void **state)
{
    setup t;
    setup_new(&t, PETREL_CERT_REQUIRED, true, true, true);
    pair_handshake_ok(&t.p);
    inject(t.p.s, cr_with_server_name, sizeof(cr_with_server_name));
    expect_client_fault(&t, PETREL_ALERT_ILLEGAL_PARAMETER, "cannot carry");
    setup_free(&t);
}

static void test_nonempty_context_in_handshake(void **state)
{
    petrel_ctx *cctx = client_ctx();
    petrel_conn *c = petrel_conn_new(cctx, "localhost");
    assert_int_equal(petrel_conn_do_handshake(c), PETREL_ERR_WANT_READ);
    pt_set_state(c, PT_ST_C_WAIT_CERT_CR);
    static const uint8_t body[] = {1, 7, 0, 8, 0, 13, 0, 4, 0, 2, 4, 3};
    petrel_status st = pt_dispatch(c, PT_HS_CERTIFICATE_REQUEST, pt_span_of(body, sizeof(body)),
                                   body, sizeof(body));
    assert_int_equal(st, PETREL_ERR_PROTOCOL);
    assert_int_equal(c->err.pub.alert, PETREL_ALERT_ILLEGAL_PARAMETER);
    assert_non_null(strstr(c->err.pub.message, "non-empty certificate_request_context"));
    petrel_conn_free(c);
    petrel_ctx_free(cctx);
}

/* The answer is chosen by the callback, which sees the request. */
static bool decline_cb(petrel_conn *conn, const petrel_cert_request *req, void *userdata)
{
    int *calls = userdata;
    (*calls)++;
    assert_true(req->post_handshake);
    assert_true(req->sigalg_count > 0);
    return false;
}

static void test_client_cert_callback(void **state)
{
    setup t;
    int calls = 0;
    t.cctx = client_ctx();
    t.sctx = server_ctx("server-p256");
    assert_int_equal(petrel_ctx_set_verify_mode(t.sctx, PETREL_CERT_OPTIONAL), PETREL_OK);
    assert_int_equal(petrel_ctx_set_post_handshake_auth(t.sctx, true), PETREL_OK);
    assert_int_equal(petrel_ctx_set_post_handshake_auth(t.cctx, true), PETREL_OK);
    assert_int_equal(petrel_ctx_load_cert_chain(t.cctx, pki("client-p256-chain.pem"),
                                                pki("client-p256.key"), NULL, NULL),
                     PETREL_OK);
    petrel_ctx_set_client_cert_callback(t.cctx, decline_cb, &calls);
    t.p = pair_new(t.cctx, t.sctx);
    pair_handshake_ok(&t.p);
    assert_int_equal(petrel_conn_verify_client_post_handshake(t.p.s), PETREL_OK);
    assert_int_equal(drive_round(&t), PETREL_OK);
    assert_int_equal(calls, 1);
    assert_false(petrel_conn_has_peer_cert(t.p.s));
    setup_free(&t);
}

/* The callback sees the CAs a request names (certificate_authorities). */
typedef struct ca_seen {
    size_t count;
    size_t first_len;
    uint8_t first[8];
} ca_seen;

static bool record_cas(petrel_conn *conn, const petrel_cert_request *req, void *userdata)
{
    ca_seen *seen = userdata;
    seen->count = req->ca_name_count;
    if (req->ca_name_count > 0 && req->ca_name_lens[0] <= sizeof(seen->first)) {
        seen->first_len = req->ca_name_lens[0];
        memcpy(seen->first, req->ca_names[0], req->ca_name_lens[0]);
    }
    return false;
}

static void test_callback_sees_ca_names(void **state)
{
    setup t;
    ca_seen seen = {0};
    t.cctx = client_ctx();
    t.sctx = server_ctx("server-p256");
    assert_int_equal(petrel_ctx_set_post_handshake_auth(t.cctx, true), PETREL_OK);
    assert_int_equal(petrel_ctx_load_cert_chain(t.cctx, pki("client-p256-chain.pem"),
                                                pki("client-p256.key"), NULL, NULL),
                     PETREL_OK);
    petrel_ctx_set_client_cert_callback(t.cctx, record_cas, &seen);
    t.p = pair_new(t.cctx, t.sctx);
    pair_handshake_ok(&t.p);
    /* context 7; signature_algorithms [ecdsa_secp256r1_sha256];
     * certificate_authorities ["AB", "CDE"] */
    static const uint8_t cr[] = {PT_HS_CERTIFICATE_REQUEST,
                                 0,
                                 0,
                                 27,
                                 1,
                                 7,
                                 0,
                                 23,
                                 0,
                                 13,
                                 0,
                                 4,
                                 0,
                                 2,
                                 4,
                                 3,
                                 0,
                                 47,
                                 0,
                                 11,
                                 0,
                                 9,
                                 0,
                                 2,
                                 'A',
                                 'B',
                                 0,
                                 3,
                                 'C',
                                 'D',
                                 'E'};
    inject(t.p.s, cr, sizeof(cr));
    pair_move(t.p.s, t.p.c);
    uint8_t b[8];
    size_t n;
    assert_int_equal(petrel_conn_read(t.p.c, b, sizeof(b), &n), PETREL_ERR_WANT_READ);
    assert_int_equal(seen.count, 2);
    assert_int_equal(seen.first_len, 2);
    assert_memory_equal(seen.first, "AB", 2);
    setup_free(&t);
}

/* Setting post_handshake_auth on a client never changes how it verifies
 * the server: CERT_NONE still connects to an untrusted one. */
static void test_pha_does_not_change_server_verification(void **state)
{
    petrel_ctx *cctx = petrel_ctx_new(PETREL_CLIENT);
    assert_int_equal(petrel_ctx_set_check_hostname(cctx, false), PETREL_OK);
    assert_int_equal(petrel_ctx_set_verify_mode(cctx, PETREL_CERT_NONE), PETREL_OK);
    assert_int_equal(petrel_ctx_set_post_handshake_auth(cctx, true), PETREL_OK);
    petrel_ctx *sctx = server_ctx("untrusted");
    pair p = pair_new(cctx, sctx);
    petrel_status ss;
    assert_int_equal(pair_handshake(&p, &ss), PETREL_OK);
    assert_int_equal(ss, PETREL_OK);
    assert_true(p.c->pha_offered);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* A chain that fails verification after the handshake: the verify code,
 * the matching alert on the wire, and a sentence. */
static void test_pha_chain_fails_verification(void **state)
{
    setup t;
    t.cctx = client_ctx();
    t.sctx = server_ctx("server-p256");
    assert_int_equal(petrel_ctx_set_verify_mode(t.sctx, PETREL_CERT_REQUIRED), PETREL_OK);
    assert_int_equal(petrel_ctx_set_post_handshake_auth(t.sctx, true), PETREL_OK);
    assert_int_equal(petrel_ctx_set_post_handshake_auth(t.cctx, true), PETREL_OK);
    assert_int_equal(petrel_ctx_load_cert_chain(t.cctx, pki("untrusted-chain.pem"),
                                                pki("untrusted.key"), NULL, NULL),
                     PETREL_OK);
    t.p = pair_new(t.cctx, t.sctx);
    pair_handshake_ok(&t.p);
    assert_int_equal(petrel_conn_verify_client_post_handshake(t.p.s), PETREL_OK);
    assert_int_equal(drive_round(&t), PETREL_ERR_CERT_VERIFY);
    const petrel_error *e = petrel_conn_error(t.p.s);
    assert_int_equal(e->alert, PETREL_ALERT_UNKNOWN_CA);
    assert_true(e->verify_code != 0);
    assert_non_null(strstr(e->message, "certificate verify failed"));
    assert_false(petrel_conn_has_peer_cert(t.p.s));
    pair_move(t.p.s, t.p.c);
    uint8_t b[8];
    size_t n;
    assert_int_equal(petrel_conn_read(t.p.c, b, sizeof(b), &n), PETREL_ERR_PEER_ALERT);
    assert_int_equal(petrel_conn_error(t.p.c)->alert, PETREL_ALERT_UNKNOWN_CA);
    setup_free(&t);
}

/* Two requests outstanding at once: the client answers both, in order,
 * each against its own transcript. The server here plays a peer that
 * keeps two rounds open: the second round is opened by hand when the
 * first answer has been checked. */
static void test_two_outstanding_requests_answered_in_order(void **state)
{
    setup t;
    setup_new(&t, PETREL_CERT_REQUIRED, true, true, true);
    pair_handshake_ok(&t.p);
    assert_int_equal(petrel_conn_verify_client_post_handshake(t.p.s), PETREL_OK);
    uint8_t cr2[4 + 1 + PT_PHA_CONTEXT_LEN + 2 + 8] = {
        PT_HS_CERTIFICATE_REQUEST, 0, 0, 1 + PT_PHA_CONTEXT_LEN + 2 + 8, PT_PHA_CONTEXT_LEN};
    memset(cr2 + 5, 0x42, PT_PHA_CONTEXT_LEN);
    static const uint8_t exts[] = {0, 8, 0, 13, 0, 4, 0, 2, 4, 3};
    memcpy(cr2 + 5 + PT_PHA_CONTEXT_LEN, exts, sizeof(exts));
    inject(t.p.s, cr2, sizeof(cr2));
    pair_move(t.p.s, t.p.c);
    uint8_t b[8];
    size_t n;
    assert_int_equal(petrel_conn_read(t.p.c, b, sizeof(b), &n), PETREL_ERR_WANT_READ);
    uint8_t wire[16384];
    size_t len = petrel_conn_take_output(t.p.c, wire, sizeof(wire));
    assert_int_equal(count_records(wire, len), 2);
    size_t first = 5 + (((size_t)wire[3] << 8) | wire[4]);
    size_t used;
    assert_int_equal(petrel_conn_feed(t.p.s, wire, first, &used), PETREL_OK);
    assert_int_equal(petrel_conn_process(t.p.s), PETREL_OK);
    expect_client_named(&t);
    /* Round two, for the context 0x42 the client saw second. */
    struct pt_pha *pha = calloc(1, sizeof(*pha));
    assert_non_null(pha);
    memset(pha->context, 0x42, PT_PHA_CONTEXT_LEN);
    assert_int_equal(pt_hash_copy(&pha->tr, &t.p.s->pha_transcript, NULL), PETREL_OK);
    assert_int_equal(pt_hash_update(&pha->tr, cr2, sizeof(cr2), NULL), PETREL_OK);
    t.p.s->pha = pha;
    pt_set_state(t.p.s, PT_ST_PHA_WAIT_CERT);
    assert_int_equal(petrel_conn_feed(t.p.s, wire + first, len - first, &used), PETREL_OK);
    assert_int_equal(petrel_conn_process(t.p.s), PETREL_OK);
    assert_false(petrel_conn_peer_cert_pending(t.p.s));
    expect_client_named(&t);
    pair_exchange(&t.p, t.p.c, t.p.s, "after both", 10);
    setup_free(&t);
}

/* The latest answer decides: declining a second request (CERT_OPTIONAL)
 * leaves the client anonymous, whatever it proved in the first. */
static bool answer_once(petrel_conn *conn, const petrel_cert_request *req, void *userdata)
{
    int *calls = userdata;
    return (*calls)++ == 0;
}

static void test_declined_round_clears_peer(void **state)
{
    setup t;
    int calls = 0;
    t.cctx = client_ctx();
    t.sctx = server_ctx("server-p256");
    assert_int_equal(petrel_ctx_set_verify_mode(t.sctx, PETREL_CERT_OPTIONAL), PETREL_OK);
    assert_int_equal(petrel_ctx_set_post_handshake_auth(t.sctx, true), PETREL_OK);
    assert_int_equal(petrel_ctx_set_post_handshake_auth(t.cctx, true), PETREL_OK);
    assert_int_equal(petrel_ctx_load_cert_chain(t.cctx, pki("client-p256-chain.pem"),
                                                pki("client-p256.key"), NULL, NULL),
                     PETREL_OK);
    petrel_ctx_set_client_cert_callback(t.cctx, answer_once, &calls);
    t.p = pair_new(t.cctx, t.sctx);
    pair_handshake_ok(&t.p);
    assert_int_equal(petrel_conn_verify_client_post_handshake(t.p.s), PETREL_OK);
    assert_int_equal(drive_round(&t), PETREL_OK);
    expect_client_named(&t);
    assert_int_equal(petrel_conn_verify_client_post_handshake(t.p.s), PETREL_OK);
    assert_int_equal(drive_round(&t), PETREL_OK);
    assert_int_equal(calls, 2);
    assert_false(petrel_conn_has_peer_cert(t.p.s));
    assert_int_equal(petrel_conn_verified_chain_len(t.p.s), 0);
    setup_free(&t);
}

/* Calls that process input, made from inside the callback, are refused
 * with a sentence; the answer still goes out once the callback returns. */
static bool reenter_cb(petrel_conn *conn, const petrel_cert_request *req, void *userdata)
{
    int *refused = userdata;
    uint8_t b[64];
    size_t n = 0;
    petrel_status st[] = {
        petrel_conn_read(conn, b, sizeof(b), &n),
        petrel_conn_shutdown(conn),
        petrel_conn_process(conn),
        petrel_conn_do_handshake(conn),
        petrel_conn_feed(conn, b, 1, &n),
    };
    for (size_t i = 0; i < PT_ARRAY_LEN(st); i++) {
        *refused += st[i] == PETREL_ERR_MISUSE;
    }
    const char *why = petrel_conn_error(conn)->message;
    if (strstr(why, "inside the client certificate callback") == NULL) {
        *refused = -100;
    }
    return req->post_handshake;
}

static void test_callback_cannot_reenter(void **state)
{
    setup t;
    int refused = 0;
    t.cctx = client_ctx();
    t.sctx = server_ctx("server-p256");
    assert_int_equal(petrel_ctx_set_verify_mode(t.sctx, PETREL_CERT_REQUIRED), PETREL_OK);
    assert_int_equal(petrel_ctx_set_post_handshake_auth(t.sctx, true), PETREL_OK);
    assert_int_equal(petrel_ctx_set_post_handshake_auth(t.cctx, true), PETREL_OK);
    assert_int_equal(petrel_ctx_load_cert_chain(t.cctx, pki("client-p256-chain.pem"),
                                                pki("client-p256.key"), NULL, NULL),
                     PETREL_OK);
    petrel_ctx_set_client_cert_callback(t.cctx, reenter_cb, &refused);
    t.p = pair_new(t.cctx, t.sctx);
    pair_handshake_ok(&t.p);
    assert_int_equal(petrel_conn_verify_client_post_handshake(t.p.s), PETREL_OK);
    assert_int_equal(drive_round(&t), PETREL_OK);
    assert_int_equal(refused, 5);
    expect_client_named(&t);
    pair_exchange(&t.p, t.p.s, t.p.c, "no record was lost", 18);
    pair_exchange(&t.p, t.p.c, t.p.s, "both ways", 9);
    setup_free(&t);
}

/* In the handshake, write from the callback would drive the handshake the
 * callback is part of: refused, and the handshake completes. */
static bool write_in_handshake_cb(petrel_conn *conn, const petrel_cert_request *req, void *userdata)
{
    int *refused = userdata;
    size_t n = 0;
    if (petrel_conn_write(conn, "early", 5, &n) == PETREL_ERR_MISUSE &&
        strstr(petrel_conn_error(conn)->message, "during the handshake") != NULL) {
        (*refused)++;
    }
    return !req->post_handshake;
}

static void test_callback_cannot_write_in_handshake(void **state)
{
    for (int v = 0; v < 2; v++) {
        int refused = 0;
        petrel_ctx *cctx = client_ctx();
        petrel_ctx *sctx = server_ctx("server-p256");
        assert_int_equal(
            petrel_ctx_set_maximum_version(cctx, v == 0 ? PETREL_TLS1_3 : PETREL_TLS1_2),
            PETREL_OK);
        assert_int_equal(petrel_ctx_set_verify_mode(sctx, PETREL_CERT_REQUIRED), PETREL_OK);
        assert_int_equal(petrel_ctx_load_cert_chain(cctx, pki("client-p256-chain.pem"),
                                                    pki("client-p256.key"), NULL, NULL),
                         PETREL_OK);
        petrel_ctx_set_client_cert_callback(cctx, write_in_handshake_cb, &refused);
        pair p = pair_new(cctx, sctx);
        pair_handshake_ok(&p);
        assert_int_equal(refused, 1);
        assert_true(petrel_conn_has_peer_cert(p.s));
        pair_exchange(&p, p.c, p.s, "after", 5);
        pair_free(&p);
        petrel_ctx_free(cctx);
        petrel_ctx_free(sctx);
    }
}

/* RFC 8446 6.1: nothing follows a close_notify, not even the answer to a
 * certificate request that crossed it. */
static void test_no_answer_after_close_notify(void **state)
{
    setup t;
    setup_new(&t, PETREL_CERT_REQUIRED, true, true, true);
    pair_handshake_ok(&t.p);
    assert_int_equal(petrel_conn_shutdown(t.p.c), PETREL_ERR_WANT_READ);
    size_t queued = petrel_conn_output_pending(t.p.c);
    assert_true(queued > 0);
    assert_int_equal(petrel_conn_verify_client_post_handshake(t.p.s), PETREL_OK);
    assert_int_equal(petrel_conn_process(t.p.s), PETREL_ERR_WANT_READ);
    pair_move(t.p.s, t.p.c);
    uint8_t b[8];
    size_t n;
    assert_int_equal(petrel_conn_read(t.p.c, b, sizeof(b), &n), PETREL_ERR_WANT_READ);
    assert_int_equal(petrel_conn_output_pending(t.p.c), queued);
    setup_free(&t);
}

/* After a fatal error nothing is delivered, not even data that arrived
 * before it from the peer that then failed to authenticate. */
static void test_fatal_error_hides_buffered_data(void **state)
{
    setup t;
    setup_new(&t, PETREL_CERT_REQUIRED, true, true, false);
    pair_handshake_ok(&t.p);
    assert_int_equal(petrel_conn_verify_client_post_handshake(t.p.s), PETREL_OK);
    pair_move(t.p.s, t.p.c);
    size_t n;
    assert_int_equal(petrel_conn_write(t.p.c, "unauthenticated", 15, &n), PETREL_OK);
    uint8_t b[32];
    assert_int_equal(petrel_conn_read(t.p.c, b, sizeof(b), &n), PETREL_ERR_WANT_READ);
    pair_move(t.p.c, t.p.s);
    assert_int_equal(petrel_conn_process(t.p.s), PETREL_ERR_PROTOCOL);
    assert_int_equal(petrel_conn_error(t.p.s)->alert, PETREL_ALERT_CERTIFICATE_REQUIRED);
    assert_int_equal(petrel_conn_read(t.p.s, b, sizeof(b), &n), PETREL_ERR_PROTOCOL);
    assert_int_equal(n, 0);
    setup_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_and_second_round),
        cmocka_unit_test(test_matrix),
        cmocka_unit_test(test_optional_decline_then_second_round),
        cmocka_unit_test(test_misuse_leaves_connection_usable),
        cmocka_unit_test(test_h2_forbids_pha),
        cmocka_unit_test(test_interleaved_data),
        cmocka_unit_test(test_answer_packed_and_split),
        cmocka_unit_test(test_finished_only_answer),
        cmocka_unit_test(test_certificate_without_cert_verify),
        cmocka_unit_test(test_second_round_omits_cert_verify),
        cmocka_unit_test(test_context_never_requested),
        cmocka_unit_test(test_bad_finished_is_decrypt_error),
        cmocka_unit_test(test_bad_cert_verify_is_decrypt_error),
        cmocka_unit_test(test_request_to_client_that_did_not_offer),
        cmocka_unit_test(test_empty_context_after_handshake),
        cmocka_unit_test(test_request_with_misplaced_extension),
        cmocka_unit_test(test_nonempty_context_in_handshake),
        cmocka_unit_test(test_client_cert_callback),
        cmocka_unit_test(test_callback_cannot_reenter),
        cmocka_unit_test(test_callback_cannot_write_in_handshake),
        cmocka_unit_test(test_no_answer_after_close_notify),
        cmocka_unit_test(test_callback_sees_ca_names),
        cmocka_unit_test(test_pha_does_not_change_server_verification),
        cmocka_unit_test(test_pha_chain_fails_verification),
        cmocka_unit_test(test_two_outstanding_requests_answered_in_order),
        cmocka_unit_test(test_declined_round_clears_peer),
        cmocka_unit_test(test_fatal_error_hides_buffered_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
