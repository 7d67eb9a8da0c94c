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


def guide_path() -> Path:
    """The in-app guide (Markdown): what each view is for, and a glossary."""
    return resource_dir() / "help" / "guide.md"


def sample_model_path() -> Path:
    """The 8k model piecelab trains on its sample corpus (``make model``)."""
    return resource_dir() / "models" / "sample.model"


def published_model_path() -> Path:
    """BytePiece's published 80k model (Apache-2.0, its license beside it)."""
    return resource_dir() / "models" / "bytepiece.plus.80k.zip"


def default_model_path() -> Path:
    """The model the workbench opens at start: a real vocabulary, not a toy."""
    return published_model_path()


EXAMPLES = (
    ("BytePiece plus 80k (Chinese, English, code)", published_model_path),
    ("Sample corpus, 8k (trained here)", sample_model_path),
)


def example_models() -> list[tuple[str, Path]]:
    """(menu title, path) of the bundled models that exist."""
    return [(title, where()) for title, where in EXAMPLES if where().is_file()]
