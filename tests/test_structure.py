"""Project rules that code review would otherwise have to remember."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

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


def _packages_in_pyproject() -> list[str]:
    import tomllib

    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    return config["tool"]["setuptools"]["packages"]


def test_nothing_installs_a_top_level_app_package():
    packages = _packages_in_pyproject()
    assert all(p == "piecelab" or p.startswith("piecelab.") for p in packages)
    assert not (REPO / "app" / "__init__.py").exists()


def test_every_package_folder_is_installed():
    """A subpackage missing from pyproject.toml works in a checkout but not once installed."""
    root = REPO / "app" / "piecelab"
    found = {
        ".".join(("piecelab", *p.parent.relative_to(root).parts)) for p in root.rglob("__init__.py")
    }
    assert found <= set(_packages_in_pyproject())


def _lint_imports(cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("lint-imports")
    return subprocess.run(
        [str(exe), "--no-cache", "--config", str(REPO / "pyproject.toml")],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
    )


def test_import_contracts_hold():
    """Engine without Qt, the engine's public names only, independent views, no cycles."""
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("gui/vocab/commands.py", "from ...engine.model import Model", "public names"),
        ("engine/stats.py", "from . import trainer", "cycles"),
        ("gui/playground/controls.py", "from ..vocab import charts", "independent"),
        ("engine/render.py", "import PySide6", "never imports the GUI"),
    ],
)
def test_import_contracts_catch_a_planted_violation(tmp_path, module, line, contract):
    """Each contract breaks when a copy of the package breaks it (so the check can fail)."""
    import os
    import shutil

    pkg = tmp_path / "piecelab"
    shutil.copytree(REPO / "app" / "piecelab", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    if module == "engine/stats.py":  # a cycle needs both directions
        trainer = pkg / "engine" / "trainer.py"
        trainer.write_text(trainer.read_text() + "\nfrom . import stats  # noqa\n")
    target = pkg / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    result = _lint_imports(tmp_path, env)
    broken = [ln for ln in result.stdout.splitlines() if ln.endswith("BROKEN")]
    assert result.returncode != 0 and any(contract in ln for ln in broken), result.stdout


MAX_FUNCTION_LINES = 60  # of code, docstring excluded: what reads at once


def _function_lengths(root: Path) -> list[tuple[int, str]]:
    import ast

    out = []
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            lines = node.end_lineno - node.lineno + 1
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                lines -= first.end_lineno - first.lineno + 1
            out.append((lines, f"{path.relative_to(root)}:{node.lineno} {node.name}"))
    return out


def test_functions_are_short_enough_to_read_at_once(tmp_path):
    long = sorted(x for x in _function_lengths(REPO / "app") if x[0] > MAX_FUNCTION_LINES)
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    (tmp_path / "m.py").write_text(f'def long():\n    """Doc."""\n{body}')
    assert [n for n, _ in _function_lengths(tmp_path)] == [MAX_FUNCTION_LINES + 1]
