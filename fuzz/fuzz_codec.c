/*
 * fuzz_codec.c - the cursor, the buffer and the builder driven by programs
 * taken from the input.
 *
 * The first byte is the program length n; the next n bytes are operations,
 * the rest is data. The same program runs three times:
 *
 *   - as getters over the data: each must take exactly its field or fail
 *     leaving the span untouched, and fail only when the data is short;
 *   - as builder calls: every length prefix must equal its content, a
 *     failure must be justified (maximum reached, vector too long, depth)
 *     and sticky;
 *   - as buffer calls on a secret buffer, compared with a plain model: the
 *     contents must match, and bytes dropped must be wiped.
 *
 * Any violation aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#define MODEL_MAX 4096

/* --- Getters ------------------------------------------------------------- */

static uint64_t be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* Runs a fixed-width getter and checks its value and the span's movement. */
static void check_int(pt_span *s, size_t width)
{
    pt_span before = *s;
    uint64_t v = 0;
    bool ok;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    switch (width) {
    case 1:
        ok = pt_get_u8(s, &u8);
        v = u8;
        break;
    case 2:
        ok = pt_get_u16(s, &u16);
        v = u16;
        break;
    case 3:
        ok = pt_get_u24(s, &u32);
        v = u32;
        break;
    case 4:
        ok = pt_get_u32(s, &u32);
        v = u32;
        break;
    default:
        ok = pt_get_u64(s, &v);
        break;
    }
    CHECK(ok == (before.len >= width));
    if (!ok) {
        CHECK(s->p == before.p && s->len == before.len);
        return;
    }
    CHECK(v == be(before.p, width));
    CHECK(s->p == before.p + width && s->len == before.len - width);
}

/* Runs a vector getter and checks it against the prefix read by hand. */
static void check_vec(pt_span *s, size_t width)
{
    pt_span before = *s;
    pt_span out;
    bool ok = width == 1   ? pt_get_vec8(s, &out)
              : width == 2 ? pt_get_vec16(s, &out)
                           : pt_get_vec24(s, &out);
    bool fits = before.len >= width && before.len - width >= be(before.p, width);
    CHECK(ok == fits);
    if (!ok) {
        CHECK(s->p == before.p && s->len == before.len);
        return;
    }
    size_t n = (size_t)be(before.p, width);
    CHECK(out.p == before.p + width && out.len == n);
    CHECK(s->p == out.p + n && s->len == before.len - width - n);
}

static void check_bytes(pt_span *s, uint8_t op)
{
    pt_span before = *s;
    size_t n = op >> 4;
    uint8_t copy[16];
    bool ok = (op & 8) ? pt_get_copy(s, copy, n) : pt_get_bytes(s, n, &(pt_span){NULL, 0});
    CHECK(ok == (before.len >= n));
    if (!ok) {
        CHECK(s->p == before.p && s->len == before.len);
        return;
    }
    CHECK(s->p == before.p + n && s->len == before.len - n);
    if (op & 8) {
        CHECK(n == 0 || memcmp(copy, before.p, n) == 0);
    }
}

static void run_getters(const uint8_t *ops, size_t n_ops, const uint8_t *data, size_t size)
{
    pt_span s = pt_span_of(data, size);
    for (size_t i = 0; i < n_ops; i++) {
        uint8_t op = ops[i];
        switch (op & 7) {
        case 0:
        case 1:
        case 2:
        case 3:
        case 4:
            check_int(&s, op & 7 ? (size_t)(op & 7) : 8);
            break;
        case 5:
            check_bytes(&s, op);
            break;
        default:
            check_vec(&s, (size_t)(op >> 6) % 3 + 1);
            break;
        }
    }
    CHECK(pt_span_empty(&s) == (s.len == 0));
}

/* --- Builder ------------------------------------------------------------- */

typedef struct shadow {
    size_t at[PT_BUILDER_DEPTH];
    size_t width[PT_BUILDER_DEPTH];
    int depth;
} shadow;

static void builder_put(pt_builder *b, uint8_t op, const uint8_t *data, size_t size)
{
    size_t n = (size_t)(op >> 3) * 37 % (size + 1);
    size_t before = b->buf->len;
    bool room = n <= b->buf->max - before;
    bool was_failed = b->failed;
    if (op & 4) {
        uint8_t *p = pt_put_space(b, n);
        CHECK((p != NULL) == (!was_failed && room));
        if (p != NULL && n > 0) {
            memset(p, 0xee, n);
        }
    } else {
        pt_put_bytes(b, data, n);
    }
    CHECK(b->failed == (was_failed || !room));
    CHECK(b->buf->len == (b->failed ? before : before + n));
}

