/*
 * engine.c - the record intake loop, sending, and the entry points.
 *
 * Received bytes wait in conn->in. Each call opens at most as many records
 * as its goal needs (a finished handshake, some application data, an
 * answered certificate request), so input stays bounded: application data
 * is only taken in while conn->app has room for a whole record.
 */
#include <stdio.h>
#include <string.h>

#include "engine/internal.h"

#define PT_MAX_EMPTY_RECORDS 32
#define PT_MAX_WARNING_ALERTS 16
/* Our largest flight: a certificate chain at most this big is sent. */
#define PT_FLIGHT_MAX (1024 * 1024)

void pt_trace(petrel_conn *conn, const char *fmt, ...)
{
    if (conn->trace_cb == NULL) {
        return;
    }
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    conn->trace_cb(conn, line, conn->trace_userdata);
}

void pt_set_state(petrel_conn *conn, pt_state st)
{
    conn->state = (int)st;
}

static void hs_free(petrel_conn *conn)
{
    struct pt_hs *hs = conn->hs;
    if (hs == NULL) {
        return;
    }
    pt_tr_free(&hs->tr);
    pt_kex_free(hs->kex);
    pt_peer_chain_free(hs->chain);
    pt_buf_release(&hs->cr_exts);
    pt_wipe(hs, sizeof(*hs));
    pt_free(hs);
    conn->hs = NULL;
}

petrel_status pt_engine_init(petrel_conn *conn)
{
    pt_record_layer_init(&conn->rl);
    conn->hs = pt_calloc(1, sizeof(*conn->hs));
    if (conn->hs == NULL) {
        return pt_fail(&conn->err, PETREL_ERR_NO_MEMORY, -1, "out of memory");
    }
    /* Raw bytes: a ClientHello before the suite is known; in TLS 1.2 with
     * client authentication, every message up to CertificateVerify, two
     * chains included. */
    const petrel_limits *l = &conn->ctx->limits;
    size_t chains =
        l->max_cert_chain_bytes < SIZE_MAX / 4 ? 2 * l->max_cert_chain_bytes : SIZE_MAX / 2;
    size_t messages =
        l->max_handshake_message < SIZE_MAX / 8 ? 2 * l->max_handshake_message : SIZE_MAX / 4;
    pt_tr_init_max(&conn->hs->tr, chains + messages + 64 * 1024);
    pt_buf_init(&conn->hsout, PT_FLIGHT_MAX, false);
    pt_set_state(conn, conn->role == PETREL_CLIENT ? PT_ST_START : PT_ST_S_WAIT_CH);
    return PETREL_OK;
}

void pt_engine_free(petrel_conn *conn)
{
    hs_free(conn);
    pt_pha_free(conn);
    pt_peer_chain_free(conn->peer);
    conn->peer = NULL;
    if (conn->pha_transcript.md_ctx != NULL) {
        pt_hash_free(&conn->pha_transcript);
    }
    pt_free(conn->alpn);
    conn->alpn = NULL;
    pt_buf_release(&conn->hsout);
    for (size_t i = 0; i < PT_MAX_TICKETS; i++) {
        pt_ticket_clear(&conn->kept[i]);
    }
    pt_record_layer_free(&conn->rl);
    pt_wipe(conn->client_app_secret, sizeof(conn->client_app_secret));
    pt_wipe(conn->server_app_secret, sizeof(conn->server_app_secret));
    pt_wipe(conn->resumption_secret, sizeof(conn->resumption_secret));
}

/* --- Sending ------------------------------------------------------------ */

/* Handshake messages of one flight share records: they are collected in
 * conn->hsout and sealed together before anything else is sent and before
 * the write key changes. */
petrel_status pt_flush_handshake(petrel_conn *conn)
{
    if (conn->hsout.len == 0) {
        return PETREL_OK;
    }
    petrel_status st = pt_record_seal(&conn->rl, PT_CT_HANDSHAKE, conn->hsout.data, conn->hsout.len,
                                      &conn->out, &conn->err);
    pt_buf_reset(&conn->hsout);
    return st;
}

