"""The Train view's compression curve: a "curve points" spin box, the ladder drawn live
on the held-out chart, and earlier runs' curves overlaid."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from piecelab.engine import CorpusOptions, Metric, TrainSettings
from piecelab.gui.state import Workspace
from piecelab.gui.train import TrainView
from piecelab.gui.train.charts import CURRENT

LONG = 60_000  # ms: the first run may compile numba kernels


@pytest.fixture
def view(qtbot, tmp_path, docs) -> TrainView:
    path = tmp_path / "tiny.jsonl"  # 300 documents: about 730 ids at most
    path.write_text("".join(json.dumps({"text": d}) + "\n" for d in docs[:300]), "utf-8")
    ws = Workspace()
    ws.set_corpus([Path(path)], CorpusOptions(heldout=0.05))
    v = TrainView(ws)
    qtbot.addWidget(v)
    v.form.adopt.setChecked(False)
    v.form.workers.setValue(2)
    return v


def test_curve_spin_box_skips_one_and_maps_to_the_settings(qtbot, view, settle):
    box = view.form.curve
    assert box.value() == 0 and box.text() == "off" and box.toolTip()
    qtbot.keyClick(box, Qt.Key.Key_Up)
    assert box.value() == 2  # a curve of one point is no curve
    qtbot.keyClick(box, Qt.Key.Key_Down)
    assert box.value() == 0
    box.setValue(12)
    assert view.form.settings().curve == 12
    view.form.show_settings(TrainSettings(curve=5))
    assert box.value() == 5
    settle()


def test_curve_is_drawn_live_and_overlaid(qtbot, view, monkeypatch, settle):
    live: list[Metric] = []
    add = view.charts.add_metric

    def record(m: Metric) -> None:
        live.append(m)
        add(m)

    monkeypatch.setattr(view.charts, "add_metric", record)
    view.form.sizes.setText("700")
    view.form.curve.setFocus()
    for _ in range(2):  # off → 2 → 3
        qtbot.keyClick(view.form.curve, Qt.Key.Key_Up)
    assert view.form.curve.value() == 3
    with qtbot.waitSignal(view.runEnded, timeout=LONG) as ended:
        view.start_button.click()
    assert ended.args == ["succeeded"], view.log.toPlainText()
    curve = [m for m in live if m.series == "curve"]
    assert sorted(int(m.extra["size"]) for m in curve) == [259, 700]  # 700 / 8 → 259
    run = view.workspace.runs[-1]
    assert run.settings.curve == 3 and set(run.heldout) == {259, 700}
    view.charts.heldout.flush()
    xs, ys = view.charts.heldout.points(run.name)
    assert list(xs) == [259, run.models[700].vocab_size] and ys[0] < ys[1]
    assert CURRENT not in view.charts.heldout.curves  # the run is an overlay now
    table = view.runs.history
    held = table.item(0, table.column("bytes/token")).text()
    assert "259" not in held  # the table lists the requested sizes only
    view.form.curve.setValue(4)  # a second run: the first stays overlaid
    with qtbot.waitSignal(view.runEnded, timeout=LONG):
        view.start_button.click()
    view.charts.heldout.flush()
    assert {"run 1", "run 2"} <= set(view.charts.heldout.curves)
    xs2, _ = view.charts.heldout.points("run 2")
    assert len(xs2) == 3 and 259 in xs2  # 700, 350, 259
    settle()


def test_live_points_are_drawn_by_size(qtbot, settle):
    from piecelab.gui.train.charts import TrainCharts

    charts = TrainCharts()
    qtbot.addWidget(charts)
    charts.start_run()
    for size, y in ((600, 3.1), (300, 2.5), (800, 3.3)):
        series = "heldout" if size == 800 else "curve"
        charts.add_metric(Metric(series, size, y, {"size": size}))
    charts.add_metric(Metric("curve", 800, 3.3, {"size": 800}))  # the same point again
    xs, ys = charts.heldout.points(CURRENT)
    assert list(xs) == [300, 600, 800] and list(ys) == [2.5, 3.1, 3.3]
    settle()
