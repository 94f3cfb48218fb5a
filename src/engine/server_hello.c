/*
 * server_hello.c - ServerHello and HelloRetryRequest (RFC 8446 4.1.3, 4.1.4),
 * EncryptedExtensions (4.3.1), and the server's first flight.
 *
 *   struct {
 *       ProtocolVersion legacy_version = 0x0303;
 *       Random random;
 *       opaque legacy_session_id_echo<0..32>;
 *       CipherSuite cipher_suite;
 *       uint8 legacy_compression_method = 0;
 *       Extension extensions<6..2^16-1>;
 *   } ServerHello;
 */
#include <string.h>

#include "engine/internal.h"

/* SHA-256("HelloRetryRequest"), RFC 8446 4.1.3. */
static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* --- Server ------------------------------------------------------------- */

static void sh_begin(petrel_conn *conn, pt_builder *b, pt_buf *msg, const uint8_t *random)
{
    struct pt_hs *hs = conn->hs;
    pt_msg_begin(b, msg, PT_HS_SERVER_HELLO);
    pt_put_u16(b, 0x0303);
    pt_put_bytes(b, random, 32);
    pt_open(b, 1);
    pt_put_bytes(b, hs->session_id, hs->session_id_len);
    pt_close(b);
    pt_put_u16(b, conn->suite);
    pt_put_u8(b, 0);
    pt_open(b, 2);
    pt_put_u16(b, PT_EXT_SUPPORTED_VERSIONS);
    pt_put_u16(b, 2);
    pt_put_u16(b, PETREL_TLS1_3);
}

static petrel_status send_built(petrel_conn *conn, pt_builder *b, pt_buf *msg)
{
    petrel_status st = pt_msg_end(conn, b);
    if (st == PETREL_OK) {
        st = pt_send_handshake(conn, msg->data, msg->len, NULL);
    }
    pt_buf_release(msg);
    return st;
}

/* Middlebox compatibility (RFC 8446 D.4): one change_cipher_spec after our
 * first handshake message, when the client sent a session id. */
static petrel_status maybe_ccs(petrel_conn *conn)
{
    struct pt_hs *hs = conn->hs;
    if (hs->sent_ccs || hs->session_id_len == 0) {
        return PETREL_OK;
    }
    hs->sent_ccs = true;
    return pt_send_ccs(conn);
}

petrel_status pt_hrr_send(petrel_conn *conn, uint16_t group)
{
    struct pt_hs *hs = conn->hs;
    PT_TRY(pt_tr_hrr_reset(&hs->tr, conn->ctx->algs, &conn->err));
    hs->cookie_len = 32;
    PT_TRY(pt_random(hs->cookie, hs->cookie_len, &conn->err));
    pt_buf msg;
    pt_buf_init(&msg, 1024, false);
    pt_builder b;
    sh_begin(conn, &b, &msg, hrr_random);
    pt_put_u16(&b, PT_EXT_KEY_SHARE);
    pt_put_u16(&b, 2);
    pt_put_u16(&b, group);
    pt_put_u16(&b, PT_EXT_COOKIE);
    pt_open(&b, 2);
    pt_open(&b, 2);
    pt_put_bytes(&b, hs->cookie, hs->cookie_len);
    pt_close(&b);
    pt_close(&b);
    pt_close(&b);
    PT_TRY(send_built(conn, &b, &msg));
    hs->hrr = true;
    pt_trace(conn, "asked the client for a %s key share (HelloRetryRequest)", pt_group_name(group));
    PT_TRY(maybe_ccs(conn));
    pt_set_state(conn, PT_ST_S_WAIT_CH_AFTER_HRR);
    return PETREL_OK;
}

