/*
 * fuzz_load.c - loading certificates and keys from arbitrary bytes.
 *
 * The first input byte chooses what to do with the rest:
 *
 *   0: a PEM chain and a PEM private key (the rest is split in two at the
 *      position given by the next two bytes), loaded as our credential,
 *      with a password callback for encrypted keys
 *   1: trust anchors and CRLs from memory (PEM text or one DER certificate)
 *   2: a peer chain of up to four DER certificates (split at positions
 *      given by the next bytes), parsed and described
 *
 * Whatever the bytes, loading must succeed or fail with a status and a
 * sentence, and never leave anything behind (LeakSanitizer checks).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void check_failure(petrel_status st, const pt_error *err)
{
    CHECK(st != PETREL_OK);
    CHECK(err->pub.status == st);
    CHECK(err->pub.message != NULL && err->pub.message[0] != '\0');
}

static int password(char *buf, int size, void *userdata)
{
    (void)userdata;
    static const char pw[] = "petrel";
    if (size < (int)sizeof(pw)) {
        return -1;
    }
    memcpy(buf, pw, sizeof(pw) - 1);
    return (int)sizeof(pw) - 1;
}

static void load_credential(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return;
    }
    size_t split = (((size_t)data[0] << 8) | data[1]) % (size - 1);
    data += 2;
    size -= 2;
    pt_error err;
    pt_error_init(&err);
    pt_credential *cred = NULL;
    petrel_status st = pt_credential_load_mem(data, split, data + split, size - split, password,
                                              NULL, &cred, &err);
    if (st != PETREL_OK) {
        check_failure(st, &err);
        CHECK(cred == NULL);
        return;
    }
    CHECK(pt_credential_count(cred) > 0);
    size_t len = 0;
    CHECK(pt_credential_der(cred, 0, &len) != NULL && len > 0);
    pt_credential_free(cred);
}

static void load_store(const uint8_t *data, size_t size)
{
    pt_error err;
    pt_error_init(&err);
    pt_store *store = pt_store_new(&err);
    CHECK(store != NULL);
    petrel_status st = pt_store_load(store, NULL, NULL, data, size, &err);
    if (st != PETREL_OK) {
        check_failure(st, &err);
    } else {
        CHECK(pt_store_cert_count(store) + pt_store_crl_count(store) > 0);
    }
    pt_store_free(store);
}

static void parse_chain(const uint8_t *data, size_t size)
{
    if (size < 4) {
        return;
    }
    const uint8_t *ders[4];
    size_t lens[4];
    size_t count = 1 + data[0] % 4;
    const uint8_t *p = data + 1;
    size_t left = size - 1;
    for (size_t i = 0; i < count; i++) {
        size_t take = i + 1 == count ? left : (left * data[1 + i % 3]) / 255;
        ders[i] = p;
        lens[i] = take;
        p += take;
        left -= take;
    }
    pt_error err;
    pt_error_init(&err);
    pt_peer_chain *chain = NULL;
    petrel_status st = pt_peer_chain_parse(ders, lens, count, &chain, &err);
    if (st != PETREL_OK) {
        check_failure(st, &err);
        CHECK(chain == NULL);
        return;
    }
    CHECK(pt_peer_chain_len(chain) == count);
    petrel_cert_info info;
    st = pt_peer_chain_info(chain, &info, &err);
    if (st == PETREL_OK) {
        CHECK(info.der != NULL && info.der_len == lens[0]);
        CHECK(info.subject != NULL && info.issuer != NULL);
    } else {
        check_failure(st, &err);
    }
    pt_peer_chain_free(chain);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) {
        return 0;
    }
    switch (data[0] % 3) {
    case 0:
        load_credential(data + 1, size - 1);
        break;
    case 1:
        load_store(data + 1, size - 1);
        break;
    default:
        parse_chain(data + 1, size - 1);
        break;
    }
    return 0;
}
