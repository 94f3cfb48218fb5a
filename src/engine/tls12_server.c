/*
 * tls12_server.c - the server side of a TLS 1.2 handshake (RFC 5246 7.3):
 * the TLS 1.2 choices made from a ClientHello, our first flight
 * (ServerHello, Certificate, ServerKeyExchange, CertificateRequest,
 * ServerHelloDone), the client's Certificate, ClientKeyExchange,
 * CertificateVerify and Finished, and our Finished.
 */
#include <stdio.h>
#include <string.h>

#include "engine/internal.h"

/* RFC 5746 3.3: the signalling cipher suite value. */
#define PT_EMPTY_RENEGOTIATION_INFO_SCSV 0x00ff
#define PT_CERT_TYPE_RSA_SIGN 1
#define PT_CERT_TYPE_ECDSA_SIGN 64
#define PT_CURVE_TYPE_NAMED 3

/* --- Choices from the ClientHello ---------------------------------------- */

static bool span_has_u16(pt_span list, uint16_t code)
{
    uint16_t v;
    while (pt_get_u16(&list, &v)) {
        if (v == code) {
            return true;
        }
    }
    return false;
}

/* RFC 5246 7.4.1.2: the null method must be offered. */
static petrel_status ch12_compression(petrel_conn *conn, pt_span comp)
{
    if (memchr(comp.p, 0, comp.len) == NULL) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "ClientHello does not offer the null compression method");
    }
    return PETREL_OK;
}

/* RFC 5746 3.6: the extension or the SCSV signals support; on an initial
 * handshake renegotiated_connection must be empty. */
static petrel_status ch12_renegotiation(petrel_conn *conn, pt_span suites, const pt_exts *x)
{
    struct pt_hs *hs = conn->hs;
    hs->t12.secure_reneg = span_has_u16(suites, PT_EMPTY_RENEGOTIATION_INFO_SCSV);
    if (!pt_has_ext(x, PT_X_RENEGOTIATION_INFO)) {
        return PETREL_OK;
    }
    pt_span body = x->body[PT_X_RENEGOTIATION_INFO];
    pt_span value;
    if (!pt_get_vec8(&body, &value) || !pt_span_empty(&body) || value.len != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_HANDSHAKE_FAILURE,
                        "renegotiation_info of an initial handshake must be empty (RFC 5746 "
                        "3.6)");
    }
    hs->t12.secure_reneg = true;
    return PETREL_OK;
}

static petrel_status ch12_sigalgs(petrel_conn *conn, const pt_exts *x)
{
    struct pt_hs *hs = conn->hs;
    if (conn->ctx->cred == NULL) {
        return pt_fault(&conn->err, PETREL_ALERT_HANDSHAKE_FAILURE,
                        "server has no certificate; call load_cert_chain first");
    }
    /* Without the extension RFC 5246 7.4.1.4.1 implies SHA-1, which no
     * security level we allow accepts. */
    if (!pt_has_ext(x, PT_X_SIGNATURE_ALGORITHMS)) {
        return pt_fault(&conn->err, PETREL_ALERT_HANDSHAKE_FAILURE,
                        "ClientHello has no signature_algorithms, so only SHA-1 signatures "
                        "would do; this server signs with SHA-256 or better");
    }
    return pt_parse_sigalgs(x->body[PT_X_SIGNATURE_ALGORITHMS], hs->peer_sigalgs,
                            PT_MAX_PEER_SIGALGS, &hs->peer_sigalg_count, &conn->err);
}

/* Our signature algorithm for a suite: one of the client's, of the suite's
 * family, that our key can make. 0 when none. */
static uint16_t sigalg_for_suite(const petrel_conn *conn, uint16_t suite)
{
    const struct pt_hs *hs = conn->hs;
    uint16_t family[PT_MAX_PEER_SIGALGS];
    size_t n = 0;
    for (size_t i = 0; i < hs->peer_sigalg_count; i++) {
        if (pt_tls12_sigalg_is_ec(hs->peer_sigalgs[i]) == pt_tls12_suite_is_ecdsa(suite)) {
            family[n++] = hs->peer_sigalgs[i];
        }
    }
    return pt_credential_pick_sigalg(conn->ctx->cred, family, n, false, conn->ctx->security_level);
}

