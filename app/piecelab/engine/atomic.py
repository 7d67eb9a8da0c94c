"""Atomic file writes that leave nothing behind, even when the writer is killed.

A save writes a hidden temporary sibling, fsyncs it and renames it over the
target, so the target is always the old file or the new one.  A writer killed
mid-save (SIGKILL, power loss) leaves its temporary file; the next save into the
same folder removes such leftovers.  A writer holds a lock on its temporary
file while it writes, so a save in progress elsewhere is never mistaken for one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: age decides instead of a lock
    fcntl = None  # type: ignore[assignment]

MARK = ".piecelab-"  # in every temporary name, so only our own leftovers are touched
STALE_SECONDS = 3600.0  # without locks: a temporary file this old is a leftover
MIN_AGE_SECONDS = 10.0  # younger ones may be a save between its mkstemp and its lock


def atomic_write(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a locked temporary sibling and ``os.replace``."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    remove_leftovers(folder)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{MARK}", suffix=".tmp", dir=folder)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # "in use" for remove_leftovers elsewhere
        os.chmod(tmp, _mode_for(path))  # mkstemp makes it private; keep a plain file's mode
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            os.replace(tmp, path)  # before the lock goes with the descriptor
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _mode_for(path: Path) -> int:
    try:
        return os.stat(path).st_mode & 0o777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def remove_leftovers(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files of killed saves in ``folder``; returns what went."""
    removed = []
    try:
        candidates = [p for p in Path(folder).glob(f".*{MARK}*.tmp") if p.is_file()]
    except OSError:
        return removed
    for tmp in candidates:
        if _abandoned(tmp):
            with contextlib.suppress(OSError):
                tmp.unlink()
                removed.append(tmp)
    return removed


def _abandoned(tmp: Path) -> bool:
    """Whether no live writer holds ``tmp`` (its lock is free, or it is old)."""
    try:
        age = time.time() - tmp.stat().st_mtime
    except OSError:
        return False
    if age < MIN_AGE_SECONDS:
        return False
    if fcntl is None:
        return age > STALE_SECONDS
    try:
        fd = os.open(tmp, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False  # a writer is at work on it
    else:
        return True
    finally:
        os.close(fd)
