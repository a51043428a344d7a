#!/usr/bin/env bash
# make bench: throughput and memory of the producer and the subscriber,
# each against a baseline measured in the same run on the same broker.
# Prints one line per figure:
#   BENCH <name> <value> <unit> [ratio=<value/baseline> baseline=<baseline-name>]
# BENCH_QUICK=1 uses fewer events (100,000: about 75 s on 2 cores).
# BENCH_EVENTS=N sets the number of events; BENCH_KEEP=1 keeps the work
# folder (logs, configs, outbox databases) and says where.
# BENCH_ONLY=subscriber measures the subscriber's figures alone (the
# changes published once, no producer, lag or registry figures).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=$root/build/bin
tool=$root/build/bench/bench_tool
n=${BENCH_EVENTS:-$([[ ${BENCH_QUICK:-} == 1 ]] && echo 100000 || echo 400000)}
work=$(mktemp -d /tmp/sharebus-bench-XXXXXX)
registry_pid= latency_pids=() pg_dir=
only=${BENCH_ONLY:-}
cleanup() {
  for pid in "${latency_pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  [[ -n $pg_dir ]] && tests/pg-throwaway.sh stop "$pg_dir"
  [[ -n $registry_pid ]] && kill "$registry_pid" 2>/dev/null || true
  broker-config/kafka-stop.sh "$work/kafka" >/dev/null 2>&1 || true
  [[ -n ${BENCH_KEEP:-} ]] && echo "bench: kept $work" >&2 || rm -rf "$work"
}
trap cleanup EXIT
ratio() { echo "scale=3; $1 / $2" | bc; }
# CPU time the hypervisor gave to others (/proc/stat "steal") while the
# producers and baselines ran: on a shared machine, the context a reader of
# the ratios needs (a run that lost a third of its CPU says little).
cpu_ticks() { awk '/^cpu /{t=0; for (i=2; i<=NF; i++) t+=$i; print t, $9}' /proc/stat; }
rate() { echo "scale=0; $1 / $2" | bc; }

bootstrap=$(broker-config/kafka-start.sh "$work/kafka" 2>"$work/kafka-start.log") || { cat "$work/kafka-start.log"; exit 1; }
# Department bench, one dataset (topic) per source and round, all with the
# business licence schemas; the producer's rejects topic; the baselines'.
sources=(jsonl csv outbox)
datasets=(jsonl csv outbox jsonl_2 csv_2 outbox_2 latency)
# A topics.conf of this run's topics (libconfig lists take no trailing comma).
{
  printf 'partitions = 1;\ntopics = (\n  { name = "bench.raw"; partitions = 3; },\n  { name = "rejects.bench"; },\n'
  printf '  { name = "dlq.bench"; },\n  { name = "dlq.bench_pg"; },\n  { name = "dlq.bench_latency"; }'
  printf ',\n  { name = "bench.%s"; partitions = 3; }' "${datasets[@]}"
  printf '\n);\n'
} >"$work/topics.conf"
"$bin/sharebus-topics" apply --config "$work/topics.conf" --bootstrap-servers "$bootstrap" >"$work/topics.log" 2>&1 \
  || { cat "$work/topics.log"; exit 1; }
printf 'listen_port = 0;\nport_file = "%s/registry.port";\nkafka = { bootstrap_servers = "%s"; };\n' "$work" "$bootstrap" >"$work/registry.conf"
"$bin/sharebus-registry" --config "$work/registry.conf" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do [[ -s $work/registry.port ]] && break; sleep 0.1; done
registry=http://127.0.0.1:$(cat "$work/registry.port")

# The same changes for every source: sharebus-sample's JSON lines, the same
# rows as CSV (bench/sample_convert.py; CSV has no before image, so its
# events are smaller and get a baseline of their own size) and as outbox
# rows (key, before, after and ts_ms of each line: the same events as the
# JSON lines).  Conversions and filling the outbox are not timed.
mkdir -p "$work/schemas"
for ds in "${datasets[@]}"; do
  for part in key row; do
    cp "schemas/datasets/market.business_license.$part.avsc" "$work/schemas/bench.$ds.$part.avsc"
  done
