"""A global shuffle of line corpora larger than memory: the two-pass bucket shuffle.

Pass 1 ("scatter lines") sends every line to a uniformly random bucket; pass 2
("shuffle buckets") loads one bucket at a time, permutes it in memory and appends it to
the output.  Buckets drawn independently and uniformly per line, each then permuted
uniformly, concatenate to a uniformly random permutation of all the lines.

The work is cut into tasks that depend on their arguments only: a shard of the input
(a whole file, or a line-aligned byte range of a large plain one) in pass 1, a bucket in
pass 2, each drawing from a random stream seeded by (seed, its index).  A local run calls
in-process the very task functions a Ray run sends to its workers, so for one seed and
one ``memory`` both write the same bytes.  Bucket files go to a folder beside the output
(or ``tmp``); on a cluster of several machines it must be on a shared filesystem.
The task functions are in :mod:`.shuffle_passes`; this module checks the inputs and
the output, plans the tasks and runs them, in-process or on Ray.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import re
import shutil
import stat
import tempfile
import threading
import time
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .atomic import MARK, _mode_for, remove_leftovers, scratch_folder
from .corpus_formats import looks_compressed
from .events import Cancelled, Event, Log, Rate, human
from .ray_session import ClusterError, ray_session, require_ray, task_error
from .shuffle_passes import (
    BucketTask,
    Limits,
    ScatterTask,
    Segments,
    Shard,
    ShuffleError,
    binary_size,
    bucket_steps,
    bucket_tasks,
    compressing,
    reason_of,
    scatter_shard,
    scatter_steps,
    shuffle_bucket,
    shuffle_part,
)

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

MIN_MEMORY = 64 << 10
SHARD_BYTES = 256 << 20  # plain files larger than this are read as several shards
COMPRESSED_RATIO = 4  # assumed expansion of compressed input when sizing the buckets
MAX_BUCKETS = 1 << 16
OUTPUT_COMPRESSIONS = {".gz": "gz", ".bz2": "bz2", ".xz": "xz", ".zst": "zst", ".zstd": "zst"}
SCATTER, SHUFFLE = "scatter lines", "shuffle buckets"
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:([kmgt])(?:i?b)?|b)?\s*", re.IGNORECASE)
_KINDS = {stat.S_IFDIR: "a folder", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFIFO: "a FIFO (named pipe)",
          stat.S_IFSOCK: "a socket"}  # fmt: skip


def parse_memory(text: str | int) -> int:
    """Bytes from ``"1G"``, ``"512M"``, ``"100K"``, ``"1.5G"`` or plain bytes (K = 1024)."""
    if isinstance(text, int):
        value = text
    else:
        m = _SIZE.fullmatch(text)
        if m is None:
            raise ValueError(f"{text!r} is not a size: give bytes, or a number with K, M or G")
        value = int(float(m[1]) * 1024 ** " kmgt".index((m[2] or " ").lower()))
    if value < MIN_MEMORY:
        raise ValueError(f"{value:,} bytes is too little memory; give at least 64K")
    return value


@dataclass(frozen=True)
class ShuffleResult:
    output: Path
    lines: int
    bytes: int
    buckets: int
    split: int  # buckets that outgrew the memory and were shuffled in sub-buckets
    seconds: float


# ------------------------------------------------------------ planning and checks
def _check_inputs(inputs: Sequence[str | os.PathLike[str]]) -> list[tuple[Path, int, bool]]:
    """(path, size, compressed) of every input: regular files only, each readable."""
    if not inputs:
        raise ShuffleError("no input files given")
    sources = []
    for name in inputs:
        path = Path(name)
        try:
            mode = os.stat(path).st_mode
            if stat.S_ISDIR(mode):
                raise ShuffleError(f"{path}: is a folder; shuffle reads files (list them)")
            if not stat.S_ISREG(mode):
                raise ShuffleError(f"{path}: is {_kind(mode)}, not a regular file")
            with open(path, "rb") as f:
                head = f.read(8)
                size = os.fstat(f.fileno()).st_size
        except OSError as exc:
            raise ShuffleError(f"{path}: cannot read it ({reason_of(exc)})") from None
        sources.append((path, size, looks_compressed(head)))
    return sources


def _kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _check_output(output: str | os.PathLike[str], sources: Sequence[Path]) -> Path:
    """The output path, refused when it is not a regular file (or none yet), or an input."""
    if not os.fspath(output).strip():
        raise ShuffleError("the output file name is empty")
    out = Path(output)
    try:
        mode = os.stat(out).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise ShuffleError(f"{out}: cannot use it as the output ({reason_of(exc)})") from None
    if mode is not None and not stat.S_ISREG(mode):
        raise ShuffleError(f"{out}: is {_kind(mode)}; give a file name for the shuffled lines")
    for source in sources:
        if mode is not None and os.path.samefile(out, source):
            raise ShuffleError(f"{out}: is one of the inputs; refusing to overwrite it")
    if not out.parent.is_dir():
        raise ShuffleError(f"{out.parent}: no such folder for the output {out.name}")
    return out


def _plan_shards(sources: Sequence[tuple[Path, int, bool]], shard_bytes: int) -> list[Shard]:
    """Compressed files whole; plain files in line-aligned ranges of about ``shard_bytes``."""
    shards: list[Shard] = []
    for path, size, compressed in sources:
        if compressed:
            cuts: list[tuple[int, int | None]] = [(0, None)]
        else:
            k = max(1, math.ceil(size / shard_bytes))
            cuts = [(size * i // k, size * (i + 1) // k) for i in range(k)]
        for start, end in cuts:
            shards.append(Shard(len(shards), str(path), start, end, (end or size) - start))
    return shards


def _bucket_count(sources: Sequence[tuple[Path, int, bool]], memory: int) -> int:
    """Buckets expected to hold about a third of ``memory`` each (a bucket that turns
    out larger is split in pass 2, so the estimate only has to be close)."""
    estimate = sum(size * (COMPRESSED_RATIO if packed else 1) for _, size, packed in sources)
    return max(1, min(MAX_BUCKETS, math.ceil(estimate / Limits(memory).target)))


def _bucket_folder(stack: contextlib.ExitStack, parent: Path) -> str:
    """A locked scratch folder in ``parent`` for the run's buckets, removed with ``stack``
    (a killed run's folder goes with the next sweep of ``parent``)."""
    remove_leftovers(parent)
    try:
        return str(stack.enter_context(scratch_folder(parent, "shuffle")))
    except OSError as exc:
        reason = reason_of(exc)
        raise ShuffleError(f"{parent}: cannot write the bucket files here ({reason})") from None


def _compression_of(out: Path) -> str:
    return OUTPUT_COMPRESSIONS.get(out.suffix.lower(), "")


@contextlib.contextmanager
def _temp_output(out: Path) -> Iterator[BinaryIO]:
    """A locked hidden sibling of ``out``, renamed over it when the block ends normally
    and removed otherwise (see :mod:`.atomic`, whose leftovers sweep also covers it)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}{MARK}", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if fcntl is not None:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            os.chmod(tmp, _mode_for(out))
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
            os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# ------------------------------------------------------------ running the tasks
def _check(cancel: threading.Event) -> None:
    if cancel.is_set():
        raise Cancelled("shuffle cancelled")


def _follow(steps: Generator, rate: Rate, cancel: threading.Event, base: float):
    """Run a task's steps in-process, reporting progress and checking ``cancel`` at each."""
    done = base
    try:
        while True:
            _check(cancel)
            try:
                done += next(steps)
            except StopIteration as stop:
                return stop.value
            yield rate.progress(done)
    finally:
        steps.close()


@functools.cache
def _remote(fn: Callable):
    return require_ray().remote(num_cpus=1, max_retries=3)(fn)


def _ray_map(fn, calls, weights, rate, cancel, on_done=None):
    """Run ``fn(*args)`` for each of ``calls`` as Ray tasks; results in call order."""
    ray = require_ray()
    remote = _remote(fn)
    refs = [remote.remote(*args) for args in calls]
    where = {ref: i for i, ref in enumerate(refs)}
    results: list = [None] * len(refs)
    pending, done = list(refs), 0.0
    try:
        while pending:
            _check(cancel)
            ready, pending = ray.wait(pending, num_returns=len(pending), timeout=0.2)
            for ref in ready:
                i = where[ref]
                try:
                    results[i] = ray.get(ref)
                except Exception as exc:
                    raise task_error(exc) from None
                done += weights[i]
                if on_done is not None:
                    on_done(i)
            yield rate.progress(done)
    finally:
        if pending:  # stopped early: end the rest before their folder goes
            for ref in pending:
                with contextlib.suppress(Exception):
                    ray.cancel(ref, force=True)
            with contextlib.suppress(Exception):
                ray.wait(pending, num_returns=len(pending), timeout=10)
    return results


# ------------------------------------------------------------ the job
class ShuffleJob:
    """Shuffle the lines of ``inputs`` (concatenated) into ``output``: :meth:`run` yields
    progress events and sets :attr:`result`.

    ``memory`` bounds the process (or each Ray task) beyond a fixed overhead and sets
    the bucket count, so the output depends on it as on ``seed``.  ``ray``: None runs in
    this process; ``"local"`` or a cluster address runs the tasks on Ray (``workers``
    CPUs for a local one).  ``tmp`` holds the bucket files (default: beside the output).
    ``buckets`` and ``shard_bytes`` override the plan (for tests).
    """

    def __init__(
        self,
        inputs: Sequence[str | os.PathLike[str]],
        output: str | os.PathLike[str],
        *,
        memory: int | str = 1 << 30,
        seed: int = 0,
        ray: str | None = None,
        workers: int = 2,
        tmp: str | os.PathLike[str] | None = None,
        buckets: int | None = None,
        shard_bytes: int = SHARD_BYTES,
    ) -> None:
        if int(seed) < 0:
            raise ShuffleError(f"the seed must be 0 or more, not {seed}")
        if buckets is not None and not 1 <= buckets <= MAX_BUCKETS:
            raise ShuffleError(f"buckets must be 1 to {MAX_BUCKETS}, not {buckets}")
        if tmp is not None and not Path(tmp).is_dir():
            raise ShuffleError(f"{tmp}: no such folder for the bucket files")
        self.inputs, self.output = list(inputs), output
        self.memory, self.seed = parse_memory(memory), int(seed)
        self.ray, self.workers, self.tmp = ray, max(1, int(workers)), tmp
        self.buckets, self.shard_bytes = buckets, max(1, int(shard_bytes))
        self.result: ShuffleResult | None = None

    def run(self, cancel: threading.Event | None = None) -> Iterator[Event]:
        """Shuffle, yielding events; setting ``cancel`` or closing the generator stops it,
        and any end but success leaves neither bucket files nor a partial output."""
        cancel = cancel or threading.Event()
        t0 = time.monotonic()
        sources = _check_inputs(self.inputs)
        out = _check_output(self.output, [path for path, _, _ in sources])
        shards = _plan_shards(sources, self.shard_bytes)
        buckets = self.buckets or _bucket_count(sources, self.memory)
        remove_leftovers(out.parent)
        with contextlib.ExitStack() as stack:
            folder = _bucket_folder(stack, Path(self.tmp or out.parent))
            if self.ray is not None:
                stack.enter_context(self._ray_session())
            yield Log(
                f"shuffling {human(sum(s.size for s in shards), 'bytes')} in "
                f"{len(shards)} shard(s) through {buckets} bucket(s), memory "
                f"{binary_size(self.memory)}" + ("" if self.ray is None else " on Ray")
            )
            tasks = [ScatterTask(s, self.seed, buckets, self.memory, folder) for s in shards]
            results = yield from self._scatter(tasks, cancel)
            with _temp_output(out) as dest:
                split = yield from self._shuffle(results, buckets, folder, dest, cancel)
        lines = int(sum(r.lines.sum() for r in results))
        size = int(sum(r.length.sum() for r in results))
        self.result = ShuffleResult(out, lines, size, buckets, split, time.monotonic() - t0)

    @contextlib.contextmanager
    def _ray_session(self) -> Iterator[None]:
        try:
            with ray_session(self.ray, self.workers):
                yield
        except ClusterError as exc:
            raise ShuffleError(str(exc)) from None

    def _scatter(self, tasks: list[ScatterTask], cancel: threading.Event):
        rate = Rate(SCATTER, sum(t.shard.size for t in tasks), "bytes", time.monotonic)
        yield rate.progress(0)
        if self.ray is not None:
            weights = [t.shard.size for t in tasks]
            results = yield from _ray_map(
                scatter_shard, [(t,) for t in tasks], weights, rate, cancel
            )
        else:
            results, done = [], 0
            for task in tasks:
                results.append((yield from _follow(scatter_steps(task), rate, cancel, done)))
                done += task.shard.size
        lines = sum(int(r.lines.sum()) for r in results)
        size = sum(int(r.length.sum()) for r in results)
        yield rate.finished(f"{lines:,} lines, {human(size, 'bytes')}")
        return results

    def _shuffle(self, results, buckets, folder, dest: BinaryIO, cancel: threading.Event):
        kind = _compression_of(Path(self.output))
        tasks = bucket_tasks(results, buckets, self.seed, self.memory, folder, (), kind)
        rate = Rate(SHUFFLE, sum(t.bytes for t in tasks), "bytes", time.monotonic)
        yield rate.progress(0)
        if not tasks:  # no lines: still a valid (empty) compressed file
            with compressing(dest, kind):
                pass
        if self.ray is not None:
            split = yield from self._shuffle_on_ray(tasks, folder, dest, rate, cancel)
        else:
            split, done = 0, 0
            for task in tasks:
                split += bool((yield from _follow(bucket_steps(task, dest), rate, cancel, done)))
                done += task.bytes
        yield rate.finished(f"{len(tasks):,} buckets" + (f", {split} split" if split else ""))
        return split

    def _shuffle_on_ray(self, tasks, folder, dest, rate, cancel):
        """Each task writes its bucket's part; parts join ``dest`` in bucket order as they
        come (complete compressed members concatenate into a valid file)."""
        parts = [os.path.join(folder, f"part-{i:06d}") for i in range(len(tasks))]
        ready = [False] * len(tasks)
        joined = 0

        def join(i: int) -> None:
            nonlocal joined
            ready[i] = True
            while joined < len(tasks) and ready[joined]:
                with open(parts[joined], "rb") as f:
                    shutil.copyfileobj(f, dest, 1 << 20)
                os.unlink(parts[joined])
                joined += 1

        calls = [(t, p) for t, p in zip(tasks, parts)]
        weights = [t.bytes for t in tasks]
        splits = yield from _ray_map(shuffle_part, calls, weights, rate, cancel, join)
        return sum(1 for s in splits if s)


def shuffle_lines(
    inputs: Sequence[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    memory: int | str = 1 << 30,
    seed: int = 0,
    cancel: threading.Event | None = None,
    progress: Callable[[Event], None] | None = None,
    **options,
) -> ShuffleResult:
    """Run a :class:`ShuffleJob` to the end, passing each event to ``progress``."""
    job = ShuffleJob(inputs, output, memory=memory, seed=seed, **options)
    for ev in job.run(cancel):
        if progress is not None:
            progress(ev)
    assert job.result is not None
    return job.result


__all__ = [
    "MIN_MEMORY",
    "BucketTask",
    "Limits",
    "ScatterTask",
    "Segments",
    "Shard",
    "ShuffleError",
    "ShuffleJob",
    "ShuffleResult",
    "parse_memory",
    "scatter_shard",
    "shuffle_bucket",
    "shuffle_lines",
    "shuffle_part",
]