static petrel_status send_server_hello(petrel_conn *conn, const uint8_t *share, size_t share_len)
{
    struct pt_hs *hs = conn->hs;
    PT_TRY(pt_random(hs->server_random, 32, &conn->err));
    pt_buf msg;
    pt_buf_init(&msg, 1024, false);
    pt_builder b;
    sh_begin(conn, &b, &msg, hs->server_random);
    pt_put_u16(&b, PT_EXT_KEY_SHARE);
    pt_open(&b, 2);
    pt_put_u16(&b, conn->group);
    pt_open(&b, 2);
    pt_put_bytes(&b, share, share_len);
    pt_close(&b);
    pt_close(&b);
    if (hs->resumed) {
        pt_put_u16(&b, PT_EXT_PRE_SHARED_KEY);
        pt_put_u16(&b, 2);
        pt_put_u16(&b, hs->psk_index);
    }
    pt_close(&b);
    return send_built(conn, &b, &msg);
}

static petrel_status send_encrypted_extensions(petrel_conn *conn)
{
    pt_buf msg;
    pt_buf_init(&msg, 1024, false);
    pt_builder b;
    pt_msg_begin(&b, &msg, PT_HS_ENCRYPTED_EXTENSIONS);
    pt_open(&b, 2);
    if (conn->record_size_limit_seen) {
        pt_put_u16(&b, PT_EXT_RECORD_SIZE_LIMIT);
        pt_put_u16(&b, 2);
        pt_put_u16(&b, PT_RECORD_SIZE_LIMIT);
    }
    if (conn->alpn != NULL) {
        size_t n = strlen(conn->alpn);
        pt_put_u16(&b, PT_EXT_ALPN);
        pt_open(&b, 2);
        pt_open(&b, 2);
        pt_put_u8(&b, (uint8_t)n);
        pt_put_bytes(&b, conn->alpn, n);
        pt_close(&b);
        pt_close(&b);
    }
    pt_close(&b);
    return send_built(conn, &b, &msg);
}

static petrel_status send_cert_request(petrel_conn *conn)
{
    pt_buf msg;
    pt_buf_init(&msg, 1024, false);
    pt_builder b;
    pt_msg_begin(&b, &msg, PT_HS_CERTIFICATE_REQUEST);
    pt_put_u8(&b, 0); /* empty context in the handshake */
    pt_open(&b, 2);
    pt_put_sigalgs_ext(conn, &b);
    pt_close(&b);
    PT_TRY(send_built(conn, &b, &msg));
    conn->hs->cert_requested = true;
    return PETREL_OK;
}

/* The server asks for a certificate in the handshake unless it was told
 * to wait and ask after it (RFC 8446 4.6.2). */
static bool wants_handshake_client_auth(const petrel_conn *conn)
{
    return conn->ctx->verify_mode != PETREL_CERT_NONE && !conn->ctx->post_handshake_auth;
}

petrel_status pt_server_flight_send(petrel_conn *conn, const uint8_t *share, size_t share_len,
                                    const uint8_t *secret, size_t secret_len)
{
    struct pt_hs *hs = conn->hs;
    PT_TRY(send_server_hello(conn, share, share_len));
    PT_TRY(pt_ks_handshake(conn, secret, secret_len));
    PT_TRY(maybe_ccs(conn));
    PT_TRY(pt_ks_install(conn, hs->server_hs_secret, true));
    PT_TRY(pt_ks_install(conn, hs->client_hs_secret, false));
    conn->rl.plain_alerts = true;
    PT_TRY(send_encrypted_extensions(conn));
    if (hs->resumed) {
        /* RFC 8446 4.3.2, 4.4.2: a PSK handshake has no CertificateRequest,
         * Certificate or CertificateVerify. */
        conn->sigalg = 0;
    } else {
        if (wants_handshake_client_auth(conn)) {
            PT_TRY(send_cert_request(conn));
        }
        PT_TRY(pt_certificate_send(conn, NULL, 0, true, NULL));
        PT_TRY(pt_cert_verify_send(conn, conn->sigalg, NULL));
    }
    PT_TRY(pt_finished_send(conn, hs->server_hs_secret, NULL));
    PT_TRY(pt_ks_application(conn));
    PT_TRY(pt_ks_install(conn, conn->server_app_secret, true));
    pt_set_state(conn, hs->cert_requested ? PT_ST_S_WAIT_CERT : PT_ST_S_WAIT_FINISHED);
    return PETREL_OK;
}

