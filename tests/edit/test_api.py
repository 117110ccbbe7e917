"""mien.edit's public names resolve, and importing it loads nothing heavy."""

import subprocess
import sys


def test_every_public_name_resolves():
    import mien.edit as edit

    for name in edit.__all__:
        assert getattr(edit, name) is not None


def test_importing_edit_loads_no_runtime():
    code = "import sys, mien.edit; print(any(m.startswith(('onnxruntime', 'cv2', 'dlib')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"
