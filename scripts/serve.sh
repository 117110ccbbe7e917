#!/usr/bin/env bash
# mien's main job on a fresh machine: set up (venv, install, models), then the web app and
# HTTP API on 127.0.0.1 with the embedded gallery. The first start prints an admin key once.
#   MIEN_PORT (default 8000) picks the port; other options: .venv/bin/mien serve --help
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. .venv/bin/activate
# The sample group photo into the embedded photo collection (skipped once indexed), so the web
# page's Photo library has faces to group and search from the first start.
sample="$(python -c 'from mien.models.store import model_path; print(model_path("sample-group"))')"
mien index "$sample" >/dev/null && mien cluster >/dev/null && echo "mien: sample photo indexed into the photo collection"
exec mien serve --host 127.0.0.1 --port "${MIEN_PORT:-8000}" "$@"
