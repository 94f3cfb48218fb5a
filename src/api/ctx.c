/*
 * ctx.c - the context: creation, reference counting, and the settings that
 * follow Python's ssl.SSLContext (versions, verify_mode and check_hostname,
 * verify_flags, security level, post-handshake authentication, limits).
 *
 * Loading credentials and trust lives in ctx_load.c, the list-valued
 * settings (suites, groups, ALPN) in ctx_lists.c.
 */
#include "api/ctx.h"

#include <stdlib.h>
#include <string.h>

#include "api/ctx_internal.h"

/* The library's range: RFC 8996 retired TLS 1.0 and 1.1. */
#define PT_LOWEST_VERSION PETREL_TLS1_2
#define PT_HIGHEST_VERSION PETREL_TLS1_3

#define PT_KNOWN_VERIFY_FLAGS                                                                      \
    (PETREL_VERIFY_CRL_CHECK_LEAF | PETREL_VERIFY_CRL_CHECK_CHAIN | PETREL_VERIFY_X509_STRICT |    \
     PETREL_VERIFY_ALLOW_PROXY_CERTS | PETREL_VERIFY_X509_TRUSTED_FIRST |                          \
     PETREL_VERIFY_X509_PARTIAL_CHAIN)

/* RFC 8446 4: a handshake message length is a uint24. */
#define PT_HANDSHAKE_MESSAGE_CEILING 0xffffffu
/* Enough for any real chain, small enough that a limit set by mistake
 * cannot make a connection hold gigabytes. */
#define PT_BUFFERED_PLAINTEXT_CEILING ((size_t)64 * 1024 * 1024)

static const petrel_limits default_limits = {
    .max_handshake_message = 65536,
    .max_cert_chain_len = 10,
    .max_cert_chain_bytes = 102400,
    .max_buffered_plaintext = 65536,
};

petrel_status pt_ctx_begin_change(petrel_ctx *ctx)
{
    if (ctx == NULL) {
        return PETREL_ERR_MISUSE;
    }
    if (atomic_load(&ctx->frozen)) {
        return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1,
                       "context is in use by connections; configure it before creating the "
                       "first connection");
    }
    pt_error_clear(&ctx->err);
    return PETREL_OK;
}

static void set_defaults(petrel_ctx *ctx, petrel_role role)
{
    bool client = role == PETREL_CLIENT;
    ctx->role = role;
    ctx->min_version = PETREL_TLS1_2;
    ctx->max_version = PETREL_TLS1_3;
    ctx->verify_mode = client ? PETREL_CERT_REQUIRED : PETREL_CERT_NONE;
    ctx->check_hostname = client;
    ctx->hostname_checks_cn = true;
    ctx->post_handshake_auth = false;
    ctx->verify_flags = PETREL_VERIFY_X509_TRUSTED_FIRST;
    ctx->security_level = 2;
    ctx->limits = default_limits;
    ctx->num_tickets = client ? 0 : 2;
    ctx->session_timeout = 7200;
    pt_ctx_default_lists(ctx);
}

petrel_ctx *petrel_ctx_new(petrel_role role)
{
    if (role != PETREL_CLIENT && role != PETREL_SERVER) {
        return NULL;
    }
    petrel_ctx *ctx = pt_calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        return NULL;
    }
    atomic_init(&ctx->refs, 1);
    atomic_init(&ctx->frozen, false);
    pt_error_init(&ctx->err);
    set_defaults(ctx, role);
    ctx->algs = pt_algs_new(&ctx->err);
    ctx->store = ctx->algs != NULL ? pt_store_new(&ctx->err) : NULL;
    if (ctx->store == NULL ||
        pt_random(ctx->ticket_key_name, sizeof(ctx->ticket_key_name), &ctx->err) != PETREL_OK ||
        pt_random(ctx->ticket_key, sizeof(ctx->ticket_key), &ctx->err) != PETREL_OK) {
        petrel_ctx_free(ctx);
        return NULL;
    }
    return ctx;
}

void petrel_ctx_up_ref(petrel_ctx *ctx)
{
    if (ctx != NULL) {
        atomic_fetch_add(&ctx->refs, 1);
    }
}

void petrel_ctx_free(petrel_ctx *ctx)
{
    if (ctx == NULL || atomic_fetch_sub(&ctx->refs, 1) != 1) {
        return;
    }
    pt_credential_free(ctx->cred);
    pt_store_free(ctx->store);
    pt_algs_free(ctx->algs);
    pt_free(ctx->keylog_path);
    pt_free_secret(ctx, sizeof(*ctx));
}

const petrel_error *petrel_ctx_error(const petrel_ctx *ctx)
{
    static const petrel_error no_context = {PETREL_ERR_MISUSE, -1, 0, 0, "no context"};
    return ctx != NULL ? &ctx->err.pub : &no_context;
}

petrel_role petrel_ctx_protocol(const petrel_ctx *ctx)
{
    return ctx != NULL ? ctx->role : 0;
}

/* ---- versions ----------------------------------------------------------- */

