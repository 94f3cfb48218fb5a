/*
 * test_secrets.c - secrets are wiped before their memory is freed.
 *
 * A checking allocator (pt_set_allocator) keeps every block the library
 * frees in quarantine instead of releasing it. The test runs a full
 * handshake, data, a KeyUpdate each way and a round of post-handshake
 * authentication, frees everything, and then searches every quarantined
 * block for the connection's secrets: the traffic secrets the key log
 * reported (NSS lines carry them in hex), the secrets the KeyUpdates
 * derived from them, and the AEAD keys and IVs of each. No block may hold
 * any of them, and no block may still be live (nothing leaked).
 *
 * Only memory the library allocates through pt_malloc and friends is
 * checked. libcrypto allocates its own (EVP contexts holding the expanded
 * AEAD keys, the key-exchange private keys, HMAC state) through its own
 * allocator, outside this hook; those are cleared by libcrypto's free
 * functions, which this test cannot observe.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "engine/internal.h"
#include "pair.h"

/* --- The quarantining allocator ------------------------------------------ */

#define HDR 16
#define MAGIC 0x5ec7e75u

typedef struct freed {
    uint8_t *p;
    size_t len;
} freed;

static freed *quarantine;
static size_t nquarantine;
static size_t capquarantine;
static long live;
static long foreign_frees;

static void *q_malloc(size_t n)
{
    uint8_t *h = malloc(HDR + n);
    if (h == NULL) {
        return NULL;
    }
    memcpy(h, &n, sizeof(n));
    uint32_t magic = MAGIC;
    memcpy(h + sizeof(size_t), &magic, sizeof(magic));
    live++;
    return h + HDR;
}

static size_t q_size(uint8_t *p, bool *ours)
{
    uint32_t magic;
    size_t n;
    memcpy(&magic, p - HDR + sizeof(size_t), sizeof(magic));
    memcpy(&n, p - HDR, sizeof(n));
    *ours = magic == MAGIC;
    return n;
}

static void q_free(void *ptr)
{
    if (ptr == NULL) {
        return;
    }
    uint8_t *p = ptr;
    bool ours;
    size_t n = q_size(p, &ours);
    if (!ours) {
        foreign_frees++;
        return;
    }
    uint32_t dead = 0;
    memcpy(p - HDR + sizeof(size_t), &dead, sizeof(dead));
    if (nquarantine == capquarantine) {
        capquarantine = capquarantine == 0 ? 1024 : capquarantine * 2;
        quarantine = realloc(quarantine, capquarantine * sizeof(*quarantine));
        assert_non_null(quarantine);
    }
    quarantine[nquarantine++] = (freed){p, n};
    live--;
}

/* Moving a block frees the old one: it is checked like any other. */
static void *q_realloc(void *ptr, size_t n)
{
    if (ptr == NULL) {
        return q_malloc(n);
    }
    bool ours;
    size_t old = q_size(ptr, &ours);
    assert_true(ours);
    void *np = q_malloc(n);
    if (np == NULL) {
        return NULL;
    }
    memcpy(np, ptr, old < n ? old : n);
    q_free(ptr);
    return np;
}

static const pt_allocator checking = {q_malloc, q_realloc, q_free};

static void quarantine_release(void)
{
    for (size_t i = 0; i < nquarantine; i++) {
        free(quarantine[i].p - HDR);
    }
    free(quarantine);
    quarantine = NULL;
    nquarantine = capquarantine = 0;
}

/* --- Secrets ------------------------------------------------------------- */

#define MAX_NEEDLES 256

typedef struct needle {
    char label[64];
    uint8_t bytes[PT_MAX_HASH];
    size_t len;
} needle;

static needle needles[MAX_NEEDLES];
static size_t nneedles;
static size_t logged_lines;

