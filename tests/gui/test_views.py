"""Corpus, training and vocabulary views: real runs through the GUI, offscreen.

Each test asserts on the workspace and the views' models, not on pixels, except
the screenshots, which are saved to tests/screenshots/ and checked for content.
"""

from __future__ import annotations

import json
import math
import random
import re
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QThreadPool, QUrl
from PySide6.QtGui import QDropEvent, QImage
from PySide6.QtWidgets import QMessageBox

from piecelab.engine import CorpusOptions, Metric, Model, TrainSettings, parse_piece
from piecelab.engine.vocab_columns import (
    HAN,
    LATIN,
    PARTIAL,
    SCRIPTS,
    SPACE,
    VocabColumns,
    VocabFilter,
)
from piecelab.gui import autosave
from piecelab.gui.corpus import CorpusView
from piecelab.gui.corpus import view as corpus_view
from piecelab.gui.state import TrainingRun, Workspace
from piecelab.gui.train import TrainView
from piecelab.gui.train.charts import CURRENT, TrainCharts
from piecelab.gui.train.form import TIPS
from piecelab.gui.vocab import VocabView
from piecelab.gui.vocab.table_model import COUNT, PINNED, VocabTableModel
from piecelab.gui.widgets import LiveChart

from ..conftest import tiny_counts

SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
LONG = 60_000  # ms: the first run may compile numba kernels


# ---------------------------------------------------------------- fixtures
@pytest.fixture
def corpus_file(tmp_path, docs) -> Path:
    path = tmp_path / "small.jsonl"
    path.write_text("".join(json.dumps({"text": d}) + "\n" for d in docs), encoding="utf-8")
    return path


@pytest.fixture
def workspace(qtbot, corpus_file) -> Workspace:
    ws = Workspace()
    ws.set_corpus([corpus_file], CorpusOptions(heldout=0.05))
    return ws


def load(qtbot, ws: Workspace, model: Model) -> None:
    with qtbot.waitSignal(ws.modelChanged, timeout=LONG):
        ws.set_model(model, edited=False)


def wait_columns(qtbot, view: VocabView) -> None:
    def ready() -> None:
        cols = view.table_model.cols
        assert cols is not None and cols.model is view.workspace.model
        assert view.table_model.unreachable is not None and view.idle

    qtbot.waitUntil(ready, timeout=LONG)


def screenshot(widget, name: str) -> QImage:
    widget.resize(1200, 760)
    widget.show()
    for chart in widget.findChildren(LiveChart):
        chart.flush()
    image = widget.grab().toImage()
    SCREENSHOTS.mkdir(exist_ok=True)
    assert image.save(str(SCREENSHOTS / f"{name}.png"))
    assert image.width() >= 1000 and image.height() >= 600
    small = image.scaled(120, 80).convertToFormat(QImage.Format.Format_RGB32)
    colors = {small.pixel(x, y) for x in range(120) for y in range(80)}
    assert len(colors) > 20, f"{name}: the screenshot looks blank"
    return image


# ---------------------------------------------------------------- throttling, charts
def test_live_chart_coalesces_redraws_and_exports(qtbot, tmp_path, settle):
    chart = LiveChart("Test chart", "x", "y")
    qtbot.addWidget(chart)
    for i in range(500):
        chart.append("a", i, i * i)
    assert chart.redraws == 0 and len(chart.curves["a"].getData()[0] or []) == 0
    qtbot.waitUntil(lambda: chart.redraws == 1, timeout=2000)
    x, y = chart.curves["a"].getData()
    assert len(x) == 500 and y[-1] == 499 * 499
    png = chart.export_png(tmp_path / "c.png")
    assert QImage(str(png)).size().toTuple() == (1200, 750)
    rows = (tmp_path / "c.csv").read_text() if chart.export_csv(tmp_path / "c.csv") else ""
    assert rows.splitlines()[0] == "series,x,y,description" and len(rows.splitlines()) == 501
    settle()


