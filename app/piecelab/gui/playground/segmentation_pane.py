"""A titled token view with its statistics line."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from ...engine import Segmentation, Tokenizer, Vocabulary, format_prob
from .token_labels import segmentation_stats
from .token_view import TokenView


class _Fixed(QWidget):
    """Holds a label at a fixed height, so new text never re-lays out the window."""

    def __init__(self, label: QLabel, lines: int) -> None:
        super().__init__()
        label.setParent(self)
        self.label = label
        self.setFixedHeight(lines * label.fontMetrics().lineSpacing() + 4)

    def resizeEvent(self, event) -> None:
        self.label.setGeometry(self.rect())


class SegmentationPane(QFrame):
    """A titled :class:`TokenView` with its statistics line below."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.set_title(title)
        self.view = TokenView()
        self.stats = QLabel("No model yet.")
        self.stats.setWordWrap(True)
        self.stats.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.stats.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(_Fixed(self.title, 1))
        layout.addWidget(self.view, 1)
        layout.addWidget(_Fixed(self.stats, 3))

    def set_minimum_lines(self, lines: int) -> None:
        """Keep at least ``lines`` lines of tokens visible, however many panes share the space."""
        self.view.setMinimumHeight(self.view.height_for_lines(lines))

    @property
    def segmentation(self) -> Segmentation | None:
        return self.view.segmentation

    def set_title(self, title: str) -> None:
        text = f"<b>{html.escape(title)}</b>"
        if text != self.title.text():
            self.title.setText(text)

    def show_segmentation(
        self,
        seg: Segmentation,
        tokenizer: Tokenizer | Vocabulary,
        reference: Segmentation | None = None,
        alpha: float | None = None,
    ) -> None:
        """Show ``seg``; with ``alpha`` also its exact probability under the sampler
        (piecelab's; another library's sampler is only named)."""
        self.view.show_segmentation(seg, tokenizer, reference)
        text = segmentation_stats(seg)
        if alpha is not None and isinstance(tokenizer, Vocabulary):
            text += f"<br>drawn by {html.escape(tokenizer.kind)}'s own sampler (α={alpha:g})"
        elif alpha is not None:
            lp = tokenizer.log_prob(seg, alpha)
            text += f"<br>P(this segmentation | α={alpha:g}) = {format_prob(lp)} (log {lp:,.3f})"
        if reference is not None:
            n = int(self.view.different.sum())
            text += f" · {n:,} token{'s' if n != 1 else ''} differ"
        self.stats.setText(text)

    def show_message(self, message: str) -> None:
        """No segmentation: ``message`` (a problem, or what to do) in the pane and below it."""
        self.view.clear(message)
        self.stats.setText(html.escape(message))
