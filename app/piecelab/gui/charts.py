"""Live pyqtgraph charts: training curves, run overlays, vocabulary histograms.

Plot items are created once and updated with ``setData``.  Points arrive as
signals from the training thread; :class:`LiveChart` buffers them and redraws
from a single-shot timer, so a chart repaints at most ~10 times a second however
fast the points come.  Every chart exports as PNG (pyqtgraph's ImageExporter)
and CSV (series, x, y).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..engine.events import Metric
from .state import TrainingRun

REDRAW_MS = 100  # at most ~10 redraws a second
CURRENT = "this run"


class LiveChart(QWidget):
    """A titled plot of named series with PNG/CSV export and coalesced redraws."""

    def __init__(
        self,
        title: str,
        x_label: str,
        y_label: str,
        log_x: bool = False,
        log_y: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.title = title
        self.plot = pg.PlotWidget(background="w")
        self.plot.setMinimumSize(220, 160)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", x_label)
        item.setLabel("left", y_label)
        item.showGrid(x=True, y=True, alpha=0.25)
        item.setLogMode(log_x, log_y)
        self.legend = item.addLegend(offset=(-10, 10))
        self.curves: dict[str, pg.PlotDataItem] = {}
        self._xs: dict[str, list[float]] = {}
        self._ys: dict[str, list[float]] = {}
        self._dirty: set[str] = set()
        self.redraws = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self.flush)
        head = QHBoxLayout()
        head.addWidget(QLabel(f"<b>{title}</b>"))
        head.addStretch(1)
        for text, slot in (("PNG…", self._ask_png), ("CSV…", self._ask_csv)):
            button = QToolButton()
            button.setText(text)
            button.setToolTip(f"Export this chart as {text[:3]}")
            button.clicked.connect(slot)
            head.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(head)
        layout.addWidget(self.plot)

    # ------------------------------------------------------------ series
    def curve(
        self, name: str, color: object = "#1f77b4", width: float = 2, **style
    ) -> pg.PlotDataItem:
        """The plot item of ``name``, created on first use (never re-created)."""
        item = self.curves.get(name)
        if item is None:
            item = self.plot.plot([], [], name=name, pen=pg.mkPen(color, width=width), **style)
            self.curves[name] = item
            self._xs[name], self._ys[name] = [], []
        return item

    def append(self, name: str, x: float, y: float) -> None:
        """Add a point; the redraw happens within ``REDRAW_MS``."""
        self.curve(name)
        self._xs[name].append(float(x))
        self._ys[name].append(float(y))
        self._mark(name)

    def set_points(self, name: str, xs: Sequence[float], ys: Sequence[float], **style) -> None:
        self.curve(name, **style)
        self._xs[name] = [float(v) for v in xs]
        self._ys[name] = [float(v) for v in ys]
        self._mark(name)

    def drop(self, name: str) -> None:
        """Remove a series and its legend entry."""
        item = self.curves.pop(name, None)
        if item is not None:
            self.legend.removeItem(item)
            self.plot.removeItem(item)
        self._xs.pop(name, None)
        self._ys.pop(name, None)
        self._dirty.discard(name)

    def clear_points(self, name: str | None = None) -> None:
        for n in [name] if name else list(self.curves):
            if n in self.curves:
                self._xs[n], self._ys[n] = [], []
                self._mark(n)

    def points(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The buffered points of ``name`` (what the next redraw shows)."""
        return np.asarray(self._xs.get(name, [])), np.asarray(self._ys.get(name, []))

    def _mark(self, name: str) -> None:
        self._dirty.add(name)
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Push buffered points to the plot items (the timer calls this)."""
        self._timer.stop()
        if not self._dirty:
            return
        for name in self._dirty:
            self.curves[name].setData(self._xs[name], self._ys[name])
        self._dirty.clear()
        self.redraws += 1

    # ------------------------------------------------------------ export
    def export_png(self, path: str | Path, width: int = 1000) -> Path:
        self.flush()
        exporter = ImageExporter(self.plot.getPlotItem())
        exporter.parameters()["width"] = width
        if not exporter.export(str(path)):
            raise OSError(f"{path}: could not write the image")
        return Path(path)

    def export_csv(self, path: str | Path) -> Path:
        with open(path, "w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(["series", "x", "y"])
            for name in self.curves:
                out.writerows((name, x, y) for x, y in zip(self._xs[name], self._ys[name]))
        return Path(path)

    def _ask(self, kind: str, pattern: str) -> str:
        stem = self.title.lower().replace(" ", "_").replace("/", "_")
        path, _ = QFileDialog.getSaveFileName(self, f"Export {kind}", f"{stem}.{kind}", pattern)
        return path

    def _ask_png(self) -> None:
        if path := self._ask("png", "PNG images (*.png)"):
            self.export_png(path)

    def _ask_csv(self) -> None:
        if path := self._ask("csv", "CSV files (*.csv)"):
            self.export_csv(path)


def run_color(i: int) -> object:
    return pg.intColor(i, hues=9, values=1, maxValue=200)


class TrainCharts(QWidget):
    """The three live training charts; earlier runs are overlaid for comparison."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bytes_per_piece = LiveChart(
            "Segmenting the corpus", "bytes segmented", "bytes per piece (running)"
        )
        self.prune = LiveChart("Pruning", "vocabulary size", "est. corpus bytes per token")
        self.heldout = LiveChart("Held-out", "vocabulary size", "held-out bytes per token")
        split = QSplitter(Qt.Orientation.Horizontal)
        for chart in self.charts():
            split.addWidget(chart)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self._runs: list[str] = []

    def charts(self) -> list[LiveChart]:
        return [self.bytes_per_piece, self.prune, self.heldout]

    def start_run(self) -> None:
        """Clear the current run's curves; earlier runs stay as overlays."""
        self.bytes_per_piece.clear_points()
        for chart in (self.prune, self.heldout):
            chart.curve(CURRENT, "#222222", 3, symbol="o", symbolSize=7, symbolBrush="#222222")
            chart.clear_points(CURRENT)

    def add_metric(self, m: Metric) -> None:
        if m.series == "ngram_bytes_per_piece":
            self.bytes_per_piece.append(CURRENT, m.x, m.y)
        elif m.series == "prune":
            self.prune.append(CURRENT, m.x, m.y)
        elif m.series == "heldout":
            self.heldout.append(CURRENT, m.x, m.y)

    def show_runs(self, runs: Sequence[TrainingRun]) -> None:
        """One overlay curve per finished run (created once per run)."""
        names = [r.name for r in runs]
        for chart in (self.prune, self.heldout):
            for stale in [n for n in chart.curves if n == CURRENT or n not in names]:
                chart.drop(stale)  # the finished run is now one of the runs
        for i, run in enumerate(runs):
            style = dict(color=run_color(i), width=1.5, symbol="t", symbolSize=6)
            style["symbolBrush"] = style["color"]
            held = sorted(run.heldout.items())
            self.heldout.set_points(run.name, [s for s, _ in held], [b for _, b in held], **style)
            prune = sorted(run.prune_points)
            self.prune.set_points(run.name, [x for x, _ in prune], [y for _, y in prune], **style)
        self._runs = names


