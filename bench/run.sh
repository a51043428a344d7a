#!/usr/bin/env bash
# make bench: throughput and memory of the producer and the subscriber,
# each against a baseline measured in the same run on the same broker.
# Prints one line per figure:
#   BENCH <name> <value> <unit> [ratio=<value/baseline> baseline=<baseline-name>]
# BENCH_QUICK=1 uses fewer events (well under 3 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=$root/build/bin
tool=$root/build/bench/bench_tool
n=${BENCH_EVENTS:-$([[ ${BENCH_QUICK:-} == 1 ]] && echo 20000 || echo 200000)}
work=$(mktemp -d /tmp/sharebus-bench-XXXXXX)
registry_pid=
cleanup() {
  [[ -n $registry_pid ]] && kill "$registry_pid" 2>/dev/null || true
  broker-config/kafka-stop.sh "$work/kafka" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
ratio() { echo "scale=3; $1 / $2" | bc; }
rate() { echo "scale=0; $1 / $2" | bc; }

bootstrap=$(broker-config/kafka-start.sh "$work/kafka" 2>"$work/kafka-start.log") || { cat "$work/kafka-start.log"; exit 1; }
printf 'bench.raw 3\nbench.license 3\n' >"$work/topics.txt"
broker-config/create-topics.sh "$bootstrap" "$work/topics.txt" >/dev/null 2>&1
printf 'listen_port = 0;\nport_file = "%s/registry.port";\nkafka = { bootstrap_servers = "%s"; };\n' "$work" "$bootstrap" >"$work/registry.conf"
"$bin/sharebus-registry" --config "$work/registry.conf" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do [[ -s $work/registry.port ]] && break; sleep 0.1; done
registry=http://127.0.0.1:$(cat "$work/registry.port")

# The same changes for every run; their mean encoded size sets the baseline's record size.
mkdir -p "$work/schemas"
cp schemas/datasets/market.business_license.*.avsc "$work/schemas/"
for f in "$work"/schemas/market.business_license.*; do mv "$f" "${f/market.business_license/bench.license}"; done
"$bin/sharebus-sample" --dataset market.business_license --count "$n" --keys $((n / 4)) --seed 5 >"$work/changes.jsonl"
cat >"$work/producer.conf" <<CONF
department = "bench";
dataset = "license";
schema_dir = "$work/schemas";
registry_url = "$registry";
input = "$work/changes.jsonl";
log_level = "warn";
kafka = { bootstrap_servers = "$bootstrap"; };
CONF
read -r secs rss < <("$tool" measure "$bin/sharebus-producer" --config "$work/producer.conf" 2>"$work/producer.log" | tail -1)
producer_rate=$(rate "$n" "$secs")
records=$(kcat -C -b "$bootstrap" -t bench.license -e -q -f '%S\n' 2>/dev/null | awk '{s+=$1; n++} END {print n, int(s/n)}')
read -r total_records mean_size <<<"$records"
# The raw baseline varies from run to run (connection set-up, page cache):
# the better of two runs, so a ratio is not flattered by a slow baseline.
raw1=$("$tool" produce-raw "$bootstrap" bench.raw "$n" "$mean_size")
raw2=$("$tool" produce-raw "$bootstrap" bench.raw "$n" "$mean_size")
raw_rate=$((raw1 > raw2 ? raw1 : raw2))
echo "BENCH event.value_size $mean_size bytes"
echo "BENCH rdkafka.raw.produce $raw_rate events/s"
echo "BENCH producer.jsonl $producer_rate events/s ratio=$(ratio "$producer_rate" "$raw_rate") baseline=rdkafka.raw.produce"
echo "BENCH producer.rss $rss KiB"

raw_consume=$("$tool" consume-raw "$bootstrap" bench.license "$total_records")
echo "BENCH rdkafka.raw.consume $raw_consume events/s"
cat >"$work/subscriber.conf" <<CONF
name = "bench";
topics = "bench.license";
registry_url = "$registry";
sqlite_path = "$work/bench.db";
idle_exit_ms = 2000;
log_level = "warn";
kafka = { bootstrap_servers = "$bootstrap"; };
CONF
read -r secs rss < <("$tool" measure "$bin/sharebus-subscriber" --config "$work/subscriber.conf" 2>"$work/subscriber.log" | tail -1)
# The subscriber stops 2 s after the last record: that idle time is not work.
secs=$(echo "$secs - 2" | bc)
sub_rate=$(rate "$total_records" "$secs")
echo "BENCH subscriber.sqlite $sub_rate events/s ratio=$(ratio "$sub_rate" "$raw_consume") baseline=rdkafka.raw.consume"
echo "BENCH subscriber.rss $rss KiB"
applied=$(sqlite3 "$work/bench.db" "SELECT count(*) FROM sharebus_receipts")
[[ $applied == "$n" ]] || { echo "bench: subscriber applied $applied of $n events" >&2; exit 1; }
BOOTSTRAP="$bootstrap" bench/registry.sh
BOOTSTRAP="$bootstrap" bench/registry_replay.sh
