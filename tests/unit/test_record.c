/*
 * test_record.c - record framing and protection (RFC 8446 5, RFC 5246 6.2).
 *
 * Round trips go through a writer layer and a reader layer holding the same
 * key; negative cases change one thing and expect one exact status and
 * alert. The RFC 8448 "Simple 1-RTT" server handshake record checks the
 * TLS 1.3 nonce and additional data against a published trace.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "record/record.h"

/* RFC 8448 section 3: the server's EncryptedExtensions..Finished record
 * under the server handshake traffic key, and its plaintext. */
static const char rfc8448_server_hs_key[] = "4d15c00e47317fe99c714f8ebd92c4d1";
static const char rfc8448_server_hs_iv[] = "18223084735f2f2d8588caaa";
static const char rfc8448_server_hs_record[] =
    "17030302a2d86231e399eee4544f58e5c9ff1d0def3baa470ae2ed0b127c5dd471715673cef74b51fecac0d9"
    "d347ce9f43efe772ad20efddfa5b9a3911760311279599832e856ceba25bdc8071f97228277985b96f4e2b52"
    "0f48b129bd3f9bb8e0ba5ad5cb2513b7d9157fab22fbd5862a8631a194b4ece8e31dade9e6d019d5714833de"
    "181192b427a10fe4e929f637d55c3ecf0182191dee94df0cdeed15dcc6f114c5abdcc0626356cfe4dcf01102"
    "2c0e6a2431d688bbc829fa495bcb0e7456636b153c9c79a4f8cb083164c5f555ac78b8844a25d8c7b3f40d72"
    "26f53e6b6f0976989c70a327b6e7bf5316a20b8de99e25ab7d5e2faba2f53ef8f3713995023e678859cde121"
    "cf548625d61fe840f0c5749fc65c984c543a139a3185091aeb9eaca24d269a31501cc506bdf9b620994c8dc4"
    "bdc977afd9e971fad42eb1c9d05545fc37164a123233e370bb6afef2cbf7df710c95a4e20982cca1ebfc67a6"
    "ebb82e8ee5910a69ec085598ab497365c408aca90d13feea1d773af9899f9e37b74189f711ea08a960810c44"
    "9c141ab4ee2d4958021050e1bc4347fbfddb90e924752f1df76ed1ce7c0038ce1193b0e72e056c3e330914cb"
    "e656b80bbebf0359bf301e06901974baad55765f186c7b1c1304e1101181629351682a0a96e2a8442cd65234"
    "d55f4dcdc585c3a729aab205590a53a9ce9e4b0e1218f0952cc2806b5f46c59d88a172dac37c9f37afb91cea"
    "61665324b06d3ce79d7465d323ca9cb4ccd8d8adf21eefde6a24f36fe7e022139285de95dd6283e106773d11"
    "d07d9bf27ca9e9953a0c23730b159ff8aa0086d74e0ba5557257c2f308a55ff54c9c48547886f979fa841b8c"
    "2d6cd7a14ef642dda832badba34a3554fcd4092d8de04e432ccbdaa4eac28f922a29bd00a7d26f5072a3fa2d"
    "a1a228394a26a805dee090422794fb1476cff0";

static const char rfc8448_server_hs_payload[] =
    "080000240022000a00140012001d00170018001901000101010201030104001c00024001000000000b0001b9"
    "000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c300a"
    "06035504031303727361301e170d3136303733303031323335395a170d3236303733303031323335395a300e"
    "310c300a0603550403130372736130819f300d06092a864886f70d010101050003818d0030818902818100b4"
    "bb498f8279303d980836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace"
    "6c1af19eaa6af98c7ced43120998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda4308467480"
    "30530ef0461c8ca9d9efbfae8ea6d1d03e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001"
    "a31a301830090603551d1304023000300b0603551d0f0404030205a0300d06092a864886f70d01010b050003"
    "81810085aad2a0e5b9276b908c65f73a7267170618a54c5f8a7b337d2df7a594365417f2eae8f8a58c8f8172"
    "f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102702e608ccae6bec1fc63a42a99be5c3e"
    "b7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b42b4de100"
    "000f00008408040080ace0af8e87d7c63cc9dbe7dcc12ff83bd55df0ccda9bf4e5a0f70100d9bc4d25aa684f"
    "d9d347642c942222526e163e3b0fba312b10e9b67eb0ac9c2be5fef490f81d7827e3bc12fa027ab439e71cc8"
    "459c14b94a8f3506ec44547d6c23e19cc7f9d5e0d1f595108fc240f5b0842c485a321487c4950377a52e9172"
    "94715567cd140000204c92b1b256d861a1830167827d3e288d1a76f03484e9ec886d4ff66149cbec2f";

/* RFC 8448 section 3: the server application traffic key, then the
 * NewSessionTicket (sequence number 0), application data (1) and
 * close_notify (2) records it protects. */
static const char rfc8448_server_ap_key[] = "bbe6b3fc9c068c6fb331eca8aa919bfd";
static const char rfc8448_server_ap_iv[] = "8057dc46846821a1bea306e0";
static const char rfc8448_ticket_payload[] =
    "040000c90000001e933d093202000000b2f35edae4e60404d6f40fa17f000000008393d163fb4f5f105fe205"
    "6caeb32ac7007070045931026db07d58dd58090d629af59ecb7fba353d5d9653a708fbcf0f515c1b82db6b08"
    "977179dfc684d22fcf7bd5c12222ab63ffd9d2bc46176d144ae98ad93416894822ac5064065f92995a6f052f"
    "a3a731703657817ea7a8de73148661768f7f62098fb45c0a9dde04a9cf1aa4206f13dd055df3ed5fa681bbf8"
    "76e362ad9c0a68d2b5266c79aa806cbfe6113b0008002a000400000400";
