"""Saves killed half-way: the target is the old file or the new one, never a torn one,
and the killed save's temporary file is removed by the next save into that folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from piecelab import Model
from piecelab.engine import atomic

from ..conftest import tiny_counts


def slow_save(target, hold: float) -> subprocess.Popen:
    """A child that saves a model to ``target`` but stalls ``hold`` s before the rename."""
    code = textwrap.dedent(
        f"""
        import os, time
        from piecelab import Model
        from tests.conftest import tiny_counts
        real = os.fsync
        def stall(fd):
            real(fd)
            print("writing", flush=True)
            time.sleep({hold})
        os.fsync = stall
        Model.from_counts({{**tiny_counts(), b"new": 1}}).save({str(target)!r})
        """
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    return subprocess.Popen(
        [sys.executable, "-c", code], cwd=root, stdout=subprocess.PIPE, text=True
    )


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture(autouse=True)
def no_minimum_age(monkeypatch):
    monkeypatch.setattr(atomic, "MIN_AGE_SECONDS", 0.0)


def test_a_save_killed_midway_leaves_the_old_file_and_is_cleaned_up(tmp_path):
    target = tmp_path / "m.model"
    old = Model.from_counts(tiny_counts()).save(target).read_bytes()
    child = slow_save(target, hold=60)
    assert child.stdout.readline().strip() == "writing"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert target.read_bytes() == old  # the rename never happened
    assert len(leftovers(tmp_path)) == 1  # the killed save's temporary file
    Model.from_counts(tiny_counts()).save(tmp_path / "other.model")  # any save there
    assert leftovers(tmp_path) == []


def test_a_save_in_progress_elsewhere_is_left_alone(tmp_path):
    target = tmp_path / "m.model"
    child = slow_save(target, hold=3)
    assert child.stdout.readline().strip() == "writing"
    before = leftovers(tmp_path)
    Model.from_counts(tiny_counts()).save(tmp_path / "other.model")
    assert leftovers(tmp_path) == before and len(before) == 1  # its lock is held
    assert child.wait(timeout=60) == 0
    assert b"new" in Model.load(target).index and leftovers(tmp_path) == []


def test_other_programs_temporary_files_are_not_touched(tmp_path):
    theirs = tmp_path / ".report.docx.tmp"
    theirs.write_text("someone else's")
    old = time.time() - 7200
    os.utime(theirs, (old, old))
    Model.from_counts(tiny_counts()).save(tmp_path / "m.model")
    assert theirs.exists()
