#!/usr/bin/env bash
# make test: `make demo SECURE=1` end to end (demo.sh with SECURE=1), so the secure exchange
# cannot go stale: every program logs in to Kafka with its own certificate under the ACLs of
# broker-config/topics.conf, and the registry, metrics and dashboard answer over HTTPS. Passes
# when the demo exits 0 (every event applied, the tables agree), it served HTTPS, and no log of
# any program holds an authorization or TLS error.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build/tests/demo-secure
log=build/tests/demo-secure.log
mkdir -p build/tests
echo "== SECURE=1 ./demo.sh (files in $dir)"
if ! SECURE=1 SHAREBUS_DEMO_DIR=$PWD/$dir timeout 600 ./demo.sh >"$log" 2>&1; then
  tail -n 40 "$log"
  echo "demo_secure: SECURE=1 ./demo.sh failed (see $log and $dir)"
  exit 1
fi
fail=0
for want in "TLS with client certificates, SCRAM, ACLs" "schema registry at https://" \
  "dashboard at https://" "metrics at https://" "agree:"; do
  grep -qF "$want" "$log" || { echo "demo_secure: no \"$want\" in $log"; fail=1; }
done
if grep -lE 'AUTHORIZATION_FAILED|not authorized|SSL handshake failed|certificate verify failed' "$dir"/*.log; then
  echo "demo_secure: the logs above hold an authorization or TLS error"
  fail=1
fi
((fail == 0)) && echo "demo_secure: the secure exchange ran end to end ($(grep -o 'done in [0-9.]* s' "$log"))"
exit $fail
