"""The runs of this session: their corpus, settings and results, and "use model SIZE".

Sizes are the ones the models really have: a run that asked for more pieces than
its corpus holds shows "9,003 (asked 16,000)", flagged.  Each run names its corpus
and the fingerprint of its held-out set; a run whose held-out set differs from the
latest run's is marked ≠, since its bytes per token are measured on other text.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..state import TrainingRun
from ..widgets import run_color

MIN_COLUMN = 48  # px: narrowest a column is squeezed to (cells elide; tooltips hold all)
FLOORS = {"bytes/token": 200, "sizes": 110, "run": 64}  # squeezed last: what runs compare by
SHORT_COLOR = QColor("#b35900")  # sizes not reached, held-out sets that differ
OPTIONS = (("isolate_digits", "digits"), ("ensure_unicode", "unicode"), ("reestimate", "re-est."))


def fitted_widths(want: Sequence[int], floors: Sequence[int], room: int) -> list[int]:
    """Column widths that fit ``room``: the widest columns are cut to a common cap, none
    below its floor (if even the floors do not fit, the table scrolls)."""
    if sum(want) <= room:
        return list(want)
    lo, hi = 0, max(want, default=0)
    while lo < hi:  # the largest cap that fits
        cap = (lo + hi + 1) // 2
        if sum(min(w, max(f, cap)) for w, f in zip(want, floors)) <= room:
            lo = cap
        else:
            hi = cap - 1
    return [min(w, max(f, lo)) for w, f in zip(want, floors)]


def size_text(asked: int, got: int | None) -> str:
    """``9,003 (asked 16,000)`` when a size was not reached, else ``16,000``."""
    if got is None or got >= asked:
        return f"{asked:,}"
    return f"{got:,} (asked {asked:,})"


def ids_text(asked: int, got: int) -> str:
    """``9,003 ids (asked 16,000)`` or ``400 ids``: a model of a run, in messages."""
    return f"{got:,} ids" + (f" (asked {asked:,})" if got < asked else "")


def run_sizes(run: TrainingRun) -> list[tuple[int, str]]:
    """(asked size, what to show) in the order the run asked for them."""
    reached = run.reached()
    return [(asked, size_text(asked, reached.get(asked))) for asked in run.settings.vocab_sizes]


def short_tip(run: TrainingRun) -> str:
    """Why sizes were not reached (empty when all were)."""
    short = run.short()
    if not short:
        return ""
    lines = [f"asked {a:,}, got {g:,} ids" for a, g in sorted(short.items(), reverse=True)]
    why = (
        "The corpus holds too few pieces seen at least "
        f"{run.settings.min_count:,} times: use more text or a lower min count."
    )
    return "\n".join([*lines, why])


def differs_from_latest(run: TrainingRun, runs: Sequence[TrainingRun]) -> str:
    """The name of the latest run when ``run``'s held-out set is another one, else ``""``."""
    latest = next((r for r in reversed(runs) if r.corpus is not None), None)
    if latest is None or latest is run or run.corpus is None:
        return ""
    return latest.name if run.corpus.key != latest.corpus.key else ""


def differs_tip(other: str) -> str:
    return f"held-out set differs from {other}: bytes/token not comparable"


def corpus_text(run: TrainingRun) -> str:
    return run.corpus.describe() if run.corpus is not None else "documents given directly"


def heldout_text(run: TrainingRun) -> str:
    key = f" · {run.corpus.key}" if run.corpus is not None else ""
    return f"{100 * run.heldout_share:g}%{key}"


def run_note(run: TrainingRun) -> str:
    """A run and its parameters in one line (chart exports' legends and CSV)."""
    s = run.settings
    sizes = ", ".join(text for _, text in run_sizes(run))
    parts = [run.name, f"order {s.order}", f"sizes {sizes}", f"min count {s.min_count:,}"]
    parts += [corpus_text(run), f"held out {heldout_text(run)}"]
    return " · ".join(parts)


