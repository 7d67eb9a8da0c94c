"""Vocabulary diff: the current model (A) against any vocabulary file (B), whatever
library wrote either; pieces are compared by the bytes they stand for
(:func:`diff_vocabularies`).  Counts, Jaccard, and three filterable lists."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...engine import (
    MODEL_FILE_FILTER,
    VocabDiff,
    Vocabulary,
    as_vocabulary,
    diff_vocabularies,
    load,
    piece_label,
)
from ..state import Workspace
from ..worker import Jobs, Latest, readable_error

SHOWN_ROWS = 2000  # of each list, after the filter: a table of 200k rows is no reading
FILTER_MS = 120  # the filter applies once typing pauses
LISTS = (  # (which, heading, columns)
    ("only_a", "Only in A", ("piece", "rank_a")),
    ("only_b", "Only in B", ("piece", "rank_b")),
    ("common", "In both", ("piece", "rank_a", "rank_b", "rank_change")),
)
HEADERS = {"piece": "Piece", "rank_a": "Rank A", "rank_b": "Rank B", "rank_change": "Δ rank"}


class DiffPanel(QWidget):
    """Model A is the workspace's; B is opened here.  Recomputed when A changes."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.b: Vocabulary | None = None
        self.b_path: Path | None = None
        self.diff: VocabDiff | None = None
        self.entries: dict[str, list[dict]] = {}
        self._stale = False  # model A changed while the panel was hidden
        self.jobs = Jobs(self)
        self._requests = Latest()
        self.open_button = QPushButton("Open B…")
        self.open_button.setToolTip("Open any vocabulary file to compare with the current model")
        self.summary = QLabel("Open a vocabulary B to compare with the current model (A).")
        self.summary.setWordWrap(True)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter pieces (text they contain)")
        self.filter.setClearButtonEnabled(True)
        self.headings: dict[str, QLabel] = {}
        self.tables: dict[str, QTableWidget] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FILTER_MS)
        self._timer.timeout.connect(self.apply_filter)
        self._lay_out()
        self.open_button.clicked.connect(self.open_dialog)
        self.filter.textChanged.connect(lambda _: self._timer.start())
        workspace.modelChanged.connect(self.recompute)
        workspace.modelEdited.connect(self.recompute)

    def _lay_out(self) -> None:
        row = QHBoxLayout()
        row.addWidget(self.open_button)
        row.addWidget(QLabel("Filter"))
        row.addWidget(self.filter, 1)
        split = QSplitter()
        for which, heading, columns in LISTS:
            box = QWidget()
            inner = QVBoxLayout(box)
            inner.setContentsMargins(0, 0, 0, 0)
            self.headings[which] = QLabel(f"<b>{heading}</b>")
            table = QTableWidget(0, len(columns))
            table.setHorizontalHeaderLabels([HEADERS[c] for c in columns])
            table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
            table.verticalHeader().setVisible(False)
            header = table.horizontalHeader()
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
            self.tables[which] = table
            inner.addWidget(self.headings[which])
            inner.addWidget(table, 1)
            split.addWidget(box)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        layout.addWidget(split, 1)

    # ------------------------------------------------------------- computing
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open vocabulary B", "", MODEL_FILE_FILTER)
        if path:
            self.open_b(path)

    def open_b(self, path: str | Path) -> None:
        """Open ``path`` as B and diff it against the current model (worker thread)."""
        path = Path(path)
        self._run(path, None)

    def recompute(self) -> None:
        """Model A changed: diff again if a B is open (once the panel shows)."""
        self._stale = self.b is not None
        if self._stale and self.isVisible():
            self._stale = False
            self._run(self.b_path, self.b)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.recompute()

    def _run(self, path: Path | None, known: Vocabulary | None) -> None:
        ws = self.workspace
        viewer = ws.viewer
        if viewer is None:
            self.summary.setText("No model: open one first; it is A of the diff.")
            return
        label = ws.model_label or "current model"

        def work() -> tuple[Vocabulary, VocabDiff, dict[str, list[dict]]]:
            b = known if known is not None else load(path)  # type: ignore[arg-type]
            diff = diff_vocabularies(as_vocabulary(viewer), b)
            return b, diff, {w: diff.entries(w) for w, _, _ in LISTS}

        def done(result: tuple[Vocabulary, VocabDiff, dict[str, list[dict]]]) -> None:
            self.b, self.diff, self.entries = result
            self.b_path = path
            self._summarize(label)
            self.apply_filter()

        self.summary.setText(f"Comparing with {path.name if path else 'B'} …")
        self.jobs.run(work, done, self._failed, self._requests)

    def _failed(self, message: str) -> None:
        self.summary.setText("Could not compare the vocabularies.")
        QMessageBox.warning(self, "Could not compare", readable_error(message))

    def _summarize(self, label: str) -> None:
        d = self.diff
        assert d is not None
        name_b = self.b_path.name if self.b_path is not None else d.b.source
        self.summary.setText(
            f"A: {label} ({d.a.kind}, {d.a.pieces:,} pieces) · "
            f"B: {name_b} ({d.b.kind}, {d.b.pieces:,} pieces) · "
            f"common {d.common:,} · only in A {d.only_a:,} · only in B {d.only_b:,} · "
            f"Jaccard {d.jaccard:.4f}"
        )

    # ------------------------------------------------------------- lists
    def apply_filter(self) -> None:
        """Show the pieces holding the filter's text (the first :data:`SHOWN_ROWS`)."""
        self._timer.stop()
        needle = self.filter.text().casefold()
        for which, heading, columns in LISTS:
            rows = self.entries.get(which, [])
            if needle:
                rows = [r for r in rows if needle in r["piece"].casefold()]
            self._fill(self.tables[which], rows[:SHOWN_ROWS], columns)
            total = len(self.entries.get(which, []))
            shown = f"{len(rows):,} of {total:,}" if needle else f"{total:,}"
            self.headings[which].setText(f"<b>{heading}</b> ({shown})")

    @staticmethod
    def _fill(table: QTableWidget, rows: list[dict], columns: tuple[str, ...]) -> None:
        table.setRowCount(0)
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, key in enumerate(columns):
                value = row[key]
                if key == "piece":  # visible whitespace, hex for broken UTF-8
                    text = piece_label(bytes.fromhex(row["hex"]))
                elif key == "rank_change":
                    text = f"{value:+,}"
                else:
                    text = f"{value:,}"
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, value)
                table.setItem(r, c, item)

    def shown(self, which: str) -> list[str]:
        """The pieces a list shows, as text (for tests)."""
        table = self.tables[which]
        return [table.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(table.rowCount())]
