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
        os.chmod(tmp, _mode_for(target))  # mkstemp makes 0600; a plain open() would not
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _mode_for(target: Path) -> int:
    """The target's own permissions if it exists, else what open() would give under the umask."""
    try:
        return target.stat().st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask
