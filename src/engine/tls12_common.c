/*
 * tls12_common.c - what both roles of TLS 1.2 share: Certificate and
 * CertificateVerify in their TLS 1.2 form (RFC 5246 7.4.2, 7.4.8),
 * ChangeCipherSpec (7.1), the end of the handshake, and declining
 * renegotiation (RFC 5746, RFC 5246 7.2.2).
 *
 *   opaque ASN.1Cert<1..2^24-1>;
 *   struct { ASN.1Cert certificate_list<0..2^24-1>; } Certificate;
 *   struct { digitally-signed struct { opaque handshake_messages[...]; } }
 *   CertificateVerify;   digitally-signed = SignatureAndHashAlgorithm
 *   algorithm + opaque signature<0..2^16-1>
 */
#include <string.h>

#include "engine/internal.h"

#define PT_TLS12_CHAIN_ENTRIES 64

petrel_status pt_tls12_certificate_send(petrel_conn *conn, bool with_chain)
{
    const pt_credential *cred = conn->ctx->cred;
    size_t count = with_chain && cred != NULL ? pt_credential_count(cred) : 0;
    pt_buf msg;
    pt_buf_init(&msg, 1u << 24, false);
    pt_builder b;
    pt_msg_begin(&b, &msg, PT_HS_CERTIFICATE);
    pt_open(&b, 3);
    for (size_t i = 0; i < count; i++) {
        size_t len;
        const uint8_t *der = pt_credential_der(cred, i, &len);
        pt_open(&b, 3);
        pt_put_bytes(&b, der, len);
        pt_close(&b);
    }
    pt_close(&b);
    petrel_status st = pt_msg_end(conn, &b);
    if (st == PETREL_OK) {
        st = pt_send_handshake(conn, msg.data, msg.len, NULL);
    }
    pt_buf_release(&msg);
    return st;
}

petrel_status pt_tls12_certificate_parse(petrel_conn *conn, pt_span body, pt_peer_chain **out)
{
    const petrel_limits *lim = &conn->ctx->limits;
    const uint8_t *ders[PT_TLS12_CHAIN_ENTRIES];
    size_t lens[PT_TLS12_CHAIN_ENTRIES];
    size_t count = 0;
    pt_span list;
    *out = NULL;
    if (!pt_get_vec24(&body, &list) || !pt_span_empty(&body)) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed Certificate message");
    }
    if (list.len > lim->max_cert_chain_bytes) {
        return pt_fault(&conn->err, PETREL_ALERT_BAD_CERTIFICATE,
                        "peer certificate chain of %zu bytes exceeds the %zu-byte limit", list.len,
                        lim->max_cert_chain_bytes);
    }
    while (!pt_span_empty(&list)) {
        pt_span der;
        if (!pt_get_vec24(&list, &der) || der.len == 0) {
            return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed certificate entry");
        }
        if (count >= lim->max_cert_chain_len || count >= PT_TLS12_CHAIN_ENTRIES) {
            return pt_fault(&conn->err, PETREL_ALERT_BAD_CERTIFICATE,
                            "peer sent more than %zu certificates", lim->max_cert_chain_len);
        }
        ders[count] = der.p;
        lens[count] = der.len;
        count++;
    }
    if (count == 0) {
        return PETREL_OK;
    }
    return pt_peer_chain_parse(ders, lens, count, out, &conn->err);
}

/* RFC 5246 7.4.8: the signature covers the handshake messages so far. */
petrel_status pt_tls12_cert_verify_send(petrel_conn *conn, uint16_t sigalg)
{
    const pt_buf *raw = &conn->hs->tr.raw;
    uint8_t sig[PT_MAX_SIGNATURE];
    size_t sig_len;
    PT_TRY(pt_sign(conn->ctx->cred, conn->ctx->algs, sigalg, raw->data, raw->len, sig, sizeof(sig),
                   &sig_len, &conn->err));
    return pt_cert_verify_msg_send(conn, sigalg, sig, sig_len, NULL);
}

petrel_status pt_tls12_ccs_recv(petrel_conn *conn, const pt_record *rec)
{
    bool client = conn->role == PETREL_CLIENT;
    pt_state waiting = client ? PT_ST_C12_WAIT_CCS : PT_ST_S12_WAIT_CCS;
    if (conn->state != (int)waiting) {
        return pt_fault(&conn->err, PETREL_ALERT_UNEXPECTED_MESSAGE,
                        "unexpected change_cipher_spec (state %s)", pt_state_name(conn->state));
    }
    if (rec->len != 1 || rec->data[0] != 1) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                        "change_cipher_spec is not the single byte 1 (RFC 5246 7.1)");
    }
    /* Every CertificateVerify of the handshake is behind us. */
    pt_tr_drop_raw(&conn->hs->tr);
    /* The Finished that follows must start a fresh handshake record. */
    if (conn->hsmsg.len != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_UNEXPECTED_MESSAGE,
                        "change_cipher_spec inside a fragmented handshake message");
    }
    PT_TRY(pt_tls12_install_keys(conn, false));
    pt_set_state(conn, client ? PT_ST_C12_WAIT_FINISHED : PT_ST_S12_WAIT_FINISHED);
    return PETREL_OK;
}

