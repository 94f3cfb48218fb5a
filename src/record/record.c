/*
 * record.c - TLS record framing and protection (RFC 8446 5, RFC 5246 6.2).
 *
 * Opening works in place: the header is checked before the body has
 * arrived (so an oversize length fails at once instead of waiting for
 * 64 KiB), the body is decrypted where it lies, and the returned record
 * points into the caller's input. Sealing appends to the output buffer:
 * header and plaintext are written into it and encrypted there, so no other
 * buffer holds the data.
 *
 * Nonces (RFC 8446 5.3, RFC 7905 2): TLS 1.3 and ChaCha20-Poly1305 in
 * TLS 1.2 XOR the 64-bit sequence number into the last 8 bytes of the
 * 12-byte IV. AES-GCM in TLS 1.2 (RFC 5288 3) uses a 4-byte salt followed by
 * an 8-byte explicit nonce carried in the record; we write the sequence
 * number there and read back whatever the peer sent.
 *
 * The layer refuses to let a sequence number wrap (RFC 8446 5.3). Acting on
 * the softer usage limit (RFC 8446 5.5) is the engine's part: it checks
 * pt_record_dir_exhausted and updates the key.
 */
#include "record/record.h"

#include <inttypes.h>
#include <string.h>

#define PT_TLS12_EXPLICIT_NONCE 8
#define PT_TLS12_GCM_SALT 4
/* seq_num(8) + type(1) + version(2) + length(2), RFC 5246 6.2.3.3. */
#define PT_TLS12_AAD 13
/* RFC 8446 5.4: the full TLSInnerPlaintext is at most 2^14 + 1 bytes. */
#define PT_MAX_INNER13 (PT_MAX_PLAINTEXT + 1)

/* The record header as read from the wire. */
typedef struct record_header {
    uint8_t type;
    uint16_t version;
    uint16_t length;
} record_header;

static const char *type_name(uint8_t type)
{
    switch (type) {
    case PT_CT_CHANGE_CIPHER_SPEC:
        return "change_cipher_spec";
    case PT_CT_ALERT:
        return "alert";
    case PT_CT_HANDSHAKE:
        return "handshake";
    case PT_CT_APPLICATION_DATA:
        return "application_data";
    default:
        return "unknown";
    }
}

static bool known_type(uint8_t type)
{
    return type >= PT_CT_CHANGE_CIPHER_SPEC && type <= PT_CT_APPLICATION_DATA;
}

static void put_be64(uint8_t out[8], uint64_t v)
{
    for (size_t i = 8; i > 0; i--) {
        out[i - 1] = (uint8_t)v;
        v >>= 8;
    }
}

/* AES-GCM under TLS 1.2: salt plus explicit nonce rather than IV XOR seq. */
static bool uses_explicit_nonce(const pt_record_dir *d)
{
    return !d->tls13 && d->aead.alg != PT_CHACHA20_POLY1305;
}

/* Builds the per-record nonce; explicit is the record's 8-byte explicit
 * nonce for TLS 1.2 AES-GCM and ignored otherwise. */
static void make_nonce(const pt_record_dir *d, const uint8_t *explicit,
                       uint8_t nonce[PT_AEAD_NONCE])
{
    if (uses_explicit_nonce(d)) {
        memcpy(nonce, d->iv, PT_TLS12_GCM_SALT);
        memcpy(nonce + PT_TLS12_GCM_SALT, explicit, PT_TLS12_EXPLICIT_NONCE);
        return;
    }
    uint8_t seq[8];
    put_be64(seq, d->seq);
    memcpy(nonce, d->iv, PT_AEAD_NONCE);
    for (size_t i = 0; i < 8; i++) {
        nonce[PT_AEAD_NONCE - 8 + i] ^= seq[i];
    }
}

