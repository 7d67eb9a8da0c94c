"""``piecelab train``: train vocabularies with the BytePiece algorithm, with progress."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path

from .corpus_args import add_corpus_options, open_corpus, report_problems
from .errors import CliError
from .outputs import check_outputs
from .progress import ProgressBar


def add_parser(sub: argparse._SubParsersAction) -> None:
    t = sub.add_parser(
        "train",
        help="train a vocabulary with the BytePiece algorithm",
        description="Train BytePiece-style vocabularies; several sizes write MODEL.SIZE each.",
    )
    add_corpus_options(t)
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
    add_where_options(t)
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
    t.add_argument(
        "--curve",
        type=int,
        default=0,
        metavar="N",
        help="also measure held-out bytes/token at N sizes (2 to 64), from the largest "
        "size down to an eighth of it, pruned on the way (needs --heldout above 0)",
    )
    t.add_argument(
        "--json",
        action="store_true",
        help="print the models written, held-out figures and curve as one JSON object",
    )
    t.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    t.set_defaults(handler=run)


def add_where_options(t: argparse.ArgumentParser) -> None:
    """--workers and --ray: this machine's threads, or a Ray cluster."""
    t.add_argument(
        "--workers",
        type=int,
        default=1,
        help="threads (default 1); with --ray and no address, the local Ray's CPUs",
    )
    t.add_argument(
        "--ray",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="count on a Ray cluster (pip install 'piecelab[cluster]'): no ADDRESS starts "
        "a local Ray with --workers CPUs; 'auto', HOST:PORT or ray://HOST:PORT joins a "
        "running cluster (every worker must see the corpus files at the same paths)",
    )


def settings_from(args: argparse.Namespace):
    """The :class:`~piecelab.engine.TrainSettings` the arguments ask for."""
    from ..engine import TrainSettings, parse_sizes

    try:
        sizes = parse_sizes(args.vocab_size)
    except ValueError as exc:
        raise CliError(f"--vocab-size: {exc}") from None
    try:
        return TrainSettings(
            order=args.order,
            vocab_sizes=sizes,
            min_count=args.min_count,
            max_piece_length=args.max_piece_length,
            isolate_digits=args.isolate_digits,
            ensure_unicode=not args.no_ensure_unicode,
            workers=args.workers,
            reestimate=args.reestimate,
            curve=args.curve,
        ).validate()
    except ValueError as exc:
        raise CliError(f"{exc}") from None


def show(ev, bar: ProgressBar, ids: dict[int, int], sizes: tuple[int, ...]) -> None:
    """An event of the run on the progress bar; ``ids`` gets each curve point's ids."""
    from ..engine import Metric

    if bar.show(ev):
        return
    if isinstance(ev, Metric) and ev.series == "heldout":
        bar.message(f"held-out bytes/token at {int(ev.x):,} ids: {ev.y:.3f}")
    elif isinstance(ev, Metric) and ev.series == "curve":
        ids[int(ev.extra["size"])] = int(ev.x)
        if int(ev.extra["size"]) not in sizes:
            bar.message(f"curve: held-out bytes/token at {int(ev.x):,} ids: {ev.y:.3f}")


def run(args: argparse.Namespace) -> int:
    from ..engine import Cancelled, ClusterError, CorpusError, RayExecutor, ray_available

    settings = settings_from(args)
    executor = None
    if args.ray is not None:
        if not ray_available():
            raise CliError("--ray: Ray is not installed (pip install 'piecelab[cluster]')")
        executor = RayExecutor(args.ray, workers=settings.workers)
    if settings.curve and args.heldout <= 0:
        raise CliError("--curve: needs held-out text (--heldout above 0)")
    trainer = settings.trainer()
    out = Path(args.output)
    sizes = settings.vocab_sizes
    name = args.output
    targets = [name] if len(sizes) == 1 else [f"{name}.{s}" for s in sorted(sizes, reverse=True)]
    check_outputs(targets, args.corpus)
    heldout = args.heldout / 100
    corpus = open_corpus(args, heldout)
    bar = ProgressBar(sys.stderr, enabled=not args.quiet)
    cancel = threading.Event()
    ids: dict[int, int] = {}  # curve size → the ids its model has
    job = trainer.run(
        corpus,
        workers=settings.workers,
        heldout=heldout,
        cancel=cancel,
        reestimate=settings.reestimate,
        executor=executor,
    )
    try:
        for ev in job:
            show(ev, bar, ids, sizes)
    except KeyboardInterrupt:
        cancel.set()
        job.close()
        bar.message("cancelled; nothing was written")
        return 130
    except (CorpusError, ClusterError, ValueError) as exc:
        raise CliError(str(exc)) from None
    except Cancelled:
        return 130
    else:
        report_problems(corpus, sys.stderr)
    finally:
        corpus.close()
    try:
        saved = trainer.save(out)
    except OSError as exc:
        raise CliError(f"{exc.filename or out}: cannot write the model ({exc.strerror})") from None
    if args.json:
        print(json.dumps(result_json(trainer, saved, ids)))
    else:
        for path in saved:
            print(path)
    return 0


def result_json(trainer, saved: list[Path], ids: dict[int, int]) -> dict:
    """The models written, their held-out figures and the curve (sizes largest first)."""
    result = trainer.result
    held = result.heldout_bytes_per_token
    return {
        "models": [str(p) for p in saved],
        "heldout": [
            {"size": s, "vocab_size": result.models[s].vocab_size, "bytes_per_token": b}
            for s, b in sorted(held.items(), reverse=True)
        ],
        "curve": [
            {"size": s, "vocab_size": ids.get(s, s), "bytes_per_token": b} for s, b in trainer.curve
        ],
    }
