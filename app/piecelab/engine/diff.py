"""Vocabulary diff: which pieces two vocabularies share, whichever library wrote them.

Pieces are compared by a *key*: the bytes of text the piece stands for, so a
BytePiece model compares with a SentencePiece model, a ``tokenizer.json`` or a
tiktoken file.  :func:`comparison_keys` gives each id's key by these rules:

* special ids (``Vocabulary.special``) and empty pieces have no key: they are
  never compared;
* BytePiece, tiktoken and byte-level BPE pieces are already raw bytes: the key
  is the piece itself;
* SentencePiece writes a space as ``▁`` (U+2581): ``▁the`` ≡ ``b" the"``; its
  byte pieces (``<0xE4>``) are already that byte;
* ``tokenizer.json`` vocabularies that are not byte-level: ``▁`` is a space as
  for SentencePiece, and a byte-fallback piece ``<0xE4>`` is that byte;
* WordPiece drops the ``##`` of a continuation: ``##ing`` ≡ ``b"ing"``, and a
  word-initial ``the`` ≡ ``b"the"`` (WordPiece pieces never hold the space that
  separates words, so neither form gains one).

Two ids of one vocabulary can share a key (WordPiece's ``ing`` and ``##ing``,
SentencePiece's ``a`` and its byte piece ``<0x61>``): the best-ranked one stands
for the key, and the others are counted as ``folded``.

Ranks are 1-based positions among a vocabulary's compared ids (specials and
empty pieces left out), so the ranks of two vocabularies are comparable:
``"log p"`` and ``"score"`` kinds rank by descending score, ``"rank"`` kinds
(BPE merges, tiktoken) by ascending rank, ties by id.  Byte-fallback pieces
(SentencePiece's byte pieces, ``<0xE4>`` in a ``tokenizer.json``) are ranked
after every other piece: they are only used where no piece matches, and
SentencePiece gives them the score 0, which would otherwise rank them first.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from .formats import Vocabulary
from .render import piece_label

SPACE_MARK = "\u2581".encode()  # SentencePiece's and Metaspace's ▁
CONTINUATION = b"##"  # WordPiece's continuing-subword prefix
_BYTE_NAME = re.compile(rb"<0x([0-9A-Fa-f]{2})>")
_SENTENCEPIECE_BYTE = 6  # sentencepiece_model.proto: the BYTE piece type


def comparison_keys(vocab: Vocabulary) -> list[bytes | None]:
    """Per id: the bytes the piece is compared by (None for special ids and empty pieces).

    See the module's documentation for the rule of each kind.
    """
    kind = vocab.kind
    pieces = vocab.pieces
    if kind.startswith("sentencepiece"):
        keys = [p.replace(SPACE_MARK, b" ") for p in pieces]
    elif kind.startswith("hf-") and not getattr(vocab, "byte_level", False):
        keys = [_hf_key(p, kind == "hf-wordpiece") for p in pieces]
    else:  # bytepiece, tiktoken, byte-level BPE: the pieces are the bytes
        keys = list(pieces)
    for i in np.flatnonzero(np.asarray(vocab.special, bool)).tolist():
        keys[i] = None
    return [k if k else None for k in keys]


def _hf_key(piece: bytes, wordpiece: bool) -> bytes:
    if wordpiece and piece.startswith(CONTINUATION) and len(piece) > len(CONTINUATION):
        return piece[len(CONTINUATION) :]
    m = _BYTE_NAME.fullmatch(piece)
    if m:
        return bytes([int(m.group(1), 16)])
    return piece.replace(SPACE_MARK, b" ")


def _fallback(vocab: Vocabulary) -> np.ndarray:
    """Per id: whether the piece is a byte-fallback piece (ranked after the rest)."""
    n = vocab.vocab_size
    types = getattr(vocab, "types", None)
    if vocab.kind.startswith("sentencepiece") and types is not None:
        return np.asarray(types) == _SENTENCEPIECE_BYTE
    if vocab.kind.startswith("hf-") and not getattr(vocab, "byte_level", False):
        return np.fromiter((bool(_BYTE_NAME.fullmatch(p)) for p in vocab.pieces), bool, n)
    return np.zeros(n, bool)


def piece_scores(vocab: Vocabulary) -> np.ndarray:
    """Per id: the vocabulary's score.  A BytePiece model's come from the model itself
    (its log p by id), so they line up with the ids whatever the adapter's ``scores``
    hold."""
    native = vocab.native() if vocab.kind == "bytepiece" else None
    if native is not None:
        return native.model.log_probs()
    return np.asarray(vocab.scores, np.float64)[: vocab.vocab_size]


def piece_ranks(vocab: Vocabulary, keys: list[bytes | None] | None = None) -> np.ndarray:
    """Per id: its 1-based rank among the ids with a key (0 for the rest); see the module."""
    keys = comparison_keys(vocab) if keys is None else keys
    order = _rank_order(vocab, keys)
    ranks = np.zeros(vocab.vocab_size, np.int64)
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks


def _rank_order(vocab: Vocabulary, keys: list[bytes | None]) -> np.ndarray:
    """The ids with a key, best first."""
    ids = np.flatnonzero(np.fromiter(map(bool, keys), bool, len(keys)))  # None or non-empty
    scores = piece_scores(vocab)[ids]
    if vocab.score_name != "rank":
        scores = -scores  # best (highest) score first
    scores = np.where(np.isnan(scores), np.inf, scores)
    return ids[np.lexsort((ids, scores, _fallback(vocab)[ids]))]


@dataclass(frozen=True)
class DiffSide:
    """One vocabulary of a diff: what it is, and per id its rank and score."""

    source: str
    kind: str
    size: int  # ids in the vocabulary, specials included
    score_name: str
    pieces: int  # distinct keys compared
    folded: int  # ids whose key a better-ranked id of the same vocabulary holds
    ranks: np.ndarray = field(repr=False)  # per id, 1-based (0: not compared)
    scores: np.ndarray = field(repr=False)  # per id, the vocabulary's own

    def describe(self) -> dict:
        return {
            "path": self.source,
            "kind": self.kind,
            "size": self.size,
            "score_name": self.score_name,
            "pieces": self.pieces,
            "folded": self.folded,
        }


def _side(vocab: Vocabulary) -> tuple[DiffSide, dict[bytes, int]]:
    """The vocabulary's side of a diff and its key → id index, in rank order."""
    keys = comparison_keys(vocab)
    order = _rank_order(vocab, keys)
    ranks = np.zeros(vocab.vocab_size, np.int64)
    ranks[order] = np.arange(1, len(order) + 1)
    index: dict[bytes, int] = {}
    for i in order.tolist():
        index.setdefault(keys[i], i)  # type: ignore[arg-type]  (ranked ids have keys)
    side = DiffSide(
        source=str(vocab.source),
        kind=vocab.kind,
        size=vocab.vocab_size,
        score_name=vocab.score_name,
        pieces=len(index),
        folded=len(order) - len(index),
        ranks=ranks,
        scores=piece_scores(vocab),
    )
    return side, index


