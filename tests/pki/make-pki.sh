#!/usr/bin/env bash
# Generates the test PKI used by Petrel's unit, in-process and interop tests.
#
#   bash tests/pki/make-pki.sh OUTDIR
#
# Every file name is fixed; README.md beside this script lists them. The
# output is rebuilt only when this script changes (OUTDIR/.stamp holds its
# hash), so running it again is cheap. Keys are random; names, serials,
# extensions and validity windows are not.
set -euo pipefail

if [ "$#" -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
out=$1
self="${BASH_SOURCE[0]}"
stamp=$( (sha256sum "$self"; openssl version) | sha256sum | cut -d' ' -f1)
if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
    echo "pki: $out is up to date"
    exit 0
fi

mkdir -p "$(dirname "$out")"
work=$(mktemp -d "$out.tmp.XXXXXX")
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
cd "$work"
export OPENSSL_CONF=/dev/null

SERVER_SAN="DNS:localhost,DNS:server.test,IP:127.0.0.1,IP:::1"

# ---------------------------------------------------------------- keys ---

keygen() { # NAME TYPE
    local name=$1 type=$2
    case "$type" in
        p256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
                  -pkeyopt ec_param_enc:named_curve -out "$name.key" ;;
        p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 \
                  -pkeyopt ec_param_enc:named_curve -out "$name.key" ;;
        rsa1024) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out "$name.key" ;;
        rsa2048) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$name.key" ;;
        rsapss) openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out "$name.key" ;;
        ed25519) openssl genpkey -algorithm ED25519 -out "$name.key" ;;
        *) echo "pki: unknown key type $type" >&2; exit 1 ;;
    esac 2>/dev/null
    chmod 600 "$name.key"
}

# ---------------------------------------------------- CA configuration ---

# ca_init DIR: an `openssl ca` database for one issuing CA.
ca_init() {
    local dir=$1
    mkdir -p "$dir/newcerts"
    : >"$dir/index.txt"
    echo "unique_subject = no" >"$dir/index.txt.attr"
    echo 1000 >"$dir/serial"
    echo 1000 >"$dir/crlnumber"
    cat >"$dir/ca.cnf" <<EOF
[ ca ]
default_ca = ca_default

[ ca_default ]
dir = $work/$dir
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
crlnumber = \$dir/crlnumber
default_md = sha256
default_days = 3650
default_crl_days = 3650
policy = policy_any
unique_subject = no
email_in_dn = no
copy_extensions = none
crl_extensions = crl_ext

[ policy_any ]
organizationName = optional
commonName = supplied

[ crl_ext ]
authorityKeyIdentifier = keyid:always
EOF
}

# Certificate extensions, one section per kind of certificate.
cat >ext.cnf <<EOF
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ int_ext ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ server_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $SERVER_SAN
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ wronghost_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:other.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ cnonly_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ client_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:client.test
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF

# A leaf of about 310 KB of DER (15,000 subjectAltNames): larger than the default
# limits on messages and chains, for tests that raise them.
{
    printf '\n[ big_ext ]\nbasicConstraints = critical, CA:FALSE\n'
    printf 'keyUsage = critical, digitalSignature\nextendedKeyUsage = serverAuth\n'
    printf 'subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n'
    printf 'subjectAltName = DNS:localhost'
    for i in $(seq -w 0 14999); do
        printf ',DNS:h%s.example.test' "$i"
    done
    printf '\n'
} >>ext.cnf

# `openssl req` reads extension sections from its own configuration.
cat - ext.cnf >req.cnf <<EOF
[ req ]
distinguished_name = dn
prompt = no

[ dn ]
CN = unused

EOF

# self_signed NAME KEYTYPE SUBJECT
self_signed() {
    local name=$1 type=$2 subject=$3
    keygen "$name" "$type"
    openssl req -config req.cnf -new -x509 -key "$name.key" -subj "$subject" -days 7300 \
        -sha256 -set_serial 1 -extensions ca_ext -out "$name.pem"
    ca_init "$name.db"
}

# issue ISSUER NAME KEYTYPE SUBJECT EXTSECTION [STARTDATE ENDDATE]
issue() {
    local issuer=$1 name=$2 type=$3 subject=$4 ext=$5
    local dates=()
    if [ "$#" -ge 7 ]; then
        dates=(-startdate "$6" -enddate "$7")
    fi
    keygen "$name" "$type"
    openssl req -config req.cnf -new -key "$name.key" -subj "$subject" -out "$name.csr"
    openssl ca -batch -notext -config "$issuer.db/ca.cnf" -cert "$issuer.pem" \
        -keyfile "$issuer.key" -in "$name.csr" -out "$name.pem" -preserveDN \
        -extfile ext.cnf -extensions "$ext" "${dates[@]}" 2>ca.log || {
        cat ca.log >&2
        exit 1
    }
    rm -f "$name.csr"
}

# chain NAME: leaf followed by the intermediate CA.
chain() {
    cat "$1.pem" int-ca.pem >"$1-chain.pem"
}

ORG="/O=Petrel Test"

# ------------------------------------------------------------- the CAs ---

self_signed root-ca p256 "$ORG/CN=Petrel Test Root CA"
issue root-ca int-ca p256 "$ORG/CN=Petrel Test Intermediate CA" int_ext
ca_init int-ca.db
self_signed other-ca p256 "$ORG/CN=Petrel Untrusted Other CA"

