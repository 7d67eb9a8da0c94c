"""Hand-tuning a vocabulary: delete, add, re-weight pieces; find unreachable ones.

Every edit returns a new :class:`Model` (the GUI keeps the old one for undo).
Deleting hands a piece's count to the pieces the remaining vocabulary cuts it
into, as the trainer does when it prunes, so the counts keep summing to an
estimate of the corpus' token count.  Deleting renumbers every later id
(BytePiece ids are contiguous); retiring keeps the ids and zeroes the count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from . import kernels
from .model import MAX_COUNT, N_SPECIAL, Model
from .prune import pack, split_counts
from .trie import build_packed


class EditError(ValueError):
    """An edit that would break the vocabulary (for example deleting a single byte)."""


def _piece_index(model: Model, piece: bytes | int) -> int:
    if isinstance(piece, (int, np.integer)):
        i = int(piece) - N_SPECIAL
        if not 0 <= i < len(model):
            raise EditError(f"no piece has id {piece}")
        return i
    i = model.index.get(piece)
    if i is None:
        raise EditError(f"{piece!r} is not in the vocabulary")
    return i - N_SPECIAL


def _removable(model: Model, pieces: Iterable[bytes | int], pinned: Iterable[bytes]) -> list[int]:
    """Sorted indices of ``pieces``, refusing single bytes and pinned pieces."""
    drop = sorted({_piece_index(model, p) for p in pieces})
    pinned_set = set(pinned)
    for i in drop:
        p = model.pieces[i]
        if len(p) == 1:
            raise EditError(
                f"single bytes cannot be deleted ({p!r}): every text must stay encodable"
            )
        if p in pinned_set:
            raise EditError(f"{p!r} is pinned; unpin it before deleting")
    return drop


def _resplit(
    model: Model, drop: list[int], workers: int
) -> tuple[np.ndarray, list[bytes], np.ndarray]:
    """(mask of the other pieces, those pieces, the counts they gain when the ``drop``
    pieces are cut by them), as the trainer re-splits a pruned piece."""
    keep_mask = np.ones(len(model), dtype=bool)
    keep_mask[drop] = False
    keep = [p for p, k in zip(model.pieces, keep_mask) if k]
    drop_pieces = [model.pieces[i] for i in drop]
    gained = split_counts(keep, model.counts[keep_mask], drop_pieces, model.counts[drop], workers)
    return keep_mask, keep, gained


def delete_pieces(
    model: Model, pieces: Iterable[bytes | int], pinned: Iterable[bytes] = (), workers: int = 1
) -> Model:
    """Remove ``pieces`` (bytes or ids); their counts are re-split onto the rest.

    Every later id moves down (see :func:`id_shift`); :func:`retire_pieces` keeps ids.
    """
    drop = _removable(model, pieces, pinned)
    if not drop:
        return model.copy()
    keep_mask, keep, gained = _resplit(model, drop, workers)
    counts = model.counts[keep_mask] + gained
    return Model.from_counts(dict(zip(keep, counts.tolist())), model.source)


def retire_pieces(
    model: Model, pieces: Iterable[bytes | int], pinned: Iterable[bytes] = (), workers: int = 1
) -> Model:
    """Set ``pieces`` to count 0 but keep their slots, so that no id changes.

    Text already encoded with the model still decodes the same; a zero-count
    piece has log p = −inf, so the tokenizer never emits it.  Its count is
    re-split onto the pieces it splits into, exactly as :func:`delete_pieces` does.
    """
    drop = [i for i in _removable(model, pieces, pinned) if model.counts[i] > 0]
    if not drop:
        raise EditError("the pieces are already retired (count 0)")
    keep_mask, _, gained = _resplit(model, drop, workers)
    out = model.copy()
    out.counts[keep_mask] += gained
    out.counts[drop] = 0
    return out


@dataclass(frozen=True)
class IdShift:
    """How deleting pieces renumbers the rest (ids are contiguous, by (length, bytes))."""

    first: int  # the lowest deleted id; every id above it that stays moves down
    removed: int  # pieces deleted: the most an id moves down by
    moved: int  # how many remaining ids change

    def describe(self, tense: str = "move") -> str:
        """``ids above 1233 move down by 1`` (``tense="moved"`` after the fact)."""
        by = "1" if self.removed == 1 else f"1 to {self.removed}"
        if not self.moved:
            return "no other id changes"
        return f"ids above {self.first} {tense} down by {by} ({self.moved:,} pieces)"


def id_shift(model: Model, pieces: Iterable[bytes | int]) -> IdShift:
    """What :func:`delete_pieces` of ``pieces`` would do to the other ids."""
    drop = sorted({_piece_index(model, p) for p in pieces})
    if not drop:
        return IdShift(0, 0, 0)
    first = drop[0]
    return IdShift(first + N_SPECIAL, len(drop), len(model) - first - len(drop))


def parse_count(text: str) -> int:
    """A count the user typed: digits, maybe grouped with ``,`` ``_`` or spaces.

    Raises :class:`EditError` with a message fit to show the user.
    """
    digits = "".join(text.split()).replace(",", "").replace("_", "")
    if not digits:
        raise EditError("type a count")
    if digits.startswith("-") and digits[1:].isdigit():
        raise EditError("counts are whole numbers ≥ 0")
    if not (digits.isascii() and digits.isdigit()):
        raise EditError(f"{text.strip()!r} is not a whole number")
    value = int(digits)
    if value > MAX_COUNT:
        raise EditError(f"at most {MAX_COUNT:,} (2**63 − 1)")
    return value


def add_piece(model: Model, piece: bytes, count: int) -> Model:
    """Add ``piece`` with ``count`` as the next id: every existing id stays what it was.

    (Trained models order ids by (length, bytes); nothing reads that order, and
    keeping ids is what keeps data already encoded with the model decodable.)
    """
    if not isinstance(piece, bytes) or not piece:
        raise EditError("a piece is a non-empty byte string")
    if piece in model.index:
        raise EditError(f"{piece!r} is already in the vocabulary")
    if count < 1:
        raise EditError("the count of a new piece must be at least 1")
    return Model(
        [*model.pieces, piece], np.append(model.counts, int(count)), model.source
    ).validate()


def set_count(model: Model, piece: bytes | int, count: int) -> Model:
    """Re-weight one piece."""
    if count < 0:
        raise EditError("counts are whole numbers ≥ 0")
    i = _piece_index(model, piece)
    if len(model.pieces[i]) == 1 and count == 0:
        raise EditError("a single byte needs a count ≥ 1 to stay encodable")
    out = model.copy()
    out.counts[i] = int(count)
    if out.total <= 0:
        raise EditError("the counts would sum to zero")
    return out


def estimate_count(piece: bytes, documents: Iterable[str], limit_bytes: int = 50_000_000) -> int:
    """Occurrences of ``piece`` in the documents (non-overlapping), a first guess
    for the count of a piece added by hand."""
    total = 0
    seen = 0
    for doc in documents:
        data = doc.encode("utf-8", errors="replace")
        total += data.count(piece)
        seen += len(data)
        if seen >= limit_bytes:
            break
    return total


def unreachable(model: Model, workers: int = 1) -> np.ndarray:
    """Per piece (index = id − 3): True if Viterbi never outputs it as itself.

    A piece is unreachable when the vocabulary's own segmentation of its bytes
    is something else: then no text ever produces it.
    """
    ids = np.arange(N_SPECIAL, model.vocab_size, dtype=np.int32)
    trie = build_packed(model.pieces, ids)
    scores = model.log_probs()
    pool, offs, lens = pack(model.pieces)
    ends = offs + lens
    tok_ends, tok_ids, _ = kernels.segment(
        pool,
        ends[:-1].astype(np.int64),
        trie.packed,
        trie.values(scores, -np.inf),
        trie.ids,
        -1.0,
        0,
        0,
    )
    del workers
    # the token ending where a piece ends must start where it starts and be it
    pos = np.searchsorted(tok_ends, ends)
    starts = np.concatenate([[0], tok_ends[:-1]])
    same = (tok_ends[pos] == ends) & (starts[pos] == offs) & (tok_ids[pos] == ids)
    return ~same


def reachable_after(model: Model, extra: Sequence[bytes]) -> list[bool]:
    """Whether each of ``extra`` pieces would be reachable if added with count 1."""
    out = []
    for p in extra:
        m = add_piece(model, p, 1) if p not in model.index else model
        out.append(not bool(unreachable(m)[m.index[p] - N_SPECIAL]))
    return out
