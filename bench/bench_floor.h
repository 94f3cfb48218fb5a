/*
 * bench_floor.h - the crypto-only floor of a handshake (floor.c).
 */
#ifndef PETREL_BENCH_FLOOR_H
#define PETREL_BENCH_FLOOR_H

#include "bench.h"

/* The floor is measured this many times in a row; each figure is the
 * lowest of the rounds' medians. */
#define BENCH_FLOOR_ROUNDS 3
#define BENCH_FLOOR_ROUNDS_TEXT "3"

/* Medians in microseconds. Index 0: ECDSA P-256 leaves, 1: RSA 2048. The
 * struct holds doubles only (floor.c takes the lower of two field by
 * field). */
typedef struct bench_floor {
    double kex;                    /* X25519 keygen + derive, one side */
    double sign[2];                /* server CertificateVerify signature */
    double verify[2];              /* its verification by the client */
    double chain_server[2];        /* client parses + verifies the server chain + hostname */
    double chain_client[2];        /* server parses + verifies the client chain */
    double chain_server_parsed[2]; /* the same on certificates parsed beforehand */
    double chain_client_parsed[2];
    double client_sign[2];   /* client CertificateVerify signature */
    double client_verify[2]; /* its verification by the server */
} bench_floor;

int bench_floor_measure(const char *pki_dir, int iterations, bench_floor *out);

#endif
