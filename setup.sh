#!/usr/bin/env bash
# Idempotent set-up of a (fresh Debian 12) machine for building, testing and running sharebus:
# installs missing Debian packages, then fetches the Apache Kafka jars (broker-config/kafka-fetch.sh)
# and uPlot from npm for sharebus-lag's dashboard (consumers/lag/dashboard/fetch-uplot.sh).
# Run by `make test` and `make demo`. Environment:
#   SHAREBUS_SKIP_APT=1      skip the Debian package step
#   SHAREBUS_KAFKA_HOME=DIR  use the Kafka jars in DIR/libs instead of fetching them
#   SHAREBUS_CACHE=DIR       cache directory (default <repo>/.cache)
# Usage: ./setup.sh
set -euo pipefail

repo=$(cd "$(dirname "$0")" && pwd)
cache=${SHAREBUS_CACHE:-$repo/.cache}
mkdir -p "$cache"

packages=(build-essential pkg-config librdkafka-dev libavro-dev libconfig-dev check
  libcurl4-openssl-dev libmicrohttpd-dev libjansson-dev libsqlite3-dev libpq-dev uuid-dev
  sqlite3 kcat cppcheck clang-tidy clang-format postgresql wrk python3-venv bc
  libgnutls28-dev libcrypt-dev chromium groff-base systemd clang libclang-rt-14-dev openssl)

install_packages() {
  local missing=() p sudo=() log=$cache/apt.log
  for p in "${packages[@]}"; do
    [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == "install ok installed" ]] || missing+=("$p")
  done
  command -v java >/dev/null || missing+=(default-jdk-headless)
  command -v mvn >/dev/null || missing+=(maven)
  ((${#missing[@]})) || return 0

  if ((EUID != 0)); then
    command -v sudo >/dev/null || { echo "setup: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  echo "setup: installing ${missing[*]}"
  if ! { "${sudo[@]}" apt-get update &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"; } >"$log" 2>&1
  then
    tail -n 30 "$log" >&2
    echo "setup: apt-get failed (log: $log)" >&2
    exit 1
  fi
}

if [[ ${SHAREBUS_SKIP_APT:-} == 1 ]]; then
  echo "setup: skipping Debian packages (SHAREBUS_SKIP_APT=1)"
else
  install_packages
fi

if [[ -n ${SHAREBUS_KAFKA_HOME:-} ]]; then
  compgen -G "$SHAREBUS_KAFKA_HOME/libs/kafka_2.13-*.jar" >/dev/null ||
    { echo "setup: no kafka_2.13-*.jar in SHAREBUS_KAFKA_HOME/libs ($SHAREBUS_KAFKA_HOME/libs)" >&2; exit 1; }
  echo "setup: using Apache Kafka from $SHAREBUS_KAFKA_HOME"
else
  "$repo/broker-config/kafka-fetch.sh"
fi
# uPlot, the chart library of sharebus-lag's dashboard (npm, pinned by its package-lock.json).
"$repo/consumers/lag/dashboard/fetch-uplot.sh" "$cache"
echo "setup: done"