/* RFC 5246 6.2.3.3: additional data of a TLS 1.2 AEAD record. */
static void make_aad12(const pt_record_dir *d, uint8_t type, uint16_t version, size_t len,
                       uint8_t aad[PT_TLS12_AAD])
{
    put_be64(aad, d->seq);
    aad[8] = type;
    aad[9] = (uint8_t)(version >> 8);
    aad[10] = (uint8_t)version;
    aad[11] = (uint8_t)(len >> 8);
    aad[12] = (uint8_t)len;
}

/* RFC 8446 5.3: a sequence number must never wrap. */
static petrel_status check_seq(const pt_record_dir *d, pt_error *err)
{
    if (d->seq == UINT64_MAX) {
        return pt_fail(err, PETREL_ERR_INTERNAL, -1,
                       "record sequence number would wrap; the key must be replaced");
    }
    return PETREL_OK;
}

/* --- Setup ----------------------------------------------------------------- */

void pt_record_layer_init(pt_record_layer *rl)
{
    memset(rl, 0, sizeof(*rl));
    rl->wire_version = 0x0303;
    rl->max_fragment = PT_MAX_PLAINTEXT;
    rl->max_in_plain = PT_MAX_PLAINTEXT;
    rl->pad_to = 0;
}

void pt_record_layer_free(pt_record_layer *rl)
{
    pt_record_dir_clear(&rl->rd);
    pt_record_dir_clear(&rl->wr);
}

void pt_record_dir_clear(pt_record_dir *d)
{
    if (d->aead.cipher_ctx != NULL) {
        pt_aead_free(&d->aead);
    }
    pt_wipe(d, sizeof(*d));
}

/* RFC 8446 5.5: AES-GCM keys carry at most 2^24.5 full-size records; we stop
 * at 2^24. ChaCha20-Poly1305 has no practical limit; 2^48 keeps the check
 * uniform. */
static uint64_t usage_limit(pt_aead_alg alg)
{
    return alg == PT_CHACHA20_POLY1305 ? (uint64_t)1 << 48 : (uint64_t)1 << 24;
}

petrel_status pt_record_set_key(pt_record_dir *d, const pt_algs *algs, pt_aead_alg alg,
                                const uint8_t *key, const uint8_t *iv, size_t iv_len, bool tls13,
                                bool encrypt, pt_error *err)
{
    bool salt_only = !tls13 && alg != PT_CHACHA20_POLY1305;
    size_t want = salt_only ? PT_TLS12_GCM_SALT : PT_AEAD_NONCE;
    if (iv_len != want) {
        return pt_fail(err, PETREL_ERR_INTERNAL, -1,
                       "record key needs a %zu-byte IV but was given %zu bytes", want, iv_len);
    }
    pt_aead aead;
    PT_TRY(pt_aead_init(&aead, algs, alg, key, encrypt, err));
    pt_record_dir_clear(d);
    d->aead = aead;
    memcpy(d->iv, iv, iv_len);
    d->on = true;
    d->tls13 = tls13;
    d->seq = 0;
    d->limit = usage_limit(alg);
    return PETREL_OK;
}

/* --- Opening ----------------------------------------------------------------- */

/* Largest TLSCiphertext.length (or TLSPlaintext.length) accepted on read. */
static size_t wire_limit(const pt_record_layer *rl)
{
    if (!rl->rd.on) {
        return PT_MAX_PLAINTEXT; /* RFC 8446 5.1, RFC 5246 6.2.1 */
    }
    return rl->rd.tls13 ? PT_MAX_CIPHERTEXT13 : PT_MAX_CIPHERTEXT12;
}

static petrel_status overflow(pt_error *err, size_t len, size_t limit)
{
    return pt_fault(err, PETREL_ALERT_RECORD_OVERFLOW,
                    "record of %zu bytes exceeds the %zu-byte limit", len, limit);
}

/* Reads and checks the 5-byte header; WANT_READ until the whole record is
 * present. The checks run as soon as the header is in, so garbage and
 * oversize lengths fail without waiting for a body. */
