/*
 * psk.c - resumption inside the handshake (RFC 8446 4.2.9, 4.2.11): the
 * client's offer and binder, the server's choice of a ticket and its
 * binder check, and the client's reading of that choice. Only
 * psk_dhe_ke is used: a resumed handshake still runs (EC)DHE.
 *
 *   struct { opaque identity<1..2^16-1>; uint32 obfuscated_ticket_age; } PskIdentity;
 *   opaque PskBinderEntry<32..255>;
 *   struct {
 *       PskIdentity identities<7..2^16-1>;
 *       PskBinderEntry binders<33..2^16-1>;
 *   } OfferedPsks;
 *   ClientHello: OfferedPsks; ServerHello: uint16 selected_identity;
 */
#include <string.h>
#include <strings.h>

#include "engine/internal.h"

#define PT_PSK_DHE_KE 1
/* Identities beyond this many are not looked at (their binders still
 * have to be well formed). */
#define PT_MAX_PSK_TRIED 8

petrel_status pt_psk_binder(const pt_algs *algs, pt_hash_alg alg, const uint8_t *psk,
                            const uint8_t *hash, uint8_t out[PT_MAX_HASH], pt_error *err)
{
    size_t n = pt_hash_len(alg);
    uint8_t early[PT_MAX_HASH];
    uint8_t empty[PT_MAX_HASH];
    uint8_t binder_key[PT_MAX_HASH];
    uint8_t finished_key[PT_MAX_HASH];
    petrel_status st = pt_hkdf_extract(algs, alg, NULL, 0, psk, n, early, err);
    if (st == PETREL_OK) {
        st = pt_hash_oneshot(algs, alg, "", 0, empty, err);
    }
    if (st == PETREL_OK) {
        st = pt_hkdf_expand_label(algs, alg, early, "res binder", empty, n, binder_key, n, err);
    }
    if (st == PETREL_OK) {
        st = pt_hkdf_expand_label(algs, alg, binder_key, "finished", NULL, 0, finished_key, n, err);
    }
    if (st == PETREL_OK) {
        st = pt_hmac(algs, alg, finished_key, n, hash, n, out, err);
    }
    pt_wipe(early, sizeof(early));
    pt_wipe(binder_key, sizeof(binder_key));
    pt_wipe(finished_key, sizeof(finished_key));
    return st;
}

/* --- Client ------------------------------------------------------------- */

/* Decides, for the first ClientHello, whether the session goes out; after
 * a HelloRetryRequest, drops it when the suite's hash is not its own
 * (RFC 8446 4.1.2). */
static bool decide_offer(petrel_conn *conn)
{
    struct pt_hs *hs = conn->hs;
    const petrel_session *s = conn->session;
    if (!hs->hrr) {
        hs->psk_offered = s != NULL && pt_offers_tls13(conn) && pt_session_offerable(conn, s);
        if (s != NULL && !hs->psk_offered) {
            pt_trace(conn, "session not offered (other server name, expired, or no suite of "
                           "its hash)");
        }
    } else if (hs->psk_offered && pt_suite_hash(conn->suite) != pt_suite_hash(s->suite)) {
        hs->psk_offered = false;
        pt_trace(conn, "session dropped: the server's suite does not use its hash");
    }
    return hs->psk_offered;
}

petrel_status pt_psk_put_offer(petrel_conn *conn, pt_builder *b)
{
    if (!decide_offer(conn)) {
        return PETREL_OK;
    }
    const petrel_session *s = conn->session;
    size_t n = pt_hash_len(pt_suite_hash(s->suite));
    /* RFC 8446 4.2.11.1: the age in milliseconds plus ticket_age_add. */
    uint32_t age = (uint32_t)(pt_now_ms() - s->received_ms) + s->age_add;
    pt_put_u16(b, PT_EXT_PRE_SHARED_KEY);
    pt_open(b, 2);
    pt_open(b, 2);
    pt_open(b, 2);
    pt_put_bytes(b, s->ticket, s->ticket_len);
    pt_close(b);
    pt_put_u32(b, age);
    pt_close(b);
    pt_open(b, 2);
    pt_open(b, 1);
    uint8_t *binder = pt_put_space(b, n);
    if (binder != NULL) {
        memset(binder, 0, n); /* filled in once the message is whole */
    }
    pt_close(b);
    pt_close(b);
    pt_close(b);
    return PETREL_OK;
}

petrel_status pt_psk_fill_binder(petrel_conn *conn, pt_buf *msg)
{
    struct pt_hs *hs = conn->hs;
    if (!hs->psk_offered) {
        return PETREL_OK;
    }
    const petrel_session *s = conn->session;
    pt_hash_alg alg = pt_suite_hash(s->suite);
    size_t n = pt_hash_len(alg);
    /* The binders list is the message's tail: 2 bytes of list length, one
     * of binder length, the binder. */
    size_t truncated = msg->len - (2 + 1 + n);
    uint8_t hash[PT_MAX_HASH];
    uint8_t binder[PT_MAX_HASH];
    PT_TRY(pt_tr_hash_with(&hs->tr, conn->ctx->algs, alg, msg->data, truncated, hash, &conn->err));
    PT_TRY(pt_psk_binder(conn->ctx->algs, alg, s->psk, hash, binder, &conn->err));
    memcpy(msg->data + msg->len - n, binder, n);
    pt_wipe(binder, sizeof(binder));
    pt_trace(conn, "offered a session for resumption");
    return PETREL_OK;
}

