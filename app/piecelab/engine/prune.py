"""Re-splitting pieces with a Unigram vocabulary: the pruning half of the trainer.

Dropping a piece hands its count to the pieces that the kept vocabulary's
Viterbi would cut it into; repeating that over the kept pieces themselves
removes pieces the vocabulary would never output as themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from .kernels import _scratch, _viterbi_chunk
from .trie import build_packed


@njit(cache=True, nogil=True)
def _split_range(pool, offs, lens, cnts, lo, hi, rt, val, ids, out):
    longest = 1
    for k in range(lo, hi):
        longest = max(longest, lens[k])
    dp, route, rslot, _, _ = _scratch(longest, 0)
    for k in range(lo, hi):
        n = lens[k]
        _viterbi_chunk(pool, offs[k], n, rt, val, dp, route, rslot)
        e = n
        c = cnts[k]
        while e > 0:
            out[ids[rslot[e]]] += c  # every vocabulary here has all 256 single bytes
            e = route[e]


def pack(pieces: list[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pieces as (byte pool, offsets, lengths)."""
    lens = np.fromiter(map(len, pieces), dtype=np.int64, count=len(pieces))
    offs = np.zeros(len(pieces), np.int64)
    if len(pieces) > 1:
        np.cumsum(lens[:-1], out=offs[1:])
    pool = np.frombuffer(b"".join(pieces), dtype=np.uint8)
    return pool, offs, lens


def split_counts(
    vocab: list[bytes],
    vocab_counts: np.ndarray,
    pieces: list[bytes],
    counts: np.ndarray,
    workers: int = 1,
) -> np.ndarray:
    """Counts over ``vocab`` after cutting each of ``pieces`` (× its count) with
    the Unigram Viterbi of ``vocab`` scored by ``vocab_counts``."""
    trie = build_packed(vocab, np.arange(len(vocab), dtype=np.int32), weights=vocab_counts)
    with np.errstate(divide="ignore"):
        scores = np.log(vocab_counts.astype(np.float64)) - np.log(float(vocab_counts.sum()))
    pool, offs, lens = pack(pieces)
    cnts = np.asarray(counts, dtype=np.int64)
    args = (trie.packed, trie.values(scores, -np.inf), trie.ids)
    n = len(pieces)
    workers = max(1, min(workers, n // 20_000 or 1))
    bounds = np.linspace(0, n, workers + 1).astype(np.int64)
    outs = [np.zeros(len(vocab), np.int64) for _ in range(workers)]

    def run(w: int) -> None:
        _split_range(pool, offs, lens, cnts, bounds[w], bounds[w + 1], *args, outs[w])

    if workers == 1:
        run(0)
    else:
        with ThreadPoolExecutor(workers) as ex:
            list(ex.map(run, range(workers)))
    return np.sum(outs, axis=0)


def settle(
    vocab: list[bytes],
    counts: np.ndarray,
    workers: int = 1,
    check: Callable[[], None] | None = None,
) -> tuple[list[bytes], np.ndarray, int]:
    """Re-split the vocabulary by itself until its size stops changing.

    Returns the surviving pieces, their counts and the number of rounds;
    ``check`` runs before each round (it raises to cancel).
    """
    rounds = 0
    while True:
        if check is not None:
            check()
        rounds += 1
        new = split_counts(vocab, counts, vocab, counts, workers)
        alive = np.flatnonzero(new > 0)
        changed = len(alive) != len(vocab)
        vocab = [vocab[i] for i in alive.tolist()]
        counts = new[alive]
        if not changed:
            return vocab, counts, rounds


def rank_for_size(vocab: list[bytes], counts: np.ndarray) -> np.ndarray:
    """Order in which pieces survive a size cut: single bytes first, then by
    count, then longer first, then by bytes (BytePiece's order)."""
    lens = np.fromiter(map(len, vocab), dtype=np.int64, count=len(vocab))
    byte_rank = np.empty(len(vocab), np.int64)
    byte_rank[sorted(range(len(vocab)), key=vocab.__getitem__)] = np.arange(len(vocab))
    return np.lexsort((byte_rank, -lens, -counts, lens > 1))
