/*
 * demo.c - `petrel demo`: a client and a server in one process, over a
 * non-blocking socket pair, stepped in turn from one thread so that the
 * story prints in the order it happens. Every step is checked; the demo
 * exits non-zero when one fails.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pki.h"
#include "tool.h"

/* Rounds of "client acts, server acts" before a step is declared stuck. */
#define DEMO_MAX_ROUNDS 200

typedef struct demo {
    demo_pki pki;
    petrel_ctx *cctx;
    petrel_ctx *sctx;
    petrel_conn *client;
    petrel_conn *server;
    int fds[2];
    bool tls12; /* --max-version 1.2: client authentication in the handshake */
} demo;

typedef petrel_status (*demo_op)(petrel_conn *conn, void *arg);

static void say(const char *fmt, ...) TOOL_PRINTF(1, 2);

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

static void trace(const petrel_conn *conn, const char *event, void *userdata)
{
    (void)conn;
    say("     %s %s", (const char *)userdata, event);
}

static bool pending(petrel_status st)
{
    return st == PETREL_ERR_WANT_READ || st == PETREL_ERR_WANT_WRITE;
}

static int failed(const char *who, const petrel_conn *conn)
{
    char what[64];
    snprintf(what, sizeof(what), "demo: %s", who);
    return tool_fail_conn(what, conn);
}

/* Steps both sides in turn until each op has finished with OK. */
static int run_both(demo *d, demo_op cop, void *carg, demo_op sop, void *sarg)
{
    petrel_status cs = cop != NULL ? PETREL_ERR_WANT_READ : PETREL_OK;
    petrel_status ss = sop != NULL ? PETREL_ERR_WANT_READ : PETREL_OK;
    for (int round = 0; round < DEMO_MAX_ROUNDS; round++) {
        if (cs != PETREL_OK) {
            cs = cop(d->client, carg);
        }
        if (ss != PETREL_OK) {
            ss = sop(d->server, sarg);
        }
        if (!pending(cs) && cs != PETREL_OK) {
            return failed("client", d->client);
        }
        if (!pending(ss) && ss != PETREL_OK) {
            return failed("server", d->server);
        }
        if (cs == PETREL_OK && ss == PETREL_OK) {
            return 0;
        }
    }
    return tool_fail("demo: a step made no progress after %d rounds", DEMO_MAX_ROUNDS);
}

static petrel_status op_handshake(petrel_conn *conn, void *arg)
{
    (void)arg;
    return petrel_conn_do_handshake(conn);
}

/* Reads until some application data arrives; arg is a char[256]. */
static petrel_status op_read_text(petrel_conn *conn, void *arg)
{
    char *text = arg;
    size_t n = 0;
    petrel_status st = petrel_conn_read(conn, text, 255, &n);
    text[st == PETREL_OK ? n : 0] = '\0';
    return st == PETREL_OK && n == 0 ? PETREL_ERR_WANT_READ : st;
}

/* Keeps reading, so that the certificate request gets answered, until the
 * server (arg) has what it asked for. */
static petrel_status op_answer_request(petrel_conn *conn, void *arg)
{
    const petrel_conn *server = arg;
    char buf[256];
    size_t n = 0;
    petrel_status st = petrel_conn_read(conn, buf, sizeof(buf), &n);
    if (st != PETREL_OK && !pending(st)) {
        return st;
    }
    return petrel_conn_peer_cert_pending(server) ? PETREL_ERR_WANT_READ : PETREL_OK;
}

static petrel_status op_await_cert(petrel_conn *conn, void *arg)
{
    (void)arg;
    petrel_status st = petrel_conn_process(conn);
    return st == PETREL_OK && petrel_conn_peer_cert_pending(conn) ? PETREL_ERR_WANT_READ : st;
}

static petrel_status op_expect_close(petrel_conn *conn, void *arg)
{
    char buf[64];
    size_t n = 0;
    (void)arg;
    petrel_status st = petrel_conn_read(conn, buf, sizeof(buf), &n);
    return st == PETREL_ERR_ZERO_RETURN ? PETREL_OK : st == PETREL_OK ? PETREL_ERR_WANT_READ : st;
}

static petrel_status op_shutdown(petrel_conn *conn, void *arg)
{
    (void)arg;
    return petrel_conn_shutdown(conn);
}

static petrel_status op_write_text(petrel_conn *conn, void *arg)
{
    const char *text = arg;
    size_t n = 0;
    return petrel_conn_write(conn, text, strlen(text), &n);
}

/* ---- setting up ----------------------------------------------------------- */

