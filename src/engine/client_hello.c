/*
 * client_hello.c - ClientHello (RFC 8446 4.1.2): built by the client,
 * received by the server, one function per extension on the way in.
 *
 *   struct {
 *       ProtocolVersion legacy_version = 0x0303;
 *       Random random;
 *       opaque legacy_session_id<0..32>;
 *       CipherSuite cipher_suites<2..2^16-2>;
 *       opaque legacy_compression_methods<1..2^8-1>;
 *       Extension extensions<8..2^16-1>;
 *   } ClientHello;
 */
#include <string.h>

#include "engine/internal.h"

/* Room for a ticket of the largest size in the pre_shared_key extension. */
#define PT_CLIENT_HELLO_MAX (128 * 1024)

/* OpenSSL's security levels as bits of security. */
static int level_bits(int level)
{
    static const int bits[] = {0, 80, 112, 128, 192, 256};
    return bits[level < 0 ? 0 : level > 5 ? 5 : level];
}

static bool group_allowed(const petrel_conn *conn, uint16_t group)
{
    return pt_group_supported(group) &&
           pt_group_security_bits(group) >= level_bits(conn->ctx->security_level);
}

bool pt_group_allowed(const petrel_conn *conn, uint16_t group)
{
    return group_allowed(conn, group);
}

static bool is_ip_literal(const char *name)
{
    /* SNI carries DNS names only (RFC 6066 3). */
    bool digits_dots = true;
    for (const char *p = name; *p != '\0'; p++) {
        if (*p == ':') {
            return true;
        }
        if (!((*p >= '0' && *p <= '9') || *p == '.')) {
            digits_dots = false;
        }
    }
    return digits_dots;
}

static void put_server_name(petrel_conn *conn, pt_builder *b)
{
    if (conn->hostname == NULL || is_ip_literal(conn->hostname)) {
        return;
    }
    pt_put_u16(b, PT_EXT_SERVER_NAME);
    pt_open(b, 2);
    pt_open(b, 2);
    pt_put_u8(b, 0); /* host_name */
    pt_open(b, 2);
    pt_put_bytes(b, conn->hostname, strlen(conn->hostname));
    pt_close(b);
    pt_close(b);
    pt_close(b);
}

static void put_groups(petrel_conn *conn, pt_builder *b)
{
    pt_put_u16(b, PT_EXT_SUPPORTED_GROUPS);
    pt_open(b, 2);
    pt_open(b, 2);
    for (size_t i = 0; i < conn->ctx->groups_count; i++) {
        if (group_allowed(conn, conn->ctx->groups[i])) {
            pt_put_u16(b, conn->ctx->groups[i]);
        }
    }
    pt_close(b);
    pt_close(b);
}

static petrel_status put_key_share(petrel_conn *conn, pt_builder *b)
{
    struct pt_hs *hs = conn->hs;
    uint8_t share[PT_MAX_SHARE];
    size_t share_len;
    pt_kex_free(hs->kex);
    hs->kex = NULL;
    PT_TRY(pt_kex_generate(conn->ctx->algs, hs->kex_group, &hs->kex, share, sizeof(share),
                           &share_len, &conn->err));
    pt_put_u16(b, PT_EXT_KEY_SHARE);
    pt_open(b, 2);
    pt_open(b, 2);
    pt_put_u16(b, hs->kex_group);
    pt_open(b, 2);
    pt_put_bytes(b, share, share_len);
    pt_close(b);
    pt_close(b);
    pt_close(b);
    return PETREL_OK;
}

