"""``piecelab shuffle``: a global shuffle of the lines of corpora larger than memory."""

from __future__ import annotations

import argparse
import sys
import threading

from .errors import CliError
from .progress import ProgressBar


def add_parser(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser(
        "shuffle",
        help="shuffle the lines of corpora larger than memory",
        description=(
            "Shuffle the lines of the input files (concatenated; .gz, .bz2, .xz and .zst "
            "are read by their content) into OUT, compressed by its extension. Two passes "
            "through bucket files bound the memory; the same seed and --memory give the "
            "same output, locally or on Ray."
        ),
    )
    s.add_argument("inputs", nargs="+", metavar="IN", help="input files (not folders)")
    s.add_argument("-o", "--output", required=True, metavar="OUT", help="file to write")
    s.add_argument(
        "--memory",
        default="1G",
        help="memory to use beyond a fixed overhead, e.g. 512M, 8G (default 1G; "
        "on Ray, per task); it also sets the number of buckets",
    )
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    s.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="run the passes as Ray tasks: on a local Ray, or the cluster at ADDRESS "
        "(auto, host:port, ray://host:port); put it after the inputs or write --ray=ADDRESS",
    )
    s.add_argument(
        "--workers",
        type=int,
        help="CPUs of a local Ray, i.e. tasks at once (with --ray; default 2); without "
        "--ray the shuffle runs in this one process",
    )
    s.add_argument(
        "--tmp",
        metavar="FOLDER",
        help="folder for the bucket files (default: OUT's folder); about the size of "
        "the decompressed input; on a multi-machine cluster it must be shared by all",
    )
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..engine import (
        Cancelled,
        ShuffleError,
        ShuffleJob,
        human,
        parse_memory,
    )

    if args.workers is not None and args.ray is None:
        raise CliError("--workers: only with --ray (without it the shuffle is one process)")
    try:
        memory = parse_memory(args.memory)
    except ValueError as exc:
        raise CliError(f"--memory: {exc}") from None
    try:
        job = ShuffleJob(
            args.inputs,
            args.output,
            memory=memory,
            seed=args.seed,
            ray=args.ray,
            workers=args.workers or 2,
            tmp=args.tmp,
        )
    except ShuffleError as exc:
        raise CliError(str(exc)) from None
    bar = ProgressBar(sys.stderr, enabled=not args.quiet)
    cancel = threading.Event()
    events = job.run(cancel)
    try:
        for ev in events:
            bar.show(ev)
    except KeyboardInterrupt:
        cancel.set()
        events.close()
        bar.message("cancelled; nothing was written")
        return 130
    except Cancelled:
        return 130
    except ShuffleError as exc:
        raise CliError(str(exc)) from None
    result = job.result
    bar.message(f"{result.lines:,} lines, {human(result.bytes, 'bytes')} in {result.seconds:.1f} s")
    print(result.output)
    return 0
