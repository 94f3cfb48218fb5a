/*
 * transcript.c - the handshake transcript (RFC 8446 4.4.1).
 *
 * Until the cipher suite is known the messages are kept as bytes; from then
 * on they feed a running hash. After a HelloRetryRequest the first
 * ClientHello is replaced by a synthetic message_hash message.
 */
#include "engine/internal.h"

#define PT_TRANSCRIPT_RAW_MAX (256 * 1024)

void pt_tr_init(pt_transcript *tr)
{
    pt_tr_init_max(tr, PT_TRANSCRIPT_RAW_MAX);
}

void pt_tr_init_max(pt_transcript *tr, size_t raw_max)
{
    pt_buf_init(&tr->raw, raw_max, false);
    tr->hash.md_ctx = NULL;
    tr->hashing = false;
    tr->keep_raw = false;
}

void pt_tr_free(pt_transcript *tr)
{
    pt_buf_release(&tr->raw);
    if (tr->hashing) {
        pt_hash_free(&tr->hash);
    }
    tr->hashing = false;
}

petrel_status pt_tr_add(pt_transcript *tr, const uint8_t *msg, size_t len, pt_error *err)
{
    if (tr->hashing) {
        PT_TRY(pt_hash_update(&tr->hash, msg, len, err));
        if (!tr->keep_raw) {
            return PETREL_OK;
        }
    }
    if (!pt_buf_append(&tr->raw, msg, len)) {
        return pt_fault(err, PETREL_ALERT_INTERNAL_ERROR, "handshake transcript too large");
    }
    return PETREL_OK;
}

petrel_status pt_tr_start_hash(pt_transcript *tr, const pt_algs *algs, pt_hash_alg alg,
                               pt_error *err)
{
    if (tr->hashing) {
        if (tr->hash.alg == alg) {
            return PETREL_OK;
        }
        return pt_fault(err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "cipher suite hash changed during the handshake");
    }
    PT_TRY(pt_hash_init(&tr->hash, algs, alg, err));
    tr->hashing = true;
    PT_TRY(pt_hash_update(&tr->hash, tr->raw.data, tr->raw.len, err));
    pt_buf_release(&tr->raw);
    return PETREL_OK;
}

petrel_status pt_tr_start_hash_keep_raw(pt_transcript *tr, const pt_algs *algs, pt_hash_alg alg,
                                        pt_error *err)
{
    if (tr->hashing) {
        return pt_fail(err, PETREL_ERR_INTERNAL, PETREL_ALERT_INTERNAL_ERROR,
                       "transcript already hashing without its raw bytes");
    }
    PT_TRY(pt_hash_init(&tr->hash, algs, alg, err));
    tr->hashing = true;
    tr->keep_raw = true;
    return pt_hash_update(&tr->hash, tr->raw.data, tr->raw.len, err);
}

void pt_tr_drop_raw(pt_transcript *tr)
{
    if (tr->hashing) {
        tr->keep_raw = false;
        pt_buf_release(&tr->raw);
    }
}

petrel_status pt_tr_hrr_reset(pt_transcript *tr, const pt_algs *algs, pt_error *err)
{
    uint8_t digest[PT_MAX_HASH];
    PT_TRY(pt_tr_hash(tr, digest, err));
    pt_hash_alg alg = tr->hash.alg;
    size_t n = pt_hash_len(alg);
    pt_hash_free(&tr->hash);
    tr->hashing = false;
    PT_TRY(pt_tr_start_hash(tr, algs, alg, err));
    uint8_t head[4] = {PT_HS_MESSAGE_HASH, 0, 0, (uint8_t)n};
    PT_TRY(pt_hash_update(&tr->hash, head, sizeof(head), err));
    return pt_hash_update(&tr->hash, digest, n, err);
}

petrel_status pt_tr_hash(const pt_transcript *tr, uint8_t out[PT_MAX_HASH], pt_error *err)
{
    if (!tr->hashing) {
        return pt_fail(err, PETREL_ERR_INTERNAL, PETREL_ALERT_INTERNAL_ERROR,
                       "transcript hash asked for before the suite was chosen");
    }
    return pt_hash_peek(&tr->hash, out, err);
}

petrel_status pt_tr_hash_with(const pt_transcript *tr, const pt_algs *algs, pt_hash_alg alg,
                              const uint8_t *extra, size_t extra_len, uint8_t out[PT_MAX_HASH],
                              pt_error *err)
{
    pt_hash h = {0};
    petrel_status st;
    if (tr->hashing) {
        if (tr->hash.alg != alg) {
            return pt_fail(err, PETREL_ERR_INTERNAL, PETREL_ALERT_INTERNAL_ERROR,
                           "transcript hash differs from the one asked for");
        }
        st = pt_hash_copy(&h, &tr->hash, err);
    } else {
        st = pt_hash_init(&h, algs, alg, err);
        if (st == PETREL_OK) {
            st = pt_hash_update(&h, tr->raw.data, tr->raw.len, err);
        }
    }
    if (st == PETREL_OK) {
        st = pt_hash_update(&h, extra, extra_len, err);
    }
    if (st == PETREL_OK) {
        st = pt_hash_peek(&h, out, err);
    }
    pt_hash_free(&h);
    return st;
}
