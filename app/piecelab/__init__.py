"""piecelab: a workbench for byte-level Unigram (BytePiece-style) vocabularies.

``from piecelab import Tokenizer`` is a drop-in for ``from bytepiece import Tokenizer``.
"""

from ._version import __version__
from .engine import Model, Tokenizer

__all__ = ["Model", "Tokenizer", "__version__"]
