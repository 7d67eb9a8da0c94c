"""Background work for the GUI: one mechanism for every job, and "latest request wins".

A :class:`Job` runs a function on the thread pool and brings what it reports back
to the GUI thread as signals; the GUI thread never waits on the engine.  The
function gets a :class:`Task`: ``task.report(event)`` sends engine events
(progress is throttled), ``task.cancelled`` says whether Cancel was pressed.
Plain functions (:func:`run_in_thread`), engine generators of events and the
training process all run through it.
"""

from __future__ import annotations

import contextlib
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from ..engine import Cancelled, Event, Log, Metric, Progress, StageDone, Throttle

MIN_POOL_THREADS = 8  # a training run holds a pool thread for its whole length
EXPECTED_ERRORS = (ValueError, OSError)  # reported by their message; others with a traceback


class Latest:
    """Latest request wins: hand out tickets; only the newest is still wanted.

    Slow answers (a model load, a re-measure) may arrive out of order; each
    request takes a ticket and its answer is dropped when a newer one exists.
    """

    def __init__(self) -> None:
        self._newest = 0

    def ticket(self) -> int:
        self._newest += 1
        return self._newest

    def current(self, ticket: int) -> bool:
        return ticket == self._newest

    def drop_all(self) -> None:
        """Make every outstanding ticket stale (e.g. the input they were for is gone)."""
        self._newest += 1


class Task:
    """What the function of a :class:`Job` sees (Qt-free: its tests need no Qt)."""

    def __init__(self, emit: Callable[[Event], None]) -> None:
        self.cancel_flag = threading.Event()
        self.throttle = Throttle()
        self._emit = emit

    @property
    def cancelled(self) -> bool:
        return self.cancel_flag.is_set()

    def check(self) -> None:
        """Raise :class:`Cancelled` if Cancel was asked for."""
        if self.cancel_flag.is_set():
            raise Cancelled("cancelled")

    def report(self, ev: Event) -> None:
        """Send an engine event to the GUI thread (progress only when worth a redraw)."""
        if isinstance(ev, Progress) and not self.throttle(ev):
            return
        self._emit(ev)


def describe_error(exc: BaseException) -> str:
    """The message of a failed job: the message alone for expected errors, else a traceback."""
    detail = str(exc) or type(exc).__name__
    if not isinstance(exc, EXPECTED_ERRORS):
        detail += "\n\n" + "".join(traceback.format_exception(exc, limit=4))
    return detail


def readable_error(message: str) -> str:
    """The message without any traceback :func:`describe_error` appended."""
    return message.split("\n\nTraceback", 1)[0].strip() or "unknown error"


