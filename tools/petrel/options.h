/*
 * options.h - the command line of the petrel command: one option per
 * context setting, shared by client and server, plus each command's own.
 */
#ifndef PETREL_OPTIONS_H
#define PETREL_OPTIONS_H

#include <stdbool.h>

#include "petrel.h"

typedef enum serve_mode { SERVE_ECHO, SERVE_HTTP, SERVE_COMMANDS } serve_mode;

typedef struct tool_opts {
    /* context settings; NULL / -1 / false mean "library default" */
    const char *cafile;
    const char *capath;
    const char *crlfile;
    const char *cert;
    const char *key;
    int min_version;
    int max_version;
    int verify_mode;
    bool no_check_hostname;
    const char *servername;
    bool no_hostname_cn;
    unsigned long verify_flags; /* added to the defaults */
    int security_level;
    const char *ciphers;
    const char *groups;
    const char *alpn;
    const char *keylog;
    bool post_handshake_auth;
    bool require_ems;
    bool trace;

    /* client */
    const char *target;
    bool reconnect;
    /* server */
    const char *listen;
    bool once;
    int num_tickets; /* -1: library default */
    int timeout;     /* seconds a server waits on a silent client; 0 = forever */
    serve_mode mode;
    const char *pha_path;
} tool_opts;

typedef enum opts_result { OPTS_OK, OPTS_HELP, OPTS_BAD } opts_result;

/* Parses argv (argv[0] is the command name). Prints help or the problem. */
opts_result opts_parse(int argc, char **argv, petrel_role role, tool_opts *o);
/* Prints a command's help on stdout. */
void opts_usage(petrel_role role);
/* Builds a context from the options; prints the failing option and its
 * sentence and returns NULL when one is refused. */
petrel_ctx *opts_make_ctx(const tool_opts *o, petrel_role role);

#endif
