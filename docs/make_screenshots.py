"""Screenshots of every view for the README, taken by driving the real main window.

    python docs/make_screenshots.py [--out docs/screenshots] [--check-only]   (make screenshots)

Offscreen by default (``QT_QPA_PLATFORM=offscreen``); under Xvfb or a desktop set
``QT_QPA_PLATFORM=xcb``.  Settings, autosaves and training outputs go to a
temporary folder, so nothing of the user's is touched.  Each image is checked
for content (a blank or single-colour grab fails the run).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
SIZE = (1500, 900)
MIN_COLOURS = 12  # a grab of a blank or failed view has one or two
TIMEOUT = 300.0


def wait(app, done: Callable[[], bool], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            sys.exit(f"make_screenshots: timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.01)
    app.processEvents()


def colours(image, step: int = 9) -> int:
    seen = set()
    for y in range(0, image.height(), step):
        for x in range(0, image.width(), step):
            seen.add(image.pixel(x, y))
    return len(seen)


class Shooter:
    """Grabs the main window into ``out``; remembers what it wrote and checks each image."""

    def __init__(self, app, window, out: Path) -> None:
        self.app, self.window, self.out = app, window, out
        self.written: list[Path] = []

    def shot(self, name: str) -> Path:
        for _ in range(5):
            self.app.processEvents()
            time.sleep(0.02)
        image = self.window.grab().toImage()
        n = colours(image)
        if image.isNull() or n < MIN_COLOURS:
            sys.exit(f"make_screenshots: {name} looks blank ({n} colours)")
        path = self.out / f"{name}.png"
        if not image.save(str(path)):
            sys.exit(f"make_screenshots: cannot write {path}")
        self.written.append(path)
        print(f"  {path}  ({image.width()}×{image.height()}, {n} colours)")
        return path


def playground(s: Shooter) -> None:
    w = s.window
    pg = w.playground
    w.tabs.setCurrentWidget(pg)
    pg.tabs.setCurrentIndex(0)
    pg.controls.samples_spin.setValue(2)
    pg.refresh()
    view = pg.viterbi.view
    if view.segmentation is not None and len(view.segmentation):
        k = min(5, len(view.segmentation) - 1)
        pg.highlight_span(int(view.segmentation.starts[k]), int(view.segmentation.ends[k]))
    s.shot("playground")
    pg.highlight_span(-1, -1)
    pg.tabs.setCurrentWidget(pg.distribution)
    pg.distribution.compute()
    wait(s.app, lambda: len(pg.distribution.exact) > 0, "the sampling distribution")
    s.shot("sampling")
    pg.tabs.setCurrentIndex(0)


def lattice(s: Shooter) -> None:
    pg = s.window.playground
    s.window.tabs.setCurrentWidget(pg)
    pg.tabs.setCurrentWidget(pg.lattice)
    pg.lattice.text_edit.setText("tokenizers 分词")
    pg.lattice.step()
    pg.lattice.step()
    s.shot("lattice")
    pg.tabs.setCurrentIndex(0)


def analysis(s: Shooter) -> None:
    view = s.window.analysis_view
    s.window.tabs.setCurrentWidget(view)
    view.cost.measure()
    wait(s.app, lambda: bool(view.cost.reports), "the cost per script")
    s.shot("analysis")


def corpus(s: Shooter) -> None:
    view = s.window.corpus_view
    s.window.tabs.setCurrentWidget(view)
    done = []
    view.scanned.connect(done.append)
    view.scan()
    wait(s.app, lambda: bool(done), "the corpus scan")
    s.shot("corpus")


def train(s: Shooter, out_dir: Path) -> None:
    view = s.window.train_view
    s.window.tabs.setCurrentWidget(view)
    view.form.sizes.setText("8000, 4000")
    view.form.adopt.setChecked(False)
    view.form.output.setText(str(out_dir / "screenshot.model"))
    pruning = []
    view.start()
    view.worker.metric.connect(lambda m: pruning.append(m) if m.series == "prune" else None)
    wait(s.app, lambda: bool(pruning) or not view.running, "the pruning stage")
    for chart in view.charts.charts():
        chart.flush()
    s.shot("train")  # mid-run: the corpus segmented, pruning under way
    wait(s.app, lambda: not view.running, "the end of the run")


def vocabulary(s: Shooter) -> None:
    view = s.window.vocab_view
    s.window.tabs.setCurrentWidget(view)
    wait(s.app, lambda: view.table_model.cols is not None and view.idle, "the vocabulary")
    view.select_piece(b" the")
    view.show_concordance()
    wait(s.app, lambda: view.idle, "the concordance")
    s.shot("vocabulary")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "screenshots")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="piecelab-shots-") as tmp:
        os.environ["PIECELAB_RECOVERY_DIR"] = str(Path(tmp) / "recovery")
        from PySide6.QtCore import QSettings
        from PySide6.QtTest import QTest

        from piecelab.gui.app import create_window

        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, tmp)
        QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, tmp)
        app, window = create_window(interactive=False)
        window.resize(*SIZE)
        QTest.qWaitForWindowExposed(window)
        ws = window.workspace
        wait(app, lambda: ws.tokenizer is not None, "the model")
        shooter = Shooter(app, window, args.out)
        print(f"screenshots of {ws.model_label} ({ws.tokenizer.vocab_size:,} ids):")
        playground(shooter)
        lattice(shooter)
        corpus(shooter)
        analysis(shooter)
        vocabulary(shooter)
        train(shooter, Path(tmp))
        window.train_view.shutdown()
        ws._set_dirty(False)
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