class Job(QObject):
    """``work(task)`` on the thread pool; its events and outcome come back as signals.

    Signals come in this order: any of ``progress``/``metric``/``stageDone``/``log``,
    then one of ``succeeded``/``cancelled``/``failed``, then ``finished``.  A job
    given a ticket of a :class:`Latest` stays silent about its outcome once a newer
    request was made.
    """

    progress = Signal(object)  # Progress (throttled)
    metric = Signal(object)  # Metric
    stageDone = Signal(object)  # StageDone
    log = Signal(object)  # Log
    succeeded = Signal(object)  # what work returned
    cancelled = Signal()
    failed = Signal(str)
    finished = Signal()
    _ended = Signal(str, object)  # from the worker thread: outcome, result or message

    def __init__(
        self,
        work: Callable[[Task], Any],
        parent: QObject | None = None,
        latest: Latest | None = None,
        ticket: int | None = None,
    ) -> None:
        super().__init__(parent)
        self.task = Task(self._event)
        self.outcome = ""  # "succeeded" | "cancelled" | "failed" once finished
        self._work = work
        self._latest = latest
        if ticket is None:
            ticket = latest.ticket() if latest is not None else 0
        self._ticket = ticket  # several jobs of one request share a ticket
        self._done = threading.Event()
        self._delivered = False  # the outcome reached the GUI thread: the work has returned
        self._started = False
        self.auto_delete = False  # deleteLater once the outcome is delivered
        self._ended.connect(self._deliver)  # queued: the Job lives on the GUI thread

    # ------------------------------------------------------------- control
    def start(self) -> Job:
        pool = QThreadPool.globalInstance()
        if pool.maxThreadCount() < MIN_POOL_THREADS:
            pool.setMaxThreadCount(MIN_POOL_THREADS)
        self._started = True
        pool.start(_Runnable(self._run))
        return self

    def cancel(self) -> None:
        """Ask the work to stop; ``finished`` follows soon after."""
        self.task.cancel_flag.set()

    @property
    def running(self) -> bool:
        """Until the work has returned; False in the slots of its outcome and ``finished``
        (they may run before the worker thread has marked itself done)."""
        return self._started and not (self._delivered or self._done.is_set())

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the work has returned (not its signals' delivery); False on timeout."""
        return not self._started or self._delivered or self._done.wait(timeout)

    @property
    def wanted(self) -> bool:
        """False once a newer request of the same :class:`Latest` was made."""
        return self._latest is None or self._latest.current(self._ticket)

    # ------------------------------------------------------------- on the worker thread
    def _run(self) -> None:
        result: object = None
        detail = ""
        try:
            result = self._work(self.task)
            self.outcome = "succeeded"  # a work that returns decides: partial results count
        except Cancelled:
            self.outcome = "cancelled"
        except Exception as exc:  # reported in the GUI, never raised into Qt
            self.outcome = "cancelled" if self.task.cancelled else "failed"
            detail = describe_error(exc)
        # queue the outcome before saying "done": whoever waits may delete the job then,
        # and a thread must not emit from an object already deleted
        self._emit(self._ended, self.outcome, detail if self.outcome == "failed" else result)
        self._done.set()

    def _deliver(self, outcome: str, payload: object) -> None:
        """On the GUI thread: the outcome (unless stale), then ``finished``, in that order."""
        self._delivered = True
        if self.wanted:
            if outcome == "succeeded":
                self.succeeded.emit(payload)
            elif outcome == "cancelled":
                self.cancelled.emit()
            else:
                self.failed.emit(payload)
        self.finished.emit()
        if self.auto_delete:
            self.deleteLater()

    def _event(self, ev: Event) -> None:
        if isinstance(ev, Progress):
            self._emit(self.progress, ev)
        elif isinstance(ev, Metric):
            self._emit(self.metric, ev)
        elif isinstance(ev, StageDone):
            self._emit(self.stageDone, ev)
        elif isinstance(ev, Log):
            self._emit(self.log, ev)

    @staticmethod
    def _emit(signal, *value) -> None:
        # the receiver may have been deleted meanwhile (its window closed)
        with contextlib.suppress(RuntimeError):
            signal.emit(*value)


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[[], None]) -> None:
        super().__init__()
        self.fn = fn

    def run(self) -> None:
        self.fn()


def run_in_thread(
    fn: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_error: Callable[[str], None],
    parent: QObject,
    latest: Latest | None = None,
    ticket: int | None = None,
) -> Job:
    """Call ``fn()`` on the pool; ``on_done(result)`` or ``on_error(message)`` on the GUI thread.

    With ``latest``, neither is called once a newer request of it was made
    (``ticket``: this call answers a request that already took one).
    """
    return _call(fn, on_done, on_error, parent, latest, ticket).start()


def _call(fn, on_done, on_error, parent, latest, ticket) -> Job:
    """A job calling ``fn()``, wired to its callbacks, deleted once finished (not started)."""
    job = Job(lambda task: fn(), parent, latest, ticket)
    job.succeeded.connect(on_done)
    job.failed.connect(on_error)
    job.auto_delete = True
    return job


class Jobs(QObject):
    """The background calls of one view, counted: ``busy`` is how many still run.

    Counting by ``finished`` (always sent) keeps the count right even when a
    newer request made an answer stale and it was dropped.
    """

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.busy = 0

    def run(
        self,
        fn: Callable[[], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[str], None],
        latest: Latest | None = None,
        ticket: int | None = None,
    ) -> Job:
        """:func:`run_in_thread` on behalf of the view."""
        self.busy += 1
        job = _call(fn, on_done, on_error, self, latest, ticket)
        job.finished.connect(self._finished)
        return job.start()

    def _finished(self) -> None:
        self.busy -= 1
