"""Saving the workspace's model from any view: its own file, or one the user picks."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from ..paths import resource_dir
from .state import Workspace

MODEL_FILES = "BytePiece models (*.model)"
SAVE_FILTER = f"{MODEL_FILES};;All files (*)"
SAVABLE_SUFFIXES = (".model", ".json")  # a model opened from a .zip is saved elsewhere


def app_data_dir() -> Path:
    """Where piecelab keeps its own files (the log, autosaves); created by whoever writes."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".piecelab")


def _nothing_to_save(workspace: Workspace) -> bool:
    """No BytePiece model: say why when another library's vocabulary is open."""
    if workspace.model is not None:
        return False
    if workspace.vocabulary is not None:
        workspace.say(f"A {workspace.kind} vocabulary is read-only here: nothing to save")
    return True


def save(parent: QWidget, workspace: Workspace) -> bool:
    """Save to the model's own file (asks for one if it has none, or it is a .zip)."""
    if _nothing_to_save(workspace):
        return False
    path = workspace.model_path
    if path is None or path.suffix.lower() not in SAVABLE_SUFFIXES or bundled(path):
        return save_as(parent, workspace)  # an example stays as shipped: save a copy
    return save_to(parent, workspace, None)


def save_as(parent: QWidget, workspace: Workspace) -> bool:
    """Ask where, then save there; False if the user cancelled or the save failed."""
    if _nothing_to_save(workspace):
        return False
    current = workspace.model_path
    start = ""
    if current is not None:
        folder = Path.home() if bundled(current) else current.parent
        start = str(folder / current.with_suffix(".model").name)
    path, _ = QFileDialog.getSaveFileName(parent, "Save model", start, SAVE_FILTER)
    if not path:
        return False
    target = Path(path)
    if not target.suffix:  # "edited" is meant as edited.model (dialogs show *.model)
        target = target.with_name(target.name + ".model")
    return save_to(parent, workspace, target)


def bundled(path: Path) -> bool:
    """Whether ``path`` is one of the models shipped with piecelab (never written over)."""
    try:
        return Path(path).resolve().is_relative_to(resource_dir().resolve())
    except (OSError, FileNotFoundError):
        return False


def save_to(parent: QWidget, workspace: Workspace, path: Path | None) -> bool:
    """Atomic save through the workspace (``None``: to the model's own file); a failure
    is shown, never raised."""
    try:
        workspace.save_model(path)
    except (OSError, ValueError) as exc:
        target = path or workspace.model_path
        QMessageBox.warning(parent, "Could not save the model", f"{target}: {exc}")
        return False
    return True


def confirm_replace(
    parent: QWidget, workspace: Workspace, doing: str = "opening another model"
) -> bool:
    """Before the model is replaced (opened, recovered, trained, closed): True to go on.

    With unsaved work the user chooses Save (then go on if it saved), Discard or
    Cancel; without any, there is nothing to ask.  ``doing`` completes the question.
    """
    if not workspace.dirty:
        return True
    buttons = QMessageBox.StandardButton
    if workspace.has_edits:
        what = f"The vocabulary {workspace.model_label} has unsaved edits."
        lost = "its edits and their undo history"
    else:
        what = f"The model {workspace.model_label} has never been saved."
        lost = "it (while piecelab runs, a trained model also stays in the Train view's runs)"
    answer = QMessageBox.question(
        parent,
        "Unsaved changes",
        f"{what} Save it before {doing}?\n\nDiscard loses {lost}.",
        buttons.Save | buttons.Discard | buttons.Cancel,
        buttons.Save,
    )
    if answer == buttons.Cancel:
        return False
    return answer == buttons.Discard or save(parent, workspace)
