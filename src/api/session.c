/*
 * session.c - the public session API (Python's SSLSocket.session,
 * session_reused and SSLSession). Sessions are immutable once made and
 * reference counted, so threads may share them.
 */
#include <string.h>

#include "engine/internal.h"

static petrel_status misuse(petrel_conn *conn, const char *sentence)
{
    return pt_fail(&conn->err, PETREL_ERR_MISUSE, -1, "%s", sentence);
}

petrel_session *petrel_conn_get_session(petrel_conn *conn)
{
    if (conn == NULL || conn->role != PETREL_CLIENT || conn->tickets == 0) {
        return NULL;
    }
    if (conn->latest == NULL || conn->latest_tickets != conn->tickets) {
        petrel_session *s;
        if (pt_session_from_conn(conn, &s) != PETREL_OK) {
            return NULL;
        }
        petrel_session_free(conn->latest);
        conn->latest = s;
        conn->latest_tickets = conn->tickets;
    }
    petrel_session_up_ref(conn->latest);
    return conn->latest;
}

petrel_status petrel_conn_set_session(petrel_conn *conn, petrel_session *session)
{
    if (conn == NULL) {
        return PETREL_ERR_MISUSE;
    }
    if (conn->role != PETREL_CLIENT) {
        return misuse(conn, "a session can only be set on a client connection");
    }
    if (conn->state != PT_ST_START || conn->handshake_done) {
        return misuse(conn, "a session must be set before the handshake starts");
    }
    if (session != NULL && session->ctx != conn->ctx) {
        return misuse(conn, "the session belongs to a different context");
    }
    petrel_session_up_ref(session);
    petrel_session_free(conn->session);
    conn->session = session;
    return PETREL_OK;
}

bool petrel_conn_session_reused(const petrel_conn *conn)
{
    return conn != NULL && conn->resumed;
}

void petrel_session_up_ref(petrel_session *session)
{
    if (session != NULL) {
        atomic_fetch_add(&session->refs, 1);
    }
}

void petrel_session_free(petrel_session *session)
{
    if (session == NULL || atomic_fetch_sub(&session->refs, 1) != 1) {
        return;
    }
    petrel_ctx *ctx = session->ctx;
    pt_free_secret(session->ticket, session->ticket_len);
    pt_free(session->hostname);
    pt_peer_chain_free(session->chain);
    pt_free_secret(session, sizeof(*session));
    petrel_ctx_free(ctx);
}

int64_t petrel_session_time(const petrel_session *session)
{
    return session != NULL ? (int64_t)(session->received_ms / 1000u) : 0;
}

uint32_t petrel_session_lifetime(const petrel_session *session)
{
    return session != NULL ? session->lifetime : 0;
}
