"""A BytePiece model as a SentencePiece Unigram model (BytePiece's ``convert_to_sentencepiece``).

The file is what BytePiece 0.6.3 writes, so that tools reading SentencePiece
give the same ids piecelab does: a Unigram model with byte fallback, the
``identity`` normalizer without a dummy prefix or whitespace clean-up, ``<unk>``,
``<s>``, ``</s>`` at ids 0, 1, 2 and every piece at its piecelab id with its log
probability as score.  Multi-byte pieces are text with ``' '`` written ``'▁'``;
a single byte that BytePiece writes as text (printable ASCII but ``\\``) keeps its
text and gets an extra ``<0xXX>`` byte piece (score -100) after all pieces; any
other single byte is a ``<0xXX>`` byte piece in its own slot.

SentencePiece pieces are text, so some pieces cannot keep their slot as they
are.  BytePiece raises on them (issue #18); here each keeps its id as an
``UNUSED`` piece named ``<bytes:HEX>``, which SentencePiece never emits, so every
later id stays the same and the bytes stay reachable through byte fallback:

* pieces that are not valid UTF-8 (partial characters: the published 80k model
  has hundreds);
* pieces containing a literal ``'▁'``, which SentencePiece cannot tell from an
  escaped space (``'▁a'`` would also match ``' a'``);
* pieces containing NUL, which SentencePiece refuses to load;
* pieces whose text is already a name (``<unk>``, ``<s>``, ``</s>``, ``<0xXX>``);
* (keeping their text) pieces with a zero count, which piecelab never uses either.

SentencePiece decodes such an id (which only piecelab emits) as its placeholder
name.  :func:`plan_sentencepiece` says which ids they are, without writing anything.

SentencePiece sums scores in float32, piecelab in float64, so where two orders of
the same pieces tie exactly (``'~~~' + '~'`` against ``'~' + '~~~'``: pieces that
are powers of one string commute) each library's rounding picks one, often not
the same.  With ``settle_ties`` the scores of such pieces are rounded to a
multiple of :data:`TIE_GRID`, so SentencePiece's sums over them are exact and its
rule for exact ties decides, which is piecelab's: at each end the piece starting
first, the longest, wins.  On a model trained on the zh-en corpus this halves the
differing documents (44 → 21 of 7,734); the rest are piecelab's own float64
rounding departing from that rule (BytePiece's arithmetic, kept bit for bit): an
exact rational Viterbi over piecelab's scores gives SentencePiece's ids on each.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..atomic import atomic_write
from ..model import N_SPECIAL, Model

# SentencePiece's piece types (sentencepiece_model.proto)
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
#: The score BytePiece gives the byte pieces it appends for bytes written as text.
APPENDED_BYTE_SCORE = -100.0
#: The score written for a zero-count piece (log p = -inf): SentencePiece never uses it.
NEVER_SCORE = -1e9
#: With ``settle_ties``, scores of pieces that are powers of one string are multiples
#: of this: float32 sums of them stay exact while below 2**13 in magnitude, and each
#: score moves by at most 2**-11 (measured best of 2**-8..2**-14 on the zh-en corpus).
TIE_GRID = 2.0**-10
SPACE_MARK = "\u2581"  # '▁', SentencePiece's escaped space
_HEAD = (("<unk>", UNKNOWN), ("<s>", CONTROL), ("</s>", CONTROL))


def byte_name(b: int) -> str:
    """SentencePiece's name for the byte piece of byte ``b``."""
    return f"<0x{b:02X}>"


def kept_as_text(b: int, ascii_as_text: bool = False) -> bool:
    """Whether single byte ``b`` is written as text: as BytePiece 0.6.3 does, printable
    ASCII but ``\\``; with ``ascii_as_text``, every ASCII byte but NUL."""
    if ascii_as_text:
        return 0 < b < 0x80
    return 0x20 <= b <= 0x7E and b != 0x5C