def test_train_charts_overlay_runs(qtbot, settle):
    charts = TrainCharts()
    qtbot.addWidget(charts)
    charts.start_run()
    charts.add_metric(Metric("ngram_bytes_per_piece", 1000, 2.5))
    charts.add_metric(Metric("prune", 5000, 3.1, {"round": 1}))
    charts.add_metric(Metric("heldout", 400, 3.0, {"size": 400}))
    runs = [
        TrainingRun(
            "run 1", TrainSettings(), 0.01, heldout={300: 2.8, 400: 3.0}, prune_points=[(400, 3.2)]
        ),
        TrainingRun("run 2", TrainSettings(), 0.01, heldout={300: 2.9}),
    ]
    charts.show_runs(runs)
    for chart in charts.charts():
        chart.flush()
    assert set(charts.heldout.curves) == {"run 1", "run 2"}
    assert list(charts.heldout.curves["run 1"].getData()[1]) == [2.8, 3.0]
    assert CURRENT not in charts.heldout.curves  # the finished run is now a run of its own
    charts.show_runs(runs[1:])
    assert "run 1" not in charts.heldout.curves
    settle()


# ---------------------------------------------------------------- training
def test_full_training_run_through_the_gui(qtbot, workspace, tmp_path, settle):
    view = TrainView(workspace)
    qtbot.addWidget(view)
    form = view.form
    for w in (form.order, form.sizes, form.min_count, form.max_piece_length, form.workers):
        assert w.toolTip()
    assert len(TIPS) >= 9 and all(TIPS.values())
    assert form.heldout.value() == pytest.approx(5.0)
    form.sizes.setText("400, 300")
    form.workers.setValue(2)
    form.output.setText(str(tmp_path / "run.model"))
    ended = []
    view.runEnded.connect(ended.append)
    with qtbot.waitSignals(
        [view.runStarted, workspace.runsChanged, view.runEnded], order="strict", timeout=LONG
    ):
        view.start_button.click()
    assert ended == ["succeeded"]
    assert view.stages_done == ["count n-grams", "segment corpus", "prune pieces", "evaluate"]
    assert sorted(p.name for p in tmp_path.glob("run.model.*")) == [
        "run.model.300",
        "run.model.400",
    ]
    run = workspace.runs[-1]
    assert not run.cancelled and set(run.models) == {300, 400}
    assert run.settings.vocab_sizes == (400, 300) and run.settings.order == 6
    assert workspace.train_settings == run.settings  # the workspace holds the settings
    assert run.heldout[400] >= run.heldout[300] > 1
    for chart in view.charts.charts():
        chart.flush()
    x, y = view.charts.bytes_per_piece.curves[CURRENT].getData()
    assert len(x) >= 1 and all(v > 1 for v in y)
    px, _ = view.charts.prune.curves["run 1"].getData()
    assert len(px) == 3 and px[0] <= 300 and px[1] <= 400 < px[2]  # settle, then each size
    hx, hy = view.charts.heldout.curves["run 1"].getData()
    assert list(hx) == [300, 400] and list(hy) == [run.heldout[300], run.heldout[400]]
    history = view.runs.history
    assert history.rowCount() == 1
    assert history.item(0, history.column("sizes")).text() == "400, 300"
    assert [view.runs.sizes.itemText(i) for i in range(2)] == ["400", "300"]
    assert all(view.bars[s][1].value() == 100 for s in view.stages_done)
    assert "done in" in view.log.toPlainText()
    # the largest model became the workspace's (with the file it was saved to)
    qtbot.waitUntil(lambda: workspace.model is run.models[400], timeout=LONG)
    assert workspace.model_path == tmp_path / "run.model.400" and not workspace.dirty
    # another size of the run, from the history: it has no file of its own
    view.runs.sizes.setCurrentIndex(1)
    with qtbot.waitSignal(workspace.modelChanged, timeout=LONG):
        view.runs.use_button.click()
    assert workspace.model is run.models[300] and workspace.model_path is None
    view.charts.prune.export_csv(tmp_path / "prune.csv")
    assert "run 1" in (tmp_path / "prune.csv").read_text()
    screenshot(view, "train_view")
    assert view.charts.isVisible() and view.start_button.isVisible()
    settle()


