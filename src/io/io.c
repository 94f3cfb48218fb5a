/*
 * io.c - the public byte-moving entry points.
 *
 * Sans-I/O use (no fd): the application feeds received bytes into conn->in,
 * takes output from conn->out, and each operation is one call of the
 * engine.
 *
 * Socket use: an operation is a loop around the engine. Queued output is
 * flushed first; the engine runs; its output is flushed; when the engine
 * needs input, one recv() fills conn->in and the engine runs again. A
 * non-blocking socket that would block turns into WANT_READ or WANT_WRITE,
 * keeping whatever was not sent yet for the next call; a blocking socket
 * therefore never returns WANT_*.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "engine/engine.h"

/* How much application data is handed to the engine between flushes in
 * socket use: four full records keep the socket busy without letting the
 * output buffer grow with the size of a write. */
#define PT_WRITE_CHUNK (4 * (size_t)PT_MAX_PLAINTEXT)

static petrel_status io_failure(petrel_conn *conn, const char *what, int errnum)
{
    if (conn->failed) {
        return conn->err.pub.status;
    }
    pt_fail(&conn->err, PETREL_ERR_IO, -1, "%s failed: %s", what, strerror(errnum));
    conn->err.pub.sys_errno = errnum;
    conn->failed = true;
    return PETREL_ERR_IO;
}

/* Sends queued output. OK when all of it left, WANT_WRITE when the socket
 * would block (the rest stays queued), IO on a socket error. */
static petrel_status flush_out(petrel_conn *conn)
{
    while (conn->out.len > 0) {
        ssize_t n = send(conn->fd, conn->out.data, conn->out.len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return pt_fail(&conn->err, PETREL_ERR_WANT_WRITE, -1,
                           "the socket takes no more data now (it is non-blocking, or its send "
                           "timeout expired)");
        }
        if (n < 0) {
            return io_failure(conn, "send", errno);
        }
        pt_buf_consume(&conn->out, (size_t)n);
    }
    return PETREL_OK;
}

/* Receives once into conn->in. OK when bytes arrived or the peer closed the
 * transport (then conn->transport_eof is set), WANT_READ when the socket
 * would block, IO on a socket error. */
static petrel_status fill_in(petrel_conn *conn)
{
    size_t room = pt_buf_room(&conn->in);
    if (room > PT_MAX_RECORD) {
        room = PT_MAX_RECORD;
    }
    if (room == 0 || !pt_buf_reserve(&conn->in, room)) {
        return pt_conn_fatal(conn, pt_fail(&conn->err, PETREL_ERR_INTERNAL, -1,
                                           "input buffer is full but the engine wants more"));
    }
    for (;;) {
        ssize_t n = recv(conn->fd, conn->in.data + conn->in.len, room, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return pt_fail(&conn->err, PETREL_ERR_WANT_READ, -1,
                           "no data from the peer yet (the socket is non-blocking, or its "
                           "receive timeout expired)");
        }
        if (n < 0) {
            return io_failure(conn, "recv", errno);
        }
        if (n == 0) {
            conn->transport_eof = true;
        }
        conn->in.len += (size_t)n;
        return PETREL_OK;
    }
}

/* The engine asked for input after the transport had already ended. */
static petrel_status eof_failure(petrel_conn *conn)
{
    if (conn->failed) {
        return conn->err.pub.status;
    }
    pt_fail(&conn->err, PETREL_ERR_EOF, -1, "EOF occurred in violation of protocol");
    conn->failed = true;
    return PETREL_ERR_EOF;
}

/* Calls that process input would reenter the engine in the middle of a
 * record when made from the client certificate callback. */
static petrel_status refuse_in_callback(petrel_conn *conn, const char *what)
{
    return pt_fail(&conn->err, PETREL_ERR_MISUSE, -1,
                   "%s called from inside the client certificate callback: return from the "
                   "callback first",
                   what);
}

/* A misuse of a call's arguments, recorded on the connection when there is
 * one. */
static petrel_status bad_args(petrel_conn *conn, const char *sentence)
{
    if (conn == NULL) {
        return PETREL_ERR_MISUSE;
    }
    return pt_fail(&conn->err, PETREL_ERR_MISUSE, -1, "%s", sentence);
}

/* One engine operation, repeated over the socket until it completes. */
typedef petrel_status (*engine_op)(petrel_conn *conn, void *arg);

/* Sends what the socket takes now; only a socket error is a failure, since
 * output that has to wait must not stop input from being read (two peers
 * that both insist on writing first would wait for each other forever). */
static petrel_status try_flush(petrel_conn *conn, petrel_status *flushed)
{
    *flushed = flush_out(conn);
    return *flushed == PETREL_ERR_WANT_WRITE ? PETREL_OK : *flushed;
}

