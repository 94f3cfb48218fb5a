/*
 * fuzz_client.c - a client that sent its real ClientHello, then is fed
 * arbitrary bytes as its server's.
 *
 * The input is the whole byte stream from the server. After the handshake
 * the client writes, asks for a KeyUpdate, and reads until the stream ends
 * (end of file after the last byte), answering certificate requests and
 * KeyUpdates as it goes. The client checks no certificate (CERT_NONE), so
 * the recorded server side of a real session, which is valid input thanks
 * to the deterministic random stream (tls_fixture.h), reaches the end; the
 * seeds are that session, its handshake flight alone and its ServerHello
 * record alone.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "tls_fixture.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static petrel_ctx *cctx;

static bool fatal(petrel_status st)
{
    return st != PETREL_OK && st != PETREL_ERR_WANT_READ && st != PETREL_ERR_WANT_WRITE;
}

static petrel_status step(petrel_conn *c, bool *started)
{
    petrel_status st = petrel_conn_do_handshake(c);
    tf_check_conn(c, st);
    if (st != PETREL_OK) {
        return st;
    }
    if (!*started) {
        *started = true;
        size_t n;
        st = petrel_conn_write(c, "hello", 5, &n);
        tf_check_conn(c, st);
        st = petrel_conn_key_update(c, true);
        tf_check_conn(c, st);
    }
    uint8_t buf[2048];
    size_t n;
    do {
        st = petrel_conn_read(c, buf, sizeof(buf), &n);
        tf_check_conn(c, st);
    } while (st == PETREL_OK);
    return st;
}

static petrel_status run(const uint8_t *data, size_t size)
{
    petrel_conn *c = tf_client_after_hello(cctx);
    size_t off = 0;
    bool started = false;
    petrel_status st = PETREL_ERR_WANT_READ;
    for (int round = 0; round < 256; round++) {
        off += tf_feed(c, data + off, size - off);
        if (off == size) {
            petrel_conn_feed_eof(c);
        }
        st = step(c, &started);
        tf_drain(c);
        if (fatal(st) || (off == size && st == PETREL_ERR_WANT_READ)) {
            break;
        }
    }
    if (st == PETREL_ERR_ZERO_RETURN) {
        tf_check_conn(c, petrel_conn_shutdown(c));
    }
    petrel_conn_free(c);
    return st;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cctx = tf_client_ctx();
    petrel_ctx *sctx = tf_server_ctx();
    tf_session rec;
    tf_record_session(cctx, sctx, &rec);
    TF_CHECK(run(rec.to_client.data, rec.to_client.len) == PETREL_ERR_ZERO_RETURN);
    tf_write_seed("session", rec.to_client.data, rec.to_client.len);
    tf_write_seed("handshake", rec.to_client.data, rec.to_client_handshake);
    size_t first = 5 + (((size_t)rec.to_client.data[3] << 8) | rec.to_client.data[4]);
    tf_write_seed("server_hello", rec.to_client.data, first);
    tf_session_free(&rec);
    petrel_ctx_free(sctx);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)run(data, size);
    return 0;
}