static petrel_status send_record(petrel_conn *conn, uint8_t type, const uint8_t *data, size_t len)
{
    PT_TRY(pt_flush_handshake(conn));
    return pt_record_seal(&conn->rl, type, data, len, &conn->out, &conn->err);
}

petrel_status pt_send_handshake(petrel_conn *conn, const uint8_t *msg, size_t len, pt_hash *post)
{
    if (conn->hs != NULL) {
        PT_TRY(pt_tr_add(&conn->hs->tr, msg, len, &conn->err));
    } else if (post != NULL) {
        PT_TRY(pt_hash_update(post, msg, len, &conn->err));
    }
    pt_trace(conn, "sent %s", pt_hs_type_name(msg[0]));
    if (!pt_buf_append(&conn->hsout, msg, len)) {
        return pt_fail(&conn->err, PETREL_ERR_INTERNAL, PETREL_ALERT_INTERNAL_ERROR,
                       "handshake flight exceeds %zu bytes", conn->hsout.max);
    }
    return PETREL_OK;
}

petrel_status pt_send_ccs(petrel_conn *conn)
{
    static const uint8_t one = 1;
    return send_record(conn, PT_CT_CHANGE_CIPHER_SPEC, &one, 1);
}

void pt_msg_begin(pt_builder *b, pt_buf *buf, uint8_t type)
{
    pt_builder_init(b, buf);
    pt_put_u8(b, type);
    pt_open(b, 3);
}

petrel_status pt_msg_end(petrel_conn *conn, pt_builder *b)
{
    pt_close(b);
    if (!pt_builder_ok(b)) {
        return pt_fail(&conn->err, PETREL_ERR_INTERNAL, PETREL_ALERT_INTERNAL_ERROR,
                       "could not build a handshake message (too large or out of memory)");
    }
    return PETREL_OK;
}

static void send_alert(petrel_conn *conn, uint8_t level, uint8_t desc)
{
    uint8_t a[2] = {level, desc};
    if (send_record(conn, PT_CT_ALERT, a, sizeof(a)) != PETREL_OK) {
        /* The connection is failing anyway; the first error stays. */
        return;
    }
}

petrel_status pt_conn_fatal(petrel_conn *conn, petrel_status status)
{
    if (conn->failed) {
        return conn->err.pub.status;
    }
    int alert = conn->err.pub.alert;
    bool we_detected = status == PETREL_ERR_PROTOCOL || status == PETREL_ERR_CERT_VERIFY ||
                       status == PETREL_ERR_INTERNAL || status == PETREL_ERR_NO_MEMORY;
    if (we_detected && !conn->close_sent) {
        if (alert < 0) {
            alert = PETREL_ALERT_INTERNAL_ERROR;
            conn->err.pub.alert = alert;
        }
        pt_error saved;
        pt_error_copy(&saved, &conn->err);
        send_alert(conn, 2, (uint8_t)alert);
        pt_error_copy(&conn->err, &saved);
        conn->close_sent = true;
        pt_trace(conn, "sent alert %d (%s)", alert, petrel_alert_name(alert));
    }
    conn->err.pub.status = status;
    conn->failed = true;
    return status;
}

/* Fails the connection unless the status is a transient WANT. */
static petrel_status fatal_unless_want(petrel_conn *conn, petrel_status st)
{
    if (st == PETREL_OK || st == PETREL_ERR_WANT_READ || st == PETREL_ERR_WANT_WRITE) {
        return st;
    }
    return pt_conn_fatal(conn, st);
}

/* --- Receiving ---------------------------------------------------------- */

static petrel_status handle_ccs(petrel_conn *conn, const pt_record *rec)
{
    if (conn->version == PETREL_TLS1_2) {
        return pt_tls12_ccs_recv(conn, rec);
    }
    /* RFC 8446 5: one unprotected change_cipher_spec of value 1 may arrive
     * between the first ClientHello and the peer's Finished; drop it. */
    bool protected_rec = rec->wire_len != PT_RECORD_HEADER + rec->len;
    bool in_window =
        conn->hs != NULL && conn->state != PT_ST_S_WAIT_CH && conn->state != PT_ST_START;
    if (protected_rec || rec->len != 1 || rec->data[0] != 1 || !in_window || conn->ccs_seen) {
        return pt_fault(&conn->err, PETREL_ALERT_UNEXPECTED_MESSAGE,
                        "unexpected change_cipher_spec record (RFC 8446 5)");
    }
    conn->ccs_seen = true;
    return PETREL_OK;
}

