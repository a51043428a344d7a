#!/usr/bin/env bash
# make bench: the CPU and memory of sharebus-lag watching LAG_GROUPS (50)
# consumer groups of LAG_PARTITIONS (40) partitions each, 2,000 in all,
# sampled every second (30 times as often as its default) for LAG_SECONDS
# (30) once every group is in its API.  Prints
#   BENCH lag.cpu <cores> cores  (CPU seconds over wall seconds, start-up included)
#   BENCH lag.rss <KiB> KiB      (peak resident memory)
# Run by bench/run.sh with BOOTSTRAP, the broker it started.
set -euo pipefail
cd "$(dirname "$0")/.."
bootstrap=${BOOTSTRAP:?BOOTSTRAP names the broker}
groups=${LAG_GROUPS:-50} parts=${LAG_PARTITIONS:-40} secs=${LAG_SECONDS:-30}
work=$(mktemp -d /tmp/sharebus-bench-lag-XXXXXX)
lag_pid=
cleanup() {
  [[ -n $lag_pid ]] && kill "$lag_pid" 2>/dev/null && wait "$lag_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
{
  printf 'partitions = %d;\ntopics = (\n' "$parts"
  for ((i = 0; i < groups; i++)); do printf '  { name = "lagbench.t%d"; }%s\n' "$i" "$([[ $i == $((groups - 1)) ]] || echo ,)"; done
  printf ');\n'
} >"$work/topics.conf"
build/bin/sharebus-topics apply --config "$work/topics.conf" --bootstrap-servers "$bootstrap" >"$work/topics.log" 2>&1 \
  || { cat "$work/topics.log" >&2; exit 1; }
build/bench/bench_tool commit-groups "$bootstrap" lagbench "$groups" "$parts"
names=$(for ((i = 0; i < groups; i++)); do printf '%slagbench.g%d' "$([[ $i == 0 ]] || echo ,)" "$i"; done)
cat >"$work/lag.conf" <<CONF
groups = "$names";
interval_ms = 1000;
window = 10;
metrics_listen = "127.0.0.1:0";
kafka = { bootstrap_servers = "$bootstrap"; };
CONF
build/bench/bench_tool measure-cpu build/bin/sharebus-lag --config "$work/lag.conf" >"$work/measure.out" 2>"$work/lag.log" &
lag_pid=$!
port=
for _ in $(seq 300); do
  port=$(grep -so 'serving /metrics and /healthz on [^ ]*' "$work/lag.log" | awk -F: '{print $NF}') || true
  [[ -n $port ]] && break
  sleep 0.1
done
[[ -n $port ]] || { echo "bench: sharebus-lag did not start:" >&2; tail -5 "$work/lag.log" >&2; exit 1; }
watched() {
  curl -sf "http://127.0.0.1:$port/api/v1/groups" |
    python3 -c 'import json,sys; g=json.load(sys.stdin)["groups"]; print(len(g), sum(x["partitions"] for x in g))'
}
seen=
for _ in $(seq 120); do
  seen=$(watched) || true
  [[ $seen == "$groups $((groups * parts))" ]] && break
  sleep 0.5
done
[[ $seen == "$groups $((groups * parts))" ]] || { echo "bench: sharebus-lag watches $seen groups and partitions, not $groups $((groups * parts))" >&2; exit 1; }
sleep "$secs"
kill -TERM "$lag_pid"
wait "$lag_pid" || { echo "bench: sharebus-lag failed:" >&2; tail -5 "$work/lag.log" >&2; exit 1; }
lag_pid=
read -r wall rss cpu <"$work/measure.out"
echo "BENCH lag.cpu $(echo "scale=3; $cpu / $wall" | bc) cores ($((groups * parts)) partitions in $groups groups, a sample a second)"
echo "BENCH lag.rss $rss KiB"