static int resolve_version(int version)
{
    if (version == PETREL_VERSION_MINIMUM_SUPPORTED) {
        return PT_LOWEST_VERSION;
    }
    if (version == PETREL_VERSION_MAXIMUM_SUPPORTED) {
        return PT_HIGHEST_VERSION;
    }
    return version;
}

int pt_ctx_min_version(const petrel_ctx *ctx)
{
    return resolve_version(ctx->min_version);
}

int pt_ctx_max_version(const petrel_ctx *ctx)
{
    return resolve_version(ctx->max_version);
}

static petrel_status check_version(petrel_ctx *ctx, int version)
{
    if (version == PETREL_VERSION_MINIMUM_SUPPORTED ||
        version == PETREL_VERSION_MAXIMUM_SUPPORTED || version == PETREL_TLS1_2 ||
        version == PETREL_TLS1_3) {
        return PETREL_OK;
    }
    if (version >= 0x0300 && version < PETREL_TLS1_2) {
        return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1,
                       "%s is not supported: SSL 3.0, TLS 1.0 and TLS 1.1 are deprecated "
                       "(RFC 7568, RFC 8996) because their handshakes rely on MD5 and SHA-1 "
                       "and they lack AEAD ciphers; use TLS 1.2 or TLS 1.3",
                       pt_version_name(version));
    }
    return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1,
                   "unknown TLS version 0x%04x; use PETREL_TLS1_2, PETREL_TLS1_3 or a "
                   "PETREL_VERSION_*_SUPPORTED sentinel",
                   (unsigned)version);
}

petrel_status petrel_ctx_set_minimum_version(petrel_ctx *ctx, int version)
{
    PT_TRY(pt_ctx_begin_change(ctx));
    PT_TRY(check_version(ctx, version));
    ctx->min_version = version;
    return PETREL_OK;
}

petrel_status petrel_ctx_set_maximum_version(petrel_ctx *ctx, int version)
{
    PT_TRY(pt_ctx_begin_change(ctx));
    PT_TRY(check_version(ctx, version));
    ctx->max_version = version;
    return PETREL_OK;
}

int petrel_ctx_minimum_version(const petrel_ctx *ctx)
{
    return ctx != NULL ? ctx->min_version : 0;
}

int petrel_ctx_maximum_version(const petrel_ctx *ctx)
{
    return ctx != NULL ? ctx->max_version : 0;
}

/* ---- verification ------------------------------------------------------- */

petrel_status petrel_ctx_set_verify_mode(petrel_ctx *ctx, petrel_verify_mode mode)
{
    PT_TRY(pt_ctx_begin_change(ctx));
    if (mode != PETREL_CERT_NONE && mode != PETREL_CERT_OPTIONAL && mode != PETREL_CERT_REQUIRED) {
        return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1,
                       "invalid verify mode %d; use CERT_NONE, CERT_OPTIONAL or CERT_REQUIRED",
                       (int)mode);
    }
    if (mode == PETREL_CERT_NONE && ctx->check_hostname) {
        return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1,
                       "Cannot set verify_mode to CERT_NONE when check_hostname is enabled.");
    }
    ctx->verify_mode = mode;
    return PETREL_OK;
}

petrel_verify_mode petrel_ctx_verify_mode(const petrel_ctx *ctx)
{
    return ctx != NULL ? ctx->verify_mode : PETREL_CERT_NONE;
}

petrel_status petrel_ctx_set_check_hostname(petrel_ctx *ctx, bool on)
{
    PT_TRY(pt_ctx_begin_change(ctx));
    /* As in Python: a hostname check without chain verification would be
     * meaningless, so enabling it upgrades CERT_NONE. */
    if (on && ctx->verify_mode == PETREL_CERT_NONE) {
        ctx->verify_mode = PETREL_CERT_REQUIRED;
    }
    ctx->check_hostname = on;
    return PETREL_OK;
}

bool petrel_ctx_check_hostname(const petrel_ctx *ctx)
{
    return ctx != NULL && ctx->check_hostname;
}

petrel_status petrel_ctx_set_hostname_checks_common_name(petrel_ctx *ctx, bool on)
{
    PT_TRY(pt_ctx_begin_change(ctx));
    ctx->hostname_checks_cn = on;
    return PETREL_OK;
}

bool petrel_ctx_hostname_checks_common_name(const petrel_ctx *ctx)
{
    return ctx != NULL && ctx->hostname_checks_cn;
}

petrel_status petrel_ctx_set_verify_flags(petrel_ctx *ctx, unsigned long flags)
{
    PT_TRY(pt_ctx_begin_change(ctx));
    if ((flags & ~(unsigned long)PT_KNOWN_VERIFY_FLAGS) != 0) {
        return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1,
                       "unknown verify flags 0x%lx; use the PETREL_VERIFY_* values",
                       flags & ~(unsigned long)PT_KNOWN_VERIFY_FLAGS);
    }
    ctx->verify_flags = flags;
    return PETREL_OK;
}

unsigned long petrel_ctx_verify_flags(const petrel_ctx *ctx)
{
    return ctx != NULL ? ctx->verify_flags : 0;
}

