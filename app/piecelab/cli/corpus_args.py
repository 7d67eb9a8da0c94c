"""The corpus arguments shared by ``train`` and ``eval``."""

from __future__ import annotations

import argparse

from .errors import CliError


def add_corpus_options(p: argparse.ArgumentParser) -> None:
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
    p.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first damaged line or file (default: report them and go on)",
    )


def open_corpus(args: argparse.Namespace, heldout: float, passes: int = 2):
    """The corpus the arguments name, or a one-line error (``passes``: 1 reads pipes
    without keeping a copy on disk)."""
    from ..engine import Corpus, CorpusError, CorpusOptions

    opts = CorpusOptions(
        field=args.field,
        paragraphs=args.paragraphs,
        errors=args.errors,
        heldout=heldout,
        strict=args.strict,
        spool=passes > 1,
    )
    try:
        return Corpus(args.corpus, opts)
    except CorpusError as exc:
        raise CliError(str(exc)) from None


def report_problems(corpus, stream) -> None:
    """What was wrong in the corpus (file, line, what), after the work, on stderr."""
    for line in corpus.problem_summary():
        print(f"warning: {line}", file=stream)
