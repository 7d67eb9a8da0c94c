"""The Analysis view: cost per script or JSON field of the corpus, models side by side
(table, grouped bars, CSV and PNG exports), and the vocabulary diff of the current model
against any file, driven through its tab and buttons."""

from __future__ import annotations

import csv
import json
import math

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog, QMessageBox

from piecelab.engine import CorpusOptions, Model, cost_reports, load, piece_label
from piecelab.gui.analysis.cost import METRICS, NO_CORPUS, NO_MODEL

from ..conftest import tiny_counts
from .conftest import save_screenshot
from .test_main_window import LOAD_MS, open_and_wait

N_DOCS = 120
DROPPED = (b"cab", "你好".encode())
ADDED = {b"the": 30, b" the": 20, b"\xe5\xa5": 2}


@pytest.fixture
def other_model(tmp_path):
    """Model B: the tiny model without two pieces, with three of its own."""
    counts = {p: c for p, c in tiny_counts().items() if p not in DROPPED}
    counts.update(ADDED)
    return Model.from_counts(counts).save(tmp_path / "other.model")


def lang(text: str) -> str:
    return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "en"


@pytest.fixture
def corpus(tmp_path, docs):
    """The first documents as JSON Lines with a ``lang`` field."""
    path = tmp_path / "docs.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for text in docs[:N_DOCS]:
            fh.write(json.dumps({"text": text, "lang": lang(text)}, ensure_ascii=False) + "\n")
    return path


def show_analysis(qtbot, window):
    """Click the Analysis tab; the view it shows."""
    bar = window.tabs.tabBar()
    index = next(i for i in range(window.tabs.count()) if window.tabs.tabText(i) == "Analysis")
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    assert window.tabs.currentWidget() is window.analysis_view
    return window.analysis_view


def choose_file(monkeypatch, method: str, path) -> list[str]:
    """Answer the next QFileDialog.<method> with ``path``; the titles asked."""
    asked: list[str] = []

    def answer(parent, title, *args, **kwargs):
        asked.append(title)
        return str(path), ""

    monkeypatch.setattr(QFileDialog, method, answer)
    return asked


def warnings_shown(monkeypatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", lambda parent, title, text, *a, **k: shown.append(text)
    )
    return shown


def measure(qtbot, cost) -> None:
    cost.reports = []
    qtbot.mouseClick(cost.measure_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(cost.reports), timeout=LOAD_MS)


def add_model(qtbot, monkeypatch, cost, path) -> None:
    choose_file(monkeypatch, "getOpenFileName", path)
    before = len(cost.extra)
    qtbot.mouseClick(cost.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(cost.extra) == before + 1, timeout=LOAD_MS)


def table_values(table) -> dict[tuple[str, str, int], object]:
    """(group, metric, model column) → the value a cell holds."""
    out = {}
    for r in range(table.rowCount()):
        group = table.item(r, 0).text()
        metric = table.item(r, 1).data(Qt.ItemDataRole.UserRole)
        for c in range(2, table.columnCount()):
            out[group, metric, c - 2] = table.item(r, c).data(Qt.ItemDataRole.UserRole)
    return out


def assert_matches(table, reports) -> None:
    cells = table_values(table)
    expected_groups = {"overall"} | {g for rep in reports for g in rep.names()}
    assert {g for g, _, _ in cells} == expected_groups
    assert len(cells) == len(expected_groups) * len(METRICS) * len(reports)
    for i, rep in enumerate(reports):
        for group in expected_groups:
            cost = rep.overall if group == "overall" else rep.group(group)
            for key, _ in METRICS:
                want, got = getattr(cost, key), cells[group, key, i]
                if want is None:
                    assert got is None, (group, key)
                else:
                    assert got == pytest.approx(want, rel=1e-9), (group, key, i)


def test_cost_per_script_of_two_models_equals_the_engine(
    qtbot, settle, window, model_path, other_model, corpus, docs, monkeypatch
):
    open_and_wait(qtbot, window, model_path)
    ws = window.workspace
    ws.set_corpus([corpus], CorpusOptions(heldout=0.0))
    view = show_analysis(qtbot, window)
    cost = view.cost
    add_model(qtbot, monkeypatch, cost, other_model)
    assert cost.models.count() == 2 and "other.model" in cost.models.item(1).text()
    cost.max_documents.setValue(N_DOCS)
    measure(qtbot, cost)
    settle()
    assert ws.read_documents(N_DOCS) == docs[:N_DOCS]
    expected = cost_reports(
        [ws.viewer, load(other_model)], docs[:N_DOCS], "script", names=["a", "b"]
    )
    assert [r.model for r in cost.reports] == [ws.model_label, "other.model"]
    assert_matches(cost.table, expected)
    headers = [cost.table.horizontalHeaderItem(c).text() for c in range(4)]
    assert headers == ["Group", "Metric", ws.model_label, "other.model"]
    # the chart: a bar per group and model of the chosen metric
    cost.metric.setCurrentIndex(cost.metric.findData("fertility"))
    groups = expected[0].names()
    want = [[rep.group(g).fertility for g in groups] for rep in expected]
    got = cost.bar_heights()
    assert len(got) == 2
    for bars, values in zip(got, want):
        assert bars == pytest.approx([v for v in values if v is not None])
    assert expected[0].reference == groups[0] == cost.reports[0].reference
    assert "Latin" in [cost.reference.itemText(i) for i in range(cost.reference.count())]
    qtbot.wait(50)
    image = save_screenshot(view, "analysis")
    assert image.width() > 200
    settle()


