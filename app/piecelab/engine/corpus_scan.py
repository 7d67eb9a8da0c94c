"""One pass over a corpus for the corpus view: statistics, problems, split sizes, a preview."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .corpus import Corpus, Problem, SourceStats
from .events import Event, Rate

PREVIEW_DOCS = 50


@dataclass
class ScanResult:
    """What a scan found (``complete`` False: it was stopped, the figures are partial)."""

    stats: list[SourceStats]
    problems: list[Problem]
    problems_dropped: int
    n_train: int
    n_heldout: int
    preview: list[tuple[str, str]]
    complete: bool
    summary: list[str] = field(default_factory=list)  # the problems in a few lines

    @classmethod
    def empty(cls) -> ScanResult:
        return cls([], [], 0, 0, 0, [], True)


def scan_corpus(
    corpus: Corpus,
    report: Callable[[Event], None] = lambda ev: None,
    cancelled: Callable[[], bool] = lambda: False,
    preview: int = PREVIEW_DOCS,
) -> ScanResult:
    """Read ``corpus`` once, reporting progress; stops early (partial result) when cancelled."""
    rate = Rate("scan", corpus.size_hint, "bytes", time.monotonic)
    stats = corpus.scan(lambda done, total: report(rate.progress(done)), cancelled)
    complete = not cancelled()
    return ScanResult(
        stats,
        list(corpus.problems),
        corpus.problems_dropped,
        corpus.n_train,
        corpus.n_heldout,
        corpus.preview(preview) if complete else [],
        complete,
        corpus.problem_summary(),
    )