static int setup_contexts(demo *d)
{
    const demo_pki *p = &d->pki;
    d->sctx = petrel_ctx_new(PETREL_SERVER);
    d->cctx = petrel_ctx_new(PETREL_CLIENT);
    if (d->sctx == NULL || d->cctx == NULL) {
        return tool_fail("demo: cannot create contexts");
    }
    if (petrel_ctx_load_cert_chain_mem(d->sctx, p->server_chain.data, p->server_chain.len,
                                       p->server_key.data, p->server_key.len, NULL,
                                       NULL) != PETREL_OK ||
        petrel_ctx_load_verify_locations(d->sctx, NULL, NULL, p->ca_cert.data, p->ca_cert.len) !=
            PETREL_OK ||
        petrel_ctx_set_verify_mode(d->sctx, PETREL_CERT_REQUIRED) != PETREL_OK ||
        petrel_ctx_set_post_handshake_auth(d->sctx, !d->tls12) != PETREL_OK) {
        return tool_fail_error("demo: server context", petrel_ctx_error(d->sctx));
    }
    if (petrel_ctx_load_verify_locations(d->cctx, NULL, NULL, p->ca_cert.data, p->ca_cert.len) !=
            PETREL_OK ||
        petrel_ctx_load_cert_chain_mem(d->cctx, p->client_chain.data, p->client_chain.len,
                                       p->client_key.data, p->client_key.len, NULL,
                                       NULL) != PETREL_OK ||
        petrel_ctx_set_post_handshake_auth(d->cctx, true) != PETREL_OK ||
        (d->tls12 && petrel_ctx_set_maximum_version(d->cctx, PETREL_TLS1_2) != PETREL_OK)) {
        return tool_fail_error("demo: client context", petrel_ctx_error(d->cctx));
    }
    return 0;
}

static int nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static int setup_connections(demo *d)
{
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, d->fds) != 0 ||
        nonblocking(d->fds[0]) != 0 || nonblocking(d->fds[1]) != 0) {
        return tool_fail("demo: cannot make a socket pair");
    }
    d->client = petrel_conn_new(d->cctx, "localhost");
    if (d->client == NULL) {
        return tool_fail_error("demo: client connection", petrel_ctx_error(d->cctx));
    }
    d->server = petrel_conn_new(d->sctx, NULL);
    if (d->server == NULL) {
        return tool_fail_error("demo: server connection", petrel_ctx_error(d->sctx));
    }
    if (petrel_conn_set_fd(d->client, d->fds[0]) != PETREL_OK ||
        petrel_conn_set_fd(d->server, d->fds[1]) != PETREL_OK) {
        return tool_fail("demo: cannot attach the sockets");
    }
    petrel_conn_set_trace_callback(d->client, trace, "client:");
    petrel_conn_set_trace_callback(d->server, trace, "server:");
    return 0;
}

/* ---- the story ------------------------------------------------------------ */

static const char *version_name(int version)
{
    return version == PETREL_TLS1_2 ? "TLSv1.2" : version == PETREL_TLS1_3 ? "TLSv1.3" : "?";
}

static int step_handshake(demo *d)
{
    say("2. Handshake. The client is configured for %s to %s; it will check the",
        version_name(petrel_ctx_minimum_version(d->cctx)),
        version_name(petrel_ctx_maximum_version(d->cctx)));
    say("   server's certificate against the demo CA and the name \"localhost\":");
    if (run_both(d, op_handshake, NULL, op_handshake, NULL) != 0) {
        return 1;
    }
    const petrel_conn *c = d->client;
    say("   Negotiated %s with %s, key exchange group %s.", petrel_conn_version_name(c),
        petrel_conn_cipher(c), petrel_conn_group(c));
    say("   The server signed the handshake with %s.", petrel_conn_signature_algorithm(d->server));
    if (petrel_conn_verify_result(c) != 0 || petrel_conn_verified_chain_len(c) == 0) {
        return tool_fail("demo: the client did not verify the server's chain");
    }
    say("   The client verified the chain (%zu certificates sent, %zu in the verified path)",
        petrel_conn_unverified_chain_len(c), petrel_conn_verified_chain_len(c));
    say("   and the hostname \"%s\".", petrel_conn_server_hostname(c));
    return 0;
}

static int step_data(demo *d)
{
    char got[256];
    say("3. Application data.");
    if (run_both(d, op_write_text, "hello from the client", op_read_text, got) != 0) {
        return 1;
    }
    say("   The server received \"%s\".", got);
    if (run_both(d, op_read_text, got, op_write_text, "hello from the server") != 0) {
        return 1;
    }
    say("   The client received \"%s\".", got);
    return 0;
}

