/*
 * petrel.h - the public interface of libpetrel, a TLS 1.3 and 1.2 library.
 *
 * Conventions that hold for every function below unless its comment says
 * otherwise:
 *
 *  - Objects are opaque. A context (petrel_ctx) holds configuration shared by
 *    many connections (petrel_conn). Contexts are reference counted: every
 *    connection holds a reference, so a context may be released while its
 *    connections live on.
 *  - Threads: a context may be used by many threads at once to create
 *    connections. Its setters are not meant to race with connection creation;
 *    once a connection has been made from a context, the context is frozen and
 *    setters that would change the handshake fail with PETREL_ERR_MISUSE.
 *    A connection must be used by one thread at a time.
 *  - NULL: passing NULL where an object is expected returns PETREL_ERR_MISUSE
 *    (or does nothing, for the *_free functions).
 *  - Ownership: strings and buffers passed in are copied; pointers returned by
 *    getters belong to the object and live until the object is freed or the
 *    next call that changes the same property.
 *  - Errors are values (petrel_status). PETREL_OK is 0. WANT_READ and
 *    WANT_WRITE are not failures: they say what the connection is waiting for.
 *    Every other status comes with a record, petrel_conn_error() or
 *    petrel_ctx_error(), that holds a sentence a person can act on. The record
 *    describes the most recent call that did not return OK; a later OK does
 *    not clear it. The first fatal error on a connection is sticky: later
 *    calls return it again, and application data buffered before it is
 *    dropped (except after PETREL_ERR_EOF, when it is still read first).
 *  - Setters that return void (callbacks) are ignored on a frozen context;
 *    the context's error record then says so.
 *  - The library prints nothing and never logs secrets, except through the
 *    key-log callback the application installs.
 */
#ifndef PETREL_H
#define PETREL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(PETREL_BUILDING) && defined(__GNUC__)
#define PETREL_API __attribute__((visibility("default")))
#else
#define PETREL_API
#endif

#if defined(__GNUC__)
#define PETREL_MUST_USE __attribute__((warn_unused_result))
#else
#define PETREL_MUST_USE
#endif

/* ------------------------------------------------------------------------ */
/* Status and errors, shaped like Python's ssl exception family.            */

typedef enum petrel_status {
    PETREL_OK = 0,
    PETREL_ERR_WANT_READ,   /* SSLWantReadError: feed more bytes, then retry */
    PETREL_ERR_WANT_WRITE,  /* SSLWantWriteError: drain output, then retry */
    PETREL_ERR_ZERO_RETURN, /* SSLZeroReturnError: peer sent close_notify */
    PETREL_ERR_EOF,         /* SSLEOFError: transport closed without close_notify */
    PETREL_ERR_CERT_VERIFY, /* SSLCertVerificationError: code + sentence */
    PETREL_ERR_PROTOCOL,    /* SSLError: we detected a fault and sent an alert */
    PETREL_ERR_PEER_ALERT,  /* SSLError: the peer sent a fatal alert */
    PETREL_ERR_IO,          /* OSError from the socket layer (errno kept) */
    PETREL_ERR_MISUSE,      /* ValueError: wrong call, argument or state */
    PETREL_ERR_CONFIG,      /* bad configuration: file, key, cipher string */
    PETREL_ERR_NO_MEMORY,
    PETREL_ERR_INTERNAL, /* a bug or an unexpected libcrypto failure */
} petrel_status;

/* A description of the last failure of an object. */
typedef struct petrel_error {
    petrel_status status;
    int alert;           /* TLS alert sent or received, -1 when none */
    long verify_code;    /* X509_V_ERR_* value for CERT_VERIFY, else 0 */
    int sys_errno;       /* errno for PETREL_ERR_IO, else 0 */
    const char *message; /* never NULL; "" when there is no error */
} petrel_error;

/* Short constant name of a status, e.g. "WANT_READ". */
PETREL_API const char *petrel_status_name(petrel_status status);
/* Name of a TLS alert code, e.g. "certificate_required"; "unknown" else. */
PETREL_API const char *petrel_alert_name(int alert);

/* ------------------------------------------------------------------------ */
/* Constants                                                                */

typedef enum petrel_role { PETREL_CLIENT = 1, PETREL_SERVER = 2 } petrel_role;

