/*
 * tls_fixture.c - contexts and the recorded session of the TLS harnesses
 * (see tls_fixture.h for why everything in it is deterministic).
 */
#include "tls_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

void tf_check(int ok, const char *what, const char *file, int line)
{
    if (!ok) {
        fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
        abort();
    }
}

/* --- The credential --------------------------------------------------- */

static const uint8_t ed25519_private[32] = {
    0x70, 0x65, 0x74, 0x72, 0x65, 0x6c, 0x20, 0x66, 0x75, 0x7a, 0x7a, 0x20, 0x6b, 0x65, 0x79, 0x21,
    0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
};

typedef struct pem {
    char *data;
    size_t len;
} pem;

static pem bio_text(BIO *b)
{
    char *p = NULL;
    long n = BIO_get_mem_data(b, &p);
    TF_CHECK(n > 0 && p != NULL);
    pem out = {malloc((size_t)n), (size_t)n};
    TF_CHECK(out.data != NULL);
    memcpy(out.data, p, (size_t)n);
    return out;
}

/* A self-signed certificate with fixed name, serial and dates. */
static X509 *make_cert(EVP_PKEY *key)
{
    X509 *x = X509_new();
    TF_CHECK(x != NULL);
    TF_CHECK(X509_set_version(x, 2) == 1);
    TF_CHECK(ASN1_INTEGER_set(X509_get_serialNumber(x), 1) == 1);
    TF_CHECK(ASN1_TIME_set_string(X509_getm_notBefore(x), "20200101000000Z") == 1);
    TF_CHECK(ASN1_TIME_set_string(X509_getm_notAfter(x), "20991231235959Z") == 1);
    X509_NAME *name = X509_get_subject_name(x);
    TF_CHECK(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                        (const unsigned char *)"fuzz.test", -1, -1, 0) == 1);
    TF_CHECK(X509_set_issuer_name(x, name) == 1);
    TF_CHECK(X509_set_pubkey(x, key) == 1);
    TF_CHECK(X509_sign(x, key, NULL) > 0);
    return x;
}

static void credential(pem *cert, pem *key)
{
    static pem c;
    static pem k;
    if (c.data == NULL) {
        EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, ed25519_private,
                                                      sizeof(ed25519_private));
        TF_CHECK(pkey != NULL);
        X509 *x = make_cert(pkey);
        BIO *cb = BIO_new(BIO_s_mem());
        BIO *kb = BIO_new(BIO_s_mem());
        TF_CHECK(cb != NULL && kb != NULL);
        TF_CHECK(PEM_write_bio_X509(cb, x) == 1);
        TF_CHECK(PEM_write_bio_PrivateKey(kb, pkey, NULL, NULL, 0, NULL, NULL) == 1);
        c = bio_text(cb);
        k = bio_text(kb);
        BIO_free(cb);
        BIO_free(kb);
        X509_free(x);
        EVP_PKEY_free(pkey);
    }
    *cert = c;
    *key = k;
}

static void load_credential(petrel_ctx *ctx)
{
    pem cert;
    pem key;
    credential(&cert, &key);
    TF_CHECK(petrel_ctx_load_cert_chain_mem(ctx, cert.data, cert.len, key.data, key.len, NULL,
                                            NULL) == PETREL_OK);
}

petrel_ctx *tf_server_ctx(void)
{
    pem cert;
    pem key;
    credential(&cert, &key);
    petrel_ctx *ctx = petrel_ctx_new(PETREL_SERVER);
    TF_CHECK(ctx != NULL);
    load_credential(ctx);
    TF_CHECK(petrel_ctx_load_verify_locations(ctx, NULL, NULL, cert.data, cert.len) == PETREL_OK);
    TF_CHECK(petrel_ctx_set_verify_mode(ctx, PETREL_CERT_REQUIRED) == PETREL_OK);
    TF_CHECK(petrel_ctx_set_post_handshake_auth(ctx, true) == PETREL_OK);
    return ctx;
}

petrel_ctx *tf_client_ctx(void)
{
    petrel_ctx *ctx = petrel_ctx_new(PETREL_CLIENT);
    TF_CHECK(ctx != NULL);
    TF_CHECK(petrel_ctx_set_check_hostname(ctx, false) == PETREL_OK);
    TF_CHECK(petrel_ctx_set_verify_mode(ctx, PETREL_CERT_NONE) == PETREL_OK);
    TF_CHECK(petrel_ctx_set_post_handshake_auth(ctx, true) == PETREL_OK);
    load_credential(ctx);
    return ctx;
}

/* --- Checks ------------------------------------------------------------ */

