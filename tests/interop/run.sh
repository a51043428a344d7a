#!/usr/bin/env bash
# `make interop`: makes sure the Python venv exists (venv.sh), then runs the
# interop suite build/tests/test_interop (built by make) against a real Kafka
# broker and registry.  Exit code: the suite's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$(dirname "$here")")
"$here/venv.sh" >/dev/null
bin=$repo/build/tests/test_interop
[[ -x $bin ]] || { echo "run.sh: $bin is not built (make build/tests/test_interop)" >&2; exit 1; }
echo "== $bin"
SHAREBUS_SRC=$repo exec "$bin"