@dataclass(frozen=True)
class VocabDiff:
    """The pieces two vocabularies share and the ones only one holds, by key.

    ``common_keys`` are in A's rank order with their ids in A and B;
    ``only_a_keys`` in A's rank order, ``only_b_keys`` in B's.
    """

    a: DiffSide
    b: DiffSide
    common_keys: list[bytes]
    common_ids_a: np.ndarray
    common_ids_b: np.ndarray
    only_a_keys: list[bytes]
    only_a_ids: np.ndarray
    only_b_keys: list[bytes]
    only_b_ids: np.ndarray

    @property
    def common(self) -> int:
        return len(self.common_keys)

    @property
    def only_a(self) -> int:
        return len(self.only_a_keys)

    @property
    def only_b(self) -> int:
        return len(self.only_b_keys)

    @property
    def jaccard(self) -> float:
        """|A ∩ B| / |A ∪ B| of the keys (1.0 when both are empty)."""
        union = self.common + self.only_a + self.only_b
        return self.common / union if union else 1.0

    def rank_change(self) -> np.ndarray:
        """Per common key: its rank in B minus its rank in A (positive: lower in B)."""
        return self.b.ranks[self.common_ids_b] - self.a.ranks[self.common_ids_a]

    def entries(self, which: str, limit: int | None = None) -> list[dict]:
        """The first ``limit`` (all: None) pieces of ``"common"``, ``"only_a"`` or
        ``"only_b"``, by rank, as JSON-ready dicts (a score that is not finite is None)."""
        if which == "common":
            keys, ids_a, ids_b = self.common_keys, self.common_ids_a, self.common_ids_b
        elif which == "only_a":
            keys, ids_a, ids_b = self.only_a_keys, self.only_a_ids, None
        elif which == "only_b":
            keys, ids_a, ids_b = self.only_b_keys, None, self.only_b_ids
        else:
            raise ValueError(f"which must be common, only_a or only_b, not {which!r}")
        end = len(keys) if limit is None else max(0, limit)
        rows = [{"piece": display_text(k), "hex": k.hex()} for k in keys[:end]]
        for tag, ids, side in (("a", ids_a, self.a), ("b", ids_b, self.b)):
            if ids is None:
                continue
            chosen = ids[:end]
            columns = zip(chosen.tolist(), side.ranks[chosen].tolist(), side.scores[chosen])
            for row, (i, rank, score) in zip(rows, columns):
                row[f"id_{tag}"], row[f"rank_{tag}"] = i, rank
                row[f"score_{tag}"] = float(score) if math.isfinite(score) else None
        if which == "common":
            for row in rows:
                row["rank_change"] = row["rank_b"] - row["rank_a"]
        return rows

    def as_dict(self, limit: int | None = None) -> dict:
        """The diff as JSON-ready data, with the first ``limit`` pieces of each list."""
        return {
            "a": self.a.describe(),
            "b": self.b.describe(),
            "common": self.common,
            "only_a": self.only_a,
            "only_b": self.only_b,
            "jaccard": self.jaccard,
            "pieces": {w: self.entries(w, limit) for w in ("common", "only_a", "only_b")},
        }


