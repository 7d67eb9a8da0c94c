"""File ▸ Export: the current BytePiece model in the field's formats.

The engine's writers do the work (atomically: a temporary sibling renamed over
the target); this module asks where, runs the write off the GUI thread so a
large model never freezes the window, and turns a failure into a sentence that
names the file, never a traceback.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QWidget

from ..engine import Model, export
from .saving import bundled
from .state import Workspace
from .worker import readable_error, run_in_thread


@dataclass(frozen=True)
class Format:
    """One export target: the engine's name for it and how the GUI presents it."""

    kind: str  # a key of the engine's EXPORT_KINDS
    label: str  # the menu entry
    title: str  # what messages call the file
    suffix: str  # the default name's ending, after the model's stem
    extension: str  # added to a name typed without one
    filter: str  # for the file dialog


HF = Format(
    "hf",
    "&Hugging Face tokenizer.json…",
    "Hugging Face tokenizer.json",
    ".tokenizer.json",
    ".json",
    "Hugging Face tokenizers (*.json);;All files (*)",
)
SENTENCEPIECE = Format(
    "sentencepiece",
    "&SentencePiece model…",
    "SentencePiece model",
    ".sp.model",
    ".model",
    "SentencePiece models (*.model);;All files (*)",
)
FORMATS = (HF, SENTENCEPIECE)
_SIZED = re.compile(r"(.+?)\.model(\.\d+)?$", re.IGNORECASE)  # name.model, name.model.16000


class ExportMenu(QMenu):
    """The Export submenu: one action per format, enabled only while a model is ready."""

    def __init__(self, workspace: Workspace, parent: QWidget) -> None:
        super().__init__("&Export", parent)
        self.workspace = workspace
        self.owner = parent  # the dialogs' parent
        self.format_actions: dict[str, QAction] = {}
        for fmt in FORMATS:
            action = self.addAction(fmt.label)
            action.setStatusTip(f"Write the model as a {fmt.title}, keeping its ids")
            action.triggered.connect(lambda _=False, f=fmt: self.export_as(f))
            self.format_actions[fmt.kind] = action
        # modelChanged also comes for another library's vocabulary (model None: disabled)
        for signal in (workspace.modelChanged, workspace.modelEdited, workspace.modelFailed):
            signal.connect(self.update_enabled)
        workspace.modelLoading.connect(self._loading)
        # an edit's rebuild sets ``loading`` without a signal: look again before showing
        self.aboutToShow.connect(self.update_enabled)
        self.update_enabled()

    def ready(self) -> bool:
        """Whether there is a finished BytePiece model to export (not one still loading,
        nor another library's vocabulary, edited or not)."""
        ws = self.workspace
        return ws.model is not None and ws.vocabulary is None and not ws.loading

    def update_enabled(self, *_: object) -> None:
        self._enable(self.ready())

    def _loading(self, _path: str) -> None:
        """Sent before ``loading`` is set: a load is starting, whatever ``ready`` says."""
        self._enable(False)

    def _enable(self, on: bool) -> None:
        for action in self.format_actions.values():
            action.setEnabled(on)

    def export_as(self, fmt: Format) -> None:
        """Ask for a file, then write the model there on a worker thread."""
        if not self.ready():  # a shortcut or a stale menu: the model is gone or changing
            return
        model, own_file = self.workspace.model, self.workspace.model_path
        path, _ = QFileDialog.getSaveFileName(
            self.owner, f"Export {fmt.title}", str(default_target(self.workspace, fmt)), fmt.filter
        )
        if not path:
            return
        target = Path(path)
        if not target.suffix:
            target = target.with_name(target.name + fmt.extension)
        if own_file is not None and _same_file(target, own_file):
            self._failed(fmt, target, "it is the model's own file; choose another name")
            return
        run_in_thread(
            lambda: write(model, fmt, target),
            lambda written: self.workspace.say(f"Exported {fmt.title} to {written}"),
            lambda message: self._failed(fmt, target, message),
            self,
        )

    def _failed(self, fmt: Format, target: Path, message: str) -> None:
        QMessageBox.warning(
            self.owner,
            "Export",
            readable_error(f"Could not export the {fmt.title} to {target}:\n{message}"),
        )


def default_target(workspace: Workspace, fmt: Format) -> Path:
    """``<stem><suffix>`` beside the model's file (in the home folder for a bundled
    model or one without a file), so the export is found next to what it came from."""
    path = workspace.model_path
    if path is None:
        stem = re.sub(r"[^\w.-]+", "-", workspace.model_label).strip("-.") or "model"
        return Path.home() / f"{stem}{fmt.suffix}"
    sized = _SIZED.match(path.name)
    stem = sized.group(1) + (sized.group(2) or "") if sized else path.stem
    folder = Path.home() if bundled(path) else path.parent
    return folder / f"{stem or 'model'}{fmt.suffix}"


def write(model: Model, fmt: Format, target: Path) -> Path:
    """Off the GUI thread: the engine's atomic write, its failures said in plain words."""
    try:
        mode = target.stat().st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
        # a device or a pipe: the rename would replace it (/dev/full) instead of writing
        raise ValueError("it is not a regular file (a device, a pipe or a socket)")
    try:
        return export(model, fmt.kind, target)
    except IsADirectoryError:
        raise ValueError("it is a folder; choose a file name inside it") from None
    except OSError as exc:  # its message names the temporary file: say the problem only
        if not target.parent.is_dir():
            raise ValueError(f"the folder {target.parent} does not exist") from None
        raise ValueError(exc.strerror or str(exc)) from None
    except ImportError as exc:
        raise ValueError(f"this format needs the {exc.name} package, not installed") from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False
