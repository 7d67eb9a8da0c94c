"""Corpus search with pyahocorasick: concordances of pieces in their context.

Multi-pattern search is the job Aho-Corasick is for; the tokenizer does not use
it (its Python iteration would cap throughput), the concordance does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import ahocorasick

from .segmentation import Segmentation


class Segmenter(Protocol):
    """A tokenizer, or another library's vocabulary: anything that segments text."""

    def segment(self, text: str) -> Segmentation: ...


@dataclass(frozen=True)
class Hit:
    """One occurrence of a piece: document, character span, context, and whether
    the tokenizer emits the piece there as a token of its own."""

    doc: int
    start: int
    end: int
    left: str
    match: str
    right: str
    pattern: int
    emitted: bool | None = None


def _automaton(patterns: Sequence[str]) -> ahocorasick.Automaton:
    auto = ahocorasick.Automaton()
    for i, p in enumerate(patterns):
        auto.add_word(p, (i, len(p)))
    auto.make_automaton()
    return auto


def concordance(
    patterns: Sequence[str],
    documents: Iterable[str],
    context: int = 30,
    limit: int = 500,
    max_documents: int | None = None,
) -> list[Hit]:
    """Occurrences of any of ``patterns`` (non-empty strings) with ``context``
    characters on each side, at most ``limit`` hits."""
    pats = [p for p in patterns if p]
    if not pats:
        return []
    auto = _automaton(pats)
    hits: list[Hit] = []
    for d, doc in enumerate(documents):
        if max_documents is not None and d >= max_documents:
            break
        for end_idx, (k, n) in auto.iter(doc):
            end = end_idx + 1
            start = end - n
            hits.append(
                Hit(
                    d,
                    start,
                    end,
                    doc[max(0, start - context) : start],
                    doc[start:end],
                    doc[end : end + context],
                    k,
                )
            )
            if len(hits) >= limit:
                return hits
    return hits


def mark_emitted(hits: list[Hit], documents: Sequence[str], tokenizer: Segmenter) -> list[Hit]:
    """Fill ``emitted``: does the segmentation of the document (the Viterbi one, or
    another library's own) cut exactly the hit's span as one token?"""
    out = []
    cache: dict[int, set[tuple[int, int]]] = {}
    for h in hits:
        spans = cache.get(h.doc)
        if spans is None:
            seg = tokenizer.segment(documents[h.doc])
            cob = seg.char_of_byte
            spans = set()
            for s, e in zip(seg.starts.tolist(), seg.ends.tolist()):
                spans.add((int(cob[s]), int(cob[e - 1]) + 1))
            cache[h.doc] = spans
        emitted = (h.start, h.end) in spans
        out.append(Hit(h.doc, h.start, h.end, h.left, h.match, h.right, h.pattern, emitted))
    return out
