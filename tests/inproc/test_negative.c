/*
 * test_negative.c - hostile input, with both ends in one process.
 *
 * Each case of the table breaks one rule (RFC 8446 section in its name or
 * comment) and checks the error class, the exact alert we send, a word of
 * the sentence, and, when the peer can still decrypt it, that the peer
 * receives the same alert. Every case also checks that the connection's
 * buffers stayed within their maximum.
 *
 * Plaintext faults are fed as records framed here; ClientHello faults edit
 * the real client's ClientHello (and, when the handshake must go on, put
 * the edited copy in the client's transcript). Faults after the handshake
 * are sealed with the sending connection's real keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "engine/internal.h"
#include "pair.h"

typedef struct fx {
    petrel_ctx *cctx;
    petrel_ctx *sctx;
    pair p;
} fx;

typedef struct msgbuf {
    uint8_t b[8192];
    size_t len;
} msgbuf;

/* --- Helpers -------------------------------------------------------------- */

static void buf_bounded(const pt_buf *b)
{
    assert_true(b->len <= b->max);
    assert_true(b->cap <= b->max || b->cap == 0);
}

/* Received and pending data never exceed the maxima fixed at creation. */
static void assert_bounded(const petrel_conn *c)
{
    buf_bounded(&c->in);
    buf_bounded(&c->app);
    buf_bounded(&c->hsmsg);
    buf_bounded(&c->out);
    buf_bounded(&c->hsout);
}

static void feed(petrel_conn *c, const uint8_t *d, size_t n)
{
    size_t used = 0;
    assert_int_equal(petrel_conn_feed(c, d, n, &used), PETREL_OK);
    assert_int_equal(used, n);
}

/* Frames one plaintext record as a peer would, and feeds it. */
static void feed_record(petrel_conn *c, uint8_t type, const uint8_t *d, size_t n)
{
    uint8_t hdr[5] = {type, 3, 3, (uint8_t)(n >> 8), (uint8_t)n};
    feed(c, hdr, sizeof(hdr));
    if (n > 0) {
        feed(c, d, n);
    }
}

/* Seals a record of any type with the sending connection's current key. */
static void seal_raw(petrel_conn *from, uint8_t type, const uint8_t *d, size_t n)
{
    assert_int_equal(pt_record_seal(&from->rl, type, d, n, &from->out, &from->err), PETREL_OK);
}

/* Seals a hand-made handshake message with the sending connection's keys. */
static void inject(petrel_conn *from, const uint8_t *msg, size_t len)
{
    assert_int_equal(pt_send_handshake(from, msg, len, NULL), PETREL_OK);
    assert_int_equal(pt_flush_handshake(from), PETREL_OK);
}

/* Runs the client's first step and unframes the ClientHello it sent. */
static void take_client_hello(petrel_conn *c, msgbuf *ch)
{
    uint8_t wire[8192];
    assert_int_equal(petrel_conn_do_handshake(c), PETREL_ERR_WANT_READ);
    size_t n = petrel_conn_take_output(c, wire, sizeof(wire));
    ch->len = 0;
    for (size_t off = 0; off < n;) {
        assert_true(n - off >= 5);
        assert_int_equal(wire[off], PT_CT_HANDSHAKE);
        size_t rl = ((size_t)wire[off + 3] << 8) | wire[off + 4];
        assert_true(off + 5 + rl <= n);
        memcpy(ch->b + ch->len, wire + off + 5, rl);
        ch->len += rl;
        off += 5 + rl;
    }
    assert_true(ch->len > 4);
    assert_int_equal(ch->b[0], PT_HS_CLIENT_HELLO);
}

static void fx_begin(fx *f)
{
    f->cctx = client_ctx();
    f->sctx = server_ctx("server-p256");
    /* Cases count the records the server sends after the handshake. */
    assert_int_equal(petrel_ctx_set_num_tickets(f->sctx, 0), PETREL_OK);
}

static void fx_pair(fx *f)
{
    f->p = pair_new(f->cctx, f->sctx);
}

/* Contexts freeze when a connection is made: a case that configures them
 * starts again from new ones, then calls fx_pair. */
static void fx_fresh(fx *f)
{
    pair_free(&f->p);
    petrel_ctx_free(f->cctx);
    petrel_ctx_free(f->sctx);
    fx_begin(f);
}

static void fx_free(fx *f)
{
    pair_free(&f->p);
    petrel_ctx_free(f->cctx);
    petrel_ctx_free(f->sctx);
}

static void set_limits(petrel_ctx *ctx, size_t msg, size_t chain_len, size_t chain_bytes)
{
    petrel_limits l = {msg, chain_len, chain_bytes, 0};
    assert_int_equal(petrel_ctx_set_limits(ctx, &l), PETREL_OK);
}

/* --- ClientHello editing ------------------------------------------------- */

typedef struct ch_edit {
    bool no_versions;
    bool no_groups;
    bool no_key_share;
    bool no_sigalgs;
    int dup_ext;         /* an extension to send twice, -1 for none */
    bool unknown_exts;   /* add extensions nobody defines */
    const uint8_t *comp; /* replacement compression methods, or NULL */
    size_t comp_len;
    bool bad_share; /* replace the key share by an invalid one */
} ch_edit;

#define CH_EDIT_NONE .dup_ext = -1

static bool dropped(const ch_edit *e, uint16_t type)
{
    return (type == PT_EXT_SUPPORTED_VERSIONS && e->no_versions) ||
           (type == PT_EXT_SUPPORTED_GROUPS && e->no_groups) ||
           (type == PT_EXT_KEY_SHARE && e->no_key_share) ||
           (type == PT_EXT_SIGNATURE_ALGORITHMS && e->no_sigalgs);
}

