/*
 * test_handshake.c - TLS 1.3 handshakes with both ends in one process:
 * every suite, group and server key type, HRR, ALPN, SNI, client
 * certificates, KeyUpdate, and close_notify.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "engine/internal.h"
#include "pair.h"

static void run_suite_group(const char *leaf, const char *suite, const char *group)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx(leaf);
    assert_int_equal(petrel_ctx_set_ciphersuites(cctx, suite), PETREL_OK);
    assert_int_equal(petrel_ctx_set_groups(cctx, group), PETREL_OK);
    pair p = pair_new(cctx, sctx);
    pair_handshake_ok(&p);
    assert_string_equal(petrel_conn_version_name(p.c), "TLSv1.3");
    assert_string_equal(petrel_conn_cipher(p.c), suite);
    assert_string_equal(petrel_conn_cipher(p.s), suite);
    assert_string_equal(petrel_conn_group(p.c), petrel_conn_group(p.s));
    assert_true(petrel_conn_has_peer_cert(p.c));
    assert_false(petrel_conn_has_peer_cert(p.s));
    assert_int_equal(petrel_conn_verify_result(p.c), 0);
    pair_exchange(&p, p.c, p.s, "hello server", 12);
    pair_exchange(&p, p.s, p.c, "hello client", 12);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static void test_suites_groups_keys(void **state)
{
    static const char *const suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                         "TLS_CHACHA20_POLY1305_SHA256"};
    static const char *const groups[] = {"x25519", "secp256r1", "secp384r1"};
    static const char *const leaves[] = {"server-p256", "server-rsa2048", "server-p384",
                                         "server-ed25519", "server-rsapss"};
    for (size_t s = 0; s < 3; s++) {
        for (size_t g = 0; g < 3; g++) {
            for (size_t l = 0; l < 5; l++) {
                run_suite_group(leaves[l], suites[s], groups[g]);
            }
        }
    }
}

static void test_hello_retry_request(void **state)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    /* The client's first share is x25519; the server accepts only P-384. */
    assert_int_equal(petrel_ctx_set_groups(cctx, "x25519:P-384"), PETREL_OK);
    assert_int_equal(petrel_ctx_set_groups(sctx, "P-384"), PETREL_OK);
    pair p = pair_new(cctx, sctx);
    pair_handshake_ok(&p);
    assert_string_equal(petrel_conn_group(p.c), "secp384r1");
    pair_exchange(&p, p.c, p.s, "after hrr", 9);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static void test_alpn_and_sni(void **state)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    const char *cp[] = {"h2", "http/1.1"};
    const char *sp[] = {"http/1.1", "h2"};
    assert_int_equal(petrel_ctx_set_alpn_protocols(cctx, cp, 2), PETREL_OK);
    assert_int_equal(petrel_ctx_set_alpn_protocols(sctx, sp, 2), PETREL_OK);
    pair p = pair_new(cctx, sctx);
    pair_handshake_ok(&p);
    assert_string_equal(petrel_conn_alpn_selected(p.c), "http/1.1");
    assert_string_equal(petrel_conn_alpn_selected(p.s), "http/1.1");
    assert_string_equal(petrel_conn_server_hostname(p.s), "localhost");
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static void client_auth_case(petrel_verify_mode mode, bool client_has_cert, bool expect_ok)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    assert_int_equal(petrel_ctx_set_verify_mode(sctx, mode), PETREL_OK);
    if (client_has_cert) {
        assert_int_equal(petrel_ctx_load_cert_chain(cctx, pki("client-p256-chain.pem"),
                                                    pki("client-p256.key"), NULL, NULL),
                         PETREL_OK);
    }
    pair p = pair_new(cctx, sctx);
    petrel_status ss;
    petrel_status cs = pair_handshake(&p, &ss);
    if (expect_ok) {
        assert_int_equal(ss, PETREL_OK);
        assert_int_equal(cs, PETREL_OK);
        assert_int_equal(petrel_conn_has_peer_cert(p.s), client_has_cert);
        if (client_has_cert) {
            petrel_cert_info info;
            assert_int_equal(petrel_conn_peer_cert(p.s, &info), PETREL_OK);
            assert_non_null(strstr(info.subject, "client.test"));
        }
        pair_exchange(&p, p.c, p.s, "x", 1);
    } else {
        assert_int_equal(ss, PETREL_ERR_PROTOCOL);
        assert_int_equal(petrel_conn_error(p.s)->alert, PETREL_ALERT_CERTIFICATE_REQUIRED);
        /* The client learns of it from the alert on its next read. */
        uint8_t b[8];
        size_t n;
        petrel_status st = petrel_conn_read(p.c, b, sizeof(b), &n);
        assert_int_equal(st, PETREL_ERR_PEER_ALERT);
        assert_int_equal(petrel_conn_error(p.c)->alert, PETREL_ALERT_CERTIFICATE_REQUIRED);
    }
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static void test_client_auth_in_handshake(void **state)
{
    client_auth_case(PETREL_CERT_REQUIRED, true, true);
    client_auth_case(PETREL_CERT_OPTIONAL, true, true);
    client_auth_case(PETREL_CERT_OPTIONAL, false, true);
    client_auth_case(PETREL_CERT_REQUIRED, false, false);
}

static void test_key_update_both_ways(void **state)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    pair p = pair_new(cctx, sctx);
    pair_handshake_ok(&p);
    assert_int_equal(petrel_conn_key_update(p.c, true), PETREL_OK);
    pair_exchange(&p, p.c, p.s, "after client update", 19);
    pair_exchange(&p, p.s, p.c, "server answers", 14);
    assert_int_equal(petrel_conn_key_update(p.s, false), PETREL_OK);
    pair_exchange(&p, p.s, p.c, "after server update", 19);
    pair_exchange(&p, p.c, p.s, "still fine", 10);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static void test_close_notify(void **state)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    pair p = pair_new(cctx, sctx);
    pair_handshake_ok(&p);
    pair_exchange(&p, p.c, p.s, "bye", 3);
    assert_int_equal(petrel_conn_shutdown(p.c), PETREL_ERR_WANT_READ);
    pair_move(p.c, p.s);
    uint8_t b[8];
    size_t n;
    assert_int_equal(petrel_conn_read(p.s, b, sizeof(b), &n), PETREL_ERR_ZERO_RETURN);
    assert_int_equal(petrel_conn_shutdown(p.s), PETREL_OK);
    pair_move(p.s, p.c);
    assert_int_equal(petrel_conn_shutdown(p.c), PETREL_OK);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static void test_wrong_hostname_fails(void **state)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("wronghost");
    pair p = pair_new(cctx, sctx);
    petrel_status ss;
    petrel_status cs = pair_handshake(&p, &ss);
    assert_int_equal(cs, PETREL_ERR_CERT_VERIFY);
    assert_non_null(strstr(petrel_conn_error(p.c)->message, "Hostname mismatch"));
    assert_int_equal(ss, PETREL_ERR_PEER_ALERT);
    assert_int_equal(petrel_conn_error(p.s)->alert, PETREL_ALERT_BAD_CERTIFICATE);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* RFC 8446 5.5: the sender changes keys before the AEAD's usage limit. */