def test_cost_by_field_with_a_reference(
    qtbot, settle, window, model_path, corpus, docs, monkeypatch
):
    open_and_wait(qtbot, window, model_path)
    ws = window.workspace
    ws.set_corpus([corpus], CorpusOptions(heldout=0.0))
    cost = show_analysis(qtbot, window).cost
    cost.max_documents.setValue(N_DOCS)
    cost.group_by.setCurrentText("field:lang")
    cost.reference.setCurrentText("zh")
    measure(qtbot, cost)
    settle()
    records = [(t, {"lang": lang(t)}) for t in docs[:N_DOCS]]
    expected = cost_reports([ws.viewer], records, "field:lang", "zh")
    assert set(expected[0].names()) == {"en", "zh"}
    assert cost.reports[0].reference == "zh"
    assert cost.reports[0].group("zh").premium == pytest.approx(1.0)
    assert_matches(cost.table, expected)
    # a group that is not there: a warning in words, no traceback
    shown = warnings_shown(monkeypatch)
    cost.reference.setCurrentText("fr")
    qtbot.mouseClick(cost.measure_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(shown), timeout=LOAD_MS)
    assert "fr" in shown[0] and "Traceback" not in shown[0]
    assert cost.measure_button.isEnabled()
    # back to scripts: the reference starts over, the script groups offered
    cost.group_by.setCurrentText("script")
    assert cost.reference.currentText() == "(largest group)"
    assert cost.reference.findText("Latin") >= 0 and cost.reference.findText("zh") < 0
    # a group-by the engine does not know: said before any work
    cost.group_by.setCurrentText("language")
    qtbot.mouseClick(cost.measure_button, Qt.MouseButton.LeftButton)
    assert len(shown) == 2 and "field:NAME" in shown[1]
    settle()


def test_exports_write_the_table_as_csv_and_the_chart_as_png(
    qtbot, settle, window, model_path, corpus, tmp_path, monkeypatch
):
    open_and_wait(qtbot, window, model_path)
    window.workspace.set_corpus([corpus], CorpusOptions(heldout=0.0))
    cost = show_analysis(qtbot, window).cost
    assert not cost.csv_button.isEnabled() and not cost.png_button.isEnabled()
    cost.max_documents.setValue(40)
    measure(qtbot, cost)
    settle()
    target = tmp_path / "out" / "cost.csv"
    target.parent.mkdir()
    choose_file(monkeypatch, "getSaveFileName", target)
    qtbot.mouseClick(cost.csv_button, Qt.MouseButton.LeftButton)
    with target.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["group", "metric", window.workspace.model_label]
    assert len(rows) - 1 == cost.table.rowCount()
    cells = table_values(cost.table)
    for group, metric, value in rows[1:]:
        want = cells[group, metric, 0]
        assert (value == "" and want is None) or math.isclose(float(value), want)
    assert [p.name for p in target.parent.iterdir()] == ["cost.csv"]  # no temporary left
    png = tmp_path / "cost.png"
    choose_file(monkeypatch, "getSaveFileName", png)
    qtbot.mouseClick(cost.png_button, Qt.MouseButton.LeftButton)
    image = QImage(str(png))
    assert not image.isNull() and image.width() > 100
    settle()


def test_no_corpus_or_no_model_is_said_not_a_crash(qtbot, settle, window, model_path, monkeypatch):
    window.workspace.set_corpus([])  # the bundled sample is there at first start
    cost = show_analysis(qtbot, window).cost
    qtbot.mouseClick(cost.measure_button, Qt.MouseButton.LeftButton)
    assert cost.status.text() == NO_MODEL
    open_and_wait(qtbot, window, model_path)
    assert "(current)" in cost.models.item(0).text()
    qtbot.mouseClick(cost.measure_button, Qt.MouseButton.LeftButton)
    assert cost.status.text() == NO_CORPUS
    assert cost.reports == [] and cost.table.rowCount() == 0 and cost.plot is None
    settle()


