#!/usr/bin/env bash
# The exchange's certificates and passwords, made with openssl into PKI_DIR (mode 0700):
#   ca.crt, ca.key                      the CA every party trusts (10 years)
#   broker.crt, broker.key, broker.pem  the brokers' certificate (CN=broker, SAN 127.0.0.1 and
#                                       localhost; server and client use, for the listeners
#                                       between brokers and to the controllers)
#   server.crt, server.key              the HTTP endpoints' certificate (CN=server, SAN
#                                       127.0.0.1 and localhost; server use): registry, metrics,
#                                       dashboard
#   NAME.crt, NAME.key, NAME.pem        a client certificate per principal (CN=NAME, client use)
#   NAME.password                       its SASL/SCRAM-SHA-512 password (32 random hex digits)
#   NAME.kafka.conf                     the librdkafka settings of a sharebus program logging in
#                                       as NAME with SCRAM over TLS, for its config file's
#                                       `kafka` group (@include it, or copy the lines)
#   NAME.ssl.kafka.conf                 the same with its client certificate instead (mTLS)
# `admin` (the super user of sharebus-topics and the tests) is always made. A file that exists is
# kept, so running it again with more names adds only theirs. Keys are unencrypted PKCS#8, 0600.
# Usage: broker-config/pki.sh PKI_DIR [NAME...]
set -euo pipefail

[[ $# -ge 1 ]] || { sed -n 's/^# Usage: //p' "$0" >&2; exit 2; }
dir=$1
shift
log() { echo "pki: $*" >&2; }
for name in "$@"; do
  # A principal's name is a file name here and a Kafka principal (User:NAME) there.
  [[ $name =~ ^[a-z][a-z0-9_-]{0,63}$ && $name != broker && $name != ca && $name != server ]] ||
    { log "bad principal name '$name' (lower-case letter, then letters, digits, _ or -; not broker, ca or server)"; exit 2; }
done
command -v openssl >/dev/null || { log "openssl is not installed (setup.sh installs it)"; exit 1; }
umask 077
mkdir -p "$dir"
chmod 700 "$dir"
dir=$(cd "$dir" && pwd)
days=3650

if [[ ! -s $dir/ca.crt ]]; then
  openssl req -x509 -new -newkey rsa:2048 -nodes -sha256 -days "$days" -subj "/O=sharebus/CN=sharebus CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$dir/ca.key" -out "$dir/ca.crt" 2>/dev/null
  log "made the CA: $dir/ca.crt"
fi

# cert NAME EXTENSIONS: NAME.key, NAME.crt signed by the CA, NAME.pem = key + certificate.
cert() {
  local name=$1 ext=$2
  [[ -s $dir/$name.crt && -s $dir/$name.key ]] && return 0
  openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "/O=sharebus/CN=$name" \
    -keyout "$dir/$name.key" -out "$dir/$name.csr" 2>/dev/null
  printf '%b\n' "$ext" >"$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial \
    -days "$days" -sha256 -extfile "$dir/$name.ext" -out "$dir/$name.crt" 2>/dev/null
  rm -f "$dir/$name.csr" "$dir/$name.ext"
  cat "$dir/$name.key" "$dir/$name.crt" >"$dir/$name.pem"
  log "made the certificate of $name"
}

cert broker "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost"

cert server "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost"

for name in admin "$@"; do
  cert "$name" "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth"
  [[ -s $dir/$name.password ]] || openssl rand -hex 16 >"$dir/$name.password"
  password=$(cat "$dir/$name.password")
  cat >"$dir/$name.kafka.conf" <<EOF
# librdkafka settings of $name: SASL/SCRAM-SHA-512 over TLS (written by broker-config/pki.sh)
security_protocol = "SASL_SSL";
sasl_mechanism = "SCRAM-SHA-512";
sasl_username = "$name";
sasl_password = "$password";
ssl_ca_location = "$dir/ca.crt";
EOF
  cat >"$dir/$name.ssl.kafka.conf" <<EOF
# librdkafka settings of $name: TLS with its client certificate (written by broker-config/pki.sh)
security_protocol = "SSL";
ssl_ca_location = "$dir/ca.crt";
ssl_certificate_location = "$dir/$name.crt";
ssl_key_location = "$dir/$name.key";
EOF
done
echo "$dir"
