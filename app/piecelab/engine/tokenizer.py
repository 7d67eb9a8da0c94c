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
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np

from . import enumerations, kernels, marginals, sampling_log, token_lists
from . import trie as trie_module
from .arguments import (
    check_alpha,
    check_texts,
    check_workers,
    is_viterbi,
    kernel_seed,
    short_repr,
)
from .continuation import Continuation, Cuts
from .kernels import NO_FORCED
from .lattice import MAX_LATTICE_BYTES, Lattice, build_lattice
from .model import N_SPECIAL, SPECIALS, Model, load_model
from .normalize import to_utf8
from .preview import MAX_PREVIEW_BYTES, PreviewTokenizer
from .sampling_log import LINEAR_NATS, linear_spread
from .segmentation import Segmentation, char_of_byte
from .trie import DoubleArrayTrie, build_packed, build_trie

# the lean path: kernels that return the list, called past numba's type dispatch
_viterbi_list = token_lists.Direct(kernels.viterbi_list)
_sample_list = token_lists.Direct(kernels.sample_list)
_sample_log_list = token_lists.Direct(sampling_log.sample_list)
_iter = iter
_NEG_INF = -math.inf
_VITERBI = -1  # the default α (the same int object as every default -1)
_TWO63 = 1 << 63
_TWO64 = 1 << 64
_MASK63 = _TWO63 - 1
_GOLDEN = 0x9E3779B97F4A7C15
_SPECIAL_IDS = {s: i for i, s in enumerate(SPECIALS)}
_TRIE_ATTRS = frozenset({"_rev", "_rt", "_slot_ids", "_slot_scores"})


def kernels_cached() -> bool:
    """Whether numba's cache already holds the kernels a tokenizer needs first (the trie
    placement and the list entries), for this engine's sources: else they compile."""
    try:
        return all(
            bool(f._cache._cache_file._load_index())
            for f in (trie_module._place, kernels.viterbi_list, kernels.sample_list)
        )
    except Exception:  # another numba's internals: assume the cache is warm (no thread)
        return True


#: top_k keeps k candidates per byte (32 bytes each): (bytes + 1) · k is capped.
_TOP_K_CELLS = 1 << 25


class UnknownIdError(KeyError, ValueError):
    """An id that is not in the vocabulary.

    A :class:`KeyError`, as BytePiece's dict lookup raises (and a
    :class:`ValueError`, as piecelab raised before); ``args`` are (message, id).
    """

    def __str__(self) -> str:  # KeyError's own str() would quote the message
        return str(self.args[0]) if self.args else ""


