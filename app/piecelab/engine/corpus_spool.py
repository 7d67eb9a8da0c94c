"""Pipes, FIFOs and standard input as corpus sources for :mod:`piecelab.engine.corpus`.

Such a source can be read once only, yet the trainer reads a corpus twice.  A
:class:`PipeSource` reads it once, as the first pass asks for bytes, and appends every
chunk to an anonymous temporary file; later passes read that copy, then go on where the
source was left (a pass may stop early).  The copy never gets a name on Linux and is
gone when closed, so neither an error nor a crash leaves debris; memory holds one chunk.
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
from collections.abc import Callable
from typing import IO

CHUNK = 1 << 20


class SpoolError(Exception):
    """The source cannot be read again: no copy is kept, or the copy cannot be written."""


def endless_device(path: str | None, fd: int | None = None) -> bool:
    """Whether a character device (not a terminal) has data at once, like /dev/zero:
    a corpus would never end.  /dev/null reads as empty and is not endless."""
    own = fd is None
    if own:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))  # type: ignore[arg-type]
    try:
        if os.isatty(fd):  # type: ignore[arg-type]
            return False
        try:
            return bool(os.read(fd, 1))  # type: ignore[arg-type]
        except BlockingIOError:
            return False
    finally:
        if own:
            os.close(fd)  # type: ignore[arg-type]


class _TextSource(io.RawIOBase):
    """Bytes from a text-only stand-in for stdin (no ``buffer``), chunk by chunk."""

    def __init__(self, text: IO[str]) -> None:
        self._text, self._rest = text, b""

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        if not self._rest:
            self._rest = self._text.read(CHUNK).encode("utf-8", "surrogateescape")
        n = min(len(b), len(self._rest))
        b[:n] = self._rest[:n]
        self._rest = self._rest[n:]
        return n


def stdin_opener() -> Callable[[], IO[bytes]]:
    """How to read standard input as bytes (not closed afterwards: it is not ours)."""
    if sys.stdin is None:
        raise SpoolError("there is no standard input to read")
    src = getattr(sys.stdin, "buffer", None)
    if src is None:  # a stand-in: binary already, or text only
        binary = hasattr(sys.stdin, "readinto")
        src = sys.stdin if binary else _TextSource(sys.stdin)  # type: ignore[assignment]
    return lambda: src  # type: ignore[return-value]


class PipeSource:
    """One read-once source; :meth:`reader` gives a fresh raw stream over all of it.

    ``keep=False`` keeps no copy: the source is streamed once and a second reader is a
    :class:`SpoolError` (for callers that make one pass only).  ``opener`` runs at the
    first read, so a FIFO with no writer yet blocks a pass, not the corpus' creation.
    """

    def __init__(self, opener: Callable[[], IO[bytes]], keep: bool = True, owned: bool = True):
        self._opener, self._keep, self._owned = opener, keep, owned
        self._src: IO[bytes] | None = None
        self._spool: IO[bytes] | None = None
        self.size = 0  # bytes taken from the source so far
        self.complete = False  # the source reached its end
        self._started = self._closed = False

    def reader(self) -> io.RawIOBase:
        if self._closed:
            raise SpoolError("closed")
        if self._started and not self._keep:
            raise SpoolError("can be read only once, and no copy was kept (spool=False)")
        self._started = True
        return _Reader(self)

    def close(self) -> None:
        """Drop the copy and close the source (never stdin itself)."""
        self._closed = True
        spool, src, self._spool, self._src = self._spool, self._src, None, None
        if spool is not None:
            spool.close()
        if src is not None and self._owned:
            src.close()

    def _read_copy(self, pos: int, b) -> int:
        spool = self._spool
        assert spool is not None
        spool.seek(pos)
        view = memoryview(b)[: self.size - pos]
        return spool.readinto(view) or 0  # type: ignore[attr-defined]

    def _pull(self, b) -> int:
        """Fill ``b`` from the source (blocking, like ``cat``) and append it to the copy."""
        if self.complete or self._closed:
            return 0
        if self._src is None:
            self._src = self._opener()
        view = memoryview(b)
        n = 0
        while n < len(view):
            got = self._src.readinto(view[n:])  # type: ignore[attr-defined]
            if not got:
                self.complete = True
                break
            n += got
        if n and self._keep:
            try:
                if self._spool is None:  # no name on Linux: gone once closed, even on a crash
                    self._spool = _anonymous_file()
                self._spool.seek(0, os.SEEK_END)
                self._spool.write(view[:n])
            except OSError as exc:
                where = tempfile.gettempdir()
                raise SpoolError(
                    f"cannot keep a copy for the next pass in {where} ({exc.strerror or exc}); "
                    "set TMPDIR to a folder with room"
                ) from None
        self.size += n
        if self.complete and self._owned and self._src is not None:
            self._src.close()  # let the writer go
        return n


def _anonymous_file() -> IO[bytes]:
    return tempfile.TemporaryFile(prefix="piecelab-pipe-", buffering=0)


class _Reader(io.RawIOBase):
    """One pass over a :class:`PipeSource`: its copy first, then fresh bytes."""

    def __init__(self, source: PipeSource) -> None:
        self._s, self._pos = source, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:  # type: ignore[override]
        s = self._s
        n = s._read_copy(self._pos, b) if self._pos < s.size else s._pull(b)
        self._pos += n
        return n