/* Protocol versions use their wire values; the two sentinels are resolved
 * to the library's lowest and highest supported version. */
#define PETREL_TLS1_2 0x0303
#define PETREL_TLS1_3 0x0304
#define PETREL_VERSION_MINIMUM_SUPPORTED (-2)
#define PETREL_VERSION_MAXIMUM_SUPPORTED (-1)

typedef enum petrel_verify_mode {
    PETREL_CERT_NONE = 0,
    PETREL_CERT_OPTIONAL = 1,
    PETREL_CERT_REQUIRED = 2,
} petrel_verify_mode;

/* verify_flags, with the same bit values as Python's ssl.VerifyFlags. */
#define PETREL_VERIFY_CRL_CHECK_LEAF 0x4u
#define PETREL_VERIFY_CRL_CHECK_CHAIN 0xcu
#define PETREL_VERIFY_X509_STRICT 0x20u
#define PETREL_VERIFY_ALLOW_PROXY_CERTS 0x40u
#define PETREL_VERIFY_X509_TRUSTED_FIRST 0x8000u
#define PETREL_VERIFY_X509_PARTIAL_CHAIN 0x80000u

/* TLS alert descriptions (RFC 8446 6). */
enum {
    PETREL_ALERT_CLOSE_NOTIFY = 0,
    PETREL_ALERT_UNEXPECTED_MESSAGE = 10,
    PETREL_ALERT_BAD_RECORD_MAC = 20,
    PETREL_ALERT_RECORD_OVERFLOW = 22,
    PETREL_ALERT_HANDSHAKE_FAILURE = 40,
    PETREL_ALERT_BAD_CERTIFICATE = 42,
    PETREL_ALERT_UNSUPPORTED_CERTIFICATE = 43,
    PETREL_ALERT_CERTIFICATE_REVOKED = 44,
    PETREL_ALERT_CERTIFICATE_EXPIRED = 45,
    PETREL_ALERT_CERTIFICATE_UNKNOWN = 46,
    PETREL_ALERT_ILLEGAL_PARAMETER = 47,
    PETREL_ALERT_UNKNOWN_CA = 48,
    PETREL_ALERT_ACCESS_DENIED = 49,
    PETREL_ALERT_DECODE_ERROR = 50,
    PETREL_ALERT_DECRYPT_ERROR = 51,
    PETREL_ALERT_PROTOCOL_VERSION = 70,
    PETREL_ALERT_INSUFFICIENT_SECURITY = 71,
    PETREL_ALERT_INTERNAL_ERROR = 80,
    PETREL_ALERT_INAPPROPRIATE_FALLBACK = 86,
    PETREL_ALERT_USER_CANCELED = 90,
    PETREL_ALERT_NO_RENEGOTIATION = 100,
    PETREL_ALERT_MISSING_EXTENSION = 109,
    PETREL_ALERT_UNSUPPORTED_EXTENSION = 110,
    PETREL_ALERT_UNRECOGNIZED_NAME = 112,
    PETREL_ALERT_BAD_CERTIFICATE_STATUS_RESPONSE = 113,
    PETREL_ALERT_UNKNOWN_PSK_IDENTITY = 115,
    PETREL_ALERT_CERTIFICATE_REQUIRED = 116,
    PETREL_ALERT_NO_APPLICATION_PROTOCOL = 120,
};

/* ------------------------------------------------------------------------ */
/* Context                                                                  */

typedef struct petrel_ctx petrel_ctx;
typedef struct petrel_conn petrel_conn;

/* A new context for one role, with Python's defaults: a client verifies the
 * server (CERT_REQUIRED) and its hostname; a server is CERT_NONE. Minimum
 * version TLS 1.2, maximum TLS 1.3, security level 2, verify_flags
 * X509_TRUSTED_FIRST. Returns NULL only when memory or libcrypto fail. */
PETREL_API petrel_ctx *petrel_ctx_new(petrel_role role);
PETREL_API void petrel_ctx_up_ref(petrel_ctx *ctx);
/* Drops one reference; the context is freed with the last one. */
PETREL_API void petrel_ctx_free(petrel_ctx *ctx);
/* The last error of a context's setters and loaders. */
PETREL_API const petrel_error *petrel_ctx_error(const petrel_ctx *ctx);

