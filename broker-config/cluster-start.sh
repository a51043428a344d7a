#!/usr/bin/env bash
# Start a three-node KRaft Kafka cluster on 127.0.0.1, each node a combined broker+controller
# (controller.quorum.voters lists all three; one cluster id formatted on each), with all state in
# DIR: DIR/node1..node3 as kafka-start.sh lays out one node (server.properties, data/, kafka.log,
# kafka.out, kafka.pid, bootstrap), DIR/cluster.id, and DIR/bootstrap, the three host:ports.
# Topics default to replication factor 3 and min.insync.replicas=2, internal topics too.
# Node N is broker and node id N, so that a test finds a partition leader's pid in
# DIR/nodeN/kafka.pid and can SIGKILL, SIGSTOP or restart it.
# With NODE numbers, only those nodes are started (a DIR already formatted: restarted on their
# data and ports); without, every node not running. A DIR already formatted keeps its ports.
# Ready means a metadata request to each started node lists 3 brokers; then prints DIR/bootstrap
# (only line on stdout). Each JVM gets at most 512 MiB of heap.
# Usage: broker-config/cluster-start.sh DIR [NODE...]   (stop: cluster-stop.sh DIR [NODE...])
set -euo pipefail

[[ $# -ge 1 ]] || { sed -n 's/^# Usage: //p' "$0" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
DIR=$(cd "$1" && pwd)
shift
log() { echo "cluster-start: $*" >&2; }
# shellcheck source=broker-config/kafka-lib.sh
. "$here/kafka-lib.sh"
kafka_classpath

NODES=(1 2 3)
for n in "$@"; do
  [[ $n =~ ^[123]$ ]] || { log "no node $n: the nodes are 1, 2 and 3"; exit 2; }
done
wanted=("$@")
((${#wanted[@]})) || wanted=("${NODES[@]}")

# ports[N] and cports[N]: node N's client and controller port.
declare -A ports cports
pick_ports() {
  local p
  read -r -a p <<<"$(free_ports 6)"
  for n in "${NODES[@]}"; do ports[$n]=${p[n - 1]} cports[$n]=${p[n + 2]}; done
}

write_properties() {
  local voters="" n
  for n in "${NODES[@]}"; do voters+="${voters:+,}$n@127.0.0.1:${cports[$n]}"; done
  for n in "${NODES[@]}"; do
    mkdir -p "$DIR/node$n"
    cat >"$DIR/node$n/server.properties" <<EOF
# Written by broker-config/cluster-start.sh: node $n of 3
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:${ports[$n]},CONTROLLER://127.0.0.1:${cports[$n]}
advertised.listeners=PLAINTEXT://127.0.0.1:${ports[$n]}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DIR/node$n/data
num.partitions=3
default.replication.factor=3
min.insync.replicas=2
unclean.leader.election.enable=false
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
offsets.topic.replication.factor=3
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=3
share.coordinator.state.topic.min.isr=2
# A replica that stops fetching (a paused broker) leaves the ISR after 10 s, not 30: acks=all
# writes wait for it that long.
replica.lag.time.max.ms=10000
EOF
    echo "127.0.0.1:${ports[$n]}" >"$DIR/node$n/bootstrap"
  done
}

format_all() {
  local id n pids=()
  id=$("${java[@]}" kafka.tools.StorageTool random-uuid)
  for n in "${NODES[@]}"; do format_storage "$DIR/node$n" "$id" & pids+=($!); done
  for p in "${pids[@]}"; do wait "$p" || { log "formatting failed"; exit 1; }; done
  echo "$id" >"$DIR/cluster.id"
}

# 0 once every node of $started is ready, 1 when one died or the deadline passed.
wait_ready() {
  local deadline=$((SECONDS + 120)) n pending
  while ((SECONDS < deadline)); do
    pending=0
    for n in "${started[@]}"; do
      node_running "$DIR/node$n" || { log "node $n exited"; return 1; }
      node_ready "$DIR/node$n" "${ports[$n]}" 3 || pending=1
    done
    ((pending)) || return 0
    sleep 0.5
  done
  return 1
}

stop_started() { for n in "${started[@]}"; do stop_jvm "$DIR/node$n" & done; wait; }
trap 'stop_started; exit 1' INT TERM

formatted=1
for n in "${NODES[@]}"; do [[ -f $DIR/node$n/data/meta.properties ]] || formatted=0; done
if ((formatted)); then
  for n in "${NODES[@]}"; do   # restart: the same ports
    ports[$n]=$(listener_port "$DIR/node$n" PLAINTEXT) cports[$n]=$(listener_port "$DIR/node$n" CONTROLLER)
  done
  attempts=1
else
  (($# == 0)) || { log "$DIR holds no formatted cluster: start all three nodes first"; exit 1; }
  # Picked ports may be taken by someone else before the JVMs bind them: then retry.
  attempts=3
  pick_ports
  write_properties
  format_all
fi
bootstrap=""
for n in "${NODES[@]}"; do bootstrap+="${bootstrap:+,}127.0.0.1:${ports[$n]}"; done

t0=$SECONDS
for try in $(seq "$attempts"); do
  started=()
  for n in "${wanted[@]}"; do
    if node_running "$DIR/node$n"; then
      log "node $n is running already (pid $(cat "$DIR/node$n/kafka.pid"))"
      continue
    fi
    log "starting node $n in $DIR/node$n on 127.0.0.1:${ports[$n]} (controller ${cports[$n]})"
    start_jvm "$DIR/node$n" -Xms128m -Xmx512m
    started+=("$n")
  done
  if wait_ready; then
    echo "$bootstrap" >"$DIR/bootstrap"
    log "ready after $((SECONDS - t0)) s: $bootstrap"
    echo "$bootstrap"
    exit 0
  fi
  taken=0
  for n in "${started[@]}"; do ! port_taken "$DIR/node$n" || taken=1; done
  if ((try < attempts && taken)); then
    stop_started
    log "a port was taken, trying others"
    pick_ports
    write_properties
    format_all
    continue
  fi
  break
done
for n in "${started[@]}"; do show_logs "$DIR/node$n" "${ports[$n]}"; done
stop_started
exit 1
