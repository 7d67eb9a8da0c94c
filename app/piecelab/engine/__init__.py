"""piecelab's engine: models, tokenizer, corpora and trainer. No Qt, ever."""

# first: numba's cache stamps must cover the whole engine before any kernel is defined
from . import kernel_cache  # noqa: F401  (installs on import)
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
