#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang in build-fuzz/ and runs each
# fuzz_* binary for a few seconds, starting from its committed seeds.
#
#   scripts/fuzz-smoke.sh [SECONDS]     (default 20 per harness)
#
# Every harness the fuzz tree builds is run, so new ones need no change
# here. New inputs go to build-fuzz/corpus-run/<harness>/ (the committed
# seeds are only read); a crash leaves its input in build-fuzz/artifacts/.
# Exits non-zero when any harness crashes, leaks, times out or fails to
# build. PETREL_FUZZ_BUILD_DIR overrides the build directory.
set -euo pipefail

seconds=${1:-20}
case "$seconds" in
    '' | *[!0-9]*)
        echo "fuzz-smoke: SECONDS must be a whole number, not '$seconds'" >&2
        exit 2
        ;;
esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${PETREL_FUZZ_BUILD_DIR:-$root/build-fuzz}

if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz-smoke: clang is needed (scripts/setup.sh installs it)" >&2
    exit 2
fi

timeout 600 cmake -S "$root" -B "$build" -DCMAKE_C_COMPILER=clang -DPETREL_FUZZ=ON \
    -DPETREL_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
timeout 1800 cmake --build "$build" --target petrel_fuzzers -j2

mkdir -p "$build/corpus-run" "$build/artifacts"
shopt -s nullglob
harnesses=()
for bin in "$build"/fuzz/fuzz_*; do
    if [ -f "$bin" ] && [ -x "$bin" ]; then
        harnesses+=("$bin")
    fi
done
if [ "${#harnesses[@]}" -eq 0 ]; then
    echo "fuzz-smoke: no fuzz_* harness was built in $build/fuzz" >&2
    exit 1
fi

failed=()
for bin in "${harnesses[@]}"; do
    name=$(basename "$bin")
    work="$build/corpus-run/$name"
    mkdir -p "$work"
    seeds=()
    for dir in "$root/fuzz/corpus/$name" "$root/fuzz/corpus/${name#fuzz_}"; do
        if [ -d "$dir" ]; then
            seeds+=("$dir")
        fi
    done
    log="$build/artifacts/$name.log"
    echo "fuzz-smoke: $name for ${seconds}s"
    # libFuzzer stops itself after max_total_time; the outer timeout only
    # catches a harness that hangs outside an input.
    if timeout $((seconds + 120)) "$bin" -max_total_time="$seconds" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$build/artifacts/$name-" "$work" "${seeds[@]}" >"$log" 2>&1; then
        grep -E '^stat::number_of_executed_units' "$log" | sed "s/^/fuzz-smoke: $name /" || true
    else
        echo "fuzz-smoke: $name FAILED (log: $log)" >&2
        tail -n 40 "$log" >&2
        failed+=("$name")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz-smoke: failures: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz-smoke: ${#harnesses[@]} harness(es) ran ${seconds}s each without a crash"