/* --- Client ------------------------------------------------------------- */

typedef struct pt_sh {
    uint16_t suite;
    pt_exts x;
    bool is_hrr;
} pt_sh;

static petrel_status parse_sh(petrel_conn *conn, pt_span body, pt_sh *sh)
{
    struct pt_hs *hs = conn->hs;
    uint16_t legacy_version;
    pt_span random;
    pt_span sid;
    uint8_t comp;
    pt_span exts;
    if (!pt_get_u16(&body, &legacy_version) || !pt_get_bytes(&body, 32, &random) ||
        !pt_get_vec8(&body, &sid) || !pt_get_u16(&body, &sh->suite) || !pt_get_u8(&body, &comp) ||
        !pt_get_vec16(&body, &exts) || !pt_span_empty(&body)) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed ServerHello");
    }
    sh->is_hrr = memcmp(random.p, hrr_random, 32) == 0;
    uint32_t allowed = PT_XBIT(PT_X_SUPPORTED_VERSIONS) | PT_XBIT(PT_X_KEY_SHARE) |
                       (sh->is_hrr ? PT_XBIT(PT_X_COOKIE) : PT_XBIT(PT_X_PRE_SHARED_KEY));
    PT_TRY(pt_exts_parse_answer(exts, allowed, allowed, &sh->x, &conn->err));
    if (!pt_has_ext(&sh->x, PT_X_SUPPORTED_VERSIONS)) {
        return pt_fault(&conn->err, PETREL_ALERT_PROTOCOL_VERSION,
                        "server chose TLS 1.2 or older (0x%04x); this client speaks TLS 1.3",
                        legacy_version);
    }
    pt_span v = sh->x.body[PT_X_SUPPORTED_VERSIONS];
    uint16_t version;
    if (!pt_get_u16(&v, &version) || !pt_span_empty(&v)) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed supported_versions");
    }
    if (version != PETREL_TLS1_3 || !pt_offers_tls13(conn)) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "server selected version 0x%04x, which the client did not offer", version);
    }
    /* RFC 8446 4.1.3: legacy_version stays 0x0303 in TLS 1.3. */
    if (legacy_version != 0x0303) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "ServerHello legacy_version is 0x%04x, not 0x0303 (RFC 8446 4.1.3)",
                        legacy_version);
    }
    if (sid.len != hs->session_id_len || memcmp(sid.p, hs->session_id, sid.len) != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "ServerHello does not echo the session id (RFC 8446 4.1.3)");
    }
    if (comp != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "ServerHello selects a compression method");
    }
    if (!sh->is_hrr) {
        memcpy(hs->server_random, random.p, 32);
    }
    return PETREL_OK;
}

static petrel_status sh_suite(petrel_conn *conn, uint16_t suite)
{
    const petrel_ctx *ctx = conn->ctx;
    bool offered = false;
    for (size_t i = 0; i < ctx->suites13_count; i++) {
        offered |= ctx->suites13[i] == suite;
    }
    if (!offered) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "server chose cipher suite 0x%04x, which the client did not offer", suite);
    }
    if (conn->suite != 0 && conn->suite != suite) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "ServerHello changed the cipher suite chosen in HelloRetryRequest");
    }
    conn->suite = suite;
    conn->hash = pt_suite_hash(suite);
    conn->version = PETREL_TLS1_3;
    return pt_tr_start_hash(&conn->hs->tr, conn->ctx->algs, conn->hash, &conn->err);
}

