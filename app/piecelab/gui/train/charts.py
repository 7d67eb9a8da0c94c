"""The live training charts, with earlier runs of the session overlaid.

Runs are plotted at the sizes their models really have (a run that asked for 16,000
and got 9,003 ids is drawn at 9,003); a run whose held-out set differs from the
latest run's is marked ≠ in the held-out legend, since its figures do not compare.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from ...engine import Metric
from ..state import TrainingRun
from ..widgets import LiveChart, run_color
from .runs import differs_from_latest, run_note

CURRENT = "this run"
EMPTY = {
    "segment": "bytes per piece while the corpus is segmented — starts with a run",
    "prune": "estimated bytes per token at each size as pieces are pruned — after segmenting",
    "heldout": "bytes per token on held-out text, one point per size — at the end of a run "
    "with a held-out share (with curve points, along the pruning)",
}
DIFFERS = " ≠"  # appended to the legend entry of a run that is not comparable


class TrainCharts(QWidget):
    """The three live training charts; earlier runs are overlaid for comparison."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bytes_per_piece = LiveChart(
            "Segmenting the corpus",
            "bytes segmented",
            "bytes per piece (running)",
            integer_x=True,
            empty_text=EMPTY["segment"],
        )
        self.prune = LiveChart(
            "Pruning",
            "vocabulary size",
            "est. corpus bytes per token",
            integer_x=True,
            empty_text=EMPTY["prune"],
        )
        self.heldout = LiveChart(
            "Held-out",
            "vocabulary size",
            "held-out bytes per token",
            integer_x=True,
            empty_text=EMPTY["heldout"],
        )
        top = QSplitter(Qt.Orientation.Horizontal)  # two beside each other, one below:
        top.addWidget(self.bytes_per_piece)  # the view fits a narrow window
        top.addWidget(self.prune)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(self.heldout)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)
        self._held: dict[float, float] = {}  # the current run's held-out points, by size

    def charts(self) -> list[LiveChart]:
        return [self.bytes_per_piece, self.prune, self.heldout]

    def start_run(self, note: str = "") -> None:
        """Clear the current run's curves; earlier runs stay as overlays.  ``note``: the
        run's parameters, for exports."""
        self.bytes_per_piece.clear_points()
        self.bytes_per_piece.curve(CURRENT)
        self._held = {}
        for chart in self.charts():
            if chart is not self.bytes_per_piece:
                chart.curve(CURRENT, "#222222", 3, symbol="o", symbolSize=7, symbolBrush="#222222")
                chart.clear_points(CURRENT)
            chart.describe(CURRENT, f"{CURRENT} · {note}" if note else CURRENT)

    def add_metric(self, m: Metric) -> None:
        if m.series == "ngram_bytes_per_piece":
            self.bytes_per_piece.append(CURRENT, m.x, m.y)
        elif m.series == "prune":
            self.prune.append(CURRENT, m.x, m.y)
        elif m.series in ("heldout", "curve"):  # the curve's points come largest first,
            self._held[m.x] = m.y  # the requested sizes' at the end: drawn by size
            xs = sorted(self._held)
            self.heldout.set_points(CURRENT, xs, [self._held[x] for x in xs])

    def show_runs(self, runs: Sequence[TrainingRun]) -> None:
        """One overlay curve per finished run (created once per run), at real sizes."""
        drawn = [r for r in runs if r.heldout or r.prune_points]  # cancelled early: no line
        names = [r.name for r in drawn]
        for chart in (self.prune, self.heldout):
            for stale in [n for n in chart.curves if n == CURRENT or n not in names]:
                chart.drop(stale)  # the finished run is now one of the runs
        for i, run in enumerate(runs):  # i: the run's colour, as in the runs table
            if run not in drawn:
                continue
            style = dict(color=run_color(i), width=1.5, symbol="t", symbolSize=6)
            style["symbolBrush"] = style["color"]
            held = run.heldout_points()
            self.heldout.set_points(run.name, [s for s, _ in held], [b for _, b in held], **style)
            prune = sorted(run.prune_points)
            self.prune.set_points(run.name, [x for x, _ in prune], [y for _, y in prune], **style)
            note = run_note(run)
            self.prune.describe(run.name, note)
            self.heldout.describe(run.name, note)
            other = differs_from_latest(run, runs)
            label = run.name + (DIFFERS if other else "")
            self.heldout.set_label(run.name, label)
            if other:
                self.heldout.describe(run.name, f"{note} · ≠ held-out set differs from {other}")
