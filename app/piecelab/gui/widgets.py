"""Widgets more than one view uses: live charts, the held-out box, the piece filter bar.

:class:`LiveChart` creates its plot items once and updates them with ``setData``;
points are buffered and redrawn from a single-shot timer, so a chart repaints at
most ~10 times a second however fast points arrive.  Every chart exports as a
1200×750 PNG (a legend of what each series is) and CSV (series, x, y, description).
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPoint, QTimer, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSizePolicy,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..engine import SCRIPTS, VocabFilter

REDRAW_MS = 100  # at most ~10 redraws a second
FILTER_PAUSE_MS = 120  # filters apply once typing pauses
EXPORT_SIZE = (1200, 750)  # PNG pixels, whatever the chart's shape on screen
EXPORT_SCALE = 1.5  # drawn at 800×500 and scaled up: text stays readable at that size
INK = "#333333"  # axis text, labels and legends
LEGEND_CHARS = 90  # longest line of an exported legend entry


class IntegerAxis(pg.AxisItem):
    """Ticks at whole numbers written ``32,000`` (sizes, bytes): never ``31999.8``;
    from 100,000 on ``420k`` and ``12M``, so that labels do not run into each other."""

    def tickSpacing(self, minVal: float, maxVal: float, size: float) -> list:
        levels = super().tickSpacing(minVal, maxVal, size)
        return [(s, o) for s, o in levels if s >= 1] or [(1.0, 0.0)]

    def tickStrings(self, values, scale, spacing) -> list[str]:
        values = [round(v * scale) for v in values]
        if max(map(abs, values), default=0) < 100_000:
            return [f"{v:,}" for v in values]
        big = max(map(abs, values)) >= 10_000_000
        return [f"{v / 1e6:g}M" if big else f"{v / 1e3:g}k" for v in values]


def flat_range(values: Sequence[float], integer: bool = False) -> tuple[float, float] | None:
    """A readable range around data without spread (one point, a flat line): ±10% of the
    value (at least ±1 on an integer axis or around 0); None when the data spreads."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0 or v.max() > v.min():
        return None
    centre = float(v[0])
    pad = abs(centre) * 0.1
    if integer or pad == 0:
        pad = max(pad, 1.0)
    return centre - pad, centre + pad


def chart_file_name(title: str, ext: str, day: dt.date | None = None) -> str:
    """``piecelab-held-out-2025-01-31.png``: one pattern for every chart export."""
    slug = re.sub(r"\W+", "-", title.lower()).strip("-") or "chart"
    return f"piecelab-{slug}-{(day or dt.date.today()).isoformat()}.{ext}"


def legend_lines(note: str, width: int = LEGEND_CHARS) -> str:
    """``note`` as legend HTML, broken between its `` · `` parts so no line is wider than
    about ``width`` characters (a long line would widen the export past its size)."""
    lines: list[str] = []
    for part in note.split(" · "):
        if lines and len(lines[-1]) + 3 + len(part) <= width:
            lines[-1] += " · " + part
        else:
            lines.append(part)
    return "<br>".join(html.escape(line) for line in lines)


def _axes(integer_x: bool) -> dict[str, pg.AxisItem]:
    return {"bottom": IntegerAxis("bottom")} if integer_x else {}


def _dress(item: pg.PlotItem, x_label: str, y_label: str) -> None:
    """Labels, grid, and dark text (pyqtgraph's grey is faint on white)."""
    for side, label in (("bottom", x_label), ("left", y_label)):
        axis = item.getAxis(side)
        axis.setTextPen(INK)
        axis.setPen("#777777")
        item.setLabel(side, label, color=INK)
    item.showGrid(x=True, y=True, alpha=0.25)


