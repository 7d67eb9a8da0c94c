"""The runs of this session: their settings and results, and "use model SIZE of this run"."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..state import TrainingRun
from ..widgets import run_color


class RunHistory(QTableWidget):
    """This session's runs and their parameters, so settings can be compared."""

    COLUMNS = (
        ("order", "order"),
        ("sizes", "vocab_sizes"),
        ("min count", "min_count"),
        ("max len", "max_piece_length"),
        ("digits", "isolate_digits"),
        ("unicode", "ensure_unicode"),
        ("re-estimate", "reestimate"),
    )
    HEADERS = ("run", *(c for c, _ in COLUMNS), "held-out %", "bytes/token", "time")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        self.setHorizontalHeaderLabels(list(self.HEADERS))
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setStretchLastSection(True)

    def show_runs(self, runs: Sequence[TrainingRun]) -> None:
        self.setRowCount(len(runs))
        for row, run in enumerate(runs):
            cells = [run.name] + [_fmt(getattr(run.settings, key)) for _, key in self.COLUMNS]
            cells.append(f"{100 * run.heldout_share:g}")
            held = ", ".join(f"{s:,}: {b:.3f}" for s, b in sorted(run.heldout.items()))
            status = "cancelled" if run.cancelled else f"{run.elapsed:.1f} s"
            for col, text in enumerate([*cells, held or "—", status]):
                item = QTableWidgetItem(text)
                if col == 0:
                    item.setForeground(run_color(row))
                self.setItem(row, col, item)
        self.resizeColumnsToContents()


class RunsPanel(QWidget):
    """The run history beside ``side`` (the log), with "use model SIZE of this run"."""

    useModel = Signal(int, int)  # run index, vocabulary size

    def __init__(self, side: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = RunHistory()
        self.history.itemSelectionChanged.connect(self._selected)
        self.sizes = QComboBox()
        self.sizes.setToolTip("A model of the selected run")
        self.use_button = QToolButton()
        self.use_button.setText("Use model")
        self.use_button.setToolTip("Open the chosen model of the selected run in the playground")
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self._use)
        self._runs: Sequence[TrainingRun] = ()
        head = QHBoxLayout()
        head.addWidget(QLabel("<b>Runs of this session</b>"))
        head.addStretch(1)
        head.addWidget(self.sizes)
        head.addWidget(self.use_button)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.history)
        split.addWidget(side)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(split)

    def show_runs(self, runs: Sequence[TrainingRun]) -> None:
        self._runs = runs
        self.history.show_runs(runs)
        if runs:
            self.history.selectRow(len(runs) - 1)

    def selected(self) -> int:
        rows = {i.row() for i in self.history.selectedIndexes()}
        return rows.pop() if len(rows) == 1 else -1

    def _selected(self) -> None:
        self.sizes.clear()
        row = self.selected()
        if row >= 0:
            for size in sorted(self._runs[row].models, reverse=True):
                self.sizes.addItem(f"{size:,}", size)
        self.use_button.setEnabled(self.sizes.count() > 0)

    def _use(self) -> None:
        row, size = self.selected(), self.sizes.currentData()
        if row >= 0 and size is not None:
            self.useModel.emit(row, int(size))


def _fmt(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ",".join(f"{v}" for v in value)
    return "" if value is None else str(value)
