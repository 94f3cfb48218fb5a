/*
 * internal.h - shared declarations of the engine's files.
 *
 * The engine is a table of (role, state, message) rows (see dispatch.c).
 * Each handshake message has one file with its parser and builder; the key
 * schedule and the transcript have their own. Post-handshake messages are
 * rows of the same table, entered from the connected state.
 */
#ifndef PT_ENGINE_INTERNAL_H
#define PT_ENGINE_INTERNAL_H

#include "engine/engine.h"
#include "engine/session.h"
#include "engine/tls12.h"

/* Handshake message types (RFC 8446 4). */
enum {
    PT_HS_CLIENT_HELLO = 1,
    PT_HS_SERVER_HELLO = 2,
    PT_HS_NEW_SESSION_TICKET = 4,
    PT_HS_END_OF_EARLY_DATA = 5,
    PT_HS_ENCRYPTED_EXTENSIONS = 8,
    PT_HS_CERTIFICATE = 11,
    PT_HS_CERTIFICATE_REQUEST = 13,
    PT_HS_CERTIFICATE_VERIFY = 15,
    PT_HS_FINISHED = 20,
    PT_HS_KEY_UPDATE = 24,
    PT_HS_MESSAGE_HASH = 254,
};

/* Handshake message types of TLS 1.2 only (RFC 5246 7.4). */
enum {
    PT_HS_HELLO_REQUEST = 0,
    PT_HS_SERVER_KEY_EXCHANGE = 12,
    PT_HS_SERVER_HELLO_DONE = 14,
    PT_HS_CLIENT_KEY_EXCHANGE = 16,
};

/* Extension code points (RFC 8446 4.2 and others). */
enum {
    PT_EXT_SERVER_NAME = 0,
    PT_EXT_STATUS_REQUEST = 5,
    PT_EXT_SUPPORTED_GROUPS = 10,
    PT_EXT_SIGNATURE_ALGORITHMS = 13,
    PT_EXT_ALPN = 16,
    PT_EXT_PADDING = 21,
    PT_EXT_RECORD_SIZE_LIMIT = 28,
    PT_EXT_PRE_SHARED_KEY = 41,
    PT_EXT_EARLY_DATA = 42,
    PT_EXT_SUPPORTED_VERSIONS = 43,
    PT_EXT_COOKIE = 44,
    PT_EXT_PSK_KEY_EXCHANGE_MODES = 45,
    PT_EXT_CERTIFICATE_AUTHORITIES = 47,
    PT_EXT_POST_HANDSHAKE_AUTH = 49,
    PT_EXT_SIGNATURE_ALGORITHMS_CERT = 50,
    PT_EXT_KEY_SHARE = 51,
    PT_EXT_EC_POINT_FORMATS = 11,       /* RFC 8422 5.1.2 */
    PT_EXT_EXTENDED_MASTER_SECRET = 23, /* RFC 7627 5.1 */
    PT_EXT_RENEGOTIATION_INFO = 0xff01, /* RFC 5746 3.2 */
};

/* The extensions the engine looks at, as indexes into pt_exts. */
typedef enum pt_ext_index {
    PT_X_SERVER_NAME,
    PT_X_SUPPORTED_GROUPS,
    PT_X_SIGNATURE_ALGORITHMS,
    PT_X_ALPN,
    PT_X_RECORD_SIZE_LIMIT,
    PT_X_PRE_SHARED_KEY,
    PT_X_EARLY_DATA,
    PT_X_SUPPORTED_VERSIONS,
    PT_X_COOKIE,
    PT_X_PSK_KEY_EXCHANGE_MODES,
    PT_X_CERTIFICATE_AUTHORITIES,
    PT_X_POST_HANDSHAKE_AUTH,
    PT_X_SIGNATURE_ALGORITHMS_CERT,
    PT_X_KEY_SHARE,
    PT_X_EC_POINT_FORMATS,
    PT_X_EXTENDED_MASTER_SECRET,
    PT_X_RENEGOTIATION_INFO,
    PT_X_COUNT
} pt_ext_index;

#define PT_XBIT(i) (1u << (i))

typedef struct pt_exts {
    uint32_t present; /* PT_XBIT of each extension found */
    pt_span body[PT_X_COUNT];
    bool psk_last; /* pre_shared_key was the last extension (a ClientHello's
                    * must be, RFC 8446 4.2.11) */
} pt_exts;

