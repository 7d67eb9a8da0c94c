"""The sampler is exact: top-k probabilities under α beside empirical draw frequencies.

For a short text, ``Tokenizer.top_k`` gives the k most likely segmentations with
their exact probability under α; ``Tokenizer.tokenize_batch([text] * N, alpha,
seed)`` draws N samples.  A grouped bar chart (items created once, updated with
``setOpts``) and a table show both, with the total-variation distance and a
chi-square goodness-of-fit test as the summary figure.  Everything outside the
top k is pooled as "other" and drawn on a small chart of its own: its share is
often most of the probability and would flatten the top-k bars.
"""

from __future__ import annotations

import html
import math
from collections import Counter

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QKeySequence, QPalette
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

from ...engine import Tokenizer, goodness_of_fit
from ..widgets import debounce
from .controls import shortcut_text
from .token_labels import display_label

DEFAULT_TEXT = "今天天气不错"
MAX_BYTES = 256
EXACT_BRUSH, EMPIRICAL_BRUSH = "#4e79a7", "#f28e2b"
DRAW_KEYS = QKeySequence("Ctrl+D")
NO_MODEL = "No model yet: open one to see its sampling distribution."
OTHER_LABEL = "(all other segmentations)"


class SamplingView(QWidget):
    computed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tokenizer: Tokenizer | None = None
        self.unavailable = ""  # why there is no distribution to show (another library's kind)
        self.alpha, self.seed = 0.3, 0
        self.labels: list[str] = []  # segmentations as pieces joined with │ ("other" last)
        self.exact = np.zeros(0)
        self.empirical = np.zeros(0)
        self.observed = np.zeros(0, dtype=np.int64)
        self.tv = self.chi2 = self.p_value = math.nan
        self.df = 0
        self.summary_text = ""
        self.has_other = False  # the last bar/row pools every segmentation outside the top k
        self._build_inputs()
        self.figure = QLabel(NO_MODEL)
        self.figure.setWordWrap(True)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["#", "Segmentation", "Exact P", "Empirical", "Draws"])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.plot = None  # pyqtgraph is imported on first show: it costs ~0.5 s at start-up
        self.other_plot = None  # the pooled "other" bars, on an axis of their own
        self.exact_bars = self.empirical_bars = None
        self.other_exact_bar = self.other_empirical_bar = None
        self.split = QSplitter()
        self.split.addWidget(self.table)
        layout = QVBoxLayout(self)
        layout.addLayout(self._inputs_row())
        layout.addWidget(self.split, 1)
        layout.addWidget(self.figure)
        self._timer = debounce(self, 150, self.compute)
        self._stale = True
        self.text_edit.textChanged.connect(self._changed)
        self.text_edit.returnPressed.connect(self.compute)
        self.k_spin.valueChanged.connect(self._changed)
        self.draws_spin.valueChanged.connect(self._changed)
        self.draw_button.clicked.connect(self.compute)

    def _build_inputs(self) -> None:
        self.text_edit = QLineEdit(DEFAULT_TEXT)
        self.text_edit.setPlaceholderText(f"A short text (at most {MAX_BYTES} bytes)")
        self.text_edit.setToolTip(
            f"The text whose segmentations are counted (at most {MAX_BYTES} bytes); "
            "Return draws again"
        )
        self.selection_button = QPushButton("Use editor selection")
        self.selection_button.setToolTip(
            "Copy the editor's selection here (the whole editor text when nothing is selected)"
        )
        self.k_spin = QSpinBox()
        self.k_spin.setRange(1, 30)
        self.k_spin.setValue(8)
        self.k_spin.setToolTip("How many of the most likely segmentations get their own bar")
        self.draws_spin = QSpinBox()
        self.draws_spin.setRange(100, 200_000)
        self.draws_spin.setSingleStep(1000)
        self.draws_spin.setValue(10_000)
        self.draws_spin.setToolTip("How many samples to draw (with the playground's α and seed)")
        self.draw_button = QPushButton("Draw")
        # works anywhere in the window while this view shows (hidden widgets' actions
        # do not fire); an action so that the shortcut sheet lists it
        self.draw_action = QAction("Draw samples (sampling distribution)", self)
        self.draw_action.setShortcut(DRAW_KEYS)
        self.draw_action.triggered.connect(self.draw_button.click)
        self.addAction(self.draw_action)
        self.draw_button.setToolTip(
            f"Draw the samples again and compare them with the exact probabilities "
            f"({shortcut_text(DRAW_KEYS)})"
        )

    def _inputs_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Text"))
        row.addWidget(self.text_edit, 1)
        row.addWidget(self.selection_button)
        row.addWidget(QLabel("top k"))
        row.addWidget(self.k_spin)
        row.addWidget(QLabel("draws"))
        row.addWidget(self.draws_spin)
        row.addWidget(self.draw_button)
        return row

    # ------------------------------------------------------------- inputs
    def set_tokenizer(self, tok: Tokenizer | None, unavailable: str = "") -> None:
        """Show ``tok``'s distribution; None with ``unavailable``: why there is none."""
        self.tokenizer = tok
        self.unavailable = unavailable
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

    def _new_plot(self, x_label: str, y_label: str):
        """A styled pyqtgraph plot in the palette's colors, with fixed (unzoomable) axes."""
        import pyqtgraph as pg

        pal = self.palette()
        plot = pg.PlotWidget(background=pal.color(QPalette.ColorRole.Base))
        for side in ("left", "bottom"):
            axis = plot.getAxis(side)
            axis.setTextPen(pal.color(QPalette.ColorRole.Text))
            axis.setPen(pal.color(QPalette.ColorRole.Text))
        for side in ("left", "bottom"):
            plot.getAxis(side).enableAutoSIPrefix(False)
        plot.setLabel("left", y_label)
        plot.setLabel("bottom", x_label)
        plot.setMouseEnabled(x=False, y=False)
        plot.hideButtons()
        return plot

    def _ensure_plot(self) -> None:
        if self.plot is not None:
            return
        import pyqtgraph as pg

        text = self.palette().color(QPalette.ColorRole.Text)
        self.plot = self._new_plot("segmentation (rank)", "probability")
        self.plot.setMinimumWidth(280)
        self.plot.addLegend(offset=(-10, 10), labelTextColor=text)
        self.exact_bars = pg.BarGraphItem(
            x=[], height=[], width=0.38, brush=EXACT_BRUSH, name="exact P (top-k)"
        )
        self.empirical_bars = pg.BarGraphItem(
            x=[], height=[], width=0.38, brush=EMPIRICAL_BRUSH, name="empirical frequency"
        )
        self.plot.addItem(self.exact_bars)
        self.plot.addItem(self.empirical_bars)
        self.other_plot = self._new_plot("other", "")
        self.other_plot.setFixedWidth(110)
        self.other_plot.getAxis("bottom").setTicks([[]])
        self.other_plot.setToolTip(
            "Every segmentation outside the top k, pooled, on its own scale "
            "(it would flatten the top-k bars)"
        )
        self.other_exact_bar = pg.BarGraphItem(x=[], height=[], width=0.38, brush=EXACT_BRUSH)
        self.other_empirical_bar = pg.BarGraphItem(
            x=[], height=[], width=0.38, brush=EMPIRICAL_BRUSH
        )
        self.other_plot.addItem(self.other_exact_bar)
        self.other_plot.addItem(self.other_empirical_bar)
        charts = QWidget()
        row = QHBoxLayout(charts)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.plot, 1)
        row.addWidget(self.other_plot)
        self.split.insertWidget(0, charts)
        self.split.setSizes([450, 550])  # the table reads its segmentations in full
        self._update_plot()

    # ------------------------------------------------------------- compute
    def compute(self) -> None:
        """Top-k exact probabilities and N seeded draws of the text; updates chart and table."""
        self._timer.stop()
        tok = self.tokenizer
        if tok is None:
            self._show_message(self.unavailable or NO_MODEL)
            return
        self._stale = False
        text = self.text_edit.text()
        problem = self.text_problem(text)
        if problem:
            self._show_message(problem)
            return
        alpha, n = self.alpha, self.draws_spin.value()
        try:
            top = tok.top_k(text, self.k_spin.value(), alpha)
            draws = tok.tokenize_batch([text] * n, alpha=alpha, seed=self.seed)
        except ValueError as exc:
            self._show_message(str(exc))
            return
        self._tally(top, draws)
        self.tv = 0.5 * float(np.abs(self.exact - self.empirical).sum())
        self.chi2, self.df, self.p_value = goodness_of_fit(
            self.exact * n, self.observed.astype(float)
        )
        self.summary_text = self._summary(len(top), tok.count_segmentations(text))
        self.figure.setText(self.summary_text)
        self._fill_table()
        self._update_plot()
        self.computed.emit()

    @staticmethod
    def text_problem(text: str) -> str:
        """Why ``text`` cannot be shown here (empty when it can)."""
        n_bytes = len(text.encode("utf-8", errors="replace"))
        if not text:
            return (
                "Type a short text above, or select some in the editor and press "
                "“Use editor selection”."
            )
        if n_bytes > MAX_BYTES:
            return (
                f"This text is {n_bytes:,} bytes; the exact distribution needs a short text "
                f"(at most {MAX_BYTES} bytes): shorten it, or select a sentence in the editor "
                "and press “Use editor selection”."
            )
        return ""

    def _tally(self, top: list, draws: list) -> None:
        """Exact P and draw counts of the top k, and of all other segmentations pooled."""
        n = len(draws)
        counts = Counter(map(tuple, draws))
        keys = [tuple(seg.pieces) for seg, _ in top]
        exact = [p for _, p in top]
        observed = [counts.get(k, 0) for k in keys]
        self.labels = [" │ ".join(display_label(p) for p in k) for k in keys]
        other_p = max(0.0, 1.0 - sum(exact))
        other_n = n - sum(observed)
        self.has_other = other_p > 1e-12 or other_n > 0
        if self.has_other:
            exact.append(other_p)
            observed.append(other_n)
            self.labels.append(OTHER_LABEL)
        self.exact = np.array(exact)
        self.observed = np.array(observed, dtype=np.int64)
        self.empirical = self.observed / n

    def _summary(self, n_top: int, n_ways: int) -> str:
        n = int(self.observed.sum())
        verdict = "consistent with" if self.p_value >= 0.001 else "unlikely under"
        text = (
            f"{n:,} draws at α={self.alpha:g}, seed {self.seed}: total variation distance "
            f"{self.tv:.4f}; χ² = {self.chi2:.2f} with {self.df} degrees of freedom, "
            f"p = {self.p_value:.3f} ({verdict} exact sampling). The top {n_top} of "
            f"{n_ways:,} segmentations hold {self.exact[:n_top].sum():.1%} of the probability"
        )
        if self.has_other:
            text += (
                f"; all other segmentations {self.exact[-1]:.1%} (drawn {int(self.observed[-1]):,}"
                f" times, {self.empirical[-1]:.1%})"
            )
        return text + "."

    def _show_message(self, message: str) -> None:
        self.labels, self.exact, self.empirical = [], np.zeros(0), np.zeros(0)
        self.observed = np.zeros(0, dtype=np.int64)
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
            self.table.item(r, 1).setToolTip(self._row_tooltip(r, other))
        self.table.resizeColumnToContents(0)

    def _row_tooltip(self, r: int, other: bool) -> str:
        """The full segmentation (the cell elides it) with its numbers, as rich text."""
        if other:
            what = f"Every segmentation outside the top {len(self.labels) - 1}, pooled"
        else:
            what = f"Segmentation {r + 1}: {self.labels[r]}"
        numbers = (
            f"exact P {self.exact[r]:.5f}, empirical {self.empirical[r]:.5f} "
            f"({int(self.observed[r]):,} draws)"
        )
        return f"<p>{html.escape(what)}</p><p>{html.escape(numbers)}</p>"

    def _update_plot(self) -> None:
        if self.plot is None:
            return
        n_top = len(self.exact) - int(self.has_other)
        exact, empirical = self.exact[:n_top], self.empirical[:n_top]
        x = np.arange(n_top, dtype=float)
        self.exact_bars.setOpts(x=x - 0.2, height=exact)
        self.empirical_bars.setOpts(x=x + 0.2, height=empirical)
        self.plot.getAxis("bottom").setTicks([[(i, str(i + 1)) for i in range(n_top)]])
        top = float(max(exact.max(initial=0), empirical.max(initial=0)))
        self.plot.setXRange(-0.7, max(n_top - 0.3, 0.7), padding=0)
        self.plot.setYRange(0, max(top * 1.1, 0.05), padding=0)
        self._update_other_plot()

    def _update_other_plot(self) -> None:
        self.other_plot.setVisible(self.has_other)
        ex = self.exact[-1:] if self.has_other else np.zeros(0)
        em = self.empirical[-1:] if self.has_other else np.zeros(0)
        self.other_exact_bar.setOpts(x=np.full(len(ex), -0.2), height=ex)
        self.other_empirical_bar.setOpts(x=np.full(len(em), 0.2), height=em)
        top = float(max(ex.max(initial=0), em.max(initial=0)))
        self.other_plot.setXRange(-0.7, 0.7, padding=0)
        self.other_plot.setYRange(0, max(top * 1.1, 0.05), padding=0)
