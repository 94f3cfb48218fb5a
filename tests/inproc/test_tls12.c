/*
 * test_tls12.c - TLS 1.2 (RFC 5246) and version negotiation with both ends
 * in one process: the client x server version-bounds matrix, every TLS 1.2
 * suite with ECDSA and RSA server keys and every group, client
 * certificates, the extended master secret (RFC 7627) required and absent,
 * the downgrade sentinel (RFC 8446 4.1.3), renegotiation declined
 * (RFC 5746), misuse of TLS 1.3-only calls, and close_notify.
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

#define V12 PETREL_TLS1_2
#define V13 PETREL_TLS1_3

static void set_bounds(petrel_ctx *ctx, int lo, int hi)
{
    assert_int_equal(petrel_ctx_set_minimum_version(ctx, lo), PETREL_OK);
    assert_int_equal(petrel_ctx_set_maximum_version(ctx, hi), PETREL_OK);
}

static void expect_message(const petrel_conn *conn, const char *fragment)
{
    const char *msg = petrel_conn_error(conn)->message;
    if (strstr(msg, fragment) == NULL) {
        fail_msg("error '%s' does not mention '%s'", msg, fragment);
    }
}

static void exchange_both_ways(pair *p)
{
    pair_exchange(p, p->c, p->s, "ping from client", 16);
    pair_exchange(p, p->s, p->c, "pong from server", 16);
}

/* --- Raw records --------------------------------------------------------- */

typedef struct wire {
    uint8_t b[8192];
    size_t len;
} wire;

static void wire_take(petrel_conn *from, wire *w)
{
    w->len = petrel_conn_take_output(from, w->b, sizeof(w->b));
    assert_true(w->len > 5);
    assert_true(petrel_conn_output_pending(from) == 0);
}

static void wire_give(petrel_conn *to, const uint8_t *data, size_t len)
{
    size_t off = 0;
    while (off < len) {
        size_t used = 0;
        assert_int_equal(petrel_conn_feed(to, data + off, len - off, &used), PETREL_OK);
        off += used;
    }
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

/* The ClientHello of a first flight: one plaintext record holding it. The
 * offsets below count from the start of the record. */
typedef struct ch_layout {
    size_t suites; /* the first cipher suite */
    size_t suite_count;
    size_t exts; /* the first extension */
    size_t exts_end;
} ch_layout;

static ch_layout ch_parse(const wire *w)
{
    ch_layout l;
    assert_int_equal(w->b[0], PT_CT_HANDSHAKE);
    assert_int_equal(w->b[5], PT_HS_CLIENT_HELLO);
    size_t p = 5 + 4 + 2 + 32;
    p += 1 + w->b[p];
    l.suite_count = be16(w->b + p) / 2;
    l.suites = p + 2;
    p += 2 + 2 * l.suite_count;
    p += 1 + w->b[p];
    l.exts_end = p + 2 + be16(w->b + p);
    l.exts = p + 2;
    assert_int_equal(l.exts_end, w->len);
    return l;
}

/* Offset of extension `type` in the ClientHello record, 0 when absent. */
static size_t ch_find_ext(const wire *w, uint16_t type)
{
    ch_layout l = ch_parse(w);
    for (size_t p = l.exts; p < l.exts_end; p += 4 + be16(w->b + p + 2)) {
        if (be16(w->b + p) == type) {
            return p;
        }
    }
    return 0;
}

/* Renames an extension to a type nobody knows, so the receiver ignores it. */
static size_t ch_hide_ext(wire *w, uint16_t type)
{
    size_t at = ch_find_ext(w, type);
    assert_true(at != 0);
    w->b[at] = 0xfa;
    w->b[at + 1] = 0xfa;
    return at;
}

/* --- Version negotiation ------------------------------------------------- */

typedef struct bounds {
    int lo;
    int hi;
    const char *name;
} bounds;

static const bounds ranges[] = {{V12, V12, "1.2"}, {V13, V13, "1.3"}, {V12, V13, "1.2-1.3"}};

/* What the matrix expects: the version, or 0 for protocol_version. */
static int expected_version(const bounds *c, const bounds *s)
{
    if (c->hi >= V13 && s->hi >= V13 && c->lo <= V13 && s->lo <= V13) {
        return V13;
    }
    if (c->lo <= V12 && s->lo <= V12) {
        return V12;
    }
    return 0;
}

static void run_bounds(const bounds *cb, const bounds *sb)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    set_bounds(cctx, cb->lo, cb->hi);
    set_bounds(sctx, sb->lo, sb->hi);
    pair p = pair_new(cctx, sctx);
    petrel_status ss;
    petrel_status cs = pair_handshake(&p, &ss);
    int want = expected_version(cb, sb);
    if (want != 0) {
        if (cs != PETREL_OK || ss != PETREL_OK) {
            fail_msg("client %s x server %s: %s / %s", cb->name, sb->name,
                     petrel_conn_error(p.c)->message, petrel_conn_error(p.s)->message);
        }
        assert_int_equal(petrel_conn_version(p.c), want);
        assert_int_equal(petrel_conn_version(p.s), want);
        exchange_both_ways(&p);
    } else {
        /* The server refuses; the client hears protocol_version. */
        assert_int_equal(ss, PETREL_ERR_PROTOCOL);
        assert_int_equal(petrel_conn_error(p.s)->alert, PETREL_ALERT_PROTOCOL_VERSION);
        expect_message(p.s, "no protocol version in common");
        expect_message(p.s, sb->lo == V13 ? "server allows TLSv1.3 to TLSv1.3"
                                          : "server allows TLSv1.2 to TLSv1.2");
        expect_message(p.s, cb->hi == V12 ? "only TLS 1.2 or older" : "TLSv1.3 to TLSv1.3");
        assert_int_equal(cs, PETREL_ERR_PEER_ALERT);
        assert_int_equal(petrel_conn_error(p.c)->alert, PETREL_ALERT_PROTOCOL_VERSION);
        assert_int_equal(petrel_conn_version(p.c), 0);
    }
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static void test_version_matrix(void **state)
{
    int ok = 0;
    for (size_t c = 0; c < PT_ARRAY_LEN(ranges); c++) {
        for (size_t s = 0; s < PT_ARRAY_LEN(ranges); s++) {
            run_bounds(&ranges[c], &ranges[s]);
            ok += expected_version(&ranges[c], &ranges[s]) != 0;
        }
    }
    assert_int_equal(ok, 7);
}

static void test_minimum_above_maximum(void **state)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    set_bounds(cctx, V13, V12);
    pair p = pair_new(cctx, sctx);
    assert_int_equal(petrel_conn_do_handshake(p.c), PETREL_ERR_PROTOCOL);
    expect_message(p.c, "no protocols available");
    /* Fail closed: the next call says the same. */
    assert_int_equal(petrel_conn_do_handshake(p.c), PETREL_ERR_PROTOCOL);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* What a client offers for each bound: versions, suites, extensions. */
static void test_client_hello_contents(void **state)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(ranges); i++) {
        petrel_ctx *cctx = client_ctx();
        set_bounds(cctx, ranges[i].lo, ranges[i].hi);
        petrel_conn *c = petrel_conn_new(cctx, "localhost");
        assert_int_equal(petrel_conn_do_handshake(c), PETREL_ERR_WANT_READ);
        wire w;
        wire_take(c, &w);
        ch_layout l = ch_parse(&w);
        bool v12 = ranges[i].lo == V12;
        bool v13 = ranges[i].hi == V13;
        assert_int_equal(l.suite_count, (v13 ? 3u : 0u) + (v12 ? 6u : 0u));
        size_t sv = ch_find_ext(&w, PT_EXT_SUPPORTED_VERSIONS);
        assert_int_equal(sv != 0, v13);
        if (sv != 0) {
            size_t n = w.b[sv + 4];
            assert_int_equal(n, v12 ? 4 : 2);
            assert_int_equal(be16(w.b + sv + 5), V13);
            if (v12) {
                assert_int_equal(be16(w.b + sv + 7), V12);
            }
        }
        assert_int_equal(ch_find_ext(&w, PT_EXT_KEY_SHARE) != 0, v13);
        assert_int_equal(ch_find_ext(&w, PT_EXT_EXTENDED_MASTER_SECRET) != 0, v12);
        assert_int_equal(ch_find_ext(&w, PT_EXT_RENEGOTIATION_INFO) != 0, v12);
        assert_int_equal(ch_find_ext(&w, PT_EXT_EC_POINT_FORMATS) != 0, v12);
        assert_true(ch_find_ext(&w, PT_EXT_SIGNATURE_ALGORITHMS) != 0);
        /* RFC 8449 4: TLS 1.2 records carry at most 2^14 bytes. */
        size_t rsl = ch_find_ext(&w, PT_EXT_RECORD_SIZE_LIMIT);
        assert_true(rsl != 0);
        assert_int_equal(be16(w.b + rsl + 4), v13 ? 16385 : 16384);
        petrel_conn_free(c);
        petrel_ctx_free(cctx);
    }
}

