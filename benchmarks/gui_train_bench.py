"""GUI training timings: event-loop stalls while training through the real window,
Cancel latency, and the vocabulary table's sort/filter speed on 300k pieces.

    python benchmarks/gui_train_bench.py [--corpus PATH] [--sizes 32000] [--workers 2]
                                         [--cancel-points 3] [--skip-train]

* train: the main window, offscreen, with the Train tab shown (its charts paint
  live), trains on zh-en-docs.train.jsonl.gz (25 MB) at 32k with 2 workers.  A
  10 ms QTimer records the gap between its ticks; the longest gap minus 10 ms is
  the longest stall of the GUI thread (target: under 100 ms).
* cancel: new runs are cancelled at a few points of the run; the latency is the
  time from clicking Cancel to the worker thread's ``finished`` signal (target 1 s).
* table: sort and filter timings of VocabTableModel over a synthetic 300k-piece
  model (target: each under 100 ms).

The figures depend on the machine's load: compare on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PIECELAB_SHARED", REPO.parent / "shared"))
DEFAULT_CORPUS = SHARED / "corpora" / "zh-en-docs.train.jsonl.gz"


class StallMeter:
    """A 10 ms timer on the GUI thread; the gaps between its ticks are the stalls."""

    def __init__(self, interval_ms: int = 10) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.interval = interval_ms / 1000
        self.gaps: list[float] = []
        self.at: list[float] = []  # when each gap ended, seconds since start()
        self._last = self._t0 = time.perf_counter()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self.at.append(now - self._t0)
        self._last = now

    def start(self) -> None:
        self.gaps.clear()
        self.at.clear()
        self._last = self._t0 = time.perf_counter()
        self.timer.start()

    def worst(self, n: int = 5) -> list[tuple[float, float]]:
        """The ``n`` longest stalls as (seconds since start, stall seconds)."""
        pairs = sorted(zip(self.gaps, self.at), reverse=True)[:n]
        return [(at - gap, gap - self.interval) for gap, at in pairs]

    def stop(self) -> None:
        self.timer.stop()

    def report(self) -> str:
        if not self.gaps:
            return "no ticks"
        worst = max(self.gaps) - self.interval
        p99 = statistics.quantiles(self.gaps, n=100)[98] - self.interval
        over50 = sum(g - self.interval > 0.05 for g in self.gaps)
        return (
            f"longest stall {worst * 1000:.0f} ms, 99th percentile {p99 * 1000:.0f} ms, "
            f"{over50} stalls over 50 ms in {len(self.gaps):,} ticks"
        )


def make_window(corpus: Path):
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QApplication

    from piecelab.engine.corpus import CorpusOptions
    from piecelab.gui.app import guard_none_refcount

    guard_none_refcount()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    QCoreApplication.setOrganizationName("piecelab-bench")
    from piecelab.gui.main_window import MainWindow

    window = MainWindow()
    window.resize(1400, 900)
    window.show()
    window.workspace.set_corpus([corpus], CorpusOptions(heldout=0.01))
    window.tabs.setCurrentWidget(window.train_view)
    wait(app, lambda: False, 1.0)  # first layout and paints are not training's
    return app, window


def wait(app, done, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.002)
    return done()


def bench_train(app, window, sizes: str, workers: int) -> float:
    """Train once through the window; returns the run's wall time in seconds."""
    view = window.train_view
    view.form.sizes.setText(sizes)
    view.form.workers.setValue(workers)
    view.form.adopt.setChecked(False)
    ended: list[str] = []
    view.runEnded.connect(ended.append)
    meter = StallMeter()
    meter.start()
    t0 = time.monotonic()
    view.start_button.click()
    if not wait(app, lambda: bool(ended), 3600):
        sys.exit("training did not finish within an hour")
    meter.stop()
    if ended[-1] != "succeeded":
        sys.exit(f"training {ended[-1]}: {view.status.text()}\n{view.log.toPlainText()[-2000:]}")
    run = window.workspace.runs[-1]
    held = ", ".join(f"{s:,}: {b:.3f}" for s, b in sorted(run.heldout.items()))
    redraws = sum(c.redraws for c in view.charts.charts())
    print(f"train ({ended[-1]}): {time.monotonic() - t0:.1f} s, held-out bytes/token {held}")
    print(f"  stages: {', '.join(view.stages_done)}; chart redraws: {redraws}")
    print(f"  GUI event loop during training: {meter.report()}")
    worst = ", ".join(f"{ms * 1000:.0f} ms at {at:.1f} s" for at, ms in sorted(meter.worst()))
    print(f"  longest stalls: {worst}")
    print("  log: " + " | ".join(view.log.toPlainText().splitlines()[:12]))
    return time.monotonic() - t0


