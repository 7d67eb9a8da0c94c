"""Counting a corpus: the n-gram and piece tables one worker fills, and the batches
they are filled from.  Shared by the trainer's threads and the cluster's tasks, so
both count exactly alike.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from . import ngrams as ng
from .events import Cancelled
from .normalize import nfc

BATCH_BYTES = 2 << 20
_CHUNK_RE = re.compile(".{,10000}\n{1,100}|.{1,10000}")
_CHUNK_DIGITS_RE = re.compile("\\d|[^\n\\d]{,10000}\n{1,100}|[^\n\\d]{1,10000}")


@dataclass
class NgramCounter:
    """One worker's n-gram counts: lengths 1–2 dense, longer ones in a hash table."""

    small: np.ndarray  # int64 [256 + 65536]: single bytes, then byte pairs
    keys: np.ndarray  # uint64 packed n-grams (see ngrams), 0 = empty slot
    counts: np.ndarray  # int64 per slot
    used: np.ndarray  # int64 [1]: occupied slots (the kernels update it)
    nbytes: int = 0  # bytes counted

    @classmethod
    def empty(cls, slots: int) -> NgramCounter:
        """No counts yet; the hash table has ``slots`` slots (a power of two)."""
        return cls(
            np.zeros(256 + 65536, np.int64),
            np.zeros(slots, np.uint64),
            np.zeros(slots, np.int64),
            np.zeros(1, np.int64),
        )

    def release(self) -> None:
        """Drop the arrays (once merged or spilled), so their memory can go."""
        self.small = self.keys = self.counts = self.used = np.empty(0, np.int64)

    def grow_or_spill(self, max_slots: int, spill) -> None:
        """The table is full: double it while that stays within ``max_slots`` (or there
        is no ``spill``), else hand it to ``spill(keys, counts)`` as a sorted run and
        start again empty (exact counts, bounded memory)."""
        if 2 * len(self.keys) <= max_slots or spill is None:
            self.keys, self.counts = ng.rehash(self.keys, self.counts, 2 * len(self.keys))
        else:
            spill(*ng.sorted_entries(self.keys, self.counts))
            self.keys[:] = 0
            self.counts[:] = 0
            self.used[0] = 0


@dataclass
class PieceCounter:
    """One worker's piece counts from the n-gram Viterbi, and its running totals."""

    table: ng.PieceTable
    stats: np.ndarray = field(default_factory=lambda: np.zeros(2, np.int64))  # [bytes, pieces]

    @property
    def bytes_done(self) -> int:
        return int(self.stats[0])

    @property
    def pieces(self) -> int:
        return int(self.stats[1])


class Spill:
    """Sorted (key, count) runs appended to two temporary files, merged at the end.

    Once closed it takes no more runs: after a cancel, a worker still counting
    would otherwise make a new folder that nobody removes.
    """

    def __init__(self) -> None:
        self.dir: str | None = None
        self.offsets = [0]
        self.lock = threading.Lock()
        self.closed = False

    @property
    def runs(self) -> int:
        return len(self.offsets) - 1

    def write(self, keys: np.ndarray, counts: np.ndarray) -> None:
        with self.lock:
            if self.closed:
                raise Cancelled("n-gram runs arrived after the job stopped")
            if self.dir is None:
                self.dir = tempfile.mkdtemp(prefix="piecelab-ngrams-")
            with open(os.path.join(self.dir, "keys.bin"), "ab") as fh:
                keys.tofile(fh)
            with open(os.path.join(self.dir, "counts.bin"), "ab") as fh:
                counts.tofile(fh)
            self.offsets.append(self.offsets[-1] + len(keys))

    def merge(self, min_count: int) -> tuple[np.ndarray, np.ndarray]:
        assert self.dir is not None
        n = self.offsets[-1]
        keys = np.memmap(os.path.join(self.dir, "keys.bin"), np.uint64, "r", shape=(n,))
        counts = np.memmap(os.path.join(self.dir, "counts.bin"), np.int64, "r", shape=(n,))
        out = ng.merge_runs(keys, counts, np.array(self.offsets, np.int64), max(min_count, 1))
        del keys, counts
        return out

    def close(self) -> None:
        with self.lock:
            self.closed = True
            if self.dir is not None:
                shutil.rmtree(self.dir, ignore_errors=True)
                self.dir = None


