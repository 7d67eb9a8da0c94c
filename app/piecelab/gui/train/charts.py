"""The live training charts, with earlier runs of the session overlaid."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from ...engine import Metric
from ..state import TrainingRun
from ..widgets import LiveChart, run_color

CURRENT = "this run"


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
