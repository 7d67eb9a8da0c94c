"""Streaming corpus sources: text and JSON Lines files, compressed or not, and folders.

A :class:`Corpus` never holds the text: each pass re-opens the files and yields one
document (a ``str``) at a time, so the trainer can read a corpus larger than memory twice.
Damaged input (a cut or corrupt compressed stream, bad JSON, invalid UTF-8, a file that
changed or vanished between passes) is reported as :class:`Problem` records (file, line)
and reading goes on, unless ``strict``; :func:`problem_summary` words them for people.
Only an unusable corpus raises :class:`CorpusError`: a missing path, an endless device, a
JSON file where no object has the field, or a pass that found no document at all.
Pipes, FIFOs and stdin are read once and kept in a temporary file for the next pass
(:mod:`.corpus_spool`).

Policies: lines are held at most ``max_line_bytes`` at a time; a longer ``.txt`` line
becomes several documents cut between characters (the trainer chunks documents anyway),
a longer JSON line is skipped; both are ``"long-line"`` problems.  Compression is found
from magic bytes (renamed files still read); the format from the name, else the content.
The held-out split hashes each document's text, so it ignores file order (:func:`is_heldout`).
"""

from __future__ import annotations

import errno
import fnmatch
import functools
import hashlib
import os
import stat
import sys
import weakref
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from . import corpus_formats as cf
from . import corpus_spool as sp

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
    strict: bool = False  # the first problem raises CorpusError instead of being recorded
    spool: bool = True  # keep a copy of pipes and stdin; False: one pass only, no disk


@dataclass
class Problem:
    """Something wrong in one file (``line`` is None for the whole file)."""

    path: str
    line: int | None
    # truncated corrupt unreadable changed skipped binary not-text bad-json invalid-utf8
    # missing-field long-line
    kind: str
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


def tally_problems(problems: Sequence[Problem]) -> dict[tuple[str, str], int]:
    """How many problems of each (file, kind), in order of first occurrence."""
    return dict(Counter((p.path, p.kind) for p in problems))


def strict_error(problem: Problem) -> CorpusError:
    """The error ``--strict`` stops with at the first problem."""
    return CorpusError(f"{problem} ({problem.kind}; strict mode)")


def problem_summary(
    problems: Sequence[Problem],
    dropped: int = 0,
    limit: int = 10,
    counts: Mapping[tuple[str, str], int] | None = None,
) -> list[str]:
    """A few lines for people: the total, then one line per (file, kind) with its count and
    first occurrence; ``counts`` (``Corpus.problem_counts``) gives exact totals past the cap.

    Grouping keeps a file with 184 bad lines to one line, so the CLI and GUI can show it all.
    """
    first: dict[tuple[str, str], Problem] = {}
    for p in problems:
        first.setdefault((p.path, p.kind), p)
    tally = dict(counts) if counts is not None else tally_problems(problems)
    total = sum(tally.values()) if counts is not None else len(problems) + dropped
    if not total:
        return []
    files = len({path for path, _ in tally})
    some = "" if counts is not None or not dropped else "at least "
    out = [f"{_n(total, 'problem')} in {some}{_n(files, 'file')}:"]
    for key, count in list(tally.items())[:limit]:
        p = first.get(key)
        if p is None:
            out.append(f"{key[0]}: {count:,} {key[1]} problems (not listed)")
        elif count == 1:
            where = p.path if p.line is None else f"{p.path}:{p.line}"
            out.append(f"{where}: {p.kind}: {p.message}")
        else:
            at = f" at line {p.line:,}" if p.line is not None else ""
            out.append(f"{p.path}: {count:,} {p.kind} problems, the first{at}: {p.message}")
    if len(tally) > limit:
        out.append(f"… and {len(tally) - limit:,} more (file, kind) groups")
    if dropped and counts is None:
        out.append(f"… and {dropped:,} more problems not listed")
    return out


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


