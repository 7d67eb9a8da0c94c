"""The playground's Lattice tab: arcs, forward values, the sampler step-through, export."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QFileDialog

from piecelab.engine import MAX_LATTICE_BYTES, Tokenizer
from piecelab.gui.playground import Playground
from piecelab.gui.playground.lattice_view import FOREIGN, LatticeView

from .conftest import distinct_colors, save_screenshot
from .test_playground import shown_playground

LOAD_MS = 120_000
TEXT = "abcab cab 你好"


@pytest.fixture
def pg(qtbot, model_path) -> Playground:
    return shown_playground(qtbot, model_path, (1400, 800))


def show_lattice(pg: Playground) -> LatticeView:
    pg.tabs.setCurrentWidget(pg.lattice)
    return pg.lattice


def type_text(qtbot, view: LatticeView, text: str) -> None:
    view.text_edit.clear()
    cut = next((i for i, c in enumerate(text) if ord(c) > 127), len(text))
    qtbot.keyClicks(view.text_edit, text[:cut])  # (QTest types ASCII only)
    view.text_edit.insert(text[cut:])
    assert view.text_edit.text() == text


def test_tab_defaults_to_the_editor_head_and_draws_the_lattice(pg, settle):
    tok = pg.tokenizer
    assert isinstance(tok, Tokenizer)
    assert pg.tabs.tabText(pg.tabs.indexOf(pg.lattice)) == "Lattice"
    view = show_lattice(pg)
    head = pg.text().encode()[:32].decode("utf-8", "ignore")
    assert view.text_edit.text() == head
    lat = view.lattice
    assert lat is not None
    expected = tok.lattice(head, view.alpha_spin.value())
    assert lat.arcs == expected.arcs and lat.viterbi == expected.viterbi
    assert lat.forward.tolist() == pytest.approx(expected.forward.tolist())
    settle()


def test_step_through_shows_the_engine_probabilities(qtbot, pg, settle):
    view = show_lattice(pg)
    type_text(qtbot, view, TEXT)
    view.alpha_spin.setValue(0.7)
    view.seed_spin.setValue(3)
    tok = pg.tokenizer
    lat = tok.lattice(TEXT, 0.7)
    expected = lat.sampler_steps(3)
    assert view.lattice.log_partition == pytest.approx(tok.log_partition(TEXT, 0.7))
    assert view.table.rowCount() == 0 and view.shown_probabilities() == []
    taken = 0
    while view.step_button.isEnabled():
        qtbot.mouseClick(view.step_button, Qt.MouseButton.LeftButton)
        st = expected[taken]
        taken += 1
        shown = view.shown_probabilities()
        assert [k for k, _ in shown] == list(st.arcs)
        assert [p for _, p in shown] == pytest.approx(list(st.probs), abs=1e-12)
        for r, p in enumerate(st.probs):
            assert view.table.item(r, 4).text() == f"{p:.4f}"
        drawn = [r for r in range(view.table.rowCount()) if "drawn" in view.table.item(r, 0).text()]
        assert drawn == [list(st.arcs).index(st.chosen)]
        assert f"p = {st.prob:.4f}" in view.status.text()
        assert taken <= len(expected)
    assert taken == len(expected)
    assert "Π of the choices" in view.status.text()
    save_screenshot(view, "lattice")
    qtbot.mouseClick(view.reset_button, Qt.MouseButton.LeftButton)
    assert view.taken == 0 and view.step_button.isEnabled()
    qtbot.mouseClick(view.all_button, Qt.MouseButton.LeftButton)
    assert view.taken == len(expected) and not view.step_button.isEnabled()
    settle()


def test_export_png_and_svg(qtbot, pg, settle, tmp_path, monkeypatch):
    view = show_lattice(pg)
    type_text(qtbot, view, TEXT)
    qtbot.mouseClick(view.step_button, Qt.MouseButton.LeftButton)
    png, svg = tmp_path / "lattice.png", tmp_path / "lattice.svg"
    answers = iter([(str(png), ""), (str(svg), "")])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: next(answers))
    qtbot.mouseClick(view.png_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(view.svg_button, Qt.MouseButton.LeftButton)
    image = QImage(str(png))
    assert not image.isNull() and image.width() > 200
    assert distinct_colors(image, step=3) > 4
    assert svg.stat().st_size > 0
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    assert "ab" in svg.read_text()
    settle()


def test_messages_for_long_texts_and_other_libraries(qtbot, pg, settle):
    view = show_lattice(pg)
    type_text(qtbot, view, "a" * (MAX_LATTICE_BYTES + 1))
    assert view.lattice is None
    assert f"at most {MAX_LATTICE_BYTES} bytes" in view.status.text()
    assert not view.step_button.isEnabled() and not view.png_button.isEnabled()
    view.set_tokenizer(object())  # another library's vocabulary
    assert view.status.text() == FOREIGN and view.lattice is None
    view.set_tokenizer(pg.tokenizer)
    type_text(qtbot, view, "abc")
    assert view.lattice is not None and view.step_button.isEnabled()
    settle()
