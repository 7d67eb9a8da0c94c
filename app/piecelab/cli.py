"""Command line: ``piecelab [gui] | tokenize | train | eval``.

The GUI is imported only for ``gui`` so that the engine commands start fast and
run where Qt is not installed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from ._version import __version__


class CliError(Exception):
    """An error to print as one line and exit with status 2."""


def _add_gui(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the workbench (the default command)")
    p.add_argument("-m", "--model", help="model to open instead of the bundled one")
    p.add_argument("corpus", nargs="*", help="corpus files or folders to load")
    p.add_argument(
        "--smoke-test",
        action="store_true",
        help="open the main window, render every view once, write nothing, exit",
    )


def _add_tokenize(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "tokenize",
        help="segment text with a model",
        description="Segment TEXT arguments, --file contents, or standard input (line by line).",
    )
    p.add_argument("-m", "--model", required=True, help="BytePiece .model file or .zip of one")
    p.add_argument("text", nargs="*", help="texts to tokenize")
    p.add_argument("-f", "--file", action="append", default=[], help="read text from a file")
    p.add_argument("--alpha", type=float, default=-1.0, help="sampling temperature (> 0 samples)")
    p.add_argument("--seed", type=int, default=None, help="seed for sampling")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--ids", action="store_true", help="print token ids")
    fmt.add_argument("--pieces", action="store_true", help="print pieces (the default)")
    fmt.add_argument("--json", action="store_true", help="print one JSON object per text")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="piecelab",
        description="A workbench for byte-level Unigram (BytePiece) tokenizer vocabularies.",
    )
    parser.add_argument("--version", action="version", version=f"piecelab {__version__}")
    sub = parser.add_subparsers(dest="command")
    _add_gui(sub)
    _add_tokenize(sub)
    from .cli_train import add_train_commands

    add_train_commands(sub)
    return parser


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


def cmd_tokenize(args: argparse.Namespace) -> int:
    from .engine import ModelFormatError, TextEncodingError, Tokenizer
    from .engine.render import piece_label

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


def cmd_gui(args: argparse.Namespace) -> int:
    from .gui.app import run_gui

    return run_gui(model=args.model, corpus=args.corpus, smoke_test=args.smoke_test)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "gui"
    if args.command is None:
        args = parser.parse_args(["gui", *(argv or [])]) if argv else parser.parse_args(["gui"])
    handlers = {"gui": cmd_gui, "tokenize": cmd_tokenize}
    from .cli_train import TRAIN_HANDLERS

    handlers.update(TRAIN_HANDLERS)
    try:
        return handlers[command](args)
    except CliError as exc:
        print(f"piecelab {command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"piecelab {command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def gui_main() -> int:
    return main(["gui", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
