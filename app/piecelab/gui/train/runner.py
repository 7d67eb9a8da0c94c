"""Training off the GUI thread: in a child process, its events relayed as if local.

The trainer holds the GIL in long C calls (sorting, merging tables), which would
freeze the GUI thread, so a run happens in a child process (a GIL of its own)
whose events come back through a pipe; :func:`training_work` turns that into
the work of a :class:`~piecelab.gui.worker.Job`.  Cancelling asks the child to
stop and terminates it if it does not; it writes models only after succeeding,
and atomically, so a cancelled run leaves nothing.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import pickle
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sized
from dataclasses import dataclass
from pathlib import Path

from ...engine import Cancelled, Corpus, CorpusOptions, Event, Log, TrainResult, TrainSettings
from ..worker import Task, describe_error


class JobFailed(Exception):
    """The job failed elsewhere (in the training process); the message says why."""


TRAIN_NICE = 10  # niceness of the training process (Unix)
CANCEL_GRACE = 0.3  # seconds a cancelled training process gets before it is terminated
# a run on Ray stops its cluster tasks (and a Ray it started) before it exits
CLUSTER_CANCEL_GRACE = 15.0


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

    settings: TrainSettings
    texts: Iterable[str] | None  # documents (re-iterable), or None for a corpus
    sources: list[str]  # corpus files and folders when texts is None
    options: CorpusOptions | None
    heldout: float = 0.0
    output: Path | None = None

    @classmethod
    def of(
        cls,
        settings: TrainSettings,
        texts: Iterable[str],
        heldout: float,
        output: Path | None = None,
    ) -> TrainJob:
        """A job on ``texts``: a Corpus travels as its sources (the run opens its own)."""
        if isinstance(texts, Corpus):
            texts.close()
            return cls(settings, None, list(texts.sources), texts.options, heldout, output)
        return cls(settings, texts, [], None, heldout, output)


def _run_job(job: TrainJob, cancel: threading.Event) -> Iterator[Event | tuple]:
    """The run itself (in whichever process): engine events, then ``("done", result,
    saved)``.  Models are written only after training succeeded."""
    trainer = job.settings.trainer()
    texts = job.texts if job.texts is not None else Corpus(job.sources, job.options)
    try:
        yield from trainer.run(
            guard_texts(texts, cancel),
            workers=job.settings.workers,
            heldout=job.heldout,
            cancel=cancel,
            reestimate=job.settings.reestimate,
            executor=job.settings.executor(),
        )
        if isinstance(texts, Corpus):
            for line in texts.problem_summary():
                yield Log(f"corpus: {line}", "warning")
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
            conn.send(("failed", describe_error(exc)))
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
    allowed = CLUSTER_CANCEL_GRACE if job.settings.cluster.strip() else CANCEL_GRACE
    grace = allowed  # how long the child may take to exit once we stop reading
    try:
        while True:
            if cancel.is_set() and not asked:
                stop.value = 1
                asked = time.monotonic()
            if asked and time.monotonic() - asked > allowed:
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


@dataclass
class TrainOutcome:
    """What a successful run left: the models (and held-out figures), and the files written."""

    result: TrainResult
    saved: list[Path]


def training_work(job: TrainJob, in_process: bool = False) -> Callable[[Task], TrainOutcome]:
    """The work of a :class:`~piecelab.gui.worker.Job` that trains ``job``.

    ``in_process``: on the job's thread instead of a child process (a frozen
    bundle, or texts that cannot be pickled).
    """

    def work(task: Task) -> TrainOutcome:
        events = _run_job if in_process else _process_events
        items = events(job, task.cancel_flag)
        try:
            for item in items:
                task.check()
                if isinstance(item, tuple):  # ("done", result, saved)
                    return TrainOutcome(item[1], list(item[2]))
                task.report(item)
        finally:
            items.close()
        raise JobFailed("the training run ended without a result")

    return work
