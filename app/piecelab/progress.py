"""A dependency-free terminal progress bar with throughput and ETA for engine events."""

from __future__ import annotations

import time
from typing import TextIO

from .engine.events import Progress, StageDone


def _human(x: float, unit: str) -> str:
    if unit == "bytes":
        for u in ("B", "kB", "MB", "GB", "TB"):
            if abs(x) < 1000 or u == "TB":
                return f"{x:.1f} {u}" if u != "B" else f"{int(x)} B"
            x /= 1000
    return f"{x:,.0f} {unit}"


def _clock(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "--:--"
    m, s = divmod(int(seconds + 0.5), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class ProgressBar:
    """One line per stage, redrawn in place at most ten times a second."""

    WIDTH = 24

    def __init__(self, stream: TextIO, enabled: bool = True) -> None:
        self.stream = stream
        self.enabled = enabled
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self._last = 0.0
        self._line = ""

    def update(self, ev: Progress) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and ev.fraction < 1.0:
            return
        self._last = now
        filled = int(self.WIDTH * ev.fraction)
        bar = "█" * filled + "·" * (self.WIDTH - filled)
        total = f"/{_human(ev.total, ev.unit)}" if ev.total else ""
        rate = f"{_human(ev.rate, ev.unit)}/s" if ev.rate else ""
        self._line = (
            f"{ev.stage:<15} {ev.fraction:4.0%} |{bar}| {_human(ev.done, ev.unit)}{total} "
            f"{rate} ETA {_clock(ev.eta)}"
        )
        if self.tty:
            self.stream.write("\r" + self._line + "\x1b[K")
            self.stream.flush()

    def finish(self, ev: StageDone) -> None:
        if not self.enabled:
            return
        line = f"{ev.stage:<15} done in {_clock(ev.elapsed)}" + (
            f"  {ev.summary}" if ev.summary else ""
        )
        self.stream.write(("\r" if self.tty else "") + line + ("\x1b[K" if self.tty else "") + "\n")
        self.stream.flush()
        self._line = ""

    def message(self, text: str) -> None:
        if not self.enabled:
            return
        prefix = "\r\x1b[K" if self.tty and self._line else ""
        self.stream.write(prefix + text + "\n")
        if self.tty and self._line:
            self.stream.write(self._line)
        self.stream.flush()