static void builder_open(pt_builder *b, shadow *sh, uint8_t op)
{
    int width = (op >> 3) % 3 + 1;
    size_t before = b->buf->len;
    bool was_failed = b->failed;
    bool ok = !was_failed && sh->depth < PT_BUILDER_DEPTH && (size_t)width <= b->buf->max - before;
    pt_open(b, width);
    CHECK(b->failed == !ok);
    if (ok) {
        sh->at[sh->depth] = before;
        sh->width[sh->depth] = (size_t)width;
        sh->depth++;
        CHECK(b->depth == sh->depth);
    }
}

static void builder_close(pt_builder *b, shadow *sh)
{
    bool was_failed = b->failed;
    pt_close(b);
    if (was_failed) {
        CHECK(b->failed);
        return;
    }
    if (sh->depth == 0) {
        CHECK(b->failed);
        return;
    }
    sh->depth--;
    size_t at = sh->at[sh->depth];
    size_t width = sh->width[sh->depth];
    size_t content = b->buf->len - at - width;
    bool fits = content < ((size_t)1 << (8 * width));
    CHECK(b->failed == !fits);
    if (fits) {
        CHECK(be(b->buf->data + at, width) == content);
    }
}

static void run_builder(const uint8_t *ops, size_t n_ops, const uint8_t *data, size_t size)
{
    pt_buf buf;
    /* A small maximum so that running out of room is reached often. */
    pt_buf_init(&buf, size > 0 ? (size_t)data[0] * 8 : 64, false);
    pt_builder b;
    pt_builder_init(&b, &buf);
    shadow sh = {.depth = 0};
    for (size_t i = 0; i < n_ops; i++) {
        uint8_t op = ops[i];
        switch (op & 3) {
        case 0:
            builder_put(&b, op, data, size);
            break;
        case 1:
            builder_open(&b, &sh, op);
            break;
        case 2:
            builder_close(&b, &sh);
            break;
        default: {
            size_t before = buf.len;
            bool was_failed = b.failed;
            pt_put_u16(&b, (uint16_t)(op * 257));
            CHECK(buf.len == (b.failed ? before : before + 2));
            CHECK(!was_failed || b.failed);
            break;
        }
        }
        CHECK(buf.len <= buf.max);
    }
    CHECK(pt_builder_ok(&b) == (!b.failed && sh.depth == 0));
    pt_buf_release(&buf);
}

/* --- Buffer --------------------------------------------------------------- */

typedef struct model {
    uint8_t bytes[MODEL_MAX];
    size_t len;
} model;

static void buf_step(pt_buf *buf, model *m, uint8_t op, const uint8_t *data, size_t size)
{
    size_t n = (size_t)(op >> 2) * 53 % (size + 1);
    switch (op & 3) {
    case 0: {
        bool ok = pt_buf_append(buf, data, n);
        CHECK(ok == (n <= buf->max - m->len));
        if (ok) {
            memcpy(m->bytes + m->len, data, n);
            m->len += n;
        }
        break;
    }
    case 1: {
        const uint8_t *old = buf->data;
        size_t old_len = buf->len;
        size_t drop = n < m->len ? n : m->len;
        pt_buf_consume(buf, n);
        memmove(m->bytes, m->bytes + drop, m->len - drop);
        m->len -= drop;
        /* The consumed secret bytes stay in the block and must be wiped
         * (all of them when the buffer emptied). */
        size_t wiped = buf->len == 0 ? old_len : drop;
        for (size_t i = 0; i < wiped; i++) {
            CHECK(old[i] == 0);
        }
        break;
    }
    case 2:
        CHECK(pt_buf_reserve(buf, n) == (n <= buf->max - m->len));
        break;
    default:
        if (op & 4) {
            pt_buf_release(buf);
        } else {
            pt_buf_reset(buf);
        }
        m->len = 0;
        break;
    }
}

static void run_buffer(const uint8_t *ops, size_t n_ops, const uint8_t *data, size_t size)
{
    static model m;
    pt_buf buf;
    size_t max = size > 1 ? ((size_t)data[1] * 16) % MODEL_MAX : 100;
    pt_buf_init(&buf, max, true);
    m.len = 0;
    for (size_t i = 0; i < n_ops; i++) {
        buf_step(&buf, &m, ops[i], data, size);
        CHECK(buf.len == m.len && buf.len <= buf.max);
        CHECK(buf.cap >= buf.head + buf.len);
        CHECK(buf.len == 0 || memcmp(buf.data, m.bytes, buf.len) == 0);
    }
    pt_buf_release(&buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    size_t n_ops = data[0];
    if (n_ops > size - 1) {
        n_ops = size - 1;
    }
    const uint8_t *ops = data + 1;
    const uint8_t *rest = data + 1 + n_ops;
    size_t rest_len = size - 1 - n_ops;
    run_getters(ops, n_ops, rest, rest_len);
    run_builder(ops, n_ops, rest, rest_len);
    run_buffer(ops, n_ops, rest, rest_len);
    return 0;
}
