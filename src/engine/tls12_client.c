/*
 * tls12_client.c - the client side of a TLS 1.2 handshake (RFC 5246 7.3):
 * the TLS 1.2 extensions of our ClientHello, then ServerHello, the server's
 * Certificate, ServerKeyExchange, CertificateRequest and ServerHelloDone,
 * our second flight, and the server's Finished.
 */
#include <string.h>

#include "engine/internal.h"

/* RFC 5246 7.4.4 ClientCertificateType values. */
#define PT_CERT_TYPE_RSA_SIGN 1
#define PT_CERT_TYPE_ECDSA_SIGN 64
/* RFC 8422 5.4: ECCurveType named_curve. */
#define PT_CURVE_TYPE_NAMED 3

void pt_tls12_put_client_exts(petrel_conn *conn, pt_builder *b)
{
    /* RFC 8422 5.1.2: uncompressed points only. */
    pt_put_u16(b, PT_EXT_EC_POINT_FORMATS);
    pt_put_u16(b, 2);
    pt_put_u8(b, 1);
    pt_put_u8(b, 0);
    /* RFC 7627 5.1: always offered. */
    pt_put_u16(b, PT_EXT_EXTENDED_MASTER_SECRET);
    pt_put_u16(b, 0);
    /* RFC 5746 3.4: an initial handshake carries an empty
     * renegotiated_connection. */
    pt_put_u16(b, PT_EXT_RENEGOTIATION_INFO);
    pt_put_u16(b, 1);
    pt_put_u8(b, 0);
}

/* --- ServerHello (RFC 5246 7.4.1.3) -------------------------------------- */

/*   struct {
 *       ProtocolVersion server_version;
 *       Random random;
 *       SessionID session_id;
 *       CipherSuite cipher_suite;
 *       CompressionMethod compression_method;
 *       select (extensions_present) {
 *           case false: struct {};
 *           case true:  Extension extensions<0..2^16-1>;
 *       };
 *   } ServerHello;
 */
typedef struct pt_sh12 {
    uint16_t version;
    pt_span random;
    pt_span session_id;
    uint16_t suite;
    uint8_t comp;
    pt_span exts;
} pt_sh12;

static petrel_status parse_sh12(petrel_conn *conn, pt_span body, pt_sh12 *sh)
{
    if (!pt_get_u16(&body, &sh->version) || !pt_get_bytes(&body, 32, &sh->random) ||
        !pt_get_vec8(&body, &sh->session_id) || !pt_get_u16(&body, &sh->suite) ||
        !pt_get_u8(&body, &sh->comp)) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed ServerHello");
    }
    sh->exts = pt_span_of(NULL, 0);
    if (!pt_span_empty(&body) && (!pt_get_vec16(&body, &sh->exts) || !pt_span_empty(&body))) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed ServerHello extensions");
    }
    if (sh->session_id.len > 32) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "ServerHello session id too long");
    }
    return PETREL_OK;
}

static petrel_status sh12_version(petrel_conn *conn, const pt_sh12 *sh)
{
    int lo = pt_ctx_min_version(conn->ctx);
    int hi = pt_ctx_max_version(conn->ctx);
    if (sh->version != PETREL_TLS1_2 || lo > PETREL_TLS1_2) {
        return pt_fault(&conn->err, PETREL_ALERT_PROTOCOL_VERSION,
                        "server chose %s (0x%04x); this client allows %s to %s",
                        pt_version_name(sh->version), sh->version, pt_version_name(lo),
                        pt_version_name(hi));
    }
    if (conn->hs->hrr) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "server chose TLS 1.2 after a HelloRetryRequest (RFC 8446 4.1.4)");
    }
    return pt_downgrade_check(conn, sh->random.p);
}

static petrel_status sh12_fields(petrel_conn *conn, const pt_sh12 *sh)
{
    const struct pt_hs *hs = conn->hs;
    if (sh->session_id.len != 0 && sh->session_id.len == hs->session_id_len &&
        memcmp(sh->session_id.p, hs->session_id, hs->session_id_len) == 0) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "server resumes a session the client never had (RFC 5246 7.4.1.3)");
    }
    if (sh->comp != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "ServerHello selects a compression method the client did not offer");
    }
    const petrel_ctx *ctx = conn->ctx;
    for (size_t i = 0; i < ctx->suites12_count; i++) {
        if (ctx->suites12[i] == sh->suite) {
            return PETREL_OK;
        }
    }
    return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                    "server chose cipher suite 0x%04x (%s), which the client did not offer",
                    sh->suite, pt_suite_name(sh->suite));
}

