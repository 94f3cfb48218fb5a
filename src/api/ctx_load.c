/*
 * ctx_load.c - what a context loads from outside: its certificate chain and
 * key, trust anchors and CRLs, and where key-log lines go.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "api/ctx_internal.h"

/* Bits of security each OpenSSL security level asks of a key. */
static int level_bits(int level)
{
    static const int bits[] = {0, 80, 112, 128, 192, 256};
    return level >= 0 && level < (int)PT_ARRAY_LEN(bits) ? bits[level] : 256;
}

/* As OpenSSL does when a certificate is set, our own key is held to the
 * security level in force when it is loaded. */
static petrel_status check_key_strength(petrel_ctx *ctx, const pt_credential *cred)
{
    int have = pt_credential_security_bits(cred);
    int need = level_bits(ctx->security_level);
    if (have < need) {
        return pt_fail(&ctx->err, PETREL_ERR_CONFIG, -1,
                       "the certificate's key is too weak: %d bits of security, security level "
                       "%d needs %d (use a stronger key or lower the security level first)",
                       have, ctx->security_level, need);
    }
    return PETREL_OK;
}

/* Installs a freshly loaded credential, or reports why loading failed. The
 * previous credential stays in place on failure. */
static petrel_status install_credential(petrel_ctx *ctx, petrel_status st, pt_credential *cred)
{
    if (st == PETREL_OK) {
        st = check_key_strength(ctx, cred);
    }
    if (st != PETREL_OK) {
        pt_credential_free(cred);
        return st;
    }
    pt_credential_free(ctx->cred);
    ctx->cred = cred;
    return PETREL_OK;
}

petrel_status petrel_ctx_load_cert_chain(petrel_ctx *ctx, const char *certfile, const char *keyfile,
                                         petrel_password_cb cb, void *userdata)
{
    PT_TRY(pt_ctx_begin_change(ctx));
    if (certfile == NULL) {
        return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1, "certfile must not be NULL");
    }
    pt_credential *cred = NULL;
    petrel_status st = pt_credential_load(certfile, keyfile, cb, userdata, &cred, &ctx->err);
    return install_credential(ctx, st, cred);
}

petrel_status petrel_ctx_load_cert_chain_mem(petrel_ctx *ctx, const void *cert_pem, size_t cert_len,
                                             const void *key_pem, size_t key_len,
                                             petrel_password_cb cb, void *userdata)
{
    PT_TRY(pt_ctx_begin_change(ctx));
    if (cert_pem == NULL || cert_len == 0 || (key_pem == NULL && key_len > 0)) {
        return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1,
                       "the certificate PEM must be given, and a key length needs a key");
    }
    pt_credential *cred = NULL;
    petrel_status st = pt_credential_load_mem(cert_pem, cert_len, key_pem, key_len, cb, userdata,
                                              &cred, &ctx->err);
    return install_credential(ctx, st, cred);
}

petrel_status petrel_ctx_load_verify_locations(petrel_ctx *ctx, const char *cafile,
                                               const char *capath, const void *cadata,
                                               size_t cadata_len)
{
    PT_TRY(pt_ctx_begin_change(ctx));
    if (cafile == NULL && capath == NULL && cadata == NULL) {
        return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1,
                       "cafile, capath and cadata cannot all be omitted");
    }
    if (cadata != NULL && cadata_len == 0) {
        return pt_fail(&ctx->err, PETREL_ERR_MISUSE, -1, "cadata is empty");
    }
    return pt_store_load(ctx->store, cafile, capath, cadata, cadata_len, &ctx->err);
}

petrel_status petrel_ctx_load_default_certs(petrel_ctx *ctx)
{
    PT_TRY(pt_ctx_begin_change(ctx));
    return pt_store_load_default(ctx->store, &ctx->err);
}

void petrel_ctx_set_keylog_callback(petrel_ctx *ctx, petrel_keylog_cb cb, void *userdata)
{
    if (pt_ctx_begin_change(ctx) != PETREL_OK) {
        return;
    }
    ctx->keylog_cb = cb;
    ctx->keylog_userdata = userdata;
}

/* The file holds secrets: created readable by its owner only. */
static int open_keylog(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
}

petrel_status petrel_ctx_set_keylog_file(petrel_ctx *ctx, const char *path)
{
    PT_TRY(pt_ctx_begin_change(ctx));
    char *copy = NULL;
    if (path != NULL) {
        int fd = open_keylog(path);
        if (fd < 0) {
            return pt_fail(&ctx->err, PETREL_ERR_CONFIG, -1, "cannot open key log file '%s': %s",
                           path, strerror(errno));
        }
        close(fd);
        copy = pt_strdup(path);
        if (copy == NULL) {
            return pt_fail(&ctx->err, PETREL_ERR_NO_MEMORY, -1, "out of memory");
        }
    }
    pt_free(ctx->keylog_path);
    ctx->keylog_path = copy;
    return PETREL_OK;
}

/* One write per line, so that lines of processes sharing the file do not
 * interleave (O_APPEND makes each write land at the end). */
static void append_keylog_line(const char *path, const char *line)
{
    char buf[512];
    size_t n = strlen(line);
    if (n + 1 > sizeof(buf)) {
        return;
    }
    memcpy(buf, line, n);
    buf[n] = '\n';
    int fd = open_keylog(path);
    if (fd < 0) {
        return;
    }
    ssize_t w = write(fd, buf, n + 1);
    (void)w;
    close(fd);
    pt_wipe(buf, sizeof(buf));
}

void pt_ctx_keylog(const petrel_ctx *ctx, const petrel_conn *conn, const char *line)
{
    if (ctx->keylog_cb != NULL) {
        ctx->keylog_cb(conn, line, ctx->keylog_userdata);
    }
    if (ctx->keylog_path != NULL) {
        append_keylog_line(ctx->keylog_path, line);
    }
}
