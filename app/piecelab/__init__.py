"""piecelab: a workbench for byte-level Unigram (BytePiece-style) vocabularies.

``from piecelab import Tokenizer, Trainer`` is a drop-in for the same names from
``bytepiece`` (0.6.3).
"""

from ._version import __version__
from .engine import Model, Tokenizer
from .engine.trainer import Trainer

__all__ = ["Model", "Tokenizer", "Trainer", "__version__"]
