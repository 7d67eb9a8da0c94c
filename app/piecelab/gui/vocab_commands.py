"""Undoable vocabulary edits, and the background work around them: the held-out
figure re-measured after each edit, and the concordance of the selected piece.

A command holds the model before and after (models are small next to the
corpus and immutable once built), so undo is exact and cheap: it hands the
other model to ``Workspace.set_model``, which rebuilds the tokenizer off-thread
and tells every view (the playground follows ``modelEdited``).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QUndoCommand
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..engine.model import Model
from ..engine.render import is_complete, piece_label
from ..engine.search import Hit, concordance, mark_emitted
from ..engine.tokenizer import Tokenizer
from .state import Workspace
from .worker import run_in_thread

CONCORDANCE_DOCS = 2000
CONCORDANCE_HITS = 200
HELDOUT_MAX_DOCS = 5000
HELDOUT_MAX_BYTES = 4 << 20


class ModelEdit(QUndoCommand):
    """Replace the workspace's model by ``after``; undo puts ``before`` back."""

    def __init__(self, workspace: Workspace, before: Model, after: Model, text: str) -> None:
        super().__init__(text)
        self.workspace = workspace
        self.before = before
        self.after = after

    def redo(self) -> None:
        self.workspace.set_model(self.after, edited=True)

    def undo(self) -> None:
        self.workspace.set_model(self.before, edited=True)


class PinEdit(QUndoCommand):
    """Pin (protect from deletion) or unpin pieces; ``changed`` refreshes the views."""

    def __init__(
        self, workspace: Workspace, pieces: set[bytes], pin: bool, changed: Callable[[], None]
    ) -> None:
        verb = "Pin" if pin else "Unpin"
        super().__init__(f"{verb} {len(pieces)} piece{'s' if len(pieces) != 1 else ''}")
        self.workspace = workspace
        self.pieces = set(pieces)
        self.pin = pin
        self.changed = changed
        self._before: set[bytes] = set()

    def redo(self) -> None:
        self._before = set(self.workspace.pinned)
        if self.pin:
            self.workspace.pinned |= self.pieces
        else:
            self.workspace.pinned -= self.pieces
        self.changed()

    def undo(self) -> None:
        self.workspace.pinned.clear()
        self.workspace.pinned |= self._before
        self.changed()


def heldout_sample(workspace: Workspace) -> tuple[list[str], str]:
    """Documents to evaluate edits on: the corpus' held-out split, else its first ones.

    Runs on a worker thread; reads at most ``HELDOUT_MAX_DOCS`` documents.
    """
    if not workspace.corpus_paths:
        return [], "no corpus"
    use_heldout = getattr(workspace.corpus_options, "heldout", 0) > 0
    corpus = workspace.open_corpus()
    try:
        docs: list[str] = []
        size = 0
        for doc in corpus.documents("heldout" if use_heldout else "all"):
            docs.append(doc)
            size += len(doc)
            if len(docs) >= HELDOUT_MAX_DOCS or size >= HELDOUT_MAX_BYTES:
                break
    finally:
        close = getattr(corpus, "close", None)
        if close is not None:
            close()
    what = "held-out" if use_heldout else "corpus sample"
    return docs, f"{what}, {len(docs):,} documents"


def bytes_per_token(tokenizer: Tokenizer, docs: list[str]) -> float:
    n = tokenizer.count_tokens(docs)
    nbytes = sum(len(d.encode("utf-8", "surrogatepass")) for d in docs)
    return nbytes / max(n, 1)


class HeldoutEvaluator(QObject):
    """Re-measures bytes per token on held-out text after every model change, off-thread.

    ``evaluated(value, delta)``: delta is the change since the previous figure
    (NaN for the first one of a model opened fresh).
    """

    evaluated = Signal(float, float)
    status = Signal(str)

    def __init__(self, workspace: Workspace, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.docs: list[str] | None = None
        self.label = ""
        self.value = math.nan
        self.previous = math.nan
        self.busy = 0
        self._gen = 0
        self._corpus_gen = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self.evaluate)
        workspace.modelEdited.connect(self._timer.start)
        workspace.modelChanged.connect(self._fresh)
        workspace.corpusChanged.connect(self._corpus_changed)

    def _fresh(self) -> None:
        self.value = math.nan
        self._timer.start()

    def _corpus_changed(self) -> None:
        self.docs = None
        self._corpus_gen += 1
        self.value = math.nan
        self._timer.start()

    def evaluate(self) -> None:
        """Measure the current tokenizer (loading the held-out documents once)."""
        tok = self.workspace.tokenizer
        if tok is None:
            return
        self._gen += 1
        gen, corpus_gen = self._gen, self._corpus_gen
        docs = self.docs
        ws = self.workspace
        self.busy += 1
        self.status.emit("evaluating…")

        def work() -> tuple[list[str], str, float]:
            sample, label = (docs, self.label) if docs is not None else heldout_sample(ws)
            return sample, label, bytes_per_token(tok, sample) if sample else math.nan

        def done(result: tuple[list[str], str, float]) -> None:
            self.busy -= 1
            sample, label, value = result
            if corpus_gen != self._corpus_gen:
                return  # measured on a corpus that is no longer the workspace's
            self.docs, self.label = sample, label
            if gen != self._gen:
                return
            if not sample:
                self.status.emit("add a corpus to measure held-out bytes per token")
                return
            delta = value - self.value if not math.isnan(self.value) else math.nan
            self.previous, self.value = self.value, value
            self.evaluated.emit(value, delta)

        def failed(message: str) -> None:
            self.busy -= 1
            self.status.emit(f"could not evaluate: {message.splitlines()[0]}")

        run_in_thread(work, done, failed, self)


