/*
 * tool.h - what the files of the petrel command share.
 */
#ifndef PETREL_TOOL_H
#define PETREL_TOOL_H

#include <stdbool.h>
#include <stddef.h>

#include "petrel.h"

#define TOOL_PRINTF(a, b) __attribute__((format(printf, a, b)))

int cmd_client(int argc, char **argv);
int cmd_server(int argc, char **argv);
int cmd_demo(int argc, char **argv);

/* Prints "petrel: <message>" on stderr and returns 1, the failure status. */
int tool_fail(const char *fmt, ...) TOOL_PRINTF(1, 2);
/* Prints "petrel: <what>: <sentence of err>" and returns 1. */
int tool_fail_error(const char *what, const petrel_error *err);
/* Prints a connection's failure: "what: " (unless what is NULL), its
 * sentence, and the alert when the sentence does not name it. Returns 1. */
int tool_fail_conn(const char *what, const petrel_conn *conn);

/* Trace callback that prints each handshake event on stderr with a prefix
 * given as userdata. */
void tool_trace_to_stderr(const petrel_conn *conn, const char *event, void *userdata);

/* Writes all of buf over a connection, waiting on the socket as needed
 * (blocking or not). */
petrel_status tool_write_all(petrel_conn *conn, int fd, const void *buf, size_t len);
/* Waits until fd is ready for what status asks (WANT_READ / WANT_WRITE),
 * at most tool_wait_ms milliseconds (-1: no limit). False on time-out. */
bool tool_wait(int fd, petrel_status want);
extern int tool_wait_ms;

#endif
