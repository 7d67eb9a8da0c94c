"""Building a tokenizer with every kernel already run once, and saying when that compiles.

The GUI calls each kernel once on a worker thread before it shows a model, so
that loading or compiling code never happens on the GUI thread.  On a first
start (an empty numba cache) that compiles for many seconds; the steps are
reported as progress, with the stage named for what is happening.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from numba.core import event

from .events import Progress, Rate
from .model import Model
from .tokenizer import Tokenizer

PREPARING = "preparing the tokenizer"
COMPILING = "compiling the tokenizer (first start only)"
WARM_TEXT = "warm up 预热\n\n"  # every kernel path: ASCII, CJK, a chunk edge

# every kernel the GUI calls, once each (name, call)
STEPS: tuple[tuple[str, Callable[[Tokenizer], object]], ...] = (
    ("Viterbi", lambda t: t.tokenize(WARM_TEXT)),
    ("sampling", lambda t: t.tokenize(WARM_TEXT, alpha=0.5, seed=0)),
    ("segments", lambda t: t.segment(WARM_TEXT)),
    ("sampled segments", lambda t: t.log_prob(t.segment(WARM_TEXT, alpha=0.5, seed=0), 0.5)),
    ("large α", lambda t: t.log_prob(t.segment(WARM_TEXT, alpha=1e4, seed=0), 1e4)),  # log domain
    ("top k", lambda t: t.top_k(WARM_TEXT, 2, 0.5)),
    (
        "counting",
        lambda t: (t.count_segmentations(WARM_TEXT), t.log_count_segmentations(WARM_TEXT)),
    ),
    ("matches", lambda t: t.matches(WARM_TEXT)),
    ("boundaries", lambda t: t.continuation(WARM_TEXT, 1, 0.5)),  # boundary marginals
    ("piece marginals", lambda t: t.piece_marginals(WARM_TEXT, 0.5)),
    ("batches", lambda t: t.tokenize_batch([WARM_TEXT, WARM_TEXT], alpha=0.5, seed=0)),
    ("decoding", lambda t: t.decode(t.encode(WARM_TEXT))),
)


class _CompileCounter(event.Listener):
    def __init__(self) -> None:
        self.started = 0

    def on_start(self, ev: event.Event) -> None:
        self.started += 1

    def on_end(self, ev: event.Event) -> None:
        pass


@contextlib.contextmanager
def watching_compiles() -> Iterator[_CompileCounter]:
    """Count numba compilations (of any thread) while the block runs."""
    counter = _CompileCounter()
    with event.install_listener("numba:compile", counter):
        yield counter


def build_tokenizer(
    source: Model | str | Path, report: Callable[[Progress], None] = lambda p: None
) -> Tokenizer:
    """A tokenizer from a model or a model file, every kernel the GUI uses run once.

    ``report`` gets one :class:`Progress` per step; its stage says "compiling …"
    once numba had to compile something (an empty cache), else "preparing …".
    """
    with watching_compiles() as compiles:
        tok = Tokenizer(source if isinstance(source, Model) else str(source))
        _run_steps(tok, report, compiles)
    return tok


def run_kernels_once(tok: Tokenizer, report: Callable[[Progress], None] = lambda p: None) -> None:
    """Every kernel the GUI calls, once, on the caller's thread, reporting as
    :func:`build_tokenizer` does (a native engine of another kind's vocabulary: steps
    its kind cannot take are passed over)."""
    with watching_compiles() as compiles:
        _run_steps(tok, report, compiles, skip_refused=True)


def _run_steps(tok, report, compiles: _CompileCounter, skip_refused: bool = False) -> None:
    rate = Rate(PREPARING, len(STEPS) + 1, "steps", time.monotonic)
    tok.wait_ready()  # a first start compiles its own kernels on a thread: let it
    for done, (_, step) in enumerate(STEPS, start=1):
        report(_staged(rate.progress(done), compiles.started))
        try:
            step(tok)
        except ValueError:
            if not skip_refused:
                raise
    report(_staged(rate.progress(len(STEPS) + 1), compiles.started))


def _staged(p: Progress, compiled: int) -> Progress:
    stage = COMPILING if compiled else PREPARING
    return Progress(stage, p.done, p.total, p.unit, p.elapsed, p.eta, p.rate)
