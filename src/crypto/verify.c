/*
 * verify.c - the peer's certificate chain: parsing, path validation with
 * X509_verify_cert, and checking the handshake signature its key made.
 *
 * Verification failures read like Python's ssl module ("certificate verify
 * failed: ...") and carry the alert RFC 8446 6.2 names for the cause.
 */
#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "crypto/ossl.h"

static pt_peer_chain *chain_alloc(size_t count)
{
    pt_peer_chain *chain = pt_calloc(1, sizeof(*chain));
    if (chain == NULL) {
        return NULL;
    }
    chain->certs = pt_calloc(count, sizeof(*chain->certs));
    chain->der = pt_calloc(count, sizeof(*chain->der));
    chain->der_len = pt_calloc(count, sizeof(*chain->der_len));
    if (chain->certs == NULL || chain->der == NULL || chain->der_len == NULL) {
        pt_peer_chain_free(chain);
        return NULL;
    }
    return chain;
}

/* Parses one certificate into slot i. */
static petrel_status chain_add(pt_peer_chain *chain, size_t i, const uint8_t *der, size_t len,
                               pt_error *err)
{
    /* Each CertificateEntry holds exactly one DER certificate
     * (RFC 8446 4.4.2), so trailing bytes are refused too. */
    X509 *x = pt_cert_cache_parse(der, len);
    if (x == NULL) {
        return pt_ossl_fail(err, PETREL_ERR_PROTOCOL, PETREL_ALERT_BAD_CERTIFICATE,
                            "certificate %zu of the peer's chain does not parse", i);
    }
    chain->der[i] = pt_malloc(len);
    if (chain->der[i] == NULL) {
        X509_free(x);
        return pt_fail(err, PETREL_ERR_NO_MEMORY, -1, "out of memory for a certificate chain");
    }
    memcpy(chain->der[i], der, len);
    chain->der_len[i] = len;
    chain->certs[i] = x;
    chain->count = i + 1;
    return PETREL_OK;
}

petrel_status pt_peer_chain_parse(const uint8_t *const *ders, const size_t *lens, size_t count,
                                  pt_peer_chain **out, pt_error *err)
{
    if (count == 0) {
        return pt_fault(err, PETREL_ALERT_DECODE_ERROR, "the peer's certificate chain is empty");
    }
    pt_peer_chain *chain = chain_alloc(count);
    if (chain == NULL) {
        return pt_fail(err, PETREL_ERR_NO_MEMORY, -1, "out of memory for a certificate chain");
    }
    for (size_t i = 0; i < count; i++) {
        petrel_status st = chain_add(chain, i, ders[i], lens[i], err);
        if (st != PETREL_OK) {
            pt_peer_chain_free(chain);
            return st;
        }
    }
    ERR_clear_error();
    *out = chain;
    return PETREL_OK;
}

void pt_peer_chain_free(pt_peer_chain *chain)
{
    if (chain == NULL) {
        return;
    }
    for (size_t i = 0; i < chain->count; i++) {
        X509_free(chain->certs[i]);
        pt_free(chain->der[i]);
    }
    pt_free(chain->certs);
    pt_free(chain->der);
    pt_free(chain->der_len);
    pt_certinfo_clear(chain);
    pt_free(chain);
}

size_t pt_peer_chain_len(const pt_peer_chain *chain)
{
    return chain->count;
}

size_t pt_peer_chain_verified_len(const pt_peer_chain *chain)
{
    return chain->verified_len;
}

/* --- Path validation ------------------------------------------------------ */

/* The verify flags we pass on; their values equal X509_V_FLAG_*. */
#define PT_VERIFY_FLAG_MASK                                                                        \
    (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL | X509_V_FLAG_X509_STRICT |                 \
     X509_V_FLAG_ALLOW_PROXY_CERTS | X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN)

_Static_assert(PETREL_VERIFY_CRL_CHECK_LEAF == X509_V_FLAG_CRL_CHECK, "flag values");
_Static_assert(PETREL_VERIFY_CRL_CHECK_CHAIN == (X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL),
               "flag values");
_Static_assert(PETREL_VERIFY_X509_STRICT == X509_V_FLAG_X509_STRICT, "flag values");
_Static_assert(PETREL_VERIFY_ALLOW_PROXY_CERTS == X509_V_FLAG_ALLOW_PROXY_CERTS, "flag values");
_Static_assert(PETREL_VERIFY_X509_TRUSTED_FIRST == X509_V_FLAG_TRUSTED_FIRST, "flag values");
_Static_assert(PETREL_VERIFY_X509_PARTIAL_CHAIN == X509_V_FLAG_PARTIAL_CHAIN, "flag values");

