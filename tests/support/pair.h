/*
 * pair.h - a client and a server joined by memory, for in-process tests.
 */
#ifndef PT_TEST_PAIR_H
#define PT_TEST_PAIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "petrel.h"

/* Path of a file of the test PKI (PETREL_TEST_DATA), in a static buffer
 * per call slot (up to 8 live at once). */
const char *pki(const char *name);

/* A server context with NAME-chain.pem / NAME.key; a client context that
 * trusts ca.pem. Both fail the test on error. */
petrel_ctx *server_ctx(const char *leaf);
petrel_ctx *client_ctx(void);

typedef struct pair {
    petrel_conn *c;
    petrel_conn *s;
} pair;

/* Two connections; the client targets "localhost". */
pair pair_new(petrel_ctx *cctx, petrel_ctx *sctx);
void pair_free(pair *p);
/* Moves all pending output of `from` into `to`. Returns bytes moved. */
size_t pair_move(petrel_conn *from, petrel_conn *to);
/* Runs both handshakes until both finish or one fails; returns the
 * client's status, and the server's in *server_status. */
petrel_status pair_handshake(pair *p, petrel_status *server_status);
/* Runs both handshakes and fails the test, naming both sides' errors,
 * unless both succeed. */
void pair_handshake_ok(pair *p);
/* Sends len bytes from `from` and reads them at `to`, asserting equality. */
void pair_exchange(pair *p, petrel_conn *from, petrel_conn *to, const void *data, size_t len);
/* Drives both sides: process() on each and moves bytes, `rounds` times. */
void pair_pump(pair *p, int rounds);

#endif