_ESCAPE = re.compile(r"\\x([0-9a-fA-F]{2})|\\([nrt\\])|⟨([0-9A-Fa-f ]+)⟩")
_SIMPLE = {"n": b"\n", "r": b"\r", "t": b"\t", "\\": b"\\"}


def parse_piece(text: str) -> bytes:
    """The bytes a user typed: text, with ``\\n \\t \\r \\\\ \\xNN`` and ``⟨E4 BD⟩`` hex
    (the table's own notation for partial characters)."""
    out = bytearray()
    pos = 0
    for m in _ESCAPE.finditer(text):
        out += text[pos : m.start()].encode("utf-8")
        if m.group(1):
            out.append(int(m.group(1), 16))
        elif m.group(2):
            out += _SIMPLE[m.group(2)]
        else:
            out += bytes.fromhex(m.group(3))
        pos = m.end()
    out += text[pos:].encode("utf-8")
    return bytes(out)


class ConcordancePanel(QWidget):
    """A piece in context in the first documents of the corpus (pyahocorasick), and
    whether the tokenizer emits it there as a token of its own."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.busy = 0
        self.piece: bytes | None = None
        self._docs: list[str] | None = None
        self.label = QLabel("Select a piece to see it in the corpus")
        self.label.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["left", "piece", "right", "emitted"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.table)
        workspace.corpusChanged.connect(self._corpus_changed)

    def _corpus_changed(self) -> None:
        self._docs = None

    def show_piece(self, piece: bytes) -> None:
        tok = self.workspace.tokenizer
        self.piece = piece
        if tok is None:
            return
        if not is_complete(piece):
            self.table.setRowCount(0)
            self.label.setText(f"{piece_label(piece)} is not whole characters: not searchable")
            return
        ws, docs = self.workspace, self._docs
        self.label.setText(f"Searching for {piece_label(piece)}…")

        def work() -> tuple[list[str], list[Hit]]:
            texts = docs if docs is not None else first_documents(ws, CONCORDANCE_DOCS)
            hits = concordance([piece.decode()], texts, context=30, limit=CONCORDANCE_HITS)
            return texts, mark_emitted(hits, texts, tok)

        def done(result: tuple[list[str], list[Hit]]) -> None:
            self.busy -= 1
            self._docs = result[0]
            if self.piece == piece:
                self._show(piece, *result)

        def failed(message: str) -> None:
            self.busy -= 1
            self.label.setText(f"Search failed: {message.splitlines()[0]}")

        self.busy += 1
        run_in_thread(work, done, failed, self)

    def _show(self, piece: bytes, docs: list[str], hits: list[Hit]) -> None:
        self.table.setRowCount(len(hits))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for row, h in enumerate(hits):
            cells = [h.left, h.match, h.right, "yes" if h.emitted else "no"]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(piece_label(text.encode("utf-8", "surrogatepass")))
                if col == 0:
                    item.setTextAlignment(right)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        emitted = sum(1 for h in hits if h.emitted)
        more = "+" if len(hits) >= CONCORDANCE_HITS else ""
        self.label.setText(
            f"{piece_label(piece)}: {len(hits)}{more} occurrences in the first {len(docs):,} "
            f"documents; emitted as a token in {emitted}"
        )


def first_documents(workspace: Workspace, n: int) -> list[str]:
    """The first ``n`` documents of the workspace's corpus (none without a corpus)."""
    if not workspace.corpus_paths:
        return []
    corpus = workspace.open_corpus()
    try:
        return list(itertools.islice(corpus.documents("all"), n))
    finally:
        corpus.close()