PETREL_API petrel_role petrel_ctx_protocol(const petrel_ctx *ctx);

/* Versions: PETREL_TLS1_2, PETREL_TLS1_3 or a sentinel. Older versions are
 * refused with PETREL_ERR_MISUSE. A minimum above the maximum is accepted
 * here and fails each handshake with "no protocols available". */
PETREL_API PETREL_MUST_USE petrel_status petrel_ctx_set_minimum_version(petrel_ctx *ctx,
                                                                        int version);
PETREL_API PETREL_MUST_USE petrel_status petrel_ctx_set_maximum_version(petrel_ctx *ctx,
                                                                        int version);
PETREL_API int petrel_ctx_minimum_version(const petrel_ctx *ctx);
PETREL_API int petrel_ctx_maximum_version(const petrel_ctx *ctx);

/* Python's rules: CERT_NONE while check_hostname is on is PETREL_ERR_MISUSE;
 * turning check_hostname on turns CERT_NONE into CERT_REQUIRED. */
PETREL_API PETREL_MUST_USE petrel_status petrel_ctx_set_verify_mode(petrel_ctx *ctx,
                                                                    petrel_verify_mode mode);
PETREL_API petrel_verify_mode petrel_ctx_verify_mode(const petrel_ctx *ctx);
PETREL_API PETREL_MUST_USE petrel_status petrel_ctx_set_check_hostname(petrel_ctx *ctx, bool on);
PETREL_API bool petrel_ctx_check_hostname(const petrel_ctx *ctx);

/* When on (the default) the subject CN is matched only if the certificate
 * has no DNS subjectAltName; when off it is never consulted. */
PETREL_API PETREL_MUST_USE petrel_status petrel_ctx_set_hostname_checks_common_name(petrel_ctx *ctx,
                                                                                    bool on);
PETREL_API bool petrel_ctx_hostname_checks_common_name(const petrel_ctx *ctx);

PETREL_API PETREL_MUST_USE petrel_status petrel_ctx_set_verify_flags(petrel_ctx *ctx,
                                                                     unsigned long flags);
PETREL_API unsigned long petrel_ctx_verify_flags(const petrel_ctx *ctx);

/* OpenSSL's security levels 0-5: minimum key sizes, groups and signature
 * algorithms, for the handshake and for chain verification. */
PETREL_API PETREL_MUST_USE petrel_status petrel_ctx_set_security_level(petrel_ctx *ctx, int level);
PETREL_API int petrel_ctx_security_level(const petrel_ctx *ctx);

/* TLS 1.3 post-handshake client authentication (RFC 8446 4.6.2).
 * Client: offer the post_handshake_auth extension and answer requests.
 * Server: with CERT_OPTIONAL or CERT_REQUIRED, send no CertificateRequest in
 * a TLS 1.3 handshake; ask later with
 * petrel_conn_verify_client_post_handshake(). TLS 1.2 has no such thing: a
 * TLS 1.2 handshake asks for the certificate as verify_mode says. After each
 * round the peer certificate is the one of the latest answer: a client that
 * declines (under CERT_OPTIONAL) has none. */
PETREL_API PETREL_MUST_USE petrel_status petrel_ctx_set_post_handshake_auth(petrel_ctx *ctx,
                                                                            bool on);
PETREL_API bool petrel_ctx_post_handshake_auth(const petrel_ctx *ctx);

/* TLS 1.2: refuse peers that do not support the extended master secret
 * (RFC 7627), with handshake_failure. It is always offered; off by default,
 * as in OpenSSL. TLS 1.3 is not affected. */
PETREL_API PETREL_MUST_USE petrel_status
petrel_ctx_set_require_extended_master_secret(petrel_ctx *ctx, bool on);
PETREL_API bool petrel_ctx_require_extended_master_secret(const petrel_ctx *ctx);

/* Called to decrypt an encrypted private key: write at most size bytes of
 * the password into buf and return its length, or -1 to give up. */
typedef int (*petrel_password_cb)(char *buf, int size, void *userdata);

/* Loads a PEM certificate chain (leaf first) and its private key. keyfile may
 * be NULL when certfile holds the key too. A key that does not match the
 * leaf certificate is PETREL_ERR_CONFIG. */
