/*
 * main.c - the petrel command: dispatch to client, server or demo, and the
 * helpers they share for reporting and waiting on sockets.
 */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tool.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: petrel COMMAND [options]\n\n"
                 "Commands:\n"
                 "  client HOST:PORT [options]   connect, then copy stdin/stdout over TLS\n"
                 "  server --listen ADDR:PORT --cert F --key F [options]\n"
                 "                               serve echo, --http or --commands\n"
                 "  demo [--max-version 1.2]     a client and a server in one process,\n"
                 "                               explaining each step\n\n"
                 "petrel COMMAND --help describes a command and its options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "client") == 0) {
        return cmd_client(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "server") == 0) {
        return cmd_server(argc - 1, argv + 1);
    }
    if (strcmp(cmd, "demo") == 0) {
        return cmd_demo(argc - 1, argv + 1);
    }
    fprintf(stderr, "petrel: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}

int tool_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("petrel: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

int tool_fail_error(const char *what, const petrel_error *err)
{
    const char *msg = err->message[0] != '\0' ? err->message : petrel_status_name(err->status);
    return tool_fail("%s: %s", what, msg);
}

int tool_fail_conn(const char *what, const petrel_conn *conn)
{
    const petrel_error *err = petrel_conn_error(conn);
    const char *msg = err->message[0] != '\0' ? err->message : petrel_status_name(err->status);
    bool named = err->alert < 0 || strstr(msg, petrel_alert_name(err->alert)) != NULL;
    return tool_fail("%s%s%s%s%s%s", what != NULL ? what : "", what != NULL ? ": " : "", msg,
                     named ? "" : " (alert ", named ? "" : petrel_alert_name(err->alert),
                     named ? "" : ")");
}

void tool_trace_to_stderr(const petrel_conn *conn, const char *event, void *userdata)
{
    (void)conn;
    fprintf(stderr, "%s%s\n", (const char *)userdata, event);
}

int tool_wait_ms = -1;

bool tool_wait(int fd, petrel_status want)
{
    struct pollfd p = {fd, want == PETREL_ERR_WANT_WRITE ? POLLOUT : POLLIN, 0};
    return poll(&p, 1, tool_wait_ms) != 0;
}

petrel_status tool_write_all(petrel_conn *conn, int fd, const void *buf, size_t len)
{
    const char *p = buf;
    for (;;) {
        size_t n = 0;
        petrel_status st = petrel_conn_write(conn, p, len, &n);
        p += n;
        len -= n;
        if (st == PETREL_OK && len == 0) {
            return PETREL_OK;
        }
        if (st != PETREL_OK && st != PETREL_ERR_WANT_READ && st != PETREL_ERR_WANT_WRITE) {
            return st;
        }
        if (st != PETREL_OK && !tool_wait(fd, st)) {
            return st;
        }
    }
}