static petrel_status read_header(const pt_record_layer *rl, const uint8_t *in, size_t in_len,
                                 record_header *h, pt_error *err)
{
    pt_span s = pt_span_of(in, in_len);
    if (!pt_get_u8(&s, &h->type) || !pt_get_u16(&s, &h->version) || !pt_get_u16(&s, &h->length)) {
        return PT_FAIL_TEXT(err, PETREL_ERR_WANT_READ, "record header incomplete");
    }
    /* RFC 8446 5: an unknown record type is unexpected_message. */
    if (!known_type(h->type)) {
        return pt_fault(err, PETREL_ALERT_UNEXPECTED_MESSAGE, "record of unknown content type %u",
                        h->type);
    }
    /* RFC 8446 5.1 says legacy_record_version is ignored; only its first
     * byte is checked, to refuse bytes that are not TLS at all. */
    if ((h->version >> 8) != 0x03) {
        return pt_fault(err, PETREL_ALERT_DECODE_ERROR, "record version 0x%04x is not TLS",
                        h->version);
    }
    if (h->length > wire_limit(rl)) {
        return overflow(err, h->length, wire_limit(rl));
    }
    if (s.len < h->length) {
        return PT_FAIL_TEXT(err, PETREL_ERR_WANT_READ, "record body incomplete");
    }
    return PETREL_OK;
}

/* Final checks shared by every record, then the result. protected_ tells
 * whether the negotiated plaintext limit applies (RFC 8449 4: unprotected
 * records are held only to the protocol maximum). */
static petrel_status deliver(const pt_record_layer *rl, uint8_t type, uint8_t *data, size_t len,
                             bool protected_, pt_record *out, pt_error *err)
{
    /* RFC 8446 5.1, RFC 5246 6.2.1: only application data may be empty. */
    if (len == 0 && type != PT_CT_APPLICATION_DATA) {
        return pt_fault(err, PETREL_ALERT_UNEXPECTED_MESSAGE, "empty %s record", type_name(type));
    }
    size_t limit = protected_ ? rl->max_in_plain : PT_MAX_PLAINTEXT;
    if (len > limit) {
        return overflow(err, len, limit);
    }
    out->type = type;
    out->data = data;
    out->len = len;
    out->direct = 0;
    return PETREL_OK;
}

/* Where a protected record's plaintext goes: its first head_len bytes to
 * head (the caller's buffer), the rest in place. */
typedef struct open_dest {
    uint8_t *head;
    size_t head_len;
} open_dest;

static open_dest dest_for(uint8_t *dst, size_t dst_cap, size_t plain_len)
{
    open_dest d = {dst, dst == NULL ? 0 : dst_cap};
    if (d.head_len > plain_len) {
        d.head_len = plain_len;
    }
    return d;
}

/* The plaintext byte at i of a record opened to dest and body. */
static uint8_t plain_at(const open_dest *dest, const uint8_t *body, size_t i)
{
    return i < dest->head_len ? dest->head[i] : body[i];
}

/* A record that is not application data is handled from the input buffer:
 * its head moves back there and leaves nothing in the caller's buffer. */
static void gather_head(open_dest *dest, uint8_t type, uint8_t *body)
{
    if (dest->head_len == 0 || type == PT_CT_APPLICATION_DATA) {
        return;
    }
    memcpy(body, dest->head, dest->head_len);
    pt_wipe(dest->head, dest->head_len);
    dest->head_len = 0;
}

static petrel_status auth_failed(const pt_record_dir *d, petrel_status st, pt_error *err)
{
    if (st != PETREL_ERR_PROTOCOL) {
        return st;
    }
    return pt_fault(err, PETREL_ALERT_BAD_RECORD_MAC,
                    "record %" PRIu64 " failed authentication (bad_record_mac)", d->seq);
}

