"""Command line: ``piecelab [gui] | tokenize | train | eval | export | diff | shuffle``.

Each command lives in its own module, which registers its parser and handler
(``set_defaults(handler=...)``).  The GUI is imported only for ``gui``, so the
engine commands start fast and run where Qt is not installed.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
from collections.abc import Sequence

from .._version import __version__
from . import diffing, evaluation, exporting, shuffling, tokenizing, training, workbench
from .errors import CliError

COMMANDS = (workbench, tokenizing, training, evaluation, exporting, diffing, shuffling)
WRITES_STDOUT = ("tokenize", "eval", "diff")  # commands whose results are their standard output
TRACEBACK_ENV = "PIECELAB_TRACEBACK"


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
    name = f"piecelab {args.command}"
    if sys.stdout is None:  # started with standard output closed (``>&-``)
        if args.command in WRITES_STDOUT:
            return _fail(name, "standard output is closed; nothing to write the results to")
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (for the life of the process)
    try:
        code = args.handler(args)
        sys.stdout.flush()  # a full disk or a closed pipe shows here, not at exit
        return code
    except CliError as exc:
        return _fail(name, str(exc))
    except KeyboardInterrupt:
        print(f"{name}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (``| head``): stop quietly
        _silence_stdout()
        return 141
    except OSError as exc:
        if exc.errno in (errno.EPIPE, errno.EBADF) or exc.filename is None:
            _silence_stdout()
            return _fail(name, f"cannot write the output ({exc.strerror or exc})", 1)
        return _fail(name, f"{exc.filename}: {exc.strerror or exc}")
    except (ValueError, TypeError, RecursionError, MemoryError) as exc:
        return _fail(name, _describe(exc))
    except Exception as exc:  # a bug: one line, and the traceback only on request
        if os.environ.get(TRACEBACK_ENV):
            raise
        detail = f"{type(exc).__name__}: {exc}"
        return _fail(name, f"internal error ({detail}); set {TRACEBACK_ENV}=1 to see where", 70)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, RecursionError):
        return "the input is nested too deeply to read"
    if isinstance(exc, MemoryError):
        return "out of memory"
    return str(exc) or type(exc).__name__


def _fail(name: str, message: str, code: int = 2) -> int:
    with contextlib.suppress(OSError, ValueError):
        print(f"{name}: error: {message}", file=sys.stderr)
    return code


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so the interpreter's final flush cannot fail."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def gui_main() -> int:
    return main(["gui", *sys.argv[1:]])


__all__ = ["CliError", "build_parser", "gui_main", "main"]
