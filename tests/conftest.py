"""Shared fixtures: a tiny owned vocabulary, the bundled model, and ../shared when present."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PIECELAB_SHARED", REPO.parent / "shared"))
SHARED_MODEL = SHARED / "models" / "bytepiece.plus.80k.zip"
SHARED_TEST = SHARED / "corpora" / "zh-en-docs.test.jsonl.gz"
DATA = Path(__file__).resolve().parent / "data"


def tiny_counts() -> dict[bytes, int]:
    """All 256 bytes plus a handful of pieces with overlapping segmentations."""
    counts = {bytes([i]): 1 for i in range(256)}
    counts.update(
        {
            b"a": 50,
            b"b": 40,
            b"c": 30,
            b"ab": 20,
            b"bc": 15,
            b"abc": 8,
            b"ca": 6,
            b"cab": 4,
            b" ": 60,
            b" a": 10,
            "你".encode(): 12,
            "好".encode(): 9,
            "你好".encode(): 7,
            b"\n": 20,
            b"\n\n": 5,
            "你".encode()[:2]: 3,
        }
    )
    return counts


@pytest.fixture(scope="session")
def tiny_tokenizer():
    from piecelab import Tokenizer

    return Tokenizer(tiny_counts())


@pytest.fixture(scope="session")
def shared_tokenizer():
    if not SHARED_MODEL.is_file():
        pytest.skip("../shared is absent (the published BytePiece model)")
    from piecelab import Tokenizer

    return Tokenizer(str(SHARED_MODEL))


@pytest.fixture(scope="session")
def bundled_model_path():
    from piecelab.paths import sample_model_path

    path = sample_model_path()
    assert path.is_file(), f"the bundled default model is missing: {path}"
    return path
