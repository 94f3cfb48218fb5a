/*
 * auth.c - Certificate, CertificateRequest, CertificateVerify and Finished
 * (RFC 8446 4.3.2, 4.4). The same builders serve the handshake and
 * post-handshake authentication; only the transcript and the Finished base
 * key differ, and the caller passes them.
 *
 *   struct {
 *       opaque certificate_request_context<0..2^8-1>;
 *       CertificateEntry certificate_list<0..2^24-1>;
 *   } Certificate;
 *   struct { opaque cert_data<1..2^24-1>; Extension extensions<0..2^16-1>; }
 *   CertificateEntry;
 *   struct { SignatureScheme algorithm; opaque signature<0..2^16-1>; }
 *   CertificateVerify;
 */
#include <string.h>

#include "engine/internal.h"

#define PT_MAX_CHAIN_ENTRIES 64

petrel_status pt_current_hash(petrel_conn *conn, pt_hash *post, uint8_t out[PT_MAX_HASH])
{
    if (conn->hs != NULL) {
        return pt_tr_hash(&conn->hs->tr, out, &conn->err);
    }
    return pt_hash_peek(post, out, &conn->err);
}

static petrel_status add_received(petrel_conn *conn, pt_hash *post, const uint8_t *raw,
                                  size_t raw_len)
{
    if (conn->hs != NULL) {
        return pt_tr_add(&conn->hs->tr, raw, raw_len, &conn->err);
    }
    return pt_hash_update(post, raw, raw_len, &conn->err);
}

petrel_status pt_certificate_send(petrel_conn *conn, const uint8_t *context, size_t context_len,
                                  bool with_chain, pt_hash *post)
{
    const pt_credential *cred = conn->ctx->cred;
    size_t count = with_chain ? pt_credential_count(cred) : 0;
    pt_buf msg;
    pt_buf_init(&msg, 1u << 24, false);
    pt_builder b;
    pt_msg_begin(&b, &msg, PT_HS_CERTIFICATE);
    pt_open(&b, 1);
    pt_put_bytes(&b, context, context_len);
    pt_close(&b);
    pt_open(&b, 3);
    for (size_t i = 0; i < count; i++) {
        size_t len;
        const uint8_t *der = pt_credential_der(cred, i, &len);
        pt_open(&b, 3);
        pt_put_bytes(&b, der, len);
        pt_close(&b);
        pt_put_u16(&b, 0);
    }
    pt_close(&b);
    petrel_status st = pt_msg_end(conn, &b);
    if (st == PETREL_OK) {
        st = pt_send_handshake(conn, msg.data, msg.len, post);
    }
    pt_buf_release(&msg);
    return st;
}

/*   struct { SignatureScheme algorithm; opaque signature<0..2^16-1>; }
 *   CertificateVerify;   (the same in TLS 1.2, RFC 5246 7.4.8) */
petrel_status pt_cert_verify_msg_send(petrel_conn *conn, uint16_t sigalg, const uint8_t *sig,
                                      size_t sig_len, pt_hash *post)
{
    pt_buf msg;
    pt_buf_init(&msg, 4096, false);
    pt_builder b;
    pt_msg_begin(&b, &msg, PT_HS_CERTIFICATE_VERIFY);
    pt_put_u16(&b, sigalg);
    pt_open(&b, 2);
    pt_put_bytes(&b, sig, sig_len);
    pt_close(&b);
    petrel_status st = pt_msg_end(conn, &b);
    if (st == PETREL_OK) {
        st = pt_send_handshake(conn, msg.data, msg.len, post);
    }
    pt_buf_release(&msg);
    conn->sigalg = sigalg;
    return st;
}

/* RFC 8446 4.4.3: 64 spaces, the context string, a zero byte, the hash. */
petrel_status pt_cert_verify_content(petrel_conn *conn, bool from_server, const uint8_t *hash,
                                     uint8_t *out, size_t *out_len)
{
    static const char server_ctx[] = "TLS 1.3, server CertificateVerify";
    static const char client_ctx[] = "TLS 1.3, client CertificateVerify";
    const char *label = from_server ? server_ctx : client_ctx;
    size_t label_len = sizeof(server_ctx) - 1;
    size_t n = pt_hash_len(conn->hash);
    memset(out, 0x20, 64);
    memcpy(out + 64, label, label_len);
    out[64 + label_len] = 0;
    memcpy(out + 64 + label_len + 1, hash, n);
    *out_len = 64 + label_len + 1 + n;
    return PETREL_OK;
}

