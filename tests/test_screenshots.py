"""`make screenshots` drives the real window through every view and writes a picture of
each; here it runs offscreen into a temporary folder and each image must have content."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
VIEWS = ("playground", "sampling", "corpus", "vocabulary", "train")


@pytest.mark.slow
def test_screenshot_script_renders_every_view(tmp_path):
    from PySide6.QtGui import QImage

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", HOME=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, str(REPO / "docs" / "make_screenshots.py"), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for name in VIEWS:
        image = QImage(str(tmp_path / f"{name}.png"))
        assert not image.isNull() and image.width() >= 1000, name
        colours = {
            image.pixel(x, y)
            for y in range(0, image.height(), 9)
            for x in range(0, image.width(), 9)
        }
        assert len(colours) >= 12, f"{name} looks blank"
