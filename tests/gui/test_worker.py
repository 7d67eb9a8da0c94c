"""The one background mechanism of the GUI (:mod:`piecelab.gui.worker`): the order of
its signals, cancellation, stale answers, and a slow worker thread."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QObject

from piecelab.engine import Cancelled, Log
from piecelab.gui.worker import Job, Latest

WAIT_MS = 10_000


class SlowDone(threading.Event):
    """A worker thread preempted between queueing its outcome and marking itself done."""

    def set(self) -> None:
        time.sleep(0.3)
        super().set()


def record(job: Job) -> list[tuple]:
    seen: list[tuple] = []
    job.log.connect(lambda ev: seen.append(("log", ev.message)))
    job.succeeded.connect(lambda r: seen.append(("succeeded", r, job.running)))
    job.cancelled.connect(lambda: seen.append(("cancelled", job.running)))
    job.failed.connect(lambda m: seen.append(("failed", m, job.running)))
    job.finished.connect(lambda: seen.append(("finished", job.running)))
    return seen


def run_to_end(qtbot, job: Job) -> list[tuple]:
    """Start ``job`` and return the signals it sent, once its thread has returned too."""
    seen = record(job)
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS):
        job.start()
    assert job.wait(WAIT_MS / 1000)
    return seen


def test_the_outcome_says_not_running_even_before_the_thread_marks_itself_done(qtbot):
    owner = QObject()

    def work(task):
        task.report(Log("working"))
        return 42

    job = Job(work, owner)
    job._done = SlowDone()  # the race a loaded machine made (a run that never "ended")
    seen = record(job)
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS):
        job.start()
    assert seen == [("log", "working"), ("succeeded", 42, False), ("finished", False)]
    assert job.wait(0) and job.outcome == "succeeded"
    job._done.wait(WAIT_MS / 1000)


def test_cancel_and_failure_arrive_as_their_signals(qtbot):
    owner = QObject()
    go = threading.Event()

    def until_cancelled(task):
        go.wait(WAIT_MS / 1000)
        task.check()
        return "not cancelled"

    job = Job(until_cancelled, owner)
    seen = record(job)
    job.start()
    assert job.running
    with qtbot.waitSignal(job.finished, timeout=WAIT_MS):
        job.cancel()
        go.set()
    assert seen == [("cancelled", False), ("finished", False)] and job.outcome == "cancelled"
    assert job.wait(WAIT_MS / 1000)

    def broken(task):
        raise ValueError("no such corpus")

    seen = run_to_end(qtbot, Job(broken, owner))
    assert seen == [("failed", "no such corpus", False), ("finished", False)]


def test_an_answer_to_an_older_request_is_dropped_but_finished_still_comes(qtbot):
    owner = QObject()
    latest = Latest()
    release = threading.Event()

    def slow(task):
        release.wait(WAIT_MS / 1000)
        return "old"

    old = Job(slow, owner, latest)
    new = Job(lambda task: "new", owner, latest)
    old_seen, new_seen = record(old), record(new)
    with qtbot.waitSignal(new.finished, timeout=WAIT_MS):
        old.start()
        new.start()
    with qtbot.waitSignal(old.finished, timeout=WAIT_MS):
        release.set()
    assert new_seen == [("succeeded", "new", False), ("finished", False)]
    assert old_seen == [("finished", False)] and not old.wanted
    assert old.wait(WAIT_MS / 1000) and new.wait(WAIT_MS / 1000)


def test_cancelled_raised_by_the_engine_counts_as_cancelled(qtbot):
    owner = QObject()

    def work(task):
        raise Cancelled("stopped")

    assert run_to_end(qtbot, Job(work, owner)) == [("cancelled", False), ("finished", False)]
