/*
 * post_handshake.c - messages after the handshake (RFC 8446 4.6):
 * NewSessionTicket, KeyUpdate, and post-handshake client authentication.
 *
 * A server's certificate request is a round with its own transcript: the
 * handshake's, through the client Finished, then CertificateRequest,
 * Certificate, CertificateVerify (4.4.1). Its Finished is keyed from the
 * current client application traffic secret. Application data keeps
 * flowing around a round in both directions.
 */
#include <string.h>

#include "engine/internal.h"

#define PT_MAX_KEY_UPDATES_IN_ROW 32

/*   struct {
 *       uint32 ticket_lifetime;
 *       uint32 ticket_age_add;
 *       opaque ticket_nonce<0..255>;
 *       opaque ticket<1..2^16-1>;
 *       Extension extensions<0..2^16-2>;
 *   } NewSessionTicket;
 */
petrel_status pt_ticket_recv(petrel_conn *conn, pt_span body, const uint8_t *raw, size_t raw_len)
{
    uint32_t lifetime;
    uint32_t age_add;
    pt_span nonce;
    pt_span ticket;
    pt_span exts;
    pt_exts x;
    if (!pt_get_u32(&body, &lifetime) || !pt_get_u32(&body, &age_add) ||
        !pt_get_vec8(&body, &nonce) || !pt_get_vec16(&body, &ticket) || ticket.len == 0 ||
        !pt_get_vec16(&body, &exts) || !pt_span_empty(&body)) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed NewSessionTicket");
    }
    PT_TRY(
        pt_exts_parse_in(exts, PT_XBIT(PT_X_EARLY_DATA), PT_XBIT(PT_X_EARLY_DATA), &x, &conn->err));
    /* RFC 8446 4.2.10: struct { uint32 max_early_data_size; } EarlyDataIndication. */
    if (pt_has_ext(&x, PT_X_EARLY_DATA) && x.body[PT_X_EARLY_DATA].len != 4) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                        "malformed early_data extension in a NewSessionTicket");
    }
    pt_trace(conn, "received a session ticket (lifetime %u s)", lifetime);
    /* RFC 8446 4.6.1: a lifetime of zero means discard at once. */
    if (lifetime == 0) {
        return PETREL_OK;
    }
    if (ticket.len > PT_TICKET_OFFER_MAX) {
        pt_trace(conn, "dropped a ticket of %zu bytes: too large to offer", ticket.len);
        return PETREL_OK;
    }
    pt_ticket *t = &conn->kept[conn->tickets % PT_MAX_TICKETS];
    pt_ticket_clear(t);
    t->ticket = pt_malloc(ticket.len);
    if (t->ticket == NULL) {
        return pt_fail(&conn->err, PETREL_ERR_NO_MEMORY, -1, "out of memory");
    }
    memcpy(t->ticket, ticket.p, ticket.len);
    t->len = ticket.len;
    t->lifetime = lifetime > 604800 ? 604800 : lifetime; /* at most 7 days */
    t->age_add = age_add;
    t->suite = conn->suite;
    t->received_ms = pt_now_ms();
    conn->tickets++;
    return pt_hkdf_expand_label(conn->ctx->algs, conn->hash, conn->resumption_secret, "resumption",
                                nonce.p, nonce.len, t->psk, pt_hash_len(conn->hash), &conn->err);
}

void pt_ticket_clear(pt_ticket *t)
{
    pt_free(t->ticket);
    pt_wipe(t, sizeof(*t));
}

/*   enum { update_not_requested(0), update_requested(1), (255) } KeyUpdateRequest;
 *   struct { KeyUpdateRequest request_update; } KeyUpdate;
 */
petrel_status pt_key_update_send(petrel_conn *conn, bool request_peer)
{
    uint8_t msg[5] = {PT_HS_KEY_UPDATE, 0, 0, 1, request_peer ? 1 : 0};
    PT_TRY(pt_flush_handshake(conn));
    PT_TRY(pt_record_seal(&conn->rl, PT_CT_HANDSHAKE, msg, sizeof(msg), &conn->out, &conn->err));
    pt_trace(conn, "sent KeyUpdate%s", request_peer ? " (update requested)" : "");
    return pt_ks_update(conn, true);
}

petrel_status pt_key_update_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                 size_t raw_len)
{
    uint8_t request;
    if (!pt_get_u8(&body, &request) || !pt_span_empty(&body)) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed KeyUpdate");
    }
    if (request > 1) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "KeyUpdate request_update of %u (RFC 8446 4.6.3)", request);
    }
    if (++conn->key_updates_in_row > PT_MAX_KEY_UPDATES_IN_ROW) {
        return pt_fault(&conn->err, PETREL_ALERT_UNEXPECTED_MESSAGE,
                        "peer sent more than %d KeyUpdate messages without application data",
                        PT_MAX_KEY_UPDATES_IN_ROW);
    }
    PT_TRY(pt_ks_update(conn, false));
    /* RFC 8446 4.6.3: answer a request with our own update, unless we can
     * no longer send. */
    if (request == 1 && !conn->close_sent) {
        PT_TRY(pt_key_update_send(conn, false));
    }
    return PETREL_OK;
}

/* --- Server: asking ------------------------------------------------------ */

void pt_pha_free(petrel_conn *conn)
{
    struct pt_pha *pha = conn->pha;
    if (pha == NULL) {
        return;
    }
    if (pha->tr.md_ctx != NULL) {
        pt_hash_free(&pha->tr);
    }
    pt_peer_chain_free(pha->chain);
    pt_wipe(pha, sizeof(*pha));
    pt_free(pha);
    conn->pha = NULL;
}