/* Parses a ClientHello's extension block: every extension we know is
 * returned, unknown ones are ignored; duplicates are illegal_parameter
 * (RFC 8446 4.2). */
petrel_status pt_exts_parse(pt_span block, pt_exts *out, pt_error *err) PT_MUST_USE;
/* A TLS 1.3 answer to our extensions: specified is what RFC 8446 4.2 lets
 * the message carry, allowed what we offered. A known extension outside
 * specified is illegal_parameter, one we did not offer (or do not know)
 * unsupported_extension. */
petrel_status pt_exts_parse_answer(pt_span block, uint32_t specified, uint32_t allowed,
                                   pt_exts *out, pt_error *err) PT_MUST_USE;
/* A message whose unknown extensions are ignored (NewSessionTicket,
 * CertificateRequest: RFC 8446 4.6.1, 4.3.2), but whose known extensions
 * must be among those it may carry (specified; illegal_parameter
 * otherwise). Only those in wanted are returned. */
petrel_status pt_exts_parse_in(pt_span block, uint32_t specified, uint32_t wanted, pt_exts *out,
                               pt_error *err) PT_MUST_USE;
static inline bool pt_has_ext(const pt_exts *x, pt_ext_index i)
{
    return (x->present & PT_XBIT(i)) != 0;
}

/* Engine states: the client's and server's handshake states of RFC 8446
 * Appendix A, then the connected state and the rounds of post-handshake
 * authentication, which are connected states too. */
typedef enum pt_state {
    PT_ST_START = 0,
    PT_ST_C_WAIT_SH,
    PT_ST_C_WAIT_SH_AFTER_HRR,
    PT_ST_C_WAIT_EE,
    PT_ST_C_WAIT_CERT_CR,
    PT_ST_C_WAIT_CERT,
    PT_ST_C_WAIT_CV,
    PT_ST_C_WAIT_FINISHED,
    PT_ST_S_WAIT_CH,
    PT_ST_S_WAIT_CH_AFTER_HRR,
    PT_ST_S_WAIT_CERT,
    PT_ST_S_WAIT_CV,
    PT_ST_S_WAIT_FINISHED,
    PT_ST_CONNECTED,
    PT_ST_PHA_WAIT_CERT,
    PT_ST_PHA_WAIT_CV,
    PT_ST_PHA_WAIT_FINISHED,
    /* TLS 1.2 (RFC 5246 7.3), see tls12.h */
    PT_ST_C12_WAIT_CERT,
    PT_ST_C12_WAIT_SKE,
    PT_ST_C12_WAIT_CR_DONE,
    PT_ST_C12_WAIT_DONE,
    PT_ST_C12_WAIT_CCS,
    PT_ST_C12_WAIT_FINISHED,
    PT_ST_S12_WAIT_CERT,
    PT_ST_S12_WAIT_CKE,
    PT_ST_S12_WAIT_CV,
    PT_ST_S12_WAIT_CCS,
    PT_ST_S12_WAIT_FINISHED,
    PT_ST_CONNECTED12,
    PT_ST_COUNT
} pt_state;

const char *pt_state_name(int state);
const char *pt_hs_type_name(uint8_t type);

/* The transcript: raw bytes until the hash is known, then a running hash
 * (and the raw bytes too when keep_raw: TLS 1.2 signs them). */
typedef struct pt_transcript {
    pt_buf raw;
    pt_hash hash;
    bool hashing;
    bool keep_raw;
} pt_transcript;

void pt_tr_init(pt_transcript *tr);
/* With a cap on the raw bytes kept before (or beside) the hash. */
void pt_tr_init_max(pt_transcript *tr, size_t raw_max);
/* Stops keeping the raw bytes beside a running hash, and frees them. */
void pt_tr_drop_raw(pt_transcript *tr);
void pt_tr_free(pt_transcript *tr);
petrel_status pt_tr_add(pt_transcript *tr, const uint8_t *msg, size_t len,
                        pt_error *err) PT_MUST_USE;
petrel_status pt_tr_start_hash(pt_transcript *tr, const pt_algs *algs, pt_hash_alg alg,
                               pt_error *err) PT_MUST_USE;
