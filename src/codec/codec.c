/*
 * codec.c - the bounded read cursor, the bounded buffer and the builder.
 *
 * Getters check the remaining length before touching a byte and leave the
 * span as it was when they fail. Buffers grow by doubling up to the maximum
 * fixed by pt_buf_init and never beyond it. A buffer marked secret never
 * leaves a stale copy of its bytes behind: growth copies into fresh memory
 * and wipes the old block, and bytes that are consumed, moved or released
 * are wiped where they were.
 */
#include "codec/codec.h"

#include <string.h>

/* First allocation of a buffer that had none; doubling goes on from here. */
#define PT_BUF_FIRST_CAP 256

/* --- Reading ------------------------------------------------------------- */

/* Reads an n-byte big-endian integer (n <= 8). */
static bool get_be(pt_span *s, size_t n, uint64_t *out)
{
    if (s->len < n) {
        return false;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | s->p[i];
    }
    s->p += n;
    s->len -= n;
    *out = v;
    return true;
}

bool pt_get_u8(pt_span *s, uint8_t *out)
{
    uint64_t v;
    if (!get_be(s, 1, &v)) {
        return false;
    }
    *out = (uint8_t)v;
    return true;
}

bool pt_get_u16(pt_span *s, uint16_t *out)
{
    uint64_t v;
    if (!get_be(s, 2, &v)) {
        return false;
    }
    *out = (uint16_t)v;
    return true;
}

