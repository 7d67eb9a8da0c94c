"""The one workspace object: current model and tokenizer, corpus sources; emits changes."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from ..engine import Model, Tokenizer
from .worker import run_in_thread


class Workspace(QObject):
    """Widgets bind to this and tests assert on it, not on pixels."""

    modelLoading = Signal(str)
    modelChanged = Signal()
    modelFailed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model: Model | None = None
        self.tokenizer: Tokenizer | None = None
        self.model_path: Path | None = None
        self.corpus_paths: list[Path] = []
        self.loading = False

    def open_model(self, path: str | Path) -> None:
        """Load a model in the background (building it compiles kernels on first use)."""
        path = Path(path)
        self.loading = True
        self.modelLoading.emit(str(path))

        def work() -> tuple[Path, Tokenizer]:
            tok = Tokenizer(path)
            tok.tokenize("warm up 预热\n")
            tok.tokenize("warm up 预热\n", alpha=0.5, seed=0)
            return path, tok

        run_in_thread(work, self._loaded, self._failed, self)

    def _loaded(self, result: tuple[Path, Tokenizer]) -> None:
        self.loading = False
        self.model_path, self.tokenizer = result
        self.model = self.tokenizer.model
        self.modelChanged.emit()

    def _failed(self, message: str) -> None:
        self.loading = False
        self.modelFailed.emit(message)
