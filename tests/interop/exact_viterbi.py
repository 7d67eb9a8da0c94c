"""piecelab's segmentation computed in exact rational arithmetic, for explaining ties.

piecelab (like BytePiece) sums float64 log-probabilities, so where two orders of
the same pieces tie exactly, rounding may pick either; here the sums are exact
Fractions of the same float64 scores and ties follow piecelab's stated rule (at
each end the longest piece wins), over the same line chunks.  Slow: for a few
documents only.
"""

from __future__ import annotations

from fractions import Fraction

from piecelab.engine.model import Model
from piecelab.engine.normalize import chunks, nfc


class ExactViterbi:
    """Encode with ``model``'s own scores and tie rule, without rounding."""

    def __init__(self, model: Model) -> None:
        log_p = model.log_probs()
        self.index = model.index
        self.scores = {
            piece: Fraction(float(log_p[i]))
            for piece, i in self.index.items()
            if log_p[i] > float("-inf")
        }
        self.longest = max(len(p) for p in model.pieces)

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for chunk in chunks(nfc(text)):
            ids += self._chunk(chunk.encode())
        return ids

    def _chunk(self, data: bytes) -> list[int]:
        n = len(data)
        best: list[Fraction | None] = [None] * (n + 1)
        best[0] = Fraction(0)
        start = [0] * (n + 1)
        for end in range(1, n + 1):
            # earliest start first, a later one only if strictly better: the longest wins ties
            for s in range(max(0, end - self.longest), end):
                score = self.scores.get(data[s:end])
                if score is None or best[s] is None:
                    continue
                total = best[s] + score
                if best[end] is None or total > best[end]:
                    best[end], start[end] = total, s
        out: list[int] = []
        end = n
        while end > 0:
            out.append(self.index[data[start[end] : end]])
            end = start[end]
        return out[::-1]
