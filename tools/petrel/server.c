/*
 * server.c - `petrel server`: listen, accept, handshake, and hand each
 * connection to its mode, one connection at a time.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "net.h"
#include "server.h"

static int open_listener(const char *spec)
{
    char host[256];
    char port[16];
    char why[256];
    net_addr addrs[2];
    size_t n = 0;
    int fd = -1;
    if (net_split(spec, host, sizeof(host), port, sizeof(port), why, sizeof(why)) == 0) {
        n = net_resolve(host, port, addrs, 2, why, sizeof(why));
    }
    if (n > 0) {
        fd = net_listen(&addrs[0], why, sizeof(why));
    }
    if (fd < 0) {
        tool_fail("%s", why);
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char where[80] = "?";
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
        net_format((struct sockaddr *)&ss, where, sizeof(where));
    }
    fprintf(stderr, "listening on %s\n", where);
    fflush(stderr);
    return fd;
}

int serve_close(served *s)
{
    if (net_set_nonblocking(s->fd, true) != 0) {
        return 1;
    }
    for (int tries = 0; tries < 50; tries++) {
        petrel_status st = petrel_conn_shutdown(s->conn);
        if (st == PETREL_OK ||
            (st == PETREL_ERR_WANT_READ && petrel_conn_output_pending(s->conn) == 0)) {
            return 0;
        }
        if (st != PETREL_ERR_WANT_WRITE && st != PETREL_ERR_WANT_READ) {
            return tool_fail_conn("shutdown failed", s->conn);
        }
        struct pollfd p = {s->fd, POLLOUT, 0};
        (void)poll(&p, 1, 100);
    }
    return tool_fail("shutdown failed: the peer does not take our close_notify");
}

petrel_status serve_request_cert(served *s)
{
    petrel_status st = petrel_conn_verify_client_post_handshake(s->conn);
    while (st == PETREL_OK && petrel_conn_peer_cert_pending(s->conn)) {
        st = petrel_conn_process(s->conn);
        if (st == PETREL_OK && petrel_conn_peer_cert_pending(s->conn)) {
            /* The client sent more application data than the connection
             * buffers before answering; this simple server does not keep
             * it, so the client is dropped (see serve_pha_failed). */
            return PETREL_ERR_WANT_READ;
        }
    }
    return st;
}

int serve_pha_failed(const served *s, petrel_status st)
{
    if (st == PETREL_ERR_WANT_READ && petrel_conn_peer_cert_pending(s->conn) &&
        petrel_conn_pending(s->conn) > 0) {
        return tool_fail("the client sent %zu bytes of data without answering the certificate "
                         "request; dropped",
                         petrel_conn_pending(s->conn));
    }
    return tool_fail_conn("client authentication failed", s->conn);
}

static void log_connection(const petrel_conn *conn)
{
    fprintf(stderr, "connection: %s %s %s\n", petrel_conn_version_name(conn),
            petrel_conn_cipher(conn),
            petrel_conn_group(conn) != NULL ? petrel_conn_group(conn) : "");
    if (petrel_conn_session_reused(conn)) {
        fprintf(stderr, "session: resumed\n");
    }
    petrel_cert_info info;
    if (petrel_conn_has_peer_cert(conn) && petrel_conn_peer_cert(conn, &info) == PETREL_OK) {
        fprintf(stderr, "client: subject=%s\n", info.subject);
    }
    fflush(stderr);
}

static int serve_one(petrel_ctx *ctx, int fd, const tool_opts *o)
{
    served s = {petrel_conn_new(ctx, NULL), fd, o};
    if (s.conn == NULL) {
        return tool_fail_error("cannot create the connection", petrel_ctx_error(ctx));
    }
    if (o->trace) {
        petrel_conn_set_trace_callback(s.conn, tool_trace_to_stderr, "trace: ");
    }
    int rc = 1;
    if (petrel_conn_set_fd(s.conn, fd) != PETREL_OK) {
        tool_fail_conn("cannot use the socket", s.conn);
    } else if (petrel_conn_do_handshake(s.conn) != PETREL_OK) {
        tool_fail_conn("handshake failed", s.conn);
    } else {
        log_connection(s.conn);
        rc = o->mode == SERVE_HTTP       ? serve_http(&s)
             : o->mode == SERVE_COMMANDS ? serve_commands(&s)
                                         : serve_echo(&s);
    }
    petrel_conn_free(s.conn);
    return rc;
}

/* One connection at a time: a client that goes silent, or stops reading,
 * must not hold the server for ever. */
static void set_timeouts(int fd, int seconds)
{
    struct timeval tv = {.tv_sec = seconds};
    if (seconds > 0) {
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    }
}

static int accept_loop(petrel_ctx *ctx, int lfd, const tool_opts *o)
{
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0 && errno == EINTR) {
            continue;
        }
        if (fd < 0) {
            return tool_fail("accept failed: %s", strerror(errno));
        }
        set_timeouts(fd, o->timeout);
        tool_wait_ms = o->timeout > 0 ? o->timeout * 1000 : -1;
        int rc = serve_one(ctx, fd, o);
        close(fd);
        if (o->once) {
            return rc;
        }
    }
}

int cmd_server(int argc, char **argv)
{
    tool_opts o;
    opts_result r = opts_parse(argc, argv, PETREL_SERVER, &o);
    if (r != OPTS_OK) {
        return r == OPTS_HELP ? 0 : 2;
    }
    if (o.cert == NULL) {
        tool_fail("server needs --cert FILE (and --key FILE unless the key is in it)");
        return 2;
    }
    petrel_ctx *ctx = opts_make_ctx(&o, PETREL_SERVER);
    if (ctx == NULL) {
        return 1;
    }
    int rc = 1;
    int lfd = open_listener(o.listen);
    if (lfd >= 0) {
        rc = accept_loop(ctx, lfd, &o);
        close(lfd);
    }
    petrel_ctx_free(ctx);
    return rc;
}