def debounce(parent: QObject, ms: int, slot: Callable[[], object]) -> QTimer:
    """A single-shot timer calling ``slot`` ``ms`` after its last ``start()``: bursts of
    changes (keystrokes, edits, chart points) become one piece of work."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(ms)
    timer.timeout.connect(slot)
    return timer


class LiveChart(QWidget):
    """A titled plot of named series with PNG/CSV export and coalesced redraws.

    ``integer_x``: whole-number ticks on x (sizes).  ``empty_text`` is shown in the
    middle of the plot until the first points arrive (what the chart will show).
    :meth:`describe` gives a series the words exports use (a run's parameters);
    :meth:`set_label` changes its on-screen legend entry.
    """

    exported = Signal(str)  # the file an export through the buttons wrote
    last_folder = ""  # the folder of the previous export: the next one starts there

    def __init__(
        self,
        title: str,
        x_label: str,
        y_label: str,
        log_x: bool = False,
        log_y: bool = False,
        parent: QWidget | None = None,
        *,
        integer_x: bool = False,
        empty_text: str = "",
    ) -> None:
        super().__init__(parent)
        self.title = title
        self._axis_labels = (x_label, y_label)
        self._log = (log_x, log_y)
        self._integer_x = integer_x
        self.plot = pg.PlotWidget(background="w", axisItems=_axes(integer_x))
        self.plot.setMinimumSize(150, 110)  # small enough for an 800-pixel screen
        item = self.plot.getPlotItem()
        _dress(item, x_label, y_label)
        item.setLogMode(log_x, log_y)
        self.legend = item.addLegend(offset=(-10, 10), labelTextColor=INK)
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.styles: dict[str, dict] = {}  # how each series is drawn (exports redraw it)
        self.notes: dict[str, str] = {}  # what each series is, for exports
        self._xs: dict[str, list[float]] = {}
        self._ys: dict[str, list[float]] = {}
        self._dirty: set[str] = set()
        self._fixed: set[int] = set()  # axes given a range by flat_range (not autorange)
        self.redraws = 0
        self._timer = debounce(self, REDRAW_MS, self.flush)
        self.empty: pg.TextItem | None = None
        if empty_text:
            self.empty = self._empty_item(empty_text)
            self._place_empty()
        self._lay_out(title)

    def _lay_out(self, title: str) -> None:
        head = QHBoxLayout()
        heading = QLabel(f"<b>{title}</b>")
        heading.setToolTip(title)
        heading.setMinimumWidth(40)  # a narrow chart cuts its title, not its plot
        heading.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        head.addWidget(heading, 1)
        head.addStretch(1)
        what = {"png": "a 1200×750 PNG image", "csv": "CSV (series, x, y, description)"}
        for kind, slot in (("png", self._ask_png), ("csv", self._ask_csv)):
            button = QToolButton()
            button.setText(f"{kind.upper()}…")
            button.setToolTip(f"Export this chart as {what[kind]}")
            button.clicked.connect(slot)
            head.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(head)
        layout.addWidget(self.plot)

    def _empty_item(self, text: str) -> pg.TextItem:
        """The centred words of an empty chart (kept centred as the view changes)."""
        empty = pg.TextItem(anchor=(0.5, 0.5), color="#777777")
        empty.setHtml(f"<div style='text-align:center'>{html.escape(text)}</div>")
        empty.setToolTip(text)
        self.plot.getPlotItem().addItem(empty, ignoreBounds=True)
        view = self.plot.getPlotItem().getViewBox()
        view.sigRangeChanged.connect(self._place_empty)
        view.sigResized.connect(self._place_empty)
        return empty

    def _place_empty(self, *_: object) -> None:
        if self.empty is None:
            return
        view = self.plot.getPlotItem().getViewBox()
        (x0, x1), (y0, y1) = view.viewRange()
        self.empty.setPos((x0 + x1) / 2, (y0 + y1) / 2)
        self.empty.setTextWidth(max(120.0, 0.85 * view.width()))

    def empty_message(self) -> str:
        """The empty-state words while they show, else ``""``."""
        shown = self.empty is not None and self.empty.isVisible()
        return self.empty.textItem.toPlainText() if shown else ""

    # ------------------------------------------------------------ series
    def curve(
        self, name: str, color: object = "#1f77b4", width: float = 2, **style
    ) -> pg.PlotDataItem:
        """The plot item of ``name``, created on first use (never re-created)."""
        item = self.curves.get(name)
        if item is None:
            self.styles[name] = dict(pen=pg.mkPen(color, width=width), **style)
            item = self.plot.plot([], [], name=name, **self.styles[name])
            self.curves[name] = item
            self._xs[name], self._ys[name] = [], []
        return item

    def describe(self, name: str, note: str) -> None:
        """What series ``name`` is (e.g. a run and its parameters): exports' legend, CSV."""
        self.notes[name] = note

    def set_label(self, name: str, text: str) -> None:
        """The on-screen legend entry of ``name`` (the series keeps its name)."""
        item = self.curves.get(name)
        label = self.legend.getLabel(item) if item is not None else None
        if label is not None and label.text != text:
            label.setText(text)

    def label(self, name: str) -> str:
        item = self.curves.get(name)
        label = self.legend.getLabel(item) if item is not None else None
        return label.text if label is not None else ""

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
        for table in (self._xs, self._ys, self.styles, self.notes):
            table.pop(name, None)
        self._dirty.discard(name)

    def clear_points(self, name: str | None = None) -> None:
        for n in [name] if name else list(self.curves):
            if n in self.curves:
                self._xs[n], self._ys[n] = [], []
                self._mark(n)

    def points(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """The buffered points of ``name`` (what the next redraw shows)."""
        return np.asarray(self._xs.get(name, [])), np.asarray(self._ys.get(name, []))

    def has_points(self) -> bool:
        return any(self._xs[name] for name in self.curves)

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
            item = self.curves[name]
            item.setData(self._xs[name], self._ys[name])
            symbol = self.styles[name].get("symbol")
            if symbol is None:  # a lone point of a line is drawn as a dot, else it is invisible
                lone = "o" if len(self._xs[name]) == 1 else None
                if item.opts["symbol"] != lone:
                    item.setSymbol(lone)
        self._dirty.clear()
        self.redraws += 1
        self._fit()
        if self.empty is not None:
            self.empty.setVisible(not self.has_points())

    def _fit(self) -> None:
        """One point or a flat line gets a readable range (:func:`flat_range`); data
        that spreads gets autorange back.  Log axes and axes the user zoomed are left."""
        view = self.plot.getPlotItem().getViewBox()
        auto = view.autoRangeEnabled()
        for axis, data in ((0, self._xs), (1, self._ys)):
            if self._log[axis] or (axis not in self._fixed and not auto[axis]):
                continue
            values = [v for name in self.curves for v in data[name]]
            if axis == 1:  # a filled curve's baseline is part of what must show
                values += [s["fillLevel"] for s in self.styles.values() if "fillLevel" in s]
            span = flat_range(values, integer=axis == 0 and self._integer_x)
            if span is not None:
                self._fixed.add(axis)
                (view.setXRange if axis == 0 else view.setYRange)(*span, padding=0)
            elif axis in self._fixed:
                self._fixed.discard(axis)
                view.enableAutoRange(axis=axis)

    # ------------------------------------------------------------ export
    def export_png(
        self, path: str | Path, width: int = EXPORT_SIZE[0], height: int = EXPORT_SIZE[1]
    ) -> Path:
        """The chart as a ``width``×``height`` PNG whatever its shape on screen, with a
        legend of the series' descriptions below the plot."""
        self.flush()
        view = self._export_view(round(width / EXPORT_SCALE), round(height / EXPORT_SCALE))
        image = QImage(width, height, QImage.Format.Format_ARGB32)
        image.fill(QColor("white"))
        image.setDevicePixelRatio(EXPORT_SCALE)
        painter = QPainter(image)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            QWidget.render(view, painter, QPoint(0, 0))
        finally:
            painter.end()
            view.deleteLater()
        image.setDevicePixelRatio(1.0)
        if not image.save(str(path), "PNG"):
            raise OSError(f"{path}: could not write the image")
        return Path(path)

    def _export_view(self, width: int, height: int) -> pg.GraphicsLayoutWidget:
        """An off-screen copy of the chart at the export's size (the shown one stays)."""
        view = pg.GraphicsLayoutWidget()
        view.setBackground("w")
        live_item = self.plot.getPlotItem()
        # axes of the live chart's own kinds (a view may have swapped them, e.g. plain counts)
        axes = {side: type(live_item.getAxis(side))(side) for side in ("bottom", "left")}
        plot = view.addPlot(row=0, col=0, axisItems=axes)
        plot.setTitle(self.title, color=INK, size="12pt")
        _dress(plot, *self._axis_labels)
        plot.setLogMode(*self._log)
        legend = pg.LegendItem(labelTextColor=INK, labelTextSize="9pt")
        view.addItem(legend, row=1, col=0)
        for name in [n for n in self.curves if self._xs[n]]:
            style = dict(self.styles[name], symbol=self.curves[name].opts["symbol"])
            copy = plot.plot(self._xs[name], self._ys[name], **style)
            legend.addItem(copy, legend_lines(self.notes.get(name) or self.label(name) or name))
        live = live_item.getViewBox()
        (x0, x1), (y0, y1) = live.viewRange()
        auto = live.autoRangeEnabled()
        if not auto[0]:  # zoomed by the user, or a flat_range: keep what is shown
            plot.setXRange(x0, x1, padding=0)
        if not auto[1]:
            plot.setYRange(y0, y1, padding=0)
        view.resize(width, height)
        return view

    def export_csv(self, path: str | Path) -> Path:
        """series, x, y and the series' description (a run's parameters), one row a point."""
        with open(path, "w", newline="", encoding="utf-8") as fh:
            out = csv.writer(fh)
            out.writerow(["series", "x", "y", "description"])
            for name in self.curves:
                note = self.notes.get(name, "")
                out.writerows((name, x, y, note) for x, y in zip(self._xs[name], self._ys[name]))
        return Path(path)

    def _ask(self, kind: str, pattern: str) -> str:
        start = str(Path(LiveChart.last_folder) / chart_file_name(self.title, kind))
        title = f"Export “{self.title}” as {kind.upper()}"
        path, _ = QFileDialog.getSaveFileName(self, title, start, pattern)
        if path and not path.lower().endswith(f".{kind}"):
            path += f".{kind}"
        return path

    def _export(self, kind: str, pattern: str) -> None:
        path = self._ask(kind, pattern)
        if not path:
            return
        try:
            written = self.export_png(path) if kind == "png" else self.export_csv(path)
        except OSError as exc:
            why = exc.strerror or str(exc)
            QMessageBox.warning(self, "Export failed", f"Could not write {path}:\n{why}")
            return
        LiveChart.last_folder = str(written.parent)
        self.exported.emit(str(written))

    def _ask_png(self) -> None:
        self._export("png", "PNG images (*.png)")

    def _ask_csv(self) -> None:
        self._export("csv", "CSV files (*.csv)")


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
        self.substring.setToolTip(
            "Pieces containing this text; type · for a space, → for a tab, ↵ for a newline,"
            " as the table shows them (a real · is found too)"
        )
        self.regex = QLineEdit()
        self.regex.setPlaceholderText("regex…")
        self.regex.setToolTip(
            "Pieces matching this Python regular expression (search). As in Python, $ also"
            " matches before a final newline; \\Z matches only at the very end."
        )
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
        self._timer = debounce(self, FILTER_PAUSE_MS, self.apply)
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
        """``1,234 of 80,000``; an empty result says so, a bad regex says why."""
        if error:
            self.shown.setText(f"regex: {error}")
        elif shown == 0 and total:
            self.shown.setText(f"0 of {total:,} — no piece matches")
        else:
            self.shown.setText(f"{shown:,} of {total:,}")

    def focus_search(self) -> None:
        """Put the cursor in the text box, its text selected (Ctrl+F of the owner view)."""
        self.substring.setFocus()
        self.substring.selectAll()
