/*
 * engine.h - the protocol engine's entry points (sans-I/O).
 *
 * Input is whatever has been appended to conn->in; output is appended to
 * conn->out. WANT_READ means more input is needed. The engine never calls
 * read, write or poll; src/io drives it over a socket.
 */
#ifndef PT_ENGINE_H
#define PT_ENGINE_H

#include "engine/conn.h"

petrel_status pt_engine_init(petrel_conn *conn) PT_MUST_USE;
void pt_engine_free(petrel_conn *conn);

petrel_status pt_engine_handshake(petrel_conn *conn) PT_MUST_USE;
petrel_status pt_engine_read(petrel_conn *conn, uint8_t *buf, size_t cap,
                             size_t *nread) PT_MUST_USE;
/* Seals up to len bytes; stops early (WANT_WRITE) when conn->out is full. */
petrel_status pt_engine_write(petrel_conn *conn, const uint8_t *buf, size_t len,
                              size_t *nwritten) PT_MUST_USE;
petrel_status pt_engine_shutdown(petrel_conn *conn) PT_MUST_USE;
/* Processes buffered input without delivering application data (which is
 * kept in conn->app). OK when nothing is outstanding. */
petrel_status pt_engine_process(petrel_conn *conn) PT_MUST_USE;
petrel_status pt_engine_request_client_cert(petrel_conn *conn) PT_MUST_USE;
petrel_status pt_engine_key_update(petrel_conn *conn, bool request_peer) PT_MUST_USE;
bool pt_engine_peer_cert_pending(const petrel_conn *conn);

/* Records a fatal fault, queues its alert (when one applies and we can
 * still send) and freezes the connection. Returns the status. */
petrel_status pt_conn_fatal(petrel_conn *conn, petrel_status status);

#endif
