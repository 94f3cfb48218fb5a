/*
 * client.c - `petrel client HOST:PORT`: handshake, summary on stderr, then
 * stdin to the peer and the peer's data to stdout over a non-blocking
 * socket, until both sides have closed.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "net.h"
#include "options.h"
#include "tool.h"

typedef struct session {
    petrel_conn *conn;
    int fd;
    char buf[16384]; /* stdin bytes not yet taken by the connection */
    size_t off;
    size_t len;
    bool stdin_eof;
    bool close_sent;
    bool peer_closed;
} session;

static int open_connection(const tool_opts *o, char *host, size_t host_cap)
{
    char port[16];
    char why[256];
    net_addr addrs[2];
    size_t n = 0;
    int fd = -1;
    if (net_split(o->target, host, host_cap, port, sizeof(port), why, sizeof(why)) == 0) {
        n = net_resolve(host, port, addrs, 2, why, sizeof(why));
    }
    if (n > 0) {
        fd = net_connect(addrs, n, why, sizeof(why));
    }
    if (fd < 0) {
        tool_fail("%s", why);
    }
    return fd;
}

static void print_summary(const petrel_conn *conn)
{
    fprintf(stderr, "version: %s\n", petrel_conn_version_name(conn));
    fprintf(stderr, "session: %s\n", petrel_conn_session_reused(conn) ? "resumed" : "new");
    fprintf(stderr, "cipher: %s\n", petrel_conn_cipher(conn));
    const char *group = petrel_conn_group(conn);
    fprintf(stderr, "group: %s\n", group != NULL ? group : "(none)");
    const char *sig = petrel_conn_peer_signature_algorithm(conn);
    fprintf(stderr, "server signature: %s\n", sig != NULL ? sig : "(none)");
    const char *alpn = petrel_conn_alpn_selected(conn);
    if (alpn != NULL) {
        fprintf(stderr, "alpn: %s\n", alpn);
    }
    petrel_cert_info info;
    if (petrel_conn_has_peer_cert(conn) && petrel_conn_peer_cert(conn, &info) == PETREL_OK) {
        fprintf(stderr, "peer: subject=%s issuer=%s\n", info.subject, info.issuer);
    }
    long vr = petrel_conn_verify_result(conn);
    size_t sent = petrel_conn_unverified_chain_len(conn);
    size_t path = petrel_conn_verified_chain_len(conn);
    if (petrel_conn_session_reused(conn)) {
        fprintf(stderr,
                "verification: %s in the session's first connection (the server sent %zu "
                "certificates then, verified path of %zu); none sent now\n",
                vr == 0 ? "ok" : "failed", sent, path);
    } else if (vr == 0 && path == 0) {
        fprintf(stderr, "verification: not done (verify mode none); peer sent %zu certificates\n",
                sent);
    } else {
        fprintf(stderr, "verification: %s (peer sent %zu certificates, verified path of %zu)\n",
                vr == 0 ? "ok" : "failed", sent, path);
    }
}

static int handshake(session *s)
{
    for (;;) {
        petrel_status st = petrel_conn_do_handshake(s->conn);
        if (st == PETREL_OK) {
            print_summary(s->conn);
            return 0;
        }
        if (st != PETREL_ERR_WANT_READ && st != PETREL_ERR_WANT_WRITE) {
            return tool_fail_conn(NULL, s->conn);
        }
        (void)tool_wait(s->fd, st);
    }
}

/* Reads everything available. Returns 0 to go on, 1 on failure; sets
 * peer_closed on close_notify. */
static int drain_peer(session *s)
{
    char data[16384];
    for (;;) {
        size_t n = 0;
        petrel_status st = petrel_conn_read(s->conn, data, sizeof(data), &n);
        if (st == PETREL_OK) {
            if (fwrite(data, 1, n, stdout) != n || fflush(stdout) != 0) {
                return tool_fail("cannot write to stdout: %s", strerror(errno));
            }
            continue;
        }
        if (st == PETREL_ERR_WANT_READ || st == PETREL_ERR_WANT_WRITE) {
            return 0;
        }
        if (st == PETREL_ERR_ZERO_RETURN) {
            s->peer_closed = true;
            return 0;
        }
        return tool_fail_conn("read failed", s->conn);
    }
}

static int send_stdin(session *s)
{
    size_t n = 0;
    petrel_status st = petrel_conn_write(s->conn, s->buf + s->off, s->len - s->off, &n);
    s->off += n;
    if (s->off == s->len) {
        s->off = s->len = 0;
    }
    if (st == PETREL_OK || st == PETREL_ERR_WANT_WRITE || st == PETREL_ERR_WANT_READ) {
        return 0;
    }
    return tool_fail_conn("write failed", s->conn);
}

