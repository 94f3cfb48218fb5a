/*
 * test_codec.c - the read cursor, the bounded buffer and the builder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "codec/codec.h"

static const uint8_t sample[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};

/* Asserts that the span still starts at p with len bytes. */
static void assert_span_at(const pt_span *s, const uint8_t *p, size_t len)
{
    assert_ptr_equal(s->p, p);
    assert_int_equal(s->len, len);
}

static void test_getters_read_big_endian(void **state)
{
    pt_span s = pt_span_of(sample, 9);
    uint8_t u8;
    uint16_t u16;
    uint32_t u24;
    uint32_t u32;
    assert_true(pt_get_u8(&s, &u8));
    assert_int_equal(u8, 0x01);
    assert_true(pt_get_u16(&s, &u16));
    assert_int_equal(u16, 0x0203);
    assert_true(pt_get_u24(&s, &u24));
    assert_int_equal(u24, 0x040506);
    assert_true(pt_get_u32(&s, &u32) == false);
    assert_span_at(&s, sample + 6, 3);

    pt_span t = pt_span_of(sample, 9);
    uint64_t u64;
    assert_true(pt_get_u64(&t, &u64));
    assert_true(u64 == 0x0102030405060708ULL);
    assert_true(pt_get_u32(&(pt_span){sample, 4}, &u32));
    assert_int_equal(u32, 0x01020304);
}

static void test_getters_fail_on_short_input(void **state)
{
    uint8_t u8 = 0xaa;
    uint16_t u16 = 0xaaaa;
    uint32_t u32 = 0xaaaaaaaa;
    uint64_t u64 = 0xaa;
    uint8_t copy[4] = {0};
    pt_span sub = {NULL, 77};

    pt_span empty = pt_span_of(sample, 0);
    assert_false(pt_get_u8(&empty, &u8));
    assert_int_equal(u8, 0xaa);

    pt_span s = pt_span_of(sample, 1);
    assert_false(pt_get_u16(&s, &u16));
    assert_int_equal(u16, 0xaaaa);
    s.len = 2;
    assert_false(pt_get_u24(&s, &u32));
    s.len = 3;
    assert_false(pt_get_u32(&s, &u32));
    assert_true(u32 == 0xaaaaaaaa);
    s.len = 7;
    assert_false(pt_get_u64(&s, &u64));
    assert_false(pt_get_bytes(&s, 8, &sub));
    assert_int_equal(sub.len, 77);
    s.len = 3;
    assert_false(pt_get_copy(&s, copy, 4));
    assert_int_equal(copy[0], 0);
    assert_span_at(&s, sample, 3);
}

static void test_vectors(void **state)
{
    static const uint8_t v8[] = {0x03, 'a', 'b', 'c', 0xff};
    static const uint8_t v16[] = {0x00, 0x02, 'x', 'y'};
    static const uint8_t v24[] = {0x00, 0x00, 0x01, 'z'};
    pt_span out;

    pt_span s = pt_span_of(v8, sizeof(v8));
    assert_true(pt_get_vec8(&s, &out));
    assert_int_equal(out.len, 3);
    assert_memory_equal(out.p, "abc", 3);
    assert_int_equal(s.len, 1);
    assert_false(pt_span_empty(&s));

    s = pt_span_of(v16, sizeof(v16));
    assert_true(pt_get_vec16(&s, &out));
    assert_memory_equal(out.p, "xy", 2);
    assert_true(pt_span_empty(&s));

    s = pt_span_of(v24, sizeof(v24));
    assert_true(pt_get_vec24(&s, &out));
    assert_memory_equal(out.p, "z", 1);
    assert_true(pt_span_empty(&s));
}

static void test_vectors_fail_when_content_short(void **state)
{
    static const uint8_t v8[] = {0x04, 'a', 'b', 'c'};
    static const uint8_t v16[] = {0x00};
    static const uint8_t v24[] = {0x01, 0x00, 0x00, 'z'};
    pt_span out = {NULL, 0};

    pt_span s = pt_span_of(v8, sizeof(v8));
    assert_false(pt_get_vec8(&s, &out));
    assert_span_at(&s, v8, sizeof(v8));
    s = pt_span_of(v16, sizeof(v16));
    assert_false(pt_get_vec16(&s, &out));
    assert_span_at(&s, v16, sizeof(v16));
    s = pt_span_of(v24, sizeof(v24));
    assert_false(pt_get_vec24(&s, &out));
    assert_span_at(&s, v24, sizeof(v24));
    assert_null(out.p);
}

