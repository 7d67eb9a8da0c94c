"""Checks on where the command line will write, made before any work starts.

A run that trains for an hour must not fail at the end because the output is a
folder, and must never replace a device node or the corpus it read.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path

from .errors import CliError

_KINDS = {
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


def _kind(path: Path) -> str | None:
    """What ``path`` is when it exists and is not a regular file (None otherwise)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    return None if stat.S_ISREG(mode) else _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def check_outputs(outputs: Iterable[str | os.PathLike[str]], inputs: Iterable[str]) -> list[Path]:
    """The output paths, each checked: a regular file (or none yet) in a writable folder,
    and none of the inputs.  CliError names the first that fails."""
    checked = []
    sources = [Path(s) for s in inputs if s != "-"]
    for name in map(os.fspath, outputs):
        if not name.strip():
            raise CliError("the output file name is empty")
        out = Path(name)
        kind = _kind(out)
        if kind is not None:
            raise CliError(f"{out}: is {kind}; give a file name to write the model to")
        for source in sources:
            if _same_file(out, source):
                raise CliError(f"{out}: is an input corpus; refusing to overwrite it")
        _check_writable_folder(out.parent if str(out.parent) else Path("."), out)
        checked.append(out)
    return checked


def _check_writable_folder(folder: Path, out: Path) -> None:
    if not folder.is_dir():
        raise CliError(f"{folder}: no such folder for the output {out.name}")
    try:  # the real question (permissions, read-only mounts, quotas): can a file be made here?
        fd, probe = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".probe", dir=folder)
    except OSError as exc:
        raise CliError(f"{folder}: cannot write the output here ({exc.strerror})") from None
    os.close(fd)
    os.unlink(probe)
