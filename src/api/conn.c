/*
 * conn.c - creating and freeing connections, and the getters that report
 * what a handshake negotiated. The protocol itself is the engine's; the
 * byte-moving entry points are in src/io.
 */
#include <string.h>

#include "engine/engine.h"

/* Output waiting for the socket or the application: a write is sealed in
 * chunks and flushed between them, so a few records' worth is normal and
 * 4 MiB is a generous ceiling for an application that stops draining. */
#define PT_OUT_MAX ((size_t)4 * 1024 * 1024)

/* Received bytes not yet opened: two full records so that one can be
 * completing while another is parsed, plus as much as the application may
 * leave unread, so that a peer can send ahead up to that limit. */
static size_t in_max(const petrel_limits *limits)
{
    return 2 * (size_t)PT_MAX_RECORD + limits->max_buffered_plaintext;
}

static petrel_status check_hostname_arg(petrel_ctx *ctx, const char *hostname)
{
    if (hostname == NULL) {
        if (ctx->role == PETREL_CLIENT && ctx->check_hostname) {
            return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1,
                           "check_hostname requires server_hostname");
        }
        return PETREL_OK;
    }
    if (ctx->role != PETREL_CLIENT) {
        return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1,
                       "server_hostname can only be given to a client connection");
    }
    size_t len = strlen(hostname);
    if (len == 0 || hostname[0] == '.') {
        return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1,
                       "server_hostname cannot be empty or start with a dot");
    }
    /* RFC 1035 2.3.4: a name is at most 255 octets. */
    if (len > 255) {
        return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1,
                       "server_hostname is longer than 255 bytes");
    }
    return PETREL_OK;
}

/* Records and handshake messages hold no key material, so their buffers
 * are not wiped byte by byte as they are consumed; decrypted application
 * data is (conn->app). Keys live in the key schedule and libcrypto. */
static void init_buffers(petrel_conn *conn, const petrel_limits *limits)
{
    pt_buf_init(&conn->in, in_max(limits), false);
    pt_buf_init(&conn->out, PT_OUT_MAX, false);
    pt_buf_init(&conn->app, limits->max_buffered_plaintext + PT_MAX_PLAINTEXT, true);
    /* 4 bytes of message header precede the body (RFC 8446 4). */
    /* A NewSessionTicket may be larger than the limit (see hs_missing). */
    size_t hs_max = limits->max_handshake_message > PT_MAX_NEW_SESSION_TICKET
                        ? limits->max_handshake_message
                        : PT_MAX_NEW_SESSION_TICKET;
    pt_buf_init(&conn->hsmsg, hs_max + 4, false);
}

static void release_buffers(petrel_conn *conn)
{
    pt_buf_release(&conn->in);
    pt_buf_release(&conn->out);
    pt_buf_release(&conn->app);
    pt_buf_release(&conn->hsmsg);
}

petrel_conn *petrel_conn_new(petrel_ctx *ctx, const char *server_hostname)
{
    if (ctx == NULL || check_hostname_arg(ctx, server_hostname) != PETREL_OK) {
        return NULL;
    }
    petrel_conn *conn = pt_calloc(1, sizeof(*conn));
    char *hostname = pt_strdup(server_hostname);
    if (conn == NULL || (server_hostname != NULL && hostname == NULL)) {
        pt_free(conn);
        pt_free(hostname);
        pt_fail(&ctx->err, PETREL_ERR_NO_MEMORY, -1, "out of memory creating a connection");
        return NULL;
    }
    atomic_store(&ctx->frozen, true);
    petrel_ctx_up_ref(ctx);
    conn->ctx = ctx;
    conn->role = ctx->role;
    conn->hostname = hostname;
    conn->fd = -1;
    conn->verify_result = 0;
    pt_error_init(&conn->err);
    init_buffers(conn, &ctx->limits);
    if (pt_engine_init(conn) != PETREL_OK) {
        pt_error_copy(&ctx->err, &conn->err);
        petrel_conn_free(conn);
        return NULL;
    }
    return conn;
}

void petrel_conn_free(petrel_conn *conn)
{
    if (conn == NULL) {
        return;
    }
    pt_engine_free(conn);
    petrel_session_free(conn->session);
    petrel_session_free(conn->latest);
    release_buffers(conn);
    pt_free(conn->hostname);
    petrel_ctx *ctx = conn->ctx;
    pt_free_secret(conn, sizeof(*conn));
    petrel_ctx_free(ctx);
}

const petrel_error *petrel_conn_error(const petrel_conn *conn)
{
    static const petrel_error no_conn = {PETREL_ERR_MISUSE, -1, 0, 0, "no connection"};
    return conn != NULL ? &conn->err.pub : &no_conn;
}

