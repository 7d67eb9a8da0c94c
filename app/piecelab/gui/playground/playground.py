"""Editor beside side-by-side segmentation panes, updated as the user types.

The Playground tab holds the sampling controls (α, seed, number of samples),
the editor, and sub-tabs: the segmentation panes (one deterministic, N sampled),
the sampling distribution, the ids, and the comparison with a second model.
Hovering a token highlights its source span in the editor and in every pane.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QMimeData, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QPlainTextEdit,
    QSplitter,
    QTabWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from ...engine import Segmentation, Tokenizer, looks_like_model
from ..state import Workspace
from .compare_view import CompareView
from .controls import SamplingControls
from .ids_view import IdsView
from .sampling_view import SamplingView
from .segmentation_pane import SegmentationPane
from .token_view import TokenView

SAMPLE_TEXT = (
    "床前明月光，疑是地上霜。举头望明月，低头思故乡。\n"
    "It was the best of times, it was the worst of times.\n"
)
DEBOUNCE_MS = 50


class Editor(QPlainTextEdit):
    """The text editor; model files dropped on it go to the main window instead."""

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        if source.hasUrls() and any(looks_like_model(u.toLocalFile()) for u in source.urls()):
            return False
        return super().canInsertFromMimeData(source)


class Playground(QWidget):
    refreshed = Signal()  # after every re-render of the panes (tests and benchmarks wait on it)
    tokenizerReady = Signal()  # a new model's kernels are warm and the panes show it

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.tokenizer: Tokenizer | None = None
        self.controls = SamplingControls()
        self.editor = Editor(SAMPLE_TEXT)
        self.viterbi = SegmentationPane("Deterministic (Viterbi)")
        self.samples: list[SegmentationPane] = []
        self.sample_split = QSplitter(Qt.Orientation.Vertical)
        self.sample_split.setChildrenCollapsible(False)
        panes = QSplitter(Qt.Orientation.Horizontal)
        panes.addWidget(self.viterbi)
        panes.addWidget(self.sample_split)
        self.distribution = SamplingView()
        self.ids = IdsView()
        self.compare = CompareView(workspace)
        self.tabs = QTabWidget()
        self.tabs.addTab(panes, "Segmentations")
        self.tabs.addTab(self.distribution, "Sampling distribution")
        self.tabs.addTab(self.ids, "Ids")
        self.tabs.addTab(self.compare, "Compare")
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.editor)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(self.controls)
        layout.addWidget(split, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.refresh)
        self._stale: set[QWidget] = set()
        self._char_pos: np.ndarray | None = None
        self._set_sample_count(1)
        self.editor.textChanged.connect(self._timer.start)
        self.controls.changed.connect(self._controls_changed)
        self.tabs.currentChanged.connect(lambda _: self._refresh_current_sub_view())
        self.distribution.selection_button.clicked.connect(self._use_selection)
        self.viterbi.view.hovered.connect(self.highlight_span)
        self.compare.hovered.connect(self.highlight_span)
        workspace.modelChanged.connect(self._model_arrived)
        workspace.modelEdited.connect(self._model_arrived)

    # ------------------------------------------------------------- model
    def _model_arrived(self) -> None:
        """The workspace built and warmed a model (its kernels are compiled): show it."""
        tok = self.workspace.tokenizer
        if tok is not None:
            self.set_tokenizer(tok)

    def set_tokenizer(self, tok: Tokenizer) -> None:
        """Show ``tok``'s segmentations (its kernels must already be compiled)."""
        self.tokenizer = tok
        self.distribution.set_tokenizer(tok)
        self.compare.set_primary(tok)
        self.refresh()
        self.tokenizerReady.emit()

    # ------------------------------------------------------------- panes
    def _set_sample_count(self, n: int) -> None:
        while len(self.samples) < n:
            pane = SegmentationPane("Sampled")
            pane.view.hovered.connect(self.highlight_span)
            self.sample_split.addWidget(pane)
            self.samples.append(pane)
        while len(self.samples) > n:
            pane = self.samples.pop()
            pane.setParent(None)
            pane.deleteLater()
        self.sample_split.setVisible(n > 0)

    def _controls_changed(self) -> None:
        c = self.controls
        self.distribution.set_sampling(c.alpha, c.seed)
        self.refresh()

    def text(self) -> str:
        return self.editor.toPlainText()

    def refresh(self) -> None:
        """Re-segment the editor text into every pane (and the visible sub-view)."""
        self._timer.stop()
        self._char_pos = None
        tok = self.tokenizer
        c = self.controls
        self._set_sample_count(c.n_samples)
        if tok is None:
            return
        text = self.text()
        try:
            seg = tok.segment(text)
        except ValueError as exc:  # e.g. a lone surrogate pasted into the editor
            self.viterbi.show_message(str(exc))
            return
        self.viterbi.show_segmentation(seg, tok)
        for k, pane in enumerate(self.samples):
            seed = c.seed + k
            pane.set_title(f"Sampled (α={c.alpha:g}, seed {seed})")
            pane.show_segmentation(
                tok.segment(text, alpha=c.alpha, seed=seed), tok, reference=seg, alpha=c.alpha
            )
        self._stale = {self.ids, self.compare}
        self._refresh_current_sub_view()
        self.refreshed.emit()

    def _refresh_current_sub_view(self) -> None:
        w = self.tabs.currentWidget()
        if w not in self._stale or self.tokenizer is None:
            return
        self._stale.discard(w)
        c = self.controls
        if w is self.ids:
            self.ids.show_text(self.tokenizer, self.text(), c.alpha, c.seed)
        elif w is self.compare:
            self.compare.set_text(self.text())

    def sample_segmentations(self) -> list[Segmentation]:
        return [p.segmentation for p in self.samples if p.segmentation is not None]

    def _use_selection(self) -> None:
        text = self.editor.textCursor().selectedText().replace("\u2029", "\n")
        if text:
            self.distribution.text_edit.setText(text)

    # ------------------------------------------------------------- hover links
    def views(self) -> list[TokenView]:
        return [self.viterbi.view, *(p.view for p in self.samples), *self.compare.views()]

    def highlight_span(self, start: int, end: int) -> None:
        """Highlight bytes ``[start, end)`` in every pane and in the editor (-1 clears)."""
        for v in self.views():
            v.set_highlight(start, end)
        seg = self.viterbi.segmentation
        sel: list[QTextEdit.ExtraSelection] = []
        text = self.text()
        if start >= 0 and seg is not None and end <= len(seg.data) and seg.text == text:
            cob = seg.char_of_byte
            c0, c1 = int(cob[start]), int(cob[end - 1]) + 1
            if self._char_pos is None:  # char index → UTF-16 position (astral chars count 2)
                wide = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32) > 0xFFFF
                self._char_pos = np.concatenate([[0], np.cumsum(wide + 1)])
            s = QTextEdit.ExtraSelection()
            cursor = QTextCursor(self.editor.document())
            cursor.setPosition(int(self._char_pos[c0]))
            cursor.setPosition(int(self._char_pos[c1]), QTextCursor.MoveMode.KeepAnchor)
            fmt = QTextCharFormat()
            color = QColor(self.palette().color(QPalette.ColorRole.Highlight))
            color.setAlpha(110)
            fmt.setBackground(color)
            s.cursor, s.format = cursor, fmt
            sel.append(s)
        self.editor.setExtraSelections(sel)

    def highlighted_editor_text(self) -> str:
        sel = self.editor.extraSelections()
        return sel[0].cursor.selectedText() if sel else ""