static void put_ext(pt_builder *b, uint16_t type, const uint8_t *p, size_t len)
{
    pt_put_u16(b, type);
    pt_put_u16(b, (uint16_t)len);
    pt_put_bytes(b, p, len);
}

/* x25519's all-zero point gives an all-zero secret (RFC 8446 7.4.2); the
 * P-256 point (1, 1) is not on the curve (RFC 8446 4.2.8.2). */
static void put_bad_share(pt_builder *b, pt_span data)
{
    pt_span list;
    uint16_t group;
    assert_true(pt_get_vec16(&data, &list));
    assert_true(pt_get_u16(&list, &group));
    uint8_t point[65] = {0};
    size_t len = group == PT_GROUP_X25519 ? 32 : 65;
    if (group != PT_GROUP_X25519) {
        point[0] = 4;
        point[32] = 1;
        point[64] = 1;
    }
    pt_put_u16(b, PT_EXT_KEY_SHARE);
    pt_open(b, 2);
    pt_open(b, 2);
    pt_put_u16(b, group);
    pt_open(b, 2);
    pt_put_bytes(b, point, len);
    pt_close(b);
    pt_close(b);
    pt_close(b);
}

static void put_edited_exts(pt_builder *b, pt_span exts, const ch_edit *e)
{
    static const uint8_t junk[] = {0xde, 0xad, 0xbe, 0xef, 0x00};
    pt_open(b, 2);
    if (e->unknown_exts) {
        put_ext(b, 0x0a0a, NULL, 0); /* a GREASE value, RFC 8701 */
        put_ext(b, 0x7777, junk, sizeof(junk));
    }
    while (!pt_span_empty(&exts)) {
        uint16_t type;
        pt_span data;
        assert_true(pt_get_u16(&exts, &type) && pt_get_vec16(&exts, &data));
        if (dropped(e, type)) {
            continue;
        }
        if (type == PT_EXT_KEY_SHARE && e->bad_share) {
            put_bad_share(b, data);
            continue;
        }
        put_ext(b, type, data.p, data.len);
        if (e->dup_ext == (int)type) {
            put_ext(b, type, data.p, data.len);
        }
    }
    if (e->unknown_exts) {
        put_ext(b, 0xfe0d, junk, 3);
    }
    pt_close(b);
}

static void edit_client_hello(const msgbuf *in, const ch_edit *e, msgbuf *out)
{
    pt_span body = pt_span_of(in->b + 4, in->len - 4);
    uint16_t version;
    pt_span random;
    pt_span sid;
    pt_span suites;
    pt_span comp;
    pt_span exts;
    assert_true(pt_get_u16(&body, &version) && pt_get_bytes(&body, 32, &random) &&
                pt_get_vec8(&body, &sid) && pt_get_vec16(&body, &suites) &&
                pt_get_vec8(&body, &comp) && pt_get_vec16(&body, &exts) && pt_span_empty(&body));
    pt_buf buf;
    pt_buf_init(&buf, sizeof(out->b), false);
    pt_builder b;
    pt_msg_begin(&b, &buf, PT_HS_CLIENT_HELLO);
    pt_put_u16(&b, version);
    pt_put_bytes(&b, random.p, random.len);
    pt_open(&b, 1);
    pt_put_bytes(&b, sid.p, sid.len);
    pt_close(&b);
    pt_open(&b, 2);
    pt_put_bytes(&b, suites.p, suites.len);
    pt_close(&b);
    pt_open(&b, 1);
    pt_put_bytes(&b, e->comp != NULL ? e->comp : comp.p, e->comp != NULL ? e->comp_len : comp.len);
    pt_close(&b);
    put_edited_exts(&b, exts, e);
    pt_close(&b);
    assert_true(pt_builder_ok(&b));
    memcpy(out->b, buf.data, buf.len);
    out->len = buf.len;
    pt_buf_release(&buf);
}

/* The client believes it sent `ch`, so the transcripts agree. */
static void client_sent_instead(petrel_conn *c, const msgbuf *ch)
{
    pt_buf_reset(&c->hs->tr.raw);
    assert_int_equal(pt_tr_add(&c->hs->tr, ch->b, ch->len, &c->err), PETREL_OK);
}

static petrel_conn *server_gets_ch(fx *f, const ch_edit *e, petrel_status *st)
{
    msgbuf ch;
    msgbuf edited;
    take_client_hello(f->p.c, &ch);
    edit_client_hello(&ch, e, &edited);
    feed_record(f->p.s, PT_CT_HANDSHAKE, edited.b, edited.len);
    *st = petrel_conn_do_handshake(f->p.s);
    return f->p.s;
}

/* --- ServerHello building ------------------------------------------------ */

typedef struct sh_edit {
    uint16_t legacy_version;
    uint16_t suite;
    uint16_t group;
    uint16_t extra_ext; /* an empty extension of this type, when not 0 */
} sh_edit;

static void build_server_hello(const petrel_conn *c, const sh_edit *e, msgbuf *out)
{
    uint8_t random[32];
    uint8_t share[32];
    memset(random, 0x5a, sizeof(random));
    memset(share, 9, sizeof(share));
    pt_buf buf;
    pt_buf_init(&buf, sizeof(out->b), false);
    pt_builder b;
    pt_msg_begin(&b, &buf, PT_HS_SERVER_HELLO);
    pt_put_u16(&b, e->legacy_version);
    pt_put_bytes(&b, random, sizeof(random));
    pt_open(&b, 1);
    pt_put_bytes(&b, c->hs->session_id, c->hs->session_id_len);
    pt_close(&b);
    pt_put_u16(&b, e->suite);
    pt_put_u8(&b, 0);
    pt_open(&b, 2);
    static const uint8_t v13[] = {0x03, 0x04};
    put_ext(&b, PT_EXT_SUPPORTED_VERSIONS, v13, sizeof(v13));
    if (e->extra_ext != 0) {
        put_ext(&b, e->extra_ext, NULL, 0);
    }
    pt_put_u16(&b, PT_EXT_KEY_SHARE);
    pt_open(&b, 2);
    pt_put_u16(&b, e->group);
    pt_open(&b, 2);
    pt_put_bytes(&b, share, sizeof(share));
    pt_close(&b);
    pt_close(&b);
    pt_close(&b);
    pt_close(&b);
    assert_true(pt_builder_ok(&b));
    memcpy(out->b, buf.data, buf.len);
    out->len = buf.len;
    pt_buf_release(&buf);
}

