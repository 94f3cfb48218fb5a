/*
 * options.c - parsing the command line and turning it into a context.
 */
#include "options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/names.h"
#include "tool.h"

enum {
    OPT_CAFILE = 256,
    OPT_CAPATH,
    OPT_CRLFILE,
    OPT_CERT,
    OPT_KEY,
    OPT_MIN_VERSION,
    OPT_MAX_VERSION,
    OPT_VERIFY_MODE,
    OPT_NO_CHECK_HOSTNAME,
    OPT_SERVERNAME,
    OPT_NO_HOSTNAME_CN,
    OPT_VERIFY_FLAG,
    OPT_SECURITY_LEVEL,
    OPT_CIPHERS,
    OPT_GROUPS,
    OPT_ALPN,
    OPT_KEYLOG,
    OPT_PHA,
    OPT_REQUIRE_EMS,
    OPT_TRACE,
    OPT_LISTEN,
    OPT_ONCE,
    OPT_NUM_TICKETS,
    OPT_TIMEOUT,
    OPT_HTTP,
    OPT_COMMANDS,
    OPT_PHA_PATH,
    OPT_RECONNECT,
    OPT_HELP,
};

static const struct option long_options[] = {
    {"cafile", required_argument, NULL, OPT_CAFILE},
    {"capath", required_argument, NULL, OPT_CAPATH},
    {"crlfile", required_argument, NULL, OPT_CRLFILE},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"min-version", required_argument, NULL, OPT_MIN_VERSION},
    {"max-version", required_argument, NULL, OPT_MAX_VERSION},
    {"verify-mode", required_argument, NULL, OPT_VERIFY_MODE},
    {"no-check-hostname", no_argument, NULL, OPT_NO_CHECK_HOSTNAME},
    {"servername", required_argument, NULL, OPT_SERVERNAME},
    {"no-hostname-cn", no_argument, NULL, OPT_NO_HOSTNAME_CN},
    {"verify-flag", required_argument, NULL, OPT_VERIFY_FLAG},
    {"security-level", required_argument, NULL, OPT_SECURITY_LEVEL},
    {"ciphers", required_argument, NULL, OPT_CIPHERS},
    {"groups", required_argument, NULL, OPT_GROUPS},
    {"alpn", required_argument, NULL, OPT_ALPN},
    {"keylog", required_argument, NULL, OPT_KEYLOG},
    {"post-handshake-auth", no_argument, NULL, OPT_PHA},
    {"require-ems", no_argument, NULL, OPT_REQUIRE_EMS},
    {"trace", no_argument, NULL, OPT_TRACE},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"once", no_argument, NULL, OPT_ONCE},
    {"num-tickets", required_argument, NULL, OPT_NUM_TICKETS},
    {"reconnect", no_argument, NULL, OPT_RECONNECT},
    {"http", no_argument, NULL, OPT_HTTP},
    {"commands", no_argument, NULL, OPT_COMMANDS},
    {"pha-path", required_argument, NULL, OPT_PHA_PATH},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

static const char shared_help[] =
    "Context options (each one sets one context property):\n"
    "  --cafile FILE            trust anchors (PEM; CRLs in it are loaded too)\n"
    "  --capath DIR             OpenSSL hashed directory of trust anchors\n"
    "  --crlfile FILE           CRLs (PEM), loaded like --cafile\n"
    "  --cert FILE --key FILE   our certificate chain (leaf first) and key\n"
    "  --min-version 1.2|1.3    lowest protocol version (default 1.2)\n"
    "  --max-version 1.2|1.3    highest protocol version (default 1.3)\n"
    "  --verify-mode none|optional|required\n"
    "                           peer verification (client default: required;\n"
    "                           server default: none)\n"
    "  --no-check-hostname      do not match the server certificate to its name\n"
    "  --servername NAME        name sent as SNI and checked (default: HOST)\n"
    "  --no-hostname-cn         never match the subject CN\n"
    "  --verify-flag NAME       add a verify flag (repeatable): crl-check-leaf,\n"
    "                           crl-check-chain, x509-strict, partial-chain,\n"
    "                           trusted-first, allow-proxy-certs\n"
    "  --security-level N       OpenSSL security level 0-5 (default 2)\n"
    "  --ciphers LIST           colon list of TLS 1.3 and TLS 1.2 suite names\n"
    "  --groups LIST            colon list: x25519, P-256/secp256r1, P-384/secp384r1\n"
    "  --alpn LIST              comma list of ALPN protocol names\n"
    "  --keylog FILE            append NSS key-log lines (secrets!) to FILE\n"
    "  --post-handshake-auth    TLS 1.3 post-handshake client authentication\n"
    "  --require-ems            TLS 1.2: refuse peers without extended master secret\n"
    "  --trace                  print each handshake step on stderr\n";