/* As pt_tr_start_hash, but the raw bytes keep growing beside the hash. */
petrel_status pt_tr_start_hash_keep_raw(pt_transcript *tr, const pt_algs *algs, pt_hash_alg alg,
                                        pt_error *err) PT_MUST_USE;
/* Replaces ClientHello1 by its message_hash (RFC 8446 4.4.1). */
petrel_status pt_tr_hrr_reset(pt_transcript *tr, const pt_algs *algs, pt_error *err) PT_MUST_USE;
petrel_status pt_tr_hash(const pt_transcript *tr, uint8_t out[PT_MAX_HASH],
                         pt_error *err) PT_MUST_USE;

/* The record_size_limit we announce: the TLS 1.3 maximum (RFC 8449 4). */
#define PT_RECORD_SIZE_LIMIT (PT_MAX_PLAINTEXT + 1)

#define PT_MAX_PEER_SIGALGS 32
#define PT_COOKIE_MAX 512

/* Handshake state that lives only until the connection is established. */
struct pt_hs {
    pt_transcript tr;
    uint8_t server_random[32];
    uint8_t session_id[32];
    size_t session_id_len;
    pt_kex *kex;
    uint16_t kex_group;
    uint16_t offered_groups[PT_MAX_GROUPS]; /* server: client's supported_groups */
    size_t offered_group_count;
    uint16_t peer_sigalgs[PT_MAX_PEER_SIGALGS];
    size_t peer_sigalg_count;
    uint8_t cookie[PT_COOKIE_MAX];
    size_t cookie_len;
    bool hrr;            /* a HelloRetryRequest was sent or received */
    bool cert_requested; /* a CertificateRequest is part of this handshake */
    bool client_sent_cert;
    bool sent_ccs;
    uint8_t handshake_secret[PT_MAX_HASH];
    uint8_t master_secret[PT_MAX_HASH];
    uint8_t client_hs_secret[PT_MAX_HASH];
    uint8_t server_hs_secret[PT_MAX_HASH];
    pt_peer_chain *chain; /* peer's chain until CertificateVerify */
    pt_buf cr_exts;       /* client: the CertificateRequest's extensions */
    struct pt_hs12 t12;   /* TLS 1.2 only */
    /* Resumption: the client offers one PSK (conn->session); the server
     * picks one of the client's identities. Once chosen, psk is the input
     * of the early secret (RFC 8446 7.1). */
    bool psk_offered;
    bool resumed;
    uint16_t psk_index;
    uint8_t psk[PT_MAX_HASH];
};

/* A server's post-handshake certificate request in flight. */
#define PT_PHA_CONTEXT_LEN 16
struct pt_pha {
    uint8_t context[PT_PHA_CONTEXT_LEN];
    pt_hash tr;
    pt_peer_chain *chain;
};

/* --- engine.c: sending and state --- */

/* Seals a handshake message and adds it to the transcript: the handshake's
 * while there is one, else `post` (a post-handshake round's), if given. */
petrel_status pt_send_handshake(petrel_conn *conn, const uint8_t *msg, size_t len,
                                pt_hash *post) PT_MUST_USE;
petrel_status pt_send_ccs(petrel_conn *conn) PT_MUST_USE;
petrel_status pt_flush_handshake(petrel_conn *conn) PT_MUST_USE;
void pt_set_state(petrel_conn *conn, pt_state st);
void pt_trace(petrel_conn *conn, const char *fmt, ...) PT_PRINTF(2, 3);
/* Starts a handshake message in a scratch buffer: type + open u24 length. */
void pt_msg_begin(pt_builder *b, pt_buf *buf, uint8_t type);
petrel_status pt_msg_end(petrel_conn *conn, pt_builder *b) PT_MUST_USE;

/* --- keysched.c --- */

petrel_status pt_ks_handshake(petrel_conn *conn, const uint8_t *ecdhe,
                              size_t ecdhe_len) PT_MUST_USE;
petrel_status pt_ks_application(petrel_conn *conn) PT_MUST_USE;
petrel_status pt_ks_resumption(petrel_conn *conn) PT_MUST_USE;
petrel_status pt_ks_install(petrel_conn *conn, const uint8_t *secret, bool write) PT_MUST_USE;
petrel_status pt_ks_update(petrel_conn *conn, bool write) PT_MUST_USE;
petrel_status pt_ks_finished(petrel_conn *conn, const uint8_t *base, const uint8_t *hash,
                             uint8_t out[PT_MAX_HASH]) PT_MUST_USE;
