/*
 * dispatch.c - the state table: which message each state accepts, and who
 * handles it (RFC 8446 Appendix A). A message with no row is an
 * unexpected_message. Post-handshake messages are rows of the connected
 * states like any other.
 */
#include "engine/internal.h"

typedef petrel_status (*pt_recv_fn)(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                    size_t raw_len);

typedef struct pt_row {
    petrel_role role;
    pt_state state;
    uint8_t type;
    pt_recv_fn recv;
} pt_row;

static const pt_row rows[] = {
    /* client handshake */
    {PETREL_CLIENT, PT_ST_C_WAIT_SH, PT_HS_SERVER_HELLO, pt_server_hello_recv},
    {PETREL_CLIENT, PT_ST_C_WAIT_SH_AFTER_HRR, PT_HS_SERVER_HELLO, pt_server_hello_recv},
    {PETREL_CLIENT, PT_ST_C_WAIT_EE, PT_HS_ENCRYPTED_EXTENSIONS, pt_ee_recv},
    {PETREL_CLIENT, PT_ST_C_WAIT_CERT_CR, PT_HS_CERTIFICATE_REQUEST, pt_cert_request_recv},
    {PETREL_CLIENT, PT_ST_C_WAIT_CERT_CR, PT_HS_CERTIFICATE, pt_certificate_recv},
    {PETREL_CLIENT, PT_ST_C_WAIT_CERT, PT_HS_CERTIFICATE, pt_certificate_recv},
    {PETREL_CLIENT, PT_ST_C_WAIT_CV, PT_HS_CERTIFICATE_VERIFY, pt_cert_verify_recv},
    {PETREL_CLIENT, PT_ST_C_WAIT_FINISHED, PT_HS_FINISHED, pt_finished_recv},
    /* client after the handshake */
    {PETREL_CLIENT, PT_ST_CONNECTED, PT_HS_NEW_SESSION_TICKET, pt_ticket_recv},
    {PETREL_CLIENT, PT_ST_CONNECTED, PT_HS_KEY_UPDATE, pt_key_update_recv},
    {PETREL_CLIENT, PT_ST_CONNECTED, PT_HS_CERTIFICATE_REQUEST, pt_pha_request_recv},
    /* server handshake */
    {PETREL_SERVER, PT_ST_S_WAIT_CH, PT_HS_CLIENT_HELLO, pt_client_hello_recv},
    {PETREL_SERVER, PT_ST_S_WAIT_CH_AFTER_HRR, PT_HS_CLIENT_HELLO, pt_client_hello_recv},
    {PETREL_SERVER, PT_ST_S_WAIT_CERT, PT_HS_CERTIFICATE, pt_certificate_recv},
    {PETREL_SERVER, PT_ST_S_WAIT_CV, PT_HS_CERTIFICATE_VERIFY, pt_cert_verify_recv},
    {PETREL_SERVER, PT_ST_S_WAIT_FINISHED, PT_HS_FINISHED, pt_finished_recv},
    /* server after the handshake, and its certificate request rounds */
    {PETREL_SERVER, PT_ST_CONNECTED, PT_HS_KEY_UPDATE, pt_key_update_recv},
    {PETREL_SERVER, PT_ST_PHA_WAIT_CERT, PT_HS_CERTIFICATE, pt_pha_certificate_recv},
    {PETREL_SERVER, PT_ST_PHA_WAIT_CERT, PT_HS_KEY_UPDATE, pt_key_update_recv},
    {PETREL_SERVER, PT_ST_PHA_WAIT_CV, PT_HS_CERTIFICATE_VERIFY, pt_pha_cert_verify_recv},
    {PETREL_SERVER, PT_ST_PHA_WAIT_CV, PT_HS_KEY_UPDATE, pt_key_update_recv},
    {PETREL_SERVER, PT_ST_PHA_WAIT_FINISHED, PT_HS_FINISHED, pt_pha_finished_recv},
    {PETREL_SERVER, PT_ST_PHA_WAIT_FINISHED, PT_HS_KEY_UPDATE, pt_key_update_recv},
    /* TLS 1.2 client (RFC 5246 7.3); ChangeCipherSpec is a record, see
     * pt_tls12_ccs_recv */
    {PETREL_CLIENT, PT_ST_C12_WAIT_CERT, PT_HS_CERTIFICATE, pt_tls12_server_cert_recv},
    {PETREL_CLIENT, PT_ST_C12_WAIT_SKE, PT_HS_SERVER_KEY_EXCHANGE,
     pt_tls12_server_key_exchange_recv},
    {PETREL_CLIENT, PT_ST_C12_WAIT_CR_DONE, PT_HS_CERTIFICATE_REQUEST, pt_tls12_cert_request_recv},
    {PETREL_CLIENT, PT_ST_C12_WAIT_CR_DONE, PT_HS_SERVER_HELLO_DONE,
     pt_tls12_server_hello_done_recv},
    {PETREL_CLIENT, PT_ST_C12_WAIT_DONE, PT_HS_SERVER_HELLO_DONE, pt_tls12_server_hello_done_recv},
    {PETREL_CLIENT, PT_ST_C12_WAIT_FINISHED, PT_HS_FINISHED, pt_tls12_server_finished_recv},
    {PETREL_CLIENT, PT_ST_CONNECTED12, PT_HS_HELLO_REQUEST, pt_tls12_hello_request_recv},
    /* TLS 1.2 server */
    {PETREL_SERVER, PT_ST_S12_WAIT_CERT, PT_HS_CERTIFICATE, pt_tls12_client_cert_recv},
    {PETREL_SERVER, PT_ST_S12_WAIT_CKE, PT_HS_CLIENT_KEY_EXCHANGE,
     pt_tls12_client_key_exchange_recv},
    {PETREL_SERVER, PT_ST_S12_WAIT_CV, PT_HS_CERTIFICATE_VERIFY, pt_tls12_cert_verify_recv},
    {PETREL_SERVER, PT_ST_S12_WAIT_FINISHED, PT_HS_FINISHED, pt_tls12_client_finished_recv},
    {PETREL_SERVER, PT_ST_CONNECTED12, PT_HS_CLIENT_HELLO, pt_tls12_renegotiation_recv},
};

