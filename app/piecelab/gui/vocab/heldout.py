"""The held-out figure of the vocabulary view, re-measured after every edit, off-thread."""

from __future__ import annotations

import math

from PySide6.QtCore import QObject, Signal

from ...engine import evaluate
from ..state import Workspace
from ..widgets import debounce
from ..worker import Jobs, Latest

HELDOUT_MAX_DOCS = 5000
HELDOUT_MAX_CHARS = 4 << 20
MEASURE_PAUSE_MS = 200  # a burst of edits is measured once


def heldout_sample(workspace: Workspace) -> tuple[list[str], str]:
    """Documents to evaluate edits on: the corpus' held-out split, else its first ones.

    Runs on a worker thread; reads at most ``HELDOUT_MAX_DOCS`` documents.
    """
    if not workspace.corpus_paths:
        return [], "no corpus"
    use_heldout = workspace.corpus_options.heldout > 0
    split = "heldout" if use_heldout else "all"
    docs = workspace.read_documents(HELDOUT_MAX_DOCS, split, HELDOUT_MAX_CHARS)
    what = "held-out" if use_heldout else "corpus sample"
    return docs, f"{what}, {len(docs):,} documents"


class HeldoutEvaluator(QObject):
    """Re-measures bytes per token on held-out text after every model change.

    ``evaluated(value, delta)``: delta is the change since the previous figure
    (NaN for the first one of a model opened fresh).
    """

    evaluated = Signal(float, float)
    status = Signal(str)

    def __init__(self, workspace: Workspace, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.docs: list[str] | None = None  # the sample, read once per corpus
        self.label = ""
        self.value = math.nan
        self.jobs = Jobs(self)
        self._requests = Latest()
        self._timer = debounce(self, MEASURE_PAUSE_MS, self.evaluate)
        workspace.modelEdited.connect(self._timer.start)
        workspace.modelChanged.connect(self._fresh)
        workspace.corpusChanged.connect(self._corpus_changed)

    @property
    def busy(self) -> int:
        return self.jobs.busy

    def _fresh(self) -> None:
        self.value = math.nan
        self._timer.start()

    def _corpus_changed(self) -> None:
        self.docs = None
        self._requests.drop_all()  # a measure in flight used the old corpus
        self.value = math.nan
        self._timer.start()

    def evaluate(self) -> None:
        """Measure the current tokenizer (reading the held-out documents once)."""
        tok = self.workspace.viewer  # another library's vocabulary counts its own tokens
        if tok is None:
            return
        docs, label, ws = self.docs, self.label, self.workspace
        self.status.emit("evaluating…")

        def work() -> tuple[list[str], str, float]:
            sample, name = (docs, label) if docs is not None else heldout_sample(ws)
            return sample, name, evaluate(tok, sample).bytes_per_token if sample else math.nan

        self.jobs.run(work, self._measured, self._failed, self._requests)

    def _measured(self, result: tuple[list[str], str, float]) -> None:
        sample, label, value = result
        self.docs, self.label = sample, label
        if not sample:
            self.status.emit("add a corpus to measure held-out bytes per token")
            return
        delta = value - self.value if not math.isnan(self.value) else math.nan
        self.value = value
        self.evaluated.emit(value, delta)

    def _failed(self, message: str) -> None:
        self.status.emit(f"could not evaluate: {message.splitlines()[0]}")
