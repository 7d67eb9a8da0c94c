"""Autosave and crash recovery: every autosave of a crashed session is offered, none
the user was not shown is deleted, and process ids (which get reused) decide nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from PySide6.QtWidgets import QFileDialog, QMainWindow

from piecelab.engine import Model
from piecelab.gui import autosave
from piecelab.gui.state import Workspace

from ..conftest import tiny_counts

LONG = 60_000


@pytest.fixture
def folder(tmp_path, monkeypatch):
    rec = tmp_path / "rec"
    monkeypatch.setenv(autosave.ENV_DIR, str(rec))
    return rec


def crashed_session(folder, model: Model, original: str = "", saved_at: float = 1.0, meta=True):
    """Autosave files of a session that was killed: written by a child process that then
    dies by SIGKILL, as a crash would leave them (its lock file stays, unlocked)."""
    code = textwrap.dedent(
        f"""
        import json, os, signal, sys
        from pathlib import Path
        from piecelab.gui.autosave import SessionLock
        from piecelab.engine import Model
        folder = Path({str(folder)!r})
        lock = SessionLock(folder)
        lock.acquire()
        model = Model.load({str(folder / "incoming.model")!r})
        model.save(folder / f"autosave-{{lock.id}}.model")
        if {meta!r}:
            meta = {{"original": {original!r}, "saved_at": {saved_at!r}}}
            (folder / f"autosave-{{lock.id}}.json").write_text(json.dumps(meta))
        print(lock.id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / "incoming.model")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    (folder / "incoming.model").unlink()
    assert proc.returncode == -9, proc.stderr
    return proc.stdout.strip()


def drive_dialog(monkeypatch, *actions):
    """Replace the modal exec with clicks on the dialog's own widgets; returns what it listed."""
    shown = []

    def exec_(dialog):
        shown.append([dialog.list.item(i).text() for i in range(dialog.list.count())])
        for act in actions:
            act(dialog)
        return dialog.result()

    monkeypatch.setattr(autosave.RecoveryDialog, "exec", exec_)
    return shown


def pick(row: int, button: str):
    def act(dialog):
        dialog.list.setCurrentRow(row)
        getattr(dialog, f"{button}_button").click()

    return act


def new_window(qtbot):
    ws = Workspace()
    window = QMainWindow()
    qtbot.addWidget(window)
    return ws, window


def test_autosave_writes_and_a_clean_save_or_exit_removes(qtbot, folder, settle):
    ws, window = new_window(qtbot)
    saver = autosave.install_autosave(window, ws)
    saver.timer.setInterval(50)
    model = Model.from_counts(tiny_counts())
    assert not saver.save_now()  # nothing unsaved: nothing written
    with qtbot.waitSignal(ws.modelEdited, timeout=LONG):
        ws.set_model(model, edited=True)
    qtbot.waitUntil(lambda: saver.saves >= 1, timeout=5000)
    assert Model.load(saver.model_path).pieces == model.pieces
    assert saver.session.path.exists()  # this session's lock, held while it runs
    assert autosave.find_recoveries(folder) == []  # a live session's autosave is not offered
    ws.save_model(folder.parent / "clean.model")  # a clean save removes the autosave
    assert not saver.model_path.exists()
    with qtbot.waitSignal(ws.modelEdited, timeout=LONG):
        ws.set_model(model.copy(), edited=True)  # an edit makes a new model
    assert saver.save_now() and saver.model_path.exists()
    window.show()
    window.close()  # a clean exit removes this session's autosave and its lock
    qtbot.waitUntil(lambda: not saver.model_path.exists(), timeout=2000)
    assert not saver.session.path.exists()
    settle()


