"""Two models' deterministic segmentations of the same editor text, side by side."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...engine import MODEL_FILE_FILTER, Segmentation, Tokenizer, Vocabulary
from ..state import Workspace
from .segmentation_pane import SegmentationPane
from .token_labels import same_spans
from .token_view import TokenView

NO_SECOND = (
    "No second model: press “Open second model…” above (or File ▸ Open a model to "
    "compare…) to see its segmentation of the same text here."
)


class CompareView(QWidget):
    """Model A (the workspace's) beside model B (``Workspace.open_compare_model``).

    Tokens whose byte span is not a token of the other model are outlined.
    """

    hovered = Signal(int, int)
    compared = Signal()  # both panes show the current text

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.primary: Tokenizer | Vocabulary | None = None
        self.secondary: Tokenizer | Vocabulary | None = None
        self.text = ""
        self.loading: Path | None = None  # the second model being opened
        self.open_button = QPushButton("Open second model…")
        self.open_button.setToolTip("Choose a model to segment the editor text with, beside A")
        self.path_label = QLabel("No second model: open one to compare.")
        self.path_label.setWordWrap(True)
        self.pane_a = SegmentationPane("A: current model")
        self.pane_b = SegmentationPane("B: (none)")
        self.pane_b.show_message(NO_SECOND)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.path_label, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.pane_a)
        split.addWidget(self.pane_b)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(split, 1)
        layout.addWidget(self.summary)
        for pane in (self.pane_a, self.pane_b):
            pane.view.hovered.connect(self.hovered)
        self.open_button.clicked.connect(self.open_dialog)
        workspace.compareChanged.connect(self._compare_arrived)
        workspace.compareFailed.connect(self._compare_failed)

    def views(self) -> list[TokenView]:
        return [self.pane_a.view, self.pane_b.view]

    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open a model to compare", "", MODEL_FILE_FILTER
        )
        if path:
            self.open_model(path)

    def open_model(self, path: str | Path) -> None:
        self.loading = Path(path)
        self.path_label.setText(f"Loading {self.loading.name} …")
        self.workspace.open_compare_model(path)

    def _compare_failed(self, message: str) -> None:
        """Model B did not open: say why here, instead of "Loading …" forever."""
        name = self.loading.name if self.loading is not None else "the second model"
        self.loading = None
        self.path_label.setText(f"Could not open {name} as the second model: {message}")
        self.workspace.say(f"Could not open {name} as the second model")

    def _compare_arrived(self) -> None:
        """The workspace built and warmed the second model; show it."""
        tok = self.workspace.compare_tokenizer
        if tok is None:
            return
        self.loading = None
        self.secondary = tok
        path = self.workspace.compare_path
        name = path.name if path is not None else "second model"
        kind = tok.kind if isinstance(tok, Vocabulary) else "bytepiece"
        self.path_label.setText(f"B = {path} ({kind}, {tok.vocab_size:,} ids)")
        self.pane_b.set_title(f"B: {name}")
        self.render()

    def set_primary(self, tok: Tokenizer | Vocabulary) -> None:
        self.primary = tok
        path = self.workspace.model_path
        self.pane_a.set_title(f"A: {path.name if path is not None else 'current model'}")
        self.render()

    def set_text(self, text: str) -> None:
        self.text = text
        self.render()

    def render(self) -> None:
        a = b = None
        try:
            if self.primary is not None:
                a = self.primary.segment(self.text)
            if self.secondary is not None:
                b = self.secondary.segment(self.text)
        except ValueError as exc:
            message = f"This text cannot be segmented: {exc}"
            for pane in (self.pane_a, self.pane_b):
                pane.show_message(message)
            self.summary.setText(message)
            return
        if a is not None:
            self.pane_a.show_segmentation(a, self.primary, reference=b)
        if b is not None:
            self.pane_b.show_segmentation(b, self.secondary, reference=a)
        elif self.secondary is None:
            self.pane_b.show_message(NO_SECOND)
        self.summary.setText(self._summary(a, b))
        if a is not None and b is not None:
            self.compared.emit()

    @staticmethod
    def _summary(a: Segmentation | None, b: Segmentation | None) -> str:
        if a is None or b is None or not len(a):
            return ""
        shared = int(same_spans(a, b).sum())
        return (
            f"B uses {len(b):,} tokens for A's {len(a):,} ({len(b) / len(a):.1%}); "
            f"{shared:,} tokens have the same span in both."
        )
