#!/bin/sh
# Regenerates the debug API's mTLS test certificates (debug_server_test.cpp): a CA, a server
# certificate for localhost/127.0.0.1 and a client certificate, all signed by the CA and valid
# for 100 years. Test keys only: never use them anywhere else.
set -eu
cd "$(dirname "$0")"
days=36500
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days $days \
  -subj "/CN=meshd debug test CA" -keyout ca.key -out ca.pem
for who in server client; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=meshd debug test $who" -keyout $who.key -out $who.csr
done
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
printf 'extendedKeyUsage=clientAuth\n' > client.ext
for who in server client; do
  openssl x509 -req -in $who.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days $days \
    -extfile $who.ext -out $who.pem
  rm $who.csr $who.ext
done
rm -f ca.srl ca.key
