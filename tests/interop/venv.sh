#!/usr/bin/env bash
# Creates (once) the Python venv the interop tests use, with Confluent's
# Python client, and prints its python's path (the only line on stdout).
# The venv lives in ${SHAREBUS_CACHE:-<repo>/.cache}/venv; a stamp file
# naming the requirement avoids reinstalling.  On failure prints the tail
# of pip's log and exits 1.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$(dirname "$here")")
cache=${SHAREBUS_CACHE:-$repo/.cache}
venv=$cache/venv
req='confluent-kafka[avro,schemaregistry]==2.16.0'
stamp=$venv/.sharebus-stamp

if [[ -x $venv/bin/python && -f $stamp && $(cat "$stamp") == "$req" ]]; then
  echo "$venv/bin/python"
  exit 0
fi

mkdir -p "$cache"
log=$cache/venv-install.log
if ! { python3 -m venv "$venv" &&
       "$venv/bin/python" -m pip install --disable-pip-version-check -q "$req"; } >"$log" 2>&1; then
  echo "venv.sh: could not create $venv with $req; last lines of $log:" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
echo "$req" >"$stamp"
echo "$venv/bin/python"
