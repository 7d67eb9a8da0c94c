"""One progress row per training stage: name, bar, throughput and ETA (or time taken)."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QWidget

from ...engine import Progress, StageDone, clock, rate_text

STAGES = ("count n-grams", "segment corpus", "prune pieces", "re-estimate", "evaluate")


class StageBars(QWidget):
    """``bars[stage]`` is (name label, progress bar, info label); unknown stages get a row."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.bars: dict[str, tuple[QLabel, QProgressBar, QLabel]] = {}
        for stage in STAGES:
            self.row(stage)

    def row(self, stage: str) -> tuple[QLabel, QProgressBar, QLabel]:
        if stage in self.bars:
            return self.bars[stage]
        name, bar, info = QLabel(stage), QProgressBar(), QLabel("")
        bar.setTextVisible(True)
        bar.setMinimumWidth(60)
        info.setMinimumWidth(110)
        k = len(self.bars)
        self.grid.addWidget(name, k, 0)
        self.grid.addWidget(bar, k, 1)
        self.grid.addWidget(info, k, 2)
        self.bars[stage] = (name, bar, info)
        return self.bars[stage]

    def reset(self, shown: set[str]) -> None:
        """Empty bars; only the stages in ``shown`` are visible."""
        for stage, widgets in self.bars.items():
            _, bar, info = widgets
            bar.setRange(0, 100)
            bar.setValue(0)
            info.setText("")
            for w in widgets:
                w.setVisible(stage in shown)

    def progress(self, ev: Progress) -> None:
        _, bar, info = self.row(ev.stage)
        if ev.total:
            bar.setRange(0, 100)
            bar.setValue(round(100 * ev.fraction))
        else:
            bar.setRange(0, 0)  # busy
        parts = [rate_text(ev), f"ETA {clock(ev.eta)}" if ev.eta is not None else ""]
        info.setText(" · ".join(x for x in parts if x))

    def done(self, ev: StageDone) -> None:
        _, bar, info = self.row(ev.stage)
        bar.setRange(0, 100)
        bar.setValue(100)
        info.setText(f"{ev.elapsed:.1f} s")