static void test_automatic_key_update(void **state)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    pair p = pair_new(cctx, sctx);
    pair_handshake_ok(&p);
    p.c->rl.wr.limit = 3;
    uint8_t before[PT_MAX_HASH];
    memcpy(before, p.c->client_app_secret, sizeof(before));
    for (int i = 0; i < 6; i++) {
        pair_exchange(&p, p.c, p.s, "record", 6);
    }
    assert_memory_not_equal(before, p.c->client_app_secret, pt_hash_len(p.c->hash));
    assert_memory_equal(p.s->client_app_secret, p.c->client_app_secret, pt_hash_len(p.c->hash));
    assert_true(p.c->rl.wr.seq < 6); /* the sequence restarted with the new key */
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* NewSessionTicket (RFC 8446 4.6.1): kept with its resumption PSK. */
static void test_session_tickets_kept(void **state)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    /* Only the hand-made tickets below reach the client. */
    assert_int_equal(petrel_ctx_set_num_tickets(sctx, 0), PETREL_OK);
    pair p = pair_new(cctx, sctx);
    pair_handshake_ok(&p);
    static const uint8_t nst[] = {PT_HS_NEW_SESSION_TICKET,
                                  0,
                                  0,
                                  17,
                                  0,
                                  0,
                                  0x1c,
                                  0x20,
                                  1,
                                  2,
                                  3,
                                  4,
                                  1,
                                  0,
                                  0,
                                  3,
                                  't',
                                  'k',
                                  't',
                                  0,
                                  0};
    for (int i = 0; i < 6; i++) {
        assert_int_equal(pt_send_handshake(p.s, nst, sizeof(nst), NULL), PETREL_OK);
    }
    assert_int_equal(pt_flush_handshake(p.s), PETREL_OK);
    pair_exchange(&p, p.s, p.c, "data", 4);
    assert_int_equal(petrel_conn_session_tickets(p.c), 6);
    assert_int_equal(p.c->kept[0].len, 3);
    assert_int_equal(p.c->kept[0].lifetime, 7200);
    uint8_t zero[PT_MAX_HASH] = {0};
    assert_memory_not_equal(p.c->kept[0].psk, zero, pt_hash_len(p.c->hash));
    /* A malformed ticket (empty) is a decode_error. */
    static const uint8_t bad[] = {
        PT_HS_NEW_SESSION_TICKET, 0, 0, 13, 0, 0, 0x1c, 0x20, 1, 2, 3, 4, 0, 0, 0, 0, 0};
    assert_int_equal(pt_send_handshake(p.s, bad, sizeof(bad), NULL), PETREL_OK);
    assert_int_equal(pt_flush_handshake(p.s), PETREL_OK);
    pair_move(p.s, p.c);
    uint8_t b[8];
    size_t n;
    assert_int_equal(petrel_conn_read(p.c, b, sizeof(b), &n), PETREL_ERR_PROTOCOL);
    assert_int_equal(petrel_conn_error(p.c)->alert, PETREL_ALERT_DECODE_ERROR);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* RFC 8449: the peer's record_size_limit caps our fragments. */
static void test_record_size_limit(void **state)
{
    petrel_ctx *cctx = client_ctx();
    petrel_conn *c = petrel_conn_new(cctx, "localhost");
    static const uint8_t limit64[] = {0, 64};
    static const uint8_t limit63[] = {0, 63};
    pt_exts x = {.present = PT_XBIT(PT_X_RECORD_SIZE_LIMIT)};
    x.body[PT_X_RECORD_SIZE_LIMIT] = pt_span_of(limit64, 2);
    assert_int_equal(pt_record_size_limit_recv(c, &x), PETREL_OK);
    assert_int_equal(c->rl.max_fragment, 63);
    x.body[PT_X_RECORD_SIZE_LIMIT] = pt_span_of(limit63, 2);
    assert_int_equal(pt_record_size_limit_recv(c, &x), PETREL_ERR_PROTOCOL);
    assert_int_equal(c->err.pub.alert, PETREL_ALERT_ILLEGAL_PARAMETER);
    petrel_conn_free(c);
    petrel_ctx_free(cctx);
}

/* A client that fails while reading the server's flight may still write in
 * the clear (OpenSSL does): the server takes its unprotected alert until the
 * client's first protected record, and refuses one after. */