def pack_batch(parts: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    lens = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    return np.frombuffer(b"".join(parts), dtype=np.uint8), np.cumsum(lens)


def text_batches(
    docs: Iterable[str], isolate_digits: bool
) -> Iterator[tuple[tuple[np.ndarray, np.ndarray], int]]:
    """Documents normalized (NFC), cut into BytePiece's chunks and packed into batches of
    about :data:`BATCH_BYTES`: ((bytes, chunk ends), documents read so far)."""
    regex = _CHUNK_DIGITS_RE if isolate_digits else _CHUNK_RE
    parts: list[bytes] = []
    size = 0
    n_docs = 0
    for doc in docs:
        n_docs += 1
        for chunk in regex.findall(nfc(doc)):
            b = chunk.encode("utf-8", errors="surrogatepass")
            parts.append(b)
            size += len(b)
        if size >= BATCH_BYTES:
            yield pack_batch(parts), n_docs
            parts, size = [], 0
    if parts:
        yield pack_batch(parts), n_docs


def table_slots(memory: int) -> int:
    """The most slots (a power of two) of an n-gram hash table within ``memory`` bytes."""
    return 1 << max(12, int(memory // 16).bit_length() - 1)


def count_ngram_batch(c, text: np.ndarray, ends: np.ndarray, order: int, max_slots: int, spill):
    """Count a batch's n-grams into ``c`` (an n-gram counter); a table that would outgrow
    ``max_slots`` goes to ``spill(keys, counts)`` as a sorted run and starts again empty."""
    c.nbytes += len(text)
    start = 0
    while True:
        start = ng.count_ngrams(text, ends, start, order, c.small, c.keys, c.counts, c.used)
        if start >= len(ends):
            return
        c.grow_or_spill(max_slots, spill)


def count_piece_batch(c, text, ends, keys, logp, order: int, ensure_unicode: bool) -> None:
    """Segment a batch with the n-gram model and count its pieces into ``c`` (a piece counter)."""
    start = 0
    while True:
        start = ng.ngram_viterbi_count(
            text, ends, start, keys, logp, order, ensure_unicode, c.table, c.stats
        )
        if start >= len(ends):
            return
        longest = int(np.diff(ends, prepend=0).max())
        c.table = ng.grow_piece_table(c.table, longest)


def count_id_batch(counts: dict, toks: dict, text: np.ndarray, ends: np.ndarray) -> None:
    """Re-estimation: add how often each tokenizer's Viterbi uses each id in a batch
    (``toks`` and ``counts`` keyed alike, by vocabulary size)."""
    for size, tok in toks.items():
        ids = tok.encode_buffer(text, ends)
        counts[size] += np.bincount(ids, minlength=len(counts[size]))


def add_piece_entries(table: ng.PieceTable, pool, offs, lens, cnts) -> ng.PieceTable:
    """``table`` with the entries (pieces given by pool/offs/lens) added, grown as needed."""
    done = 0
    while done < len(offs):
        done += ng.merge_into(table, pool, offs[done:], lens[done:], cnts[done:])
        if done < len(offs):
            table = ng.grow_piece_table(table, len(offs) - done, int(lens[done:].sum()))
    return table


def add_ngram_entries(table: NgramCounter, keys, counts, max_slots: int = 0, spill=None):
    """Add n-gram entries (0 = empty slot) into ``table``, returned (it may be rehashed).

    The table grows to fit them first: entries taken from another table come in its
    slot order, i.e. by hash, and inserted by hash into a smaller table of the same
    hash they pile into one long probe run (quadratic time).  With ``max_slots`` the
    table grows no further: past it, it goes to ``spill(keys, counts)`` as a sorted
    run and starts again empty (exact counts, bounded memory).
    """
    limit = max_slots or 1 << 62
    need = int(table.used[0]) + int(np.count_nonzero(keys))
    cap = len(table.keys)
    while need > cap * ng.LOAD_LIMIT and 2 * cap <= limit:
        cap *= 2
    if cap > len(table.keys):
        table.keys, table.counts = ng.rehash(table.keys, table.counts, cap)
    start = 0
    while True:
        start = ng.merge_counts(table.keys, table.counts, table.used, keys, counts, start)
        if start >= len(keys):
            return table
        table.grow_or_spill(limit, spill)


def merge_piece_tables(tables: list[ng.PieceTable]) -> tuple[list[bytes], np.ndarray]:
    """All pieces of the per-worker piece tables as (bytes list, counts)."""
    first = tables[0]
    for t in tables[1:]:
        first = add_piece_entries(first, t.pool, *ng.table_entries(t))
    offs, lens, cnts = ng.table_entries(first)
    pool = first.pool.tobytes()
    return [pool[o : o + n] for o, n in zip(offs.tolist(), lens.tolist())], cnts


class CountingExecutor(Protocol):
    """Somewhere else to run the two counting passes (a cluster: :mod:`.cluster`).

    ``session()`` is entered for the passes and yields what to report (workers,
    nodes); ``count_ngrams``, ``count_pieces`` and ``count_ids`` (re-estimation) are
    generators of events that return what the trainer's own passes return.
    """

    where: str

    def session(self) -> contextlib.AbstractContextManager: ...

    def count_ngrams(self, trainer, docs, cancel: threading.Event, clock) -> Iterator: ...

    def count_pieces(
        self, trainer, docs, keys, logp, cancel: threading.Event, clock
    ) -> Iterator: ...

    def count_ids(self, trainer, docs, models: dict, cancel: threading.Event, clock) -> Iterator:
        """Re-estimation: {size: id counts} of each final model's Viterbi on the corpus."""
        ...