petrel_status pt_psk_client_accept(petrel_conn *conn, const pt_exts *x)
{
    struct pt_hs *hs = conn->hs;
    const petrel_session *s = conn->session;
    if (!pt_has_ext(x, PT_X_PRE_SHARED_KEY)) {
        if (hs->psk_offered) {
            pt_trace(conn, "server declined the session: full handshake");
        }
        return PETREL_OK;
    }
    if (!hs->psk_offered) {
        return pt_fault(&conn->err, PETREL_ALERT_UNSUPPORTED_EXTENSION,
                        "server selected a pre-shared key, but the client offered none");
    }
    pt_span body = x->body[PT_X_PRE_SHARED_KEY];
    uint16_t index;
    if (!pt_get_u16(&body, &index) || !pt_span_empty(&body)) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed pre_shared_key");
    }
    if (index != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "server selected PSK identity %u, but the client offered only one "
                        "(RFC 8446 4.2.11)",
                        index);
    }
    if (pt_suite_hash(conn->suite) != pt_suite_hash(s->suite)) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "server resumed with %s, whose hash is not the session's "
                        "(RFC 8446 4.2.11)",
                        pt_suite_name(conn->suite));
    }
    hs->resumed = true;
    memcpy(hs->psk, s->psk, sizeof(hs->psk));
    /* The server's authentication carries over (RFC 8446 2.2): its chain
     * and verification result are the session's. */
    PT_TRY(pt_peer_chain_dup(s->chain, &hs->chain, &conn->err));
    conn->verify_result = s->verify_result;
    pt_trace(conn, "server resumed the session");
    return PETREL_OK;
}

/* --- Server ------------------------------------------------------------- */

typedef struct pt_offered {
    pt_span identities; /* PskIdentity list */
    pt_span binders;    /* PskBinderEntry list */
    size_t count;
} pt_offered;

static petrel_status parse_offered(petrel_conn *conn, pt_span body, pt_offered *o)
{
    if (!pt_get_vec16(&body, &o->identities) || !pt_get_vec16(&body, &o->binders) ||
        !pt_span_empty(&body) || o->identities.len < 7 || o->binders.len < 33) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed pre_shared_key");
    }
    size_t nid = 0;
    size_t nbind = 0;
    pt_span list = o->identities;
    while (!pt_span_empty(&list)) {
        pt_span id;
        uint32_t age;
        if (!pt_get_vec16(&list, &id) || id.len == 0 || !pt_get_u32(&list, &age)) {
            return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed PSK identity");
        }
        nid++;
    }
    list = o->binders;
    while (!pt_span_empty(&list)) {
        pt_span binder;
        if (!pt_get_vec8(&list, &binder) || binder.len < 32) {
            return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed PSK binder");
        }
        nbind++;
    }
    if (nid != nbind) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "pre_shared_key has %zu identities but %zu binders (RFC 8446 4.2.11)", nid,
                        nbind);
    }
    o->count = nid;
    return PETREL_OK;
}

static bool offers_dhe_mode(const pt_exts *x)
{
    pt_span body = x->body[PT_X_PSK_KEY_EXCHANGE_MODES];
    pt_span modes;
    uint8_t mode;
    if (!pt_get_vec8(&body, &modes)) {
        return false;
    }
    while (pt_get_u8(&modes, &mode)) {
        if (mode == PT_PSK_DHE_KE) {
            return true;
        }
    }
    return false;
}

petrel_status pt_psk_server_check(petrel_conn *conn, const pt_exts *x)
{
    conn->client_psk_dhe = false;
    if (pt_has_ext(x, PT_X_PSK_KEY_EXCHANGE_MODES)) {
        pt_span body = x->body[PT_X_PSK_KEY_EXCHANGE_MODES];
        pt_span modes;
        if (!pt_get_vec8(&body, &modes) || !pt_span_empty(&body) || modes.len == 0) {
            return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                            "malformed psk_key_exchange_modes");
        }
        conn->client_psk_dhe = offers_dhe_mode(x);
    }
    if (pt_has_ext(x, PT_X_PRE_SHARED_KEY) && !pt_has_ext(x, PT_X_PSK_KEY_EXCHANGE_MODES)) {
        return pt_fault(&conn->err, PETREL_ALERT_MISSING_EXTENSION,
                        "ClientHello offers pre_shared_key without psk_key_exchange_modes "
                        "(RFC 8446 4.2.9)");
    }
    return PETREL_OK;
}

static bool span_equals(pt_span s, const char *str, bool ignore_case)
{
    size_t len = str != NULL ? strlen(str) : 0;
    if (s.len != len) {
        return false;
    }
    if (len == 0) {
        return true;
    }
    return ignore_case ? strncasecmp((const char *)s.p, str, len) == 0 : memcmp(s.p, str, len) == 0;
}

