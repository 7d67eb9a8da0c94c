"""``piecelab train`` and ``piecelab eval`` (registered by :mod:`piecelab.cli`)."""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .progress import ProgressBar


def _add_corpus_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("corpus", nargs="+", help="corpus files or folders ('-' for stdin)")
    p.add_argument("--field", default="text", help="JSON field holding the text (default: text)")
    p.add_argument(
        "--paragraphs", action="store_true", help=".txt: one document per paragraph, not per line"
    )
    p.add_argument(
        "--errors",
        choices=("replace", "skip"),
        default="replace",
        help="invalid UTF-8: replace the bad bytes, or skip the document",
    )


def add_train_commands(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser(
        "train",
        help="train a vocabulary with the BytePiece algorithm",
        description="Train BytePiece-style vocabularies; several sizes write MODEL.SIZE each.",
    )
    _add_corpus_options(t)
    t.add_argument("-o", "--output", required=True, help="model file to write")
    t.add_argument(
        "--vocab-size",
        required=True,
        help="vocabulary size, or several separated by commas (e.g. 8000,16000,32000)",
    )
    t.add_argument("--order", type=int, default=6, help="byte n-gram order (default 6)")
    t.add_argument("--min-count", type=int, default=2, help="minimum count of n-grams and pieces")
    t.add_argument("--max-piece-length", type=int, default=36, help="longest piece in bytes")
    t.add_argument("--isolate-digits", action="store_true", help="every digit is its own piece")
    t.add_argument(
        "--no-ensure-unicode",
        action="store_true",
        help="allow pieces to start inside a UTF-8 character",
    )
    t.add_argument("--workers", type=int, default=1, help="threads (default 1)")
    t.add_argument(
        "--heldout",
        type=float,
        default=1.0,
        help="percent of documents held out for evaluation (default 1; 0 disables)",
    )
    t.add_argument(
        "--reestimate",
        action="store_true",
        help="recount the final pieces by segmenting the corpus with each vocabulary",
    )
    t.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    e = sub.add_parser("eval", help="bytes per token of a model on a corpus")
    e.add_argument("-m", "--model", required=True, help="BytePiece .model file or .zip of one")
    _add_corpus_options(e)
    e.add_argument("--workers", type=int, default=1, help="threads (default 1)")
    e.add_argument("--json", action="store_true", help="print the figures as JSON")


def _corpus(args: argparse.Namespace, heldout: float):
    from .cli import CliError
    from .engine.corpus import Corpus, CorpusError, CorpusOptions

    opts = CorpusOptions(
        field=args.field, paragraphs=args.paragraphs, errors=args.errors, heldout=heldout
    )
    try:
        return Corpus(args.corpus, opts)
    except CorpusError as exc:
        raise CliError(str(exc)) from None


def _sizes(text: str) -> list[int]:
    from .cli import CliError

    try:
        sizes = [int(s.replace("_", "")) for s in text.split(",") if s.strip()]
    except ValueError:
        raise CliError(f"--vocab-size: not a list of whole numbers: {text!r}") from None
    if not sizes:
        raise CliError("--vocab-size: give at least one size")
    return sizes


def cmd_train(args: argparse.Namespace) -> int:
    from .cli import CliError
    from .engine.corpus import CorpusError
    from .engine.events import Cancelled, Log, Metric, Progress, StageDone
    from .engine.trainer import Trainer

    try:
        trainer = Trainer(
            order=args.order,
            max_vocab_size=_sizes(args.vocab_size),
            max_piece_length=args.max_piece_length,
            min_count=args.min_count,
            isolate_digits=args.isolate_digits,
            ensure_unicode=not args.no_ensure_unicode,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None
    out = Path(args.output)
    if not out.parent.is_dir():
        raise CliError(f"{out.parent}: no such folder for the output")
    corpus = _corpus(args, args.heldout / 100)
    bar = ProgressBar(sys.stderr, enabled=not args.quiet)
    cancel = threading.Event()
    job = trainer.run(
        corpus,
        workers=args.workers,
        heldout=args.heldout / 100,
        cancel=cancel,
        reestimate=args.reestimate,
    )
    try:
        for ev in job:
            if isinstance(ev, Progress):
                bar.update(ev)
            elif isinstance(ev, StageDone):
                bar.finish(ev)
            elif isinstance(ev, Log):
                bar.message(ev.message)
            elif isinstance(ev, Metric) and ev.series == "heldout":
                bar.message(f"held-out bytes/token at {int(ev.x):,} ids: {ev.y:.3f}")
    except KeyboardInterrupt:
        cancel.set()
        job.close()
        bar.message("cancelled; nothing was written")
        return 130
    except (CorpusError, ValueError) as exc:
        raise CliError(str(exc)) from None
    except Cancelled:
        return 130
    finally:
        corpus.close()
    for path in trainer.save(out):
        print(path)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .cli import CliError
    from .engine import ModelFormatError, Tokenizer
    from .engine.corpus import CorpusError

    try:
        tok = Tokenizer(args.model)
    except ModelFormatError as exc:
        raise CliError(str(exc)) from None
    corpus = _corpus(args, 0.0)
    n_bytes = n_chars = n_tokens = n_docs = 0
    elapsed = 0.0
    batch: list[str] = []

    def flush() -> None:
        nonlocal n_tokens, elapsed
        t = time.perf_counter()
        n_tokens += tok.count_tokens(batch, workers=args.workers)
        elapsed += time.perf_counter() - t
        batch.clear()

    try:
        for doc in corpus.documents("all"):
            n_docs += 1
            n_chars += len(doc)
            n_bytes += len(doc.encode("utf-8", errors="surrogatepass"))
            batch.append(doc)
            if len(batch) >= 2000:
                flush()
        flush()
    except CorpusError as exc:
        raise CliError(str(exc)) from None
    finally:
        corpus.close()
    figures = {
        "model": str(args.model),
        "documents": n_docs,
        "bytes": n_bytes,
        "chars": n_chars,
        "tokens": n_tokens,
        "bytes_per_token": n_bytes / max(n_tokens, 1),
        "chars_per_token": n_chars / max(n_tokens, 1),
        "mb_per_s": n_bytes / elapsed / 1e6 if elapsed else 0.0,
    }
    if args.json:
        print(json.dumps(figures))
    else:
        print(
            f"{n_docs:,} documents, {n_bytes:,} bytes, {n_tokens:,} tokens\n"
            f"bytes/token {figures['bytes_per_token']:.3f}   "
            f"chars/token {figures['chars_per_token']:.3f}   "
            f"{figures['mb_per_s']:.1f} MB/s"
        )
    return 0


TRAIN_HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "train": cmd_train,
    "eval": cmd_eval,
}
