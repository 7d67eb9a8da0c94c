"""Where piecelab's bundled resources live: installed package, source checkout or bundle."""

from __future__ import annotations

import contextlib
import sys
from functools import cache
from importlib import resources as _ir
from pathlib import Path

_MARKER = "piecelab.svg"


@cache
def resource_dir() -> Path:
    """The folder holding icons, the sample corpus and the default model.

    Installed (wheel or editable) it is the package ``piecelab.resources``; in a
    source checkout run with ``PYTHONPATH=app`` it is ``<repo>/resources``; in a
    PyInstaller bundle it is ``<bundle>/piecelab/resources``.
    """
    candidates: list[Path] = []
    with contextlib.suppress(ModuleNotFoundError):
        candidates.append(Path(str(_ir.files("piecelab.resources"))))
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "piecelab" / "resources")
    candidates.append(Path(__file__).resolve().parents[2] / "resources")
    for c in candidates:
        if (c / "icons" / _MARKER).is_file():
            return c
    raise FileNotFoundError(
        "piecelab's resources were not found (looked in: "
        + ", ".join(str(c) for c in candidates)
        + "); reinstall piecelab"
    )


def icon_path() -> Path:
    return resource_dir() / "icons" / _MARKER


def sample_corpus_path() -> Path:
    return resource_dir() / "corpus" / "sample.jsonl.gz"


def default_model_path() -> Path:
    return resource_dir() / "models" / "sample.model"