static const char rfc8448_ticket_record[] =
    "17030300dec047d7b25ebbc316ebeef66485649f1a3a6c1918b035c183ebde6bd30c2b97f4935e329714bb08"
    "af9c6d96da3c604443c0dbbeab8beecd90af0c3dbc53ea1c49deeb688f45f0f9e8cceec68ebbadd3a4425938"
    "acd99dca9ead9b6f6a297a9aa0d9ab910745f6732527817fd4134ac5e99cd6255e2388c89f83646e0e5fbe40"
    "44aa5a55a3530ca98ff56eb6b1dc685e5660a75a822efae533daed34745608aa9829ba84de3e7c4acfc8094e"
    "39d2af817421e55c3aa5d0e1de43c408bac9322599ef4e57dfd08a7af0d1186c96e6ac299bd07f5ee5b05683"
    "1964cb80768ce5";
static const char rfc8448_server_app_record[] =
    "1703030043cc8a45078c6c81b7461ff5624f6312aa44c3c101eb700e6248042f40baca0d988fefd11e945d27"
    "c7c364b5068580571908646e59a85e12690df143671095b3c93d705c";
static const char rfc8448_server_alert_record[] =
    "1703030013487b8fbbf30c49dd4817e394fa6c6f95816846";

static const uint8_t test_key[PT_MAX_KEY] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};
static const uint8_t test_iv[PT_AEAD_NONCE] = {
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
};

/* A writer and a reader sharing keys, and the wire between them. */
typedef struct pair {
    pt_algs *algs;
    pt_record_layer wr;
    pt_record_layer rd;
    pt_buf wire;
    pt_error err;
} pair;

static size_t from_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        char byte[3] = {hex[2 * i], hex[2 * i + 1], '\0'};
        out[i] = (uint8_t)strtol(byte, NULL, 16);
    }
    return n;
}

static int pair_setup(void **state)
{
    pair *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    pt_error_init(&p->err);
    p->algs = pt_algs_new(&p->err);
    assert_non_null(p->algs);
    pt_record_layer_init(&p->wr);
    pt_record_layer_init(&p->rd);
    pt_buf_init(&p->wire, 1 << 20, false);
    *state = p;
    return 0;
}

static int pair_teardown(void **state)
{
    pair *p = *state;
    pt_record_layer_free(&p->wr);
    pt_record_layer_free(&p->rd);
    pt_buf_release(&p->wire);
    pt_algs_free(p->algs);
    free(p);
    return 0;
}

/* Installs the test key on both sides: write on p->wr, read on p->rd. */
static void pair_keys(pair *p, pt_aead_alg alg, bool tls13)
{
    size_t iv_len = (!tls13 && alg != PT_CHACHA20_POLY1305) ? 4 : PT_AEAD_NONCE;
    assert_int_equal(
        pt_record_set_key(&p->wr.wr, p->algs, alg, test_key, test_iv, iv_len, tls13, true, &p->err),
        PETREL_OK);
    assert_int_equal(pt_record_set_key(&p->rd.rd, p->algs, alg, test_key, test_iv, iv_len, tls13,
                                       false, &p->err),
                     PETREL_OK);
}

static void seal_ok(pair *p, uint8_t type, const void *data, size_t len)
{
    petrel_status st = pt_record_seal(&p->wr, type, data, len, &p->wire, &p->err);
    if (st != PETREL_OK) {
        fail_msg("seal failed: %s", p->err.text);
    }
}

/* Opens the record at the front of the wire and consumes it. The data is
 * copied out because consuming moves the buffer. */
static void open_ok(pair *p, uint8_t want_type, const void *want, size_t want_len)
{
    pt_record rec;
    petrel_status st = pt_record_open(&p->rd, p->wire.data, p->wire.len, &rec, &p->err);
    if (st != PETREL_OK) {
        fail_msg("open failed: %s", p->err.text);
    }
    assert_int_equal(rec.type, want_type);
    assert_int_equal(rec.len, want_len);
    if (want_len > 0) {
        assert_memory_equal(rec.data, want, want_len);
    }
    assert_true(rec.wire_len <= p->wire.len);
    pt_buf_consume(&p->wire, rec.wire_len);
}

/* Opens the front record expecting failure with status and alert. */
static void open_fails(pair *p, petrel_status status, int alert, const char *sentence)
{
    pt_record rec;
    pt_error_clear(&p->err);
    assert_int_equal(pt_record_open(&p->rd, p->wire.data, p->wire.len, &rec, &p->err), status);
    assert_int_equal(p->err.pub.alert, alert);
    if (sentence != NULL) {
        assert_string_equal(p->err.text, sentence);
    }
}

static bool contains(const uint8_t *hay, size_t hay_len, const void *needle, size_t len)
{
    for (size_t i = 0; i + len <= hay_len; i++) {
        if (memcmp(hay + i, needle, len) == 0) {
            return true;
        }
    }
    return false;
}

static void wire_put(pair *p, const void *bytes, size_t len)
{
    assert_true(pt_buf_append(&p->wire, bytes, len));
}

/* --- Plaintext records ---------------------------------------------------- */

static void test_plaintext_round_trip(void **state)
{
    static const uint8_t want[] = {0x16, 0x03, 0x03, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'};
    pair *p = *state;
    seal_ok(p, PT_CT_HANDSHAKE, "hello", 5);
    assert_int_equal(p->wire.len, sizeof(want));
    assert_memory_equal(p->wire.data, want, sizeof(want));
    open_ok(p, PT_CT_HANDSHAKE, "hello", 5);
    assert_int_equal(p->wire.len, 0);
    assert_true(p->rd.rd.seq == 0);
}

static void test_record_version_first_byte_only(void **state)
{
    static const uint8_t tls10[] = {0x16, 0x03, 0x01, 0x00, 0x01, 0x01};
    static const uint8_t ssl2[] = {0x16, 0x02, 0x00, 0x00, 0x01, 0x01};
    pair *p = *state;
    wire_put(p, tls10, sizeof(tls10));
    open_ok(p, PT_CT_HANDSHAKE, "\x01", 1);
    wire_put(p, ssl2, sizeof(ssl2));
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_DECODE_ERROR,
               "record version 0x0200 is not TLS");
}

static void test_want_read_until_complete(void **state)
{
    pair *p = *state;
    seal_ok(p, PT_CT_ALERT, "\x02\x28", 2);
    pt_record rec;
    for (size_t n = 0; n < 7; n++) {
        assert_int_equal(pt_record_open(&p->rd, p->wire.data, n, &rec, &p->err),
                         PETREL_ERR_WANT_READ);
    }
    open_ok(p, PT_CT_ALERT, "\x02\x28", 2);
}