def keys(model: Model) -> set[bytes]:
    return set(model.pieces)


def test_vocabulary_diff_counts_are_set_operations(
    qtbot, settle, window, model_path, other_model, monkeypatch
):
    open_and_wait(qtbot, window, model_path)
    view = show_analysis(qtbot, window)
    view.tabs.setCurrentWidget(view.diff)
    panel = view.diff
    asked = choose_file(monkeypatch, "getOpenFileName", other_model)
    qtbot.mouseClick(panel.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.diff is not None, timeout=LOAD_MS)
    settle()
    assert asked
    a, b = keys(Model.load(model_path)), keys(Model.load(other_model))
    d = panel.diff
    assert (d.common, d.only_a, d.only_b) == (len(a & b), len(a - b), len(b - a))
    assert d.jaccard == pytest.approx(len(a & b) / len(a | b))
    assert set(d.only_a_keys) == set(DROPPED) and set(d.only_b_keys) == set(ADDED)
    text = panel.summary.text()
    assert f"common {len(a & b):,}" in text and f"Jaccard {d.jaccard:.4f}" in text
    assert panel.tables["only_a"].rowCount() == 2
    assert panel.tables["only_b"].rowCount() == 3
    assert panel.tables["common"].rowCount() == len(a & b)
    assert sorted(panel.shown("only_b")) == sorted(r["piece"] for r in d.entries("only_b"))
    changes = [
        panel.tables["common"].item(r, 3).data(Qt.ItemDataRole.UserRole)
        for r in range(panel.tables["common"].rowCount())
    ]
    assert changes == d.rank_change().tolist()
    # the filter: every list keeps the pieces holding the text
    qtbot.keyClicks(panel.filter, "th")
    settle()
    assert sorted(panel.shown("only_b")) == [" the", "the"]
    assert panel.shown("only_a") == [] and panel.shown("common") == []
    assert "(2 of 3)" in panel.headings["only_b"].text()
    panel.filter.clear()
    settle()
    assert panel.tables["common"].rowCount() == len(a & b)
    save_screenshot(view, "analysis-diff")
    # another model A: the diff follows (B against itself)
    open_and_wait(qtbot, window, other_model)
    qtbot.waitUntil(lambda: panel.diff.only_a == panel.diff.only_b == 0, timeout=LOAD_MS)
    assert panel.diff.common == len(b) and panel.diff.jaccard == 1.0
    settle()


def test_a_file_that_is_no_vocabulary_is_a_warning(
    qtbot, settle, window, model_path, tmp_path, monkeypatch
):
    open_and_wait(qtbot, window, model_path)
    view = show_analysis(qtbot, window)
    bad = tmp_path / "broken.model"
    bad.write_bytes(b"\x00\x01 not a vocabulary")
    shown = warnings_shown(monkeypatch)
    choose_file(monkeypatch, "getOpenFileName", bad)
    qtbot.mouseClick(view.diff.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=LOAD_MS)
    qtbot.mouseClick(view.cost.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(shown) == 2, timeout=LOAD_MS)
    settle()
    assert all("broken.model" in s and "Traceback" not in s for s in shown)
    assert view.diff.diff is None and view.cost.extra == []
    settle()


def test_a_clicked_piece_shows_its_lines_cut_by_both_models(
    qtbot, settle, window, model_path, other_model, corpus, monkeypatch
):
    open_and_wait(qtbot, window, model_path)
    window.workspace.set_corpus([corpus], CorpusOptions(heldout=0.0))
    view = show_analysis(qtbot, window)
    view.tabs.setCurrentWidget(view.diff)
    panel = view.diff
    choose_file(monkeypatch, "getOpenFileName", other_model)
    qtbot.mouseClick(panel.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.diff is not None, timeout=LOAD_MS)
    table = panel.tables["only_b"]
    row = next(r for r in range(table.rowCount()) if panel.rows["only_b"][r]["piece"] == "the")
    rect = table.visualItemRect(table.item(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: "A:" in panel.context.toPlainText(), timeout=LOAD_MS)
    shown = panel.context.toPlainText()
    a, b = load(model_path), load(other_model)
    first = shown.split("\n")[1]  # the first line in context, then its two cuttings
    assert "the" in first
    assert "A: " + " │ ".join(piece_label(p) for p in a.tokenize(first)) in shown
    assert "B: " + " │ ".join(piece_label(p) for p in b.tokenize(first)) in shown
    # a piece that is no whole character has no text to search for
    row = next(r for r in range(table.rowCount()) if panel.rows["only_b"][r]["hex"] == "e5a5")
    rect = table.visualItemRect(table.item(row, 0))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert "not whole characters" in panel.context.toPlainText()
    settle()
