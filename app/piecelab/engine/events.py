"""Events a long job yields: progress, live metrics, logs.  Shared by the CLI and GUI.

Long work is a generator of these; every ``yield`` is a point where the
consumer may report progress, draw a chart or stop (close the generator).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Progress:
    """``done`` of ``total`` units (bytes, items) in ``stage``; ``total`` 0 if unknown."""

    stage: str
    done: float
    total: float
    unit: str
    elapsed: float
    eta: float | None = None
    rate: float | None = None

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0


@dataclass(frozen=True)
class Metric:
    """One point of a live series: ``series`` is the chart, ``x``/``y`` the point."""

    series: str
    x: float
    y: float
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class StageDone:
    stage: str
    elapsed: float
    summary: str = ""


@dataclass(frozen=True)
class Log:
    message: str
    level: str = "info"


Event = Progress | Metric | StageDone | Log


class Cancelled(Exception):
    """Raised inside a job when its cancel flag is set."""


class Rate:
    """Elapsed time, throughput and ETA for a stage (a moving view, not a smoother)."""

    def __init__(self, stage: str, total: float, unit: str, clock) -> None:
        self.stage, self.total, self.unit, self.clock = stage, float(total), unit, clock
        self.start = clock()

    def progress(self, done: float) -> Progress:
        elapsed = self.clock() - self.start
        rate = done / elapsed if elapsed > 0 else None
        eta = (self.total - done) / rate if rate and self.total else None
        return Progress(self.stage, float(done), self.total, self.unit, elapsed, eta, rate)

    def finished(self, summary: str = "") -> StageDone:
        return StageDone(self.stage, self.clock() - self.start, summary)