static void put_small_exts(petrel_conn *conn, pt_builder *b)
{
    const petrel_ctx *ctx = conn->ctx;
    bool tls13 = pt_offers_tls13(conn);
    pt_put_versions_ext(conn, b);
    /* Without psk_key_exchange_modes a server would not send tickets. */
    if (tls13) {
        pt_put_u16(b, PT_EXT_PSK_KEY_EXCHANGE_MODES);
        pt_open(b, 2);
        pt_open(b, 1);
        pt_put_u8(b, 1); /* psk_dhe_ke */
        pt_close(b);
        pt_close(b);
    }
    if (ctx->alpn_len > 0) {
        pt_put_u16(b, PT_EXT_ALPN);
        pt_open(b, 2);
        pt_open(b, 2);
        pt_put_bytes(b, ctx->alpn, ctx->alpn_len);
        pt_close(b);
        pt_close(b);
    }
    pt_put_u16(b, PT_EXT_RECORD_SIZE_LIMIT);
    pt_put_u16(b, 2);
    /* RFC 8449 4: no more than the largest version we offer allows. */
    pt_put_u16(b, tls13 ? PT_RECORD_SIZE_LIMIT : PT_MAX_PLAINTEXT);
    if (ctx->post_handshake_auth && tls13) {
        pt_put_u16(b, PT_EXT_POST_HANDSHAKE_AUTH);
        pt_put_u16(b, 0);
    }
    if (conn->hs->cookie_len > 0) {
        pt_put_u16(b, PT_EXT_COOKIE);
        pt_open(b, 2);
        pt_open(b, 2);
        pt_put_bytes(b, conn->hs->cookie, conn->hs->cookie_len);
        pt_close(b);
        pt_close(b);
    }
    if (pt_offers_tls12(conn)) {
        pt_tls12_put_client_exts(conn, b);
    }
}

static uint16_t first_allowed_group(const petrel_conn *conn)
{
    for (size_t i = 0; i < conn->ctx->groups_count; i++) {
        if (group_allowed(conn, conn->ctx->groups[i])) {
            return conn->ctx->groups[i];
        }
    }
    return 0;
}

static void trace_offer(petrel_conn *conn)
{
    const petrel_ctx *ctx = conn->ctx;
    if (!pt_offers_tls13(conn)) {
        pt_trace(conn, "offered TLSv1.2 with %zu cipher suites", ctx->suites12_count);
        return;
    }
    bool tls12 = pt_offers_tls12(conn);
    pt_trace(conn, "offered TLSv1.3%s with %zu cipher suites, key share %s%s",
             tls12 ? " and TLSv1.2" : "", ctx->suites13_count + (tls12 ? ctx->suites12_count : 0),
             pt_group_name(conn->hs->kex_group), conn->pha_offered ? ", post_handshake_auth" : "");
}

petrel_status pt_client_hello_send(petrel_conn *conn)
{
    struct pt_hs *hs = conn->hs;
    const petrel_ctx *ctx = conn->ctx;
    if (!hs->hrr) {
        PT_TRY(pt_random(conn->client_random, 32, &conn->err));
        /* middlebox compatibility, RFC 8446 D.4; a TLS 1.2-only client
         * asks for no session */
        hs->session_id_len = pt_offers_tls13(conn) ? 32 : 0;
        PT_TRY(pt_random(hs->session_id, 32, &conn->err));
        hs->kex_group = first_allowed_group(conn);
        if (hs->kex_group == 0) {
            return pt_fail(&conn->err, PETREL_ERR_PROTOCOL, PETREL_ALERT_INSUFFICIENT_SECURITY,
                           "no key exchange group is allowed at security level %d",
                           ctx->security_level);
        }
    }
    pt_buf msg;
    pt_buf_init(&msg, PT_CLIENT_HELLO_MAX, false);
    pt_builder b;
    pt_msg_begin(&b, &msg, PT_HS_CLIENT_HELLO);
    pt_put_u16(&b, 0x0303);
    pt_put_bytes(&b, conn->client_random, 32);
    pt_open(&b, 1);
    pt_put_bytes(&b, hs->session_id, hs->session_id_len);
    pt_close(&b);
    pt_open(&b, 2);
    for (size_t i = 0; pt_offers_tls13(conn) && i < ctx->suites13_count; i++) {
        pt_put_u16(&b, ctx->suites13[i]);
    }
    for (size_t i = 0; pt_offers_tls12(conn) && i < ctx->suites12_count; i++) {
        pt_put_u16(&b, ctx->suites12[i]);
    }
    pt_close(&b);
    pt_put_u8(&b, 1);
    pt_put_u8(&b, 0);
    pt_open(&b, 2);
    put_server_name(conn, &b);
    put_groups(conn, &b);
    pt_put_sigalgs_ext(conn, &b);
    put_small_exts(conn, &b);
    petrel_status st = pt_offers_tls13(conn) ? put_key_share(conn, &b) : PETREL_OK;
    if (st == PETREL_OK) {
        st = pt_psk_put_offer(conn, &b); /* last (RFC 8446 4.2.11) */
    }
    pt_close(&b);
    if (st == PETREL_OK) {
        st = pt_msg_end(conn, &b);
    }
    if (st == PETREL_OK) {
        st = pt_psk_fill_binder(conn, &msg);
    }
    if (st == PETREL_OK) {
        st = pt_send_handshake(conn, msg.data, msg.len, NULL);
    }
    pt_buf_release(&msg);
    PT_TRY(st);
    conn->pha_offered = ctx->post_handshake_auth && pt_offers_tls13(conn);
    trace_offer(conn);
    pt_set_state(conn, hs->hrr ? PT_ST_C_WAIT_SH_AFTER_HRR : PT_ST_C_WAIT_SH);
    return PETREL_OK;
}

