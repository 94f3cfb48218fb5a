/*
 * session.h - TLS 1.3 resumption (RFC 8446 2.2, 4.2.11, 4.6.1).
 *
 * A client keeps each NewSessionTicket with the PSK it names; a session is
 * one such ticket plus what the client learnt in the handshake that gave
 * it (the server's chain and its verification), immutable and reference
 * counted so that threads may share it. A server seals everything it needs
 * to resume into the ticket itself (ticket.c) and keeps nothing.
 */
#ifndef PT_ENGINE_SESSION_H
#define PT_ENGINE_SESSION_H

#include <stdatomic.h>

#include "engine/conn.h"

struct petrel_session {
    atomic_int refs;
    petrel_ctx *ctx; /* the context it belongs to (a reference) */
    uint16_t suite;
    uint8_t psk[PT_MAX_HASH];
    uint8_t *ticket;
    size_t ticket_len;
    uint32_t lifetime;
    uint32_t age_add;
    uint64_t received_ms;
    char *hostname; /* the server_hostname of the connection; may be NULL */
    pt_peer_chain *chain;
    long verify_result;
};

/* The session clock: milliseconds since the epoch, frozen while the
 * deterministic random stream is on. */
uint64_t pt_now_ms(void);
/* Tests only: moves the session clock by ms (not thread-safe). */
void pt_clock_skew(int64_t ms);

/* Client: a session from the newest kept ticket (a new reference). */
petrel_status pt_session_from_conn(petrel_conn *conn, petrel_session **out) PT_MUST_USE;
/* Whether a session may be offered on conn now: same server name, lifetime
 * not passed, and a TLS 1.3 suite of its hash on offer. */
bool pt_session_offerable(const petrel_conn *conn, const petrel_session *s);

#endif