done
"$bin/sharebus-sample" --dataset market.business_license --count "$n" --keys $((n / 4)) --seed 5 >"$work/changes.jsonl"
deletes=$(grep -c '"op":"d"' "$work/changes.jsonl" || true)
python3 bench/sample_convert.py csv "$work/changes.jsonl" "$work/changes.csv" "$work/schemas/bench.csv.row.avsc"
producer_conf() { # dataset, then source settings
  cat <<CONF
department = "bench";
dataset = "$1";
schema_dir = "$work/schemas";
registry_url = "$registry";
log_level = "warn";
kafka = { bootstrap_servers = "$bootstrap"; };
CONF
  shift
  printf '%s\n' "$@"
}
for round in 1 2; do
  sfx=$([[ $round == 1 ]] || echo _2)
  producer_conf "jsonl$sfx" "input = \"$work/changes.jsonl\";" 'checkpoint_file = "none";' >"$work/producer-jsonl$sfx.conf"
  producer_conf "csv$sfx" 'source = "csv";' "input = \"$work/changes.csv\";" 'checkpoint_file = "none";' \
    'csv_op_column = "op";' >"$work/producer-csv$sfx.conf"
  producer_conf "outbox$sfx" 'source = "sqlite";' "sqlite_outbox_path = \"$work/outbox$sfx.db\";" >"$work/producer-outbox$sfx.conf"
  "$bin/sharebus-producer" --config "$work/producer-outbox$sfx.conf" --print-ddl sqlite | sqlite3 "$work/outbox$sfx.db" >/dev/null
  python3 bench/sample_convert.py outbox "$work/changes.jsonl" "$work/outbox$sfx.db" "outbox$sfx"
done

# A file source: timed from start to exit.  Both set `secs` and `rss` (KiB).
run_file_producer() { # dataset
  "$tool" measure "$bin/sharebus-producer" --config "$work/producer-$1.conf" >"$work/measure-$1.out" \
    2>"$work/producer-$1.log" || { echo "bench: producer ($1) failed:" >&2; tail -5 "$work/producer-$1.log" >&2; exit 1; }
  read -r secs rss < <(tail -1 "$work/measure-$1.out")
}
# The outbox source with --drain: timed from start to exit, which comes
# once no row is unsent (every row's delivery reported and recorded sent);
# checked after it.
run_outbox_producer() { # dataset
  local db=$work/$1.db ds=$1
  # One dataset per outbox: its unsent rows are those after the producer's
  # mark (source_sqlite.h).
  unsent() {
    sqlite3 "$db" "PRAGMA busy_timeout = 5000; SELECT coalesce((SELECT max(seq) FROM sharebus_outbox), 0) -
      coalesce((SELECT seq FROM sharebus_outbox_progress WHERE dataset = '$ds'), 0)" | tail -1
  }
  [[ $(unsent) == "$n" ]] || { echo "bench: $db holds $(unsent) unsent rows, not $n" >&2; exit 1; }
  "$tool" measure "$bin/sharebus-producer" --config "$work/producer-$1.conf" --drain >"$work/measure-$1.out" \
    2>"$work/producer-$1.log" || { echo "bench: producer ($1) failed:" >&2; tail -5 "$work/producer-$1.log" >&2; exit 1; }
  read -r secs rss < <(tail -1 "$work/measure-$1.out")
  [[ $(unsent) == 0 ]] || { echo "bench: producer ($1) exited with $(unsent) rows unsent" >&2; exit 1; }
}
# What reached a topic: records, tombstones, mean value and key size.
topic_sizes() { # topic -> "<records> <tombstones> <mean value bytes> <mean key bytes>"
  kcat -C -b "$bootstrap" -t "$1" -e -q -f '%S %K\n' 2>/dev/null |
    awk '{n++; k+=$2} $1>0 {v+=$1; m++} END {print n, n-m, int(v/m+0.5), int(k/n+0.5)}'
}
raw_produce() { # source whose records to imitate -> events/s
  "$tool" produce-raw "$bootstrap" bench.raw "$n" "${vsize[$1]}" "${ksize[$1]}" "${tombs[$1]}"
}

# A first run on a new broker pays for its warming up (log segments,
# leaders, page cache): a raw run of the same count, not reported.
"$tool" produce-raw "$bootstrap" bench.raw "$n" 200 24 0 >/dev/null

