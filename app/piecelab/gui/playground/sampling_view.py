"""The sampler is exact: top-k probabilities under α beside empirical draw frequencies.

For a short text, ``Tokenizer.top_k`` gives the k most likely segmentations with
their exact probability under α; ``Tokenizer.tokenize_batch([text] * N, alpha,
seed)`` draws N samples.  A grouped bar chart (items created once, updated with
``setOpts``) and a table show both, with the total-variation distance and a
chi-square goodness-of-fit test as the summary figure.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...engine import Tokenizer, goodness_of_fit, piece_label

DEFAULT_TEXT = "今天天气不错"
MAX_BYTES = 256
EXACT_BRUSH, EMPIRICAL_BRUSH = "#4e79a7", "#f28e2b"


class SamplingView(QWidget):
    computed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tokenizer: Tokenizer | None = None
        self.alpha, self.seed = 0.3, 0
        self.labels: list[str] = []  # segmentations as pieces joined with │ ("other" last)
        self.exact = np.zeros(0)
        self.empirical = np.zeros(0)
        self.observed = np.zeros(0, dtype=np.int64)
        self.tv = self.chi2 = self.p_value = math.nan
        self.df = 0
        self.summary_text = ""
        self.has_other = False  # the last bar/row pools every segmentation outside the top k
        self.text_edit = QLineEdit(DEFAULT_TEXT)
        self.selection_button = QPushButton("Use editor selection")
        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, 30)
        self.k_spin.setValue(8)
        self.draws_spin = QSpinBox()
        self.draws_spin.setRange(100, 200_000)
        self.draws_spin.setSingleStep(1000)
        self.draws_spin.setValue(10_000)
        self.draw_button = QPushButton("Draw")
        self.figure = QLabel("")
        self.figure.setWordWrap(True)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["#", "Segmentation", "Exact P", "Empirical", "Draws"])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.plot = None  # pyqtgraph is imported on first show: it costs ~0.5 s at start-up
        self.exact_bars = self.empirical_bars = None
        controls = QHBoxLayout()
        controls.addWidget(QLabel("Text"))
        controls.addWidget(self.text_edit, 1)
        controls.addWidget(self.selection_button)
        controls.addWidget(QLabel("top k"))
        controls.addWidget(self.k_spin)
        controls.addWidget(QLabel("draws"))
        controls.addWidget(self.draws_spin)
        controls.addWidget(self.draw_button)
        self.split = QSplitter()
        self.split.addWidget(self.table)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.split, 1)
        layout.addWidget(self.figure)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(150)
        self._timer.timeout.connect(self.compute)
        self._stale = True
        self.text_edit.textChanged.connect(self._changed)
        self.k_spin.valueChanged.connect(self._changed)
        self.draws_spin.valueChanged.connect(self._changed)
        self.draw_button.clicked.connect(self.compute)

    # ------------------------------------------------------------- inputs
    def set_tokenizer(self, tok: Tokenizer) -> None:
        self.tokenizer = tok
        self._changed()

    def set_sampling(self, alpha: float, seed: int) -> None:
        if (alpha, seed) != (self.alpha, self.seed):
            self.alpha, self.seed = alpha, seed
            self._changed()

    def _changed(self) -> None:
        self._stale = True
        if self.isVisible():
            self._timer.start()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._ensure_plot()
        if self._stale:
            self._timer.start()

    def _ensure_plot(self) -> None:
        if self.plot is not None:
            return
        import pyqtgraph as pg

        pal = self.palette()
        self.plot = pg.PlotWidget(background=pal.color(QPalette.ColorRole.Base))
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.setTextPen(pal.color(QPalette.ColorRole.Text))
            axis.setPen(pal.color(QPalette.ColorRole.Text))
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.setMinimumWidth(280)
        self.plot.setLabel("left", "probability")
        self.plot.setLabel("bottom", "segmentation (rank)")
        self.plot.addLegend(offset=(-10, 10), labelTextColor=pal.color(QPalette.ColorRole.Text))
        self.plot.setMouseEnabled(x=False, y=False)
        self.exact_bars = pg.BarGraphItem(
            x=[], height=[], width=0.38, brush=EXACT_BRUSH, name="exact P (top-k)"
        )
        self.empirical_bars = pg.BarGraphItem(
            x=[], height=[], width=0.38, brush=EMPIRICAL_BRUSH, name="empirical frequency"
        )
        self.plot.addItem(self.exact_bars)
        self.plot.addItem(self.empirical_bars)
        self.split.insertWidget(0, self.plot)
        self.split.setSizes([500, 400])
        if len(self.exact):
            self._update_plot()

    # ------------------------------------------------------------- compute
    def compute(self) -> None:
        """Top-k exact probabilities and N seeded draws of the text; updates chart and table."""
        self._timer.stop()
        tok = self.tokenizer
        if tok is None:
            return
        self._stale = False
        text = self.text_edit.text()
        n_bytes = len(text.encode("utf-8", errors="replace"))
        if not text or n_bytes > MAX_BYTES:
            self._show_message(f"Type a short text (1 to {MAX_BYTES} bytes; this is {n_bytes}).")
            return
        alpha, n = self.alpha, self.draws_spin.value()
        try:
            top = tok.top_k(text, self.k_spin.value(), alpha)
            draws = tok.tokenize_batch([text] * n, alpha=alpha, seed=self.seed)
        except ValueError as exc:
            self._show_message(str(exc))
            return
        counts = Counter(map(tuple, draws))
        keys = [tuple(seg.pieces) for seg, _ in top]
        exact = [p for _, p in top]
        observed = [counts.get(k, 0) for k in keys]
        self.labels = [" │ ".join(piece_label(p) for p in k) for k in keys]
        other_p = max(0.0, 1.0 - sum(exact))
        other_n = n - sum(observed)
        self.has_other = other_p > 1e-12 or other_n > 0
        if self.has_other:
            exact.append(other_p)
            observed.append(other_n)
            self.labels.append("(all other segmentations)")
        self.exact = np.array(exact)
        self.observed = np.array(observed, dtype=np.int64)
        self.empirical = self.observed / n
        tv = 0.5 * float(np.abs(self.exact - self.empirical).sum())
        stat, df, pval = goodness_of_fit(self.exact * n, self.observed.astype(float))
        n_ways = tok.count_segmentations(text)
        self.summary_text = (
            f"{n:,} draws at α={alpha:g}, seed {self.seed}: total variation distance "
            f"{tv:.4f}; χ² = {stat:.2f} with {df} degrees of freedom, p = {pval:.3f}"
            f" ({'consistent with' if pval >= 0.001 else 'unlikely under'} exact sampling). "
            f"The top {len(top)} of {n_ways:,} segmentations hold {sum(exact[: len(top)]):.1%}"
            " of the probability."
        )
        self.tv, self.chi2, self.df, self.p_value = tv, stat, df, pval
        self.figure.setText(self.summary_text)
        self._fill_table()
        self._update_plot()
        self.computed.emit()

    def _show_message(self, message: str) -> None:
        self.labels, self.exact, self.empirical = [], np.zeros(0), np.zeros(0)
        self.has_other = False
        self.figure.setText(message)
        self.table.setRowCount(0)
        self._update_plot()

    def _fill_table(self) -> None:
        self.table.setRowCount(len(self.labels))
        for r, label in enumerate(self.labels):
            other = self.has_other and r == len(self.labels) - 1
            cells = [
                "" if other else str(r + 1),
                label,
                f"{self.exact[r]:.5f}",
                f"{self.empirical[r]:.5f}",
                f"{int(self.observed[r]):,}",
            ]
            for c, value in enumerate(cells):
                self.table.setItem(r, c, QTableWidgetItem(value))
        self.table.resizeColumnToContents(0)

    def _update_plot(self) -> None:
        if self.plot is None:
            return
        x = np.arange(len(self.exact), dtype=float)
        self.exact_bars.setOpts(x=x - 0.2, height=self.exact)
        self.empirical_bars.setOpts(x=x + 0.2, height=self.empirical)
        ticks = [(i, str(i + 1)) for i in range(len(x))]
        if self.has_other:
            ticks[-1] = (len(x) - 1, "other")
        self.plot.getAxis("bottom").setTicks([ticks])
        top = float(max(self.exact.max(initial=0), self.empirical.max(initial=0)))
        self.plot.setXRange(-0.7, max(len(x) - 0.3, 0.7), padding=0)
        self.plot.setYRange(0, max(top * 1.1, 0.05), padding=0)
