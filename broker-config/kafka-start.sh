#!/usr/bin/env bash
# Start a single-node KRaft Kafka (combined broker+controller) on 127.0.0.1 with all state in
# DIR: data/, server.properties, kafka.log (broker log), kafka.out (JVM stdout/stderr),
# kafka.pid, bootstrap ("127.0.0.1:PORT"). Free ports in 19092..19999 are picked when not given.
# A DIR that already holds a formatted broker is restarted on its data and ports.
# Waits until a metadata request answers, then prints the bootstrap address (only line on stdout).
# Usage: broker-config/kafka-start.sh DIR [PORT] [CONTROLLER_PORT]   (stop: kafka-stop.sh DIR)
set -euo pipefail

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
}

write_properties() {
  cat >"$DIR/server.properties" <<EOF
# Written by broker-config/kafka-start.sh
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
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

format() { format_storage "$DIR" "$("${java[@]}" kafka.tools.StorageTool random-uuid)" --standalone || exit 1; }

trap 'stop_jvm "$DIR"; exit 1' INT TERM

if [[ -f $DIR/data/meta.properties && -f $DIR/server.properties ]]; then
  port=$(listener_port "$DIR" PLAINTEXT) cport=$(listener_port "$DIR" CONTROLLER)   # restart: same ports
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

t0=$SECONDS
for try in $(seq "$attempts"); do
  log "starting Kafka in $DIR on 127.0.0.1:$port (controller $cport)"
  start_jvm "$DIR" -Xms256m -Xmx1g
  if wait_ready; then
    echo "127.0.0.1:$port" >"$DIR/bootstrap"
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
