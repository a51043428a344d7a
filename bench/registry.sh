#!/usr/bin/env bash
# Registry benchmark (run by bench/run.sh): GET /schemas/ids/{id} and the
# lookup POST /subjects/{s} under wrk on loopback, against GET / on the same
# server as the baseline (the HTTP stack with no registry work).
# Needs: BOOTSTRAP (a running Kafka), BENCH_QUICK (optional).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/build/bin
secs=$([[ ${BENCH_QUICK:-} == 1 ]] && echo 5 || echo 15)
work=$(mktemp -d /tmp/sharebus-bench-registry-XXXXXX)
pid=
trap '[[ -n $pid ]] && kill $pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
cat >"$work/registry.conf" <<CONF
listen_port = 0;
port_file = "$work/port";
threads = ${SB_REGISTRY_THREADS:-4};
log_level = "warn";
storage = "kafka";
schemas_topic = "_sharebus_schemas_bench";
kafka = { bootstrap_servers = "$BOOTSTRAP"; };
CONF
"$bin/sharebus-registry" --config "$work/registry.conf" 2>"$work/registry.log" &
pid=$!
for _ in $(seq 300); do [[ -s $work/port ]] && break; sleep 0.1; done
[[ -s $work/port ]] || { cat "$work/registry.log"; exit 1; }
url=http://127.0.0.1:$(cat "$work/port")
schema=$(python3 -c 'import json,sys; print(json.dumps({"schema": open(sys.argv[1]).read()}))' schemas/datasets/civil.resident.row.avsc)
id=$(curl -sf -H 'Content-Type: application/json' -d "$schema" "$url/subjects/bench.resident-value/versions" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')

# wrk prints "Requests/sec: N" and, with --latency, a "99%" line.
run_wrk() { # name path [lua]
  local out
  out=$(SB_LOOKUP_BODY="$schema" wrk -t2 -c16 -d"${secs}s" --latency ${3:+-s "$3"} "$url$2")
  rps=$(awk '/Requests\/sec/ {printf "%d", $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; printf "%.3f", v}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  [[ -z $errors ]] || { echo "bench: $1 had $errors non-2xx answers" >&2; exit 1; }
}
run_wrk baseline /
base_rps=$rps base_p99=$p99
echo "BENCH registry.http.root $base_rps req/s"
echo "BENCH registry.http.root.p99 $base_p99 ms"
run_wrk ids "/schemas/ids/$id"
echo "BENCH registry.get_schema_by_id $rps req/s ratio=$(echo "scale=3; $rps / $base_rps" | bc) baseline=registry.http.root"
echo "BENCH registry.get_schema_by_id.p99 $p99 ms ratio=$(echo "scale=3; $p99 / $base_p99" | bc) baseline=registry.http.root.p99"
run_wrk lookup /subjects/bench.resident-value bench/lookup.lua
echo "BENCH registry.lookup $rps req/s ratio=$(echo "scale=3; $rps / $base_rps" | bc) baseline=registry.http.root"
echo "BENCH registry.lookup.p99 $p99 ms ratio=$(echo "scale=3; $p99 / $base_p99" | bc) baseline=registry.http.root.p99"
echo "BENCH registry.rss $(awk '/VmHWM/ {print $2}' /proc/$pid/status) KiB"
