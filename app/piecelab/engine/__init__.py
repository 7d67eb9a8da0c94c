"""piecelab's engine: models, tokenizer, corpora and trainer. No Qt, ever."""

from .model import Model, ModelFormatError, load_model
from .normalize import TextEncodingError
from .segmentation import Segmentation, Token
from .tokenizer import Tokenizer

__all__ = [
    "Model",
    "ModelFormatError",
    "Segmentation",
    "TextEncodingError",
    "Token",
    "Tokenizer",
    "load_model",
]
