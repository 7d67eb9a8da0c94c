"""Project rules that code review would otherwise have to remember."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_engine_imports_no_qt():
    code = (
        "import sys, piecelab, piecelab.engine, piecelab.engine.trainer, piecelab.cli\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'PyQt5', 'PyQt6', 'shiboken6', 'pyqtgraph'))\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"Qt modules loaded by the engine: {out.stdout}"


def test_engine_sources_never_mention_qt():
    offenders = [
        p.relative_to(REPO)
        for p in (REPO / "app" / "piecelab" / "engine").rglob("*.py")
        if "PySide6" in p.read_text() or "pyqtgraph" in p.read_text()
    ]
    assert not offenders


def test_ruff_lint_and_format_are_clean():
    ruff = Path(sys.executable).with_name("ruff")
    cmd = [str(ruff)] if ruff.exists() else [sys.executable, "-m", "ruff"]
    lint = subprocess.run([*cmd, "check", "."], cwd=REPO, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    fmt = subprocess.run([*cmd, "format", "--check", "."], cwd=REPO, capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_nothing_installs_a_top_level_app_package():
    text = (REPO / "pyproject.toml").read_text()
    assert (
        'packages = ["piecelab", "piecelab.engine", "piecelab.gui", "piecelab.resources"]' in text
    )
    assert not (REPO / "app" / "__init__.py").exists()
