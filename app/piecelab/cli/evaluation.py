"""``piecelab eval``: bytes per token of models on a corpus, overall or per script or language.

``-m`` repeats to put several models side by side; ``--by script`` or ``--by field:NAME``
splits the figures into groups (see ``piecelab.engine.cost_reports``): the script of each
character run, or a JSON field of each document such as ``lang``.
"""

from __future__ import annotations

import argparse
import json
import sys

from .corpus_args import add_corpus_options, open_corpus, report_problems
from .errors import CliError

_BY_HELP = (
    "figures per group: 'script' (the script of each run of characters: Latin, Han, Kana, "
    "Hangul, Cyrillic, Arabic, Thai …, with digits, punctuation and whitespace as groups of "
    "their own; a token spanning groups counts in each by its bytes) or 'field:NAME' (a "
    "JSON field of each document, such as field:lang)"
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    e = sub.add_parser(
        "eval", help="bytes per token of models on a corpus, overall or per script or language"
    )
    e.add_argument(
        "-m",
        "--model",
        required=True,
        action="append",
        help="a BytePiece model (.model, .zip), SentencePiece .model, tokenizer.json or "
        ".tiktoken; repeat to compare models side by side",
    )
    e.add_argument(
        "--pattern", help="tiktoken files: the split pattern, a preset (cl100k, o200k) or a regex"
    )
    add_corpus_options(e)
    e.add_argument("--by", metavar="script|field:NAME", help=_BY_HELP)
    e.add_argument(
        "--reference",
        metavar="GROUP",
        help="with --by: the group premiums are relative to (default: the largest by bytes)",
    )
    e.add_argument("--workers", type=int, default=1, help="threads (default 1)")
    e.add_argument("--json", action="store_true", help="print the figures as JSON")
    e.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..engine import CorpusError, ModelFormatError, load, parse_group_by

    field = None
    if args.by is not None:
        try:
            field = parse_group_by(args.by)
        except ValueError as exc:
            raise CliError(f"--by: {exc}") from None
    elif args.reference is not None:
        raise CliError("--reference needs --by (script or field:NAME)")
    try:
        toks = [load(path, pattern=args.pattern) for path in args.model]
    except ModelFormatError as exc:
        raise CliError(str(exc)) from None
    passes = 1 if args.by is not None else len(toks)
    corpus = open_corpus(args, 0.0, passes=passes)
    try:
        if args.by is not None:
            _by_group(args, toks, corpus, field is not None)
        else:
            _overall(args, toks, corpus)
        report_problems(corpus, sys.stderr)
    except CorpusError as exc:
        raise CliError(str(exc)) from None
    finally:
        corpus.close()
    return 0


def _overall(args: argparse.Namespace, toks: list, corpus) -> None:
    """Bytes and characters per token of each model (one pass over the corpus each)."""
    from ..engine import evaluate

    out = []
    for path, tok in zip(args.model, toks):
        result = evaluate(tok, corpus.documents("all"), workers=args.workers)
        out.append({"model": str(path), "kind": tok.kind, **result.as_dict()})
        if not args.json:
            if len(toks) > 1:
                print(f"{path} ({tok.kind})")
            print(
                f"{result.documents:,} documents, {result.bytes:,} bytes, "
                f"{result.tokens:,} tokens\n"
                f"bytes/token {result.bytes_per_token:.3f}   "
                f"chars/token {result.chars_per_token:.3f}   "
                f"{result.mb_per_s:.1f} MB/s"
            )
    if args.json:
        print(json.dumps(out[0] if len(out) == 1 else {"models": out}))


def _by_group(args: argparse.Namespace, toks: list, corpus, by_field: bool) -> None:
    """Figures per script or field value, every model in one pass over the corpus."""
    from ..engine import cost_reports

    docs = corpus.records("all") if by_field else corpus.documents("all")
    names = [str(m) for m in args.model]
    # an unknown --reference is a ValueError naming the groups: main() prints it, exit 2
    reports = cost_reports(toks, docs, args.by, args.reference, names=names, workers=args.workers)
    if args.json:
        print(json.dumps({"models": [r.as_dict() for r in reports]}, ensure_ascii=False))
        return
    for i, rep in enumerate(reports):
        if i:
            print()
        print(_table(rep))


_COLUMNS = (
    "group", "documents", "bytes", "chars", "tokens", "bytes/tok", "chars/tok",
    "fertility", "vocab used", "rényi", "premium",
)  # fmt: skip


def _table(rep) -> str:
    """A readable table of one model's report, columns aligned."""
    ref = f"; premium relative to {rep.reference}" if rep.reference else ""
    head = (
        f"{rep.model} ({rep.kind}, {rep.pieces:,} pieces): "
        f"{rep.overall.documents:,} documents by {rep.by}{ref}"
    )
    rows = [_COLUMNS, *(_row(g) for g in [*rep.groups, rep.overall])]
    widths = [max(len(r[c]) for r in rows) for c in range(len(_COLUMNS))]
    lines = [head]
    for r in rows:
        cells = [r[0].ljust(widths[0])] + [v.rjust(w) for v, w in zip(r[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    if not rep.groups:
        lines.append("(no text in any group)")
    return "\n".join(lines)


def _row(g) -> tuple[str, ...]:
    def num(x: float | None, digits: int = 3) -> str:
        return "—" if x is None else f"{x:.{digits}f}"

    tokens = f"{g.tokens:,.0f}" if float(g.tokens).is_integer() else f"{g.tokens:,.1f}"
    fert = "—" if g.fertility is None else f"{g.fertility:.3f}/{g.fertility_unit}"
    used = "—" if g.vocab_used is None else f"{g.vocab_used:.1%}"
    return (
        g.group,
        f"{g.documents:,}",
        f"{g.bytes:,}",
        f"{g.chars:,}",
        tokens,
        num(g.bytes_per_token),
        num(g.chars_per_token),
        fert,
        used,
        num(g.renyi_efficiency),
        num(g.premium),
    )