static void test_plain_alert_from_client(void **state)
{
    static const uint8_t alert[] = {PT_CT_ALERT, 3, 3, 0, 2, 2, PETREL_ALERT_UNKNOWN_CA};
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    pair p = pair_new(cctx, sctx);
    assert_int_equal(petrel_conn_do_handshake(p.c), PETREL_ERR_WANT_READ);
    pair_move(p.c, p.s);
    assert_int_equal(petrel_conn_do_handshake(p.s), PETREL_ERR_WANT_READ);
    size_t used;
    assert_int_equal(petrel_conn_feed(p.s, alert, sizeof(alert), &used), PETREL_OK);
    assert_int_equal(petrel_conn_do_handshake(p.s), PETREL_ERR_PEER_ALERT);
    assert_int_equal(petrel_conn_error(p.s)->alert, PETREL_ALERT_UNKNOWN_CA);
    pair_free(&p);

    p = pair_new(cctx, sctx);
    pair_handshake_ok(&p);
    assert_int_equal(petrel_conn_feed(p.s, alert, sizeof(alert), &used), PETREL_OK);
    uint8_t b[8];
    size_t n;
    assert_int_equal(petrel_conn_read(p.s, b, sizeof(b), &n), PETREL_ERR_PROTOCOL);
    assert_int_equal(petrel_conn_error(p.s)->alert, PETREL_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* Draining output before anything was queued is not an error. */
/* Reads every byte of len written by from, in reads of at most cap bytes,
 * while a KeyUpdate travels between the records. */
static void read_in_pieces(pair *p, size_t cap, bool tls13)
{
    enum { TOTAL = 3 * 16384 + 1000 };
    static uint8_t sent[TOTAL];
    static uint8_t got[TOTAL + 16500];
    for (size_t i = 0; i < TOTAL; i++) {
        sent[i] = (uint8_t)(i * 31 + cap);
    }
    size_t half = TOTAL / 2;
    size_t n = 0;
    assert_int_equal(petrel_conn_write(p->c, sent, half, &n), PETREL_OK);
    if (tls13) {
        assert_int_equal(petrel_conn_key_update(p->c, false), PETREL_OK);
    }
    assert_int_equal(petrel_conn_write(p->c, sent + half, TOTAL - half, &n), PETREL_OK);
    pair_move(p->c, p->s);
    size_t have = 0;
    while (have < TOTAL) {
        memset(got + have, 0, cap);
        assert_int_equal(petrel_conn_read(p->s, got + have, cap, &n), PETREL_OK);
        assert_true(n > 0 && n <= cap);
        have += n;
    }
    assert_int_equal(have, TOTAL);
    assert_memory_equal(got, sent, TOTAL);
    assert_int_equal(petrel_conn_pending(p->s), 0);
}

/* Records are decrypted straight into the reader's buffer when it has
 * room; every buffer size around a record's length reads the same bytes. */
static void test_reads_of_every_size(void **state)
{
    static const size_t caps[] = {1, 1000, 16383, 16384, 16385, 16401, 16500};
    for (int v = 0; v < 2; v++) {
        bool tls13 = v == 0;
        petrel_ctx *cctx = client_ctx();
        petrel_ctx *sctx = server_ctx("server-p256");
        int version = tls13 ? PETREL_TLS1_3 : PETREL_TLS1_2;
        assert_int_equal(petrel_ctx_set_maximum_version(cctx, version), PETREL_OK);
        pair p = pair_new(cctx, sctx);
        pair_handshake_ok(&p);
        assert_int_equal(petrel_conn_version(p.c), version);
        for (size_t i = 0; i < PT_ARRAY_LEN(caps); i++) {
            read_in_pieces(&p, caps[i], tls13);
        }
        pair_exchange(&p, p.s, p.c, "still in step", 13);
        pair_free(&p);
        petrel_ctx_free(cctx);
        petrel_ctx_free(sctx);
    }
}

static void test_take_output_when_empty(void **state)
{
    petrel_ctx *sctx = server_ctx("server-p256");
    petrel_conn *s = petrel_conn_new(sctx, NULL);
    uint8_t b[64];
    assert_int_equal(petrel_conn_output_pending(s), 0);
    assert_int_equal(petrel_conn_take_output(s, b, sizeof(b)), 0);
    size_t len = 1;
    assert_null(petrel_conn_output_peek(s, &len));
    assert_int_equal(len, 0);
    petrel_conn_output_consume(s, 10); /* nothing to remove: no effect */
    assert_int_equal(petrel_conn_output_pending(s), 0);
    /* Argument misuse is recorded with a sentence, like every error. */
    size_t n = 0;
    struct {
        petrel_status st;
        const char *says;
    } misuse[] = {
        {petrel_conn_read(s, NULL, 10, &n), "petrel_conn_read needs"},
        {petrel_conn_read(s, b, sizeof(b), NULL), "petrel_conn_read needs"},
        {petrel_conn_write(s, NULL, 10, &n), "petrel_conn_write needs"},
        {petrel_conn_feed(s, NULL, 10, &n), "petrel_conn_feed needs"},
        {petrel_conn_feed(s, b, 1, NULL), "petrel_conn_feed needs"},
    };
    for (size_t i = 0; i < PT_ARRAY_LEN(misuse); i++) {
        assert_int_equal(misuse[i].st, PETREL_ERR_MISUSE);
    }
    assert_int_equal(petrel_conn_read(s, NULL, 10, &n), PETREL_ERR_MISUSE);
    assert_non_null(strstr(petrel_conn_error(s)->message, "petrel_conn_read needs"));
    assert_int_equal(petrel_conn_error(s)->status, PETREL_ERR_MISUSE);
    assert_int_equal(petrel_conn_write(s, NULL, 10, &n), PETREL_ERR_MISUSE);
    assert_non_null(strstr(petrel_conn_error(s)->message, "petrel_conn_write needs"));
    assert_int_equal(petrel_conn_feed(s, b, 1, NULL), PETREL_ERR_MISUSE);
    assert_non_null(strstr(petrel_conn_error(s)->message, "petrel_conn_feed needs"));
    petrel_conn_free(s);
    petrel_ctx_free(sctx);
}

/* Moves from's output to to by peeking at it in place and consuming what
 * was fed, at most piece bytes at a time. */
static size_t move_in_place(petrel_conn *from, petrel_conn *to, size_t piece)
{
    size_t moved = 0;
    for (;;) {
        size_t len = 0;
        const uint8_t *out = petrel_conn_output_peek(from, &len);
        if (len == 0) {
            return moved;
        }
        assert_non_null(out);
        assert_int_equal(len, petrel_conn_output_pending(from));
        size_t n = len < piece ? len : piece;
        size_t used = 0;
        assert_int_equal(petrel_conn_feed(to, out, n, &used), PETREL_OK);
        assert_int_equal(used, n);
        petrel_conn_output_consume(from, used);
        assert_int_equal(petrel_conn_output_pending(from), len - used);
        moved += used;
    }
}

/* A handshake and data in both directions with output taken in place. */
static void test_output_peek_and_consume(void **state)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    pair p = pair_new(cctx, sctx);
    petrel_status cs = PETREL_ERR_WANT_READ;
    petrel_status ss = PETREL_ERR_WANT_READ;
    for (int i = 0; i < 20 && (cs != PETREL_OK || ss != PETREL_OK); i++) {
        cs = petrel_conn_do_handshake(p.c);
        move_in_place(p.c, p.s, 7);
        ss = petrel_conn_do_handshake(p.s);
        move_in_place(p.s, p.c, 1000);
    }
    assert_int_equal(cs, PETREL_OK);
    assert_int_equal(ss, PETREL_OK);
    static const char msg[] = "bytes sent from the engine's own buffer";
    size_t n = 0;
    assert_int_equal(petrel_conn_write(p.c, msg, sizeof(msg), &n), PETREL_OK);
    assert_true(move_in_place(p.c, p.s, 5) > sizeof(msg));
    char got[sizeof(msg)];
    assert_int_equal(petrel_conn_read(p.s, got, sizeof(got), &n), PETREL_OK);
    assert_int_equal(n, sizeof(msg));
    assert_memory_equal(got, msg, sizeof(msg));
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static void fill_pattern(uint8_t *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)(i * 13 + seed + i / 251);
    }
}