static petrel_conn *client_gets_sh(fx *f, const sh_edit *e, petrel_status *st)
{
    msgbuf ch;
    msgbuf sh;
    take_client_hello(f->p.c, &ch);
    build_server_hello(f->p.c, e, &sh);
    feed_record(f->p.c, PT_CT_HANDSHAKE, sh.b, sh.len);
    *st = petrel_conn_do_handshake(f->p.c);
    return f->p.c;
}

/* --- The cases ------------------------------------------------------------ */

/* Every case returns the connection under test and the status it gave. */
typedef petrel_conn *(*case_fn)(fx *f, petrel_status *st);

/* Plaintext bytes fed to a fresh server, after the client said hello. */
static petrel_conn *server_fed(fx *f, const uint8_t *wire, size_t len, petrel_status *st)
{
    msgbuf ch;
    take_client_hello(f->p.c, &ch);
    feed(f->p.s, wire, len);
    *st = petrel_conn_do_handshake(f->p.s);
    return f->p.s;
}

/* RFC 8446 5.1: a record longer than 2^14 + 256 fails on its header. */
static petrel_conn *c_oversize_record_header(fx *f, petrel_status *st)
{
    static const uint8_t wire[] = {PT_CT_HANDSHAKE, 3, 3, 0xff, 0xff};
    return server_fed(f, wire, sizeof(wire), st);
}

/* RFC 8446 5.1: a plaintext fragment longer than 2^14. */
static petrel_conn *c_oversize_plaintext(fx *f, petrel_status *st)
{
    static uint8_t body[PT_MAX_PLAINTEXT + 1];
    msgbuf ch;
    take_client_hello(f->p.c, &ch);
    feed_record(f->p.s, PT_CT_HANDSHAKE, body, sizeof(body));
    *st = petrel_conn_do_handshake(f->p.s);
    return f->p.s;
}

/* RFC 8446 5: an unknown record type (24 is heartbeat, never negotiated). */
static petrel_conn *c_unknown_content_type(fx *f, petrel_status *st)
{
    static const uint8_t wire[] = {24, 3, 3, 0, 1, 1};
    return server_fed(f, wire, sizeof(wire), st);
}

static petrel_conn *c_garbage_content_type(fx *f, petrel_status *st)
{
    static const uint8_t wire[] = {99, 3, 3, 0, 2, 0, 0};
    return server_fed(f, wire, sizeof(wire), st);
}

/* RFC 8446 5.1: handshake records are never empty. */
static petrel_conn *c_zero_length_handshake(fx *f, petrel_status *st)
{
    static const uint8_t wire[] = {PT_CT_HANDSHAKE, 3, 3, 0, 0};
    return server_fed(f, wire, sizeof(wire), st);
}

/* RFC 8446 5.1: application data may not interleave with the fragments of
 * a handshake message (and is not allowed before the handshake at all). */
static petrel_conn *c_fragment_then_app_data_plaintext(fx *f, petrel_status *st)
{
    msgbuf ch;
    take_client_hello(f->p.c, &ch);
    feed_record(f->p.s, PT_CT_HANDSHAKE, ch.b, ch.len / 2);
    feed_record(f->p.s, PT_CT_APPLICATION_DATA, (const uint8_t *)"hi", 2);
    *st = petrel_conn_do_handshake(f->p.s);
    return f->p.s;
}

static petrel_conn *c_fragment_then_app_data_encrypted(fx *f, petrel_status *st)
{
    pair_handshake_ok(&f->p);
    static const uint8_t part[] = {PT_HS_KEY_UPDATE, 0, 0};
    seal_raw(f->p.c, PT_CT_HANDSHAKE, part, sizeof(part));
    seal_raw(f->p.c, PT_CT_APPLICATION_DATA, (const uint8_t *)"data", 4);
    pair_move(f->p.c, f->p.s);
    uint8_t b[16];
    size_t n;
    *st = petrel_conn_read(f->p.s, b, sizeof(b), &n);
    return f->p.s;
}

/* RFC 8446 4.2: no extension type twice. */
static petrel_conn *c_duplicate_extension(fx *f, petrel_status *st)
{
    ch_edit e = {.dup_ext = PT_EXT_SUPPORTED_GROUPS};
    return server_gets_ch(f, &e, st);
}

static petrel_conn *c_duplicate_unknown_extension(fx *f, petrel_status *st)
{
    ch_edit e = {.unknown_exts = true, .dup_ext = PT_EXT_PSK_KEY_EXCHANGE_MODES};
    return server_gets_ch(f, &e, st);
}

/* RFC 8446 9.2: supported_groups, key_share and signature_algorithms are
 * mandatory with (EC)DHE and certificates. */
static petrel_conn *c_missing_groups(fx *f, petrel_status *st)
{
    ch_edit e = {CH_EDIT_NONE, .no_groups = true};
    return server_gets_ch(f, &e, st);
}

static petrel_conn *c_missing_key_share(fx *f, petrel_status *st)
{
    ch_edit e = {CH_EDIT_NONE, .no_key_share = true};
    return server_gets_ch(f, &e, st);
}

