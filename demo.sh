#!/usr/bin/env bash
# make demo: a local exchange end to end.  Starts Kafka and the registry;
# two departments (civil, tax) publish generated changes from JSON lines;
# the market department publishes from its own SQLite database: a small
# writer inserts, updates and deletes business licences while the outbox
# triggers (printed by `sharebus-producer --print-ddl sqlite`) record each
# change and the producer (source = "sqlite") publishes them.  A subscriber
# applies all three datasets to its SQLite database as they arrive; when
# PostgreSQL's server programs are installed (setup.sh installs them), a
# second subscriber applies them to a throwaway PostgreSQL too; sharebus-lag
# watches every consumer group and the demo prints its summary.  The demo
# prints what happened, compares the department's table with the
# subscribers', then stops everything it started (SHAREBUS_DEMO_STAY=1:
# Kafka, the registry and sharebus-lag's dashboard stay until Ctrl-C).
# About a minute.
#
# SECURE=1 (make demo SECURE=1): the same exchange with nothing in clear.
# broker-config/pki.sh makes a CA and a certificate per principal (each
# department, each subscriber, the registry, the operators' sharebus-lag);
# Kafka listens only on TLS with client certificates (and SCRAM); the
# principals and ACLs of broker-config/topics.conf are applied with the
# topics; every program logs in to Kafka with its own certificate; the
# registry, the metrics and the dashboard are served over HTTPS.
set -euo pipefail
cd "$(dirname "$0")"
root=$PWD
work=${SHAREBUS_DEMO_DIR:-$root/.cache/demo}
count=${SHAREBUS_DEMO_EVENTS:-2000}
write_secs=${SHAREBUS_DEMO_WRITE_SECS:-20}
bin=$root/build/bin
secure=${SECURE:-}
[[ $secure == 0 ]] && secure=
rm -rf "$work"
mkdir -p "$work"
pki=$work/pki
http=http curl_tls=()
[[ -z $secure ]] || http=https curl_tls=(--cacert "$pki/ca.crt")
# The `kafka` group of a program's config, logging in as principal $1.
kafka_group() {
  if [[ -n $secure ]]; then
    printf 'kafka = {\n  bootstrap_servers = "%s";\n  @include "%s/%s.ssl.kafka.conf"\n};\n' "$bootstrap" "$pki" "$1"
  else
    printf 'kafka = { bootstrap_servers = "%s"; };\n' "$bootstrap"
  fi
}
# The settings of a program's metrics and dashboard server: HTTPS when secure.
metrics_tls() {
  [[ -z $secure ]] || printf 'metrics_tls_cert_file = "%s/server.crt";\nmetrics_tls_key_file = "%s/server.key";\n' "$pki" "$pki"
}
# How a program reaches the registry: its CA when secure.
registry_tls() {
  [[ -z $secure ]] || printf 'registry_ca_file = "%s/ca.crt";\n' "$pki"
}
registry_pid= producer_pid= subscriber_pid= pg_subscriber_pid= writer_pid= pg_dir= lag_pid=
stop() { # pid: SIGTERM, then wait for it
  [[ -n $1 ]] && kill "$1" 2>/dev/null && wait "$1" 2>/dev/null || true
}
cleanup() {
  stop "$writer_pid"
  stop "$producer_pid"
  stop "$subscriber_pid"
  stop "$pg_subscriber_pid"
  stop "$lag_pid"
  [[ -n $pg_dir ]] && "$root/tests/pg-throwaway.sh" stop "$pg_dir"
  stop "$registry_pid"
  "$root/broker-config/kafka-stop.sh" "$work/kafka" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
t0=$(date +%s.%N)
say() { printf 'demo: %s\n' "$*"; }
elapsed() { echo "$(date +%s.%N) - $1" | bc; }
# A count from an SQLite file another process is writing (0 until its table exists).
count_of() { # db, query
  sqlite3 "$1" "PRAGMA busy_timeout = 2000; $2" 2>/dev/null | tail -1 || true
}

secure_start=()
if [[ -n $secure ]]; then
  "$root/broker-config/pki.sh" "$pki" market civil tax demo demo_pg registry operator >/dev/null 2>"$work/pki.log" ||
    { cat "$work/pki.log"; exit 1; }
  say "certificates (broker-config/pki.sh): a CA, the broker's, the HTTP endpoints' and one per principal in $pki"
  secure_start=(--secure "$pki")
  say "starting Kafka (single KRaft node on 127.0.0.1; TLS with client certificates, SCRAM, ACLs)"
else
  say "starting Kafka (single KRaft node on 127.0.0.1)"
fi
bootstrap=$(timeout 120 "$root/broker-config/kafka-start.sh" "${secure_start[@]}" "$work/kafka" 2>"$work/kafka-start.log") || {
  cat "$work/kafka-start.log"; exit 1; }
# The exchange's topics (and, on a secure broker, principals and ACLs) as code:
# broker-config/topics.conf, applied to this broker's random port (as admin when secure).
topics_conf=$root/broker-config/topics.conf
if [[ -n $secure ]]; then
  topics_conf=$work/topics.conf
  awk -v k="$(kafka_group admin)" '/^kafka = / { print k; next } { print }' "$root/broker-config/topics.conf" >"$topics_conf"
fi
timeout 120 "$bin/sharebus-topics" apply --config "$topics_conf" --bootstrap-servers "$bootstrap" \
  >"$work/topics.log" 2>&1 || { cat "$work/topics.log"; exit 1; }
say "Kafka at $bootstrap, topics (sharebus-topics apply): $(sed -n '/^topics = (/,/^);/s/.*name = "\([^"]*\)".*/\1/p' "$root/broker-config/topics.conf" | paste -sd' ')"

{
  printf 'listen_port = 0;\nport_file = "%s";\n' "$work/registry.port"
  [[ -z $secure ]] || printf 'tls_cert_file = "%s/server.crt";\ntls_key_file = "%s/server.key";\n' "$pki" "$pki"
  kafka_group registry
} >"$work/registry.conf"
"$bin/sharebus-registry" --config "$work/registry.conf" >"$work/registry.log" 2>&1 &
registry_pid=$!
for _ in $(seq 100); do [ -s "$work/registry.port" ] && break; sleep 0.1; done
[ -s "$work/registry.port" ] || { cat "$work/registry.log"; exit 1; }
registry=$http://127.0.0.1:$(cat "$work/registry.port")

# ---- the operators' view: sharebus-lag, every consumer group ----
cat >"$work/lag.conf" <<CONF
interval_ms = 1000;
window = 5;
metrics_listen = "127.0.0.1:0";
scorecard_interval_ms = 2000;
registry_url = "$registry";
$(registry_tls)
$(metrics_tls)
$(kafka_group operator)
CONF
"$bin/sharebus-lag" --config "$work/lag.conf" 2>"$work/lag.log" &
lag_pid=$!
lag_addr=
for _ in $(seq 100); do
  lag_addr=$(grep -o 'serving /metrics and /healthz on [^ ]*' "$work/lag.log" | awk '{print $NF}' | sed 's|^https://||') || true
  [[ -n $lag_addr ]] && break
  sleep 0.1
done
say "sharebus-lag watching every consumer group: dashboard at $http://$lag_addr/ (API /api/v1/groups, /api/v1/scorecard, /metrics)"
# One screen of the groups' status, from its API.
lag_summary() {
  curl -sf "${curl_tls[@]}" "$http://$lag_addr/api/v1/groups" | python3 -c '
import json, sys
groups = json.load(sys.stdin)["groups"]
print("    %-28s %-7s %8s %10s  %s" % ("group", "status", "lag", "partitions", "reason"))
for g in groups:
    print("    %-28s %-7s %8d %10d  %s" % (g["group"], g["status"], g["lag"], g["partitions"], g["reason"][:80]))
' || say "(sharebus-lag did not answer)"
}
# The data-sharing scorecard, one line per dataset.
scorecard_summary() {
  curl -sf "${curl_tls[@]}" "$http://$lag_addr/api/v1/scorecard" | python3 -c '
import json, sys
sc = json.load(sys.stdin)
print("    %-26s %7s %9s %8s  %s" % ("dataset", "schema", "changes/h", "rejects", "subscribers (freshness s)"))
for d in sc.get("departments", []):
    rej = (d.get("rejects") or {}).get("last_day")
    for ds in d["datasets"]:
        subs = ", ".join("%s %s (%.1f)" % (s["group"], s["status"], s["lag_seconds"] or 0) for s in ds["subscribers"])
        print("    %-26s %7s %9s %8s  %s" % (ds["topic"], "v%s" % ds["schema_version"] if ds["schema_version"] else "-",
              ds["changes_last_hour"], "-" if rej is None else rej, subs or "none"))
' || say "(sharebus-lag did not answer)"
}
say "schema registry at $registry"

producer_conf() { # topic, then source settings
  cat <<CONF
department = "${1%%.*}";
dataset = "${1#*.}";
system = "${1%%.*}-records";
schema_dir = "$root/schemas/datasets";
registry_url = "$registry";
$(registry_tls)
$(kafka_group "${1%%.*}")
CONF
  shift
  printf '%s\n' "$@"
}

# ---- civil and tax: a file of JSON lines each, published in one go ----
declare -A produced
for topic in civil.resident tax.taxpayer; do
  department=${topic%%.*}
  producer_conf "$topic" 'input = "-";' >"$work/producer-$department.conf"
  start=$(date +%s.%N)
  "$bin/sharebus-sample" --dataset "$topic" --count "$count" --keys $((count / 4)) --seed 7 |
    timeout 120 "$bin/sharebus-producer" --config "$work/producer-$department.conf" 2>"$work/producer-$department.log" || {
    cat "$work/producer-$department.log"; exit 1; }
  produced[$topic]=$count
  say "$(printf '%-24s %s events published from JSON lines in %.2f s (%s)' "$topic" "$count" \
    "$(elapsed "$start")" "$(grep -o '+[0-9]* tombstones' "$work/producer-$department.log")")"
done

# ---- the subscriber, from now on, for all three datasets ----
db=$work/subscriber.db
subscriber_conf() { # name, then the target's settings
  cat <<CONF
name = "$1";
topics = "market.business_license,civil.resident,tax.taxpayer";
registry_url = "$registry";
# Personal fields are masked by default (personal_policy = "mask"): the
# licences' legal representative may stay in clear, the residents' phone
# numbers keep their first 3 and last 4 digits, their IDs are hashed.
hash_key_file = "$work/hash.key";
datasets = (
  { topic = "market.business_license"; clear = ["legal_representative"]; },
  { topic = "civil.resident"; steps = ( { mask = "phone"; keep_first = 3; keep_last = 4; } ); }
);
$(registry_tls)
$(kafka_group "$1")
CONF
  shift
  printf '%s\n' "$@"
}
subscriber_conf demo "sqlite_path = \"$db\";" >"$work/subscriber.conf"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/hash.key"
"$bin/sharebus-subscriber" --config "$work/subscriber.conf" 2>"$work/subscriber.log" &
subscriber_pid=$!
say "subscriber 'demo' applying all three datasets to $db as they arrive"

# ---- a second subscriber, into PostgreSQL, when it is installed ----
pg_on=
pg_psql() { psql -X -q -v ON_ERROR_STOP=1 -d "$pg_conninfo" "$@"; }
pg_dir=$(mktemp -d /tmp/sharebus-demo-pg-XXXXXX)
if ! command -v psql >/dev/null; then
  say "no psql (./setup.sh installs PostgreSQL): the PostgreSQL subscriber is left out"
elif pg_conninfo=$("$root/tests/pg-throwaway.sh" start "$pg_dir" 2>"$work/pg-start.log"); then
  pg_on=1
  subscriber_conf demo_pg 'target = "postgresql";' "postgresql_conninfo = \"$pg_conninfo\";" \
    >"$work/subscriber-pg.conf"
  "$bin/sharebus-subscriber" --config "$work/subscriber-pg.conf" 2>"$work/subscriber-pg.log" &
  pg_subscriber_pid=$!
  say "subscriber 'demo_pg' applying them to PostgreSQL ($pg_conninfo) too"
elif [[ $? == 3 ]]; then
  say "no PostgreSQL server programs (./setup.sh installs them): the PostgreSQL subscriber is left out"
else
  cat "$work/pg-start.log"; exit 1
fi
pg_count() { # query: a number from the demo's PostgreSQL (0 until its tables exist)
  pg_psql -tA -c "$1" 2>/dev/null | tail -1 || true
}

# ---- market: its own database, an outbox filled by triggers ----
market=$work/market.db
sqlite3 "$market" <"$root/producers/examples/business_license.sql"
producer_conf market.business_license 'source = "sqlite";' "sqlite_outbox_path = \"$market\";" \
  'metrics_listen = "127.0.0.1:0";' "$(metrics_tls)" >"$work/producer-market.conf"
"$bin/sharebus-producer" --config "$work/producer-market.conf" --print-ddl sqlite --table business_license \
  >"$work/market-outbox.sql"
sqlite3 "$market" <"$work/market-outbox.sql" >/dev/null
say "market.db: table business_license, outbox and triggers from 'sharebus-producer --print-ddl sqlite --table business_license' ($(grep -c 'CREATE TRIGGER' "$work/market-outbox.sql") triggers)"
"$bin/sharebus-producer" --config "$work/producer-market.conf" 2>"$work/producer-market.log" &
producer_pid=$!
metrics=
for _ in $(seq 100); do
  metrics=$(grep -o 'serving /metrics and /healthz on [^ ]*' "$work/producer-market.log" | awk '{print $NF}' | sed 's|^https://||') || true
  [[ -n $metrics ]] && break
  kill -0 "$producer_pid" 2>/dev/null || { cat "$work/producer-market.log"; exit 1; }
  sleep 0.1
done
say "market producer (source = \"sqlite\") running; metrics at $http://$metrics/metrics"

# The department's application, in short: business changes in small
# transactions; the triggers write the outbox rows in the same transactions.
# The changes come from sharebus-sample (valid check characters); one
# licence with a wrong check character shows what the producer refuses.
"$bin/sharebus-sample" --dataset market.business_license --count "$count" --keys $((count / 4)) --seed 7 >"$work/market-changes.jsonl"
python3 - "$market" "$work/market-changes.jsonl" "$write_secs" >"$work/writer.log" 2>&1 <<'PY' &
import datetime, json, sqlite3, sys, time

path, changes_file, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
cols = ["uscc", "name", "legal_representative", "registered_capital", "business_scope", "status",
        "established_on", "address", "updated_at"]
upsert = (f"INSERT INTO business_license ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
          f"ON CONFLICT (uscc) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in cols[1:]))
with open(changes_file, encoding="utf-8") as f:
    changes = [json.loads(line) for line in f if line.strip()]
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA busy_timeout = 5000")
per_txn = 10
pause = secs / max(1, len(changes) // per_txn)
for i in range(0, len(changes), per_txn):
    db.execute("BEGIN IMMEDIATE")
    for ch in changes[i:i + per_txn]:
        if ch["op"] == "d":
            db.execute("DELETE FROM business_license WHERE uscc = ?", (ch["key"]["uscc"],))
            continue
        row = dict(ch["after"])
        row["updated_at"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        db.execute(upsert, [row[c] for c in cols])
    if i == (len(changes) // 2) // per_txn * per_txn:
        # A typo in a licence number: the check character does not match.
        bad = dict(changes[0]["after"], name="Typo Trading Co., Ltd.", updated_at="2025-01-01 00:00:00.000")
        bad["uscc"] = bad["uscc"][:-1] + ("1" if bad["uscc"][-1] != "1" else "2")
        db.execute(upsert, [bad[c] for c in cols])
    db.execute("COMMIT")
    time.sleep(pause)
print(f"writer: {len(changes) + 1} changes in {(len(changes) + per_txn - 1) // per_txn} transactions")
PY
writer_pid=$!
say "market writer: $count changes to business_license over about $write_secs s, 10 per transaction"

status_line() {
  local written sent applied rows
  written=$(count_of "$market" "SELECT count(*) FROM sharebus_outbox")
  sent=$(count_of "$market" "SELECT (SELECT count(*) FROM sharebus_outbox) - (SELECT count(*) FROM sharebus_outbox_unsent)")
  applied=$(count_of "$db" "SELECT count(*) FROM sharebus_receipts WHERE topic = 'market.business_license'")
  rows=$(count_of "$db" "SELECT count(*) FROM market_business_license")
  say "$(printf '  %5.1f s  market.db: %5s changes in the outbox, %5s sent | subscriber: %5s applied, %4s licences' \
    "$(elapsed "$start")" "${written:-0}" "${sent:-0}" "${applied:-0}" "${rows:-0}")"
}
start=$(date +%s.%N)
while kill -0 "$writer_pid" 2>/dev/null; do
  sleep 2
  status_line
done
wait "$writer_pid" || { cat "$work/writer.log"; exit 1; }
writer_pid=
written=$(count_of "$market" "SELECT count(*) FROM sharebus_outbox")
say "$(cat "$work/writer.log"): $written outbox rows"

# Until every outbox row is sent and every event of the three datasets applied.
deadline=$((SECONDS + 60))
until [[ $(count_of "$market" "SELECT count(*) FROM sharebus_outbox_unsent") == 0 ]]; do
  ((SECONDS < deadline)) || { say "outbox not sent after 60 s"; tail -5 "$work/producer-market.log"; exit 1; }
  sleep 0.2
done
rejected=$(curl -sf "${curl_tls[@]}" "$http://$metrics/metrics" | awk '/^sharebus_producer_records_rejected_total/ {print $2}')
rejected=${rejected:-0}
produced[market.business_license]=$((written - rejected))
expected=$((count * 2 + written - rejected))
until [[ $(count_of "$db" "SELECT count(*) FROM sharebus_receipts") == "$expected" ]]; do
  ((SECONDS < deadline)) || { say "subscriber did not apply every event within 60 s"; tail -5 "$work/subscriber.log"; exit 1; }
  sleep 0.2
done
if [[ -n $pg_on ]]; then
  until [[ $(pg_count "SELECT count(*) FROM sharebus_receipts") == "$expected" ]]; do
    ((SECONDS < deadline)) || { say "the PostgreSQL subscriber did not apply every event within 60 s"; tail -5 "$work/subscriber-pg.log"; exit 1; }
    sleep 0.2
  done
fi
status_line
say "sharebus-lag: the groups as operators see them:"
sleep 2.5 # a sample, and a count for the scorecard, after the last commits
lag_summary
say "sharebus-lag: the data-sharing scorecard (also on the dashboard, $http://$lag_addr/):"
scorecard_summary
say "producer /healthz: $(curl -s "${curl_tls[@]}" "$http://$metrics/healthz")"
say "producer /metrics (excerpt):"
curl -sf "${curl_tls[@]}" "$http://$metrics/metrics" | grep -E '^sharebus_producer_(records_read|events_published|records_rejected|source_backlog)' | sed 's/^/    /'
stop "$producer_pid"
producer_pid=
stop "$subscriber_pid"
subscriber_pid=
stop "$pg_subscriber_pid"
pg_subscriber_pid=
say "rejects.market (sharebus-producer --rejects):"
"$bin/sharebus-producer" --config "$work/producer-market.conf" --rejects 2>"$work/rejects.log" | sed 's/^/    /'

status=0
for topic in market.business_license civil.resident tax.taxpayer; do
  table=${topic//./_}
  rows=$(sqlite3 "$db" "SELECT count(*) FROM $table")
  receipts=$(sqlite3 "$db" "SELECT count(*) FROM sharebus_receipts WHERE topic = '$topic'")
  say "$(printf '%-24s %5s rows in table %-24s %5s events applied' "$topic" "$rows" "$table" "$receipts")"
  [ "$receipts" = "${produced[$topic]}" ] || { say "MISSING EVENTS for $topic: ${produced[$topic]} expected"; status=1; }
  if [[ -n $pg_on ]]; then
    rows=$(pg_count "SELECT count(*) FROM $table")
    receipts=$(pg_count "SELECT count(*) FROM sharebus_receipts WHERE topic = '$topic'")
    say "$(printf '%-24s %5s rows in PostgreSQL %-19s %5s events applied' "" "$rows" "$table" "$receipts")"
    [ "$receipts" = "${produced[$topic]}" ] || { say "MISSING EVENTS in PostgreSQL for $topic"; status=1; }
  fi
done
# The department's licences and the subscriber's, field by field (the
# refused licence is only in the department's).
compare="ATTACH '$market' AS m;
  SELECT count(*) FROM (SELECT uscc, name, legal_representative, registered_capital, business_scope, status
    FROM m.business_license WHERE name <> 'Typo Trading Co., Ltd.' EXCEPT
    SELECT uscc, name, legal_representative, registered_capital, business_scope, status FROM market_business_license);
  SELECT count(*) FROM (SELECT uscc, name, legal_representative, registered_capital, business_scope, status
    FROM market_business_license EXCEPT
    SELECT uscc, name, legal_representative, registered_capital, business_scope, status FROM m.business_license);
  SELECT count(*) FROM market_business_license;"
read -r only_dept only_sub same < <(sqlite3 "$db" "$compare" | paste -sd' ')
if [[ $only_dept == 0 && $only_sub == 0 ]]; then
  say "market.db business_license and the subscriber's market_business_license agree: $same licences, the refused one only in market.db"
else
  say "MISMATCH: $only_dept licences only in market.db, $only_sub only in the subscriber's table"
  status=1
fi
say "civil.resident as the subscriber holds it (personal fields masked or hashed, as sharebus_columns says):"
sqlite3 -header -column "$db" "SELECT substr(id_number, 1, 16) || '...' AS id_number_hmac, name, phone, birth_date, district_code FROM civil_resident LIMIT 3" | sed 's/^/    /'
sqlite3 "$db" "SELECT '    ' || column_name || ': ' || classification || ', ' || policy FROM sharebus_columns WHERE table_name = 'civil_resident' AND policy <> 'clear'"
if [[ -n $pg_on ]]; then
  # Both subscribers hold the same licences (SQLite's REAL against numeric).
  sqlite3 -separator '|' "$db" "SELECT uscc, name, status, printf('%.2f', registered_capital) FROM market_business_license ORDER BY uscc" >"$work/licences-sqlite.txt"
  pg_psql -tA -c "SELECT uscc, name, status, to_char(registered_capital, 'FM9999999999990.00') FROM market_business_license ORDER BY uscc" >"$work/licences-pg.txt"
  if cmp -s "$work/licences-sqlite.txt" "$work/licences-pg.txt"; then
    say "PostgreSQL's market_business_license equals the SQLite subscriber's: $(wc -l <"$work/licences-pg.txt") licences"
  else
    say "MISMATCH between the SQLite and the PostgreSQL subscribers (diff $work/licences-sqlite.txt $work/licences-pg.txt)"
    status=1
  fi
  say "PostgreSQL column types of market_business_license, from the Avro types:"
  pg_psql -tA -F ': ' -c "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'market_business_license' ORDER BY ordinal_position" | sed 's/^/    /'
  say "civil.resident in PostgreSQL, masked the same way:"
  pg_psql -c "SELECT substr(id_number, 1, 16) || '...' AS id_number_hmac, name, phone, birth_date FROM civil_resident LIMIT 3" | sed 's/^/    /'
fi
say "$(printf 'done in %.1f s. Look at the data:' "$(elapsed "$t0")")"
echo "  sqlite3 -header -column $db \\"
echo "    \"SELECT uscc, name, status, established_on FROM market_business_license LIMIT 5\""
echo "  sqlite3 $db \"SELECT topic, op, count(*) FROM sharebus_receipts GROUP BY 1, 2\""
echo "  sqlite3 $market \"SELECT seq, op, json_extract(\\\"key\\\", '\$.uscc') FROM sharebus_outbox ORDER BY seq DESC LIMIT 5\""
echo "  sqlite3 $market \"SELECT * FROM sharebus_outbox_progress\"  # the last seq sent, per dataset"
echo "Logs and configs: $work"
if [[ -n ${SHAREBUS_DEMO_STAY:-} ]]; then
  say "Kafka, the registry and sharebus-lag keep running (SHAREBUS_DEMO_STAY): dashboard at $http://$lag_addr/; Ctrl-C stops them"
  wait "$lag_pid" || true
fi
exit $status
