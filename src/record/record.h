/*
 * record.h - TLS record framing and protection (RFC 8446 5, RFC 5246 6.2).
 *
 * Records are opened in place in the input buffer and sealed in place in the
 * output buffer: no allocation per record. The layer knows nothing of
 * handshake state; the engine installs keys per direction and decides what
 * each content type means.
 */
#ifndef PT_RECORD_H
#define PT_RECORD_H

#include "codec/codec.h"
#include "crypto/crypto.h"

enum {
    PT_CT_CHANGE_CIPHER_SPEC = 20,
    PT_CT_ALERT = 21,
    PT_CT_HANDSHAKE = 22,
    PT_CT_APPLICATION_DATA = 23,
};

#define PT_RECORD_HEADER 5
#define PT_MAX_PLAINTEXT 16384
/* RFC 8446 5.2: TLSCiphertext.length is at most 2^14 + 256. */
#define PT_MAX_CIPHERTEXT13 (PT_MAX_PLAINTEXT + 256)
/* RFC 5246 6.2.3: at most 2^14 + 2048. */
#define PT_MAX_CIPHERTEXT12 (PT_MAX_PLAINTEXT + 2048)
#define PT_MAX_RECORD (PT_RECORD_HEADER + PT_MAX_CIPHERTEXT12)

/* One direction's protection state. */
typedef struct pt_record_dir {
    bool on;    /* false: plaintext records */
    bool tls13; /* nonce = iv XOR seq, inner content type, padding */
    pt_aead aead;
    uint8_t iv[PT_AEAD_NONCE]; /* TLS 1.2 GCM uses the first 4 as salt */
    uint64_t seq;
    uint64_t limit; /* records allowed under this key (RFC 8446 5.5) */
} pt_record_dir;

typedef struct pt_record_layer {
    pt_record_dir rd;
    pt_record_dir wr;
    uint16_t wire_version; /* legacy_record_version written on the wire */
    size_t max_fragment;   /* largest plaintext fragment we send */
    size_t max_in_plain;   /* largest plaintext fragment we accept */
    size_t pad_to;         /* TLS 1.3: pad inner plaintext to a multiple, 0 = none */
    /* TLS 1.3 server: a client that fails while reading the server's flight
     * may not have switched to its handshake keys yet, so its alert comes
     * unprotected. Accepted until the first protected record opens. */
    bool plain_alerts;
} pt_record_layer;

void pt_record_layer_init(pt_record_layer *rl);
void pt_record_layer_free(pt_record_layer *rl);

/* Installs a key for one direction and resets its sequence number. key is
 * pt_aead_key_len(alg) bytes. iv is 12 bytes for TLS 1.3 and ChaCha20 in
 * TLS 1.2, 4 bytes of salt for TLS 1.2 AES-GCM. */
petrel_status pt_record_set_key(pt_record_dir *d, const pt_algs *algs, pt_aead_alg alg,
                                const uint8_t *key, const uint8_t *iv, size_t iv_len, bool tls13,
                                bool encrypt, pt_error *err) PT_MUST_USE;
void pt_record_dir_clear(pt_record_dir *d);

typedef struct pt_record {
    uint8_t type;  /* inner content type for protected TLS 1.3 records */
    uint8_t *data; /* plaintext, inside the input buffer */
    size_t len;
    size_t wire_len; /* bytes the record took, header included */
    /* Application data only: the first direct bytes of the plaintext were
     * decrypted into the destination given to pt_record_open_into, and
     * data[0..direct) is not valid; the rest is at data + direct. */
    size_t direct;
} pt_record;

/* Opens the record at the front of in[0..in_len). PETREL_ERR_WANT_READ when
 * the record is not complete yet. Failures carry the RFC's alert:
 * record_overflow for oversize records, bad_record_mac when decryption fails,
 * unexpected_message for an unknown or unprotected type where protection is
 * on, decode_error for malformed framing. A TLS 1.3 ChangeCipherSpec record
 * is returned unprotected for the engine to judge. */
petrel_status pt_record_open(pt_record_layer *rl, uint8_t *in, size_t in_len, pt_record *out,
                             pt_error *err) PT_MUST_USE;
/* As pt_record_open, but a protected application data record is decrypted
 * straight into dst[0..dst_cap) as far as it fits (see pt_record.direct),
 * saving a copy. Bytes of dst past the content may be overwritten (the
 * TLS 1.3 content type and padding); a record of another type is returned
 * in the input buffer as by pt_record_open, and what it left in dst is
 * wiped. */
petrel_status pt_record_open_into(pt_record_layer *rl, uint8_t *in, size_t in_len, uint8_t *dst,
                                  size_t dst_cap, pt_record *out, pt_error *err) PT_MUST_USE;

/* Appends data as one or more records of type to out, fragmenting at
 * max_fragment. Encrypts in place in out when the write direction is on. */
petrel_status pt_record_seal(pt_record_layer *rl, uint8_t type, const uint8_t *data, size_t len,
                             pt_buf *out, pt_error *err) PT_MUST_USE;

/* Bytes of output that sealing len bytes of data will take at most. */
size_t pt_record_overhead(const pt_record_layer *rl, size_t len);

/* True when a direction's key has reached its usage limit. */
static inline bool pt_record_dir_exhausted(const pt_record_dir *d)
{
    return d->on && d->seq >= d->limit;
}

#endif