static void test_buf_grows_by_doubling_up_to_max(void **state)
{
    pt_buf b;
    uint8_t chunk[300];
    memset(chunk, 0x5a, sizeof(chunk));
    pt_buf_init(&b, 1000, false);
    assert_int_equal(pt_buf_room(&b), 1000);
    assert_true(pt_buf_append(&b, chunk, 10));
    assert_int_equal(b.cap, 256);
    assert_true(pt_buf_append(&b, chunk, 300));
    assert_int_equal(b.cap, 512);
    assert_true(pt_buf_append(&b, chunk, 300));
    /* Doubling would give 1024; the maximum caps it. */
    assert_int_equal(b.cap, 1000);
    assert_true(pt_buf_append(&b, chunk, 300));
    assert_int_equal(b.len, 910);
    assert_false(pt_buf_append(&b, chunk, 91));
    assert_false(pt_buf_reserve(&b, 91));
    assert_int_equal(b.len, 910);
    assert_true(pt_buf_append(&b, chunk, 90));
    assert_int_equal(pt_buf_room(&b), 0);
    assert_false(pt_buf_reserve(&b, 1));
    assert_true(pt_buf_reserve(&b, 0));
    pt_buf_release(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    /* Released buffers stay usable with the same maximum. */
    assert_true(pt_buf_append(&b, chunk, 5));
    assert_int_equal(b.max, 1000);
    pt_buf_release(&b);
}

static void test_buf_consume_moves_remainder(void **state)
{
    pt_buf b;
    pt_buf_init(&b, 64, false);
    assert_true(pt_buf_append(&b, "abcdefgh", 8));
    pt_buf_consume(&b, 3);
    assert_int_equal(b.len, 5);
    assert_memory_equal(b.data, "defgh", 5);
    pt_buf_consume(&b, 100);
    assert_int_equal(b.len, 0);
    pt_buf_release(&b);
}

static void test_secret_buf_wipes_moved_and_consumed_bytes(void **state)
{
    static const uint8_t zeros[64] = {0};
    pt_buf b;
    pt_buf_init(&b, 64, true);
    assert_true(pt_buf_append(&b, "SECRETxy", 8));
    pt_buf_consume(&b, 6);
    assert_memory_equal(b.data, "xy", 2);
    /* Consumed bytes stay in the block, before data, and are wiped. */
    assert_int_equal(b.head, 6);
    assert_memory_equal(b.data - b.head, zeros, 6);
    assert_true(pt_buf_append(&b, "KEY", 3));
    pt_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.head, 0);
    assert_memory_equal(b.data, zeros, 5);
    assert_true(pt_buf_append(&b, "abc", 3));
    pt_buf_consume(&b, 3);
    assert_memory_equal(b.data, zeros, 3);
    pt_buf_release(&b);
}

/* Room at the end is made by moving the contents to the block's start; the
 * bytes left behind by the move are wiped. */
static void test_secret_buf_compacts_and_wipes(void **state)
{
    static const uint8_t zeros[64] = {0};
    uint8_t fill[200];
    memset(fill, 'S', sizeof(fill));
    pt_buf b;
    pt_buf_init(&b, 256, true);
    assert_true(pt_buf_append(&b, fill, 200));
    size_t cap = b.cap;
    pt_buf_consume(&b, 150);
    assert_true(pt_buf_reserve(&b, cap - 50));
    assert_int_equal(b.head, 0);
    assert_int_equal(b.cap, cap);
    assert_int_equal(b.len, 50);
    assert_memory_equal(b.data, fill, 50);
    assert_memory_equal(b.data + 50, zeros, 50);
    /* Contents shorter than the consumed prefix: the old copy lies wholly
     * past the new end. */
    pt_buf_consume(&b, 40);
    assert_true(pt_buf_reserve(&b, cap - 10));
    assert_memory_equal(b.data, fill, 10);
    assert_memory_equal(b.data + 10, zeros, 40);
    pt_buf_release(&b);
}