class SlowDocs:
    """A re-iterable corpus that yields documents slowly, so a cancel lands mid-run."""

    def __init__(self, docs: list[str], n: int = 5000) -> None:
        self.text = "".join(docs[:100])  # ~20 KB per document: a 2 MB batch in 2 s
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __iter__(self):
        for i in range(self.n):
            time.sleep(0.02)
            yield f"{i} {self.text}"


def test_cancel_mid_run_is_quick_and_writes_nothing(qtbot, workspace, tmp_path, docs, settle):
    view = TrainView(workspace)
    qtbot.addWidget(view)
    out = tmp_path / "out"
    out.mkdir()
    view.form.output.setText(str(out / "cancelled.model"))
    view.form.sizes.setText("500")
    ended = []
    view.runEnded.connect(ended.append)
    assert view.start(texts=SlowDocs(docs))
    worker = view.worker
    bar = view.bars["count n-grams"][1]
    qtbot.waitUntil(lambda: bar.value() >= 2, timeout=LONG)
    # mid-batch: the first batch has been counted, the second is being read; (a batch
    # already in a counting kernel when Cancel comes is waited for: the engine's grain)
    qtbot.wait(1000)
    with qtbot.waitSignal(worker.finished, timeout=5000):
        t0 = time.monotonic()
        view.cancel_button.click()
    latency = time.monotonic() - t0
    print(f"cancel latency: {latency * 1000:.0f} ms")
    assert latency < 1.0
    qtbot.waitUntil(lambda: view.worker is None and bool(workspace.runs))
    assert ended == ["cancelled"]
    assert workspace.runs[-1].cancelled and workspace.runs[-1].models == {}
    assert list(out.iterdir()) == []
    assert view.start_button.isEnabled() and not view.cancel_button.isEnabled()
    assert "Cancelled" in view.status.text()
    assert bar.value() < 100
    settle()


def test_closing_during_training_asks_then_cancels(qtbot, workspace, docs, monkeypatch, settle):
    view = TrainView(workspace)
    qtbot.addWidget(view)
    view.form.sizes.setText("500")
    assert view.start(texts=SlowDocs(docs))
    qtbot.waitUntil(lambda: view.bars["count n-grams"][1].value() >= 1, timeout=LONG)
    asked = []

    def answer(button):
        def question(*args, **kwargs):
            asked.append(args[1])
            return button

        return question

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    assert not view.can_close()
    assert view.running and asked == ["Training in progress"]
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    t0 = time.monotonic()
    assert view.can_close()
    assert time.monotonic() - t0 < 2.0
    assert not view.running and len(asked) == 2
    assert view.can_close()  # nothing running: no question
    assert len(asked) == 2
    settle()


def test_closing_the_main_window_during_training(
    qtbot, workspace, docs, monkeypatch, tmp_path, settings, settle
):
    from piecelab.gui.main_window import MainWindow

    monkeypatch.setenv(autosave.ENV_DIR, str(tmp_path / "rec"))
    window = MainWindow(workspace, settings=settings)
    qtbot.addWidget(window)
    window.show()
    view = window.train_view
    view.form.sizes.setText("500")
    assert view.start(texts=SlowDocs(docs))
    qtbot.waitUntil(lambda: view.bars["count n-grams"][1].value() >= 1, timeout=LONG)
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: answers.pop(0))
    window.close()
    assert window.isVisible() and view.running  # "No": keep training
    window.close()
    assert not window.isVisible() and not view.running and answers == []
    settle()


