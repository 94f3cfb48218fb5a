/*
 * version.c - which protocol version a connection speaks.
 *
 * The client lists TLS 1.3 and 1.2 in supported_versions as its bounds
 * allow (RFC 8446 4.2.1); a client that speaks TLS 1.2 only sends no
 * supported_versions at all, as a TLS 1.2 client would. The server prefers
 * TLS 1.3, falls back to TLS 1.2 when the client offers it, and otherwise
 * answers protocol_version. A server able to speak TLS 1.3 that settles on
 * TLS 1.2 marks its random (RFC 8446 4.1.3), and a client able to speak
 * TLS 1.3 refuses such a ServerHello, so an attacker cannot strip TLS 1.3
 * from a handshake.
 */
#include <stdio.h>
#include <string.h>

#include "engine/internal.h"

/* RFC 7507: a client retrying with a lower version than it supports. */
#define PT_TLS_FALLBACK_SCSV 0x5600

/* RFC 8446 4.1.3: the last 8 bytes of ServerHello.random of a TLS 1.3
 * server negotiating TLS 1.2 (and TLS 1.1 or older). */
static const uint8_t downgrade_tls12[8] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01};
static const uint8_t downgrade_tls11[8] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x00};

bool pt_offers_tls13(const petrel_conn *conn)
{
    return pt_ctx_max_version(conn->ctx) >= PETREL_TLS1_3;
}

bool pt_offers_tls12(const petrel_conn *conn)
{
    return pt_ctx_min_version(conn->ctx) <= PETREL_TLS1_2;
}

void pt_put_versions_ext(const petrel_conn *conn, pt_builder *b)
{
    if (!pt_offers_tls13(conn)) {
        return;
    }
    pt_put_u16(b, PT_EXT_SUPPORTED_VERSIONS);
    pt_open(b, 2);
    pt_open(b, 1);
    pt_put_u16(b, PETREL_TLS1_3);
    if (pt_offers_tls12(conn)) {
        pt_put_u16(b, PETREL_TLS1_2);
    }
    pt_close(b);
    pt_close(b);
}

/* What a ClientHello offers. */
typedef struct pt_offer {
    bool tls13;
    bool tls12;
    uint16_t lowest; /* of the 0x03xx versions listed */
    uint16_t highest;
    bool listed; /* supported_versions was present */
} pt_offer;

static petrel_status read_offer(petrel_conn *conn, uint16_t legacy_version, const pt_exts *x,
                                pt_offer *o)
{
    *o = (pt_offer){.lowest = 0xffff};
    if (!pt_has_ext(x, PT_X_SUPPORTED_VERSIONS)) {
        /* RFC 8446 4.2.1: without the extension a client speaks TLS 1.2 or
         * older, even when legacy_version says more. */
        o->tls12 = legacy_version >= PETREL_TLS1_2;
        o->highest = legacy_version;
        return PETREL_OK;
    }
    pt_span body = x->body[PT_X_SUPPORTED_VERSIONS];
    pt_span list;
    if (!pt_get_vec8(&body, &list) || !pt_span_empty(&body) || list.len < 2 || list.len % 2) {
        return pt_fault(&conn->err, PETREL_ALERT_DECODE_ERROR, "malformed supported_versions");
    }
    o->listed = true;
    uint16_t v;
    while (pt_get_u16(&list, &v)) {
        o->tls13 |= v == PETREL_TLS1_3;
        o->tls12 |= v == PETREL_TLS1_2;
        if ((v & 0xff00) == 0x0300) {
            o->lowest = v < o->lowest ? v : o->lowest;
            o->highest = v > o->highest ? v : o->highest;
        }
    }
    return PETREL_OK;
}

static void describe_offer(const pt_offer *o, char *out, size_t cap)
{
    if (!o->listed) {
        const char *top = o->highest >= PETREL_TLS1_2 ? "TLS 1.2" : pt_version_name(o->highest);
        snprintf(out, cap, "only %s or older (legacy_version 0x%04x, no supported_versions)", top,
                 o->highest);
    } else if (o->highest == 0) {
        snprintf(out, cap, "no TLS version it knows");
    } else {
        snprintf(out, cap, "%s to %s", pt_version_name(o->lowest), pt_version_name(o->highest));
    }
}