static petrel_status handle_alert(petrel_conn *conn, const pt_record *rec)
{
    if (rec->len != 2) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                        "alert record of %zu bytes; an alert is exactly 2 bytes", rec->len);
    }
    uint8_t desc = rec->data[1];
    if (desc == PETREL_ALERT_CLOSE_NOTIFY) {
        conn->close_received = true;
        pt_trace(conn, "received close_notify");
        return PETREL_OK;
    }
    /* RFC 5246 7.2: in TLS 1.2 a warning does not end the connection. */
    bool tls12_warning = conn->version == PETREL_TLS1_2 && rec->data[0] == 1;
    if (desc == PETREL_ALERT_USER_CANCELED || tls12_warning) {
        if (++conn->warning_alerts_in_row > PT_MAX_WARNING_ALERTS) {
            return pt_fault(&conn->err, PETREL_ALERT_UNEXPECTED_MESSAGE,
                            "peer sent more than %d user_canceled alerts in a row",
                            PT_MAX_WARNING_ALERTS);
        }
        return PETREL_OK;
    }
    /* RFC 8446 6.2: every other alert is an error, whatever its level. */
    conn->close_sent = true;
    pt_fail(&conn->err, PETREL_ERR_PEER_ALERT, desc, "peer sent alert %d (%s)", desc,
            petrel_alert_name(desc));
    return PETREL_ERR_PEER_ALERT;
}

/* Bytes still missing from the message at the front of conn->hsmsg: the
 * rest of its 4-byte header, then the rest of its body. */
static petrel_status hs_missing(petrel_conn *conn, size_t *missing)
{
    const uint8_t *p = conn->hsmsg.data;
    size_t limit = conn->ctx->limits.max_handshake_message;
    if (conn->hsmsg.len < 4) {
        *missing = 4 - conn->hsmsg.len;
        return PETREL_OK;
    }
    if (p[0] == PT_HS_NEW_SESSION_TICKET && conn->handshake_done &&
        limit < PT_MAX_NEW_SESSION_TICKET) {
        limit = PT_MAX_NEW_SESSION_TICKET;
    }
    size_t body_len = ((size_t)p[1] << 16) | ((size_t)p[2] << 8) | p[3];
    if (body_len > limit) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "%s of %zu bytes exceeds the %zu-byte handshake message limit "
                        "(max_handshake_message, see petrel_ctx_set_limits)",
                        pt_hs_type_name(p[0]), body_len, limit);
    }
    *missing = 4 + body_len - conn->hsmsg.len;
    return PETREL_OK;
}

/* A record may hold several messages and parts of others; only the message
 * being assembled is buffered, so the buffer holds one message at most. */
static petrel_status handle_handshake_bytes(petrel_conn *conn, const pt_record *rec)
{
    if (rec->len == 0) {
        return pt_fault(&conn->err, PETREL_ALERT_UNEXPECTED_MESSAGE,
                        "zero-length handshake record (RFC 8446 5.1)");
    }
    const uint8_t *data = rec->data;
    size_t left = rec->len;
    while (left > 0) {
        size_t missing = 0;
        PT_TRY(hs_missing(conn, &missing));
        size_t take = missing < left ? missing : left;
        if (!pt_buf_append(&conn->hsmsg, data, take)) {
            return pt_fail(&conn->err, PETREL_ERR_NO_MEMORY, -1,
                           "out of memory for a handshake message");
        }
        data += take;
        left -= take;
        PT_TRY(hs_missing(conn, &missing));
        if (missing > 0) {
            continue;
        }
        const uint8_t *p = conn->hsmsg.data;
        size_t len = conn->hsmsg.len;
        uint32_t epoch = conn->rd_epoch;
        PT_TRY(pt_dispatch(conn, p[0], pt_span_of(p + 4, len - 4), p, len));
        PT_TRY(pt_flush_handshake(conn));
        pt_buf_consume(&conn->hsmsg, len);
        if (conn->rd_epoch != epoch && left != 0) {
            return pt_fault(&conn->err, PETREL_ALERT_UNEXPECTED_MESSAGE,
                            "handshake data continues across a key change (RFC 8446 5.1)");
        }
        if (conn->failed) {
            return conn->err.pub.status;
        }
    }
    return PETREL_OK;
}