/* --- Downgrade protection (RFC 8446 4.1.3) ------------------------------- */

static const uint8_t sentinel12[8] = {'D', 'O', 'W', 'N', 'G', 'R', 'D', 1};

/* The server's random in its first flight. */
static void server_random_of(int server_hi, int client_hi, uint8_t out[32])
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    set_bounds(cctx, V12, client_hi);
    set_bounds(sctx, V12, server_hi);
    pair p = pair_new(cctx, sctx);
    assert_int_equal(petrel_conn_do_handshake(p.c), PETREL_ERR_WANT_READ);
    pair_move(p.c, p.s);
    assert_int_equal(petrel_conn_do_handshake(p.s), PETREL_ERR_WANT_READ);
    wire w;
    wire_take(p.s, &w);
    assert_int_equal(w.b[5], PT_HS_SERVER_HELLO);
    memcpy(out, w.b + 5 + 4 + 2, 32);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static void test_server_marks_downgrade(void **state)
{
    uint8_t random[32];
    /* A TLS 1.3-capable server settling on TLS 1.2 marks its random. */
    server_random_of(V13, V12, random);
    assert_memory_equal(random + 24, sentinel12, 8);
    /* A server that speaks TLS 1.2 only does not. */
    server_random_of(V12, V13, random);
    assert_memory_not_equal(random + 24, sentinel12, 8);
}

/* A hand-made TLS 1.2 ServerHello; zero fields take the defaults
 * (version 0x0303, suite 0xc02f, renegotiation_info and EMS). */
typedef struct sh12 {
    uint16_t version;
    uint16_t suite;
    uint8_t comp;
    bool sentinel;
    bool echo_session_id;
    const uint8_t *exts;
    size_t exts_len;
} sh12;

static const uint8_t default_exts[] = {0xff, 0x01, 0, 1, 0, 0, 23, 0, 0};

static size_t scripted_server_hello(const sh12 *e, const wire *ch, uint8_t *out)
{
    uint8_t *m = out + 5;
    size_t n = 4;
    uint16_t version = e->version != 0 ? e->version : V12;
    uint16_t suite = e->suite != 0 ? e->suite : 0xc02f;
    m[n++] = (uint8_t)(version >> 8);
    m[n++] = (uint8_t)version;
    memset(m + n, 0x42, 32);
    if (e->sentinel) {
        memcpy(m + n + 24, sentinel12, 8);
    }
    n += 32;
    const uint8_t *sid = ch->b + 5 + 4 + 2 + 32;
    size_t sid_len = e->echo_session_id ? 1 + sid[0] : 1;
    memcpy(m + n, sid, sid_len);
    m[n] = (uint8_t)(sid_len - 1);
    n += sid_len;
    m[n++] = (uint8_t)(suite >> 8);
    m[n++] = (uint8_t)suite;
    m[n++] = e->comp;
    const uint8_t *exts = e->exts != NULL ? e->exts : default_exts;
    size_t exts_len = e->exts != NULL ? e->exts_len : sizeof(default_exts);
    m[n++] = (uint8_t)(exts_len >> 8);
    m[n++] = (uint8_t)exts_len;
    memcpy(m + n, exts, exts_len);
    n += exts_len;
    m[0] = PT_HS_SERVER_HELLO;
    m[1] = 0;
    m[2] = (uint8_t)((n - 4) >> 8);
    m[3] = (uint8_t)(n - 4);
    out[0] = PT_CT_HANDSHAKE;
    out[1] = 3;
    out[2] = 3;
    out[3] = (uint8_t)(n >> 8);
    out[4] = (uint8_t)n;
    return 5 + n;
}

static petrel_status client_gets_hello(int client_lo, int client_hi, const sh12 *e,
                                       petrel_conn **out, petrel_ctx **ctx_out)
{
    petrel_ctx *cctx = client_ctx();
    set_bounds(cctx, client_lo, client_hi);
    petrel_conn *c = petrel_conn_new(cctx, "localhost");
    assert_int_equal(petrel_conn_do_handshake(c), PETREL_ERR_WANT_READ);
    wire w;
    wire_take(c, &w);
    uint8_t sh[512];
    size_t n = scripted_server_hello(e, &w, sh);
    wire_give(c, sh, n);
    *out = c;
    *ctx_out = cctx;
    return petrel_conn_do_handshake(c);
}

static petrel_status client_gets_scripted_hello(int client_hi, bool sentinel, petrel_conn **out,
                                                petrel_ctx **ctx_out)
{
    sh12 e = {.sentinel = sentinel};
    return client_gets_hello(V12, client_hi, &e, out, ctx_out);
}

static void test_client_refuses_downgrade(void **state)
{
    petrel_conn *c;
    petrel_ctx *cctx;
    /* RFC 8446 4.1.3: a client able to speak TLS 1.3 refuses the sentinel. */
    assert_int_equal(client_gets_scripted_hello(V13, true, &c, &cctx), PETREL_ERR_PROTOCOL);
    assert_int_equal(petrel_conn_error(c)->alert, PETREL_ALERT_ILLEGAL_PARAMETER);
    expect_message(c, "downgrade sentinel");
    uint8_t alert[7];
    assert_int_equal(petrel_conn_take_output(c, alert, sizeof(alert)), 7);
    assert_int_equal(alert[0], PT_CT_ALERT);
    assert_int_equal(alert[5], 2);
    assert_int_equal(alert[6], PETREL_ALERT_ILLEGAL_PARAMETER);
    petrel_conn_free(c);
    petrel_ctx_free(cctx);
    /* The same ServerHello without the sentinel moves the handshake on. */
    assert_int_equal(client_gets_scripted_hello(V13, false, &c, &cctx), PETREL_ERR_WANT_READ);
    assert_int_equal(c->state, PT_ST_C12_WAIT_CERT);
    petrel_conn_free(c);
    petrel_ctx_free(cctx);
    /* A TLS 1.2-only client has nothing to protect. */
    assert_int_equal(client_gets_scripted_hello(V12, true, &c, &cctx), PETREL_ERR_WANT_READ);
    assert_int_equal(petrel_conn_version(c), V12);
    petrel_conn_free(c);
    petrel_ctx_free(cctx);
}