static void check_buf(const pt_buf *b)
{
    TF_CHECK(b->len <= b->max);
}

void tf_check_conn(const petrel_conn *conn, petrel_status st)
{
    check_buf(&conn->in);
    check_buf(&conn->out);
    check_buf(&conn->app);
    check_buf(&conn->hsmsg);
    check_buf(&conn->hsout);
    if (st == PETREL_OK || st == PETREL_ERR_WANT_READ || st == PETREL_ERR_WANT_WRITE) {
        return;
    }
    const petrel_error *e = petrel_conn_error(conn);
    TF_CHECK(e->status == st);
    TF_CHECK(e->message != NULL && e->message[0] != '\0');
    if (st == PETREL_ERR_PROTOCOL) {
        TF_CHECK(e->alert >= 0 && e->alert < 256);
    }
}

/* --- Connections --------------------------------------------------------- */

void tf_drain(petrel_conn *conn)
{
    uint8_t sink[4096];
    /* Asking only when output is pending: take_output on a connection whose
     * output buffer was released passes NULL to memcpy (src/io/io.c). */
    while (petrel_conn_output_pending(conn) > 0) {
        (void)petrel_conn_take_output(conn, sink, sizeof(sink));
    }
}

size_t tf_feed(petrel_conn *conn, const uint8_t *data, size_t size)
{
    size_t used = 0;
    if (size == 0) {
        return 0;
    }
    petrel_status st = petrel_conn_feed(conn, data, size, &used);
    TF_CHECK(used <= size);
    TF_CHECK(st == PETREL_OK || used == 0);
    return used;
}

petrel_conn *tf_client_after_hello(petrel_ctx *cctx)
{
    petrel_insecure_set_deterministic_random(TF_CLIENT_SEED);
    petrel_conn *c = petrel_conn_new(cctx, "localhost");
    TF_CHECK(c != NULL);
    TF_CHECK(petrel_conn_do_handshake(c) == PETREL_ERR_WANT_READ);
    tf_drain(c);
    return c;
}

petrel_conn *tf_new_server(petrel_ctx *sctx)
{
    petrel_insecure_set_deterministic_random(TF_SERVER_SEED);
    petrel_conn *s = petrel_conn_new(sctx, NULL);
    TF_CHECK(s != NULL);
    return s;
}

/* --- The recorded session ------------------------------------------------ */

/* The engine traces "received <message>" just before it dispatches the
 * message held whole in conn->hsmsg. */
static void capture(const petrel_conn *conn, const char *event, void *userdata)
{
    tf_session *s = userdata;
    const pt_buf *m = &conn->hsmsg;
    if (strncmp(event, "received ", 9) != 0 || m->len < 4 ||
        strcmp(event + 9, pt_hs_type_name(m->data[0])) != 0) {
        return;
    }
    TF_CHECK(s->nmsgs < TF_MAX_MSGS);
    tf_msg *out = &s->msgs[s->nmsgs++];
    out->role = conn->role;
    out->state = conn->state;
    out->len = m->len;
    out->data = malloc(m->len);
    TF_CHECK(out->data != NULL);
    memcpy(out->data, m->data, m->len);
}

static void move(petrel_conn *from, petrel_conn *to, pt_buf *log)
{
    uint8_t buf[4096];
    size_t n;
    while (petrel_conn_output_pending(from) > 0) {
        n = petrel_conn_take_output(from, buf, sizeof(buf));
        TF_CHECK(pt_buf_append(log, buf, n));
        for (size_t off = 0; off < n;) {
            size_t used = 0;
            TF_CHECK(petrel_conn_feed(to, buf + off, n - off, &used) == PETREL_OK);
            TF_CHECK(used > 0);
            off += used;
        }
    }
}

static void read_expect(petrel_conn *conn, const char *want)
{
    char got[64];
    size_t n = 0;
    TF_CHECK(petrel_conn_read(conn, got, sizeof(got), &n) == PETREL_OK);
    TF_CHECK(n == strlen(want) && memcmp(got, want, n) == 0);
}

static void write_all(petrel_conn *conn, const char *text)
{
    size_t n = 0;
    TF_CHECK(petrel_conn_write(conn, text, strlen(text), &n) == PETREL_OK);
    TF_CHECK(n == strlen(text));
}

static void handshake(petrel_conn *c, petrel_conn *s, tf_session *out)
{
    petrel_status cs = PETREL_ERR_WANT_READ;
    petrel_status ss = PETREL_ERR_WANT_READ;
    for (int i = 0; i < 10 && (cs != PETREL_OK || ss != PETREL_OK); i++) {
        move(c, s, &out->to_server);
        ss = petrel_conn_do_handshake(s);
        move(s, c, &out->to_client);
        cs = petrel_conn_do_handshake(c);
    }
    move(c, s, &out->to_server);
    TF_CHECK(cs == PETREL_OK && ss == PETREL_OK);
}

