#!/usr/bin/env bash
# Run mien's tests on a fresh machine: set up (venv, install, models), start the server
# stores the gallery contract runs against (Milvus and PostgreSQL in a loopback-only network
# namespace),
# then pytest inside that namespace. The face data is read from $MIEN_DATA or ../shared/data.
#
# MIEN_TEST_SERVERS=0 runs without the server stores (the embedded SQLite store only), for
# a quick run on a machine where `ip netns` is not allowed; CI always runs with them.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. .venv/bin/activate
# Undefined names, unused imports and syntax errors fail the run before any test does.
ruff check --select F,E9 --output-format concise mien tests benchmarks scripts

if [ "${MIEN_TEST_SERVERS:-1}" = "0" ]; then
  exec python -m pytest -q "$@"
fi

trap './scripts/postgres.sh stop >/dev/null 2>&1 || true; ./scripts/milvus.sh stop >/dev/null 2>&1 || true' EXIT
./scripts/milvus.sh start
# PostgreSQL starts inside the same namespace, so the tests reach both on its loopback
./scripts/milvus.sh exec ./scripts/postgres.sh start
export MIEN_TEST_GALLERY_URLS="milvus://127.0.0.1:19530 postgresql://postgres@127.0.0.1:55432/mien"
export MIEN_TEST_POSTGRES_DATA="${MIEN_POSTGRES_DATA:-/tmp/mien-postgres}"
export MIEN_TEST_MILVUS_DATA="${MIEN_MILVUS_DATA:-/tmp/mien-milvus-${MIEN_MILVUS_NS:-mien-milvus}}/data/data"
./scripts/milvus.sh exec python -m pytest -q "$@"