static petrel_conn *c_missing_sigalgs(fx *f, petrel_status *st)
{
    ch_edit e = {CH_EDIT_NONE, .no_sigalgs = true};
    return server_gets_ch(f, &e, st);
}

/* RFC 8446 4.2.1: a ClientHello without supported_versions is TLS 1.2,
 * which a TLS 1.3-only server refuses. */
static petrel_conn *c_tls12_only_client(fx *f, petrel_status *st)
{
    fx_fresh(f);
    assert_int_equal(petrel_ctx_set_minimum_version(f->sctx, PETREL_TLS1_3), PETREL_OK);
    fx_pair(f);
    ch_edit e = {CH_EDIT_NONE, .no_versions = true};
    return server_gets_ch(f, &e, st);
}

/* RFC 8446 4.1.2: exactly one compression method, null. */
static petrel_conn *c_compression_deflate(fx *f, petrel_status *st)
{
    static const uint8_t deflate[] = {1};
    ch_edit e = {CH_EDIT_NONE, .comp = deflate, .comp_len = 1};
    return server_gets_ch(f, &e, st);
}

static petrel_conn *c_compression_two_methods(fx *f, petrel_status *st)
{
    static const uint8_t two[] = {0, 1};
    ch_edit e = {CH_EDIT_NONE, .comp = two, .comp_len = 2};
    return server_gets_ch(f, &e, st);
}

/* RFC 8446 7.4.2: an all-zero x25519 shared secret is refused. */
static petrel_conn *c_bad_x25519_share(fx *f, petrel_status *st)
{
    ch_edit e = {CH_EDIT_NONE, .bad_share = true};
    return server_gets_ch(f, &e, st);
}

/* RFC 8446 4.2.8.2: the peer's point must be on the curve. */
static petrel_conn *c_bad_p256_share(fx *f, petrel_status *st)
{
    fx_fresh(f);
    assert_int_equal(petrel_ctx_set_groups(f->cctx, "P-256"), PETREL_OK);
    fx_pair(f);
    ch_edit e = {CH_EDIT_NONE, .bad_share = true};
    return server_gets_ch(f, &e, st);
}

/* RFC 8446 4.1.3: the server's choice must be among the client's offers. */
static petrel_conn *c_sh_suite_not_offered(fx *f, petrel_status *st)
{
    sh_edit e = {0x0303, 0x1304, PT_GROUP_X25519, 0};
    return client_gets_sh(f, &e, st);
}

/* RFC 8446 4.2.8: the server's share must be for the group we shared. */
static petrel_conn *c_sh_group_not_offered(fx *f, petrel_status *st)
{
    sh_edit e = {0x0303, 0x1301, 0x001e, 0};
    return client_gets_sh(f, &e, st);
}

/* RFC 8446 4.1.3: legacy_version is 0x0303 in a TLS 1.3 ServerHello. */
static petrel_conn *c_sh_legacy_version(fx *f, petrel_status *st)
{
    sh_edit e = {0x0302, 0x1301, PT_GROUP_X25519, 0};
    return client_gets_sh(f, &e, st);
}

/* RFC 8446 4.2: a known extension in a message that cannot carry it is
 * illegal_parameter; one never offered is unsupported_extension. */
static petrel_conn *c_sh_early_data(fx *f, petrel_status *st)
{
    sh_edit e = {0x0303, 0x1301, PT_GROUP_X25519, PT_EXT_EARLY_DATA};
    return client_gets_sh(f, &e, st);
}

static petrel_conn *c_sh_unknown_extension(fx *f, petrel_status *st)
{
    sh_edit e = {0x0303, 0x1301, PT_GROUP_X25519, 0x7a7a};
    return client_gets_sh(f, &e, st);
}

/* A ServerHello sent to a server: no row of the state table. */
static petrel_conn *c_server_hello_to_server(fx *f, petrel_status *st)
{
    msgbuf ch;
    msgbuf sh;
    take_client_hello(f->p.c, &ch);
    sh_edit e = {0x0303, 0x1301, PT_GROUP_X25519, 0};
    build_server_hello(f->p.c, &e, &sh);
    feed_record(f->p.s, PT_CT_HANDSHAKE, sh.b, sh.len);
    *st = petrel_conn_do_handshake(f->p.s);
    return f->p.s;
}

/* A ClientHello, whole and well formed, on an established connection. */
static petrel_conn *c_client_hello_after_handshake(fx *f, petrel_status *st)
{
    pair_handshake_ok(&f->p);
    petrel_conn *other = petrel_conn_new(f->cctx, "localhost");
    assert_non_null(other);
    msgbuf ch;
    take_client_hello(other, &ch);
    petrel_conn_free(other);
    inject(f->p.c, ch.b, ch.len);
    pair_move(f->p.c, f->p.s);
    uint8_t b[16];
    size_t n;
    *st = petrel_conn_read(f->p.s, b, sizeof(b), &n);
    return f->p.s;
}

/* The server after its flight, given CCS records by the test. */
static petrel_conn *server_after_flight_gets(fx *f, const uint8_t *values, size_t count,
                                             petrel_status *st)
{
    msgbuf ch;
    take_client_hello(f->p.c, &ch);
    feed_record(f->p.s, PT_CT_HANDSHAKE, ch.b, ch.len);
    assert_int_equal(petrel_conn_do_handshake(f->p.s), PETREL_ERR_WANT_READ);
    for (size_t i = 0; i < count; i++) {
        feed_record(f->p.s, PT_CT_CHANGE_CIPHER_SPEC, values + i, 1);
    }
    *st = petrel_conn_do_handshake(f->p.s);
    return f->p.s;
}

/* RFC 8446 5: change_cipher_spec is the single byte 0x01. */
static petrel_conn *c_ccs_wrong_value(fx *f, petrel_status *st)
{
    static const uint8_t two[] = {2};
    return server_after_flight_gets(f, two, 1, st);
}