/* RFC 8446 5: an unknown record type is unexpected_message. */
static void test_unknown_type_is_unexpected_message(void **state)
{
    static const uint8_t bad24[] = {0x18, 0x03, 0x03, 0x00, 0x01, 0x00};
    static const uint8_t bad19[] = {0x13, 0x03, 0x03};
    pair *p = *state;
    wire_put(p, bad24, sizeof(bad24));
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_UNEXPECTED_MESSAGE,
               "record of unknown content type 24");
    pt_buf_reset(&p->wire);
    /* Checked as soon as the header is in. */
    wire_put(p, bad19, sizeof(bad19));
    open_fails(p, PETREL_ERR_WANT_READ, -1, NULL);
    wire_put(p, "\x00\x00", 2);
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_UNEXPECTED_MESSAGE, NULL);
}

/* RFC 8446 5.1: plaintext records carry at most 2^14 bytes. */
static void test_plaintext_oversize_is_record_overflow(void **state)
{
    static const uint8_t hdr[] = {0x16, 0x03, 0x03, 0x40, 0x01};
    pair *p = *state;
    wire_put(p, hdr, sizeof(hdr));
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_RECORD_OVERFLOW,
               "record of 16385 bytes exceeds the 16384-byte limit");
}

/* RFC 8446 5.1: zero-length fragments only for application data. */
static void test_empty_records(void **state)
{
    static const uint8_t empty_app[] = {0x17, 0x03, 0x03, 0x00, 0x00};
    static const uint8_t empty_hs[] = {0x16, 0x03, 0x03, 0x00, 0x00};
    pair *p = *state;
    wire_put(p, empty_app, sizeof(empty_app));
    open_ok(p, PT_CT_APPLICATION_DATA, NULL, 0);
    wire_put(p, empty_hs, sizeof(empty_hs));
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_UNEXPECTED_MESSAGE, "empty handshake record");
    pt_buf_reset(&p->wire);
    assert_int_equal(pt_record_seal(&p->wr, PT_CT_HANDSHAKE, NULL, 0, &p->wire, &p->err),
                     PETREL_ERR_INTERNAL);
    assert_int_equal(p->wire.len, 0);
    seal_ok(p, PT_CT_APPLICATION_DATA, NULL, 0);
    assert_int_equal(p->wire.len, 5);
}

/* --- TLS 1.3 ---------------------------------------------------------------- */

static void round_trip13(pair *p, pt_aead_alg alg)
{
    static const char msg[] = "GET / HTTP/1.1\r\n\r\n";
    size_t n = sizeof(msg) - 1;
    pair_keys(p, alg, true);
    seal_ok(p, PT_CT_APPLICATION_DATA, msg, n);
    seal_ok(p, PT_CT_HANDSHAKE, msg, n);
    /* Outer type is always application_data; length is content + type + tag. */
    assert_int_equal(p->wire.len, 2 * (5 + n + 1 + 16));
    uint8_t *second = p->wire.data + 5 + n + 1 + 16;
    assert_int_equal(p->wire.data[0], PT_CT_APPLICATION_DATA);
    assert_int_equal(second[0], PT_CT_APPLICATION_DATA);
    assert_int_equal(p->wire.data[4], n + 1 + 16);
    assert_false(contains(p->wire.data, p->wire.len, msg, n));
    open_ok(p, PT_CT_APPLICATION_DATA, msg, n);
    open_ok(p, PT_CT_HANDSHAKE, msg, n);
    assert_true(p->wr.wr.seq == 2);
    assert_true(p->rd.rd.seq == 2);
}

static void test_tls13_round_trip_aes128(void **state)
{
    round_trip13(*state, PT_AES_128_GCM);
}

static void test_tls13_round_trip_aes256(void **state)
{
    round_trip13(*state, PT_AES_256_GCM);
}

static void test_tls13_round_trip_chacha(void **state)
{
    round_trip13(*state, PT_CHACHA20_POLY1305);
}

/* Sealing 40000 bytes gives records of 16384, 16384 and 7232 bytes. */
static void fragment_40000(pair *p, size_t expansion)
{
    static uint8_t big[40000];
    for (size_t i = 0; i < sizeof(big); i++) {
        big[i] = (uint8_t)(i * 7);
    }
    size_t sizes[] = {16384, 16384, 7232};
    seal_ok(p, PT_CT_APPLICATION_DATA, big, sizeof(big));
    assert_int_equal(p->wire.len, sizeof(big) + 3 * (5 + expansion));
    assert_int_equal(pt_record_overhead(&p->wr, sizeof(big)), p->wire.len);
    size_t off = 0;
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal((p->wire.data[3] << 8) | p->wire.data[4], sizes[i] + expansion);
        open_ok(p, PT_CT_APPLICATION_DATA, big + off, sizes[i]);
        off += sizes[i];
    }
    assert_int_equal(p->wire.len, 0);
}

static void test_fragmentation_plaintext(void **state)
{
    fragment_40000(*state, 0);
}

static void test_fragmentation_tls13(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, true);
    fragment_40000(p, 1 + 16);
    assert_true(p->rd.rd.seq == 3);
}

static void test_fragmentation_smaller_max_fragment(void **state)
{
    pair *p = *state;
    p->wr.max_fragment = 1000;
    uint8_t data[2500];
    memset(data, 'x', sizeof(data));
    seal_ok(p, PT_CT_HANDSHAKE, data, sizeof(data));
    assert_int_equal(p->wire.len, 2500 + 3 * 5);
    open_ok(p, PT_CT_HANDSHAKE, data, 1000);
    open_ok(p, PT_CT_HANDSHAKE, data, 1000);
    open_ok(p, PT_CT_HANDSHAKE, data, 500);
}