#define PT_CV_CONTENT_MAX (64 + 34 + 1 + PT_MAX_HASH)

petrel_status pt_cert_verify_send(petrel_conn *conn, uint16_t sigalg, pt_hash *post)
{
    uint8_t hash[PT_MAX_HASH];
    uint8_t content[PT_CV_CONTENT_MAX];
    size_t content_len;
    uint8_t sig[PT_MAX_SIGNATURE];
    size_t sig_len;
    PT_TRY(pt_current_hash(conn, post, hash));
    PT_TRY(pt_cert_verify_content(conn, conn->role == PETREL_SERVER, hash, content, &content_len));
    PT_TRY(pt_sign(conn->ctx->cred, conn->ctx->algs, sigalg, content, content_len, sig, sizeof(sig),
                   &sig_len, &conn->err));
    return pt_cert_verify_msg_send(conn, sigalg, sig, sig_len, post);
}

petrel_status pt_finished_send(petrel_conn *conn, const uint8_t *base, pt_hash *post)
{
    uint8_t hash[PT_MAX_HASH];
    uint8_t verify[PT_MAX_HASH];
    size_t n = pt_hash_len(conn->hash);
    PT_TRY(pt_current_hash(conn, post, hash));
    PT_TRY(pt_ks_finished(conn, base, hash, verify));
    uint8_t msg[4 + PT_MAX_HASH] = {PT_HS_FINISHED, 0, 0, (uint8_t)n};
    memcpy(msg + 4, verify, n);
    petrel_status st = pt_send_handshake(conn, msg, 4 + n, post);
    pt_wipe(verify, sizeof(verify));
    pt_wipe(msg, sizeof(msg));
    return st;
}

/* --- Receiving ---------------------------------------------------------- */

static petrel_status check_chain_limits(petrel_conn *conn, size_t count, size_t bytes)
{
    const petrel_limits *lim = &conn->ctx->limits;
    if (count > lim->max_cert_chain_len || count > PT_MAX_CHAIN_ENTRIES) {
        return pt_fault(&conn->err, PETREL_ALERT_BAD_CERTIFICATE,
                        "peer sent %zu certificates; the limit is %zu (max_cert_chain_len, "
                        "see petrel_ctx_set_limits)",
                        count, lim->max_cert_chain_len);
    }
    if (bytes > lim->max_cert_chain_bytes) {
        return pt_fault(&conn->err, PETREL_ALERT_BAD_CERTIFICATE,
                        "peer certificate chain of %zu bytes exceeds the %zu-byte limit "
                        "(max_cert_chain_bytes, see petrel_ctx_set_limits)",
                        bytes, lim->max_cert_chain_bytes);
    }
    return PETREL_OK;
}

petrel_status pt_certificate_parse(petrel_conn *conn, pt_span body, pt_span *context,
                                   pt_peer_chain **out)
{
    pt_span list;
    const uint8_t *ders[PT_MAX_CHAIN_ENTRIES];
    size_t lens[PT_MAX_CHAIN_ENTRIES];
    size_t count = 0;
    *out = NULL;
    if (!pt_get_vec8(&body, context) || !pt_get_vec24(&body, &list) || !pt_span_empty(&body)) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed Certificate message");
    }
    PT_TRY(check_chain_limits(conn, 0, list.len));
    while (!pt_span_empty(&list)) {
        pt_span der;
        pt_span exts;
        pt_exts x;
        if (!pt_get_vec24(&list, &der) || der.len == 0 || !pt_get_vec16(&list, &exts)) {
            return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed certificate entry");
        }
        /* We ask for no per-certificate extensions (RFC 8446 4.4.2), and
         * none of those we know belongs in a CertificateEntry. */
        PT_TRY(pt_exts_parse_answer(exts, 0, 0, &x, &conn->err));
        PT_TRY(check_chain_limits(conn, count + 1, 0));
        ders[count] = der.p;
        lens[count] = der.len;
        count++;
    }
    if (count == 0) {
        return PETREL_OK;
    }
    return pt_peer_chain_parse(ders, lens, count, out, &conn->err);
}

