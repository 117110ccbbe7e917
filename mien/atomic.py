"""Writing a file so that a crash or a kill leaves the old version or the new one, never half.

The bytes go to a temporary file in the target's folder (same file system), which is then
renamed over the target; ``os.replace`` is atomic there. On any failure the temporary file
is removed and the error propagates for the caller to turn into its own typed error.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: str | os.PathLike, data: bytes) -> Path:
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