static bool we_offer_group(const petrel_conn *conn, uint16_t group)
{
    for (size_t i = 0; i < conn->ctx->groups_count; i++) {
        if (conn->ctx->groups[i] == group) {
            return pt_group_supported(group);
        }
    }
    return false;
}

static petrel_status hrr_recv(petrel_conn *conn, const pt_sh *sh, const uint8_t *raw,
                              size_t raw_len)
{
    struct pt_hs *hs = conn->hs;
    if (hs->hrr) {
        return pt_fault(&conn->err, PETREL_ALERT_UNEXPECTED_MESSAGE,
                        "second HelloRetryRequest (RFC 8446 4.1.4)");
    }
    PT_TRY(sh_suite(conn, sh->suite));
    bool changes = false;
    if (pt_has_ext(&sh->x, PT_X_KEY_SHARE)) {
        pt_span ks = sh->x.body[PT_X_KEY_SHARE];
        uint16_t group;
        if (!pt_get_u16(&ks, &group) || !pt_span_empty(&ks)) {
            return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed key_share in HRR");
        }
        if (!we_offer_group(conn, group) || group == hs->kex_group) {
            return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                            "HelloRetryRequest asks for group 0x%04x, which is not offered or "
                            "already shared",
                            group);
        }
        hs->kex_group = group;
        changes = true;
    }
    if (pt_has_ext(&sh->x, PT_X_COOKIE)) {
        pt_span body = sh->x.body[PT_X_COOKIE];
        pt_span c;
        if (!pt_get_vec16(&body, &c) || !pt_span_empty(&body) || c.len == 0 ||
            c.len > PT_COOKIE_MAX) {
            return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                            "malformed or oversize cookie in HelloRetryRequest");
        }
        memcpy(hs->cookie, c.p, c.len);
        hs->cookie_len = c.len;
        changes = true;
    }
    if (!changes) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "HelloRetryRequest would not change the ClientHello (RFC 8446 4.1.4)");
    }
    PT_TRY(pt_tr_hrr_reset(&hs->tr, conn->ctx->algs, &conn->err));
    PT_TRY(pt_tr_add(&hs->tr, raw, raw_len, &conn->err));
    hs->hrr = true;
    pt_trace(conn, "server asked for a %s key share (HelloRetryRequest)",
             pt_group_name(hs->kex_group));
    PT_TRY(pt_send_ccs(conn));
    hs->sent_ccs = true;
    return pt_client_hello_send(conn);
}

static petrel_status sh_key_share(petrel_conn *conn, const pt_sh *sh)
{
    struct pt_hs *hs = conn->hs;
    pt_span ks = sh->x.body[PT_X_KEY_SHARE];
    uint16_t group;
    pt_span share;
    if (!pt_has_ext(&sh->x, PT_X_KEY_SHARE)) {
        return pt_fault(&conn->err, PETREL_ALERT_MISSING_EXTENSION, "ServerHello has no key_share");
    }
    if (!pt_get_u16(&ks, &group) || !pt_get_vec16(&ks, &share) || !pt_span_empty(&ks)) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed key_share");
    }
    if (group != hs->kex_group) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "server key share is for group 0x%04x; the client offered %s", group,
                        pt_group_name(hs->kex_group));
    }
    conn->group = group;
    uint8_t secret[PT_MAX_SECRET];
    size_t secret_len;
    petrel_status st =
        pt_kex_derive(hs->kex, share.p, share.len, secret, sizeof(secret), &secret_len, &conn->err);
    if (st == PETREL_OK) {
        st = pt_ks_handshake(conn, secret, secret_len);
    }
    pt_wipe(secret, sizeof(secret));
    return st;
}

