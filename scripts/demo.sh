#!/usr/bin/env bash
# mien's main job on a fresh machine: install, fetch the models, and run mien on the
# six-face sample photo that the insightface wheel ships, writing an annotated image.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
. .venv/bin/activate
mkdir -p out
SAMPLE=$(python -c "from mien.models.store import model_path; print(model_path('sample-group'))")
mien detect "$SAMPLE" --json --draw out/sample_faces.png
mien analyze "$SAMPLE" --draw out/sample_analysis.png   # age (with its 80% range), gender, expression, pose
echo "annotated images: out/sample_faces.png, out/sample_analysis.png" >&2