static petrel_status app_data_allowed(petrel_conn *conn)
{
    if (!conn->handshake_done) {
        return pt_fault(&conn->err, PETREL_ALERT_UNEXPECTED_MESSAGE,
                        "application data before the handshake completed");
    }
    if (conn->hsmsg.len != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_UNEXPECTED_MESSAGE,
                        "application data inside a fragmented handshake message (RFC 8446 5.1)");
    }
    return PETREL_OK;
}

static petrel_status handle_app_data(petrel_conn *conn, const pt_record *rec)
{
    petrel_status st = app_data_allowed(conn);
    if (st != PETREL_OK) {
        /* A refused record leaves nothing in the reader's buffer. */
        if (rec->direct > 0) {
            pt_wipe(conn->deliver_to + conn->delivered, rec->direct);
        }
        return st;
    }
    if (rec->len == 0) {
        if (++conn->empty_records_in_row > PT_MAX_EMPTY_RECORDS) {
            return pt_fault(&conn->err, PETREL_ALERT_UNEXPECTED_MESSAGE,
                            "peer sent more than %d empty records in a row", PT_MAX_EMPTY_RECORDS);
        }
        return PETREL_OK;
    }
    conn->empty_records_in_row = 0;
    conn->key_updates_in_row = 0;
    conn->warning_alerts_in_row = 0;
    /* next_record had the record decrypted into the reader's buffer as far
     * as it had room; the rest waits in the application buffer. */
    size_t direct = rec->direct;
    conn->delivered += direct;
    size_t rest = rec->len - direct;
    bool kept = pt_buf_append(&conn->app, rec->data + direct, rest);
    /* The application buffer wipes what it holds; the copy decrypted in
     * place in the input buffer is wiped here. */
    pt_wipe(rec->data + direct, rest);
    if (!kept) {
        return pt_fail(&conn->err, PETREL_ERR_INTERNAL, PETREL_ALERT_INTERNAL_ERROR,
                       "application data buffer overflow");
    }
    return PETREL_OK;
}

static petrel_status handle_record(petrel_conn *conn, const pt_record *rec)
{
    if (rec->type != PT_CT_ALERT) {
        conn->warning_alerts_in_row = 0;
    }
    switch (rec->type) {
    case PT_CT_CHANGE_CIPHER_SPEC:
        return handle_ccs(conn, rec);
    case PT_CT_ALERT:
        return handle_alert(conn, rec);
    case PT_CT_HANDSHAKE:
        return handle_handshake_bytes(conn, rec);
    case PT_CT_APPLICATION_DATA:
        return handle_app_data(conn, rec);
    default:
        return pt_fault(&conn->err, PETREL_ALERT_UNEXPECTED_MESSAGE,
                        "record of unknown content type %u", rec->type);
    }
}

static petrel_status eof_error(petrel_conn *conn)
{
    const char *when = conn->handshake_done ? "" : " during the handshake";
    if (conn->in.len != 0) {
        pt_fail(&conn->err, PETREL_ERR_EOF, -1,
                "connection closed in the middle of a record%s (%zu bytes left)", when,
                conn->in.len);
    } else {
        pt_fail(&conn->err, PETREL_ERR_EOF, -1,
                "peer closed the connection without sending close_notify%s", when);
    }
    return pt_conn_fatal(conn, PETREL_ERR_EOF);
}

/* Server: whether rec is 0-RTT data the client sent on a ticket, to be
 * skipped (see ch_early_data): a record that failed to open under the
 * handshake key, or application data before the second ClientHello. */