void opts_usage(petrel_role role)
{
    if (role == PETREL_CLIENT) {
        printf("usage: petrel client HOST:PORT [options]\n\n"
               "Connects, prints what was negotiated on stderr, then copies stdin to\n"
               "the peer and the peer's data to stdout. At the end of stdin it sends\n"
               "close_notify and reads until the peer closes. Exit status 0 on a clean\n"
               "close. HOST is numeric (127.0.0.1, [::1]) or localhost.\n\n"
               "Client options:\n"
               "  --reconnect              after the first connection ends, connect again\n"
               "                           offering its session (TLS 1.3 resumption);\n"
               "                           stdin goes to the first connection only\n\n%s",
               shared_help);
        return;
    }
    printf("usage: petrel server --listen ADDR:PORT --cert FILE --key FILE [options]\n\n"
           "Serves one connection at a time. Port 0 picks a free port; the address\n"
           "is printed as \"listening on ADDR:PORT\" on stderr.\n\n"
           "Server options:\n"
           "  --listen ADDR:PORT       where to listen\n"
           "  --once                   serve one connection, then exit (0 when clean)\n"
           "  --num-tickets N          TLS 1.3 session tickets per connection (default 2)\n"
           "  --timeout SECONDS        drop a client silent or not reading for this long\n"
           "                           (default 30, 0 waits forever)\n"
           "  --http                   answer HTTP/1.0 requests with a page naming the\n"
           "                           protocol version and cipher suite\n"
           "  --pha-path PREFIX        with --http: for paths starting with PREFIX, ask\n"
           "                           for a client certificate after the handshake\n"
           "  --commands               line commands: PHA, HASCERT, GETCERT, VERSION,\n"
           "                           CIPHER, VERIFIEDCHAIN, UNVERIFIEDCHAIN, QUIT;\n"
           "                           anything else is echoed\n"
           "  (default mode: echo)\n\n%s",
           shared_help);
}

static int parse_version(const char *s)
{
    if (strcmp(s, "1.2") == 0) {
        return PETREL_TLS1_2;
    }
    if (strcmp(s, "1.3") == 0) {
        return PETREL_TLS1_3;
    }
    return 0;
}

static int parse_verify_mode(const char *s)
{
    static const char *const names[] = {"none", "optional", "required"};
    for (int i = 0; i < 3; i++) {
        if (strcmp(s, names[i]) == 0) {
            return i;
        }
    }
    return -1;
}

static unsigned long parse_verify_flag(const char *s)
{
    static const struct {
        const char *name;
        unsigned long flag;
    } flags[] = {
        {"crl-check-leaf", PETREL_VERIFY_CRL_CHECK_LEAF},
        {"crl-check-chain", PETREL_VERIFY_CRL_CHECK_CHAIN},
        {"x509-strict", PETREL_VERIFY_X509_STRICT},
        {"partial-chain", PETREL_VERIFY_X509_PARTIAL_CHAIN},
        {"trusted-first", PETREL_VERIFY_X509_TRUSTED_FIRST},
        {"allow-proxy-certs", PETREL_VERIFY_ALLOW_PROXY_CERTS},
    };
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        if (strcmp(s, flags[i].name) == 0) {
            return flags[i].flag;
        }
    }
    return 0;
}

static bool parse_int(const char *s, int *out)
{
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < -1000 || v > 1000) {
        return false;
    }
    *out = (int)v;
    return true;
}

