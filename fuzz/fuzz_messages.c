/*
 * fuzz_messages.c - every handshake message parser, reached through
 * pt_dispatch on a connection placed in the state that expects it.
 *
 * The first input byte picks a row: a message type and the connection that
 * receives it, brought to the matching state by replaying, through
 * pt_dispatch, the messages it received in the recorded session before
 * that point (tls_fixture.h; the random stream is reset, so the replay
 * verifies like the original). The rest of the input is the message body.
 * The rows are the recorded messages themselves (ClientHello, ServerHello,
 * ..., Finished, KeyUpdate, the post-handshake CertificateRequest and
 * answer) plus a CertificateRequest in the handshake and a
 * NewSessionTicket after it. The seeds are the recorded bodies, one per
 * row, hand-made ones for the two extra rows, and a HelloRetryRequest
 * made from the recorded ServerHello.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls_fixture.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ROWS (TF_MAX_MSGS + 1)
#define MAX_BODY (1u << 16)

typedef struct row {
    petrel_role role;
    size_t stage; /* messages of the session replayed first */
    uint8_t type;
} row;

static petrel_ctx *cctx;
static petrel_ctx *sctx;
static tf_session rec;
static row rows[MAX_ROWS];
static size_t nrows;

/* Gives a recorded message to the connection as the engine would. */
static void deliver(petrel_conn *conn, const tf_msg *m)
{
    if (conn->state != m->state && m->state == PT_ST_PHA_WAIT_CERT) {
        TF_CHECK(petrel_conn_verify_client_post_handshake(conn) == PETREL_OK);
    }
    TF_CHECK(conn->state == m->state);
    petrel_status st =
        pt_dispatch(conn, m->data[0], pt_span_of(m->data + 4, m->len - 4), m->data, m->len);
    TF_CHECK(st == PETREL_OK);
    TF_CHECK(pt_flush_handshake(conn) == PETREL_OK);
    tf_drain(conn);
}

static petrel_conn *replay(petrel_role role, size_t stage)
{
    petrel_conn *conn = role == PETREL_CLIENT ? tf_client_after_hello(cctx) : tf_new_server(sctx);
    size_t k = 0;
    for (size_t i = 0; i < rec.nmsgs && k < stage; i++) {
        if (rec.msgs[i].role == role) {
            deliver(conn, &rec.msgs[i]);
            k++;
        }
    }
    TF_CHECK(k == stage);
    return conn;
}

static void add_rows(void)
{
    size_t seen[3] = {0, 0, 0};
    size_t client_connected = 0;
    for (size_t i = 0; i < rec.nmsgs; i++) {
        const tf_msg *m = &rec.msgs[i];
        rows[nrows++] = (row){m->role, seen[m->role]++, m->data[0]};
        if (m->role == PETREL_CLIENT && m->data[0] == PT_HS_FINISHED) {
            client_connected = seen[PETREL_CLIENT];
        }
    }
    TF_CHECK(client_connected > 0);
    /* A CertificateRequest where the client waits for one or a
     * Certificate (after ServerHello and EncryptedExtensions), and a
     * NewSessionTicket on the connected client (the recorded server sends
     * none). */
    rows[nrows++] = (row){PETREL_CLIENT, 2, PT_HS_CERTIFICATE_REQUEST};
    rows[nrows++] = (row){PETREL_CLIENT, client_connected, PT_HS_NEW_SESSION_TICKET};
}

static const tf_msg *recorded(const row *r)
{
    size_t k = 0;
    for (size_t i = 0; i < rec.nmsgs; i++) {
        if (rec.msgs[i].role != r->role) {
            continue;
        }
        if (k++ == r->stage && rec.msgs[i].data[0] == r->type) {
            return &rec.msgs[i];
        }
    }
    return NULL;
}

/* SHA-256("HelloRetryRequest"), RFC 8446 4.1.3. */
static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* The recorded ServerHello turned into a HelloRetryRequest asking for
 * secp256r1 with a cookie: same session id echo and suite. */
