"""Benchmark corpora: read the shared JSONL files, cut the training slices, stay small.

Shared by the orchestrator (product interpreter) and the worker (benchmark
interpreter), so it needs nothing beyond the standard library.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PIECELAB_SHARED", REPO.parent / "shared"))
CORPORA = SHARED / "corpora"
TRAIN_FILE = CORPORA / "zh-en-docs.train.jsonl.gz"
TEST_FILE = CORPORA / "zh-en-docs.test.jsonl.gz"
MODEL_80K = SHARED / "models" / "bytepiece.plus.80k.zip"


def missing_inputs() -> list[Path]:
    """The shared files the benchmarks need that are not there."""
    return [p for p in (TRAIN_FILE, TEST_FILE, MODEL_80K) if not p.is_file()]


def read_docs(path: str | os.PathLike[str], max_bytes: int = 0) -> list[str]:
    """Documents (field ``text``) in file order; with ``max_bytes``, stop once the UTF-8
    total reaches it (the document that crosses the line is included)."""
    docs: list[str] = []
    total = 0
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            text = json.loads(line)["text"]
            docs.append(text)
            total += len(text.encode("utf-8"))
            if max_bytes and total >= max_bytes:
                break
    return docs


def utf8_size(docs: list[str]) -> int:
    return sum(len(d.encode("utf-8")) for d in docs)


# SentencePiece reads one sentence per line, so a document's own newlines cannot
# reach it as characters.  We escape them to a character absent from the corpus
# (U+240A SYMBOL FOR LINE FEED) both when writing its training file and around
# its encode/decode, so SentencePiece, like the others, can learn pieces that
# span a line end; the round trip is checked on the original documents.
NL_ESCAPE = "\u240a"


def write_sentencepiece_file(docs: list[str], path: str | os.PathLike[str]) -> int:
    """One document per line with newlines escaped; returns the number of lines."""
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for d in docs:
            if NL_ESCAPE in d:
                raise ValueError("the corpus contains U+240A; pick another newline escape")
            f.write(d.replace("\n", NL_ESCAPE))
            f.write("\n")
            n += 1
    return n
