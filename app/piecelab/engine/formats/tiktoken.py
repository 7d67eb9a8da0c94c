"""tiktoken rank files (``base64 rank`` per line) behind the common :class:`~.base.Vocabulary` API.

A rank file holds the merge ranks only: the split pattern and the special tokens
belong to the encoding, so they come from a preset (``cl100k``, ``o200k``, ...) or
a regular expression given by the caller; without one the preset is guessed from
the number of ranks, which tells the published files apart.  Encoding runs
through a ``tiktoken.Encoding`` built here from the file, so nothing is ever
downloaded.

Ids are ranks.  A preset's special tokens sit at their published ids when the
file leaves those ids free (a file of another size would have them collide or
leave a gap of thousands of ids, so it gets none).  Ids that are neither a rank
nor a special token (cl100k's 100256, o200k's 199998 and 200000–200017) are
listed as empty special pieces, so that ``pieces[i]`` is always id ``i``;
tiktoken cannot decode them.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Iterable, Sequence

import numpy as np

from .base import Spans, Vocabulary, fail

_ENDOFTEXT = "<|endoftext|>"
# the published split patterns (tiktoken_ext.openai_public)
R50K_PATTERN = (
    r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""
)
CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"""
        r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*"""
        r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

#: name → (split pattern, special tokens {text: id}), as OpenAI publishes them.
PRESETS: dict[str, tuple[str, dict[str, int]]] = {
    "gpt2": (R50K_PATTERN, {_ENDOFTEXT: 50256}),
    "r50k_base": (R50K_PATTERN, {_ENDOFTEXT: 50256}),
    "p50k_base": (R50K_PATTERN, {_ENDOFTEXT: 50256}),
    "cl100k_base": (
        CL100K_PATTERN,
        {
            _ENDOFTEXT: 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
    ),
    "o200k_base": (O200K_PATTERN, {_ENDOFTEXT: 199999, "<|endofprompt|>": 200018}),
}
#: Short names accepted for the presets.
ALIASES = {"r50k": "r50k_base", "p50k": "p50k_base", "cl100k": "cl100k_base", "o200k": "o200k_base"}
#: The number of ranks in each published file, which is how a preset is guessed.
PUBLISHED_SIZES = {
    50256: "r50k_base",
    50280: "p50k_base",
    100256: "cl100k_base",
    199998: "o200k_base",
}
DEFAULT_PRESET = "cl100k_base"
#: How many ids past the ranks a preset's special tokens may sit (the published
#: files leave at most 21), and how sparse the ranks themselves may be.
MAX_GAP = 1024


def preset_name(pattern: str | None) -> str | None:
    """The preset ``pattern`` names (``"cl100k"`` → ``"cl100k_base"``), or None."""
    if pattern is None:
        return None
    key = pattern.strip().lower()
    key = ALIASES.get(key, key)
    return key if key in PRESETS else None


def parse_ranks(raw: bytes, source: str) -> dict[bytes, int]:
    """The ``token bytes → rank`` table of a rank file; raise naming the line for anything else."""
    ranks: dict[bytes, int] = {}
    lines_of: dict[int, int] = {}  # rank → line, for the message about a repeated rank
    lines = raw.split(b"\n")
    while lines and not lines[-1].strip():
        lines.pop()
    for n, line in enumerate(lines, 1):
        fields = line.split()
        if len(fields) != 2:
            shown = line[:60].decode("utf-8", "replace")
            raise fail(source, f"line {n}: expected 'base64 rank', found {shown!r}")
        token_b64, rank_text = fields
        try:
            token = base64.b64decode(token_b64, validate=True)
        except (binascii.Error, ValueError):
            shown = token_b64[:40].decode("ascii", "replace")
            raise fail(source, f"line {n}: {shown!r} is not base64") from None
        if not token:
            raise fail(source, f"line {n}: the token is empty")
        if not rank_text.isdigit():
            shown = rank_text[:40].decode("ascii", "replace")
            raise fail(source, f"line {n}: rank {shown!r} is not a whole number ≥ 0")
        rank = int(rank_text)
        if rank >= 2**32:
            raise fail(source, f"line {n}: rank {rank} is past tiktoken's limit of 2**32 - 1")
        if token in ranks:
            raise fail(
                source, f"line {n}: token {token!r} is already on line {lines_of[ranks[token]]}"
            )
        if rank in lines_of:
            raise fail(source, f"line {n}: rank {rank} is already on line {lines_of[rank]}")
        ranks[token] = rank
        lines_of[rank] = n
    if not ranks:
        raise fail(source, "the file holds no ranks")
    return ranks


class TiktokenVocabulary(Vocabulary):
    """A tiktoken rank file with its split pattern; ids are ranks, scores are ranks."""

    kind = "tiktoken"
    score_name = "rank"
    can_sample = False

    def __init__(self, ranks: dict[bytes, int], source: str, pattern: str | None = None) -> None:
        import tiktoken

        self.source = source
        self.ranks = ranks
        self.guessed = pattern is None
        if pattern is None:
            self.preset: str | None = PUBLISHED_SIZES.get(len(ranks), DEFAULT_PRESET)
        else:
            self.preset = preset_name(pattern)
        if self.preset is not None:
            self.pattern, specials = PRESETS[self.preset]
        elif not pattern or not pattern.strip():
            raise fail(source, "the split pattern is empty")
        else:
            self.pattern, specials = pattern, {}
        missing = next((b for b in range(256) if bytes([b]) not in ranks), None)
        if missing is not None:
            raise fail(
                source,
                f"byte 0x{missing:02X} has no rank: tiktoken needs all 256 single bytes "
                "to encode any text",
            )
        top = max(ranks.values())
        if top + 1 > 2 * len(ranks) + MAX_GAP:
            raise fail(
                source, f"ranks run to {top:,} for {len(ranks):,} tokens: too sparse to list"
            )
        taken = set(ranks.values())
        fits = all(i not in taken and i <= top + MAX_GAP for i in specials.values())
        self.special_tokens = dict(specials) if fits else {}
        try:
            self.encoding = tiktoken.Encoding(
                f"piecelab-{self.preset or 'custom'}",
                pat_str=self.pattern,
                mergeable_ranks=ranks,
                special_tokens=self.special_tokens,
            )
        except ValueError as exc:
            raise fail(source, f"invalid split pattern: {exc}") from None
        n = max(top, *self.special_tokens.values()) + 1 if self.special_tokens else top + 1
        pieces = [b""] * n
        special = np.ones(n, bool)
        for token, rank in ranks.items():
            pieces[rank] = token
            special[rank] = False
        for text, i in self.special_tokens.items():
            pieces[i] = text.encode("utf-8")
        self.pieces = pieces
        self.special = special
        self.scores = np.arange(n, dtype=np.float64)

    def encode(self, text: str) -> list[int]:
        return self.encoding.encode_ordinary(text)

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        return self.encoding.encode_ordinary_batch(list(texts), num_threads=os.cpu_count() or 1)

    def decode(self, ids: Iterable[int]) -> str:
        return self.encoding.decode(list(ids))

    def spans(self, text: str) -> Spans:
        """Spans from the tokens' lengths: tiktoken's tokens spell the text's UTF-8 exactly.

        A text with lone surrogates is encoded as tiktoken repairs it (each one
        becomes U+FFFD); a custom pattern that skips text is handled by finding
        each token after the previous one.
        """
        ids = self.encode(text)
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # what tiktoken encodes instead
            data = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode()
        tokens = [self.pieces[i] for i in ids]
        lengths = np.fromiter(map(len, tokens), np.int64, len(tokens))
        ends = np.cumsum(lengths)
        if b"".join(tokens) != data:
            pos, found = 0, []
            for token in tokens:
                pos = data.find(token, pos) + len(token)
                found.append(pos)
            ends = np.array(found, np.int64)
        return Spans(np.array(ids, np.int64), ends - lengths, ends)


def open_tiktoken(raw: bytes, source: str, pattern: str | None) -> Vocabulary:
    """The vocabulary of a rank file's bytes; ``pattern``: a preset name, a regex, or None."""
    return TiktokenVocabulary(parse_ranks(raw, source), source, pattern)


__all__ = [
    "PRESETS",
    "TiktokenVocabulary",
    "open_tiktoken",
    "parse_ranks",
    "preset_name",
]
