/*
 * session.c - the client's sessions: made from a kept ticket, checked
 * before they are offered; and the clock tickets are timed by.
 */
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine/internal.h"

/* 2026-01-01 00:00:00 UTC: the frozen clock of deterministic runs. */
#define PT_FROZEN_CLOCK_MS 1767225600000ull

static int64_t clock_skew_ms;

uint64_t pt_now_ms(void)
{
    if (pt_random_is_deterministic()) {
        return PT_FROZEN_CLOCK_MS + (uint64_t)clock_skew_ms;
    }
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        return 0;
    }
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    return ms + (uint64_t)clock_skew_ms;
}

void pt_clock_skew(int64_t ms)
{
    clock_skew_ms = ms;
}

static petrel_status no_memory(petrel_conn *conn)
{
    return pt_fail(&conn->err, PETREL_ERR_NO_MEMORY, -1, "out of memory for a session");
}

static petrel_status fill(petrel_conn *conn, petrel_session *s, const pt_ticket *t)
{
    s->suite = t->suite;
    memcpy(s->psk, t->psk, sizeof(s->psk));
    s->lifetime = t->lifetime;
    s->age_add = t->age_add;
    s->received_ms = t->received_ms;
    s->verify_result = conn->verify_result;
    s->ticket = pt_malloc(t->len);
    if (s->ticket == NULL) {
        return no_memory(conn);
    }
    memcpy(s->ticket, t->ticket, t->len);
    s->ticket_len = t->len;
    if (conn->hostname != NULL && (s->hostname = pt_strdup(conn->hostname)) == NULL) {
        return no_memory(conn);
    }
    return pt_peer_chain_dup(conn->peer, &s->chain, &conn->err);
}

petrel_status pt_session_from_conn(petrel_conn *conn, petrel_session **out)
{
    *out = NULL;
    if (conn->tickets == 0) {
        return PETREL_OK;
    }
    const pt_ticket *t = &conn->kept[(conn->tickets - 1) % PT_MAX_TICKETS];
    petrel_session *s = pt_calloc(1, sizeof(*s));
    if (s == NULL) {
        return no_memory(conn);
    }
    atomic_init(&s->refs, 1);
    petrel_ctx_up_ref(conn->ctx);
    s->ctx = conn->ctx;
    petrel_status st = fill(conn, s, t);
    if (st != PETREL_OK) {
        petrel_session_free(s);
        return st;
    }
    *out = s;
    return PETREL_OK;
}

static bool same_name(const char *a, const char *b)
{
    if (a == NULL || b == NULL) {
        return a == b;
    }
    /* DNS names compare without regard to case (RFC 4343). */
    return strcasecmp(a, b) == 0;
}

static bool suite_of_hash_offered(const petrel_conn *conn, pt_hash_alg alg)
{
    const petrel_ctx *ctx = conn->ctx;
    for (size_t i = 0; i < ctx->suites13_count; i++) {
        if (pt_suite_hash(ctx->suites13[i]) == alg) {
            return true;
        }
    }
    return false;
}

bool pt_session_offerable(const petrel_conn *conn, const petrel_session *s)
{
    uint64_t now = pt_now_ms();
    uint64_t end = s->received_ms + (uint64_t)s->lifetime * 1000u;
    return same_name(conn->hostname, s->hostname) && now >= s->received_ms && now < end &&
           s->ticket_len <= PT_TICKET_OFFER_MAX &&
           suite_of_hash_offered(conn, pt_suite_hash(s->suite));
}
