"""The BytePiece trainer: n-gram model → n-gram Viterbi → piece counts → pruning.

:meth:`Trainer.run` is the whole job as a generator of events (progress, live
metrics, logs); :meth:`Trainer.train` drains it for BytePiece-compatible code.
The corpus is streamed twice and never held; counting uses numpy hash tables
filled by numba kernels on worker threads (they release the GIL).
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Sequence, Sized
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import ngrams as ng
from .counting import (
    CountingExecutor,
    NgramCounter,
    PieceCounter,
    Spill,
    add_ngram_entries,
    count_id_batch,
    count_ngram_batch,
    count_piece_batch,
    merge_piece_tables,
    table_slots,
    text_batches,
)
from .events import Cancelled, Event, Log, Metric, Rate
from .model import N_SPECIAL, Model
from .prune import rank_for_size, settle, split_counts

WORKER_THREAD_PREFIX = "piecelab-train"  # names the worker threads of a run
MAX_CURVE = 64  # most points of a compression curve
CURVE_SPAN = 8  # a curve goes from the largest size down to this fraction of it


def curve_sizes(largest: int, points: int) -> list[int]:
    """The ladder of a compression curve: ``points`` sizes, geometric from ``largest``
    down to ``largest / CURVE_SPAN`` (never below 259), largest first, no repeats."""
    if points < 2:
        return []
    floor = N_SPECIAL + 256
    sizes = {max(floor, round(largest * CURVE_SPAN ** (-i / (points - 1)))) for i in range(points)}
    return sorted(sizes, reverse=True)


@dataclass
class TrainResult:
    """One model per requested size, with held-out figures when there was held-out text."""

    models: dict[int, Model]
    heldout_bytes_per_token: dict[int, float]
    corpus_bytes: int
    elapsed: float
    curve: list[tuple[int, float]] = field(default_factory=list)  # (size, bytes/token)


class _Docs:
    """Adapts a corpus or any re-iterable of str; tracks progress for events."""

    def __init__(self, texts: object, heldout: float) -> None:
        if isinstance(texts, Iterator):
            raise TypeError(
                "texts must be re-iterable (a list, or a piecelab Corpus): the trainer "
                "reads them twice, and an iterator would be empty the second time"
            )
        self.texts = texts
        self.heldout = heldout
        self.is_corpus = hasattr(texts, "documents") and hasattr(texts, "size_hint")
        self.heldout_docs: list[str] = []
        self.heldout_bytes: int | None = None  # of heldout_docs, once counted

    def total(self) -> tuple[float, str]:
        if self.is_corpus:
            return float(self.texts.size_hint), "bytes"  # type: ignore[attr-defined]
        if isinstance(self.texts, Sized):
            return float(len(self.texts)), "documents"
        return 0.0, "documents"

    def done(self, count: int) -> float:
        return float(self.texts.position) if self.is_corpus else float(count)  # type: ignore[attr-defined]

    def __call__(self, collect_heldout: bool) -> Iterator[str]:
        if self.heldout > 0:
            from .corpus import is_heldout
        source = self.texts.documents("all") if self.is_corpus else iter(self.texts)  # type: ignore[attr-defined]
        for doc in source:
            if self.heldout > 0 and is_heldout(doc, self.heldout):
                if collect_heldout:
                    self.heldout_docs.append(doc)
                continue
            yield doc


class Trainer:
    """BytePiece's Unigram trainer, compatible with ``bytepiece.Trainer`` 0.6.3.

    ``max_vocab_size`` may be a list: one run yields a model per size (largest
    first, each pruned from the previous).  ``curve`` > 1 also measures held-out
    bytes/token at that many sizes (:func:`curve_sizes`): each is a side stop of
    the same pruning (from the requested model above it, so the requested models
    are unchanged), evaluated and dropped (never re-estimated); the run's
    :attr:`curve` lists them with the requested sizes' held-out figures.
    ``ngram_memory`` bounds the n-gram hash tables (bytes, all workers); a corpus
    with more distinct n-grams spills sorted runs to a temporary folder and merges
    them, so counts stay exact.
    """

    def __init__(
        self,
        order: int = 6,
        max_vocab_size: int | Sequence[int] = 10000,
        max_piece_length: int = 36,
        min_count: int = 2,
        isolate_digits: bool = False,
        ensure_unicode: bool = True,
        ngram_memory: int = 2 << 30,
        curve: int = 0,
    ) -> None:
        if not 1 <= order <= ng.MAX_ORDER:
            raise ValueError(f"order must be between 1 and {ng.MAX_ORDER}, got {order}")
        if curve != 0 and not 2 <= curve <= MAX_CURVE:
            raise ValueError(f"curve points must be 0 (none) or 2 to {MAX_CURVE}, got {curve}")
        sizes = (
            list(max_vocab_size) if isinstance(max_vocab_size, (list, tuple)) else [max_vocab_size]
        )
        if not sizes or any(int(s) < N_SPECIAL + 256 for s in sizes):
            raise ValueError("every vocabulary size must be at least 259 (256 bytes + 3 ids)")
        self.order = order
        self.max_vocab_size = sorted((int(s) for s in sizes), reverse=True)
        self.max_piece_length = max_piece_length
        self.min_count = min_count
        self.isolate_digits = isolate_digits
        self.ensure_unicode = ensure_unicode
        self.ngram_memory = int(ngram_memory)
        self.curve_points = int(curve)
        self.curve: list[tuple[int, float]] = []  # (size, held-out bytes/token), largest first
        self.models: dict[int, Model] = {}
        self.result: TrainResult | None = None

    # ------------------------------------------------------------ BytePiece API
    @property
    def pieces(self) -> list[dict[bytes, int]]:
        """Like BytePiece: one {piece: count} per size, largest size first."""
        return [
            dict(zip(self.models[s].pieces, self.models[s].counts.tolist()))
            for s in self.max_vocab_size
            if s in self.models
        ]

    def train(
        self, texts: Iterable[str], workers: int = 1, batch_size: int = 1000, **kwargs
    ) -> TrainResult:
        """Train on ``texts`` (re-iterable); ``batch_size`` is accepted for compatibility."""
        del batch_size
        for _ in self.run(texts, workers=workers, **kwargs):
            pass
        assert self.result is not None
        return self.result

    def save(self, path: str | os.PathLike[str]) -> list[Path]:
        """One size: ``path``; several: ``path.SIZE`` for each (BytePiece's naming)."""
        if not self.models:
            raise RuntimeError("nothing to save: train first")
        if len(self.max_vocab_size) == 1:
            return [self.models[self.max_vocab_size[0]].save(path)]
        return [self.models[s].save(f"{os.fspath(path)}.{s}") for s in self.max_vocab_size]

    # ------------------------------------------------------------ the job
    def run(
        self,
        texts: Iterable[str],
        workers: int = 1,
        heldout: float = 0.0,
        cancel: threading.Event | None = None,
        reestimate: bool = False,
        executor: CountingExecutor | None = None,
    ) -> Iterator[Event]:
        """Train, yielding events; closing the generator or setting ``cancel`` stops it.

        With an ``executor`` (:class:`~piecelab.engine.cluster.RayExecutor`) the counting
        passes (and re-estimation) run as cluster tasks; pruning and evaluation stay
        here, on ``workers`` threads.  The models are the same either way.
        """
        clock = time.monotonic
        t0 = clock()
        workers = max(1, int(workers))
        cancel = cancel or threading.Event()
        docs = _Docs(texts, heldout)
        self._ladder: dict[int, float] = {}  # curve sizes not requested → bytes/token
        self.curve = []
        pool = ThreadPoolExecutor(workers, thread_name_prefix=WORKER_THREAD_PREFIX)
        session = executor.session() if executor is not None else contextlib.nullcontext()
        try:
            with session as cluster:
                yield from self._started(cluster, executor, workers)
                if executor is not None:
                    counted = executor.count_ngrams(self, docs, cancel, clock)
                else:
                    counted = self._count_ngrams(docs, pool, workers, cancel, clock)
                tables, corpus_bytes = yield from counted
                keys, logp = ng.build_logp_table(*tables, self.min_count, corpus_bytes)
                del tables
                yield Log(f"n-gram model: {int((keys != 0).sum()):,} n-grams kept")
                if executor is not None:
                    counted = executor.count_pieces(self, docs, keys, logp, cancel, clock)
                else:
                    counted = self._count_pieces(docs, keys, logp, pool, workers, cancel, clock)
                vocab, counts = yield from counted
                del keys, logp
                models = yield from self._prune(
                    vocab, counts, corpus_bytes, workers, cancel, clock, docs
                )
                if reestimate:
                    if executor is not None:
                        counted = executor.count_ids(self, docs, models, cancel, clock)
                    else:
                        counted = self._count_ids(docs, models, pool, workers, cancel, clock)
                    models = _reestimated(models, (yield from counted))
            held = yield from self._evaluate(docs, models, workers, cancel, clock)
            self.models = models
            if self.curve_points:
                self.curve = sorted({**self._ladder, **held}.items(), reverse=True)
            self.result = TrainResult(models, held, corpus_bytes, clock() - t0, list(self.curve))
            yield Log(f"done in {clock() - t0:.1f} s")
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _started(self, cluster, executor, workers: int) -> Iterator[Event]:
        """The run's first log line, and where it counts (the cluster's size)."""
        where = f"{workers} worker(s)"
        if cluster is not None:
            where = (
                f"{cluster.workers} cluster worker(s) on {cluster.nodes} node(s) ({executor.where})"
            )
            yield Metric("cluster", cluster.workers, cluster.nodes)
        yield Log(
            f"training order {self.order}, sizes {self.max_vocab_size}, min_count "
            f"{self.min_count}, {where}"
        )

    @staticmethod
    def _check(cancel: threading.Event) -> None:
        if cancel.is_set():
            raise Cancelled("training cancelled")

    # ------------------------------------------------------------ batches
    def _batches(
        self, docs: _Docs, collect_heldout: bool
    ) -> Iterator[tuple[tuple[np.ndarray, np.ndarray], int]]:
        """Normalized chunks packed into ((bytes, chunk ends), documents read so far)."""
        return text_batches(docs(collect_heldout), self.isolate_digits)

    def _pipeline(self, docs, collect_heldout, pool, states, fn, cancel, rate):
        """Run ``fn(state, text, ends)`` over the batches on the worker threads.

        Each state (a worker's tables) is used by one thread at a time; the
        next batch is prepared while the workers count.  Progress is yielded as
        batches finish (the reading position each had), so 100% means done, not
        only read.
        """
        free: queue.SimpleQueue = queue.SimpleQueue()
        for st in states:
            free.put(st)
        pending: deque = deque()

        def task(text, ends) -> None:
            st = free.get()
            try:
                fn(st, text, ends)
            finally:
                free.put(st)

        try:
            for (text, ends), n_docs in self._batches(docs, collect_heldout):
                self._check(cancel)
                while len(pending) >= len(states):
                    yield _finished(pending, rate)
                pending.append((pool.submit(task, text, ends), docs.done(n_docs)))
            while pending:
                yield _finished(pending, rate)
        finally:
            for f, _ in pending:
                f.cancel()

    def _count_ngrams(self, docs, pool, workers, cancel, clock):
        """Count n-grams into per-worker tables; past the memory budget, spill sorted
        runs to a temporary folder and merge them at the end (exact counts)."""
        total, unit = docs.total()
        rate = Rate("count n-grams", total, unit, clock)
        max_slots = table_slots(self.ngram_memory // workers)
        counters = [NgramCounter.empty(min(1 << 20, max_slots)) for _ in range(workers)]
        spill = Spill()

        def count(c: NgramCounter, text: np.ndarray, ends: np.ndarray) -> None:
            count_ngram_batch(c, text, ends, self.order, max_slots, spill.write)

        try:
            yield from self._pipeline(docs, True, pool, counters, count, cancel, rate)
            corpus_bytes = sum(c.nbytes for c in counters)
            if corpus_bytes == 0:
                raise ValueError("the corpus is empty: no text to train on")
            small = counters[0].small
            for other in counters[1:]:
                small += other.small
            if spill.runs:
                for c in counters:
                    spill.write(*ng.sorted_entries(c.keys, c.counts))
                    c.release()
                yield Log(f"merging {spill.runs} n-gram runs spilled to disk")
                keys, counts = spill.merge(self.min_count)
            else:
                keys, counts = self._merge_ngram_tables(counters)
        finally:
            spill.close()
        distinct = int((keys != 0).sum()) + int((small > 0).sum())
        yield rate.finished(f"{corpus_bytes:,} bytes, {distinct:,} distinct n-grams")
        return (small, keys, counts), corpus_bytes

    @staticmethod
    def _merge_ngram_tables(counters: list[NgramCounter]) -> tuple[np.ndarray, np.ndarray]:
        """The workers' n-gram hash tables added into the first: (keys, counts)."""
        first = counters[0]
        for other in counters[1:]:
            first = add_ngram_entries(first, other.keys, other.counts)
            other.release()
        return first.keys, first.counts

    def _count_pieces(self, docs, keys, logp, pool, workers, cancel, clock):
        """Segment the corpus with the n-gram model; returns the pieces and their counts."""
        total, unit = docs.total()
        rate = Rate("segment corpus", total, unit, clock)
        counters = [PieceCounter(ng.new_piece_table(1 << 18, 1 << 22)) for _ in range(workers)]

        def segment(c: PieceCounter, text: np.ndarray, ends: np.ndarray) -> None:
            count_piece_batch(c, text, ends, keys, logp, self.order, self.ensure_unicode)

        def metric() -> Metric | None:
            done_bytes = sum(c.bytes_done for c in counters)
            n_pieces = sum(c.pieces for c in counters)
            if n_pieces:
                return Metric("ngram_bytes_per_piece", done_bytes, done_bytes / n_pieces)
            return None

        for ev in self._pipeline(docs, False, pool, counters, segment, cancel, rate):
            yield ev
            m = metric()
            if m is not None:
                yield m
        m = metric()
        if m is not None:
            yield m
        vocab, counts = merge_piece_tables([c.table for c in counters])
        yield rate.finished(f"{len(vocab):,} distinct pieces")
        return vocab, counts

    # ------------------------------------------------------------ pruning
    def _prune(self, vocab, counts, corpus_bytes, workers, cancel, clock, docs=None):
        """The requested sizes, largest first, each pruned from the previous; the
        curve's other sizes are side stops, pruned from the requested model above."""
        ladder = self._curve_ladder(docs)
        rate = Rate("prune pieces", len(self.max_vocab_size) + len(ladder) + 1, "steps", clock)
        kv, kc = yield from self._first_cut(vocab, counts, corpus_bytes, workers, cancel)
        yield rate.progress(1)
        models: dict[int, Model] = {}
        step = 1
        sizes = self.max_vocab_size
        for i, size in enumerate(sizes):
            self._check(cancel)
            cut = self._cut(kv, kc, size, workers, cancel)
            if cut is not None:
                kv, kc, rounds = cut
                extra = {"round": rounds, "target": size}
                yield Metric("prune", len(kv) + N_SPECIAL, corpus_bytes / kc.sum(), extra)
            models[size] = Model.from_counts(dict(zip(kv, kc.tolist())))
            yield Log(f"size {size:,}: {len(kv) + N_SPECIAL:,} ids")
            step += 1
            yield rate.progress(step)
            below = sizes[i + 1] if i + 1 < len(sizes) else 0
            side = [s for s in ladder if below < s < size]
            if side:
                yield from self._curve_side(kv, kc, side, docs, workers, cancel)
                step += len(side)
                yield rate.progress(step)
        yield rate.finished()
        return models

    def _first_cut(self, vocab, counts, corpus_bytes, workers, cancel):
        """All bytes added, pieces too rare or too long re-split, then settled."""
        index = {p: i for i, p in enumerate(vocab)}
        extra = [bytes([b]) for b in range(256) if bytes([b]) not in index]
        if extra:
            vocab = vocab + extra
            counts = np.concatenate([counts, np.ones(len(extra), np.int64)])
        lens = np.fromiter(map(len, vocab), dtype=np.int64, count=len(vocab))
        keep = (lens == 1) | ((lens <= self.max_piece_length) & (counts >= self.min_count))
        ki, di = np.flatnonzero(keep), np.flatnonzero(~keep)
        kv = [vocab[i] for i in ki.tolist()]
        kc = counts[ki]
        self._check(cancel)
        kc = kc + split_counts(kv, kc, [vocab[i] for i in di.tolist()], counts[di], workers)
        yield Log(f"kept {len(kv):,} pieces by count and length, re-split {len(di):,}")
        kv, kc, rounds = settle(kv, kc, workers, lambda: self._check(cancel))
        yield Metric("prune", len(kv) + N_SPECIAL, corpus_bytes / kc.sum(), {"round": rounds})
        return kv, kc

    def _cut(self, kv, kc, size, workers, cancel):
        """``(pieces, counts, rounds)`` pruned to ``size`` ids, or None if already there."""
        if len(kv) <= size - N_SPECIAL:
            return None
        order = rank_for_size(kv, kc)
        top, rest = order[: size - N_SPECIAL], order[size - N_SPECIAL :]
        tv = [kv[i] for i in top.tolist()]
        tc = kc[top]
        tc = tc + split_counts(tv, tc, [kv[i] for i in rest.tolist()], kc[rest], workers)
        return settle(tv, tc, workers, lambda: self._check(cancel))

    def _curve_ladder(self, docs) -> list[int]:
        """The curve's sizes that are not requested ones (none without held-out text)."""
        ladder = curve_sizes(self.max_vocab_size[0], self.curve_points)
        if ladder and (docs is None or not docs.heldout_docs):
            return []
        return [s for s in ladder if s not in self.max_vocab_size]

    def _curve_side(self, kv, kc, sizes, docs, workers, cancel):
        """Prune on from (kv, kc) through ``sizes`` (descending); each model is measured
        on the held-out text (a "curve" metric) and dropped.  Sizes the vocabulary is
        already below are skipped (the corpus did not give that many pieces)."""
        for size in sizes:
            self._check(cancel)
            cut = self._cut(kv, kc, size, workers, cancel)
            if cut is None:
                continue
            kv, kc, _ = cut
            model = Model.from_counts(dict(zip(kv, kc.tolist())))
            self._ladder[size] = self._bytes_per_token(model, docs, workers)
            yield Metric("curve", model.vocab_size, self._ladder[size], {"size": size})

    # ------------------------------------------------------------ held-out
    @staticmethod
    def _bytes_per_token(model: Model, docs: _Docs, workers: int) -> float:
        from .tokenizer import Tokenizer

        if docs.heldout_bytes is None:
            docs.heldout_bytes = sum(len(d.encode("utf-8")) for d in docs.heldout_docs)
        n = Tokenizer(model).count_tokens(docs.heldout_docs, workers=workers)
        return docs.heldout_bytes / max(n, 1)

    def _evaluate(self, docs, models, workers, cancel, clock):
        """Held-out bytes/token of each model (none without held-out text)."""
        held: dict[int, float] = {}
        if not docs.heldout_docs:
            if self.curve_points:
                yield Log("no held-out text: no compression curve", "warning")
            return held
        rate = Rate("evaluate", len(models), "models", clock)
        for i, (size, model) in enumerate(sorted(models.items())):
            self._check(cancel)
            held[size] = self._bytes_per_token(model, docs, workers)
            yield Metric("heldout", model.vocab_size, held[size], {"size": size})
            if self.curve_points:
                yield Metric("curve", model.vocab_size, held[size], {"size": size})
            yield rate.progress(i + 1)
        yield rate.finished()
        return held

    def _count_ids(self, docs, models, pool, workers, cancel, clock):
        """Each final vocabulary's id counts from segmenting the corpus with it, the
        batches shared out among the worker threads (the kernels release the GIL)."""
        from .tokenizer import Tokenizer

        total, unit = docs.total()
        rate = Rate("re-estimate", total, unit, clock)
        toks = {s: Tokenizer(m) for s, m in models.items()}
        states = [{s: np.zeros(m.vocab_size, np.int64) for s, m in models.items()}]
        states += [{s: c.copy() for s, c in states[0].items()} for _ in range(workers - 1)]

        def count(state: dict, text: np.ndarray, ends: np.ndarray) -> None:
            count_id_batch(state, toks, text, ends)

        yield from self._pipeline(docs, False, pool, states, count, cancel, rate)
        yield rate.finished()
        return {s: sum(st[s] for st in states) for s in models}


def _reestimated(models: dict, ids: dict) -> dict:
    """Each model with its pieces counted as its own Viterbi uses them (at least 1)."""
    return {s: Model(list(m.pieces), np.maximum(ids[s][N_SPECIAL:], 1)) for s, m in models.items()}


def _finished(pending: deque, rate: Rate):
    """Wait for the oldest batch; the progress of having done everything up to it."""
    future, position = pending.popleft()
    future.result()
    return rate.progress(position)
