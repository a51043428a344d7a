#!/usr/bin/env bash
# Usage: tests/pg-throwaway.sh start DIR | stop DIR
# A throwaway PostgreSQL for `make demo` and `make bench` (the C suites have
# tests/integration/pgserver.c).  start: initdb into DIR/data (DIR is made;
# as root it is given to the postgres user, since initdb refuses root), the
# server on 127.0.0.1 on a free port with its socket and log in DIR, the
# only role `sharebus`, trusted; prints the libpq conninfo of database
# postgres.  Exits 3 when PostgreSQL's server programs are not installed
# (./setup.sh installs them).  stop: fast shutdown, then DIR is removed.
set -euo pipefail
[[ $# == 2 && ($1 == start || $1 == stop) ]] || { sed -n 's/^# Usage: //p' "$0" >&2; exit 2; }
dir=$2
bin=$(pg_config --bindir 2>/dev/null || true)
[[ -x $bin/initdb ]] || bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[[ -n $bin && -x $bin/initdb && -x $bin/pg_ctl ]] || { echo "pg-throwaway: no PostgreSQL server programs" >&2; exit 3; }
as_pg() { if ((EUID == 0)); then runuser -u postgres -- "$@"; else "$@"; fi; }
if [[ $1 == stop ]]; then
  [[ -d $dir/data ]] && as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  exit 0
fi
mkdir -p "$dir"
if ((EUID == 0)); then
  chown postgres: "$dir"
  as_pg test -w "$dir" || { echo "pg-throwaway: the postgres user cannot reach $dir (a parent folder is private)" >&2; exit 1; }
fi
as_pg "$bin/initdb" -D "$dir/data" -A trust -U sharebus -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 || {
  cat "$dir/initdb.log" >&2; exit 1; }
for _ in 1 2 3; do # a port found free may be taken before the server binds it
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  if as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir" start >"$dir/start.log" 2>&1; then
    echo "host=127.0.0.1 port=$port dbname=postgres user=sharebus"
    exit 0
  fi
done
tail -5 "$dir/server.log" >&2
exit 1
