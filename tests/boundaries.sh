#!/usr/bin/env bash
# Part of make lint: every #include "..." of a folder names a header of
# common/ or of that folder, as the Makefile's include paths allow.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "lint: folder boundaries"
bad=0
for f in $(git ls-files 'common/*.[ch]' 'producers/*.[ch]' 'consumers/*.[ch]' 'schemas/registry/*.[ch]' 'broker-config/*.[ch]'); do
  # The program folder the file lies in (a subfolder belongs to its parent).
  case $f in
    schemas/registry/*) dir=schemas/registry ;;
    *) dir=${f%%/*} ;;
  esac
  while IFS=: read -r line inc; do
    h=$(sed -E 's/.*"([^"]+)".*/\1/' <<<"$inc")
    [[ -e common/$h || -e $dir/$h ]] || { echo "$f:$line: includes \"$h\", which is neither in common/ nor in $dir/" >&2; bad=1; }
  done < <(grep -n '^#include "' "$f" | cut -d: -f1,2)
done
((bad == 0)) || { echo "lint: a folder includes another program's header"; exit 1; }
echo "lint: folder boundaries kept"
