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
MODEL_FILE_FILTER = (
    "Models (*.model *.model.* *.json *.zip);;All files (*)"  # Qt file-dialog filter
)
_SIZED = re.compile(r"\.model\.\d+$", re.IGNORECASE)  # Trainer.save's naming for several sizes
_BYTEPIECE_HEAD = re.compile(rb'\A\s*\{\s*"[A-Za-z0-9+/=]*"\s*:\s*\[\s*\d')
_ZIP_MAGIC = b"PK\x03\x04"
_HEAD_BYTES = 256


def has_model_name(path: str | os.PathLike[str]) -> bool:
    """Whether the name is a model's: ``.model``, ``.json``, ``.zip`` or ``.model.SIZE``."""
    name = os.fspath(path).lower()
    return name.endswith(MODEL_SUFFIXES) or _SIZED.search(name) is not None


def looks_like_model(path: str | os.PathLike[str]) -> bool:
    """A model by name, or a regular file that starts like a BytePiece model or a zip.

    Reads at most a few hundred bytes, and only from regular files (never a FIFO
    or a device, which could block or never end).
    """
    path = Path(path)
    if has_model_name(path):
        return True
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return False
        with open(path, "rb") as fh:
            head = fh.read(_HEAD_BYTES)
    except OSError:
        return False
    return head.startswith(_ZIP_MAGIC) or _BYTEPIECE_HEAD.match(head) is not None