PETREL_API PETREL_MUST_USE petrel_status petrel_ctx_load_cert_chain(petrel_ctx *ctx,
                                                                    const char *certfile,
                                                                    const char *keyfile,
                                                                    petrel_password_cb cb,
                                                                    void *userdata);
/* The same from memory (PEM). */
PETREL_API PETREL_MUST_USE petrel_status petrel_ctx_load_cert_chain_mem(
    petrel_ctx *ctx, const void *cert_pem, size_t cert_len, const void *key_pem, size_t key_len,
    petrel_password_cb cb, void *userdata);

/* Trust anchors and CRLs: a PEM file, an OpenSSL hashed directory, and/or
 * in-memory data (PEM text, or one DER certificate). Any may be NULL, not
 * all. CRLs found in the file or data are loaded too. */
PETREL_API PETREL_MUST_USE petrel_status petrel_ctx_load_verify_locations(
    petrel_ctx *ctx, const char *cafile, const char *capath, const void *cadata, size_t cadata_len);
/* The system trust store (OpenSSL's default paths). */
PETREL_API PETREL_MUST_USE petrel_status petrel_ctx_load_default_certs(petrel_ctx *ctx);

/* TLS 1.3 suites by IANA name, colon separated, in preference order, e.g.
 * "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256". */
PETREL_API PETREL_MUST_USE petrel_status petrel_ctx_set_ciphersuites(petrel_ctx *ctx,
                                                                     const char *list);
/* TLS 1.2 suites by IANA or OpenSSL name, colon separated. */
PETREL_API PETREL_MUST_USE petrel_status petrel_ctx_set_ciphers(petrel_ctx *ctx, const char *list);
/* Key-exchange groups, colon separated: "x25519", "P-256"/"secp256r1",
 * "P-384"/"secp384r1". */
PETREL_API PETREL_MUST_USE petrel_status petrel_ctx_set_groups(petrel_ctx *ctx, const char *list);
/* ALPN protocol names in preference order. */
PETREL_API PETREL_MUST_USE petrel_status petrel_ctx_set_alpn_protocols(petrel_ctx *ctx,
                                                                       const char *const *protos,
                                                                       size_t count);

/* Key log in the NSS format (one line per secret, without newline). */
typedef void (*petrel_keylog_cb)(const petrel_conn *conn, const char *line, void *userdata);
PETREL_API void petrel_ctx_set_keylog_callback(petrel_ctx *ctx, petrel_keylog_cb cb,
                                               void *userdata);
/* Appends key-log lines to a file (opened per line, so several processes
 * may share it). NULL turns it off. */
PETREL_API PETREL_MUST_USE petrel_status petrel_ctx_set_keylog_file(petrel_ctx *ctx,
                                                                    const char *path);

/* What a certificate request asks for, given to the client certificate
 * callback. ca_names are DER-encoded distinguished names. */
typedef struct petrel_cert_request {
    bool post_handshake;
    const uint16_t *sigalgs;
    size_t sigalg_count;
    const uint8_t *const *ca_names;
    const size_t *ca_name_lens;
    size_t ca_name_count;
} petrel_cert_request;

/* Client: choose what to answer a CertificateRequest with. Return true to
 * send the context's loaded chain, false to send an empty Certificate. The
 * callback runs in the middle of a record: calls on conn that process
 * input (read, do_handshake, shutdown, process, feed) return MISUSE there,
 * and so does write during the handshake; after the handshake (a
 * post-handshake request) write and key_update may be called. */
typedef bool (*petrel_client_cert_cb)(petrel_conn *conn, const petrel_cert_request *req,
                                      void *userdata);
PETREL_API void petrel_ctx_set_client_cert_callback(petrel_ctx *ctx, petrel_client_cert_cb cb,
                                                    void *userdata);

/* Limits on what a peer may make us hold. 0 keeps the current value. */
typedef struct petrel_limits {
    size_t max_handshake_message;  /* default 65536 bytes */
    size_t max_cert_chain_len;     /* default 10 certificates */
    size_t max_cert_chain_bytes;   /* default 102400 bytes */
    size_t max_buffered_plaintext; /* default 65536 bytes */
} petrel_limits;
PETREL_API PETREL_MUST_USE petrel_status petrel_ctx_set_limits(petrel_ctx *ctx,
                                                               const petrel_limits *limits);