void pt_keylog(petrel_conn *conn, const char *label, const uint8_t *secret);
pt_aead_alg pt_suite_aead(uint16_t suite);
pt_hash_alg pt_suite_hash(uint16_t suite);

/* --- messages --- */

petrel_status pt_client_hello_send(petrel_conn *conn) PT_MUST_USE;
petrel_status pt_record_size_limit_recv(petrel_conn *conn, const pt_exts *x) PT_MUST_USE;
/* Whether a group is one we support and the security level allows. */
bool pt_group_allowed(const petrel_conn *conn, uint16_t group);
/* Client: takes the server's ALPN answer (RFC 7301 3.1) from extensions. */
petrel_status pt_ee_alpn(petrel_conn *conn, const pt_exts *x) PT_MUST_USE;
petrel_status pt_client_hello_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                   size_t raw_len) PT_MUST_USE;
petrel_status pt_server_hello_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                   size_t raw_len) PT_MUST_USE;
/* ServerHello through the server Finished; share is our key share, secret
 * the (EC)DHE result. */
petrel_status pt_server_flight_send(petrel_conn *conn, const uint8_t *share, size_t share_len,
                                    const uint8_t *secret, size_t secret_len) PT_MUST_USE;
petrel_status pt_hrr_send(petrel_conn *conn, uint16_t group) PT_MUST_USE;
petrel_status pt_ee_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                         size_t raw_len) PT_MUST_USE;
petrel_status pt_cert_request_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                   size_t raw_len) PT_MUST_USE;
petrel_status pt_certificate_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                  size_t raw_len) PT_MUST_USE;
petrel_status pt_cert_verify_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                  size_t raw_len) PT_MUST_USE;
petrel_status pt_finished_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                               size_t raw_len) PT_MUST_USE;
petrel_status pt_ticket_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                             size_t raw_len) PT_MUST_USE;
petrel_status pt_key_update_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                 size_t raw_len) PT_MUST_USE;
petrel_status pt_key_update_send(petrel_conn *conn, bool request_peer) PT_MUST_USE;

/* Certificate, CertificateVerify and Finished as sent by us, in the
 * handshake and after it (tr receives the messages). */
petrel_status pt_certificate_send(petrel_conn *conn, const uint8_t *context, size_t context_len,
                                  bool with_chain, pt_hash *post) PT_MUST_USE;
petrel_status pt_cert_verify_send(petrel_conn *conn, uint16_t sigalg, pt_hash *post) PT_MUST_USE;
/* Builds and sends a CertificateVerify carrying sig. */
petrel_status pt_cert_verify_msg_send(petrel_conn *conn, uint16_t sigalg, const uint8_t *sig,
                                      size_t sig_len, pt_hash *post) PT_MUST_USE;
petrel_status pt_cert_verify_content(petrel_conn *conn, bool from_server, const uint8_t *hash,
                                     uint8_t *out, size_t *out_len) PT_MUST_USE;
petrel_status pt_finished_send(petrel_conn *conn, const uint8_t *base, pt_hash *post) PT_MUST_USE;
/* The running hash of the handshake, or of a post-handshake round. */
petrel_status pt_current_hash(petrel_conn *conn, pt_hash *post,
                              uint8_t out[PT_MAX_HASH]) PT_MUST_USE;

/* Runs the context's client certificate callback; the connection refuses
 * input-processing calls until it returns. True: send a certificate. */
bool pt_ask_cert_cb(petrel_conn *conn, const petrel_cert_request *req);
/* Client: answers a CertificateRequest (in the handshake or after it). */
petrel_status pt_client_auth_answer(petrel_conn *conn, pt_span context, pt_span exts,
                                    bool post_handshake, pt_hash *ptr) PT_MUST_USE;
/* Parses and checks a peer's Certificate body into a chain; empty chains
 * give *out = NULL. */
petrel_status pt_certificate_parse(petrel_conn *conn, pt_span body, pt_span *context,
                                   pt_peer_chain **out) PT_MUST_USE;