petrel_ctx *petrel_conn_context(const petrel_conn *conn)
{
    return conn != NULL ? conn->ctx : NULL;
}

void petrel_conn_set_userdata(petrel_conn *conn, void *userdata)
{
    if (conn != NULL) {
        conn->userdata = userdata;
    }
}

void *petrel_conn_userdata(const petrel_conn *conn)
{
    return conn != NULL ? conn->userdata : NULL;
}

void petrel_conn_set_trace_callback(petrel_conn *conn, petrel_trace_cb cb, void *userdata)
{
    if (conn != NULL) {
        conn->trace_cb = cb;
        conn->trace_userdata = userdata;
    }
}

void petrel_insecure_set_deterministic_random(uint64_t seed)
{
    pt_random_set_deterministic(true, seed);
}

/* ---- what was negotiated ------------------------------------------------- */

petrel_role petrel_conn_role(const petrel_conn *conn)
{
    return conn != NULL ? conn->role : 0;
}

bool petrel_conn_handshake_done(const petrel_conn *conn)
{
    return conn != NULL && conn->handshake_done;
}

int petrel_conn_version(const petrel_conn *conn)
{
    return conn != NULL ? conn->version : 0;
}

const char *petrel_conn_version_name(const petrel_conn *conn)
{
    return conn != NULL && conn->version != 0 ? pt_version_name(conn->version) : NULL;
}

const char *petrel_conn_cipher(const petrel_conn *conn)
{
    return conn != NULL && conn->suite != 0 ? pt_suite_name(conn->suite) : NULL;
}

const char *petrel_conn_group(const petrel_conn *conn)
{
    return conn != NULL && conn->group != 0 ? pt_group_name(conn->group) : NULL;
}

const char *petrel_conn_signature_algorithm(const petrel_conn *conn)
{
    return conn != NULL && conn->sigalg != 0 ? pt_sigalg_name(conn->sigalg) : NULL;
}

const char *petrel_conn_peer_signature_algorithm(const petrel_conn *conn)
{
    return conn != NULL && conn->peer_sigalg != 0 ? pt_sigalg_name(conn->peer_sigalg) : NULL;
}

const char *petrel_conn_alpn_selected(const petrel_conn *conn)
{
    return conn != NULL ? conn->alpn : NULL;
}

const char *petrel_conn_server_hostname(const petrel_conn *conn)
{
    return conn != NULL ? conn->hostname : NULL;
}

size_t petrel_conn_session_tickets(const petrel_conn *conn)
{
    return conn != NULL ? conn->tickets : 0;
}

size_t petrel_conn_pending(const petrel_conn *conn)
{
    return conn != NULL ? conn->app.len : 0;
}

bool petrel_conn_peer_cert_pending(const petrel_conn *conn)
{
    return conn != NULL && pt_engine_peer_cert_pending(conn);
}

/* ---- the peer's certificate ---------------------------------------------- */

bool petrel_conn_has_peer_cert(const petrel_conn *conn)
{
    return conn != NULL && conn->peer != NULL && pt_peer_chain_len(conn->peer) > 0;
}

/* A getter's failure is recorded on the connection unless the connection
 * already holds its sticky fatal error, which must not be replaced. */
static petrel_status getter_failed(const petrel_conn *conn, const pt_error *err)
{
    if (!conn->failed) {
        pt_error_copy(&((petrel_conn *)conn)->err, err);
    }
    return err->pub.status;
}

petrel_status petrel_conn_peer_cert(const petrel_conn *conn, petrel_cert_info *out)
{
    if (conn == NULL || out == NULL) {
        return PETREL_ERR_MISUSE;
    }
    pt_error err;
    pt_error_init(&err);
    memset(out, 0, sizeof(*out));
    if (!petrel_conn_has_peer_cert(conn)) {
        pt_fail(&err, PETREL_ERR_MISUSE, -1, "the peer presented no certificate");
        return getter_failed(conn, &err);
    }
    /* The chain caches the strings it describes itself with. */
    if (pt_peer_chain_info(conn->peer, out, &err) != PETREL_OK) {
        return getter_failed(conn, &err);
    }
    return PETREL_OK;
}

size_t petrel_conn_unverified_chain_len(const petrel_conn *conn)
{
    return conn != NULL && conn->peer != NULL ? pt_peer_chain_len(conn->peer) : 0;
}

size_t petrel_conn_verified_chain_len(const petrel_conn *conn)
{
    return conn != NULL && conn->peer != NULL ? pt_peer_chain_verified_len(conn->peer) : 0;
}

long petrel_conn_verify_result(const petrel_conn *conn)
{
    return conn != NULL ? conn->verify_result : 0;
}
