"""The playground: editor, side-by-side panes, sampling, ids, compare, and the main window.

Every expectation is computed independently with the engine's Tokenizer on a
tiny model made here, so a pane that shows anything else fails.  Screenshots of
the main states go to tests/screenshots/ and are checked for content.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QThread, QUrl
from PySide6.QtGui import (
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QHelpEvent,
    QTextCursor,
)
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QToolTip

from piecelab.engine import Model, Tokenizer, format_prob, parse_ids, piece_label
from piecelab.gui import state as state_module
from piecelab.gui.playground import Playground
from piecelab.gui.playground.token_view import DIFF_COLOR
from piecelab.gui.state import Workspace

from ..conftest import tiny_counts
from .conftest import distinct_colors, save_screenshot

LOAD_MS = 120_000  # the first load in a process may compile or load numba kernels
TEXT = "abcab cab\tabc\n你好 ab"


# ---------------------------------------------------------------- fixtures and helpers
def write_model(path: Path, counts: dict[bytes, int]) -> Path:
    Model.from_counts(counts).save(path)
    return path


@pytest.fixture
def other_model_path(tmp_path) -> Path:
    counts = {bytes([i]): 1 for i in range(256)}
    counts.update({b"a": 30, b"b": 30, b"c": 30, b"ca": 25, b"bca": 12, b" ": 40, b"ab ": 9})
    return write_model(tmp_path / "other.model", counts)


def open_in(qtbot, pg: Playground, path: Path) -> Tokenizer:
    with qtbot.waitSignal(pg.tokenizerReady, timeout=LOAD_MS):
        pg.workspace.open_model(path)
    assert pg.tokenizer is pg.workspace.tokenizer
    return pg.tokenizer


def shown_playground(qtbot, path: Path, size: tuple[int, int] = (1200, 700)) -> Playground:
    """A playground on its own workspace, shown, with the model at ``path`` loaded."""
    workspace = Workspace()
    playground = Playground(workspace)
    playground._workspace_ref = workspace  # keep it alive as long as the widget
    qtbot.addWidget(playground)
    playground.resize(*size)
    playground.show()
    qtbot.waitExposed(playground)
    open_in(qtbot, playground, path)
    return playground


@pytest.fixture
def pg(qtbot, model_path) -> Playground:
    return shown_playground(qtbot, model_path)


def set_text(qtbot, pg: Playground, text: str) -> None:
    with qtbot.waitSignal(pg.refreshed, timeout=5000):
        pg.editor.setPlainText(text)


def labels_of(tok: Tokenizer, text: str, **kw) -> list[str]:
    return [piece_label(p) for p in tok.segment(text, **kw).pieces]


def hover(qtbot, view, i: int) -> None:
    with qtbot.waitSignal(view.hovered, timeout=2000):
        qtbot.mouseMove(view.viewport(), view.token_rect(i).center())


def tooltip(view, i: int) -> str:
    pos = view.token_rect(i).center()
    event = QHelpEvent(QEvent.Type.ToolTip, pos, view.viewport().mapToGlobal(pos))
    QApplication.sendEvent(view.viewport(), event)
    return QToolTip.text()


def drop_files(window, paths: list[Path]) -> tuple[QDragEnterEvent, QDropEvent]:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    # QDragEnterEvent takes a QPoint in every PySide6 version, QDropEvent a QPointF
    enter = QDragEnterEvent(QPoint(60, 60), Qt.DropAction.CopyAction, mime, buttons, mods)
    QApplication.sendEvent(window, enter)
    drop = QDropEvent(QPointF(60, 60), Qt.DropAction.CopyAction, mime, buttons, mods)
    if enter.isAccepted():
        QApplication.sendEvent(window, drop)
    return enter, drop


# ---------------------------------------------------------------- editor and panes
def test_model_loads_and_warms_once_off_the_gui_thread(qtbot, model_path, monkeypatch, settle):
    warmed = []  # (thread, tokenizer) per warm-up: the workspace's build is the only one
    real = state_module.build_tokenizer

    def spy(source, report):
        tok = real(source, report)
        warmed.append((QThread.currentThread(), tok))
        return tok

    monkeypatch.setattr(state_module, "build_tokenizer", spy)
    ws = Workspace()
    pg = Playground(ws)
    qtbot.addWidget(pg)
    ws.open_model(model_path)
    assert pg.tokenizer is None  # nothing compiled or loaded synchronously
    with qtbot.waitSignal(pg.tokenizerReady, timeout=LOAD_MS):
        pass
    settle()
    assert [tok for _, tok in warmed] == [ws.tokenizer]  # warmed once, this very tokenizer
    assert warmed[0][0] is not QApplication.instance().thread()
    assert pg.tokenizer is ws.tokenizer and pg.viterbi.segmentation is not None


def test_typing_updates_the_panes_after_the_debounce(qtbot, pg):
    tok = pg.tokenizer
    set_text(qtbot, pg, "")
    assert pg.viterbi.view.labels == []
    qtbot.keyClicks(pg.editor, "abcab cab")
    qtbot.keyClick(pg.editor, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)  # a tab
    qtbot.keyClicks(pg.editor, "abc")
    qtbot.keyClick(pg.editor, Qt.Key.Key_Return)
    pg.editor.insertPlainText("你好")  # QTest types ASCII only: CJK arrives as from an IME
    qtbot.keyClicks(pg.editor, " ab")
    assert pg.viterbi.view.labels == []  # debounced: nothing yet while typing
    with qtbot.waitSignal(pg.refreshed, timeout=2000):
        pass
    text = pg.editor.toPlainText()
    assert text == TEXT
    seg = pg.viterbi.segmentation
    assert seg.pieces == tok.tokenize(text)
    assert pg.viterbi.view.labels == labels_of(tok, text)
    assert "·" in "".join(pg.viterbi.view.labels) and "→" in pg.viterbi.view.labels
    assert f"{len(tok.encode(text))} tokens" in pg.viterbi.stats.text()
    c = pg.controls
    assert pg.samples[0].segmentation.pieces == tok.tokenize(text, alpha=c.alpha, seed=c.seed)
    # the newline is shown and breaks the line
    view = pg.viterbi.view
    k = next(i for i, lab in enumerate(view.labels) if lab.endswith("↵"))
    assert view.token_rect(k + 1).top() > view.token_rect(k).top()


def test_pane_statistics_and_exact_probability(qtbot, pg):
    tok = pg.tokenizer
    set_text(qtbot, pg, TEXT)
    seg = tok.segment(TEXT)
    stats = pg.viterbi.stats.text()
    assert f"{len(seg)} tokens" in stats
    assert f"{seg.bytes_per_token:.2f} bytes/token" in stats
    assert f"{seg.chars_per_token:.2f} chars/token" in stats
    assert f"{seg.score:,.2f}" in stats
    c = pg.controls
    sampled = tok.segment(TEXT, alpha=c.alpha, seed=c.seed)
    lp = tok.log_prob(sampled, c.alpha)
    text = pg.samples[0].stats.text()
    assert f"{lp:,.3f}" in text and format_prob(lp) in text
    assert format_prob(-1e4) == "1.14e-4343"


def test_tooltip_shows_id_bytes_text_count_and_log_p(qtbot, pg):
    tok = pg.tokenizer
    set_text(qtbot, pg, "abc cab")
    view = pg.viterbi.view
    seg = tok.segment("abc cab")
    i = seg.pieces.index(b"abc")
    tip = tooltip(view, i)
    assert str(tok.piece_to_id(b"abc")) in tip
    assert "61 62 63" in tip
    assert f"{seg.logps[i]:.4f}" in tip
    assert str(tiny_counts()[b"abc"]) in tip
    assert view.last_tooltip == tip
    # between two lines there is no token and no tooltip
    gap = view.token_rect(0).bottomLeft() + QPoint(0, 2)
    assert view.token_at(gap) is None
    QToolTip.hideText()


def test_hover_highlights_the_span_in_editor_and_other_panes(qtbot, pg):
    set_text(qtbot, pg, "😀abc cab")  # an astral character counts 2 in the editor
    view = pg.viterbi.view
    seg = pg.viterbi.segmentation
    i = seg.pieces.index(b"abc")
    hover(qtbot, view, i)
    assert pg.highlighted_editor_text() == "abc"
    start, end = int(seg.starts[i]), int(seg.ends[i])
    assert pg.samples[0].view._highlight == (start, end)
    # hovering a partial-character token highlights the whole character
    hover(qtbot, view, 0)
    assert pg.highlighted_editor_text() == "😀"
    with qtbot.waitSignal(view.hovered, timeout=2000) as blocker:
        qtbot.mouseMove(view.viewport(), QPoint(view.viewport().width() - 3, 3))
    assert blocker.args == [-1, -1]
    assert pg.highlighted_editor_text() == ""


def test_partial_characters_are_shown_as_hex(qtbot, pg, tmp_path):
    counts = {bytes([i]): 1 for i in range(256)}
    counts.update({"你".encode()[:2]: 9, b"ab": 5})  # no 你: it must split inside
    tok = open_in(qtbot, pg, write_model(tmp_path / "split.model", counts))
    set_text(qtbot, pg, "你ab")
    view = pg.viterbi.view
    assert view.labels == ["⟨E4 BD⟩", "⟨A0⟩", "ab"] == labels_of(tok, "你ab")
    tip = tooltip(view, 0)
    assert "E4 BD" in tip and "part of a character" in tip
    QToolTip.hideText()
    hover(qtbot, view, 1)
    assert pg.highlighted_editor_text() == "你"


def test_alpha_and_seed_are_reproducible(qtbot, pg):
    tok = pg.tokenizer
    text = "abcabcab cabcab\nabcbcab abc"
    set_text(qtbot, pg, text)
    c = pg.controls
    with qtbot.waitSignal(pg.refreshed):
        c.alpha_spin.setValue(0.5)
    assert c.alpha_slider.value() == 50
    with qtbot.waitSignal(pg.refreshed):
        c.alpha_slider.setValue(20)
    assert c.alpha == 0.2
    shown = {}
    for seed in (11, 12, 11):
        with qtbot.waitSignal(pg.refreshed):
            c.seed_spin.setValue(seed)
        pieces = pg.samples[0].segmentation.pieces
        assert pieces == tok.tokenize(text, alpha=0.2, seed=seed)
        assert shown.setdefault(seed, pieces) == pieces
    old = c.seed
    with qtbot.waitSignal(pg.refreshed):
        c.resample.click()
    assert c.seed != old
    assert pg.samples[0].segmentation.pieces == tok.tokenize(text, alpha=0.2, seed=c.seed)
    with qtbot.waitSignal(pg.refreshed):
        c.samples_spin.setValue(3)
    assert len(pg.samples) == 3
    for k, pane in enumerate(pg.samples):
        assert f"seed {c.seed + k}" in pane.title.text()
        assert pane.segmentation.pieces == tok.tokenize(text, alpha=0.2, seed=c.seed + k)
    with qtbot.waitSignal(pg.refreshed):
        c.deterministic.setChecked(True)
    assert pg.samples == [] and not c.alpha_spin.isEnabled()
    assert pg.viterbi.segmentation.pieces == tok.tokenize(text)


def test_differing_tokens_are_marked(qtbot, pg):
    tok = pg.tokenizer
    text = "abcabcab cabcab abcbcab"
    set_text(qtbot, pg, text)
    with qtbot.waitSignal(pg.refreshed):
        pg.controls.alpha_spin.setValue(0.01)  # near uniform: samples differ from Viterbi
    vit = tok.segment(text)
    spans = set(zip(vit.starts.tolist(), vit.ends.tolist()))
    view = pg.samples[0].view
    sample = view.segmentation
    expected = [(s, e) not in spans for s, e in zip(sample.starts.tolist(), sample.ends.tolist())]
    assert view.different.tolist() == expected
    assert any(expected) and not all(expected)
    assert not pg.viterbi.view.different.any()
    assert f"{sum(expected)} token" in pg.samples[0].stats.text()
    image = view.viewport().grab().toImage()
    for i, differs in enumerate(expected):
        r = view.token_rect(i)
        if r.bottom() >= image.height():
            break
        color = image.pixelColor(r.left() + 1, r.center().y())
        is_red = color.red() > 150 and color.green() < 110 and color.blue() < 110
        assert is_red == differs, (i, color.name(), DIFF_COLOR.name())


@hypothesis_settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    text=st.text(alphabet="abc 你好\n\t😀é", max_size=120),
    width=st.integers(min_value=60, max_value=500),
    seed=st.integers(min_value=0, max_value=1000),
)
def test_layout_and_hit_testing_are_consistent(qtbot, pg, text, width, seed):
    tok = pg.tokenizer
    view = pg.samples[0].view
    view.resize(width, 400)
    seg = tok.segment(text, alpha=0.5, seed=seed)
    ref = tok.segment(text)
    view.show_segmentation(seg, tok, reference=ref)
    spans = set(zip(ref.starts.tolist(), ref.ends.tolist()))
    naive = [(s, e) not in spans for s, e in zip(seg.starts.tolist(), seg.ends.tolist())]
    assert view.different.tolist() == naive
    assert view.labels == [piece_label(p) for p in seg.pieces]
    right_edge = view.viewport().width()
    rects = [view.token_rect(i) for i in range(len(seg))]
    for i, r in enumerate(rects):
        assert view.token_at(r.center()) == i
        if i == 0:
            continue
        prev = rects[i - 1]
        if seg.pieces[i - 1].endswith(b"\n"):
            assert r.top() > prev.top()  # a newline token ends its line
        elif r.top() == prev.top():
            assert r.left() > prev.right()  # same line: left to right, no overlap
        else:
            assert r.top() > prev.top()
            assert prev.right() + rects[i].width() > right_edge - 12  # wrapped: it did not fit
        if r.left() > 12:  # not the first box of its line
            assert r.right() <= right_edge


# ---------------------------------------------------------------- sampling distribution
def test_sampling_distribution_matches_top_k(qtbot, pg):
    tok = pg.tokenizer
    view = pg.distribution
    with qtbot.waitSignal(view.computed, timeout=10_000):
        pg.tabs.setCurrentWidget(view)
    assert view.plot is not None and view.plot.isVisible()
    text, k, n, alpha = "abcab", 6, 20_000, pg.controls.alpha
    view.k_spin.setValue(k)
    view.draws_spin.setValue(n)
    with qtbot.waitSignal(view.computed, timeout=10_000):
        view.text_edit.setText(text)
    top = tok.top_k(text, k, alpha)
    exact = [p for _, p in top]
    assert np.allclose(view.exact[: len(top)], exact)
    # the top-k bars; "other" (pooled, last) has a chart of its own
    assert np.allclose(view.exact_bars.opts["height"], view.exact[: len(top)])
    assert np.allclose(view.empirical_bars.opts["height"], view.empirical[: len(top)])
    draws = Counter(map(tuple, tok.tokenize_batch([text] * n, alpha=alpha, seed=view.seed)))
    assert view.observed[: len(top)].tolist() == [draws[tuple(s.pieces)] for s, _ in top]
    assert view.observed.sum() == n
    assert view.labels[0] == " │ ".join(piece_label(p) for p in top[0][0].pieces)
    assert view.table.rowCount() == len(view.labels)
    assert view.table.item(0, 1).text() == view.labels[0]
    assert view.tv < 0.02 and view.p_value > 1e-3
    assert "total variation" in view.figure.text() and "χ²" in view.figure.text()
    # α and seed come from the playground's controls
    with qtbot.waitSignal(view.computed, timeout=10_000):
        pg.controls.seed_spin.setValue(5)
    assert view.seed == 5
    # a long text is refused with a clear message
    view.text_edit.setText("a" * 300)
    view.compute()
    assert "short text" in view.figure.text() and view.table.rowCount() == 0


# ---------------------------------------------------------------- ids
def test_ids_copy_and_decode_round_trip(qtbot, pg):
    tok = pg.tokenizer
    set_text(qtbot, pg, TEXT)
    pg.tabs.setCurrentWidget(pg.ids)
    ids_view = pg.ids
    assert ids_view.ids == tok.encode(TEXT)
    clipboard = QGuiApplication.clipboard()
    ids_view.copy_json.click()
    assert json.loads(clipboard.text()) == tok.encode(TEXT)
    ids_view.copy_text.click()
    assert clipboard.text() == " ".join(map(str, tok.encode(TEXT)))
    ids_view.decode_input.setPlainText(clipboard.text())
    assert ids_view.decoded.toPlainText() == TEXT and ids_view.error == ""
    ids_view.bos.setChecked(True)
    ids_view.eos.setChecked(True)
    assert ids_view.ids[0] == 1 and ids_view.ids[-1] == 2
    ids_view.copy_json.click()
    ids_view.decode_input.setPlainText(clipboard.text())
    assert ids_view.decoded.toPlainText() == TEXT
    ids_view.mode.setCurrentIndex(1)  # sampled with the playground's α and seed
    c = pg.controls
    assert ids_view.ids[1:-1] == tok.encode(TEXT, alpha=c.alpha, seed=c.seed)


def test_bad_ids_give_an_inline_message(qtbot, pg):
    set_text(qtbot, pg, "abc")
    pg.tabs.setCurrentWidget(pg.ids)
    ids_view = pg.ids
    ids_view.decode_input.setPlainText("[3, x, 5]")
    assert "item 2" in ids_view.error and "'x'" in ids_view.error
    assert ids_view.message.text() == ids_view.error and ids_view.decoded.toPlainText() == ""
    ids_view.decode_input.setPlainText(f"3 {pg.tokenizer.vocab_size} -1")
    assert "out of range" in ids_view.error and str(pg.tokenizer.vocab_size) in ids_view.error
    ids_view.decode_input.setPlainText("  ")
    assert ids_view.error == ""
    assert parse_ids("[3, 4,5]", 10) == [3, 4, 5]
    with pytest.raises(ValueError, match=r"1\.5"):
        parse_ids("3 1.5", 10)


# ---------------------------------------------------------------- compare
def test_compare_shows_two_models_side_by_side(qtbot, pg, other_model_path):
    set_text(qtbot, pg, "abcab cab abc")
    pg.tabs.setCurrentWidget(pg.compare)
    cmp = pg.compare
    assert cmp.pane_b.segmentation is None
    with qtbot.waitSignal(cmp.compared, timeout=LOAD_MS):
        cmp.open_model(other_model_path)
    other = Tokenizer(str(other_model_path))
    text = "abcab cab abc"
    assert cmp.pane_a.view.labels == labels_of(pg.tokenizer, text)
    assert cmp.pane_b.view.labels == labels_of(other, text)
    assert "other.model" in cmp.pane_b.title.text()
    a, b = pg.tokenizer.segment(text), other.segment(text)
    assert f"{len(b)} tokens for A's {len(a)}" in cmp.summary.text()
    spans_a = set(zip(a.starts.tolist(), a.ends.tolist()))
    expected = [(s, e) not in spans_a for s, e in zip(b.starts.tolist(), b.ends.tolist())]
    assert cmp.pane_b.view.different.tolist() == expected and any(expected)
    # typing updates the comparison too
    pg.editor.moveCursor(QTextCursor.MoveOperation.End)
    with qtbot.waitSignal(cmp.compared, timeout=5000):
        qtbot.keyClicks(pg.editor, " bca")
    assert cmp.pane_b.view.labels == labels_of(other, text + " bca")


# ---------------------------------------------------------------- main window
def test_drop_a_model_file_opens_it_and_remembers_it(qtbot, settle, window, model_path, tmp_path):
    enter, _ = drop_files(window, [tmp_path / "notes.txt"])
    assert not enter.isAccepted()
    with qtbot.waitSignal(window.playground.tokenizerReady, timeout=LOAD_MS):
        enter, drop = drop_files(window, [model_path])
    assert enter.isAccepted() and drop.isAccepted()
    assert window.workspace.model_path == model_path.resolve()
    assert "tiny.model" in window.windowTitle()
    assert window.recent_files() == [str(model_path.resolve())]
    assert Path(window.settings.fileName()).parent == tmp_path  # never the real home
    assert str(model_path.resolve()) in Path(window.settings.fileName()).read_text()
    names = [a.text() for a in window.recent_menu.actions()]
    assert any("tiny.model" in n for n in names)
    settle()


def test_open_dialog_and_recent_files(
    qtbot, settle, window, model_path, other_model_path, monkeypatch
):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(other_model_path), ""))
    with qtbot.waitSignal(window.playground.tokenizerReady, timeout=LOAD_MS):
        window.open_model_dialog()
    with qtbot.waitSignal(window.playground.tokenizerReady, timeout=LOAD_MS):
        window.open_path(model_path)
    assert window.recent_files() == [str(model_path.resolve()), str(other_model_path.resolve())]
    window._fill_recent_menu()
    action = next(
        a for a in window.recent_menu.actions() if a.data() == str(other_model_path.resolve())
    )
    with qtbot.waitSignal(window.playground.tokenizerReady, timeout=LOAD_MS):
        action.trigger()
    assert window.workspace.model_path == other_model_path.resolve()
    assert window.recent_files()[0] == str(other_model_path.resolve())
    model_path.unlink()
    window._fill_recent_menu()
    gone = next(a for a in window.recent_menu.actions() if a.data() == str(model_path.resolve()))
    assert not gone.isEnabled()
    settle()


def test_a_bad_model_file_shows_a_clear_message(qtbot, settle, window, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: shown.append(args[1:3]))
    bad = tmp_path / "bad.model"
    bad.write_text("[]")
    with qtbot.waitSignal(window.workspace.modelFailed, timeout=LOAD_MS):
        drop_files(window, [bad])
    assert len(shown) == 1
    _title, message = shown[0]
    assert "bad.model" in message and "neither a BytePiece model" in message
    assert "Traceback" not in message
    assert window.recent_files() == []
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    with qtbot.waitSignal(window.workspace.modelFailed, timeout=LOAD_MS):
        window.open_path(broken)
    assert "broken.zip" in shown[1][1] and "zip" in shown[1][1]
    settle()


def test_the_default_model_opens_at_start(qtbot, settle, model_path, monkeypatch):
    import piecelab.paths
    from piecelab.gui.app import create_window

    monkeypatch.setattr(piecelab.paths, "default_model_path", lambda: model_path)
    app, win = create_window()
    try:
        qtbot.addWidget(win)
        assert win.isVisible()
        with qtbot.waitSignal(win.playground.tokenizerReady, timeout=LOAD_MS):
            pass
        assert win.workspace.model_path == model_path
        assert win.recent_files() == []  # the default model is not a "recent" file
    finally:
        app.setOrganizationName("piecelab-tests")
        app.setApplicationName("piecelab-tests")
    settle()


def test_closing_asks_about_unsaved_changes(qtbot, settle, window, model_path, monkeypatch):
    with qtbot.waitSignal(window.playground.tokenizerReady, timeout=LOAD_MS):
        window.open_path(model_path)
    ws = window.workspace
    ws._set_dirty(True)
    answers = [QMessageBox.StandardButton.Cancel]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: answers[-1])
    saved = []
    monkeypatch.setattr(ws, "save_model", lambda path=None: saved.append(path) or model_path)
    assert not window.close() and window.isVisible()
    answers.append(QMessageBox.StandardButton.Save)
    monkeypatch.setattr(window.vocab_view, "can_close", lambda: False)
    assert not window.close() and saved == []  # a tab that refuses wins before the prompt
    monkeypatch.setattr(window.vocab_view, "can_close", lambda: True)
    assert window.close() and saved == [None]
    settle()


def test_closing_with_discard_does_not_save(qtbot, settle, window, model_path, monkeypatch):
    with qtbot.waitSignal(window.playground.tokenizerReady, timeout=LOAD_MS):
        window.open_path(model_path)
    window.workspace._set_dirty(True)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)
    monkeypatch.setattr(window.workspace, "save_model", lambda *a: pytest.fail("saved"))
    assert window.close()
    settle()


# ---------------------------------------------------------------- screenshots
def test_screenshots_of_the_main_states(qtbot, settle, window, model_path, other_model_path):
    pg = window.playground
    window.resize(1280, 800)
    with qtbot.waitSignal(pg.tokenizerReady, timeout=LOAD_MS):
        window.open_path(model_path)
    with qtbot.waitSignal(pg.refreshed):
        pg.controls.samples_spin.setValue(2)
    set_text(qtbot, pg, TEXT + "\n😀 abcabcab cab " * 4)
    hover(qtbot, pg.viterbi.view, 2)
    shots = {"playground": (window, [pg.editor, pg.viterbi, *pg.samples])}
    image = save_screenshot(window, "playground")
    with qtbot.waitSignal(pg.distribution.computed, timeout=10_000):
        pg.tabs.setCurrentWidget(pg.distribution)
    shots["sampling_distribution"] = (window, [pg.distribution.plot, pg.distribution.table])
    pg.tabs.setCurrentWidget(pg.ids)
    pg.ids.decode_input.setPlainText("3 4 x")
    shots["ids"] = (window, [pg.ids.ids_text, pg.ids.message])
    pg.tabs.setCurrentWidget(pg.compare)
    with qtbot.waitSignal(pg.compare.compared, timeout=LOAD_MS):
        pg.compare.open_model(other_model_path)
    shots["compare"] = (window, [pg.compare.pane_a, pg.compare.pane_b])
    pg.tabs.setCurrentIndex(0)
    for name, (widget, parts) in shots.items():
        if name != "playground":
            pg.tabs.setCurrentWidget(
                {"sampling_distribution": pg.distribution, "ids": pg.ids, "compare": pg.compare}[
                    name
                ]
            )
            image = save_screenshot(widget, name)
        ratio = widget.devicePixelRatioF()
        assert image.width() == round(widget.width() * ratio) >= 1200
        assert image.height() == round(widget.height() * ratio) >= 700
        assert distinct_colors(image) >= 12, name
        for part in parts:
            assert part.isVisible() and part.width() > 50 and part.height() > 10, (name, part)
    assert pg.ids.error and "item 3" in pg.ids.error
    settle()
