"""Events a long job yields: progress, live metrics, logs.  Shared by the CLI and GUI.

Long work is a generator of these; every ``yield`` is a point where the
consumer may report progress, draw a chart or stop (close the generator).
"""

from __future__ import annotations

import time
from collections.abc import Callable
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


class Throttle:
    """Say whether a progress event is worth showing, so a fast stage cannot flood a display.

    Passes the first event of a stage, any event whose rounded percentage differs
    from the last one passed, the last event of a stage, and otherwise at most one
    per ``interval`` seconds (for stages with no known total).
    """

    def __init__(self, interval: float = 0.1, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self._last: dict[str, tuple[int, float]] = {}

    def __call__(self, ev: Progress) -> bool:
        pct = round(ev.fraction * 100) if ev.total else -1
        now = self.clock()
        last = self._last.get(ev.stage)
        finished = bool(ev.total) and ev.done >= ev.total
        if last is None or pct != last[0] or finished or now - last[1] >= self.interval:
            self._last[ev.stage] = (pct, now)
            return True
        return False


def human(x: float, unit: str) -> str:
    """``12.3 MB`` for bytes, ``1,234 documents`` for other units."""
    if unit == "bytes":
        for u in ("B", "kB", "MB", "GB", "TB"):
            if abs(x) < 1000 or u == "TB":
                return f"{x:.1f} {u}" if u != "B" else f"{int(x)} B"
            x /= 1000
    return f"{x:,.0f} {unit}"


def rate_text(ev: Progress) -> str:
    """The throughput of a progress event (``""`` while unknown)."""
    return f"{human(ev.rate, ev.unit)}/s" if ev.rate else ""


def clock(seconds: float | None) -> str:
    """``mm:ss`` or ``h:mm:ss``; ``--:--`` while unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "--:--"
    m, s = divmod(int(seconds + 0.5), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"
