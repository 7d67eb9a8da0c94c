# ruff: noqa: F811  (the fixtures imported from test_views are parameters here)
"""The Vocabulary view as a user meets it (issues #19 "Usability" and #15 "First start").

Each test drives what the user touches (toolbar buttons, keys, the dialogs the
buttons open, table cells) on the tiny model and the small test corpus, and
asserts on the workspace and the view's widgets.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QInputDialog,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QToolButton,
    QWidget,
)

from piecelab.engine import Model
from piecelab.gui.vocab import VocabView
from piecelab.gui.vocab.table_model import COUNT, NCHARS, PIECE

from ..conftest import SHARED_MODEL, tiny_counts
from .test_views import LONG, corpus_file, load, wait_columns, workspace  # noqa: F401

BIG = 5_000_000_000  # above Qt's 32-bit int
R = Qt.ItemDataRole


# ---------------------------------------------------------------- helpers
@pytest.fixture
def view(qtbot, workspace) -> VocabView:
    """The view, shown, with the tiny model loaded and its columns computed."""
    v = VocabView(workspace)
    qtbot.addWidget(v)
    v.resize(1200, 760)
    v.show()
    qtbot.waitExposed(v)
    load(qtbot, workspace, Model.from_counts(tiny_counts()))
    wait_columns(qtbot, v)
    return v


@pytest.fixture
def no_blocking_prompt(view):
    """Close any blocking QInputDialog after a few seconds, so that a prompt that blocks
    (``QInputDialog.getText``) fails the test instead of hanging it."""

    def close() -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QInputDialog) and w.isVisible():
                w.reject()

    timer = QTimer(view)
    timer.setInterval(3000)
    timer.timeout.connect(close)
    timer.start()
    yield
    timer.stop()


def click_piece(qtbot, view: VocabView, piece: bytes) -> None:
    """Click the row of ``piece`` in the table (scrolling to it first)."""
    tm = view.table_model
    row = tm.row_of(view.workspace.model.index[piece] - 3)
    assert row >= 0, piece
    index = tm.index(row, PIECE)
    view.table.scrollTo(index)
    rect = view.table.visualRect(index)
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.selected_indices() == [view.workspace.model.index[piece] - 3]


def shown_dialog(qtbot, kind: type = QDialog) -> QDialog:
    """The dialog a click opened (window-modal, so the test goes on meanwhile)."""
    found: list[QDialog] = []

    def opened() -> None:
        found[:] = [w for w in QApplication.topLevelWidgets() if isinstance(w, kind)]
        found[:] = [w for w in found if w.isVisible()]
        assert len(found) == 1

    qtbot.waitUntil(opened, timeout=2000)
    return found[0]


def button(dialog: QWidget, text: str) -> QPushButton:
    hits = [b for b in dialog.findChildren(QPushButton) if text in b.text().replace("&", "")]
    assert len(hits) == 1, [b.text() for b in dialog.findChildren(QPushButton)]
    return hits[0]


def count_of(workspace, piece: bytes) -> int:
    return int(workspace.model.counts[workspace.model.index[piece] - 3])


def edit(qtbot, workspace, action) -> None:
    with qtbot.waitSignal(workspace.modelEdited, timeout=LONG):
        action()


# ---------------------------------------------------------------- 1. Add…, Set count…
def test_add_button_opens_a_prompt_that_takes_big_counts(
    qtbot, view, workspace, no_blocking_prompt, settle
):
    view.actions["add"].trigger()
    dialog = shown_dialog(qtbot)
    piece_edit, count_edit = dialog.findChildren(QLineEdit)[:2]
    ok = button(dialog, "OK")
    qtbot.keyClicks(piece_edit, "ab")
    assert not ok.isEnabled() and "already in the vocabulary" in dialog.message.text()
    piece_edit.clear()
    qtbot.keyClicks(piece_edit, "zq")
    qtbot.keyClicks(count_edit, "12x")
    assert not ok.isEnabled() and "not a whole number" in dialog.message.text()
    count_edit.clear()
    qtbot.keyClicks(count_edit, f"{BIG:,}")
    assert ok.isEnabled()
    edit(qtbot, workspace, lambda: qtbot.mouseClick(ok, Qt.MouseButton.LeftButton))
    assert count_of(workspace, b"zq") == BIG
    assert view.undo_stack.undoText() == "Add 'zq'"
    settle()


def test_add_with_no_count_estimates_from_the_corpus(
    qtbot, view, workspace, no_blocking_prompt, settle
):
    view.actions["add"].trigger()
    dialog = shown_dialog(qtbot)
    piece_edit = dialog.findChildren(QLineEdit)[0]
    qtbot.keyClicks(piece_edit, "memory")
    assert "estimated from the corpus" in dialog.message.text()
    edit(qtbot, workspace, lambda: qtbot.keyClick(piece_edit, Qt.Key.Key_Return))
    assert count_of(workspace, b"memory") > 10
    settle()


def test_set_count_button_takes_counts_above_32_bits(qtbot, view, workspace, settle):
    click_piece(qtbot, view, b"bc")
    view.actions["count"].trigger()
    dialog = shown_dialog(qtbot)
    count_edit = dialog.findChildren(QLineEdit)[0]
    assert count_edit.text() == "15" and "bc" in dialog.prompt.text()
    count_edit.selectAll()
    qtbot.keyClicks(count_edit, str(2**62))
    edit(
        qtbot, workspace, lambda: qtbot.mouseClick(button(dialog, "OK"), Qt.MouseButton.LeftButton)
    )
    assert count_of(workspace, b"bc") == 2**62
    wait_columns(qtbot, view)
    # Cancel changes nothing
    click_piece(qtbot, view, b"bc")
    view.actions["count"].trigger()
    dialog = shown_dialog(qtbot)
    qtbot.mouseClick(button(dialog, "Cancel"), Qt.MouseButton.LeftButton)
    assert count_of(workspace, b"bc") == 2**62 and view.undo_stack.count() == 1
    settle()


def test_count_cell_edits_above_32_bits(qtbot, view, workspace, settle):
    tm = view.table_model
    index = tm.index(tm.row_of(workspace.model.index[b"bc"] - 3), COUNT)
    view.table.scrollTo(index)
    view.table.setCurrentIndex(index)
    qtbot.keyClick(view.table, Qt.Key.Key_F2)
    editor = view.table.focusWidget()
    assert isinstance(editor, QLineEdit), type(editor)
    editor.selectAll()
    qtbot.keyClicks(editor, f"{BIG:,}")
    edit(qtbot, workspace, lambda: qtbot.keyClick(editor, Qt.Key.Key_Return))
    assert count_of(workspace, b"bc") == BIG
    settle()


# ---------------------------------------------------------------- 2. ids: retire or renumber
def test_delete_asks_about_ids_and_retire_keeps_them(qtbot, view, workspace, settle):
    said: list[str] = []
    workspace.message.connect(said.append)
    before = workspace.model
    pid = before.index[b"cab"]
    click_piece(qtbot, view, b"cab")
    qtbot.keyClick(view.table, Qt.Key.Key_Delete)
    box = shown_dialog(qtbot, QMessageBox)
    assert f"ids above {pid} move down by 1" in box.text()
    assert box.checkBox() is not None and not box.checkBox().isChecked()  # asks each time
    box.checkBox().setChecked(True)  # unless the user says otherwise
    edit(
        qtbot, workspace, lambda: qtbot.mouseClick(button(box, "Retire"), Qt.MouseButton.LeftButton)
    )
    after = workspace.model
    assert after.pieces == before.pieces and count_of(workspace, b"cab") == 0
    assert f"Retired 'cab': id {pid} kept, never emitted" in said[-1]
    assert view.undo_stack.undoText() == "Retire 'cab'"
    wait_columns(qtbot, view)
    # remembered for this model: the next delete retires without asking
    click_piece(qtbot, view, b"abc")
    edit(qtbot, workspace, view.actions["delete"].trigger)
    assert count_of(workspace, b"abc") == 0 and workspace.model.pieces == before.pieces
    edit(qtbot, workspace, view.undo_stack.undo)
    edit(qtbot, workspace, view.undo_stack.undo)
    assert workspace.model is before
    edit(qtbot, workspace, view.undo_stack.redo)
    assert workspace.model is after
    settle()


def test_delete_and_renumber_says_which_ids_moved(qtbot, view, workspace, settle):
    said: list[str] = []
    workspace.message.connect(said.append)
    before = workspace.model
    pid = before.index[b"cab"]
    click_piece(qtbot, view, b"cab")
    view.actions["delete"].trigger()
    box = shown_dialog(qtbot, QMessageBox)
    assert not box.checkBox().isChecked()  # ask again next time
    edit(
        qtbot, workspace, lambda: qtbot.mouseClick(button(box, "Delete"), Qt.MouseButton.LeftButton)
    )
    assert b"cab" not in workspace.model.index
    assert f"Deleted 'cab' (id {pid}): ids above {pid} moved down by 1" in said[-1]
    later = [p for p in before.pieces if before.index[p] > pid]
    assert all(workspace.model.index[p] == before.index[p] - 1 for p in later)
    wait_columns(qtbot, view)
    # not remembered: asked again; Cancel (Escape) changes nothing
    click_piece(qtbot, view, b"abc")
    view.actions["delete"].trigger()
    box = shown_dialog(qtbot, QMessageBox)
    qtbot.keyClick(box, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not box.isVisible())
    assert b"abc" in workspace.model.index and view.undo_stack.count() == 1
    edit(qtbot, workspace, view.undo_stack.undo)
    assert workspace.model is before
    settle()


def test_the_ids_question_comes_back_for_another_model(qtbot, view, workspace, settle):
    click_piece(qtbot, view, b"cab")
    view.actions["delete"].trigger()
    box = shown_dialog(qtbot, QMessageBox)
    edit(
        qtbot, workspace, lambda: qtbot.mouseClick(button(box, "Delete"), Qt.MouseButton.LeftButton)
    )
    load(qtbot, workspace, Model.from_counts(tiny_counts()))  # another model: ask again
    wait_columns(qtbot, view)
    click_piece(qtbot, view, b"cab")
    view.actions["delete"].trigger()
    box = shown_dialog(qtbot, QMessageBox)
    qtbot.mouseClick(button(box, "Cancel"), Qt.MouseButton.LeftButton)
    assert b"cab" in workspace.model.index
    settle()


# ---------------------------------------------------------------- 3. keyboard
def test_toolbar_is_reachable_with_tab_and_ctrl_f_finds(qtbot, view, settle):
    view.activateWindow()
    click_piece(qtbot, view, b"cab")  # the edit buttons need a selection
    qtbot.waitUntil(view.table.hasFocus)
    qtbot.keyClick(view.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.filters.substring.hasFocus()
    reached = set()
    for _ in range(40):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        w = QApplication.focusWidget()
        if isinstance(w, QToolButton) and w.defaultAction() is not None:
            reached.add(w.defaultAction().text())
    assert {"Delete", "Retire", "Add…", "Set count…", "Pin", "Save"} <= reached, reached
    settle()


def test_the_table_shows_when_it_has_focus(qtbot, view, settle):
    view.activateWindow()
    view.filters.substring.setFocus()
    qtbot.waitUntil(view.filters.substring.hasFocus)
    unfocused = view.table.grab().toImage()
    view.table.setFocus()
    qtbot.waitUntil(view.table.hasFocus)
    focused = view.table.grab().toImage()
    # the frame changes colour: compare the left edge, away from any cell
    y = focused.height() // 2
    edge = [(focused.pixel(x, y), unfocused.pixel(x, y)) for x in range(2)]
    assert any(a != b for a, b in edge)
    settle()


# ---------------------------------------------------------------- 4. concordance follows
def test_concordance_follows_deletes_and_model_changes(qtbot, view, workspace, settle):
    conc = view.concordance
    click_piece(qtbot, view, b"cab")
    qtbot.waitUntil(lambda: conc.table.rowCount() > 0 and view.idle, timeout=LONG)
    edit(qtbot, workspace, lambda: view.delete_pieces([b"cab"]))
    qtbot.waitUntil(lambda: view.idle, timeout=LONG)
    assert conc.table.rowCount() == 0
    assert "'cab' is no longer in the vocabulary" in conc.label.text()
    edit(qtbot, workspace, view.undo_stack.undo)
    wait_columns(qtbot, view)
    click_piece(qtbot, view, b"cab")
    qtbot.waitUntil(lambda: conc.table.rowCount() > 0 and view.idle, timeout=LONG)
    load(qtbot, workspace, Model.from_counts({**tiny_counts(), b"cab": 1}))
    qtbot.waitUntil(lambda: view.idle, timeout=LONG)
    assert conc.table.rowCount() == 0 and conc.piece is None  # nothing selected in it yet
    assert conc.label.text() == "Select a piece to see it in the corpus"
    settle()


# ---------------------------------------------------------------- 5. details
def test_partial_bytes_show_zero_chars(qtbot, view, workspace, settle):
    tm = view.table_model
    partial = "你".encode()[:2]
    row = tm.row_of(workspace.model.index[partial] - 3)
    assert tm.data(tm.index(row, NCHARS)) == "0"
    tip = tm.data(tm.index(row, NCHARS), R.ToolTipRole)
    assert "2 stray bytes" in tip and "0 whole characters" in tip
    assert "2 stray bytes" in tm.data(tm.index(row, PIECE), R.ToolTipRole)
    row = tm.row_of(workspace.model.index["你好".encode()] - 3)
    assert tm.data(tm.index(row, NCHARS)) == "2"
    settle()


def test_histogram_and_counts_follow_the_filter(qtbot, view, workspace, settle):
    qtbot.keyClicks(view.filters.substring, "ab")  # ab, abc, cab
    qtbot.waitUntil(lambda: view.table_model.rowCount() == 3)
    xs, ys = view.charts.lengths.points("pieces")
    assert ys.tolist() == [0, 1, 2]  # the rows shown, not the whole vocabulary
    assert xs.tolist() == [0.5, 1.5, 2.5, 3.5]  # bin edges around 1, 2 and 3 bytes
    view.filters.substring.clear()
    qtbot.keyClicks(view.filters.substring, "qqqz")
    qtbot.waitUntil(lambda: view.table_model.rowCount() == 0)
    n = len(workspace.model)
    assert view.filters.shown.text() == f"0 of {n:,} — no piece matches"
    _, ys = view.charts.lengths.points("pieces")
    assert ys.sum() == 0
    settle()


def test_concordance_says_when_a_piece_never_occurs(qtbot, view, settle):
    click_piece(qtbot, view, b"abc")
    qtbot.waitUntil(lambda: "abc" in view.concordance.label.text() and view.idle, timeout=LONG)
    qtbot.waitUntil(lambda: "no occurrence" in view.concordance.label.text(), timeout=LONG)
    assert "no occurrence of 'abc' in the first 2,000 documents" in view.concordance.label.text()
    settle()


# ---------------------------------------------------------------- 6. defaults
def test_opens_sorted_by_count_highest_first(qtbot, view, workspace, settle):
    header = view.table.horizontalHeader()
    assert header.sortIndicatorSection() == COUNT
    assert header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder
    tm = view.table_model
    shown = [int(tm.data(tm.index(r, COUNT), R.EditRole)) for r in range(5)]
    assert shown == sorted(workspace.model.counts.tolist(), reverse=True)[:5]
    settle()


def test_zipf_axes_show_plain_counts(qtbot, view, workspace, settle):
    counts = {**tiny_counts(), b"the": 3_000_000_000, b"of": 900_000_000}
    load(qtbot, workspace, Model.from_counts(counts))
    wait_columns(qtbot, view)
    view.charts.zipf.flush()
    item = view.charts.zipf.plot.getPlotItem()
    left = item.getAxis("left")
    assert "x1e" not in left.labelString() and "(x" not in left.labelString()
    assert left.tickStrings([0.0, 1.0, 3.0, 6.0, 9.0], 1.0, 1.0) == ["1", "10", "1k", "1M", "1G"]
    assert item.getAxis("bottom").tickStrings([0.0, 2.0, 4.0], 1.0, 1.0) == ["1", "100", "10k"]
    settle()


def test_concordance_has_room_and_splitters_are_remembered(qtbot, workspace, view, settle):
    assert view.concordance.height() >= 250, view.concordance.height()
    view.side_split.setSizes([300, 460])
    view.side_split.splitterMoved.emit(300, 1)
    again = VocabView(workspace)
    qtbot.addWidget(again)
    assert QSettings().value("vocab/side_split") is not None
    assert again.side_split.saveState() == view.side_split.saveState()
    QSettings().remove("vocab")  # the next tests start from the defaults
    settle()


# ---------------------------------------------------------------- 7. same kind
def test_edit_buttons_wait_while_an_edit_is_applied(qtbot, view, workspace, settle):
    click_piece(qtbot, view, b"cab")
    assert view.actions["count"].isEnabled()
    with qtbot.waitSignal(workspace.modelEdited, timeout=LONG):
        view.set_count(workspace.model.index[b"cab"] - 3, 99)
        assert workspace.loading
        assert not view.actions["count"].isEnabled() and not view.actions["add"].isEnabled()
    wait_columns(qtbot, view)
    assert view.actions["add"].isEnabled()
    settle()


def test_the_80k_model_reads_plainly(qtbot, workspace, settle):
    if not SHARED_MODEL.is_file():
        pytest.skip("../shared is absent (the published BytePiece model)")
    v = VocabView(workspace)
    qtbot.addWidget(v)
    v.resize(1200, 760)
    v.show()
    with qtbot.waitSignal(workspace.modelChanged, timeout=LONG):
        workspace.open_model(SHARED_MODEL)
    wait_columns(qtbot, v)
    v.charts.zipf.flush()
    assert "(x" not in v.charts.zipf.plot.getPlotItem().getAxis("left").labelString()
    tm = v.table_model
    assert tm.piece(0) != b"\x00" and int(tm.data(tm.index(0, COUNT), R.EditRole)) > 10**6
    v.grab().save("/tmp/vocab_80k.png")
    settle()


def test_exported_zipf_chart_keeps_plain_count_axes(qtbot, workspace, settle):
    from piecelab.gui.vocab.charts import CountAxis

    view = VocabView(workspace)
    qtbot.addWidget(view)
    chart = view.charts.zipf
    copy = chart._export_view(1200, 750)  # what the PNG… button draws
    item = copy.getItem(0, 0)
    assert all(isinstance(item.getAxis(side), CountAxis) for side in ("left", "bottom"))
    copy.deleteLater()
    settle()


def test_another_model_starts_with_nothing_selected_and_edits_off(qtbot, view, workspace, settle):
    click_piece(qtbot, view, b"ab")
    assert view.actions["delete"].isEnabled()
    load(qtbot, workspace, Model.from_counts(tiny_counts()))  # ab is a piece there too
    wait_columns(qtbot, view)
    assert view.selected_indices() == []
    for key in ("delete", "retire", "count", "pin", "unpin"):
        assert not view.actions[key].isEnabled(), key
    assert view.actions["add"].isEnabled()
    settle()


def test_the_filter_finds_what_the_table_shows(qtbot, view, workspace, settle):
    """A space shows as ·, so typing · finds it; a real middle dot is found too."""
    model = Model.from_counts({**tiny_counts(), "列夫·托".encode(): 5})
    load(qtbot, workspace, model)
    wait_columns(qtbot, view)
    tm = view.table_model

    def shown() -> set[bytes]:
        return {workspace.model.pieces[tm.piece_index(r)] for r in range(tm.rowCount())}

    qtbot.keyClicks(view.filters.substring, "·a")
    qtbot.waitUntil(lambda: shown() == {b" a"}, timeout=5000)
    view.filters.substring.clear()
    view.filters.substring.insert("↵↵")  # as an input method types it: QTest's keyClicks
    qtbot.waitUntil(lambda: shown() == {b"\n\n"}, timeout=5000)
    view.filters.substring.clear()
    view.filters.substring.insert("夫·")  # takes Latin-1 only (and aborts on the rest)
    qtbot.waitUntil(lambda: shown() == {"列夫·托".encode()}, timeout=5000)
    settle()


def test_an_edit_searches_the_concordance_once(qtbot, view, workspace, monkeypatch, settle):
    from piecelab.gui.vocab import concordance as module

    searched: list[object] = []
    real = module.mark_emitted
    monkeypatch.setattr(module, "mark_emitted", lambda *a: searched.append(a[2]) or real(*a))
    click_piece(qtbot, view, b"ab")
    qtbot.waitUntil(lambda: len(searched) == 1 and view.idle, timeout=LONG)
    edit(qtbot, workspace, lambda: view.set_count(workspace.model.index[b"ab"] - 3, 99))
    wait_columns(qtbot, view)
    qtbot.waitUntil(lambda: view.idle and "Searching" not in view.concordance.label.text())
    qtbot.wait(400)  # past the concordance pause after the piece is selected again
    qtbot.waitUntil(lambda: view.idle, timeout=LONG)
    assert len(searched) == 2 and searched[1] is workspace.tokenizer  # once per tokenizer
    assert view.selected_indices() == [workspace.model.index[b"ab"] - 3]
    assert view.concordance.table.rowCount() > 0
    settle()
