"""Files a later run can trust: written to a temporary file beside the target, then renamed over it."""
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_write(path, mode: str = "wb"):
    """Open a temporary file in ``path``'s folder for writing; on success it is flushed, synced and
    renamed to ``path`` (``os.replace``: readers see the old file or the whole new one, never a part);
    on any error it is removed and ``path`` is left as it was. The file gets the usual permissions (0666
    less the umask)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # as open() would create it: mkstemp's 0600 hides results from other users
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
