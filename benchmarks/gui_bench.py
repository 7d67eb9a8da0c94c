"""GUI timings: start-up (cold and warm) and the playground's re-render of a 5 KB paragraph.

    python benchmarks/gui_bench.py [--model PATH] [--runs 60]      (make bench-gui)

* cold start: a subprocess with a fresh, empty NUMBA_CACHE_DIR (every kernel compiles);
  warm start: a second subprocess with the same cache.  Each reports when the main
  window is exposed and usable, when the model's panes are ready, and the longest
  stall of the GUI event loop while the model loaded (the kernels compile on a
  worker thread; the GUI thread must keep running).
* render: in this process, the time from the debounce timer's call to the panes
  painted by the event loop (segment Viterbi + samples, exact probability, layout,
  paint), over a 5 KB paragraph with one character typed per run; and the same
  with every visible line drawn afresh (as after a paste).  For comparison, the
  same segmentation as QTextBrowser HTML spans (the approach the panes replaced).
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PIECELAB_SHARED", REPO.parent / "shared"))
TARGET_BYTES = 5000


def find_model() -> Path:
    from piecelab.paths import default_model_path

    for candidate in (default_model_path(), SHARED / "models" / "bytepiece.plus.80k.zip"):  # 80k
        if candidate.is_file():
            return candidate
    sys.exit("no model found: pass --model PATH")


def paragraph(n_bytes: int = TARGET_BYTES) -> str:
    """About ``n_bytes`` of real mixed Chinese/English text as one paragraph."""
    corpus = SHARED / "corpora" / "zh-en-docs.test.jsonl.gz"
    if corpus.is_file():
        with gzip.open(corpus, "rt", encoding="utf-8") as fh:
            text = " ".join(json.loads(line)["text"] for _, line in zip(range(200), fh))
    else:
        text = (
            "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
            "It was the best of times, it was the worst of times. "
        ) * 60
    text = " ".join(text.split())
    return text.encode("utf-8")[:n_bytes].decode("utf-8", errors="ignore")


# ----------------------------------------------------------------- start-up
CHILD = r"""
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtTest import QTest
from piecelab.gui.app import create_window

app, window = create_window(sys.argv[1])
QTest.qWaitForWindowExposed(window)
app.processEvents()
print("shown", flush=True)
state = {"last": time.perf_counter(), "stall": 0.0}
def tick():
    now = time.perf_counter()
    state["stall"] = max(state["stall"], now - state["last"])
    state["last"] = now
timer = QTimer()
timer.timeout.connect(tick)
timer.start(5)
pg = window.playground
def shown_tokens():  # the first time the panes hold a segmentation, preview or compiled
    if "tokens" not in state and pg.viterbi.segmentation is not None and pg.sample_segmentations():
        state["tokens"] = True
        print("tokens", flush=True)
pg.refreshed.connect(shown_tokens)
def ready():
    shown_tokens()
    print(f"ready {state['stall']:.4f}", flush=True)
    timer.stop()
    app.quit()