static size_t make_hrr(const tf_msg *sh, uint8_t *out)
{
    static const uint8_t exts[] = {0,  43, 0,  2, 3, 4, 0, 51,  0,   2,   0,
                                   23, 0,  44, 0, 6, 0, 4, 'c', 'o', 'o', 'k'};
    const uint8_t *body = sh->data + 4;
    size_t sid_len = body[34];
    size_t n = 0;
    out[n++] = 3;
    out[n++] = 3;
    memcpy(out + n, hrr_random, 32);
    n += 32;
    memcpy(out + n, body + 34, 1 + sid_len + 2); /* session id, then suite */
    n += 1 + sid_len + 2;
    out[n++] = 0;
    out[n++] = 0;
    out[n++] = sizeof(exts);
    memcpy(out + n, exts, sizeof(exts));
    return n + sizeof(exts);
}

static void write_seed_row(size_t i, const char *what, const uint8_t *body, size_t len)
{
    static uint8_t seed[1 + MAX_BODY];
    char name[48];
    seed[0] = (uint8_t)i;
    memcpy(seed + 1, body, len);
    snprintf(name, sizeof(name), "row%02zu_type%u%s", i, rows[i].type, what);
    tf_write_seed(name, seed, 1 + len);
}

static void write_seeds(void)
{
    static const uint8_t cr_body[] = {0, 0, 8, 0, 13, 0, 4, 0, 2, 8, 7};
    static const uint8_t nst_body[] = {0, 0, 0x1c, 0x20, 1,   2,   3,   4, 1,
                                       0, 0, 4,    't',  'k', 't', '1', 0, 0};
    for (size_t i = 0; i < nrows; i++) {
        const tf_msg *m = recorded(&rows[i]);
        if (m != NULL) {
            write_seed_row(i, "", m->data + 4, m->len - 4);
        } else if (rows[i].type == PT_HS_CERTIFICATE_REQUEST) {
            write_seed_row(i, "", cr_body, sizeof(cr_body));
        } else if (rows[i].type == PT_HS_NEW_SESSION_TICKET) {
            write_seed_row(i, "", nst_body, sizeof(nst_body));
        }
        if (m != NULL && rows[i].type == PT_HS_SERVER_HELLO) {
            uint8_t hrr[128];
            write_seed_row(i, "_hrr", hrr, make_hrr(m, hrr));
        }
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    cctx = tf_client_ctx();
    sctx = tf_server_ctx();
    tf_record_session(cctx, sctx, &rec);
    add_rows();
    TF_CHECK(nrows <= 255);
    /* Every recorded message replays: the prefixes are sound. */
    for (int role = PETREL_CLIENT; role <= PETREL_SERVER; role++) {
        size_t count = 0;
        for (size_t i = 0; i < rec.nmsgs; i++) {
            count += rec.msgs[i].role == (petrel_role)role;
        }
        petrel_conn *conn = replay((petrel_role)role, count);
        petrel_conn_free(conn);
    }
    write_seeds();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size - 1 > MAX_BODY - 4) {
        return 0;
    }
    const row *r = &rows[data[0] % nrows];
    petrel_conn *conn = replay(r->role, r->stage);
    size_t body_len = size - 1;
    uint8_t *msg = malloc(4 + body_len);
    TF_CHECK(msg != NULL);
    msg[0] = r->type;
    msg[1] = (uint8_t)(body_len >> 16);
    msg[2] = (uint8_t)(body_len >> 8);
    msg[3] = (uint8_t)body_len;
    memcpy(msg + 4, data + 1, body_len);
    petrel_status st = pt_dispatch(conn, r->type, pt_span_of(msg + 4, body_len), msg, 4 + body_len);
    tf_check_conn(conn, st);
    if (st == PETREL_OK) {
        st = pt_flush_handshake(conn);
    }
    if (st != PETREL_OK && st != PETREL_ERR_WANT_READ) {
        (void)pt_conn_fatal(conn, st);
    }
    tf_check_conn(conn, petrel_conn_error(conn)->status);
    free(msg);
    petrel_conn_free(conn);
    return 0;
}
