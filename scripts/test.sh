#!/usr/bin/env bash
# Run mien's tests on a fresh machine: set up (venv, install, models), then pytest.
# The face data is read from $MIEN_DATA or ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. .venv/bin/activate
# Undefined names, unused imports and syntax errors fail the run before any test does.
ruff check --select F,E9 --output-format concise mien tests benchmarks scripts
python -m pytest -q "$@"
