/*
 * test_keyschedule.c - the TLS 1.3 key schedule (RFC 8446 7.1, 7.3)
 * against the "Simple 1-RTT Handshake" trace of RFC 8448 section 3.
 *
 * The transcript hashes are computed here from the handshake messages of
 * the trace; every derived value is compared byte for byte with the trace.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto/crypto.h"

/* RFC 8448 3: the handshake messages, as sent. */
static const char client_hello_hex[] =
    "010000c003036660261ff947cea49cce6cfad687f457cf1b14531ba14131a0e8"
    "f309a1d0b9c4000006130113031302010000910000000b000900000673657276"
    "6572ff01000100000a00140012001d0017001800190100010101020103010400"
    "230000003300260024001d00204cfdfcd178b784bf328cae793b136f2aedce00"
    "5ff183d7bb1495207236647037002b0003020304000d0020001e040305030603"
    "020308040805080604010501060102010402050206020202002d00020101001c"
    "00024001";
static const char server_hello_hex[] =
    "0200005603031274991495cf425857262dde2299342c315afba9b64a87d55251"
    "5614e01b045d00130100002e00330024001d0020c7bb6bdfc26350b929a08a41"
    "a76ddac210b096868d960c4845987dc3a7fa650a002b00020304";
static const char encrypted_extensions_hex[] =
    "080000240022000a00140012001d00170018001901000101010201030104001c"
    "0002400100000000";
static const char certificate_hex[] =
    "0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a"
    "864886f70d01010b0500300e310c300a06035504031303727361301e170d3136"
    "303733303031323335395a170d3236303733303031323335395a300e310c300a"
    "0603550403130372736130819f300d06092a864886f70d010101050003818d00"
    "30818902818100b4bb498f8279303d980836399b36c6988c0c68de55e1bdb826"
    "d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced4312"
    "0998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda4308467480"
    "30530ef0461c8ca9d9efbfae8ea6d1d03e2bd193eff0ab9a8002c47428a6d35a"
    "8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b060355"
    "1d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5"
    "b9276b908c65f73a7267170618a54c5f8a7b337d2df7a594365417f2eae8f8a5"
    "8c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102"
    "702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0"
    "a8b2f759409ba3eac9d91d402dcc0cc8f8961229ac9187b42b4de10000";
static const char certificate_verify_hex[] =
    "0f00008408040080ace0af8e87d7c63cc9dbe7dcc12ff83bd55df0ccda9bf4e5"
    "a0f70100d9bc4d25aa684fd9d347642c942222526e163e3b0fba312b10e9b67e"
    "b0ac9c2be5fef490f81d7827e3bc12fa027ab439e71cc8459c14b94a8f3506ec"
    "44547d6c23e19cc7f9d5e0d1f595108fc240f5b0842c485a321487c4950377a5"
    "2e917294715567cd";
static const char server_finished_hex[] =
    "140000204c92b1b256d861a1830167827d3e288d1a76f03484e9ec886d4ff661"
    "49cbec2f";
static const char client_finished_hex[] =
    "1400002080a2c0d6cbc21078dba30affbf091929278edc832db4bfa1c811c9e8"
    "c67da9bb";

/* RFC 8448 3: the values derived from them. */
static const char shared_hex[] = "1bea3fdfd25f94033804b68997a55d1931dc51124ad7f6e28959bb4672e3bd13";
static const char early_hex[] = "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a";
static const char derived_early_hex[] =
    "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba";
static const char hs_secret_hex[] =
    "f2c66e28ed535dfb8721b7145ca51c8bc058514f79aa881d0d32cbe1341a2e45";
static const char hash_sh_hex[] =
    "3d35f3eba0aabf5d9661236e3b5bb938fdc32f409cc27c55499e1f0baa3abd8f";
static const char c_hs_hex[] = "d7c28b57a857e961b5bf3e1d7b18d02757c4f97acb66a23372e5a7f3d0a71e07";
static const char s_hs_hex[] = "3031e9c2c26ecc154bc36826e87feeff8f4547df52596747b2dcabf92b18fb59";
static const char derived_hs_hex[] =
    "6aac276f77177e737a1fe91dcf0d2ec9cb4fcead8690703a15348b5e5220cafa";
