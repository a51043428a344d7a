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

if [[ -n ${SHAREBUS_KAFKA_HOME:-} ]]; then
  libs=$SHAREBUS_KAFKA_HOME/libs
else
  libs=${SHAREBUS_CACHE:-$(dirname "$here")/.cache}/kafka/libs
  compgen -G "$libs/kafka_2.13-*.jar" >/dev/null || "$here/kafka-fetch.sh" >&2
fi
java=(java -cp "$libs/*")

if [[ -f $DIR/kafka.pid ]] && grep -qa 'kafka\.Kafka' "/proc/$(cat "$DIR/kafka.pid")/cmdline" 2>/dev/null; then
  log "a broker is already running from $DIR (pid $(cat "$DIR/kafka.pid"))"; exit 1
fi

# Print N free TCP ports on 127.0.0.1 in 19092..19999, other than the ones given after N.
free_ports() {
  python3 - "$@" <<'PY'
import random, socket, sys
n, taken = int(sys.argv[1]), set(sys.argv[2:])
ports = []
while len(ports) < n:
    p = random.randint(19092, 19999)
    if str(p) in taken or p in ports:
        continue
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", p)); ports.append(p)
        except OSError:
            pass
print(*ports)
PY
}

# Use the ports given on the command line, pick free ones for the others.
pick_ports() {
  port=$given_port cport=$given_cport
  [[ -n $port ]] || port=$(free_ports 1 "$cport")
  [[ -n $cport ]] || cport=$(free_ports 1 "$port")
}

# Port of listener NAME in an existing server.properties.
listener_port() { sed -n "s|^listeners=.*$1://127.0.0.1:\([0-9]*\).*|\1|p" "$DIR/server.properties"; }

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

format_storage() {
  rm -rf "$DIR/data"
  local id
  id=$("${java[@]}" kafka.tools.StorageTool random-uuid)
  "${java[@]}" kafka.tools.StorageTool format --standalone -t "$id" -c "$DIR/server.properties" >"$DIR/format.log" 2>&1 \
    || { cat "$DIR/format.log" >&2; exit 1; }
}

stop_jvm() {
  local pid
  pid=$(cat "$DIR/kafka.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$DIR/kafka.pid"
}

start_jvm() {
  for f in kafka.log kafka.out; do [[ ! -s $DIR/$f ]] || mv "$DIR/$f" "$DIR/$f.prev"; done
  : >"$DIR/kafka.log"
  # The inner bash writes its own pid, then becomes the JVM (exec), so kafka.pid is the JVM's.
  setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$DIR/kafka.pid" \
    java -Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$here/log4j2.properties" -Dsharebus.kafka.logfile="$DIR/kafka.log" \
    -cp "$libs/*" kafka.Kafka "$DIR/server.properties" >"$DIR/kafka.out" 2>&1 </dev/null &
  for _ in $(seq 50); do [[ -s $DIR/kafka.pid ]] && break; sleep 0.1; done
}

# 0 when ready, 1 when the JVM died or the deadline passed. The log line makes sure that the
# broker answering is this one, not another that holds the port (this JVM then fails to bind).
wait_ready() {
  local pid deadline=$((SECONDS + 90))
  pid=$(cat "$DIR/kafka.pid")
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || return 1
    grep -q 'Kafka Server started' "$DIR/kafka.log" &&
      kcat -L -b "127.0.0.1:$port" -m 5 -X reconnect.backoff.max.ms=500 2>/dev/null | grep -q '1 brokers:' &&
      return 0
    sleep 0.5
  done
  return 1
}

show_logs() {
  log "broker did not become ready on 127.0.0.1:$port; last lines of $DIR/kafka.log:"
  tail -n 40 "$DIR/kafka.log" >&2 || true
  log "JVM output ($DIR/kafka.out):"
  tail -n 40 "$DIR/kafka.out" >&2 || true
}

trap 'stop_jvm; exit 1' INT TERM

if [[ -f $DIR/data/meta.properties && -f $DIR/server.properties ]]; then
  port=$(listener_port PLAINTEXT) cport=$(listener_port CONTROLLER)   # restart: same ports
  [[ ${given_port:-$port} == "$port" && ${given_cport:-$cport} == "$cport" ]] \
    || { log "$DIR was formatted for ports $port/$cport; remove it to change them"; exit 1; }
  attempts=1
else
  # Picked ports may be taken by someone else before the JVM binds them: then retry.
  attempts=$([[ -z $given_port && -z $given_cport ]] && echo 3 || echo 1)
  pick_ports
  write_properties
  format_storage
fi

t0=$SECONDS
for try in $(seq "$attempts"); do
  log "starting Kafka in $DIR on 127.0.0.1:$port (controller $cport)"
  start_jvm
  if wait_ready; then
    echo "127.0.0.1:$port" >"$DIR/bootstrap"
    log "ready after $((SECONDS - t0)) s"
    echo "127.0.0.1:$port"
    exit 0
  fi
  if ((try < attempts)) && grep -q 'BindException\|Address already in use' "$DIR/kafka.log" "$DIR/kafka.out"; then
    stop_jvm
    log "port taken, trying others"
    pick_ports
    write_properties
    format_storage
    continue
  fi
  break
done
show_logs
stop_jvm
exit 1