/* RFC 8446 5: at most one compatibility CCS. */
static petrel_conn *c_second_ccs(fx *f, petrel_status *st)
{
    static const uint8_t ones[] = {1, 1};
    return server_after_flight_gets(f, ones, 2, st);
}

/* RFC 8446 5: not before the first ClientHello. */
static petrel_conn *c_ccs_before_client_hello(fx *f, petrel_status *st)
{
    static const uint8_t wire[] = {PT_CT_CHANGE_CIPHER_SPEC, 3, 3, 0, 1, 1};
    return server_fed(f, wire, sizeof(wire), st);
}

/* RFC 8446 5: not after the handshake. */
static petrel_conn *c_ccs_after_handshake(fx *f, petrel_status *st)
{
    pair_handshake_ok(&f->p);
    static const uint8_t one = 1;
    feed_record(f->p.s, PT_CT_CHANGE_CIPHER_SPEC, &one, 1);
    uint8_t b[16];
    size_t n;
    *st = petrel_conn_read(f->p.s, b, sizeof(b), &n);
    return f->p.s;
}

static petrel_conn *read_after(fx *f, petrel_status *st)
{
    pair_move(f->p.c, f->p.s);
    uint8_t b[16];
    size_t n;
    *st = petrel_conn_read(f->p.s, b, sizeof(b), &n);
    return f->p.s;
}

/* Floods that carry no data: limits the engine sets on KeyUpdate, empty
 * records and warning alerts in a row. */
static petrel_conn *c_key_update_flood(fx *f, petrel_status *st)
{
    pair_handshake_ok(&f->p);
    for (int i = 0; i < 40; i++) {
        assert_int_equal(petrel_conn_key_update(f->p.c, false), PETREL_OK);
    }
    return read_after(f, st);
}

static petrel_conn *c_empty_record_flood(fx *f, petrel_status *st)
{
    pair_handshake_ok(&f->p);
    for (int i = 0; i < 40; i++) {
        seal_raw(f->p.c, PT_CT_APPLICATION_DATA, NULL, 0);
    }
    return read_after(f, st);
}

static petrel_conn *c_user_canceled_flood(fx *f, petrel_status *st)
{
    pair_handshake_ok(&f->p);
    static const uint8_t canceled[] = {1, PETREL_ALERT_USER_CANCELED};
    for (int i = 0; i < 20; i++) {
        seal_raw(f->p.c, PT_CT_ALERT, canceled, sizeof(canceled));
    }
    return read_after(f, st);
}

/* RFC 8446 4.6.3: request_update is 0 or 1. */
static petrel_conn *c_key_update_bad_request(fx *f, petrel_status *st)
{
    pair_handshake_ok(&f->p);
    static const uint8_t ku[] = {PT_HS_KEY_UPDATE, 0, 0, 1, 2};
    inject(f->p.c, ku, sizeof(ku));
    return read_after(f, st);
}

/* RFC 8446 5.1: no handshake message spans a key change. */
static petrel_conn *c_message_across_key_change(fx *f, petrel_status *st)
{
    pair_handshake_ok(&f->p);
    static const uint8_t ku_and_more[] = {PT_HS_KEY_UPDATE, 0, 0, 1, 0, PT_HS_KEY_UPDATE, 0};
    seal_raw(f->p.c, PT_CT_HANDSHAKE, ku_and_more, sizeof(ku_and_more));
    return read_after(f, st);
}

/* Certificate chains over the limits (petrel_limits). */
static petrel_conn *client_handshake_fails(fx *f, petrel_status *st)
{
    petrel_status ss;
    *st = pair_handshake(&f->p, &ss);
    return f->p.c;
}

static petrel_conn *c_chain_too_long(fx *f, petrel_status *st)
{
    fx_fresh(f);
    set_limits(f->cctx, 0, 1, 0);
    fx_pair(f);
    return client_handshake_fails(f, st);
}

static petrel_conn *c_chain_too_big(fx *f, petrel_status *st)
{
    fx_fresh(f);
    set_limits(f->cctx, 0, 0, 300);
    fx_pair(f);
    return client_handshake_fails(f, st);
}

static petrel_conn *c_client_chain_too_long(fx *f, petrel_status *st)
{
    fx_fresh(f);
    assert_int_equal(petrel_ctx_load_cert_chain(f->cctx, pki("client-p256-chain.pem"),
                                                pki("client-p256.key"), NULL, NULL),
                     PETREL_OK);
    assert_int_equal(petrel_ctx_set_verify_mode(f->sctx, PETREL_CERT_REQUIRED), PETREL_OK);
    set_limits(f->sctx, 0, 1, 0);
    fx_pair(f);
    /* The client may count its handshake done before the server refuses. */
    petrel_status cs = pair_handshake(&f->p, st);
    assert_true(cs == PETREL_OK || cs == PETREL_ERR_PEER_ALERT);
    return f->p.s;
}

/* A handshake message longer than max_handshake_message. */
static petrel_conn *c_message_over_limit(fx *f, petrel_status *st)
{
    fx_fresh(f);
    set_limits(f->sctx, 100, 0, 0);
    fx_pair(f);
    msgbuf ch;
    take_client_hello(f->p.c, &ch);
    assert_true(ch.len > 104);
    feed_record(f->p.s, PT_CT_HANDSHAKE, ch.b, ch.len);
    *st = petrel_conn_do_handshake(f->p.s);
    return f->p.s;
}

/* The length alone fails: nothing is buffered waiting for 16 MiB. */
static petrel_conn *c_message_length_huge(fx *f, petrel_status *st)
{
    static const uint8_t wire[] = {PT_CT_HANDSHAKE,    3,    3,    0,   4,
                                   PT_HS_CLIENT_HELLO, 0xff, 0xff, 0xff};
    petrel_conn *s = server_fed(f, wire, sizeof(wire), st);
    assert_int_equal(s->hsmsg.len, 4);
    return s;
}

