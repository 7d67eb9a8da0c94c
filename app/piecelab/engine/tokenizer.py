"""The tokenizer: BytePiece 0.6.3's API over compiled kernels, plus what the GUI needs.

The Python layer is kept thin on purpose: one kernel call per text, which
returns the list itself, filled with the model's own ``bytes`` objects (or
cached ids) so that no slice is copied (:mod:`~piecelab.engine.token_lists`).
Everything richer (spans, scores, probabilities, top-k) is built on the same
kernels.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np

from . import enumerations, kernels, token_lists
from .kernels import NO_FORCED
from .model import N_SPECIAL, SPECIALS, Model, load_model
from .normalize import to_utf8
from .segmentation import Segmentation, char_of_byte
from .trie import DoubleArrayTrie, build_packed, build_trie

# the lean path: kernels that return the list, called past numba's type dispatch
_viterbi_list = token_lists.Direct(kernels.viterbi_list)
_sample_list = token_lists.Direct(kernels.sample_list)
_iter = iter
_MASK64 = (1 << 64) - 1
_MASK63 = (1 << 63) - 1  # kernel seeds travel as int64
_GOLDEN = 0x9E3779B97F4A7C15


class _PieceIds(dict):
    """Piece → id: the model's own index, plus the special tokens (no second copy)."""

    __slots__ = ("index",)

    def __init__(self, index: dict[bytes, int]) -> None:
        super().__init__({s: i for i, s in enumerate(SPECIALS)})
        self.index = index

    def __getitem__(self, key):
        got = self.index.get(key)
        return got if got is not None else super().__getitem__(key)

    def __contains__(self, key) -> bool:
        return key in self.index or super().__contains__(key)


def _per_document(parts: Iterable[tuple[list[int], np.ndarray]], table: np.ndarray) -> list[list]:
    """One list per document from :meth:`Tokenizer._segment_parts`, of ``table``'s objects.

    Each part's ids become one list (in the kernel), which is then cut per document.
    """
    out: list[list] = []
    for cut, ids in parts:
        flat = kernels.list_of(table, ids)
        out.extend(flat[a:b] for a, b in pairwise(cut))
    return out


def _seed64(seed: int) -> int:
    return int(seed) & _MASK64


