"""Ray for the cluster tests: skipped cleanly when the ``cluster`` extra is not installed."""

from __future__ import annotations

import gzip
import json
import os

import pytest

from ..conftest import DATA


@pytest.fixture(scope="module")
def ray_cluster():
    """One local Ray with 2 worker CPUs for a test module (started once, then stopped)."""
    pytest.importorskip("ray")
    from piecelab.engine import ray_session

    with ray_session(None, workers=2) as info:
        yield info


@pytest.fixture(scope="session")
def train_docs() -> list[str]:
    with gzip.open(DATA / "trainer_corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh]


def task_processes(prefix: str = "ray::_count_") -> list[int]:
    """Pids of Ray workers now running one of the trainer's tasks (by process title)."""
    pids = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as fh:
                cmd = fh.read()
        except OSError:
            continue
        if cmd.startswith(prefix.encode()):
            pids.append(int(name))
    return pids
