"""piecelab: a workbench for byte-level Unigram (BytePiece-style) vocabularies.

``from piecelab import Tokenizer, Trainer`` is a drop-in for the same names from
``bytepiece`` (0.6.3); ``piecelab.load(path)`` opens any vocabulary file
(BytePiece, SentencePiece, Hugging Face ``tokenizer.json``, tiktoken).
"""

from ._version import __version__
from .engine import Model, Tokenizer, load
from .engine.trainer import Trainer

__all__ = ["Model", "Tokenizer", "Trainer", "__version__", "load"]