/* Names of suites a client may offer that we do not speak. */
static const struct {
    uint16_t code;
    const char *name;
} legacy_suites[] = {
    {0x0004, "RSA_WITH_RC4_128_MD5"},
    {0x0005, "RSA_WITH_RC4_128_SHA"},
    {0x000a, "RSA_WITH_3DES_EDE_CBC_SHA"},
    {0x002f, "RSA_WITH_AES_128_CBC_SHA"},
    {0x0035, "RSA_WITH_AES_256_CBC_SHA"},
    {0x003c, "RSA_WITH_AES_128_CBC_SHA256"},
    {0x003d, "RSA_WITH_AES_256_CBC_SHA256"},
    {0x009c, "RSA_WITH_AES_128_GCM_SHA256"},
    {0x009d, "RSA_WITH_AES_256_GCM_SHA384"},
    {0xc007, "ECDHE_ECDSA_WITH_RC4_128_SHA"},
    {0xc009, "ECDHE_ECDSA_WITH_AES_128_CBC_SHA"},
    {0xc00a, "ECDHE_ECDSA_WITH_AES_256_CBC_SHA"},
    {0xc011, "ECDHE_RSA_WITH_RC4_128_SHA"},
    {0xc012, "ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0xc013, "ECDHE_RSA_WITH_AES_128_CBC_SHA"},
    {0xc014, "ECDHE_RSA_WITH_AES_256_CBC_SHA"},
    {0xc023, "ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"},
    {0xc024, "ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"},
    {0xc027, "ECDHE_RSA_WITH_AES_128_CBC_SHA256"},
    {0xc028, "ECDHE_RSA_WITH_AES_256_CBC_SHA384"},
};

static const char *offered_suite_name(uint16_t code)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(legacy_suites); i++) {
        if (legacy_suites[i].code == code) {
            return legacy_suites[i].name;
        }
    }
    return pt_suite_name(code);
}

/* "0x002f RSA_WITH_AES_128_CBC_SHA, 0x000a ..., and 3 more" */
static void describe_suites(pt_span suites, char *out, size_t cap)
{
    size_t used = 0;
    size_t shown = 0;
    size_t total = 0;
    uint16_t v;
    out[0] = '\0';
    while (pt_get_u16(&suites, &v)) {
        bool signalling =
            v == PT_EMPTY_RENEGOTIATION_INFO_SCSV || v == 0x5600 || (v & 0x0f0f) == 0x0a0a;
        if (signalling) {
            continue;
        }
        total++;
        if (shown < 4 && used < cap) {
            int n = snprintf(out + used, cap - used, "%s0x%04x %s", shown ? ", " : "", v,
                             offered_suite_name(v));
            used += n > 0 ? (size_t)n : 0;
            shown++;
        }
    }
    if (total > shown && used < cap) {
        snprintf(out + used, cap - used, " and %zu more", total - shown);
    }
}

/* RFC 8422 5.1: with ECDHE_ECDSA the curve of our certificate must be one
 * the client lists in supported_groups, when it sends the extension. */
static bool cert_curve_offered(const petrel_conn *conn, const pt_exts *x)
{
    static const uint16_t curves[][2] = {
        {PT_SIG_ECDSA_SECP256R1_SHA256, PT_GROUP_SECP256R1},
        {PT_SIG_ECDSA_SECP384R1_SHA384, PT_GROUP_SECP384R1},
        {PT_SIG_ECDSA_SECP521R1_SHA512, 0x0019},
    };
    pt_span body = x->body[PT_X_SUPPORTED_GROUPS];
    pt_span list;
    if (!pt_has_ext(x, PT_X_SUPPORTED_GROUPS)) {
        return true;
    }
    if (!pt_get_vec16(&body, &list)) {
        return false;
    }
    for (size_t i = 0; i < PT_ARRAY_LEN(curves); i++) {
        /* TLS 1.3's rule ties each ECDSA algorithm to one curve. */
        if (pt_credential_pick_sigalg(conn->ctx->cred, &curves[i][0], 1, true, 0) != 0) {
            return span_has_u16(list, curves[i][1]);
        }
    }
    return true; /* not an ECDSA key */
}

/* Our preference order; the suite must suit our key and the client's
 * signature algorithms and groups. */