/* RFC 8446 5.4: padding is zeros after the type and is stripped on read. */
static void test_tls13_padding_stripped(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_AES_256_GCM, true);
    p->wr.pad_to = 64;
    seal_ok(p, PT_CT_HANDSHAKE, "0123456789", 10);
    assert_int_equal(p->wire.len, 5 + 64 + 16);
    assert_true(pt_record_overhead(&p->wr, 10) >= p->wire.len);
    seal_ok(p, PT_CT_ALERT, "\x01\x00", 2);
    open_ok(p, PT_CT_HANDSHAKE, "0123456789", 10);
    open_ok(p, PT_CT_ALERT, "\x01\x00", 2);
}

static void test_tls13_padding_never_exceeds_limit(void **state)
{
    static uint8_t full[PT_MAX_PLAINTEXT];
    pair *p = *state;
    pair_keys(p, PT_CHACHA20_POLY1305, true);
    p->wr.pad_to = 4096;
    seal_ok(p, PT_CT_APPLICATION_DATA, full, sizeof(full));
    assert_int_equal(p->wire.len, 5 + PT_MAX_PLAINTEXT + 1 + 16);
    open_ok(p, PT_CT_APPLICATION_DATA, full, sizeof(full));
}

/* Seals a TLS 1.3 record whose inner plaintext is given in full (content,
 * type and padding), as a peer could. */
static void put_raw13(pair *p, const uint8_t *inner, size_t inner_len)
{
    pt_aead aead;
    uint8_t rec[5 + 64 + 16];
    assert_true(inner_len <= 64);
    rec[0] = PT_CT_APPLICATION_DATA;
    rec[1] = 0x03;
    rec[2] = 0x03;
    rec[3] = 0;
    rec[4] = (uint8_t)(inner_len + 16);
    if (inner_len > 0) {
        memcpy(rec + 5, inner, inner_len);
    }
    uint8_t nonce[PT_AEAD_NONCE];
    memcpy(nonce, test_iv, sizeof(nonce)); /* sequence number 0 */
    assert_int_equal(pt_aead_init(&aead, p->algs, PT_AES_128_GCM, test_key, true, &p->err),
                     PETREL_OK);
    assert_int_equal(
        pt_aead_seal(&aead, nonce, rec, 5, rec + 5, inner_len, rec + 5 + inner_len, &p->err),
        PETREL_OK);
    pt_aead_free(&aead);
    wire_put(p, rec, 5 + inner_len + 16);
}

static void test_tls13_all_zero_inner_is_unexpected_message(void **state)
{
    static const uint8_t zeros[20] = {0};
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, true);
    put_raw13(p, zeros, sizeof(zeros));
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_UNEXPECTED_MESSAGE,
               "record has no content type");
}

static void test_tls13_empty_inner_is_unexpected_message(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, true);
    put_raw13(p, NULL, 0);
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_UNEXPECTED_MESSAGE,
               "record has no content type");
}

static void test_tls13_bad_inner_type(void **state)
{
    static const uint8_t inner_ccs[] = {0x01, PT_CT_CHANGE_CIPHER_SPEC};
    static const uint8_t inner_99[] = {'x', 99, 0, 0};
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, true);
    put_raw13(p, inner_ccs, sizeof(inner_ccs));
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_UNEXPECTED_MESSAGE,
               "protected record of inner content type 20");
    pt_buf_reset(&p->wire);
    p->rd.rd.seq = 0;
    put_raw13(p, inner_99, sizeof(inner_99));
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_UNEXPECTED_MESSAGE,
               "protected record of inner content type 99");
}

static void test_tls13_padded_inner_parsed(void **state)
{
    static const uint8_t inner[] = {'h', 'i', PT_CT_HANDSHAKE, 0, 0, 0, 0, 0};
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, true);
    put_raw13(p, inner, sizeof(inner));
    open_ok(p, PT_CT_HANDSHAKE, "hi", 2);
}

/* Flips each byte of a sealed record in turn: every change to the header's
 * version, the body or the tag is bad_record_mac. A failed open wipes the
 * body in place, so each attempt starts from a fresh copy. */
static void flip_each_byte(pair *p)
{
    uint8_t sealed[64];
    seal_ok(p, PT_CT_APPLICATION_DATA, "attack at dawn", 14);
    size_t len = p->wire.len;
    assert_true(len <= sizeof(sealed));
    memcpy(sealed, p->wire.data, len);
    uint64_t seq = p->rd.rd.seq;
    for (size_t i = 2; i < len; i++) {
        if (i == 3 || i == 4) {
            continue; /* the length: framing, not authentication */
        }
        memcpy(p->wire.data, sealed, len);
        p->wire.data[i] ^= 0x01;
        open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_BAD_RECORD_MAC, NULL);
        assert_true(p->rd.rd.seq == seq);
        /* No unauthenticated plaintext is left behind. */
        assert_false(contains(p->wire.data, len, "attack at dawn", 14));
    }
    memcpy(p->wire.data, sealed, len);
    open_ok(p, PT_CT_APPLICATION_DATA, "attack at dawn", 14);
}

static void test_tls13_flipped_byte_is_bad_record_mac(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, true);
    flip_each_byte(p);
    p->wire.len = 0;
    seal_ok(p, PT_CT_APPLICATION_DATA, "x", 1);
    p->wire.data[7] ^= 0x80;
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_BAD_RECORD_MAC,
               "record 1 failed authentication (bad_record_mac)");
}

static void test_tls13_chacha_flipped_byte(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_CHACHA20_POLY1305, true);
    flip_each_byte(p);
}

/* A record sealed under sequence number 1 does not open as number 0. */
static void test_tls13_reordered_record_fails(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, true);
    seal_ok(p, PT_CT_APPLICATION_DATA, "one", 3);
    pt_buf_reset(&p->wire);
    seal_ok(p, PT_CT_APPLICATION_DATA, "two", 3);
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_BAD_RECORD_MAC, NULL);
}

static void test_tls13_unprotected_record_refused(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, true);
    wire_put(p, "\x16\x03\x03\x00\x01\x01", 6);
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_UNEXPECTED_MESSAGE,
               "unprotected handshake record after keys were installed");
    pt_buf_reset(&p->wire);
    wire_put(p, "\x15\x03\x03\x00\x02\x02\x28", 7);
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_UNEXPECTED_MESSAGE, NULL);
}

