#!/usr/bin/env bash
# The README's table of bad inputs ("Bad input: what each gets", between the
# bad-inputs markers) names, for every input the exchange takes, the message
# a bad one gets and the test that proves it.  This checks every row, so the
# table cannot go stale:
#   - the test column is tests/<dir>/<file>.c:<name>; the file exists, holds
#     START_TEST(<name>) and adds that test to a test case (it runs);
#   - the message column's text in backticks occurs in that test file (the
#     test asserts it) and in the programs' sources outside tests/ (a program
#     can print it).  A message with " or \ is also looked for as a C string
#     literal writes it (\" and \\).
# Usage: tests/bad_inputs.sh [README]   (exit 1 naming each bad row)
set -euo pipefail
cd "$(dirname "$0")/.."
readme=${1:-README.md}
begin='<!-- bad-inputs:begin -->'
end='<!-- bad-inputs:end -->'
sources=(common producers consumers schemas/registry broker-config)

fail() {
  printf 'bad_inputs: %s:%s: %s\n' "$readme" "$1" "$2" >&2
  failures=$((failures + 1))
}

# in_c FILE... : whether $message occurs in one of the files, as written or
# as a C string literal holds it.
in_c() {
  local escaped=${message//\\/\\\\}
  escaped=${escaped//\"/\\\"}
  grep -qsF -e "$message" -e "$escaped" -- "$@"
}

if ! grep -qxF -- "$begin" "$readme" || ! grep -qxF -- "$end" "$readme"; then
  echo "bad_inputs: $readme has no '$begin' ... '$end' table" >&2
  exit 1
fi
mapfile -t source_files < <(find "${sources[@]}" -name '*.[ch]' -type f | sort)

failures=0 rows=0 lineno=0 inside=0
while IFS= read -r line; do
  lineno=$((lineno + 1))
  if [[ $line == "$begin" ]]; then
    inside=1
    continue
  fi
  [[ $line == "$end" ]] && inside=0
  ((inside)) || continue
  [[ $line == '|'* ]] || continue
  # The header and the separator row.
  [[ $line == '| input |'* || $line == '|---'* ]] && continue
  rows=$((rows + 1))
  IFS='|' read -r _ input bad _ msg_cell test_cell rest <<<"$line"
  input=$(sed -e 's/^ *//' -e 's/ *$//' <<<"$input")
  bad=$(sed -e 's/^ *//' -e 's/ *$//' <<<"$bad")
  row="row '$input: $bad'"
  if [[ -n ${rest// /} ]]; then
    fail "$lineno" "$row: more than five columns (a '|' inside a cell?)"
    continue
  fi
  if [[ ! $msg_cell =~ \`([^\`]+)\` ]]; then
    fail "$lineno" "$row: no message in backticks in the fourth column"
    continue
  fi
  message=${BASH_REMATCH[1]}
  if [[ ! $test_cell =~ \`?(tests/[a-z]+/[A-Za-z0-9_]+\.c):([A-Za-z0-9_]+)\`? ]]; then
    fail "$lineno" "$row: the fifth column is not tests/<dir>/<file>.c:<test name>"
    continue
  fi
  file=${BASH_REMATCH[1]} name=${BASH_REMATCH[2]}
  if [[ ! -f $file ]]; then
    fail "$lineno" "$row: $file does not exist"
    continue
  fi
  if ! grep -qF -- "START_TEST($name)" "$file"; then
    fail "$lineno" "$row: $file has no START_TEST($name)"
    continue
  fi
  if ! grep -qE -- "tcase_add_[a-z_]*test[a-z_]*\([^,]*, *$name *[,)]" "$file"; then
    fail "$lineno" "$row: $file defines $name but never adds it to a test case"
  fi
  if ! in_c "$file"; then
    fail "$lineno" "$row: the message '$message' is not in $file (the test does not assert it)"
  fi
  if ! in_c "${source_files[@]}"; then
    fail "$lineno" "$row: the message '$message' is in no source outside tests/ (${sources[*]})"
  fi
done <"$readme"

if ((rows == 0)); then
  echo "bad_inputs: the table in $readme has no rows" >&2
  exit 1
fi
if ((failures)); then
  echo "bad_inputs: $failures of $rows rows of $readme's bad-input table are wrong (see above)" >&2
  exit 1
fi
echo "bad_inputs: $rows rows of $readme's bad-input table name tests that exist and assert their messages"
