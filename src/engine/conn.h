/*
 * conn.h - the connection object.
 *
 * The engine owns every field. The public getters in src/api read the
 * "negotiated" and "peer" groups; the socket layer in src/io moves bytes
 * through `in` and `out` and calls the engine entry points of engine.h.
 */
#ifndef PT_CONN_H
#define PT_CONN_H

#include "api/ctx.h"
#include "codec/codec.h"
#include "crypto/crypto.h"
#include "record/record.h"

struct pt_hs; /* handshake in progress, engine-private */

/* A session ticket kept for resumption (RFC 8446 4.6.1). */
#define PT_MAX_TICKETS 4
/* A client offers tickets of at most this size, so that its ClientHello
 * stays well inside any server's handshake message limit; a server issues
 * none larger than half of it. */
#define PT_TICKET_OFFER_MAX ((size_t)32 * 1024)
/* A NewSessionTicket is read whole even when it is larger than the handshake
 * message limit (RFC 8446 4.6.1: a ticket up to 2^16-1 bytes, its
 * extensions as many): a ticket too large to offer is dropped, the
 * connection goes on. */
#define PT_MAX_NEW_SESSION_TICKET (4 + 4 + 1 + 255 + 2 + 65535 + 2 + 65535)
typedef struct pt_ticket {
    uint8_t *ticket; /* NULL when the slot is free */
    size_t len;
    uint8_t psk[PT_MAX_HASH]; /* HKDF-Expand-Label(res master, "resumption", nonce) */
    uint32_t lifetime;
    uint32_t age_add;
    uint16_t suite;
    uint64_t received_ms; /* when it arrived, on the session clock */
} pt_ticket;
struct pt_pha; /* post-handshake authentication round, engine-private */

struct petrel_conn {
    petrel_ctx *ctx;
    petrel_role role;
    pt_error err;
    bool failed;    /* a fatal error happened: err is sticky */
    char *hostname; /* server_hostname (client) or received SNI (server) */
    void *userdata;
    petrel_trace_cb trace_cb;
    void *trace_userdata;
    int fd; /* -1 in sans-I/O use */

    pt_buf in;  /* received bytes not yet opened as records */
    pt_buf out; /* protected bytes waiting to be sent */
    pt_buf app; /* decrypted application data not yet read */
    /* During a read with conn->app empty, application data goes straight
     * from the decrypted record into the caller's buffer. */
    uint8_t *deliver_to;
    size_t deliver_cap;
    size_t delivered;
    pt_buf hsmsg; /* handshake bytes being reassembled into messages */
    pt_buf hsout; /* handshake messages of the current flight, not yet sealed */
    bool transport_eof;
    bool close_received;
    bool close_sent;
    /* The application's client certificate callback is running: calls that
     * process input are refused until it returns. */
    bool in_callback;
    /* Server: bytes of the client's 0-RTT data still to be skipped (RFC
     * 8446 4.2.10); 0 when none was offered or it has ended. */
    size_t early_skip;

    pt_record_layer rl;
    int state;        /* pt_state, see engine/internal.h */
    struct pt_hs *hs; /* NULL once the handshake is done */
    bool handshake_done;

    /* negotiated */
    int version;
    uint16_t suite;
    uint16_t group;
    uint16_t sigalg;      /* the algorithm we signed with */
    uint16_t peer_sigalg; /* the algorithm the peer signed with */
    char *alpn;
    size_t tickets;                 /* received and kept so far */
    pt_ticket kept[PT_MAX_TICKETS]; /* the newest, oldest overwritten */
    petrel_session *session;        /* client: the session to offer */
    petrel_session *latest;         /* client: made from the newest ticket */
    size_t latest_tickets;          /* conn->tickets when `latest` was made */
    bool resumed;                   /* the handshake resumed a session */
    uint64_t tickets_sent;          /* server: names each ticket's nonce */
    bool client_psk_dhe;            /* server: the client can resume with psk_dhe_ke */

    /* peer */
    pt_peer_chain *peer;
    long verify_result;

    /* TLS 1.3 after the handshake */
    pt_hash_alg hash;
    uint8_t client_app_secret[PT_MAX_HASH];
    uint8_t server_app_secret[PT_MAX_HASH];
    uint8_t resumption_secret[PT_MAX_HASH];
    bool pha_offered;          /* client sent / server received post_handshake_auth */
    pt_hash pha_transcript;    /* transcript through client Finished, for PHA */
    struct pt_pha *pha;        /* round in progress (server) */
    uint64_t pha_counter;      /* for unique request contexts */
    bool key_update_pending;   /* we owe the peer a KeyUpdate */
    uint8_t client_random[32]; /* names the connection in the key log */
    bool ccs_seen;
    bool record_size_limit_seen; /* the peer sent record_size_limit */
    uint32_t rd_epoch;           /* bumped on every read-key change */
    uint32_t key_updates_in_row; /* received without application data between */
    uint32_t empty_records_in_row;
    uint32_t warning_alerts_in_row;
};

#endif
