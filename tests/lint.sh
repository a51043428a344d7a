#!/usr/bin/env bash
# make lint: formatting (clang-format), cppcheck and clang-tidy over every C
# file of the project.  Fails on any finding.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.c' '*.h' 2>/dev/null || find common producers consumers schemas broker-config tests bench -name '*.[ch]')
mapfile -t sources < <(printf '%s\n' "${files[@]}" | grep '\.c$')
incs=(-Icommon -Iproducers -Iconsumers -Ischemas/registry -Ibroker-config -Itests/unit -Itests/integration)

tests/boundaries.sh

echo "lint: clang-format on ${#files[@]} files"
clang-format --dry-run -Werror "${files[@]}" || [ -n "${SB_LINT_NO_FORMAT:-}" ]

echo "lint: cppcheck"
cppcheck --quiet --error-exitcode=1 --inline-suppr --std=c11 \
  --enable=warning,portability,performance --suppress=missingIncludeSystem \
  -DSB_VERSION='"lint"' "${incs[@]}" "${sources[@]}"

echo "lint: clang-tidy on ${#sources[@]} files"
# shellcheck disable=SC2046
cflags=(-std=gnu11 -DSB_VERSION='"lint"' "${incs[@]}" $(pkg-config --cflags rdkafka avro-c libconfig jansson libcurl libmicrohttpd sqlite3 libpq check gnutls))
printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -I{} clang-tidy --quiet {} -- "${cflags[@]}" 2>&1 \
  | grep -v "warnings generated" | tee /tmp/sharebus-clang-tidy.$$ || true
if grep -q "error:" /tmp/sharebus-clang-tidy.$$; then rm -f /tmp/sharebus-clang-tidy.$$; echo "lint: clang-tidy found problems"; exit 1; fi
rm -f /tmp/sharebus-clang-tidy.$$
echo "lint: clean"
