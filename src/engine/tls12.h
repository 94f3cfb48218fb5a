/*
 * tls12.h - the TLS 1.2 side of the engine (RFC 5246 with RFC 8422 ECDHE,
 * RFC 5288 AES-GCM, RFC 7905 ChaCha20-Poly1305, RFC 7627 extended master
 * secret, RFC 5746 renegotiation_info), and version negotiation.
 *
 * TLS 1.2 shares the engine's record intake, transcript (kept as raw bytes:
 * CertificateVerify signs the messages themselves), state table and error
 * handling with TLS 1.3. Only full handshakes with ECDHE and AEAD suites
 * are spoken; renegotiation is declined with a no_renegotiation warning.
 *
 *   client: ClientHello -> WAIT_SH -> C12_WAIT_CERT -> C12_WAIT_SKE ->
 *           C12_WAIT_CR_DONE [-> C12_WAIT_DONE] -> (Certificate*,
 *           ClientKeyExchange, CertificateVerify*, CCS, Finished) ->
 *           C12_WAIT_CCS -> C12_WAIT_FINISHED -> CONNECTED12
 *   server: WAIT_CH -> (ServerHello, Certificate, ServerKeyExchange,
 *           CertificateRequest*, ServerHelloDone) -> [S12_WAIT_CERT ->]
 *           S12_WAIT_CKE [-> S12_WAIT_CV] -> S12_WAIT_CCS ->
 *           S12_WAIT_FINISHED -> (CCS, Finished) -> CONNECTED12
 */
#ifndef PT_ENGINE_TLS12_H
#define PT_ENGINE_TLS12_H

#include "engine/engine.h"

struct pt_exts;

/* Handshake state of a TLS 1.2 handshake, part of struct pt_hs. */
struct pt_hs12 {
    bool ems;                   /* extended master secret in use (RFC 7627) */
    bool secure_reneg;          /* the peer signalled RFC 5746 support */
    bool point_formats;         /* server: the client sent ec_point_formats */
    bool cert_type_rsa;         /* client: the CertificateRequest allows rsa_sign */
    bool cert_type_ecdsa;       /* client: ... and ecdsa_sign */
    uint8_t pms[PT_MAX_SECRET]; /* ECDHE premaster secret until the master exists */
    size_t pms_len;
    uint8_t share[PT_MAX_SHARE]; /* client: our public value for ClientKeyExchange */
    size_t share_len;
    /* Both directions' keys and IVs (RFC 5246 6.3), derived for the first
     * direction installed and wiped once the second is. */
    uint8_t key_block[2 * PT_MAX_KEY + 2 * PT_AEAD_NONCE];
    int key_block_uses;
};

/* --- version.c ---------------------------------------------------------- */

/* Whether the context's bounds include TLS 1.3 / TLS 1.2. */
bool pt_offers_tls13(const petrel_conn *conn);
bool pt_offers_tls12(const petrel_conn *conn);
/* Client: supported_versions listing 1.3 and 1.2 within the bounds (left
 * out when the client speaks TLS 1.2 only). */
void pt_put_versions_ext(const petrel_conn *conn, pt_builder *b);
/* Server: picks conn->version from a ClientHello, or fails with
 * protocol_version naming both sides' ranges. */
petrel_status pt_version_choose(petrel_conn *conn, uint16_t legacy_version, const struct pt_exts *x,
                                pt_span suites) PT_MUST_USE;
/* Client: true when a ServerHello body selects TLS 1.2 or older (it has no
 * supported_versions and is not a HelloRetryRequest). */
bool pt_server_hello_is_legacy(pt_span body);
/* RFC 8446 4.1.3: the downgrade sentinel in ServerHello.random. */
void pt_downgrade_mark(const petrel_conn *conn, uint8_t random[32]);
petrel_status pt_downgrade_check(petrel_conn *conn, const uint8_t random[32]) PT_MUST_USE;

/* --- tls12_keys.c -------------------------------------------------------- */

/* Starts the running hash once the suite is known. */
petrel_status pt_tls12_transcript_start(petrel_conn *conn) PT_MUST_USE;
petrel_status pt_tls12_transcript_hash(petrel_conn *conn, uint8_t out[PT_MAX_HASH]) PT_MUST_USE;
/* Derives the master secret from hs->t12.pms (and wipes it); with EMS the
 * transcript must end with ClientKeyExchange. */