/* The client closes first while the server is still sending more than the
 * client's buffers hold; the server answers the close with more data and
 * its own close_notify. Every byte reaches the client, in order. */
static void test_shutdown_keeps_late_data(void **state)
{
    enum { BEFORE = 150000, AFTER = 3000 };
    static uint8_t sent[BEFORE + AFTER];
    static uint8_t got[BEFORE + AFTER];
    fill_pattern(sent, sizeof(sent), 5);
    for (int v = 0; v < 2; v++) {
        petrel_ctx *cctx = client_ctx();
        petrel_ctx *sctx = server_ctx("server-p256");
        assert_int_equal(
            petrel_ctx_set_maximum_version(cctx, v == 0 ? PETREL_TLS1_3 : PETREL_TLS1_2),
            PETREL_OK);
        pair p = pair_new(cctx, sctx);
        pair_handshake_ok(&p);
        size_t n = 0;
        assert_int_equal(petrel_conn_write(p.s, sent, BEFORE, &n), PETREL_OK);
        pair_move(p.s, p.c);
        assert_int_equal(petrel_conn_shutdown(p.c), PETREL_OK); /* data waits */
        assert_true(petrel_conn_pending(p.c) > 0);
        size_t have = 0;
        bool server_closed = false;
        petrel_status st = PETREL_OK;
        for (int i = 0; i < 1000 && st != PETREL_ERR_ZERO_RETURN; i++) {
            uint8_t spare[16];
            size_t room = sizeof(got) - have < 7000 ? sizeof(got) - have : 7000;
            st = room > 0 ? petrel_conn_read(p.c, got + have, room, &n)
                          : petrel_conn_read(p.c, spare, sizeof(spare), &n);
            assert_true(room > 0 || n == 0);
            have += n;
            if (st == PETREL_ERR_WANT_READ) {
                assert_true(pair_move(p.c, p.s) + pair_move(p.s, p.c) > 0 || !server_closed);
            } else {
                assert_true(st == PETREL_OK || st == PETREL_ERR_ZERO_RETURN);
            }
            if (!server_closed && petrel_conn_read(p.s, got, 0, &n) == PETREL_ERR_ZERO_RETURN) {
                assert_int_equal(petrel_conn_write(p.s, sent + BEFORE, AFTER, &n), PETREL_OK);
                assert_int_equal(petrel_conn_shutdown(p.s), PETREL_OK);
                server_closed = true;
            }
        }
        assert_int_equal(st, PETREL_ERR_ZERO_RETURN);
        assert_int_equal(have, sizeof(sent));
        assert_memory_equal(got, sent, sizeof(sent));
        assert_int_equal(petrel_conn_shutdown(p.c), PETREL_OK);
        pair_free(&p);
        petrel_ctx_free(cctx);
        petrel_ctx_free(sctx);
    }
}