read -r ticks0 steal0 < <(cpu_ticks)
# Two rounds, each: every source, then the baselines; each figure is the
# best of its runs (the machine is shared, a run may be slowed by another
# process: the best run is the closest to what the code does, for the
# baseline as for the producer), each RSS the largest.
declare -A best peak records tombs vsize ksize
better() { # name value: keeps the larger value in best[name]
  [[ -n ${best[$1]:-} && ${best[$1]} -ge $2 ]] || best[$1]=$2
}
larger() { [[ -n ${peak[$1]:-} && ${peak[$1]} -ge $2 ]] || peak[$1]=$2; }
if [[ $only == subscriber ]]; then
  run_file_producer jsonl
  read -r "records[jsonl]" "tombs[jsonl]" _ _ < <(topic_sizes bench.jsonl)
  [[ ${records[jsonl]} == $((n + deletes)) ]] || { echo "bench: bench.jsonl holds ${records[jsonl]} records" >&2; exit 1; }
fi
for round in 1 2; do
  [[ $only == subscriber ]] && break
  sfx=$([[ $round == 1 ]] || echo _2)
  for src in "${sources[@]}"; do
    if [[ $src == outbox ]]; then
      run_outbox_producer "outbox$sfx"
    else
      run_file_producer "$src$sfx"
    fi
    better "$src" "$(rate "$n" "$secs")"
    larger "$src" "$rss"
  done
  for src in "${sources[@]}"; do
    read -r "records[$src]" "tombs[$src]" "vsize[$src]" "ksize[$src]" < <(topic_sizes "bench.$src$sfx")
    [[ ${records[$src]} == $((n + deletes)) && ${tombs[$src]} == "$deletes" ]] || {
      echo "bench: bench.$src$sfx holds ${records[$src]} records (${tombs[$src]} tombstones), not $((n + deletes)) ($deletes)" >&2
      exit 1
    }
  done
  # One baseline run per source and round, as many as the producer's own
  # runs: the best of more runs would favour the baseline on a machine
  # whose speed varies from second to second.
  r=$(raw_produce jsonl) || exit 1
  better raw "$r"
  r=$(raw_produce csv) || exit 1
  better raw_csv "$r"
  # The outbox's events are the JSON lines' (same key, before, after,
  # ts_ms and seq): the same baseline unless their sizes differ.
  if [[ ${vsize[outbox]} != "${vsize[jsonl]}" || ${ksize[outbox]} != "${ksize[jsonl]}" ]]; then
    r=$(raw_produce outbox) || exit 1
    better raw_outbox "$r"
  fi
done
if [[ $only != subscriber ]]; then
outbox_baseline=rdkafka.raw.produce
[[ -z ${best[raw_outbox]:-} ]] && best[raw_outbox]=${best[raw]} || outbox_baseline=rdkafka.raw.produce.outbox
echo "BENCH event.value_size ${vsize[jsonl]} bytes"
echo "BENCH event.value_size.csv ${vsize[csv]} bytes"
echo "BENCH event.key_size ${ksize[jsonl]} bytes"
echo "BENCH event.tombstones ${tombs[jsonl]} records"
echo "BENCH rdkafka.raw.produce ${best[raw]} events/s"
echo "BENCH rdkafka.raw.produce.csv ${best[raw_csv]} events/s"
[[ $outbox_baseline == rdkafka.raw.produce ]] || echo "BENCH $outbox_baseline ${best[raw_outbox]} events/s"
echo "BENCH producer.jsonl ${best[jsonl]} events/s ratio=$(ratio "${best[jsonl]}" "${best[raw]}") baseline=rdkafka.raw.produce"
echo "BENCH producer.csv ${best[csv]} events/s ratio=$(ratio "${best[csv]}" "${best[raw_csv]}") baseline=rdkafka.raw.produce.csv"
echo "BENCH producer.outbox.sqlite ${best[outbox]} events/s ratio=$(ratio "${best[outbox]}" "${best[raw_outbox]}") baseline=$outbox_baseline"
echo "BENCH producer.rss ${peak[jsonl]} KiB"
echo "BENCH producer.jsonl.rss ${peak[jsonl]} KiB"
echo "BENCH producer.csv.rss ${peak[csv]} KiB"
echo "BENCH producer.outbox.sqlite.rss ${peak[outbox]} KiB"
read -r ticks1 steal1 < <(cpu_ticks)
echo "BENCH machine.steal.producers $(echo "scale=1; 100 * ($steal1 - $steal0) / ($ticks1 - $ticks0)" | bc) %"
fi
total_records=${records[jsonl]}

raw_consume=$("$tool" consume-raw "$bootstrap" bench.jsonl "$total_records")
echo "BENCH rdkafka.raw.consume $raw_consume events/s"
subscriber_conf() { # name, topic, then the target's and other settings
  cat <<CONF
name = "$1";
topics = "$2";
registry_url = "$registry";
# The same job as the raw upsert it is measured against: rows as published.
personal_policy = "clear";
kafka = { bootstrap_servers = "$bootstrap"; };
CONF
  shift 2
  printf '%s\n' "$@"
}
subscriber_conf bench bench.jsonl "sqlite_path = \"$work/bench.db\";" 'idle_exit_ms = 2000;' 'log_level = "warn";' \
  >"$work/subscriber.conf"
