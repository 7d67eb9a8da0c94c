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


class Cuts(Protocol):
    """What the check asks of a tokenizer (piecelab's :class:`Tokenizer` answers)."""

    def boundary_marginals(self, text: str, alpha: float = 1.0) -> np.ndarray: ...

    def segment(self, text: str) -> Segmentation: ...

    def matches(self, text: str) -> list[tuple[int, int, int]]: ...


@dataclass(frozen=True)
class Continuation:
    """One cut at byte ``offset`` of the text's (NFC) UTF-8."""

    offset: int
    alpha: float
    viterbi_boundary: bool  # the deterministic segmentation cuts here
    probability: float  # P(a boundary here) under the sampler at ``alpha``
    viterbi_token: tuple[int, int, int] | None  # (start, end, id) it cuts through, if any
    straddling: list[tuple[int, int, int]]  # (start, end, id) of pieces over the cut


def check_continuation(tok: Cuts, text: str, offset: int, alpha: float = 1.0) -> Continuation:
    """The continuation check of ``text`` cut at byte ``offset`` (0 ≤ offset ≤ bytes)."""
    data = to_utf8(text)
    if isinstance(offset, bool) or not hasattr(offset, "__index__"):
        raise TypeError(f"offset must be an int, got {type(offset).__name__}")
    offset = offset.__index__()
    if not 0 <= offset <= len(data):
        raise ValueError(f"offset must be in 0..{len(data)} (the text's bytes), got {offset}")
    normalized = data.decode("utf-8")
    p = float(tok.boundary_marginals(normalized, alpha)[offset])
    seg = tok.segment(normalized)
    ends = seg.ends
    k = int(np.searchsorted(ends, offset, side="left"))  # the token ending at or after it
    inside = None
    if k < len(ends) and ends[k] != offset and offset > 0:
        start = int(ends[k - 1]) if k > 0 else 0
        inside = (start, int(ends[k]), int(seg.ids[k]))
    over = [m for m in tok.matches(normalized) if m[0] < offset < m[1]]
    over.sort(key=lambda m: (m[0], -m[1]))
    return Continuation(offset, float(alpha), inside is None, p, inside, over)
