/*
 * server.h - the serving modes of `petrel server`, one connection each.
 * Each returns 0 when the connection ended cleanly, 1 otherwise.
 */
#ifndef PETREL_SERVER_H
#define PETREL_SERVER_H

#include "options.h"
#include "tool.h"

typedef struct served {
    petrel_conn *conn;
    int fd; /* blocking */
    const tool_opts *opts;
} served;

int serve_echo(served *s);
int serve_http(served *s);
int serve_commands(served *s);

/* Sends close_notify without waiting for the peer's, as an HTTP/1.0 server
 * does before closing. Returns 0 when it left. */
int serve_close(served *s);
/* Asks for a client certificate (RFC 8446 4.6.2) and waits for the answer.
 * PETREL_OK when it has been processed (the client may have declined). */
petrel_status serve_request_cert(served *s);
/* Reports why serve_request_cert failed, in one line; returns 1. */
int serve_pha_failed(const served *s, petrel_status st);

#endif
