#!/usr/bin/env bash
# Stop the Kafka broker started by kafka-start.sh DIR: SIGTERM (controlled shutdown), wait up
# to 20 s, then SIGKILL. Succeeds when no broker from DIR is running (also when none was).
# Usage: broker-config/kafka-stop.sh DIR
set -euo pipefail

[[ $# -eq 1 ]] || { sed -n 's/^# Usage: //p' "$0" >&2; exit 2; }
pidfile=$1/kafka.pid
pid=$(cat "$pidfile" 2>/dev/null) || exit 0

# Only signal the pid if it is still our broker JVM (pids get reused).
ours() { grep -qa 'kafka\.Kafka' "/proc/$pid/cmdline" 2>/dev/null; }
if ours; then
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do ours || break; sleep 0.2; done
  if ours; then
    echo "kafka-stop: pid $pid still running after 20 s, killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    for _ in $(seq 50); do ours || break; sleep 0.1; done
  fi
fi
ours && { echo "kafka-stop: could not stop pid $pid" >&2; exit 1; }
rm -f "$pidfile"