static bool is_ip_literal(const char *name)
{
    uint8_t addr[16];
    return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}

static bool set_params(X509_STORE_CTX *ctx, const pt_verify_params *params)
{
    if (X509_STORE_CTX_set_default(ctx, params->peer_is_server ? "ssl_server" : "ssl_client") !=
        1) {
        return false;
    }
    X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_flags(vp, params->flags & PT_VERIFY_FLAG_MASK);
    X509_VERIFY_PARAM_set_auth_level(vp, params->security_level);
    if (params->hostname == NULL) {
        return true;
    }
    if (is_ip_literal(params->hostname)) {
        return X509_VERIFY_PARAM_set1_ip_asc(vp, params->hostname) == 1;
    }
    /* With the subject consulted, OpenSSL matches the CN only when the
     * certificate has no DNS subjectAltName (RFC 6125 6.4.4). */
    unsigned int hostflags = X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS;
    if (!params->hostname_checks_cn) {
        hostflags |= X509_CHECK_FLAG_NEVER_CHECK_SUBJECT;
    }
    X509_VERIFY_PARAM_set_hostflags(vp, hostflags);
    return X509_VERIFY_PARAM_set1_host(vp, params->hostname, 0) == 1;
}

/* RFC 8446 6.2: the alert that best names a verification failure. */
static int verify_alert(int code)
{
    switch (code) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return PETREL_ALERT_CERTIFICATE_EXPIRED;
    case X509_V_ERR_CERT_REVOKED:
        return PETREL_ALERT_CERTIFICATE_REVOKED;
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
    case X509_V_ERR_CERT_REJECTED:
        return PETREL_ALERT_UNKNOWN_CA;
    /* Revocation status could not be established: the certificate itself
     * may be fine, so this is "some other issue" rather than bad_certificate. */
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
        return PETREL_ALERT_CERTIFICATE_UNKNOWN;
    case X509_V_ERR_INVALID_PURPOSE:
        return PETREL_ALERT_UNSUPPORTED_CERTIFICATE;
    default:
        return PETREL_ALERT_BAD_CERTIFICATE;
    }
}

/* A detail for the sentence, after the reason, or "". */
static void verify_detail(X509_STORE_CTX *ctx, int code, const pt_verify_params *params, char *out,
                          size_t cap)
{
    const X509 *cert = X509_STORE_CTX_get_current_cert(ctx);
    char when[40];
    out[0] = '\0';
    switch (code) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
        if (cert != NULL && pt_asn1_time_text(X509_get0_notAfter(cert), when, sizeof(when))) {
            snprintf(out, cap, " (notAfter %s)", when);
        }
        break;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        if (cert != NULL && pt_asn1_time_text(X509_get0_notBefore(cert), when, sizeof(when))) {
            snprintf(out, cap, " (notBefore %s)", when);
        }
        break;
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL: {
        EVP_PKEY *key = cert != NULL ? X509_get0_pubkey(cert) : NULL;
        snprintf(out, cap, " (key too small: %d bits at security level %d)",
                 key != NULL ? EVP_PKEY_get_bits(key) : 0, params->security_level);
        break;
    }
    case X509_V_ERR_CA_MD_TOO_WEAK:
        snprintf(out, cap, " (signature digest too weak for security level %d)",
                 params->security_level);
        break;
    default:
        break;
    }
}

static petrel_status verify_failed(X509_STORE_CTX *ctx, const pt_verify_params *params,
                                   pt_error *err)
{
    int code = X509_STORE_CTX_get_error(ctx);
    if (code == X509_V_OK) {
        return pt_ossl_internal(err, "X509_verify_cert");
    }
    ERR_clear_error();
    int alert = verify_alert(code);
    if (code == X509_V_ERR_HOSTNAME_MISMATCH) {
        pt_fail(err, PETREL_ERR_CERT_VERIFY, alert,
                "certificate verify failed: Hostname mismatch, certificate is not valid for "
                "'%s'.",
                params->hostname);
    } else if (code == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        pt_fail(err, PETREL_ERR_CERT_VERIFY, alert,
                "certificate verify failed: IP address mismatch, certificate is not valid for "
                "'%s'.",
                params->hostname);
    } else {
        char detail[96];
        verify_detail(ctx, code, params, detail, sizeof(detail));
        pt_fail(err, PETREL_ERR_CERT_VERIFY, alert, "certificate verify failed: %s%s",
                X509_verify_cert_error_string(code), detail);
    }
    if (err != NULL) {
        err->pub.verify_code = code;
    }
    return PETREL_ERR_CERT_VERIFY;
}

