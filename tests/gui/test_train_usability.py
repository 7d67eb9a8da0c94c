"""The Train view's usability (issues #15, #19): runs at their real sizes, the runs
table (corpus, held-out identity, ≠ marks), chart exports, readable charts, keys,
and what "Use model" says.  Real runs use a tiny corpus so they stay fast."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QToolButton

from piecelab.engine import CorpusIdentity, CorpusOptions, Metric, Model, TrainSettings
from piecelab.gui.state import TrainingRun, Workspace
from piecelab.gui.train import TrainView
from piecelab.gui.train.charts import CURRENT, TrainCharts
from piecelab.gui.widgets import LiveChart

from ..conftest import tiny_counts

LONG = 60_000  # ms: the first run may compile numba kernels
TODAY = dt.date.today().isoformat()


@pytest.fixture
def tiny_file(tmp_path, docs) -> Path:
    """300 documents: about 730 ids at most (order 6, min count 2)."""
    path = tmp_path / "tiny.jsonl"
    path.write_text("".join(json.dumps({"text": d}) + "\n" for d in docs[:300]), "utf-8")
    return path


@pytest.fixture
def workspace(tiny_file) -> Workspace:
    ws = Workspace()
    ws.set_corpus([tiny_file], CorpusOptions(heldout=0.05))
    return ws


@pytest.fixture
def view(qtbot, workspace) -> TrainView:
    v = TrainView(workspace)
    qtbot.addWidget(v)
    v.form.adopt.setChecked(False)
    v.form.workers.setValue(2)
    return v


def train(qtbot, view: TrainView, sizes: str) -> TrainingRun:
    view.form.sizes.setText(sizes)
    ended: list[str] = []
    view.runEnded.connect(ended.append)
    with qtbot.waitSignal(view.runEnded, timeout=LONG):
        view.start_button.click()
    assert ended == ["succeeded"], view.log.toPlainText()
    return view.workspace.runs[-1]


def model_of(n: int) -> Model:
    """A model of ``n`` ids (256 bytes, 3 specials, pairs of letters)."""
    counts = dict(tiny_counts())
    pairs = (bytes([a, b]) for a in range(97, 123) for b in range(97, 123))
    while len(counts) + 3 < n:
        counts.setdefault(next(pairs), 2)
    return Model.from_counts(counts)


def fake_run(
    name: str, sizes: tuple[int, ...], key: str = "k1", most: int = 10**9, **kw
) -> TrainingRun:
    """A run without training whose corpus gave at most ``most`` ids."""
    ident = CorpusIdentity("c.jsonl", 2_500_000, 3, 0.05, key)
    return TrainingRun(
        name,
        TrainSettings(vocab_sizes=sizes, **kw),
        0.05,
        heldout={s: 2.0 + s / 1000 for s in sizes},
        prune_points=[(900.0, 3.0), (270.0, 2.0)],
        models={s: model_of(min(s, most)) for s in sizes},
        elapsed=1.5,
        corpus=ident,
    )


def export_through_button(chart: LiveChart, kind: str, target: Path, monkeypatch) -> str:
    """Click the chart's PNG…/CSV… button; the dialog answers ``target``; returns the
    name the dialog proposed."""
    asked: list[str] = []

    def dialog(parent, caption, start, pattern):
        asked.append(start)
        return str(target), pattern

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    [button] = [b for b in chart.findChildren(QToolButton) if b.text() == f"{kind.upper()}…"]
    button.click()
    return Path(asked[0]).name


def cells(view: TrainView, row: int) -> dict[str, str]:
    table = view.runs.history
    return {h: table.item(row, c).text() for c, h in enumerate(table.HEADERS)}


# ---------------------------------------------------------------- 1. real sizes
def test_unreached_size_is_shown_at_its_real_size_and_flagged(
    qtbot, view, workspace, tmp_path, monkeypatch, settle
):
    run = train(qtbot, view, "5000, 300")
    got = run.models[5000].vocab_size
    assert 300 < got < 5000 and run.short() == {5000: got}
    for chart in view.charts.charts():
        chart.flush()
    hx, _ = view.charts.heldout.points("run 1")
    assert list(hx) == [300, got]  # not 5,000
    px, _ = view.charts.prune.points("run 1")
    assert max(px) <= got
    flagged = f"{got:,} (asked 5,000)"
    assert cells(view, 0)["sizes"] == f"{flagged}, 300"
    assert "asked 5,000, got" in view.runs.history.item(0, 2).toolTip()
    assert [view.runs.sizes.itemText(i) for i in range(2)] == [flagged, "300"]
    assert cells(view, 0)["bytes/token"].startswith("300: ")
    assert f"{got:,}: " in cells(view, 0)["bytes/token"]
    assert flagged in view.status.text() and "not reached" in view.status.text()
    assert "warning: size 5,000 not reached" in view.log.toPlainText()
    assert "1 warning" in view.status.text()
    out = tmp_path / "held.csv"
    export_through_button(view.charts.heldout, "csv", out, monkeypatch)
    rows = [r for r in csv.DictReader(out.open()) if r["series"] == "run 1"]
    assert [float(r["x"]) for r in rows] == [300, got]
    assert flagged in rows[0]["description"]
    settle()


# ---------------------------------------------------------------- 2. runs table
def test_runs_table_names_the_corpus_and_marks_other_heldout_sets(
    qtbot, view, workspace, tiny_file, settle
):
    first = train(qtbot, view, "300")
    assert first.corpus is not None and first.corpus.name == "tiny.jsonl"
    row = cells(view, 0)
    assert row["corpus"] == f"tiny.jsonl · {tiny_file.stat().st_size / 1e6:.2f} MB on disk · 1 file"
    assert row["held-out"] == f"5% · {first.corpus.key}" and row["run"] == "run 1"
    view.form.heldout.setValue(10.0)  # another held-out set: not comparable any more
    second = train(qtbot, view, "300")
    assert second.corpus.key != first.corpus.key
    table = view.runs.history
    assert cells(view, 0)["run"] == "run 1 ≠" and cells(view, 1)["run"] == "run 2"
    tip = "held-out set differs from run 2: bytes/token not comparable"
    assert tip in table.item(0, 0).toolTip() and tip in table.item(0, 4).toolTip()
    view.charts.heldout.flush()
    assert view.charts.heldout.label("run 1") == "run 1 ≠"
    assert view.charts.heldout.label("run 2") == "run 2"
    assert "differs from run 2" in view.charts.heldout.notes["run 1"]
    settle()


def test_runs_table_columns_fit_or_elide_with_tooltips(qtbot, view, workspace, settle):
    view.resize(1200, 760)
    view.show()
    qtbot.waitExposed(view)
    for i in range(3):
        workspace.add_run(fake_run(f"run {i + 1}", (32000, 16000, 8000, 4000, 2000), most=300))
    table = view.runs.history
    header = table.horizontalHeader()
    col = table.HEADERS.index("bytes/token")
    assert header.sectionViewportPosition(col) + header.sectionSize(col) <= (
        table.viewport().width()
    ), "bytes/token is cut off"
    for r in range(table.rowCount()):
        for c in range(table.columnCount()):
            item = table.item(r, c)
            fits = table.fontMetrics().horizontalAdvance(item.text()) + 8 <= table.columnWidth(c)
            assert fits or item.text() in item.toolTip(), (table.HEADERS[c], item.text())
    settle()


# ---------------------------------------------------------------- 5. exports
def test_chart_exports_have_a_fixed_size_legend_and_default_names(
    qtbot, view, workspace, tmp_path, monkeypatch, settle
):
    said: list[str] = []
    workspace.message.connect(said.append)
    workspace.add_run(fake_run("run 1", (400, 300), min_count=3))
    workspace.add_run(fake_run("run 2", (500,), order=4))
    chart = view.charts.heldout
    chart.resize(300, 700)  # a tall, narrow chart on screen
    png = tmp_path / "held.png"
    assert export_through_button(chart, "png", png, monkeypatch) == f"piecelab-held-out-{TODAY}.png"
    image = QImage(str(png))
    assert (image.width(), image.height()) == (1200, 750)
    small = image.scaled(120, 75).convertToFormat(QImage.Format.Format_RGB32)
    assert len({small.pixel(x, y) for x in range(120) for y in range(75)}) > 10
    assert said[-1] == f"Chart exported to {png}"
    out = tmp_path / "prune"  # no suffix typed: .csv is added
    name = export_through_button(view.charts.prune, "csv", out, monkeypatch)
    assert name == f"piecelab-pruning-{TODAY}.csv"
    rows = list(csv.DictReader((tmp_path / "prune.csv").open()))
    notes = {r["series"]: r["description"] for r in rows}
    assert "order 6" in notes["run 1"] and "min count 3" in notes["run 1"]
    assert (
        "sizes 400, 300" in notes["run 1"]
        and "c.jsonl · 2.50 MB on disk · 3 files" in notes["run 1"]
    )
    assert "order 4" in notes["run 2"] and "sizes 500" in notes["run 2"]
    settle()


# ---------------------------------------------------------------- 6. readable charts
def test_a_single_point_gets_a_readable_range_and_whole_ticks(qtbot, settle):
    charts = TrainCharts()
    qtbot.addWidget(charts)
    chart = charts.heldout
    charts.start_run()
    charts.add_metric(Metric("heldout", 32000, 3.5, {"size": 32000}))
    chart.flush()
    view = chart.plot.getPlotItem().getViewBox()
    (x0, x1), (y0, y1) = view.viewRange()
    assert x1 - x0 >= 2000 and x0 < 32000 < x1
    assert y1 - y0 >= 0.5 and y0 < 3.5 < y1
    axis = chart.plot.getPlotItem().getAxis("bottom")
    ticks = [v for _, values in axis.tickValues(x0, x1, 300) for v in values]
    labels = axis.tickStrings(ticks, 1, 1)
    assert labels and all("." not in t for t in labels), labels
    charts.add_metric(Metric("heldout", 16000, 3.2, {"size": 16000}))
    chart.flush()  # spread data: autorange again
    assert view.autoRangeEnabled()[0] and view.autoRangeEnabled()[1]
    settle()


def test_training_charts_say_what_will_appear_until_points_arrive(qtbot, settle):
    charts = TrainCharts()
    qtbot.addWidget(charts)
    assert "bytes per piece" in charts.bytes_per_piece.empty_message()
    assert "starts with a run" in charts.bytes_per_piece.empty_message()
    assert "held-out" in charts.heldout.empty_message()
    charts.start_run()
    charts.add_metric(Metric("ngram_bytes_per_piece", 1000, 2.5))
    charts.bytes_per_piece.flush()
    assert charts.bytes_per_piece.empty_message() == ""
    assert charts.prune.empty_message() != ""  # no pruning point yet
    charts.start_run()  # a new run: empty again until its first point
    charts.bytes_per_piece.flush()
    assert "starts with a run" in charts.bytes_per_piece.empty_message()
    x, _ = charts.bytes_per_piece.points(CURRENT)
    assert len(x) == 0
    settle()


# ---------------------------------------------------------------- 7. keys
def test_start_and_cancel_from_the_keyboard(qtbot, view, workspace, settle):
    assert "Ctrl+Return" in view.start_button.toolTip()
    assert "Esc" in view.cancel_button.toolTip()
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    view.start_button.setFocus()
    qtbot.waitUntil(lambda: view.start_button.hasFocus())
    qtbot.keyClick(view.start_button, Qt.Key.Key_Escape)  # nothing runs: nothing to do
    assert not view.running and workspace.runs == []
    ended: list[str] = []
    view.runEnded.connect(ended.append)
    view.form.sizes.setText("500")
    qtbot.keyClick(view.start_button, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert view.running and not view.start_button.isEnabled()
    with qtbot.waitSignal(view.runEnded, timeout=10_000):
        qtbot.keyClick(view.start_button, Qt.Key.Key_Escape)
    assert ended == ["cancelled"] and workspace.runs[-1].cancelled
    assert view.start_button.isEnabled()
    settle()


# ---------------------------------------------------------------- 8. use model
def test_use_model_says_which_run_and_size(qtbot, view, workspace, settle):
    said: list[str] = []
    workspace.message.connect(said.append)
    workspace.add_run(fake_run("run 1", (400, 300), most=350))
    workspace.add_run(fake_run("run 2", (500,)))
    view.runs.history.selectRow(0)
    assert [view.runs.sizes.itemText(i) for i in range(view.runs.sizes.count())] == [
        "350 (asked 400)",
        "300",
    ]
    with qtbot.waitSignal(workspace.modelChanged, timeout=LONG):
        view.runs.use_button.click()
    expected = "Using run 1's model: 350 ids (asked 400)"
    assert view.status.text() == expected and expected in said
    assert workspace.model_label == "run 1's model"
    settle()


def test_a_fresh_train_view_starts_with_two_workers_where_there_are_two_cores(
    qtbot, monkeypatch, settle
):
    import os

    for cores, shown in ((8, 2), (1, 1)):
        monkeypatch.setattr(os, "cpu_count", lambda cores=cores: cores)
        view = TrainView(Workspace())
        qtbot.addWidget(view)
        assert view.form.workers.value() == shown
        assert view.form.settings().workers == shown
    settle()
