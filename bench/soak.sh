#!/usr/bin/env bash
# make soak: the real pipeline under a steady stream for SOAK_SECONDS (1800),
# proving that every program's memory stays bounded.  Not part of make test.
#
# One Kafka broker (broker-config/kafka-start.sh), a sharebus-registry, the
# topics (sharebus-topics apply); the market department's SQLite database
# whose triggers (sharebus-producer --print-ddl sqlite --table) fill the
# outbox while bench/soak_writer.py inserts, updates and deletes licences at
# SOAK_RATE (200) changes a second, with a bad row every SOAK_BAD_EVERY (500)
# changes (rejected by the producer); one sharebus-producer (source sqlite,
# outbox_retention_ms 60 s, so sent rows are deleted as it runs), one
# sharebus-subscriber into SQLite, sharebus-lag watching its group; every
# SOAK_SAMPLE_SECONDS (10) a poison record (no Confluent framing, no key, an
# unknown schema id, in turn) goes straight into the dataset's topic, for the
# subscriber to dead-letter.
#
# Every SOAK_SAMPLE_SECONDS the VmRSS and open descriptors of each sharebus
# process and the counts (outbox rows written, published, rejected, applied,
# dead-lettered, the group's lag) go to build/soak/rss.csv.  Passes when:
#   - each process's RSS grew less than SOAK_RSS_PCT (10) % or SOAK_RSS_MIB
#     (8) MiB, whichever is larger, from the median of the first third to
#     the median of the last third of the run after its warm-up (the first
#     20 %);
#   - every process ran the whole time and stops cleanly (SIGTERM, exit 0);
#   - once the outbox is sent: the subscriber's table equals the department's
#     row by row (the licences it refused aside), one receipt per event
#     published, every bad row in rejects.market, every poison record in
#     dlq.soak.
# Prints the verdict and each process's figures; exits 1 on failure, naming
# what grew by how much.  Logs, configurations and databases stay in
# build/soak/ (the broker's data is removed unless SOAK_KEEP=1).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
bin=$root/build/bin
secs=${SOAK_SECONDS:-1800}
rate=${SOAK_RATE:-200}
every=${SOAK_SAMPLE_SECONDS:-10}
bad_every=${SOAK_BAD_EVERY:-500}
keys=${SOAK_KEYS:-2000}
pct=${SOAK_RSS_PCT:-10}
mib=${SOAK_RSS_MIB:-8}
work=$root/build/soak
csv=$work/rss.csv
topic=market.business_license
for v in secs rate every bad_every keys pct mib; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "soak: $v must be a whole number, not '${!v}'" >&2; exit 2; }
done
((secs >= 10 * every)) || { echo "soak: SOAK_SECONDS ($secs) must be at least 10 samples (SOAK_SAMPLE_SECONDS $every)" >&2; exit 2; }
((rate > 0 && every > 0 && keys > 0)) || { echo "soak: SOAK_RATE, SOAK_SAMPLE_SECONDS and SOAK_KEYS must be above 0" >&2; exit 2; }

procs=(registry producer subscriber lag)
declare -A pid=() addr=()
writer_pid=
say() { printf 'soak: %s\n' "$*"; }
stop() { # pid: SIGTERM, then wait for it
  if [[ -n $1 ]] && kill "$1" 2>/dev/null; then wait "$1" 2>/dev/null || true; fi
}
cleanup() {
  stop "$writer_pid"
  for p in producer subscriber lag registry; do stop "${pid[$p]:-}"; done
  broker-config/kafka-stop.sh "$work/kafka" >/dev/null 2>&1 || true
  if [[ -n ${SOAK_KEEP:-} ]]; then say "kept $work (the broker's data too)"; else rm -rf "$work/kafka/data"; fi
}
rm -rf "$work"
mkdir -p "$work"
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the broker, the topics, the registry ----
bootstrap=$(timeout 180 broker-config/kafka-start.sh "$work/kafka" 2>"$work/kafka-start.log") || {
  cat "$work/kafka-start.log" >&2; exit 1; }
