/*
 * names.c - the tables of names for cipher suites, groups, signature schemes
 * and versions, in both directions.
 *
 * Names are the IANA registry's (TLS Cipher Suites, TLS Supported Groups,
 * TLS SignatureScheme); OpenSSL's spellings are accepted as input aliases so
 * that command lines written for openssl work here too.
 */
#include "api/names.h"

#include <string.h>
#include <strings.h>

#include "crypto/crypto.h"
#include "internal/common.h"

typedef struct name_entry {
    uint16_t code;
    const char *name;
} name_entry;

static const name_entry suite_names[] = {
    {PT_TLS_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256"},
    {PT_TLS_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384"},
    {PT_TLS_CHACHA20_POLY1305_SHA256, "TLS_CHACHA20_POLY1305_SHA256"},
    {PT_ECDHE_ECDSA_AES128_GCM_SHA256, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
    {PT_ECDHE_ECDSA_AES256_GCM_SHA384, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
    {PT_ECDHE_RSA_AES128_GCM_SHA256, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
    {PT_ECDHE_RSA_AES256_GCM_SHA384, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
    {PT_ECDHE_RSA_CHACHA20_POLY1305, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {PT_ECDHE_ECDSA_CHACHA20_POLY1305, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
};

/* OpenSSL's names of the same TLS 1.2 suites, accepted as input only. */
static const name_entry suite_aliases[] = {
    {PT_ECDHE_ECDSA_AES128_GCM_SHA256, "ECDHE-ECDSA-AES128-GCM-SHA256"},
    {PT_ECDHE_ECDSA_AES256_GCM_SHA384, "ECDHE-ECDSA-AES256-GCM-SHA384"},
    {PT_ECDHE_RSA_AES128_GCM_SHA256, "ECDHE-RSA-AES128-GCM-SHA256"},
    {PT_ECDHE_RSA_AES256_GCM_SHA384, "ECDHE-RSA-AES256-GCM-SHA384"},
    {PT_ECDHE_RSA_CHACHA20_POLY1305, "ECDHE-RSA-CHACHA20-POLY1305"},
    {PT_ECDHE_ECDSA_CHACHA20_POLY1305, "ECDHE-ECDSA-CHACHA20-POLY1305"},
};

/* Groups the library implements come first; the others are named only so
 * that traces of a peer's offer read well. */
static const name_entry group_names[] = {
    {PT_GROUP_X25519, "x25519"},
    {PT_GROUP_SECP256R1, "secp256r1"},
    {PT_GROUP_SECP384R1, "secp384r1"},
};
static const name_entry group_aliases[] = {
    {PT_GROUP_SECP256R1, "P-256"},
    {PT_GROUP_SECP256R1, "prime256v1"},
    {PT_GROUP_SECP384R1, "P-384"},
};
static const name_entry other_group_names[] = {
    {0x0019, "secp521r1"},
    {0x001e, "x448"},
    {0x0100, "ffdhe2048"},
    {0x0101, "ffdhe3072"},
};

static const name_entry sigalg_names[] = {
    {PT_SIG_RSA_PKCS1_SHA256, "rsa_pkcs1_sha256"},
    {PT_SIG_RSA_PKCS1_SHA384, "rsa_pkcs1_sha384"},
    {PT_SIG_RSA_PKCS1_SHA512, "rsa_pkcs1_sha512"},
    {PT_SIG_ECDSA_SECP256R1_SHA256, "ecdsa_secp256r1_sha256"},
    {PT_SIG_ECDSA_SECP384R1_SHA384, "ecdsa_secp384r1_sha384"},
    {PT_SIG_ECDSA_SECP521R1_SHA512, "ecdsa_secp521r1_sha512"},
    {PT_SIG_RSA_PSS_RSAE_SHA256, "rsa_pss_rsae_sha256"},
    {PT_SIG_RSA_PSS_RSAE_SHA384, "rsa_pss_rsae_sha384"},
    {PT_SIG_RSA_PSS_RSAE_SHA512, "rsa_pss_rsae_sha512"},
    {PT_SIG_ED25519, "ed25519"},
    {0x0808, "ed448"},
    {PT_SIG_RSA_PSS_PSS_SHA256, "rsa_pss_pss_sha256"},
    {PT_SIG_RSA_PSS_PSS_SHA384, "rsa_pss_pss_sha384"},
    {PT_SIG_RSA_PSS_PSS_SHA512, "rsa_pss_pss_sha512"},
    {0x0201, "rsa_pkcs1_sha1"},
    {0x0203, "ecdsa_sha1"},
};

static const name_entry version_names[] = {
    {0x0300, "SSLv3"},          {0x0301, "TLSv1"},          {0x0302, "TLSv1.1"},
    {PETREL_TLS1_2, "TLSv1.2"}, {PETREL_TLS1_3, "TLSv1.3"},
};

static const char *find_name(const name_entry *table, size_t count, uint16_t code)
{
    for (size_t i = 0; i < count; i++) {
        if (table[i].code == code) {
            return table[i].name;
        }
    }
    return NULL;
}

static bool find_code(const name_entry *table, size_t count, const char *name, size_t len,
                      bool ignore_case, uint16_t *out)
{
    for (size_t i = 0; i < count; i++) {
        const char *candidate = table[i].name;
        if (strlen(candidate) != len) {
            continue;
        }
        int diff = ignore_case ? strncasecmp(candidate, name, len) : memcmp(candidate, name, len);
        if (diff == 0) {
            *out = table[i].code;
            return true;
        }
    }
    return false;
}

const char *pt_suite_name(uint16_t suite)
{
    const char *name = find_name(suite_names, PT_ARRAY_LEN(suite_names), suite);
    return name != NULL ? name : "unknown";
}

const char *pt_group_name(uint16_t group)
{
    const char *name = find_name(group_names, PT_ARRAY_LEN(group_names), group);
    if (name == NULL) {
        name = find_name(other_group_names, PT_ARRAY_LEN(other_group_names), group);
    }
    return name != NULL ? name : "unknown";
}

const char *pt_sigalg_name(uint16_t sigalg)
{
    const char *name = find_name(sigalg_names, PT_ARRAY_LEN(sigalg_names), sigalg);
    return name != NULL ? name : "unknown";
}

const char *pt_version_name(int version)
{
    if (version < 0 || version > 0xffff) {
        return "unknown";
    }
    const char *name = find_name(version_names, PT_ARRAY_LEN(version_names), (uint16_t)version);
    return name != NULL ? name : "unknown";
}

bool pt_suite_by_name(const char *name, size_t len, uint16_t *out)
{
    return find_code(suite_names, PT_ARRAY_LEN(suite_names), name, len, false, out) ||
           find_code(suite_aliases, PT_ARRAY_LEN(suite_aliases), name, len, false, out);
}

bool pt_suite_is_tls13(uint16_t suite)
{
    return suite >= PT_TLS_AES_128_GCM_SHA256 && suite <= PT_TLS_CHACHA20_POLY1305_SHA256;
}

bool pt_group_by_name(const char *name, size_t len, uint16_t *out)
{
    return find_code(group_names, PT_ARRAY_LEN(group_names), name, len, true, out) ||
           find_code(group_aliases, PT_ARRAY_LEN(group_aliases), name, len, true, out);
}

bool pt_sigalg_by_name(const char *name, size_t len, uint16_t *out)
{
    return find_code(sigalg_names, PT_ARRAY_LEN(sigalg_names), name, len, false, out);
}