static petrel_status misuse(petrel_conn *conn, const char *sentence)
{
    return pt_fail(&conn->err, PETREL_ERR_MISUSE, -1, "%s", sentence);
}

static petrel_status check_pha_allowed(petrel_conn *conn)
{
    const petrel_ctx *ctx = conn->ctx;
    if (conn->role != PETREL_SERVER) {
        return misuse(conn, "verify_client_post_handshake is only for server connections");
    }
    if (!conn->handshake_done) {
        return misuse(conn, "verify_client_post_handshake needs a completed handshake");
    }
    if (conn->version != PETREL_TLS1_3) {
        return misuse(conn, "post-handshake authentication needs TLS 1.3; this connection "
                            "uses TLS 1.2");
    }
    if (!ctx->post_handshake_auth) {
        return misuse(conn, "post_handshake_auth is off on the server context");
    }
    if (ctx->verify_mode == PETREL_CERT_NONE) {
        return misuse(conn, "verify_mode is CERT_NONE; set CERT_OPTIONAL or CERT_REQUIRED to "
                            "ask for a client certificate");
    }
    if (!conn->pha_offered) {
        return misuse(conn, "the client did not offer post-handshake authentication "
                            "(no post_handshake_auth extension)");
    }
    if (conn->alpn != NULL && strcmp(conn->alpn, "h2") == 0) {
        return misuse(conn, "post-handshake authentication is forbidden over HTTP/2 "
                            "(RFC 8740)");
    }
    if (conn->pha != NULL) {
        return misuse(conn, "a post-handshake certificate request is already outstanding");
    }
    if (conn->close_sent || conn->close_received) {
        return misuse(conn, "the connection is closing");
    }
    return PETREL_OK;
}

static petrel_status new_round(petrel_conn *conn)
{
    struct pt_pha *pha = pt_calloc(1, sizeof(*pha));
    if (pha == NULL) {
        return pt_fail(&conn->err, PETREL_ERR_NO_MEMORY, -1, "out of memory");
    }
    conn->pha = pha;
    /* A counter makes each context unique on the connection; random bytes
     * make it unpredictable. */
    uint64_t n = ++conn->pha_counter;
    for (int i = 0; i < 8; i++) {
        pha->context[i] = (uint8_t)(n >> (56 - 8 * i));
    }
    PT_TRY(pt_random(pha->context + 8, PT_PHA_CONTEXT_LEN - 8, &conn->err));
    return pt_hash_copy(&pha->tr, &conn->pha_transcript, &conn->err);
}

static petrel_status send_request(petrel_conn *conn)
{
    struct pt_pha *pha = conn->pha;
    pt_buf msg;
    pt_buf_init(&msg, 1024, false);
    pt_builder b;
    pt_msg_begin(&b, &msg, PT_HS_CERTIFICATE_REQUEST);
    pt_open(&b, 1);
    pt_put_bytes(&b, pha->context, PT_PHA_CONTEXT_LEN);
    pt_close(&b);
    pt_open(&b, 2);
    pt_put_sigalgs_ext(conn, &b);
    pt_close(&b);
    petrel_status st = pt_msg_end(conn, &b);
    if (st == PETREL_OK) {
        st = pt_send_handshake(conn, msg.data, msg.len, &pha->tr);
    }
    pt_buf_release(&msg);
    return st;
}

petrel_status pt_engine_request_client_cert(petrel_conn *conn)
{
    if (conn->failed) {
        return conn->err.pub.status;
    }
    PT_TRY(check_pha_allowed(conn));
    petrel_status st = new_round(conn);
    if (st == PETREL_OK) {
        st = send_request(conn);
    }
    if (st == PETREL_OK) {
        st = pt_flush_handshake(conn);
    }
    if (st != PETREL_OK) {
        pt_pha_free(conn);
        return pt_conn_fatal(conn, st);
    }
    pt_set_state(conn, PT_ST_PHA_WAIT_CERT);
    return PETREL_OK;
}

/* --- Client: answering --------------------------------------------------- */

petrel_status pt_pha_request_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                  size_t raw_len)
{
    pt_span context;
    pt_span exts;
    if (!conn->pha_offered) {
        return pt_fault(&conn->err, PETREL_ALERT_UNEXPECTED_MESSAGE,
                        "server sent a CertificateRequest after the handshake, but this "
                        "client did not offer post_handshake_auth (RFC 8446 4.6.2)");
    }
    if (!pt_get_vec8(&body, &context) || !pt_get_vec16(&body, &exts) || !pt_span_empty(&body)) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                        "malformed CertificateRequest message");
    }
    if (context.len == 0) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "empty certificate_request_context after the handshake "
                        "(RFC 8446 4.3.2)");
    }
    if (conn->close_sent) {
        /* RFC 8446 6.1: nothing follows our close_notify. */
        pt_trace(conn, "certificate request after our close_notify: not answered");
        return PETREL_OK;
    }
    pt_hash tr = {0};
    petrel_status st = pt_hash_copy(&tr, &conn->pha_transcript, &conn->err);
    if (st == PETREL_OK) {
        st = pt_hash_update(&tr, raw, raw_len, &conn->err);
    }
    if (st == PETREL_OK) {
        st = pt_client_auth_answer(conn, context, exts, true, &tr);
    }
    if (st == PETREL_OK) {
        st = pt_finished_send(conn, conn->client_app_secret, &tr);
    }
    if (tr.md_ctx != NULL) {
        pt_hash_free(&tr);
    }
    return st;
}
