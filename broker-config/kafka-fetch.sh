#!/usr/bin/env bash
# Fetch the Apache Kafka broker + tools class path from Maven Central (broker-config/pom.xml)
# into ${SHAREBUS_CACHE:-<repo>/.cache}/kafka/libs. Does nothing when the jars are there and
# were fetched for the current pom.xml (hash stamp). Maven's local repository (~/.m2) is reused.
# Usage: broker-config/kafka-fetch.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${SHAREBUS_CACHE:-$(dirname "$here")/.cache}/kafka
libs=$cache/libs
pom=$here/pom.xml
hash=$(sha256sum "$pom" | cut -d' ' -f1)

fresh() { compgen -G "$libs/kafka_2.13-*.jar" >/dev/null && [[ $(cat "$libs/.pom.sha256" 2>/dev/null) == "$hash" ]]; }
fresh && exit 0

mkdir -p "$cache"
exec 9>"$cache/.fetch.lock"
flock 9                      # another run may be fetching right now
fresh && exit 0

echo "setup: fetching Apache Kafka jars with Maven (broker-config/pom.xml)" >&2
tmp=$(mktemp -d "$cache/libs.tmp.XXXXXX") && chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT
: >"$cache/mvn.log"

copy() {
  find "$tmp" -mindepth 1 -delete
  mvn -B -q -f "$pom" dependency:copy-dependencies -DoutputDirectory="$tmp" "$@" >>"$cache/mvn.log" 2>&1 || {
    tail -n 40 "$cache/mvn.log" >&2
    echo "setup: mvn dependency:copy-dependencies failed (log: $cache/mvn.log)" >&2
    exit 1
  }
}
# Distinct versions among the Kafka project's jars, lowest first.
versions() { (cd "$tmp" && ls kafka*.jar connect-*.jar 2>/dev/null | sed -E 's/.*-([0-9][^-]*)\.jar$/\1/' | sort -uV); }

copy
# kafka-tools is not published for every Kafka release, so its range can resolve lower than
# kafka_2.13's; mixed versions break the tools. Then pin everything to the lower one.
if (($(versions | wc -l) > 1)); then
  low=$(versions | head -n 1)
  echo "setup: Kafka jars resolved to $(versions | xargs); using $low for all" >&2
  copy -Dkafka.version="$low"
fi
(($(versions | wc -l) == 1)) || { echo "setup: mixed Kafka jar versions: $(versions | xargs)" >&2; exit 1; }
version=$(versions)

echo "$hash" >"$tmp/.pom.sha256"
rm -rf "$libs.old"
[[ ! -e $libs ]] || mv "$libs" "$libs.old"
mv "$tmp" "$libs"
rm -rf "$libs.old"
echo "setup: Apache Kafka $version ready in $libs"
