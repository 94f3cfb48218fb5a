/*
 * server_modes.c - what `petrel server` does with a connection once the
 * handshake is done: echo, a small HTTP/1.0 responder, or line commands.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "server.h"

#define LINE_MAX_BYTES 4096

static int reply(served *s, const char *fmt, ...) TOOL_PRINTF(2, 3);

static int reply(served *s, const char *fmt, ...)
{
    char line[LINE_MAX_BYTES + 64];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof(line) - 1 ? (size_t)n : sizeof(line) - 2;
    line[len++] = '\n';
    if (tool_write_all(s->conn, s->fd, line, len) != PETREL_OK) {
        return tool_fail_conn("write failed", s->conn);
    }
    return 0;
}

/* The end of a read loop: close_notify answered, anything else reported. */
static int read_ended(served *s, petrel_status st)
{
    if (st == PETREL_ERR_ZERO_RETURN) {
        petrel_status closed = petrel_conn_shutdown(s->conn);
        return closed == PETREL_OK ? 0 : tool_fail_conn("shutdown failed", s->conn);
    }
    return tool_fail_conn("read failed", s->conn);
}

int serve_echo(served *s)
{
    char buf[16384];
    for (;;) {
        size_t n = 0;
        petrel_status st = petrel_conn_read(s->conn, buf, sizeof(buf), &n);
        if (st != PETREL_OK) {
            return read_ended(s, st);
        }
        if (tool_write_all(s->conn, s->fd, buf, n) != PETREL_OK) {
            return tool_fail_conn("write failed", s->conn);
        }
    }
}

/* ---- HTTP/1.0 ----------------------------------------------------------- */

/* Reads until the blank line that ends the request head. */
static int read_head(served *s, char *head, size_t cap)
{
    size_t len = 0;
    while (strstr(head, "\r\n\r\n") == NULL && strstr(head, "\n\n") == NULL) {
        size_t n = 0;
        if (len + 1 >= cap) {
            return tool_fail("request head longer than %zu bytes", cap - 1);
        }
        petrel_status st = petrel_conn_read(s->conn, head + len, cap - 1 - len, &n);
        if (st != PETREL_OK) {
            return tool_fail_conn("reading the request failed", s->conn);
        }
        len += n;
        head[len] = '\0';
    }
    return 0;
}

static int respond(served *s, const char *status, const char *extra)
{
    char body[1024];
    char msg[1536];
    int blen = snprintf(body, sizeof(body),
                        "<html><body><h1>petrel</h1>\n<p>Protocol version: %s</p>\n"
                        "<p>Cipher suite: %s</p>\n%s</body></html>\n",
                        petrel_conn_version_name(s->conn), petrel_conn_cipher(s->conn), extra);
    int mlen = snprintf(msg, sizeof(msg),
                        "HTTP/1.0 %s\r\nContent-Type: text/html\r\nContent-Length: %d\r\n"
                        "Connection: close\r\n\r\n%s",
                        status, blen, body);
    if (blen < 0 || mlen < 0 || (size_t)mlen >= sizeof(msg)) {
        return tool_fail("response too long");
    }
    if (tool_write_all(s->conn, s->fd, msg, (size_t)mlen) != PETREL_OK) {
        return tool_fail_conn("write failed", s->conn);
    }
    return serve_close(s);
}

/* Post-handshake authentication for a protected path: 200 naming the client,
 * 403 when it declined; when verification fails the engine has already sent
 * its alert and the connection is only closed. */
static int respond_protected(served *s)
{
    petrel_status st = PETREL_OK;
    if (!petrel_conn_has_peer_cert(s->conn)) {
        st = serve_request_cert(s);
    }
    if (st == PETREL_ERR_MISUSE) {
        char why[400];
        snprintf(why, sizeof(why), "<p>A client certificate cannot be requested: %.300s</p>\n",
                 petrel_conn_error(s->conn)->message);
        return respond(s, "403 Forbidden", why);
    }
    if (st != PETREL_OK) {
        return serve_pha_failed(s, st);
    }
    petrel_cert_info info;
    if (!petrel_conn_has_peer_cert(s->conn) || petrel_conn_peer_cert(s->conn, &info) != PETREL_OK) {
        return respond(s, "403 Forbidden", "<p>A client certificate is required.</p>\n");
    }
    char extra[600];
    snprintf(extra, sizeof(extra), "<p>Client certificate: %.500s</p>\n", info.subject);
    fprintf(stderr, "client: subject=%s\n", info.subject);
    return respond(s, "200 OK", extra);
}