/* The same over a blocking socket pair, both ends in socket mode. */
static void test_shutdown_keeps_late_data_on_sockets(void **state)
{
    enum { BEFORE = 60000, AFTER = 3000 };
    static uint8_t sent[BEFORE + AFTER];
    static uint8_t got[BEFORE + AFTER];
    fill_pattern(sent, sizeof(sent), 9);
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    pair p = pair_new(cctx, sctx);
    pair_handshake_ok(&p);
    int fds[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
    /* A lost byte would leave a read waiting forever: fail after 5 s. */
    struct timeval limit = {5, 0};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit)), 0);
    }
    assert_int_equal(petrel_conn_set_fd(p.c, fds[0]), PETREL_OK);
    assert_int_equal(petrel_conn_set_fd(p.s, fds[1]), PETREL_OK);
    size_t n = 0;
    assert_int_equal(petrel_conn_write(p.s, sent, BEFORE, &n), PETREL_OK);
    assert_int_equal(petrel_conn_shutdown(p.c), PETREL_OK);
    uint8_t none[1];
    assert_int_equal(petrel_conn_read(p.s, none, sizeof(none), &n), PETREL_ERR_ZERO_RETURN);
    assert_int_equal(petrel_conn_write(p.s, sent + BEFORE, AFTER, &n), PETREL_OK);
    assert_int_equal(petrel_conn_shutdown(p.s), PETREL_OK);
    size_t have = 0;
    petrel_status st = PETREL_OK;
    while (st == PETREL_OK && have < sizeof(got)) {
        st = petrel_conn_read(p.c, got + have, sizeof(got) - have, &n);
        have += n;
    }
    assert_int_equal(have, sizeof(sent));
    assert_memory_equal(got, sent, sizeof(sent));
    assert_int_equal(petrel_conn_read(p.c, none, sizeof(none), &n), PETREL_ERR_ZERO_RETURN);
    pair_free(&p);
    close(fds[0]);
    close(fds[1]);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static bool block_contains(const pt_buf *b, const char *needle)
{
    if (b->data == NULL) {
        return false;
    }
    /* Consumed bytes and those still held: what was ever written. */
    const uint8_t *block = b->data - b->head;
    size_t written = b->head + b->len;
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= written; i++) {
        if (memcmp(block + i, needle, n) == 0) {
            return true;
        }
    }
    return false;
}