PETREL_API void petrel_ctx_limits(const petrel_ctx *ctx, petrel_limits *out);

/* TLS 1.3 session tickets (RFC 8446 4.6.1), as Python's
 * SSLContext.num_tickets: how many NewSessionTickets a server sends after
 * each TLS 1.3 handshake (default 2, at most 16; 0 sends none). A client
 * context refuses the setting (MISUSE). Tickets are sealed with a key the
 * context draws at creation, so only the context that issued a ticket can
 * resume it. */
PETREL_API PETREL_MUST_USE petrel_status petrel_ctx_set_num_tickets(petrel_ctx *ctx, size_t count);
PETREL_API size_t petrel_ctx_num_tickets(const petrel_ctx *ctx);
/* Server: the lifetime announced in its tickets and enforced when they
 * come back, 1 to 604800 seconds (7 days); default 7200. */
PETREL_API PETREL_MUST_USE petrel_status petrel_ctx_set_session_timeout(petrel_ctx *ctx,
                                                                        uint32_t seconds);
PETREL_API uint32_t petrel_ctx_session_timeout(const petrel_ctx *ctx);

/* ------------------------------------------------------------------------ */
/* Connection                                                               */

/* A new connection from ctx (which becomes frozen). server_hostname is
 * required on a client when check_hostname is on; it is sent as SNI unless it
 * is an IP address, and used for the hostname check. A server connection
 * takes NULL; petrel_conn_server_hostname() then returns the SNI the client
 * sent. Returns NULL on failure, with the reason in petrel_ctx_error(ctx)
 * (a context shared by threads keeps only the latest such reason). */
PETREL_API petrel_conn *petrel_conn_new(petrel_ctx *ctx, const char *server_hostname);
PETREL_API void petrel_conn_free(petrel_conn *conn);
PETREL_API const petrel_error *petrel_conn_error(const petrel_conn *conn);
PETREL_API petrel_ctx *petrel_conn_context(const petrel_conn *conn);
PETREL_API void petrel_conn_set_userdata(petrel_conn *conn, void *userdata);
PETREL_API void *petrel_conn_userdata(const petrel_conn *conn);

/* --- Sans-I/O use: the application moves the bytes. --- */

/* Hands received bytes to the connection. All of them are taken unless the
 * connection already holds too much unread input, in which case *consumed
 * tells how many were taken and the rest must be offered again later. */
PETREL_API PETREL_MUST_USE petrel_status petrel_conn_feed(petrel_conn *conn, const void *data,
                                                          size_t len, size_t *consumed);
/* Tells the connection the transport has reached end of file. */
PETREL_API void petrel_conn_feed_eof(petrel_conn *conn);
/* Bytes waiting to be sent to the peer. */
PETREL_API size_t petrel_conn_output_pending(const petrel_conn *conn);
/* Copies up to cap bytes of output into buf, removing them; returns the count. */
PETREL_API size_t petrel_conn_take_output(petrel_conn *conn, void *buf, size_t cap);
/* The output without copying it: *len bytes at the returned address (NULL
 * and 0 when there is none), valid until the next call on conn other than
 * petrel_conn_output_pending. Send them, then remove what was sent with
 * petrel_conn_output_consume. */
PETREL_API const uint8_t *petrel_conn_output_peek(const petrel_conn *conn, size_t *len);
/* Removes the first n bytes of output (at most what is pending). */
PETREL_API void petrel_conn_output_consume(petrel_conn *conn, size_t n);

/* --- Socket use: the connection reads and writes a file descriptor. --- */

/* Attaches a connected stream socket (blocking or not). The descriptor stays
 * the caller's: petrel_conn_free does not close it. With a non-blocking fd,
 * calls return WANT_READ or WANT_WRITE when the socket would block. */
PETREL_API PETREL_MUST_USE petrel_status petrel_conn_set_fd(petrel_conn *conn, int fd);

/* --- Both uses. --- */

/* Runs the handshake as far as the available input allows. PETREL_OK once
 * the handshake is complete. In sans-I/O use WANT_READ means: send the
 * output, feed the peer's answer, call again. */
PETREL_API PETREL_MUST_USE petrel_status petrel_conn_do_handshake(petrel_conn *conn);