/* TLS 1.2 has no post-handshake authentication: the server asked inside the
 * handshake, and refuses to ask again. */
static int step_client_auth12(demo *d)
{
    petrel_cert_info info;
    say("4. Client authentication. TLS 1.2 has no post-handshake authentication,");
    say("   so the server asked for the client's certificate inside the handshake.");
    if (!petrel_conn_has_peer_cert(d->server) ||
        petrel_conn_peer_cert(d->server, &info) != PETREL_OK) {
        return tool_fail("demo: the server has no verified client certificate");
    }
    say("   The client proved it holds the key of \"%s\".", info.subject);
    if (petrel_conn_verify_client_post_handshake(d->server) != PETREL_ERR_MISUSE) {
        return tool_fail("demo: a post-handshake request on TLS 1.2 was not refused");
    }
    say("   Asking again after the handshake is refused: %s",
        petrel_conn_error(d->server)->message);
    return 0;
}

static int step_pha(demo *d)
{
    petrel_cert_info info;
    char got[256];
    if (petrel_conn_version(d->server) == PETREL_TLS1_2) {
        return step_client_auth12(d);
    }
    say("4. Post-handshake authentication (RFC 8446 4.6.2). The server decides it");
    say("   wants to know who the client is and sends a CertificateRequest:");
    if (petrel_conn_verify_client_post_handshake(d->server) != PETREL_OK) {
        return failed("server", d->server);
    }
    if (run_both(d, op_answer_request, d->server, op_await_cert, NULL) != 0) {
        return 1;
    }
    if (!petrel_conn_has_peer_cert(d->server) ||
        petrel_conn_peer_cert(d->server, &info) != PETREL_OK) {
        return tool_fail("demo: the server has no verified client certificate");
    }
    say("   The client proved it holds the key of \"%s\",", info.subject);
    say("   issued by \"%s\"; the server verified the chain.", info.issuer);
    char welcome[300];
    snprintf(welcome, sizeof(welcome), "welcome, %.250s", info.subject);
    if (run_both(d, op_read_text, got, op_write_text, welcome) != 0) {
        return 1;
    }
    say("   The client received \"%s\".", got);
    return 0;
}

static int step_close(demo *d)
{
    say("5. Closing. The client sends close_notify; the server answers with its own:");
    petrel_status st = petrel_conn_shutdown(d->client);
    if (st != PETREL_ERR_WANT_READ && st != PETREL_ERR_WANT_WRITE) {
        return failed("client", d->client);
    }
    if (run_both(d, NULL, NULL, op_expect_close, NULL) != 0 ||
        run_both(d, op_shutdown, NULL, op_shutdown, NULL) != 0) {
        return 1;
    }
    say("   Both sides closed cleanly.");
    return 0;
}

static int run_demo(demo *d)
{
    char why[256];
    say("petrel demo: a TLS client and server in one process, over a socket pair.");
    if (demo_pki_make(&d->pki, why, sizeof(why)) != 0) {
        return tool_fail("%s", why);
    }
    say("1. Made a throw-away CA \"Petrel Demo CA\", a server certificate for localhost");
    say("   and 127.0.0.1, and a client certificate for client.demo (all ECDSA P-256).");
    if (setup_contexts(d) != 0 || setup_connections(d) != 0 || step_handshake(d) != 0 ||
        step_data(d) != 0 || step_pha(d) != 0 || step_close(d) != 0) {
        return 1;
    }
    say("demo: every step succeeded.");
    return 0;
}

int cmd_demo(int argc, char **argv)
{
    demo d = {.fds = {-1, -1}};
    bool tls12 = argc == 3 && strcmp(argv[1], "--max-version") == 0 && strcmp(argv[2], "1.2") == 0;
    bool tls13 = argc == 3 && strcmp(argv[1], "--max-version") == 0 && strcmp(argv[2], "1.3") == 0;
    if (argc > 1 && !tls12 && !tls13) {
        printf("usage: petrel demo [--max-version 1.2|1.3]\n\nRuns a client and a server "
               "against each other and explains each step.\nWith --max-version 1.2 the "
               "client offers TLS 1.2 only.\n");
        return strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    d.tls12 = tls12;
    int rc = run_demo(&d);
    petrel_conn_free(d.client);
    petrel_conn_free(d.server);
    petrel_ctx_free(d.cctx);
    petrel_ctx_free(d.sctx);
    for (int i = 0; i < 2; i++) {
        if (d.fds[i] >= 0) {
            close(d.fds[i]);
        }
    }
    demo_pki_free(&d.pki);
    return rc;
}
