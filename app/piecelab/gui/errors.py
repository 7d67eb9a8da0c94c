"""An exception in a Qt slot is shown to the user, not only printed to stderr.

Qt calls slots from its event loop; an exception there would otherwise leave a
traceback on stderr and an action that "does nothing".  The hook shows the
message in a dialog with the traceback in its details, and appends it to a log.
"""

from __future__ import annotations

import sys
import time
import traceback
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from .saving import app_data_dir


def log_path() -> Path:
    return app_data_dir() / "piecelab.log"


class ErrorReporter:
    """``sys.excepthook`` for the GUI: a dialog, the log, and stderr, for each exception."""

    def __init__(self, parent: QWidget | None = None, log: Path | None = None) -> None:
        self.parent = parent
        self.log = log or log_path()
        self.shown: list[str] = []
        self._previous = sys.excepthook

    def install(self) -> ErrorReporter:
        sys.excepthook = self
        return self

    def uninstall(self) -> None:
        if sys.excepthook is self:
            sys.excepthook = self._previous

    def __call__(
        self, kind: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        detail = "".join(traceback.format_exception(kind, exc, tb))
        sys.stderr.write(detail)
        self._append_log(detail)
        message = f"{kind.__name__}: {exc}" if str(exc) else kind.__name__
        self.shown.append(message)
        box = QMessageBox(self.parent)
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("Something went wrong")
        box.setText(
            "piecelab hit an unexpected error; what you were doing may not have happened.\n\n"
            f"{message}"
        )
        box.setInformativeText(f"The details are also in {self.log}.")
        box.setDetailedText(detail)
        box.exec()

    def _append_log(self, detail: str) -> None:
        try:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log, "a", encoding="utf-8") as fh:
                fh.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}\n{detail}\n")
        except OSError:
            pass  # a full or read-only disk must not turn one error into two