int serve_http(served *s)
{
    char head[16384] = "";
    if (read_head(s, head, sizeof(head)) != 0) {
        return 1;
    }
    /* Request-Line = Method SP Request-URI SP HTTP-Version (RFC 1945 5.1) */
    const char *path = strchr(head, ' ');
    path = path != NULL ? path + 1 : "";
    const char *prefix = s->opts->pha_path;
    if (prefix != NULL && strncmp(path, prefix, strlen(prefix)) == 0) {
        return respond_protected(s);
    }
    return respond(s, "200 OK", "");
}

/* ---- line commands ------------------------------------------------------ */

static int cmd_pha(served *s, bool *quit)
{
    petrel_status st = serve_request_cert(s);
    if (st == PETREL_OK) {
        return reply(s, "OK");
    }
    if (st == PETREL_ERR_MISUSE) {
        return reply(s, "ERROR %s", petrel_conn_error(s->conn)->message);
    }
    if (st == PETREL_ERR_ZERO_RETURN) {
        /* The client closed instead of answering: close cleanly too, and
         * run no command that came after. */
        fprintf(stderr, "petrel: %s\n", petrel_conn_error(s->conn)->message);
        *quit = true;
        return read_ended(s, st);
    }
    return serve_pha_failed(s, st);
}

static int cmd_getcert(served *s)
{
    petrel_cert_info info;
    if (!petrel_conn_has_peer_cert(s->conn) || petrel_conn_peer_cert(s->conn, &info) != PETREL_OK) {
        return reply(s, "NONE");
    }
    return reply(s, "subject=%s issuer=%s", info.subject, info.issuer);
}

/* Runs one command line. *quit is set by QUIT. */
static int run_command(served *s, const char *line, bool *quit)
{
    const petrel_conn *c = s->conn;
    if (strcmp(line, "PHA") == 0) {
        return cmd_pha(s, quit);
    }
    if (strcmp(line, "HASCERT") == 0) {
        return reply(s, "%s", petrel_conn_has_peer_cert(c) ? "TRUE" : "FALSE");
    }
    if (strcmp(line, "GETCERT") == 0) {
        return cmd_getcert(s);
    }
    if (strcmp(line, "VERSION") == 0) {
        return reply(s, "%s", petrel_conn_version_name(c));
    }
    if (strcmp(line, "CIPHER") == 0) {
        return reply(s, "%s", petrel_conn_cipher(c));
    }
    if (strcmp(line, "VERIFIEDCHAIN") == 0) {
        return reply(s, "%zu", petrel_conn_verified_chain_len(c));
    }
    if (strcmp(line, "UNVERIFIEDCHAIN") == 0) {
        return reply(s, "%zu", petrel_conn_unverified_chain_len(c));
    }
    if (strcmp(line, "QUIT") == 0) {
        *quit = true;
        return reply(s, "BYE");
    }
    return reply(s, "%s", line);
}

/* Takes the complete lines out of buf (and the whole of it when whole is
 * set: a command that arrived alone, without newline). */
static int run_lines(served *s, char *buf, size_t *len, bool whole, bool *quit)
{
    size_t start = 0;
    while (!*quit) {
        char *nl = memchr(buf + start, '\n', *len - start);
        if (nl == NULL && !(whole && start < *len)) {
            break;
        }
        size_t end = nl != NULL ? (size_t)(nl - buf) : *len;
        size_t next = nl != NULL ? end + 1 : end;
        if (end > start && buf[end - 1] == '\r') {
            end--;
        }
        buf[end] = '\0';
        if (run_command(s, buf + start, quit) != 0) {
            return 1;
        }
        start = next;
    }
    memmove(buf, buf + start, *len - start);
    *len -= start;
    return 0;
}

int serve_commands(served *s)
{
    char buf[LINE_MAX_BYTES + 1];
    size_t len = 0;
    bool quit = false;
    while (!quit) {
        size_t n = 0;
        petrel_status st = petrel_conn_read(s->conn, buf + len, LINE_MAX_BYTES - len, &n);
        if (st != PETREL_OK) {
            return read_ended(s, st);
        }
        bool alone = len == 0 && memchr(buf, '\n', n) == NULL;
        len += n;
        bool overlong = len == LINE_MAX_BYTES && memchr(buf, '\n', len) == NULL;
        if (run_lines(s, buf, &len, alone || overlong, &quit) != 0) {
            return 1;
        }
    }
    return serve_close(s);
}