static const char master_hex[] = "a12970d9b27a3d59b6ecc1530d284073bd745ddc68d994e7a6ee70881b3d6da6";
static const char hash_sf_hex[] =
    "b285e2e2beb28adf85ce08112f7c4804cb52347a258edfa9c1bf31f7f808e8ce";
static const char c_ap_hex[] = "2dca43b0ae13af89e9533d39b65dd25cc22df9e7afcaf082a76895a4da353b50";
static const char s_ap_hex[] = "49033ff303eef5739d1376cb6d27ebd695733f3c3f617e7fc76d02a6fac6277f";
static const char exp_master_hex[] =
    "319b2e433f189fc5a1d81ea369e3af838cbecb0db8fffd5b9ab205afcdb999d9";
static const char s_hs_key_hex[] = "4d15c00e47317fe99c714f8ebd92c4d1";
static const char s_hs_iv_hex[] = "18223084735f2f2d8588caaa";
static const char c_hs_key_hex[] = "947fe41b60fa1bcf942d456268476e8d";
static const char c_hs_iv_hex[] = "962df1fc720f9574f7d22248";
static const char s_finished_key_hex[] =
    "2456e4d4c3cc526cad20c011327277e2b8834df514fa50db921101293cc627a8";
/* The client's Finished, protected with the client handshake key. */
static const char c_finished_record_hex[] =
    "1703030035ed2b5675d3a8b0d0cedd0519d5e7573c4aa061f42daeecca1c5498"
    "e1f063a9c6c5f594e3859f568a0bc5ee9ee49db23a0999f0aede";

static int nibble(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    fail_msg("bad hex digit %c", c);
    return 0;
}

/* Decodes hex into out and returns the length. */
static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = strlen(hex) / 2;
    assert_true(n <= cap);
    for (size_t i = 0; i < n; i++) {
        out[i] = (uint8_t)(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
    }
    return n;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want_hex)
{
    uint8_t want[256];
    size_t n = unhex(want_hex, want, sizeof(want));
    assert_int_equal(len, n);
    assert_memory_equal(got, want, n);
}

typedef struct fixture {
    pt_algs *algs;
    pt_hash transcript;
    pt_error err;
} fixture;