/* Nothing of a record that failed to open may be used. */
static petrel_status open_failed(const pt_record_dir *d, const open_dest *dest, uint8_t *body,
                                 size_t len, petrel_status st, pt_error *err)
{
    if (dest->head_len > 0) {
        pt_wipe(dest->head, dest->head_len);
    }
    pt_wipe(body, len);
    return auth_failed(d, st, err);
}

/* deliver() for an opened record, with the part already in the caller's
 * buffer. */
static petrel_status deliver_opened(const pt_record_layer *rl, uint8_t type, uint8_t *data,
                                    size_t len, const open_dest *dest, pt_record *out,
                                    pt_error *err)
{
    petrel_status st = deliver(rl, type, data, len, true, out, err);
    if (st != PETREL_OK) {
        if (dest->head_len > 0) {
            pt_wipe(dest->head, dest->head_len);
        }
        return st;
    }
    out->direct = dest->head_len < len ? dest->head_len : len;
    return PETREL_OK;
}

/* TLS 1.3: TLSCiphertext with the header as additional data, then the inner
 * plaintext's zero padding and content type (RFC 8446 5.2, 5.4). */
static petrel_status open13(pt_record_layer *rl, uint8_t *header, size_t length, open_dest dest,
                            pt_record *out, pt_error *err)
{
    pt_record_dir *d = &rl->rd;
    /* RFC 8446 5: once keys are on, every record but a compatibility
     * change_cipher_spec is protected and so has outer type 23. */
    if (header[0] != PT_CT_APPLICATION_DATA) {
        return pt_fault(err, PETREL_ALERT_UNEXPECTED_MESSAGE,
                        "unprotected %s record after keys were installed", type_name(header[0]));
    }
    if (length < PT_AEAD_TAG) {
        return pt_fault(err, PETREL_ALERT_DECODE_ERROR,
                        "protected record of %zu bytes is shorter than its %d-byte tag", length,
                        PT_AEAD_TAG);
    }
    size_t inner = length - PT_AEAD_TAG;
    if (inner > PT_MAX_INNER13) {
        return overflow(err, inner, PT_MAX_INNER13);
    }
    PT_TRY(check_seq(d, err));
    uint8_t nonce[PT_AEAD_NONCE];
    make_nonce(d, NULL, nonce);
    uint8_t *body = header + PT_RECORD_HEADER;
    dest = dest_for(dest.head, dest.head_len, inner);
    petrel_status st = pt_aead_open_split(&d->aead, nonce, header, PT_RECORD_HEADER, body, inner,
                                          body + inner, dest.head, dest.head_len, err);
    if (st != PETREL_OK) {
        return open_failed(d, &dest, body, inner, st, err);
    }
    d->seq++;
    rl->plain_alerts = false;
    /* RFC 8446 5.4: the content type is the last non-zero byte. */
    while (inner > 0 && plain_at(&dest, body, inner - 1) == 0) {
        inner--;
    }
    if (inner == 0) {
        return pt_fault(err, PETREL_ALERT_UNEXPECTED_MESSAGE, "record has no content type");
    }
    uint8_t type = plain_at(&dest, body, inner - 1);
    gather_head(&dest, type, body);
    /* change_cipher_spec is never protected in TLS 1.3 (RFC 8446 5). */
    if (type == PT_CT_CHANGE_CIPHER_SPEC || !known_type(type)) {
        return pt_fault(err, PETREL_ALERT_UNEXPECTED_MESSAGE,
                        "protected record of inner content type %u", type);
    }
    return deliver_opened(rl, type, body, inner - 1, &dest, out, err);
}