@dataclass
class SentencePiecePlan:
    """The pieces an export writes, in id order, and the ids that could not keep their text."""

    names: list[str] = field(default_factory=list)
    scores: list[float] = field(default_factory=list)
    types: list[int] = field(default_factory=list)
    not_utf8: list[int] = field(default_factory=list)
    literal_mark: list[int] = field(default_factory=list)
    nul: list[int] = field(default_factory=list)
    name_taken: list[int] = field(default_factory=list)
    zero_count: list[int] = field(default_factory=list)
    #: ids whose score was rounded to :data:`TIE_GRID` (``settle_ties``)
    rounded: list[int] = field(default_factory=list)

    @property
    def vocab_size(self) -> int:
        return len(self.names)

    @property
    def unused(self) -> int:
        """How many piecelab ids were kept as ``UNUSED`` placeholders."""
        return (
            len(self.not_utf8)
            + len(self.literal_mark)
            + len(self.nul)
            + len(self.name_taken)
            + len(self.zero_count)
        )

    def summary(self) -> str:
        """One line for a log or a status bar."""
        parts = [
            f"{len(ids):,} {what}"
            for ids, what in (
                (self.not_utf8, "not valid UTF-8"),
                (self.literal_mark, "containing a literal '▁'"),
                (self.nul, "containing NUL"),
                (self.name_taken, "named like a special or byte piece"),
                (self.zero_count, "with a zero count"),
            )
            if ids
        ]
        kept = f"{self.vocab_size:,} SentencePiece pieces"
        if not parts:
            return f"{kept}; every piece kept its text"
        return f"{kept}; {self.unused:,} kept their id as unused placeholders: " + ", ".join(parts)


def plan_sentencepiece(
    model: Model, ascii_as_text: bool = False, settle_ties: bool = False
) -> SentencePiecePlan:
    """What :func:`export_sentencepiece` writes for ``model`` (no file, no SentencePiece import)."""
    model.validate()
    plan = SentencePiecePlan()
    for name, kind in _HEAD:
        plan.names.append(name)
        plan.scores.append(0.0)
        plan.types.append(kind)
    log_p = model.log_probs()
    reserved = {name for name, _ in _HEAD} | {byte_name(b) for b in range(256)}
    byte_slots = {
        p[0] for p in model.pieces if len(p) == 1 and not kept_as_text(p[0], ascii_as_text)
    }
    texts = [_text_of(p) for p in model.pieces]
    # placeholders avoid every name a piece keeps, so no piece loses its text to one
    taken = reserved | {t for t in texts if t is not None}
    for i, (piece, text) in enumerate(zip(model.pieces, texts)):
        pid = i + N_SPECIAL
        score = float(log_p[pid])
        finite = bool(np.isfinite(score))
        score = score if finite else NEVER_SCORE
        if len(piece) == 1 and piece[0] in byte_slots:
            _add(plan, byte_name(piece[0]), score, BYTE)
            continue
        if text is None:
            try:
                piece.decode("utf-8")
            except UnicodeDecodeError:
                plan.not_utf8.append(pid)
            else:
                (plan.nul if 0 in piece else plan.literal_mark).append(pid)
        elif text in reserved:
            plan.name_taken.append(pid)
            text = None
        elif not finite:
            plan.zero_count.append(pid)
            _add(plan, text, score, UNUSED)
            continue
        if text is None:
            text = _placeholder(piece, taken)
            taken.add(text)
            _add(plan, text, score, UNUSED)
        else:
            _add(plan, text, score, NORMAL)
    for b in range(256):  # bytes written as text, or missing, still need a byte piece
        if b not in byte_slots:
            _add(plan, byte_name(b), APPENDED_BYTE_SCORE, BYTE)
    if settle_ties:
        _round_commuting(plan)
    return plan