@dataclass
class _Entry:
    name: str  # shown in problems and stats
    path: Path
    size: int
    fmt: str
    mtime: int = 0  # st_mtime_ns at opening, to notice a file changed between passes
    pipe: sp.PipeSource | None = None  # a read-once source and its copy
    lines: tuple[int, int] | None = None  # a shard: the lines starting in [start, end)
    file_size: int = -1  # of a shard's whole file (``size`` is the shard's bytes)


@dataclass(frozen=True)
class CorpusFile:
    """One source of a corpus as listed when it was opened (what shard planning needs)."""

    name: str  # as the corpus shows it in problems
    path: Path
    fmt: str  # the format option for it ("auto", "txt", "jsonl", ...)
    size: int  # bytes on disk (a pipe: 0)
    mtime: int  # st_mtime_ns at opening
    is_pipe: bool  # read once (a pipe, FIFO or stdin): no other process can read it


class Corpus:
    """Documents streamed from files, folders (recursive), pipes and stdin (``"-"``).

    A pipe, FIFO or stdin is read only once: as the first pass goes, its bytes are kept in
    an anonymous temporary file that later passes read (see :mod:`.corpus_spool`);
    :meth:`close` (or garbage collection) drops it.  ``position``, ``problems`` and
    ``problem_counts`` describe the latest pass; run one pass at a time.
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
        self.problem_counts: dict[tuple[str, str], int] = {}  # (file, kind): exact count
        self.n_train = 0
        self.n_heldout = 0
        self._setup_problems: list[Problem] = []
        self._pipes: list[sp.PipeSource] = []
        self._finalizer = weakref.finalize(self, _close_all, self._pipes)
        self._closed = False
        self._done = 0
        self._counter: cf.CountingFile | None = None
        self._reader: cf.DocReader | None = None  # the current pass's, for records()
        self._current_size = 0
        self._entries: list[_Entry] = []
        self._seen: set[object] = set()
        self._shard = False  # a shard may hold no document (the whole corpus may not)
        try:
            for src in self.sources:
                self._add_source(src)
        except BaseException:
            self.close()
            raise
        entries = self._entries
        self.files: list[Path] = [e.path for e in entries]
        self.names: list[str] = [e.name for e in entries]
        self._file_bytes = sum(e.size for e in entries if e.pipe is None)
        self._reset_problems()  # what listing found shows before any pass

    @property
    def size_hint(self) -> int:
        """Bytes on disk of all files; a pipe counts what was read of it so far."""
        return self._file_bytes + sum(p.size for p in self._pipes)

    # ------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Drop the copies of pipes and stdin; the corpus cannot be read afterwards."""
        self._closed = True
        self._finalizer()

    def __enter__(self) -> Corpus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --------------------------------------------------------------- sources
    def _add_source(self, src: str) -> None:
        name = _display(src)
        if src == "-":
            if "-" in self._seen:
                return
            self._seen.add("-")
            try:
                opener = sp.stdin_opener()
            except sp.SpoolError as exc:
                raise CorpusError(f"-: {exc}") from None
            try:
                fd = sys.stdin.fileno()
                mode = os.fstat(fd).st_mode
            except (OSError, ValueError, AttributeError):  # a stand-in without a file
                fd, mode = None, stat.S_IFIFO
            if stat.S_ISCHR(mode) and sp.endless_device(None, fd):
                raise CorpusError(f"-: {_ENDLESS}")
            self._add_pipe(STDIN_NAME, Path("-"), opener, owned=False)
            return
        path = Path(src)
        try:
            st = path.stat()
        except OSError as exc:
            if os.path.lexists(path):
                raise CorpusError(f"{name}: {_link_problem(exc)}") from None
            raise CorpusError(f"{name}: no such file or folder") from None
        if stat.S_ISDIR(st.st_mode):
            for p in self._walk(path):
                self._add_file(p, walked=True)
        elif stat.S_ISREG(st.st_mode):
            self._add_file(path, walked=False, st=st)
        elif stat.S_ISCHR(st.st_mode) or stat.S_ISFIFO(st.st_mode):
            key = (st.st_dev, st.st_ino)
            if key in self._seen:
                return
            self._seen.add(key)
            try:
                endless = stat.S_ISCHR(st.st_mode) and sp.endless_device(src)
            except OSError as exc:
                raise CorpusError(f"{name}: {os_message(exc)}") from None
            if endless:
                raise CorpusError(f"{name}: {_ENDLESS}")
            self._add_pipe(name, path, functools.partial(open, path, "rb", 0), owned=True)
        else:
            raise CorpusError(f"{name}: not a file, folder or pipe (a socket or disk device?)")

    def _add_pipe(self, name: str, path: Path, opener, owned: bool) -> None:
        pipe = sp.PipeSource(opener, keep=self.options.spool, owned=owned)
        self._pipes.append(pipe)
        self._entries.append(_Entry(name, path, 0, "auto", pipe=pipe))

    def _add_file(self, path: Path, walked: bool, st: os.stat_result | None = None) -> None:
        name = _display(str(path))
        if st is None:
            try:
                st = path.stat()
            except OSError as exc:  # only a walked file: a broken link or a link loop
                self._setup_problem(Problem(name, None, "unreadable", _link_problem(exc)))
                return
        key = (st.st_dev, st.st_ino)
        if key in self._seen:
            return
        self._seen.add(key)
        if walked and not stat.S_ISREG(st.st_mode):
            what = "a pipe" if stat.S_ISFIFO(st.st_mode) else "a device or socket"
            msg = f"{what}, not a regular file; skipped (name it on its own to read it)"
            self._setup_problem(Problem(name, None, "skipped", msg))
            return
        self._entries.append(
            _Entry(name, path, st.st_size, cf.format_of(path.name), mtime=st.st_mtime_ns)
        )

    def _setup_problem(self, problem: Problem) -> None:
        if self.options.strict:
            raise strict_error(problem)
        self._setup_problems.append(problem)

    def _walk(self, folder: Path) -> list[Path]:
        include, exclude = self.options.include, self.options.exclude
        out: list[Path] = []

        def onerror(exc: OSError) -> None:
            name = _display(exc.filename or str(folder))
            self._setup_problem(Problem(name, None, "unreadable", os_message(exc)))

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
        """Bytes of the files (and pipes) consumed by the current pass (compressed bytes)."""
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

    def records(self, split: str = "train") -> Iterator[tuple[str, object]]:
        """:meth:`documents` with the JSON value each came from (None from text files),
        for figures per field such as ``lang``."""
        for doc in self.documents(split):
            reader = self._reader
            yield doc, reader.record if reader is not None else None

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
        self._reset_problems()
        self._done = 0
        total = 0
        for entry in self._entries:
            stats = SourceStats(entry.name)
            report = self._reporter(entry.name)
            if entry.lines is not None and entry.lines[0] > 0:
                report = _shard_reporter(report, entry.lines[0])
            docs = self._read(entry, stats, report, track=True)
            try:
                yield stats, docs
            finally:
                docs.close()
            counter, self._counter = self._counter, None
            if entry.pipe is not None:
                self._done += counter.count if counter is not None else 0
            else:
                self._done += entry.size
            total += stats.documents
        if total == 0 and not self._shard:
            raise CorpusError(self._empty_message())

    def _reset_problems(self) -> None:
        self.problems = list(self._setup_problems)
        self.problems_dropped = 0
        self.problem_counts = tally_problems(self._setup_problems)

    def _reporter(self, name: str) -> Callable[[int | None, str, str], None]:
        cap, strict = self.options.max_problems, self.options.strict
        counts = self.problem_counts

        def report(line: int | None, kind: str, message: str) -> None:
            counts[name, kind] = counts.get((name, kind), 0) + 1
            problem = Problem(name, line, kind, message)
            if strict:
                raise strict_error(problem) from None
            if len(self.problems) < cap:
                self.problems.append(problem)
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
                raw, size = self._open_raw(entry, report)
                stack.enter_context(raw)
                if track:
                    self._counter, self._current_size = raw, size
                stream = stack.enter_context(cf.open_stream(raw, entry.path.name))
                head = stream.peek(cf.SNIFF_BYTES)[: cf.SNIFF_BYTES]  # type: ignore[attr-defined]
            except sp.SpoolError as exc:
                raise CorpusError(f"{entry.name}: {exc}") from None
            except cf.READ_ERRORS as exc:
                report(None, *_damage(exc, 0, entry.pipe is None))
                stats.skipped = True
                return
            # a shard inside a file was sniffed with the file's head (see corpus_shards)
            inside = entry.lines is not None and entry.lines[0] > 0
            verdict = None if inside else cf.sniff_text(head)
            if verdict is not None:
                report(None, *verdict)
                stats.skipped = True
                return
            fmt = entry.fmt if entry.fmt != "auto" else cf.sniff_format(head)
            reader = cf.DocReader(stream, report, opts.errors, opts.max_line_bytes)
            reader.strip_bom = not inside
            if inside:  # byte offsets in problems count from the start of the file
                reader.pos = raw.first_offset
            if track:
                self._reader = reader
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
            except sp.SpoolError as exc:
                raise CorpusError(f"{entry.name}: {exc}") from None
            except cf.READ_ERRORS as exc:
                report(reader.lineno or None, *_damage(exc, reader.lineno, entry.pipe is None))
            except cf.FieldMissing as exc:
                keys = exc.args[0]
                seen = ", ".join(keys[:20]) + (", …" if len(keys) > 20 else "")
                raise CorpusError(
                    f"{entry.name}: no document has the field {opts.field!r}; "
                    f"fields seen: {seen or 'none'}"
                ) from None
            finally:
                stats.invalid_lines = reader.invalid_lines

    def _open_raw(
        self, entry: _Entry, report: Callable[[int | None, str, str], None]
    ) -> tuple[cf.CountingFile, int]:
        """The entry's bytes as read (a pipe's copy, a shard's lines, or the file), and
        the size progress counts them against."""
        if entry.pipe is not None:
            return cf.CountingFile(entry.pipe.reader()), sys.maxsize  # unknown until read
        if entry.lines is not None:
            raw = cf.CountingFile(cf.LineRange(entry.path, *entry.lines))
            with _closed_on_error(raw):
                self._check_unchanged(entry, raw, report)
            return raw, entry.size
        raw = cf.CountingFile.open(entry.path)
        with _closed_on_error(raw):
            return raw, self._check_unchanged(entry, raw, report)

    @staticmethod
    def _check_unchanged(
        entry: _Entry, raw: cf.CountingFile, report: Callable[[int | None, str, str], None]
    ) -> int:
        """The size of the opened file, after reporting a change since the corpus was made
        (passes would then see different text: the trainer's counts would not agree)."""
        st = os.fstat(raw.fileno())
        size = entry.file_size if entry.lines is not None else entry.size
        if (st.st_size, st.st_mtime_ns) != (size, entry.mtime):
            was = f"{size:,} bytes then, {st.st_size:,} now"
            report(None, "changed", f"changed since the corpus was opened ({was}); passes differ")
        return st.st_size

    def file_list(self) -> list[CorpusFile]:
        """The sources as listed when the corpus was opened, folders expanded."""
        return [
            CorpusFile(e.name, e.path, e.fmt, e.size, e.mtime, e.pipe is not None)
            for e in self._entries
        ]

    def as_part(
        self,
        name: str,
        lines: tuple[int, int, str, int] | None = None,
    ) -> None:
        """Make this single-file corpus one part of a larger one (a cluster task's
        shard): problems name the file ``name``, a part may hold no document, and with
        ``lines`` = (start, end, format, mtime) only the lines of the file that start
        in ``[start, end)`` are read, as ``format`` (the file's mtime when planned)."""
        (entry,) = self._entries
        entry.name = name
        self.names = [name]
        self._shard = True
        if lines is None:
            return
        start, end, fmt, mtime = lines
        entry.file_size, entry.mtime = entry.size, mtime
        entry.lines, entry.fmt, entry.size = (start, end), fmt, max(0, end - start)
        self._file_bytes = entry.size

    def add_problems(
        self, problems: Sequence[Problem], counts: dict[tuple[str, str], int], dropped: int = 0
    ) -> None:
        """Problems found elsewhere (shards read by cluster tasks) joined to this pass's."""
        cap = self.options.max_problems
        self.problems_dropped += dropped
        for problem in problems:
            if len(self.problems) < cap:
                self.problems.append(problem)
            else:
                self.problems_dropped += 1
        for key, n in counts.items():
            self.problem_counts[key] = self.problem_counts.get(key, 0) + n

    def _empty_message(self) -> str:
        names = ", ".join(map(_display, self.sources)) or "no sources given"
        if not self._entries:
            pats = ", ".join(self.options.include)
            why = "".join(f"; {p}" for p in self._setup_problems[:3])
            return f"the corpus is empty: {names} (no readable file matches {pats}{why})"
        why = "; ".join(str(p) for p in self.problems[:3])
        more = f" ({why}{'; …' if len(self.problems) > 3 else ''})" if why else ""
        return f"the corpus is empty: {names}{more}"

    def problem_summary(self, limit: int = 10) -> list[str]:
        """:func:`problem_summary` of the latest pass, with exact counts past the cap."""
        return problem_summary(self.problems, self.problems_dropped, limit, self.problem_counts)