static void test_secret_buf_keeps_contents_when_growing(void **state)
{
    uint8_t big[600];
    for (size_t i = 0; i < sizeof(big); i++) {
        big[i] = (uint8_t)i;
    }
    pt_buf b;
    pt_buf_init(&b, 4096, true);
    assert_true(pt_buf_append(&b, big, 200));
    assert_true(pt_buf_append(&b, big + 200, 400));
    assert_int_equal(b.cap, 1024);
    assert_memory_equal(b.data, big, 600);
    pt_buf_release(&b);
}

static void test_builder_nested_lengths(void **state)
{
    static const uint8_t want[] = {
        0x16, 0x00, 0x00, 0x09, /* u8 then a 3-byte length of 9 */
        0x00, 0x05,             /* 2-byte length of 5 */
        0x02, 0xaa, 0xbb,       /* 1-byte length of 2 */
        0x00,                   /* an empty 1-byte vector */
        0x01,                   /* a u8 inside the 2-byte vector */
        0x12, 0x34,             /* a u16 inside the 3-byte vector */
        0xde, 0xad, 0xbe, 0xef, /* a u32 after everything */
    };
    pt_buf buf;
    pt_builder b;
    pt_buf_init(&buf, 256, false);
    pt_builder_init(&b, &buf);
    pt_put_u8(&b, 0x16);
    pt_open(&b, 3);
    pt_open(&b, 2);
    pt_open(&b, 1);
    pt_put_bytes(&b, "\xaa\xbb", 2);
    pt_close(&b);
    pt_open(&b, 1);
    pt_close(&b);
    pt_put_u8(&b, 0x01);
    pt_close(&b);
    pt_put_u16(&b, 0x1234);
    pt_close(&b);
    pt_put_u32(&b, 0xdeadbeef);
    assert_true(pt_builder_ok(&b));
    assert_int_equal(buf.len, sizeof(want));
    assert_memory_equal(buf.data, want, sizeof(want));
    pt_buf_release(&buf);
}

static void test_builder_put_u24_and_u64(void **state)
{
    static const uint8_t want[] = {0x0a, 0x0b, 0x0c, 1, 2, 3, 4, 5, 6, 7, 8};
    pt_buf buf;
    pt_builder b;
    pt_buf_init(&buf, 64, false);
    pt_builder_init(&b, &buf);
    pt_put_u24(&b, 0x0a0b0c);
    pt_put_u64(&b, 0x0102030405060708ULL);
    assert_true(pt_builder_ok(&b));
    assert_memory_equal(buf.data, want, sizeof(want));
    pt_put_u24(&b, 0x1000000);
    assert_false(pt_builder_ok(&b));
    pt_buf_release(&buf);
}

static void test_builder_one_byte_length_overflow(void **state)
{
    uint8_t content[256];
    memset(content, 0x11, sizeof(content));
    pt_buf buf;
    pt_builder b;
    pt_buf_init(&buf, 1024, false);

    pt_builder_init(&b, &buf);
    pt_open(&b, 1);
    pt_put_bytes(&b, content, 255);
    pt_close(&b);
    assert_true(pt_builder_ok(&b));
    assert_int_equal(buf.data[0], 255);

    pt_buf_reset(&buf);
    pt_builder_init(&b, &buf);
    pt_open(&b, 1);
    pt_put_bytes(&b, content, 256);
    pt_close(&b);
    assert_false(pt_builder_ok(&b));
    /* The failure is sticky: nothing more is written. */
    size_t len = buf.len;
    pt_put_u8(&b, 1);
    assert_null(pt_put_space(&b, 1));
    assert_int_equal(buf.len, len);
    assert_false(pt_builder_ok(&b));
    pt_buf_release(&buf);
}

static void test_builder_two_byte_length_overflow(void **state)
{
    pt_buf buf;
    pt_builder b;
    pt_buf_init(&buf, 70000, false);
    pt_builder_init(&b, &buf);
    pt_open(&b, 2);
    assert_non_null(pt_put_space(&b, 65536));
    pt_close(&b);
    assert_false(pt_builder_ok(&b));
    pt_buf_release(&buf);
}

