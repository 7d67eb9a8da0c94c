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


def export_sentencepiece(model: Model, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` as a SentencePiece Unigram ``.model`` (BytePiece's conversion, fixed)."""
    from .sentencepiece import export_sentencepiece as write

    return write(model, path)


def export_hf(model: Model, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` as a Hugging Face ``tokenizer.json`` that segments as piecelab does."""
    from .hf import export_hf as write

    return write(model, path)


def export(model: Model, to: str, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` in the format ``to`` (one of :data:`EXPORT_KINDS`)."""
    writers = {"hf": export_hf, "sentencepiece": export_sentencepiece}
    if to not in writers:
        raise ValueError(f"cannot export to {to!r}; the formats are {', '.join(EXPORT_KINDS)}")
    return writers[to](model, path)
