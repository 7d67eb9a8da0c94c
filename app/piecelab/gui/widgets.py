"""Widgets more than one view uses: live charts, the held-out box, the piece filter bar.

:class:`LiveChart` creates its plot items once and updates them with ``setData``;
points are buffered and redrawn from a single-shot timer, so a chart repaints at
most ~10 times a second however fast points arrive.  Every chart exports as PNG
and CSV (series, x, y).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from pyqtgraph.exporters import ImageExporter
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..engine import SCRIPTS, VocabFilter

REDRAW_MS = 100  # at most ~10 redraws a second
FILTER_PAUSE_MS = 120  # filters apply once typing pauses


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
    """The color of run ``i`` in every chart and table that lists runs."""
    return pg.intColor(i, hues=9, values=1, maxValue=200)


def heldout_spin(tip: str) -> QDoubleSpinBox:
    """The held-out percentage box (the corpus and training forms show one setting)."""
    box = QDoubleSpinBox()
    box.setRange(0.0, 50.0)
    box.setDecimals(1)
    box.setSingleStep(0.5)
    box.setSuffix(" %")
    box.setToolTip(tip)
    return box


class FilterBar(QWidget):
    """Filter widgets over pieces; ``changed(VocabFilter)`` once edits pause.

    ``flags`` adds check boxes for the boolean fields of :class:`VocabFilter` a
    view can honour (e.g. ``{"unreachable_only": ("not reachable", tip)}``).
    :meth:`show_count` displays what the owner's filtering found.
    """

    changed = Signal(object)  # VocabFilter

    def __init__(
        self, flags: dict[str, tuple[str, str]] | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.substring = QLineEdit()
        self.substring.setPlaceholderText("contains…")
        self.substring.setToolTip("Pieces containing this text")
        self.regex = QLineEdit()
        self.regex.setPlaceholderText("regex…")
        self.regex.setToolTip("Pieces matching this Python regular expression (search)")
        self.min_bytes, self.max_bytes = QSpinBox(), QSpinBox()
        for box, tip in ((self.min_bytes, "Shortest"), (self.max_bytes, "Longest")):
            box.setRange(0, 1024)
            box.setSpecialValueText("any")
            box.setToolTip(f"{tip} piece length in bytes")
        self.script = QComboBox()
        self.script.addItem("any script", None)
        for code, name in enumerate(SCRIPTS):
            self.script.addItem(name, code)
        self.script.setToolTip("Pieces whose characters are all of this class")
        self.flags: dict[str, QCheckBox] = {}
        for key, (text, tip) in (flags or {}).items():
            box = QCheckBox(text)
            box.setToolTip(tip)
            self.flags[key] = box
        self.shown = QLabel("")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FILTER_PAUSE_MS)
        self._timer.timeout.connect(self.apply)
        self._lay_out()

    def _lay_out(self) -> None:
        for edit in (self.substring, self.regex):
            edit.textChanged.connect(self._later)
        for box in (self.min_bytes, self.max_bytes):
            box.valueChanged.connect(self._later)
        self.script.currentIndexChanged.connect(self._later)
        for check in self.flags.values():
            check.toggled.connect(self._later)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.substring, 2)
        row.addWidget(self.regex, 2)
        for w in (QLabel("bytes"), self.min_bytes, QLabel("–"), self.max_bytes, self.script):
            row.addWidget(w)
        for w in (*self.flags.values(), self.shown):
            row.addWidget(w)

    def spec(self) -> VocabFilter:
        script = self.script.currentData()
        return VocabFilter(
            substring=self.substring.text(),
            regex=self.regex.text(),
            min_bytes=self.min_bytes.value(),
            max_bytes=self.max_bytes.value(),
            scripts=frozenset() if script is None else frozenset({script}),
            **{key: box.isChecked() for key, box in self.flags.items()},
        )

    def _later(self, *_: object) -> None:
        self._timer.start()

    def apply(self) -> None:
        """Apply the filter now (without waiting for the pause)."""
        self._timer.stop()
        self.changed.emit(self.spec())

    def show_count(self, shown: int, total: int, error: str = "") -> None:
        self.shown.setText(f"regex: {error}" if error else f"{shown:,} of {total:,}")