def display_text(key: bytes) -> str:
    """A key as text: itself where it is UTF-8, else with hex for the broken bytes (``你⟨E5⟩``)."""
    try:
        return key.decode("utf-8")
    except UnicodeDecodeError:
        return piece_label(key, visible_space=False)


def diff_vocabularies(a: Vocabulary, b: Vocabulary) -> VocabDiff:
    """Compare the pieces of ``a`` and ``b`` by key (:func:`comparison_keys`); sets, not
    pairs, so 200k-piece vocabularies take a fraction of a second."""
    side_a, index_a = _side(a)
    side_b, index_b = _side(b)
    common = [k for k in index_a if k in index_b]
    only_a = [k for k in index_a if k not in index_b]
    only_b = [k for k in index_b if k not in index_a]

    def ids(keys: list[bytes], index: dict[bytes, int]) -> np.ndarray:
        return np.array(list(map(index.__getitem__, keys)), np.int64)

    return VocabDiff(
        a=side_a,
        b=side_b,
        common_keys=common,
        common_ids_a=ids(common, index_a),
        common_ids_b=ids(common, index_b),
        only_a_keys=only_a,
        only_a_ids=ids(only_a, index_a),
        only_b_keys=only_b,
        only_b_ids=ids(only_b, index_b),
    )


__all__ = [
    "DiffSide",
    "VocabDiff",
    "comparison_keys",
    "diff_vocabularies",
    "display_text",
    "piece_ranks",
    "piece_scores",
]