pg.tokenizerReady.connect(ready)
window.workspace.modelFailed.connect(lambda m: (print("failed", m, flush=True), app.quit()))
app.exec()
"""


def start_once(model: Path, cache_dir: str, settings_dir: str) -> dict[str, float]:
    env = dict(
        os.environ,
        NUMBA_CACHE_DIR=cache_dir,
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=settings_dir,
        HOME=settings_dir,
    )
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(model)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    out: dict[str, float] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        word, *rest = line.split()
        if word == "shown":
            out["shown"] = time.perf_counter() - t0
        elif word == "tokens":
            out["tokens"] = time.perf_counter() - t0
        elif word == "ready":
            out["ready"] = time.perf_counter() - t0
            out["stall"] = float(rest[0])
        elif word == "failed":
            sys.exit(f"the model failed to load: {line}")
    proc.wait(timeout=600)
    return out


def bench_startup(model: Path) -> None:
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as home:
        cold = start_once(model, cache, home)
        warm = start_once(model, cache, home)
    print(
        "start-up (subprocess from launch; window = exposed and usable; tokens = the"
        " deterministic and sampled panes show the default text; compiled = every kernel"
        " the GUI uses is in)"
    )
    print(f"  {'':6} {'window':>9} {'tokens':>9} {'compiled':>9} {'max GUI stall':>15}")
    for name, r in (("cold", cold), ("warm", warm)):
        print(
            f"  {name:6} {r['shown']:8.2f}s {r['tokens']:8.2f}s {r['ready']:8.2f}s"
            f" {r['stall'] * 1000:12.0f} ms"
        )
    for name, t, limit in (("cold", cold["tokens"], 5.0), ("warm", warm["tokens"], 2.0)):
        verdict = "ok" if t <= limit else "TOO SLOW"
        print(f"  {name} start, tokens on screen {t:.2f}s (target ≤ {limit:.0f} s): {verdict}")


# ----------------------------------------------------------------- render
def bench_render(model: Path, runs: int) -> None:
    from PySide6.QtCore import QSettings
    from PySide6.QtGui import QTextCursor
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QTextBrowser

    from piecelab.engine.render import piece_label
    from piecelab.gui.app import guard_none_refcount
    from piecelab.gui.main_window import MainWindow

    guard_none_refcount()
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        window = MainWindow(settings=QSettings(str(Path(tmp) / "s.ini"), QSettings.IniFormat))
        window.resize(1400, 900)
        window.show()
        QTest.qWaitForWindowExposed(window)
        pg = window.playground
        window.workspace.open_model(model)
        deadline = time.monotonic() + 300
        ws = window.workspace  # the compiled tokenizer, not the preview of a first start
        while (ws.tokenizer is None or pg.tokenizer is not ws.tokenizer) and (
            time.monotonic() < deadline
        ):
            app.processEvents()
            time.sleep(0.005)
        text = paragraph()
        pg.editor.setPlainText(text)
        pg.refresh()
        app.processEvents()
        views = [pg.viterbi.view] + [p.view for p in pg.samples]

        def one_run(k: int, cold: bool = False) -> tuple[float, float]:
            if cold:  # as after a paste: every visible line is drawn afresh
                for v in views:
                    v._line_cache.clear()
            cursor = pg.editor.textCursor()
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText("abcdefgh 你好"[k % 11])  # typing changes the text every run
            app.processEvents()  # the editor's own repaint is not part of the measure
            pg._timer.stop()
            t0, c0 = time.perf_counter(), time.thread_time()
            pg.refresh()  # what the debounce timer calls
            app.processEvents()  # the event loop lays out and paints what changed
            return time.perf_counter() - t0, time.thread_time() - c0

        results = {}
        for n, cold in ((1, False), (4, False), (1, True)):
            pg.controls.samples_spin.setValue(n)
            app.processEvents()
            views = [pg.viterbi.view] + [p.view for p in pg.samples]
            for k in range(5):
                one_run(k, cold)
            results[n, cold] = [one_run(k, cold) for k in range(runs)]
        seg = pg.viterbi.segmentation
        n_bytes, n_tokens = len(seg.data), len(seg)

        browser = QTextBrowser()
        browser.resize(600, 800)
        browser.show()

        def html_run() -> float:
            t0 = time.perf_counter()
            parts = [
                f'<span style="background-color:#4e79a755">{html.escape(piece_label(p))}</span>'
                for p in seg.pieces
            ]
            browser.setHtml("\u200b".join(parts))
            browser.viewport().repaint()
            return time.perf_counter() - t0

        html_times = sorted(html_run() for _ in range(max(5, runs // 6)))
        window.close()
    print(
        f"render: a {n_bytes:,}-byte paragraph ({n_tokens:,} Viterbi tokens), "
        f"one character typed per run, {runs} runs, model {model.name}"
    )
    print(f"  load average now {os.getloadavg()[0]:.1f} (wall times include waiting for a core)")
    for (n, cold), pairs in results.items():
        what = "every visible line redrawn (paste)" if cold else "typing"
        for kind, times in (
            ("wall", [w for w, _ in pairs]),
            ("GUI-thread CPU", [c for _, c in pairs]),
        ):
            times = sorted(times)
            med, p95 = statistics.median(times), times[int(0.95 * (len(times) - 1))]
            verdict = "ok" if med <= 0.016 else "TOO SLOW"
            print(
                f"  Viterbi + {n} sampled pane{'s' if n > 1 else ''}, {what}, {kind}: "
                f"median {med * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
                f"max {times[-1] * 1000:.1f} ms (target ≤ 16 ms): {verdict}"
            )
    print(
        f"  for comparison, QTextBrowser with HTML spans (Viterbi only): median "
        f"{statistics.median(html_times) * 1000:.1f} ms"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, default=None)
    ap.add_argument("--runs", type=int, default=60)
    ap.add_argument("--skip-startup", action="store_true")
    args = ap.parse_args()
    model = args.model or find_model()
    print(f"model: {model}  (cores: {os.cpu_count()})")
    if not args.skip_startup:
        bench_startup(model)
    bench_render(model, args.runs)


if __name__ == "__main__":
    main()