/* TLS 1.2 AEAD record (RFC 5246 6.2.3.3, RFC 5288 3, RFC 7905 2). */
static petrel_status open12(pt_record_layer *rl, uint8_t *header, const record_header *h,
                            open_dest dest, pt_record *out, pt_error *err)
{
    pt_record_dir *d = &rl->rd;
    size_t explicit_len = uses_explicit_nonce(d) ? PT_TLS12_EXPLICIT_NONCE : 0;
    if (h->length < explicit_len + PT_AEAD_TAG) {
        return pt_fault(err, PETREL_ALERT_DECODE_ERROR,
                        "protected record of %u bytes is shorter than its nonce and tag",
                        h->length);
    }
    size_t len = h->length - explicit_len - PT_AEAD_TAG;
    if (len > rl->max_in_plain) {
        return overflow(err, len, rl->max_in_plain);
    }
    PT_TRY(check_seq(d, err));
    uint8_t *body = header + PT_RECORD_HEADER;
    uint8_t nonce[PT_AEAD_NONCE];
    uint8_t aad[PT_TLS12_AAD];
    make_nonce(d, body, nonce);
    make_aad12(d, h->type, h->version, len, aad);
    uint8_t *data = body + explicit_len;
    /* The outer type is authenticated but known before decryption. */
    dest = dest_for(h->type == PT_CT_APPLICATION_DATA ? dest.head : NULL, dest.head_len, len);
    petrel_status st = pt_aead_open_split(&d->aead, nonce, aad, sizeof(aad), data, len, data + len,
                                          dest.head, dest.head_len, err);
    if (st != PETREL_OK) {
        return open_failed(d, &dest, data, len, st, err);
    }
    d->seq++;
    return deliver_opened(rl, h->type, data, len, &dest, out, err);
}

petrel_status pt_record_open(pt_record_layer *rl, uint8_t *in, size_t in_len, pt_record *out,
                             pt_error *err)
{
    return pt_record_open_into(rl, in, in_len, NULL, 0, out, err);
}

petrel_status pt_record_open_into(pt_record_layer *rl, uint8_t *in, size_t in_len, uint8_t *dst,
                                  size_t dst_cap, pt_record *out, pt_error *err)
{
    record_header h;
    PT_TRY(read_header(rl, in, in_len, &h, err));
    out->wire_len = PT_RECORD_HEADER + (size_t)h.length;
    uint8_t *body = in + PT_RECORD_HEADER;
    if (!rl->rd.on) {
        return deliver(rl, h.type, body, h.length, false, out, err);
    }
    if (rl->rd.tls13 && h.type == PT_CT_CHANGE_CIPHER_SPEC) {
        /* RFC 8446 5: handed over unprotected; the engine judges it. */
        return deliver(rl, h.type, body, h.length, false, out, err);
    }
    if (rl->rd.tls13 && h.type == PT_CT_ALERT && rl->plain_alerts) {
        return deliver(rl, h.type, body, h.length, false, out, err);
    }
    if (rl->rd.tls13) {
        return open13(rl, in, h.length, dest_for(dst, dst_cap, SIZE_MAX), out, err);
    }
    return open12(rl, in, &h, dest_for(dst, dst_cap, SIZE_MAX), out, err);
}

/* --- Sealing ------------------------------------------------------------------ */

/* Whether a record of this type goes out protected: in TLS 1.3 the
 * compatibility change_cipher_spec is always sent in the clear (RFC 8446
 * D.4). */
static bool seal_protected(const pt_record_dir *d, uint8_t type)
{
    return d->on && !(d->tls13 && type == PT_CT_CHANGE_CIPHER_SPEC);
}

/* TLSInnerPlaintext length for n content bytes plus the type byte, padded
 * to a multiple of pad_to without passing 2^14 + 1 (RFC 8446 5.4). */
static size_t padded_inner(const pt_record_layer *rl, size_t n)
{
    size_t inner = n + 1;
    if (rl->pad_to <= 1 || inner % rl->pad_to == 0) {
        return inner;
    }
    size_t pad = rl->pad_to - inner % rl->pad_to;
    if (pad > PT_MAX_INNER13 - inner) {
        return PT_MAX_INNER13;
    }
    return inner + pad;
}

