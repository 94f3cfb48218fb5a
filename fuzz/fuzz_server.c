/*
 * fuzz_server.c - a server connection fed arbitrary bytes as its client's.
 *
 * The input is the whole byte stream from the client. The server does what
 * an application would: finish the handshake, ask once for a certificate
 * after it, write a little, read until the stream ends (end of file comes
 * after the last byte), and close. Everything is deterministic
 * (tls_fixture.h), so the recorded client side of a real session is valid
 * input that reaches the end of the script; the seeds are that session,
 * its handshake alone and its ClientHello alone, and the same session and
 * handshake with a client limited to TLS 1.2.
 *
 * Any broken promise (a buffer over its maximum, a failure without its
 * sentence or alert) aborts; the sanitizers catch memory faults and leaks.
 */
#include <stdbool.h>
#include <stdlib.h>

#include "tls_fixture.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static petrel_ctx *sctx;

typedef struct outcome {
    petrel_status last;
    bool handshake_done;
    bool peer_cert;
} outcome;

static bool fatal(petrel_status st)
{
    return st != PETREL_OK && st != PETREL_ERR_WANT_READ && st != PETREL_ERR_WANT_WRITE;
}

/* One pass of the application: handshake, then the first time only a
 * certificate request and a write, then reads until they stop. */
static petrel_status step(petrel_conn *s, bool *started)
{
    petrel_status st = petrel_conn_do_handshake(s);
    tf_check_conn(s, st);
    if (st != PETREL_OK) {
        return st;
    }
    if (!*started) {
        *started = true;
        st = petrel_conn_verify_client_post_handshake(s);
        tf_check_conn(s, st);
        size_t n;
        st = petrel_conn_write(s, "world", 5, &n);
        tf_check_conn(s, st);
    }
    uint8_t buf[2048];
    size_t n;
    do {
        st = petrel_conn_read(s, buf, sizeof(buf), &n);
        tf_check_conn(s, st);
    } while (st == PETREL_OK);
    return st;
}

static outcome run(const uint8_t *data, size_t size)
{
    petrel_conn *s = tf_new_server(sctx);
    size_t off = 0;
    bool started = false;
    petrel_status st = PETREL_ERR_WANT_READ;
    for (int round = 0; round < 256; round++) {
        off += tf_feed(s, data + off, size - off);
        if (off == size) {
            petrel_conn_feed_eof(s);
        }
        st = step(s, &started);
        tf_drain(s);
        if (fatal(st) || (off == size && st == PETREL_ERR_WANT_READ)) {
            break;
        }
    }
    if (st == PETREL_ERR_ZERO_RETURN) {
        tf_check_conn(s, petrel_conn_shutdown(s));
    }
    outcome out = {st, petrel_conn_handshake_done(s), petrel_conn_has_peer_cert(s)};
    petrel_conn_free(s);
    return out;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    sctx = tf_server_ctx();
    petrel_ctx *cctx = tf_client_ctx();
    tf_session rec;
    tf_record_session(cctx, sctx, &rec);
    /* The recorded client stream replays to the end: the harness is as
     * deterministic as it claims. */
    outcome o = run(rec.to_server.data, rec.to_server.len);
    TF_CHECK(o.last == PETREL_ERR_ZERO_RETURN && o.handshake_done && o.peer_cert);
    tf_write_seed("session", rec.to_server.data, rec.to_server.len);
    tf_write_seed("handshake", rec.to_server.data, rec.to_server_handshake);
    size_t first = 5 + (((size_t)rec.to_server.data[3] << 8) | rec.to_server.data[4]);
    tf_write_seed("client_hello", rec.to_server.data, first);
    tf_session_free(&rec);
    petrel_ctx_free(cctx);
    /* The same with a client that speaks TLS 1.2 only. */
    cctx = tf_client_ctx();
    TF_CHECK(petrel_ctx_set_maximum_version(cctx, PETREL_TLS1_2) == PETREL_OK);
    tf_record_session(cctx, sctx, &rec);
    o = run(rec.to_server.data, rec.to_server.len);
    TF_CHECK(o.last == PETREL_ERR_ZERO_RETURN && o.handshake_done);
    tf_write_seed("tls12_session", rec.to_server.data, rec.to_server.len);
    tf_write_seed("tls12_handshake", rec.to_server.data, rec.to_server_handshake);
    tf_session_free(&rec);
    petrel_ctx_free(cctx);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)run(data, size);
    return 0;
}
