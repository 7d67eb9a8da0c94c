"""Training on a Ray cluster: both counting passes as Ray tasks over corpus shards.

The n-gram pass and the piece pass (the n-gram Viterbi) are sums over documents, so
each task counts one shard (:mod:`.corpus_shards`) and the driver adds the results:
n-gram tables merged into one within the memory budget (spilling sorted runs past
it, as local training does), piece tables merged, then the exact pruning runs on the
driver.  The model is byte-identical to local training with the same settings.

Tasks report their progress to a small actor the driver polls, so the CLI and the
GUI get the same progress events (bytes done, ETA, live bytes/piece) as locally.
A task whose worker dies is retried by Ray; a shard that cannot be read fails the
run with the file named (or, unless strict, is reported and skipped, as locally).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from . import ngrams as ng
from .corpus import Corpus, CorpusError, CorpusOptions, Problem, is_heldout
from .corpus_shards import Shard, open_shard, plan_shards, shard_bytes
from .counting import (
    NgramCounter,
    PieceCounter,
    Spill,
    add_ngram_entries,
    add_piece_entries,
    count_id_batch,
    count_ngram_batch,
    count_piece_batch,
    merge_piece_tables,
    table_slots,
    text_batches,
)
from .events import Cancelled, Log, Metric, Rate
from .ray_session import LOCAL, ClusterError, ClusterInfo, ray_session, require_ray, task_error

POLL_SECONDS = 0.25  # how often the driver looks at the tasks' progress
LIST_SHARD_BYTES = 8 << 20  # a list of documents is shipped in slices of about this size
TASK_RETRIES = 3  # a task whose worker process dies is run again this many times


@dataclass(frozen=True)
class _DocSlice:
    """Documents given as a Python list, shipped to a task (progress in documents)."""

    index: int
    docs: list[str]

    @property
    def size(self) -> int:
        return len(self.docs)


@dataclass(frozen=True)
class _Shipped:
    """A document slice put into Ray's object store once, for both passes."""

    index: int
    size: int
    ref: object


@dataclass(frozen=True)
class _Job:
    """What every task of a run needs to know."""

    order: int
    isolate_digits: bool
    ensure_unicode: bool
    heldout: float
    max_slots: int
    options: CorpusOptions | None


@dataclass
class _ShardCounts:
    """A shard's n-gram counts, or its piece counts, and what reading it found."""

    nbytes: int = 0
    documents: int = 0
    small: np.ndarray | None = None
    parts: list[tuple[np.ndarray, np.ndarray]] = field(default_factory=list)
    pieces: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
    npieces: int = 0
    heldout: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problem_counts: dict = field(default_factory=dict)
    problems_dropped: int = 0
    seconds: float = 0.0  # the task's own time (reading, counting)
    ids: dict[int, np.ndarray] = field(default_factory=dict)  # re-estimation: size → id counts