static petrel_status ch12_suite(petrel_conn *conn, pt_span suites, const pt_exts *x)
{
    const petrel_ctx *ctx = conn->ctx;
    bool shared = false;
    bool curve_ok = cert_curve_offered(conn, x);
    for (size_t i = 0; i < ctx->suites12_count; i++) {
        uint16_t suite = ctx->suites12[i];
        if (!span_has_u16(suites, suite)) {
            continue;
        }
        shared = true;
        if (pt_tls12_suite_is_ecdsa(suite) && !curve_ok) {
            continue;
        }
        uint16_t sigalg = sigalg_for_suite(conn, suite);
        if (sigalg != 0) {
            conn->suite = suite;
            conn->hash = pt_suite_hash(suite);
            conn->sigalg = sigalg;
            return PETREL_OK;
        }
    }
    if (shared) {
        return pt_fault(&conn->err, PETREL_ALERT_HANDSHAKE_FAILURE,
                        "no cipher suite in common for the server's key: the shared TLS 1.2 "
                        "suites need another key type, signature algorithm or certificate "
                        "curve (security level %d)",
                        ctx->security_level);
    }
    char offered[200];
    describe_suites(suites, offered, sizeof(offered));
    return pt_fault(&conn->err, PETREL_ALERT_HANDSHAKE_FAILURE,
                    "no cipher suite in common: the client offers only %s; this server speaks "
                    "TLS 1.2 with ECDHE and AES-GCM or ChaCha20-Poly1305",
                    offered[0] != '\0' ? offered : "signalling values");
}

static bool client_lists_group(pt_span list, uint16_t group)
{
    return span_has_u16(list, group);
}

/* RFC 8422 4: without supported_groups a client accepts any curve. */
static petrel_status ch12_group(petrel_conn *conn, const pt_exts *x)
{
    const petrel_ctx *ctx = conn->ctx;
    pt_span list = pt_span_of(NULL, 0);
    bool listed = pt_has_ext(x, PT_X_SUPPORTED_GROUPS);
    if (listed) {
        pt_span body = x->body[PT_X_SUPPORTED_GROUPS];
        if (!pt_get_vec16(&body, &list) || !pt_span_empty(&body) || list.len < 2 || list.len % 2) {
            return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed supported_groups");
        }
    }
    for (size_t i = 0; i < ctx->groups_count; i++) {
        uint16_t g = ctx->groups[i];
        if (pt_group_allowed(conn, g) && (!listed || client_lists_group(list, g))) {
            conn->group = g;
            return PETREL_OK;
        }
    }
    return pt_fault(&conn->err, PETREL_ALERT_HANDSHAKE_FAILURE,
                    "no key exchange group in common with the client");
}

/* --- Our first flight ---------------------------------------------------- */

static petrel_status send_built(petrel_conn *conn, pt_builder *b, pt_buf *msg)
{
    petrel_status st = pt_msg_end(conn, b);
    if (st == PETREL_OK) {
        st = pt_send_handshake(conn, msg->data, msg->len, NULL);
    }
    pt_buf_release(msg);
    return st;
}

static void put_sh12_exts(petrel_conn *conn, pt_builder *b)
{
    const struct pt_hs *hs = conn->hs;
    if (hs->t12.secure_reneg) {
        pt_put_u16(b, PT_EXT_RENEGOTIATION_INFO);
        pt_put_u16(b, 1);
        pt_put_u8(b, 0);
    }
    if (hs->t12.ems) {
        pt_put_u16(b, PT_EXT_EXTENDED_MASTER_SECRET);
        pt_put_u16(b, 0);
    }
    if (hs->t12.point_formats) {
        pt_put_u16(b, PT_EXT_EC_POINT_FORMATS);
        pt_put_u16(b, 2);
        pt_put_u8(b, 1);
        pt_put_u8(b, 0);
    }
    if (conn->record_size_limit_seen) {
        pt_put_u16(b, PT_EXT_RECORD_SIZE_LIMIT);
        pt_put_u16(b, 2);
        pt_put_u16(b, PT_MAX_PLAINTEXT);
    }
    if (conn->alpn != NULL) {
        size_t n = strlen(conn->alpn);
        pt_put_u16(b, PT_EXT_ALPN);
        pt_open(b, 2);
        pt_open(b, 2);
        pt_put_u8(b, (uint8_t)n);
        pt_put_bytes(b, conn->alpn, n);
        pt_close(b);
        pt_close(b);
    }
}

/* We keep no sessions, so the session id is empty (RFC 5246 7.4.1.3). */
static petrel_status server_hello12_send(petrel_conn *conn)
{
    struct pt_hs *hs = conn->hs;
    PT_TRY(pt_random(hs->server_random, 32, &conn->err));
    pt_downgrade_mark(conn, hs->server_random);
    pt_buf msg;
    pt_buf_init(&msg, 1024, false);
    pt_builder b;
    pt_msg_begin(&b, &msg, PT_HS_SERVER_HELLO);
    pt_put_u16(&b, PETREL_TLS1_2);
    pt_put_bytes(&b, hs->server_random, 32);
    pt_put_u8(&b, 0);
    pt_put_u16(&b, conn->suite);
    pt_put_u8(&b, 0);
    pt_open(&b, 2);
    put_sh12_exts(conn, &b);
    pt_close(&b);
    return send_built(conn, &b, &msg);
}

