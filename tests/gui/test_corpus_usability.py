"""The Corpus view's usability (issues #15, #19): the bundled sample is labelled and
replaced by the first file of one's own, the preview follows the selected source,
a click on a problem shows its line, and "no problems" is said."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from piecelab.gui.corpus import CorpusView
from piecelab.gui.corpus import view as corpus_view
from piecelab.gui.corpus.preview import MARK
from piecelab.gui.state import Workspace

SCAN_MS = 30_000


@pytest.fixture
def sample(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "sample.jsonl.gz"
    path.write_bytes(gzip.compress(b"".join(b'{"text": "sample doc %d"}\n' % i for i in range(5))))
    monkeypatch.setattr(corpus_view, "sample_corpus_path", lambda: path)
    return path


@pytest.fixture
def own(tmp_path) -> Path:
    path = tmp_path / "mine.jsonl"
    path.write_text("".join(json.dumps({"text": f"my doc {i}"}) + "\n" for i in range(5)))
    return path


def scan(qtbot, view: CorpusView):
    with qtbot.waitSignal(view.scanned, timeout=SCAN_MS) as blocker:
        view.scan_button.click()
    return blocker.args[0]


def pick_files(monkeypatch, paths: list[Path]) -> None:
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", lambda *a, **k: ([str(p) for p in paths], "")
    )


# ---------------------------------------------------------------- 3. the sample corpus
def test_sample_is_labelled_and_the_first_own_file_replaces_it(
    qtbot, sample, own, tmp_path, monkeypatch, settle
):
    ws = Workspace()
    said: list[str] = []
    ws.message.connect(said.append)
    view = CorpusView(ws)
    qtbot.addWidget(view)
    assert ws.corpus_paths == [sample]
    item = view.sources.item(0)
    assert "bundled sample corpus" in item.text() and str(sample) in item.toolTip()
    pick_files(monkeypatch, [own])
    view.add_files_button.click()
    assert ws.corpus_paths == [own]  # replaced, not added to
    assert said and "sample corpus was replaced by mine.jsonl" in said[-1]
    assert "bundled" not in view.sources.item(0).text()
    second = tmp_path / "second.txt"
    second.write_text("another\n")
    pick_files(monkeypatch, [second])
    view.add_files_button.click()
    assert ws.corpus_paths == [own, second]  # from now on files are added
    assert "Added second.txt" in said[-1]
    view.sources.item(1).setSelected(True)
    view.remove_button.click()  # the item's path, not its label, says what goes
    assert ws.corpus_paths == [own]
    settle()


def test_preview_follows_the_selected_source(qtbot, tmp_path, settle):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.txt"
    a.write_text("".join(json.dumps({"text": f"alpha {i}"}) + "\n" for i in range(200)))
    b.write_text("beta one\nbeta two\n")
    ws = Workspace()
    ws.set_corpus([a, b])
    view = CorpusView(ws)
    qtbot.addWidget(view)
    scan(qtbot, view)
    text = view.preview.toPlainText()
    assert "alpha 0" in text and "beta one" in text  # all sources, each of them shown
    view.sources.item(1).setSelected(True)  # b alone
    qtbot.waitUntil(lambda: "beta one" in view.preview.toPlainText())
    assert "alpha" not in view.preview.toPlainText()
    assert "b.txt" in view.preview.title.text() and "b.txt" in view.tabs.tabText(1)
    view.sources.clearSelection()  # none selected: all sources again
    assert "alpha 0" in view.preview.toPlainText() and "beta one" in view.preview.toPlainText()
    settle()


# ---------------------------------------------------------------- 4. problems
def test_clicking_a_problem_shows_its_line_marked(qtbot, tmp_path, settle):
    bad = tmp_path / "bad.txt"
    lines = [f"line {i}" for i in range(1, 21)]
    bad.write_bytes("\n".join(lines).encode().replace(b"line 12", b"line \xff12") + b"\n")
    ws = Workspace()
    ws.set_corpus([bad])
    view = CorpusView(ws)
    qtbot.addWidget(view)
    result = scan(qtbot, view)
    assert [(p.kind, p.line) for p in result.problems] == [("invalid-utf8", 12)]
    rect = view.problems.visualItemRect(view.problems.item(0, 1))
    view.tabs.setCurrentIndex(2)
    qtbot.mouseClick(view.problems.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.tabs.currentWidget() is view.preview
    qtbot.waitUntil(lambda: view.preview.marked == 12)
    shown = view.preview.toPlainText().splitlines()
    assert len(shown) == 7 and shown[0].endswith("line 9") and shown[-1].endswith("line 15")
    [marked] = [row for row in shown if row.startswith(MARK)]
    assert "12 │ line \ufffd12" in marked
    assert "bad.txt, line 12" in view.preview.title.text()
    selections = view.preview.text.extraSelections()
    assert len(selections) == 1 and selections[0].cursor.block().text() == marked
    settle()


def test_a_clean_scan_says_no_problems_were_found(qtbot, own, settle):
    ws = Workspace()
    ws.set_corpus([own])
    view = CorpusView(ws)
    qtbot.addWidget(view)
    scan(qtbot, view)
    assert view.problems.rowCount() == 0
    assert "no problems found" in view.problems_note.text().lower()
    assert view.tabs.tabText(2) == "Problems (none)"
    settle()
