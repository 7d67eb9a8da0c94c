"""The field's vocabulary formats: one module per kind, each read and (where it can) written.

:func:`load` picks the kind by content; every kind answers the
:class:`Vocabulary` protocol.  The kinds' libraries load on first use.
"""

from .base import KINDS, FormatError, Piece, SamplingUnavailable, Spans, Vocabulary
from .load import as_vocabulary, load, load_bytes, read_vocabulary

__all__ = [
    "KINDS",
    "FormatError",
    "Piece",
    "SamplingUnavailable",
    "Spans",
    "Vocabulary",
    "as_vocabulary",
    "load",
    "load_bytes",
    "read_vocabulary",
]
