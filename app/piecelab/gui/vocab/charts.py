"""Piece-length histogram and rank–frequency plot of a vocabulary."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QVBoxLayout, QWidget

from ..widgets import LiveChart


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
