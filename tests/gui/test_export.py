"""File ▸ Export: the model written as a tokenizer.json and a SentencePiece model that give
piecelab's ids, through the real menu; failures are warnings naming the file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox

from piecelab.gui.main_window import MainWindow
from piecelab.paths import sample_model_path

from .test_main_window import LOAD_MS, open_and_wait

HF_ACTION, SP_ACTION = "Hugging Face tokenizer.json", "SentencePiece model"
TEMP_MARK = ".piecelab-"  # in the names of the engine's temporary files


def export_action(window: MainWindow, text: str) -> QAction:
    """The Export submenu's action, found as a user finds it: File, Export, ``text``."""
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    export = next(a.menu() for a in file_menu.actions() if a.text() == "&Export")
    return next(a for a in export.actions() if a.text().replace("&", "").startswith(text))


def choose(monkeypatch, path: Path | str) -> list[tuple]:
    """Answer the save dialog with ``path``; returns the dialogs' (caption, start, filter)."""
    asked: list[tuple] = []

    def dialog(parent, caption, start, filters, *rest):
        asked.append((caption, start, filters))
        return str(path), filters.split(";;")[0] if path else ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    return asked


def warnings_shown(monkeypatch) -> list[str]:
    shown: list[str] = []

    def warning(parent, title, text, *rest):
        assert title == "Export"
        shown.append(text)
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", warning)
    return shown


def export_to(qtbot, window: MainWindow, monkeypatch, which: str, target: Path) -> None:
    """Trigger the menu action and wait for its status message."""
    choose(monkeypatch, target)
    export_action(window, which).trigger()
    qtbot.waitUntil(lambda: "Exported" in window.statusBar().currentMessage(), timeout=LOAD_MS)
    assert str(target) in window.statusBar().currentMessage()


def debris(folder: Path) -> list[str]:
    """Temporary files of the engine's atomic writes left in ``folder``."""
    return [p.name for p in folder.glob(f".*{TEMP_MARK}*")]


@pytest.fixture
def sample_window(qtbot, window):
    """The window with the bundled sample model, whose SentencePiece export agrees with
    piecelab on the test corpus (tests/interop: ≥ 99.9% of documents)."""
    open_and_wait(qtbot, window, sample_model_path())
    return window


def test_actions_need_a_ready_model(qtbot, settle, window, model_path, tmp_path, monkeypatch):
    actions = [export_action(window, HF_ACTION), export_action(window, SP_ACTION)]
    assert not any(a.isEnabled() for a in actions)  # nothing open yet
    ws = window.workspace
    with qtbot.waitSignal(ws.modelChanged, timeout=LOAD_MS):
        ws.open_model(model_path)
        assert not any(a.isEnabled() for a in actions)  # still loading
    assert all(a.isEnabled() for a in actions)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: QMessageBox.StandardButton.Ok)
    with qtbot.waitSignal(ws.modelFailed, timeout=LOAD_MS):
        ws.open_model(tmp_path / "missing.model")
        assert not any(a.isEnabled() for a in actions)
    assert all(a.isEnabled() for a in actions)  # the model that was open stays
    settle()


def test_a_foreign_vocabulary_alone_is_not_exportable(
    qtbot, settle, window, model_path, tmp_path, monkeypatch
):
    from piecelab.engine import Model, export_sentencepiece

    foreign = export_sentencepiece(Model.load(model_path), tmp_path / "foreign.sp.model")
    window.open_path(foreign)
    qtbot.waitUntil(lambda: not window.workspace.loading, timeout=LOAD_MS)
    assert window.workspace.vocabulary is not None  # edited in place, not exported from
    assert not export_action(window, HF_ACTION).isEnabled()
    assert not export_action(window, SP_ACTION).isEnabled()
    settle()


def test_tokenizer_json_gives_piecelab_ids(
    qtbot, settle, sample_window, docs, tmp_path, monkeypatch
):
    tokenizers = pytest.importorskip("tokenizers")
    target = tmp_path / "out" / "sample.tokenizer.json"
    target.parent.mkdir()
    export_to(qtbot, sample_window, monkeypatch, HF_ACTION, target)
    hf = tokenizers.Tokenizer.from_file(str(target))
    ours = sample_window.workspace.tokenizer
    texts = [*docs[:40], "", "line one\nline two\n\n", "中文，标点。混合English"]
    for text in texts:
        assert hf.encode(text, add_special_tokens=False).ids == ours.encode(text), text[:60]
    assert debris(tmp_path) == []
    settle()


