#!/usr/bin/env bash
# A throwaway PostgreSQL server for mien's tests and benchmarks: a fresh cluster (initdb) in
# $MIEN_POSTGRES_DATA (default /tmp/mien-postgres), listening on 127.0.0.1 only, port
# $MIEN_POSTGRES_PORT (default 55432), its unix socket in the data folder, trust
# authentication (loopback only: a test server, never a production one), database `mien`.
#
#   scripts/postgres.sh start        # install the Debian packages if missing, initdb once, start, wait
#   scripts/postgres.sh exec CMD...  # run CMD with PG* variables, MIEN_TEST_GALLERY_URLS and
#                                    # MIEN_TEST_POSTGRES_DATA set for this server
#   scripts/postgres.sh stop         # stop the server and remove its data
#   scripts/postgres.sh status
#
# The server runs as the `postgres` user when this script runs as root (initdb refuses root).
# It is set up so that an erasure can be physical (docs/gallery.md, "PostgreSQL"): WAL segments
# are deleted rather than recycled (wal_recycle=off), none are kept for replicas or archives,
# and they are 1 MiB, so a CHECKPOINT after an erasure leaves no old WAL file behind.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${MIEN_POSTGRES_DATA:-/tmp/mien-postgres}
PORT=${MIEN_POSTGRES_PORT:-55432}
URL="postgresql://postgres@127.0.0.1:$PORT/mien"

pg_bin() {  # the newest installed server's bin folder, or nothing
  local version
  version=$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -1)
  if [ -n "$version" ] && [ -x "/usr/lib/postgresql/$version/bin/initdb" ]; then
    echo "/usr/lib/postgresql/$version/bin"
  fi
}

install() {
  if [ -z "$(pg_bin)" ]; then
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
  fi
  local version
  version=$(basename "$(dirname "$(pg_bin)")")
  # pgvector is not packaged for every Debian release (not for bookworm); mien does not need it
  if [ ! -f "/usr/share/postgresql/$version/extension/vector.control" ] \
      && apt-cache show "postgresql-$version-pgvector" >/dev/null 2>&1; then
    apt-get install -y -qq "postgresql-$version-pgvector" >/dev/null
  fi
}

as_server() {  # run a command as the user that owns the cluster
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

BIN=""
psql_mien() {
  as_server "$BIN/psql" -X -q -h "$DATA" -p "$PORT" -U postgres -v ON_ERROR_STOP=1 "$@"
}

answers() {
  [ -n "$BIN" ] && [ -d "$DATA" ] && "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" -U postgres 2>/dev/null
}

settings() {  # re-written at every start, so a changed port takes effect
  cat >"$DATA/mien.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DATA'
wal_recycle = off
wal_keep_size = 0
archive_mode = off
min_wal_size = 2MB
max_wal_size = 64MB
fsync = on
synchronous_commit = on
EOF
  chown postgres: "$DATA/mien.conf" 2>/dev/null || true
}

start() {
  install
  BIN=$(pg_bin)
  if answers; then
    echo "postgres: already running ($URL, data $DATA)"
    return
  fi
  if [ ! -f "$DATA/PG_VERSION" ]; then
    rm -rf "$DATA"
    mkdir -p "$DATA"
    [ "$(id -u)" = 0 ] && chown postgres: "$DATA"
    chmod 700 "$DATA"
    local out
    out=$(as_server "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --wal-segsize=1 2>&1) \
      || { echo "$out" >&2; exit 1; }
    echo "include 'mien.conf'" >>"$DATA/postgresql.conf"
  fi
  settings
  if ! as_server "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w -t 60 start >/dev/null; then
    echo "postgres: the server did not start; last lines of $DATA/server.log:" >&2
    tail -20 "$DATA/server.log" >&2
    exit 1
  fi
  if [ -z "$(psql_mien -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'mien'")" ]; then
    psql_mien -d postgres -c "CREATE DATABASE mien"
  fi
  if [ -n "$(psql_mien -d mien -tAc "SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")" ]; then
    psql_mien -d mien -c "CREATE EXTENSION IF NOT EXISTS vector"
    vector="pgvector $(psql_mien -d mien -tAc "SELECT extversion FROM pg_extension WHERE extname = 'vector'")"
  else
    vector="no pgvector package for this release"
  fi
  echo "postgres: up ($URL, data $DATA, $vector; log $DATA/server.log)"
}

stop() {
  BIN=$(pg_bin)
  if [ -n "$BIN" ] && [ -f "$DATA/postmaster.pid" ]; then
    as_server "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$DATA"
  echo "postgres: stopped"
}

with_env() {
  BIN=$(pg_bin)
  local urls=${MIEN_TEST_GALLERY_URLS:-}
  case " $urls " in *" $URL "*) ;; *) urls="${urls:+$urls }$URL" ;; esac
  export PATH="$BIN:$PATH" PGHOST=127.0.0.1 PGPORT="$PORT" PGUSER=postgres PGDATABASE=mien
  export MIEN_TEST_GALLERY_URLS="$urls" MIEN_TEST_POSTGRES_DATA="$DATA"
  exec "$@"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) BIN=$(pg_bin); if answers; then echo "postgres: running ($URL, data $DATA)"; else echo "postgres: not running"; exit 1; fi ;;
  exec) shift; with_env "$@" ;;
  *) echo "usage: $0 start|stop|status|exec CMD..." >&2; exit 2 ;;
esac
