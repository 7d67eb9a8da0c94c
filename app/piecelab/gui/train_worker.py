"""Training on a QThread: iterate the engine's event generator, emit throttled signals.

The thread only drives the generator and turns events into queued signals, so
the GUI thread never waits on the engine.  Progress is throttled here (a new
rounded percentage, or 100 ms since the last one) so a fast stage cannot flood
the event loop; metrics are few (one per 2 MB batch or pruning round) and the
charts coalesce their redraws.  Cancelling sets the engine's cancel flag and
closes the generator, which stops the trainer's pool and leaves nothing written.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import pickle
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sized
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal

from ..engine.corpus import Corpus, CorpusOptions
from ..engine.events import Cancelled, Event, Log, Metric, Progress, StageDone
from ..engine.trainer import Trainer, TrainResult


def _guard_emit_refcount() -> bool:
    """Work around a PySide6 6.12.0 bug: ``SignalInstance.emit()`` returns ``True``
    without taking a reference, so every emit from Python drops one reference to
    ``True``; on Python < 3.12 (where ``True`` is not immortal) the interpreter
    aborts ("bool_dealloc") after a few thousand signals.  If the bug is detected,
    give ``True`` a reference count that cannot run out.  Returns whether it did.
    """
    if sys.version_info >= (3, 12):
        return False

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(8):
        probe.ping.emit()
    if before - sys.getrefcount(True) < 8:
        return False
    ctypes.c_ssize_t.from_address(id(True)).value += 1 << 40
    return True


EMIT_REFCOUNT_GUARD = _guard_emit_refcount()


class JobFailed(Exception):
    """The job failed elsewhere (in the training process); the message says why."""


TRAIN_NICE = 10  # niceness of the training process (Unix)
CANCEL_GRACE = 0.3  # seconds a cancelled training process gets before it is terminated


class Throttle:
    """Say whether a progress event is worth sending (Qt-free, so testable on its own).

    Sends the first event of a stage, any event whose rounded percentage differs
    from the last one sent, the last event of a stage, and otherwise at most one
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