/* A message of exactly the limit, fed record by record: the buffers stay
 * within their maxima all the way, and the garbage body is refused. */
static petrel_conn *c_message_at_limit(fx *f, petrel_status *st)
{
    msgbuf ch;
    take_client_hello(f->p.c, &ch);
    petrel_limits lim;
    petrel_ctx_limits(f->sctx, &lim);
    size_t limit = lim.max_handshake_message;
    static uint8_t chunk[PT_MAX_PLAINTEXT];
    memset(chunk, 0, sizeof(chunk));
    chunk[0] = PT_HS_CLIENT_HELLO;
    chunk[1] = (uint8_t)(limit >> 16);
    chunk[2] = (uint8_t)(limit >> 8);
    chunk[3] = (uint8_t)limit;
    size_t total = 4 + limit;
    size_t sent = 0;
    while (sent < total) {
        size_t n = total - sent < sizeof(chunk) ? total - sent : sizeof(chunk);
        feed_record(f->p.s, PT_CT_HANDSHAKE, chunk, n);
        memset(chunk, 0, 4);
        sent += n;
        *st = petrel_conn_do_handshake(f->p.s);
        assert_bounded(f->p.s);
        if (sent < total) {
            assert_int_equal(*st, PETREL_ERR_WANT_READ);
            assert_int_equal(f->p.s->hsmsg.len, sent);
        }
    }
    return f->p.s;
}

/* RFC 8446 4.4.3 via post-handshake authentication: a CertificateVerify
 * whose algorithm the server never offered, sealed with the client's keys. */
static petrel_conn *c_cert_verify_alg_not_offered_pha(fx *f, petrel_status *st)
{
    fx_fresh(f);
    assert_int_equal(petrel_ctx_load_cert_chain(f->cctx, pki("client-p256-chain.pem"),
                                                pki("client-p256.key"), NULL, NULL),
                     PETREL_OK);
    assert_int_equal(petrel_ctx_set_verify_mode(f->sctx, PETREL_CERT_REQUIRED), PETREL_OK);
    assert_int_equal(petrel_ctx_set_post_handshake_auth(f->sctx, true), PETREL_OK);
    assert_int_equal(petrel_ctx_set_post_handshake_auth(f->cctx, true), PETREL_OK);
    fx_pair(f);
    pair_handshake_ok(&f->p);
    assert_int_equal(petrel_conn_verify_client_post_handshake(f->p.s), PETREL_OK);
    uint8_t sink[4096];
    size_t n = petrel_conn_take_output(f->p.s, sink, sizeof(sink));
    assert_true(n > 0);
    f->p.c->rl.rd.seq += 1; /* the dropped request was one record */
    assert_int_equal(
        pt_certificate_send(f->p.c, f->p.s->pha->context, PT_PHA_CONTEXT_LEN, true, NULL),
        PETREL_OK);
    assert_int_equal(pt_flush_handshake(f->p.c), PETREL_OK);
    /* ecdsa_secp521r1_sha512: never in our signature_algorithms. */
    static const uint8_t cv[] = {PT_HS_CERTIFICATE_VERIFY, 0, 0, 8, 0x06, 0x03, 0, 4, 1, 2, 3, 4};
    inject(f->p.c, cv, sizeof(cv));
    pair_move(f->p.c, f->p.s);
    *st = petrel_conn_process(f->p.s);
    return f->p.s;
}

typedef struct ncase {
    const char *name;
    case_fn run;
    petrel_status status;
    int alert;
    const char *fragment;
    bool peer_reads_alert;
} ncase;

#define UNEXPECTED PETREL_ALERT_UNEXPECTED_MESSAGE
#define ILLEGAL PETREL_ALERT_ILLEGAL_PARAMETER
#define PROTO PETREL_ERR_PROTOCOL

