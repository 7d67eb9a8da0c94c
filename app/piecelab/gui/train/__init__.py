"""The Train view: BytePiece's parameters, progress, live charts and the session's runs."""

from .view import TrainView

__all__ = ["TrainView"]
