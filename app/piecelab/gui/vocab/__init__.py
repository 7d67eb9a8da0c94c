"""The Vocabulary view: every piece in a table, charts, concordance, undoable edits."""

from .view import VocabView

__all__ = ["VocabView"]
