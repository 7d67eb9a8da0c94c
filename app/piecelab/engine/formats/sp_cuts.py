"""Boundary probabilities and the continuation check of SentencePiece Unigram text,
in the bytes of the text as given.

SentencePiece segments its normalized form of a text (``▁`` for spaces, a dummy
prefix, NFKC, collapsed whitespace), where piecelab's native engine computes the
exact boundary probabilities.  SentencePiece's own normalizer offsets carry them
back: a boundary of the normalized text lands on the original byte where its
character begins, as SentencePiece reports a token's start.  Where several land
on one byte (``ﬁ`` → ``fi``) a token begins there if any of them is a boundary;
original bytes the normalizer dropped (collapsed spaces) and bytes inside a
rewritten character are never where a token begins, so their probability is 0
and the check says why.
"""

from __future__ import annotations

import unicodedata
from typing import Any, Protocol

import numpy as np

from ..continuation import Continuation, check_offset, viterbi_cut
from .base import check_text


class NativeEngine(Protocol):
    """What the check asks of :class:`~.sentencepiece.NativeSentencePiece`."""

    vocabulary: Any  # its SentencePieceVocabulary: ``sp`` and ``segment``
    longest_piece: int

    def wait_ready(self) -> None: ...

    def normalized_marginals(self, norm: str, alpha: float = 1.0) -> np.ndarray: ...

    def normalized_arcs(
        self, norm: str, alpha: float = 1.0, within: Any = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]: ...

    def normalized_occurrences(
        self, norm: str, within: Any = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


REWRITTEN = "SentencePiece's normalizer drops or rewrites the text at this byte"
INSIDE_CHARACTER = "inside a character: SentencePiece's pieces hold whole characters"


def code_points(text: str) -> np.ndarray:
    """The code points of ``text`` (a lone surrogate raises UnicodeEncodeError)."""
    return np.frombuffer(text.encode("utf-32-le"), np.uint32)


def byte_starts(points: np.ndarray) -> np.ndarray:
    """The UTF-8 byte offset of each character (by code point), and of the end."""
    sizes = 1 + (points >= 0x80) + (points >= 0x800) + (points >= 0x10000)
    return np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])


class Alignment:
    """Byte offsets between a text and SentencePiece's normalized form of it.

    Each byte offset ``b`` strictly inside the original text has the run of
    normalized offsets ``lo[b]..hi[b]`` that land on it (−1: none): a token of
    SentencePiece's begins at ``b`` when the normalized text has a boundary
    anywhere in that run (SentencePiece reports a token's start as the original
    offset of its first character).  ``to_original`` maps any normalized offset
    back (for a piece's edges), to the nearest place at or before it.
    """

    def __init__(self, text: str, norm: str, char_offsets: list[int]) -> None:
        if len(char_offsets) != len(norm) + 1:
            raise ValueError("SentencePiece gave one offset per character and one for the end")
        self.data = text.encode("utf-8")
        self.norm = norm
        self.norm_data = norm.encode("utf-8")
        n = len(self.data)
        tp, npts = code_points(text), code_points(norm)
        ob, nb = byte_starts(tp), byte_starts(npts)
        offs = np.asarray(char_offsets, np.int64)
        # where each normalized character begins, on the original
        j = np.arange(1, len(norm), dtype=np.int64)
        q, b = [nb[j]], [ob[offs[j]]]
        # a character kept as it is (one original character, the same): its inner bytes too
        c = offs[:-1]
        inside = c < len(tp)
        same = inside & (offs[1:] == c + 1)
        same[inside] &= tp[c[inside]] == npts[inside]
        width = np.diff(nb)
        wide = np.flatnonzero(same & (width > 1))
        if len(wide):
            reps = width[wide] - 1
            step = np.arange(int(reps.sum())) - np.repeat(np.cumsum(reps) - reps, reps) + 1
            q.append(np.repeat(nb[wide], reps) + step)
            b.append(np.repeat(ob[c[wide]], reps) + step)
        qs, bs = np.concatenate(q), np.concatenate(b)
        order = np.argsort(qs, kind="stable")
        qs, bs = qs[order], bs[order]
        self.lo = np.full(n + 1, -1, np.int64)
        self.hi = np.full(n + 1, -1, np.int64)
        inner = (bs > 0) & (bs < n)
        if inner.any():
            qi, bi = qs[inner], bs[inner]  # bi never decreases along qi
            first = np.flatnonzero(np.diff(bi, prepend=-1) != 0)
            last = np.append(first[1:], len(bi)) - 1
            self.lo[bi[first]] = qi[first]
            self.hi[bi[first]] = qi[last]
        orig_of = np.full(len(self.norm_data) + 1, -1, np.int64)
        orig_of[qs] = bs
        orig_of[0] = 0
        orig_of[-1] = n
        self._floor = np.maximum.accumulate(orig_of)
        self._char_start = np.zeros(n + 1, bool)
        self._char_start[ob] = True

    def to_original(self, q: int) -> int:
        return int(self._floor[q])

    def starts_character(self, b: int) -> bool:
        return bool(self._char_start[b])