/* RFC 8422 5.4: named curve, our point, and a signature over both randoms
 * and those parameters. */
static petrel_status server_key_exchange_send(petrel_conn *conn)
{
    struct pt_hs *hs = conn->hs;
    uint8_t content[64 + 4 + PT_MAX_SHARE];
    size_t share_len;
    uint8_t *params = content + 64;
    PT_TRY(pt_kex_generate(conn->ctx->algs, conn->group, &hs->kex, params + 4, PT_MAX_SHARE,
                           &share_len, &conn->err));
    params[0] = PT_CURVE_TYPE_NAMED;
    params[1] = (uint8_t)(conn->group >> 8);
    params[2] = (uint8_t)conn->group;
    params[3] = (uint8_t)share_len;
    memcpy(content, conn->client_random, 32);
    memcpy(content + 32, hs->server_random, 32);
    uint8_t sig[PT_MAX_SIGNATURE];
    size_t sig_len;
    PT_TRY(pt_sign(conn->ctx->cred, conn->ctx->algs, conn->sigalg, content, 64 + 4 + share_len, sig,
                   sizeof(sig), &sig_len, &conn->err));
    pt_buf msg;
    pt_buf_init(&msg, 2048, false);
    pt_builder b;
    pt_msg_begin(&b, &msg, PT_HS_SERVER_KEY_EXCHANGE);
    pt_put_bytes(&b, params, 4 + share_len);
    pt_put_u16(&b, conn->sigalg);
    pt_open(&b, 2);
    pt_put_bytes(&b, sig, sig_len);
    pt_close(&b);
    return send_built(conn, &b, &msg);
}

/* RFC 5246 7.4.4: certificate types, the algorithms we verify, and no
 * list of authorities. */
static petrel_status cert_request12_send(petrel_conn *conn)
{
    uint16_t algs[32];
    size_t n = pt_our_sigalgs(conn, algs, PT_ARRAY_LEN(algs));
    pt_buf msg;
    pt_buf_init(&msg, 1024, false);
    pt_builder b;
    pt_msg_begin(&b, &msg, PT_HS_CERTIFICATE_REQUEST);
    pt_open(&b, 1);
    pt_put_u8(&b, PT_CERT_TYPE_RSA_SIGN);
    pt_put_u8(&b, PT_CERT_TYPE_ECDSA_SIGN);
    pt_close(&b);
    pt_open(&b, 2);
    for (size_t i = 0; i < n; i++) {
        pt_put_u16(&b, algs[i]);
    }
    pt_close(&b);
    pt_put_u16(&b, 0);
    PT_TRY(send_built(conn, &b, &msg));
    conn->hs->cert_requested = true;
    return PETREL_OK;
}

static petrel_status server_flight12_send(petrel_conn *conn)
{
    static const uint8_t done[4] = {PT_HS_SERVER_HELLO_DONE, 0, 0, 0};
    PT_TRY(server_hello12_send(conn));
    PT_TRY(pt_tls12_certificate_send(conn, true));
    PT_TRY(server_key_exchange_send(conn));
    /* TLS 1.2 has no post-handshake authentication: ask now or never. */
    if (conn->ctx->verify_mode != PETREL_CERT_NONE) {
        PT_TRY(cert_request12_send(conn));
    }
    PT_TRY(pt_send_handshake(conn, done, sizeof(done), NULL));
    pt_set_state(conn, conn->hs->cert_requested ? PT_ST_S12_WAIT_CERT : PT_ST_S12_WAIT_CKE);
    return PETREL_OK;
}

petrel_status pt_tls12_client_hello_recv(petrel_conn *conn, pt_span suites, pt_span comp,
                                         const pt_exts *x, const uint8_t *raw, size_t raw_len)
{
    PT_TRY(ch12_compression(conn, comp));
    PT_TRY(ch12_renegotiation(conn, suites, x));
    PT_TRY(pt_tls12_ems_recv(conn, x));
    PT_TRY(pt_tls12_point_formats_recv(conn, x));
    PT_TRY(ch12_sigalgs(conn, x));
    PT_TRY(ch12_group(conn, x));
    PT_TRY(ch12_suite(conn, suites, x));
    PT_TRY(pt_tls12_record_size_limit(conn, x));
    PT_TRY(pt_tr_add(&conn->hs->tr, raw, raw_len, &conn->err));
    PT_TRY(pt_tls12_transcript_start(conn));
    pt_trace(conn, "client offers TLSv1.2; chose %s, %s, %s", pt_suite_name(conn->suite),
             pt_group_name(conn->group),
             conn->hs->t12.ems ? "extended master secret" : "legacy master secret");
    return server_flight12_send(conn);
}

/* --- The client's flight ------------------------------------------------- */

petrel_status pt_tls12_client_cert_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                        size_t raw_len)
{
    struct pt_hs *hs = conn->hs;
    PT_TRY(pt_tls12_certificate_parse(conn, body, &hs->chain));
    PT_TRY(pt_tr_add(&hs->tr, raw, raw_len, &conn->err));
    if (hs->chain == NULL) {
        /* RFC 5246 7.4.6: a server that needs a certificate may answer an
         * empty one with a fatal handshake_failure. */
        if (conn->ctx->verify_mode == PETREL_CERT_REQUIRED) {
            return pt_fault(&conn->err, PETREL_ALERT_HANDSHAKE_FAILURE,
                            "client sent no certificate, and one is required");
        }
    } else {
        PT_TRY(pt_verify_peer_chain(conn, hs->chain));
    }
    pt_set_state(conn, PT_ST_S12_WAIT_CKE);
    return PETREL_OK;
}

/*   struct { ECPoint ecdh_Yc; } ClientECDiffieHellmanPublic;  (RFC 8422 5.7) */
petrel_status pt_tls12_client_key_exchange_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                                size_t raw_len)
{
    struct pt_hs *hs = conn->hs;
    pt_span point;
    if (!pt_get_vec8(&body, &point) || !pt_span_empty(&body) || point.len == 0) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed ClientKeyExchange");
    }
    PT_TRY(pt_kex_derive(hs->kex, point.p, point.len, hs->t12.pms, sizeof(hs->t12.pms),
                         &hs->t12.pms_len, &conn->err));
    PT_TRY(pt_tr_add(&hs->tr, raw, raw_len, &conn->err));
    PT_TRY(pt_tls12_master_secret(conn));
    pt_set_state(conn, hs->chain != NULL ? PT_ST_S12_WAIT_CV : PT_ST_S12_WAIT_CCS);
    return PETREL_OK;
}

/* RFC 5246 7.4.8: a signature over the handshake messages so far, with an
 * algorithm from our CertificateRequest. */
petrel_status pt_tls12_cert_verify_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                        size_t raw_len)
{
    struct pt_hs *hs = conn->hs;
    uint16_t sigalg;
    pt_span sig;
    if (!pt_get_u16(&body, &sigalg) || !pt_get_vec16(&body, &sig) || !pt_span_empty(&body)) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                        "malformed CertificateVerify message");
    }
    if (!pt_we_accept_sigalg(conn, sigalg)) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "client signed with %s (0x%04x), which the CertificateRequest did not "
                        "list",
                        pt_sigalg_name(sigalg), sigalg);
    }
    PT_TRY(pt_peer_verify_signature(hs->chain, conn->ctx->algs, sigalg, hs->tr.raw.data,
                                    hs->tr.raw.len, sig.p, sig.len, conn->ctx->security_level,
                                    &conn->err));
    conn->peer_sigalg = sigalg;
    PT_TRY(pt_tr_add(&hs->tr, raw, raw_len, &conn->err));
    pt_trace(conn, "client proved its key with %s", pt_sigalg_name(sigalg));
    pt_set_state(conn, PT_ST_S12_WAIT_CCS);
    return PETREL_OK;
}

petrel_status pt_tls12_client_finished_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                            size_t raw_len)
{
    PT_TRY(pt_tls12_finished_check(conn, body));
    PT_TRY(pt_tr_add(&conn->hs->tr, raw, raw_len, &conn->err));
    PT_TRY(pt_send_ccs(conn));
    PT_TRY(pt_tls12_install_keys(conn, true));
    PT_TRY(pt_tls12_finished_send(conn));
    return pt_tls12_finish(conn);
}

/* A ClientHello on an established connection asks to renegotiate. */
petrel_status pt_tls12_renegotiation_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                          size_t raw_len)
{
    return pt_tls12_refuse_renegotiation(conn, "client sent ClientHello");
}
