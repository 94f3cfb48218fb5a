/*
 * ticket.c - the server's session tickets (RFC 8446 4.6.1): stateless,
 * sealed with the context's ticket key, sent after the handshake.
 *
 * A ticket is key_name (16) | iv (12) | AES-256-GCM(state) | tag (16),
 * with the key name as additional data. The state it seals:
 *
 *   struct {
 *       uint8 format = 1;
 *       CipherSuite suite;
 *       opaque psk<1..48>;           HKDF-Expand-Label(res master,
 *                                    "resumption", ticket_nonce)
 *       uint32 ticket_age_add;
 *       uint64 issued_ms;            milliseconds since the epoch
 *       uint32 lifetime;             seconds
 *       opaque alpn<0..255>;
 *       opaque server_name<0..255>;
 *       uint8 client_auth;           0: none; 1: the client's chain follows
 *       select (client_auth) {
 *           case 1: uint32 verify_result; uint8 verified_len;
 *                   ASN1Cert chain<1..2^24-1>;   opaque ASN1Cert<1..2^24-1>
 *       };
 *   } TicketState;
 *
 * A client that authenticated in the handshake gets its chain recorded
 * (it is bounded by the context's limits when received); when that would
 * not fit in a ticket of PT_TICKET_MAX bytes (16 KiB, so that a ClientHello
 * carrying it stays far from any handshake message limit), no tickets are
 * sent.
 */
#include <string.h>

#include "engine/internal.h"

#define PT_TICKET_FORMAT 1
#define PT_TICKET_IV 12
#define PT_TICKET_HEAD (PT_TICKET_KEY_NAME + PT_TICKET_IV)
#define PT_TICKET_MAX (PT_TICKET_OFFER_MAX / 2)
#define PT_TICKET_NONCE 8
#define PT_MAX_CHAIN_LEN 64

/* With the deterministic random stream on, every context seals with this
 * fixed key, so that recorded tickets stay valid input for fuzzing. */
static const uint8_t insecure_key_name[PT_TICKET_KEY_NAME] = "petrel-insecure";
static const uint8_t insecure_key[PT_TICKET_KEY] = {0};

static const uint8_t *key_name(const petrel_ctx *ctx)
{
    return pt_random_is_deterministic() ? insecure_key_name : ctx->ticket_key_name;
}

static const uint8_t *key(const petrel_ctx *ctx)
{
    return pt_random_is_deterministic() ? insecure_key : ctx->ticket_key;
}

static void put_client_auth(petrel_conn *conn, pt_builder *b)
{
    const pt_peer_chain *chain = conn->peer;
    if (chain == NULL) {
        pt_put_u8(b, 0);
        return;
    }
    pt_put_u8(b, 1);
    pt_put_u32(b, (uint32_t)conn->verify_result);
    size_t verified = pt_peer_chain_verified_len(chain);
    pt_put_u8(b, (uint8_t)(verified > 255 ? 255 : verified));
    pt_open(b, 3);
    for (size_t i = 0; i < pt_peer_chain_len(chain); i++) {
        size_t len;
        const uint8_t *der = pt_peer_chain_der(chain, i, &len);
        pt_open(b, 3);
        pt_put_bytes(b, der, len);
        pt_close(b);
    }
    pt_close(b);
}

static void put_str8(pt_builder *b, const char *s)
{
    pt_open(b, 1);
    if (s != NULL) {
        pt_put_bytes(b, s, strlen(s));
    }
    pt_close(b);
}

static void put_state(petrel_conn *conn, pt_builder *b, const uint8_t *psk, uint32_t age_add)
{
    pt_put_u8(b, PT_TICKET_FORMAT);
    pt_put_u16(b, conn->suite);
    pt_open(b, 1);
    pt_put_bytes(b, psk, pt_hash_len(conn->hash));
    pt_close(b);
    pt_put_u32(b, age_add);
    pt_put_u64(b, pt_now_ms());
    pt_put_u32(b, conn->ctx->session_timeout);
    put_str8(b, conn->alpn);
    put_str8(b, conn->hostname);
    put_client_auth(conn, b);
}

/* Builds the sealed ticket into t (a secret buffer). False when it does
 * not fit. */