/* One changed field of a TLS 1.2 ServerHello, one exact alert. */
typedef struct sh_case {
    const char *name;
    int client_lo;
    sh12 edit;
    int alert;
    const char *fragment;
} sh_case;

static const uint8_t ext_no_ri[] = {0, 23, 0, 0};
static const uint8_t ext_ri_full[] = {0xff, 0x01, 0, 2, 1, 0x55, 0, 23, 0, 0};
static const uint8_t ext_ticket[] = {0xff, 0x01, 0, 1, 0, 0, 0x23, 0, 0};
static const uint8_t ext_compressed_only[] = {0xff, 0x01, 0, 1, 0, 0, 11, 0, 2, 1, 1};
static const uint8_t ext_ems_body[] = {0xff, 0x01, 0, 1, 0, 0, 23, 0, 1, 0};
static const uint8_t ext_alpn[] = {0xff, 0x01, 0, 1, 0, 0, 16, 0, 5, 0, 3, 2, 'h', '2'};
static const uint8_t ext_rsl_small[] = {0xff, 0x01, 0, 1, 0, 0, 28, 0, 2, 0, 32};
static const uint8_t ext_truncated[] = {0xff, 0x01, 0, 1, 0, 0, 23, 0, 9};
static const uint8_t ext_key_share[] = {0xff, 0x01, 0, 1, 0, 0, 51, 0, 2, 0, 29};

#define EXTS(a) .exts = (a), .exts_len = sizeof(a)

static const sh_case sh_cases[] = {
    {"TLS 1.3 suite", V12, {.suite = 0x1301}, PETREL_ALERT_ILLEGAL_PARAMETER, "did not offer"},
    {"static RSA suite", V12, {.suite = 0x009c}, PETREL_ALERT_ILLEGAL_PARAMETER, "did not offer"},
    {"compression", V12, {.comp = 1}, PETREL_ALERT_ILLEGAL_PARAMETER, "compression"},
    {"session resumed", V12, {.echo_session_id = true}, PETREL_ALERT_ILLEGAL_PARAMETER, "resumes"},
    {"TLS 1.1", V12, {.version = 0x0302}, PETREL_ALERT_PROTOCOL_VERSION, "TLSv1.1"},
    {"TLS 1.2 to a TLS 1.3-only client",
     V13,
     {0},
     PETREL_ALERT_PROTOCOL_VERSION,
     "allows TLSv1.3 to TLSv1.3"},
    {"no renegotiation_info",
     V12,
     {EXTS(ext_no_ri)},
     PETREL_ALERT_HANDSHAKE_FAILURE,
     "secure renegotiation"},
    {"renegotiation_info not empty",
     V12,
     {EXTS(ext_ri_full)},
     PETREL_ALERT_HANDSHAKE_FAILURE,
     "must be empty"},
    {"session_ticket not offered",
     V12,
     {EXTS(ext_ticket)},
     PETREL_ALERT_UNSUPPORTED_EXTENSION,
     "did not offer"},
    {"ALPN not offered",
     V12,
     {EXTS(ext_alpn)},
     PETREL_ALERT_UNSUPPORTED_EXTENSION,
     "did not offer"},
    {"key_share in a TLS 1.2 ServerHello",
     V12,
     {EXTS(ext_key_share)},
     PETREL_ALERT_ILLEGAL_PARAMETER,
     "cannot carry"},
    {"compressed points only",
     V12,
     {EXTS(ext_compressed_only)},
     PETREL_ALERT_ILLEGAL_PARAMETER,
     "uncompressed"},
    {"extended_master_secret with a body",
     V12,
     {EXTS(ext_ems_body)},
     PETREL_ALERT_DECODE_ERROR,
     "not empty"},
    {"truncated extension",
     V12,
     {EXTS(ext_truncated)},
     PETREL_ALERT_DECODE_ERROR,
     "malformed extension block"},
    {"record_size_limit 32",
     V12,
     {EXTS(ext_rsl_small)},
     PETREL_ALERT_ILLEGAL_PARAMETER,
     "minimum of 64"},
};

static void test_server_hello_faults(void **state)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(sh_cases); i++) {
        const sh_case *k = &sh_cases[i];
        petrel_conn *c;
        petrel_ctx *cctx;
        petrel_status st = client_gets_hello(k->client_lo, V13, &k->edit, &c, &cctx);
        const petrel_error *err = petrel_conn_error(c);
        if (st != PETREL_ERR_PROTOCOL || err->alert != k->alert ||
            strstr(err->message, k->fragment) == NULL) {
            fail_msg("case '%s': got %s alert %d (%s); expected alert %d with '%s'", k->name,
                     petrel_status_name(st), err->alert, err->message, k->alert, k->fragment);
        }
        /* The alert goes out, and the connection stays failed. */
        uint8_t alert[7];
        assert_int_equal(petrel_conn_take_output(c, alert, sizeof(alert)), 7);
        assert_int_equal(alert[6], k->alert);
        assert_int_equal(petrel_conn_do_handshake(c), PETREL_ERR_PROTOCOL);
        petrel_conn_free(c);
        petrel_ctx_free(cctx);
    }
}

/* The server's first flight travels in the clear: find a message in it. */
static uint8_t *flight_message(wire *w, uint8_t type, size_t *len)
{
    assert_int_equal(w->b[0], PT_CT_HANDSHAKE);
    size_t end = 5 + be16(w->b + 3);
    for (size_t p = 5; p + 4 <= end;) {
        size_t body = ((size_t)w->b[p + 1] << 16) | be16(w->b + p + 2);
        if (w->b[p] == type) {
            *len = body;
            return w->b + p + 4;
        }
        p += 4 + body;
    }
    fail_msg("message %u not in the first record", type);
    return NULL;
}

/* Runs a TLS 1.2 handshake up to the server's first flight, lets `edit`
 * change it, and hands it to the client. */
static petrel_status client_gets_edited_flight(pair *p, void (*edit)(wire *w))
{
    assert_int_equal(petrel_conn_do_handshake(p->c), PETREL_ERR_WANT_READ);
    pair_move(p->c, p->s);
    assert_int_equal(petrel_conn_do_handshake(p->s), PETREL_ERR_WANT_READ);
    wire w;
    wire_take(p->s, &w);
    edit(&w);
    wire_give(p->c, w.b, w.len);
    return petrel_conn_do_handshake(p->c);
}

static void flip_ske_signature(wire *w)
{
    size_t len;
    uint8_t *ske = flight_message(w, PT_HS_SERVER_KEY_EXCHANGE, &len);
    ske[len - 1] ^= 1;
}

static void ske_other_group(wire *w)
{
    size_t len;
    uint8_t *ske = flight_message(w, PT_HS_SERVER_KEY_EXCHANGE, &len);
    ske[2] = 0x19; /* secp521r1, never offered */
}

static void ske_signed_as_rsa(wire *w)
{
    size_t len;
    uint8_t *ske = flight_message(w, PT_HS_SERVER_KEY_EXCHANGE, &len);
    size_t at = 4 + ske[3];
    ske[at] = 0x04; /* rsa_pkcs1_sha256 under an ECDHE_ECDSA suite */
    ske[at + 1] = 0x01;
}

static void edited_flight_case(void (*edit)(wire *w), int alert, const char *fragment)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    set_bounds(cctx, V12, V12);
    pair p = pair_new(cctx, sctx);
    assert_int_equal(client_gets_edited_flight(&p, edit), PETREL_ERR_PROTOCOL);
    assert_int_equal(petrel_conn_error(p.c)->alert, alert);
    expect_message(p.c, fragment);
    pair_move(p.c, p.s);
    assert_int_equal(petrel_conn_do_handshake(p.s), PETREL_ERR_PEER_ALERT);
    assert_int_equal(petrel_conn_error(p.s)->alert, alert);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* RFC 8422 5.4: the server's key exchange is signed and checked. */