cat >"$work/topics.conf" <<CONF
partitions = 3;
topics = (
  { name = "$topic"; configs = { min_insync_replicas = 1; }; },
  { name = "_sharebus_schemas"; partitions = 1; configs = { cleanup_policy = "compact"; }; },
  { name = "rejects.market"; partitions = 1; },
  { name = "dlq.soak"; partitions = 1; }
);
CONF
timeout 120 "$bin/sharebus-topics" apply --config "$work/topics.conf" --bootstrap-servers "$bootstrap" \
  >"$work/topics.log" 2>&1 || { cat "$work/topics.log" >&2; exit 1; }
printf 'listen_port = 0;\nport_file = "%s/registry.port";\nkafka = { bootstrap_servers = "%s"; };\n' \
  "$work" "$bootstrap" >"$work/registry.conf"
"$bin/sharebus-registry" --config "$work/registry.conf" >"$work/registry.log" 2>&1 &
pid[registry]=$!
for _ in $(seq 300); do [[ -s $work/registry.port ]] && break; sleep 0.1; done
[[ -s $work/registry.port ]] || { say "the registry did not start:"; tail -5 "$work/registry.log" >&2; exit 1; }
registry=http://127.0.0.1:$(cat "$work/registry.port")
say "Kafka at $bootstrap, registry at $registry"

# A daemon's metrics address, from its log line "serving /metrics and /healthz on HOST:PORT".
listening() { # name log
  local a
  for _ in $(seq 300); do
    a=$(grep -so 'serving /metrics and /healthz on [^ ]*' "$2" | awk '{print $NF}') || true
    [[ -n $a ]] && { addr[$1]=$a; return 0; }
    kill -0 "${pid[$1]}" 2>/dev/null || break
    sleep 0.1
  done
  say "$1 did not start:"; tail -5 "$2" >&2; exit 1
}

# ---- the department: its table, the outbox and triggers, the producer ----
market=$work/market.db
sqlite3 "$market" <"$root/producers/examples/business_license.sql"
cat >"$work/producer.conf" <<CONF
department = "market";
dataset = "business_license";
system = "market-records";
schema_dir = "$root/schemas/datasets";
registry_url = "$registry";
source = "sqlite";
sqlite_outbox_path = "$market";
# Sent rows deleted a minute after: the outbox's pruning runs all along.
outbox_retention_ms = 60000;
# The writer's oversized bad rows (about 80 KB) are over it.
max_outbox_row_bytes = 65536;
metrics_listen = "127.0.0.1:0";
kafka = { bootstrap_servers = "$bootstrap"; };
CONF
"$bin/sharebus-producer" --config "$work/producer.conf" --print-ddl sqlite --table business_license >"$work/outbox.sql"
sqlite3 "$market" <"$work/outbox.sql" >/dev/null
"$bin/sharebus-producer" --config "$work/producer.conf" 2>"$work/producer.log" &
pid[producer]=$!
listening producer "$work/producer.log"

# ---- the subscriber, into SQLite, and sharebus-lag watching its group ----
target=$work/target.db
cat >"$work/subscriber.conf" <<CONF
name = "soak";
topics = "$topic";
registry_url = "$registry";
sqlite_path = "$target";
datasets = ( { topic = "$topic"; clear = ["legal_representative"]; } );
metrics_listen = "127.0.0.1:0";
kafka = { bootstrap_servers = "$bootstrap"; };
CONF
"$bin/sharebus-subscriber" --config "$work/subscriber.conf" 2>"$work/subscriber.log" &
pid[subscriber]=$!
listening subscriber "$work/subscriber.log"
cat >"$work/lag.conf" <<CONF
groups = "sharebus.soak";
interval_ms = 1000;
window = 10;
scorecard_interval_ms = 10000;
registry_url = "$registry";
metrics_listen = "127.0.0.1:0";
kafka = { bootstrap_servers = "$bootstrap"; };
CONF
"$bin/sharebus-lag" --config "$work/lag.conf" 2>"$work/lag.log" &
pid[lag]=$!
listening lag "$work/lag.log"

# ---- the writer: sharebus-sample's changes (read again when used up) ----
sample_n=$((rate * secs < 100000 ? rate * secs : 100000))
"$bin/sharebus-sample" --dataset "$topic" --count "$sample_n" --keys "$keys" --seed 11 >"$work/changes.jsonl"
python3 bench/soak_writer.py "$market" "$work/changes.jsonl" "$rate" "$secs" "$bad_every" "$work/writer.counts" \
  >"$work/writer.log" 2>&1 &