/* RFC 5746 3.4: the server must show it supports secure renegotiation, and
 * on an initial handshake the extension is empty. */
static petrel_status sh12_renegotiation_info(petrel_conn *conn, const pt_exts *x)
{
    if (!pt_has_ext(x, PT_X_RENEGOTIATION_INFO)) {
        return pt_fault(&conn->err, PETREL_ALERT_HANDSHAKE_FAILURE,
                        "server does not support secure renegotiation (no renegotiation_info, "
                        "RFC 5746)");
    }
    pt_span body = x->body[PT_X_RENEGOTIATION_INFO];
    pt_span value;
    if (!pt_get_vec8(&body, &value) || !pt_span_empty(&body) || value.len != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_HANDSHAKE_FAILURE,
                        "renegotiation_info of an initial handshake must be empty (RFC 5746 "
                        "3.4)");
    }
    conn->hs->t12.secure_reneg = true;
    return PETREL_OK;
}

static petrel_status sh12_extensions(petrel_conn *conn, pt_span block)
{
    pt_exts x;
    /* RFC 5246 7.4.1.4: nothing the client did not offer. */
    uint32_t allowed = PT_XBIT(PT_X_RENEGOTIATION_INFO) | PT_XBIT(PT_X_EXTENDED_MASTER_SECRET) |
                       PT_XBIT(PT_X_EC_POINT_FORMATS) | PT_XBIT(PT_X_SERVER_NAME) |
                       PT_XBIT(PT_X_RECORD_SIZE_LIMIT);
    if (conn->ctx->alpn_len > 0) {
        allowed |= PT_XBIT(PT_X_ALPN);
    }
    /* What RFC 5246 and its extensions let a ServerHello carry. */
    uint32_t specified = allowed | PT_XBIT(PT_X_ALPN);
    PT_TRY(pt_exts_parse_answer(block, specified, allowed, &x, &conn->err));
    if (pt_has_ext(&x, PT_X_SERVER_NAME) && x.body[PT_X_SERVER_NAME].len != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                        "server_name in ServerHello must be empty (RFC 6066 3)");
    }
    PT_TRY(sh12_renegotiation_info(conn, &x));
    PT_TRY(pt_tls12_ems_recv(conn, &x));
    PT_TRY(pt_tls12_point_formats_recv(conn, &x));
    PT_TRY(pt_ee_alpn(conn, &x));
    return pt_tls12_record_size_limit(conn, &x);
}

petrel_status pt_tls12_server_hello_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                         size_t raw_len)
{
    struct pt_hs *hs = conn->hs;
    pt_sh12 sh;
    PT_TRY(parse_sh12(conn, body, &sh));
    PT_TRY(sh12_version(conn, &sh));
    PT_TRY(sh12_fields(conn, &sh));
    PT_TRY(sh12_extensions(conn, sh.exts));
    conn->version = PETREL_TLS1_2;
    conn->suite = sh.suite;
    conn->hash = pt_suite_hash(sh.suite);
    memcpy(hs->server_random, sh.random.p, 32);
    PT_TRY(pt_tr_add(&hs->tr, raw, raw_len, &conn->err));
    PT_TRY(pt_tls12_transcript_start(conn));
    /* The TLS 1.3 key share is of no use now. */
    pt_kex_free(hs->kex);
    hs->kex = NULL;
    pt_trace(conn, "server chose TLSv1.2, %s%s", pt_suite_name(conn->suite),
             hs->t12.ems ? ", extended master secret" : "");
    pt_set_state(conn, PT_ST_C12_WAIT_CERT);
    return PETREL_OK;
}

/* --- Certificate --------------------------------------------------------- */

petrel_status pt_tls12_server_cert_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                        size_t raw_len)
{
    struct pt_hs *hs = conn->hs;
    PT_TRY(pt_tls12_certificate_parse(conn, body, &hs->chain));
    if (hs->chain == NULL) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                        "server sent an empty Certificate (RFC 5246 7.4.2)");
    }
    PT_TRY(pt_tr_add(&hs->tr, raw, raw_len, &conn->err));
    PT_TRY(pt_verify_peer_chain(conn, hs->chain));
    pt_set_state(conn, PT_ST_C12_WAIT_SKE);
    return PETREL_OK;
}

/* --- ServerKeyExchange (RFC 8422 5.4) ------------------------------------ */

/*   struct { ECCurveType curve_type; NamedCurve namedcurve; } ECParameters;
 *   struct { opaque point<1..2^8-1>; } ECPoint;
 *   struct { ECParameters curve_params; ECPoint public; } ServerECDHParams;
 *   struct {
 *       ServerECDHParams params;
 *       digitally-signed struct {
 *           opaque client_random[32]; opaque server_random[32];
 *           ServerECDHParams params;
 *       } signed_params;
 *   } ServerKeyExchange;
 */
