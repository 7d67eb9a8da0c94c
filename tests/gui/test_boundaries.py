"""The boundary strip under the deterministic tokens and the continuation check at the caret."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QTextCursor

from piecelab.gui.playground.token_view import BOUNDARY_COLOR

from .conftest import save_screenshot
from .test_playground import Playground, set_text, shown_playground

TEXT = "Natural language processing 分词器"


@pytest.fixture
def pg(qtbot, bundled_model_path) -> Playground:
    return shown_playground(qtbot, bundled_model_path)


def _reddish(image) -> int:
    """Pixels of the strip's hue (any shade) in a grab."""
    target = BOUNDARY_COLOR.hue()
    hits = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            c = QColor(image.pixel(x, y))
            hits += c.saturation() > 60 and abs(c.hue() - target) < 12
    return hits


def test_the_strip_shows_the_exact_marginals_at_the_controls_alpha(qtbot, pg, settle):
    set_text(qtbot, pg, TEXT)
    view, tok = pg.viterbi.view, pg.tokenizer
    expected = tok.boundary_marginals(TEXT, pg.controls.alpha)
    assert view.boundaries is not None and np.array_equal(view.boundaries, expected)
    with_strip = _reddish(view.viewport().grab().toImage())
    view.set_boundaries(None)
    assert with_strip > _reddish(view.viewport().grab().toImage())
    view.set_boundaries(expected)
    save_screenshot(pg, "playground-boundaries")
    settle()


def test_the_continuation_check_follows_the_caret(qtbot, pg, settle):
    set_text(qtbot, pg, TEXT)
    tok = pg.tokenizer
    pg.editor.setFocus()
    qtbot.keyClick(pg.editor, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    for _ in range(11):  # "Natural lan|guage"
        qtbot.keyClick(pg.editor, Qt.Key.Key_Right)
    assert pg.cut_offset() == 11
    check = tok.continuation(TEXT, 11, pg.controls.alpha)
    text = pg.cut_label.text()
    assert "byte 11 of" in text and f"{check.probability:.4%}" in text
    assert ("inside" in text) == (check.viterbi_token is not None)
    cursor = pg.editor.textCursor()
    cursor.setPosition(len("Natural"))  # before " language": a deterministic boundary
    pg.editor.setTextCursor(cursor)
    assert "a boundary of the deterministic segmentation" in pg.cut_label.text()
    cursor.movePosition(QTextCursor.MoveOperation.End)  # after the Chinese: UTF-8 offsets
    pg.editor.setTextCursor(cursor)
    n = len(TEXT.encode())
    assert pg.cut_offset() == n and f"byte {n:,} of {n:,}" in pg.cut_label.text()
    settle()


def test_alpha_moves_the_probability(qtbot, pg, settle):
    set_text(qtbot, pg, TEXT)
    before = pg.viterbi.view.boundaries.copy()
    with qtbot.waitSignal(pg.refreshed, timeout=5000):
        pg.controls.alpha_spin.setValue(0.05)
    after = pg.viterbi.view.boundaries
    assert not np.allclose(before, after)
    assert np.allclose(after, pg.tokenizer.boundary_marginals(TEXT, 0.05))
    settle()
