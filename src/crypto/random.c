/*
 * random.c - the library's source of randomness.
 *
 * Normally RAND_bytes. For fuzzing and reproducible tests the process may
 * switch to a fixed stream derived from a seed: block i of the stream is
 * SHA-256(seed || i), both as 64-bit big-endian numbers, and the stream is
 * consumed in order across all callers (a mutex keeps it whole).
 */
#include <pthread.h>
#include <string.h>

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "crypto/ossl.h"

static struct {
    pthread_mutex_t lock;
    bool on;
    uint64_t seed;
    uint64_t counter;
    uint8_t block[SHA256_DIGEST_LENGTH];
    size_t used; /* bytes of block already handed out */
} det = {PTHREAD_MUTEX_INITIALIZER, false, 0, 0, {0}, SHA256_DIGEST_LENGTH};

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static void det_next_block(void)
{
    uint8_t input[16];
    put_be64(input, det.seed);
    put_be64(input + 8, det.counter++);
    SHA256(input, sizeof(input), det.block);
    det.used = 0;
}

/* Fills buf from the fixed stream; false when the mode is off. */
static bool det_fill(uint8_t *buf, size_t len)
{
    pthread_mutex_lock(&det.lock);
    bool on = det.on;
    while (on && len > 0) {
        if (det.used == sizeof(det.block)) {
            det_next_block();
        }
        size_t n = sizeof(det.block) - det.used;
        n = n < len ? n : len;
        memcpy(buf, det.block + det.used, n);
        det.used += n;
        buf += n;
        len -= n;
    }
    pthread_mutex_unlock(&det.lock);
    return on;
}

void pt_random_set_deterministic(bool on, uint64_t seed)
{
    pthread_mutex_lock(&det.lock);
    det.on = on;
    det.seed = seed;
    det.counter = 0;
    det.used = sizeof(det.block);
    pthread_mutex_unlock(&det.lock);
}

bool pt_random_is_deterministic(void)
{
    pthread_mutex_lock(&det.lock);
    bool on = det.on;
    pthread_mutex_unlock(&det.lock);
    return on;
}

petrel_status pt_random(void *buf, size_t len, pt_error *err)
{
    if (len == 0 || det_fill(buf, len)) {
        return PETREL_OK;
    }
    uint8_t *p = buf;
    while (len > 0) {
        /* RAND_bytes takes an int count. */
        int chunk = len > 65536 ? 65536 : (int)len;
        if (RAND_bytes(p, chunk) != 1) {
            return pt_ossl_fail(err, PETREL_ERR_INTERNAL, -1, "the random generator failed");
        }
        p += chunk;
        len -= (size_t)chunk;
    }
    return PETREL_OK;
}
