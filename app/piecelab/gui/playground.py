"""Editor beside the deterministic segmentation, updated as the user types."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QLabel,
    QPlainTextEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from .state import Workspace
from .token_view import TokenView

SAMPLE_TEXT = (
    "床前明月光，疑是地上霜。举头望明月，低头思故乡。\n"
    "It was the best of times, it was the worst of times.\n"
)


class Playground(QWidget):
    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.editor = QPlainTextEdit(SAMPLE_TEXT)
        self.viterbi = TokenView()
        self.stats = QLabel("no model")
        pane = QWidget()
        pl = QVBoxLayout(pane)
        pl.setContentsMargins(0, 0, 0, 0)
        pl.addWidget(QLabel("<b>Deterministic (Viterbi)</b>"))
        pl.addWidget(self.viterbi)
        pl.addWidget(self.stats)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.editor)
        split.addWidget(pane)
        layout = QVBoxLayout(self)
        layout.addWidget(split)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(60)
        self._timer.timeout.connect(self.refresh)
        self.editor.textChanged.connect(self._timer.start)
        workspace.modelChanged.connect(self.refresh)

    def refresh(self) -> None:
        tok = self.workspace.tokenizer
        if tok is None:
            return
        seg = tok.segment(self.editor.toPlainText())
        self.viterbi.show_segmentation(seg)
        self.stats.setText(
            f"{len(seg)} tokens · {seg.bytes_per_token:.2f} bytes/token · "
            f"{seg.chars_per_token:.2f} chars/token · log p {seg.score:.1f}"
        )
