/*
 * certinfo.c - a readable description of the peer's leaf certificate.
 */
#include <arpa/inet.h>
#include <string.h>
#include <time.h>

#include <openssl/x509v3.h>

#include "crypto/ossl.h"

bool pt_asn1_time_text(const ASN1_TIME *t, char *out, size_t cap)
{
    struct tm tm;
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        return false;
    }
    return strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm) > 0;
}

static bool asn1_time_epoch(const ASN1_TIME *t, int64_t *out)
{
    struct tm tm;
    if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1) {
        return false;
    }
    *out = (int64_t)timegm(&tm);
    return true;
}

/* A name in the one-line RFC 2253 form. */
static char *name_text(const X509_NAME *name)
{
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL || X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253) < 0) {
        BIO_free(bio);
        return NULL;
    }
    char *data = NULL;
    long len = BIO_get_mem_data(bio, &data);
    char *text = pt_malloc((size_t)len + 1);
    if (text != NULL) {
        memcpy(text, data, (size_t)len);
        text[len] = '\0';
    }
    BIO_free(bio);
    return text;
}

static char *dns_text(const ASN1_IA5STRING *s)
{
    int len = ASN1_STRING_length(s);
    const unsigned char *data = ASN1_STRING_get0_data(s);
    /* A name with an embedded NUL would read as a different name. */
    if (len < 0 || memchr(data, 0, (size_t)len) != NULL) {
        return NULL;
    }
    char *text = pt_malloc((size_t)len + 1);
    if (text != NULL) {
        memcpy(text, data, (size_t)len);
        text[len] = '\0';
    }
    return text;
}

static char *ip_text(const ASN1_OCTET_STRING *s)
{
    char buf[INET6_ADDRSTRLEN];
    int len = ASN1_STRING_length(s);
    const unsigned char *data = ASN1_STRING_get0_data(s);
    int family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
    if (family == 0 || inet_ntop(family, data, buf, sizeof(buf)) == NULL) {
        return NULL;
    }
    return pt_strdup(buf);
}

static bool push_text(char ***list, size_t *count, char *text)
{
    if (text == NULL) {
        return true; /* unreadable entries are left out */
    }
    char **grown = pt_realloc(*list, (*count + 1) * sizeof(*grown));
    if (grown == NULL) {
        pt_free(text);
        return false;
    }
    grown[(*count)++] = text;
    *list = grown;
    return true;
}

static bool collect_sans(pt_certinfo_cache *info, const X509 *cert)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    bool ok = true;
    for (int i = 0; ok && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
        if (gn->type == GEN_DNS) {
            ok = push_text(&info->dns, &info->dns_count, dns_text(gn->d.dNSName));
        } else if (gn->type == GEN_IPADD) {
            ok = push_text(&info->ips, &info->ip_count, ip_text(gn->d.iPAddress));
        }
    }
    GENERAL_NAMES_free(names);
    return ok;
}

static void free_list(char **list, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        pt_free(list[i]);
    }
    pt_free(list);
}

void pt_certinfo_clear(pt_peer_chain *chain)
{
    pt_certinfo_cache *info = &chain->info;
    pt_free(info->subject);
    pt_free(info->issuer);
    free_list(info->dns, info->dns_count);
    free_list(info->ips, info->ip_count);
    memset(info, 0, sizeof(*info));
}

static petrel_status build_info(pt_peer_chain *chain, pt_error *err)
{
    pt_certinfo_cache *info = &chain->info;
    const X509 *leaf = chain->certs[0];
    info->subject = name_text(X509_get_subject_name(leaf));
    info->issuer = name_text(X509_get_issuer_name(leaf));
    if (info->subject == NULL || info->issuer == NULL || !collect_sans(info, leaf)) {
        pt_certinfo_clear(chain);
        return pt_ossl_fail(err, PETREL_ERR_NO_MEMORY, -1,
                            "out of memory describing the peer's certificate");
    }
    info->built = true;
    return PETREL_OK;
}

petrel_status pt_peer_chain_info(pt_peer_chain *chain, petrel_cert_info *out, pt_error *err)
{
    if (!chain->info.built) {
        PT_TRY(build_info(chain, err));
    }
    const X509 *leaf = chain->certs[0];
    const pt_certinfo_cache *info = &chain->info;
    memset(out, 0, sizeof(*out));
    out->subject = info->subject;
    out->issuer = info->issuer;
    out->dns_names = (const char *const *)info->dns;
    out->dns_name_count = info->dns_count;
    out->ip_addresses = (const char *const *)info->ips;
    out->ip_address_count = info->ip_count;
    if (!asn1_time_epoch(X509_get0_notBefore(leaf), &out->not_before) ||
        !asn1_time_epoch(X509_get0_notAfter(leaf), &out->not_after)) {
        return pt_ossl_fail(err, PETREL_ERR_INTERNAL, -1,
                            "the peer's certificate has unreadable validity dates");
    }
    out->der = chain->der[0];
    out->der_len = chain->der_len[0];
    return PETREL_OK;
}