static void test_server_key_exchange_faults(void **state)
{
    edited_flight_case(flip_ske_signature, PETREL_ALERT_DECRYPT_ERROR, "does not verify");
    edited_flight_case(ske_other_group, PETREL_ALERT_ILLEGAL_PARAMETER, "did not offer");
    edited_flight_case(ske_signed_as_rsa, PETREL_ALERT_ILLEGAL_PARAMETER, "rsa_pkcs1_sha256");
}

/* RFC 7627: with the extended master secret, a transcript that differs
 * gives different keys, so the peer cannot even read our Finished. */
static void test_ems_binds_transcript(void **state)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    set_bounds(cctx, V12, V12);
    pair p = pair_new(cctx, sctx);
    assert_int_equal(petrel_conn_do_handshake(p.c), PETREL_ERR_WANT_READ);
    p.c->hs->tr.raw.data[20] ^= 1; /* inside the client random */
    pair_move(p.c, p.s);
    petrel_status ss;
    petrel_status cs = pair_handshake(&p, &ss);
    assert_int_equal(ss, PETREL_ERR_PROTOCOL);
    assert_int_equal(petrel_conn_error(p.s)->alert, PETREL_ALERT_BAD_RECORD_MAC);
    assert_int_equal(cs, PETREL_ERR_PEER_ALERT);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static void test_wrong_hostname(void **state)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("wronghost");
    set_bounds(cctx, V12, V12);
    pair p = pair_new(cctx, sctx);
    petrel_status ss;
    petrel_status cs = pair_handshake(&p, &ss);
    assert_int_equal(cs, PETREL_ERR_CERT_VERIFY);
    expect_message(p.c, "Hostname mismatch");
    assert_int_equal(ss, PETREL_ERR_PEER_ALERT);
    assert_int_equal(petrel_conn_error(p.s)->alert, PETREL_ALERT_BAD_CERTIFICATE);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* --- ClientHello and client flight faults (server side) ---------------- */

static void ch_ri_not_empty(wire *w)
{
    w->b[ch_find_ext(w, PT_EXT_RENEGOTIATION_INFO) + 4] = 1;
}

static void ch_compressed_points_only(wire *w)
{
    w->b[ch_find_ext(w, PT_EXT_EC_POINT_FORMATS) + 5] = 1;
}

static void ch_no_null_compression(wire *w)
{
    ch_layout l = ch_parse(w);
    size_t comp = l.suites + 2 * l.suite_count;
    assert_int_equal(w->b[comp], 1);
    w->b[comp + 1] = 1;
}

static void ch_no_sigalgs(wire *w)
{
    ch_hide_ext(w, PT_EXT_SIGNATURE_ALGORITHMS);
}

static void ch_fallback_scsv(wire *w)
{
    ch_layout l = ch_parse(w);
    size_t last = l.suites + 2 * (l.suite_count - 1);
    w->b[last] = 0x56;
    w->b[last + 1] = 0x00;
}

static void ch_one_legacy_version(wire *w)
{
    w->b[5 + 4] = 3;
    w->b[5 + 5] = 2; /* TLS 1.1 */
}

typedef struct ch_case {
    const char *name;
    void (*edit)(wire *w);
    int alert;
    const char *fragment;
} ch_case;

static const ch_case ch_cases[] = {
    {"renegotiation_info not empty", ch_ri_not_empty, PETREL_ALERT_HANDSHAKE_FAILURE,
     "must be empty"},
    {"compressed points only", ch_compressed_points_only, PETREL_ALERT_ILLEGAL_PARAMETER,
     "uncompressed"},
    {"no null compression", ch_no_null_compression, PETREL_ALERT_ILLEGAL_PARAMETER,
     "null compression"},
    {"no signature_algorithms", ch_no_sigalgs, PETREL_ALERT_HANDSHAKE_FAILURE,
     "signature_algorithms"},
    {"TLS_FALLBACK_SCSV", ch_fallback_scsv, PETREL_ALERT_INAPPROPRIATE_FALLBACK, "RFC 7507"},
    {"TLS 1.1 ClientHello", ch_one_legacy_version, PETREL_ALERT_PROTOCOL_VERSION, "only TLSv1.1"},
};

static void test_client_hello_faults(void **state)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(ch_cases); i++) {
        const ch_case *k = &ch_cases[i];
        petrel_ctx *cctx = client_ctx();
        petrel_ctx *sctx = server_ctx("server-p256");
        set_bounds(cctx, V12, V12);
        pair p = pair_new(cctx, sctx);
        assert_int_equal(petrel_conn_do_handshake(p.c), PETREL_ERR_WANT_READ);
        wire w;
        wire_take(p.c, &w);
        k->edit(&w);
        wire_give(p.s, w.b, w.len);
        petrel_status st = petrel_conn_do_handshake(p.s);
        const petrel_error *err = petrel_conn_error(p.s);
        if (st != PETREL_ERR_PROTOCOL || err->alert != k->alert ||
            strstr(err->message, k->fragment) == NULL) {
            fail_msg("case '%s': got %s alert %d (%s); expected alert %d with '%s'", k->name,
                     petrel_status_name(st), err->alert, err->message, k->alert, k->fragment);
        }
        pair_move(p.s, p.c);
        assert_int_equal(petrel_conn_do_handshake(p.c), PETREL_ERR_PEER_ALERT);
        assert_int_equal(petrel_conn_error(p.c)->alert, k->alert);
        pair_free(&p);
        petrel_ctx_free(cctx);
        petrel_ctx_free(sctx);
    }
}

/* A client with a P-256 certificate, up to its second flight, which
 * `edit` changes before the server sees it. */
static petrel_status server_gets_edited_flight(pair *p, void (*edit)(wire *w))
{
    assert_int_equal(petrel_conn_do_handshake(p->c), PETREL_ERR_WANT_READ);
    pair_move(p->c, p->s);
    assert_int_equal(petrel_conn_do_handshake(p->s), PETREL_ERR_WANT_READ);
    pair_move(p->s, p->c);
    assert_int_equal(petrel_conn_do_handshake(p->c), PETREL_ERR_WANT_READ);
    wire w;
    wire_take(p->c, &w);
    edit(&w);
    wire_give(p->s, w.b, w.len);
    return petrel_conn_do_handshake(p->s);
}

static void flip_cv_signature(wire *w)
{
    size_t len;
    uint8_t *cv = flight_message(w, PT_HS_CERTIFICATE_VERIFY, &len);
    cv[len - 1] ^= 1;
}

static void cv_sha1(wire *w)
{
    size_t len;
    uint8_t *cv = flight_message(w, PT_HS_CERTIFICATE_VERIFY, &len);
    cv[0] = 0x02; /* ecdsa_sha1, never listed */
}

static void cke_empty_point(wire *w)
{
    size_t len;
    uint8_t *cke = flight_message(w, PT_HS_CLIENT_KEY_EXCHANGE, &len);
    cke[0] = 0;
}

static void cke_off_curve(wire *w)
{
    size_t len;
    uint8_t *cke = flight_message(w, PT_HS_CLIENT_KEY_EXCHANGE, &len);
    cke[len - 1] ^= 1; /* P-256: the point leaves the curve */
}