/* RFC 8446 5: the compatibility change_cipher_spec stays in the clear. */
static void test_tls13_ccs_passes_unprotected(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, true);
    seal_ok(p, PT_CT_CHANGE_CIPHER_SPEC, "\x01", 1);
    assert_int_equal(p->wire.len, 6);
    assert_memory_equal(p->wire.data, "\x14\x03\x03\x00\x01\x01", 6);
    assert_true(p->wr.wr.seq == 0);
    open_ok(p, PT_CT_CHANGE_CIPHER_SPEC, "\x01", 1);
    assert_true(p->rd.rd.seq == 0);
    seal_ok(p, PT_CT_APPLICATION_DATA, "after", 5);
    open_ok(p, PT_CT_APPLICATION_DATA, "after", 5);
}

/* RFC 8446 5.2: TLSCiphertext.length is at most 2^14 + 256. */
static void test_tls13_oversize_is_record_overflow(void **state)
{
    static const uint8_t at_limit[] = {0x17, 0x03, 0x03, 0x41, 0x00};
    static const uint8_t over[] = {0x17, 0x03, 0x03, 0x42, 0x68};
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, true);
    wire_put(p, at_limit, sizeof(at_limit));
    open_fails(p, PETREL_ERR_WANT_READ, -1, NULL);
    pt_buf_reset(&p->wire);
    wire_put(p, over, sizeof(over));
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_RECORD_OVERFLOW,
               "record of 17000 bytes exceeds the 16640-byte limit");
    p->wire.data[3] = 0x41;
    p->wire.data[4] = 0x01;
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_RECORD_OVERFLOW,
               "record of 16641 bytes exceeds the 16640-byte limit");
}

/* RFC 8446 5.4: the inner plaintext is at most 2^14 + 1 bytes, even when
 * the ciphertext length is allowed. */
static void test_tls13_inner_oversize_is_record_overflow(void **state)
{
    static uint8_t rec[5 + PT_MAX_CIPHERTEXT13];
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, true);
    rec[0] = 0x17;
    rec[1] = 0x03;
    rec[2] = 0x03;
    rec[3] = (PT_MAX_PLAINTEXT + 2 + 16) >> 8;
    rec[4] = (PT_MAX_PLAINTEXT + 2 + 16) & 0xff;
    wire_put(p, rec, 5 + PT_MAX_PLAINTEXT + 2 + 16);
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_RECORD_OVERFLOW,
               "record of 16386 bytes exceeds the 16385-byte limit");
}

/* A smaller accepted plaintext (RFC 8449) is enforced on protected data. */
static void test_max_in_plain_enforced(void **state)
{
    uint8_t data[200];
    memset(data, 'a', sizeof(data));
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, true);
    p->rd.max_in_plain = 100;
    seal_ok(p, PT_CT_APPLICATION_DATA, data, 100);
    seal_ok(p, PT_CT_APPLICATION_DATA, data, 101);
    open_ok(p, PT_CT_APPLICATION_DATA, data, 100);
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_RECORD_OVERFLOW,
               "record of 101 bytes exceeds the 100-byte limit");
}

static void test_tls13_short_record_is_decode_error(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, true);
    wire_put(p,
             "\x17\x03\x03\x00\x0f"
             "0123456789abcde",
             20);
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_DECODE_ERROR, NULL);
}

static void test_rfc8448_server_handshake_record(void **state)
{
    pair *p = *state;
    uint8_t key[16];
    uint8_t iv[12];
    static uint8_t rec[700];
    static uint8_t payload[700];
    assert_int_equal(from_hex(rfc8448_server_hs_key, key, sizeof(key)), 16);
    assert_int_equal(from_hex(rfc8448_server_hs_iv, iv, sizeof(iv)), 12);
    size_t rec_len = from_hex(rfc8448_server_hs_record, rec, sizeof(rec));
    size_t payload_len = from_hex(rfc8448_server_hs_payload, payload, sizeof(payload));
    assert_int_equal(rec_len, 679);
    assert_int_equal(payload_len, 657);
    assert_int_equal(
        pt_record_set_key(&p->rd.rd, p->algs, PT_AES_128_GCM, key, iv, 12, true, false, &p->err),
        PETREL_OK);
    wire_put(p, rec, rec_len);
    open_ok(p, PT_CT_HANDSHAKE, payload, payload_len);
    assert_true(p->rd.rd.seq == 1);

    /* Our writer produces the same bytes from the same key and plaintext. */
    assert_int_equal(
        pt_record_set_key(&p->wr.wr, p->algs, PT_AES_128_GCM, key, iv, 12, true, true, &p->err),
        PETREL_OK);
    seal_ok(p, PT_CT_HANDSHAKE, payload, payload_len);
    assert_int_equal(p->wire.len, rec_len);
    assert_memory_equal(p->wire.data, rec, rec_len);
}

/* Records 0, 1 and 2 under one key check the nonce's XOR of the sequence
 * number against published bytes. */
static void test_rfc8448_server_application_records(void **state)
{
    pair *p = *state;
    uint8_t key[16];
    uint8_t iv[12];
    static uint8_t buf[300];
    static uint8_t payload[300];
    uint8_t app_data[50];
    for (size_t i = 0; i < sizeof(app_data); i++) {
        app_data[i] = (uint8_t)i;
    }
    from_hex(rfc8448_server_ap_key, key, sizeof(key));
    from_hex(rfc8448_server_ap_iv, iv, sizeof(iv));
    assert_int_equal(
        pt_record_set_key(&p->rd.rd, p->algs, PT_AES_128_GCM, key, iv, 12, true, false, &p->err),
        PETREL_OK);
    size_t payload_len = from_hex(rfc8448_ticket_payload, payload, sizeof(payload));
    wire_put(p, buf, from_hex(rfc8448_ticket_record, buf, sizeof(buf)));
    wire_put(p, buf, from_hex(rfc8448_server_app_record, buf, sizeof(buf)));
    wire_put(p, buf, from_hex(rfc8448_server_alert_record, buf, sizeof(buf)));
    open_ok(p, PT_CT_HANDSHAKE, payload, payload_len);
    open_ok(p, PT_CT_APPLICATION_DATA, app_data, sizeof(app_data));
    open_ok(p, PT_CT_ALERT, "\x01\x00", 2);
    assert_int_equal(p->wire.len, 0);
    assert_true(p->rd.rd.seq == 3);
}