/* Runs op until it stops asking for input. The result is op's, except that
 * output still queued turns OK into WANT_WRITE unless keep_ok says the
 * caller has already been handed something (data read) it must not lose,
 * and input that would block turns into WANT_WRITE while output waits, so
 * that the caller polls for the direction that unblocks the peer. */
static petrel_status drive(petrel_conn *conn, engine_op op, void *arg, const bool *keep_ok)
{
    petrel_status flushed = PETREL_OK;
    for (;;) {
        PT_TRY(try_flush(conn, &flushed));
        bool had_eof = conn->transport_eof;
        petrel_status st = op(conn, arg);
        petrel_status fl = try_flush(conn, &flushed);
        if (fl != PETREL_OK && (st == PETREL_OK || st == PETREL_ERR_WANT_READ)) {
            return fl;
        }
        if (st != PETREL_ERR_WANT_READ) {
            bool ok_anyway = keep_ok != NULL && *keep_ok;
            return st == PETREL_OK && flushed != PETREL_OK && !ok_anyway ? flushed : st;
        }
        if (had_eof) {
            return eof_failure(conn);
        }
        petrel_status in = fill_in(conn);
        if (in == PETREL_ERR_WANT_READ && flushed == PETREL_ERR_WANT_WRITE) {
            return PETREL_ERR_WANT_WRITE;
        }
        PT_TRY(in);
    }
}

/* ---- sans-I/O ------------------------------------------------------------ */

petrel_status petrel_conn_feed(petrel_conn *conn, const void *data, size_t len, size_t *consumed)
{
    if (consumed == NULL || (data == NULL && len > 0)) {
        return bad_args(conn, "petrel_conn_feed needs consumed, and data unless len is 0");
    }
    *consumed = 0;
    if (conn == NULL) {
        return PETREL_ERR_MISUSE;
    }
    if (conn->in_callback) {
        return refuse_in_callback(conn, "petrel_conn_feed");
    }
    if (conn->failed) {
        return conn->err.pub.status;
    }
    if (conn->transport_eof && len > 0) {
        return pt_fail(&conn->err, PETREL_ERR_MISUSE, -1, "bytes fed after end of file");
    }
    size_t room = pt_buf_room(&conn->in);
    size_t n = len < room ? len : room;
    if (n > 0 && !pt_buf_append(&conn->in, data, n)) {
        return pt_fail(&conn->err, PETREL_ERR_NO_MEMORY, -1, "out of memory buffering input");
    }
    *consumed = n;
    return PETREL_OK;
}

void petrel_conn_feed_eof(petrel_conn *conn)
{
    if (conn != NULL) {
        conn->transport_eof = true;
    }
}

size_t petrel_conn_output_pending(const petrel_conn *conn)
{
    return conn != NULL ? conn->out.len : 0;
}

size_t petrel_conn_take_output(petrel_conn *conn, void *buf, size_t cap)
{
    if (conn == NULL || buf == NULL) {
        return 0;
    }
    size_t n = conn->out.len < cap ? conn->out.len : cap;
    if (n == 0) {
        return 0;
    }
    memcpy(buf, conn->out.data, n);
    pt_buf_consume(&conn->out, n);
    return n;
}

const uint8_t *petrel_conn_output_peek(const petrel_conn *conn, size_t *len)
{
    if (len == NULL) {
        return NULL;
    }
    *len = conn != NULL ? conn->out.len : 0;
    return *len > 0 ? conn->out.data : NULL;
}

void petrel_conn_output_consume(petrel_conn *conn, size_t n)
{
    if (conn == NULL) {
        return;
    }
    pt_buf_consume(&conn->out, n < conn->out.len ? n : conn->out.len);
}

petrel_status petrel_conn_set_fd(petrel_conn *conn, int fd)
{
    if (conn == NULL) {
        return PETREL_ERR_MISUSE;
    }
    int type = 0;
    socklen_t len = sizeof(type);
    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM) {
        return pt_fail(&conn->err, PETREL_ERR_MISUSE, -1, "descriptor %d is not a stream socket",
                       fd);
    }
    conn->fd = fd;
    return PETREL_OK;
}

/* ---- operations ---------------------------------------------------------- */

static petrel_status op_handshake(petrel_conn *conn, void *arg)
{
    (void)arg;
    return pt_engine_handshake(conn);
}

static petrel_status op_shutdown(petrel_conn *conn, void *arg)
{
    (void)arg;
    return pt_engine_shutdown(conn);
}

static petrel_status op_process(petrel_conn *conn, void *arg)
{
    (void)arg;
    return pt_engine_process(conn);
}

typedef struct read_args {
    uint8_t *buf;
    size_t cap;
    size_t *nread;
    bool got_data;
} read_args;