petrel_status pt_verify_peer_chain(petrel_conn *conn, pt_peer_chain *chain)
{
    const petrel_ctx *ctx = conn->ctx;
    bool client = conn->role == PETREL_CLIENT;
    pt_verify_params params = {
        .peer_is_server = client,
        .hostname = client && ctx->check_hostname ? conn->hostname : NULL,
        .hostname_checks_cn = ctx->hostname_checks_cn,
        .flags = ctx->verify_flags,
        .security_level = ctx->security_level,
    };
    if (ctx->verify_mode == PETREL_CERT_NONE) {
        return PETREL_OK;
    }
    petrel_status st = pt_peer_chain_verify(chain, ctx->store, &params, &conn->err);
    conn->verify_result = st == PETREL_OK ? 0 : conn->err.pub.verify_code;
    if (st == PETREL_OK) {
        pt_trace(conn, "verified the peer's chain of %zu certificates%s",
                 pt_peer_chain_verified_len(chain), params.hostname ? " and its hostname" : "");
    }
    return st;
}

/* An empty client Certificate: fatal under CERT_REQUIRED (RFC 8446
 * 4.4.2.4), else the client stays anonymous and Finished comes next. */
static petrel_status client_declined(petrel_conn *conn, pt_state next)
{
    if (conn->ctx->verify_mode == PETREL_CERT_REQUIRED) {
        return pt_fault(&conn->err, PETREL_ALERT_CERTIFICATE_REQUIRED,
                        "client sent no certificate%s, and one is required",
                        conn->hs == NULL ? " after the handshake" : "");
    }
    pt_set_state(conn, next);
    return PETREL_OK;
}

petrel_status pt_certificate_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                  size_t raw_len)
{
    struct pt_hs *hs = conn->hs;
    pt_span context;
    PT_TRY(pt_certificate_parse(conn, body, &context, &hs->chain));
    if (context.len != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "non-empty certificate_request_context in the handshake");
    }
    PT_TRY(pt_tr_add(&hs->tr, raw, raw_len, &conn->err));
    if (hs->chain == NULL) {
        if (conn->role == PETREL_CLIENT) {
            return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                            "server sent an empty Certificate (RFC 8446 4.4.2.4)");
        }
        return client_declined(conn, PT_ST_S_WAIT_FINISHED);
    }
    PT_TRY(pt_verify_peer_chain(conn, hs->chain));
    pt_set_state(conn, conn->role == PETREL_CLIENT ? PT_ST_C_WAIT_CV : PT_ST_S_WAIT_CV);
    return PETREL_OK;
}

/* Checks a CertificateVerify against `chain` and the transcript so far. */
static petrel_status check_cert_verify(petrel_conn *conn, pt_span body, pt_peer_chain *chain,
                                       pt_hash *post)
{
    uint16_t sigalg;
    pt_span sig;
    if (!pt_get_u16(&body, &sigalg) || !pt_get_vec16(&body, &sig) || !pt_span_empty(&body)) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                        "malformed CertificateVerify message");
    }
    bool pkcs1 = (sigalg & 0xff) == 0x01 || (sigalg >> 8) == 0x02;
    if (pkcs1 || !pt_we_accept_sigalg(conn, sigalg)) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "peer signed with %s (0x%04x), which was not offered for TLS 1.3 "
                        "(RFC 8446 4.4.3)",
                        pt_sigalg_name(sigalg), sigalg);
    }
    uint8_t hash[PT_MAX_HASH];
    uint8_t content[PT_CV_CONTENT_MAX];
    size_t content_len;
    PT_TRY(pt_peer_check_sigalg(chain, sigalg, true, conn->ctx->security_level, &conn->err));
    PT_TRY(pt_current_hash(conn, post, hash));
    PT_TRY(pt_cert_verify_content(conn, conn->role == PETREL_CLIENT, hash, content, &content_len));
    PT_TRY(pt_peer_verify_signature(chain, conn->ctx->algs, sigalg, content, content_len, sig.p,
                                    sig.len, conn->ctx->security_level, &conn->err));
    conn->peer_sigalg = sigalg;
    return PETREL_OK;
}

