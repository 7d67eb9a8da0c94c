"""``piecelab eval``: bytes per token of a model on a corpus."""

from __future__ import annotations

import argparse
import json
import sys

from .corpus_args import add_corpus_options, open_corpus, report_problems
from .errors import CliError


def add_parser(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser("eval", help="bytes per token of a model on a corpus")
    e.add_argument(
        "-m",
        "--model",
        required=True,
        help="a BytePiece model (.model, .zip), SentencePiece .model, tokenizer.json or .tiktoken",
    )
    e.add_argument(
        "--pattern", help="tiktoken files: the split pattern, a preset (cl100k, o200k) or a regex"
    )
    add_corpus_options(e)
    e.add_argument("--workers", type=int, default=1, help="threads (default 1)")
    e.add_argument("--json", action="store_true", help="print the figures as JSON")
    e.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..engine import CorpusError, ModelFormatError, evaluate, load

    try:
        tok = load(args.model, pattern=args.pattern)
    except ModelFormatError as exc:
        raise CliError(str(exc)) from None
    corpus = open_corpus(args, 0.0, passes=1)
    try:
        result = evaluate(tok, corpus.documents("all"), workers=args.workers)
        report_problems(corpus, sys.stderr)
    except CorpusError as exc:
        raise CliError(str(exc)) from None
    finally:
        corpus.close()
    if args.json:
        print(json.dumps({"model": str(args.model), "kind": tok.kind, **result.as_dict()}))
    else:
        print(
            f"{result.documents:,} documents, {result.bytes:,} bytes, {result.tokens:,} tokens\n"
            f"bytes/token {result.bytes_per_token:.3f}   "
            f"chars/token {result.chars_per_token:.3f}   "
            f"{result.mb_per_s:.1f} MB/s"
        )
    return 0