/* Reads application data. Runs the handshake first if needed. Post-handshake
 * messages that arrive meanwhile are processed here: tickets are stored,
 * KeyUpdates answered, and on a client a CertificateRequest is answered. A
 * reply waiting to be sent is queued in the output; in socket use with a
 * non-blocking fd it may return WANT_WRITE, and the next call flushes it.
 * Returns ZERO_RETURN after close_notify, EOF on an unclean close.
 * Records are decrypted straight into buf when they fit, so bytes of buf
 * past *nread (up to cap) may be overwritten. */
PETREL_API PETREL_MUST_USE petrel_status petrel_conn_read(petrel_conn *conn, void *buf, size_t cap,
                                                          size_t *nread);
/* Writes all of len bytes unless an error (or, non-blocking, WANT_WRITE after
 * *nwritten bytes were taken). Pending handshake work is sent first. */
PETREL_API PETREL_MUST_USE petrel_status petrel_conn_write(petrel_conn *conn, const void *buf,
                                                           size_t len, size_t *nwritten);
/* Decrypted application bytes ready to read without more input. */
PETREL_API size_t petrel_conn_pending(const petrel_conn *conn);
/* Sends close_notify (once), then processes what the peer sent; MISUSE
 * before the handshake has completed (free the connection to abandon a
 * handshake). Returns OK
 * when the peer's close_notify has been received too, or when application
 * data the peer sent before it waits to be read (petrel_conn_pending() > 0:
 * nothing the peer sends is dropped; petrel_conn_read returns it and then
 * ZERO_RETURN at the peer's close_notify); WANT_READ while neither. */
PETREL_API PETREL_MUST_USE petrel_status petrel_conn_shutdown(petrel_conn *conn);

/* Server, TLS 1.3: asks the client for a certificate (RFC 8446 4.6.2).
 * The CertificateRequest is queued at once and leaves with the next write,
 * read, or petrel_conn_process(); the answer is consumed by reads or by
 * petrel_conn_process(), and application data that arrives first is kept
 * for petrel_conn_read(). See petrel_conn_peer_cert_pending(). */
PETREL_API PETREL_MUST_USE petrel_status
petrel_conn_verify_client_post_handshake(petrel_conn *conn);
/* Drives pending handshake work without application data: flushes queued
 * output and processes whatever input has arrived. Returns OK when nothing
 * is left to do, WANT_READ while an answer is outstanding and more input is
 * needed, ZERO_RETURN when the peer closed before answering. OK while
 * petrel_conn_peer_cert_pending() is still true means application data the
 * peer sent before its answer fills the connection's buffer (see
 * petrel_conn_pending()): read it, then call again. */
PETREL_API PETREL_MUST_USE petrel_status petrel_conn_process(petrel_conn *conn);
/* True while a post-handshake certificate request awaits its answer. */
PETREL_API bool petrel_conn_peer_cert_pending(const petrel_conn *conn);

/* TLS 1.3: sends a KeyUpdate; when request_peer, asks the peer to update too. */
PETREL_API PETREL_MUST_USE petrel_status petrel_conn_key_update(petrel_conn *conn,
                                                                bool request_peer);

/* --- What was negotiated. Strings are NULL before the handshake. --- */

PETREL_API petrel_role petrel_conn_role(const petrel_conn *conn);
PETREL_API bool petrel_conn_handshake_done(const petrel_conn *conn);
PETREL_API int petrel_conn_version(const petrel_conn *conn);              /* 0 before */
PETREL_API const char *petrel_conn_version_name(const petrel_conn *conn); /* "TLSv1.3" */
PETREL_API const char *petrel_conn_cipher(const petrel_conn *conn);       /* IANA name */
PETREL_API const char *petrel_conn_group(const petrel_conn *conn);        /* "x25519" */
PETREL_API const char *petrel_conn_signature_algorithm(const petrel_conn *conn);
PETREL_API const char *petrel_conn_peer_signature_algorithm(const petrel_conn *conn);
PETREL_API const char *petrel_conn_alpn_selected(const petrel_conn *conn);
PETREL_API const char *petrel_conn_server_hostname(const petrel_conn *conn);
/* Number of usable NewSessionTickets received: those with a lifetime and
 * small enough to offer (the newest is what petrel_conn_get_session
 * returns). */
