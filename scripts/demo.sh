#!/usr/bin/env bash
# Builds Petrel and runs `petrel demo`: a client and a server talking TLS 1.3
# to each other over loopback, printing what they negotiated.
#
# PETREL_BUILD_DIR chooses the build directory (default: build).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${PETREL_BUILD_DIR:-$root/build}

bash "$root/scripts/setup.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2
exec "$build/tools/petrel/petrel" demo "$@"