# ---------------------------------------------------------- good leaves ---

issue int-ca server-p256 p256 "$ORG/CN=localhost" server_ext
issue int-ca server-rsa2048 rsa2048 "$ORG/CN=localhost" server_ext
issue int-ca server-p384 p384 "$ORG/CN=localhost" server_ext
issue int-ca server-ed25519 ed25519 "$ORG/CN=localhost" server_ext
issue int-ca server-rsapss rsapss "$ORG/CN=localhost" server_ext
issue int-ca client-p256 p256 "$ORG/CN=client.test" client_ext
issue int-ca client-rsa2048 rsa2048 "$ORG/CN=client.test" client_ext
issue int-ca client-p384 p384 "$ORG/CN=client.test" client_ext
issue int-ca client-ed25519 ed25519 "$ORG/CN=client.test" client_ext
issue int-ca client-rsapss rsapss "$ORG/CN=client.test" client_ext
issue int-ca server-big p256 "$ORG/CN=localhost" big_ext

# ----------------------------------------------------------- bad leaves ---

issue int-ca expired p256 "$ORG/CN=localhost" server_ext 20200101000000Z 20210101000000Z
issue int-ca client-expired p256 "$ORG/CN=client.test" client_ext 20200101000000Z 20210101000000Z
issue int-ca notyet p256 "$ORG/CN=localhost" server_ext 20400101000000Z 20410101000000Z
issue other-ca untrusted p256 "$ORG/CN=localhost" server_ext
issue int-ca wronghost p256 "$ORG/CN=other.test" wronghost_ext
issue int-ca cnonly p256 "$ORG/CN=localhost" cnonly_ext
issue int-ca revoked p256 "$ORG/CN=localhost" server_ext
issue int-ca rsa1024 rsa1024 "$ORG/CN=localhost" server_ext

for leaf in server-p256 server-rsa2048 server-p384 server-ed25519 server-rsapss server-big \
    client-p256 client-rsa2048 client-p384 client-ed25519 client-rsapss expired client-expired \
    notyet wronghost cnonly revoked rsa1024; do
    chain "$leaf"
done
# The untrusted leaf's issuer is a root, so its chain is the leaf alone.
cp untrusted.pem untrusted-chain.pem

# ------------------------------------------------------------------ CRL ---

openssl ca -batch -config int-ca.db/ca.cnf -cert int-ca.pem -keyfile int-ca.key \
    -revoke revoked.pem -crl_reason keyCompromise 2>ca.log || { cat ca.log >&2; exit 1; }
openssl ca -batch -config int-ca.db/ca.cnf -cert int-ca.pem -keyfile int-ca.key \
    -gencrl -out int-ca.crl.pem 2>ca.log || { cat ca.log >&2; exit 1; }

# --------------------------------------------------- trust stores, misc ---

cp root-ca.pem ca.pem
cat root-ca.pem int-ca.crl.pem >ca-with-crl.pem
mkdir capath
cp root-ca.pem capath/root-ca.pem
openssl rehash capath
openssl pkey -in server-p256.key -aes256 -passout pass:petrel -out server-p256-enc.key
chmod 600 server-p256-enc.key

# ------------------------------------------------------------ self-check ---

verify() { # EXPECT(ok|fail) ARGS...
    local expect=$1
    shift
    if openssl verify "$@" >verify.log 2>&1; then
        [ "$expect" = ok ] && return 0
    else
        [ "$expect" = fail ] && return 0
    fi
    echo "pki: self-check failed: openssl verify $* (expected $expect)" >&2
    cat verify.log >&2
    exit 1
}
for leaf in server-p256 server-rsa2048 server-p384 server-ed25519 server-rsapss server-big \
    client-p256 client-rsa2048 client-p384 client-ed25519 client-rsapss wronghost cnonly revoked; do
    verify ok -CAfile ca.pem -untrusted int-ca.pem "$leaf.pem"
done
verify ok -CApath capath -untrusted int-ca.pem server-p256.pem
verify fail -CAfile ca.pem -untrusted int-ca.pem expired.pem
verify fail -CAfile ca.pem -untrusted int-ca.pem -purpose sslclient client-expired.pem
verify ok -CAfile ca.pem -untrusted int-ca.pem -purpose sslclient client-p256.pem
verify fail -CAfile ca.pem -untrusted int-ca.pem -purpose sslclient server-p256.pem
verify fail -CAfile ca.pem -untrusted int-ca.pem notyet.pem
verify fail -CAfile ca.pem untrusted.pem
verify fail -CAfile ca.pem -untrusted int-ca.pem -crl_check -CRLfile int-ca.crl.pem revoked.pem
verify ok -CAfile ca.pem -untrusted int-ca.pem -crl_check -CRLfile int-ca.crl.pem server-p256.pem
verify fail -CAfile ca.pem -untrusted int-ca.pem -auth_level 2 rsa1024.pem
verify fail -CAfile ca.pem -untrusted int-ca.pem -verify_hostname localhost wronghost.pem
openssl pkey -in server-p256-enc.key -passin pass:petrel -noout

rm -rf ./*.db ca.log verify.log ext.cnf req.cnf
echo "$stamp" >.stamp
cd /
rm -rf "$out"
mv "$work" "$out"
trap - EXIT
echo "pki: wrote $out"
