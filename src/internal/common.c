/*
 * common.c - error records, secret wiping and the allocation funnel.
 */
#include "internal/common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void pt_error_init(pt_error *err)
{
    pt_error_clear(err);
}

void pt_error_clear(pt_error *err)
{
    err->pub.status = PETREL_OK;
    err->pub.alert = -1;
    err->pub.verify_code = 0;
    err->pub.sys_errno = 0;
    err->text[0] = '\0';
    err->pub.message = err->text;
}

petrel_status pt_vfail(pt_error *err, petrel_status status, int alert, const char *fmt, va_list ap)
{
    if (err == NULL) {
        return status;
    }
    err->pub.status = status;
    err->pub.alert = alert;
    err->pub.verify_code = 0;
    err->pub.sys_errno = 0;
    vsnprintf(err->text, sizeof(err->text), fmt, ap);
    err->pub.message = err->text;
    return status;
}

petrel_status pt_fail(pt_error *err, petrel_status status, int alert, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    pt_vfail(err, status, alert, fmt, ap);
    va_end(ap);
    return status;
}

/* Sets err to status with up to three pieces of sentence, joined without
 * printf and truncated at the end of the buffer. */
static petrel_status fail_pieces(pt_error *err, petrel_status status, const char *const piece[3],
                                 const size_t len[3])
{
    if (err == NULL) {
        return status;
    }
    err->pub.status = status;
    err->pub.alert = -1;
    err->pub.verify_code = 0;
    err->pub.sys_errno = 0;
    size_t at = 0;
    for (int i = 0; i < 3; i++) {
        size_t n = len[i] < sizeof(err->text) - 1 - at ? len[i] : sizeof(err->text) - 1 - at;
        memcpy(err->text + at, piece[i], n);
        at += n;
    }
    err->text[at] = '\0';
    err->pub.message = err->text;
    return status;
}

petrel_status pt_fail_count(pt_error *err, petrel_status status, const char *before, size_t n,
                            const char *after)
{
    char digits[24];
    size_t d = sizeof(digits);
    do {
        digits[--d] = (char)('0' + n % 10);
        n /= 10;
    } while (n > 0);
    const char *const piece[3] = {before, digits + d, after};
    const size_t len[3] = {strlen(before), sizeof(digits) - d, strlen(after)};
    return fail_pieces(err, status, piece, len);
}

petrel_status pt_fail_text(pt_error *err, petrel_status status, const char *text, size_t len)
{
    const char *const piece[3] = {text, "", ""};
    const size_t lens[3] = {len, 0, 0};
    return fail_pieces(err, status, piece, lens);
}

void pt_error_copy(pt_error *dst, const pt_error *src)
{
    if (dst == src) {
        return;
    }
    dst->pub = src->pub;
    memcpy(dst->text, src->text, sizeof(dst->text));
    dst->pub.message = dst->text;
}

void pt_wipe(void *p, size_t len)
{
    if (p == NULL || len == 0) {
        return;
    }
    /* A volatile function pointer keeps the compiler from proving the
     * store dead and removing it. */
    static void *(*const volatile wipe_memset)(void *, int, size_t) = memset;
    wipe_memset(p, 0, len);
}

void pt_free_secret(void *p, size_t len)
{
    pt_wipe(p, len);
    pt_free(p);
}

int pt_ct_memcmp(const void *a, const void *b, size_t len)
{
    const volatile uint8_t *x = a;
    const volatile uint8_t *y = b;
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++) {
        acc |= (uint8_t)(x[i] ^ y[i]);
    }
    return acc;
}

static pt_allocator hook;

void pt_set_allocator(const pt_allocator *a)
{
    hook = a != NULL ? *a : (pt_allocator){0};
}

void *pt_malloc(size_t n)
{
    n = n == 0 ? 1 : n;
    return hook.malloc_fn != NULL ? hook.malloc_fn(n) : malloc(n);
}

void *pt_calloc(size_t count, size_t n)
{
    count = count == 0 ? 1 : count;
    n = n == 0 ? 1 : n;
    if (hook.malloc_fn == NULL) {
        return calloc(count, n);
    }
    if (count > SIZE_MAX / n) {
        return NULL;
    }
    void *p = hook.malloc_fn(count * n);
    if (p != NULL) {
        memset(p, 0, count * n);
    }
    return p;
}

void *pt_realloc(void *p, size_t n)
{
    n = n == 0 ? 1 : n;
    return hook.realloc_fn != NULL ? hook.realloc_fn(p, n) : realloc(p, n);
}

void pt_free(void *p)
{
    if (hook.free_fn != NULL) {
        hook.free_fn(p);
    } else {
        free(p);
    }
}

char *pt_strdup(const char *s)
{
    if (s == NULL) {
        return NULL;
    }
    size_t n = strlen(s) + 1;
    char *d = pt_malloc(n);
    if (d != NULL) {
        memcpy(d, s, n);
    }
    return d;
}
