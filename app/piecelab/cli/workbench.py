"""``piecelab gui`` (the default command): open the workbench."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gui", help="open the workbench (the default command)")
    p.add_argument("-m", "--model", help="model to open instead of the bundled one")
    p.add_argument("corpus", nargs="*", help="corpus files or folders to load")
    p.add_argument(
        "--smoke-test",
        action="store_true",
        help="open the main window, render every view once, write nothing, exit",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..gui.app import run_gui

    return run_gui(model=args.model, corpus=args.corpus, smoke_test=args.smoke_test)
