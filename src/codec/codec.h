/*
 * codec.h - reading with a bounded cursor, writing with a bounded builder.
 *
 * A pt_span is a read-only view that shrinks as fields are taken from its
 * front. Every getter fails (returns false, leaving the span unchanged) on
 * short input, so parsers never index past the end. Parsers finish each
 * vector with pt_span_empty() to refuse bytes left over.
 *
 * A pt_buf is an owned byte buffer with a hard maximum fixed at creation.
 * A pt_builder appends to a pt_buf; the first failure (the maximum would be
 * exceeded, or memory ran out) is sticky, so a message is built with plain
 * calls and checked once at the end.
 */
#ifndef PT_CODEC_H
#define PT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "internal/common.h"

typedef struct pt_span {
    const uint8_t *p;
    size_t len;
} pt_span;

static inline pt_span pt_span_of(const void *p, size_t len)
{
    pt_span s = {(const uint8_t *)p, len};
    return s;
}

bool pt_get_u8(pt_span *s, uint8_t *out) PT_MUST_USE;
bool pt_get_u16(pt_span *s, uint16_t *out) PT_MUST_USE;
bool pt_get_u24(pt_span *s, uint32_t *out) PT_MUST_USE;
bool pt_get_u32(pt_span *s, uint32_t *out) PT_MUST_USE;
bool pt_get_u64(pt_span *s, uint64_t *out) PT_MUST_USE;
/* Takes exactly n bytes as a sub-span. */
bool pt_get_bytes(pt_span *s, size_t n, pt_span *out) PT_MUST_USE;
/* Takes n bytes into a caller buffer. */
bool pt_get_copy(pt_span *s, void *dst, size_t n) PT_MUST_USE;
/* Takes a vector with a 1-, 2- or 3-byte length prefix. */
bool pt_get_vec8(pt_span *s, pt_span *out) PT_MUST_USE;
bool pt_get_vec16(pt_span *s, pt_span *out) PT_MUST_USE;
bool pt_get_vec24(pt_span *s, pt_span *out) PT_MUST_USE;
static inline bool pt_span_empty(const pt_span *s)
{
    return s->len == 0;
}

typedef struct pt_buf {
    uint8_t *data; /* the first unconsumed byte */
    size_t len;
    size_t head; /* consumed bytes before data: the block starts at data - head */
    size_t cap;  /* bytes allocated from the start of the block */
    size_t max;  /* hard limit on len */
    bool secret; /* wipe on free and on shrink */
} pt_buf;

void pt_buf_init(pt_buf *b, size_t max, bool secret);
/* Makes room for extra more bytes; NO_MEMORY or (over max) PROTOCOL-free
 * failure reported as false. */
bool pt_buf_reserve(pt_buf *b, size_t extra) PT_MUST_USE;
bool pt_buf_append(pt_buf *b, const void *p, size_t n) PT_MUST_USE;
/* Drops n bytes from the front (by moving the start, not the bytes: the
 * space is reclaimed when the buffer next needs room at its end). */
void pt_buf_consume(pt_buf *b, size_t n);
/* Empties the buffer, keeping its memory. */
void pt_buf_reset(pt_buf *b);
/* Releases the memory (wiping it when secret); the buffer stays usable. */
void pt_buf_release(pt_buf *b);
static inline size_t pt_buf_room(const pt_buf *b)
{
    return b->max - b->len;
}

#define PT_BUILDER_DEPTH 8

typedef struct pt_builder {
    pt_buf *buf;
    bool failed;
    int depth;
    size_t open_at[PT_BUILDER_DEPTH];    /* offset of each open length field */
    uint8_t open_size[PT_BUILDER_DEPTH]; /* its width in bytes */
} pt_builder;

void pt_builder_init(pt_builder *b, pt_buf *buf);
void pt_put_u8(pt_builder *b, uint8_t v);
void pt_put_u16(pt_builder *b, uint16_t v);
void pt_put_u24(pt_builder *b, uint32_t v);
void pt_put_u32(pt_builder *b, uint32_t v);
void pt_put_u64(pt_builder *b, uint64_t v);
void pt_put_bytes(pt_builder *b, const void *p, size_t n);
/* Reserves n bytes and returns where they start (NULL after a failure). */
uint8_t *pt_put_space(pt_builder *b, size_t n);
/* Opens a vector whose length prefix is width bytes (1, 2 or 3); the
 * matching pt_close fills it in, failing if the content is too long. */
void pt_open(pt_builder *b, int width);
void pt_close(pt_builder *b);
/* True when nothing failed and every vector was closed. */
bool pt_builder_ok(const pt_builder *b) PT_MUST_USE;

#endif
