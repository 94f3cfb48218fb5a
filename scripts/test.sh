#!/usr/bin/env bash
# Builds Petrel in Release mode with warnings as errors and runs the whole
# test suite (unit, in-process, interop) with CTest.
#
#   bash scripts/test.sh            # everything
#   bash scripts/test.sh -L unit    # extra arguments go to ctest
#
# PETREL_BUILD_DIR chooses the build directory (default: build).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${PETREL_BUILD_DIR:-$root/build}

bash "$root/scripts/setup.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DPETREL_WERROR=ON >/dev/null
cmake --build "$build" -j2
cd "$build"
ctest --output-on-failure -j2 "$@"
