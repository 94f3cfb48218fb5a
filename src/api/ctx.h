/*
 * ctx.h - the context object, read by the engine.
 *
 * The engine reads these fields but never writes them: after the first
 * connection a context is frozen and shared read-only between threads.
 */
#ifndef PT_CTX_H
#define PT_CTX_H

#include <stdatomic.h>

#include "crypto/crypto.h"
#include "internal/common.h"

#define PT_MAX_SUITES 16
#define PT_MAX_GROUPS 8
#define PT_MAX_ALPN_WIRE 1024
#define PT_TICKET_KEY_NAME 16
#define PT_TICKET_KEY 32
/* RFC 8446 4.6.1: a ticket lives seven days at most. */
#define PT_MAX_TICKET_LIFETIME 604800u
#define PT_MAX_NUM_TICKETS 16

struct petrel_ctx {
    atomic_int refs;
    atomic_bool frozen;
    petrel_role role;

    int min_version; /* as set: a wire version or a sentinel */
    int max_version;
    petrel_verify_mode verify_mode;
    bool check_hostname;
    bool hostname_checks_cn;
    bool post_handshake_auth;
    bool require_ems;
    unsigned long verify_flags;
    int security_level;

    uint16_t suites13[PT_MAX_SUITES]; /* preference order */
    size_t suites13_count;
    uint16_t suites12[PT_MAX_SUITES];
    size_t suites12_count;
    uint16_t groups[PT_MAX_GROUPS]; /* preference order; first gets a key share */
    size_t groups_count;
    uint8_t alpn[PT_MAX_ALPN_WIRE]; /* ProtocolNameList body: u8-prefixed names */
    size_t alpn_len;

    pt_algs *algs;
    pt_store *store;
    pt_credential *cred;

    petrel_keylog_cb keylog_cb;
    void *keylog_userdata;
    char *keylog_path;
    petrel_client_cert_cb cert_cb;
    void *cert_cb_userdata;

    petrel_limits limits;
    pt_error err;

    /* Session tickets (server): how many to send after each TLS 1.3
     * handshake, their lifetime, and the key that seals them. The key is
     * random per context and wiped with it; its name opens every ticket so
     * that foreign tickets are told apart before any decryption. */
    size_t num_tickets;
    uint32_t session_timeout;
    uint8_t ticket_key_name[PT_TICKET_KEY_NAME];
    uint8_t ticket_key[PT_TICKET_KEY];
};

/* The configured bounds with the sentinels resolved to TLS 1.2 / 1.3. */
int pt_ctx_min_version(const petrel_ctx *ctx);
int pt_ctx_max_version(const petrel_ctx *ctx);

/* Hands one NSS key-log line (without newline) to the application's
 * callback and appends it to the key-log file, whichever are set. */
void pt_ctx_keylog(const petrel_ctx *ctx, const petrel_conn *conn, const char *line);

#endif
