"""``piecelab train --ray``: a Ray of its own, the same model file, clear errors."""

from __future__ import annotations

import glob
import os

import pytest

from piecelab.cli import main

from ..conftest import DATA

pytest.importorskip("ray")


def _train(capsys, corpus, out, *extra):
    code = main(["train", str(corpus), "-o", str(out), "--vocab-size", "700", "-q", *extra])
    return code, capsys.readouterr().err


@pytest.mark.slow
def test_train_on_a_local_ray_writes_the_same_model_and_stops_its_ray(capsys, tmp_path):
    import ray

    assert not ray.is_initialized()  # this module starts its own
    before = set(glob.glob("/tmp/plray-*"))
    corpus = DATA / "trainer_corpus.jsonl.gz"
    code, err = _train(capsys, corpus, tmp_path / "local.model", "--workers", "2")
    assert code == 0, err
    code, err = _train(capsys, corpus, tmp_path / "ray.model", "--workers", "2", "--ray")
    assert code == 0, err
    assert (tmp_path / "ray.model").read_bytes() == (tmp_path / "local.model").read_bytes()
    assert not ray.is_initialized()  # the run's Ray stopped with it
    assert set(glob.glob("/tmp/plray-*")) == before  # and its folder is gone


def test_without_the_cluster_extra_the_error_says_how_to_install_it(capsys, tmp_path, monkeypatch):
    import piecelab.engine

    monkeypatch.setattr(piecelab.engine, "ray_available", lambda: False)
    code, err = _train(capsys, DATA / "trainer_corpus.jsonl.gz", tmp_path / "m.model", "--ray")
    assert code == 2
    assert "piecelab[cluster]" in err
    assert not os.path.exists(tmp_path / "m.model")


@pytest.mark.parametrize("address", ["127.0.0.1:9", "ray://127.0.0.1:9"])
def test_a_cluster_that_cannot_be_reached_is_named(capsys, tmp_path, address):
    corpus = DATA / "trainer_corpus.jsonl.gz"
    code, err = _train(capsys, corpus, tmp_path / "m.model", "--ray", address)
    assert code == 2
    assert f"cannot join the Ray cluster at {address}: " in err and "Traceback" not in err


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_one_or_two_local_workers_give_the_local_model(capsys, tmp_path, workers):
    corpus = DATA / "trainer_corpus.jsonl.gz"
    code, err = _train(capsys, corpus, tmp_path / "local.model")
    assert code == 0, err
    code, err = _train(capsys, corpus, tmp_path / "ray.model", "--ray", "--workers", str(workers))
    assert code == 0, err
    assert (tmp_path / "ray.model").read_bytes() == (tmp_path / "local.model").read_bytes()


@pytest.mark.slow
def test_ctrl_c_stops_the_cluster_tasks_and_writes_nothing(tmp_path, train_docs):
    import json
    import signal
    import subprocess
    import sys
    import time

    from .conftest import task_processes

    corpus = tmp_path / "big.jsonl"
    with corpus.open("w", encoding="utf-8") as fh:
        for doc in train_docs * 10:
            fh.write(json.dumps({"text": doc}) + "\n")
    out = tmp_path / "m.model"
    before = set(glob.glob("/tmp/plray-*"))
    cmd = [sys.executable, "-m", "piecelab", "train", str(corpus), "-o", str(out)]
    # a terminal's Ctrl-C: SIGINT handled, even when the tests run in the background
    # (a background job inherits SIGINT ignored, and Python then installs no handler)
    proc = subprocess.Popen(
        [*cmd, "--vocab-size", "800", "--ray", "--workers", "2"],
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        while not task_processes() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert task_processes(), "no cluster task started"
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "cancelled; nothing was written" in err
    assert not out.exists()
    deadline = time.monotonic() + 15
    while task_processes() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert task_processes() == []
    assert set(glob.glob("/tmp/plray-*")) == before
