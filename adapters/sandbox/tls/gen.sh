#!/usr/bin/env bash
# Regenerates the sandbox's TLS test certificates (test use only: the keys are public).
#   ca.pem            a P-256 test CA ("KONA PLATE sandbox test CA")
#   p256.pem/.key     a P-256 server key and its certificate for localhost and 127.0.0.1
#   rsa.pem/.key      a 2048-bit RSA server key and its certificate, same names
#   other.pem/.key    another P-256 key under the same names, from the same CA
# All valid for 100 years. Run from this directory: bash gen.sh
set -euo pipefail
days=36500
ext=$(mktemp)
trap 'rm -f "$ext" ./*.csr ./*.srl ca.key' EXIT
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$ext"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem \
  -days $days -subj "/CN=KONA PLATE sandbox test CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
leaf() { # name keyspec
  openssl req -new -newkey "$2" ${3:+-pkeyopt "$3"} -nodes -keyout "$1.key.tmp" -out "$1.csr" -subj "/CN=localhost" 2>/dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$1.key.tmp" -out "$1.key"
  rm -f "$1.key.tmp"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days $days -extfile "$ext" -out "$1.pem" 2>/dev/null
}
leaf p256 ec ec_paramgen_curve:prime256v1
leaf rsa rsa:2048
leaf other ec ec_paramgen_curve:prime256v1
for f in p256 rsa other; do
  printf '%s: ' "$f"
  openssl x509 -in "$f.pem" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | openssl enc -base64
done
