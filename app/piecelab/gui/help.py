"""Help: the in-app guide, the keyboard-shortcut sheet, and where the README is."""

from __future__ import annotations

import contextlib
from importlib import metadata

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ..paths import guide_path, resource_dir

# shortcuts of widgets rather than actions: (keys, what they do)
VIEW_KEYS = (
    ("Tab / Shift+Tab", "Move between the controls of a view", "anywhere"),
    ("Alt + underlined letter", "Open a menu or press a button", "anywhere"),
    ("Ctrl+Tab / Ctrl+Shift+Tab", "Next / previous tab", "anywhere"),
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


def with_close_button(dialog: QDialog, content: QWidget, width: int, height: int) -> None:
    """Lay ``content`` out above a Close button (what every Help window has)."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(content)
    layout.addWidget(buttons)
    dialog.resize(width, height)


class TextDialog(QDialog):
    """A Markdown document to read (the guide, the README), links opening outside."""

    def __init__(self, title: str, markdown: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setMarkdown(markdown)
        with_close_button(self, self.browser, 760, 720)


def shortcut_rows(root: QWidget) -> list[tuple[str, str, str]]:
    """(keys, action, where) of every action with a shortcut under ``root``, then the
    keys every view has.  ``where`` is the tab the action works in ("anywhere" for the
    window's own): a view's shortcut does nothing elsewhere, and the sheet says so."""
    rows: dict[tuple[str, str], str] = {}
    for action in root.findChildren(QAction):
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        text = action.text().replace("&", "").rstrip("…").strip()
        where = _where(action, root)
        if keys and text and (keys, where) not in rows:
            rows[keys, where] = text
    found = sorted(((k, t, w) for (k, w), t in rows.items()), key=lambda r: (r[2], r[1].lower()))
    return found + list(VIEW_KEYS)


def _where(action: QAction, root: QWidget) -> str:
    """The tabs (outermost first) that hold the widget an action belongs to."""
    names: list[str] = []
    widget = action.parent()
    while isinstance(widget, QWidget) and widget is not root:
        stack = widget.parentWidget()
        tabs = stack.parentWidget() if isinstance(stack, QStackedWidget) else None
        if isinstance(tabs, QTabWidget):
            names.append(tabs.tabText(tabs.indexOf(widget)))
        widget = stack
    return " → ".join(reversed(names)) or "anywhere"


class ShortcutsDialog(QDialog):
    """Every keyboard shortcut, read from the window's own actions (so it cannot go stale)."""

    def __init__(self, root: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        rows = shortcut_rows(root)
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["keys", "does", "where"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(value))
        self.table.resizeColumnToContents(0)
        self.table.resizeColumnToContents(2)
        with_close_button(self, self.table, 520, 480)
