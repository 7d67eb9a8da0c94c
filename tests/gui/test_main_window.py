"""The main window: opening models (never losing edits), examples, help, keyboard, first
start geometry, progress while the tokenizer compiles, and errors shown, not swallowed."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QPushButton

from piecelab.engine import Model
from piecelab.gui import help as help_module
from piecelab.gui.errors import ErrorReporter
from piecelab.gui.main_window import MainWindow
from piecelab.paths import example_models, sample_model_path

from ..conftest import tiny_counts

LOAD_MS = 120_000
BUTTONS = QMessageBox.StandardButton


def open_and_wait(qtbot, window: MainWindow, path: Path) -> None:
    with qtbot.waitSignal(window.workspace.modelChanged, timeout=LOAD_MS):
        assert window.open_path(path)


def edit_something(qtbot, window: MainWindow) -> Model:
    """An unsaved edit, as the vocabulary view makes them (a new model, dirty)."""
    ws = window.workspace
    edited = Model(list(ws.model.pieces), ws.model.counts + 1)
    with qtbot.waitSignal(ws.modelEdited, timeout=LOAD_MS):
        ws.set_model(edited, edited=True)
    assert ws.dirty
    return edited


def drop(window: MainWindow, path: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier(0))
    enter = QDragEnterEvent(QPoint(40, 40), *args)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted(), f"{path.name} was not taken as a model"
    QApplication.sendEvent(window, QDropEvent(QPointF(40, 40), *args))


def answer(monkeypatch, button) -> list[str]:
    """Answer the next question(s) with ``button``; returns the questions' titles."""
    asked: list[str] = []

    def question(parent, title, text, *rest):
        asked.append(title)
        return button

    monkeypatch.setattr(QMessageBox, "question", question)
    return asked


# ---------------------------------------------------------------- never lose edits
@pytest.mark.parametrize("how", ["dialog", "recent", "drop", "example"])
def test_every_way_of_opening_asks_about_unsaved_edits(
    qtbot, settle, window, model_path, tmp_path, monkeypatch, how
):
    other = Model.from_counts({**tiny_counts(), b"zz": 5}).save(tmp_path / "other.model")
    open_and_wait(qtbot, window, model_path)
    if how == "recent":
        open_and_wait(qtbot, window, other)
        open_and_wait(qtbot, window, model_path)
    edited = edit_something(qtbot, window)
    ws = window.workspace
    target = sample_model_path() if how == "example" else other

    def open_it():
        if how == "dialog":
            monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(other), ""))
            window.open_model_dialog()
        elif how == "recent":
            window._fill_recent_menu()
            next(a for a in window.recent_menu.actions() if a.data() == str(other)).trigger()
        elif how == "drop":
            drop(window, other)
        else:
            next(a for a in window.examples_menu.actions() if "Sample" in a.text()).trigger()

    asked = answer(monkeypatch, BUTTONS.Cancel)
    open_it()
    qtbot.wait(50)
    assert asked == ["Unsaved changes"] and ws.model is edited and ws.dirty  # kept
    answer(monkeypatch, BUTTONS.Discard)
    with qtbot.waitSignal(ws.modelChanged, timeout=LOAD_MS):
        open_it()
    assert ws.model_path == target.resolve() and not ws.dirty
    settle()


def test_save_first_then_open(qtbot, settle, window, model_path, tmp_path, monkeypatch):
    other = Model.from_counts(tiny_counts()).save(tmp_path / "other.model")
    open_and_wait(qtbot, window, model_path)
    edited = edit_something(qtbot, window)
    answer(monkeypatch, BUTTONS.Save)
    with qtbot.waitSignal(window.workspace.modelChanged, timeout=LOAD_MS):
        window.open_path(other)
    assert Model.load(model_path).counts.tolist() == edited.counts.tolist()  # saved first
    settle()


def test_trainer_outputs_are_offered_and_dropped_as_models(qtbot, settle, window, tmp_path):
    sized = Model.from_counts(tiny_counts()).save(tmp_path / "run.model.16000")
    with qtbot.waitSignal(window.workspace.modelChanged, timeout=LOAD_MS):
        drop(window, sized)
    assert window.workspace.model_path == sized.resolve()
    renamed = tmp_path / "vocabulary.bin"  # a model by its content, whatever its name
    renamed.write_bytes(sized.read_bytes())
    with qtbot.waitSignal(window.workspace.modelChanged, timeout=LOAD_MS):
        drop(window, renamed)
    settle()