static const ncase cases[] = {
    {"record length over 2^14+256", c_oversize_record_header, PROTO, PETREL_ALERT_RECORD_OVERFLOW,
     "", true},
    {"plaintext over 2^14", c_oversize_plaintext, PROTO, PETREL_ALERT_RECORD_OVERFLOW, "", true},
    {"heartbeat content type", c_unknown_content_type, PROTO, UNEXPECTED, "content type", true},
    {"content type 99", c_garbage_content_type, PROTO, UNEXPECTED, "content type", true},
    {"zero-length handshake record", c_zero_length_handshake, PROTO, UNEXPECTED, "empty", true},
    {"app data inside a ClientHello", c_fragment_then_app_data_plaintext, PROTO, UNEXPECTED,
     "application data", true},
    {"app data inside a KeyUpdate", c_fragment_then_app_data_encrypted, PROTO, UNEXPECTED,
     "fragmented handshake message", true},
    {"duplicate supported_groups", c_duplicate_extension, PROTO, ILLEGAL, "twice", true},
    {"duplicate extension among unknown ones", c_duplicate_unknown_extension, PROTO, ILLEGAL,
     "twice", true},
    {"no supported_groups", c_missing_groups, PROTO, PETREL_ALERT_MISSING_EXTENSION,
     "supported_groups", true},
    {"no key_share", c_missing_key_share, PROTO, PETREL_ALERT_MISSING_EXTENSION, "key_share", true},
    {"no signature_algorithms", c_missing_sigalgs, PROTO, PETREL_ALERT_MISSING_EXTENSION,
     "signature_algorithms", true},
    {"TLS 1.2-only ClientHello", c_tls12_only_client, PROTO, PETREL_ALERT_PROTOCOL_VERSION,
     "TLS 1.2", true},
    {"compression deflate", c_compression_deflate, PROTO, ILLEGAL, "compression", true},
    {"compression null and deflate", c_compression_two_methods, PROTO, ILLEGAL, "compression",
     true},
    {"all-zero x25519 share", c_bad_x25519_share, PROTO, ILLEGAL, "x25519", true},
    {"P-256 point off the curve", c_bad_p256_share, PROTO, ILLEGAL, "key share", true},
    {"ServerHello suite not offered", c_sh_suite_not_offered, PROTO, ILLEGAL, "did not offer",
     true},
    {"ServerHello group not offered", c_sh_group_not_offered, PROTO, ILLEGAL, "group", true},
    {"ServerHello legacy_version 0x0302", c_sh_legacy_version, PROTO, ILLEGAL, "legacy_version",
     true},
    {"ServerHello to a server", c_server_hello_to_server, PROTO, UNEXPECTED, "ServerHello", true},
    {"early_data in a ServerHello", c_sh_early_data, PROTO, ILLEGAL, "cannot carry", true},
    {"unknown extension in a ServerHello", c_sh_unknown_extension, PROTO,
     PETREL_ALERT_UNSUPPORTED_EXTENSION, "did not offer", true},
    {"ClientHello after the handshake", c_client_hello_after_handshake, PROTO, UNEXPECTED,
     "ClientHello", true},
    {"CCS of value 2", c_ccs_wrong_value, PROTO, UNEXPECTED, "change_cipher_spec", false},
    {"second CCS", c_second_ccs, PROTO, UNEXPECTED, "change_cipher_spec", false},
    {"CCS before ClientHello", c_ccs_before_client_hello, PROTO, UNEXPECTED, "change_cipher_spec",
     true},
    {"CCS after the handshake", c_ccs_after_handshake, PROTO, UNEXPECTED, "change_cipher_spec",
     true},
    {"40 KeyUpdates without data", c_key_update_flood, PROTO, UNEXPECTED, "KeyUpdate", true},
    {"40 empty application records", c_empty_record_flood, PROTO, UNEXPECTED, "empty records",
     true},
    {"20 user_canceled alerts", c_user_canceled_flood, PROTO, UNEXPECTED, "user_canceled", true},
    {"KeyUpdate request_update 2", c_key_update_bad_request, PROTO, ILLEGAL, "request_update",
     true},
    {"handshake bytes across a key change", c_message_across_key_change, PROTO, UNEXPECTED,
     "key change", false},
    {"server chain longer than max_cert_chain_len", c_chain_too_long, PROTO,
     PETREL_ALERT_BAD_CERTIFICATE, "certificates", true},
    {"server chain over max_cert_chain_bytes", c_chain_too_big, PROTO, PETREL_ALERT_BAD_CERTIFICATE,
     "bytes", true},
    {"client chain longer than max_cert_chain_len", c_client_chain_too_long, PROTO,
     PETREL_ALERT_BAD_CERTIFICATE, "certificates", true},
    {"ClientHello over max_handshake_message", c_message_over_limit, PROTO, ILLEGAL, "limit", true},
    {"handshake length 2^24-1", c_message_length_huge, PROTO, ILLEGAL, "limit", true},
    {"handshake message of exactly the limit", c_message_at_limit, PROTO, PETREL_ALERT_DECODE_ERROR,
     "malformed ClientHello", true},
    {"PHA CertificateVerify algorithm not offered", c_cert_verify_alg_not_offered_pha, PROTO,
     ILLEGAL, "not offered", true},
};

/* The peer reads what the failing side sent and reports the same alert. */
static void expect_peer_alert(petrel_conn *victim, petrel_conn *peer, int alert)
{
    pair_move(victim, peer);
    petrel_status st;
    if (petrel_conn_handshake_done(peer)) {
        uint8_t b[16];
        size_t n;
        st = petrel_conn_read(peer, b, sizeof(b), &n);
    } else {
        st = petrel_conn_do_handshake(peer);
    }
    if (st != PETREL_ERR_PEER_ALERT) {
        fail_msg("peer: %s (%s)", petrel_status_name(st), petrel_conn_error(peer)->message);
    }
    assert_int_equal(petrel_conn_error(peer)->alert, alert);
}

static void run_case(const ncase *k)
{
    fx f;
    fx_begin(&f);
    fx_pair(&f);
    petrel_status st = PETREL_OK;
    petrel_conn *victim = k->run(&f, &st);
    const petrel_error *err = petrel_conn_error(victim);
    if (st != k->status || err->alert != k->alert || strstr(err->message, k->fragment) == NULL) {
        fail_msg("case '%s': got %s alert %d (%s); expected %s alert %d with '%s'", k->name,
                 petrel_status_name(st), err->alert, err->message, petrel_status_name(k->status),
                 k->alert, k->fragment);
    }
    /* Fail closed and stay failed: the next call gives the same error. */
    assert_int_equal(petrel_conn_do_handshake(victim), k->status);
    assert_bounded(f.p.c);
    assert_bounded(f.p.s);
    if (k->peer_reads_alert) {
        petrel_conn *peer = victim == f.p.s ? f.p.c : f.p.s;
        expect_peer_alert(victim, peer, k->alert);
    }
    fx_free(&f);
}

static void test_table(void **state)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(cases); i++) {
        run_case(&cases[i]);
    }
}

/* --- Faults that must be accepted or reported without an alert ---------- */

/* RFC 8446 5.1: a handshake message may span any number of records. */
static void test_client_hello_in_many_records(void **state)
{
    fx f;
    fx_begin(&f);
    fx_pair(&f);
    msgbuf ch;
    take_client_hello(f.p.c, &ch);
    size_t records = 0;
    size_t size = 1;
    for (size_t off = 0; off < ch.len; off += size, size = size % 7 + 1) {
        size_t n = ch.len - off < size ? ch.len - off : size;
        feed_record(f.p.s, PT_CT_HANDSHAKE, ch.b + off, n);
        records++;
    }
    assert_true(records > 40);
    pair_handshake_ok(&f.p);
    pair_exchange(&f.p, f.p.c, f.p.s, "fragments", 9);
    fx_free(&f);
}

