"""Undoable vocabulary edits.

A command holds the model before and after (models are small next to the
corpus and immutable once built), so undo is exact and cheap: it hands the
other model to ``Workspace.set_model``, which rebuilds the tokenizer off-thread
and tells every view (the playground follows ``modelEdited``).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand

from ...engine import Model
from ..state import Workspace


class ModelEdit(QUndoCommand):
    """Replace the workspace's model by ``after``; undo puts ``before`` back.

    ``message`` (what the edit did, e.g. which ids moved) goes to the status bar
    each time the edit is done or redone; undoing says so too.
    """

    def __init__(
        self, workspace: Workspace, before: Model, after: Model, text: str, message: str = ""
    ) -> None:
        super().__init__(text)
        self.workspace = workspace
        self.before = before
        self.after = after
        self.message = message or text

    def redo(self) -> None:
        self.workspace.set_model(self.after, edited=True)
        self.workspace.say(self.message)

    def undo(self) -> None:
        self.workspace.set_model(self.before, edited=True)
        self.workspace.say(f"Undone: {self.text()}")


class PinEdit(QUndoCommand):
    """Pin (protect from deletion) or unpin pieces; ``changed`` refreshes the views."""

    def __init__(
        self, workspace: Workspace, pieces: set[bytes], pin: bool, changed: Callable[[], None]
    ) -> None:
        verb = "Pin" if pin else "Unpin"
        super().__init__(f"{verb} {len(pieces)} piece{'s' if len(pieces) != 1 else ''}")
        self.workspace = workspace
        self.pieces = set(pieces)
        self.pin = pin
        self.changed = changed
        self._before: set[bytes] = set()

    def redo(self) -> None:
        self._before = set(self.workspace.pinned)
        if self.pin:
            self.workspace.pinned |= self.pieces
        else:
            self.workspace.pinned -= self.pieces
        self.changed()

    def undo(self) -> None:
        self.workspace.pinned.clear()
        self.workspace.pinned |= self._before
        self.changed()
