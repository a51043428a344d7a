#!/usr/bin/env bash
# Fetches uPlot, the dashboard's charting library, from the npm registry at the version and
# integrity pinned by package-lock.json, into CACHE/npm-dashboard/node_modules/uplot (`npm ci`:
# the lock's sha512 is checked).  Idempotent: nothing is fetched when that version is there.
# Run by setup.sh and by make (build/share/sharebus/dashboard needs it).
# Usage: consumers/lag/dashboard/fetch-uplot.sh [CACHE]   (default: $SHAREBUS_CACHE or <repo>/.cache)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
cache=${1:-${SHAREBUS_CACHE:-$repo/.cache}}
dest=$cache/npm-dashboard
want=$(sed -n 's/.*"uplot": *"\([^"]*\)".*/\1/p' "$here/package.json")
have=$(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$dest/node_modules/uplot/package.json" 2>/dev/null | head -1 || true)
if [[ $have == "$want" && -s $dest/node_modules/uplot/dist/uPlot.iife.min.js ]]; then
  exit 0
fi
command -v npm >/dev/null || { echo "fetch-uplot: npm not found (install Node.js and npm)" >&2; exit 1; }
mkdir -p "$dest"
cp "$here/package.json" "$here/package-lock.json" "$dest/"
echo "fetch-uplot: fetching uplot $want from the npm registry"
if ! (cd "$dest" && npm ci --no-audit --no-fund --loglevel=error >npm.log 2>&1); then
  tail -n 20 "$dest/npm.log" >&2
  echo "fetch-uplot: npm ci failed (log: $dest/npm.log)" >&2
  exit 1
fi