/* Bytes a record adds to its content at most. */
static size_t record_expansion(const pt_record_layer *rl)
{
    const pt_record_dir *d = &rl->wr;
    if (!d->on) {
        return PT_RECORD_HEADER;
    }
    if (d->tls13) {
        size_t pad = rl->pad_to > 1 ? rl->pad_to - 1 : 0;
        if (pad > PT_MAX_PLAINTEXT) {
            pad = PT_MAX_PLAINTEXT;
        }
        return PT_RECORD_HEADER + 1 + pad + PT_AEAD_TAG;
    }
    size_t explicit_len = uses_explicit_nonce(d) ? PT_TLS12_EXPLICIT_NONCE : 0;
    return PT_RECORD_HEADER + explicit_len + PT_AEAD_TAG;
}

size_t pt_record_overhead(const pt_record_layer *rl, size_t len)
{
    size_t frag = rl->max_fragment > 0 ? rl->max_fragment : PT_MAX_PLAINTEXT;
    size_t records = len / frag + (len % frag != 0);
    if (records == 0) {
        records = 1;
    }
    return len + records * record_expansion(rl);
}

/* Appends a header announcing length body bytes and room for the body;
 * *header points at the header, valid until out next grows. */
static petrel_status put_record(const pt_record_layer *rl, uint8_t type, size_t length, pt_buf *out,
                                uint8_t **header, pt_error *err)
{
    if (!pt_buf_reserve(out, PT_RECORD_HEADER + length)) {
        return pt_fail(err, PETREL_ERR_NO_MEMORY, -1,
                       "out of memory growing the output buffer by %zu bytes",
                       PT_RECORD_HEADER + length);
    }
    size_t at = out->len;
    pt_builder b;
    pt_builder_init(&b, out);
    pt_put_u8(&b, type);
    pt_put_u16(&b, rl->wire_version);
    pt_put_u16(&b, (uint16_t)length);
    (void)pt_put_space(&b, length);
    if (!pt_builder_ok(&b)) {
        return pt_fail(err, PETREL_ERR_INTERNAL, -1, "record builder failed after reserving");
    }
    *header = out->data + at;
    return PETREL_OK;
}

static petrel_status seal_plain(const pt_record_layer *rl, uint8_t type, const uint8_t *data,
                                size_t n, pt_buf *out, pt_error *err)
{
    uint8_t *header;
    PT_TRY(put_record(rl, type, n, out, &header, err));
    if (n > 0) {
        memcpy(header + PT_RECORD_HEADER, data, n);
    }
    return PETREL_OK;
}

/* Trailer bytes (content type and padding) sealed from a stack buffer. */
#define PT_SEAL_TAIL_MAX 256

static petrel_status seal13(pt_record_layer *rl, uint8_t type, const uint8_t *data, size_t n,
                            pt_buf *out, pt_error *err)
{
    pt_record_dir *d = &rl->wr;
    size_t inner = padded_inner(rl, n);
    uint8_t *header;
    PT_TRY(put_record(rl, PT_CT_APPLICATION_DATA, inner + PT_AEAD_TAG, out, &header, err));
    uint8_t *body = header + PT_RECORD_HEADER;
    uint8_t nonce[PT_AEAD_NONCE];
    make_nonce(d, NULL, nonce);
    /* Usually the data is encrypted straight from the caller into the
     * record, followed by the content type and any padding. */
    uint8_t tail[PT_SEAL_TAIL_MAX];
    size_t tail_len = inner - n;
    if (tail_len <= sizeof(tail)) {
        tail[0] = type;
        memset(tail + 1, 0, tail_len - 1);
        return pt_aead_seal_from(&d->aead, nonce, header, PT_RECORD_HEADER, data, n, tail, tail_len,
                                 body, body + inner, err);
    }
    if (n > 0) {
        memcpy(body, data, n);
    }
    body[n] = type;
    memset(body + n + 1, 0, inner - n - 1);
    return pt_aead_seal(&d->aead, nonce, header, PT_RECORD_HEADER, body, inner, body + inner, err);
}

