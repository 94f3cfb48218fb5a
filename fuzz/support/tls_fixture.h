/*
 * tls_fixture.h - what the TLS harnesses (fuzz_server, fuzz_client,
 * fuzz_messages) share: contexts with an in-memory credential, and one
 * recorded session that gives their seeds and their replayable prefixes.
 *
 * Everything is deterministic: the credential is Ed25519 (whose signatures
 * need no randomness) from a fixed key, and the library's random stream is
 * reset before each side starts: seed TF_CLIENT_SEED before the client's
 * first step, TF_SERVER_SEED before the server sees its first byte. The
 * client draws nothing after its ClientHello, so a harness that plays one
 * side alone sees the same random values as the recorded session, and the
 * recorded bytes of the other side stay valid input for it (the Finished
 * messages verify, the encrypted records open).
 */
#ifndef PT_FUZZ_TLS_FIXTURE_H
#define PT_FUZZ_TLS_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "engine/internal.h"

#define TF_CLIENT_SEED 0
#define TF_SERVER_SEED 1
#define TF_MAX_MSGS 32

/* A handshake message as the engine dispatched it: the receiving role, its
 * state before, and the whole message (type, length, body). */
typedef struct tf_msg {
    petrel_role role;
    int state;
    uint8_t *data;
    size_t len;
} tf_msg;

typedef struct tf_session {
    pt_buf to_server;           /* every byte the client sent, in order */
    pt_buf to_client;           /* every byte the server sent */
    size_t to_server_handshake; /* how much of each was the handshake */
    size_t to_client_handshake;
    tf_msg msgs[TF_MAX_MSGS];
    size_t nmsgs;
} tf_session;

/* Aborts with a message on stderr when cond is false. */
#define TF_CHECK(cond) tf_check((cond), #cond, __FILE__, __LINE__)
void tf_check(int ok, const char *what, const char *file, int line);

/* The server: Ed25519 credential, post-handshake authentication asked for
 * with CERT_REQUIRED (the client's certificate is its own trust anchor). */
petrel_ctx *tf_server_ctx(void);
/* The client: CERT_NONE, no hostname check, post_handshake_auth on, the
 * same credential for answering requests. */
petrel_ctx *tf_client_ctx(void);

/* Runs the scripted session (handshake, data both ways, a KeyUpdate with
 * request, post-handshake authentication, close_notify both ways; in TLS
 * 1.2 only the data and the close) and records it. Aborts if any step
 * fails. */
void tf_record_session(petrel_ctx *cctx, petrel_ctx *sctx, tf_session *out);
void tf_session_free(tf_session *s);

/* A new client that has sent its ClientHello (output discarded). */
petrel_conn *tf_client_after_hello(petrel_ctx *cctx);
/* A new server, its random stream reset. */
petrel_conn *tf_new_server(petrel_ctx *sctx);
/* Throws away a connection's pending output. */
void tf_drain(petrel_conn *conn);
/* Feeds as much of data as the connection takes; returns the count. */
size_t tf_feed(petrel_conn *conn, const uint8_t *data, size_t size);

/* Checks what every entry point promises after any input: buffers within
 * their maxima, and a failure that names itself (and its alert when we
 * detected it). */
void tf_check_conn(const petrel_conn *conn, petrel_status st);

/* With PETREL_FUZZ_WRITE_SEEDS=dir set, writes dir/name. */
void tf_write_seed(const char *name, const uint8_t *p, size_t n);

#endif