static bool is_early_data(const petrel_conn *conn, petrel_status st, const pt_record *rec)
{
    if (rec->wire_len == 0) {
        return false;
    }
    bool unopened = st == PETREL_ERR_PROTOCOL && conn->rl.rd.on &&
                    conn->err.pub.alert == PETREL_ALERT_BAD_RECORD_MAC;
    bool before_hello = st == PETREL_OK && !conn->rl.rd.on && rec->type == PT_CT_APPLICATION_DATA;
    return unopened || before_hello;
}

/* Skips rec as early data: OK, or the failure once the budget is spent. */
static petrel_status skip_early_data(petrel_conn *conn, const pt_record *rec)
{
    if (conn->early_skip < rec->wire_len) {
        pt_fail(&conn->err, PETREL_ERR_PROTOCOL, PETREL_ALERT_UNEXPECTED_MESSAGE,
                "the client's early data exceeds what this server skips (RFC 8446 4.2.10): "
                "the buffered plaintext limit plus two records; raise max_buffered_plaintext "
                "with petrel_ctx_set_limits to skip more");
        return pt_conn_fatal(conn, PETREL_ERR_PROTOCOL);
    }
    conn->early_skip -= rec->wire_len;
    pt_buf_consume(&conn->in, rec->wire_len);
    pt_trace(conn, "skipped a record of early data (%zu bytes)", rec->wire_len);
    return PETREL_OK;
}

/* Opens and handles the next record. WANT_READ when none is complete. */
static petrel_status next_record(petrel_conn *conn)
{
    pt_record rec = {0};
    uint8_t *dst = NULL;
    size_t dst_cap = 0;
    if (conn->deliver_to != NULL && conn->app.len == 0) {
        /* Application data is decrypted straight into the reader's buffer. */
        dst = conn->deliver_to + conn->delivered;
        dst_cap = conn->deliver_cap - conn->delivered;
    }
    petrel_status st =
        pt_record_open_into(&conn->rl, conn->in.data, conn->in.len, dst, dst_cap, &rec, &conn->err);
    if (st == PETREL_ERR_WANT_READ) {
        if (conn->transport_eof) {
            return eof_error(conn);
        }
        return pt_fail_count(&conn->err, PETREL_ERR_WANT_READ,
                             "waiting for more data from the peer (", conn->in.len,
                             " bytes of a record so far)");
    }
    if (conn->early_skip > 0) {
        if (is_early_data(conn, st, &rec)) {
            return skip_early_data(conn, &rec);
        }
        /* The first record that opens starts the client's second flight. */
        if (st == PETREL_OK && conn->rl.rd.on && rec.type != PT_CT_CHANGE_CIPHER_SPEC) {
            conn->early_skip = 0;
        }
    }
    if (st != PETREL_OK) {
        return pt_conn_fatal(conn, st);
    }
    st = handle_record(conn, &rec);
    pt_buf_consume(&conn->in, rec.wire_len);
    return fatal_unless_want(conn, st);
}

typedef bool (*pt_goal)(const petrel_conn *conn);

/* Handles records until the goal holds, input runs out, the peer closed,
 * or application data fills its buffer. */
static petrel_status pump(petrel_conn *conn, pt_goal goal)
{
    for (;;) {
        if (conn->failed) {
            return conn->err.pub.status;
        }
        if (goal(conn) || conn->close_received) {
            return PETREL_OK;
        }
        if (pt_buf_room(&conn->app) < PT_MAX_PLAINTEXT) {
            return PETREL_OK;
        }
        PT_TRY(next_record(conn));
    }
}

/* --- Entry points ------------------------------------------------------- */

static petrel_status sticky(const petrel_conn *conn)
{
    return conn->failed ? conn->err.pub.status : PETREL_OK;
}

static bool goal_handshake(const petrel_conn *conn)
{
    return conn->handshake_done;
}