def test_every_crashed_session_is_offered_and_later_keeps_them(qtbot, folder, monkeypatch, settle):
    model = Model.from_counts(tiny_counts())
    older = crashed_session(folder, model, "/data/a.model", saved_at=1000.0)
    newer = crashed_session(folder, model, "/data/b.model", saved_at=2000.0)
    shown = drive_dialog(monkeypatch, lambda d: d.later_button.click())
    ws, window = new_window(qtbot)
    saver = autosave.install_autosave(window, ws)
    qtbot.waitUntil(lambda: bool(shown), timeout=5000)
    assert len(shown[0]) == 2 and "b.model" in shown[0][0] and "a.model" in shown[0][1]
    names = {p.name for p in folder.glob("autosave-*.model")}
    assert names == {f"autosave-{older}.model", f"autosave-{newer}.model"}  # kept
    assert ws.model is None
    # open the older one: the newer one stays on disk for another time
    shown.clear()
    drive_dialog(monkeypatch, pick(1, "open"))
    with qtbot.waitSignal(ws.modelEdited, timeout=LONG):
        assert saver.offer_recovery()
    assert ws.model.pieces == model.pieces and ws.dirty
    assert str(ws.model_path) == "/data/a.model"
    left = autosave.find_recoveries(folder)
    assert [r.original for r in left] == ["/data/b.model"]
    settle()


def test_discard_and_save_as_touch_only_the_chosen_autosave(
    qtbot, folder, tmp_path, monkeypatch, settle
):
    model = Model.from_counts(tiny_counts())
    crashed_session(folder, model, "/data/a.model", saved_at=1000.0)
    crashed_session(folder, model, "/data/b.model", saved_at=2000.0)
    crashed_session(folder, model, "/data/c.model", saved_at=3000.0)
    target = tmp_path / "saved.model"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    drive_dialog(
        monkeypatch,
        pick(0, "discard"),  # c
        pick(0, "save"),  # b, to a file of its own
        lambda d: d.later_button.click(),
    )
    ws, window = new_window(qtbot)
    saver = autosave.Autosaver(window, ws)
    assert not saver.offer_recovery()
    assert Model.load(target).pieces == model.pieces
    assert [r.original for r in autosave.find_recoveries(folder)] == ["/data/a.model"]
    settle()


def test_an_autosave_without_its_metadata_is_offered(qtbot, folder, monkeypatch, settle):
    """A kill between writing the model and its metadata leaves the model alone."""
    model = Model.from_counts(tiny_counts())
    crashed_session(folder, model, meta=False)
    found = autosave.find_recoveries(folder)
    assert len(found) == 1 and found[0].original == "" and found[0].saved_at > 0
    shown = drive_dialog(monkeypatch, pick(0, "open"))
    ws, window = new_window(qtbot)
    with qtbot.waitSignal(ws.modelEdited, timeout=LONG):
        assert autosave.Autosaver(window, ws).offer_recovery()
    assert shown and ws.model.pieces == model.pieces and ws.model_path is None
    settle()


def test_a_reused_process_id_neither_hides_nor_deletes_an_autosave(
    qtbot, folder, monkeypatch, settle
):
    """The crashed session's pid now belongs to a live process (this one)."""
    model = Model.from_counts(tiny_counts())
    session = crashed_session(folder, model, "/data/a.model")
    (folder / f"session-{session}.lock").write_text(str(os.getpid()))
    assert len(autosave.find_recoveries(folder)) == 1
    drive_dialog(monkeypatch, lambda d: d.later_button.click())
    ws, window = new_window(qtbot)
    saver = autosave.Autosaver(window, ws)
    assert not saver.offer_recovery()
    with qtbot.waitSignal(ws.modelEdited, timeout=LONG):
        ws.set_model(model, edited=True)
    assert saver.save_now()
    window.show()
    window.close()  # this session's clean exit removes its own autosave only
    qtbot.waitUntil(lambda: not saver.model_path.exists(), timeout=2000)
    assert [r.original for r in autosave.find_recoveries(folder)] == ["/data/a.model"]
    settle()


def test_an_autosave_of_an_older_version_named_by_pid(qtbot, folder, monkeypatch, settle):
    folder.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    Model.from_counts(tiny_counts()).save(folder / f"autosave-{proc.pid}.model")
    (folder / f"autosave-{proc.pid}.json").write_text(json.dumps({"saved_at": 5.0}))
    found = autosave.find_recoveries(folder)
    assert len(found) == 1 and found[0].saved_at == 5.0
    settle()
