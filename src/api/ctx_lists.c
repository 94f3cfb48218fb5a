/*
 * ctx_lists.c - the list-valued settings of a context: TLS 1.3 suites,
 * TLS 1.2 suites, key-exchange groups (colon-separated names) and ALPN.
 */
#include <string.h>

#include "api/ctx_internal.h"
#include "api/names.h"

/* OpenSSL's default TLS 1.3 order. */
static const uint16_t default_suites13[] = {
    PT_TLS_AES_256_GCM_SHA384,
    PT_TLS_CHACHA20_POLY1305_SHA256,
    PT_TLS_AES_128_GCM_SHA256,
};

/* Forward-secret AEAD suites only, ECDSA before RSA, strongest first. */
static const uint16_t default_suites12[] = {
    PT_ECDHE_ECDSA_AES256_GCM_SHA384, PT_ECDHE_RSA_AES256_GCM_SHA384,
    PT_ECDHE_ECDSA_CHACHA20_POLY1305, PT_ECDHE_RSA_CHACHA20_POLY1305,
    PT_ECDHE_ECDSA_AES128_GCM_SHA256, PT_ECDHE_RSA_AES128_GCM_SHA256,
};

static const uint16_t default_groups[] = {
    PT_GROUP_X25519,
    PT_GROUP_SECP256R1,
    PT_GROUP_SECP384R1,
};

void pt_ctx_default_lists(petrel_ctx *ctx)
{
    memcpy(ctx->suites13, default_suites13, sizeof(default_suites13));
    ctx->suites13_count = PT_ARRAY_LEN(default_suites13);
    memcpy(ctx->suites12, default_suites12, sizeof(default_suites12));
    ctx->suites12_count = PT_ARRAY_LEN(default_suites12);
    memcpy(ctx->groups, default_groups, sizeof(default_groups));
    ctx->groups_count = PT_ARRAY_LEN(default_groups);
}

/* Decides whether one name of a list is acceptable and what it stands for. */
typedef bool (*list_lookup)(const char *name, size_t len, uint16_t *out);

typedef struct list_kind {
    const char *what; /* "TLS 1.3 cipher suite", for sentences */
    list_lookup lookup;
    size_t max;
} list_kind;

static bool contains(const uint16_t *codes, size_t count, uint16_t code)
{
    for (size_t i = 0; i < count; i++) {
        if (codes[i] == code) {
            return true;
        }
    }
    return false;
}

/* Parses a colon-separated list into codes, in order, without duplicates.
 * Empty entries ("a::b") are skipped; an unknown entry is named in the
 * error; a list that names nothing is refused. */
static petrel_status parse_list(petrel_ctx *ctx, const char *list, const list_kind *kind,
                                uint16_t *codes, size_t *count)
{
    if (list == NULL) {
        return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1, "the %s list must not be NULL",
                       kind->what);
    }
    size_t n = 0;
    for (const char *p = list; *p != '\0';) {
        size_t len = strcspn(p, ":");
        uint16_t code = 0;
        if (len > 0 && !kind->lookup(p, len, &code)) {
            return pt_fail(&ctx->err, PETREL_ERR_CONFIG, -1, "unknown or unsupported %s '%.*s'",
                           kind->what, (int)(len > 64 ? 64 : len), p);
        }
        if (len > 0 && !contains(codes, n, code) && n < kind->max) {
            codes[n++] = code;
        }
        p += len + (p[len] == ':' ? 1 : 0);
    }
    if (n == 0) {
        return pt_fail(&ctx->err, PETREL_ERR_CONFIG, -1, "no %s selected from '%.64s'", kind->what,
                       list);
    }
    *count = n;
    return PETREL_OK;
}

static bool lookup_suite13(const char *name, size_t len, uint16_t *out)
{
    return pt_suite_by_name(name, len, out) && pt_suite_is_tls13(*out);
}

static bool lookup_suite12(const char *name, size_t len, uint16_t *out)
{
    return pt_suite_by_name(name, len, out) && !pt_suite_is_tls13(*out);
}

petrel_status petrel_ctx_set_ciphersuites(petrel_ctx *ctx, const char *list)
{
    static const list_kind kind = {"TLS 1.3 cipher suite", lookup_suite13, PT_MAX_SUITES};
    uint16_t codes[PT_MAX_SUITES];
    size_t count = 0;
    PT_TRY(pt_ctx_begin_change(ctx));
    PT_TRY(parse_list(ctx, list, &kind, codes, &count));
    memcpy(ctx->suites13, codes, count * sizeof(codes[0]));
    ctx->suites13_count = count;
    return PETREL_OK;
}

petrel_status petrel_ctx_set_ciphers(petrel_ctx *ctx, const char *list)
{
    static const list_kind kind = {"TLS 1.2 cipher suite", lookup_suite12, PT_MAX_SUITES};
    uint16_t codes[PT_MAX_SUITES];
    size_t count = 0;
    PT_TRY(pt_ctx_begin_change(ctx));
    PT_TRY(parse_list(ctx, list, &kind, codes, &count));
    memcpy(ctx->suites12, codes, count * sizeof(codes[0]));
    ctx->suites12_count = count;
    return PETREL_OK;
}

petrel_status petrel_ctx_set_groups(petrel_ctx *ctx, const char *list)
{
    static const list_kind kind = {"group", pt_group_by_name, PT_MAX_GROUPS};
    uint16_t codes[PT_MAX_GROUPS];
    size_t count = 0;
    PT_TRY(pt_ctx_begin_change(ctx));
    PT_TRY(parse_list(ctx, list, &kind, codes, &count));
    memcpy(ctx->groups, codes, count * sizeof(codes[0]));
    ctx->groups_count = count;
    return PETREL_OK;
}

/* RFC 7301 3.1: ProtocolName is opaque<1..2^8-1>; the list is sent as
 * u8-length-prefixed names. */
petrel_status petrel_ctx_set_alpn_protocols(petrel_ctx *ctx, const char *const *protos,
                                            size_t count)
{
    uint8_t wire[PT_MAX_ALPN_WIRE];
    size_t len = 0;
    PT_TRY(pt_ctx_begin_change(ctx));
    if (protos == NULL && count > 0) {
        return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1, "ALPN protocol list is NULL");
    }
    for (size_t i = 0; i < count; i++) {
        size_t n = protos[i] != NULL ? strlen(protos[i]) : 0;
        if (n < 1 || n > 255) {
            return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1,
                           "ALPN protocol %zu must be 1 to 255 bytes long (RFC 7301 3.1)", i);
        }
        if (len + 1 + n > sizeof(wire)) {
            return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1,
                           "ALPN protocol list is longer than %zu bytes", sizeof(wire));
        }
        wire[len] = (uint8_t)n;
        memcpy(wire + len + 1, protos[i], n);
        len += 1 + n;
    }
    memcpy(ctx->alpn, wire, len);
    ctx->alpn_len = len;
    return PETREL_OK;
}