/* Whether an opened ticket may resume this connection; why not, if not. */
static const char *refusal(const petrel_conn *conn, const pt_ticket_state *t)
{
    const petrel_ctx *ctx = conn->ctx;
    uint64_t now = pt_now_ms();
    if (pt_suite_hash(t->suite) != conn->hash || t->psk_len != pt_hash_len(conn->hash)) {
        return "its suite's hash is not the chosen suite's";
    }
    if (t->lifetime > PT_MAX_TICKET_LIFETIME || t->issued_ms > now ||
        now - t->issued_ms >= (uint64_t)t->lifetime * 1000u) {
        return "it has expired";
    }
    if (!span_equals(t->sni, conn->hostname, true)) {
        return "it was issued for another server name";
    }
    if (!span_equals(t->alpn, conn->alpn, false)) {
        return "it was issued for another application protocol";
    }
    /* A resumption must not stand in for a client certificate the full
     * handshake would have required. */
    if (ctx->verify_mode == PETREL_CERT_REQUIRED && !ctx->post_handshake_auth && !t->client_auth) {
        return "it records no client certificate, and one is required";
    }
    return NULL;
}

/* Finds the first identity whose ticket opens and may be used. */
static int choose(petrel_conn *conn, const pt_offered *o, pt_buf *plain, pt_ticket_state *t)
{
    pt_span list = o->identities;
    for (int i = 0; i < (int)o->count && i < PT_MAX_PSK_TRIED; i++) {
        pt_span id;
        uint32_t age;
        if (!pt_get_vec16(&list, &id) || !pt_get_u32(&list, &age)) {
            return -1;
        }
        if (!pt_ticket_open(conn, id, plain, t)) {
            pt_trace(conn, "PSK identity %d is not a ticket of this context", i);
            continue;
        }
        const char *why = refusal(conn, t);
        if (why == NULL) {
            return i;
        }
        pt_trace(conn, "session ticket %d not resumed: %s", i, why);
        pt_peer_chain_free(t->chain);
        pt_wipe(t, sizeof(*t));
    }
    return -1;
}

static petrel_status check_binder(petrel_conn *conn, const pt_offered *o, int index,
                                  const uint8_t *raw, size_t raw_len, const uint8_t *psk)
{
    pt_span list = o->binders;
    pt_span binder = {0};
    for (int i = 0; i <= index; i++) {
        if (!pt_get_vec8(&list, &binder)) {
            return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed PSK binder");
        }
    }
    size_t n = pt_hash_len(conn->hash);
    uint8_t hash[PT_MAX_HASH];
    uint8_t expected[PT_MAX_HASH];
    /* RFC 8446 4.2.11.2: the binder covers the ClientHello up to, not
     * including, the binders list, which ends the message. */
    size_t truncated = raw_len - 2 - o->binders.len;
    PT_TRY(pt_tr_hash_with(&conn->hs->tr, conn->ctx->algs, conn->hash, raw, truncated, hash,
                           &conn->err));
    PT_TRY(pt_psk_binder(conn->ctx->algs, conn->hash, psk, hash, expected, &conn->err));
    int diff = binder.len != n ? 1 : pt_ct_memcmp(expected, binder.p, n);
    pt_wipe(expected, sizeof(expected));
    if (diff != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_DECRYPT_ERROR,
                        "PSK binder does not match the ClientHello (RFC 8446 4.2.11.2)");
    }
    return PETREL_OK;
}

petrel_status pt_psk_server_select(petrel_conn *conn, const pt_exts *x, const uint8_t *raw,
                                   size_t raw_len)
{
    struct pt_hs *hs = conn->hs;
    pt_offered o;
    if (!pt_has_ext(x, PT_X_PRE_SHARED_KEY)) {
        return PETREL_OK;
    }
    PT_TRY(parse_offered(conn, x->body[PT_X_PRE_SHARED_KEY], &o));
    if (!offers_dhe_mode(x)) {
        pt_trace(conn, "client offers PSKs without psk_dhe_ke: full handshake");
        return PETREL_OK;
    }
    pt_buf plain;
    pt_buf_init(&plain, 65536, true);
    pt_ticket_state t;
    int index = choose(conn, &o, &plain, &t);
    petrel_status st = PETREL_OK;
    if (index >= 0) {
        st = check_binder(conn, &o, index, raw, raw_len, t.psk);
    }
    if (index >= 0 && st == PETREL_OK) {
        hs->resumed = true;
        hs->psk_index = (uint16_t)index;
        memcpy(hs->psk, t.psk, t.psk_len);
        hs->chain = t.chain;
        conn->verify_result = t.chain != NULL ? t.verify_result : 0;
        t.chain = NULL;
        pt_trace(conn, "resumed the session of PSK identity %d", index);
    }
    if (index >= 0) {
        pt_peer_chain_free(t.chain);
        pt_wipe(&t, sizeof(t));
    }
    pt_buf_release(&plain);
    return st;
}
