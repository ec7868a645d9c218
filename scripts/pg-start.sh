#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server for the store tests and prints the
# DSN to use as MLFLOW_SHARINGHUB_TEST_PG. Needs Debian's postgresql package
# (installed here when missing and when running as root).
#
#   export MLFLOW_SHARINGHUB_TEST_PG="$(scripts/pg-start.sh)"
set -euo pipefail

port="${PGTEST_PORT:-55432}"
dir="${PGTEST_DIR:-/tmp/mlflow-sharinghub-pg}"

bindir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [[ -z "$bindir" ]]; then
  if [[ "$(id -u)" == 0 ]]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >&2
    bindir="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  else
    echo "pg-start: PostgreSQL is not installed (apt-get install postgresql)" >&2
    exit 1
  fi
fi

# PostgreSQL refuses to run as root: run it as the postgres user when root.
run() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if ! run "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" 2>/dev/null; then
  rm -rf "$dir"
  mkdir -p "$dir"
  [[ "$(id -u)" == 0 ]] && chown postgres:postgres "$dir"
  run "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust >/dev/null
  run "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >&2
fi
echo "postgresql://postgres@127.0.0.1:${port}/postgres?sslmode=disable"
