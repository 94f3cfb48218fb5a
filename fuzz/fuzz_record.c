/*
 * fuzz_record.c - the record layer against arbitrary bytes.
 *
 * The first input byte chooses what to do with the rest:
 *
 *   bits 0-1  0: open plaintext records from the bytes
 *             1: open TLS 1.3 protected records from the bytes
 *             2: open TLS 1.2 protected records from the bytes
 *             3: seal the bytes, check that they open unchanged, then flip
 *                one byte and check that opening fails
 *   bits 2-3  the AEAD (3 means AES-128-GCM again)
 *   bits 4-7  mode 3: TLS 1.2 instead of 1.3 (bit 4), padding (bit 5),
 *             small fragments (bit 6); other modes: a smaller accepted
 *             plaintext (bit 4)
 *
 * Every opened record must lie inside the input and respect the limits;
 * every failure must carry a sentence, and protocol failures an alert.
 * Any violation aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record/record.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static pt_algs *algs;

static const uint8_t fuzz_key[PT_MAX_KEY] = {
    0x6b, 0x65, 0x79, 0x20, 0x66, 0x6f, 0x72, 0x20, 0x66, 0x75, 0x7a, 0x7a, 0x69, 0x6e, 0x67, 0x21,
    0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
};
static const uint8_t fuzz_iv[PT_AEAD_NONCE] = {
    0x49, 0x56, 0x20, 0x66, 0x6f, 0x72, 0x20, 0x66, 0x75, 0x7a, 0x7a, 0x21,
};

typedef struct config {
    int mode;
    pt_aead_alg alg;
    bool tls13;
    bool pad;
    bool small_fragments;
    bool small_plain;
} config;

static config parse_config(uint8_t b)
{
    config c;
    c.mode = b & 3;
    int alg = (b >> 2) & 3;
    c.alg = alg == 3 ? PT_AES_128_GCM : (pt_aead_alg)alg;
    c.tls13 = c.mode == 3 ? (b & 0x10) == 0 : c.mode == 1;
    c.pad = (b & 0x20) != 0;
    c.small_fragments = (b & 0x40) != 0;
    c.small_plain = c.mode != 3 && (b & 0x10) != 0;
    return c;
}

static void set_key(pt_record_dir *d, const config *c, bool encrypt)
{
    pt_error err;
    pt_error_init(&err);
    size_t iv_len = (!c->tls13 && c->alg != PT_CHACHA20_POLY1305) ? 4 : PT_AEAD_NONCE;
    CHECK(pt_record_set_key(d, algs, c->alg, fuzz_key, fuzz_iv, iv_len, c->tls13, encrypt, &err) ==
          PETREL_OK);
}

/* A failure must describe itself. */
static void check_failure(petrel_status st, const pt_error *err)
{
    CHECK(err->pub.status == st);
    CHECK(err->text[0] != '\0');
    if (st == PETREL_ERR_PROTOCOL) {
        CHECK(err->pub.alert >= 0);
    }
}

/* Opens records from in[0..len) until one fails; returns how many bytes
 * the successfully opened records took. */
static size_t open_all(pt_record_layer *rl, uint8_t *in, size_t len, petrel_status *last)
{
    size_t off = 0;
    for (;;) {
        pt_record rec;
        pt_error err;
        pt_error_init(&err);
        size_t rest = len - off;
        petrel_status st = pt_record_open(rl, in + off, rest, &rec, &err);
        *last = st;
        if (st != PETREL_OK) {
            check_failure(st, &err);
            if (st == PETREL_ERR_WANT_READ) {
                CHECK(rest < PT_RECORD_HEADER ||
                      rest < PT_RECORD_HEADER + (((size_t)in[off + 3] << 8) | in[off + 4]));
            }
            return off;
        }
        CHECK(rec.wire_len >= PT_RECORD_HEADER && rec.wire_len <= rest);
        CHECK(rec.data >= in + off + PT_RECORD_HEADER);
        CHECK(rec.data + rec.len <= in + off + rec.wire_len);
        CHECK(rec.len <= PT_MAX_PLAINTEXT);
        CHECK(rec.type >= PT_CT_CHANGE_CIPHER_SPEC && rec.type <= PT_CT_APPLICATION_DATA);
        off += rec.wire_len;
    }
}

