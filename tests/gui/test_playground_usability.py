"""Playground usability (#19, #15): α range and its messages, the sampling-distribution
view, token tooltips and labels, keyboard, focus, default text and empty states.

The tests drive what a user touches (keys, clicks, hover) and check what they see.
"""

from __future__ import annotations

import html

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QFontMetricsF, QHelpEvent, QTextCursor
from PySide6.QtWidgets import QApplication, QToolTip

from piecelab.engine import piece_label
from piecelab.gui.playground import Playground
from piecelab.gui.playground.playground import SAMPLE_TEXT
from piecelab.gui.playground.sampling_view import MAX_BYTES
from piecelab.gui.state import Workspace

from .test_playground import LOAD_MS, open_in, set_text, tooltip, write_model

NO_MODS = Qt.KeyboardModifier.NoModifier
CTRL = Qt.KeyboardModifier.ControlModifier


def _playground(qtbot) -> Playground:
    workspace = Workspace()
    pg = Playground(workspace)
    pg._workspace_ref = workspace  # keep it alive as long as the widget
    qtbot.addWidget(pg)
    pg.resize(1200, 700)
    pg.show()
    qtbot.waitExposed(pg)
    pg.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is pg, timeout=2000)
    return pg


@pytest.fixture
def pg(qtbot, model_path) -> Playground:
    playground = _playground(qtbot)
    open_in(qtbot, playground, model_path)
    return playground


def type_alpha(qtbot, pg: Playground, text: str) -> None:
    """Select the α box's text, type ``text`` over it and press Return, as a user does."""
    spin = pg.controls.alpha_spin
    spin.setFocus()
    qtbot.keyClick(spin, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key.Key_Return)


def show_distribution(qtbot, pg: Playground) -> None:
    with qtbot.waitSignal(pg.distribution.computed, timeout=10_000):
        pg.tabs.setCurrentWidget(pg.distribution)


def cell_tooltip(table, row: int, col: int) -> str:
    rect = table.visualItemRect(table.item(row, col))
    pos = rect.center()
    event = QHelpEvent(QEvent.Type.ToolTip, pos, table.viewport().mapToGlobal(pos))
    QApplication.sendEvent(table.viewport(), event)
    return QToolTip.text()


# ---------------------------------------------------------------- 1. α range
def test_alpha_takes_zero_to_ten_typed_or_by_slider(qtbot, pg, settle):
    tok, c = pg.tokenizer, pg.controls
    text = "abcab cab abc"
    set_text(qtbot, pg, text)
    with qtbot.waitSignal(pg.refreshed):
        type_alpha(qtbot, pg, "0")
    assert c.alpha == 0
    assert "α=0," in pg.samples[0].title.text()
    assert pg.samples[0].segmentation.pieces == tok.tokenize(text, alpha=0, seed=c.seed)
    type_alpha(qtbot, pg, "10")
    assert c.alpha == 10 and not c.alpha_message.isVisible()
    assert pg.samples[0].segmentation.pieces == tok.tokenize(text, alpha=10, seed=c.seed)
    # the slider: its ends are 0 and 10, and it moves by 0.01 below 1, by 0.1 above
    c.alpha_slider.setFocus()
    qtbot.keyClick(c.alpha_slider, Qt.Key.Key_Home)
    assert c.alpha == 0
    qtbot.keyClick(c.alpha_slider, Qt.Key.Key_Right)
    assert c.alpha == 0.01
    qtbot.keyClick(c.alpha_slider, Qt.Key.Key_End)
    assert c.alpha == 10
    qtbot.keyClick(c.alpha_slider, Qt.Key.Key_Left)
    assert c.alpha == 9.9
    settle()


