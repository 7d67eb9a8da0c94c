"""The Analysis view: cost per script or field of the corpus, and vocabulary diffs."""

from .view import AnalysisView

__all__ = ["AnalysisView"]
