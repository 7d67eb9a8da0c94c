"""The Train view on a Ray cluster (issue 18): the "where" choice, the cluster's size,
the same model as on this machine, and a cancel that stops the cluster's tasks."""

from __future__ import annotations

import glob
import json
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QComboBox

from piecelab.engine import CorpusOptions, TrainSettings
from piecelab.gui.state import Workspace
from piecelab.gui.train import TrainView

from ..cluster.conftest import task_processes

pytest.importorskip("ray")

LONG = 120_000  # ms: a training process starts, then its own Ray


@pytest.fixture
def corpus_file(tmp_path, docs) -> Path:
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps({"text": d}) + "\n" for d in docs[:600]), "utf-8")
    return path


@pytest.fixture
def view(qtbot, corpus_file) -> TrainView:
    ws = Workspace()
    ws.set_corpus([corpus_file], CorpusOptions(heldout=0.05))
    v = TrainView(ws)
    qtbot.addWidget(v)
    v.form.adopt.setChecked(False)
    v.form.workers.setValue(2)
    v.form.sizes.setText("700")
    return v


def _run(qtbot, view: TrainView) -> str:
    ended: list[str] = []
    view.runEnded.connect(ended.append)
    with qtbot.waitSignal(view.runEnded, timeout=LONG):
        view.start_button.click()
    return ended[0]


def _choose_ray(qtbot, view: TrainView, address: str) -> None:
    combo: QComboBox = view.form.where
    assert not view.form.address.isEnabled()
    combo.setCurrentIndex(combo.findText("Ray cluster"))
    assert view.form.address.isEnabled()
    view.form.address.clear()
    qtbot.keyClicks(view.form.address, address)


@pytest.mark.slow
def test_a_run_on_a_local_ray_shows_its_workers_and_gives_the_same_model(
    qtbot, view, tmp_path, settle
):
    view.form.output.setText(str(tmp_path / "here.model"))
    assert _run(qtbot, view) == "succeeded", view.log.toPlainText()
    assert not view.cluster_label.isVisible()
    _choose_ray(qtbot, view, "local")
    view.form.output.setText(str(tmp_path / "ray.model"))
    assert _run(qtbot, view) == "succeeded", view.log.toPlainText()
    assert view.cluster_label.text() == "Ray cluster: 2 workers on 1 node"
    assert view.workspace.train_settings.cluster == "local"
    assert (tmp_path / "ray.model").read_bytes() == (tmp_path / "here.model").read_bytes()
    assert "cluster worker(s)" in view.log.toPlainText()
    settle()


@pytest.mark.slow
def test_cancel_stops_the_cluster_run_and_leaves_no_ray_behind(
    qtbot, view, corpus_file, docs, settle
):
    corpus_file.write_text(
        "".join(json.dumps({"text": d}) + "\n" for d in docs * 6), "utf-8"
    )  # long enough to cancel in the middle
    view.workspace.set_corpus([corpus_file], CorpusOptions(heldout=0.05))
    before = set(glob.glob("/tmp/plray-*"))
    _choose_ray(qtbot, view, "local")
    ended: list[str] = []
    view.runEnded.connect(ended.append)
    view.start_button.click()
    qtbot.waitUntil(lambda: "shard(s) on 2 worker(s)" in view.log.toPlainText(), timeout=LONG)
    t0 = time.monotonic()
    with qtbot.waitSignal(view.runEnded, timeout=30_000):
        view.cancel_button.click()
    assert ended == ["cancelled"]
    assert time.monotonic() - t0 < 20
    qtbot.waitUntil(lambda: not task_processes(), timeout=15_000)
    qtbot.waitUntil(lambda: set(glob.glob("/tmp/plray-*")) == before, timeout=15_000)
    settle()


def test_an_empty_address_is_refused_before_anything_starts(qtbot, view):
    _choose_ray(qtbot, view, "   ")
    view.start_button.click()
    assert not view.running
    assert "Ray address" in view.status.text()


def test_the_where_choice_is_kept_with_the_settings(qtbot, view):
    view.form.show_settings(TrainSettings(cluster="auto"))
    assert view.form.where.currentText() == "Ray cluster"
    assert view.form.address.text() == "auto"
    assert view.form.settings().cluster == "auto"
    view.form.show_settings(TrainSettings())
    assert view.form.where.currentText() == "This machine"
    assert view.form.settings().cluster == ""
