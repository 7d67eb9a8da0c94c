"""``piecelab export``: write a BytePiece vocabulary as SentencePiece or ``tokenizer.json``."""

from __future__ import annotations

import argparse

from .errors import CliError
from .outputs import check_outputs


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export",
        help="write a model as a SentencePiece model or a Hugging Face tokenizer.json",
        description="Write a BytePiece model in another library's format, keeping its ids.",
    )
    p.add_argument("-m", "--model", required=True, help="the model to export")
    p.add_argument(
        "--to", required=True, choices=("hf", "sentencepiece"), help="the format to write"
    )
    p.add_argument("-o", "--output", required=True, help="the file to write")
    p.add_argument(
        "--bytepiece-layout",
        action="store_true",
        help="sentencepiece: lay the file out exactly as BytePiece 0.6.3's "
        "convert_to_sentencepiece does (control bytes as byte pieces, scores unrounded; "
        "SentencePiece then segments text with newlines or tabs, and some runs of one "
        "repeated string, differently)",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..engine import ModelFormatError, export, export_sentencepiece, load

    (out,) = check_outputs([args.output], [args.model])
    try:
        vocab = load(args.model)
    except ModelFormatError as exc:
        raise CliError(str(exc)) from None
    native = vocab.native()
    if native is None or vocab.kind != "bytepiece":
        raise CliError(
            f"{args.model}: is a {vocab.kind} vocabulary; only BytePiece models are exported "
            "(their segmentation is the one the export reproduces)"
        )
    if args.to == "sentencepiece":
        written = export_sentencepiece(native.model, out, bytepiece_layout=args.bytepiece_layout)
    else:
        written = export(native.model, args.to, out)
    print(f"wrote {written} ({args.to}, {vocab.vocab_size:,} ids)")
    return 0