/* RFC 8449: the peer's record_size_limit caps the records we send. In
 * TLS 1.3 the limit counts the inner content type byte. */
petrel_status pt_record_size_limit_recv(petrel_conn *conn, const pt_exts *x)
{
    if (!pt_has_ext(x, PT_X_RECORD_SIZE_LIMIT)) {
        return PETREL_OK;
    }
    pt_span body = x->body[PT_X_RECORD_SIZE_LIMIT];
    uint16_t limit;
    if (!pt_get_u16(&body, &limit) || !pt_span_empty(&body)) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed record_size_limit");
    }
    if (limit < 64) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "record_size_limit of %u is below the minimum of 64 (RFC 8449 4)", limit);
    }
    size_t fragment = (size_t)limit - 1;
    conn->rl.max_fragment = fragment < PT_MAX_PLAINTEXT ? fragment : PT_MAX_PLAINTEXT;
    conn->record_size_limit_seen = true;
    return PETREL_OK;
}

/* --- Server side -------------------------------------------------------- */

typedef struct pt_ch {
    uint16_t legacy_version;
    pt_span session_id;
    pt_span suites;
    pt_span comp;
    pt_exts x;
} pt_ch;

static petrel_status parse_ch(petrel_conn *conn, pt_span body, pt_ch *ch)
{
    pt_span random;
    pt_span exts;
    if (!pt_get_u16(&body, &ch->legacy_version) || !pt_get_bytes(&body, 32, &random) ||
        !pt_get_vec8(&body, &ch->session_id) || !pt_get_vec16(&body, &ch->suites) ||
        !pt_get_vec8(&body, &ch->comp)) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed ClientHello");
    }
    if (ch->session_id.len > 32 || ch->suites.len < 2 || ch->suites.len % 2 != 0 ||
        ch->comp.len < 1) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                        "malformed ClientHello (session id, cipher suites or compression)");
    }
    if (pt_span_empty(&body)) {
        exts = pt_span_of(NULL, 0);
    } else if (!pt_get_vec16(&body, &exts) || !pt_span_empty(&body)) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed ClientHello extensions");
    }
    PT_TRY(pt_exts_parse(exts, &ch->x, &conn->err));
    if (pt_has_ext(&ch->x, PT_X_PRE_SHARED_KEY) && !ch->x.psk_last) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "pre_shared_key is not the last extension (RFC 8446 4.2.11)");
    }
    if (conn->state == PT_ST_S_WAIT_CH) {
        memcpy(conn->client_random, random.p, 32);
    } else if (memcmp(conn->client_random, random.p, 32) != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "second ClientHello changed the random (RFC 8446 4.1.2)");
    }
    return PETREL_OK;
}

/* RFC 8446 4.1.2: TLS 1.3 needs exactly the null compression method. */
static petrel_status ch_compression(petrel_conn *conn, pt_span comp)
{
    if (comp.len != 1 || comp.p[0] != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "ClientHello compression methods must be exactly [null] in TLS 1.3");
    }
    return PETREL_OK;
}

static petrel_status ch_suite(petrel_conn *conn, pt_span suites)
{
    const petrel_ctx *ctx = conn->ctx;
    for (size_t i = 0; i < ctx->suites13_count; i++) {
        pt_span s = suites;
        uint16_t v;
        while (pt_get_u16(&s, &v)) {
            if (v != ctx->suites13[i]) {
                continue;
            }
            if (conn->state == PT_ST_S_WAIT_CH_AFTER_HRR && v != conn->suite) {
                return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                                "second ClientHello dropped the chosen cipher suite");
            }
            conn->suite = v;
            conn->hash = pt_suite_hash(v);
            return PETREL_OK;
        }
    }
    return pt_fault(&conn->err, PETREL_ALERT_HANDSHAKE_FAILURE,
                    "no cipher suite in common: the client offers none of the server's TLS 1.3 "
                    "suites");
}