def align(sp: object, text: str) -> Alignment | None:
    """The alignment of ``text`` with ``sp.normalize(text)``; None where the
    normalized text would change under NFC (piecelab's engine segments NFC text).
    A lone surrogate raises :class:`~piecelab.engine.normalize.TextEncodingError`."""
    text = check_text(text)
    try:
        norm, offsets = sp.normalize(text, with_offsets=True)  # type: ignore[attr-defined]
    except (AttributeError, TypeError):  # a release without the normalizer's offsets
        raise ValueError("the boundary strip needs sentencepiece's normalizer offsets") from None
    if not unicodedata.is_normalized("NFC", norm):
        return None
    return Alignment(text, norm, list(offsets))


class SentencePieceCuts:
    """The continuation check of one text at any byte of it, for a SentencePiece
    Unigram vocabulary (same questions as :class:`~piecelab.engine.continuation.Cuts`;
    ids are SentencePiece's).  The deterministic part is the library's own
    segmentation; the probabilities are the native engine's exact marginals on the
    normalized text: P(a token begins at b) is the boundary probability where one
    normalized offset lands on b, and 1 − P(one token spans them all) where several
    do (from the piece marginals around them, found only there)."""

    def __init__(self, native: NativeEngine, text: str, alpha: float = 1.0) -> None:
        native.wait_ready()
        alignment = align(native.vocabulary.sp, text)
        if alignment is None:
            raise ValueError("the normalized text is not NFC; piecelab's engine cannot follow it")
        self.text = text
        self.data = alignment.data
        self.alpha = float(alpha)
        self._native = native
        self._alignment = alignment
        norm_marginals = native.normalized_marginals(alignment.norm, alpha)
        lo, hi = alignment.lo, alignment.hi
        placed = np.flatnonzero(lo >= 0)
        marg = np.zeros(len(self.data) + 1)
        marg[placed] = norm_marginals[lo[placed]]
        runs = placed[hi[placed] > lo[placed]]  # ﬁ → fi: several offsets on one byte
        if len(runs):
            s, e, _, prob = native.normalized_arcs(alignment.norm, alpha, self._around(runs))
            for b in runs.tolist():
                marg[b] = 1.0 - prob[(s < lo[b]) & (e > hi[b])].sum()
        marg[0] = marg[-1] = 1.0
        self.marginals = np.clip(marg, 0.0, 1.0)
        self._seg = native.vocabulary.segment(text)

    def _around(self, places: np.ndarray) -> list[tuple[int, int]]:
        """The normalized byte ranges a piece spanning the normalized runs of the
        original bytes ``places`` lies in: one piece's length either side."""
        a, reach = self._alignment, self._native.longest_piece
        return [(int(a.lo[b]) - reach, int(a.hi[b]) + reach) for b in places.tolist()]

    def at(self, offset: int) -> Continuation:
        """The check at byte ``offset`` of the text's UTF-8 (0 ≤ offset ≤ bytes)."""
        a = self._alignment
        offset = check_offset(offset, len(self.data))
        inside = viterbi_cut(self._seg, offset)
        p = float(self.marginals[offset])
        lo, hi = int(a.lo[offset]), int(a.hi[offset])
        if offset in (0, len(self.data)):
            return Continuation(offset, self.alpha, inside is None, p, inside, [])
        if lo < 0:
            note = REWRITTEN if a.starts_character(offset) else INSIDE_CHARACTER
            return Continuation(offset, self.alpha, inside is None, p, inside, [], note)
        s, e, ids = self._native.normalized_occurrences(a.norm, self._around(np.array([offset])))
        over = np.flatnonzero((s < lo) & (e > hi))
        straddling = sorted(
            ((a.to_original(s[k]), a.to_original(e[k]), int(ids[k])) for k in over),
            key=lambda m: (m[0], -m[1]),
        )
        return Continuation(offset, self.alpha, inside is None, p, inside, straddling)


__all__ = ["Alignment", "NativeEngine", "SentencePieceCuts", "align", "byte_starts", "code_points"]