def test_training_in_process_on_a_list(qtbot, workspace, docs, settle):
    view = TrainView(workspace)
    qtbot.addWidget(view)
    view.in_process = True  # a thread of this process, no child process
    view.form.sizes.setText("300")
    view.form.adopt.setChecked(False)
    ended = []
    view.runEnded.connect(ended.append)
    with qtbot.waitSignal(view.runEnded, timeout=LONG):
        assert view.start(texts=docs[:600])
    assert ended == ["succeeded"] and set(workspace.runs[-1].models) == {300}
    assert view.last_result is not None and view.last_result.models[300].vocab_size == 300
    settle()


def test_a_run_ends_even_when_its_thread_is_slow_to_finish(
    qtbot, workspace, docs, monkeypatch, settle
):
    """The outcome may reach the GUI before the worker thread marks itself done (a
    loaded machine): the run must still end and Start come back (it once stayed off)."""
    from types import SimpleNamespace

    from piecelab.gui import worker as worker_module

    from .test_worker import SlowDone

    monkeypatch.setattr(worker_module, "threading", SimpleNamespace(Event=SlowDone))
    view = TrainView(workspace)
    qtbot.addWidget(view)
    view.in_process = True
    view.form.sizes.setText("300")
    view.form.adopt.setChecked(False)
    with qtbot.waitSignal(view.runEnded, timeout=LONG) as ended:
        assert view.start(texts=docs[:300])
    assert ended.args == ["succeeded"] and view.start_button.isEnabled()
    qtbot.waitUntil(lambda: not QThreadPool.globalInstance().activeThreadCount(), timeout=LONG)
    settle()


def test_bad_parameters_are_reported_not_raised(qtbot, workspace, settle):
    view = TrainView(workspace)
    qtbot.addWidget(view)
    view.form.sizes.setText("100")
    assert not view.start()
    assert "259" in view.status.text()
    view.form.sizes.setText("40k")
    assert not view.start()
    assert "whole numbers" in view.status.text()
    assert view.worker is None and workspace.runs == []
    settle()


# ---------------------------------------------------------------- corpus view
def test_corpus_view_scans_sources_and_lists_problems(qtbot, tmp_path, monkeypatch, settle):
    sample = tmp_path / "sample.jsonl"
    sample.write_text(json.dumps({"text": "sample 样本"}) + "\n", encoding="utf-8")
    monkeypatch.setattr(corpus_view, "sample_corpus_path", lambda: sample)
    ws = Workspace()
    view = CorpusView(ws)
    qtbot.addWidget(view)
    assert ws.corpus_paths == [sample]  # first start: the bundled sample
    jl = tmp_path / "a.jsonl"
    jl.write_text(
        "".join(json.dumps({"content": f"文档 {i} document"}) + "\n" for i in range(30)),
        encoding="utf-8",
    )
    txt = tmp_path / "b.txt"
    txt.write_bytes(b"para one\nstill one\n\npara two\n\nbad \xff byte\n")
    ws.set_corpus([jl, txt])
    view.field.setText("content")
    view.field.editingFinished.emit()
    view.paragraphs.setCurrentIndex(1)
    view.heldout.setValue(10.0)
    opts = ws.corpus_options
    assert (opts.field, opts.paragraphs, opts.heldout) == ("content", True, 0.1)
    with qtbot.waitSignal(view.scanned, timeout=30_000) as blocker:
        view.scan_button.click()
    result = blocker.args[0]
    assert result.complete
    assert [s.documents for s in result.stats] == [30, 3]
    assert view.stats.rowCount() == 2 and view.stats.item(0, 1).text() == "30"
    assert float(view.stats.item(0, 3).text().rstrip("%")) > 10  # Han share
    assert result.n_train + result.n_heldout == 33
    probs = [(Path(p.path).name, p.line) for p in result.problems]
    assert ("b.txt", 6) in probs
    assert view.problems.rowCount() >= 1 and view.problems.item(0, 1).text() == "6"
    assert "文档 0 document" in view.preview.toPlainText()
    assert "33 documents" in view.summary.text()
    screenshot(view, "corpus_view")
    assert view.stats.isVisible() and view.sources.count() == 2
    settle()