petrel_status pt_cert_verify_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                  size_t raw_len)
{
    PT_TRY(check_cert_verify(conn, body, conn->hs->chain, NULL));
    PT_TRY(pt_tr_add(&conn->hs->tr, raw, raw_len, &conn->err));
    pt_trace(conn, "peer proved its key with %s", pt_sigalg_name(conn->peer_sigalg));
    pt_set_state(conn, conn->role == PETREL_CLIENT ? PT_ST_C_WAIT_FINISHED : PT_ST_S_WAIT_FINISHED);
    return PETREL_OK;
}

/* Compares a received Finished with the one we expect (constant time). */
static petrel_status check_finished(petrel_conn *conn, pt_span body, const uint8_t *base,
                                    pt_hash *post)
{
    size_t n = pt_hash_len(conn->hash);
    uint8_t hash[PT_MAX_HASH];
    uint8_t expected[PT_MAX_HASH];
    if (body.len != n) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                        "Finished of %zu bytes; expected %zu", body.len, n);
    }
    PT_TRY(pt_current_hash(conn, post, hash));
    PT_TRY(pt_ks_finished(conn, base, hash, expected));
    int diff = pt_ct_memcmp(expected, body.p, n);
    pt_wipe(expected, sizeof(expected));
    if (diff != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_DECRYPT_ERROR,
                        "peer's Finished does not match the handshake (RFC 8446 4.4.4)");
    }
    return PETREL_OK;
}

/* The handshake is over: keep what lives on, drop the rest. */
static petrel_status finish_handshake(petrel_conn *conn)
{
    struct pt_hs *hs = conn->hs;
    PT_TRY(pt_ks_resumption(conn));
    if (conn->pha_offered && hs->tr.hashing) {
        PT_TRY(pt_hash_copy(&conn->pha_transcript, &hs->tr.hash, &conn->err));
    }
    conn->peer = hs->chain;
    hs->chain = NULL;
    conn->resumed = hs->resumed;
    conn->handshake_done = true;
    pt_set_state(conn, PT_ST_CONNECTED);
    pt_trace(conn, "handshake complete");
    struct pt_hs *old = conn->hs;
    conn->hs = NULL;
    pt_tr_free(&old->tr);
    pt_kex_free(old->kex);
    pt_buf_release(&old->cr_exts);
    pt_wipe(old, sizeof(*old));
    pt_free(old);
    return PETREL_OK;
}

static petrel_status client_second_flight(petrel_conn *conn)
{
    struct pt_hs *hs = conn->hs;
    if (hs->cert_requested) {
        PT_TRY(pt_client_auth_answer(conn, pt_span_of(NULL, 0), pt_span_of(NULL, 0), false, NULL));
    }
    PT_TRY(pt_finished_send(conn, hs->client_hs_secret, NULL));
    PT_TRY(pt_ks_install(conn, conn->client_app_secret, true));
    return PETREL_OK;
}

petrel_status pt_finished_recv(petrel_conn *conn, pt_span body, const uint8_t *raw, size_t raw_len)
{
    struct pt_hs *hs = conn->hs;
    if (conn->role == PETREL_CLIENT) {
        PT_TRY(check_finished(conn, body, hs->server_hs_secret, NULL));
        PT_TRY(pt_tr_add(&hs->tr, raw, raw_len, &conn->err));
        PT_TRY(pt_ks_application(conn));
        PT_TRY(pt_ks_install(conn, conn->server_app_secret, false));
        PT_TRY(client_second_flight(conn));
        return finish_handshake(conn);
    }
    PT_TRY(check_finished(conn, body, hs->client_hs_secret, NULL));
    PT_TRY(pt_tr_add(&hs->tr, raw, raw_len, &conn->err));
    PT_TRY(pt_ks_install(conn, conn->client_app_secret, false));
    PT_TRY(finish_handshake(conn));
    return pt_tickets_send(conn);
}

/* --- CertificateRequest (client side) ----------------------------------- */

/*   struct {
 *       opaque certificate_request_context<0..2^8-1>;
 *       Extension extensions<2..2^16-1>;
 *   } CertificateRequest;
 */