/* --- TLS 1.2 ------------------------------------------------------------------ */

static void test_tls12_gcm_round_trip(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, false);
    seal_ok(p, PT_CT_HANDSHAKE, "finished", 8);
    seal_ok(p, PT_CT_APPLICATION_DATA, "data", 4);
    /* header, 8-byte explicit nonce (our sequence number), data, tag */
    assert_int_equal(p->wire.len, (5 + 8 + 8 + 16) + (5 + 8 + 4 + 16));
    assert_int_equal(p->wire.data[0], PT_CT_HANDSHAKE);
    assert_int_equal(p->wire.data[4], 8 + 8 + 16);
    assert_memory_equal(p->wire.data + 5, "\0\0\0\0\0\0\0\0", 8);
    assert_memory_equal(p->wire.data + 37 + 5, "\0\0\0\0\0\0\0\1", 8);
    open_ok(p, PT_CT_HANDSHAKE, "finished", 8);
    open_ok(p, PT_CT_APPLICATION_DATA, "data", 4);
}

static void test_tls12_aes256_round_trip(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_AES_256_GCM, false);
    seal_ok(p, PT_CT_ALERT, "\x01\x00", 2);
    open_ok(p, PT_CT_ALERT, "\x01\x00", 2);
}

static void test_tls12_chacha_round_trip(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_CHACHA20_POLY1305, false);
    seal_ok(p, PT_CT_APPLICATION_DATA, "chacha", 6);
    /* RFC 7905: no explicit nonce. */
    assert_int_equal(p->wire.len, 5 + 6 + 16);
    assert_int_equal(p->wire.data[0], PT_CT_APPLICATION_DATA);
    open_ok(p, PT_CT_APPLICATION_DATA, "chacha", 6);
    pair_keys(p, PT_CHACHA20_POLY1305, false);
    fragment_40000(p, 16);
}

static void test_tls12_gcm_flipped_byte_is_bad_record_mac(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, false);
    /* In TLS 1.2 the type is in the additional data: flip it too. */
    seal_ok(p, PT_CT_APPLICATION_DATA, "attack at dawn", 14);
    p->wire.data[0] = PT_CT_HANDSHAKE;
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_BAD_RECORD_MAC, NULL);
    p->wire.data[0] = PT_CT_APPLICATION_DATA;
    pt_buf_reset(&p->wire);
    pair_keys(p, PT_AES_128_GCM, false);
    flip_each_byte(p);
}

static void test_tls12_chacha_flipped_byte(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_CHACHA20_POLY1305, false);
    flip_each_byte(p);
}

/* RFC 5288 3: the reader takes the explicit nonce from the record, whatever
 * the sender chose, while the additional data uses its own count. */
static void test_tls12_gcm_explicit_nonce_from_record(void **state)
{
    static const uint8_t explicit_nonce[8] = {9, 8, 7, 6, 5, 4, 3, 2};
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, false);
    uint8_t rec[5 + 8 + 3 + 16] = {PT_CT_APPLICATION_DATA, 0x03, 0x03, 0, 8 + 3 + 16};
    memcpy(rec + 5, explicit_nonce, 8);
    memcpy(rec + 13, "abc", 3);
    uint8_t nonce[PT_AEAD_NONCE];
    memcpy(nonce, test_iv, 4);
    memcpy(nonce + 4, explicit_nonce, 8);
    uint8_t aad[13] = {0, 0, 0, 0, 0, 0, 0, 0, PT_CT_APPLICATION_DATA, 0x03, 0x03, 0, 3};
    pt_aead aead;
    assert_int_equal(pt_aead_init(&aead, p->algs, PT_AES_128_GCM, test_key, true, &p->err),
                     PETREL_OK);
    assert_int_equal(pt_aead_seal(&aead, nonce, aad, 13, rec + 13, 3, rec + 16, &p->err),
                     PETREL_OK);
    pt_aead_free(&aead);
    wire_put(p, rec, sizeof(rec));
    open_ok(p, PT_CT_APPLICATION_DATA, "abc", 3);
}

/* RFC 7905 2: the nonce is the IV with the sequence number XORed into its
 * last 8 bytes; checked on record 1 built by hand. */
static void test_tls12_chacha_nonce_is_iv_xor_seq(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_CHACHA20_POLY1305, false);
    seal_ok(p, PT_CT_APPLICATION_DATA, "zero", 4);
    open_ok(p, PT_CT_APPLICATION_DATA, "zero", 4);
    uint8_t rec[5 + 3 + 16] = {PT_CT_HANDSHAKE, 0x03, 0x03, 0, 3 + 16, 'o', 'n', 'e'};
    uint8_t nonce[PT_AEAD_NONCE];
    memcpy(nonce, test_iv, sizeof(nonce));
    nonce[11] ^= 1;
    uint8_t aad[13] = {0, 0, 0, 0, 0, 0, 0, 1, PT_CT_HANDSHAKE, 0x03, 0x03, 0, 3};
    pt_aead aead;
    assert_int_equal(pt_aead_init(&aead, p->algs, PT_CHACHA20_POLY1305, test_key, true, &p->err),
                     PETREL_OK);
    assert_int_equal(pt_aead_seal(&aead, nonce, aad, 13, rec + 5, 3, rec + 8, &p->err), PETREL_OK);
    pt_aead_free(&aead);
    wire_put(p, rec, sizeof(rec));
    open_ok(p, PT_CT_HANDSHAKE, "one", 3);
}

