"""The Python example in docs/analysis.md runs (on the sample group photo)."""

from __future__ import annotations

import re
from pathlib import Path

from mien.models.store import model_path

DOC = Path(__file__).resolve().parents[2] / "docs" / "analysis.md"


def test_analysis_doc_example_runs():
    block = re.search(r"```python\n(.*?)```", DOC.read_text(), re.S).group(1)
    code = block.replace('"photo.jpg"', repr(str(model_path("sample-group"))))
    scope: dict = {}
    exec(compile(code, str(DOC), "exec"), scope)  # noqa: S102 - our own documentation
    face = scope["face"]
    assert face.age.model == "dlib-age" and face.gender.value in ("female", "male")
    assert set(face.expression.scores) == {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
    assert isinstance(face.quality.passed, bool)
