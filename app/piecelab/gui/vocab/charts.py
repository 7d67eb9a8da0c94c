"""Piece-length histogram (of the rows shown) and rank–frequency plot of a vocabulary."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ...engine import compact_count
from ..widgets import LiveChart


class CountAxis(pg.AxisItem):
    """A log axis that reads as plain counts: 1, 10, 100, 1k, 1M, 1G.

    pyqtgraph's default scales a log axis by an SI prefix ("count (x1e+09)") and
    labels ticks 0.1 … 10⁻⁹; counts read better as they are.
    """

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)

    def logTickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [compact_count(10.0 ** float(v) * scale) for v in values]


def plain_count_axes(item: pg.PlotItem) -> None:
    """Give a log–log plot :class:`CountAxis` axes, keeping the look and labels it had."""
    old = {side: item.getAxis(side) for side in ("left", "bottom")}
    item.setAxisItems({side: CountAxis(side) for side in old})
    for side, axis in old.items():
        new = item.getAxis(side)
        new.setPen(axis.pen())
        new.setTextPen(axis.textPen())
        new.setGrid(axis.grid)
        new.setLogMode(True)  # the plot's own log switch is on already: it would not tell
        item.setLabel(side, axis.labelText, axis.labelUnits, **axis.labelStyle)


class VocabCharts(QWidget):
    """Piece-length histogram and the rank–frequency (Zipf) plot of a vocabulary."""

    ZIPF_POINTS = 2000

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lengths = LiveChart("Lengths of the pieces shown", "bytes", "pieces")
        self.zipf = LiveChart("Rank–frequency", "rank", "count", log_x=True, log_y=True)
        plain_count_axes(self.zipf.plot.getPlotItem())
        self.lengths.curve(
            "pieces", "#1f77b4", 1, stepMode="center", fillLevel=0, brush=(31, 119, 180, 120)
        )
        self.zipf.curve("pieces", "#2ca02c", 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.lengths)
        layout.addWidget(self.zipf)

    def show_lengths(self, lengths: np.ndarray) -> None:
        """The histogram of piece lengths (in bytes) of the pieces given (the rows shown)."""
        if len(lengths) == 0:
            self.lengths.set_points("pieces", [0.5, 1.5], [0])
            return
        hist = np.bincount(lengths)  # hist[n]: pieces of n bytes; stepMode wants n+1 edges
        self.lengths.set_points("pieces", np.arange(len(hist)) + 0.5, hist[1:])

    def show_zipf(self, counts: np.ndarray) -> None:
        """Count by rank over the whole vocabulary; ~2000 log-spaced ranks are kept."""
        ranked = np.sort(counts)[::-1]
        ranked = ranked[ranked > 0]
        if len(ranked) == 0:
            self.zipf.set_points("pieces", [], [])
            return
        ranks = np.unique(np.geomspace(1, len(ranked), self.ZIPF_POINTS).astype(np.int64))
        self.zipf.set_points("pieces", ranks, ranked[ranks - 1])
