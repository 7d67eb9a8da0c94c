"""Compression of a tokenizer on documents: bytes, characters and tokens (one of each figure)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from .tokenizer import Tokenizer

if TYPE_CHECKING:
    from .formats import Vocabulary

BATCH_DOCUMENTS = 2000  # documents per tokenize_batch call: threads stay busy, lists stay few


@dataclass
class Evaluation:
    """What a tokenizer made of some documents; the ratios are derived."""

    documents: int = 0
    bytes: int = 0
    chars: int = 0
    tokens: int = 0
    seconds: float = 0.0  # in the tokenizer only (reading the corpus is not counted)

    @property
    def bytes_per_token(self) -> float:
        return self.bytes / max(self.tokens, 1)

    @property
    def chars_per_token(self) -> float:
        return self.chars / max(self.tokens, 1)

    @property
    def mb_per_s(self) -> float:
        return self.bytes / self.seconds / 1e6 if self.seconds else 0.0

    def as_dict(self) -> dict:
        out = asdict(self)
        out.update(
            bytes_per_token=self.bytes_per_token,
            chars_per_token=self.chars_per_token,
            mb_per_s=self.mb_per_s,
        )
        return out


def evaluate(
    tokenizer: Tokenizer | Vocabulary, documents: Iterable[str], workers: int | None = None
) -> Evaluation:
    """Count tokens over ``documents`` (streamed in batches, never all held).

    ``tokenizer``: piecelab's (Viterbi), or any opened :class:`Vocabulary`.

    ``workers`` threads tokenize each batch (None: all cores).
    """
    ev = Evaluation()
    docs: Iterator[str] = iter(documents)
    while batch := list(itertools.islice(docs, BATCH_DOCUMENTS)):
        ev.documents += len(batch)
        ev.chars += sum(map(len, batch))
        ev.bytes += sum(len(d.encode("utf-8", "surrogatepass")) for d in batch)
        t = time.perf_counter()
        ev.tokens += tokenizer.count_tokens(batch, workers=workers)
        ev.seconds += time.perf_counter() - t
    return ev


def sample_documents(
    documents: Iterable[str], max_documents: int, max_chars: int = 1 << 62
) -> list[str]:
    """The first documents, up to ``max_documents`` or ``max_chars`` characters in all."""
    out: list[str] = []
    size = 0
    for doc in documents:
        out.append(doc)
        size += len(doc)
        if len(out) >= max_documents or size >= max_chars:
            break
    return out