def bench_cancel(app, window, points: int, workers: int, duration: float) -> None:
    """Cancel new runs at random points inside the first run's ``duration``."""
    view = window.train_view
    view.form.sizes.setText("32000")
    view.form.workers.setValue(workers)
    rng = random.Random(1)
    latencies = []
    for i in range(points):
        ended: list[str] = []
        view.runEnded.connect(ended.append)
        view.start_button.click()
        worker = view.worker
        finished: list[float] = []
        worker.finished.connect(lambda out=finished: out.append(time.monotonic()))
        delay = rng.uniform(0.1, 0.85) * duration
        until = time.monotonic() + delay
        wait(app, lambda until=until: time.monotonic() >= until, delay + 1)
        stage = next(
            (s for s, (_, bar, _) in reversed(view.bars.items()) if 0 < bar.value() < 100),
            "?",
        )
        if ended:  # finished before the click: nothing to cancel
            view.runEnded.disconnect(ended.append)
            print(f"cancel {i + 1} after {delay:.1f} s: the run had already {ended[-1]}")
            continue
        t0 = time.monotonic()
        view.cancel_button.click()
        wait(app, lambda ended=ended: bool(ended), 30)
        latency = (finished[0] if finished else time.monotonic()) - t0
        latencies.append(latency)
        view.runEnded.disconnect(ended.append)
        print(f"cancel {i + 1} after {delay:.1f} s (in {stage}): {latency * 1000:.0f} ms")
    if latencies:
        print(f"  cancel latency: worst {max(latencies) * 1000:.0f} ms")


def bench_table() -> None:
    from PySide6.QtCore import Qt

    from piecelab.engine.model import Model
    from piecelab.gui.vocab_model import (
        COUNT,
        HAN,
        PIECE,
        VocabColumns,
        VocabFilter,
        VocabTableModel,
    )

    rng = random.Random(0)
    alphabet = [c.encode() for c in "abcdefghijklmnopqrstuvwxyz 0123456789的一是了我不人在他有"]
    counts = {bytes([i]): 1 for i in range(256)}
    while len(counts) < 300_000:
        k = rng.randint(2, 8)
        counts[b"".join(rng.choice(alphabet) for _ in range(k))] = rng.randint(1, 10**6)
    model = Model.from_counts(counts)
    t0 = time.perf_counter()
    cols = VocabColumns.from_model(model)
    print(f"table: 300k columns built in {(time.perf_counter() - t0) * 1000:.0f} ms (worker)")
    tm = VocabTableModel()
    tm.set_columns(cols)
    for name, action in (
        ("sort by count (descending)", lambda: tm.sort(COUNT, Qt.SortOrder.DescendingOrder)),
        ("sort by piece bytes", lambda: tm.sort(PIECE, Qt.SortOrder.AscendingOrder)),
        ("filter: substring", lambda: tm.set_filter(VocabFilter(substring="ab"))),
        ("filter: regex", lambda: tm.set_filter(VocabFilter(regex="^[a-z]+的"))),
        (
            "filter: length + script",
            lambda: tm.set_filter(VocabFilter(min_bytes=6, scripts=frozenset({HAN}))),
        ),
        ("filter: none", lambda: tm.set_filter(VocabFilter())),
    ):
        best = _timed(action)  # the first call: a new regex is compiled and run once
        print(f"  {name:28s} {best * 1000:7.1f} ms  ({tm.rowCount():,} rows)")


def _timed(action) -> float:
    t0 = time.perf_counter()
    action()
    return time.perf_counter() - t0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    p.add_argument("--sizes", default="32000")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--cancel-points", type=int, default=3)
    p.add_argument("--skip-train", action="store_true", help="only the table timings")
    p.add_argument(
        "--in-process",
        action="store_true",
        help="train on a thread of the GUI process instead of a child process (to compare)",
    )
    args = p.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    bench_table()
    if args.skip_train:
        return 0
    if not args.corpus.is_file():
        print(f"skipped the training benchmark: {args.corpus} is absent")
        return 0
    with tempfile.TemporaryDirectory(prefix="piecelab-bench-") as tmp:
        os.environ["PIECELAB_RECOVERY_DIR"] = str(Path(tmp) / "recovery")
        app, window = make_window(args.corpus)
        window.train_view.in_process = args.in_process
        try:
            duration = bench_train(app, window, args.sizes, args.workers)
            bench_cancel(app, window, args.cancel_points, args.workers, duration)
        finally:
            window.train_view.shutdown()
            window.close()
            app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