PETREL_API size_t petrel_conn_session_tickets(const petrel_conn *conn);

/* --- Session resumption (TLS 1.3 PSK with (EC)DHE, RFC 8446 2.2), shaped
 * like Python's SSLSocket.session and session_reused. No 0-RTT data. --- */

typedef struct petrel_session petrel_session;

/* Client: the session of the newest ticket the server sent, for
 * petrel_conn_set_session() on a later connection made from the same
 * context. Tickets arrive after the handshake and are taken in by reads
 * and petrel_conn_process(). Returns a new reference (free it with
 * petrel_session_free), or NULL when no ticket has arrived, on a server, or
 * when memory runs out. The session keeps the server's certificate chain
 * and verification result, the server name and the ticket's lifetime. */
PETREL_API petrel_session *petrel_conn_get_session(petrel_conn *conn);
/* Client, before the handshake: offers the session. The connection takes
 * its own reference; NULL clears. MISUSE on a server connection, after the
 * handshake has started, or for a session of another context. The session
 * is offered only when the connection's server_hostname equals the one it
 * was made for and its lifetime has not passed; otherwise (and when the
 * server declines it) a full handshake takes place. */
PETREL_API PETREL_MUST_USE petrel_status petrel_conn_set_session(petrel_conn *conn,
                                                                 petrel_session *session);
/* True once a handshake resumed a session (both roles). A resumed client
 * reports the peer chain, verified chain and verify result of the session;
 * a resumed server, the client chain the ticket recorded, if any. */
PETREL_API bool petrel_conn_session_reused(const petrel_conn *conn);
PETREL_API void petrel_session_up_ref(petrel_session *session);
/* Drops one reference; the session's secrets are wiped with the last. */
PETREL_API void petrel_session_free(petrel_session *session);
/* When the ticket arrived (seconds since the epoch) and its lifetime in
 * seconds, as Python's SSLSession.time and ticket_lifetime_hint. */
PETREL_API int64_t petrel_session_time(const petrel_session *session);
PETREL_API uint32_t petrel_session_lifetime(const petrel_session *session);

/* The peer certificate. */
typedef struct petrel_cert_info {
    const uint8_t *der;
    size_t der_len;
    const char *subject; /* one-line RFC 2253 form */
    const char *issuer;
    const char *const *dns_names; /* DNS subjectAltNames */
    size_t dns_name_count;
    const char *const *ip_addresses; /* IP subjectAltNames, textual */
    size_t ip_address_count;
    int64_t not_before; /* seconds since the epoch, UTC */
    int64_t not_after;
} petrel_cert_info;

/* True when the peer presented a certificate. For a client, true after a
 * verified handshake; for a server, after client authentication. */
PETREL_API bool petrel_conn_has_peer_cert(const petrel_conn *conn);
/* Fills *out about the peer's leaf certificate. MISUSE when there is none. */
PETREL_API PETREL_MUST_USE petrel_status petrel_conn_peer_cert(const petrel_conn *conn,
                                                               petrel_cert_info *out);
/* Length of the chain the peer sent, and of the chain verification built
 * (0 when not verified). */
PETREL_API size_t petrel_conn_unverified_chain_len(const petrel_conn *conn);
PETREL_API size_t petrel_conn_verified_chain_len(const petrel_conn *conn);
/* Result of the last peer verification: X509_V_OK (0) or an error code. */
PETREL_API long petrel_conn_verify_result(const petrel_conn *conn);

/* ------------------------------------------------------------------------ */
/* Tracing for tools: an event per handshake step, never secrets. */

typedef void (*petrel_trace_cb)(const petrel_conn *conn, const char *event, void *userdata);
PETREL_API void petrel_conn_set_trace_callback(petrel_conn *conn, petrel_trace_cb cb,
                                               void *userdata);

/* Deterministic randomness for fuzzing and reproducible tests only: replaces
 * the random source of every connection in the process with a fixed stream
 * derived from seed, seals session tickets with a fixed key and freezes
 * the clock tickets are timed by. Every server context then accepts every
 * other context's tickets, with the client authentication they record, and
 * no secret is secret. Never use in production. */
PETREL_API void petrel_insecure_set_deterministic_random(uint64_t seed);

#ifdef __cplusplus
}
#endif
#endif /* PETREL_H */
