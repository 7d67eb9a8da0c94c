"""Tokenizer and Trainer survive pickling, copying and spawned processes (issue #14, item 1).

A Tokenizer keeps tables of raw object addresses for its kernels; pickled as
they were, a copy in another process (or after the original is freed) read
freed memory.  Every spawned process here runs under a timeout, so a
regression fails instead of hanging the pool.
"""

from __future__ import annotations

import copy
import multiprocessing
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from piecelab import Tokenizer, Trainer

from . import _workers
from ._workers import TEXT, tiny_counts

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 120  # spawned interpreters import numba and load cached kernels


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    t = Tokenizer(tiny_counts(), seed=11)
    t.tokenize(TEXT)  # compile/load the kernels here, not in each child
    t.encode(TEXT, alpha=0.3, seed=5)
    return t


@pytest.fixture(scope="module")
def trainer() -> Trainer:
    texts = ["hello world, hello there\n"] * 40 + ["the quick brown fox jumps\n"] * 30
    tr = Trainer(order=3, max_vocab_size=[290, 275], min_count=2)
    tr.train(texts)
    return tr


def _child(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )


@pytest.mark.parametrize("how", ["pickle", "deepcopy", "copy"])
def test_a_copy_outlives_the_original(how):
    done = _child(f"from tests.hostile._workers import copy_outlives_the_original as f; f({how!r})")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


def test_pickle_round_trip_keeps_model_and_seed_state(tok):
    clone = pickle.loads(pickle.dumps(tok))
    assert clone.model.pieces == tok.model.pieces
    assert clone.model.counts.tolist() == tok.model.counts.tolist()
    assert clone.tokenize(TEXT) == tok.tokenize(TEXT)
    # the unseeded stream continues where the original is: same next draws
    assert [clone.tokenize(TEXT * 5, alpha=0.5) for _ in range(3)] == [
        tok.tokenize(TEXT * 5, alpha=0.5) for _ in range(3)
    ]
    # and the two are independent afterwards
    clone.set_seed(1)
    assert clone._next_seed != tok._next_seed


def test_pickle_load_in_a_fresh_process(tok, tmp_path):
    path = tmp_path / "tok.pickle"
    path.write_bytes(pickle.dumps(tok))
    code = (
        "import pickle, sys\n"
        "tok = pickle.loads(open(sys.argv[1], 'rb').read())\n"
        "print(repr(tok.tokenize(sys.argv[2])))\n"
        "print(repr(tok.encode(sys.argv[2], alpha=0.3, seed=5)))\n"
    )
    done = _child(code, str(path), TEXT)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines == [repr(tok.tokenize(TEXT)), repr(tok.encode(TEXT, alpha=0.3, seed=5))]


def test_spawn_pool_with_the_tokenizer_as_initarg(tok):
    texts = [TEXT, "cab abc", "", "你好你好"]
    ctx = multiprocessing.get_context("spawn")
    pool = ctx.Pool(2, initializer=_workers.init, initargs=(tok,))
    try:
        got = pool.map_async(_workers.tokenize, texts).get(timeout=TIMEOUT)
    finally:
        pool.terminate()
        pool.join()
    assert got == [tok.tokenize(t) for t in texts]


def test_spawned_process_tokenizes_and_reports_back(tok):
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_workers.report, args=(tok, TEXT, queue))
    proc.start()
    try:
        got = queue.get(timeout=TIMEOUT)
        proc.join(TIMEOUT)
    finally:
        if proc.is_alive():
            proc.kill()
            proc.join()
    assert proc.exitcode == 0
    assert got == (tok.tokenize(TEXT), tok.encode(TEXT, alpha=0.3, seed=5))


@pytest.mark.parametrize("how", [copy.copy, copy.deepcopy])
def test_copies_tokenize_like_the_original(tok, how):
    clone = how(tok)
    assert clone._piece_table is not tok._piece_table
    assert clone.tokenize(TEXT) == tok.tokenize(TEXT)
    assert clone.encode(TEXT, alpha=0.3, seed=9) == tok.encode(TEXT, alpha=0.3, seed=9)
    assert clone.decode(tok.encode(TEXT)) == TEXT


def test_trainer_pickles_and_copies(trainer):
    for clone in (pickle.loads(pickle.dumps(trainer)), copy.deepcopy(trainer), copy.copy(trainer)):
        assert sorted(clone.models) == sorted(trainer.models)
        for size, model in trainer.models.items():
            assert clone.models[size].pieces == model.pieces
            assert Tokenizer(clone.models[size]).tokenize(TEXT) == Tokenizer(model).tokenize(TEXT)


def test_trained_trainer_in_a_spawn_pool(trainer):
    size = trainer.max_vocab_size[0]
    expected = [Tokenizer(trainer.models[size]).tokenize(t) for t in (TEXT, "hello world")]
    ctx = multiprocessing.get_context("spawn")
    pool = ctx.Pool(1, initializer=_workers.init, initargs=(trainer,))
    try:
        got = pool.map_async(_workers.tokenize_trained, [TEXT, "hello world"]).get(TIMEOUT)
    finally:
        pool.terminate()
        pool.join()
    assert got == expected


def test_errors_pickle_with_their_messages(tok):
    # errors raised in pool workers travel back pickled
    from piecelab.engine import TextEncodingError

    for call in (lambda: tok.decode([10**6]), lambda: tok.tokenize("a\ud800")):
        with pytest.raises(ValueError) as info:
            call()
        back = pickle.loads(pickle.dumps(info.value))
        assert type(back) is type(info.value)
        assert str(back) == str(info.value)
    assert issubclass(TextEncodingError, UnicodeError)