static void client_flight_case(void (*edit)(wire *w), int alert, const char *fragment)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    set_bounds(cctx, V12, V12);
    assert_int_equal(petrel_ctx_set_groups(sctx, "P-256"), PETREL_OK);
    assert_int_equal(petrel_ctx_set_verify_mode(sctx, PETREL_CERT_REQUIRED), PETREL_OK);
    assert_int_equal(petrel_ctx_load_cert_chain(cctx, pki("client-p256-chain.pem"),
                                                pki("client-p256.key"), NULL, NULL),
                     PETREL_OK);
    pair p = pair_new(cctx, sctx);
    assert_int_equal(server_gets_edited_flight(&p, edit), PETREL_ERR_PROTOCOL);
    assert_int_equal(petrel_conn_error(p.s)->alert, alert);
    expect_message(p.s, fragment);
    pair_move(p.s, p.c);
    uint8_t b[8];
    size_t n;
    assert_int_equal(petrel_conn_read(p.c, b, sizeof(b), &n), PETREL_ERR_PEER_ALERT);
    assert_int_equal(petrel_conn_error(p.c)->alert, alert);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static void test_client_flight_faults(void **state)
{
    client_flight_case(flip_cv_signature, PETREL_ALERT_DECRYPT_ERROR, "does not verify");
    client_flight_case(cv_sha1, PETREL_ALERT_ILLEGAL_PARAMETER, "did not list");
    client_flight_case(cke_empty_point, PETREL_ALERT_DECODE_ERROR, "ClientKeyExchange");
    client_flight_case(cke_off_curve, PETREL_ALERT_ILLEGAL_PARAMETER, "key share");
}

/* RFC 5246 7.1: ChangeCipherSpec only right before Finished. */
static void test_early_change_cipher_spec(void **state)
{
    static const uint8_t ccs[6] = {PT_CT_CHANGE_CIPHER_SPEC, 3, 3, 0, 1, 1};
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    set_bounds(cctx, V12, V12);
    pair p = pair_new(cctx, sctx);
    assert_int_equal(petrel_conn_do_handshake(p.c), PETREL_ERR_WANT_READ);
    pair_move(p.c, p.s);
    assert_int_equal(petrel_conn_do_handshake(p.s), PETREL_ERR_WANT_READ);
    wire_give(p.s, ccs, sizeof(ccs));
    assert_int_equal(petrel_conn_do_handshake(p.s), PETREL_ERR_PROTOCOL);
    assert_int_equal(petrel_conn_error(p.s)->alert, PETREL_ALERT_UNEXPECTED_MESSAGE);
    expect_message(p.s, "change_cipher_spec");
    /* And a client that gets one before ServerHelloDone. */
    pair_move(p.s, p.c);
    pair_free(&p);
    p = pair_new(cctx, sctx);
    assert_int_equal(petrel_conn_do_handshake(p.c), PETREL_ERR_WANT_READ);
    pair_move(p.c, p.s);
    assert_int_equal(petrel_conn_do_handshake(p.s), PETREL_ERR_WANT_READ);
    wire w;
    wire_take(p.s, &w);
    size_t first = 5 + be16(w.b + 3);
    size_t sh_len = 4 + be16(w.b + 5 + 2);
    /* ServerHello alone, then the CCS. */
    uint8_t rec[512];
    assert_true(sh_len + 5 <= sizeof(rec) && first <= w.len);
    memcpy(rec, w.b, 5);
    rec[3] = (uint8_t)(sh_len >> 8);
    rec[4] = (uint8_t)sh_len;
    memcpy(rec + 5, w.b + 5, sh_len);
    wire_give(p.c, rec, 5 + sh_len);
    wire_give(p.c, ccs, sizeof(ccs));
    assert_int_equal(petrel_conn_do_handshake(p.c), PETREL_ERR_PROTOCOL);
    assert_int_equal(petrel_conn_error(p.c)->alert, PETREL_ALERT_UNEXPECTED_MESSAGE);
    expect_message(p.c, "change_cipher_spec");
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* Without the extended master secret, a transcript that differs shows in
 * the Finished (RFC 5246 7.4.9). */
static void test_finished_mismatch(void **state)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    set_bounds(cctx, V12, V12);
    pair p = pair_new(cctx, sctx);
    assert_int_equal(petrel_conn_do_handshake(p.c), PETREL_ERR_WANT_READ);
    wire w;
    wire_take(p.c, &w);
    ch_hide_ext(&w, PT_EXT_EXTENDED_MASTER_SECRET);
    wire_give(p.s, w.b, w.len);
    /* The client's transcript keeps its own ClientHello: they differ. */
    petrel_status ss;
    petrel_status cs = pair_handshake(&p, &ss);
    assert_int_equal(ss, PETREL_ERR_PROTOCOL);
    assert_int_equal(petrel_conn_error(p.s)->alert, PETREL_ALERT_DECRYPT_ERROR);
    expect_message(p.s, "Finished does not match");
    assert_int_equal(cs, PETREL_ERR_PEER_ALERT);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* --- The state table against RFC 5246 7.3 -------------------------------- */

static const struct {
    petrel_role role;
    pt_state state;
    uint8_t type;
} rfc5246_rows[] = {
    {PETREL_CLIENT, PT_ST_C12_WAIT_CERT, PT_HS_CERTIFICATE},
    {PETREL_CLIENT, PT_ST_C12_WAIT_SKE, PT_HS_SERVER_KEY_EXCHANGE},
    {PETREL_CLIENT, PT_ST_C12_WAIT_CR_DONE, PT_HS_CERTIFICATE_REQUEST},
    {PETREL_CLIENT, PT_ST_C12_WAIT_CR_DONE, PT_HS_SERVER_HELLO_DONE},
    {PETREL_CLIENT, PT_ST_C12_WAIT_DONE, PT_HS_SERVER_HELLO_DONE},
    {PETREL_CLIENT, PT_ST_C12_WAIT_FINISHED, PT_HS_FINISHED},
    {PETREL_CLIENT, PT_ST_CONNECTED12, PT_HS_HELLO_REQUEST},
    {PETREL_SERVER, PT_ST_S12_WAIT_CERT, PT_HS_CERTIFICATE},
    {PETREL_SERVER, PT_ST_S12_WAIT_CKE, PT_HS_CLIENT_KEY_EXCHANGE},
    {PETREL_SERVER, PT_ST_S12_WAIT_CV, PT_HS_CERTIFICATE_VERIFY},
    {PETREL_SERVER, PT_ST_S12_WAIT_FINISHED, PT_HS_FINISHED},
    {PETREL_SERVER, PT_ST_CONNECTED12, PT_HS_CLIENT_HELLO},
};

static bool listed(petrel_role role, int state, int type)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(rfc5246_rows); i++) {
        if (rfc5246_rows[i].role == role && (int)rfc5246_rows[i].state == state &&
            rfc5246_rows[i].type == type) {
            return true;
        }
    }
    return false;
}

/* Every TLS 1.2 state accepts exactly the messages RFC 5246 7.3 allows
 * there; the ChangeCipherSpec states accept none (it is a record). */
static void test_state_table(void **state)
{
    static const petrel_role roles[] = {PETREL_CLIENT, PETREL_SERVER};
    size_t rows = 0;
    for (size_t r = 0; r < 2; r++) {
        for (int st = PT_ST_C12_WAIT_CERT; st <= PT_ST_CONNECTED12; st++) {
            for (int type = 0; type < 256; type++) {
                bool want = listed(roles[r], st, type);
                if (pt_dispatch_accepts(roles[r], st, (uint8_t)type) != want) {
                    fail_msg("role %d state %s type %d: table %s RFC 5246 7.3", roles[r],
                             pt_state_name(st), type, want ? "misses" : "adds to");
                }
                rows += want;
            }
        }
    }
    assert_int_equal(rows, PT_ARRAY_LEN(rfc5246_rows));
}

