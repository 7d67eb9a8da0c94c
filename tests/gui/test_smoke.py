"""The smoke test command: every main view renders with the bundled model."""

from __future__ import annotations

import os
import subprocess
import sys


def test_gui_smoke_test_command(tmp_path):
    from piecelab.paths import default_model_path

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    before = set(tmp_path.rglob("*"))
    proc = subprocess.run(
        [sys.executable, "-m", "piecelab", "gui", "--smoke-test"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "smoke test passed" in proc.stdout
    assert default_model_path().name in proc.stdout  # the model the workbench opens at start
    assert set(tmp_path.rglob("*")) == before, "the smoke test wrote files"


def test_smoke_test_fails_clearly_on_a_bad_model(tmp_path):
    bad = tmp_path / "bad.model"
    bad.write_text("[]")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-m", "piecelab", "gui", "--smoke-test", "-m", str(bad)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 1
    assert "bad.model" in proc.stderr and "neither a BytePiece model" in proc.stderr


def test_no_display_is_a_clear_message_not_a_crash(monkeypatch, capsys):
    from piecelab.gui.app import _debian_package, run_gui

    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert run_gui() == 1
    assert "QT_QPA_PLATFORM=offscreen" in capsys.readouterr().err
    monkeypatch.setenv("DISPLAY", ":987")
    assert run_gui() == 1
    assert "no X server is running on display :987" in capsys.readouterr().err
    assert _debian_package("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert _debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