static int read_stdin(session *s)
{
    ssize_t n = read(STDIN_FILENO, s->buf, sizeof(s->buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) {
        return 0;
    }
    if (n < 0) {
        return tool_fail("cannot read stdin: %s", strerror(errno));
    }
    s->stdin_eof = n == 0;
    s->off = 0;
    s->len = (size_t)n;
    return 0;
}

/* Sends close_notify once there is nothing left to send. */
static int maybe_close(session *s)
{
    bool want = (s->stdin_eof || s->peer_closed) && s->len == 0;
    if (!want || (s->close_sent && petrel_conn_output_pending(s->conn) == 0)) {
        return 0;
    }
    petrel_status st = petrel_conn_shutdown(s->conn);
    s->close_sent = true;
    if (st == PETREL_OK || st == PETREL_ERR_WANT_READ || st == PETREL_ERR_WANT_WRITE) {
        return 0;
    }
    return tool_fail_conn("shutdown failed", s->conn);
}

static int wait_events(session *s, bool *stdin_ready, bool *sock_ready)
{
    /* A negative fd is ignored by poll: stdin is watched only while its
     * bytes can be taken, so a hung-up stdin cannot spin the loop. */
    bool want_stdin = !s->stdin_eof && s->len == 0 && !s->peer_closed;
    struct pollfd p[2] = {{s->fd, POLLIN, 0}, {want_stdin ? STDIN_FILENO : -1, POLLIN, 0}};
    if (s->len > 0 || petrel_conn_output_pending(s->conn) > 0) {
        p[0].events |= POLLOUT;
    }
    int timeout = petrel_conn_pending(s->conn) > 0 ? 0 : -1;
    if (poll(p, 2, timeout) < 0 && errno != EINTR) {
        return tool_fail("poll failed: %s", strerror(errno));
    }
    *sock_ready = p[0].revents != 0 || petrel_conn_pending(s->conn) > 0;
    *stdin_ready = (p[1].revents & (POLLIN | POLLHUP | POLLERR)) != 0;
    return 0;
}

static int relay(session *s)
{
    while (!(s->peer_closed && s->close_sent && petrel_conn_output_pending(s->conn) == 0)) {
        bool stdin_ready = false;
        bool sock_ready = false;
        if (wait_events(s, &stdin_ready, &sock_ready) != 0) {
            return 1;
        }
        if (sock_ready && drain_peer(s) != 0) {
            return 1;
        }
        if (s->len > 0 && !s->peer_closed && send_stdin(s) != 0) {
            return 1;
        }
        if (stdin_ready && read_stdin(s) != 0) {
            return 1;
        }
        if (maybe_close(s) != 0) {
            return 1;
        }
    }
    return 0;
}

/* One connection: handshake, then the relay. *sess is the session to
 * offer (NULL for none) and receives the connection's newest one. */
static int run_connection(const tool_opts *o, petrel_ctx *ctx, petrel_session **sess,
                          bool stdin_eof)
{
    char host[256];
    session s = {0};
    s.stdin_eof = stdin_eof;
    s.fd = open_connection(o, host, sizeof(host));
    if (s.fd < 0) {
        return 1;
    }
    const char *name = o->servername != NULL ? o->servername : host;
    s.conn = petrel_conn_new(ctx, name);
    if (s.conn == NULL) {
        close(s.fd);
        return tool_fail_error("cannot create the connection", petrel_ctx_error(ctx));
    }
    if (o->trace) {
        petrel_conn_set_trace_callback(s.conn, tool_trace_to_stderr, "trace: ");
    }
    int rc = 1;
    if (*sess != NULL && petrel_conn_set_session(s.conn, *sess) != PETREL_OK) {
        tool_fail_conn("cannot offer the session", s.conn);
    } else if (net_set_nonblocking(s.fd, true) != 0 ||
               petrel_conn_set_fd(s.conn, s.fd) != PETREL_OK) {
        tool_fail("cannot use the socket: %s", strerror(errno));
    } else if (handshake(&s) == 0) {
        rc = relay(&s);
    }
    petrel_session_free(*sess);
    *sess = petrel_conn_get_session(s.conn);
    petrel_conn_free(s.conn);
    close(s.fd);
    return rc;
}

static int run_client(const tool_opts *o, petrel_ctx *ctx)
{
    petrel_session *sess = NULL;
    int rc = run_connection(o, ctx, &sess, false);
    if (rc == 0 && o->reconnect) {
        fprintf(stderr, "reconnecting%s\n", sess != NULL ? " with the session" : " (no ticket)");
        rc = run_connection(o, ctx, &sess, true);
    }
    petrel_session_free(sess);
    return rc;
}

int cmd_client(int argc, char **argv)
{
    tool_opts o;
    opts_result r = opts_parse(argc, argv, PETREL_CLIENT, &o);
    if (r != OPTS_OK) {
        return r == OPTS_HELP ? 0 : 2;
    }
    petrel_ctx *ctx = opts_make_ctx(&o, PETREL_CLIENT);
    if (ctx == NULL) {
        return 1;
    }
    int rc = run_client(&o, ctx);
    petrel_ctx_free(ctx);
    return rc;
}