class RunHistory(QTableWidget):
    """This session's runs and their parameters, so settings can be compared."""

    COLUMNS = (
        ("run", "name"),
        ("order", "order"),
        ("sizes", "sizes"),
        ("min count", "min_count"),
        ("max len", "max_piece_length"),
        ("digits", "isolate_digits"),
        ("unicode", "ensure_unicode"),
        ("held-out %", "heldout_percent"),
        ("re-estimate", "reestimate"),
    )

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.COLUMNS) + 2, parent)
        self.setHorizontalHeaderLabels([c for c, _ in self.COLUMNS] + ["bytes/token", "time"])
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setStretchLastSection(True)

    def show_runs(self, runs: Sequence[TrainingRun]) -> None:
        self.setRowCount(len(runs))
        for row, run in enumerate(runs):
            cells = [run.name] + [_fmt(run.params.get(key)) for _, key in self.COLUMNS[1:]]
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


class VocabCharts(QWidget):
    """Piece-length histogram and the rank–frequency (Zipf) plot of a vocabulary."""

    ZIPF_POINTS = 2000

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lengths = LiveChart("Piece lengths", "bytes", "pieces")
        self.zipf = LiveChart("Rank–frequency", "rank", "count", log_x=True, log_y=True)
        self.lengths.curve(
            "pieces", "#1f77b4", 1, stepMode="center", fillLevel=0, brush=(31, 119, 180, 120)
        )
        self.zipf.curve("pieces", "#2ca02c", 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.lengths)
        layout.addWidget(self.zipf)

    def show_vocab(self, lengths: np.ndarray, counts: np.ndarray) -> None:
        """``lengths``/``counts`` per piece; the Zipf curve keeps ~2000 log-spaced ranks."""
        if len(lengths) == 0:
            self.lengths.set_points("pieces", [0, 1], [0])
            self.zipf.set_points("pieces", [], [])
            return
        hist = np.bincount(lengths)  # hist[n]: pieces of n bytes; stepMode wants n+1 edges
        self.lengths.set_points("pieces", np.arange(len(hist)) + 0.5, hist[1:])
        ranked = np.sort(counts)[::-1]
        ranked = ranked[ranked > 0]
        if len(ranked) == 0:
            self.zipf.set_points("pieces", [], [])
            return
        ranks = np.unique(np.geomspace(1, len(ranked), self.ZIPF_POINTS).astype(np.int64))
        self.zipf.set_points("pieces", ranks, ranked[ranks - 1])