/* After the handshake: the server asks for a certificate at once; the
 * client sends data and a KeyUpdate asking for one back; both answer. */
static void after_handshake(petrel_conn *c, petrel_conn *s, tf_session *out)
{
    uint8_t b[64];
    size_t n;
    TF_CHECK(petrel_conn_verify_client_post_handshake(s) == PETREL_OK);
    write_all(c, "hello");
    TF_CHECK(petrel_conn_key_update(c, true) == PETREL_OK);
    move(c, s, &out->to_server);
    read_expect(s, "hello");
    move(s, c, &out->to_client);
    TF_CHECK(petrel_conn_read(c, b, sizeof(b), &n) == PETREL_ERR_WANT_READ);
    write_all(s, "world");
    move(s, c, &out->to_client);
    read_expect(c, "world");
    move(c, s, &out->to_server);
    TF_CHECK(petrel_conn_process(s) == PETREL_OK);
    TF_CHECK(petrel_conn_has_peer_cert(s));
    petrel_status st = petrel_conn_shutdown(c);
    TF_CHECK(st == PETREL_OK || st == PETREL_ERR_WANT_READ);
    move(c, s, &out->to_server);
    TF_CHECK(petrel_conn_read(s, b, sizeof(b), &n) == PETREL_ERR_ZERO_RETURN);
    TF_CHECK(petrel_conn_shutdown(s) == PETREL_OK);
    move(s, c, &out->to_client);
    TF_CHECK(petrel_conn_read(c, b, sizeof(b), &n) == PETREL_ERR_ZERO_RETURN);
}

/* TLS 1.2 has neither KeyUpdate nor post-handshake authentication. */
static void after_handshake12(petrel_conn *c, petrel_conn *s, tf_session *out)
{
    uint8_t b[64];
    size_t n;
    write_all(c, "hello");
    move(c, s, &out->to_server);
    read_expect(s, "hello");
    write_all(s, "world");
    move(s, c, &out->to_client);
    read_expect(c, "world");
    petrel_status st = petrel_conn_shutdown(c);
    TF_CHECK(st == PETREL_OK || st == PETREL_ERR_WANT_READ);
    move(c, s, &out->to_server);
    TF_CHECK(petrel_conn_read(s, b, sizeof(b), &n) == PETREL_ERR_ZERO_RETURN);
    TF_CHECK(petrel_conn_shutdown(s) == PETREL_OK);
    move(s, c, &out->to_client);
    TF_CHECK(petrel_conn_read(c, b, sizeof(b), &n) == PETREL_ERR_ZERO_RETURN);
}

void tf_record_session(petrel_ctx *cctx, petrel_ctx *sctx, tf_session *out)
{
    memset(out, 0, sizeof(*out));
    pt_buf_init(&out->to_server, 1u << 20, false);
    pt_buf_init(&out->to_client, 1u << 20, false);
    petrel_insecure_set_deterministic_random(TF_CLIENT_SEED);
    petrel_conn *c = petrel_conn_new(cctx, "localhost");
    TF_CHECK(c != NULL);
    petrel_conn_set_trace_callback(c, capture, out);
    TF_CHECK(petrel_conn_do_handshake(c) == PETREL_ERR_WANT_READ);
    petrel_conn *s = tf_new_server(sctx);
    petrel_conn_set_trace_callback(s, capture, out);
    handshake(c, s, out);
    out->to_server_handshake = out->to_server.len;
    out->to_client_handshake = out->to_client.len;
    if (petrel_conn_version(c) == PETREL_TLS1_2) {
        after_handshake12(c, s, out);
    } else {
        after_handshake(c, s, out);
    }
    petrel_conn_free(c);
    petrel_conn_free(s);
}

void tf_session_free(tf_session *s)
{
    pt_buf_release(&s->to_server);
    pt_buf_release(&s->to_client);
    for (size_t i = 0; i < s->nmsgs; i++) {
        free(s->msgs[i].data);
    }
    s->nmsgs = 0;
}

void tf_write_seed(const char *name, const uint8_t *p, size_t n)
{
    const char *dir = getenv("PETREL_FUZZ_WRITE_SEEDS");
    if (dir == NULL) {
        return;
    }
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    TF_CHECK(f != NULL);
    TF_CHECK(fwrite(p, 1, n, f) == n);
    TF_CHECK(fclose(f) == 0);
}
