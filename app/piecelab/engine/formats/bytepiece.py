"""BytePiece models (JSON or zip) behind the common :class:`~.base.Vocabulary` API.

Spans are byte offsets into the NFC form of the text, which BytePiece tokenizes;
for text already in NFC (nearly all text) that is the text given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from ..continuation import Cuts
from ..model import N_SPECIAL, SPECIALS, Model
from ..segmentation import Segmentation
from ..tokenizer import Tokenizer
from .base import Spans, Vocabulary


class BytePieceVocabulary(Vocabulary):
    """A BytePiece model; its native tokenizer is the one that runs it."""

    kind = "bytepiece"
    score_name = "log p"
    can_sample = True

    def __init__(self, model: Model | Tokenizer) -> None:
        self.tokenizer = model if isinstance(model, Tokenizer) else Tokenizer(model)
        m = self.tokenizer.model
        self.model = m
        self.source = m.source
        self.pieces = [s.encode() for s in SPECIALS] + list(m.pieces)
        self.scores = np.asarray(m.log_probs(), np.float64).copy()  # by id, specials too
        self.scores[:N_SPECIAL] = 0.0
        self.special = np.arange(len(self.pieces)) < N_SPECIAL

    def encode(self, text: str) -> list[int]:
        return self.tokenizer.encode(text)

    def tokenize(self, text: str) -> list[bytes]:
        return self.tokenizer.tokenize(text)

    def decode(self, ids: Iterable[int]) -> str:
        return self.tokenizer.decode(ids)

    def spans(self, text: str) -> Spans:
        seg = self.tokenizer.segment(text)
        return Spans(seg.ids, seg.starts, seg.ends)

    def sample(self, text: str, alpha: float, seed: int | None = None) -> list[int]:
        return self.tokenizer.encode(text, alpha=alpha, seed=seed)

    def sample_spans(self, text: str, alpha: float, seed: int | None = None) -> Spans:
        seg = self.tokenizer.segment(text, alpha, seed)
        return Spans(seg.ids, seg.starts, seg.ends)

    def segment(self, text: str, alpha: float = -1, seed: int | None = None) -> Segmentation:
        return self.tokenizer.segment(text, alpha, seed)

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return self.tokenizer.encode_batch(texts)

    def count_tokens(self, texts: Sequence[str], workers: int | None = None) -> int:
        return self.tokenizer.count_tokens(texts, workers=workers)

    def unreachable(self) -> np.ndarray:
        """The engine's test (its Viterbi of each piece's bytes), over the ids."""
        from ..edit import unreachable

        out = np.full(self.vocab_size, -1, np.int8)
        out[N_SPECIAL:] = unreachable(self.tokenizer.model)
        return out

    def native(self) -> Tokenizer:
        return self.tokenizer

    def cuts(self, text: str, alpha: float = 1.0) -> Cuts:
        return self.tokenizer.cuts(text, alpha)