static int setup(void **state)
{
    fixture *f = test_calloc(1, sizeof(*f));
    pt_error_init(&f->err);
    f->algs = pt_algs_new(&f->err);
    assert_non_null(f->algs);
    assert_int_equal(pt_hash_init(&f->transcript, f->algs, PT_SHA256, &f->err), PETREL_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    pt_hash_free(&f->transcript);
    pt_algs_free(f->algs);
    test_free(f);
    return 0;
}

static void add_message(fixture *f, const char *hex)
{
    uint8_t msg[512];
    size_t n = unhex(hex, msg, sizeof(msg));
    assert_int_equal(pt_hash_update(&f->transcript, msg, n, &f->err), PETREL_OK);
}

/* RFC 8446 7.1: Derive-Secret(Secret, Label, Messages). */
static void derive_secret(fixture *f, const uint8_t *secret, const char *label, const uint8_t *hash,
                          uint8_t out[32])
{
    assert_int_equal(
        pt_hkdf_expand_label(f->algs, PT_SHA256, secret, label, hash, 32, out, 32, &f->err),
        PETREL_OK);
}

static void test_schedule(void **state)
{
    fixture *f = *state;
    uint8_t empty_hash[PT_MAX_HASH];
    uint8_t early[PT_MAX_HASH], derived[32], shared[32], hs[PT_MAX_HASH], master[PT_MAX_HASH];
    uint8_t hash_sh[PT_MAX_HASH], hash_sf[PT_MAX_HASH], secret[32];

    assert_int_equal(pt_hash_oneshot(f->algs, PT_SHA256, "", 0, empty_hash, &f->err), PETREL_OK);
    /* early_secret = HKDF-Extract(0, 0) */
    uint8_t zeros[32] = {0};
    assert_int_equal(pt_hkdf_extract(f->algs, PT_SHA256, NULL, 0, zeros, 32, early, &f->err),
                     PETREL_OK);
    assert_hex(early, 32, early_hex);
    derive_secret(f, early, "derived", empty_hash, derived);
    assert_hex(derived, 32, derived_early_hex);

    unhex(shared_hex, shared, sizeof(shared));
    assert_int_equal(pt_hkdf_extract(f->algs, PT_SHA256, derived, 32, shared, 32, hs, &f->err),
                     PETREL_OK);
    assert_hex(hs, 32, hs_secret_hex);

    add_message(f, client_hello_hex);
    add_message(f, server_hello_hex);
    assert_int_equal(pt_hash_peek(&f->transcript, hash_sh, &f->err), PETREL_OK);
    assert_hex(hash_sh, 32, hash_sh_hex);
    derive_secret(f, hs, "c hs traffic", hash_sh, secret);
    assert_hex(secret, 32, c_hs_hex);
    derive_secret(f, hs, "s hs traffic", hash_sh, secret);
    assert_hex(secret, 32, s_hs_hex);

    derive_secret(f, hs, "derived", empty_hash, derived);
    assert_hex(derived, 32, derived_hs_hex);
    assert_int_equal(pt_hkdf_extract(f->algs, PT_SHA256, derived, 32, zeros, 32, master, &f->err),
                     PETREL_OK);
    assert_hex(master, 32, master_hex);

    add_message(f, encrypted_extensions_hex);
    add_message(f, certificate_hex);
    add_message(f, certificate_verify_hex);
    add_message(f, server_finished_hex);
    assert_int_equal(pt_hash_peek(&f->transcript, hash_sf, &f->err), PETREL_OK);
    assert_hex(hash_sf, 32, hash_sf_hex);
    derive_secret(f, master, "c ap traffic", hash_sf, secret);
    assert_hex(secret, 32, c_ap_hex);
    derive_secret(f, master, "s ap traffic", hash_sf, secret);
    assert_hex(secret, 32, s_ap_hex);
    derive_secret(f, master, "exp master", hash_sf, secret);
    assert_hex(secret, 32, exp_master_hex);
}

/* RFC 8446 7.3: [sender]_write_key and _iv from a traffic secret. */
static void test_traffic_keys(void **state)
{
    fixture *f = *state;
    uint8_t secret[32], key[16], iv[12];
    unhex(s_hs_hex, secret, sizeof(secret));
    assert_int_equal(
        pt_hkdf_expand_label(f->algs, PT_SHA256, secret, "key", NULL, 0, key, 16, &f->err),
        PETREL_OK);
    assert_hex(key, 16, s_hs_key_hex);
    assert_int_equal(
        pt_hkdf_expand_label(f->algs, PT_SHA256, secret, "iv", NULL, 0, iv, 12, &f->err),
        PETREL_OK);
    assert_hex(iv, 12, s_hs_iv_hex);
}

/* RFC 8446 4.4.4: verify_data = HMAC(finished_key, Transcript-Hash(CH..CV)). */
static void test_server_finished(void **state)
{
    fixture *f = *state;
    uint8_t secret[32], finished_key[32], hash[PT_MAX_HASH], mac[PT_MAX_HASH];
    unhex(s_hs_hex, secret, sizeof(secret));
    assert_int_equal(pt_hkdf_expand_label(f->algs, PT_SHA256, secret, "finished", NULL, 0,
                                          finished_key, 32, &f->err),
                     PETREL_OK);
    assert_hex(finished_key, 32, s_finished_key_hex);
    add_message(f, client_hello_hex);
    add_message(f, server_hello_hex);
    add_message(f, encrypted_extensions_hex);
    add_message(f, certificate_hex);
    add_message(f, certificate_verify_hex);
    assert_int_equal(pt_hash_peek(&f->transcript, hash, &f->err), PETREL_OK);
    assert_int_equal(pt_hmac(f->algs, PT_SHA256, finished_key, 32, hash, 32, mac, &f->err),
                     PETREL_OK);
    uint8_t finished[64];
    unhex(server_finished_hex, finished, sizeof(finished));
    assert_memory_equal(mac, finished + 4, 32);
}

/* RFC 8446 5.2, 5.3: the client's Finished record, sealed and opened with
 * the client handshake key; sequence number 0, so the nonce is the iv. */
static void test_record_protection(void **state)
{
    fixture *f = *state;
    uint8_t key[16], iv[12], record[64], inner[64], tag[PT_AEAD_TAG];
    unhex(c_hs_key_hex, key, sizeof(key));
    unhex(c_hs_iv_hex, iv, sizeof(iv));
    size_t rec_len = unhex(c_finished_record_hex, record, sizeof(record));
    size_t n = unhex(client_finished_hex, inner, sizeof(inner));
    inner[n++] = 22; /* TLSInnerPlaintext.type = handshake */
    assert_int_equal(rec_len, 5 + n + PT_AEAD_TAG);

    pt_aead seal = {0};
    assert_int_equal(pt_aead_init(&seal, f->algs, PT_AES_128_GCM, key, true, &f->err), PETREL_OK);
    assert_int_equal(pt_aead_seal(&seal, iv, record, 5, inner, n, tag, &f->err), PETREL_OK);
    assert_memory_equal(inner, record + 5, n);
    assert_memory_equal(tag, record + 5 + n, PT_AEAD_TAG);
    pt_aead_free(&seal);

    pt_aead open = {0};
    assert_int_equal(pt_aead_init(&open, f->algs, PT_AES_128_GCM, key, false, &f->err), PETREL_OK);
    assert_int_equal(pt_aead_open(&open, iv, record, 5, record + 5, n, record + 5 + n, &f->err),
                     PETREL_OK);
    assert_int_equal(record[5 + n - 1], 22);
    pt_aead_free(&open);
}

/* The trace's CertificateVerify (rsa_pss_rsae_sha256, RSA-1024) checks out
 * against its certificate (RFC 8446 4.4.3), and a flipped bit does not. */
static void test_certificate_verify(void **state)
{
    fixture *f = *state;
    uint8_t cert_msg[512], cv[256], hash[PT_MAX_HASH];
    unhex(certificate_hex, cert_msg, sizeof(cert_msg));
    size_t cv_len = unhex(certificate_verify_hex, cv, sizeof(cv));
    /* Certificate: type(1) len(3) context(1) list_len(3) cert_len(3) cert */
    const uint8_t *der = cert_msg + 11;
    size_t der_len = (size_t)cert_msg[8] << 16 | (size_t)cert_msg[9] << 8 | cert_msg[10];
    pt_peer_chain *chain = NULL;
    assert_int_equal(pt_peer_chain_parse(&der, &der_len, 1, &chain, &f->err), PETREL_OK);

    add_message(f, client_hello_hex);
    add_message(f, server_hello_hex);
    add_message(f, encrypted_extensions_hex);
    add_message(f, certificate_hex);
    assert_int_equal(pt_hash_peek(&f->transcript, hash, &f->err), PETREL_OK);
    uint8_t content[64 + 34 + 32];
    memset(content, 0x20, 64);
    memcpy(content + 64, "TLS 1.3, server CertificateVerify", 34); /* with the 0 byte */
    memcpy(content + 98, hash, 32);
    uint16_t sigalg = (uint16_t)(cv[4] << 8 | cv[5]);
    assert_int_equal(sigalg, PT_SIG_RSA_PSS_RSAE_SHA256);
    uint8_t *sig = cv + 8;
    size_t sig_len = cv_len - 8;
    assert_int_equal(pt_peer_verify_signature(chain, f->algs, sigalg, content, sizeof(content), sig,
                                              sig_len, 1, &f->err),
                     PETREL_OK);
    /* RSA-1024 gives 80 bits: refused at security level 2. */
    assert_int_equal(pt_peer_verify_signature(chain, f->algs, sigalg, content, sizeof(content), sig,
                                              sig_len, 2, &f->err),
                     PETREL_ERR_PROTOCOL);
    assert_int_equal(f->err.pub.alert, PETREL_ALERT_INSUFFICIENT_SECURITY);
    sig[10] ^= 1;
    assert_int_equal(pt_peer_verify_signature(chain, f->algs, sigalg, content, sizeof(content), sig,
                                              sig_len, 1, &f->err),
                     PETREL_ERR_PROTOCOL);
    assert_int_equal(f->err.pub.alert, PETREL_ALERT_DECRYPT_ERROR);
    pt_peer_chain_free(chain);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schedule, setup, teardown),
        cmocka_unit_test_setup_teardown(test_traffic_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_finished, setup, teardown),
        cmocka_unit_test_setup_teardown(test_record_protection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certificate_verify, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
