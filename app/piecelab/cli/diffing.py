"""``piecelab diff``: the pieces two vocabularies share, and the ones only one of them holds."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from .errors import CliError

if TYPE_CHECKING:
    from ..engine import VocabDiff

DEFAULT_LIMIT = 20
_TITLES = {
    "common": "in both",
    "only_a": "only in A",
    "only_b": "only in B",
}


def _limit(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if n < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {n}")
    return n


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "diff",
        help="compare the pieces of two vocabularies",
        description="Compare the pieces of two vocabularies of any kind piecelab opens "
        "(BytePiece, SentencePiece, tokenizer.json, tiktoken) by the text each piece stands "
        "for: SentencePiece's ▁ is a space, WordPiece's ## is dropped, byte pieces are bytes. "
        "Special ids are left out.",
    )
    p.add_argument("a", metavar="A", help="the first vocabulary")
    p.add_argument("b", metavar="B", help="the second vocabulary")
    p.add_argument(
        "--limit",
        type=_limit,
        default=None,
        metavar="N",
        help=f"pieces listed per group, best ranked first (default {DEFAULT_LIMIT}; "
        "with --json every piece)",
    )
    p.add_argument("--json", action="store_true", help="print the comparison as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..engine import ModelFormatError, diff_vocabularies, load

    vocabs = []
    for path in (args.a, args.b):
        try:
            vocabs.append(load(path))
        except ModelFormatError as exc:
            raise CliError(str(exc)) from None
    diff = diff_vocabularies(*vocabs)
    if args.json:
        data = diff.as_dict(args.limit)
        data["a"]["path"], data["b"]["path"] = str(args.a), str(args.b)
        print(json.dumps(data, ensure_ascii=False))
    else:
        limit = DEFAULT_LIMIT if args.limit is None else args.limit
        print("\n".join(_summary(diff, args) + _listing(diff, limit)))
    return 0


def _summary(diff: VocabDiff, args: argparse.Namespace) -> list[str]:
    lines = []
    for tag, side, path in (("A", diff.a, args.a), ("B", diff.b, args.b)):
        folded = f", {side.folded:,} folded onto another id" if side.folded else ""
        lines.append(
            f"{tag}: {path} ({side.kind}, {side.size:,} ids, {side.pieces:,} pieces "
            f"compared{folded}; ranked by {side.score_name})"
        )
    lines.append(
        f"in both {diff.common:,}   only in A {diff.only_a:,}   only in B {diff.only_b:,}   "
        f"jaccard {diff.jaccard:.4f}"
    )
    return lines


def _listing(diff: VocabDiff, limit: int) -> list[str]:
    from ..engine import piece_label

    lines: list[str] = []
    for which, count in (("common", diff.common), ("only_a", diff.only_a), ("only_b", diff.only_b)):
        rows = diff.entries(which, limit)
        if not rows:
            continue
        shown = f"top {len(rows):,} of {count:,}" if len(rows) < count else f"all {count:,}"
        lines += ["", f"{_TITLES[which]} ({shown}, by rank):"]
        tags = ("a", "b") if which == "common" else (which[-1],)
        sides = {"a": diff.a, "b": diff.b}
        head = "".join(
            f"{'rank ' + t.upper():>10}{'id ' + t.upper():>9}{'score ' + t.upper():>11}"
            for t in tags
        )
        lines.append(head + ("   change" if which == "common" else "") + "  piece")
        for row in rows:
            cells = "".join(
                f"{row[f'rank_{t}']:>10,}{row[f'id_{t}']:>9}"
                f"{_score(sides[t].scores[row[f'id_{t}']]):>11}"
                for t in tags
            )
            change = f"{row['rank_change']:>+9,}" if which == "common" else ""
            lines.append(f"{cells}{change}  {piece_label(bytes.fromhex(row['hex']))}")
    return lines


def _score(score: float) -> str:
    """A rank as a whole number, a log p or score to three places (``-inf`` as is)."""
    whole = score == score and abs(score) < 1e15 and score == int(score)
    return f"{score:.0f}" if whole else f"{score:.3f}"