writer_pid=$!
say "running $secs s: $rate changes/s into market.db (a bad row every $bad_every), a poison record every $every s;" \
  "samples every $every s into $csv"

# ---- sampling ----
rss_of() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
fds_of() {
  local f=("/proc/$1/fd/"*)
  echo "${#f[@]}"
}
scrape() { curl -sf --max-time 5 "http://${addr[$1]}/metrics" || true; }
metric() { # text name: the sum over its label sets
  awk -v n="$2" '$1 == n || index($1, n "{") == 1 {s += $2} END {printf "%d\n", s}' <<<"$1"
}
count_of() { sqlite3 "$1" "PRAGMA busy_timeout = 5000; $2" 2>/dev/null | tail -1 || true; }
written_rows() { count_of "$market" "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'sharebus_outbox'), 0)"; }
group_lag() { # "<lag> <status>" of sharebus.soak, from sharebus-lag's API
  curl -sf --max-time 5 "http://${addr[lag]}/api/v1/groups" | python3 -c '
import json, sys
g = [x for x in json.load(sys.stdin)["groups"] if x["group"] == "sharebus.soak"]
print(g[0]["lag"], g[0]["status"]) if g else print("-", "-")' 2>/dev/null || echo "- -"
}
poison_sent=0
poison() { # one record the subscriber cannot apply, the kind by turn
  local n=$poison_sent
  local send=(kcat -P -b "$bootstrap" -t "$topic" -k "soak-poison-$n")
  if case $((n % 3)) in
    0) printf 'soak poison %d: not Confluent framing' "$n" | "${send[@]}" ;;
    1) printf 'soak poison %d: no key' "$n" | kcat -P -b "$bootstrap" -t "$topic" ;;
    # Key and value framed with schema id 999999, which the registry does not know.
    2) printf '\000\000\017\102\077soak poison key|\000\000\017\102\077soak poison %d' "$n" |
      kcat -P -b "$bootstrap" -t "$topic" -K '|' ;;
  esac 2>>"$work/poison.log"; then
    poison_sent=$((n + 1))
  else
    say "kcat failed to send poison record $n (see $work/poison.log)"
  fi
}
{
  printf 't_s'
  for p in "${procs[@]}"; do printf ',%s_rss_kib' "$p"; done
  for p in "${procs[@]}"; do printf ',%s_fds' "$p"; done
  printf ',written,published,rejected,backlog,applied,dead_lettered,poison_sent,group_lag,group_status\n'
} >"$csv"
dead=()
start=$SECONDS
for ((k = 0; ; k++)); do
  wait_s=$((start + k * every - SECONDS))
  ((wait_s <= 0)) || sleep "$wait_s"
  t=$((SECONDS - start))
  for p in "${procs[@]}"; do kill -0 "${pid[$p]}" 2>/dev/null || dead+=("$p"); done
  ((${#dead[@]} == 0)) || break
  ptext=$(scrape producer)
  stext=$(scrape subscriber)
  read -r lag status < <(group_lag)
  line=$t
  for p in "${procs[@]}"; do line+=,$(rss_of "${pid[$p]}"); done
  for p in "${procs[@]}"; do line+=,$(fds_of "${pid[$p]}"); done
  line+=,$(written_rows),$(metric "$ptext" sharebus_producer_events_published_total)
  line+=,$(metric "$ptext" sharebus_producer_records_rejected_total),$(metric "$ptext" sharebus_producer_source_backlog)
  line+=,$(metric "$stext" sharebus_subscriber_events_applied_total),$(metric "$stext" sharebus_subscriber_events_dead_lettered_total)
  line+=,$poison_sent,$lag,$status
  echo "$line" >>"$csv"
  if ((k % 6 == 0)); then
    IFS=, read -r -a f <<<"$line"
    say "$(printf '%5d/%d s  written %s, published %s, rejected %s, applied %s, dead letters %s, lag %s %s | RSS MiB: registry %.1f, producer %.1f, subscriber %.1f, lag %.1f' \
      "$t" "$secs" "${f[9]}" "${f[10]}" "${f[11]}" "${f[13]}" "${f[14]}" "$lag" "$status" \
      "$(echo "${f[1]} / 1024" | bc -l)" "$(echo "${f[2]} / 1024" | bc -l)" "$(echo "${f[3]} / 1024" | bc -l)" "$(echo "${f[4]} / 1024" | bc -l)")"
  fi
  ((t < secs)) || break
  poison
done
failures=()
if ((${#dead[@]} > 0)); then
  for p in "${dead[@]}"; do
    wait "${pid[$p]}" && rc=0 || rc=$?
    failures+=("$p died at $((SECONDS - start)) s (exit $rc; last lines of its log below)")
    pid[$p]=
    tail -5 "$work/$p.log" >&2
  done
fi

# ---- the end of the stream: everything sent and applied ----
if ((${#dead[@]} == 0)); then
  wait "$writer_pid" && rc=0 || rc=$?
  writer_pid=
  [[ $rc == 0 ]] || failures+=("the writer failed (exit $rc): $(tail -1 "$work/writer.log")")
  say "$(cat "$work/writer.log")"
  changes=0 bad=0
  [[ ! -s $work/writer.counts ]] || read -r changes bad _ <"$work/writer.counts"
  deadline=$((SECONDS + 180))
  while :; do
    written=$(written_rows)
    unsent=$(count_of "$market" "SELECT count(*) FROM sharebus_outbox_unsent")
    ptext=$(scrape producer)
    rejected=$(metric "$ptext" sharebus_producer_records_rejected_total)
    receipts=$(count_of "$target" "SELECT count(*) FROM sharebus_receipts")
    dlq=$(metric "$(scrape subscriber)" sharebus_subscriber_events_dead_lettered_total)
    [[ $unsent == 0 && $receipts -ge $((written - rejected)) && $dlq -ge $poison_sent ]] && break
    if ((SECONDS >= deadline)); then
      failures+=("not drained 180 s after the stream: $unsent outbox rows unsent, $receipts of $((written - rejected)) events applied, $dlq of $poison_sent poison records dead-lettered")
      break
    fi
    sleep 1
  done
  rewinds=$(metric "$ptext" sharebus_producer_rewinds_total)
  for p in "${procs[@]}"; do kill -0 "${pid[$p]}" 2>/dev/null || failures+=("$p is not running at the end"); done
fi

# Each program stops on SIGTERM and exits 0; the producer exits 1 once it
# rejected a record (README: What the producer reads), as it must here.
for p in producer subscriber lag registry; do
  [[ -n ${pid[$p]} ]] || continue
  want=0
  [[ $p != producer || ${rejected:-0} == 0 ]] || want=1
  kill -TERM "${pid[$p]}" 2>/dev/null || true
  wait "${pid[$p]}" && rc=0 || rc=$?
  pid[$p]=
  [[ $rc == "$want" ]] || failures+=("$p exited $rc on SIGTERM, not $want")
done

# ---- the verdict ----
topic_count() { kcat -C -b "$bootstrap" -t "$1" -e -q -f 'x\n' 2>/dev/null | wc -l; }
if ((${#dead[@]} == 0)); then
  in_rejects=$(topic_count rejects.market)
  in_dlq=$(topic_count dlq.soak)
  say "outbox: $written rows written ($changes changes made, $bad bad rows among the rows); $rejected rejected, $in_rejects in rejects.market"
  say "subscriber: $receipts events applied (receipts) of $((written - rejected)) published, $dlq dead letters ($in_dlq in dlq.soak) of $poison_sent poison records"
  [[ $rejected == "$bad" && $in_rejects == "$bad" ]] ||
    failures+=("$bad bad rows written, but the producer rejected $rejected and rejects.market holds $in_rejects")
  if [[ $receipts != $((written - rejected)) ]]; then
    if ((receipts > written - rejected && rewinds > 0)); then
      say "note: $((receipts - written + rejected)) events applied twice after $rewinds producer rewinds (at-least-once)"
    else
      failures+=("$receipts events applied, $((written - rejected)) published ($rewinds producer rewinds)")
    fi
  fi
  [[ $dlq == "$poison_sent" && $in_dlq == "$poison_sent" ]] ||
    failures+=("$poison_sent poison records sent, $dlq dead-lettered, $in_dlq in dlq.soak")
  # The department's licences and the subscriber's, field by field (the
  # licences the producer refused are only in the department's table).
  cols="uscc, name, legal_representative, registered_capital, business_scope, status, address,
    strftime('%Y-%m-%d', established_on), strftime('%Y-%m-%dT%H:%M:%f', updated_at)"
  read -r only_dept only_sub n_dept n_sub < <(sqlite3 "$target" "ATTACH '$market' AS m;
    SELECT count(*) FROM (SELECT $cols FROM m.business_license WHERE name NOT LIKE 'Soak Reject %'
      EXCEPT SELECT $cols FROM market_business_license);
    SELECT count(*) FROM (SELECT $cols FROM market_business_license
      EXCEPT SELECT $cols FROM m.business_license WHERE name NOT LIKE 'Soak Reject %');
    SELECT count(*) FROM m.business_license WHERE name NOT LIKE 'Soak Reject %';
    SELECT count(*) FROM market_business_license;" | paste -sd' ')
  if [[ $only_dept == 0 && $only_sub == 0 && $n_dept == "$n_sub" ]]; then
    say "tables agree: $n_sub licences in market.db's business_license and the subscriber's market_business_license, field by field"
  else
    failures+=("tables differ: $only_dept of market.db's $n_dept licences not in the subscriber's table, $only_sub of its $n_sub not in market.db")
  fi
fi

# RSS: the median of the first third after the warm-up against that of the last third.
rss_verdict=$(python3 - "$csv" "$secs" "$pct" "$mib" <<'PY'
import csv, statistics, sys

path, secs, pct, mib = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
rows = list(csv.DictReader(open(path, encoding="utf-8")))
warm = 0.2 * secs
third = (secs - warm) / 3
first = [r for r in rows if warm <= float(r["t_s"]) < warm + third]
last = [r for r in rows if secs - third <= float(r["t_s"]) <= secs]
if not first or not last:
    print(f"FAIL rss: too few samples ({len(first)} in the first third after the warm-up, {len(last)} in the last)")
    sys.exit()
M = 1024.0
for name in [c[: -len("_rss_kib")] for c in rows[0] if c.endswith("_rss_kib")]:
    a = statistics.median(float(r[f"{name}_rss_kib"]) for r in first)
    b = statistics.median(float(r[f"{name}_rss_kib"]) for r in last)
    peak = max(float(r[f"{name}_rss_kib"]) for r in rows)
    fa = statistics.median(float(r[f"{name}_fds"]) for r in first)
    fb = statistics.median(float(r[f"{name}_fds"]) for r in last)
    bound = max(pct / 100 * a, mib * M)
    growth = b - a
    verdict = "ok" if growth < bound else "FAIL"
    print(f"{verdict} rss {name:<10} {a / M:7.1f} -> {b / M:7.1f} MiB  growth {growth / M:+6.1f} MiB "
          f"({100 * growth / a:+5.1f} %)  bound {bound / M:5.1f} MiB  peak {peak / M:6.1f} MiB  fds {fa:.0f} -> {fb:.0f}")
print(f"info rss medians of {len(first)} samples from {warm:.0f} s to {warm + third:.0f} s against {len(last)} "
      f"from {secs - third:.0f} s to {secs:.0f} s")
PY
)
while read -r verdict _ rest; do
  [[ $verdict == info ]] && { say "$rest"; continue; }
  say "$(printf '%-4s %s' "$verdict" "$rest")"
  [[ $verdict == ok ]] || failures+=("RSS: $rest")
done <<<"$rss_verdict"

for p in "${procs[@]}"; do
  errors=$(grep -c " sharebus-[a-z]* error: " "$work/$p.log" || true)
  ((errors == 0)) || say "note: $errors error lines in $work/$p.log, the first: $(grep -m1 " sharebus-[a-z]* error: " "$work/$p.log")"
done
say "samples: $csv ($(($(wc -l <"$csv") - 1)) rows); logs and databases: $work"
if ((${#failures[@]} == 0)); then
  say "PASS: $secs s, every process bounded, alive and stopped cleanly, nothing lost"
else
  for f in "${failures[@]}"; do say "FAIL: $f"; done
  exit 1
fi