typedef struct pt_ske {
    pt_span params; /* the ServerECDHParams bytes, as signed */
    uint16_t group;
    pt_span point;
    uint16_t sigalg;
    pt_span sig;
} pt_ske;

static petrel_status parse_ske(petrel_conn *conn, pt_span body, pt_ske *ske)
{
    const uint8_t *start = body.p;
    uint8_t curve_type;
    if (!pt_get_u8(&body, &curve_type) || !pt_get_u16(&body, &ske->group) ||
        !pt_get_vec8(&body, &ske->point) || ske->point.len == 0) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed ServerKeyExchange");
    }
    ske->params = pt_span_of(start, (size_t)(body.p - start));
    if (!pt_get_u16(&body, &ske->sigalg) || !pt_get_vec16(&body, &ske->sig) ||
        !pt_span_empty(&body)) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                        "malformed ServerKeyExchange signature");
    }
    if (curve_type != PT_CURVE_TYPE_NAMED) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "ServerKeyExchange uses curve type %u; only named curves are offered "
                        "(RFC 8422 5.4)",
                        curve_type);
    }
    return PETREL_OK;
}

static bool we_offered_group(const petrel_conn *conn, uint16_t group)
{
    for (size_t i = 0; i < conn->ctx->groups_count; i++) {
        if (conn->ctx->groups[i] == group) {
            return pt_group_allowed(conn, group);
        }
    }
    return false;
}

static petrel_status ske_check_signature(petrel_conn *conn, const pt_ske *ske)
{
    if (!pt_we_accept_sigalg(conn, ske->sigalg) ||
        pt_tls12_sigalg_is_ec(ske->sigalg) != pt_tls12_suite_is_ecdsa(conn->suite)) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "server signed its key exchange with %s (0x%04x), which the client did "
                        "not offer for %s",
                        pt_sigalg_name(ske->sigalg), ske->sigalg, pt_suite_name(conn->suite));
    }
    uint8_t content[64 + 4 + 255];
    memcpy(content, conn->client_random, 32);
    memcpy(content + 32, conn->hs->server_random, 32);
    memcpy(content + 64, ske->params.p, ske->params.len);
    PT_TRY(pt_peer_verify_signature(conn->hs->chain, conn->ctx->algs, ske->sigalg, content,
                                    64 + ske->params.len, ske->sig.p, ske->sig.len,
                                    conn->ctx->security_level, &conn->err));
    conn->peer_sigalg = ske->sigalg;
    return PETREL_OK;
}

petrel_status pt_tls12_server_key_exchange_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                                size_t raw_len)
{
    struct pt_hs *hs = conn->hs;
    pt_ske ske;
    PT_TRY(parse_ske(conn, body, &ske));
    if (!we_offered_group(conn, ske.group)) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "server chose group 0x%04x (%s), which the client did not offer", ske.group,
                        pt_group_name(ske.group));
    }
    PT_TRY(ske_check_signature(conn, &ske));
    PT_TRY(pt_kex_generate(conn->ctx->algs, ske.group, &hs->kex, hs->t12.share,
                           sizeof(hs->t12.share), &hs->t12.share_len, &conn->err));
    PT_TRY(pt_kex_derive(hs->kex, ske.point.p, ske.point.len, hs->t12.pms, sizeof(hs->t12.pms),
                         &hs->t12.pms_len, &conn->err));
    conn->group = ske.group;
    PT_TRY(pt_tr_add(&hs->tr, raw, raw_len, &conn->err));
    pt_trace(conn, "server key exchange: %s, signed with %s", pt_group_name(ske.group),
             pt_sigalg_name(ske.sigalg));
    pt_set_state(conn, PT_ST_C12_WAIT_CR_DONE);
    return PETREL_OK;
}

/* --- CertificateRequest (RFC 5246 7.4.4) --------------------------------- */

/*   struct {
 *       ClientCertificateType certificate_types<1..2^8-1>;
 *       SignatureAndHashAlgorithm supported_signature_algorithms<2..2^16-2>;
 *       DistinguishedName certificate_authorities<0..2^16-1>;
 *   } CertificateRequest;
 */
