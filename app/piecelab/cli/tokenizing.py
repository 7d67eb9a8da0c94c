"""``piecelab tokenize``: segment text with a model."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from .errors import CliError


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tokenize",
        help="segment text with a model",
        description="Segment TEXT arguments, --file contents, or standard input (line by line).",
    )
    p.add_argument("-m", "--model", required=True, help="BytePiece .model file or .zip of one")
    p.add_argument("text", nargs="*", help="texts to tokenize")
    p.add_argument("-f", "--file", action="append", default=[], help="read text from a file")
    p.add_argument("--alpha", type=float, default=-1.0, help="sampling exponent (≥ 0 samples)")
    p.add_argument("--seed", type=int, default=None, help="seed for sampling")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--ids", action="store_true", help="print token ids")
    fmt.add_argument("--pieces", action="store_true", help="print pieces (the default)")
    fmt.add_argument("--json", action="store_true", help="print one JSON object per text")
    p.set_defaults(handler=run)


def _texts(args: argparse.Namespace) -> Iterator[str]:
    yield from args.text
    for name in args.file:
        path = Path(name)
        try:
            yield path.read_bytes().decode("utf-8")
        except OSError as exc:
            raise CliError(f"{path}: cannot be read ({exc.strerror})") from None
        except UnicodeDecodeError as exc:
            raise CliError(f"{path}: not UTF-8 text (invalid byte at offset {exc.start})") from None
    if not args.text and not args.file:
        for line in sys.stdin:
            yield line.rstrip("\n")


def run(args: argparse.Namespace) -> int:
    from ..engine import ModelFormatError, TextEncodingError, Tokenizer, piece_label

    try:
        tok = Tokenizer(args.model, seed=args.seed)
    except ModelFormatError as exc:
        raise CliError(str(exc)) from None
    out = sys.stdout
    for text in _texts(args):
        try:
            seg = tok.segment(text, alpha=args.alpha)
        except TextEncodingError as exc:
            raise CliError(str(exc)) from None
        if args.ids:
            out.write(" ".join(map(str, seg.ids.tolist())) + "\n")
        elif args.json:
            obj = {
                "text": seg.text,
                "ids": seg.ids.tolist(),
                "pieces": [piece_label(p, visible_space=False) for p in seg.pieces],
                "spans": [[s, e] for s, e in zip(seg.starts.tolist(), seg.ends.tolist())],
                "logp": seg.score,
            }
            out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        else:
            out.write(" ".join(piece_label(p) for p in seg.pieces) + "\n")
    return 0
