#!/usr/bin/env bash
# make demo: a local exchange end to end.  Starts Kafka and the registry,
# runs a producer per sample department with generated changes, and a
# subscriber that applies all three datasets to SQLite; prints what happened,
# then stops everything it started.  Bounded in time (about a minute).
set -euo pipefail
cd "$(dirname "$0")"
root=$PWD
work=${SHAREBUS_DEMO_DIR:-$root/.cache/demo}
count=${SHAREBUS_DEMO_EVENTS:-2000}
bin=$root/build/bin
rm -rf "$work"
mkdir -p "$work"
registry_pid=
cleanup() {
  [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null && wait "$registry_pid" 2>/dev/null || true
  "$root/broker-config/kafka-stop.sh" "$work/kafka" >/dev/null 2>&1 || true
}
trap cleanup EXIT
t0=$(date +%s.%N)
say() { printf 'demo: %s\n' "$*"; }

say "starting Kafka (single KRaft node on 127.0.0.1)"
bootstrap=$(timeout 120 "$root/broker-config/kafka-start.sh" "$work/kafka" 2>"$work/kafka-start.log") || {
  cat "$work/kafka-start.log"; exit 1; }
timeout 120 "$root/broker-config/create-topics.sh" "$bootstrap" >"$work/topics.log" 2>&1 || { cat "$work/topics.log"; exit 1; }
say "Kafka at $bootstrap, topics: $(grep -v '^#' "$root/broker-config/topics.txt" | awk 'NF{print $1}' | paste -sd' ')"

cat >"$work/registry.conf" <<CONF
listen_port = 0;
port_file = "$work/registry.port";
kafka = { bootstrap_servers = "$bootstrap"; };
CONF
"$bin/sharebus-registry" --config "$work/registry.conf" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do [ -s "$work/registry.port" ] && break; sleep 0.1; done
[ -s "$work/registry.port" ] || { cat "$work/registry.log"; exit 1; }
registry=http://127.0.0.1:$(cat "$work/registry.port")
say "schema registry at $registry"

declare -A produced
for topic in market.business_license civil.resident tax.taxpayer; do
  department=${topic%%.*}
  cat >"$work/producer-$department.conf" <<CONF
department = "$department";
dataset = "${topic#*.}";
system = "$department-records";
schema_dir = "$root/schemas/datasets";
registry_url = "$registry";
input = "-";
kafka = { bootstrap_servers = "$bootstrap"; };
CONF
  start=$(date +%s.%N)
  "$bin/sharebus-sample" --dataset "$topic" --count "$count" --keys $((count / 4)) --seed 7 |
    timeout 120 "$bin/sharebus-producer" --config "$work/producer-$department.conf" 2>"$work/producer-$department.log" || {
    cat "$work/producer-$department.log"; exit 1; }
  produced[$topic]=$count
  say "$(printf '%-24s %s events published in %.2f s (%s)' "$topic" "$count" \
    "$(echo "$(date +%s.%N) - $start" | bc)" "$(grep -o '+[0-9]* tombstones' "$work/producer-$department.log")")"
done

db=$work/subscriber.db
cat >"$work/subscriber.conf" <<CONF
name = "demo";
topics = "market.business_license,civil.resident,tax.taxpayer";
registry_url = "$registry";
sqlite_path = "$db";
idle_exit_ms = 3000;
kafka = { bootstrap_servers = "$bootstrap"; };
CONF
say "subscriber 'demo' applying all three datasets to $db"
start=$(date +%s.%N)
timeout 180 "$bin/sharebus-subscriber" --config "$work/subscriber.conf" 2>"$work/subscriber.log" || {
  tail -20 "$work/subscriber.log"; exit 1; }
say "$(printf 'subscriber finished in %.2f s: %s' "$(echo "$(date +%s.%N) - $start" | bc)" \
  "$(grep -o 'stopped: .*' "$work/subscriber.log")")"

status=0
for topic in "${!produced[@]}"; do
  table=${topic//./_}
  rows=$(sqlite3 "$db" "SELECT count(*) FROM $table")
  receipts=$(sqlite3 "$db" "SELECT count(*) FROM sharebus_receipts WHERE topic = '$topic'")
  say "$(printf '%-24s %5s rows in table %-24s %5s events applied' "$topic" "$rows" "$table" "$receipts")"
  [ "$receipts" = "${produced[$topic]}" ] || { say "MISSING EVENTS for $topic"; status=1; }
done
say "$(printf 'done in %.1f s. Look at the data:' "$(echo "$(date +%s.%N) - $t0" | bc)")"
echo "  sqlite3 -header -column $db \\"
echo "    \"SELECT uscc, name, status, established_on FROM market_business_license LIMIT 5\""
echo "  sqlite3 $db \"SELECT topic, op, count(*) FROM sharebus_receipts GROUP BY 1, 2\""
echo "Logs and configs: $work"
exit $status