/* RFC 5246 6.2.3: TLSCiphertext.length is at most 2^14 + 2048. */
static void test_tls12_oversize_is_record_overflow(void **state)
{
    static const uint8_t over[] = {0x17, 0x03, 0x03, 0x48, 0x01};
    static const uint8_t at_limit[] = {0x17, 0x03, 0x03, 0x48, 0x00};
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, false);
    p->rd.max_in_plain = 20000;
    wire_put(p, at_limit, sizeof(at_limit));
    open_fails(p, PETREL_ERR_WANT_READ, -1, NULL);
    pt_buf_reset(&p->wire);
    wire_put(p, over, sizeof(over));
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_RECORD_OVERFLOW,
               "record of 18433 bytes exceeds the 18432-byte limit");
    /* Within the ciphertext limit but over the plaintext one. */
    pt_buf_reset(&p->wire);
    p->rd.max_in_plain = PT_MAX_PLAINTEXT;
    static uint8_t rec[5 + 8 + PT_MAX_PLAINTEXT + 1 + 16];
    size_t body = sizeof(rec) - 5;
    memcpy(rec, "\x17\x03\x03", 3);
    rec[3] = (uint8_t)(body >> 8);
    rec[4] = (uint8_t)body;
    wire_put(p, rec, sizeof(rec));
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_RECORD_OVERFLOW,
               "record of 16385 bytes exceeds the 16384-byte limit");
}

static void test_tls12_short_record_is_decode_error(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, false);
    /* 23 bytes cannot hold an 8-byte nonce and a 16-byte tag. */
    static uint8_t rec[5 + 23] = {0x17, 0x03, 0x03, 0x00, 23};
    wire_put(p, rec, sizeof(rec));
    open_fails(p, PETREL_ERR_PROTOCOL, PETREL_ALERT_DECODE_ERROR, NULL);
}

/* --- Keys, limits and output room ------------------------------------------------ */

/* --- Opening into the reader's buffer ------------------------------------- */

/* Opens the front record with dst of cap bytes and checks where the
 * plaintext landed: the first direct bytes in dst, the rest in the input. */
static void open_into_ok(pair *p, size_t cap, const uint8_t *want, size_t want_len,
                         size_t want_direct)
{
    uint8_t dst[1024];
    assert_true(cap <= sizeof(dst));
    memset(dst, 0xee, sizeof(dst));
    pt_record rec;
    petrel_status st =
        pt_record_open_into(&p->rd, p->wire.data, p->wire.len, dst, cap, &rec, &p->err);
    if (st != PETREL_OK) {
        fail_msg("open failed: %s", p->err.text);
    }
    assert_int_equal(rec.type, PT_CT_APPLICATION_DATA);
    assert_int_equal(rec.len, want_len);
    assert_int_equal(rec.direct, want_direct);
    assert_memory_equal(dst, want, want_direct);
    assert_memory_equal(rec.data + rec.direct, want + want_direct, want_len - want_direct);
    /* Nothing is written past the room given. */
    for (size_t i = cap; i < sizeof(dst); i++) {
        assert_int_equal(dst[i], 0xee);
    }
    pt_buf_consume(&p->wire, rec.wire_len);
}

static void open_into_sizes(pair *p)
{
    uint8_t msg[300];
    for (size_t i = 0; i < sizeof(msg); i++) {
        msg[i] = (uint8_t)(i * 7 + 1);
    }
    /* Room for all, for exactly the content, for part, for one byte. */
    static const size_t caps[] = {1024, 301, 300, 299, 150, 1};
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        seal_ok(p, PT_CT_APPLICATION_DATA, msg, sizeof(msg));
        size_t direct = caps[i] < sizeof(msg) ? caps[i] : sizeof(msg);
        open_into_ok(p, caps[i], msg, sizeof(msg), direct);
    }
    /* Without a destination everything stays in the input buffer. */
    seal_ok(p, PT_CT_APPLICATION_DATA, msg, sizeof(msg));
    open_ok(p, PT_CT_APPLICATION_DATA, msg, sizeof(msg));
}

static void test_tls13_open_into_caller_buffer(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, true);
    open_into_sizes(p);
}

static void test_tls13_chacha_open_into_caller_buffer(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_CHACHA20_POLY1305, true);
    open_into_sizes(p);
}

static void test_tls12_open_into_caller_buffer(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_AES_256_GCM, false);
    open_into_sizes(p);
}

/* Padding after the content type may fall in dst or in the input. */
static void test_tls13_open_into_padded(void **state)
{
    static const uint8_t inner[] = {'d', 'a', 't', 'a', PT_CT_APPLICATION_DATA, 0, 0, 0, 0};
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, true);
    for (size_t cap = 1; cap <= sizeof(inner) + 1; cap++) {
        p->rd.rd.seq = 0; /* put_raw13 seals as record 0 */
        put_raw13(p, inner, sizeof(inner));
        open_into_ok(p, cap, (const uint8_t *)"data", 4, cap < 4 ? cap : 4);
    }
}

/* A handshake record opened with a destination is returned in the input
 * buffer, and the destination keeps none of it. */
static void test_tls13_open_into_keeps_handshake_out(void **state)
{
    static const char msg[] = "secret handshake bytes";
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, true);
    for (size_t cap = 4; cap <= 64; cap += 30) {
        seal_ok(p, PT_CT_HANDSHAKE, msg, sizeof(msg));
        uint8_t dst[64];
        memset(dst, 0xee, sizeof(dst));
        pt_record rec;
        assert_int_equal(
            pt_record_open_into(&p->rd, p->wire.data, p->wire.len, dst, cap, &rec, &p->err),
            PETREL_OK);
        assert_int_equal(rec.type, PT_CT_HANDSHAKE);
        assert_int_equal(rec.direct, 0);
        assert_int_equal(rec.len, sizeof(msg));
        assert_memory_equal(rec.data, msg, sizeof(msg));
        assert_false(contains(dst, sizeof(dst), "secret", 6));
        pt_buf_consume(&p->wire, rec.wire_len);
    }
}

/* A forged record leaves no plaintext in the destination either. */
static void test_open_into_forged_leaves_nothing(void **state)
{
    static const char msg[] = "attack at dawn, not at dusk";
    pair *p = *state;
    for (int tls13 = 0; tls13 <= 1; tls13++) {
        pt_record_layer_free(&p->wr);
        pt_record_layer_free(&p->rd);
        pt_record_layer_init(&p->wr);
        pt_record_layer_init(&p->rd);
        pair_keys(p, PT_AES_128_GCM, tls13 == 1);
        pt_buf_reset(&p->wire);
        seal_ok(p, PT_CT_APPLICATION_DATA, msg, sizeof(msg));
        p->wire.data[p->wire.len - 1] ^= 0x01;
        uint8_t dst[64];
        pt_record rec;
        assert_int_equal(
            pt_record_open_into(&p->rd, p->wire.data, p->wire.len, dst, 10, &rec, &p->err),
            PETREL_ERR_PROTOCOL);
        assert_int_equal(p->err.pub.alert, PETREL_ALERT_BAD_RECORD_MAC);
        assert_false(contains(dst, 10, "attack", 6));
        assert_false(contains(p->wire.data, p->wire.len, "dawn", 4));
    }
}

