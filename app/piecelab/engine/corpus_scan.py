"""One pass over a corpus for the corpus view: statistics, problems, split sizes, a preview.

Also the small reads around it: the lines around a problem (to show where it is), a
preview spread over the sources, and a corpus' identity (what a training run read and
a short key of its held-out set, so runs' held-out figures are only compared when equal).
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from . import corpus_formats as cf
from .corpus import Corpus, CorpusError, Problem, SourceStats, os_message
from .events import Event, Rate

PREVIEW_DOCS = 50
MIN_DOCS_PER_SOURCE = 3  # a preview of several sources shows at least this many of each
LINE_CHARS = 500  # a line shown around a problem is cut after this many characters
_LINE_READ = 1 << 16  # lines are read this many bytes at a time (a long line is skipped)


@dataclass
class ScanResult:
    """What a scan found (``complete`` False: it was stopped, the figures are partial)."""

    stats: list[SourceStats]
    problems: list[Problem]
    problems_dropped: int
    n_train: int
    n_heldout: int
    preview: list[tuple[str, str]]
    complete: bool
    summary: list[str] = field(default_factory=list)  # the problems in a few lines

    @classmethod
    def empty(cls) -> ScanResult:
        return cls([], [], 0, 0, 0, [], True)


def scan_corpus(
    corpus: Corpus,
    report: Callable[[Event], None] = lambda ev: None,
    cancelled: Callable[[], bool] = lambda: False,
    preview: int = PREVIEW_DOCS,
) -> ScanResult:
    """Read ``corpus`` once, reporting progress; stops early (partial result) when cancelled."""
    rate = Rate("scan", corpus.size_hint, "bytes", time.monotonic)
    stats = corpus.scan(lambda done, total: report(rate.progress(done)), cancelled)
    complete = not cancelled()
    return ScanResult(
        stats,
        list(corpus.problems),
        corpus.problems_dropped,
        corpus.n_train,
        corpus.n_heldout,
        preview_sources(corpus, preview) if complete else [],
        complete,
        corpus.problem_summary(),
    )


def preview_sources(corpus: Corpus, n: int = PREVIEW_DOCS) -> list[tuple[str, str]]:
    """The first documents of every file, as (file, text): about ``n`` in all, at least
    ``MIN_DOCS_PER_SOURCE`` of each of the first files, so a small file after a big one
    still shows (``Corpus.preview`` alone would fill up on the first file).

    A corpus with a pipe is previewed in one go (a pipe cannot be opened twice).
    """
    files = [str(p) for p in corpus.files]
    if len(files) <= 1 or not all(_is_regular(p) for p in files):
        return corpus.preview(n)
    each = max(MIN_DOCS_PER_SOURCE, n // len(files))
    out: list[tuple[str, str]] = []
    for path in files:
        if len(out) >= n:
            break
        with Corpus([path], corpus.options) as one:
            out += one.preview(min(each, n - len(out)))
    return out


def _is_regular(path: str) -> bool:
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def line_context(
    path: str | os.PathLike[str], line: int, context: int = 3, max_chars: int = LINE_CHARS
) -> list[tuple[int, str]]:
    """Lines ``line - context`` … ``line + context`` of a (possibly compressed) file, as
    (number, text), numbered as problems are (from 1, a UTF-8 BOM ignored); invalid UTF-8
    shows as U+FFFD and long lines are cut.  A file damaged before ``line`` gives the
    lines read so far; CorpusError names the file when nothing could be read."""
    p = Path(path)
    if not _is_regular(os.fspath(p)):
        raise CorpusError(f"{p}: not a file that can be read again (gone, a pipe or a folder)")
    first, last = max(1, line - context), max(1, line + context)
    out: list[tuple[int, str]] = []
    try:
        with cf.CountingFile.open(p) as raw, cf.open_stream(raw, p.name) as stream:
            for number, head in _lines(stream, last):
                if number >= first:
                    out.append((number, _shown(head, number, max_chars)))
    except cf.READ_ERRORS as exc:
        if not out:
            raise CorpusError(f"{p}: {os_message(exc)}") from None
    return out


def _lines(stream, last: int):
    """(number, first bytes) of each line up to ``last``, never holding a whole long line."""
    number = 0
    while number < last:
        head = stream.readline(_LINE_READ)
        if not head:
            return
        number += 1
        chunk = head
        while not chunk.endswith(b"\n"):
            chunk = stream.readline(_LINE_READ)
            if not chunk:
                break
        yield number, head


def _shown(raw: bytes, number: int, max_chars: int) -> str:
    if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    text = raw.rstrip(b"\r\n").decode("utf-8", "replace")
    cut = len(text) > max_chars or (len(raw) >= _LINE_READ and not raw.endswith(b"\n"))
    return text[:max_chars] + ("…" if cut else "")


@dataclass(frozen=True)
class CorpusIdentity:
    """What a run read: a name for people, its size, and ``key``, a short fingerprint of
    the held-out set (files with their sizes and times, reading options, held-out share).
    Runs with different keys measured bytes per token on different text."""

    name: str
    bytes: int
    files: int
    heldout: float
    key: str

    def describe(self) -> str:
        """``small.jsonl.gz · 0.48 MB on disk · 1 file`` (compressed files: their own size)"""
        files = f"{self.files:,} file{'' if self.files == 1 else 's'}"
        return f"{self.name} · {self.bytes / 1e6:,.2f} MB on disk · {files}"


def corpus_identity(corpus: Corpus) -> CorpusIdentity:
    """The identity of an opened corpus (stats its files; reads nothing)."""
    opts = corpus.options
    parts: list[object] = [
        opts.field,
        opts.paragraphs,
        opts.errors,
        round(opts.heldout, 9),
        opts.include,
        opts.exclude,
        opts.max_line_bytes,
    ]
    for path in corpus.files:
        try:
            st = os.stat(path)
            parts.append((os.fspath(path), st.st_size, st.st_mtime_ns))
        except OSError:
            parts.append((os.fspath(path), -1, -1))
    key = hashlib.blake2b(repr(parts).encode("utf-8", "surrogatepass"), digest_size=4).hexdigest()
    names = [Path(s).name or s for s in corpus.sources]
    name = names[0] if len(names) == 1 else f"{names[0]} + {len(names) - 1} more"
    return CorpusIdentity(name, corpus.size_hint, len(corpus.files), opts.heldout, key)
