"""Which files are models: by name, and by their first bytes when the name says nothing.

File dialogs and drag and drop ask this, so that the trainer's own outputs
(``name.model.16000``) and renamed files are offered and opened like the rest.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

MODEL_SUFFIXES = (".model", ".json", ".zip")
#: the field's vocabularies that no BytePiece file is named like (SentencePiece
#: and tokenizer.json share .model and .json with BytePiece, and are told by content)
FOREIGN_SUFFIXES = (".tiktoken", ".bpe", ".spm")
MODEL_FILE_FILTER = (  # Qt file-dialog filter
    "Vocabularies (*.model *.model.* *.json *.zip *.tiktoken *.bpe *.spm);;All files (*)"
)
_SIZED = re.compile(r"\.model\.\d+$", re.IGNORECASE)  # Trainer.save's naming for several sizes
_BYTEPIECE_HEAD = re.compile(rb'\A\s*\{\s*"[A-Za-z0-9+/=]*"\s*:\s*\[\s*\d')
_ZIP_MAGIC = b"PK\x03\x04"
_HEAD_BYTES = 256


def has_model_name(path: str | os.PathLike[str]) -> bool:
    """Whether the name is a vocabulary's: ``.model``, ``.json``, ``.zip``, ``.model.SIZE``,
    ``.tiktoken``, ``.bpe`` or ``.spm``."""
    name = os.fspath(path).lower()
    return name.endswith(MODEL_SUFFIXES + FOREIGN_SUFFIXES) or _SIZED.search(name) is not None


def looks_like_model(path: str | os.PathLike[str]) -> bool:
    """A model by name, or a regular file that starts like a BytePiece model or a zip.

    Reads at most a few hundred bytes, and only from regular files (never a FIFO
    or a device, which could block or never end).
    """
    path = Path(path)
    if has_model_name(path):
        return True
    head = _head(path)
    return head is not None and (
        head.startswith(_ZIP_MAGIC) or _BYTEPIECE_HEAD.match(head) is not None
    )


def is_bytepiece_file(path: str | os.PathLike[str]) -> bool:
    """Whether a regular file starts like a BytePiece model (its JSON, or a zip of one).

    SentencePiece models share the ``.model`` name, so the GUI asks this before
    it opens a file as the model to edit.
    """
    head = _head(Path(path))
    return head is not None and (
        head.startswith(_ZIP_MAGIC) or _BYTEPIECE_HEAD.match(head) is not None
    )


def _head(path: Path) -> bytes | None:
    """The first bytes of a regular file (None for anything else, or unreadable)."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return None
        with open(path, "rb") as fh:
            return fh.read(_HEAD_BYTES)
    except OSError:
        return None