static void test_builder_respects_max(void **state)
{
    pt_buf buf;
    pt_builder b;
    pt_buf_init(&buf, 10, false);
    pt_builder_init(&b, &buf);
    pt_open(&b, 2);
    uint8_t *p = pt_put_space(&b, 8);
    assert_non_null(p);
    pt_close(&b);
    assert_true(pt_builder_ok(&b));
    assert_int_equal(buf.len, 10);
    pt_put_u8(&b, 0);
    assert_false(pt_builder_ok(&b));
    assert_int_equal(buf.len, 10);
    pt_buf_release(&buf);
}

static void test_builder_misuse_fails(void **state)
{
    pt_buf buf;
    pt_builder b;
    pt_buf_init(&buf, 256, false);

    pt_builder_init(&b, &buf);
    pt_close(&b);
    assert_false(pt_builder_ok(&b));

    pt_builder_init(&b, &buf);
    pt_open(&b, 1);
    assert_false(pt_builder_ok(&b)); /* still open */
    pt_close(&b);
    assert_true(pt_builder_ok(&b));

    pt_builder_init(&b, &buf);
    pt_open(&b, 4);
    assert_false(pt_builder_ok(&b));

    pt_builder_init(&b, &buf);
    for (int i = 0; i < PT_BUILDER_DEPTH; i++) {
        pt_open(&b, 1);
    }
    assert_false(b.failed);
    pt_open(&b, 1);
    assert_true(b.failed);
    pt_buf_release(&buf);
}

/* Sentences built without printf: exact text, any count, and truncation
 * at the end of the message buffer. */
static void test_fail_count_sentence(void **state)
{
    (void)state;
    pt_error err;
    pt_error_init(&err);
    assert_int_equal(pt_fail_count(&err, PETREL_ERR_WANT_READ, "waiting (", 0, " bytes)"),
                     PETREL_ERR_WANT_READ);
    assert_string_equal(err.pub.message, "waiting (0 bytes)");
    assert_int_equal(err.pub.status, PETREL_ERR_WANT_READ);
    assert_int_equal(err.pub.alert, -1);
    assert_int_equal(pt_fail_count(&err, PETREL_ERR_WANT_READ, "", 18446744073709551615u, ""),
                     PETREL_ERR_WANT_READ);
    assert_string_equal(err.pub.message, "18446744073709551615");
    char longer[2 * PT_ERROR_MESSAGE_MAX];
    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    pt_fail_count(&err, PETREL_ERR_WANT_READ, longer, 42, " tail");
    assert_int_equal(strlen(err.pub.message), PT_ERROR_MESSAGE_MAX - 1);
    assert_int_equal(pt_fail_count(NULL, PETREL_ERR_WANT_READ, "a", 1, "b"), PETREL_ERR_WANT_READ);
    assert_int_equal(PT_FAIL_TEXT(&err, PETREL_ERR_EOF, "fixed sentence"), PETREL_ERR_EOF);
    assert_string_equal(err.pub.message, "fixed sentence");
    assert_int_equal(err.pub.status, PETREL_ERR_EOF);
    pt_fail_text(&err, PETREL_ERR_WANT_READ, longer, strlen(longer));
    assert_int_equal(strlen(err.pub.message), PT_ERROR_MESSAGE_MAX - 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_getters_read_big_endian),
        cmocka_unit_test(test_getters_fail_on_short_input),
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_fail_count_sentence),
        cmocka_unit_test(test_vectors_fail_when_content_short),
        cmocka_unit_test(test_buf_grows_by_doubling_up_to_max),
        cmocka_unit_test(test_buf_consume_moves_remainder),
        cmocka_unit_test(test_secret_buf_wipes_moved_and_consumed_bytes),
        cmocka_unit_test(test_secret_buf_compacts_and_wipes),
        cmocka_unit_test(test_secret_buf_keeps_contents_when_growing),
        cmocka_unit_test(test_builder_nested_lengths),
        cmocka_unit_test(test_builder_put_u24_and_u64),
        cmocka_unit_test(test_builder_one_byte_length_overflow),
        cmocka_unit_test(test_builder_two_byte_length_overflow),
        cmocka_unit_test(test_builder_respects_max),
        cmocka_unit_test(test_builder_misuse_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
