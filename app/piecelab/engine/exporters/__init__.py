"""Writers that take a vocabulary made here to the field's formats.

They read only a :class:`~piecelab.engine.model.Model` (never the tokenizer or
the readers in :mod:`..formats`), so :class:`~piecelab.engine.tokenizer.Tokenizer`
can offer them as methods without an import cycle.  The libraries that define
the formats (protobuf through ``sentencepiece``, ``tokenizers``) load on first
use.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..model import Model

EXPORT_KINDS = ("hf", "sentencepiece")


def export_sentencepiece(
    model: Model, path: str | os.PathLike[str], *, bytepiece_layout: bool = False
) -> Path:
    """Write ``model`` as a SentencePiece Unigram ``.model`` that segments as piecelab.

    ASCII control bytes (newline, tab) are written as text, so SentencePiece does
    not price them as unknown characters, and the scores of pieces whose orders can
    tie exactly are rounded so SentencePiece settles those ties as piecelab does (a
    model trained on the zh-en corpus: 7,713 of 7,734 test documents get piecelab's
    ids, against 6,079 in BytePiece's layout; each of the other 21 is piecelab's
    float64 rounding choosing another order of tied pieces).
    ``bytepiece_layout`` writes the file exactly as BytePiece 0.6.3 does instead.
    """
    from .sentencepiece import export_sentencepiece as write

    piecelab_layout = not bytepiece_layout
    return write(model, path, ascii_as_text=piecelab_layout, settle_ties=piecelab_layout)


def export_hf(model: Model, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` as a Hugging Face ``tokenizer.json`` that segments as piecelab does."""
    from .hf import export_hf as write

    return write(model, path)


def export(model: Model, to: str, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` in the format ``to`` (one of :data:`EXPORT_KINDS`), laid out to
    segment as piecelab does."""
    if to == "hf":
        return export_hf(model, path)
    if to == "sentencepiece":
        return export_sentencepiece(model, path)
    raise ValueError(f"cannot export to {to!r}; the formats are {', '.join(EXPORT_KINDS)}")