def test_sentencepiece_model_gives_piecelab_ids(
    qtbot, settle, sample_window, docs, tmp_path, monkeypatch
):
    spm = pytest.importorskip("sentencepiece")
    target = tmp_path / "sample.sp.model"
    export_to(qtbot, sample_window, monkeypatch, SP_ACTION, target)
    sp = spm.SentencePieceProcessor(model_file=str(target))
    ours = sample_window.workspace.tokenizer
    # the export keeps piecelab's ids (<unk>, <s>, </s> at 0, 1, 2): compared as they are
    assert sp.get_piece_size() >= ours.vocab_size
    for text in docs[:40]:
        assert sp.encode(text) == ours.encode(text), text[:60]
        assert sp.decode(ours.encode(text)) == text
    assert debris(tmp_path) == []
    settle()


def test_default_names_and_cancel(qtbot, settle, window, model_path, tmp_path, monkeypatch):
    open_and_wait(qtbot, window, model_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    window.statusBar().clearMessage()
    for which, name, pattern in [
        (HF_ACTION, "tiny.tokenizer.json", "*.json"),
        (SP_ACTION, "tiny.sp.model", "*.model"),
    ]:
        asked = choose(monkeypatch, "")  # the user cancels
        export_action(window, which).trigger()
        ((caption, start, filters),) = asked
        assert which in caption and Path(start) == model_path.parent / name
        assert pattern in filters.split(";;")[0]
    qtbot.wait(50)
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written
    assert window.statusBar().currentMessage() == ""
    settle()


def test_a_name_without_suffix_gets_one(qtbot, settle, window, model_path, tmp_path, monkeypatch):
    open_and_wait(qtbot, window, model_path)
    choose(monkeypatch, tmp_path / "plain")
    export_action(window, SP_ACTION).trigger()
    qtbot.waitUntil(lambda: (tmp_path / "plain.model").is_file(), timeout=LOAD_MS)
    settle()


def _can_create_in(folder: Path) -> bool:
    probe = folder / "piecelab-probe"
    try:
        probe.touch(exist_ok=False)
    except OSError:
        return False
    probe.unlink()
    return True


def _unwritable(tmp_path: Path) -> Path:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o500)
    if _can_create_in(folder):  # root ignores the mode; sysfs refuses new files even to root
        folder.chmod(0o700)
        folder = Path("/sys")
        if not folder.is_dir() or _can_create_in(folder):
            pytest.skip("no folder here that this user cannot write")
    return folder / "out.tokenizer.json"


@pytest.mark.parametrize("case", ["folder", "missing folder", "pipe", "unwritable"])
def test_failures_are_warnings_naming_the_file(
    qtbot, settle, window, model_path, tmp_path, monkeypatch, case
):
    open_and_wait(qtbot, window, model_path)
    if case == "folder":
        target = tmp_path / "a folder.tokenizer.json"
        target.mkdir()
        problem = "folder"
    elif case == "missing folder":
        target = tmp_path / "nowhere" / "out.tokenizer.json"
        problem = "does not exist"
    elif case == "pipe":  # as /dev/full would be: the rename must not replace it
        target = tmp_path / "pipe.tokenizer.json"
        os.mkfifo(target)
        problem = "not a regular file"
    else:
        target = _unwritable(tmp_path)
        problem = "ermission denied"
    shown = warnings_shown(monkeypatch)
    choose(monkeypatch, target)
    export_action(window, HF_ACTION).trigger()
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=LOAD_MS)
    (text,) = shown
    assert str(target) in text and problem in text, text
    assert "Traceback" not in text
    assert "Exported" not in window.statusBar().currentMessage()
    assert debris(tmp_path) == [] and debris(target.parent) == []
    if case == "pipe":
        assert target.is_fifo()
    elif case == "unwritable" and target.parent != Path("/sys"):
        target.parent.chmod(0o700)  # let pytest clean up
    settle()


def test_the_models_own_file_is_not_overwritten(
    qtbot, settle, window, model_path, tmp_path, monkeypatch
):
    open_and_wait(qtbot, window, model_path)
    original = model_path.read_bytes()
    shown = warnings_shown(monkeypatch)
    choose(monkeypatch, model_path)
    export_action(window, SP_ACTION).trigger()
    assert len(shown) == 1 and str(model_path) in shown[0] and "own file" in shown[0]
    assert model_path.read_bytes() == original
    settle()
