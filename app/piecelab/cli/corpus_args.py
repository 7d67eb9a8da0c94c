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


def open_corpus(args: argparse.Namespace, heldout: float):
    """The corpus the arguments name, or a one-line error."""
    from ..engine import Corpus, CorpusError, CorpusOptions

    opts = CorpusOptions(
        field=args.field, paragraphs=args.paragraphs, errors=args.errors, heldout=heldout
    )
    try:
        return Corpus(args.corpus, opts)
    except CorpusError as exc:
        raise CliError(str(exc)) from None