petrel_status pt_tls12_finish(petrel_conn *conn)
{
    struct pt_hs *hs = conn->hs;
    conn->peer = hs->chain;
    hs->chain = NULL;
    conn->handshake_done = true;
    pt_set_state(conn, PT_ST_CONNECTED12);
    pt_trace(conn, "handshake complete (TLSv1.2, %s master secret)",
             hs->t12.ems ? "extended" : "legacy");
    conn->hs = NULL;
    pt_tr_free(&hs->tr);
    pt_kex_free(hs->kex);
    pt_wipe(hs, sizeof(*hs));
    pt_free(hs);
    return PETREL_OK;
}

petrel_status pt_tls12_refuse_renegotiation(petrel_conn *conn, const char *what)
{
    static const uint8_t alert[2] = {1, PETREL_ALERT_NO_RENEGOTIATION};
    if (conn->close_sent) {
        return PETREL_OK;
    }
    PT_TRY(pt_flush_handshake(conn));
    PT_TRY(pt_record_seal(&conn->rl, PT_CT_ALERT, alert, sizeof(alert), &conn->out, &conn->err));
    pt_trace(conn, "declined renegotiation (%s) with a no_renegotiation warning", what);
    return PETREL_OK;
}

bool pt_tls12_sigalg_is_ec(uint16_t sigalg)
{
    return (sigalg & 0xff) == 0x03 || sigalg == PT_SIG_ED25519;
}

bool pt_tls12_suite_is_ecdsa(uint16_t suite)
{
    return suite == PT_ECDHE_ECDSA_AES128_GCM_SHA256 || suite == PT_ECDHE_ECDSA_AES256_GCM_SHA384 ||
           suite == PT_ECDHE_ECDSA_CHACHA20_POLY1305;
}

/* RFC 8449 4: in TLS 1.2 the limit counts plaintext only, and no record is
 * larger than 2^14 bytes whatever the peer allows. */
petrel_status pt_tls12_record_size_limit(petrel_conn *conn, const pt_exts *x)
{
    if (!pt_has_ext(x, PT_X_RECORD_SIZE_LIMIT)) {
        return PETREL_OK;
    }
    pt_span body = x->body[PT_X_RECORD_SIZE_LIMIT];
    uint16_t limit;
    if (!pt_get_u16(&body, &limit) || !pt_span_empty(&body)) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed record_size_limit");
    }
    if (limit < 64) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "record_size_limit of %u is below the minimum of 64 (RFC 8449 4)", limit);
    }
    conn->rl.max_fragment = limit < PT_MAX_PLAINTEXT ? limit : PT_MAX_PLAINTEXT;
    conn->record_size_limit_seen = true;
    return PETREL_OK;
}

/* RFC 7627: the peer's extended_master_secret (empty), required when the
 * context says so. */
petrel_status pt_tls12_ems_recv(petrel_conn *conn, const pt_exts *x)
{
    if (!pt_has_ext(x, PT_X_EXTENDED_MASTER_SECRET)) {
        if (conn->ctx->require_ems) {
            bool client = conn->role == PETREL_CLIENT;
            return pt_fault(&conn->err, PETREL_ALERT_HANDSHAKE_FAILURE,
                            "%s does not support the extended master secret (RFC 7627), "
                            "which this %s requires",
                            client ? "server" : "client", client ? "client" : "server");
        }
        return PETREL_OK;
    }
    if (x->body[PT_X_EXTENDED_MASTER_SECRET].len != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                        "extended_master_secret extension is not empty (RFC 7627 5.1)");
    }
    conn->hs->t12.ems = true;
    return PETREL_OK;
}

/* RFC 8422 5.1.2: if sent, the list must include uncompressed. */
petrel_status pt_tls12_point_formats_recv(petrel_conn *conn, const pt_exts *x)
{
    if (!pt_has_ext(x, PT_X_EC_POINT_FORMATS)) {
        return PETREL_OK;
    }
    pt_span body = x->body[PT_X_EC_POINT_FORMATS];
    pt_span list;
    if (!pt_get_vec8(&body, &list) || !pt_span_empty(&body) || list.len == 0) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed ec_point_formats");
    }
    if (memchr(list.p, 0, list.len) == NULL) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "ec_point_formats does not include uncompressed (RFC 8422 5.1.2)");
    }
    conn->hs->t12.point_formats = true;
    return PETREL_OK;
}
