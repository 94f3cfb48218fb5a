/*
 * alloc.c - counts the heap memory each side of a connection holds.
 *
 * The executable defines malloc, free, calloc, realloc and the aligned
 * variants, so every allocation in the process comes here: Petrel's own,
 * libcrypto's and libssl's (shared libraries bind to the executable's
 * definitions). Each block gets a 32-byte header that records its size and
 * the side that was running when it was made (see side_begin in bench.h);
 * the block is then served by glibc's __libc_* functions. While counting is
 * on, the live and peak bytes of each side are kept; a block is subtracted
 * from the side that allocated it, whoever frees it.
 *
 * libcrypto's own allocator is hooked too (CRYPTO_set_mem_functions) only
 * to mark which blocks were requested through CRYPTO_malloc, so a Petrel
 * figure can be split into what Petrel allocates itself and what libcrypto
 * allocates on its behalf. For libssl everything goes through CRYPTO_malloc.
 */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "bench.h"

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *ptr, size_t size);
extern void __libc_free(void *ptr);
extern void *__libc_memalign(size_t align, size_t size);

#define HDR_SIZE 32u
#define HDR_MAGIC 0x7e7a11c5u
#define FLAG_TAG_MASK 0x3u
#define FLAG_CRYPTO 0x4u
#define FLAG_COUNTED 0x8u

typedef struct hdr {
    void *base;  /* what glibc returned */
    size_t size; /* bytes asked for */
    uint32_t flags;
    uint32_t magic;
    uint64_t pad; /* keeps the user pointer 16-byte aligned */
} hdr;

_Thread_local int bench_alloc_tag;
static bool counting;
static bench_mem mem;

static hdr *hdr_of(void *user)
{
    return (hdr *)((uint8_t *)user - HDR_SIZE);
}

static void account(uint32_t flags, int64_t delta)
{
    int side = (int)(flags & FLAG_TAG_MASK) - 1;
    int64_t live = __atomic_add_fetch(&mem.live[side], delta, __ATOMIC_RELAXED);
    if ((flags & FLAG_CRYPTO) != 0) {
        __atomic_add_fetch(&mem.live_crypto[side], delta, __ATOMIC_RELAXED);
    }
    if (delta > 0 && live > mem.peak[side]) {
        mem.peak[side] = live;
    }
}

/* Writes the header in front of user and counts the block. origin is 0 or
 * FLAG_CRYPTO. */
static void *finish(void *base, void *user, size_t size, uint32_t origin)
{
    hdr *h = hdr_of(user);
    h->base = base;
    h->size = size;
    h->magic = HDR_MAGIC;
    h->flags = 0;
    if (counting && bench_alloc_tag > 0) {
        h->flags = (uint32_t)bench_alloc_tag | FLAG_COUNTED | origin;
        account(h->flags, (int64_t)size);
    }
    return user;
}

static void *alloc_block(size_t size, uint32_t origin)
{
    if (size > SIZE_MAX - HDR_SIZE) {
        return NULL;
    }
    uint8_t *base = __libc_malloc(size + HDR_SIZE);
    return base == NULL ? NULL : finish(base, base + HDR_SIZE, size, origin);
}

void *malloc(size_t size)
{
    return alloc_block(size, 0);
}

void *calloc(size_t count, size_t size)
{
    if (size != 0 && count > (SIZE_MAX - HDR_SIZE) / size) {
        return NULL;
    }
    uint8_t *base = __libc_calloc(1, count * size + HDR_SIZE);
    return base == NULL ? NULL : finish(base, base + HDR_SIZE, count * size, 0);
}

void free(void *ptr)
{
    if (ptr == NULL) {
        return;
    }
    hdr *h = hdr_of(ptr);
    if (h->magic != HDR_MAGIC) {
        /* A block from before this allocator was in place (the loader's). */
        __libc_free(ptr);
        return;
    }
    if ((h->flags & FLAG_COUNTED) != 0) {
        account(h->flags, -(int64_t)h->size);
    }
    h->magic = 0;
    __libc_free(h->base);
}

static void *aligned(size_t align, size_t size)
{
    if (align <= 16) {
        return malloc(size);
    }
    if ((align & (align - 1)) != 0 || size > SIZE_MAX - align) {
        return NULL;
    }
    /* align >= 32 = HDR_SIZE, so the header fits in front of the user block. */
    uint8_t *base = __libc_memalign(align, size + align);
    return base == NULL ? NULL : finish(base, base + align, size, 0);
}

static void *realloc_block(void *ptr, size_t size, uint32_t origin)
{
    if (ptr == NULL) {
        return alloc_block(size, origin);
    }
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    hdr *h = hdr_of(ptr);
    if (h->magic != HDR_MAGIC || h->base != (void *)h) {
        /* Foreign or aligned block: move it by hand. */
        void *fresh = alloc_block(size, origin);
        if (fresh != NULL) {
            size_t old = h->magic == HDR_MAGIC ? h->size : malloc_usable_size(ptr);
            memcpy(fresh, ptr, old < size ? old : size);
            free(ptr);
        }
        return fresh;
    }
    uint32_t flags = h->flags;
    size_t old = h->size;
    uint8_t *base = __libc_realloc(h, size + HDR_SIZE);
    if (base == NULL) {
        return NULL;
    }
    h = (hdr *)base;
    h->base = base;
    h->size = size;
    if ((flags & FLAG_COUNTED) != 0) {
        account(flags, (int64_t)size - (int64_t)old);
    }
    return base + HDR_SIZE;
}

void *realloc(void *ptr, size_t size)
{
    return realloc_block(ptr, size, 0);
}

void *memalign(size_t align, size_t size)
{
    return aligned(align, size);
}

void *aligned_alloc(size_t align, size_t size)
{
    return aligned(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
    if (align < sizeof(void *) || (align & (align - 1)) != 0) {
        return 22; /* EINVAL */
    }
    void *p = aligned(align, size);
    if (p == NULL) {
        return 12; /* ENOMEM */
    }
    *out = p;
    return 0;
}

/* ---- the libcrypto hook: marks blocks, then uses the functions above ---- */

static void *crypto_malloc(size_t size, const char *file, int line)
{
    return alloc_block(size, FLAG_CRYPTO);
}

static void *crypto_realloc(void *ptr, size_t size, const char *file, int line)
{
    return realloc_block(ptr, size, FLAG_CRYPTO);
}

static void crypto_free(void *ptr, const char *file, int line)
{
    free(ptr);
}

bool bench_alloc_init(void)
{
    return CRYPTO_set_mem_functions(crypto_malloc, crypto_realloc, crypto_free) == 1;
}

void bench_alloc_counting(bool on)
{
    counting = on;
}

void bench_alloc_snapshot(bench_mem *out)
{
    *out = mem;
}

void bench_alloc_reset_peak(bench_side side)
{
    mem.peak[side] = mem.live[side];
}