def test_open_dialog_filter_shows_trainer_outputs(qtbot, settle, window, monkeypatch):
    seen = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a: seen.append(a[3]) or ("", ""))
    window.open_model_dialog()
    assert "*.model.*" in seen[0] and "*.zip" in seen[0]
    settle()


# ---------------------------------------------------------------- examples and first start
def test_examples_menu_lists_the_bundled_models(qtbot, settle, window):
    titles = [a.text() for a in window.examples_menu.actions()]
    assert titles == [t for t, _ in example_models()] and "80k" in titles[0]
    with qtbot.waitSignal(window.workspace.modelChanged, timeout=LOAD_MS):
        window.examples_menu.actions()[1].trigger()
    assert window.workspace.model_path == sample_model_path().resolve()
    assert "sample.model" in window.windowTitle()
    settle()


def test_saving_an_edited_example_asks_for_a_file_and_keeps_the_example(
    qtbot, settle, window, tmp_path, monkeypatch
):
    example = sample_model_path()
    before = example.read_bytes()
    with qtbot.waitSignal(window.workspace.modelChanged, timeout=LOAD_MS):
        next(a for a in window.examples_menu.actions() if "Sample" in a.text()).trigger()
    edit_something(qtbot, window)
    asked: list[str] = []
    target = tmp_path / "mine.model"

    def dialog(parent, caption, start, *rest, **kw):
        asked.append(start)
        return str(target), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    save = next(a for a in window.findChildren(QAction) if a.text() == "&Save model")
    save.trigger()
    assert asked and Path(asked[0]).parent == Path.home() and asked[0].endswith("sample.model")
    assert example.read_bytes() == before and target.is_file()
    assert window.workspace.model_path == target.resolve() and not window.workspace.dirty
    settle()


def test_first_start_fills_most_of_the_screen_then_restores(qtbot, settle, settings):
    area = QGuiApplication.primaryScreen().availableGeometry()
    first = MainWindow(settings=settings)
    qtbot.addWidget(first)
    g = first.geometry()
    assert abs(g.width() - 0.85 * area.width()) <= 2 and abs(g.height() - 0.85 * area.height()) <= 2
    assert abs(g.center().x() - area.center().x()) <= 2
    first.show()
    first.resize(first.width() + 31, first.height() + 17)
    chosen = (first.width(), first.height())
    first.close()  # a clean close remembers the geometry
    again = MainWindow(settings=settings)
    qtbot.addWidget(again)
    assert (again.width(), again.height()) == chosen
    settle()


def test_tokenizer_progress_shows_in_the_status_bar(qtbot, settle, window, model_path):
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    seen_bar = []
    window.workspace.preparing.connect(lambda p: seen_bar.append(window.preparing.isVisible()))
    window.workspace.say("an edit was made")
    open_and_wait(qtbot, window, model_path)
    assert True in seen_bar and not window.preparing.isVisible()  # shown while it worked
    assert not window.compiling.isVisible()  # words only while numba compiles
    assert not any("Preparing" in m for m in messages)  # a view's message is not covered
    assert "tiny.model" in window.model_info.text() and "ids" in window.model_info.text()
    settle()


def test_compiling_is_said_beside_the_progress_bar(qtbot, settle, window):
    from piecelab.engine import COMPILING, Progress

    window.workspace.preparing.emit(Progress(COMPILING, 3, 11, "steps", 1.0))
    assert window.compiling.isVisible() and "first start only" in window.compiling.text()
    assert "3 of 11" in window.compiling.text() and window.preparing.isVisible()
    window.workspace.preparing.emit(Progress(COMPILING, 11, 11, "steps", 2.0))
    assert not window.compiling.isVisible() and not window.preparing.isVisible()
    settle()


# ---------------------------------------------------------------- help and keyboard
def test_help_guide_readme_and_shortcut_sheet(qtbot, settle, window, monkeypatch):
    shown = []
    monkeypatch.setattr(help_module.TextDialog, "exec", lambda d: shown.append(d) or 0)
    monkeypatch.setattr(help_module.ShortcutsDialog, "exec", lambda d: shown.append(d) or 0)
    actions = {
        a.text().replace("&", ""): a for a in window.menuBar().actions()[-1].menu().actions()
    }
    actions["Guide"].trigger()
    guide = shown[-1].browser.toPlainText()
    for term in ("Playground", "Vocabulary", "α", "temperature", "Held-out", "Unreachable",
                 "Emitted", "Partial UTF-8"):  # fmt: skip
        assert term in guide
    actions["README"].trigger()
    assert "piecelab" in shown[-1].browser.toPlainText()
    actions["Keyboard shortcuts"].trigger()
    table = shown[-1].table
    rows = {table.item(r, 1).text(): table.item(r, 0).text() for r in range(table.rowCount())}
    assert rows["Open model"] == "Ctrl+O" and rows["Guide"] == "F1"
    settle()


