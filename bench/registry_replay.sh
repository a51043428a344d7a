#!/usr/bin/env bash
# Registry memory and restart benchmark (run by bench/run.sh, or alone):
# N subjects, each with one small schema of its own, written as register
# commands straight into a fresh command-log topic; then a registry
# instance replays them at start.  Prints
#   BENCH registry.replay_<N> <seconds> s       (start until it listens)
#   BENCH registry.rss_per_subject <bytes> bytes (VmRSS / N after replay)
# against the same instance started on an empty topic as the baseline.
# Needs: BOOTSTRAP (a running Kafka; started here if unset), BENCH_QUICK.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/build/bin
work=$(mktemp -d /tmp/sharebus-bench-replay-XXXXXX)
pid= own_broker=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null || true
  [[ -n $own_broker ]] && broker-config/kafka-stop.sh "$work/kafka" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
if [[ -z ${BOOTSTRAP:-} ]]; then
  BOOTSTRAP=$(broker-config/kafka-start.sh "$work/kafka" 2>"$work/kafka-start.log") || { cat "$work/kafka-start.log"; exit 1; }
  own_broker=1
fi
sizes=${REPLAY_SUBJECTS:-"20000 100000"}
[[ ${BENCH_QUICK:-} == 1 ]] && sizes=${REPLAY_SUBJECTS:-20000}

# Starts an instance on `topic`; sets pid, secs (start until listening), rss (KiB).
start_on() { # topic
  cat >"$work/registry.conf" <<CONF
listen_port = 0;
port_file = "$work/port";
log_level = "warn";
storage = "kafka";
schemas_topic = "$1";
startup_timeout_ms = 600000;
kafka = { bootstrap_servers = "$BOOTSTRAP"; };
CONF
  rm -f "$work/port"
  local t0
  t0=$(date +%s.%N)
  "$bin/sharebus-registry" --config "$work/registry.conf" 2>"$work/registry.log" &
  pid=$!
  while [[ ! -s $work/port ]]; do
    kill -0 "$pid" 2>/dev/null || { cat "$work/registry.log" >&2; exit 1; }
    sleep 0.02
  done
  secs=$(echo "$(date +%s.%N) - $t0" | bc)
  sleep 1 # let the HTTP threads settle before reading RSS
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
}
stop_it() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

start_on _sharebus_schemas_replay_empty
base_secs=$secs base_rss=$rss
stop_it
echo "BENCH registry.replay_empty $base_secs s"
echo "BENCH registry.rss_empty $((base_rss * 1024)) bytes"
for n in $sizes; do
  topic=_sharebus_schemas_replay_$n
  # One command per line: key TAB value, as kcat -K'\t' reads it.
  python3 - "$n" >"$work/commands.txt" <<'PY'
import json, sys, uuid
n = int(sys.argv[1])
for i in range(n):
    schema = {"type": "record", "name": "Row%d" % i, "namespace": "bench.replay",
              "fields": [{"name": "id", "type": "long"}, {"name": "name", "type": "string"},
                         {"name": "since", "type": {"type": "int", "logicalType": "date"}}]}
    op = str(uuid.UUID(int=i + 1))
    cmd = {"type": "REGISTER", "subject": "dept%d.dataset%d-value" % (i % 50, i), "schema": json.dumps(schema),
           "normalize": False, "op_id": op}
    print(op + "\t" + json.dumps(cmd, separators=(",", ":")))
PY
  printf 'topics = ( { name = "%s"; partitions = 1; configs = { cleanup_policy = "compact"; }; } );\n' "$topic" \
    >"$work/topics.conf"
  "$bin/sharebus-topics" apply --config "$work/topics.conf" --bootstrap-servers "$BOOTSTRAP" >"$work/topics.log" 2>&1 \
    || { cat "$work/topics.log" >&2; exit 1; }
  kcat -P -l -b "$BOOTSTRAP" -t "$topic" -K$'\t' -z lz4 "$work/commands.txt" 2>"$work/kcat.log" || { cat "$work/kcat.log" >&2; exit 1; }
  start_on "$topic"
  echo "BENCH registry.replay_$n $secs s ratio=$(echo "scale=2; $secs / $base_secs" | bc) baseline=registry.replay_empty"
  echo "BENCH registry.rss_per_subject_$n $((rss * 1024 / n)) bytes (above empty: $(((rss - base_rss) * 1024 / n)))"
  # The replayed state answers: the last subject is there.
  last=$((n - 1))
  curl -sf "http://127.0.0.1:$(cat "$work/port")/subjects/dept$((last % 50)).dataset$last-value/versions/1" >/dev/null \
    || { echo "bench: subject $last missing after replay" >&2; exit 1; }
  stop_it
done