class RunHistory(QTableWidget):
    """This session's runs, their corpus and parameters, so runs can be compared."""

    HEADERS = (
        "run",
        "corpus",
        "sizes",
        "bytes/token",
        "held-out",
        "order",
        "min count",
        "max len",
        "options",
        "time",
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        self.setHorizontalHeaderLabels(list(self.HEADERS))
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setWordWrap(False)  # one line per run: long cells elide (tooltips hold all)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setStretchLastSection(True)
        self.horizontalHeader().setMinimumSectionSize(MIN_COLUMN // 2)
        tips = {
            "held-out": "Share held out · fingerprint of the held-out set (files with their "
            "sizes and times, reading options, share): equal fingerprints compare",
            "bytes/token": "Held-out bytes per token at each real size (higher: fewer tokens)",
            "sizes": "The sizes the models have (asked sizes the corpus could not give are "
            "flagged)",
        }
        for col, name in enumerate(self.HEADERS):
            self.horizontalHeaderItem(col).setToolTip(tips.get(name, ""))

    def column(self, header: str) -> int:
        return self.HEADERS.index(header)

    def show_runs(self, runs: Sequence[TrainingRun]) -> None:
        self.setRowCount(len(runs))
        for row, run in enumerate(runs):
            for col, (text, tip) in enumerate(self._cells(run, runs)):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{text}\n{tip}" if tip else text)
                self.setItem(row, col, item)
            self.item(row, 0).setForeground(run_color(row))
            if run.short():
                self.item(row, self.column("sizes")).setForeground(SHORT_COLOR)
            if differs_from_latest(run, runs):
                self.item(row, self.column("held-out")).setForeground(SHORT_COLOR)
        self.fit_columns()

    def fit_columns(self) -> None:
        """Every column on screen: contents' widths, the widest cut to fit (elided)."""
        self.resizeColumnsToContents()
        want = [self.columnWidth(c) for c in range(self.columnCount())]
        floors = [min(w, FLOORS.get(h, MIN_COLUMN)) for w, h in zip(want, self.HEADERS)]
        for col, width in enumerate(fitted_widths(want, floors, self.viewport().width())):
            self.setColumnWidth(col, width)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.fit_columns()

    def _cells(self, run: TrainingRun, runs: Sequence[TrainingRun]) -> list[tuple[str, str]]:
        """(text, more) per column: the tooltip is the text, then ``more``."""
        s = run.settings
        other = differs_from_latest(run, runs)
        reached = run.reached()
        asked = sorted(a for a in run.heldout if a in reached or not reached)  # not the curve
        held = " · ".join(f"{reached.get(a, a):,}: {run.heldout[a]:.3f}" for a in asked)
        options = ", ".join(text for key, text in OPTIONS if getattr(s, key))
        corpus_tip = f"held-out set {run.corpus.key}" if run.corpus else ""
        return [
            (run.name + (" ≠" if other else ""), differs_tip(other) if other else ""),
            (corpus_text(run), corpus_tip),
            (", ".join(text for _, text in run_sizes(run)), short_tip(run)),
            (held or "—", ""),
            (heldout_text(run), differs_tip(other) if other else ""),
            (str(s.order), ""),
            (f"{s.min_count:,}", ""),
            (str(s.max_piece_length), ""),
            (options or "—", ""),
            ("cancelled" if run.cancelled else f"{run.elapsed:.1f} s", ""),
        ]


class RunsPanel(QWidget):
    """The run history, with "use model SIZE of this run"."""

    useModel = Signal(int, int)  # run index, vocabulary size *asked* (the models' key)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = RunHistory()
        self.history.itemSelectionChanged.connect(self._selected)
        self.sizes = QComboBox()
        self.sizes.setToolTip("A model of the selected run")
        self.sizes.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
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
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(head)
        layout.addWidget(self.history)

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
            run = self._runs[row]
            reached = run.reached()
            for asked in sorted(run.models, key=lambda a: (reached[a], a), reverse=True):
                self.sizes.addItem(size_text(asked, reached[asked]), asked)
                if reached[asked] < asked:
                    tip = f"asked {asked:,}: the corpus gave only {reached[asked]:,} ids"
                    self.sizes.setItemData(self.sizes.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.use_button.setEnabled(self.sizes.count() > 0)

    def _use(self) -> None:
        row, size = self.selected(), self.sizes.currentData()
        if row >= 0 and size is not None:
            self.useModel.emit(row, int(size))