read -r secs rss < <("$tool" measure "$bin/sharebus-subscriber" --config "$work/subscriber.conf" 2>"$work/subscriber.log" | tail -1)
# The subscriber stops 2 s after the last record: that idle time is not work.
secs=$(echo "$secs - 2" | bc)
sub_rate=$(rate "$total_records" "$secs")
# The fair baseline is the database itself: the same changes, decoded in
# advance, upserted in transactions of the subscriber's batch size (500) in
# the same journal mode and synchronous setting (bench/upsert_raw.h); best of
# two runs.
raw_upsert=0
for i in 1 2; do
  read -r r _ < <("$tool" upsert-raw "$work/changes.jsonl" "$work/raw-upsert-$i.db" 500) || exit 1
  ((r > raw_upsert)) && raw_upsert=$r
done
echo "BENCH sqlite.raw.upsert $raw_upsert events/s"
echo "BENCH subscriber.sqlite $sub_rate events/s ratio=$(ratio "$sub_rate" "$raw_upsert") baseline=sqlite.raw.upsert"
echo "BENCH subscriber.sqlite.vs_consume $sub_rate events/s ratio=$(ratio "$sub_rate" "$raw_consume") baseline=rdkafka.raw.consume"
echo "BENCH subscriber.rss $rss KiB"
applied=$(sqlite3 "$work/bench.db" "SELECT count(*) FROM sharebus_receipts")
[[ $applied == "$n" ]] || { echo "bench: subscriber applied $applied of $n events" >&2; exit 1; }

# ---- the PostgreSQL target, against a raw batched upsert into the same server ----
# Its own folder: the work folder is private to us (mktemp), and the server
# runs as the postgres user when we are root.
pg_dir=$(mktemp -d /tmp/sharebus-bench-pg-XXXXXX)
if pg_conninfo=$(tests/pg-throwaway.sh start "$pg_dir" 2>"$work/pg-start.log"); then
  subscriber_conf bench_pg bench.jsonl 'target = "postgresql";' "postgresql_conninfo = \"$pg_conninfo\";" \
    'idle_exit_ms = 2000;' 'log_level = "warn";' >"$work/subscriber-pg.conf"
  read -r secs rss < <("$tool" measure "$bin/sharebus-subscriber" --config "$work/subscriber-pg.conf" 2>"$work/subscriber-pg.log" | tail -1)
  secs=$(echo "$secs - 2" | bc)
  pg_rate=$(rate "$total_records" "$secs")
  applied=$(psql -X -tA -d "$pg_conninfo" -c "SELECT count(*) FROM sharebus_receipts")
  [[ $applied == "$n" ]] || { echo "bench: the PostgreSQL subscriber applied $applied of $n events" >&2; exit 1; }
  # The same changes upserted into a table LIKE the subscriber's (its
  # column types and key): prepared statements in pipeline mode, 500 per
  # transaction (bench/upsert_raw_pg.h); best of two runs.
  raw_pg=0
  for i in 1 2; do
    read -r r _ < <("$tool" upsert-raw-pg "$work/changes.jsonl" "$pg_conninfo" bench_jsonl "raw_upsert_$i" 500) || exit 1
    ((r > raw_pg)) && raw_pg=$r
  done
  echo "BENCH postgresql.raw.upsert $raw_pg events/s"
  echo "BENCH subscriber.postgresql $pg_rate events/s ratio=$(ratio "$pg_rate" "$raw_pg") baseline=postgresql.raw.upsert"
  echo "BENCH subscriber.postgresql.rss $rss KiB"
elif [[ $? == 3 ]]; then
  echo "bench: no PostgreSQL server programs, the PostgreSQL figures are left out" >&2
else
  cat "$work/pg-start.log" >&2
  exit 1
fi

