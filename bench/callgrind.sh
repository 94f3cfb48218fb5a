#!/usr/bin/env bash
# Instruction counts per handshake (and per post-handshake round) under
# callgrind: the noise-free companion of petrel-bench's timings.
#
#   bash bench/callgrind.sh BUILD_DIR [N] [KINDS]
#
# For every kind, library and side, runs
#   valgrind --tool=callgrind --collect-atstart=no \
#       BUILD_DIR/bench/petrel-bench --callgrind KIND --lib LIB --side SIDE -n N
# where only the calls made on SIDE (the same brackets that the timings use)
# are collected, after 5 uncollected warm-up handshakes, and prints the
# collected instructions divided by N. Kinds ending in 12 (ecdsa12,
# bulk12-1m, ...) are the TLS 1.2 forms of the others (ECDHE with
# AES-128-GCM); petrel-bench's usage lists them all. The callgrind output files are kept
# in the directory printed at the end, for callgrind_annotate.
set -euo pipefail

build=${1:?usage: callgrind.sh BUILD_DIR [N] [KINDS]}
n=${2:-50}
kinds=${3:-"ecdsa rsa ecdsa-mutual rsa-mutual resume resume-rsa pha bulk-1m bulk-1k
    bulk-chacha-1m bulk-chacha-1k
    ecdsa12 rsa12 ecdsa12-mutual rsa12-mutual bulk12-1m bulk12-1k"}
bin=$build/bench/petrel-bench
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=$(mktemp -d /tmp/petrel-callgrind.XXXXXX)

bash "$here/../tests/pki/make-pki.sh" "$out/pki" >/dev/null

count() {
    local file=$1
    awk '/^(summary|totals):/ { print $2; exit }' "$file"
}

printf '%-14s %-7s %16s %16s %8s\n' kind side "Petrel Ir" "OpenSSL Ir" "O/P"
for kind in $kinds; do
    for side in client server; do
        declare -A per=()
        for lib in petrel openssl; do
            file=$out/callgrind.$kind.$lib.$side
            timeout 900 valgrind --tool=callgrind --collect-atstart=no \
                --callgrind-out-file="$file" \
                "$bin" --pki "$out/pki" --callgrind "$kind" --lib "$lib" --side "$side" \
                -n "$n" >/dev/null 2>"$file.log"
            per[$lib]=$(( $(count "$file") / n ))
        done
        printf '%-14s %-7s %16d %16d %7.2fx\n' "$kind" "$side" "${per[petrel]}" \
            "${per[openssl]}" "$(echo "${per[openssl]} / ${per[petrel]}" | bc -l)"
        unset per
    done
done
echo "(instructions per handshake, post-handshake round, or write (bulk*: AES-128-GCM, bulk-chacha*: ChaCha20-Poly1305, client sends, server receives; *12: TLS 1.2); N=$n; callgrind files in $out)"