static petrel_status parse_cert_request(petrel_conn *conn, pt_span body, pt_span *context,
                                        pt_span *exts)
{
    if (!pt_get_vec8(&body, context) || !pt_get_vec16(&body, exts) || !pt_span_empty(&body)) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                        "malformed CertificateRequest message");
    }
    return PETREL_OK;
}

/* What a CertificateRequest asks for (RFC 8446 4.3.2): its signature
 * algorithms, and the CAs it names, if any:
 *   opaque DistinguishedName<1..2^16-1>;
 *   struct { DistinguishedName authorities<3..2^16-1>; } CertificateAuthoritiesExtension;
 */
#define PT_MAX_CA_NAMES 32

typedef struct pt_request {
    uint16_t sigalgs[PT_MAX_PEER_SIGALGS];
    size_t sigalg_count;
    const uint8_t *ca_names[PT_MAX_CA_NAMES];
    size_t ca_name_lens[PT_MAX_CA_NAMES];
    size_t ca_name_count;
} pt_request;

static petrel_status parse_ca_names(petrel_conn *conn, pt_span body, pt_request *req)
{
    pt_span list;
    if (!pt_get_vec16(&body, &list) || !pt_span_empty(&body) || list.len < 3) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                        "malformed certificate_authorities extension");
    }
    while (!pt_span_empty(&list)) {
        pt_span name;
        if (!pt_get_vec16(&list, &name) || name.len == 0) {
            return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                            "malformed name in certificate_authorities");
        }
        if (req->ca_name_count < PT_MAX_CA_NAMES) {
            req->ca_names[req->ca_name_count] = name.p;
            req->ca_name_lens[req->ca_name_count] = name.len;
            req->ca_name_count++;
        }
    }
    return PETREL_OK;
}

static petrel_status parse_request(petrel_conn *conn, pt_span exts, pt_request *req)
{
    pt_exts x;
    req->sigalg_count = 0;
    req->ca_name_count = 0;
    uint32_t wanted = PT_XBIT(PT_X_SIGNATURE_ALGORITHMS) | PT_XBIT(PT_X_CERTIFICATE_AUTHORITIES);
    PT_TRY(pt_exts_parse_in(exts, wanted | PT_XBIT(PT_X_SIGNATURE_ALGORITHMS_CERT), wanted, &x,
                            &conn->err));
    if (!pt_has_ext(&x, PT_X_SIGNATURE_ALGORITHMS)) {
        return pt_fault(&conn->err, PETREL_ALERT_MISSING_EXTENSION,
                        "CertificateRequest has no signature_algorithms (RFC 8446 4.3.2)");
    }
    PT_TRY(pt_parse_sigalgs(x.body[PT_X_SIGNATURE_ALGORITHMS], req->sigalgs, PT_MAX_PEER_SIGALGS,
                            &req->sigalg_count, &conn->err));
    if (pt_has_ext(&x, PT_X_CERTIFICATE_AUTHORITIES)) {
        PT_TRY(parse_ca_names(conn, x.body[PT_X_CERTIFICATE_AUTHORITIES], req));
    }
    return PETREL_OK;
}

petrel_status pt_cert_request_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                   size_t raw_len)
{
    struct pt_hs *hs = conn->hs;
    pt_span context;
    pt_span exts;
    PT_TRY(parse_cert_request(conn, body, &context, &exts));
    if (context.len != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "non-empty certificate_request_context in the handshake "
                        "(RFC 8446 4.3.2)");
    }
    pt_request req;
    PT_TRY(parse_request(conn, exts, &req));
    /* Kept until the answer, which follows the server's Finished. */
    pt_buf_init(&hs->cr_exts, 65535, false);
    if (!pt_buf_append(&hs->cr_exts, exts.p, exts.len)) {
        return pt_fail(&conn->err, PETREL_ERR_NO_MEMORY, -1, "out of memory");
    }
    PT_TRY(pt_tr_add(&hs->tr, raw, raw_len, &conn->err));
    hs->cert_requested = true;
    pt_set_state(conn, PT_ST_C_WAIT_CERT);
    return PETREL_OK;
}