def test_menus_open_with_their_mnemonic_from_the_editor(qtbot, settle, window):
    editor = window.playground.editor
    editor.setFocus()
    qtbot.waitUntil(editor.hasFocus, timeout=2000)
    file_menu = window.menuBar().actions()[0].menu()
    qtbot.keyClick(editor, Qt.Key.Key_F, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(file_menu.isVisible, timeout=2000)
    file_menu.close()
    settle()


# ---------------------------------------------------------------- errors in slots
@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_slot_is_shown_to_the_user(qtbot, tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(box) or 0)
    reporter = ErrorReporter(log=tmp_path / "piecelab.log").install()
    try:
        button = QPushButton("break")
        qtbot.addWidget(button)

        def slot():
            raise RuntimeError("the slot broke")

        button.clicked.connect(slot)
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    finally:
        reporter.uninstall()
    assert reporter.shown == ["RuntimeError: the slot broke"]
    box = shown[0]
    assert "the slot broke" in box.text() and "Traceback" in box.detailedText()
    assert "the slot broke" in (tmp_path / "piecelab.log").read_text()


def test_a_model_never_saved_is_not_lost_on_quit(qtbot, settle, window, monkeypatch, tmp_path):
    """A trained model in use has no file yet: quitting asks, as with unsaved edits."""
    ws = window.workspace
    trained = Model.from_counts(tiny_counts())
    with qtbot.waitSignal(ws.modelChanged, timeout=LOAD_MS):
        ws.set_model(trained, path=None, edited=False, label="run 1")
    assert ws.dirty and not ws.has_edits and window.windowTitle().endswith("*")
    texts: list[str] = []

    def question(parent, title, text, *rest):
        texts.append(text)
        return BUTTONS.Cancel

    monkeypatch.setattr(QMessageBox, "question", question)
    assert not window.close() and window.isVisible()
    assert "run 1 has never been saved" in texts[0]
    ws.save_model(tmp_path / "run1.model")  # saved: nothing left to ask at teardown
    assert not ws.dirty
    settle()


def test_undo_back_to_the_saved_model_is_clean(qtbot, settle, window, model_path):
    open_and_wait(qtbot, window, model_path)
    ws = window.workspace
    saved = ws.model
    edited = edit_something(qtbot, window)
    assert ws.dirty and ws.has_edits
    with qtbot.waitSignal(ws.modelEdited, timeout=LOAD_MS):
        ws.set_model(saved, edited=True)  # what undo does: the model before the edit
    assert not ws.dirty and not window.windowTitle().endswith("*")
    with qtbot.waitSignal(ws.modelEdited, timeout=LOAD_MS):
        ws.set_model(edited, edited=True)  # redo
    assert ws.dirty
    with qtbot.waitSignal(ws.modelEdited, timeout=LOAD_MS):
        ws.set_model(saved, edited=True)
    settle()


def test_save_as_adds_the_extension_and_remembers_the_file(
    qtbot, settle, window, model_path, tmp_path, monkeypatch
):
    open_and_wait(qtbot, window, model_path)
    edit_something(qtbot, window)
    plain = tmp_path / "edited"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(plain), ""))
    assert window.save_as()
    saved = tmp_path / "edited.model"
    assert saved.is_file() and not plain.exists() and not window.workspace.dirty
    assert window.recent_files()[0] == str(saved.resolve())
    settle()


def test_the_vocabulary_toolbar_save_says_so_and_remembers_the_file(
    qtbot, settle, window, model_path, tmp_path, monkeypatch
):
    open_and_wait(qtbot, window, model_path)
    edit_something(qtbot, window)
    target = tmp_path / "from-toolbar.model"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.tabs.setCurrentWidget(window.vocab_view)
    save_as = window.vocab_view.actions["save_as"]
    qtbot.waitUntil(save_as.isEnabled, timeout=LOAD_MS)
    save_as.trigger()
    assert target.is_file() and not window.workspace.dirty
    assert window.statusBar().currentMessage() == f"Saved {target}"
    assert window.recent_files()[0] == str(target.resolve())
    assert "from-toolbar.model" in window.windowTitle() and "*" not in window.windowTitle()
    settle()
