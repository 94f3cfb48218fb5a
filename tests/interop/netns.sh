#!/bin/sh
# Runs a command in a private network namespace whose only interface is
# loopback. The GnuTLS interop tests use it because gnutls-serv cannot be
# told to listen on 127.0.0.1 alone: inside the namespace its wildcard
# socket reaches nothing but this test.
set -eu
if [ "$(id -u)" -eq 0 ]; then
    userns=""
else
    userns="--map-root-user"
fi
exec unshare --net $userns -- sh -c 'ip link set lo up && PETREL_PRIVATE_NETNS=1 exec "$@"' \
    netns "$@"
