/*
 * test_threads.c - one client context and one server context shared by
 * four threads, each running 25 full handshakes with data both ways on its
 * own connections (petrel.h: a frozen context may be shared; a connection
 * belongs to one thread at a time).
 *
 * The workers use no cmocka assertion (cmocka is not thread-safe); they
 * count what went wrong and the main thread asserts the counts. Built with
 * ThreadSanitizer this is the library's race check:
 *
 *   cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug \
 *         -DCMAKE_C_FLAGS=-fsanitize=thread -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=thread
 *   make -C build-tsan -j2 test_threads && (cd build-tsan && ctest -R 'pki|test_threads')
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pair.h"

#define THREADS 4
#define ROUNDS 25
#define DATA_LEN 3000

typedef struct worker {
    petrel_ctx *cctx;
    petrel_ctx *sctx;
    int id;
    int handshakes; /* completed on both sides */
    int data_ok;    /* rounds whose data arrived intact both ways */
    char first_error[256];
} worker;

static void note_error(worker *w, const char *what, const petrel_conn *conn)
{
    if (w->first_error[0] == '\0') {
        snprintf(w->first_error, sizeof(w->first_error), "thread %d: %s: %s", w->id, what,
                 conn != NULL ? petrel_conn_error(conn)->message : "");
    }
}

/* Moves pending output; false when the receiver refuses bytes. */
static bool move(petrel_conn *from, petrel_conn *to)
{
    uint8_t buf[4096];
    while (petrel_conn_output_pending(from) > 0) {
        size_t n = petrel_conn_take_output(from, buf, sizeof(buf));
        for (size_t off = 0; off < n;) {
            size_t used = 0;
            if (petrel_conn_feed(to, buf + off, n - off, &used) != PETREL_OK || used == 0) {
                return false;
            }
            off += used;
        }
    }
    return true;
}

static bool handshake(worker *w, petrel_conn *c, petrel_conn *s)
{
    petrel_status cs = PETREL_ERR_WANT_READ;
    petrel_status ss = PETREL_ERR_WANT_READ;
    for (int i = 0; i < 10 && (cs != PETREL_OK || ss != PETREL_OK); i++) {
        cs = petrel_conn_do_handshake(c);
        if (!move(c, s)) {
            break;
        }
        ss = petrel_conn_do_handshake(s);
        if (!move(s, c)) {
            break;
        }
    }
    if (cs != PETREL_OK) {
        note_error(w, "client handshake", c);
    } else if (ss != PETREL_OK) {
        note_error(w, "server handshake", s);
    }
    return cs == PETREL_OK && ss == PETREL_OK;
}

/* Sends len bytes and reads them back at the other end. */
static bool exchange(petrel_conn *from, petrel_conn *to, const uint8_t *data, size_t len)
{
    size_t n = 0;
    if (petrel_conn_write(from, data, len, &n) != PETREL_OK || n != len || !move(from, to)) {
        return false;
    }
    uint8_t got[DATA_LEN];
    size_t have = 0;
    while (have < len) {
        if (petrel_conn_read(to, got + have, len - have, &n) != PETREL_OK) {
            return false;
        }
        have += n;
    }
    return memcmp(got, data, len) == 0;
}

static void one_round(worker *w, int round)
{
    uint8_t data[DATA_LEN];
    for (size_t i = 0; i < sizeof(data); i++) {
        data[i] = (uint8_t)(i * 31 + (size_t)w->id * 7 + (size_t)round);
    }
    petrel_conn *c = petrel_conn_new(w->cctx, "localhost");
    petrel_conn *s = petrel_conn_new(w->sctx, NULL);
    if (c == NULL || s == NULL) {
        note_error(w, "petrel_conn_new", NULL);
    } else if (handshake(w, c, s)) {
        w->handshakes++;
        bool ok = exchange(c, s, data, sizeof(data)) && exchange(s, c, data, sizeof(data) / 2);
        if (ok) {
            w->data_ok++;
        } else {
            note_error(w, "data exchange", c);
        }
    }
    petrel_conn_free(c);
    petrel_conn_free(s);
}

static void *run_worker(void *arg)
{
    worker *w = arg;
    for (int round = 0; round < ROUNDS; round++) {
        one_round(w, round);
    }
    return NULL;
}

/* The key log callback runs on every thread at once. */
static pthread_mutex_t keylog_lock = PTHREAD_MUTEX_INITIALIZER;
static int keylog_total;

static void count_keylog(const petrel_conn *conn, const char *line, void *userdata)
{
    (void)conn;
    (void)userdata;
    if (strstr(line, "TRAFFIC_SECRET") != NULL) {
        pthread_mutex_lock(&keylog_lock);
        keylog_total++;
        pthread_mutex_unlock(&keylog_lock);
    }
}

static void test_shared_contexts(void **state)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    petrel_ctx_set_keylog_callback(cctx, count_keylog, NULL);
    worker workers[THREADS];
    pthread_t tids[THREADS];
    for (int i = 0; i < THREADS; i++) {
        workers[i] = (worker){.cctx = cctx, .sctx = sctx, .id = i};
        assert_int_equal(pthread_create(&tids[i], NULL, run_worker, &workers[i]), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        assert_int_equal(pthread_join(tids[i], NULL), 0);
    }
    for (int i = 0; i < THREADS; i++) {
        if (workers[i].first_error[0] != '\0') {
            fail_msg("%s", workers[i].first_error);
        }
        assert_int_equal(workers[i].handshakes, ROUNDS);
        assert_int_equal(workers[i].data_ok, ROUNDS);
    }
    /* Four traffic secrets per client handshake, none lost to a race. */
    assert_int_equal(keylog_total, THREADS * ROUNDS * 4);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_contexts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
