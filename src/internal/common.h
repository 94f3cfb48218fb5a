/*
 * common.h - the one error convention of libpetrel's internals.
 *
 * Every fallible internal function returns a petrel_status and, when the
 * status is a failure, has written the cause into the pt_error it was given.
 * PT_TRY propagates; nothing else hides control flow.
 */
#ifndef PT_COMMON_H
#define PT_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "petrel.h"

#define PT_MUST_USE __attribute__((warn_unused_result))
#define PT_PRINTF(a, b) __attribute__((format(printf, a, b)))

#define PT_TRY(expr)                                                                               \
    do {                                                                                           \
        petrel_status pt_try_status_ = (expr);                                                     \
        if (pt_try_status_ != PETREL_OK) {                                                         \
            return pt_try_status_;                                                                 \
        }                                                                                          \
    } while (0)

#define PT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define PT_ERROR_MESSAGE_MAX 320

/* An object's last error: the public view plus storage for its sentence. */
typedef struct pt_error {
    petrel_error pub;
    char text[PT_ERROR_MESSAGE_MAX];
} pt_error;

void pt_error_init(pt_error *err);
void pt_error_clear(pt_error *err);
/* Records a failure and returns status, so callers can `return pt_fail(...)`.
 * alert is the TLS alert to send (or received), -1 when none. */
petrel_status pt_fail(pt_error *err, petrel_status status, int alert, const char *fmt, ...)
    PT_PRINTF(4, 5);
petrel_status pt_vfail(pt_error *err, petrel_status status, int alert, const char *fmt, va_list ap)
    PT_PRINTF(4, 0);
/* As pt_fail, for statuses met on every pass of a hot path (WANT_READ):
 * the sentence is before, the decimal count n, then after, put together
 * without printf. */
petrel_status pt_fail_count(pt_error *err, petrel_status status, const char *before, size_t n,
                            const char *after);
/* As pt_fail with a sentence of len bytes taken as it is (see PT_FAIL_TEXT). */
petrel_status pt_fail_text(pt_error *err, petrel_status status, const char *text, size_t len);
#define PT_FAIL_TEXT(err, status, literal) pt_fail_text(err, status, literal, sizeof(literal) - 1)
/* A protocol fault: we will send alert. */
#define pt_fault(err, alert, ...) pt_fail((err), PETREL_ERR_PROTOCOL, (alert), __VA_ARGS__)
/* Copies one error record into another. */
void pt_error_copy(pt_error *dst, const pt_error *src);

/* Wipes secrets in a way the compiler keeps. */
void pt_wipe(void *p, size_t len);
/* Frees memory after wiping len bytes of it. */
void pt_free_secret(void *p, size_t len);
/* Constant-time comparison: 0 when equal. */
int pt_ct_memcmp(const void *a, const void *b, size_t len);

/* Allocation through one place, so tests can count and check wiping. */
void *pt_malloc(size_t n);
void *pt_calloc(size_t count, size_t n);
void *pt_realloc(void *p, size_t n);
void pt_free(void *p);
char *pt_strdup(const char *s);

/* Test hook: routes the four functions above through these (calloc through
 * malloc_fn and a clear). NULL restores libc. Set it before any object is
 * created and reset it after the last is freed; not thread-safe. */
typedef struct pt_allocator {
    void *(*malloc_fn)(size_t n);
    void *(*realloc_fn)(void *p, size_t n);
    void (*free_fn)(void *p);
} pt_allocator;
void pt_set_allocator(const pt_allocator *a);

/* The name tables shared by the library and the command. */
const char *pt_suite_name(uint16_t suite);
const char *pt_group_name(uint16_t group);
const char *pt_sigalg_name(uint16_t sigalg);
const char *pt_version_name(int version);

#endif
