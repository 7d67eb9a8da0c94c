"""Streaming corpus sources: text and JSON Lines files, compressed or not, and folders.

A :class:`Corpus` never holds the text: each pass re-opens the files and yields one
document (a ``str``) at a time, so the trainer can read a corpus larger than memory twice.
Damaged input is reported as :class:`Problem` records (file, line) and reading goes on;
only an unusable corpus raises :class:`CorpusError`: a missing path, a JSON file where no
object has the field, or a pass that found no document at all.

Policies: lines are held at most ``max_line_bytes`` at a time; a longer ``.txt`` line
becomes several documents cut between characters (the trainer chunks documents anyway),
a longer JSON line is skipped; both are ``"long-line"`` problems.  Compression is found
from magic bytes (renamed files still read); the format from the name, else the content.
The held-out split hashes each document's text, so it ignores file order (:func:`is_heldout`).
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import shutil
import sys
import tempfile
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path

from . import corpus_formats as cf

STDIN_NAME = "<stdin>"
_SPLITS = ("train", "heldout", "all")
_BATCH_CHARS = 1 << 20  # scan() classifies characters a batch of documents at a time


class CorpusError(ValueError):
    """The corpus cannot be used; the message names the file and the problem."""


@dataclass
class CorpusOptions:
    """How sources are read; the defaults suit JSON Lines with a ``text`` field."""

    field: str = "text"
    paragraphs: bool = False
    errors: str = "replace"
    heldout: float = 0.01
    include: tuple[str, ...] = cf.DEFAULT_INCLUDE
    exclude: tuple[str, ...] = ()
    max_problems: int = 1000
    max_line_bytes: int = cf.MAX_LINE_BYTES


@dataclass
class Problem:
    """Something wrong in one file (``line`` is None for the whole file)."""

    path: str
    line: int | None
    kind: str  # invalid-utf8 binary not-text bad-json missing-field long-line unreadable
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.message}"


@dataclass
class SourceStats:
    """What one file holds, for the corpus view: documents, bytes and kinds of characters."""

    path: str
    documents: int = 0
    bytes: int = 0
    han: int = 0
    latin: int = 0
    digits: int = 0
    other: int = 0
    invalid_lines: int = 0
    skipped: bool = False

    @property
    def chars(self) -> int:
        return self.han + self.latin + self.digits + self.other

    @property
    def han_share(self) -> float:
        return self.han / max(self.chars, 1)

    @property
    def latin_share(self) -> float:
        return self.latin / max(self.chars, 1)

    @property
    def digits_share(self) -> float:
        return self.digits / max(self.chars, 1)

    @property
    def other_share(self) -> float:
        return self.other / max(self.chars, 1)


def is_heldout(text: str, fraction: float) -> bool:
    """Whether ``text`` belongs to the held-out split: a hash of the text below ``fraction``.

    Stable across runs, files, orders and platforms (BLAKE2b, not ``hash()``), and nested:
    a document held out at 1% is also held out at 5%.
    """
    if fraction <= 0:
        return False
    if fraction >= 1:
        return True
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") < fraction * 18446744073709551616.0


@dataclass
class _Entry:
    name: str  # shown in problems and stats
    path: Path
    size: int
    fmt: str


class Corpus:
    """Documents streamed from files, folders (recursive) and stdin (``"-"``).

    stdin can be read only once, so it is spooled to a temporary file at construction
    and removed by :meth:`close` (or when the corpus is garbage collected).
    ``position`` and ``problems`` describe the latest pass; run one pass at a time.
    """

    def __init__(
        self, sources: Sequence[str | os.PathLike[str]], options: CorpusOptions | None = None
    ) -> None:
        self.options = opts = options if options is not None else CorpusOptions()
        if opts.errors not in ("replace", "skip"):
            raise CorpusError(
                f"corpus options: errors must be 'replace' or 'skip', not {opts.errors!r}"
            )
        if not 0 <= opts.heldout < 1:
            raise CorpusError(f"corpus options: heldout must be in [0, 1), got {opts.heldout}")
        if not opts.field:
            raise CorpusError("corpus options: the JSON field name is empty")
        if isinstance(sources, (str, os.PathLike)):  # one path, not its characters
            sources = [sources]
        self.sources = [os.fspath(s) for s in sources]
        self.problems: list[Problem] = []
        self.problems_dropped = 0
        self.n_train = 0
        self.n_heldout = 0
        self._setup_problems: list[Problem] = []
        self._spool: str | None = None
        self._finalizer: weakref.finalize | None = None
        self._closed = False
        self._done = 0
        self._counter: cf.CountingFile | None = None
        self._current_size = 0
        entries: list[_Entry] = []
        seen: set[Path] = set()
        for src in self.sources:
            if src == "-":
                if self._spool is None:
                    self._spool_stdin()
                    entries.append(_Entry(STDIN_NAME, Path(self._spool), 0, "auto"))  # type: ignore[arg-type]
                continue
            path = Path(src)
            if path.is_dir():
                found = self._walk(path)
            elif path.exists():
                found = [path]
            else:
                raise CorpusError(f"{src}: no such file or folder")
            for p in found:
                key = p.resolve()
                if key not in seen:
                    seen.add(key)
                    entries.append(_Entry(str(p), p, 0, cf.format_of(p.name)))
        for e in entries:
            with suppress(OSError):  # an unreadable file is reported when a pass opens it
                e.size = e.path.stat().st_size
        self._entries = entries
        self.files: list[Path] = [e.path for e in entries]
        self.names: list[str] = [e.name for e in entries]
        self.size_hint: int = sum(e.size for e in entries)

    # ------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Remove the stdin spool, if any; the corpus cannot be read afterwards."""
        self._closed = True
        if self._finalizer is not None:
            self._finalizer()

    def __enter__(self) -> Corpus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spool_stdin(self) -> None:
        fd, name = tempfile.mkstemp(prefix="piecelab-stdin-")
        self._spool = name
        self._finalizer = weakref.finalize(self, _remove, name)
        with os.fdopen(fd, "wb") as out:
            src = getattr(sys.stdin, "buffer", None)
            if sys.stdin is None:
                raise CorpusError("-: there is no standard input to read")
            if src is not None:
                shutil.copyfileobj(src, out, 1 << 20)
            else:  # a text-only stand-in for stdin
                while chunk := sys.stdin.read(1 << 20):
                    out.write(chunk.encode("utf-8", "surrogateescape"))

    def _walk(self, folder: Path) -> list[Path]:
        include, exclude = self.options.include, self.options.exclude
        out: list[Path] = []

        def onerror(exc: OSError) -> None:
            name = exc.filename or str(folder)
            self._setup_problems.append(Problem(name, None, "unreadable", exc.strerror or ""))

        for root, dirs, files in os.walk(folder, onerror=onerror):
            rel = Path(root).relative_to(folder)
            dirs[:] = sorted(d for d in dirs if not _matches(d, rel / d, exclude))
            for f in sorted(files):
                if _matches(f, rel / f, include) and not _matches(f, rel / f, exclude):
                    out.append(Path(root) / f)
        return out

    # ------------------------------------------------------------- progress
    @property
    def position(self) -> int:
        """Bytes of the files on disk consumed by the current pass (compressed bytes)."""
        c = self._counter
        return self._done + (min(c.count, self._current_size) if c is not None else 0)

    # --------------------------------------------------------------- reading
    def documents(self, split: str = "train") -> Iterator[str]:
        """Stream the documents of ``split`` ("train", "heldout" or "all") from the start.

        Raises CorpusError at the end of a pass that found no document at all.  With
        ``heldout == 0`` the held-out split is empty and is returned without reading.
        """
        if split not in _SPLITS:
            raise ValueError(f"split must be one of {', '.join(_SPLITS)}, not {split!r}")
        self._check_open()
        return self._documents(split)

    def _documents(self, split: str) -> Iterator[str]:
        frac = self.options.heldout
        if split == "heldout" and frac <= 0:
            return
        everything = split == "all" or frac <= 0
        want = split == "heldout"
        for _stats, docs in self._pass():
            if everything:
                yield from docs
            else:
                for doc in docs:
                    if is_heldout(doc, frac) == want:
                        yield doc

    def scan(
        self,
        progress: Callable[[int, int], None] | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> list[SourceStats]:
        """One full pass computing per-file statistics, ``problems``, ``n_train``, ``n_heldout``.

        ``progress(position, size_hint)`` is called as reading proceeds; when
        ``should_stop()`` turns true the pass ends early and the figures so far are returned.
        """
        self._check_open()
        frac = self.options.heldout
        out: list[SourceStats] = []
        self.n_train = self.n_heldout = 0
        passing = self._pass()
        try:
            for stats, docs in passing:
                out.append(stats)
                batch: list[str] = []
                size = 0
                for doc in docs:
                    if frac > 0 and is_heldout(doc, frac):
                        self.n_heldout += 1
                    else:
                        self.n_train += 1
                    batch.append(doc)
                    size += len(doc)
                    if size >= _BATCH_CHARS:
                        _add_text(stats, "".join(batch))
                        batch, size = [], 0
                        if progress is not None:
                            progress(self.position, self.size_hint)
                        if should_stop is not None and should_stop():
                            return out
                _add_text(stats, "".join(batch))
                if should_stop is not None and should_stop():
                    return out
        finally:
            passing.close()
        if progress is not None:
            progress(self.position, self.size_hint)
        return out

    def preview(self, n: int = 50) -> list[tuple[str, str]]:
        """The first ``n`` documents as (file, text), reading only as far as needed.

        Leaves ``position`` and ``problems`` alone.
        """
        self._check_open()
        out: list[tuple[str, str]] = []
        for entry in self._entries:
            if len(out) >= n:
                break
            docs = self._read(entry, SourceStats(entry.name), lambda *_: None, track=False)
            try:
                for doc in docs:
                    out.append((entry.name, doc))
                    if len(out) >= n:
                        break
            finally:
                docs.close()
        return out

    # -------------------------------------------------------------- internals
    def _check_open(self) -> None:
        if self._closed:
            raise CorpusError(f"{', '.join(self.sources) or 'corpus'}: the corpus is closed")

    def _pass(self) -> Iterator[tuple[SourceStats, Iterator[str]]]:
        """One full pass: per file, its stats and its documents (consume them in order)."""
        self.problems = list(self._setup_problems)
        self.problems_dropped = 0
        self._done = 0
        total = 0
        for entry in self._entries:
            stats = SourceStats(entry.name)
            docs = self._read(entry, stats, self._reporter(entry.name), track=True)
            try:
                yield stats, docs
            finally:
                docs.close()
            self._counter = None
            self._done += entry.size
            total += stats.documents
        if total == 0:
            raise CorpusError(self._empty_message())

    def _reporter(self, name: str) -> Callable[[int | None, str, str], None]:
        cap = self.options.max_problems

        def report(line: int | None, kind: str, message: str) -> None:
            if len(self.problems) < cap:
                self.problems.append(Problem(name, line, kind, message))
            else:
                self.problems_dropped += 1

        return report

    def _read(
        self,
        entry: _Entry,
        stats: SourceStats,
        report: Callable[[int | None, str, str], None],
        track: bool,
    ) -> Iterator[str]:
        """The documents of one file; counts them into ``stats``."""
        opts = self.options
        with ExitStack() as stack:
            try:
                raw = stack.enter_context(cf.CountingFile(entry.path))
                if track:
                    self._counter, self._current_size = raw, entry.size
                stream = stack.enter_context(cf.open_stream(entry.path, raw))
                head = stream.peek(cf.SNIFF_BYTES)[: cf.SNIFF_BYTES]  # type: ignore[attr-defined]
            except cf.READ_ERRORS as exc:
                report(None, "unreadable", _os_message(exc))
                stats.skipped = True
                return
            verdict = cf.sniff_text(head)
            if verdict is not None:
                report(None, *verdict)
                stats.skipped = True
                return
            fmt = entry.fmt if entry.fmt != "auto" else cf.sniff_format(head)
            reader = cf.DocReader(stream, report, opts.errors, opts.max_line_bytes)
            if fmt == "txt":
                docs = reader.txt(opts.paragraphs)
            elif fmt == "json-array-or-lines" and head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"[":
                docs = reader.json_array(opts.field)
            else:
                docs = reader.json_lines(opts.field)
            try:
                for doc in docs:
                    stats.documents += 1
                    yield doc
            except cf.READ_ERRORS as exc:
                report(reader.lineno or None, "unreadable", f"{_os_message(exc)}; rest skipped")
            except cf.FieldMissing as exc:
                keys = exc.args[0]
                seen = ", ".join(keys[:20]) + (", …" if len(keys) > 20 else "")
                raise CorpusError(
                    f"{entry.name}: no document has the field {opts.field!r}; "
                    f"fields seen: {seen or 'none'}"
                ) from None
            finally:
                stats.invalid_lines = reader.invalid_lines

    def _empty_message(self) -> str:
        names = ", ".join(self.sources) or "no sources given"
        if not self._entries:
            pats = ", ".join(self.options.include)
            return f"the corpus is empty: {names} (no file matches {pats})"
        why = "; ".join(str(p) for p in self.problems[:3])
        more = f" ({why}{'; …' if len(self.problems) > 3 else ''})" if why else ""
        return f"the corpus is empty: {names}{more}"


def _add_text(stats: SourceStats, text: str) -> None:
    han, latin, digits, other = cf.char_classes(text)
    stats.han += han
    stats.latin += latin
    stats.digits += digits
    stats.other += other
    stats.bytes += len(text.encode("utf-8", "surrogatepass"))


def _matches(name: str, rel: Path, patterns: tuple[str, ...]) -> bool:
    """Glob match on the file name or the path below the folder, ignoring case."""
    name, relpath = name.lower(), rel.as_posix().lower()
    return any(
        fnmatch.fnmatchcase(name, p.lower()) or fnmatch.fnmatchcase(relpath, p.lower())
        for p in patterns
    )


def _os_message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _remove(path: str) -> None:
    with suppress(OSError):
        os.unlink(path)
