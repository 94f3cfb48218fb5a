/*
 * names.h - lookups from names to code points, for the string setters of a
 * context and for the command's options. The reverse direction (code point
 * to name) is declared in internal/common.h.
 */
#ifndef PT_NAMES_H
#define PT_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A cipher suite by IANA name, or by OpenSSL name for the TLS 1.2 suites
 * ("ECDHE-ECDSA-AES128-GCM-SHA256"). name need not be NUL-terminated. */
bool pt_suite_by_name(const char *name, size_t len, uint16_t *out);
/* True for the TLS 1.3 suites (0x1301-0x1303). */
bool pt_suite_is_tls13(uint16_t suite);
/* A supported group by name, case-insensitive: "x25519", "secp256r1",
 * "secp384r1", and the aliases "P-256", "prime256v1", "P-384". */
bool pt_group_by_name(const char *name, size_t len, uint16_t *out);
/* A signature scheme by IANA name, e.g. "rsa_pss_rsae_sha256". */
bool pt_sigalg_by_name(const char *name, size_t len, uint16_t *out);

#endif