class UnknownPieceError(KeyError, ValueError):
    """A piece that is not in the vocabulary; ``args`` are (message, piece)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class _PieceIds(Mapping):
    """Piece → id, read-only: the model's own index plus the special tokens (no copy).

    BytePiece's ``_piece2id`` is a dict with the same content; code that reads
    it gets the same answers here (length, lookups, iteration, items).
    """

    __slots__ = ("index",)

    def __init__(self, index: dict[bytes, int]) -> None:
        self.index = index

    def __getitem__(self, key):
        got = self.index.get(key)
        if got is None:
            got = _SPECIAL_IDS.get(key)
            if got is None:
                raise KeyError(key)
        return got

    def get(self, key, default=None):
        got = self.index.get(key)
        return got if got is not None else _SPECIAL_IDS.get(key, default)

    def __contains__(self, key) -> bool:
        return key in self.index or key in _SPECIAL_IDS

    def __len__(self) -> int:
        return len(self.index) + len(_SPECIAL_IDS)

    def __iter__(self) -> Iterator:
        yield from self.index
        yield from _SPECIAL_IDS

    def __repr__(self) -> str:
        return f"<{len(self)} pieces and special tokens → ids>"


def _per_document(parts: Iterable[tuple[list[int], np.ndarray]], table: np.ndarray) -> list[list]:
    """One list per document from :meth:`Tokenizer._segment_parts`, of ``table``'s objects.

    Each part's ids become one list (in the kernel), which is then cut per document.
    """
    out: list[list] = []
    for cut, ids in parts:
        flat = kernels.list_of(table, ids)
        out.extend(flat[a:b] for a, b in pairwise(cut))
    return out


class Tokenizer:
    """A byte-level Unigram tokenizer, drop-in compatible with ``bytepiece.Tokenizer``.

    ``pieces`` is a path to a BytePiece ``.model`` (or a ``.zip`` of one), the
    decoded JSON object, a mapping of piece bytes to counts, or a :class:`Model`.

    ``alpha`` (every method that takes it): a finite real number.  α < 0 gives
    the most likely segmentation (Viterbi), as in BytePiece; α ≥ 0 draws one
    exactly with P(seg) ∝ Π p(piece)^α: α = 0 is uniform over segmentations
    and a large α approaches Viterbi (at α = 100 a draw is the Viterbi
    segmentation unless two segmentations score within a few hundredths of a
    nat).  NaN and ±inf raise :class:`ValueError`, a non-number :class:`TypeError`.

    ``seed`` (the constructor, :meth:`set_seed` and every sampling call) is
    ``None`` or an int in [0, 2**64); anything else raises.  A call without a
    seed takes the next one of the tokenizer's own sequence.

    A tokenizer pickles (and copies) as its model and seed state: the tables
    that the kernels read are rebuilt on unpickling, so it can be sent to
    spawned processes.
    """

    def __init__(
        self,
        pieces: str | os.PathLike[str] | Mapping | Model,
        seed: int | None = None,
    ) -> None:
        self.set_seed(seed)
        self._build(load_model(pieces))

    def __getstate__(self) -> dict:
        # the address tables must not travel: they point into this process's objects
        return {"model": self.model, "next_seed": self._next_seed}

    def __setstate__(self, state: dict) -> None:
        self._next_seed = int(state["next_seed"]) & _MASK63
        self._build(state["model"])

    def _build(self, model: Model) -> None:
        """Everything the kernels and the API read, from ``model`` (validated here)."""
        if type(self) is _WarmingTokenizer:  # unpickled from a tokenizer that was compiling
            self.__class__ = Tokenizer
        self.model = model.validate()
        self._ids = np.arange(N_SPECIAL, model.vocab_size, dtype=np.int32)
        self._scores = self.piece_scores(model)
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
        self._weight_cache: dict[float, tuple[np.ndarray, np.ndarray | None, float]] = {}
        self._spread_nats: float | None = None
        self._lengths = np.fromiter(map(len, model.pieces), np.int64, len(model.pieces))
        singles = np.flatnonzero(self._lengths == 1)
        singles = singles[model.counts[singles] > 0]
        # per byte, the index of its single-byte piece (−1: none, or a zero count)
        self._byte_piece = np.full(256, -1, np.int64)
        self._byte_piece[[model.pieces[i][0] for i in singles]] = singles
        self._all_bytes = bool((self._byte_piece >= 0).all())
        self._ready: threading.Event | None = None  # set while the kernels compile
        self._warm_error: BaseException | None = None
        if kernels_cached():
            self._build_tries()
        else:
            self._warm_in_background()

    def piece_scores(self, model: Model) -> np.ndarray:
        """What Viterbi and the sampler add per id: log p of the counts.

        A subclass may score otherwise: the native SentencePiece tokenizer adds
        SentencePiece's raw scores, whose sum decides its paths.
        """
        return model.log_probs()

    def _build_tries(self) -> None:
        """The reversed packed trie that drives Viterbi and sampling.

        Its nodes are placed by probability, so the hot transitions share cache
        lines; the forward trie (matches, k-best: GUI enumerations) is built on
        first use.
        """
        rev = build_packed(self.model.pieces, self._ids, weights=np.exp(self._scores))
        self._slot_ids = rev.ids
        self._slot_scores = rev.values(self._scores, -np.inf)
        self._rev = rev
        self._rt = rev.packed

    # ------------------------------------------------------------- first start
    def _warm_in_background(self) -> None:
        """With nothing compiled yet: build and compile on a thread, answer short texts
        with the plain-Python :class:`PreviewTokenizer` meanwhile (the same results)."""
        self._preview = PreviewTokenizer(self.model)
        self._ready = threading.Event()
        if type(self) is Tokenizer:  # (a subclass keeps its class: its calls wait instead)
            self.__class__ = _WarmingTokenizer  # until the kernels are in
        # not a daemon: a first run finishes compiling before it exits, so the next one starts warm
        threading.Thread(target=self._warm, name="piecelab-compile", daemon=False).start()

    def _warm(self) -> None:
        try:
            self._build_tries()
            data = b"a\n"
            _viterbi_list.call(data, self._rt, self._slot_scores, self._slot_ids, self._int_table)
            ones = self._sampler(0.0)[1]
            _sample_list.call(data, self._rt, ones, self._slot_ids, 0, self._int_table)
        except BaseException as exc:  # raised to whoever needs the kernels
            self._warm_error = exc
        finally:
            if type(self) is _WarmingTokenizer:
                self.__class__ = Tokenizer  # the lean class: no hook on attribute access
            assert self._ready is not None
            self._ready.set()

    @property
    def ready(self) -> bool:
        """Whether the compiled kernels are in (False only during a first start)."""
        return self._ready is None or self._ready.is_set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until the compiled kernels are in (a first start compiles them)."""
        ready = self.__dict__.get("_ready")
        if ready is not None and not ready.wait(timeout):
            return False
        if self._warm_error is not None:
            raise self._warm_error
        return True

    @property
    def _trie_args(self) -> tuple:
        """Forward trie arrays (base, check, value, max_depth) for the enumerations."""
        if self._fwd is None:
            self._fwd = build_trie(self.model.pieces, self._ids)
        t = self._fwd
        return (t.base, t.check, t.value, max(t.max_depth, 1))

    # ------------------------------------------------------------- randomness
    def set_seed(self, seed: int | None) -> None:
        """Seed the sampler (an int in [0, 2**64)); ``None`` draws fresh entropy."""
        if seed is not None:
            kernel_seed(seed)
            seed = seed.__index__()
        self._next_seed = int(np.random.default_rng(seed).integers(0, _MASK63))

    def _call_seed(self, seed: int | None) -> int:
        """The seed of one call: a Weyl sequence the kernels mix with splitmix64.

        Integer arithmetic instead of a numpy draw, because sampling one short
        text must not pay a microsecond for its seed.  A given seed is checked
        and passed as the int64 of the same 64 bits.
        """
        if seed is not None:
            if type(seed) is int and 0 <= seed < _TWO63:
                return seed
            return kernel_seed(seed)
        self._next_seed = (self._next_seed + _GOLDEN) & _MASK63
        return self._next_seed

    # ------------------------------------------------------------- core calls
    def weights(self, alpha: float) -> np.ndarray:
        """p(piece)^α per id (0 for the special ids): the sampler's piece weights."""
        return self._sampler(alpha)[0]

    def _spread(self) -> float:
        """:func:`linear_spread` of this model, computed once."""
        if self._spread_nats is None:
            self._spread_nats = linear_spread(self.model, self._scores)
        return self._spread_nats

    def _sampler(self, alpha: object) -> tuple[np.ndarray, np.ndarray | None, float]:
        """(p^α per id, p^α per reversed-trie slot, α as a float), cached per α.

        The slot weights are ``None`` where the linear sampler would leave the
        range of doubles (see :meth:`_spread`): sampling then takes the
        log-domain kernels of :mod:`~piecelab.engine.sampling_log`.  α is
        validated here (only valid α are cached, so a cache hit needs no check).
        """
        a = check_alpha(alpha)
        w = self._weight_cache.get(a)
        if w is None:
            finite = np.isfinite(self._scores)
            per_id = np.zeros_like(self._scores)
            with np.errstate(under="ignore", over="ignore"):
                per_id[finite] = np.exp(a * self._scores[finite])
            linear = a == 0 or (a > 0 and a * self._spread() <= LINEAR_NATS)  # α = 0: all 1
            if len(self._weight_cache) > 16:
                self._weight_cache.clear()
            w = (per_id, self._rev.values(per_id, 0.0) if linear else None, a)
            self._weight_cache[a] = w
        return w

    def _mode(self, alpha: object) -> tuple[np.ndarray, np.ndarray | None, float] | None:
        """None for Viterbi (α < 0), else the sampler of α (see :meth:`_sampler`)."""
        a = check_alpha(alpha)
        return None if a < 0 else self._sampler(a)

    def _segment(self, data: bytes, alpha: float, seed: int | None):
        if len(data) >= 2**31:
            raise ValueError("texts of 2 GiB or more must be split before tokenizing")
        arr = np.frombuffer(data, dtype=np.uint8)
        mode = self._mode(alpha)
        if mode is None:
            if seed is not None:
                kernel_seed(seed)
            return kernels.segment(
                arr, NO_FORCED, self._rt, self._slot_scores, self._slot_ids, -1.0, 0, 0
            )
        _, slot_w, a = mode
        if slot_w is None:
            return sampling_log.segment(
                arr,
                NO_FORCED,
                self._rt,
                self._slot_scores,
                self._slot_ids,
                a,
                self._call_seed(seed),
                0,
            )
        return kernels.segment(
            arr, NO_FORCED, self._rt, slot_w, self._slot_ids, a, self._call_seed(seed), 0
        )

    def _listed(
        self, text: str, alpha: float, seed: int | None, table: np.ndarray, _default=_VITERBI
    ) -> list:
        """The lean path of tokenize() and encode(): one kernel call that returns the list.

        ``table`` holds the addresses of what to list per id (pieces or ints).
        α is checked cheaply: the default by identity, others by comparisons
        (:func:`_is_viterbi`); a sampling α is validated once, then cached.
        """
        data = to_utf8(text)
        if alpha is _default or is_viterbi(alpha):
            if seed is not None:
                kernel_seed(seed)
            out = _viterbi_list.call(data, self._rt, self._slot_scores, self._slot_ids, table)
        else:
            try:
                w = self._weight_cache.get(alpha)
            except TypeError:  # unhashable
                w = None
            if w is None:
                w = self._sampler(alpha)
            if w[1] is not None:
                out = _sample_list.call(
                    data, self._rt, w[1], self._slot_ids, self._call_seed(seed), table
                )
            else:
                out = _sample_log_list.call(
                    data,
                    self._rt,
                    self._slot_scores,
                    self._slot_ids,
                    w[2],
                    self._call_seed(seed),
                    table,
                )
        if not out and data:  # a byte no piece covers: say which
            ends, ids, _ = self._segment(data, -1, None)
            self._check_uncovered(ids, data, ends)
            raise RuntimeError(f"the sampler found no segmentation at alpha={short_repr(alpha)}")
        return out

    def _check_covered(self, data: bytes) -> None:
        """Raise as tokenize() does if a byte of ``data`` has no piece (models without all 256)."""
        if not self._all_bytes:
            ends, ids, _ = self._segment(data, -1, None)
            self._check_uncovered(ids, data, ends)

    def _check_uncovered(
        self, ids: np.ndarray, data: bytes, ends: np.ndarray, docs: np.ndarray | None = None
    ) -> None:
        """Raise naming the first byte no piece covers (id −1); ``docs``: a batch's offsets."""
        if len(ids) and ids.min() < 0:
            k = int(np.argmin(ids))
            pos = int(ends[k]) - 1
            where = f"at offset {pos}"
            if docs is not None:
                doc = int(np.searchsorted(docs, pos, side="right")) - 1
                where = f"at offset {pos - int(docs[doc])} of document {doc}"
            raise ValueError(
                f"byte 0x{data[pos]:02X} {where} has no piece in this vocabulary "
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
        """Text of ``ids``; partial characters are dropped.

        As in BytePiece, ids below 3 (the special ids, and negative padding
        such as -100) are skipped, and an id past the vocabulary raises
        :class:`UnknownIdError` (a :class:`KeyError`).  Ids must be integers.
        """
        id2piece = self._id2piece
        if not isinstance(ids, (list, tuple)):
            try:
                ids = list(ids)
            except TypeError:
                raise TypeError(
                    f"decode: ids must be an iterable of ints, got {type(ids).__name__}"
                ) from None
        try:
            parts = [id2piece[i] for i in ids if i >= N_SPECIAL]
            kinds = set(map(type, ids))
        except (IndexError, TypeError):
            kinds = set(map(type, ids))
            parts = None
        if kinds - {int}:
            for kind in kinds:
                if issubclass(kind, bool) or not hasattr(kind, "__index__"):
                    pos, bad = next((j, i) for j, i in enumerate(ids) if type(i) is kind)
                    raise TypeError(
                        f"decode: ids must be integers, got {short_repr(bad)} ({kind.__name__}) at "
                        f"position {pos}"
                    )
        if parts is None:
            pos, bad = next((j, i) for j, i in enumerate(ids) if i >= self.vocab_size)
            raise UnknownIdError(
                f"decode: id {bad} at position {pos} is not in this vocabulary (ids run "
                f"from 0 to {self.vocab_size - 1})",
                bad,
            )
        return b"".join(parts).decode("utf-8", errors="ignore")  # type: ignore[arg-type]

    def piece_to_id(self, p: bytes | str) -> int:
        try:
            return self._piece2id[p]
        except KeyError:
            raise UnknownPieceError(
                f"{short_repr(p)} is not a piece of this vocabulary", p
            ) from None

    def id_to_piece(self, i: int) -> bytes | str:
        try:
            if i >= 0:
                return self._id2piece[i]
        except IndexError:
            pass
        except TypeError:
            raise TypeError(f"id_to_piece: i must be an int, got {short_repr(i)}") from None
        raise UnknownIdError(
            f"id {i} is not in this vocabulary (ids run from 0 to {self.vocab_size - 1})", i
        )

    def pieces_to_ids(self, pieces: Iterable[bytes | str]) -> list[int]:
        return [self.piece_to_id(p) for p in pieces]

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
        if isinstance(pieces, (str, bytes)):
            raise TypeError("from_pieces: pieces must be a sequence of bytes, not one string")
        pieces = list(pieces)
        for j, p in enumerate(pieces):
            if type(p) is not bytes:
                raise TypeError(
                    f"from_pieces: pieces must be bytes, got {short_repr(p)} "
                    f"({type(p).__name__}) at position {j}"
                )
        if b"".join(pieces) != data:
            raise ValueError("the pieces do not spell the (NFC-normalized) text")
        index = self.model.index
        for j, p in enumerate(pieces):
            if p not in index:
                raise UnknownPieceError(
                    f"from_pieces: {short_repr(p)} at position {j} is not a piece of this "
                    "vocabulary",
                    p,
                )
        ids = np.array([index[p] for p in pieces], dtype=np.int64)
        ends = np.cumsum([len(p) for p in pieces], dtype=np.int64)
        return self._wrap(data, ids, ends, -1)

    def log_partition(self, text: str | bytes, alpha: float = 1.0) -> float:
        """log Σ over segmentations of exp(α · Σ log p): the sampler's normalizer (α ≥ 0)."""
        data = text if isinstance(text, bytes) else to_utf8(text)
        mode = self._mode(alpha)
        if mode is None:
            raise ValueError(
                f"alpha must be ≥ 0 for the sampler's partition, got {short_repr(alpha)} "
                "(α < 0 is Viterbi)"
            )
        self._check_covered(data)
        _, slot_w, a = mode
        if slot_w is not None:
            return self._log_z(data, slot_w)
        arr = np.frombuffer(data, dtype=np.uint8)
        return float(
            sampling_log.log_partition(
                arr, NO_FORCED, self._rt, self._slot_scores, self._slot_ids, a
            )
        )

    def boundary_marginals(self, text: str, alpha: float = 1.0) -> np.ndarray:
        """P(a token boundary at byte i) under the sampler at ``alpha`` ≥ 0, for i in 0..n.

        Exact (forward-backward, :mod:`~piecelab.engine.marginals`): the share of
        P(seg) ∝ Π p(piece)^α, the distribution :meth:`segment` draws from, held by
        the segmentations that cut at byte ``i`` of the NFC-normalized text's UTF-8
        (the offsets of :meth:`segment`); float64, ``n + 1`` entries.  Entries 0
        and ``n``, and every chunk edge (after a run of newlines), are 1.
        """
        data = to_utf8(text)
        a = check_alpha(alpha)
        if a < 0:
            raise ValueError(
                f"alpha must be ≥ 0 for boundary marginals, got {short_repr(alpha)} "
                "(α < 0 is Viterbi: its boundaries are those of segment())"
            )
        self._check_covered(data)
        return self._marginals_of(data, a)

    def _marginals_of(self, data: bytes, a: float) -> np.ndarray:
        """:meth:`boundary_marginals` of UTF-8 known to be covered, α checked."""
        return marginals.boundary_marginals(
            data, self._rt, self._slot_scores, self._trie_args, self._scores, a
        )

    def piece_marginals(
        self, text: str, alpha: float = 1.0, within: Sequence[tuple[int, int]] | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(starts, ends, ids, P): every occurrence of a piece in ``text`` (byte offsets
        of the NFC text's UTF-8, as :meth:`matches`) with the exact probability that the
        sampler at ``alpha`` ≥ 0 uses it.  The probability that bytes ``[lo, hi)`` stay
        inside one token is the sum over the occurrences that contain them.

        ``within``: only the occurrences inside these byte ranges (the passes still
        cover the whole text, but no more occurrences are listed than asked for).
        """
        data = to_utf8(text)
        a = check_alpha(alpha)
        if a < 0:
            raise ValueError(f"alpha must be ≥ 0 for piece marginals, got {short_repr(alpha)}")
        self._check_covered(data)
        f, b = marginals.forward_backward(
            data, self._rt, self._slot_scores, self._trie_args, self._scores, a
        )
        s, e, i = self._occurrences(data, within)
        score = self._scores[i]
        if a == 0.0:  # uniform over segmentations: every piece weighs the same
            score = np.where(np.isfinite(score), 0.0, -np.inf)
        scale = a if a > 0 else 1.0
        with np.errstate(invalid="ignore", over="ignore"):
            prob = np.exp(scale * (f[s] + score + b[e] - f[len(data)]))
        return s, e, i, np.minimum(np.nan_to_num(prob, nan=0.0), 1.0)

    def _occurrences(
        self, data: bytes, within: Sequence[tuple[int, int]] | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(starts, ends, ids) of the pieces inside UTF-8 ``data`` (inside the byte
        ranges ``within``, if given), as :meth:`matches` finds them."""
        arr = np.frombuffer(data, dtype=np.uint8)
        found = [
            (s + lo, e + lo, i)
            for lo, hi in merged_ranges(within, len(data))
            for s, e, i in [enumerations.all_matches(arr[lo:hi], NO_FORCED, *self._trie_args)]
        ]
        empty = np.zeros(0, np.int64)
        s, e, i = (np.concatenate(col) for col in zip(*found)) if found else (empty,) * 3
        return s, e, i

    def continuation(self, text: str, offset: int, alpha: float = 1.0) -> Continuation:
        """Whether a cut at byte ``offset`` is a token boundary: deterministically, with
        what probability under α, and the pieces it would break (the continuation check)."""
        return Cuts(self, text, alpha).at(offset)

    def cuts(self, text: str, alpha: float = 1.0) -> Cuts:
        """The continuation check of ``text`` at any offset (:meth:`Cuts.at`), its
        marginals and segmentation computed once."""
        return Cuts(self, text, alpha)

    def lattice(self, text: str, alpha: float = 1.0) -> Lattice:
        """Every candidate piece of a short ``text`` as an arc, with the Viterbi path, the
        forward values under ``alpha`` ≥ 0 and the exact sampler's steps (for teaching)."""
        data = to_utf8(text)
        a = check_alpha(alpha)
        if a < 0:
            raise ValueError(f"alpha must be ≥ 0 for the lattice, got {short_repr(alpha)}")
        seg = self.segment(text) if len(data) <= MAX_LATTICE_BYTES else None  # (else: raises)
        arr = np.frombuffer(data, dtype=np.uint8)
        s, e, i = enumerations.all_matches(arr, NO_FORCED, *self._trie_args)
        matches = list(zip(s.tolist(), e.tolist(), i.tolist()))
        ends = seg.ends.tolist() if seg is not None else []
        return build_lattice(data, matches, self._scores, a, ends)

    def _log_z(self, data: bytes, slot_weights: np.ndarray) -> float:
        """log Σ over segmentations of Π (slot weight of each piece)."""
        arr = np.frombuffer(data, dtype=np.uint8)
        return float(kernels.log_partition(arr, NO_FORCED, self._rt, slot_weights, self._slot_ids))

    def log_prob(self, seg: Segmentation, alpha: float = 1.0) -> float:
        """log P(seg) under the sampler with temperature ``alpha`` (exact)."""
        mode = self._mode(alpha)
        if mode is None:
            raise ValueError("alpha must be ≥ 0 for a sampling probability")
        return mode[2] * seg.score - self.log_partition(seg.data, mode[2])

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
        data = to_utf8(text)
        self._check_covered(data)
        return self._log_z(data, self._slot_ones)

    def matches(self, text: str) -> list[tuple[int, int, int]]:
        """Every (start byte, end byte, id) of a vocabulary piece inside a chunk."""
        data = to_utf8(text)
        arr = np.frombuffer(data, dtype=np.uint8)
        s, e, i = enumerations.all_matches(arr, NO_FORCED, *self._trie_args)
        return list(zip(s.tolist(), e.tolist(), i.tolist()))

    def top_k(self, text: str, k: int = 10, alpha: float = 1.0) -> list[tuple[Segmentation, float]]:
        """The ``k`` most likely segmentations with their exact probability under α.

        Fewer when the text has fewer segmentations; probabilities are NaN for α < 0.
        """
        if isinstance(k, bool) or not hasattr(k, "__index__"):
            raise TypeError(f"k must be an int, got {short_repr(k)} ({type(k).__name__})")
        k = k.__index__()
        if k < 1:
            raise ValueError(f"k must be ≥ 1, got {k}")
        alpha = check_alpha(alpha)
        data = to_utf8(text)
        if (len(data) + 1) * k > _TOP_K_CELLS:
            k = min(k, self.count_segmentations(data.decode("utf-8")))
            if (len(data) + 1) * k > _TOP_K_CELLS:
                raise ValueError(
                    f"top_k: k = {k:,} for {len(data):,} bytes would need "
                    f"{32 * (len(data) + 1) * k:,} bytes of tables; ask for fewer"
                )
        arr = np.frombuffer(data, dtype=np.uint8)
        best, back = enumerations.k_best(arr, NO_FORCED, *self._trie_args, self._scores, max(k, 1))
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
        check_texts(texts)
        check_workers(workers)
        mode = self._mode(alpha)
        if mode is None and seed is not None:
            kernel_seed(seed)
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
        if mode is None:
            run_kernel, slot_vals, alpha_f, base_seed = kernels.segment, self._slot_scores, -1.0, 0
        else:
            run_kernel, alpha_f, base_seed = kernels.segment, mode[2], self._call_seed(seed)
            slot_vals = mode[1]
            if slot_vals is None:
                run_kernel, slot_vals = sampling_log.segment, self._slot_scores

        def run(part: int) -> tuple[list[int], np.ndarray]:
            a, b = bounds[part], bounds[part + 1]
            inner = offsets[(offsets > a) & (offsets < b)]
            doc0 = int(np.searchsorted(offsets, a, side="right")) - 1
            ends, ids, _ = run_kernel(
                arr[a:b], inner - a, self._rt, slot_vals, self._slot_ids, alpha_f, base_seed, doc0
            )
            self._check_uncovered(ids, buf, ends + a, offsets)
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

    # ----------------------------------------------------------------- export
    def convert_to_sentencepiece(self, path: str | os.PathLike[str]) -> None:
        """Write this vocabulary as a SentencePiece model, as BytePiece 0.6.3 does.

        Ids are kept (0, 1, 2 become ``<unk>``, ``<s>``, ``</s>``); single bytes
        become byte-fallback pieces.  Unlike BytePiece, pieces that are not whole
        UTF-8 characters keep their ids as unused slots instead of crashing.
        ``piecelab.engine.export_sentencepiece`` (``piecelab export``, File ▸
        Export) writes ASCII controls as text instead, which SentencePiece then
        segments as piecelab does on far more texts.
        """
        from .exporters import export_sentencepiece

        export_sentencepiece(self.model, path, bytepiece_layout=True)

    def to_hf(self, path: str | os.PathLike[str]) -> None:
        """Write a Hugging Face ``tokenizer.json`` that gives this tokenizer's ids."""
        from .exporters import export_hf

        export_hf(self.model, path)


class _WarmingTokenizer(Tokenizer):
    """A :class:`Tokenizer` during a first start, while its kernels compile on a thread.

    Its own class, so that the hook on attribute access (``__getattr__``, which
    waits for the tries) and the preview paths cost the ready tokenizer nothing:
    a class with ``__getattr__`` loses CPython's fast attribute lookups (measured
    +0.2 µs a call).  The thread switches the instance back to :class:`Tokenizer`.
    """

    def __getattr__(self, name: str):
        # only for attributes not set yet: the tries, while a first start builds them
        if name in _TRIE_ATTRS and "_ready" in self.__dict__ and self._ready is not None:
            self.wait_ready()
            return self.__dict__[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def _listed(self, text, alpha, seed, table, _default=_VITERBI) -> list:
        """tokenize()/encode() before the kernels are in: the preview, exactly, for short
        texts and the linear sampler's α; otherwise wait for the kernels."""
        ready = self._ready
        data = to_utf8(text)
        if ready is None or ready.is_set() or len(data) > MAX_PREVIEW_BYTES:
            self.wait_ready()
            return Tokenizer._listed(self, text, alpha, seed, table)
        preview = self._preview
        if alpha is _default or is_viterbi(alpha):
            if seed is not None:
                kernel_seed(seed)
            ids, ends = preview._viterbi(data)
        else:
            a = check_alpha(alpha)
            if a * preview.spread() > LINEAR_NATS:
                self.wait_ready()
                return Tokenizer._listed(self, text, alpha, seed, table)
            ids, ends, _ = preview._forward(data, a, self._call_seed(seed))
        self._check_uncovered(np.array(ids), data, np.array(ends))
        objects = self._id2piece if table is self._piece_table else self._id_ints
        return [objects[i] for i in ids]

    def segment(self, text: str, alpha: float = -1, seed: int | None = None) -> Segmentation:
        """segment() before the kernels are in: the preview where it applies, else wait."""
        data = to_utf8(text)
        a = check_alpha(alpha)
        if len(data) <= MAX_PREVIEW_BYTES and (a < 0 or a * self._preview.spread() <= LINEAR_NATS):
            if a < 0:
                ids, ends = self._preview._viterbi(data)
            else:
                ids, ends, _ = self._preview._forward(data, a, self._call_seed(seed))
            ids_arr, ends_arr = np.array(ids, np.int64), np.array(ends, np.int64)
            self._check_uncovered(ids_arr, data, ends_arr)
            return self._wrap(data, ids_arr, ends_arr, a)
        self.wait_ready()
        return Tokenizer.segment(self, text, alpha, seed)


def merged_ranges(within: Sequence[tuple[int, int]] | None, n: int) -> list[tuple[int, int]]:
    """Byte ranges clipped to ``0..n``, sorted, overlapping ones merged (all: ``[0, n)``)."""
    if within is None:
        return [(0, n)]
    out: list[tuple[int, int]] = []
    for lo, hi in sorted((max(0, int(lo)), min(n, int(hi))) for lo, hi in within):
        if lo >= hi:
            continue
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out
