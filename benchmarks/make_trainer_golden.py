"""Golden models from BytePiece 0.6.3's trainer on a corpus piecelab generates itself.

Run with the scratch reference environment (it imports bytepiece):

    /work/refvenv/bin/python benchmarks/make_trainer_golden.py

Writes tests/data/trainer_corpus.jsonl.gz (deterministic synthetic mixed
Chinese/English text, our own) and tests/data/golden/bp_train_*.model.* — the
models BytePiece trains on it with several settings.  piecelab's trainer must
reproduce them byte for byte (tests/engine/test_trainer.py).
"""

from __future__ import annotations

import gzip
import io
import json
import random
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "data" / "trainer_corpus.jsonl.gz"
GOLDEN = REPO / "tests" / "data" / "golden"

# (name, Trainer keyword arguments)
SETTINGS = [
    ("o6", dict(order=6, max_vocab_size=[1200, 800], min_count=2)),
    ("o4_digits", dict(order=4, max_vocab_size=900, min_count=3, isolate_digits=True)),
    (
        "o5_bytes",
        dict(order=5, max_vocab_size=1000, min_count=2, ensure_unicode=False, max_piece_length=8),
    ),
]

HAN = (
    "天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏"
    "闰余成岁律吕调阳云腾致雨露结为霜金生丽水玉出昆冈"
)
WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "that",
    "for",
    "it",
    "as",
    "with",
    "was",
    "on",
    "be",
    "by",
    "this",
    "are",
    "from",
    "or",
    "at",
    "an",
    "which",
    "kernel",
    "memory",
    "page",
    "driver",
    "device",
    "file",
    "system",
    "process",
    "thread",
    "lock",
    "queue",
    "buffer",
    "token",
    "piece",
    "vocabulary",
    "corpus",
    "segment",
    "byte",
    "unicode",
    "model",
    "train",
    "sample",
    "prune",
]


def make_corpus(n_docs: int = 2500, seed: int = 20231) -> list[str]:
    rng = random.Random(seed)
    phrases = ["".join(rng.choice(HAN) for _ in range(rng.randint(2, 4))) for _ in range(120)]
    docs = []
    for _ in range(n_docs):
        parts = []
        for _ in range(rng.randint(3, 12)):
            r = rng.random()
            if r < 0.45:
                parts.append("".join(rng.choice(phrases) for _ in range(rng.randint(1, 4))) + "，")
            elif r < 0.9:
                parts.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 8))) + ". ")
            else:
                parts.append(f"{rng.randint(0, 99999)} ")
        text = "".join(parts).strip()
        if rng.random() < 0.2:
            text += "\n\n" + text[: rng.randint(1, 40)]
        docs.append(text)
    return docs


def main() -> int:
    import bytepiece

    if bytepiece.__version__ != "0.6.3":
        print(f"need bytepiece 0.6.3, found {bytepiece.__version__}", file=sys.stderr)
        return 1
    docs = make_corpus()
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        gz.write("".join(json.dumps({"text": d}, ensure_ascii=False) + "\n" for d in docs).encode())
    CORPUS.write_bytes(buf.getvalue())
    GOLDEN.mkdir(parents=True, exist_ok=True)
    for name, kw in SETTINGS:
        trainer = bytepiece.Trainer(**kw)
        trainer.train(docs, workers=1)
        trainer.save(str(GOLDEN / f"bp_train_{name}.model"))
        print(name, "done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