static const pt_row *find_row(petrel_role role, int state, uint8_t type)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(rows); i++) {
        if (rows[i].role == role && (int)rows[i].state == state && rows[i].type == type) {
            return &rows[i];
        }
    }
    return NULL;
}

bool pt_dispatch_accepts(petrel_role role, int state, uint8_t type)
{
    return find_row(role, state, type) != NULL;
}

petrel_status pt_dispatch(petrel_conn *conn, uint8_t type, pt_span body, const uint8_t *raw,
                          size_t raw_len)
{
    const pt_row *row = find_row(conn->role, conn->state, type);
    if (row == NULL) {
        return pt_fault(&conn->err, PETREL_ALERT_UNEXPECTED_MESSAGE,
                        "unexpected %s message (state %s)", pt_hs_type_name(type),
                        pt_state_name(conn->state));
    }
    pt_trace(conn, "received %s", pt_hs_type_name(type));
    return row->recv(conn, body, raw, raw_len);
}

const char *pt_state_name(int state)
{
    static const char *const names[PT_ST_COUNT] = {
        [PT_ST_START] = "start",
        [PT_ST_C_WAIT_SH] = "waiting for ServerHello",
        [PT_ST_C_WAIT_SH_AFTER_HRR] = "waiting for ServerHello after HelloRetryRequest",
        [PT_ST_C_WAIT_EE] = "waiting for EncryptedExtensions",
        [PT_ST_C_WAIT_CERT_CR] = "waiting for Certificate or CertificateRequest",
        [PT_ST_C_WAIT_CERT] = "waiting for Certificate",
        [PT_ST_C_WAIT_CV] = "waiting for CertificateVerify",
        [PT_ST_C_WAIT_FINISHED] = "waiting for Finished",
        [PT_ST_S_WAIT_CH] = "waiting for ClientHello",
        [PT_ST_S_WAIT_CH_AFTER_HRR] = "waiting for ClientHello after HelloRetryRequest",
        [PT_ST_S_WAIT_CERT] = "waiting for client Certificate",
        [PT_ST_S_WAIT_CV] = "waiting for client CertificateVerify",
        [PT_ST_S_WAIT_FINISHED] = "waiting for client Finished",
        [PT_ST_CONNECTED] = "connected",
        [PT_ST_PHA_WAIT_CERT] = "connected, waiting for post-handshake Certificate",
        [PT_ST_PHA_WAIT_CV] = "connected, waiting for post-handshake CertificateVerify",
        [PT_ST_PHA_WAIT_FINISHED] = "connected, waiting for post-handshake Finished",
        [PT_ST_C12_WAIT_CERT] = "TLS 1.2, waiting for server Certificate",
        [PT_ST_C12_WAIT_SKE] = "TLS 1.2, waiting for ServerKeyExchange",
        [PT_ST_C12_WAIT_CR_DONE] = "TLS 1.2, waiting for CertificateRequest or ServerHelloDone",
        [PT_ST_C12_WAIT_DONE] = "TLS 1.2, waiting for ServerHelloDone",
        [PT_ST_C12_WAIT_CCS] = "TLS 1.2, waiting for server ChangeCipherSpec",
        [PT_ST_C12_WAIT_FINISHED] = "TLS 1.2, waiting for server Finished",
        [PT_ST_S12_WAIT_CERT] = "TLS 1.2, waiting for client Certificate",
        [PT_ST_S12_WAIT_CKE] = "TLS 1.2, waiting for ClientKeyExchange",
        [PT_ST_S12_WAIT_CV] = "TLS 1.2, waiting for client CertificateVerify",
        [PT_ST_S12_WAIT_CCS] = "TLS 1.2, waiting for client ChangeCipherSpec",
        [PT_ST_S12_WAIT_FINISHED] = "TLS 1.2, waiting for client Finished",
        [PT_ST_CONNECTED12] = "connected (TLS 1.2)",
    };
    if (state < 0 || state >= PT_ST_COUNT) {
        return "invalid";
    }
    return names[state];
}

const char *pt_hs_type_name(uint8_t type)
{
    switch (type) {
    case PT_HS_CLIENT_HELLO:
        return "ClientHello";
    case PT_HS_SERVER_HELLO:
        return "ServerHello";
    case PT_HS_NEW_SESSION_TICKET:
        return "NewSessionTicket";
    case PT_HS_END_OF_EARLY_DATA:
        return "EndOfEarlyData";
    case PT_HS_ENCRYPTED_EXTENSIONS:
        return "EncryptedExtensions";
    case PT_HS_CERTIFICATE:
        return "Certificate";
    case PT_HS_CERTIFICATE_REQUEST:
        return "CertificateRequest";
    case PT_HS_CERTIFICATE_VERIFY:
        return "CertificateVerify";
    case PT_HS_FINISHED:
        return "Finished";
    case PT_HS_KEY_UPDATE:
        return "KeyUpdate";
    case PT_HS_HELLO_REQUEST:
        return "HelloRequest";
    case PT_HS_SERVER_KEY_EXCHANGE:
        return "ServerKeyExchange";
    case PT_HS_SERVER_HELLO_DONE:
        return "ServerHelloDone";
    case PT_HS_CLIENT_KEY_EXCHANGE:
        return "ClientKeyExchange";
    default:
        return "unknown handshake";
    }
}