def primitive_root(text: str) -> str:
    """The shortest ``w`` with ``text == w * k`` (``'abab'`` → ``'ab'``)."""
    n = len(text)
    for p in range(1, n // 2 + 1):
        if n % p == 0 and text[:p] * (n // p) == text:
            return text[:p]
    return text


def _round_commuting(plan: SentencePiecePlan) -> None:
    """Round the scores of text pieces that share a primitive root with another one
    (the pieces whose orders can tie exactly) to :data:`TIE_GRID`."""
    families: dict[str, list[int]] = {}
    for i, (name, kind) in enumerate(zip(plan.names, plan.types)):
        if kind == NORMAL:
            families.setdefault(primitive_root(name), []).append(i)
    for ids in families.values():
        if len(ids) < 2:
            continue
        for i in ids:
            plan.scores[i] = round(plan.scores[i] / TIE_GRID) * TIE_GRID
            plan.rounded.append(i)
    plan.rounded.sort()


def _text_of(piece: bytes) -> str | None:
    """The piece's SentencePiece text (spaces as ``'▁'``), or None if it has none."""
    try:
        text = piece.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if SPACE_MARK in text or "\0" in text:
        return None
    return text.replace(" ", SPACE_MARK)


def _add(plan: SentencePiecePlan, name: str, score: float, kind: int) -> None:
    plan.names.append(name)
    plan.scores.append(score)
    plan.types.append(kind)


def _placeholder(piece: bytes, taken: set[str]) -> str:
    """A unique name for a piece that cannot keep its text: its bytes in hex."""
    name = f"<bytes:{piece.hex().upper()}>"
    n = 1
    while name in taken:  # only if the vocabulary holds such text itself
        n += 1
        name = f"<bytes:{piece.hex().upper()}#{n}>"
    return name


def sentencepiece_bytes(
    model: Model, ascii_as_text: bool = False, settle_ties: bool = False
) -> bytes:
    """The serialized SentencePiece ``ModelProto`` (see :func:`export_sentencepiece`)."""
    from sentencepiece import sentencepiece_model_pb2 as pb

    plan = plan_sentencepiece(model, ascii_as_text, settle_ties)
    proto = pb.ModelProto()
    spec = proto.trainer_spec
    spec.model_type = pb.TrainerSpec.UNIGRAM
    spec.vocab_size = plan.vocab_size
    spec.split_by_unicode_script = False
    spec.byte_fallback = True
    norm = proto.normalizer_spec
    norm.name = "identity"
    norm.precompiled_charsmap = b""
    norm.add_dummy_prefix = False
    norm.remove_extra_whitespaces = False
    for name, score, kind in zip(plan.names, plan.scores, plan.types):
        entry = proto.pieces.add()
        entry.piece = name
        entry.score = score
        if kind != NORMAL:  # left unset, as BytePiece writes it (NORMAL is the default)
            entry.type = kind
    return proto.SerializeToString()


def export_sentencepiece(
    model: Model,
    path: str | os.PathLike[str],
    *,
    ascii_as_text: bool = False,
    settle_ties: bool = False,
) -> Path:
    """Write ``model`` as a SentencePiece Unigram ``.model`` at ``path`` (atomically).

    By default the file is laid out as BytePiece 0.6.3 writes it (for the bundled
    model, byte for byte).  SentencePiece gives a character that no text piece
    covers its unknown-character penalty (the lowest score minus 10) before byte
    fallback, so byte pieces such as ``\\n`` cost far more there than in piecelab
    and it prefers pieces ending in a newline: ``ascii_as_text`` writes every
    ASCII byte but NUL as text (with an extra byte piece each, as printable ones
    get), which agrees with piecelab on many more texts with newlines, tabs or
    backslashes (the published 80k model: 92% of the shared test documents
    instead of 76%), in a layout that differs from BytePiece's past the pieces.
    ``settle_ties`` rounds the scores of pieces whose orders can tie exactly
    (see the module's docstring), so SentencePiece settles those ties as piecelab does.
    """
    path = Path(path)
    atomic_write(path, sentencepiece_bytes(model, ascii_as_text, settle_ties))
    return path


__all__ = [
    "SentencePiecePlan",
    "byte_name",
    "export_sentencepiece",
    "kept_as_text",
    "plan_sentencepiece",
    "primitive_root",
    "sentencepiece_bytes",
]