static petrel_status ch_sigalgs(petrel_conn *conn, const pt_exts *x)
{
    struct pt_hs *hs = conn->hs;
    if (!pt_has_ext(x, PT_X_SIGNATURE_ALGORITHMS)) {
        return pt_fault(&conn->err, PETREL_ALERT_MISSING_EXTENSION,
                        "ClientHello has no signature_algorithms (RFC 8446 9.2)");
    }
    PT_TRY(pt_parse_sigalgs(x->body[PT_X_SIGNATURE_ALGORITHMS], hs->peer_sigalgs,
                            PT_MAX_PEER_SIGALGS, &hs->peer_sigalg_count, &conn->err));
    if (conn->ctx->cred == NULL) {
        return pt_fault(&conn->err, PETREL_ALERT_HANDSHAKE_FAILURE,
                        "server has no certificate; call load_cert_chain first");
    }
    conn->sigalg = pt_credential_pick_sigalg(
        conn->ctx->cred, hs->peer_sigalgs, hs->peer_sigalg_count, true, conn->ctx->security_level);
    if (conn->sigalg == 0) {
        return pt_fault(&conn->err, PETREL_ALERT_HANDSHAKE_FAILURE,
                        "no signature algorithm in common for the server's key (at security "
                        "level %d)",
                        conn->ctx->security_level);
    }
    return PETREL_OK;
}

static petrel_status ch_groups(petrel_conn *conn, const pt_exts *x)
{
    struct pt_hs *hs = conn->hs;
    pt_span body = x->body[PT_X_SUPPORTED_GROUPS];
    pt_span list;
    if (!pt_has_ext(x, PT_X_SUPPORTED_GROUPS) || !pt_has_ext(x, PT_X_KEY_SHARE)) {
        return pt_fault(&conn->err, PETREL_ALERT_MISSING_EXTENSION,
                        "ClientHello needs both supported_groups and key_share (RFC 8446 9.2)");
    }
    if (!pt_get_vec16(&body, &list) || !pt_span_empty(&body) || list.len < 2 || list.len % 2) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed supported_groups");
    }
    hs->offered_group_count = 0;
    uint16_t g;
    while (pt_get_u16(&list, &g)) {
        if (pt_group_supported(g) && hs->offered_group_count < PT_MAX_GROUPS) {
            hs->offered_groups[hs->offered_group_count++] = g;
        }
    }
    return PETREL_OK;
}

static bool client_offers_group(const struct pt_hs *hs, uint16_t group)
{
    for (size_t i = 0; i < hs->offered_group_count; i++) {
        if (hs->offered_groups[i] == group) {
            return true;
        }
    }
    return false;
}

/* Finds the client's share for `group` (RFC 8446 4.2.8), checking the
 * shares are well formed and each group appears once. */
static petrel_status ch_find_share(petrel_conn *conn, pt_span body, uint16_t group, pt_span *share,
                                   bool *found)
{
    pt_span list;
    uint16_t seen[16];
    size_t nseen = 0;
    *found = false;
    if (!pt_get_vec16(&body, &list) || !pt_span_empty(&body)) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed key_share");
    }
    while (!pt_span_empty(&list)) {
        uint16_t g;
        pt_span ke;
        if (!pt_get_u16(&list, &g) || !pt_get_vec16(&list, &ke) || ke.len == 0) {
            return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed key_share entry");
        }
        for (size_t i = 0; i < nseen; i++) {
            if (seen[i] == g) {
                return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                                "key_share offers group 0x%04x twice (RFC 8446 4.2.8)", g);
            }
        }
        if (nseen < PT_ARRAY_LEN(seen)) {
            seen[nseen++] = g;
        }
        if (pt_group_supported(g) && !client_offers_group(conn->hs, g)) {
            return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                            "key_share for group %s, which supported_groups does not list",
                            pt_group_name(g));
        }
        if (g == group) {
            *share = ke;
            *found = true;
        }
    }
    return PETREL_OK;
}

/* Picks the group: the server's most preferred one with a client share,
 * else the most preferred one the client supports (HelloRetryRequest). */