def test_corpus_view_drop_and_no_sample_when_a_corpus_is_set(qtbot, tmp_path, monkeypatch, settle):
    monkeypatch.setattr(corpus_view, "sample_corpus_path", lambda: tmp_path / "nope.jsonl")
    a = tmp_path / "a.txt"
    a.write_text("hello\n")
    ws = Workspace()
    ws.set_corpus([a])
    view = CorpusView(ws)
    qtbot.addWidget(view)
    assert ws.corpus_paths == [a]
    b = tmp_path / "b.txt"
    b.write_text("world\n")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(b))])
    event = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    view.dropEvent(event)
    assert ws.corpus_paths == [a, b] and view.sources.count() == 2
    view.sources.item(0).setSelected(True)
    view.remove_button.click()
    assert ws.corpus_paths == [b]
    settle()


def test_corpus_scan_can_be_cancelled(qtbot, tmp_path, settle):
    big = tmp_path / "big.txt"
    line = ("some text 一些文字 " * 20 + "\n").encode()
    big.write_bytes(line * (40_000_000 // len(line)))
    ws = Workspace()
    ws.set_corpus([big])
    view = CorpusView(ws)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.scanned, timeout=30_000) as blocker:
        view.scan()
        t0 = time.monotonic()
        view.cancel_button.click()
    assert time.monotonic() - t0 < 1.0
    assert not blocker.args[0].complete
    qtbot.waitUntil(lambda: view.job is None)
    assert "cancelled" in view.summary.text() and view.scan_button.isEnabled()
    settle()


# ---------------------------------------------------------------- vocabulary table
def test_script_classes_and_filters_on_a_small_model(qtbot, settle):
    model = Model.from_counts(tiny_counts())
    cols = VocabColumns.from_model(model)
    cls = dict(zip(model.pieces, cols.script.tolist()))
    assert cls["你好".encode()] == HAN and cls[b" a"] == LATIN and cls[b"\n\n"] == SPACE
    assert cls["你".encode()[:2]] == PARTIAL and cls[b"\xff"] == PARTIAL
    assert SCRIPTS[cls[b"ca"]] == "Latin"
    tm = VocabTableModel()
    tm.set_columns(cols, pinned={b"ab"})
    assert tm.rowCount() == len(model)
    tm.set_filter(VocabFilter(substring="b"))
    assert sorted(tm.piece(r) for r in range(tm.rowCount())) == sorted(
        p for p in model.pieces if b"b" in p
    )
    tm.set_filter(VocabFilter(regex="^ab|c$", min_bytes=2))
    assert {tm.piece(r) for r in range(tm.rowCount())} == {b"ab", b"abc", b"bc"}
    tm.set_filter(VocabFilter(regex="(", min_bytes=2))
    assert tm.regex_error and tm.rowCount() == sum(len(p) >= 2 for p in model.pieces)
    tm.set_filter(VocabFilter(scripts=frozenset({HAN})))
    assert {tm.piece(r) for r in range(tm.rowCount())} == {
        "你".encode(),
        "好".encode(),
        "你好".encode(),
    }
    tm.set_filter(VocabFilter(pinned_only=True))
    assert [tm.piece(r) for r in range(tm.rowCount())] == [b"ab"]
    assert tm.data(tm.index(0, PINNED), Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    tm.set_filter(VocabFilter())
    tm.sort(COUNT, Qt.SortOrder.DescendingOrder)
    shown = [int(tm.data(tm.index(r, COUNT), Qt.ItemDataRole.EditRole)) for r in range(10)]
    assert shown == sorted(model.counts.tolist(), reverse=True)[:10]
    assert tm.data(tm.index(0, 1)) == "·"  # the space, shown visibly (count 60)
    tm.set_unreachable(np.array([p == b"ca" for p in model.pieces]))
    tm.set_filter(VocabFilter(unreachable_only=True))
    assert [tm.piece(r) for r in range(tm.rowCount())] == [b"ca"]
    settle()


def random_model(n: int, seed: int = 0) -> Model:
    rng = random.Random(seed)
    alphabet = [c.encode() for c in "abcdefghijklmnopqrstuvwxyz 0123456789的一是了我不人在他有"]
    counts = {bytes([i]): 1 for i in range(256)}
    while len(counts) < n:
        k = rng.randint(2, 8)
        counts[b"".join(rng.choice(alphabet) for _ in range(k))] = rng.randint(1, 10**6)
    return Model.from_counts(counts)


def test_sort_and_filter_300k_pieces_quickly(qtbot, settle):
    model = random_model(300_000)
    t0 = time.perf_counter()
    cols = VocabColumns.from_model(model)
    build = time.perf_counter() - t0
    tm = VocabTableModel()
    tm.set_columns(cols)
    timings = {}
    for name, action in (
        ("sort by count", lambda: tm.sort(COUNT, Qt.SortOrder.DescendingOrder)),
        ("sort by piece", lambda: tm.sort(1, Qt.SortOrder.AscendingOrder)),
        ("filter substring", lambda: tm.set_filter(VocabFilter(substring="ab"))),
        ("filter regex", lambda: tm.set_filter(VocabFilter(regex="^[a-z]+的"))),
        ("filter length+script", lambda: tm.set_filter(VocabFilter(min_bytes=6, scripts={HAN}))),
    ):
        t0 = time.perf_counter()
        action()
        timings[name] = time.perf_counter() - t0
    print(f"300k columns built in {build * 1000:.0f} ms (worker thread)")
    for name, t in timings.items():
        print(f"300k {name}: {t * 1000:.1f} ms")
    assert max(timings.values()) < 1.0
    rows = [tm.piece(r) for r in range(tm.rowCount())]
    han = re.compile("[ \u4e00-\u9fff]*[\u4e00-\u9fff][ \u4e00-\u9fff]*")
    expect = [
        p for p in model.pieces if len(p) >= 6 and han.fullmatch(p.decode("utf-8", "replace"))
    ]
    assert set(rows) == set(expect) and len(rows) == len(expect)
    tm.set_filter(VocabFilter(substring="ab"))
    assert tm.rowCount() == sum(b"ab" in p for p in model.pieces)
    tm.sort(1, Qt.SortOrder.AscendingOrder)
    shown = [tm.piece(r) for r in range(tm.rowCount())]
    assert shown == sorted(shown)
    settle()


# ---------------------------------------------------------------- editing
def test_delete_undo_redo_save_round_trip(qtbot, workspace, tmp_path, monkeypatch, settle):
    view = VocabView(workspace)
    qtbot.addWidget(view)
    model = Model.from_counts(tiny_counts())
    load(qtbot, workspace, model)
    wait_columns(qtbot, view)
    before_total = model.total
    with qtbot.waitSignal(workspace.modelEdited, timeout=LONG):
        view.delete_pieces([b"abc"])
    edited = workspace.model
    assert b"abc" not in edited.index and workspace.dirty
    assert edited.total == before_total + 8  # "abc" (8) re-split in two pieces
    assert view.undo_stack.count() == 1 and view.undo_stack.undoText() == "Delete 'abc'"
    with qtbot.waitSignal(workspace.modelEdited, timeout=LONG):
        view.undo_stack.undo()
    assert workspace.model is model and b"abc" in workspace.model.index
    with qtbot.waitSignal(workspace.modelEdited, timeout=LONG):
        view.undo_stack.redo()
    assert workspace.model is edited
    wait_columns(qtbot, view)
    # pinned pieces and single bytes are refused, nothing changes
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    view.pin([edited.index[b"ab"] - 3])
    assert b"ab" in workspace.pinned and view.undo_stack.count() == 2
    view.delete_pieces([b"ab"])
    view.delete_pieces([b"a"])
    assert len(warnings) == 2 and "pinned" in warnings[0] and "single byte" in warnings[1]
    assert workspace.model is edited and view.undo_stack.count() == 2
    # save, reload
    target = tmp_path / "edited.model"
    assert view.save_to(target)
    assert not workspace.dirty and view.undo_stack.isClean()
    again = Model.load(target)
    assert again.pieces == edited.pieces and again.counts.tolist() == edited.counts.tolist()
    view.undo_stack.undo()  # the pin
    assert b"ab" not in workspace.pinned
    settle()


def test_add_piece_and_edit_count_cell(qtbot, workspace, settle):
    view = VocabView(workspace)
    qtbot.addWidget(view)
    load(qtbot, workspace, Model.from_counts(tiny_counts()))
    wait_columns(qtbot, view)
    with qtbot.waitSignal(workspace.modelEdited, timeout=LONG):
        view.add_piece(b"zz", 42)
    assert workspace.model.counts[workspace.model.index[b"zz"] - 3] == 42
    wait_columns(qtbot, view)
    with qtbot.waitSignal(workspace.modelEdited, timeout=LONG):
        view.add_piece(b"memory")  # count estimated from the corpus
    est = workspace.model.counts[workspace.model.index[b"memory"] - 3]
    assert est > 10
    wait_columns(qtbot, view)
    tm = view.table_model
    row = tm.row_of(workspace.model.index[b"zz"] - 3)
    with qtbot.waitSignal(workspace.modelEdited, timeout=LONG):
        assert tm.setData(tm.index(row, COUNT), "1,234", Qt.ItemDataRole.EditRole)
    assert workspace.model.counts[workspace.model.index[b"zz"] - 3] == 1234
    assert view.undo_stack.count() == 3
    assert parse_piece("a\\n\\x00⟨E4 BD⟩") == b"a\n\x00\xe4\xbd"
    settle()


def test_heldout_reevaluated_after_edits_and_concordance(qtbot, workspace, settle):
    view = VocabView(workspace)
    qtbot.addWidget(view)
    model = Model.from_counts(tiny_counts())
    with qtbot.waitSignal(view.evaluator.evaluated, timeout=LONG) as first:
        load(qtbot, workspace, model)
    value, delta = first.args
    assert value > 1 and math.isnan(delta)
    wait_columns(qtbot, view)
    with qtbot.waitSignal(view.evaluator.evaluated, timeout=LONG) as second:
        view.delete_pieces([b"ab", b"abc"])
    value2, delta2 = second.args
    assert value2 <= value and delta2 == pytest.approx(value2 - value)
    assert "held-out" in view.heldout_label.text() and "Δ" in view.heldout_label.text()
    wait_columns(qtbot, view)
    view.select_piece(b"a")
    view.show_concordance()
    conc = view.concordance.table
    qtbot.waitUntil(lambda: conc.rowCount() > 0 and view.idle, timeout=LONG)
    assert conc.item(0, 1).text() == "a"
    emitted = [conc.item(r, 3).text() for r in range(conc.rowCount())]
    assert set(emitted) == {"yes", "no"}  # "a" inside words is not cut out as a token
    assert re.search(r"emitted as a token in \d+", view.concordance.label.text())
    # the filter bar drives the table model
    view.filters.substring.setText("你")
    view.filters.apply()
    assert view.table_model.rowCount() == 2 and "2 of" in view.filters.shown.text()
    screenshot(view, "vocab_view")
    assert view.table.isVisible() and view.charts.isVisible()
    x, y = view.charts.lengths.curves["pieces"].getData()
    assert len(x) == len(y) + 1 and y.tolist() == [0, 0, 1, 0, 0, 1]  # the rows shown: 你, 你好
    settle()


# ---------------------------------------------------------------- autosave
