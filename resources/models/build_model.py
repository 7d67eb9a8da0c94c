"""Regenerate the default model shipped with piecelab: trained by piecelab itself on
the bundled public-domain sample corpus (``make model`` runs this).

    python resources/models/build_model.py

BytePiece's default settings (order 6, min_count 2, max piece length 36,
ensure_unicode) at 8,000 ids; 1% of the documents are held out and their bytes
per token are printed.  Training is deterministic, so the file only changes when
the corpus or the algorithm does.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SIZE = 8000


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "sample.model")
    args = parser.parse_args(argv)
    from piecelab.engine.corpus import Corpus, CorpusOptions
    from piecelab.engine.events import Metric
    from piecelab.engine.trainer import Trainer

    corpus_path = HERE.parent / "corpus" / "sample.jsonl.gz"
    with Corpus([str(corpus_path)], CorpusOptions(heldout=0.01)) as corpus:
        trainer = Trainer(order=6, max_vocab_size=SIZE, min_count=2)
        for ev in trainer.run(corpus, workers=2, heldout=0.01):
            if isinstance(ev, Metric) and ev.series == "heldout":
                print(f"held-out bytes/token at {int(ev.x):,} ids: {ev.y:.3f}")
    (path,) = trainer.save(args.out)
    print(f"wrote {path} ({trainer.models[SIZE].vocab_size:,} ids)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