static petrel_status ch_key_share(petrel_conn *conn, const pt_exts *x, pt_span *share,
                                  bool *need_hrr)
{
    const petrel_ctx *ctx = conn->ctx;
    uint16_t fallback = 0;
    *need_hrr = false;
    for (size_t i = 0; i < ctx->groups_count; i++) {
        uint16_t g = ctx->groups[i];
        if (!group_allowed(conn, g) || !client_offers_group(conn->hs, g)) {
            continue;
        }
        bool found;
        PT_TRY(ch_find_share(conn, x->body[PT_X_KEY_SHARE], g, share, &found));
        if (found) {
            conn->group = g;
            return PETREL_OK;
        }
        if (fallback == 0) {
            fallback = g;
        }
    }
    if (fallback == 0) {
        return pt_fault(&conn->err, PETREL_ALERT_HANDSHAKE_FAILURE,
                        "no key exchange group in common with the client");
    }
    if (conn->state == PT_ST_S_WAIT_CH_AFTER_HRR) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "second ClientHello has no key share for the requested group");
    }
    conn->group = fallback;
    *need_hrr = true;
    return PETREL_OK;
}

static petrel_status ch_server_name(petrel_conn *conn, const pt_exts *x)
{
    if (!pt_has_ext(x, PT_X_SERVER_NAME) || conn->hostname != NULL) {
        return PETREL_OK;
    }
    pt_span body = x->body[PT_X_SERVER_NAME];
    pt_span list;
    pt_span name;
    uint8_t type;
    if (!pt_get_vec16(&body, &list) || !pt_span_empty(&body) || !pt_get_u8(&list, &type) ||
        !pt_get_vec16(&list, &name) || type != 0 || name.len == 0 || name.len > 255) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed server_name");
    }
    for (size_t i = 0; i < name.len; i++) {
        if (name.p[i] <= 0x20 || name.p[i] >= 0x7f) {
            return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                            "server_name holds a byte that is not a printable ASCII character");
        }
    }
    conn->hostname = pt_malloc(name.len + 1);
    if (conn->hostname == NULL) {
        return pt_fail(&conn->err, PETREL_ERR_NO_MEMORY, -1, "out of memory");
    }
    memcpy(conn->hostname, name.p, name.len);
    conn->hostname[name.len] = '\0';
    return PETREL_OK;
}

static bool alpn_list_has(pt_span list, const uint8_t *name, size_t len)
{
    pt_span n;
    while (pt_get_vec8(&list, &n)) {
        if (n.len == len && memcmp(n.p, name, len) == 0) {
            return true;
        }
    }
    return false;
}

/* RFC 7301 3.2: the server's preference wins; no overlap is fatal. */
static petrel_status ch_alpn(petrel_conn *conn, const pt_exts *x)
{
    const petrel_ctx *ctx = conn->ctx;
    if (!pt_has_ext(x, PT_X_ALPN) || ctx->alpn_len == 0) {
        return PETREL_OK;
    }
    pt_span body = x->body[PT_X_ALPN];
    pt_span list;
    if (!pt_get_vec16(&body, &list) || !pt_span_empty(&body) || list.len < 2) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed ALPN extension");
    }
    pt_span check = list;
    pt_span n;
    while (!pt_span_empty(&check)) {
        if (!pt_get_vec8(&check, &n) || n.len == 0) {
            return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed ALPN name");
        }
    }
    pt_span ours = pt_span_of(ctx->alpn, ctx->alpn_len);
    while (pt_get_vec8(&ours, &n)) {
        if (alpn_list_has(list, n.p, n.len)) {
            return pt_set_alpn(conn, n);
        }
    }
    return pt_fault(&conn->err, PETREL_ALERT_NO_APPLICATION_PROTOCOL,
                    "no application protocol in common with the client (ALPN)");
}

static petrel_status ch_cookie(petrel_conn *conn, const pt_exts *x)
{
    struct pt_hs *hs = conn->hs;
    if (conn->state != PT_ST_S_WAIT_CH_AFTER_HRR) {
        return PETREL_OK;
    }
    pt_span body = x->body[PT_X_COOKIE];
    pt_span c;
    if (!pt_has_ext(x, PT_X_COOKIE)) {
        return pt_fault(&conn->err, PETREL_ALERT_MISSING_EXTENSION,
                        "second ClientHello does not echo the cookie (RFC 8446 4.2.2)");
    }
    if (!pt_get_vec16(&body, &c) || !pt_span_empty(&body) || c.len != hs->cookie_len ||
        memcmp(c.p, hs->cookie, c.len) != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "second ClientHello carries a different cookie");
    }
    return PETREL_OK;
}