/* Applies one option; false (with a message printed) when its value is bad. */
static bool apply_context_option(int c, const char *arg, tool_opts *o)
{
    switch (c) {
    case OPT_CAFILE:
        o->cafile = arg;
        return true;
    case OPT_CAPATH:
        o->capath = arg;
        return true;
    case OPT_CRLFILE:
        o->crlfile = arg;
        return true;
    case OPT_CERT:
        o->cert = arg;
        return true;
    case OPT_KEY:
        o->key = arg;
        return true;
    case OPT_MIN_VERSION:
        o->min_version = parse_version(arg);
        return o->min_version != 0;
    case OPT_MAX_VERSION:
        o->max_version = parse_version(arg);
        return o->max_version != 0;
    case OPT_VERIFY_MODE:
        o->verify_mode = parse_verify_mode(arg);
        return o->verify_mode >= 0;
    case OPT_NO_CHECK_HOSTNAME:
        o->no_check_hostname = true;
        return true;
    case OPT_SERVERNAME:
        o->servername = arg;
        return true;
    case OPT_NO_HOSTNAME_CN:
        o->no_hostname_cn = true;
        return true;
    case OPT_SECURITY_LEVEL:
        /* 0 to 5 here; out-of-range levels are the library's to refuse. */
        return parse_int(arg, &o->security_level) && o->security_level >= 0;
    case OPT_CIPHERS:
        o->ciphers = arg;
        return true;
    case OPT_GROUPS:
        o->groups = arg;
        return true;
    case OPT_ALPN:
        o->alpn = arg;
        return true;
    case OPT_KEYLOG:
        o->keylog = arg;
        return true;
    case OPT_PHA:
        o->post_handshake_auth = true;
        return true;
    case OPT_REQUIRE_EMS:
        o->require_ems = true;
        return true;
    case OPT_TRACE:
        o->trace = true;
        return true;
    case OPT_VERIFY_FLAG: {
        unsigned long flag = parse_verify_flag(arg);
        o->verify_flags |= flag;
        return flag != 0;
    }
    default:
        return false;
    }
}

static bool apply_server_option(int c, const char *arg, tool_opts *o)
{
    switch (c) {
    case OPT_LISTEN:
        o->listen = arg;
        return true;
    case OPT_ONCE:
        o->once = true;
        return true;
    case OPT_NUM_TICKETS:
        return parse_int(arg, &o->num_tickets) && o->num_tickets >= 0;
    case OPT_TIMEOUT:
        return parse_int(arg, &o->timeout) && o->timeout >= 0;
    case OPT_HTTP:
        o->mode = SERVE_HTTP;
        return true;
    case OPT_COMMANDS:
        o->mode = SERVE_COMMANDS;
        return true;
    case OPT_PHA_PATH:
        o->pha_path = arg;
        return true;
    default:
        return false;
    }
}

static bool apply_client_option(int c, tool_opts *o)
{
    if (c == OPT_RECONNECT) {
        o->reconnect = true;
        return true;
    }
    return false;
}

static opts_result check_positionals(int argc, char **argv, petrel_role role, tool_opts *o)
{
    int left = argc - optind;
    if (role == PETREL_CLIENT && left == 1) {
        o->target = argv[optind];
        return OPTS_OK;
    }
    if (role == PETREL_CLIENT) {
        tool_fail("client needs exactly one HOST:PORT (see petrel client --help)");
        return OPTS_BAD;
    }
    if (left != 0 || o->listen == NULL) {
        tool_fail("server needs --listen ADDR:PORT and no other argument "
                  "(see petrel server --help)");
        return OPTS_BAD;
    }
    if (o->pha_path != NULL && o->mode != SERVE_HTTP) {
        tool_fail("--pha-path needs --http");
        return OPTS_BAD;
    }
    return OPTS_OK;
}

