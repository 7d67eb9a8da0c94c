"""Run engine work off the GUI thread and bring results back as signals."""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(str)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], signals: _Signals) -> None:
        super().__init__()
        self.fn = fn
        self.signals = signals

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # reported in the GUI, never raised into Qt
            detail = str(exc) or type(exc).__name__
            if not isinstance(exc, (ValueError, OSError)):
                detail += "\n\n" + traceback.format_exc(limit=3)
            self._emit(self.signals.failed, detail)
        else:
            self._emit(self.signals.done, result)

    @staticmethod
    def _emit(signal, value) -> None:
        # the receiver may have been deleted meanwhile (the window closed)
        with contextlib.suppress(RuntimeError):
            signal.emit(value)


def run_in_thread(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[str], None],
    parent: QObject,
) -> _Signals:
    """Call ``fn`` on the global thread pool; the callbacks run on the GUI thread."""
    signals = _Signals(parent)
    signals.done.connect(on_done)
    signals.failed.connect(on_error)
    QThreadPool.globalInstance().start(_Task(fn, signals))
    return signals