static petrel_status ch_pha(petrel_conn *conn, const pt_exts *x)
{
    if (!pt_has_ext(x, PT_X_POST_HANDSHAKE_AUTH)) {
        conn->pha_offered = false;
        return PETREL_OK;
    }
    if (x->body[PT_X_POST_HANDSHAKE_AUTH].len != 0) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR,
                        "post_handshake_auth extension is not empty (RFC 8446 4.2.6)");
    }
    conn->pha_offered = true;
    return PETREL_OK;
}

/* RFC 8446 4.2.10: 0-RTT is never accepted. Offered early data is skipped
 * (up to the context's buffered plaintext limit): records that do not open
 * under the handshake key, or, after a HelloRetryRequest, application data
 * records until the second ClientHello, which must not offer it again. */
static petrel_status ch_early_data(petrel_conn *conn, const pt_exts *x)
{
    bool offered = pt_has_ext(x, PT_X_EARLY_DATA);
    if (conn->state == PT_ST_S_WAIT_CH_AFTER_HRR) {
        conn->early_skip = 0;
        if (offered) {
            return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                            "early_data offered after HelloRetryRequest (RFC 8446 4.2.10)");
        }
        return PETREL_OK;
    }
    if (offered) {
        conn->early_skip = conn->ctx->limits.max_buffered_plaintext + 2 * PT_MAX_RECORD;
        pt_trace(conn, "client offered early data: it will be skipped (no 0-RTT)");
    }
    return PETREL_OK;
}

petrel_status pt_client_hello_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                   size_t raw_len)
{
    struct pt_hs *hs = conn->hs;
    pt_ch ch;
    PT_TRY(parse_ch(conn, body, &ch));
    PT_TRY(pt_version_choose(conn, ch.legacy_version, &ch.x, ch.suites));
    if (conn->version == PETREL_TLS1_2) {
        PT_TRY(ch_server_name(conn, &ch.x));
        PT_TRY(ch_alpn(conn, &ch.x));
        return pt_tls12_client_hello_recv(conn, ch.suites, ch.comp, &ch.x, raw, raw_len);
    }
    PT_TRY(ch_compression(conn, ch.comp));
    PT_TRY(ch_suite(conn, ch.suites));
    PT_TRY(ch_cookie(conn, &ch.x));
    PT_TRY(ch_sigalgs(conn, &ch.x));
    PT_TRY(ch_groups(conn, &ch.x));
    PT_TRY(ch_server_name(conn, &ch.x));
    PT_TRY(ch_alpn(conn, &ch.x));
    PT_TRY(ch_pha(conn, &ch.x));
    PT_TRY(pt_psk_server_check(conn, &ch.x));
    PT_TRY(pt_record_size_limit_recv(conn, &ch.x));
    PT_TRY(ch_early_data(conn, &ch.x));
    pt_span share;
    bool need_hrr;
    PT_TRY(ch_key_share(conn, &ch.x, &share, &need_hrr));
    hs->session_id_len = ch.session_id.len;
    memcpy(hs->session_id, ch.session_id.p, ch.session_id.len);
    PT_TRY(pt_tr_start_hash(&hs->tr, conn->ctx->algs, conn->hash, &conn->err));
    if (!need_hrr) {
        /* The binder covers the transcript before this ClientHello. */
        PT_TRY(pt_psk_server_select(conn, &ch.x, raw, raw_len));
    }
    PT_TRY(pt_tr_add(&hs->tr, raw, raw_len, &conn->err));
    pt_trace(conn, "client offers TLSv1.3; chose %s, %s", pt_suite_name(conn->suite),
             pt_group_name(conn->group));
    if (need_hrr) {
        return pt_hrr_send(conn, conn->group);
    }
    uint8_t secret[PT_MAX_SECRET];
    size_t secret_len;
    uint8_t pub[PT_MAX_SHARE];
    size_t pub_len;
    PT_TRY(pt_kex_generate(conn->ctx->algs, conn->group, &hs->kex, pub, sizeof(pub), &pub_len,
                           &conn->err));
    PT_TRY(pt_kex_derive(hs->kex, share.p, share.len, secret, sizeof(secret), &secret_len,
                         &conn->err));
    petrel_status st = pt_server_flight_send(conn, pub, pub_len, secret, secret_len);
    pt_wipe(secret, sizeof(secret));
    return st;
}