/* Decides whether to present our chain, and with which algorithm. */
static uint16_t choose_client_cert(petrel_conn *conn, const pt_request *r, bool post_handshake)
{
    const petrel_ctx *ctx = conn->ctx;
    if (ctx->cred == NULL) {
        return 0;
    }
    uint16_t alg = pt_credential_pick_sigalg(ctx->cred, r->sigalgs, r->sigalg_count, true,
                                             ctx->security_level);
    if (alg == 0) {
        return 0;
    }
    if (ctx->cert_cb != NULL) {
        petrel_cert_request req = {
            .post_handshake = post_handshake,
            .sigalgs = r->sigalgs,
            .sigalg_count = r->sigalg_count,
            .ca_names = r->ca_names,
            .ca_name_lens = r->ca_name_lens,
            .ca_name_count = r->ca_name_count,
        };
        if (!pt_ask_cert_cb(conn, &req)) {
            return 0;
        }
    }
    return alg;
}

bool pt_ask_cert_cb(petrel_conn *conn, const petrel_cert_request *req)
{
    const petrel_ctx *ctx = conn->ctx;
    conn->in_callback = true;
    bool send = ctx->cert_cb(conn, req, ctx->cert_cb_userdata);
    conn->in_callback = false;
    return send;
}

petrel_status pt_client_auth_answer(petrel_conn *conn, pt_span context, pt_span exts,
                                    bool post_handshake, pt_hash *post)
{
    pt_request req;
    if (!post_handshake) {
        exts = pt_span_of(conn->hs->cr_exts.data, conn->hs->cr_exts.len);
    }
    PT_TRY(parse_request(conn, exts, &req));
    uint16_t alg = choose_client_cert(conn, &req, post_handshake);
    PT_TRY(pt_certificate_send(conn, context.p, context.len, alg != 0, post));
    if (alg != 0) {
        PT_TRY(pt_cert_verify_send(conn, alg, post));
        pt_trace(conn, "answered the certificate request with our chain, signed with %s",
                 pt_sigalg_name(alg));
    } else {
        pt_trace(conn, "answered the certificate request with an empty Certificate");
    }
    return PETREL_OK;
}

/* --- Server side of post-handshake authentication ------------------------ */

petrel_status pt_pha_certificate_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                      size_t raw_len)
{
    struct pt_pha *pha = conn->pha;
    pt_span context;
    PT_TRY(pt_certificate_parse(conn, body, &context, &pha->chain));
    if (context.len != PT_PHA_CONTEXT_LEN ||
        memcmp(context.p, pha->context, PT_PHA_CONTEXT_LEN) != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "Certificate answers a certificate_request_context that was never "
                        "requested");
    }
    PT_TRY(add_received(conn, &pha->tr, raw, raw_len));
    if (pha->chain == NULL) {
        return client_declined(conn, PT_ST_PHA_WAIT_FINISHED);
    }
    PT_TRY(pt_verify_peer_chain(conn, pha->chain));
    pt_set_state(conn, PT_ST_PHA_WAIT_CV);
    return PETREL_OK;
}

petrel_status pt_pha_cert_verify_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                      size_t raw_len)
{
    struct pt_pha *pha = conn->pha;
    PT_TRY(check_cert_verify(conn, body, pha->chain, &pha->tr));
    PT_TRY(add_received(conn, &pha->tr, raw, raw_len));
    pt_set_state(conn, PT_ST_PHA_WAIT_FINISHED);
    return PETREL_OK;
}

petrel_status pt_pha_finished_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                   size_t raw_len)
{
    struct pt_pha *pha = conn->pha;
    PT_TRY(check_finished(conn, body, conn->client_app_secret, &pha->tr));
    if (pha->chain != NULL) {
        pt_peer_chain_free(conn->peer);
        conn->peer = pha->chain;
        pha->chain = NULL;
        conn->verify_result = 0;
        pt_trace(conn, "client authenticated after the handshake");
    } else {
        /* The latest answer decides: a client that declines is anonymous
         * again, whatever it proved before. */
        pt_peer_chain_free(conn->peer);
        conn->peer = NULL;
        pt_trace(conn, "client declined the certificate request");
    }
    pt_pha_free(conn);
    pt_set_state(conn, PT_ST_CONNECTED);
    return PETREL_OK;
}