static petrel_status check_versions(petrel_conn *conn)
{
    int lo = pt_ctx_min_version(conn->ctx);
    int hi = pt_ctx_max_version(conn->ctx);
    if (lo > hi) {
        pt_fail(&conn->err, PETREL_ERR_PROTOCOL, -1,
                "no protocols available: minimum_version %s is above maximum_version %s",
                pt_version_name(lo), pt_version_name(hi));
        return pt_conn_fatal(conn, PETREL_ERR_PROTOCOL);
    }
    return PETREL_OK;
}

petrel_status pt_engine_handshake(petrel_conn *conn)
{
    PT_TRY(sticky(conn));
    if (conn->handshake_done) {
        return PETREL_OK;
    }
    if (conn->state == PT_ST_START || (conn->role == PETREL_SERVER && conn->in.len == 0 &&
                                       conn->state == PT_ST_S_WAIT_CH && !conn->transport_eof)) {
        PT_TRY(check_versions(conn));
    }
    if (conn->state == PT_ST_START) {
        PT_TRY(fatal_unless_want(conn, pt_client_hello_send(conn)));
        PT_TRY(fatal_unless_want(conn, pt_flush_handshake(conn)));
    }
    PT_TRY(pump(conn, goal_handshake));
    if (conn->close_received && !conn->handshake_done) {
        pt_fail(&conn->err, PETREL_ERR_EOF, -1,
                "peer sent close_notify before the handshake completed");
        return pt_conn_fatal(conn, PETREL_ERR_EOF);
    }
    return conn->handshake_done ? PETREL_OK : PETREL_ERR_WANT_READ;
}

/* An idle connection waiting for its peer keeps no buffer memory; the
 * buffers grow again with the next record. */
static void release_idle_buffers(petrel_conn *conn)
{
    pt_buf *bufs[] = {&conn->in, &conn->out, &conn->app, &conn->hsmsg, &conn->hsout};
    for (size_t i = 0; i < PT_ARRAY_LEN(bufs); i++) {
        if (bufs[i]->len == 0) {
            pt_buf_release(bufs[i]);
        }
    }
}

static bool goal_app_data(const petrel_conn *conn)
{
    return conn->app.len > 0 || conn->delivered > 0;
}

/* Runs records until application data arrives, copying the first of it
 * straight into buf. */
static petrel_status read_records(petrel_conn *conn, uint8_t *buf, size_t cap, size_t *nread)
{
    conn->deliver_to = buf;
    conn->deliver_cap = cap;
    conn->delivered = 0;
    petrel_status st = pump(conn, goal_app_data);
    *nread = conn->delivered;
    conn->deliver_to = NULL;
    conn->delivered = 0;
    return st;
}

petrel_status pt_engine_read(petrel_conn *conn, uint8_t *buf, size_t cap, size_t *nread)
{
    *nread = 0;
    /* After a fatal error nothing more is delivered, not even data that
     * arrived before it (it may come from a peer that then failed to
     * authenticate); a transport EOF is not the peer's fault, so data
     * received before it is still read first. */
    if (conn->failed && conn->err.pub.status != PETREL_ERR_EOF) {
        return conn->err.pub.status;
    }
    if (conn->app.len == 0) {
        PT_TRY(pt_engine_handshake(conn));
        petrel_status st = read_records(conn, buf, cap, nread);
        if (*nread > 0) {
            return PETREL_OK;
        }
        PT_TRY(st);
    }
    if (conn->app.len > 0) {
        size_t n = cap < conn->app.len ? cap : conn->app.len;
        memcpy(buf, conn->app.data, n);
        pt_buf_consume(&conn->app, n);
        *nread = n;
        return PETREL_OK;
    }
    if (conn->close_received) {
        return pt_fail(&conn->err, PETREL_ERR_ZERO_RETURN, PETREL_ALERT_CLOSE_NOTIFY,
                       "peer closed the connection (close_notify)");
    }
    release_idle_buffers(conn);
    return PETREL_ERR_WANT_READ;
}

/* RFC 8446 5.5: change keys before the AEAD's usage limit. */
static petrel_status maybe_auto_key_update(petrel_conn *conn)
{
    if (pt_record_dir_exhausted(&conn->rl.wr)) {
        return pt_key_update_send(conn, pt_record_dir_exhausted(&conn->rl.rd));
    }
    return PETREL_OK;
}

