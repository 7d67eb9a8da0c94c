"""The continuation check: is a prompt cut at this byte a token boundary?

A prompt that ends inside what the model would make one piece (``"hel"`` of
``"hello"``) gives a large-vocabulary model a token it rarely saw before the rest
of a word; BytePiece's sampling is meant to make such cuts ordinary.  This says,
for one cut, whether the deterministic segmentation cuts there, how likely a cut
is under the sampler at α, and which vocabulary pieces would have to be broken.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .normalize import to_utf8
from .segmentation import Segmentation


class Engine(Protocol):
    """What the check asks of a tokenizer (piecelab's :class:`Tokenizer` answers)."""

    def boundary_marginals(self, text: str, alpha: float = 1.0) -> np.ndarray: ...

    def segment(self, text: str) -> Segmentation: ...

    def matches(self, text: str) -> list[tuple[int, int, int]]: ...


class CutCheck(Protocol):
    """The continuation check of one text at any offset (:class:`Cuts`, and the
    SentencePiece one that maps a normalized text back to the text given)."""

    text: str  # the text the offsets are into
    data: bytes  # its UTF-8
    alpha: float
    marginals: np.ndarray  # P(a boundary) at each byte offset, len(data) + 1 entries

    def at(self, offset: int) -> Continuation: ...


@dataclass(frozen=True)
class Continuation:
    """One cut at byte ``offset`` of the text's (NFC) UTF-8."""

    offset: int
    alpha: float
    viterbi_boundary: bool  # the deterministic segmentation cuts here
    probability: float  # P(a boundary here) under the sampler at ``alpha``
    viterbi_token: tuple[int, int, int] | None  # (start, end, id) it cuts through, if any
    straddling: list[tuple[int, int, int]]  # (start, end, id) of pieces over the cut
    note: str = ""  # a caveat for this cut (e.g. a normalizer rewrote the text here)


def check_offset(offset: object, n: int) -> int:
    """``offset`` as an int in ``0..n`` (the text's bytes), or a clear error."""
    if isinstance(offset, bool) or not hasattr(offset, "__index__"):
        raise TypeError(f"offset must be an int, got {type(offset).__name__}")
    offset = offset.__index__()  # type: ignore[union-attr]
    if not 0 <= offset <= n:
        raise ValueError(f"offset must be in 0..{n} (the text's bytes), got {offset}")
    return offset


def viterbi_cut(seg: Segmentation, offset: int) -> tuple[int, int, int] | None:
    """The (start, end, id) of ``seg``'s token that a cut at ``offset`` falls inside,
    or None where ``seg`` cuts there."""
    ends = seg.ends
    k = int(np.searchsorted(ends, offset, side="left"))  # the token ending at or after it
    if k < len(ends) and ends[k] != offset and offset > 0:
        start = int(ends[k - 1]) if k > 0 else 0
        return (start, int(ends[k]), int(seg.ids[k]))
    return None


class Cuts:
    """The continuation check of one text at any offset: the marginals and the
    deterministic segmentation computed once (the playground asks at every caret
    move), the pieces over the cuts found on first need."""

    def __init__(self, tok: Engine, text: str, alpha: float = 1.0) -> None:
        self.data = to_utf8(text)
        self.text = self.data.decode("utf-8")  # NFC: the offsets of segment()
        self.alpha = float(alpha)
        self.marginals = tok.boundary_marginals(self.text, alpha)
        self._tok = tok
        self._seg = tok.segment(self.text)
        self._matches: list[tuple[int, int, int]] | None = None

    def at(self, offset: int) -> Continuation:
        """The check at byte ``offset`` (0 ≤ offset ≤ bytes)."""
        offset = check_offset(offset, len(self.data))
        inside = viterbi_cut(self._seg, offset)
        if self._matches is None:
            self._matches = self._tok.matches(self.text)
        over = sorted(
            (m for m in self._matches if m[0] < offset < m[1]), key=lambda m: (m[0], -m[1])
        )
        p = float(self.marginals[offset])
        return Continuation(offset, self.alpha, inside is None, p, inside, over)
