# shellcheck shell=bash
# Pieces shared by kafka-start.sh (one node) and cluster-start.sh (three nodes); sourced, not run.
# The caller sets `here` (this folder) and defines log(). A node's folder NODE holds
# server.properties, data/, kafka.log (broker log), kafka.out (JVM stdout/stderr) and kafka.pid.

# The class path: SHAREBUS_KAFKA_HOME/libs, or the cache (fetched when empty). Sets libs, java.
kafka_classpath() {
  if [[ -n ${SHAREBUS_KAFKA_HOME:-} ]]; then
    libs=$SHAREBUS_KAFKA_HOME/libs
  else
    libs=${SHAREBUS_CACHE:-$(dirname "$here")/.cache}/kafka/libs
    compgen -G "$libs/kafka_2.13-*.jar" >/dev/null || "$here/kafka-fetch.sh" >&2
  fi
  java=(java -cp "$libs/*")
}

# 0 when NODE's kafka.pid names a running broker JVM (pids get reused: the command line says).
node_running() {
  [[ -f $1/kafka.pid ]] && grep -qa 'kafka\.Kafka' "/proc/$(cat "$1/kafka.pid")/cmdline" 2>/dev/null
}

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

# Port of listener NAME in NODE's server.properties.
listener_port() { sed -n "s|^listeners.*[=,]$2://127.0.0.1:\([0-9]*\).*|\1|p" "$1/server.properties"; }

# format_storage NODE CLUSTER_ID [StorageTool format options...]: empties NODE/data and formats it.
format_storage() {
  local node=$1 id=$2
  shift 2
  rm -rf "$node/data"
  "${java[@]}" kafka.tools.StorageTool format -t "$id" -c "$node/server.properties" "$@" >"$node/format.log" 2>&1 \
    || { cat "$node/format.log" >&2; return 1; }
}

# start_jvm NODE HEAP_OPTIONS...: starts the broker of NODE in the background, its own session.
start_jvm() {
  local node=$1 f
  shift
  for f in kafka.log kafka.out; do [[ ! -s $node/$f ]] || mv "$node/$f" "$node/$f.prev"; done
  : >"$node/kafka.log"
  rm -f "$node/kafka.pid"
  # The inner bash writes its own pid, then becomes the JVM (exec), so kafka.pid is the JVM's.
  setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$node/kafka.pid" \
    java "$@" -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$here/log4j2.properties" -Dsharebus.kafka.logfile="$node/kafka.log" \
    -cp "$libs/*" kafka.Kafka "$node/server.properties" >"$node/kafka.out" 2>&1 </dev/null &
  for _ in $(seq 50); do [[ -s $node/kafka.pid ]] && break; sleep 0.1; done
}

# stop_jvm NODE: SIGTERM, up to 10 s, then SIGKILL (a start that failed).
stop_jvm() {
  local pid
  pid=$(cat "$1/kafka.pid" 2>/dev/null) || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$1/kafka.pid"
}

# node_ready NODE PORT BROKERS: 0 once NODE's log says it started and a metadata request to it
# lists BROKERS brokers. The log line makes sure that the broker answering is this one, not
# another that holds the port (this JVM then fails to bind).
# kcat_opts: kcat's security options (a --secure broker), empty for plaintext.
kcat_opts=()
node_ready() {
  grep -q 'Kafka Server started' "$1/kafka.log" &&
    kcat -L -b "127.0.0.1:$2" "${kcat_opts[@]}" -m 5 -X reconnect.backoff.max.ms=500 2>/dev/null | grep -q " $3 brokers:"
}

# 0 when NODE's JVM failed because a port was taken.
port_taken() { grep -q 'BindException\|Address already in use' "$1/kafka.log" "$1/kafka.out"; }

show_logs() {
  log "broker did not become ready on 127.0.0.1:$2; last lines of $1/kafka.log:"
  tail -n 40 "$1/kafka.log" >&2 || true
  log "JVM output ($1/kafka.out):"
  tail -n 40 "$1/kafka.out" >&2 || true
}
