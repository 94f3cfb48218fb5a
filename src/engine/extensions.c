/*
 * extensions.c - the extension block shared by every message that has one.
 *
 *   struct { ExtensionType extension_type; opaque extension_data<0..2^16-1>; }
 *   Extension;  Extension extensions<0..2^16-1>;
 */
#include <string.h>

#include "engine/internal.h"

#define PT_MAX_EXTENSIONS 64

static const uint16_t ext_codes[PT_X_COUNT] = {
    [PT_X_SERVER_NAME] = PT_EXT_SERVER_NAME,
    [PT_X_SUPPORTED_GROUPS] = PT_EXT_SUPPORTED_GROUPS,
    [PT_X_SIGNATURE_ALGORITHMS] = PT_EXT_SIGNATURE_ALGORITHMS,
    [PT_X_ALPN] = PT_EXT_ALPN,
    [PT_X_RECORD_SIZE_LIMIT] = PT_EXT_RECORD_SIZE_LIMIT,
    [PT_X_PRE_SHARED_KEY] = PT_EXT_PRE_SHARED_KEY,
    [PT_X_EARLY_DATA] = PT_EXT_EARLY_DATA,
    [PT_X_SUPPORTED_VERSIONS] = PT_EXT_SUPPORTED_VERSIONS,
    [PT_X_COOKIE] = PT_EXT_COOKIE,
    [PT_X_PSK_KEY_EXCHANGE_MODES] = PT_EXT_PSK_KEY_EXCHANGE_MODES,
    [PT_X_CERTIFICATE_AUTHORITIES] = PT_EXT_CERTIFICATE_AUTHORITIES,
    [PT_X_POST_HANDSHAKE_AUTH] = PT_EXT_POST_HANDSHAKE_AUTH,
    [PT_X_SIGNATURE_ALGORITHMS_CERT] = PT_EXT_SIGNATURE_ALGORITHMS_CERT,
    [PT_X_KEY_SHARE] = PT_EXT_KEY_SHARE,
    [PT_X_EC_POINT_FORMATS] = PT_EXT_EC_POINT_FORMATS,
    [PT_X_EXTENDED_MASTER_SECRET] = PT_EXT_EXTENDED_MASTER_SECRET,
    [PT_X_RENEGOTIATION_INFO] = PT_EXT_RENEGOTIATION_INFO,
};

static int ext_index(uint16_t code)
{
    for (int i = 0; i < PT_X_COUNT; i++) {
        if (ext_codes[i] == code) {
            return i;
        }
    }
    return -1;
}

/* specified: the extensions RFC 8446 4.2 lets this message carry; one we
 * know outside it is illegal_parameter when strict. */
static petrel_status parse_block(pt_span block, uint32_t allowed, uint32_t specified, bool strict,
                                 pt_exts *out, pt_error *err)
{
    uint16_t seen[PT_MAX_EXTENSIONS];
    size_t nseen = 0;
    *out = (pt_exts){0};
    while (!pt_span_empty(&block)) {
        uint16_t type;
        pt_span data;
        if (!pt_get_u16(&block, &type) || !pt_get_vec16(&block, &data)) {
            return pt_fault(err, PETREL_ALERT_DECODE_ERROR, "malformed extension block");
        }
        for (size_t i = 0; i < nseen; i++) {
            if (seen[i] == type) {
                return pt_fault(err, PETREL_ALERT_ILLEGAL_PARAMETER,
                                "extension %u appears twice (RFC 8446 4.2)", type);
            }
        }
        if (nseen == PT_MAX_EXTENSIONS) {
            return pt_fault(err, PETREL_ALERT_DECODE_ERROR, "more than %d extensions",
                            PT_MAX_EXTENSIONS);
        }
        seen[nseen++] = type;
        int idx = ext_index(type);
        if (idx >= 0 && (specified & PT_XBIT(idx)) == 0) {
            /* RFC 8446 4.2: a known extension in a message it is not
             * defined for. */
            return pt_fault(err, PETREL_ALERT_ILLEGAL_PARAMETER,
                            "peer sent extension %u in a message that cannot carry it", type);
        }
        if (idx < 0 || (allowed & PT_XBIT(idx)) == 0) {
            if (strict) {
                return pt_fault(err, PETREL_ALERT_UNSUPPORTED_EXTENSION,
                                "peer sent extension %u, which we did not offer", type);
            }
            continue;
        }
        out->present |= PT_XBIT(idx);
        out->body[idx] = data;
        out->psk_last = pt_span_empty(&block) && idx == PT_X_PRE_SHARED_KEY;
    }
    return PETREL_OK;
}