petrel_status pt_tls12_master_secret(petrel_conn *conn) PT_MUST_USE;
/* Installs one direction's key and IV from the key block. */
petrel_status pt_tls12_install_keys(petrel_conn *conn, bool write) PT_MUST_USE;
petrel_status pt_tls12_finished_send(petrel_conn *conn) PT_MUST_USE;
petrel_status pt_tls12_finished_check(petrel_conn *conn, pt_span body) PT_MUST_USE;

/* --- tls12_common.c ------------------------------------------------------ */

petrel_status pt_tls12_certificate_send(petrel_conn *conn, bool with_chain) PT_MUST_USE;
petrel_status pt_tls12_certificate_parse(petrel_conn *conn, pt_span body,
                                         pt_peer_chain **out) PT_MUST_USE;
petrel_status pt_tls12_cert_verify_send(petrel_conn *conn, uint16_t sigalg) PT_MUST_USE;
/* RFC 5246 7.1: the peer's ChangeCipherSpec switches our read key. */
petrel_status pt_tls12_ccs_recv(petrel_conn *conn, const pt_record *rec) PT_MUST_USE;
/* Ends the handshake: keeps the peer chain, frees the handshake state. */
petrel_status pt_tls12_finish(petrel_conn *conn) PT_MUST_USE;
/* Sends a no_renegotiation warning and carries on (RFC 5246 7.2.2). */
petrel_status pt_tls12_refuse_renegotiation(petrel_conn *conn, const char *what) PT_MUST_USE;
/* Whether a signature algorithm fits an ECDHE_ECDSA (else ECDHE_RSA) suite. */
bool pt_tls12_sigalg_is_ec(uint16_t sigalg);
bool pt_tls12_suite_is_ecdsa(uint16_t suite);
/* The record_size_limit rule of TLS 1.2 (RFC 8449 4). */
petrel_status pt_tls12_ems_recv(petrel_conn *conn, const struct pt_exts *x) PT_MUST_USE;
petrel_status pt_tls12_point_formats_recv(petrel_conn *conn, const struct pt_exts *x) PT_MUST_USE;
petrel_status pt_tls12_record_size_limit(petrel_conn *conn, const struct pt_exts *x) PT_MUST_USE;

/* --- tls12_client.c ------------------------------------------------------ */

void pt_tls12_put_client_exts(petrel_conn *conn, pt_builder *b);
petrel_status pt_tls12_server_hello_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                         size_t raw_len) PT_MUST_USE;
petrel_status pt_tls12_server_cert_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                        size_t raw_len) PT_MUST_USE;
petrel_status pt_tls12_server_key_exchange_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                                size_t raw_len) PT_MUST_USE;
petrel_status pt_tls12_cert_request_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                         size_t raw_len) PT_MUST_USE;
petrel_status pt_tls12_server_hello_done_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                              size_t raw_len) PT_MUST_USE;
petrel_status pt_tls12_server_finished_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                            size_t raw_len) PT_MUST_USE;
petrel_status pt_tls12_hello_request_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                          size_t raw_len) PT_MUST_USE;

/* --- tls12_server.c ------------------------------------------------------ */

petrel_status pt_tls12_client_hello_recv(petrel_conn *conn, pt_span suites, pt_span comp,
                                         const struct pt_exts *x, const uint8_t *raw,
                                         size_t raw_len) PT_MUST_USE;
petrel_status pt_tls12_client_cert_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                        size_t raw_len) PT_MUST_USE;
petrel_status pt_tls12_client_key_exchange_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                                size_t raw_len) PT_MUST_USE;
petrel_status pt_tls12_cert_verify_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                        size_t raw_len) PT_MUST_USE;
petrel_status pt_tls12_client_finished_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                            size_t raw_len) PT_MUST_USE;
petrel_status pt_tls12_renegotiation_recv(petrel_conn *conn, pt_span body, const uint8_t *raw,
                                          size_t raw_len) PT_MUST_USE;

#endif