petrel_status petrel_ctx_set_security_level(petrel_ctx *ctx, int level)
{
    PT_TRY(pt_ctx_begin_change(ctx));
    if (level < 0 || level > 5) {
        return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1,
                       "security level %d is out of range: it must be between 0 and 5", level);
    }
    ctx->security_level = level;
    return PETREL_OK;
}

int petrel_ctx_security_level(const petrel_ctx *ctx)
{
    return ctx != NULL ? ctx->security_level : 0;
}

petrel_status petrel_ctx_set_post_handshake_auth(petrel_ctx *ctx, bool on)
{
    PT_TRY(pt_ctx_begin_change(ctx));
    ctx->post_handshake_auth = on;
    return PETREL_OK;
}

petrel_status petrel_ctx_set_require_extended_master_secret(petrel_ctx *ctx, bool on)
{
    PT_TRY(pt_ctx_begin_change(ctx));
    ctx->require_ems = on;
    return PETREL_OK;
}

bool petrel_ctx_require_extended_master_secret(const petrel_ctx *ctx)
{
    return ctx != NULL && ctx->require_ems;
}

bool petrel_ctx_post_handshake_auth(const petrel_ctx *ctx)
{
    return ctx != NULL && ctx->post_handshake_auth;
}

/* ---- callbacks and limits ------------------------------------------------ */

void petrel_ctx_set_client_cert_callback(petrel_ctx *ctx, petrel_client_cert_cb cb, void *userdata)
{
    if (pt_ctx_begin_change(ctx) != PETREL_OK) {
        return;
    }
    ctx->cert_cb = cb;
    ctx->cert_cb_userdata = userdata;
}

static petrel_status check_limits(petrel_ctx *ctx, const petrel_limits *l)
{
    if (l->max_handshake_message > PT_HANDSHAKE_MESSAGE_CEILING) {
        return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1,
                       "max_handshake_message %zu is above %u, the largest length a handshake "
                       "message can carry (RFC 8446 4)",
                       l->max_handshake_message, PT_HANDSHAKE_MESSAGE_CEILING);
    }
    if (l->max_buffered_plaintext > PT_BUFFERED_PLAINTEXT_CEILING) {
        return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1,
                       "max_buffered_plaintext %zu is above the ceiling of %zu bytes",
                       l->max_buffered_plaintext, PT_BUFFERED_PLAINTEXT_CEILING);
    }
    return PETREL_OK;
}

static void replace_nonzero(size_t *field, size_t value)
{
    if (value != 0) {
        *field = value;
    }
}

petrel_status petrel_ctx_set_limits(petrel_ctx *ctx, const petrel_limits *limits)
{
    PT_TRY(pt_ctx_begin_change(ctx));
    if (limits == NULL) {
        return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1, "limits must not be NULL");
    }
    PT_TRY(check_limits(ctx, limits));
    replace_nonzero(&ctx->limits.max_handshake_message, limits->max_handshake_message);
    replace_nonzero(&ctx->limits.max_cert_chain_len, limits->max_cert_chain_len);
    replace_nonzero(&ctx->limits.max_cert_chain_bytes, limits->max_cert_chain_bytes);
    replace_nonzero(&ctx->limits.max_buffered_plaintext, limits->max_buffered_plaintext);
    return PETREL_OK;
}

void petrel_ctx_limits(const petrel_ctx *ctx, petrel_limits *out)
{
    if (out == NULL) {
        return;
    }
    *out = ctx != NULL ? ctx->limits : default_limits;
}

/* ---- session tickets ------------------------------------------------------ */

petrel_status petrel_ctx_set_num_tickets(petrel_ctx *ctx, size_t count)
{
    PT_TRY(pt_ctx_begin_change(ctx));
    if (ctx->role != PETREL_SERVER) {
        return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1,
                       "num_tickets is a server setting; a client keeps the tickets it gets");
    }
    if (count > PT_MAX_NUM_TICKETS) {
        return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1,
                       "num_tickets %zu is above the maximum of %d", count, PT_MAX_NUM_TICKETS);
    }
    ctx->num_tickets = count;
    return PETREL_OK;
}

size_t petrel_ctx_num_tickets(const petrel_ctx *ctx)
{
    return ctx != NULL ? ctx->num_tickets : 0;
}

petrel_status petrel_ctx_set_session_timeout(petrel_ctx *ctx, uint32_t seconds)
{
    PT_TRY(pt_ctx_begin_change(ctx));
    if (seconds == 0 || seconds > PT_MAX_TICKET_LIFETIME) {
        return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1,
                       "session timeout of %u s is out of range: it must be between 1 and "
                       "%u seconds (7 days, RFC 8446 4.6.1)",
                       seconds, PT_MAX_TICKET_LIFETIME);
    }
    ctx->session_timeout = seconds;
    return PETREL_OK;
}

uint32_t petrel_ctx_session_timeout(const petrel_ctx *ctx)
{
    return ctx != NULL ? ctx->session_timeout : 0;
}
