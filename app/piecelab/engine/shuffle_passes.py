"""The shuffle's two passes as task functions: what a local run calls in-process and a
Ray run sends to its workers (see :mod:`.shuffle`).

Pass 1 (:func:`scatter_shard`) reads a shard of the input and appends each line to a
uniformly random bucket file; pass 2 (:func:`shuffle_bucket`, :func:`shuffle_part`)
loads one bucket, permutes it and writes it out, splitting a bucket that outgrew the
memory into sub-buckets first.  Each task depends on its arguments only and draws from
a random stream seeded by (seed, its index), so any worker gives the same bytes.
"""

from __future__ import annotations

import array
import bz2
import contextlib
import gzip
import lzma
import math
from collections.abc import Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import zstandard

from .corpus_formats import READ_ERRORS, CountingFile, open_stream

MAX_DEPTH = 12  # splits of one oversized bucket, each at least in two
LINE_COST = 16  # bytes per line a loaded bucket needs besides its text (offsets, order)
_ASSIGN, _PERMUTE, _SPLIT = 1, 2, 3  # random streams: buckets of a shard, order, sub-buckets


class ShuffleError(ValueError):
    """An input, output or setting the shuffle cannot work with; the message names it."""


@dataclass(frozen=True)
class Limits:
    """How one ``memory`` budget is shared out; every task derives the same figures."""

    memory: int

    def _part(self, div: int, low: int, high: int = 16 << 20) -> int:
        return max(low, min(high, self.memory // div))

    @property
    def block(self) -> int:  # input read at once in pass 1
        return self._part(128, 16 << 10)

    @property
    def gather(self) -> int:  # bytes gathered at once (their index costs 8 bytes a byte)
        return self._part(128, 8 << 10)

    @property
    def lines(self) -> int:  # lines of a bucket written per step in pass 2
        return max(256, self.gather // 16)

    @property
    def flush(self) -> int:  # pass 1 buffers this much before writing the bucket files
        return self.memory // 4

    @property
    def max_line(self) -> int:
        return self.memory // 8

    @property
    def bucket(self) -> int:  # largest bucket (text + LINE_COST a line) loaded whole
        return self.memory * 5 // 8

    @property
    def target(self) -> int:  # the expected bucket size aimed for
        return self.memory // 3


@dataclass(frozen=True)
class Shard:
    """Lines of one input: a whole file (``end`` None, decompressed), or of a plain file
    the lines whose first byte lies in ``[start, end)``."""

    index: int
    path: str
    start: int
    end: int | None
    size: int  # raw bytes it covers, for progress


@dataclass(frozen=True)
class ScatterTask:
    shard: Shard
    seed: int
    buckets: int
    memory: int
    folder: str


@dataclass(frozen=True)
class Segments:
    """Where one scatter wrote each bucket's lines: ``path`` holds them as segments."""

    path: str
    bucket: np.ndarray
    offset: np.ndarray
    length: np.ndarray
    lines: np.ndarray


@dataclass(frozen=True, eq=False)
class BucketTask:
    """One bucket to shuffle: its lines are the segments ``files[which[i]]``
    at ``offset[i]``, ``length[i]`` bytes long, in order (numpy arrays: a large shuffle
    has many segments, and Python tuples of them would cost several times more)."""

    path: tuple[int, ...]  # (bucket,), and (bucket, sub-bucket, …) once split
    seed: int
    memory: int
    folder: str
    files: tuple[str, ...]
    which: np.ndarray
    offset: np.ndarray
    length: np.ndarray
    bytes: int
    lines: int
    compression: str = ""  # each bucket is its own member, so parts concatenate

    def segments(self) -> Iterator[tuple[str, int, int]]:
        for f, offset, length in zip(self.which.tolist(), self.offset.tolist(),
                                     self.length.tolist()):  # fmt: skip
            yield self.files[f], offset, length


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng([seed, *key])


def binary_size(n: int) -> str:
    """``8 MiB``: memory in the units ``--memory`` is given in."""
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.3g} {unit}" if unit != "B" else f"{n} B"
        n /= 1024
    return ""


def reason_of(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


# ------------------------------------------------------------ reading lines
def _shard_chunks(shard: Shard, size: int) -> Iterator[tuple[bytes, int]]:
    """(text, raw bytes consumed) pairs of a shard; read errors name the file."""
    try:
        if shard.end is None:
            with CountingFile.open(Path(shard.path)) as raw, open_stream(raw, shard.path) as f:
                seen = 0
                while chunk := f.read(size):
                    yield chunk, raw.count - seen
                    seen = raw.count
        else:
            with open(shard.path, "rb") as f:
                yield from _range_chunks(f, shard.start, shard.end, size)
    except READ_ERRORS as exc:
        raise ShuffleError(f"{shard.path}: cannot read it ({reason_of(exc)})") from None


def _range_chunks(f: BinaryIO, start: int, end: int, size: int) -> Iterator[tuple[bytes, int]]:
    """The lines starting in ``[start, end)``: from after the first newline at or past
    ``start - 1`` through the first newline at or past ``end - 1``."""
    pos = max(start - 1, 0)
    f.seek(pos)
    skipping = start > 0
    while chunk := f.read(size):
        lo = 0
        if skipping:
            cut = chunk.find(b"\n")
            if cut < 0:
                pos += len(chunk)
                if pos >= end:
                    return
                continue
            lo, skipping = cut + 1, False
            if pos + lo >= end:  # the line cut by ``start`` runs past ``end``
                return
        stop = chunk.find(b"\n", max(end - 1 - pos, lo))
        if stop >= 0 and end - 1 - pos < len(chunk):
            yield chunk[lo : stop + 1], len(chunk)
            return
        yield (chunk[lo:] if lo else chunk), len(chunk)
        pos += len(chunk)


def _line_blocks(
    chunks: Iterable[tuple[bytes, int]], name: str, max_line: int, offset: int = 0
) -> Iterator[tuple[bytes, int]]:
    """Blocks of whole lines, each ending in a newline (one is added at the very end)."""
    carry: list[bytes] = []
    carried = delta = 0
    for chunk, d in chunks:
        delta += d
        cut = chunk.rfind(b"\n")
        if cut < 0:
            carry.append(chunk)
            carried += len(chunk)
            if carried > max_line:
                raise _too_long(name, offset, max_line)
            continue
        if carry:
            if carried + chunk.find(b"\n") + 1 > max_line:
                raise _too_long(name, offset, max_line)
            block = b"".join([*carry, chunk[: cut + 1]])
        else:
            block = chunk if cut + 1 == len(chunk) else chunk[: cut + 1]
        yield block, delta
        offset += len(block)
        delta = 0
        rest = chunk[cut + 1 :]
        carry, carried = ([rest], len(rest)) if rest else ([], 0)
    if carry or delta:
        yield b"".join([*carry, b"\n"]) if carry else b"", delta


def _too_long(name: str, offset: int, max_line: int) -> ShuffleError:
    return ShuffleError(
        f"{name}: a line after byte {offset:,} is longer than {binary_size(max_line)} "
        "(an eighth of --memory); give more memory"
    )


# ------------------------------------------------------------ gathering lines
def _pieces(lengths: np.ndarray, limit: int) -> Iterator[tuple[int, int, int]]:
    """Runs ``[i, j)`` of lines of at most ``limit`` bytes (or one longer line), with bytes."""
    cum = np.cumsum(lengths)
    i, base = 0, 0
    while i < len(lengths):
        j = max(i + 1, int(np.searchsorted(cum, base + limit, side="right")))
        top = int(cum[j - 1])
        yield i, j, top - base
        i, base = j, top


def _index(arr: np.ndarray, starts: np.ndarray, lengths: np.ndarray, total: int) -> np.ndarray:
    """Positions in ``arr`` of the bytes of the given lines, in order: a running sum of
    ones with a jump where each line starts, so no per-line Python runs."""
    idx = np.ones(total, np.intp)  # what indexing wants: a narrower index would be copied
    idx[0] = starts[0]
    if len(starts) > 1:
        idx[np.cumsum(lengths[:-1])] = starts[1:] - starts[:-1] - lengths[:-1] + 1
    return np.cumsum(idx, out=idx)


def _gather(arr, starts, lengths, limit) -> Iterator[np.ndarray]:
    """The lines, in order, as arrays of about ``limit`` bytes (a long line is a view)."""
    for i, j, size in _pieces(lengths, limit):
        if j == i + 1:
            yield arr[int(starts[i]) : int(starts[i]) + size]
        else:
            yield arr[_index(arr, starts[i:j], lengths[i:j], size)]


# ------------------------------------------------------------ pass 1: scatter
class _BucketWriter:
    """One file for all buckets: lines wait in per-bucket buffers, and each flush appends
    every bucket's buffered lines as one segment, remembered for pass 2."""

    def __init__(self, path: Path, buckets: int, flush_at: int) -> None:
        self.path, self.flush_at = path, flush_at
        self.file = open(path, "wb")  # noqa: SIM115 (closed by segments() or close())
        self.pieces: list[list[np.ndarray]] = [[] for _ in range(buckets)]
        self.sizes = np.zeros(buckets, np.int64)
        self.lines = np.zeros(buckets, np.int64)
        self.held = 0
        self.segs = array.array("q")  # (bucket, offset, length, lines) of every segment

    def add(self, bucket: int, piece: np.ndarray, lines: int) -> None:
        self.pieces[bucket].append(piece)
        self.sizes[bucket] += len(piece)
        self.lines[bucket] += lines
        self.held += len(piece)

    def flush(self, force: bool = False) -> None:
        if self.held <= self.flush_at and not force:
            return
        for b in np.flatnonzero(self.sizes):
            offset = self.file.tell()
            self.file.writelines(self.pieces[b])
            self.segs.extend((int(b), offset, int(self.sizes[b]), int(self.lines[b])))
            self.pieces[b] = []
        self.sizes[:] = 0
        self.lines[:] = 0
        self.held = 0

    def segments(self) -> Segments:
        self.flush(force=True)
        self.file.close()
        cols = np.frombuffer(self.segs, np.int64).reshape(-1, 4).T.copy()
        return Segments(str(self.path), *cols)

    def close(self) -> None:
        self.file.close()


def _scatter_block(block: bytes, rng, buckets: int, writer: _BucketWriter, limit: int) -> None:
    """Send each line of ``block`` to a random bucket, keeping input order within a bucket."""
    arr = np.frombuffer(block, np.uint8)
    ends = np.flatnonzero(arr == 10) + 1
    if not len(ends):
        return
    # one double per line: the draws do not depend on how the input was cut into blocks
    ids = np.minimum((rng.random(len(ends)) * buckets).astype(np.int64), buckets - 1)
    order = np.argsort(ids, kind="stable")
    starts = np.concatenate(([0], ends[:-1]))[order]
    lengths = ends[order] - starts
    out = np.empty(len(arr), np.uint8)
    at = 0
    for piece in _gather(arr, starts, lengths, limit):
        out[at : at + len(piece)] = piece
        at += len(piece)
    counts = np.bincount(ids, minlength=buckets)
    line_at = np.concatenate(([0], np.cumsum(counts)))
    byte_at = np.concatenate(([0], np.cumsum(lengths)))[line_at]
    for b in np.flatnonzero(counts):
        writer.add(int(b), out[byte_at[b] : byte_at[b + 1]], int(counts[b]))


def _scatter_lines(
    blocks: Iterable[tuple[bytes, int]], rng, buckets: int, path: Path, limits: Limits
) -> Generator[int, None, Segments]:
    writer = _BucketWriter(path, buckets, limits.flush)
    try:
        for block, delta in blocks:
            _scatter_block(block, rng, buckets, writer, limits.gather)
            writer.flush()
            yield delta
        return writer.segments()
    finally:
        writer.close()


def scatter_steps(task: ScatterTask) -> Generator[int, None, Segments]:
    """Pass 1 for one shard, yielding raw bytes read (steps to report or cancel at)."""
    limits = Limits(task.memory)
    shard = task.shard
    chunks = _shard_chunks(shard, limits.block)
    blocks = _line_blocks(chunks, shard.path, limits.max_line, shard.start)
    where = Path(task.folder) / f"shard-{shard.index:06d}.bin"
    rng = _rng(task.seed, _ASSIGN, shard.index)
    return (yield from _scatter_lines(blocks, rng, task.buckets, where, limits))


def scatter_shard(task: ScatterTask) -> Segments:
    """Pass 1 for one shard, to the end (a Ray task; the local run steps through it)."""
    return _drain(scatter_steps(task))


def _drain(steps: Generator):
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value


# ------------------------------------------------------------ pass 2: shuffle a bucket
@contextlib.contextmanager
def compressing(dest: BinaryIO, kind: str) -> Iterator[BinaryIO]:
    """A writer onto ``dest`` that ends one complete compressed member (deterministic:
    no time or name in a gzip header), leaving ``dest`` open."""
    if not kind:
        yield dest
        return
    if kind == "gz":
        sink = gzip.GzipFile(filename="", mode="wb", fileobj=dest, compresslevel=6, mtime=0)
    elif kind == "bz2":
        sink = bz2.BZ2File(dest, "wb")
    elif kind == "xz":
        sink = lzma.LZMAFile(dest, "wb")  # noqa: SIM115 (closed below)
    else:
        sink = zstandard.ZstdCompressor(level=3).stream_writer(dest, closefd=False)
    with sink:
        yield sink


def bucket_steps(task: BucketTask, dest: BinaryIO) -> Generator[int, None, int]:
    """Pass 2 for one bucket onto ``dest``, yielding bytes written; returns splits made."""
    with compressing(dest, task.compression) as sink:
        return (yield from _shuffle_steps(task, sink))


def _shuffle_steps(task: BucketTask, dest: BinaryIO) -> Generator[int, None, int]:
    limits = Limits(task.memory)
    if task.bytes + LINE_COST * task.lines > limits.bucket:
        return (yield from _split_steps(task, dest, limits))
    arr = np.frombuffer(_load(task.segments(), task.bytes), np.uint8)
    ends = _newlines(arr, task.lines, limits.block)
    order = np.arange(task.lines, dtype=np.int64)
    _rng(task.seed, _PERMUTE, *task.path).shuffle(order)
    for k in range(0, task.lines, limits.lines):
        lines = order[k : k + limits.lines]
        stops = ends[lines] + 1
        starts = np.where(lines > 0, ends[lines - 1] + 1, 0)
        written = 0
        for piece in _gather(arr, starts, stops - starts, limits.gather):
            dest.write(piece)
            written += len(piece)
        yield written
    return 0


def _split_steps(task: BucketTask, dest: BinaryIO, limits: Limits) -> Generator[int, None, int]:
    """A bucket too large to load: scatter it to sub-buckets the same way, shuffle each."""
    if len(task.path) > MAX_DEPTH:
        raise ShuffleError(
            f"bucket {task.path[0]} cannot be split small enough for --memory; give more"
        )
    cost = task.bytes + LINE_COST * task.lines
    buckets = max(2, math.ceil(cost / limits.target))
    where = Path(task.folder) / f"split-{'-'.join(map(str, task.path))}.bin"
    chunks = ((chunk, 0) for chunk in _segment_chunks(task.segments(), limits.block))
    blocks = _line_blocks(chunks, where.name, limits.max_line)
    try:
        rng = _rng(task.seed, _SPLIT, *task.path)
        segments = yield from _scatter_lines(blocks, rng, buckets, where, limits)
        splits = 1
        for sub in bucket_tasks([segments], buckets, task.seed, task.memory, task.folder,
                                 prefix=task.path):  # fmt: skip
            splits += yield from _shuffle_steps(sub, dest)
        return splits
    finally:
        where.unlink(missing_ok=True)


def _load(parts: Iterable[tuple[str, int, int]], size: int) -> bytearray:
    """A bucket's text as one buffer, read straight into place."""
    blob = bytearray(size)
    view = memoryview(blob)
    at = 0
    with contextlib.ExitStack() as stack:
        files: dict[str, BinaryIO] = {}
        for path, offset, length in parts:
            if path not in files:
                files[path] = stack.enter_context(open(path, "rb"))
            f = files[path]
            f.seek(offset)
            end = at + length
            while at < end:
                got = f.readinto(view[at:end])
                if not got:
                    raise ShuffleError(f"{path}: bucket file cut short (removed meanwhile?)")
                at += got
    return blob


def _segment_chunks(parts: Iterable[tuple[str, int, int]], size: int) -> Iterator[bytes]:
    for path, offset, length in parts:
        with open(path, "rb") as f:
            f.seek(offset)
            while length > 0 and (chunk := f.read(min(size, length))):
                length -= len(chunk)
                yield chunk


def _newlines(arr: np.ndarray, lines: int, step: int) -> np.ndarray:
    """Positions of the ``lines`` newlines of ``arr``, found a block at a time (a whole
    comparison array would cost another byte per byte)."""
    ends = np.empty(lines, np.int64)
    at = 0
    for lo in range(0, len(arr), step):
        found = np.flatnonzero(arr[lo : lo + step] == 10)
        if at + len(found) > lines:
            break
        ends[at : at + len(found)] = found + lo
        at += len(found)
    if at != lines or (lines and ends[-1] != len(arr) - 1):
        raise ShuffleError("a bucket file changed during the shuffle")
    return ends


def shuffle_bucket(task: BucketTask, dest: BinaryIO) -> int:
    """Pass 2 for one bucket onto ``dest``, to the end; returns the splits it needed."""
    return _drain(bucket_steps(task, dest))


def shuffle_part(task: BucketTask, part: str) -> int:
    """Pass 2 for one bucket into its own part file (a Ray task)."""
    with open(part, "wb") as f:
        return shuffle_bucket(task, f)


def bucket_tasks(
    results: Sequence[Segments],
    buckets: int,
    seed: int,
    memory: int,
    folder: str,
    prefix: tuple[int, ...] = (),
    compression: str = "",
) -> list[BucketTask]:
    """One task per non-empty bucket: its segments in shard order, then write order."""
    cols = [np.concatenate([getattr(r, c) for r in results] or [np.empty(0, np.int64)])
            for c in ("bucket", "offset", "length", "lines")]  # fmt: skip
    which = np.repeat(np.arange(len(results)), [len(r.bucket) for r in results])
    files = tuple(r.path for r in results)
    bucket, offset, length, lines = cols
    order = np.argsort(bucket, kind="stable")
    bounds = np.searchsorted(bucket[order], np.arange(buckets + 1))
    tasks = []
    for b in range(buckets):
        sel = order[bounds[b] : bounds[b + 1]]
        if not len(sel):
            continue
        size, count = int(length[sel].sum()), int(lines[sel].sum())
        key = (*prefix, b)
        segments = (which[sel].astype(np.int32), offset[sel], length[sel])
        tasks.append(
            BucketTask(key, seed, memory, folder, files, *segments, size, count, compression)
        )
    return tasks