petrel_status pt_verify_peer_chain(petrel_conn *conn, pt_peer_chain *chain) PT_MUST_USE;
/* Records the negotiated application protocol. */
petrel_status pt_set_alpn(petrel_conn *conn, pt_span name) PT_MUST_USE;
/* The signature algorithms we accept, as a list for our extensions. */
size_t pt_our_sigalgs(const petrel_conn *conn, uint16_t *out, size_t cap);
/* True when sigalg is one we offer (and so accept from the peer). */
bool pt_we_accept_sigalg(const petrel_conn *conn, uint16_t sigalg);
void pt_put_sigalgs_ext(petrel_conn *conn, pt_builder *b);
petrel_status pt_parse_sigalgs(pt_span body, uint16_t *out, size_t cap, size_t *count,
                               pt_error *err) PT_MUST_USE;

/* post_handshake.c: the server side of post-handshake authentication. */
petrel_status pt_pha_certificate_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                      size_t raw_len) PT_MUST_USE;
petrel_status pt_pha_cert_verify_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                      size_t raw_len) PT_MUST_USE;
petrel_status pt_pha_finished_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                   size_t raw_len) PT_MUST_USE;
petrel_status pt_pha_request_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                  size_t raw_len) PT_MUST_USE;
void pt_pha_free(petrel_conn *conn);
void pt_ticket_clear(pt_ticket *t);

/* --- psk.c: resumption in the handshake --- */

/* binder = HMAC(finished key of Derive-Secret(Early Secret, "res binder",
 * ""), hash) where hash covers the transcript through the truncated
 * ClientHello (RFC 8446 4.2.11.2). */
petrel_status pt_psk_binder(const pt_algs *algs, pt_hash_alg alg, const uint8_t *psk,
                            const uint8_t *hash, uint8_t out[PT_MAX_HASH],
                            pt_error *err) PT_MUST_USE;
/* Client: appends pre_shared_key (with a zero binder) when a session is to
 * be offered; it must be the last extension. */
petrel_status pt_psk_put_offer(petrel_conn *conn, pt_builder *b) PT_MUST_USE;
/* Client: writes the binder into the built ClientHello `msg`. */
petrel_status pt_psk_fill_binder(petrel_conn *conn, pt_buf *msg) PT_MUST_USE;
/* Client: takes the server's answer in ServerHello. */
petrel_status pt_psk_client_accept(petrel_conn *conn, const pt_exts *x) PT_MUST_USE;
/* Server: the checks every TLS 1.3 ClientHello gets (RFC 8446 4.2.9). */
petrel_status pt_psk_server_check(petrel_conn *conn, const pt_exts *x) PT_MUST_USE;
/* Server: picks a ticket the client offers and validates its binder
 * (the transcript hash has started, the ClientHello is not in it yet). */
petrel_status pt_psk_server_select(petrel_conn *conn, const pt_exts *x, const uint8_t *raw,
                                   size_t raw_len) PT_MUST_USE;
/* Hash of the transcript so far followed by extra bytes, with alg. */
petrel_status pt_tr_hash_with(const pt_transcript *tr, const pt_algs *algs, pt_hash_alg alg,
                              const uint8_t *extra, size_t extra_len, uint8_t out[PT_MAX_HASH],
                              pt_error *err) PT_MUST_USE;

/* --- ticket.c: the server's tickets --- */

/* What a server ticket holds, as opened. Spans point into the opened
 * plaintext; chain is owned by the caller once returned. */
typedef struct pt_ticket_state {
    uint16_t suite;
    uint8_t psk[PT_MAX_HASH];
    size_t psk_len;
    uint32_t age_add;
    uint64_t issued_ms;
    uint32_t lifetime;
    pt_span alpn;
    pt_span sni;
    bool client_auth;
    long verify_result;
    pt_peer_chain *chain;
} pt_ticket_state;

/* Sends the context's num_tickets NewSessionTickets (server, TLS 1.3). */
petrel_status pt_tickets_send(petrel_conn *conn) PT_MUST_USE;
/* Opens a ticket sealed by this context. False (and nothing to free) when
 * it is foreign, altered or malformed; plain receives the plaintext. */
bool pt_ticket_open(petrel_conn *conn, pt_span ticket, pt_buf *plain, pt_ticket_state *out);

/* dispatch.c */
petrel_status pt_dispatch(petrel_conn *conn, uint8_t type, pt_span body, const uint8_t *raw,
                          size_t raw_len) PT_MUST_USE;
/* True when (role, state, type) has a row: for the Appendix A test. */
bool pt_dispatch_accepts(petrel_role role, int state, uint8_t type);

#endif
