#!/usr/bin/env bash
# Create the topics listed in TOPICS_FILE (default broker-config/topics.txt) on the broker at
# BOOTSTRAP with Kafka's own TopicCommand (kafka-tools jar), replication factor 1; topics that
# already exist are left alone. File lines: "name partitions [config=value ...]", # comments.
# One short-lived JVM per topic (about 1 s each), two at a time.
# Usage: broker-config/create-topics.sh BOOTSTRAP [TOPICS_FILE]
set -euo pipefail

[[ $# -ge 1 && $# -le 2 ]] || { sed -n 's/^# Usage: //p' "$0" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
bootstrap=$1
topics=${2:-$here/topics.txt}

if [[ -n ${SHAREBUS_KAFKA_HOME:-} ]]; then
  libs=$SHAREBUS_KAFKA_HOME/libs
else
  libs=${SHAREBUS_CACHE:-$(dirname "$here")/.cache}/kafka/libs
  compgen -G "$libs/kafka_2.13-*.jar" >/dev/null || "$here/kafka-fetch.sh" >&2
fi
# Options for a quick-starting client JVM; Log4j2 WARN+ to stderr only.
topic_cmd=(java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true
  -Dlog4j2.configurationFile="$here/log4j2.properties" -cp "$libs/*"
  org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap")

failed=$(mktemp)
trap 'rm -f "$failed"' EXIT
while read -r name partitions configs; do
  [[ -n $name && $name != \#* ]] || continue
  args=(--create --if-not-exists --topic "$name" --partitions "$partitions" --replication-factor 1)
  for kv in ${configs%%#*}; do args+=(--config "$kv"); done
  while (($(jobs -rp | wc -l) >= 2)); do wait -n || true; done
  # TopicCommand warns about every name holding '.' or '_' (metric-name collisions): drop it.
  { "${topic_cmd[@]}" "${args[@]}" | sed '/^WARNING: Due to limitations in metric names/d' \
      || echo "$name" >>"$failed"; } &
done <"$topics"
wait

if [[ -s $failed ]]; then
  echo "create-topics: failed: $(xargs <"$failed")" >&2
  exit 1
fi
