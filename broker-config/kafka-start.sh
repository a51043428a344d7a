#!/usr/bin/env bash
# Start a single-node KRaft Kafka (combined broker+controller) on 127.0.0.1 with all state in
# DIR: data/, server.properties, kafka.log (broker log), kafka.out (JVM stdout/stderr),
# kafka.pid, bootstrap ("127.0.0.1:PORT"). Free ports in 19092..19999 are picked when not given.
# A DIR that already holds a formatted broker is restarted on its data and ports.
# Waits until a metadata request answers, then prints the bootstrap address (only line on stdout).
#
# --secure PKI_DIR (made by broker-config/pki.sh): no plaintext at all. PORT is SSL with a client
# certificate required (the address printed; the principal is the certificate's CN, User:NAME), a
# second free port is SASL_SSL with SCRAM-SHA-512 (DIR/bootstrap.scram; every principal with a
# PKI_DIR/NAME.password gets its credential when DIR is formatted), the controller listener is SSL
# with client certificates too, and the brokers talk to each other as User:broker. sharebus's
# programs log in with their certificates: Debian's librdkafka 2.0.2 computes a SCRAM proof that
# Kafka 4.x refuses (fixed in librdkafka 2.6.1), so SCRAM is for newer clients (the interop tests'
# confluent-kafka). StandardAuthorizer, no ACL meaning no access; super users User:broker and
# User:admin (sharebus-topics applies the ACLs as admin).
# Usage: broker-config/kafka-start.sh [--secure PKI_DIR] DIR [PORT] [CONTROLLER_PORT]   (stop: kafka-stop.sh DIR)
set -euo pipefail

pki=
if [[ ${1:-} == --secure ]]; then
  [[ $# -ge 2 && -s $2/ca.crt && -s $2/broker.pem ]] || { echo "kafka-start: --secure needs a PKI_DIR made by broker-config/pki.sh" >&2; exit 2; }
  pki=$(cd "$2" && pwd)
  shift 2
fi
[[ $# -ge 1 && $# -le 3 ]] || { sed -n 's/^# Usage: //p' "$0" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
given_port=${2:-} given_cport=${3:-}
log() { echo "kafka-start: $*" >&2; }

# shellcheck source=broker-config/kafka-lib.sh
. "$here/kafka-lib.sh"
kafka_classpath

if node_running "$DIR"; then
  log "a broker is already running from $DIR (pid $(cat "$DIR/kafka.pid"))"; exit 1
fi

# Use the ports given on the command line, pick free ones for the others.
pick_ports() {
  port=$given_port cport=$given_cport
  [[ -n $port ]] || port=$(free_ports 1 "$cport")
  [[ -n $cport ]] || cport=$(free_ports 1 "$port")
  sasl_port=
  [[ -z $pki ]] || sasl_port=$(free_ports 1 "$port" "$cport")
}

# The listeners and security of a --secure broker.
secure_properties() {
  cat <<SECURE
listeners=SSL://127.0.0.1:$port,SASL_SSL://127.0.0.1:$sasl_port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=SSL://127.0.0.1:$port,SASL_SSL://127.0.0.1:$sasl_port
controller.listener.names=CONTROLLER
inter.broker.listener.name=SSL
listener.security.protocol.map=CONTROLLER:SSL,SSL:SSL,SASL_SSL:SASL_SSL
ssl.keystore.type=PEM
ssl.keystore.location=$pki/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$pki/ca.crt
ssl.endpoint.identification.algorithm=https
listener.name.ssl.ssl.client.auth=required
listener.name.controller.ssl.client.auth=required
ssl.principal.mapping.rules=RULE:^CN=([^,]+).*\$/\$1/,DEFAULT
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
super.users=User:broker;User:admin
allow.everyone.if.no.acl.found=false
SECURE
}

plain_properties() {
  cat <<PLAIN
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
PLAIN
}

write_properties() {
  cat >"$DIR/server.properties" <<EOF
# Written by broker-config/kafka-start.sh
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
$(if [[ -n $pki ]]; then secure_properties; else plain_properties; fi)
log.dirs=$DIR/data
num.partitions=3
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
EOF
}

# 0 when ready, 1 when the JVM died or the deadline passed.
wait_ready() {
  local pid deadline=$((SECONDS + 90))
  pid=$(cat "$DIR/kafka.pid")
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || return 1
    node_ready "$DIR" "$port" 1 && return 0
    sleep 0.5
  done
  return 1
}

# A --secure broker's principals get their SCRAM credentials with the storage (KIP-900).
format() {
  local scram=() f
  if [[ -n $pki ]]; then
    for f in "$pki"/*.password; do
      [[ -e $f ]] && scram+=(--add-scram "SCRAM-SHA-512=[name=$(basename "$f" .password),password=$(cat "$f")]")
    done
  fi
  format_storage "$DIR" "$("${java[@]}" kafka.tools.StorageTool random-uuid)" --standalone "${scram[@]}" || exit 1
}

# The tools' way in to a --secure broker: admin's certificate.
secure_tools() {
  kcat_opts=(-X security.protocol=SSL -X "ssl.ca.location=$pki/ca.crt"
    -X "ssl.certificate.location=$pki/admin.crt" -X "ssl.key.location=$pki/admin.key")
}

trap 'stop_jvm "$DIR"; exit 1' INT TERM

if [[ -f $DIR/data/meta.properties && -f $DIR/server.properties ]]; then
  if grep -q '^listeners=SSL' "$DIR/server.properties"; then # restart: secure as it was made
    pki=$(dirname "$(sed -n 's/^ssl.truststore.location=//p' "$DIR/server.properties")")
    port=$(listener_port "$DIR" SSL) sasl_port=$(listener_port "$DIR" SASL_SSL)
  else
    [[ -z $pki ]] || { log "$DIR holds a plaintext broker; remove it to make a --secure one"; exit 1; }
    port=$(listener_port "$DIR" PLAINTEXT)
  fi
  cport=$(listener_port "$DIR" CONTROLLER) # restart: same ports
  [[ ${given_port:-$port} == "$port" && ${given_cport:-$cport} == "$cport" ]] \
    || { log "$DIR was formatted for ports $port/$cport; remove it to change them"; exit 1; }
  attempts=1
else
  # Picked ports may be taken by someone else before the JVM binds them: then retry.
  attempts=$([[ -z $given_port && -z $given_cport ]] && echo 3 || echo 1)
  pick_ports
  write_properties
  format
fi

[[ -z $pki ]] || secure_tools
t0=$SECONDS
for try in $(seq "$attempts"); do
  log "starting Kafka in $DIR on 127.0.0.1:$port (controller $cport)"
  start_jvm "$DIR" -Xms256m -Xmx1g
  if wait_ready; then
    echo "127.0.0.1:$port" >"$DIR/bootstrap"
    [[ -z $pki ]] || echo "127.0.0.1:$sasl_port" >"$DIR/bootstrap.scram"
    log "ready after $((SECONDS - t0)) s"
    echo "127.0.0.1:$port"
    exit 0
  fi
  if ((try < attempts)) && port_taken "$DIR"; then
    stop_jvm "$DIR"
    log "port taken, trying others"
    pick_ports
    write_properties
    format
    continue
  fi
  break
done
show_logs "$DIR" "$port"
stop_jvm "$DIR"
exit 1