/* RFC 8446 4.2: unknown extensions in a ClientHello are ignored. */
static void test_unknown_extensions_ignored(void **state)
{
    fx f;
    fx_begin(&f);
    fx_pair(&f);
    msgbuf ch;
    msgbuf edited;
    take_client_hello(f.p.c, &ch);
    ch_edit e = {CH_EDIT_NONE, .unknown_exts = true};
    edit_client_hello(&ch, &e, &edited);
    assert_true(edited.len > ch.len);
    client_sent_instead(f.p.c, &edited);
    feed_record(f.p.s, PT_CT_HANDSHAKE, edited.b, edited.len);
    pair_handshake_ok(&f.p);
    pair_exchange(&f.p, f.p.s, f.p.c, "ignored", 7);
    fx_free(&f);
}

/* A record cut short by the end of the stream is EOF, not an alert. */
static void test_truncated_record_at_eof(void **state)
{
    fx f;
    fx_begin(&f);
    fx_pair(&f);
    msgbuf ch;
    take_client_hello(f.p.c, &ch);
    uint8_t hdr[5] = {PT_CT_HANDSHAKE, 3, 3, (uint8_t)(ch.len >> 8), (uint8_t)ch.len};
    feed(f.p.s, hdr, sizeof(hdr));
    feed(f.p.s, ch.b, ch.len / 2);
    assert_int_equal(petrel_conn_do_handshake(f.p.s), PETREL_ERR_WANT_READ);
    petrel_conn_feed_eof(f.p.s);
    assert_int_equal(petrel_conn_do_handshake(f.p.s), PETREL_ERR_EOF);
    assert_int_equal(petrel_conn_error(f.p.s)->alert, -1);
    assert_non_null(strstr(petrel_conn_error(f.p.s)->message, "middle of a record"));
    assert_int_equal(petrel_conn_output_pending(f.p.s), 0);
    assert_bounded(f.p.s);
    fx_free(&f);
}

/* RFC 8446 6.1: nothing after close_notify is delivered; the data before
 * it is, and then reads report ZERO_RETURN. */
static void test_data_after_close_notify(void **state)
{
    fx f;
    fx_begin(&f);
    fx_pair(&f);
    pair_handshake_ok(&f.p);
    size_t n;
    assert_int_equal(petrel_conn_write(f.p.c, "before", 6, &n), PETREL_OK);
    petrel_status sd = petrel_conn_shutdown(f.p.c);
    assert_true(sd == PETREL_OK || sd == PETREL_ERR_WANT_READ);
    seal_raw(f.p.c, PT_CT_APPLICATION_DATA, (const uint8_t *)"after", 5);
    pair_move(f.p.c, f.p.s);
    char got[16] = {0};
    assert_int_equal(petrel_conn_read(f.p.s, got, sizeof(got), &n), PETREL_OK);
    assert_int_equal(n, 6);
    assert_memory_equal(got, "before", 6);
    assert_int_equal(petrel_conn_read(f.p.s, got, sizeof(got), &n), PETREL_ERR_ZERO_RETURN);
    assert_int_equal(n, 0);
    assert_int_equal(petrel_conn_read(f.p.s, got, sizeof(got), &n), PETREL_ERR_ZERO_RETURN);
    assert_int_equal(f.p.s->app.len, 0);
    assert_bounded(f.p.s);
    fx_free(&f);
}

/* RFC 8446 4.4.3: the client refuses a server CertificateVerify whose
 * algorithm it did not offer, and the forbidden rsa_pkcs1 ones. */
static void test_cert_verify_alg_in_handshake(void **state)
{
    static const uint16_t algs[] = {0x0603, 0x0401, 0x0201, 0xfefe};
    for (size_t i = 0; i < PT_ARRAY_LEN(algs); i++) {
        petrel_ctx *cctx = client_ctx();
        petrel_conn *c = petrel_conn_new(cctx, "localhost");
        assert_int_equal(petrel_conn_do_handshake(c), PETREL_ERR_WANT_READ);
        c->hash = PT_SHA256;
        pt_set_state(c, PT_ST_C_WAIT_CV);
        uint8_t body[] = {(uint8_t)(algs[i] >> 8), (uint8_t)algs[i], 0, 2, 0x30, 0};
        petrel_status st = pt_dispatch(c, PT_HS_CERTIFICATE_VERIFY, pt_span_of(body, sizeof(body)),
                                       body, sizeof(body));
        assert_int_equal(st, PETREL_ERR_PROTOCOL);
        assert_int_equal(c->err.pub.alert, PETREL_ALERT_ILLEGAL_PARAMETER);
        assert_non_null(strstr(c->err.pub.message, "not offered"));
        petrel_conn_free(c);
        petrel_ctx_free(cctx);
    }
}

/* Several messages packed in one record, each under max_handshake_message
 * but together over it, are accepted: only the message being assembled is
 * buffered. The server's encrypted flight is one record. */
static void test_packed_flight_under_small_limit(void **state)
{
    fx f;
    fx_begin(&f);
    set_limits(f.cctx, 1100, 0, 0);
    fx_pair(&f);
    pair_handshake_ok(&f.p);
    pair_exchange(&f.p, f.p.s, f.p.c, "packed", 6);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_client_hello_in_many_records),
        cmocka_unit_test(test_unknown_extensions_ignored),
        cmocka_unit_test(test_truncated_record_at_eof),
        cmocka_unit_test(test_data_after_close_notify),
        cmocka_unit_test(test_cert_verify_alg_in_handshake),
        cmocka_unit_test(test_packed_flight_under_small_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