/* --- Suites, keys and groups --------------------------------------------- */

/* The server uses `group`; the client lists `client_groups`, which must
 * name an ECDSA key's curve (RFC 8422 5.1). */
static void run_suite(const char *leaf, const char *suite, const char *group,
                      const char *client_groups)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx(leaf);
    set_bounds(cctx, V12, V12);
    assert_int_equal(petrel_ctx_set_ciphers(cctx, suite), PETREL_OK);
    assert_int_equal(petrel_ctx_set_groups(cctx, client_groups), PETREL_OK);
    assert_int_equal(petrel_ctx_set_groups(sctx, group), PETREL_OK);
    pair p = pair_new(cctx, sctx);
    pair_handshake_ok(&p);
    assert_string_equal(petrel_conn_group(p.c), group);
    assert_string_equal(petrel_conn_version_name(p.c), "TLSv1.2");
    assert_string_equal(petrel_conn_version_name(p.s), "TLSv1.2");
    assert_string_equal(petrel_conn_cipher(p.c), suite);
    assert_string_equal(petrel_conn_cipher(p.s), suite);
    assert_string_equal(petrel_conn_group(p.c), petrel_conn_group(p.s));
    assert_string_equal(petrel_conn_signature_algorithm(p.s),
                        petrel_conn_peer_signature_algorithm(p.c));
    assert_true(petrel_conn_has_peer_cert(p.c));
    assert_int_equal(petrel_conn_verify_result(p.c), 0);
    exchange_both_ways(&p);
    /* More than one record each way. */
    size_t big = 40000;
    uint8_t *data = malloc(big);
    assert_non_null(data);
    for (size_t i = 0; i < big; i++) {
        data[i] = (uint8_t)(i * 7);
    }
    pair_exchange(&p, p.c, p.s, data, big);
    pair_exchange(&p, p.s, p.c, data, big);
    free(data);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static void test_suites_keys_groups(void **state)
{
    static const char *const ecdsa[] = {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                                        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                                        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"};
    static const char *const rsa[] = {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                                      "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                                      "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"};
    static const char *const groups[] = {"x25519", "secp256r1", "secp384r1"};
    for (size_t s = 0; s < 3; s++) {
        for (size_t g = 0; g < 3; g++) {
            char with_p256[64];
            snprintf(with_p256, sizeof(with_p256), "%s:secp256r1", groups[g]);
            run_suite("server-p256", ecdsa[s], groups[g], with_p256);
            run_suite("server-rsa2048", rsa[s], groups[g], groups[g]);
        }
    }
    run_suite("server-p384", ecdsa[1], "x25519", "x25519:secp384r1");
    run_suite("server-ed25519", ecdsa[0], "x25519", "x25519");
    run_suite("server-rsapss", rsa[0], "x25519", "x25519");
}

/* RFC 8422 5.1: a P-256 certificate is unusable for a client that lists
 * only x25519, so ECDHE_ECDSA is not chosen. */
static void test_ecdsa_curve_not_listed(void **state)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    set_bounds(cctx, V12, V12);
    assert_int_equal(petrel_ctx_set_groups(cctx, "x25519"), PETREL_OK);
    pair p = pair_new(cctx, sctx);
    petrel_status ss;
    petrel_status cs = pair_handshake(&p, &ss);
    assert_int_equal(ss, PETREL_ERR_PROTOCOL);
    assert_int_equal(petrel_conn_error(p.s)->alert, PETREL_ALERT_HANDSHAKE_FAILURE);
    expect_message(p.s, "certificate curve");
    assert_int_equal(cs, PETREL_ERR_PEER_ALERT);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* An ECDSA-only suite list against an RSA key. */
static void test_suite_needs_other_key(void **state)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-rsa2048");
    set_bounds(cctx, V12, V12);
    assert_int_equal(petrel_ctx_set_ciphers(cctx, "ECDHE-ECDSA-AES128-GCM-SHA256"), PETREL_OK);
    pair p = pair_new(cctx, sctx);
    petrel_status ss;
    petrel_status cs = pair_handshake(&p, &ss);
    assert_int_equal(ss, PETREL_ERR_PROTOCOL);
    assert_int_equal(petrel_conn_error(p.s)->alert, PETREL_ALERT_HANDSHAKE_FAILURE);
    expect_message(p.s, "for the server's key");
    assert_int_equal(cs, PETREL_ERR_PEER_ALERT);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* A client that offers only CBC, RC4, 3DES and static RSA suites. */
static void test_legacy_suites_refused(void **state)
{
    static const uint16_t legacy[] = {0x002f, 0x000a, 0x0005, 0xc013, 0x009c, 0x0035};
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-rsa2048");
    set_bounds(cctx, V12, V12);
    pair p = pair_new(cctx, sctx);
    assert_int_equal(petrel_conn_do_handshake(p.c), PETREL_ERR_WANT_READ);
    wire w;
    wire_take(p.c, &w);
    ch_layout l = ch_parse(&w);
    assert_int_equal(l.suite_count, PT_ARRAY_LEN(legacy));
    for (size_t i = 0; i < l.suite_count; i++) {
        w.b[l.suites + 2 * i] = (uint8_t)(legacy[i] >> 8);
        w.b[l.suites + 2 * i + 1] = (uint8_t)legacy[i];
    }
    wire_give(p.s, w.b, w.len);
    assert_int_equal(petrel_conn_do_handshake(p.s), PETREL_ERR_PROTOCOL);
    assert_int_equal(petrel_conn_error(p.s)->alert, PETREL_ALERT_HANDSHAKE_FAILURE);
    expect_message(p.s, "0x002f RSA_WITH_AES_128_CBC_SHA");
    expect_message(p.s, "RSA_WITH_3DES_EDE_CBC_SHA");
    expect_message(p.s, "RSA_WITH_RC4_128_SHA");
    expect_message(p.s, "and 2 more");
    pair_move(p.s, p.c);
    assert_int_equal(petrel_conn_do_handshake(p.c), PETREL_ERR_PEER_ALERT);
    assert_int_equal(petrel_conn_error(p.c)->alert, PETREL_ALERT_HANDSHAKE_FAILURE);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* --- Client certificates ------------------------------------------------- */

static void client_auth_case(petrel_verify_mode mode, const char *client_leaf, bool expect_ok)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    set_bounds(cctx, V12, V12);
    assert_int_equal(petrel_ctx_set_verify_mode(sctx, mode), PETREL_OK);
    if (client_leaf != NULL) {
        char chain[64];
        char key[64];
        snprintf(chain, sizeof(chain), "%s-chain.pem", client_leaf);
        snprintf(key, sizeof(key), "%s.key", client_leaf);
        assert_int_equal(petrel_ctx_load_cert_chain(cctx, pki(chain), pki(key), NULL, NULL),
                         PETREL_OK);
    }
    pair p = pair_new(cctx, sctx);
    petrel_status ss;
    petrel_status cs = pair_handshake(&p, &ss);
    if (expect_ok) {
        assert_int_equal(ss, PETREL_OK);
        assert_int_equal(cs, PETREL_OK);
        assert_int_equal(petrel_conn_version(p.s), V12);
        bool sent = client_leaf != NULL && mode != PETREL_CERT_NONE;
        assert_int_equal(petrel_conn_has_peer_cert(p.s), sent);
        if (sent) {
            petrel_cert_info info;
            assert_int_equal(petrel_conn_peer_cert(p.s, &info), PETREL_OK);
            assert_non_null(strstr(info.subject, "client.test"));
            assert_non_null(petrel_conn_peer_signature_algorithm(p.s));
        }
        exchange_both_ways(&p);
    } else {
        /* RFC 5246 7.4.6: TLS 1.2 has no certificate_required alert. */
        assert_int_equal(ss, PETREL_ERR_PROTOCOL);
        assert_int_equal(petrel_conn_error(p.s)->alert, PETREL_ALERT_HANDSHAKE_FAILURE);
        expect_message(p.s, "no certificate");
        assert_int_equal(cs, PETREL_ERR_PEER_ALERT);
        assert_int_equal(petrel_conn_error(p.c)->alert, PETREL_ALERT_HANDSHAKE_FAILURE);
    }
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static void test_client_auth(void **state)
{
    client_auth_case(PETREL_CERT_REQUIRED, "client-p256", true);
    client_auth_case(PETREL_CERT_REQUIRED, "client-rsa2048", true);
    client_auth_case(PETREL_CERT_OPTIONAL, "client-p256", true);
    client_auth_case(PETREL_CERT_OPTIONAL, NULL, true);
    client_auth_case(PETREL_CERT_NONE, "client-p256", true);
    client_auth_case(PETREL_CERT_REQUIRED, NULL, false);
}

/* A server certificate of about 310 KB with the limits raised to take it:
 * TLS 1.2 keeps the raw messages only while a CertificateVerify can still
 * come, and then as many as the limits allow. */
static void big_chain_case(int version, bool client_auth)
{
    petrel_limits big = {1 << 20, 10, 1 << 20, 0};
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-big");
    set_bounds(cctx, version, version);
    assert_int_equal(petrel_ctx_set_limits(cctx, &big), PETREL_OK);
    assert_int_equal(petrel_ctx_set_limits(sctx, &big), PETREL_OK);
    if (client_auth) {
        assert_int_equal(petrel_ctx_set_verify_mode(sctx, PETREL_CERT_REQUIRED), PETREL_OK);
        assert_int_equal(petrel_ctx_load_cert_chain(cctx, pki("client-p256-chain.pem"),
                                                    pki("client-p256.key"), NULL, NULL),
                         PETREL_OK);
    }
    pair p = pair_new(cctx, sctx);
    pair_handshake_ok(&p);
    assert_int_equal(petrel_conn_version(p.c), version);
    assert_int_equal(petrel_conn_has_peer_cert(p.s), client_auth);
    exchange_both_ways(&p);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static void test_big_certificate(void **state)
{
    big_chain_case(V12, false);
    big_chain_case(V12, true);
    big_chain_case(V13, false);
    big_chain_case(V13, true);
    /* With the default limits the chain is refused by name, not by an
     * internal error. */
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-big");
    set_bounds(cctx, V12, V12);
    pair p = pair_new(cctx, sctx);
    petrel_status ss;
    petrel_status cs = pair_handshake(&p, &ss);
    assert_int_equal(cs, PETREL_ERR_PROTOCOL);
    assert_int_not_equal(petrel_conn_error(p.c)->alert, PETREL_ALERT_INTERNAL_ERROR);
    expect_message(p.c, "limit");
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* A client with a certificate the server does not trust. */
static void test_client_cert_untrusted(void **state)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    set_bounds(cctx, V12, V12);
    assert_int_equal(petrel_ctx_set_verify_mode(sctx, PETREL_CERT_OPTIONAL), PETREL_OK);
    assert_int_equal(petrel_ctx_load_cert_chain(cctx, pki("untrusted-chain.pem"),
                                                pki("untrusted.key"), NULL, NULL),
                     PETREL_OK);
    pair p = pair_new(cctx, sctx);
    petrel_status ss;
    petrel_status cs = pair_handshake(&p, &ss);
    assert_int_equal(ss, PETREL_ERR_CERT_VERIFY);
    assert_int_equal(cs, PETREL_ERR_PEER_ALERT);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* --- Extended master secret (RFC 7627) ----------------------------------- */

static void trace_collect(const petrel_conn *conn, const char *event, void *userdata)
{
    char *log = userdata;
    size_t used = strlen(log);
    snprintf(log + used, 4096 - used, "%s\n", event);
}

static void test_ems_used(void **state)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    set_bounds(cctx, V12, V12);
    assert_int_equal(petrel_ctx_set_require_extended_master_secret(cctx, true), PETREL_OK);
    assert_int_equal(petrel_ctx_set_require_extended_master_secret(sctx, true), PETREL_OK);
    assert_true(petrel_ctx_require_extended_master_secret(sctx));
    pair p = pair_new(cctx, sctx);
    static char clog[4096];
    static char slog[4096];
    clog[0] = '\0';
    slog[0] = '\0';
    petrel_conn_set_trace_callback(p.c, trace_collect, clog);
    petrel_conn_set_trace_callback(p.s, trace_collect, slog);
    pair_handshake_ok(&p);
    assert_non_null(strstr(clog, "extended master secret"));
    assert_non_null(strstr(slog, "TLSv1.2, extended master secret"));
    exchange_both_ways(&p);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

/* The client's extended_master_secret is hidden from the server; the
 * client's transcript is edited the same way, so both derive the legacy
 * master secret from the same messages. */
static void hidden_ems_case(bool client_requires, bool server_requires)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    set_bounds(cctx, V12, V12);
    assert_int_equal(petrel_ctx_set_require_extended_master_secret(cctx, client_requires),
                     PETREL_OK);
    assert_int_equal(petrel_ctx_set_require_extended_master_secret(sctx, server_requires),
                     PETREL_OK);
    pair p = pair_new(cctx, sctx);
    assert_int_equal(petrel_conn_do_handshake(p.c), PETREL_ERR_WANT_READ);
    wire w;
    wire_take(p.c, &w);
    size_t at = ch_hide_ext(&w, PT_EXT_EXTENDED_MASTER_SECRET);
    p.c->hs->tr.raw.data[at - 5] = 0xfa;
    p.c->hs->tr.raw.data[at - 4] = 0xfa;
    wire_give(p.s, w.b, w.len);
    petrel_status ss;
    petrel_status cs = pair_handshake(&p, &ss);
    if (server_requires) {
        assert_int_equal(ss, PETREL_ERR_PROTOCOL);
        assert_int_equal(petrel_conn_error(p.s)->alert, PETREL_ALERT_HANDSHAKE_FAILURE);
        expect_message(p.s, "extended master secret");
        assert_int_equal(cs, PETREL_ERR_PEER_ALERT);
    } else if (client_requires) {
        assert_int_equal(cs, PETREL_ERR_PROTOCOL);
        assert_int_equal(petrel_conn_error(p.c)->alert, PETREL_ALERT_HANDSHAKE_FAILURE);
        expect_message(p.c, "extended master secret");
        assert_int_equal(ss, PETREL_ERR_PEER_ALERT);
        assert_int_equal(petrel_conn_error(p.s)->alert, PETREL_ALERT_HANDSHAKE_FAILURE);
    } else {
        assert_int_equal(cs, PETREL_OK);
        assert_int_equal(ss, PETREL_OK);
        exchange_both_ways(&p);
    }
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static void test_ems_absent(void **state)
{
    hidden_ems_case(false, false);
    hidden_ems_case(false, true);
    hidden_ems_case(true, false);
}

/* --- Renegotiation declined (RFC 5746, RFC 5246 7.4.1.1) ----------------- */

static petrel_ctx *cctx12;
static petrel_ctx *sctx12;

static pair tls12_pair(void)
{
    cctx12 = client_ctx();
    sctx12 = server_ctx("server-p256");
    set_bounds(cctx12, V12, V12);
    pair p = pair_new(cctx12, sctx12);
    pair_handshake_ok(&p);
    assert_int_equal(petrel_conn_version(p.c), V12);
    return p;
}

static void tls12_pair_free(pair *p)
{
    pair_free(p);
    petrel_ctx_free(cctx12);
    petrel_ctx_free(sctx12);
}

/* Seals a handshake message with the sender's real keys. */
static void inject_handshake(petrel_conn *from, const uint8_t *msg, size_t len)
{
    assert_int_equal(pt_record_seal(&from->rl, PT_CT_HANDSHAKE, msg, len, &from->out, &from->err),
                     PETREL_OK);
}

/* Reads exactly len bytes and checks them. */
static void read_exact(petrel_conn *to, const char *want)
{
    char got[64];
    size_t n = 0;
    assert_int_equal(petrel_conn_read(to, got, sizeof(got), &n), PETREL_OK);
    assert_int_equal(n, strlen(want));
    assert_memory_equal(got, want, n);
}

static void test_hello_request_declined(void **state)
{
    static const uint8_t hello_request[4] = {PT_HS_HELLO_REQUEST, 0, 0, 0};
    pair p = tls12_pair();
    inject_handshake(p.s, hello_request, sizeof(hello_request));
    size_t n = 0;
    assert_int_equal(petrel_conn_write(p.s, "data after", 10, &n), PETREL_OK);
    pair_move(p.s, p.c);
    read_exact(p.c, "data after");
    /* The client answered with a warning alert record, and nothing else. */
    uint8_t out[64];
    size_t len = petrel_conn_take_output(p.c, out, sizeof(out));
    assert_int_equal(out[0], PT_CT_ALERT);
    assert_int_equal(len, 5 + 8 + 2 + 16);
    wire_give(p.s, out, len);
    exchange_both_ways(&p);
    assert_true(petrel_conn_handshake_done(p.c));
    tls12_pair_free(&p);
}

static void test_client_hello_declined(void **state)
{
    /* Any ClientHello on an established connection asks to renegotiate. */
    static const uint8_t hello[] = {PT_HS_CLIENT_HELLO, 0, 0, 4, 3, 3, 0, 0};
    pair p = tls12_pair();
    inject_handshake(p.c, hello, sizeof(hello));
    size_t n = 0;
    assert_int_equal(petrel_conn_write(p.c, "still here", 10, &n), PETREL_OK);
    pair_move(p.c, p.s);
    read_exact(p.s, "still here");
    uint8_t out[64];
    size_t len = petrel_conn_take_output(p.s, out, sizeof(out));
    assert_int_equal(out[0], PT_CT_ALERT);
    assert_int_equal(len, 5 + 8 + 2 + 16);
    wire_give(p.c, out, len);
    exchange_both_ways(&p);
    tls12_pair_free(&p);
}

/* --- Misuse, close_notify, ALPN, key log --------------------------------- */

static void test_tls13_calls_are_misuse(void **state)
{
    pair p = tls12_pair();
    assert_int_equal(petrel_conn_key_update(p.c, true), PETREL_ERR_MISUSE);
    assert_int_equal(petrel_conn_verify_client_post_handshake(p.s), PETREL_ERR_MISUSE);
    expect_message(p.s, "TLS 1.3");
    assert_false(petrel_conn_peer_cert_pending(p.s));
    exchange_both_ways(&p);
    assert_int_equal(petrel_conn_key_update(p.s, false), PETREL_ERR_MISUSE);
    exchange_both_ways(&p);
    tls12_pair_free(&p);
}

static void test_close_notify(void **state)
{
    pair p = tls12_pair();
    pair_exchange(&p, p.c, p.s, "bye", 3);
    assert_int_equal(petrel_conn_shutdown(p.c), PETREL_ERR_WANT_READ);
    pair_move(p.c, p.s);
    uint8_t b[8];
    size_t n;
    assert_int_equal(petrel_conn_read(p.s, b, sizeof(b), &n), PETREL_ERR_ZERO_RETURN);
    assert_int_equal(petrel_conn_shutdown(p.s), PETREL_OK);
    pair_move(p.s, p.c);
    assert_int_equal(petrel_conn_shutdown(p.c), PETREL_OK);
    tls12_pair_free(&p);
}

/* A fatal alert from the peer ends a TLS 1.2 connection. */
static void test_fatal_alert(void **state)
{
    static const uint8_t fatal[2] = {2, PETREL_ALERT_INTERNAL_ERROR};
    pair p = tls12_pair();
    assert_int_equal(pt_record_seal(&p.s->rl, PT_CT_ALERT, fatal, 2, &p.s->out, &p.s->err),
                     PETREL_OK);
    pair_move(p.s, p.c);
    uint8_t b[8];
    size_t n;
    assert_int_equal(petrel_conn_read(p.c, b, sizeof(b), &n), PETREL_ERR_PEER_ALERT);
    assert_int_equal(petrel_conn_error(p.c)->alert, PETREL_ALERT_INTERNAL_ERROR);
    tls12_pair_free(&p);
}

static void test_alpn_sni(void **state)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    set_bounds(cctx, V12, V12);
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

static void keylog_collect(const petrel_conn *conn, const char *line, void *userdata)
{
    char *out = userdata;
    snprintf(out, 256, "%s", line);
}

static void test_key_log(void **state)
{
    static char cline[256];
    static char sline[256];
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    set_bounds(cctx, V12, V12);
    petrel_ctx_set_keylog_callback(cctx, keylog_collect, cline);
    petrel_ctx_set_keylog_callback(sctx, keylog_collect, sline);
    pair p = pair_new(cctx, sctx);
    pair_handshake_ok(&p);
    /* NSS format: CLIENT_RANDOM <64 hex> <96 hex>, the same on both sides. */
    assert_int_equal(strncmp(cline, "CLIENT_RANDOM ", 14), 0);
    assert_int_equal(strlen(cline), 14 + 64 + 1 + 96);
    assert_string_equal(cline, sline);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_matrix),
        cmocka_unit_test(test_minimum_above_maximum),
        cmocka_unit_test(test_client_hello_contents),
        cmocka_unit_test(test_server_marks_downgrade),
        cmocka_unit_test(test_client_refuses_downgrade),
        cmocka_unit_test(test_server_hello_faults),
        cmocka_unit_test(test_server_key_exchange_faults),
        cmocka_unit_test(test_ems_binds_transcript),
        cmocka_unit_test(test_wrong_hostname),
        cmocka_unit_test(test_state_table),
        cmocka_unit_test(test_client_hello_faults),
        cmocka_unit_test(test_client_flight_faults),
        cmocka_unit_test(test_early_change_cipher_spec),
        cmocka_unit_test(test_finished_mismatch),
        cmocka_unit_test(test_suites_keys_groups),
        cmocka_unit_test(test_suite_needs_other_key),
        cmocka_unit_test(test_ecdsa_curve_not_listed),
        cmocka_unit_test(test_legacy_suites_refused),
        cmocka_unit_test(test_client_auth),
        cmocka_unit_test(test_big_certificate),
        cmocka_unit_test(test_client_cert_untrusted),
        cmocka_unit_test(test_ems_used),
        cmocka_unit_test(test_ems_absent),
        cmocka_unit_test(test_hello_request_declined),
        cmocka_unit_test(test_client_hello_declined),
        cmocka_unit_test(test_tls13_calls_are_misuse),
        cmocka_unit_test(test_close_notify),
        cmocka_unit_test(test_fatal_alert),
        cmocka_unit_test(test_alpn_sni),
        cmocka_unit_test(test_key_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