static void fuzz_open(const config *c, const uint8_t *data, size_t size)
{
    pt_record_layer rl;
    pt_record_layer_init(&rl);
    if (c->small_plain) {
        rl.max_in_plain = 512;
    }
    if (c->mode != 0) {
        set_key(&rl.rd, c, false);
    }
    uint8_t *in = malloc(size > 0 ? size : 1);
    CHECK(in != NULL);
    if (size > 0) {
        memcpy(in, data, size);
    }
    petrel_status last;
    (void)open_all(&rl, in, size, &last);
    free(in);
    pt_record_layer_free(&rl);
}

/* Reads back every sealed record, concatenating the contents. Records are
 * opened in place, so a copy is opened and the sealed bytes stay intact
 * for check_flip. */
static void check_round_trip(const config *c, uint8_t type, const uint8_t *data, size_t size,
                             const pt_buf *wire)
{
    uint8_t *copy = malloc(wire->len);
    CHECK(copy != NULL);
    memcpy(copy, wire->data, wire->len);
    pt_record_layer rd;
    pt_record_layer_init(&rd);
    set_key(&rd.rd, c, false);
    size_t off = 0;
    size_t got = 0;
    while (off < wire->len) {
        pt_record rec;
        pt_error err;
        pt_error_init(&err);
        CHECK(pt_record_open(&rd, copy + off, wire->len - off, &rec, &err) == PETREL_OK);
        CHECK(rec.type == type);
        CHECK(rec.len <= size - got);
        CHECK(rec.len == 0 || memcmp(rec.data, data + got, rec.len) == 0);
        got += rec.len;
        off += rec.wire_len;
    }
    CHECK(got == size);
    pt_record_layer_free(&rd);
    free(copy);
}

/* With one byte changed, some record must fail to open. The exception is
 * an outer type turned into change_cipher_spec under TLS 1.3: that record
 * is handed over unprotected, for the engine to refuse. */
static void check_flip(const config *c, const pt_buf *wire, size_t pos, uint8_t mask)
{
    uint8_t *copy = malloc(wire->len);
    CHECK(copy != NULL);
    memcpy(copy, wire->data, wire->len);
    pos %= wire->len;
    copy[pos] ^= mask;
    pt_record_layer rd;
    pt_record_layer_init(&rd);
    set_key(&rd.rd, c, false);
    petrel_status last;
    size_t taken = open_all(&rd, copy, wire->len, &last);
    bool became_ccs = c->tls13 && copy[pos] == PT_CT_CHANGE_CIPHER_SPEC;
    CHECK(became_ccs || (last != PETREL_OK && taken < wire->len));
    pt_record_layer_free(&rd);
    free(copy);
}

static void fuzz_seal(const config *c, const uint8_t *data, size_t size)
{
    if (size < 3) {
        return;
    }
    /* A protected TLS 1.3 change_cipher_spec goes out in the clear, where
     * a flipped byte is not detected; seal the other types. */
    uint8_t type = (uint8_t)(PT_CT_ALERT + data[0] % 3);
    size_t pos = ((size_t)data[1] << 8) | data[2];
    uint8_t mask = data[0] >> 2 | 1;
    data += 3;
    size -= 3;
    pt_record_layer wr;
    pt_record_layer_init(&wr);
    wr.pad_to = c->pad ? 1 + (pos & 0x3ff) : 0;
    wr.max_fragment = c->small_fragments ? 1 + (pos & 0xff) : PT_MAX_PLAINTEXT;
    set_key(&wr.wr, c, true);
    pt_buf wire;
    pt_buf_init(&wire, 1 << 20, false);
    pt_error err;
    pt_error_init(&err);
    petrel_status st = pt_record_seal(&wr, type, data, size, &wire, &err);
    if (st != PETREL_OK) {
        /* Only an empty non-application record is refused. */
        CHECK(size == 0 && st == PETREL_ERR_INTERNAL);
    } else {
        CHECK(wire.len <= pt_record_overhead(&wr, size));
        check_round_trip(c, type, data, size, &wire);
        check_flip(c, &wire, pos, mask);
    }
    pt_buf_release(&wire);
    pt_record_layer_free(&wr);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    pt_error err;
    pt_error_init(&err);
    algs = pt_algs_new(&err);
    CHECK(algs != NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    config c = parse_config(data[0]);
    if (c.mode == 3) {
        fuzz_seal(&c, data + 1, size - 1);
    } else {
        fuzz_open(&c, data + 1, size - 1);
    }
    return 0;
}
