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
    p.add_argument(
        "-m",
        "--model",
        required=True,
        help="a BytePiece model (.model, .zip), SentencePiece .model, tokenizer.json or .tiktoken",
    )
    p.add_argument(
        "--pattern", help="tiktoken files: the split pattern, a preset (cl100k, o200k) or a regex"
    )
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
    from ..engine import ModelFormatError, SamplingUnavailable, TextEncodingError, load

    try:
        vocab = load(args.model, pattern=args.pattern)
    except ModelFormatError as exc:
        raise CliError(str(exc)) from None
    if vocab.kind == "bytepiece":
        return _run_bytepiece(args, vocab.native())
    if args.alpha >= 0 and not vocab.can_sample:
        raise CliError(f"{args.model}: {vocab.kind} vocabularies offer no sampling (--alpha)")
    out = sys.stdout
    for text in _texts(args):
        try:
            if args.alpha >= 0:
                ids = vocab.sample(text, args.alpha, args.seed)
                spans = None
            else:
                spans = vocab.spans(text)
                ids = spans.ids.tolist()
        except (SamplingUnavailable, TextEncodingError) as exc:
            raise CliError(str(exc)) from None
        pieces = [vocab.pieces[i] for i in ids]
        if args.ids:
            out.write(" ".join(map(str, ids)) + "\n")
        elif args.json:
            obj: dict = {"text": text, "kind": vocab.kind, "ids": ids}
            obj["pieces"] = [piece_text(p) for p in pieces]
            if spans is not None:
                obj["spans"] = [[s, e] for s, e in zip(spans.starts.tolist(), spans.ends.tolist())]
            out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        else:
            out.write(" ".join(piece_text(p, visible=True) for p in pieces) + "\n")
    return 0


def piece_text(piece: bytes, visible: bool = False) -> str:
    from ..engine import piece_label

    return piece_label(piece, visible_space=visible)


def _run_bytepiece(args: argparse.Namespace, tok) -> int:
    from ..engine import TextEncodingError, piece_label

    tok.set_seed(args.seed)
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
