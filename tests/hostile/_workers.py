"""What spawned processes run for test_pickling: importable, with light imports.

A spawned child unpickles its arguments before it runs anything, so a
Tokenizer that pickled raw object addresses crashes it there (or in the
first tokenize); the tests wait with timeouts so that such a crash fails
instead of hanging the pool.
"""

from __future__ import annotations

import copy
import gc
import pickle

TEXT = "abcab cab 你好\nca b"
_state: dict = {}


def tiny_counts() -> dict[bytes, int]:
    """All 256 bytes plus overlapping pieces (a small, quick model)."""
    counts = {bytes([i]): 1 for i in range(256)}
    counts.update({b"a": 50, b"b": 40, b"c": 30, b"ab": 20, b"bc": 15, b"abc": 8, b"cab": 4})
    counts.update({b" ": 60, "你好".encode(): 7, "你".encode(): 12, "好".encode(): 9})
    return counts


def init(obj) -> None:
    """Pool initializer: keep the tokenizer (or trainer) sent from the parent."""
    _state["obj"] = obj


def tokenize(text: str) -> list[bytes]:
    return _state["obj"].tokenize(text)


def tokenize_trained(text: str) -> list[bytes]:
    from piecelab import Tokenizer

    trainer = _state["obj"]
    size = trainer.max_vocab_size[0]
    return Tokenizer(trainer.models[size]).tokenize(text)


def report(tok, text: str, queue) -> None:
    """Process target: tokenize and send the result back."""
    queue.put((tok.tokenize(text), tok.encode(text, alpha=0.3, seed=5)))


def copy_outlives_the_original(how: str) -> None:
    """A copy (``pickle``, ``deepcopy`` or ``copy``) still tokenizes once the original is gone.

    Run in a child process: with borrowed addresses this crashes or returns
    garbage, which must not take the test runner down with it.
    """
    from piecelab import Tokenizer

    tok = Tokenizer(tiny_counts(), seed=3)
    # as text: the lists themselves would keep the original's pieces and ids alive
    expected = repr(tok.tokenize(TEXT))
    expected_ids = repr(tok.encode(TEXT))
    make = {
        "pickle": lambda t: pickle.loads(pickle.dumps(t)),
        "deepcopy": copy.deepcopy,
        "copy": copy.copy,
    }[how]
    clone = make(tok)
    del tok
    gc.collect()
    # churn the heap so that freed pieces and ids are reused
    junk = [bytes([i % 251]) * (i % 7 + 2) for i in range(200_000)]
    junk += list(range(10**6, 10**6 + 200_000))
    del junk
    assert repr(clone.tokenize(TEXT)) == expected
    assert repr(clone.encode(TEXT)) == expected_ids
    assert clone.decode(clone.encode(TEXT)) == TEXT
    print("ok")
