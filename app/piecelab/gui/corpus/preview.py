"""The corpus view's Preview tab: documents of the chosen sources, or the lines around a
problem with its line marked."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTextCursor, QTextFormat
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QTextEdit, QVBoxLayout, QWidget

PREVIEW_CHARS = 2000  # of each document
MARK = "▶"
MARK_COLOR = QColor("#ffe3e3")


class PreviewPane(QWidget):
    """A title saying what is shown, and the text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("")
        self.title.setTextFormat(Qt.TextFormat.PlainText)  # file names are not markup
        self.title.setWordWrap(True)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setPlaceholderText("Scan the corpus to preview its documents")
        self.marked: int | None = None  # the line number marked (a problem's)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.text)

    def toPlainText(self) -> str:
        """The text shown (reads like the text box it wraps)."""
        return self.text.toPlainText()

    def show_documents(self, title: str, docs: list[tuple[str, str]]) -> None:
        """Documents as (file, text), each under its file's name."""
        self._set(title)
        self.text.setPlainText(
            "\n\n".join(f"── {Path(name).name} ──\n{text[:PREVIEW_CHARS]}" for name, text in docs)
            or "(no documents)"
        )

    def show_lines(self, title: str, lines: list[tuple[int, str]], mark: int | None) -> None:
        """Numbered lines; line ``mark`` is flagged and highlighted, and scrolled to."""
        self._set(title)
        width = len(f"{max((n for n, _ in lines), default=1):,}")
        rows = [f"{MARK if n == mark else ' '} {n:>{width},} │ {text}" for n, text in lines]
        self.text.setPlainText("\n".join(rows) or "(the file has no such line any more)")
        at = next((i for i, (n, _) in enumerate(lines) if n == mark), None)
        if at is None:
            return
        self.marked = mark
        cursor = QTextCursor(self.text.document().findBlockByNumber(at))
        selection = QTextEdit.ExtraSelection()
        selection.cursor = cursor
        selection.format.setBackground(MARK_COLOR)
        selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        self.text.setExtraSelections([selection])
        self.text.setTextCursor(cursor)
        self.text.centerCursor()

    def show_message(self, title: str, message: str) -> None:
        self._set(title)
        self.text.setPlainText(message)

    def _set(self, title: str) -> None:
        self.title.setText(title)
        self.marked = None
        self.text.setExtraSelections([])