bool pt_get_u24(pt_span *s, uint32_t *out)
{
    uint64_t v;
    if (!get_be(s, 3, &v)) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

bool pt_get_u32(pt_span *s, uint32_t *out)
{
    uint64_t v;
    if (!get_be(s, 4, &v)) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

bool pt_get_u64(pt_span *s, uint64_t *out)
{
    return get_be(s, 8, out);
}

bool pt_get_bytes(pt_span *s, size_t n, pt_span *out)
{
    if (s->len < n) {
        return false;
    }
    out->p = s->p;
    out->len = n;
    s->p += n;
    s->len -= n;
    return true;
}

bool pt_get_copy(pt_span *s, void *dst, size_t n)
{
    pt_span taken;
    if (!pt_get_bytes(s, n, &taken)) {
        return false;
    }
    if (n > 0) {
        memcpy(dst, taken.p, n);
    }
    return true;
}

/* A vector: a width-byte length, then that many bytes. Both must be present
 * or nothing is taken. */
static bool get_vec(pt_span *s, size_t width, pt_span *out)
{
    pt_span probe = *s;
    uint64_t n;
    if (!get_be(&probe, width, &n) || !pt_get_bytes(&probe, (size_t)n, out)) {
        return false;
    }
    *s = probe;
    return true;
}

bool pt_get_vec8(pt_span *s, pt_span *out)
{
    return get_vec(s, 1, out);
}

bool pt_get_vec16(pt_span *s, pt_span *out)
{
    return get_vec(s, 2, out);
}

bool pt_get_vec24(pt_span *s, pt_span *out)
{
    return get_vec(s, 3, out);
}

/* --- Buffers ------------------------------------------------------------- */

void pt_buf_init(pt_buf *b, size_t max, bool secret)
{
    b->data = NULL;
    b->len = 0;
    b->head = 0;
    b->cap = 0;
    b->max = max;
    b->secret = secret;
}

/* The capacity to grow to for need bytes: doubling, capped at the maximum,
 * and never below need (which the caller has checked against the maximum). */
static size_t next_cap(const pt_buf *b, size_t need)
{
    size_t cap = b->cap > 0 ? b->cap : PT_BUF_FIRST_CAP;
    while (cap < need) {
        cap = cap > b->max / 2 ? b->max : cap * 2;
    }
    if (cap > b->max) {
        cap = b->max > need ? b->max : need;
    }
    return cap > 0 ? cap : 1;
}

static uint8_t *block(const pt_buf *b)
{
    return b->data - b->head;
}

/* Moves the contents to the start of the block. */
static void compact(pt_buf *b)
{
    if (b->head == 0) {
        return;
    }
    uint8_t *base = block(b);
    memmove(base, b->data, b->len);
    if (b->secret) {
        /* The old copy's bytes that the move did not overwrite are stale:
         * from the later of the new end and the old start, to the old end. */
        size_t from = b->head > b->len ? b->head : b->len;
        pt_wipe(base + from, b->head + b->len - from);
    }
    b->data = base;
    b->head = 0;
}

/* Moves a secret buffer to a fresh block so no copy is left unwiped. */
static bool grow_secret(pt_buf *b, size_t cap)
{
    uint8_t *fresh = pt_malloc(cap);
    if (fresh == NULL) {
        return false;
    }
    if (b->len > 0) {
        memcpy(fresh, b->data, b->len);
    }
    if (b->data != NULL) {
        pt_free_secret(block(b), b->cap);
    }
    b->data = fresh;
    b->head = 0;
    b->cap = cap;
    return true;
}

bool pt_buf_reserve(pt_buf *b, size_t extra)
{
    if (extra > b->max - b->len) {
        return false;
    }
    size_t need = b->len + extra;
    if (b->data != NULL && b->head + need <= b->cap) {
        return true;
    }
    if (b->data != NULL && need <= b->cap) {
        compact(b);
        return true;
    }
    size_t cap = next_cap(b, need);
    if (b->secret) {
        return grow_secret(b, cap);
    }
    if (b->data != NULL) {
        compact(b);
    }
    uint8_t *p = pt_realloc(b->data, cap);
    if (p == NULL) {
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

bool pt_buf_append(pt_buf *b, const void *p, size_t n)
{
    if (!pt_buf_reserve(b, n)) {
        return false;
    }
    if (n > 0) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
    }
    return true;
}

void pt_buf_consume(pt_buf *b, size_t n)
{
    if (n >= b->len) {
        pt_buf_reset(b);
        return;
    }
    if (b->secret) {
        pt_wipe(b->data, n);
    }
    b->data += n;
    b->head += n;
    b->len -= n;
}

void pt_buf_reset(pt_buf *b)
{
    if (b->data == NULL) {
        b->len = 0;
        return;
    }
    if (b->secret) {
        pt_wipe(b->data, b->len);
    }
    b->data = block(b);
    b->head = 0;
    b->len = 0;
}

void pt_buf_release(pt_buf *b)
{
    if (b->data != NULL) {
        if (b->secret) {
            pt_free_secret(block(b), b->cap);
        } else {
            pt_free(block(b));
        }
    }
    b->data = NULL;
    b->len = 0;
    b->head = 0;
    b->cap = 0;
}

/* --- Builder ------------------------------------------------------------- */

void pt_builder_init(pt_builder *b, pt_buf *buf)
{
    b->buf = buf;
    b->failed = false;
    b->depth = 0;
}

uint8_t *pt_put_space(pt_builder *b, size_t n)
{
    if (b->failed) {
        return NULL;
    }
    if (!pt_buf_reserve(b->buf, n)) {
        b->failed = true;
        return NULL;
    }
    uint8_t *p = b->buf->data + b->buf->len;
    b->buf->len += n;
    return p;
}

/* Writes v big-endian into n bytes. */
static void put_be(pt_builder *b, uint64_t v, size_t n)
{
    uint8_t *p = pt_put_space(b, n);
    if (p == NULL) {
        return;
    }
    for (size_t i = n; i > 0; i--) {
        p[i - 1] = (uint8_t)v;
        v >>= 8;
    }
}

void pt_put_u8(pt_builder *b, uint8_t v)
{
    put_be(b, v, 1);
}

void pt_put_u16(pt_builder *b, uint16_t v)
{
    put_be(b, v, 2);
}

void pt_put_u24(pt_builder *b, uint32_t v)
{
    if (v > 0xffffff) {
        b->failed = true;
        return;
    }
    put_be(b, v, 3);
}

void pt_put_u32(pt_builder *b, uint32_t v)
{
    put_be(b, v, 4);
}

void pt_put_u64(pt_builder *b, uint64_t v)
{
    put_be(b, v, 8);
}

void pt_put_bytes(pt_builder *b, const void *p, size_t n)
{
    uint8_t *dst = pt_put_space(b, n);
    if (dst != NULL && n > 0) {
        memcpy(dst, p, n);
    }
}

void pt_open(pt_builder *b, int width)
{
    if (b->failed) {
        return;
    }
    if (width < 1 || width > 3 || b->depth >= PT_BUILDER_DEPTH) {
        b->failed = true;
        return;
    }
    size_t at = b->buf->len;
    /* A zero placeholder; pt_close writes the real length over it. */
    put_be(b, 0, (size_t)width);
    if (b->failed) {
        return;
    }
    b->open_at[b->depth] = at;
    b->open_size[b->depth] = (uint8_t)width;
    b->depth++;
}

void pt_close(pt_builder *b)
{
    if (b->failed) {
        return;
    }
    if (b->depth == 0) {
        b->failed = true;
        return;
    }
    b->depth--;
    size_t at = b->open_at[b->depth];
    size_t width = b->open_size[b->depth];
    size_t content = b->buf->len - at - width;
    size_t limit = ((size_t)1 << (8 * width)) - 1;
    if (content > limit) {
        b->failed = true;
        return;
    }
    uint8_t *p = b->buf->data + at;
    for (size_t i = width; i > 0; i--) {
        p[i - 1] = (uint8_t)content;
        content >>= 8;
    }
}

bool pt_builder_ok(const pt_builder *b)
{
    return !b->failed && b->depth == 0;
}