petrel_status pt_parse_sigalgs(pt_span body, uint16_t *out, size_t cap, size_t *count,
                               pt_error *err)
{
    pt_span list;
    *count = 0;
    if (!pt_get_vec16(&body, &list) || !pt_span_empty(&body) || list.len == 0 ||
        list.len % 2 != 0) {
        return pt_fault(err, PETREL_ALERT_DECODE_ERROR, "malformed signature_algorithms");
    }
    while (!pt_span_empty(&list)) {
        uint16_t alg;
        if (!pt_get_u16(&list, &alg)) {
            return pt_fault(err, PETREL_ALERT_DECODE_ERROR, "malformed signature_algorithms");
        }
        if (*count < cap) {
            out[(*count)++] = alg;
        }
    }
    return PETREL_OK;
}

/* What we accept from peers, in our order of preference. rsa_pkcs1 is
 * listed for certificates; RFC 8446 4.2.3 forbids it in CertificateVerify,
 * which pt_cert_verify_recv enforces. */
static const uint16_t our_sigalgs[] = {
    PT_SIG_ECDSA_SECP256R1_SHA256, PT_SIG_ECDSA_SECP384R1_SHA384, PT_SIG_ED25519,
    PT_SIG_RSA_PSS_RSAE_SHA256,    PT_SIG_RSA_PSS_RSAE_SHA384,    PT_SIG_RSA_PSS_RSAE_SHA512,
    PT_SIG_RSA_PSS_PSS_SHA256,     PT_SIG_RSA_PSS_PSS_SHA384,     PT_SIG_RSA_PSS_PSS_SHA512,
    PT_SIG_RSA_PKCS1_SHA256,       PT_SIG_RSA_PKCS1_SHA384,       PT_SIG_RSA_PKCS1_SHA512,
};

size_t pt_our_sigalgs(const petrel_conn *conn, uint16_t *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < PT_ARRAY_LEN(our_sigalgs) && n < cap; i++) {
        /* SHA-384 and stronger only above security level 3 (192 bits). */
        bool strong = our_sigalgs[i] == PT_SIG_ECDSA_SECP384R1_SHA384 ||
                      our_sigalgs[i] == PT_SIG_RSA_PSS_RSAE_SHA384 ||
                      our_sigalgs[i] == PT_SIG_RSA_PSS_RSAE_SHA512 ||
                      our_sigalgs[i] == PT_SIG_RSA_PSS_PSS_SHA384 ||
                      our_sigalgs[i] == PT_SIG_RSA_PSS_PSS_SHA512 ||
                      our_sigalgs[i] == PT_SIG_RSA_PKCS1_SHA384 ||
                      our_sigalgs[i] == PT_SIG_RSA_PKCS1_SHA512;
        if (conn->ctx->security_level >= 4 && !strong) {
            continue;
        }
        out[n++] = our_sigalgs[i];
    }
    return n;
}

bool pt_we_accept_sigalg(const petrel_conn *conn, uint16_t sigalg)
{
    uint16_t ours[PT_ARRAY_LEN(our_sigalgs)];
    size_t n = pt_our_sigalgs(conn, ours, PT_ARRAY_LEN(ours));
    for (size_t i = 0; i < n; i++) {
        if (ours[i] == sigalg) {
            return true;
        }
    }
    return false;
}

void pt_put_sigalgs_ext(petrel_conn *conn, pt_builder *b)
{
    uint16_t algs[PT_ARRAY_LEN(our_sigalgs)];
    size_t n = pt_our_sigalgs(conn, algs, PT_ARRAY_LEN(algs));
    pt_put_u16(b, PT_EXT_SIGNATURE_ALGORITHMS);
    pt_open(b, 2);
    pt_open(b, 2);
    for (size_t i = 0; i < n; i++) {
        pt_put_u16(b, algs[i]);
    }
    pt_close(b);
    pt_close(b);
}

petrel_status pt_set_alpn(petrel_conn *conn, pt_span name)
{
    char *copy = pt_malloc(name.len + 1);
    if (copy == NULL) {
        return pt_fail(&conn->err, PETREL_ERR_NO_MEMORY, -1, "out of memory");
    }
    memcpy(copy, name.p, name.len);
    copy[name.len] = '\0';
    pt_free(conn->alpn);
    conn->alpn = copy;
    return PETREL_OK;
}

petrel_status pt_exts_parse(pt_span block, pt_exts *out, pt_error *err)
{
    return parse_block(block, 0xffffffffu, 0xffffffffu, false, out, err);
}

petrel_status pt_exts_parse_answer(pt_span block, uint32_t specified, uint32_t allowed,
                                   pt_exts *out, pt_error *err)
{
    return parse_block(block, allowed & specified, specified, true, out, err);
}

petrel_status pt_exts_parse_in(pt_span block, uint32_t specified, uint32_t wanted, pt_exts *out,
                               pt_error *err)
{
    return parse_block(block, wanted & specified, specified, false, out, err);
}
