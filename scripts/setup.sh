#!/usr/bin/env bash
# Installs what Petrel needs to build, test and fuzz on Debian 12.
#
# Idempotent: when every package is already installed it changes nothing and
# touches no network. Otherwise it refreshes the package lists once and
# installs the missing packages, failing loudly if anything goes wrong.
set -euo pipefail

PACKAGES=(
    build-essential cmake pkg-config git
    libssl-dev openssl
    libcmocka-dev
    python3
    gnutls-bin curl
    clang libclang-rt-14-dev clang-format
    valgrind
    procps iproute2 util-linux coreutils
)

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    if [ "$status" != "installed" ]; then
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

echo "setup: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "setup: missing packages (${missing[*]}) and not root; install them first" >&2
        exit 1
    fi
else
    SUDO=()
fi

export DEBIAN_FRONTEND=noninteractive
if ! timeout 600 "${SUDO[@]}" apt-get update -qq >/tmp/petrel-apt-update.log 2>&1; then
    cat /tmp/petrel-apt-update.log >&2
    echo "setup: apt-get update failed" >&2
    exit 1
fi
if ! timeout 1200 "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >/tmp/petrel-apt-install.log 2>&1; then
    cat /tmp/petrel-apt-install.log >&2
    echo "setup: apt-get install failed for: ${missing[*]}" >&2
    exit 1
fi

for pkg in "${missing[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    if [ "$status" != "installed" ]; then
        echo "setup: $pkg is still not installed" >&2
        exit 1
    fi
done
echo "setup: done" >&2