static petrel_status seal(petrel_conn *conn, pt_buf *t, const uint8_t *psk, uint32_t age_add,
                          bool *fits)
{
    const petrel_ctx *ctx = conn->ctx;
    uint8_t iv[PT_TICKET_IV];
    PT_TRY(pt_random(iv, sizeof(iv), &conn->err));
    pt_builder b;
    pt_builder_init(&b, t);
    pt_put_bytes(&b, key_name(ctx), PT_TICKET_KEY_NAME);
    pt_put_bytes(&b, iv, sizeof(iv));
    put_state(conn, &b, psk, age_add);
    uint8_t *tag = pt_put_space(&b, PT_AEAD_TAG);
    *fits = pt_builder_ok(&b) && tag != NULL;
    if (!*fits) {
        return PETREL_OK;
    }
    pt_aead a = {0};
    size_t len = t->len - PT_TICKET_HEAD - PT_AEAD_TAG;
    petrel_status st = pt_aead_init(&a, ctx->algs, PT_AES_256_GCM, key(ctx), true, &conn->err);
    if (st == PETREL_OK) {
        st = pt_aead_seal(&a, iv, t->data, PT_TICKET_KEY_NAME, t->data + PT_TICKET_HEAD, len,
                          t->data + PT_TICKET_HEAD + len, &conn->err);
    }
    pt_aead_free(&a);
    return st;
}

/*   struct {
 *       uint32 ticket_lifetime;
 *       uint32 ticket_age_add;
 *       opaque ticket_nonce<0..255>;
 *       opaque ticket<1..2^16-1>;
 *       Extension extensions<0..2^16-2>;
 *   } NewSessionTicket;
 */
static petrel_status send_one(petrel_conn *conn, pt_buf *t, bool *fits)
{
    uint8_t nonce[PT_TICKET_NONCE];
    uint8_t psk[PT_MAX_HASH];
    uint32_t age_add;
    uint64_t n = conn->tickets_sent++;
    for (int i = 0; i < PT_TICKET_NONCE; i++) {
        nonce[i] = (uint8_t)(n >> (56 - 8 * i));
    }
    PT_TRY(pt_random(&age_add, sizeof(age_add), &conn->err));
    PT_TRY(pt_hkdf_expand_label(conn->ctx->algs, conn->hash, conn->resumption_secret, "resumption",
                                nonce, sizeof(nonce), psk, pt_hash_len(conn->hash), &conn->err));
    pt_buf_reset(t);
    petrel_status st = seal(conn, t, psk, age_add, fits);
    pt_wipe(psk, sizeof(psk));
    if (st != PETREL_OK || !*fits) {
        return st;
    }
    pt_buf msg;
    pt_buf_init(&msg, PT_TICKET_MAX + 64, false);
    pt_builder b;
    pt_msg_begin(&b, &msg, PT_HS_NEW_SESSION_TICKET);
    pt_put_u32(&b, conn->ctx->session_timeout);
    pt_put_u32(&b, age_add);
    pt_open(&b, 1);
    pt_put_bytes(&b, nonce, sizeof(nonce));
    pt_close(&b);
    pt_open(&b, 2);
    pt_put_bytes(&b, t->data, t->len);
    pt_close(&b);
    pt_put_u16(&b, 0);
    st = pt_msg_end(conn, &b);
    if (st == PETREL_OK) {
        st = pt_send_handshake(conn, msg.data, msg.len, NULL);
    }
    pt_buf_release(&msg);
    return st;
}

petrel_status pt_tickets_send(petrel_conn *conn)
{
    if (conn->role != PETREL_SERVER || conn->version != PETREL_TLS1_3) {
        return PETREL_OK;
    }
    /* RFC 8446 4.2.9: no tickets for modes the client did not advertise. */
    if (!conn->client_psk_dhe) {
        if (conn->ctx->num_tickets > 0) {
            pt_trace(conn, "sent no session ticket: the client cannot resume with psk_dhe_ke");
        }
        return PETREL_OK;
    }
    pt_buf t;
    pt_buf_init(&t, PT_TICKET_MAX, true);
    bool fits = true;
    petrel_status st = PETREL_OK;
    for (size_t i = 0; i < conn->ctx->num_tickets && st == PETREL_OK && fits; i++) {
        st = send_one(conn, &t, &fits);
    }
    pt_buf_release(&t);
    if (!fits) {
        pt_trace(conn, "sent no session ticket: the client's chain does not fit in one");
    }
    return st;
}

