"""A dependency-free terminal progress bar with throughput and ETA for engine events."""

from __future__ import annotations

from typing import TextIO

from ..engine import Log, Progress, StageDone, Throttle, clock, human, rate_text


class ProgressBar:
    """One line per stage, redrawn in place when :class:`Throttle` says it changed."""

    WIDTH = 24

    def __init__(self, stream: TextIO, enabled: bool = True) -> None:
        self.stream = stream
        self.enabled = enabled
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.throttle = Throttle()
        self._line = ""

    def show(self, ev: object) -> bool:
        """Progress, a stage's end or a log line on the bar; False for any other event."""
        if isinstance(ev, Progress):
            self.update(ev)
        elif isinstance(ev, StageDone):
            self.finish(ev)
        elif isinstance(ev, Log):
            self.message(ev.message)
        else:
            return False
        return True

    def update(self, ev: Progress) -> None:
        if not self.enabled or not self.throttle(ev):
            return
        filled = int(self.WIDTH * ev.fraction)
        bar = "█" * filled + "·" * (self.WIDTH - filled)
        total = f"/{human(ev.total, ev.unit)}" if ev.total else ""
        self._line = (
            f"{ev.stage:<15} {ev.fraction:4.0%} |{bar}| {human(ev.done, ev.unit)}{total} "
            f"{rate_text(ev)} ETA {clock(ev.eta)}"
        )
        if self.tty:
            self.stream.write("\r" + self._line + "\x1b[K")
            self.stream.flush()

    def finish(self, ev: StageDone) -> None:
        if not self.enabled:
            return
        line = f"{ev.stage:<15} done in {clock(ev.elapsed)}" + (
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