opts_result opts_parse(int argc, char **argv, petrel_role role, tool_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->verify_mode = -1;
    o->security_level = -1;
    o->timeout = 30;
    o->num_tickets = -1;
    optind = 0; /* glibc: 0 also resets its scanning state between calls */
    opterr = 1;
    int c;
    int idx = -1;
    while ((c = getopt_long(argc, argv, "h", long_options, &idx)) != -1) {
        if (c == OPT_HELP || c == 'h') {
            opts_usage(role);
            return OPTS_HELP;
        }
        if (c == '?') {
            return OPTS_BAD;
        }
        bool server_opt = c >= OPT_LISTEN && c <= OPT_PHA_PATH;
        bool client_opt = c == OPT_RECONNECT;
        bool ok = server_opt   ? role == PETREL_SERVER && apply_server_option(c, optarg, o)
                  : client_opt ? role == PETREL_CLIENT && apply_client_option(c, o)
                               : apply_context_option(c, optarg, o);
        if (!ok) {
            const char *name = idx >= 0 ? long_options[idx].name : "?";
            tool_fail("%s --%s%s%s (see --help)",
                      server_opt && role != PETREL_SERVER   ? "not a client option:"
                      : client_opt && role != PETREL_CLIENT ? "not a server option:"
                                                            : "bad value:",
                      name, optarg != NULL ? " " : "", optarg != NULL ? optarg : "");
            return OPTS_BAD;
        }
    }
    return check_positionals(argc, argv, role, o);
}

/* "TLS_AES_128_CCM_SHA256" is a TLS 1.3 name; TLS 1.2 IANA names contain
 * "_WITH_" and OpenSSL's have no "TLS_" prefix. Used only to say which
 * version an unknown name was taken for. */
static bool tls13_style(const char *name, size_t len)
{
    if (len < 4 || strncmp(name, "TLS_", 4) != 0) {
        return false;
    }
    for (size_t i = 0; i + 6 <= len; i++) {
        if (strncmp(name + i, "_WITH_", 6) == 0) {
            return false;
        }
    }
    return true;
}

/* --ciphers takes both versions' suites; TLS 1.3 names go to the TLS 1.3
 * list, everything else to the TLS 1.2 list, which names unknown entries. A
 * version whose list stays empty keeps its defaults. */
static bool apply_ciphers(petrel_ctx *ctx, const char *list)
{
    size_t n = strlen(list) + 1;
    char *s13 = calloc(1, n);
    char *s12 = calloc(1, n);
    bool ok = s13 != NULL && s12 != NULL;
    for (const char *p = list; ok && *p != '\0';) {
        size_t len = strcspn(p, ":");
        uint16_t code = 0;
        bool known = pt_suite_by_name(p, len, &code);
        char *dst =
            (known && pt_suite_is_tls13(code)) || (!known && tls13_style(p, len)) ? s13 : s12;
        size_t used = strlen(dst);
        if (len > 0) {
            memcpy(dst + used, ":", used > 0 ? 1 : 0);
            memcpy(dst + used + (used > 0 ? 1 : 0), p, len);
        }
        p += len + (p[len] == ':' ? 1 : 0);
    }
    petrel_status st = PETREL_OK;
    if (ok && s13[0] != '\0') {
        st = petrel_ctx_set_ciphersuites(ctx, s13);
    }
    if (ok && st == PETREL_OK && (s12[0] != '\0' || s13[0] == '\0')) {
        st = petrel_ctx_set_ciphers(ctx, s12);
    }
    free(s13);
    free(s12);
    return ok && st == PETREL_OK;
}

static bool apply_alpn(petrel_ctx *ctx, const char *list)
{
    char *copy = strdup(list);
    const char *names[64];
    size_t count = 0;
    if (copy == NULL) {
        return false;
    }
    for (char *p = copy; count < 64;) {
        names[count++] = p;
        char *comma = strchr(p, ',');
        if (comma == NULL) {
            break;
        }
        *comma = '\0';
        p = comma + 1;
    }
    petrel_status st = petrel_ctx_set_alpn_protocols(ctx, names, count);
    free(copy);
    return st == PETREL_OK;
}

/* The verification settings, in an order that satisfies Python's rules:
 * check_hostname is settled before verify_mode. */
