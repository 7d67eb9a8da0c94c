"""Help: the in-app guide, the keyboard-shortcut sheet, and where the README is."""

from __future__ import annotations

import contextlib
from importlib import metadata

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..paths import guide_path, resource_dir

# shortcuts of widgets rather than actions: (keys, what they do)
VIEW_KEYS = (
    ("Tab / Shift+Tab", "Move between the controls of a view"),
    ("Alt + underlined letter", "Open a menu or press a button from anywhere"),
    ("Ctrl+PgDown / Ctrl+PgUp", "Next / previous tab"),
)


def readme_text() -> str:
    """The README: beside a source checkout, else the installed package's description."""
    local = resource_dir().parent / "README.md"
    if local.is_file():
        return local.read_text(encoding="utf-8")
    with contextlib.suppress(metadata.PackageNotFoundError):
        text = metadata.metadata("piecelab").get_payload()  # the long description
        if text:
            return str(text)
    return "The README is not installed with this copy of piecelab."


def guide_text() -> str:
    return guide_path().read_text(encoding="utf-8")


class TextDialog(QDialog):
    """A Markdown document to read (the guide, the README), links opening outside."""

    def __init__(self, title: str, markdown: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setMarkdown(markdown)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(760, 720)


def shortcut_rows(root: QWidget) -> list[tuple[str, str]]:
    """(keys, action) of every action with a shortcut under ``root``, then the view keys."""
    rows: dict[str, str] = {}
    for action in root.findChildren(QAction):
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        text = action.text().replace("&", "").rstrip("…").strip()
        if keys and text and keys not in rows:
            rows[keys] = text
    return sorted(rows.items(), key=lambda kv: kv[1].lower()) + list(VIEW_KEYS)


class ShortcutsDialog(QDialog):
    """Every keyboard shortcut, read from the window's own actions (so it cannot go stale)."""

    def __init__(self, root: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(root)
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["keys", "does"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for r, (keys, text) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(keys))
            self.table.setItem(r, 1, QTableWidgetItem(text))
        self.table.resizeColumnToContents(0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(520, 480)