class JobThread(QThread):
    """Run ``make_job(cancel)`` — a generator of engine events — off the GUI thread.

    Signals come in this order: ``started``, any of ``progress``/``metric``/
    ``stageDone``/``log``, then exactly one of ``succeeded``/``cancelled``/
    ``failed``, then ``finished``.
    """

    progress = Signal(object)  # Progress (throttled)
    metric = Signal(object)  # Metric
    stageDone = Signal(object)  # StageDone
    log = Signal(str)
    succeeded = Signal(object)  # whatever result() returns
    cancelled = Signal()
    failed = Signal(str)

    def __init__(
        self,
        make_job: Callable[[threading.Event], Iterable[Event]],
        result: Callable[[], object] = lambda: None,
        cleanup: Callable[[], None] = lambda: None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._make_job = make_job
        self._result = result
        self._cleanup = cleanup
        self.cancel_flag = threading.Event()
        self.throttle = Throttle()
        self.outcome = ""  # "succeeded" | "cancelled" | "failed" once finished

    def cancel(self) -> None:
        """Ask the job to stop; the thread finishes soon after (``finished``)."""
        self.cancel_flag.set()

    def run(self) -> None:
        job: Iterator[Event] | None = None
        result: object = None
        detail = ""
        try:
            job = iter(self._make_job(self.cancel_flag))
            for ev in job:
                if self.cancel_flag.is_set():
                    raise Cancelled("cancelled")
                self._dispatch(ev)
            result = self._result()
            self.outcome = "succeeded"
        except Cancelled:
            self.outcome = "cancelled"
        except Exception as exc:  # reported in the GUI, never raised into Qt
            self.outcome = "cancelled" if self.cancel_flag.is_set() else "failed"
            detail = str(exc) or type(exc).__name__
            if not isinstance(exc, (ValueError, OSError, JobFailed)):
                detail += "\n\n" + traceback.format_exc(limit=4)
        finally:
            self._close(job)
            try:
                self._cleanup()
            except Exception:  # a failing close must not hide the outcome
                traceback.print_exc()
        if self.outcome == "succeeded":
            self.succeeded.emit(result)
        elif self.outcome == "cancelled":
            self.cancelled.emit()
        else:
            self.failed.emit(detail)

    @staticmethod
    def _close(job: Iterator[Event] | None) -> None:
        close = getattr(job, "close", None)
        if close is not None:
            try:
                close()
            except Exception:
                traceback.print_exc()

    def _dispatch(self, ev: Event) -> None:
        if isinstance(ev, Progress):
            if self.throttle(ev):
                self.progress.emit(ev)
        elif isinstance(ev, Metric):
            self.metric.emit(ev)
        elif isinstance(ev, StageDone):
            self.stageDone.emit(ev)
        elif isinstance(ev, Log):
            self.log.emit(ev.message)


class _GuardedTexts:
    """Documents that stop (raise Cancelled) as soon as the flag is set.

    The trainer checks its cancel flag once per 2 MB batch; checking per document
    as well means Cancel waits only for the batch already being counted.
    """

    def __init__(self, texts: Iterable[str], flag: threading.Event) -> None:
        self.texts = texts
        self.flag = flag

    def _guard(self, docs: Iterable[str]) -> Iterator[str]:
        for doc in docs:
            if self.flag.is_set():
                raise Cancelled("training cancelled")
            yield doc

    def __iter__(self) -> Iterator[str]:
        return self._guard(self.texts)


class _GuardedSized(_GuardedTexts):
    def __len__(self) -> int:
        return len(self.texts)  # type: ignore[arg-type]


class _GuardedCorpus(_GuardedTexts):
    """Same for a :class:`~piecelab.engine.corpus.Corpus` (keeps its progress API)."""

    @property
    def size_hint(self) -> int:
        return self.texts.size_hint  # type: ignore[attr-defined]

    @property
    def position(self) -> int:
        return self.texts.position  # type: ignore[attr-defined]

    def documents(self, split: str = "train") -> Iterator[str]:
        return self._guard(self.texts.documents(split))  # type: ignore[attr-defined]


def guard_texts(texts: Iterable[str], flag: threading.Event) -> _GuardedTexts:
    if hasattr(texts, "documents") and hasattr(texts, "size_hint"):
        return _GuardedCorpus(texts, flag)
    if isinstance(texts, Sized):
        return _GuardedSized(texts, flag)
    return _GuardedTexts(texts, flag)


@dataclass
class TrainJob:
    """Everything a training run needs, picklable for the child process."""

    trainer: dict  # Trainer(**trainer)
    texts: Iterable[str] | None  # documents (re-iterable), or None for a corpus
    sources: list[str]  # corpus files and folders when texts is None
    options: CorpusOptions | None
    workers: int = 1
    heldout: float = 0.0
    reestimate: bool = False
    output: Path | None = None


def _run_job(job: TrainJob, cancel: threading.Event) -> Iterator[Event | tuple]:
    """The run itself (in whichever process): engine events, then ``("done", result,
    saved)``.  Models are written only after training succeeded."""
    trainer = Trainer(**job.trainer)
    texts = job.texts if job.texts is not None else Corpus(job.sources, job.options)
    try:
        yield from trainer.run(
            guard_texts(texts, cancel),
            workers=job.workers,
            heldout=job.heldout,
            cancel=cancel,
            reestimate=job.reestimate,
        )
        saved = trainer.save(job.output) if job.output is not None else []
        yield ("done", trainer.result, saved)
    finally:
        close = getattr(texts, "close", None)
        if close is not None:
            close()


def _child_main(job: TrainJob, conn, stop) -> None:
    """Entry point of the training process: events go to the parent through ``conn``."""
    # below the GUI's priority: idle cores are still all used, but the GUI thread is
    # scheduled first when the machine is busy (PIECELAB_TRAIN_NICE overrides)
    with contextlib.suppress(OSError, AttributeError, ValueError):
        os.nice(int(os.environ.get("PIECELAB_TRAIN_NICE", TRAIN_NICE)))

    cancel = threading.Event()

    def watch() -> None:  # polling a shared flag cannot deadlock if either side dies
        while not stop.value:
            time.sleep(0.02)
        cancel.set()

    threading.Thread(target=watch, daemon=True).start()
    try:
        for item in _run_job(job, cancel):
            conn.send(item)
    except Cancelled:
        conn.send(("cancelled",))
    except BaseException as exc:
        if cancel.is_set():
            conn.send(("cancelled",))
        else:
            detail = str(exc) or type(exc).__name__
            if not isinstance(exc, (ValueError, OSError)):
                detail += "\n\n" + traceback.format_exc(limit=4)
            conn.send(("failed", detail))
    finally:
        conn.close()


def _process_events(job: TrainJob, cancel: threading.Event) -> Iterator[Event | tuple]:
    """Run ``job`` in a child process and yield what it sends, as if it ran here.

    The trainer holds the GIL in long C calls (sorting, merging tables), which
    would freeze the GUI thread; a process has a GIL of its own.  Cancel asks the
    child to stop and terminates it if it has not within ``CANCEL_GRACE`` seconds
    (it writes models only after succeeding, and atomically, so nothing is left).
    """
    ctx = multiprocessing.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    stop = ctx.RawValue("b", 0)
    proc = ctx.Process(target=_child_main, args=(job, send, stop), daemon=True)
    try:
        proc.start()
    except (OSError, pickle.PicklingError, TypeError, AttributeError) as exc:
        send.close()
        receive.close()
        yield Log(f"training in the GUI process: no training process ({exc})")
        yield from _run_job(job, cancel)
        return
    send.close()
    asked = 0.0
    grace = CANCEL_GRACE  # how long the child may take to exit once we stop reading
    try:
        while True:
            if cancel.is_set() and not asked:
                stop.value = 1
                asked = time.monotonic()
            if asked and time.monotonic() - asked > CANCEL_GRACE:
                grace = 0.0
                raise Cancelled("training cancelled")
            if not receive.poll(0.02):
                continue
            try:
                item = receive.recv()
            except EOFError:
                if asked:
                    raise Cancelled("training cancelled") from None
                proc.join(1)
                raise JobFailed(
                    f"the training process ended unexpectedly (exit code {proc.exitcode})"
                ) from None
            if isinstance(item, tuple) and item[0] in ("cancelled", "failed", "done"):
                grace = 0.05  # it said all it had to say; its exit is only teardown
                if item[0] == "cancelled":
                    raise Cancelled("training cancelled")
                if item[0] == "failed":
                    raise JobFailed(item[1])
            yield item
            if isinstance(item, tuple) and item[0] == "done":
                return
    finally:
        stop.value = 1
        proc.join(grace)
        if proc.is_alive():
            proc.terminate()  # it writes nothing once cancelled; a big heap takes a
            threading.Thread(target=_reap, args=(proc,), daemon=True).start()  # while to free
        receive.close()


def _reap(proc: multiprocessing.process.BaseProcess) -> None:
    proc.join(5)
    if proc.is_alive():
        proc.kill()
        proc.join()


class TrainWorker(JobThread):
    """A :class:`JobThread` training ``trainer`` on ``texts``; ``succeeded`` carries
    the :class:`TrainResult`.

    With ``in_process`` False (the default) the run happens in a child process (see
    :func:`_process_events`); ``texts`` must then be a Corpus or picklable.  With
    ``output`` the models are written there (BytePiece's naming, ``saved`` lists
    them) before ``succeeded``; a cancelled run writes nothing.
    """

    def __init__(
        self,
        trainer: Trainer,
        texts: Iterable[str],
        workers: int = 1,
        heldout: float = 0.0,
        reestimate: bool = False,
        output: Path | None = None,
        in_process: bool = False,
        parent: QObject | None = None,
    ) -> None:
        self.trainer = trainer
        self.saved: list[Path] = []
        self.result: TrainResult | None = None
        params = dict(
            order=trainer.order,
            max_vocab_size=list(trainer.max_vocab_size),
            max_piece_length=trainer.max_piece_length,
            min_count=trainer.min_count,
            isolate_digits=trainer.isolate_digits,
            ensure_unicode=trainer.ensure_unicode,
        )
        if isinstance(texts, Corpus):
            job = TrainJob(params, None, list(texts.sources), texts.options)
            texts.close()  # the run opens its own
        else:
            job = TrainJob(params, texts, [], None)
        job.workers, job.heldout, job.reestimate, job.output = workers, heldout, reestimate, output
        events = _run_job if in_process else _process_events
        super().__init__(
            lambda cancel: self._events(events(job, cancel)), self._take, parent=parent
        )

    def _events(self, items: Iterator[Event | tuple]) -> Iterator[Event]:
        for item in items:
            if isinstance(item, tuple):  # ("done", result, saved)
                self.result, self.saved = item[1], list(item[2])
                self.trainer.result = self.result
                self.trainer.models = self.result.models if self.result else {}
            else:
                yield item

    def _take(self) -> TrainResult | None:
        return self.result