static void add_needle(const char *label, const uint8_t *p, size_t len)
{
    assert_true(nneedles < MAX_NEEDLES);
    needle *n = &needles[nneedles++];
    snprintf(n->label, sizeof(n->label), "%s", label);
    memcpy(n->bytes, p, len);
    n->len = len;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* "LABEL <client random> <secret>", all hex. */
static void keylog(const petrel_conn *conn, const char *line, void *userdata)
{
    const char *sp1 = strchr(line, ' ');
    assert_non_null(sp1);
    const char *sp2 = strchr(sp1 + 1, ' ');
    assert_non_null(sp2);
    char label[64];
    size_t ll = (size_t)(sp1 - line) < sizeof(label) - 1 ? (size_t)(sp1 - line) : sizeof(label) - 1;
    memcpy(label, line, ll);
    label[ll] = '\0';
    uint8_t secret[PT_MAX_HASH];
    size_t n = 0;
    for (const char *h = sp2 + 1; h[0] != '\0' && h[1] != '\0' && n < sizeof(secret); h += 2) {
        assert_true(hexval(h[0]) >= 0 && hexval(h[1]) >= 0);
        secret[n++] = (uint8_t)(hexval(h[0]) << 4 | hexval(h[1]));
    }
    assert_true(n == 32 || n == 48);
    add_needle(label, secret, n);
    logged_lines++;
}

/* The AEAD key and IV of a traffic secret (RFC 8446 7.3), and for the
 * application secrets the generations KeyUpdate makes (RFC 8446 7.2). */
static void derive_needles(pt_hash_alg hash, size_t key_len)
{
    pt_error err;
    pt_error_init(&err);
    pt_algs *algs = pt_algs_new(&err);
    assert_non_null(algs);
    size_t logged = nneedles;
    for (size_t i = 0; i < logged; i++) {
        needle s = needles[i];
        if (strstr(s.label, "TRAFFIC_SECRET") == NULL) {
            continue;
        }
        int generations = strstr(s.label, "_TRAFFIC_SECRET_0") != NULL ? 3 : 0;
        for (int g = 0; g <= generations; g++) {
            uint8_t out[PT_MAX_HASH];
            char label[96];
            assert_int_equal(
                pt_hkdf_expand_label(algs, hash, s.bytes, "key", NULL, 0, out, key_len, &err),
                PETREL_OK);
            snprintf(label, sizeof(label), "key of %s gen %d", s.label, g);
            add_needle(label, out, key_len);
            assert_int_equal(
                pt_hkdf_expand_label(algs, hash, s.bytes, "iv", NULL, 0, out, 12, &err), PETREL_OK);
            snprintf(label, sizeof(label), "iv of %s gen %d", s.label, g);
            add_needle(label, out, 12);
            assert_int_equal(
                pt_hkdf_expand_label(algs, hash, s.bytes, "traffic upd", NULL, 0, out, s.len, &err),
                PETREL_OK);
            memcpy(s.bytes, out, s.len);
            if (g < generations) {
                snprintf(label, sizeof(label), "%s gen %d", s.label, g + 1);
                add_needle(label, s.bytes, s.len);
            }
        }
    }
    pt_algs_free(algs);
}

static bool contains(const uint8_t *hay, size_t hay_len, const uint8_t *n, size_t n_len)
{
    for (size_t i = 0; i + n_len <= hay_len; i++) {
        if (hay[i] == n[0] && memcmp(hay + i, n, n_len) == 0) {
            return true;
        }
    }
    return false;
}

/* Returns how many (block, secret) pairs were found, printing each. */
static size_t scan_quarantine(void)
{
    size_t found = 0;
    for (size_t b = 0; b < nquarantine; b++) {
        for (size_t i = 0; i < nneedles; i++) {
            if (contains(quarantine[b].p, quarantine[b].len, needles[i].bytes, needles[i].len)) {
                print_message("freed block of %zu bytes still holds %s\n", quarantine[b].len,
                              needles[i].label);
                found++;
            }
        }
    }
    return found;
}

/* --- The session ----------------------------------------------------------- */

static void pha_round(pair *p)
{
    assert_int_equal(petrel_conn_verify_client_post_handshake(p->s), PETREL_OK);
    petrel_status st = PETREL_ERR_WANT_READ;
    for (int i = 0; i < 10 && st == PETREL_ERR_WANT_READ; i++) {
        pair_move(p->s, p->c);
        uint8_t b[16];
        size_t n;
        petrel_status cs = petrel_conn_read(p->c, b, sizeof(b), &n);
        assert_int_equal(cs, PETREL_ERR_WANT_READ);
        pair_move(p->c, p->s);
        st = petrel_conn_process(p->s);
    }
    assert_int_equal(st, PETREL_OK);
    assert_true(petrel_conn_has_peer_cert(p->s));
}

static void session(pt_hash_alg *hash, size_t *key_len)
{
    petrel_ctx *cctx = client_ctx();
    petrel_ctx *sctx = server_ctx("server-p256");
    petrel_ctx_set_keylog_callback(cctx, keylog, NULL);
    assert_int_equal(petrel_ctx_load_cert_chain(cctx, pki("client-p256-chain.pem"),
                                                pki("client-p256.key"), NULL, NULL),
                     PETREL_OK);
    assert_int_equal(petrel_ctx_set_verify_mode(sctx, PETREL_CERT_REQUIRED), PETREL_OK);
    assert_int_equal(petrel_ctx_set_post_handshake_auth(sctx, true), PETREL_OK);
    assert_int_equal(petrel_ctx_set_post_handshake_auth(cctx, true), PETREL_OK);
    pair p = pair_new(cctx, sctx);
    pair_handshake_ok(&p);
    *hash = p.c->hash;
    *key_len = strstr(petrel_conn_cipher(p.c), "128") != NULL ? 16 : 32;
    pair_exchange(&p, p.c, p.s, "before updates", 14);
    assert_int_equal(petrel_conn_key_update(p.c, true), PETREL_OK);
    pair_exchange(&p, p.c, p.s, "client updated", 14);
    pair_exchange(&p, p.s, p.c, "server answered", 15);
    assert_int_equal(petrel_conn_key_update(p.s, true), PETREL_OK);
    pair_exchange(&p, p.s, p.c, "server updated", 14);
    pair_exchange(&p, p.c, p.s, "client answered", 15);
    pha_round(&p);
    pair_exchange(&p, p.c, p.s, "after auth", 10);
    /* Not in the key log, but secret too: the resumption master secrets. */
    size_t hash_len = pt_hash_len(*hash);
    add_needle("client resumption_master_secret", p.c->resumption_secret, hash_len);
    add_needle("server resumption_master_secret", p.s->resumption_secret, hash_len);
    assert_int_equal(petrel_conn_shutdown(p.c), PETREL_ERR_WANT_READ);
    pair_move(p.c, p.s);
    uint8_t b[8];
    size_t n;
    assert_int_equal(petrel_conn_read(p.s, b, sizeof(b), &n), PETREL_ERR_ZERO_RETURN);
    pair_free(&p);
    petrel_ctx_free(cctx);
    petrel_ctx_free(sctx);
}

static void test_no_freed_block_holds_a_secret(void **state)
{
    pt_hash_alg hash;
    size_t key_len;
    /* A first run outside the hook fills the process-wide certificate
     * cache (src/crypto/certcache.c), whose entries outlive the session. */
    session(&hash, &key_len);
    nneedles = 0;
    logged_lines = 0;
    live = 0;
    foreign_frees = 0;
    pt_set_allocator(&checking);
    session(&hash, &key_len);
    pt_set_allocator(NULL);
    /* Four traffic secrets logged by the client; the server logs nothing
     * (no callback on its context). */
    assert_int_equal(logged_lines, 4);
    derive_needles(hash, key_len);
    print_message("%zu blocks freed by the library, %zu secrets searched\n", nquarantine, nneedles);
    assert_true(nquarantine > 20);
    size_t found = scan_quarantine();
    long leaked = live;
    long foreign = foreign_frees;
    quarantine_release();
    assert_int_equal(foreign, 0);
    assert_int_equal(leaked, 0);
    assert_int_equal(found, 0);
}

/* The checker itself: an unwiped block is found, a wiped one is not. */
static void test_checker_finds_unwiped_secret(void **state)
{
    static const uint8_t secret[32] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99};
    nneedles = 0;
    add_needle("planted", secret, sizeof(secret));
    pt_set_allocator(&checking);
    uint8_t *plain = pt_malloc(100);
    uint8_t *wiped = pt_malloc(100);
    memcpy(plain + 30, secret, sizeof(secret));
    memcpy(wiped + 30, secret, sizeof(secret));
    pt_free(plain);
    pt_free_secret(wiped, 100);
    pt_set_allocator(NULL);
    assert_int_equal(nquarantine, 2);
    assert_int_equal(scan_quarantine(), 1);
    quarantine_release();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checker_finds_unwiped_secret),
        cmocka_unit_test(test_no_freed_block_holds_a_secret),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
