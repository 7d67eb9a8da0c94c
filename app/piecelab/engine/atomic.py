"""Atomic file writes that leave nothing behind, even when the writer is killed.

A save writes a hidden temporary sibling, fsyncs it and renames it over the
target, so the target is always the old file or the new one.  A writer killed
mid-save (SIGKILL, power loss) leaves its temporary file; the next save into the
same folder removes such leftovers.  A writer holds a lock on its temporary
file while it writes, so a save in progress elsewhere is never mistaken for one.
Scratch folders (:func:`scratch_folder`, the shuffle's buckets) work the same way:
a lock file inside says the folder is in use, and a killed owner's folder goes
with the next sweep of its parent.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: age decides instead of a lock
    fcntl = None  # type: ignore[assignment]

MARK = ".piecelab-"  # in every temporary name, so only our own leftovers are touched
STALE_SECONDS = 3600.0  # without locks: a temporary file this old is a leftover
MIN_AGE_SECONDS = 10.0  # younger ones may be a save between its mkstemp and its lock
LOCK_NAME = "in-use.lock"  # in a scratch folder: locked while its owner runs


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
    """Remove the temporary files and scratch folders of killed writers in ``folder``;
    returns what went."""
    removed = []
    try:
        files = [p for p in Path(folder).glob(f".*{MARK}*.tmp") if p.is_file()]
        folders = [p for p in Path(folder).glob(f"{MARK}*") if p.is_dir()]
    except OSError:
        return removed
    for tmp in files:
        if _abandoned(tmp):
            with contextlib.suppress(OSError):
                tmp.unlink()
                removed.append(tmp)
    for scratch in folders:
        lock = scratch / LOCK_NAME
        if _abandoned(lock if lock.exists() else scratch):
            shutil.rmtree(scratch, ignore_errors=True)
            if not scratch.exists():
                removed.append(scratch)
    return removed


@contextlib.contextmanager
def scratch_folder(parent: str | os.PathLike[str], purpose: str) -> Iterator[Path]:
    """A hidden folder ``.piecelab-<purpose>-*`` in ``parent``, locked while the block
    runs and removed after it; a killed owner's folder is swept by :func:`remove_leftovers`."""
    folder = Path(tempfile.mkdtemp(prefix=f"{MARK}{purpose}-", dir=parent))
    try:
        fd = os.open(folder / LOCK_NAME, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield folder
        finally:
            os.close(fd)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _abandoned(tmp: Path) -> bool:
    """Whether no live writer holds ``tmp`` (its lock is free, or it is old); a folder
    without its lock file counts by its age."""
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