class Tokenizer:
    """A byte-level Unigram tokenizer, drop-in compatible with ``bytepiece.Tokenizer``.

    ``pieces`` is a path to a BytePiece ``.model`` (or a ``.zip`` of one), the
    decoded JSON object, a mapping of piece bytes to counts, or a :class:`Model`.
    """

    def __init__(
        self,
        pieces: str | os.PathLike[str] | Mapping | Model,
        seed: int | None = None,
    ) -> None:
        self.model = load_model(pieces)
        model = self.model
        self._ids = np.arange(N_SPECIAL, model.vocab_size, dtype=np.int32)
        self._scores = model.log_probs()
        # the reversed packed trie drives Viterbi and sampling; the forward trie
        # (matches, k-best: GUI enumerations) is built on first use
        # placed by probability, so the hot transitions share cache lines
        rev = build_packed(model.pieces, self._ids, weights=np.exp(self._scores))
        self._rev = rev
        self._rt = rev.packed
        self._slot_ids = rev.ids
        self._slot_scores = rev.values(self._scores, -np.inf)
        self._fwd: DoubleArrayTrie | None = None
        self._slot_ones: np.ndarray | None = None
        self._id2piece: list[bytes | str] = [*SPECIALS, *model.pieces]
        # what the list kernels put in their lists, by address: these pieces, and
        # one int object per id (kept here, so encode() allocates no int per token)
        self._id_ints = list(range(model.vocab_size))
        self._piece_table = token_lists.address_table(self._id2piece)
        self._int_table = token_lists.address_table(self._id_ints)
        self._piece2id = _PieceIds(model.index)
        self.vocab_size = model.vocab_size
        self.set_seed(seed)
        self._weight_cache: dict[float, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def _trie_args(self) -> tuple:
        """Forward trie arrays (base, check, value, max_depth) for the enumerations."""
        if self._fwd is None:
            self._fwd = build_trie(self.model.pieces, self._ids)
        t = self._fwd
        return (t.base, t.check, t.value, max(t.max_depth, 1))

    # ------------------------------------------------------------- randomness
    def set_seed(self, seed: int | None) -> None:
        """Seed the sampler; ``None`` draws fresh entropy."""
        self._next_seed = int(np.random.default_rng(seed).integers(0, _MASK63))

    def _call_seed(self, seed: int | None) -> int:
        """The seed of one call: a Weyl sequence the kernels mix with splitmix64.

        Integer arithmetic instead of a numpy draw, because sampling one short
        text must not pay a microsecond for its seed.
        """
        if seed is not None:
            return _seed64(seed)
        self._next_seed = (self._next_seed + _GOLDEN) & _MASK63
        return self._next_seed

    # ------------------------------------------------------------- core calls
    def weights(self, alpha: float) -> np.ndarray:
        """p(piece)^α per id (0 for the special ids): the sampler's piece weights."""
        return self._weights(alpha)[0]

    def _weights(self, alpha: float) -> tuple[np.ndarray, np.ndarray]:
        """(weights per id, weights per reversed-trie slot), cached per α."""
        alpha = float(alpha)
        w = self._weight_cache.get(alpha)
        if w is None:
            finite = np.isfinite(self._scores)
            per_id = np.zeros_like(self._scores)
            per_id[finite] = np.exp(alpha * self._scores[finite])
            if len(self._weight_cache) > 16:
                self._weight_cache.clear()
            w = (per_id, self._rev.values(per_id, 0.0))
            self._weight_cache[alpha] = w
        return w

    def _slot_vals(self, alpha: float) -> np.ndarray:
        """What the kernels add (Viterbi) or multiply (sampling) at each trie slot."""
        return self._weights(alpha)[1] if alpha >= 0 else self._slot_scores

    def _segment(self, data: bytes, alpha: float, seed: int | None):
        if len(data) >= 2**31:
            raise ValueError("texts of 2 GiB or more must be split before tokenizing")
        arr = np.frombuffer(data, dtype=np.uint8)
        alpha = float(alpha)
        sampling = alpha >= 0
        return kernels.segment(
            arr,
            NO_FORCED,
            self._rt,
            self._slot_vals(alpha),
            self._slot_ids,
            alpha,
            self._call_seed(seed) if sampling else 0,
            0,
        )

    def _listed(self, text: str, alpha: float, seed: int | None, table: np.ndarray) -> list:
        """The lean path of tokenize() and encode(): one kernel call that returns the list.

        ``table`` holds the addresses of what to list per id (pieces or ints).
        """
        data = to_utf8(text)
        if alpha < 0:
            out = _viterbi_list.call(data, self._rt, self._slot_scores, self._slot_ids, table)
        else:
            w = self._weights(alpha)[1]
            out = _sample_list.call(data, self._rt, w, self._slot_ids, self._call_seed(seed), table)
        if not out and data:  # a byte no piece covers: say which
            ends, ids, _ = self._segment(data, alpha, seed)
            self._check_uncovered(ids, data, ends)
        return out

    def _check_uncovered(self, ids: np.ndarray, data: bytes, ends: np.ndarray) -> None:
        if len(ids) and ids.min() < 0:
            k = int(np.argmin(ids))
            pos = int(ends[k]) - 1
            raise ValueError(
                f"byte 0x{data[pos]:02X} at offset {pos} has no piece in this vocabulary "
                "(a model needs all 256 single bytes)"
            )

    # --------------------------------------------------------- BytePiece API
    def tokenize(
        self, text: str, alpha: float = -1, iter: bool = False, *, seed: int | None = None
    ) -> list[bytes] | Iterator[bytes]:
        """Cut ``text`` into pieces (bytes).

        ``alpha < 0`` gives the most likely segmentation (Viterbi); ``alpha >= 0``
        draws one with P(seg) ∝ Π p(piece)^α (α = 0 is uniform over segmentations).
        """
        tokens = self._listed(text, alpha, seed, self._piece_table)
        return _iter(tokens) if iter else tokens  # type: ignore[return-value]

    def encode(
        self,
        text: str,
        add_bos: bool = False,
        add_eos: bool = False,
        alpha: float = -1,
        iter: bool = False,
        *,
        seed: int | None = None,
    ) -> list[int] | Iterator[int]:
        """Token ids of ``text`` (``<bos>`` = 1 and ``<eos>`` = 2 on request)."""
        out = self._listed(text, alpha, seed, self._int_table)
        if add_bos:
            out.insert(0, 1)
        if add_eos:
            out.append(2)
        return out.__iter__() if iter else out  # type: ignore[return-value]

    def decode(self, ids: Iterable[int]) -> str:
        """Text of ``ids``; special ids are skipped, partial characters dropped."""
        id2piece = self._id2piece
        try:
            parts = [id2piece[i] for i in ids if i >= N_SPECIAL]
        except IndexError:
            bad = [i for i in ids if not 0 <= i < self.vocab_size]
            raise ValueError(f"ids out of range 0..{self.vocab_size - 1}: {bad[:5]}") from None
        return b"".join(parts).decode("utf-8", errors="ignore")  # type: ignore[arg-type]

    def piece_to_id(self, piece: bytes | str) -> int:
        return self._piece2id[piece]

    def id_to_piece(self, i: int) -> bytes | str:
        if not 0 <= i < self.vocab_size:
            raise KeyError(i)
        return self._id2piece[i]

    def pieces_to_ids(self, pieces: Iterable[bytes | str]) -> list[int]:
        return [self._piece2id[p] for p in pieces]

    def ids_to_pieces(self, ids: Iterable[int]) -> list[bytes | str]:
        return [self.id_to_piece(i) for i in ids]

    # --------------------------------------------------------- richer API
    def segment(self, text: str, alpha: float = -1, seed: int | None = None) -> Segmentation:
        """A segmentation with spans and per-token log-probabilities."""
        data = to_utf8(text)
        ends, ids, _ = self._segment(data, alpha, seed)
        self._check_uncovered(ids, data, ends)
        return self._wrap(data, ids, ends, alpha)

    def _wrap(self, data: bytes, ids: np.ndarray, ends: np.ndarray, alpha: float) -> Segmentation:
        return Segmentation(
            text=data.decode("utf-8"),
            data=data,
            ids=np.asarray(ids, dtype=np.int64),
            ends=np.asarray(ends, dtype=np.int64),
            logps=self._scores[ids],
            alpha=float(alpha),
            char_of_byte=char_of_byte(data),
        )

    def from_pieces(self, text: str, pieces: Sequence[bytes]) -> Segmentation:
        """The segmentation of ``text`` into the given ``pieces`` (checked)."""
        data = to_utf8(text)
        if b"".join(pieces) != data:
            raise ValueError("the pieces do not spell the (NFC-normalized) text")
        ids = np.array([self._piece2id[p] for p in pieces], dtype=np.int64)
        ends = np.cumsum([len(p) for p in pieces], dtype=np.int64)
        return self._wrap(data, ids, ends, -1)

    def log_partition(self, text: str | bytes, alpha: float = 1.0) -> float:
        """log Σ over segmentations of exp(α · Σ log p): the sampler's normalizer."""
        data = text if isinstance(text, bytes) else to_utf8(text)
        return self._log_z(data, self._weights(alpha)[1])

    def _log_z(self, data: bytes, slot_weights: np.ndarray) -> float:
        """log Σ over segmentations of Π (slot weight of each piece)."""
        arr = np.frombuffer(data, dtype=np.uint8)
        return float(kernels.log_partition(arr, NO_FORCED, self._rt, slot_weights, self._slot_ids))

    def log_prob(self, seg: Segmentation, alpha: float = 1.0) -> float:
        """log P(seg) under the sampler with temperature ``alpha`` (exact)."""
        if alpha < 0:
            raise ValueError("alpha must be ≥ 0 for a sampling probability")
        return alpha * seg.score - self.log_partition(seg.data, alpha)

    def count_segmentations(self, text: str) -> int:
        """The exact number of ways the vocabulary can cut ``text`` (chunks multiply)."""
        data = to_utf8(text)
        arr = np.frombuffer(data, dtype=np.uint8)
        starts, ends, _ = enumerations.all_matches(arr, NO_FORCED, *self._trie_args)
        chunk_ends = kernels.chunk_ends(arr, NO_FORCED).tolist()
        by_end: dict[int, list[int]] = {}
        for s, e in zip(starts.tolist(), ends.tolist()):
            by_end.setdefault(e, []).append(s)
        total = 1
        c0 = 0
        for c1 in chunk_ends:
            ways = {c0: 1}
            for e in range(c0 + 1, c1 + 1):
                ways[e] = sum(ways[s] for s in by_end.get(e, ()))
            total *= ways[c1]
            c0 = c1
        return total

    def log_count_segmentations(self, text: str) -> float:
        """Natural log of :meth:`count_segmentations`, for texts where the count is huge."""
        if self._slot_ones is None:
            ones = np.where(np.arange(self.vocab_size) >= N_SPECIAL, 1.0, 0.0)
            self._slot_ones = self._rev.values(ones, 0.0)
        return self._log_z(to_utf8(text), self._slot_ones)

    def matches(self, text: str) -> list[tuple[int, int, int]]:
        """Every (start byte, end byte, id) of a vocabulary piece inside a chunk."""
        data = to_utf8(text)
        arr = np.frombuffer(data, dtype=np.uint8)
        s, e, i = enumerations.all_matches(arr, NO_FORCED, *self._trie_args)
        return list(zip(s.tolist(), e.tolist(), i.tolist()))

    def top_k(self, text: str, k: int = 10, alpha: float = 1.0) -> list[tuple[Segmentation, float]]:
        """The ``k`` most likely segmentations with their exact probability under α."""
        if k < 1:
            raise ValueError("k must be ≥ 1")
        data = to_utf8(text)
        arr = np.frombuffer(data, dtype=np.uint8)
        best, back = enumerations.k_best(arr, NO_FORCED, *self._trie_args, self._scores, int(k))
        log_z = self.log_partition(data, alpha) if alpha >= 0 else math.nan
        n = len(data)
        out = []
        for r in range(k):
            if not np.isfinite(best[r]):
                break
            ids, ends = [], []
            e, rank = n, r
            while e > 0:
                s, rank_s, pid = back[e, rank]
                ids.append(int(pid))
                ends.append(e)
                e, rank = int(s), int(rank_s)
            seg = self._wrap(data, np.array(ids[::-1]), np.array(ends[::-1]), alpha)
            prob = math.exp(alpha * seg.score - log_z) if alpha >= 0 else math.nan
            out.append((seg, prob))
        if n == 0:
            out = [(self._wrap(data, np.zeros(0, np.int64), np.zeros(0, np.int64), alpha), 1.0)]
        return out

    # --------------------------------------------------------- batches
    def _segment_parts(
        self, texts: Sequence[str], alpha: float, workers: int | None, seed: int | None
    ) -> Iterator[tuple[list[int], np.ndarray]]:
        """Segment many texts; yields (token bounds per document, ids) part by part, in order.

        The texts share one buffer in which every document end is a forced
        chunk boundary.  With several workers the buffer is cut at document ends
        into a few parts per worker, and the caller builds one part's lists
        while later parts are still being segmented: building Python objects
        holds the GIL, so left until every kernel had finished it kept the other
        core idle (2 workers ran 1.32× one).  Within a part, document ``i``'s
        tokens are ``ids[bounds[i]:bounds[i + 1]]``.
        """
        datas = [to_utf8(t) for t in texts]
        offsets = np.zeros(len(datas) + 1, dtype=np.int64)
        np.cumsum([len(d) for d in datas], out=offsets[1:])
        buf = b"".join(datas)
        arr = np.frombuffer(buf, dtype=np.uint8)
        n = len(buf)
        if n == 0:
            yield [0] * (len(datas) + 1), np.zeros(0, np.int32)
            return
        workers = max(1, min(workers or os.cpu_count() or 1, max(1, n // 65536)))
        parts = 1 if workers == 1 else min(4 * workers, max(workers, n // 65536))
        cuts = np.searchsorted(offsets, np.linspace(0, n, parts + 1)[1:-1])
        bounds = np.unique(np.concatenate([[0], offsets[cuts], [n]])).tolist()
        doc_ends = offsets[1:]
        alpha = float(alpha)
        base_seed = self._call_seed(seed) if alpha >= 0 else 0
        slot_vals = self._slot_vals(alpha)

        def run(part: int) -> tuple[list[int], np.ndarray]:
            a, b = bounds[part], bounds[part + 1]
            inner = offsets[(offsets > a) & (offsets < b)]
            doc0 = int(np.searchsorted(offsets, a, side="right")) - 1
            ends, ids, _ = kernels.segment(
                arr[a:b], inner - a, self._rt, slot_vals, self._slot_ids, alpha, base_seed, doc0
            )
            self._check_uncovered(ids, buf, ends + a)
            # the part's documents: those ending in (a, b] (and, first, any empty ones at 0)
            lo = int(np.searchsorted(doc_ends, a, side="right")) if part else 0
            hi = int(np.searchsorted(doc_ends, b, side="right"))
            cut = np.searchsorted(ends, doc_ends[lo:hi] - a, side="right")
            return [0, *cut.tolist()], ids

        jobs = range(len(bounds) - 1)
        if workers == 1:
            yield from map(run, jobs)
        else:
            with ThreadPoolExecutor(workers) as pool:
                yield from pool.map(run, jobs)

    def tokenize_batch(
        self,
        texts: Sequence[str],
        alpha: float = -1,
        workers: int | None = None,
        seed: int | None = None,
    ) -> list[list[bytes]]:
        """Tokenize many texts on all cores (kernels release the GIL)."""
        return _per_document(self._segment_parts(texts, alpha, workers, seed), self._piece_table)

    def encode_batch(
        self,
        texts: Sequence[str],
        alpha: float = -1,
        workers: int | None = None,
        seed: int | None = None,
    ) -> list[list[int]]:
        """Token ids of many texts on all cores."""
        return _per_document(self._segment_parts(texts, alpha, workers, seed), self._int_table)

    def encode_buffer(self, data: np.ndarray, chunk_ends: np.ndarray) -> np.ndarray:
        """Viterbi ids of a uint8 buffer already cut into chunks (``chunk_ends``)."""
        forced = np.asarray(chunk_ends, dtype=np.int64)[:-1]
        _, ids, _ = kernels.segment(
            data, forced, self._rt, self._slot_scores, self._slot_ids, -1.0, 0, 0
        )
        return ids

    def count_tokens(self, texts: Sequence[str], workers: int | None = None) -> int:
        """Total Viterbi tokens over ``texts`` (evaluation without building lists)."""
        return sum(len(ids) for _, ids in self._segment_parts(texts, -1, workers, None))