static bool suites_have(pt_span suites, uint16_t code)
{
    uint16_t v;
    while (pt_get_u16(&suites, &v)) {
        if (v == code) {
            return true;
        }
    }
    return false;
}

petrel_status pt_version_choose(petrel_conn *conn, uint16_t legacy_version, const pt_exts *x,
                                pt_span suites)
{
    int lo = pt_ctx_min_version(conn->ctx);
    int hi = pt_ctx_max_version(conn->ctx);
    pt_offer o;
    PT_TRY(read_offer(conn, legacy_version, x, &o));
    if (o.tls13 && hi >= PETREL_TLS1_3) {
        conn->version = PETREL_TLS1_3;
        return PETREL_OK;
    }
    if (!o.tls12 || lo > PETREL_TLS1_2) {
        char offer[96];
        describe_offer(&o, offer, sizeof(offer));
        return pt_fault(&conn->err, PETREL_ALERT_PROTOCOL_VERSION,
                        "no protocol version in common: client offers %s, server allows %s to %s",
                        offer, pt_version_name(lo), pt_version_name(hi));
    }
    if (conn->state == PT_ST_S_WAIT_CH_AFTER_HRR) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "second ClientHello falls back to TLS 1.2 after a HelloRetryRequest "
                        "(RFC 8446 4.1.4)");
    }
    /* RFC 7507 3: a fallback retry while we could speak a newer version. */
    if (hi >= PETREL_TLS1_3 && suites_have(suites, PT_TLS_FALLBACK_SCSV)) {
        return pt_fault(&conn->err, PETREL_ALERT_INAPPROPRIATE_FALLBACK,
                        "client signals a fallback to TLS 1.2 (TLS_FALLBACK_SCSV), but the "
                        "server speaks TLS 1.3 (RFC 7507)");
    }
    conn->version = PETREL_TLS1_2;
    return PETREL_OK;
}

bool pt_server_hello_is_legacy(pt_span body)
{
    static const uint8_t hrr_random_start[4] = {0xcf, 0x21, 0xad, 0x74};
    uint16_t version;
    uint16_t suite;
    uint8_t comp;
    pt_span random;
    pt_span sid;
    pt_span exts;
    if (!pt_get_u16(&body, &version) || !pt_get_bytes(&body, 32, &random) ||
        !pt_get_vec8(&body, &sid) || !pt_get_u16(&body, &suite) || !pt_get_u8(&body, &comp)) {
        return false; /* malformed: the TLS 1.3 parser reports it */
    }
    if (memcmp(random.p, hrr_random_start, sizeof(hrr_random_start)) == 0) {
        return false;
    }
    if (pt_span_empty(&body)) {
        return true; /* RFC 5246 7.4.1.3: extensions may be absent */
    }
    if (!pt_get_vec16(&body, &exts)) {
        return false;
    }
    /* A malformed block without supported_versions before the fault is
     * reported by the TLS 1.2 parser. */
    while (!pt_span_empty(&exts)) {
        uint16_t type;
        pt_span data;
        if (!pt_get_u16(&exts, &type) || !pt_get_vec16(&exts, &data)) {
            return true;
        }
        if (type == PT_EXT_SUPPORTED_VERSIONS) {
            return false;
        }
    }
    return true;
}

void pt_downgrade_mark(const petrel_conn *conn, uint8_t random[32])
{
    if (conn->version == PETREL_TLS1_2 && pt_offers_tls13(conn)) {
        memcpy(random + 24, downgrade_tls12, sizeof(downgrade_tls12));
    }
}

petrel_status pt_downgrade_check(petrel_conn *conn, const uint8_t random[32])
{
    if (!pt_offers_tls13(conn)) {
        return PETREL_OK;
    }
    if (memcmp(random + 24, downgrade_tls12, 8) == 0 ||
        memcmp(random + 24, downgrade_tls11, 8) == 0) {
        return pt_fault(&conn->err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "server chose TLS 1.2 but its random carries the TLS 1.3 downgrade "
                        "sentinel: TLS 1.3 was removed from the handshake on the way "
                        "(RFC 8446 4.1.3)");
    }
    return PETREL_OK;
}
