"""Command line: ``piecelab [gui] | tokenize | train | eval``.

Each command lives in its own module, which registers its parser and handler
(``set_defaults(handler=...)``).  The GUI is imported only for ``gui``, so the
engine commands start fast and run where Qt is not installed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .._version import __version__
from . import evaluation, tokenizing, training, workbench
from .errors import CliError

COMMANDS = (workbench, tokenizing, training, evaluation)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="piecelab",
        description="A workbench for byte-level Unigram (BytePiece) tokenizer vocabularies.",
    )
    parser.add_argument("--version", action="version", version=f"piecelab {__version__}")
    sub = parser.add_subparsers(dest="command")
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    if args.command is None:  # no command: the GUI, with any options it was given
        args = parser.parse_args(["gui", *argv])
    try:
        return args.handler(args)
    except CliError as exc:
        print(f"piecelab {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"piecelab {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def gui_main() -> int:
    return main(["gui", *sys.argv[1:]])


__all__ = ["CliError", "build_parser", "gui_main", "main"]