petrel_status pt_engine_write(petrel_conn *conn, const uint8_t *buf, size_t len, size_t *nwritten)
{
    *nwritten = 0;
    PT_TRY(pt_engine_handshake(conn));
    if (conn->close_sent) {
        return pt_fail(&conn->err, PETREL_ERR_MISUSE, -1,
                       "cannot write after close_notify was sent");
    }
    while (*nwritten < len) {
        size_t chunk = len - *nwritten;
        if (chunk > conn->rl.max_fragment) {
            chunk = conn->rl.max_fragment;
        }
        if (pt_buf_room(&conn->out) < pt_record_overhead(&conn->rl, chunk) + 64) {
            return PETREL_ERR_WANT_WRITE;
        }
        PT_TRY(fatal_unless_want(conn, maybe_auto_key_update(conn)));
        PT_TRY(fatal_unless_want(
            conn, send_record(conn, PT_CT_APPLICATION_DATA, buf + *nwritten, chunk)));
        *nwritten += chunk;
    }
    return PETREL_OK;
}

static bool goal_never(const petrel_conn *conn)
{
    return false;
}

petrel_status pt_engine_shutdown(petrel_conn *conn)
{
    if (conn->failed && conn->err.pub.status != PETREL_ERR_ZERO_RETURN) {
        return conn->err.pub.status;
    }
    if (!conn->handshake_done) {
        /* As OpenSSL's and Python's: no close in the middle of a handshake,
         * whose next flight would follow the close_notify. */
        return pt_fail(&conn->err, PETREL_ERR_MISUSE, -1,
                       "shutdown before the handshake completed: finish the handshake, or "
                       "free the connection to abandon it");
    }
    if (!conn->close_sent) {
        send_alert(conn, 1, PETREL_ALERT_CLOSE_NOTIFY);
        conn->close_sent = true;
        pt_trace(conn, "sent close_notify");
    }
    if (conn->close_received) {
        return PETREL_OK;
    }
    /* The peer may go on sending until it closes too (RFC 8446 6.1): what
     * it sends stays readable, in order, with petrel_conn_read, which
     * returns ZERO_RETURN at its close_notify. Processing stops at the first
     * application data, so none is lost or skipped. */
    petrel_status st = pump(conn, goal_app_data);
    if (conn->close_received || conn->app.len > 0) {
        return PETREL_OK;
    }
    return st;
}

petrel_status pt_engine_process(petrel_conn *conn)
{
    PT_TRY(pt_engine_handshake(conn));
    petrel_status st = pump(conn, goal_never);
    bool pending = pt_engine_peer_cert_pending(conn);
    if (st == PETREL_ERR_WANT_READ) {
        release_idle_buffers(conn);
        return pending ? st : PETREL_OK;
    }
    if (st == PETREL_OK && pending && conn->close_received) {
        return pt_fail(&conn->err, PETREL_ERR_ZERO_RETURN, PETREL_ALERT_CLOSE_NOTIFY,
                       "peer closed the connection (close_notify) without answering the "
                       "certificate request");
    }
    /* OK with an answer still pending: application data that arrived first
     * fills its buffer and must be read before more input is processed. */
    return st;
}

bool pt_engine_peer_cert_pending(const petrel_conn *conn)
{
    return conn->pha != NULL;
}

petrel_status pt_engine_key_update(petrel_conn *conn, bool request_peer)
{
    PT_TRY(sticky(conn));
    if (!conn->handshake_done || conn->version != PETREL_TLS1_3) {
        return pt_fail(&conn->err, PETREL_ERR_MISUSE, -1,
                       "KeyUpdate needs an established TLS 1.3 connection");
    }
    if (conn->close_sent) {
        return pt_fail(&conn->err, PETREL_ERR_MISUSE, -1,
                       "cannot update keys after close_notify was sent");
    }
    return fatal_unless_want(conn, pt_key_update_send(conn, request_peer));
}