static void test_set_key_checks_iv_length(void **state)
{
    pair *p = *state;
    assert_int_equal(pt_record_set_key(&p->wr.wr, p->algs, PT_AES_128_GCM, test_key, test_iv, 12,
                                       false, true, &p->err),
                     PETREL_ERR_INTERNAL);
    assert_false(p->wr.wr.on);
    assert_int_equal(pt_record_set_key(&p->wr.wr, p->algs, PT_AES_128_GCM, test_key, test_iv, 4,
                                       true, true, &p->err),
                     PETREL_ERR_INTERNAL);
    assert_int_equal(pt_record_set_key(&p->wr.wr, p->algs, PT_CHACHA20_POLY1305, test_key, test_iv,
                                       4, false, true, &p->err),
                     PETREL_ERR_INTERNAL);
}

static void test_set_key_resets_sequence_and_limit(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, true);
    assert_true(p->wr.wr.limit == (uint64_t)1 << 24);
    p->wr.wr.seq = p->wr.wr.limit;
    assert_true(pt_record_dir_exhausted(&p->wr.wr));
    pair_keys(p, PT_CHACHA20_POLY1305, true);
    assert_true(p->wr.wr.seq == 0);
    assert_false(pt_record_dir_exhausted(&p->wr.wr));
    assert_true(p->wr.wr.limit == (uint64_t)1 << 48);
    pt_record_dir_clear(&p->wr.wr);
    assert_false(p->wr.wr.on);
    assert_false(pt_record_dir_exhausted(&p->wr.wr));
}

/* RFC 8446 5.3: a sequence number must not wrap. */
static void test_sequence_wrap_refused(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, true);
    p->wr.wr.seq = UINT64_MAX;
    assert_int_equal(
        pt_record_seal(&p->wr, PT_CT_APPLICATION_DATA, (const uint8_t *)"x", 1, &p->wire, &p->err),
        PETREL_ERR_INTERNAL);
    assert_int_equal(p->wire.len, 0);
    p->wr.wr.seq = 0;
    seal_ok(p, PT_CT_APPLICATION_DATA, "x", 1);
    p->rd.rd.seq = UINT64_MAX;
    open_fails(p, PETREL_ERR_INTERNAL, -1,
               "record sequence number would wrap; the key must be replaced");
}

static void test_seal_without_room_fails_cleanly(void **state)
{
    pair *p = *state;
    pair_keys(p, PT_AES_128_GCM, true);
    pt_buf small;
    pt_buf_init(&small, 39, false);
    assert_int_equal(pt_record_overhead(&p->wr, 18), 18 + 5 + 1 + 16);
    assert_int_equal(pt_record_overhead(&p->wr, 0), 22);
    assert_int_equal(pt_record_seal(&p->wr, PT_CT_APPLICATION_DATA,
                                    (const uint8_t *)"0123456789abcdefgh", 18, &small, &p->err),
                     PETREL_ERR_INTERNAL);
    assert_string_equal(p->err.text,
                        "sealing 18 bytes needs 40 bytes of output room but only 39 remain");
    assert_int_equal(small.len, 0);
    pt_buf_release(&small);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, pair_setup, pair_teardown)
        T(test_plaintext_round_trip),
        T(test_record_version_first_byte_only),
        T(test_want_read_until_complete),
        T(test_unknown_type_is_unexpected_message),
        T(test_plaintext_oversize_is_record_overflow),
        T(test_empty_records),
        T(test_tls13_round_trip_aes128),
        T(test_tls13_round_trip_aes256),
        T(test_tls13_round_trip_chacha),
        T(test_fragmentation_plaintext),
        T(test_fragmentation_tls13),
        T(test_fragmentation_smaller_max_fragment),
        T(test_tls13_padding_stripped),
        T(test_tls13_padding_never_exceeds_limit),
        T(test_tls13_all_zero_inner_is_unexpected_message),
        T(test_tls13_empty_inner_is_unexpected_message),
        T(test_tls13_bad_inner_type),
        T(test_tls13_padded_inner_parsed),
        T(test_tls13_flipped_byte_is_bad_record_mac),
        T(test_tls13_chacha_flipped_byte),
        T(test_tls13_reordered_record_fails),
        T(test_tls13_unprotected_record_refused),
        T(test_tls13_ccs_passes_unprotected),
        T(test_tls13_oversize_is_record_overflow),
        T(test_tls13_inner_oversize_is_record_overflow),
        T(test_max_in_plain_enforced),
        T(test_tls13_short_record_is_decode_error),
        T(test_rfc8448_server_handshake_record),
        T(test_rfc8448_server_application_records),
        T(test_tls12_gcm_round_trip),
        T(test_tls12_aes256_round_trip),
        T(test_tls12_chacha_round_trip),
        T(test_tls12_gcm_flipped_byte_is_bad_record_mac),
        T(test_tls12_chacha_flipped_byte),
        T(test_tls12_gcm_explicit_nonce_from_record),
        T(test_tls12_chacha_nonce_is_iv_xor_seq),
        T(test_tls12_oversize_is_record_overflow),
        T(test_tls12_short_record_is_decode_error),
        T(test_tls13_open_into_caller_buffer),
        T(test_tls13_chacha_open_into_caller_buffer),
        T(test_tls12_open_into_caller_buffer),
        T(test_tls13_open_into_padded),
        T(test_tls13_open_into_keeps_handshake_out),
        T(test_open_into_forged_leaves_nothing),
        T(test_set_key_checks_iv_length),
        T(test_set_key_resets_sequence_and_limit),
        T(test_sequence_wrap_refused),
        T(test_seal_without_room_fails_cleanly),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