def test_rejected_alpha_is_explained_not_silently_reverted(qtbot, pg, settle):
    c = pg.controls
    with qtbot.waitSignal(pg.refreshed):
        type_alpha(qtbot, pg, "5")
    with qtbot.waitSignal(pg.refreshed):
        type_alpha(qtbot, pg, "2")
    assert c.alpha == 2
    qtbot.keyClick(c.alpha_spin, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(c.alpha_spin, "20")
    assert c.alpha_spin.text() == "20"  # the keystroke was not swallowed
    assert c.alpha == 2  # nothing applies while typing: "2" of "20" is not α = 2
    message = c.alpha_message.text()
    assert c.alpha_message.isVisible() and "0 to 10" in message and "20" in message
    assert "exponent" in message and "not a temperature" in message
    qtbot.keyClick(c.alpha_spin, Qt.Key.Key_Return)  # the box goes back to the last α …
    assert c.alpha == 2 and "Kept α = 2" in c.alpha_message.text()  # … and says so
    qtbot.keyClick(c.alpha_spin, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(c.alpha_spin, "abc")
    assert "“abc” is not a number" in c.alpha_message.text()
    qtbot.keyClick(c.alpha_spin, Qt.Key.Key_A, CTRL)
    qtbot.keyClicks(c.alpha_spin, "-1")
    assert "Deterministic only" in c.alpha_message.text()
    with qtbot.waitSignal(pg.refreshed):
        type_alpha(qtbot, pg, "0.5")  # applied on Return
    assert c.alpha == 0.5 and not c.alpha_message.isVisible()
    for tip in (c.alpha_spin.toolTip(), c.alpha_slider.toolTip()):
        assert "exponent" in tip and "not a temperature" in tip and "0 to 10" in tip
    settle()


# ---------------------------------------------------------------- 2. sampling distribution
def test_use_editor_selection_takes_the_whole_text_without_a_selection(qtbot, pg, settle):
    view = pg.distribution
    set_text(qtbot, pg, "abcab")
    show_distribution(qtbot, pg)
    with qtbot.waitSignal(view.computed, timeout=10_000):
        qtbot.mouseClick(view.selection_button, Qt.MouseButton.LeftButton)
    assert view.text_edit.text() == "abcab" and view.labels
    cursor = pg.editor.textCursor()
    cursor.setPosition(1)
    cursor.setPosition(3, QTextCursor.MoveMode.KeepAnchor)
    pg.editor.setTextCursor(cursor)
    with qtbot.waitSignal(view.computed, timeout=10_000):
        qtbot.mouseClick(view.selection_button, Qt.MouseButton.LeftButton)
    assert view.text_edit.text() == "bc"
    # a text too long for the exact distribution: the message names both sizes
    set_text(qtbot, pg, "abc " * 100)
    cursor.clearSelection()
    pg.editor.setTextCursor(cursor)
    qtbot.mouseClick(view.selection_button, Qt.MouseButton.LeftButton)
    view.compute()
    assert "400 bytes" in view.figure.text() and f"at most {MAX_BYTES} bytes" in view.figure.text()
    assert view.table.rowCount() == 0
    settle()


def test_segmentation_cells_show_the_full_segmentation_on_hover(qtbot, pg, settle):
    view = pg.distribution
    show_distribution(qtbot, pg)
    text = "abcab cab abcab cab abcab cab abcab cab abc"
    with qtbot.waitSignal(view.computed, timeout=10_000):
        view.text_edit.setText(text)
    full = view.labels[0]
    assert full == " │ ".join(piece_label(p) for p in pg.tokenizer.top_k(text, 1, 0.3)[0][0].pieces)
    tip = cell_tooltip(view.table, 0, 1)
    assert html.escape(full) in tip and "exact P" in tip
    other_tip = cell_tooltip(view.table, view.table.rowCount() - 1, 1)
    assert "outside the top" in other_tip
    QToolTip.hideText()
    settle()


def test_the_other_bar_does_not_flatten_the_top_k(qtbot, pg, settle):
    view = pg.distribution
    show_distribution(qtbot, pg)
    view.k_spin.setValue(2)
    with qtbot.waitSignal(view.computed, timeout=10_000):
        view.text_edit.setText("abcabcab cabcab abc")
    assert view.has_other
    other_p, top_max = view.exact[-1], view.exact[:-1].max()
    assert other_p > 2 * top_max  # the case that flattened the top-k bars
    y_top = view.plot.viewRange()[1][1]
    assert y_top < other_p and y_top >= max(top_max, view.empirical[:-1].max())
    assert len(view.exact_bars.opts["height"]) == 2
    # the pooled bar is on a chart of its own, with its own scale
    assert view.other_plot.isVisible()
    assert list(view.other_exact_bar.opts["height"]) == [pytest.approx(other_p)]
    assert list(view.other_empirical_bar.opts["height"]) == [pytest.approx(view.empirical[-1])]
    assert view.other_plot.viewRange()[1][1] >= other_p
    # and its probability stays in the table and the summary
    last = view.table.rowCount() - 1
    assert view.table.item(last, 2).text() == f"{other_p:.5f}"
    assert f"all other segmentations {other_p:.1%}" in view.figure.text()
    # a text whose every segmentation is in the top k: no "other" chart
    view.k_spin.setValue(30)
    with qtbot.waitSignal(view.computed, timeout=10_000):
        view.text_edit.setText("ab")
    assert not view.has_other and not view.other_plot.isVisible()
    settle()


# ---------------------------------------------------------------- 3. tooltips and labels
def test_token_tooltip_spells_out_byte_and_character_spans(qtbot, pg):
    set_text(qtbot, pg, "你abc")
    view = pg.viterbi.view
    seg = pg.viterbi.segmentation
    i = seg.pieces.index(b"abc")
    tip = tooltip(view, i)
    assert "[3, 6): bytes 3 to 5 (3 bytes)" in tip
    assert "[1, 4): characters 1 to 3 (3 characters)" in tip
    assert "half-open" in tip
    QToolTip.hideText()


def test_tooltip_of_a_partial_character_token(qtbot, pg, tmp_path):
    counts = {bytes([i]): 1 for i in range(256)}
    counts.update({"你".encode()[:2]: 9, b"ab": 5})
    open_in(qtbot, pg, write_model(tmp_path / "split.model", counts))
    set_text(qtbot, pg, "ab你")
    tip = tooltip(pg.viterbi.view, 1)  # ⟨E4 BD⟩: 2 of the 3 bytes of 你
    assert "[2, 4): bytes 2 to 3 (2 bytes)" in tip
    assert "[2, 3): character 2 (1 character)" in tip and "part of a character" in tip
    QToolTip.hideText()


def test_carriage_return_is_visible_in_token_labels(qtbot, pg, tmp_path):
    tok = pg.tokenizer
    pane = pg.viterbi
    pane.view.show_segmentation(tok.segment("ab\r\ncab\r"), tok)
    labels = pane.view.labels
    assert "␍" not in "".join(labels) and "\\r" in "".join(labels)
    fm = QFontMetricsF(pane.view.font())
    for label in labels:  # every glyph is in the pane's own font: no empty boxes
        assert all(fm.inFontUcs4(ord(ch)) for ch in label), label
    image = pane.grab().toImage()
    assert not image.isNull()
    # the ids view's piece list too
    pg.tabs.setCurrentWidget(pg.ids)
    pg.ids.decode_input.setPlainText(str(tok.piece_to_id(b"\r")))
    assert pg.ids.pieces.text() == "\\r"


def test_many_sampled_panes_stay_readable(qtbot, pg, settle):
    set_text(qtbot, pg, "abcab cab abc\n" * 12)
    spin = pg.controls.samples_spin
    spin.setFocus()
    for _ in range(3):
        with qtbot.waitSignal(pg.refreshed):
            qtbot.keyClick(spin, Qt.Key.Key_Up)
    assert len(pg.samples) == 4

    def readable() -> None:  # once the layout settled, every pane shows 5 lines or more
        for pane in pg.samples:
            view = pane.view
            assert pane.isVisible() and view.viewport().height() >= 5 * view._line_height()
            assert pane.geometry().bottom() <= pg.sample_scroll.widget().height()

    qtbot.waitUntil(readable, timeout=2000)
    bar = pg.sample_scroll.verticalScrollBar()
    assert bar.maximum() > 0  # the panes scroll together instead of shrinking
    pg.sample_scroll.ensureWidgetVisible(pg.samples[-1])
    last = pg.samples[-1]
    top_left = last.mapTo(pg.sample_scroll.viewport(), QPoint(0, 0))
    assert 0 <= top_left.y() < pg.sample_scroll.viewport().height()
    settle()


# ---------------------------------------------------------------- 4. keyboard
def test_ctrl_r_resamples_and_the_tooltip_says_so(qtbot, pg, settle):
    tok, c = pg.tokenizer, pg.controls
    text = "abcabcab cabcab abc"
    set_text(qtbot, pg, text)
    pg.editor.setFocus()
    old = c.seed
    with qtbot.waitSignal(pg.refreshed):
        qtbot.keyClick(pg.editor, Qt.Key.Key_R, CTRL)
    assert c.seed != old
    assert pg.samples[0].segmentation.pieces == tok.tokenize(text, alpha=c.alpha, seed=c.seed)
    assert "Ctrl+R" in c.resample.toolTip()
    assert pg.editor.toPlainText() == text
    settle()


def test_ctrl_d_draws_while_the_distribution_shows(qtbot, pg, settle):
    view = pg.distribution
    assert "Ctrl+D" in view.draw_button.toolTip()
    fired = []
    view.computed.connect(lambda: fired.append(1))
    pg.editor.setFocus()
    qtbot.keyClick(pg.editor, Qt.Key.Key_D, CTRL)  # the distribution is not showing
    assert fired == [] and pg.editor.toPlainText() == SAMPLE_TEXT
    show_distribution(qtbot, pg)
    fired.clear()
    view.draws_spin.setFocus()
    with qtbot.waitSignal(view.computed, timeout=10_000):
        qtbot.keyClick(view.draws_spin, Qt.Key.Key_D, CTRL)
    pg.editor.setFocus()
    with qtbot.waitSignal(view.computed, timeout=10_000):
        qtbot.keyClick(pg.editor, Qt.Key.Key_D, CTRL)
    assert len(fired) == 2
    settle()


def test_tab_leaves_the_editor_and_ctrl_i_types_a_tab(qtbot, pg, settle):
    editor = pg.editor
    set_text(qtbot, pg, "ab")
    editor.setFocus()
    editor.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.waitUntil(editor.hasFocus, timeout=2000)
    qtbot.keyClick(editor, Qt.Key.Key_Tab)
    assert editor.toPlainText() == "ab" and not editor.hasFocus()
    editor.setFocus()
    qtbot.waitUntil(editor.hasFocus, timeout=2000)
    with qtbot.waitSignal(pg.refreshed):
        qtbot.keyClick(editor, Qt.Key.Key_I, CTRL)
    assert editor.toPlainText() == "ab\t"
    assert pg.viterbi.segmentation.pieces[-1] == b"\t"
    assert "Ctrl+I" in editor.toolTip() and "Tab" in editor.toolTip()
    set_text(qtbot, pg, "")
    assert "Ctrl+I" in editor.placeholderText()
    settle()


# ---------------------------------------------------------------- 5. focus and default text
def test_focus_editor_puts_the_caret_at_the_end(qtbot, pg, settle):
    pg.focus_editor()
    qtbot.waitUntil(pg.editor.hasFocus, timeout=2000)
    with qtbot.waitSignal(pg.refreshed):
        qtbot.keyClicks(pg.editor, "abc")
    assert pg.editor.toPlainText() == SAMPLE_TEXT + "abc"
    assert pg.viterbi.segmentation.text == SAMPLE_TEXT + "abc"
    assert pg.viterbi.segmentation.pieces[-1] in (b"abc", b"c")
    settle()


def test_default_text_segments_into_words_with_the_80k_model(shared_tokenizer):
    lines = SAMPLE_TEXT.splitlines()
    assert 2 <= len(lines) <= 4 and len(SAMPLE_TEXT.encode()) <= MAX_BYTES
    pieces = {p.decode() for p in shared_tokenizer.tokenize(SAMPLE_TEXT)}
    words = {"自然", "语言", "处理", "计算机", "人工", "智能"}
    words |= {" language", " processing", " intelligence", "Natural", "Artificial"}
    assert words <= pieces, words - pieces
    assert shared_tokenizer.segment(SAMPLE_TEXT).bytes_per_token > 5


# ---------------------------------------------------------------- 6. empty states
def test_empty_states_say_what_to_do(qtbot, model_path, tmp_path, settle):
    pg = _playground(qtbot)  # no model yet
    assert "open" in pg.viterbi.view.empty_message.lower()
    assert "No model" in pg.ids.ids_text.placeholderText()
    assert "No model" in pg.distribution.figure.text()
    assert "Open second model" in pg.compare.pane_b.view.empty_message
    open_in(qtbot, pg, model_path)
    set_text(qtbot, pg, "")
    pg.tabs.setCurrentWidget(pg.ids)
    assert pg.ids.ids == [] and "editor is empty" in pg.ids.ids_text.placeholderText()
    # a second model that cannot be opened: the compare view says so
    bad = tmp_path / "bad.model"
    bad.write_text("[]")
    pg.tabs.setCurrentWidget(pg.compare)
    with qtbot.waitSignal(pg.workspace.compareFailed, timeout=LOAD_MS) as failed:
        pg.compare.open_model(bad)
    assert "Could not open bad.model" in pg.compare.path_label.text()
    assert "JSON of another shape" in failed.args[0]
    settle()