@dataclass
class RayExecutor:
    """Where :meth:`Trainer.run` counts: a Ray cluster instead of this process's threads.

    ``address`` None or ``"local"`` starts a Ray on this machine with ``workers`` CPUs
    (stopped after the run); ``"auto"``, ``"host:port"`` or ``"ray://host:port"`` joins a
    running cluster, whose files must be visible to every worker at the same paths.
    ``shard_bytes`` 0 picks a size that gives every worker several shards.
    """

    address: str | None = None
    workers: int = 2
    shard_bytes: int = 0
    info: ClusterInfo | None = None
    _planned: tuple | None = field(default=None, init=False, repr=False)  # one run's shards

    @contextlib.contextmanager
    def session(self) -> Iterator[ClusterInfo]:
        with ray_session(self.address, self.workers) as info:
            self.info = info
            try:
                yield info
            finally:
                self.info = None
                self._planned = None

    @property
    def where(self) -> str:
        return "a local Ray" if self.address in (None, "", LOCAL) else f"Ray at {self.address}"

    # ---------------------------------------------------------------- passes
    def count_ngrams(self, trainer, docs, cancel: threading.Event, clock):
        """Pass 1 on the cluster: ((small, keys, counts), corpus bytes); held-out
        documents land in ``docs.heldout_docs`` as in a local pass."""
        ray = require_ray()
        workers = self._workers()
        sources, total, unit = self._sources(docs, workers)
        corpus = _corpus_of(docs)
        job = self._job(trainer, docs, table_slots(trainer.ngram_memory // workers))
        rate = Rate("count n-grams", total, unit, clock)
        yield Log(f"{self.where}: {len(sources)} shard(s) on {workers} worker(s)")
        small = np.zeros(256 + 65536, np.int64)
        table = NgramCounter.empty(1 << 20)
        max_slots = table_slots(trainer.ngram_memory)
        spill = Spill()
        found = _ShardCounts()
        if corpus is not None:
            corpus._reset_problems()

        def add(res: _ShardCounts) -> None:
            nonlocal table
            np.add(small, res.small, out=small)
            found.nbytes += res.nbytes
            found.documents += res.documents
            docs.heldout_docs.extend(res.heldout)
            if corpus is not None:
                corpus.add_problems(res.problems, res.problem_counts, res.problems_dropped)
            for keys, counts in res.parts:
                table = add_ngram_entries(table, keys, counts, max_slots, spill.write)

        try:
            remote = _remote(ray, _count_ngram_shard)
            yield from _drive(ray, remote, sources, job, add, cancel, rate, None)
            if found.documents == 0 or found.nbytes == 0:
                if corpus is not None and found.documents == 0:
                    raise CorpusError(corpus._empty_message())
                raise ValueError("the corpus is empty: no text to train on")
            if spill.runs:
                spill.write(*ng.sorted_entries(table.keys, table.counts))
                table.release()
                yield Log(f"merging {spill.runs} n-gram runs spilled to disk")
                keys, counts = spill.merge(trainer.min_count)
            else:
                keys, counts = table.keys, table.counts
        finally:
            spill.close()
        distinct = int((keys != 0).sum()) + int((small > 0).sum())
        yield rate.finished(f"{found.nbytes:,} bytes, {distinct:,} distinct n-grams")
        return (small, keys, counts), found.nbytes

    def count_pieces(self, trainer, docs, keys, logp, cancel: threading.Event, clock):
        """Pass 2 on the cluster: the pieces of the n-gram Viterbi and their counts."""
        ray = require_ray()
        workers = self._workers()
        sources, total, unit = self._sources(docs, workers)
        job = self._job(trainer, docs, 0)
        rate = Rate("segment corpus", total, unit, clock)
        model = ray.put((keys, logp))
        merged = ng.new_piece_table(1 << 18, 1 << 22)
        totals = np.zeros(2, np.int64)  # bytes, pieces of the finished shards

        def add(res: _ShardCounts) -> None:
            nonlocal merged
            merged = add_piece_entries(merged, *res.pieces)
            totals[0] += res.nbytes
            totals[1] += res.npieces

        def metric(nbytes: float, npieces: float) -> Metric | None:
            if npieces:
                return Metric("ngram_bytes_per_piece", nbytes, nbytes / npieces)
            return None

        remote = _remote(ray, _count_piece_shard)
        yield from _drive(ray, remote, sources, job, add, cancel, rate, metric, model)
        m = metric(float(totals[0]), float(totals[1]))
        if m is not None:
            yield m
        vocab, counts = merge_piece_tables([merged])
        yield rate.finished(f"{len(vocab):,} distinct pieces")
        return vocab, counts

    def count_ids(self, trainer, docs, models: dict, cancel: threading.Event, clock):
        """Re-estimation on the cluster: each final vocabulary's id counts over the
        training documents, every shard segmented by every vocabulary in one task."""
        ray = require_ray()
        workers = self._workers()
        sources, total, unit = self._sources(docs, workers)
        job = self._job(trainer, docs, 0)
        rate = Rate("re-estimate", total, unit, clock)
        shipped = ray.put(models)
        counts = {size: np.zeros(m.vocab_size, np.int64) for size, m in models.items()}

        def add(res: _ShardCounts) -> None:
            for size, found in res.ids.items():
                counts[size] += found

        remote = _remote(ray, _count_id_shard)
        yield from _drive(ray, remote, sources, job, add, cancel, rate, None, shipped)
        yield rate.finished()
        return counts

    # ---------------------------------------------------------------- helpers
    def _workers(self) -> int:
        if self.info is None:
            raise ClusterError("the Ray executor is used outside its session")
        return self.info.workers

    def _sources(self, docs, workers: int) -> tuple[list, float, str]:
        """The shards (files, or document slices already in Ray's object store), their
        total and its unit; planned once per run, for both passes."""
        if self._planned is not None and self._planned[0] is docs:
            return self._planned[1:]
        planned = self._plan(docs, workers)
        self._planned = (docs, *planned)
        return planned

    def _plan(self, docs, workers: int) -> tuple[list, float, str]:
        corpus = _corpus_of(docs)
        if corpus is not None:
            size = self.shard_bytes or shard_bytes(corpus.size_hint, workers)
            shards = plan_shards(corpus, size)
            return shards, float(sum(s.size for s in shards)), "bytes"
        slices, part, nbytes = [], [], 0
        texts = docs.texts.documents("all") if docs.is_corpus else docs.texts
        for doc in texts:
            part.append(doc)
            nbytes += len(doc)
            if nbytes >= (self.shard_bytes or LIST_SHARD_BYTES):
                slices.append(_DocSlice(len(slices), part))
                part, nbytes = [], 0
        if part or not slices:
            slices.append(_DocSlice(len(slices), part))
        ray = require_ray()
        shipped = [_Shipped(s.index, s.size, ray.put(s)) for s in slices]
        return shipped, float(sum(s.size for s in slices)), "documents"

    @staticmethod
    def _job(trainer, docs, max_slots: int) -> _Job:
        corpus = _corpus_of(docs)
        options = corpus.options if corpus is not None else None
        return _Job(
            trainer.order,
            trainer.isolate_digits,
            trainer.ensure_unicode,
            docs.heldout,
            max_slots,
            options,
        )


# ------------------------------------------------------------------ the driver
def _corpus_of(docs) -> Corpus | None:
    """The :class:`Corpus` behind the trainer's documents (through wrappers such as the
    GUI's cancel guard), or None for other texts (shipped as document slices)."""
    texts = docs.texts
    while not isinstance(texts, Corpus) and hasattr(texts, "texts"):
        texts = texts.texts
    return texts if isinstance(texts, Corpus) else None


def _remote(ray, fn):
    return ray.remote(num_cpus=1, max_retries=TASK_RETRIES, retry_exceptions=False)(fn)


def _drive(ray, remote, sources, job, add, cancel, rate, metric, *extra):
    """Run ``remote`` on every source, ``add`` each result as it comes; yields progress
    (and ``metric(bytes, pieces)`` of the running totals) until all are done, then a
    log line with the tasks' median time and the driver's merge time (the part of a
    cluster run that does not shrink with more machines)."""
    actor = ray.remote(num_cpus=0)(_ProgressBoard).remote()
    refs = {}
    for src in sources:
        ref_src = src.ref if isinstance(src, _Shipped) else src
        refs[remote.remote(ref_src, job, actor, *extra)] = src
    pending = dict(refs)
    last = 0.0
    task_seconds: list[float] = []
    merge_seconds = 0.0
    try:
        while pending:
            if cancel.is_set():
                raise Cancelled("training cancelled")
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=POLL_SECONDS)
            for ref in ready:
                pending.pop(ref)
                try:
                    res = ray.get(ref)
                except Exception as exc:  # the task's own error, or Ray's
                    raise _cluster_failure(exc) from None
                t0 = time.perf_counter()
                add(res)
                merge_seconds += time.perf_counter() - t0
                task_seconds.append(res.seconds)
                del res
            now = time.monotonic()
            if now - last >= POLL_SECONDS or not pending:
                last = now
                done, nbytes, npieces = ray.get(actor.totals.remote())
                yield rate.progress(min(done, rate.total) if rate.total else done)
                if metric is not None:
                    m = metric(nbytes, npieces)
                    if m is not None:
                        yield m
        median = float(np.median(task_seconds)) if task_seconds else 0.0
        yield Log(
            f"{len(task_seconds)} tasks, median {median:.2f} s each; "
            f"merged on the driver in {merge_seconds:.2f} s"
        )
    finally:
        for ref in pending:
            with contextlib.suppress(Exception):
                ray.cancel(ref, force=True)
        with contextlib.suppress(Exception):
            ray.kill(actor)


def _cluster_failure(exc: BaseException) -> BaseException:
    """A task failure as the error local training would raise (file named), or a
    :class:`ClusterError` saying what Ray reported."""
    inner = task_error(exc)
    if isinstance(inner, (CorpusError, ValueError, MemoryError, Cancelled)):
        return inner
    first = str(inner).strip().splitlines()
    return ClusterError(f"a cluster task failed: {first[0] if first else type(inner).__name__}")


class _ProgressBoard:
    """A Ray actor: each shard's latest progress, so retried shards are not counted twice."""

    def __init__(self) -> None:
        self.done: dict[int, float] = {}
        self.stats: dict[int, tuple[int, int]] = {}

    def report(self, shard: int, done: float, nbytes: int, npieces: int) -> None:
        self.done[shard] = done
        self.stats[shard] = (nbytes, npieces)

    def totals(self) -> tuple[float, int, int]:
        nbytes = sum(s[0] for s in self.stats.values())
        npieces = sum(s[1] for s in self.stats.values())
        return float(sum(self.done.values())), nbytes, npieces


# ------------------------------------------------------------------ the tasks
class _ShardReader:
    """The documents of a shard, with the reading position for progress."""

    def __init__(self, source, job: _Job) -> None:
        self.source = source
        self.corpus: Corpus | None = None
        self.count = 0
        if isinstance(source, Shard):
            assert job.options is not None
            self.corpus = open_shard(source, job.options)

    def position(self) -> float:
        if self.corpus is not None:
            return float(min(self.corpus.position, self.source.size))
        return float(self.count)

    def documents(self) -> Iterator[str]:
        if self.corpus is None:
            for doc in self.source.docs:
                self.count += 1
                yield doc
            return
        yield from self.corpus.documents("all")

    def close(self, res: _ShardCounts) -> None:
        if self.corpus is not None:
            res.problems = list(self.corpus.problems)
            res.problem_counts = dict(self.corpus.problem_counts)
            res.problems_dropped = self.corpus.problems_dropped
            self.corpus.close()


def _train_docs(reader: _ShardReader, job: _Job, res: _ShardCounts, collect: bool):
    for doc in reader.documents():
        res.documents += 1
        if job.heldout > 0 and is_heldout(doc, job.heldout):
            if collect:
                res.heldout.append(doc)
            continue
        yield doc


def _count_ngram_shard(source, job: _Job, board) -> _ShardCounts:
    """A Ray task: the n-gram counts of one shard (as compact parts) and its held-out text."""
    t0 = time.perf_counter()
    res = _ShardCounts(small=np.zeros(256 + 65536, np.int64))
    reader = _ShardReader(source, job)
    counter = NgramCounter.empty(min(1 << 20, job.max_slots))
    counter.small = res.small

    def keep(keys: np.ndarray, counts: np.ndarray) -> None:
        res.parts.append((keys, counts))

    try:
        docs = _train_docs(reader, job, res, True)
        for (text, ends), _ in text_batches(docs, job.isolate_digits):
            count_ngram_batch(counter, text, ends, job.order, job.max_slots, keep)
            board.report.remote(source.index, reader.position(), counter.nbytes, 0)
    finally:
        reader.close(res)
    live = counter.keys != 0
    res.parts.append((counter.keys[live], counter.counts[live]))
    res.nbytes = counter.nbytes
    res.seconds = time.perf_counter() - t0
    board.report.remote(source.index, float(source.size), res.nbytes, 0)
    return res


def _count_piece_shard(source, job: _Job, board, model) -> _ShardCounts:
    """A Ray task: the pieces the n-gram Viterbi cuts one shard into, with counts."""
    t0 = time.perf_counter()
    keys, logp = model
    res = _ShardCounts()
    reader = _ShardReader(source, job)
    counter = PieceCounter(ng.new_piece_table(1 << 16, 1 << 20))
    try:
        docs = _train_docs(reader, job, res, False)
        for (text, ends), _ in text_batches(docs, job.isolate_digits):
            count_piece_batch(counter, text, ends, keys, logp, job.order, job.ensure_unicode)
            board.report.remote(source.index, reader.position(), counter.bytes_done, counter.pieces)
    finally:
        reader.close(res)
    offs, lens, cnts = ng.table_entries(counter.table)
    res.pieces = (counter.table.pool[: int(counter.table.fill[1])], offs, lens, cnts)
    res.nbytes, res.npieces = counter.bytes_done, counter.pieces
    res.seconds = time.perf_counter() - t0
    board.report.remote(source.index, float(source.size), res.nbytes, res.npieces)
    return res


def _count_id_shard(source, job: _Job, board, models: dict) -> _ShardCounts:
    """A Ray task: how often each final vocabulary's Viterbi uses each of its ids in
    one shard's training documents (re-estimation)."""
    from .tokenizer import Tokenizer

    t0 = time.perf_counter()
    res = _ShardCounts()
    reader = _ShardReader(source, job)
    toks = {size: Tokenizer(m) for size, m in models.items()}
    res.ids = {size: np.zeros(m.vocab_size, np.int64) for size, m in models.items()}
    try:
        docs = _train_docs(reader, job, res, False)
        for (text, ends), _ in text_batches(docs, job.isolate_digits):
            count_id_batch(res.ids, toks, text, ends)
            res.nbytes += len(text)
            board.report.remote(source.index, reader.position(), res.nbytes, 0)
    finally:
        reader.close(res)
    res.seconds = time.perf_counter() - t0
    board.report.remote(source.index, float(source.size), res.nbytes, 0)
    return res


__all__ = ["RayExecutor"]