/* No close in the middle of a handshake: MISUSE, nothing queued, and the
 * handshake can still complete. */
static void test_shutdown_before_handshake_refused(void **state)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    pair p = pair_new(cctx, sctx);
    assert_int_equal(petrel_conn_shutdown(p.c), PETREL_ERR_MISUSE);
    assert_non_null(strstr(petrel_conn_error(p.c)->message, "before the handshake completed"));
    assert_int_equal(petrel_conn_output_pending(p.c), 0);
    assert_int_equal(petrel_conn_do_handshake(p.c), PETREL_ERR_WANT_READ);
    pair_move(p.c, p.s);
    assert_int_equal(petrel_conn_do_handshake(p.s), PETREL_ERR_WANT_READ);
    assert_int_equal(petrel_conn_shutdown(p.s), PETREL_ERR_MISUSE);
    pair_handshake_ok(&p);
    pair_exchange(&p, p.c, p.s, "fine", 4);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* Plaintext that does not fit the reader's buffer is kept in the
 * application buffer; its decrypted copy in the input buffer is wiped. */
static void test_plaintext_not_left_in_input(void **state)
{
    static const char marker[] = "PLAINTEXT-MARKER-";
    char msg[3000];
    for (size_t i = 0; i < sizeof(msg); i++) {
        msg[i] = marker[i % (sizeof(marker) - 1)];
    }
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    pair p = pair_new(cctx, sctx);
    pair_handshake_ok(&p);
    size_t n = 0;
    assert_int_equal(petrel_conn_write(p.c, msg, sizeof(msg), &n), PETREL_OK);
    /* A second record stays unread in the input, so the buffer is kept. */
    assert_int_equal(petrel_conn_write(p.c, "x", 1, &n), PETREL_OK);
    pair_move(p.c, p.s);
    char got[10];
    assert_int_equal(petrel_conn_read(p.s, got, sizeof(got), &n), PETREL_OK);
    assert_int_equal(n, sizeof(got));
    assert_true(petrel_conn_pending(p.s) > 0);
    assert_false(block_contains(&p.s->in, marker));
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suites_groups_keys),
        cmocka_unit_test(test_hello_retry_request),
        cmocka_unit_test(test_alpn_and_sni),
        cmocka_unit_test(test_client_auth_in_handshake),
        cmocka_unit_test(test_key_update_both_ways),
        cmocka_unit_test(test_close_notify),
        cmocka_unit_test(test_wrong_hostname_fails),
        cmocka_unit_test(test_automatic_key_update),
        cmocka_unit_test(test_session_tickets_kept),
        cmocka_unit_test(test_record_size_limit),
        cmocka_unit_test(test_plain_alert_from_client),
        cmocka_unit_test(test_take_output_when_empty),
        cmocka_unit_test(test_output_peek_and_consume),
        cmocka_unit_test(test_shutdown_keeps_late_data),
        cmocka_unit_test(test_plaintext_not_left_in_input),
        cmocka_unit_test(test_shutdown_before_handshake_refused),
        cmocka_unit_test(test_shutdown_keeps_late_data_on_sockets),
        cmocka_unit_test(test_reads_of_every_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