static petrel_status op_read(petrel_conn *conn, void *arg)
{
    read_args *r = arg;
    petrel_status st = pt_engine_read(conn, r->buf, r->cap, r->nread);
    r->got_data = st == PETREL_OK && *r->nread > 0;
    return st;
}

static petrel_status run(petrel_conn *conn, engine_op op, void *arg, const bool *keep_ok)
{
    if (conn == NULL) {
        return PETREL_ERR_MISUSE;
    }
    if (conn->in_callback) {
        return refuse_in_callback(conn, "a read, handshake, shutdown or process call");
    }
    if (conn->fd < 0) {
        return op(conn, arg);
    }
    return drive(conn, op, arg, keep_ok);
}

petrel_status petrel_conn_do_handshake(petrel_conn *conn)
{
    return run(conn, op_handshake, NULL, NULL);
}

petrel_status petrel_conn_read(petrel_conn *conn, void *buf, size_t cap, size_t *nread)
{
    if (nread == NULL || (buf == NULL && cap > 0)) {
        return bad_args(conn, "petrel_conn_read needs nread, and buf unless cap is 0");
    }
    *nread = 0;
    read_args r = {buf, cap, nread, false};
    return run(conn, op_read, &r, &r.got_data);
}

petrel_status petrel_conn_shutdown(petrel_conn *conn)
{
    return run(conn, op_shutdown, NULL, NULL);
}

petrel_status petrel_conn_process(petrel_conn *conn)
{
    return run(conn, op_process, NULL, NULL);
}

/* Socket use: hands the engine one chunk at a time and flushes between
 * chunks, so output stays bounded whatever the size of the write. */
static petrel_status write_fd(petrel_conn *conn, const uint8_t *buf, size_t len, size_t *nwritten)
{
    while (*nwritten < len) {
        PT_TRY(flush_out(conn));
        size_t chunk = len - *nwritten < PT_WRITE_CHUNK ? len - *nwritten : PT_WRITE_CHUNK;
        size_t n = 0;
        bool had_eof = conn->transport_eof;
        petrel_status st = pt_engine_write(conn, buf + *nwritten, chunk, &n);
        *nwritten += n;
        if (st == PETREL_ERR_WANT_READ) {
            PT_TRY(flush_out(conn));
            if (had_eof) {
                return eof_failure(conn);
            }
            PT_TRY(fill_in(conn));
        } else if (st == PETREL_ERR_WANT_WRITE && n == 0 && conn->out.len == 0) {
            return pt_conn_fatal(conn, pt_fail(&conn->err, PETREL_ERR_INTERNAL, -1,
                                               "engine made no progress writing"));
        } else if (st != PETREL_OK && st != PETREL_ERR_WANT_WRITE) {
            (void)flush_out(conn);
            return st;
        }
    }
    return flush_out(conn);
}

/* Socket use returns WANT_WRITE while sealed output is still queued, even
 * when all of buf was taken (*nwritten == len): call again with the rest,
 * possibly nothing, once the socket is writable. */
petrel_status petrel_conn_write(petrel_conn *conn, const void *buf, size_t len, size_t *nwritten)
{
    size_t ignored = 0;
    size_t *count = nwritten != NULL ? nwritten : &ignored;
    if (buf == NULL && len > 0) {
        return bad_args(conn, "petrel_conn_write needs buf unless len is 0");
    }
    if (conn == NULL) {
        return PETREL_ERR_MISUSE;
    }
    if (conn->in_callback && !conn->handshake_done) {
        /* Writing would first drive the handshake the callback is part of. */
        return refuse_in_callback(conn, "petrel_conn_write during the handshake");
    }
    *count = 0;
    if (conn->fd < 0) {
        return pt_engine_write(conn, buf, len, count);
    }
    return write_fd(conn, buf, len, count);
}

/* Queues work, then sends what it can; a would-block socket is fine since
 * the output leaves with the next call. */
static petrel_status queue_and_flush(petrel_conn *conn, petrel_status st)
{
    if (st != PETREL_OK || conn->fd < 0) {
        return st;
    }
    petrel_status fl = flush_out(conn);
    return fl == PETREL_ERR_WANT_WRITE ? PETREL_OK : fl;
}

petrel_status petrel_conn_verify_client_post_handshake(petrel_conn *conn)
{
    if (conn == NULL) {
        return PETREL_ERR_MISUSE;
    }
    /* Queued only: the request leaves with the next write, read or
     * petrel_conn_process(), as documented. */
    return pt_engine_request_client_cert(conn);
}

petrel_status petrel_conn_key_update(petrel_conn *conn, bool request_peer)
{
    if (conn == NULL) {
        return PETREL_ERR_MISUSE;
    }
    return queue_and_flush(conn, pt_engine_key_update(conn, request_peer));
}