# ---- end-to-end latency at a steady rate ----
# A writer inserts changes into a department's SQLite outbox at
# BENCH_LATENCY_RATE (1,000) a second for BENCH_LATENCY_SECS (20), each
# with changed_at (the envelope's ts_ms) = the moment it is written; the
# producer (outbox_poll_ms = 10) publishes them and the subscriber applies
# them to SQLite.  The subscriber's histogram
# sharebus_subscriber_event_latency_seconds (commit time minus ts_ms, per
# change) gives the quantiles, interpolated within a bucket as Prometheus's
# histogram_quantile does: written to applied, which includes the time
# before the producer reads the change.
lat_rate=${BENCH_LATENCY_RATE:-1000}
lat_secs=${BENCH_LATENCY_SECS:-20}
producer_conf latency 'source = "sqlite";' "sqlite_outbox_path = \"$work/latency.db\";" 'outbox_poll_ms = 10;' >"$work/producer-latency.conf"
"$bin/sharebus-producer" --config "$work/producer-latency.conf" --print-ddl sqlite | sqlite3 "$work/latency.db" >/dev/null
subscriber_conf bench_latency bench.latency "sqlite_path = \"$work/latency-target.db\";" \
  'metrics_listen = "127.0.0.1:0";' 'log_level = "info";' >"$work/subscriber-latency.conf"
"$bin/sharebus-producer" --config "$work/producer-latency.conf" 2>"$work/producer-latency.log" &
latency_pids+=($!)
"$bin/sharebus-subscriber" --config "$work/subscriber-latency.conf" 2>"$work/subscriber-latency.log" &
latency_pids+=($!)
lat_port=
for _ in $(seq 300); do
  lat_port=$(grep -o 'serving /metrics and /healthz on [^ ]*' "$work/subscriber-latency.log" | awk -F: '{print $NF}') || true
  [[ -n $lat_port ]] && grep -q 'assigned bench.latency' "$work/subscriber-latency.log" && break
  sleep 0.1
done
[[ -n $lat_port ]] || { echo "bench: the latency subscriber did not start:" >&2; tail -5 "$work/subscriber-latency.log" >&2; exit 1; }
metric() { curl -sf "http://127.0.0.1:$lat_port/metrics" | awk -v s="$1" '$1 == s {print $2}'; }
feed() { # count skip: writes them at the rate, waits until all are applied
  local want
  python3 bench/sample_convert.py feed "$work/changes.jsonl" "$work/latency.db" latency "$lat_rate" "$1" "$2" || exit 1
  want=$(($1 + $2))
  deadline=$((SECONDS + 120))
  until [[ $(metric sharebus_subscriber_event_latency_seconds_count) == "$want" ]]; do
    ((SECONDS < deadline)) || { echo "bench: the latency subscriber applied $(metric sharebus_subscriber_event_latency_seconds_count) of $want" >&2; exit 1; }
    sleep 0.2
  done
}
buckets() { curl -sf "http://127.0.0.1:$lat_port/metrics" | sed -nE 's/^sharebus_subscriber_event_latency_seconds_bucket\{le="([^"]*)"\} ([0-9.e+]*).*/\1 \2/p'; }
# Two seconds first, not counted: the first changes wait for the schemas,
# the table and the connections.
lat_warm=$((lat_rate * 2))
((lat_warm + lat_rate * lat_secs <= n)) || { echo "bench: the latency run needs $((lat_warm + lat_rate * lat_secs)) of the $n changes" >&2; exit 1; }
feed "$lat_warm" 0
buckets >"$work/latency-warm.txt"
lat_n=$((lat_rate * lat_secs))
feed "$lat_n" "$lat_warm"
buckets | paste -d' ' - "$work/latency-warm.txt" | awk '{print $1, $2 - $4}' >"$work/latency-buckets.txt"
echo "BENCH subscriber.latency.rate $lat_rate events/s"
for q in 50 99; do
  ms=$(awk -v q="0.$q" -v n="$lat_n" '
    { le[NR] = $1; c[NR] = $2 }
    END { want = q * n; prev_le = 0; prev_c = 0
          for (i = 1; i <= NR; i++) {
            if (c[i] >= want) {
              if (le[i] == "+Inf") { print prev_le * 1000; exit }
              printf "%.1f\n", 1000 * (prev_le + (le[i] - prev_le) * (want - prev_c) / (c[i] - prev_c)); exit }
            prev_le = le[i]; prev_c = c[i] } }' "$work/latency-buckets.txt")
  echo "BENCH subscriber.latency.p$q $ms ms"
done
for pid in "${latency_pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
latency_pids=()

[[ $only == subscriber ]] && exit 0
BOOTSTRAP="$bootstrap" bench/lag.sh
BOOTSTRAP="$bootstrap" bench/registry.sh
BOOTSTRAP="$bootstrap" bench/registry_replay.sh
