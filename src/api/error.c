/*
 * error.c - names of statuses and of TLS alerts.
 */
#include "internal/common.h"

const char *petrel_status_name(petrel_status status)
{
    switch (status) {
    case PETREL_OK:
        return "OK";
    case PETREL_ERR_WANT_READ:
        return "WANT_READ";
    case PETREL_ERR_WANT_WRITE:
        return "WANT_WRITE";
    case PETREL_ERR_ZERO_RETURN:
        return "ZERO_RETURN";
    case PETREL_ERR_EOF:
        return "EOF";
    case PETREL_ERR_CERT_VERIFY:
        return "CERT_VERIFY";
    case PETREL_ERR_PROTOCOL:
        return "PROTOCOL";
    case PETREL_ERR_PEER_ALERT:
        return "PEER_ALERT";
    case PETREL_ERR_IO:
        return "IO";
    case PETREL_ERR_MISUSE:
        return "MISUSE";
    case PETREL_ERR_CONFIG:
        return "CONFIG";
    case PETREL_ERR_NO_MEMORY:
        return "NO_MEMORY";
    case PETREL_ERR_INTERNAL:
        return "INTERNAL";
    }
    return "unknown";
}

typedef struct alert_entry {
    int code;
    const char *name;
} alert_entry;

/* RFC 8446 6, enum AlertDescription, including the values it reserves; the
 * reserved ones keep the names earlier versions gave them. */
static const alert_entry alert_names[] = {
    {0, "close_notify"},
    {10, "unexpected_message"},
    {20, "bad_record_mac"},
    {21, "decryption_failed"},
    {22, "record_overflow"},
    {30, "decompression_failure"},
    {40, "handshake_failure"},
    {41, "no_certificate"},
    {42, "bad_certificate"},
    {43, "unsupported_certificate"},
    {44, "certificate_revoked"},
    {45, "certificate_expired"},
    {46, "certificate_unknown"},
    {47, "illegal_parameter"},
    {48, "unknown_ca"},
    {49, "access_denied"},
    {50, "decode_error"},
    {51, "decrypt_error"},
    {60, "export_restriction"},
    {70, "protocol_version"},
    {71, "insufficient_security"},
    {80, "internal_error"},
    {86, "inappropriate_fallback"},
    {90, "user_canceled"},
    {100, "no_renegotiation"},
    {109, "missing_extension"},
    {110, "unsupported_extension"},
    {111, "certificate_unobtainable"},
    {112, "unrecognized_name"},
    {113, "bad_certificate_status_response"},
    {114, "bad_certificate_hash_value"},
    {115, "unknown_psk_identity"},
    {116, "certificate_required"},
    {120, "no_application_protocol"},
};

const char *petrel_alert_name(int alert)
{
    for (size_t i = 0; i < PT_ARRAY_LEN(alert_names); i++) {
        if (alert_names[i].code == alert) {
            return alert_names[i].name;
        }
    }
    return "unknown";
}