petrel_status pt_tls12_cert_request_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                         size_t raw_len)
{
    struct pt_hs *hs = conn->hs;
    pt_span types;
    pt_span sigalgs;
    pt_span cas;
    if (!pt_get_vec8(&body, &types) || types.len == 0) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                        "malformed CertificateRequest certificate_types");
    }
    sigalgs = body;
    pt_span list;
    if (!pt_get_vec16(&body, &list) || !pt_get_vec16(&body, &cas) || !pt_span_empty(&body)) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                        "malformed CertificateRequest message");
    }
    sigalgs.len = 2 + list.len;
    PT_TRY(pt_parse_sigalgs(sigalgs, hs->peer_sigalgs, PT_MAX_PEER_SIGALGS, &hs->peer_sigalg_count,
                            &conn->err));
    hs->t12.cert_type_rsa = memchr(types.p, PT_CERT_TYPE_RSA_SIGN, types.len) != NULL;
    hs->t12.cert_type_ecdsa = memchr(types.p, PT_CERT_TYPE_ECDSA_SIGN, types.len) != NULL;
    PT_TRY(pt_tr_add(&hs->tr, raw, raw_len, &conn->err));
    hs->cert_requested = true;
    pt_set_state(conn, PT_ST_C12_WAIT_DONE);
    return PETREL_OK;
}

/* --- ServerHelloDone and our second flight ------------------------------- */

/* Our certificate and the algorithm to sign with, or 0 to send none. */
static uint16_t choose_client_cert(petrel_conn *conn)
{
    const petrel_ctx *ctx = conn->ctx;
    const struct pt_hs *hs = conn->hs;
    if (ctx->cred == NULL) {
        return 0;
    }
    uint16_t alg = pt_credential_pick_sigalg(ctx->cred, hs->peer_sigalgs, hs->peer_sigalg_count,
                                             false, ctx->security_level);
    bool type_ok = pt_tls12_sigalg_is_ec(alg) ? hs->t12.cert_type_ecdsa : hs->t12.cert_type_rsa;
    if (alg == 0 || !type_ok) {
        return 0;
    }
    if (ctx->cert_cb != NULL) {
        petrel_cert_request req = {
            .post_handshake = false,
            .sigalgs = hs->peer_sigalgs,
            .sigalg_count = hs->peer_sigalg_count,
        };
        if (!pt_ask_cert_cb(conn, &req)) {
            return 0;
        }
    }
    return alg;
}

/*   struct { ECPoint ecdh_Yc; } ClientECDiffieHellmanPublic;  (RFC 8422 5.7) */
static petrel_status client_key_exchange_send(petrel_conn *conn)
{
    const struct pt_hs *hs = conn->hs;
    pt_buf msg;
    pt_buf_init(&msg, 512, false);
    pt_builder b;
    pt_msg_begin(&b, &msg, PT_HS_CLIENT_KEY_EXCHANGE);
    pt_open(&b, 1);
    pt_put_bytes(&b, hs->t12.share, hs->t12.share_len);
    pt_close(&b);
    petrel_status st = pt_msg_end(conn, &b);
    if (st == PETREL_OK) {
        st = pt_send_handshake(conn, msg.data, msg.len, NULL);
    }
    pt_buf_release(&msg);
    return st;
}

static petrel_status client_second_flight(petrel_conn *conn)
{
    uint16_t alg = 0;
    if (conn->hs->cert_requested) {
        alg = choose_client_cert(conn);
        PT_TRY(pt_tls12_certificate_send(conn, alg != 0));
        pt_trace(conn, "answered the certificate request with %s",
                 alg != 0 ? "our chain" : "an empty Certificate");
    }
    PT_TRY(client_key_exchange_send(conn));
    PT_TRY(pt_tls12_master_secret(conn));
    if (alg != 0) {
        PT_TRY(pt_tls12_cert_verify_send(conn, alg));
    }
    PT_TRY(pt_send_ccs(conn));
    PT_TRY(pt_tls12_install_keys(conn, true));
    PT_TRY(pt_tls12_finished_send(conn));
    pt_set_state(conn, PT_ST_C12_WAIT_CCS);
    return PETREL_OK;
}

/*   struct { } ServerHelloDone; */
petrel_status pt_tls12_server_hello_done_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                              size_t raw_len)
{
    if (body.len != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "ServerHelloDone is not empty");
    }
    PT_TRY(pt_tr_add(&conn->hs->tr, raw, raw_len, &conn->err));
    return client_second_flight(conn);
}

petrel_status pt_tls12_server_finished_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                            size_t raw_len)
{
    PT_TRY(pt_tls12_finished_check(conn, body));
    return pt_tls12_finish(conn);
}

/*   struct { } HelloRequest;  (RFC 5246 7.4.1.1; not part of the transcript) */
petrel_status pt_tls12_hello_request_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                          size_t raw_len)
{
    if (body.len != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "HelloRequest is not empty");
    }
    return pt_tls12_refuse_renegotiation(conn, "server sent HelloRequest");
}
