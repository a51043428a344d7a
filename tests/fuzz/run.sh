#!/usr/bin/env bash
# make fuzz / make fuzz-smoke: runs each libFuzzer target of tests/fuzz for
# SECONDS, JOBS at a time, on its corpus (build/fuzz/corpus/<target>, seeded
# by corpus.sh; what a run finds is kept there for the next) with its
# dictionary (tests/fuzz/<target>.dict) if it has one.  Prints one line per
# target: executions, corpus size and the result; crash, leak, timeout and
# sanitizer artifacts go to build/fuzz/artifacts/<target>/, the whole
# output to build/fuzz/logs/<target>.log.  Fails if any target failed.
# Usage: tests/fuzz/run.sh SECONDS JOBS TARGET...
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=$1 jobs=$2
shift 2
out=build/fuzz
tests/fuzz/corpus.sh "$out/corpus" >/dev/null
mkdir -p "$out/logs"

# shellcheck disable=SC2317 # run by xargs, through bash -c
run_one() {
  local t=$1 seconds=$2 out=$3 dict=()
  local log=$out/logs/$t.log art=$out/artifacts/$t/
  mkdir -p "$art"
  [[ -f tests/fuzz/$t.dict ]] && dict=(-dict="tests/fuzz/$t.dict")
  local start=$SECONDS rc=0
  # -timeout: an input that takes this long is a hang (reported, kept).
  ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 SHAREBUS_SRC=$PWD \
    "$out/bin/fuzz_$t" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$art" "${dict[@]}" "$out/corpus/$t" >"$log" 2>&1 || rc=$?
  local execs corpus result=ok
  execs=$(awk '/stat::number_of_executed_units/ { print $2 }' "$log")
  corpus=$(find "$out/corpus/$t" -type f | wc -l)
  if ((rc != 0)); then
    result="FAILED (exit $rc): $(grep -m1 -E 'ERROR: |SUMMARY: |invariant broken' "$log" || tail -n 1 "$log")"
    result+="; artifacts: $(find "$art" -type f -printf '%f ')log: $log"
  fi
  printf 'FUZZ %-14s %4ds execs=%-10s corpus=%-6s %s\n' "$t" $((SECONDS - start)) "${execs:-?}" "$corpus" "$result"
  ((rc == 0))
}
export -f run_one

echo "fuzz: ${#@} targets, ${seconds}s each, $jobs at a time"
status=0
# shellcheck disable=SC2016 # expanded by the inner bash
printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'run_one "$1" "$2" "$3"' _ {} "$seconds" "$out" || status=1
((status == 0)) && echo "fuzz: no crash, leak, timeout or sanitizer report" || echo "fuzz: FAILED (see above)"
exit $status