_ENDLESS = "a device that never ends (like /dev/zero), not a corpus; refused"


@contextmanager
def _closed_on_error(f: cf.CountingFile) -> Iterator[None]:
    try:
        yield
    except BaseException:
        f.close()
        raise


def _shard_reporter(report: Callable[[int | None, str, str], None], start: int):
    """Problems of a shard that starts inside a file: its line numbers count from the
    shard's first line, so they are said in the message (the file's own line is unknown)."""

    def shard_report(line: int | None, kind: str, message: str) -> None:
        if line is not None:
            message = f"line {line:,} of the lines from byte {start:,}: {message}"
        report(None, kind, message)

    return shard_report


def _damage(exc: BaseException, line: int, is_file: bool) -> tuple[str, str]:
    """``(kind, message)`` for an error met while reading: truncated, corrupt, unreadable."""
    after = f" after line {line:,}" if line else ""
    rest = "; the rest of the file is lost" if line else "; nothing could be read"
    if isinstance(exc, cf.Truncated):
        return "truncated", str(exc)
    if isinstance(exc, EOFError):
        return "truncated", f"the compressed stream ends early{after} (cut short?){rest}"
    if isinstance(exc, FileNotFoundError) and is_file:
        return "unreadable", "the file disappeared after the corpus was opened"
    if isinstance(exc, OSError) and exc.errno is not None:
        return "unreadable", f"{os_message(exc)}{after}{rest}"
    stop = "; reading stopped there" if line else "; nothing could be read"
    return "corrupt", f"damaged compressed data{after} ({os_message(exc)}){stop}"


def _link_problem(exc: OSError) -> str:
    """Why a path that exists as a name cannot be opened: usually a link."""
    if exc.errno == errno.ELOOP:
        return "a symbolic link loop; skipped"
    if exc.errno == errno.ENOENT:
        return "a broken symbolic link (its target is missing); skipped"
    return f"{os_message(exc)}; skipped"


def _display(name: str) -> str:
    """``name`` printable as UTF-8: bytes that are not UTF-8 (kept by the OS as lone
    surrogates) become U+FFFD, so messages naming the file can always be shown."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _close_all(pipes: list[sp.PipeSource]) -> None:
    for pipe in pipes:
        pipe.close()


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


def os_message(exc: BaseException) -> str:
    """What went wrong, as the system says it (``strerror``), else the exception's text."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
