#!/usr/bin/env bash
# Stop the nodes of the cluster started by cluster-start.sh DIR (all three, or the NODE numbers
# given) at once, each as kafka-stop.sh stops one: SIGTERM (controlled shutdown), up to 20 s,
# then SIGKILL. A paused node (SIGSTOP) is continued first. Succeeds when none of them runs.
# Usage: broker-config/cluster-stop.sh DIR [NODE...]
set -euo pipefail

[[ $# -ge 1 ]] || { sed -n 's/^# Usage: //p' "$0" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
DIR=$1
shift
nodes=("$@")
((${#nodes[@]})) || nodes=(1 2 3)
pids=()
for n in "${nodes[@]}"; do
  [[ $n =~ ^[123]$ ]] || { echo "cluster-stop: no node $n: the nodes are 1, 2 and 3" >&2; exit 2; }
  pid=$(cat "$DIR/node$n/kafka.pid" 2>/dev/null) || continue
  if grep -qa 'kafka\.Kafka' "/proc/$pid/cmdline" 2>/dev/null; then kill -CONT "$pid" 2>/dev/null || true; fi
  "$here/kafka-stop.sh" "$DIR/node$n" & pids+=($!)
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
exit "$rc"
