"""``piecelab.load``: open any vocabulary file, its kind told by its content.

The name is only a hint (a SentencePiece model and a BytePiece model are both
``.model``): a zip or a BytePiece JSON object is a BytePiece model, a JSON
object with a ``model`` table is a Hugging Face ``tokenizer.json``, lines of
``base64 rank`` are a tiktoken file, and anything else is tried as a
SentencePiece protobuf.  The kinds' libraries are imported only when a file of
their kind is opened, so opening a BytePiece model costs none of them.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..model import Model, ModelFormatError, read_model_file
from .base import Vocabulary, fail

if TYPE_CHECKING:
    from ..tokenizer import Tokenizer

_TIKTOKEN_LINE = re.compile(rb"\A[A-Za-z0-9+/]+=*[ \t]+\d+\r?\n")
_JSON_START = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*[{[]")


def load(path: str | os.PathLike[str], pattern: str | None = None) -> Vocabulary:
    """Open the vocabulary at ``path`` (BytePiece, SentencePiece, ``tokenizer.json``, tiktoken).

    ``pattern`` is for tiktoken files, which hold no split pattern: a preset's
    name (``cl100k``, ``o200k``, ...) or a regular expression; without one the
    preset is guessed from the file's size, as the published files tell apart.
    Raises :class:`~.base.FormatError` (a ``ValueError``) naming the file and the
    problem for anything it cannot open.
    """
    return as_vocabulary(read_vocabulary(path, pattern))


def load_bytes(
    raw: bytes, source: str, pattern: str | None = None, zipped: bool = False
) -> Vocabulary:
    """:func:`load` for bytes already read (``source`` names them in errors)."""
    return as_vocabulary(read_bytes(raw, source, pattern, zipped))


def read_vocabulary(path: str | os.PathLike[str], pattern: str | None = None) -> Model | Vocabulary:
    """What :func:`load` opens, but a BytePiece model as its :class:`Model`, with no
    tokenizer built yet (the workbench builds and warms its own)."""
    path = Path(path)
    raw = read_model_file(path)
    return read_bytes(raw, str(path), pattern, zipped=path.suffix.lower() == ".zip")


def read_bytes(
    raw: bytes, source: str, pattern: str | None = None, zipped: bool = False
) -> Model | Vocabulary:
    """:func:`read_vocabulary` for bytes already read."""
    if not raw.strip():
        raise fail(source, "the file is empty")
    if raw[:4] == b"PK\x03\x04" or zipped:
        return Model.from_raw(raw, source, zipped=True)
    if _JSON_START.match(raw):
        return _read_json(raw, source)
    if _TIKTOKEN_LINE.match(raw):
        from .tiktoken import open_tiktoken

        return open_tiktoken(raw, source, pattern)
    from .sentencepiece import open_sentencepiece

    return open_sentencepiece(raw, source)


def as_vocabulary(found: Model | Tokenizer | Vocabulary) -> Vocabulary:
    """Anything that segments as a :class:`Vocabulary`: a BytePiece model or piecelab
    tokenizer through the BytePiece adapter (a tokenizer is reused, not rebuilt)."""
    from .bytepiece import BytePieceVocabulary

    return found if isinstance(found, Vocabulary) else BytePieceVocabulary(found)


def _read_json(raw: bytes, source: str) -> Model | Vocabulary:
    """A BytePiece model or a ``tokenizer.json``, told by the shape of the object."""
    try:
        obj = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise fail(source, f"not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        problem = "truncated" if exc.pos >= len(exc.doc.rstrip()) else "invalid JSON"
        raise fail(
            source, f"{problem} at line {exc.lineno}, column {exc.colno} ({exc.msg})"
        ) from None
    except (RecursionError, ValueError) as exc:
        raise fail(source, f"invalid JSON ({exc})") from None
    if isinstance(obj, dict) and isinstance(obj.get("model"), dict):
        from .hf import open_hf

        return open_hf(obj, source)
    if isinstance(obj, dict) and all(isinstance(v, list) for v in obj.values()):
        return Model.from_raw(raw, source)
    shape = type(obj).__name__ if not isinstance(obj, dict) else "an object"
    keys = ", ".join(list(map(str, obj))[:5]) if isinstance(obj, dict) else ""
    raise fail(
        source,
        f"JSON of another shape ({shape}{' with keys ' + keys if keys else ''}): neither a "
        "BytePiece model (base64 piece → [id, text, count]) nor a Hugging Face tokenizer.json "
        '(an object with a "model" table)',
    )


__all__ = [
    "ModelFormatError",
    "as_vocabulary",
    "load",
    "load_bytes",
    "read_bytes",
    "read_vocabulary",
]
