"""The Corpus view: sources, reading options, statistics, preview and problems."""

from .view import CorpusView

__all__ = ["CorpusView"]