static petrel_status seal12(pt_record_layer *rl, uint8_t type, const uint8_t *data, size_t n,
                            pt_buf *out, pt_error *err)
{
    pt_record_dir *d = &rl->wr;
    size_t explicit_len = uses_explicit_nonce(d) ? PT_TLS12_EXPLICIT_NONCE : 0;
    uint8_t *header;
    PT_TRY(put_record(rl, type, explicit_len + n + PT_AEAD_TAG, out, &header, err));
    uint8_t *body = header + PT_RECORD_HEADER;
    uint8_t seq[8];
    put_be64(seq, d->seq);
    memcpy(body, seq, explicit_len);
    uint8_t *plain = body + explicit_len;
    uint8_t nonce[PT_AEAD_NONCE];
    uint8_t aad[PT_TLS12_AAD];
    make_nonce(d, body, nonce);
    make_aad12(d, type, rl->wire_version, n, aad);
    return pt_aead_seal_from(&d->aead, nonce, aad, sizeof(aad), data, n, NULL, 0, plain, plain + n,
                             err);
}

/* Seals one fragment. On failure the output is as it was before, with the
 * plaintext copied into it wiped. */
static petrel_status seal_one(pt_record_layer *rl, uint8_t type, const uint8_t *data, size_t n,
                              pt_buf *out, pt_error *err)
{
    pt_record_dir *d = &rl->wr;
    if (!seal_protected(d, type)) {
        return seal_plain(rl, type, data, n, out, err);
    }
    PT_TRY(check_seq(d, err));
    size_t start = out->len;
    petrel_status st =
        d->tls13 ? seal13(rl, type, data, n, out, err) : seal12(rl, type, data, n, out, err);
    if (st != PETREL_OK) {
        if (out->len > start) {
            pt_wipe(out->data + start, out->len - start);
        }
        out->len = start;
        return st;
    }
    d->seq++;
    return PETREL_OK;
}

static petrel_status check_seal(const pt_record_layer *rl, uint8_t type, size_t len,
                                const pt_buf *out, pt_error *err)
{
    if (!known_type(type)) {
        return pt_fail(err, PETREL_ERR_INTERNAL, -1, "cannot seal a record of content type %u",
                       type);
    }
    if (rl->max_fragment == 0 || rl->max_fragment > PT_MAX_PLAINTEXT) {
        return pt_fail(err, PETREL_ERR_INTERNAL, -1,
                       "maximum fragment of %zu bytes is outside 1..%d", rl->max_fragment,
                       PT_MAX_PLAINTEXT);
    }
    /* RFC 8446 5.1, RFC 5246 6.2.1: only application data may be empty. */
    if (len == 0 && type != PT_CT_APPLICATION_DATA) {
        return pt_fail(err, PETREL_ERR_INTERNAL, -1, "refusing to send an empty %s record",
                       type_name(type));
    }
    size_t need = pt_record_overhead(rl, len);
    if (need > pt_buf_room(out)) {
        return pt_fail(err, PETREL_ERR_INTERNAL, -1,
                       "sealing %zu bytes needs %zu bytes of output room but only %zu remain", len,
                       need, pt_buf_room(out));
    }
    return PETREL_OK;
}

petrel_status pt_record_seal(pt_record_layer *rl, uint8_t type, const uint8_t *data, size_t len,
                             pt_buf *out, pt_error *err)
{
    PT_TRY(check_seal(rl, type, len, out, err));
    size_t off = 0;
    do {
        size_t n = len - off < rl->max_fragment ? len - off : rl->max_fragment;
        const uint8_t *fragment = data == NULL ? NULL : data + off;
        PT_TRY(seal_one(rl, type, fragment, n, out, err));
        off += n;
    } while (off < len);
    return PETREL_OK;
}