/* --- Opening ------------------------------------------------------------ */

static bool parse_client_auth(pt_span *s, pt_ticket_state *out, pt_error *err)
{
    uint8_t flag;
    if (!pt_get_u8(s, &flag) || flag > 1) {
        return false;
    }
    out->client_auth = flag == 1;
    if (!out->client_auth) {
        return true;
    }
    uint32_t result;
    uint8_t verified;
    pt_span list;
    const uint8_t *ders[PT_MAX_CHAIN_LEN];
    size_t lens[PT_MAX_CHAIN_LEN];
    size_t count = 0;
    if (!pt_get_u32(s, &result) || !pt_get_u8(s, &verified) || !pt_get_vec24(s, &list)) {
        return false;
    }
    while (!pt_span_empty(&list)) {
        pt_span der;
        if (count == PT_MAX_CHAIN_LEN || !pt_get_vec24(&list, &der) || der.len == 0) {
            return false;
        }
        ders[count] = der.p;
        lens[count++] = der.len;
    }
    if (count == 0 || pt_peer_chain_parse(ders, lens, count, &out->chain, err) != PETREL_OK) {
        return false;
    }
    pt_peer_chain_set_verified_len(out->chain, verified);
    out->verify_result = (long)(int32_t)result;
    return true;
}

static bool parse_state(pt_span s, pt_ticket_state *out, pt_error *err)
{
    uint8_t format;
    pt_span psk;
    if (!pt_get_u8(&s, &format) || format != PT_TICKET_FORMAT || !pt_get_u16(&s, &out->suite) ||
        !pt_get_vec8(&s, &psk) || psk.len == 0 || psk.len > PT_MAX_HASH ||
        !pt_get_u32(&s, &out->age_add) || !pt_get_u64(&s, &out->issued_ms) ||
        !pt_get_u32(&s, &out->lifetime) || !pt_get_vec8(&s, &out->alpn) ||
        !pt_get_vec8(&s, &out->sni)) {
        return false;
    }
    memcpy(out->psk, psk.p, psk.len);
    out->psk_len = psk.len;
    if (!parse_client_auth(&s, out, err)) {
        return false;
    }
    if (!pt_span_empty(&s)) {
        pt_peer_chain_free(out->chain);
        out->chain = NULL;
        return false;
    }
    return true;
}

bool pt_ticket_open(petrel_conn *conn, pt_span ticket, pt_buf *plain, pt_ticket_state *out)
{
    const petrel_ctx *ctx = conn->ctx;
    pt_span name;
    pt_span iv;
    pt_span ct;
    pt_span tag;
    *out = (pt_ticket_state){0};
    if (ticket.len < PT_TICKET_HEAD + PT_AEAD_TAG ||
        !pt_get_bytes(&ticket, PT_TICKET_KEY_NAME, &name) ||
        pt_ct_memcmp(name.p, key_name(ctx), PT_TICKET_KEY_NAME) != 0 ||
        !pt_get_bytes(&ticket, PT_TICKET_IV, &iv) ||
        !pt_get_bytes(&ticket, ticket.len - PT_AEAD_TAG, &ct) ||
        !pt_get_bytes(&ticket, PT_AEAD_TAG, &tag)) {
        return false;
    }
    pt_buf_reset(plain);
    if (!pt_buf_append(plain, ct.p, ct.len)) {
        return false;
    }
    /* A failure here is the client's ticket being foreign or altered, not
     * a fault of the connection: the handshake goes on without it. */
    pt_error scratch;
    pt_error_init(&scratch);
    pt_aead a = {0};
    bool ok = pt_aead_init(&a, ctx->algs, PT_AES_256_GCM, key(ctx), false, &scratch) == PETREL_OK &&
              pt_aead_open(&a, iv.p, name.p, PT_TICKET_KEY_NAME, plain->data, ct.len, tag.p,
                           &scratch) == PETREL_OK;
    pt_aead_free(&a);
    return ok && parse_state(pt_span_of(plain->data, plain->len), out, &scratch);
}