petrel_status pt_server_hello_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                   size_t raw_len)
{
    struct pt_hs *hs = conn->hs;
    pt_sh sh;
    if (pt_server_hello_is_legacy(body)) {
        return pt_tls12_server_hello_recv(conn, body, raw, raw_len);
    }
    PT_TRY(parse_sh(conn, body, &sh));
    if (sh.is_hrr) {
        return hrr_recv(conn, &sh, raw, raw_len);
    }
    PT_TRY(sh_suite(conn, sh.suite));
    PT_TRY(pt_tr_add(&hs->tr, raw, raw_len, &conn->err));
    PT_TRY(pt_psk_client_accept(conn, &sh.x));
    PT_TRY(sh_key_share(conn, &sh));
    pt_trace(conn, "server chose TLSv1.3, %s, %s", pt_suite_name(conn->suite),
             pt_group_name(conn->group));
    PT_TRY(pt_ks_install(conn, hs->server_hs_secret, false));
    if (!hs->sent_ccs) {
        PT_TRY(pt_send_ccs(conn));
        hs->sent_ccs = true;
    }
    PT_TRY(pt_ks_install(conn, hs->client_hs_secret, true));
    pt_set_state(conn, PT_ST_C_WAIT_EE);
    return PETREL_OK;
}

static petrel_status ee_alpn(petrel_conn *conn, const pt_exts *x)
{
    if (!pt_has_ext(x, PT_X_ALPN)) {
        return PETREL_OK;
    }
    pt_span body = x->body[PT_X_ALPN];
    pt_span list;
    pt_span name;
    if (!pt_get_vec16(&body, &list) || !pt_span_empty(&body) || !pt_get_vec8(&list, &name) ||
        !pt_span_empty(&list) || name.len == 0) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                        "server ALPN must name exactly one protocol (RFC 7301 3.1)");
    }
    pt_span ours = pt_span_of(conn->ctx->alpn, conn->ctx->alpn_len);
    pt_span n;
    while (pt_get_vec8(&ours, &n)) {
        if (n.len == name.len && memcmp(n.p, name.p, n.len) == 0) {
            return pt_set_alpn(conn, n);
        }
    }
    return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                    "server selected an application protocol the client did not offer");
}

petrel_status pt_ee_alpn(petrel_conn *conn, const pt_exts *x)
{
    return ee_alpn(conn, x);
}

/* RFC 8446 4.3.1: only extensions the client offered, and none that belong
 * in ServerHello. */
petrel_status pt_ee_recv(petrel_conn *conn, pt_span body, const uint8_t *raw, size_t raw_len)
{
    pt_span exts;
    pt_exts x;
    if (!pt_get_vec16(&body, &exts) || !pt_span_empty(&body)) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed EncryptedExtensions");
    }
    uint32_t allowed = PT_XBIT(PT_X_SERVER_NAME) | PT_XBIT(PT_X_SUPPORTED_GROUPS) |
                       PT_XBIT(PT_X_RECORD_SIZE_LIMIT);
    if (conn->ctx->alpn_len > 0) {
        allowed |= PT_XBIT(PT_X_ALPN);
    }
    uint32_t specified = PT_XBIT(PT_X_SERVER_NAME) | PT_XBIT(PT_X_SUPPORTED_GROUPS) |
                         PT_XBIT(PT_X_RECORD_SIZE_LIMIT) | PT_XBIT(PT_X_ALPN) |
                         PT_XBIT(PT_X_EARLY_DATA);
    PT_TRY(pt_exts_parse_answer(exts, specified, allowed, &x, &conn->err));
    if (pt_has_ext(&x, PT_X_SERVER_NAME) && x.body[PT_X_SERVER_NAME].len != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                        "server_name in EncryptedExtensions must be empty");
    }
    PT_TRY(ee_alpn(conn, &x));
    PT_TRY(pt_record_size_limit_recv(conn, &x));
    PT_TRY(pt_tr_add(&conn->hs->tr, raw, raw_len, &conn->err));
    /* A resumed handshake authenticates with the PSK: Finished is next. */
    pt_set_state(conn, conn->hs->resumed ? PT_ST_C_WAIT_FINISHED : PT_ST_C_WAIT_CERT_CR);
    return PETREL_OK;
}