static STACK_OF(X509) * untrusted_stack(const pt_peer_chain *chain)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    for (size_t i = 1; sk != NULL && i < chain->count; i++) {
        if (sk_X509_push(sk, chain->certs[i]) <= 0) {
            sk_X509_free(sk);
            return NULL;
        }
    }
    return sk;
}

petrel_status pt_peer_chain_verify(pt_peer_chain *chain, const pt_store *store,
                                   const pt_verify_params *params, pt_error *err)
{
    chain->verified_len = 0;
    STACK_OF(X509) *untrusted = untrusted_stack(chain);
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    petrel_status st = PETREL_OK;
    if (untrusted == NULL || ctx == NULL ||
        X509_STORE_CTX_init(ctx, pt_store_x509(store), chain->certs[0], untrusted) != 1) {
        st = pt_ossl_internal(err, "X509_STORE_CTX_init");
    } else if (!set_params(ctx, params)) {
        st = pt_ossl_fail(err, PETREL_ERR_INTERNAL, -1, "cannot set verification parameters");
    } else if (X509_verify_cert(ctx) != 1) {
        st = verify_failed(ctx, params, err);
    } else {
        chain->verified_len = (size_t)sk_X509_num(X509_STORE_CTX_get0_chain(ctx));
    }
    X509_STORE_CTX_free(ctx);
    sk_X509_free(untrusted);
    return st;
}

/* --- Signatures made by the peer's key ------------------------------------ */

petrel_status pt_peer_check_sigalg(const pt_peer_chain *chain, uint16_t sigalg, bool tls13,
                                   int security_level, pt_error *err)
{
    EVP_PKEY *key = X509_get0_pubkey(chain->certs[0]);
    const pt_sigalg_info *info = pt_sigalg_lookup(sigalg);
    const char *why = "the algorithm is not supported";
    if (key == NULL || info == NULL || !pt_sigalg_fits_key(info, key, tls13, &why)) {
        ERR_clear_error();
        return pt_fault(err, PETREL_ALERT_ILLEGAL_PARAMETER,
                        "the peer's signature algorithm 0x%04x does not fit its certificate: %s",
                        sigalg, key == NULL ? "the key cannot be read" : why);
    }
    int need = pt_security_level_bits(security_level);
    int key_bits = EVP_PKEY_get_security_bits(key);
    if (key_bits < need) {
        return pt_fault(err, PETREL_ALERT_INSUFFICIENT_SECURITY,
                        "the peer's %d-bit key gives %d bits of security, security level %d "
                        "needs %d",
                        EVP_PKEY_get_bits(key), key_bits, security_level, need);
    }
    if (pt_sigalg_security_bits(info) < need) {
        return pt_fault(err, PETREL_ALERT_INSUFFICIENT_SECURITY,
                        "the peer's signature algorithm 0x%04x is too weak for security "
                        "level %d",
                        sigalg, security_level);
    }
    return PETREL_OK;
}

petrel_status pt_peer_verify_signature(const pt_peer_chain *chain, const pt_algs *algs,
                                       uint16_t sigalg, const uint8_t *msg, size_t msg_len,
                                       const uint8_t *sig, size_t sig_len, int security_level,
                                       pt_error *err)
{
    PT_TRY(pt_peer_check_sigalg(chain, sigalg, false, security_level, err));
    const pt_sigalg_info *info = pt_sigalg_lookup(sigalg);
    const EVP_MD *md = pt_algs_md_bits(algs, info->hash_bits);
    EVP_PKEY *key = X509_get0_pubkey(chain->certs[0]);
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    if (mctx == NULL || EVP_DigestVerifyInit(mctx, &pctx, md, NULL, key) != 1) {
        EVP_MD_CTX_free(mctx);
        return pt_ossl_internal(err, "EVP_DigestVerifyInit");
    }
    petrel_status st = info->pss ? pt_sigalg_setup_pss(pctx, err) : PETREL_OK;
    if (st == PETREL_OK && EVP_DigestVerify(mctx, sig, sig_len, msg, msg_len) != 1) {
        /* RFC 8446 4.4.3: a signature that does not verify is decrypt_error. */
        ERR_clear_error();
        st = pt_fault(err, PETREL_ALERT_DECRYPT_ERROR,
                      "the peer's signature (algorithm 0x%04x) does not verify", sigalg);
    }
    EVP_MD_CTX_free(mctx);
    return st;
}