static bool apply_verification(petrel_ctx *ctx, const tool_opts *o, const char **what)
{
    *what = "--no-check-hostname";
    if (o->no_check_hostname && petrel_ctx_set_check_hostname(ctx, false) != PETREL_OK) {
        return false;
    }
    *what = "--verify-mode";
    if (o->verify_mode >= 0 &&
        petrel_ctx_set_verify_mode(ctx, (petrel_verify_mode)o->verify_mode) != PETREL_OK) {
        return false;
    }
    *what = "--no-hostname-cn";
    if (o->no_hostname_cn && petrel_ctx_set_hostname_checks_common_name(ctx, false) != PETREL_OK) {
        return false;
    }
    *what = "--verify-flag";
    unsigned long flags = petrel_ctx_verify_flags(ctx) | o->verify_flags;
    if (o->verify_flags != 0 && petrel_ctx_set_verify_flags(ctx, flags) != PETREL_OK) {
        return false;
    }
    *what = "--security-level";
    return o->security_level < 0 ||
           petrel_ctx_set_security_level(ctx, o->security_level) == PETREL_OK;
}

static bool apply_versions(petrel_ctx *ctx, const tool_opts *o, const char **what)
{
    *what = "--min-version";
    if (o->min_version != 0 && petrel_ctx_set_minimum_version(ctx, o->min_version) != PETREL_OK) {
        return false;
    }
    *what = "--max-version";
    if (o->max_version != 0 && petrel_ctx_set_maximum_version(ctx, o->max_version) != PETREL_OK) {
        return false;
    }
    *what = "--require-ems";
    if (o->require_ems && petrel_ctx_set_require_extended_master_secret(ctx, true) != PETREL_OK) {
        return false;
    }
    *what = "--num-tickets";
    if (o->num_tickets >= 0 &&
        petrel_ctx_set_num_tickets(ctx, (size_t)o->num_tickets) != PETREL_OK) {
        return false;
    }
    *what = "--post-handshake-auth";
    return !o->post_handshake_auth || petrel_ctx_set_post_handshake_auth(ctx, true) == PETREL_OK;
}

static bool apply_files(petrel_ctx *ctx, const tool_opts *o, const char **what)
{
    *what = "--cafile/--capath";
    if ((o->cafile != NULL || o->capath != NULL) &&
        petrel_ctx_load_verify_locations(ctx, o->cafile, o->capath, NULL, 0) != PETREL_OK) {
        return false;
    }
    *what = "--crlfile";
    if (o->crlfile != NULL &&
        petrel_ctx_load_verify_locations(ctx, o->crlfile, NULL, NULL, 0) != PETREL_OK) {
        return false;
    }
    *what = "--cert";
    if (o->key != NULL && o->cert == NULL) {
        return false;
    }
    if (o->cert != NULL &&
        petrel_ctx_load_cert_chain(ctx, o->cert, o->key, NULL, NULL) != PETREL_OK) {
        return false;
    }
    *what = "--keylog";
    return o->keylog == NULL || petrel_ctx_set_keylog_file(ctx, o->keylog) == PETREL_OK;
}

static bool apply_lists(petrel_ctx *ctx, const tool_opts *o, const char **what)
{
    *what = "--ciphers";
    if (o->ciphers != NULL && !apply_ciphers(ctx, o->ciphers)) {
        return false;
    }
    *what = "--groups";
    if (o->groups != NULL && petrel_ctx_set_groups(ctx, o->groups) != PETREL_OK) {
        return false;
    }
    *what = "--alpn";
    return o->alpn == NULL || apply_alpn(ctx, o->alpn);
}

petrel_ctx *opts_make_ctx(const tool_opts *o, petrel_role role)
{
    petrel_ctx *ctx = petrel_ctx_new(role);
    if (ctx == NULL) {
        tool_fail("cannot create a context (out of memory or libcrypto failure)");
        return NULL;
    }
    const char *what = "";
    if (apply_verification(ctx, o, &what) && apply_versions(ctx, o, &what) &&
        apply_files(ctx, o, &what) && apply_lists(ctx, o, &what)) {
        return ctx;
    }
    const petrel_error *err = petrel_ctx_error(ctx);
    if (err->status == PETREL_OK) {
        tool_fail("%s: --key needs --cert", what);
    } else {
        tool_fail_error(what, err);
    }
    petrel_ctx_free(ctx);
    return NULL;
}
