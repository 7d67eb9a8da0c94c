"""The edits of the Vocabulary view: delete or retire, add, set a count, pin.

Each edit builds a new model (off the GUI thread when it re-splits counts) and is
pushed as an undoable :class:`ModelEdit`, whose message tells the status bar
what happened (which ids moved, which were kept).  One edit at a time: while an
edit is computed or the workspace adopts it, the next one waits.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import QMessageBox, QWidget

from ...engine import (
    N_SPECIAL,
    EditError,
    Model,
    add_piece,
    delete_pieces,
    estimate_count,
    id_shift,
    retire_pieces,
    set_count,
)
from ..state import Workspace
from ..worker import Job
from .commands import ModelEdit, PinEdit
from .dialogs import CountDialog, ask_about_ids, new_piece, quoted, what_pieces
from .table_model import VocabTableModel

Message = str | Callable[[Model], str]  # what to say once done (maybe from the result)


class VocabEdits(QWidget):
    """The edit half of :class:`~.view.VocabView` (which builds the widgets)."""

    workspace: Workspace
    undo_stack: QUndoStack
    table_model: VocabTableModel
    id_choice: str | None  # "retire" or "delete" once chosen for this model
    editing: bool  # an edit is being computed

    # the view provides these
    def _background(self, fn: Callable[[], object], done: Callable[[object], None]) -> Job:
        raise NotImplementedError

    def _enable(self) -> None:
        raise NotImplementedError

    def selected_indices(self) -> list[int]:
        raise NotImplementedError

    # ------------------------------------------------------------ the one path of an edit
    def _editable(self) -> Model | None:
        """The model to edit, or None (saying why) while another edit is applied."""
        ws = self.workspace
        if ws.model is None:
            return None
        if ws.loading or self.editing:
            ws.say("The previous edit is still being applied: try again in a moment")
            return None
        return ws.model

    def _push(self, before: Model, make: Callable[[], Model], text: str, message: Message) -> None:
        """Compute ``make()`` off-thread, then push it as an undoable edit of ``before``."""

        def done(after: object) -> None:
            assert isinstance(after, Model)
            if self.workspace.model is not before:
                self.workspace.say(f"{text}: not applied, the model changed meanwhile")
                return
            said = message(after) if callable(message) else message
            self.undo_stack.push(ModelEdit(self.workspace, before, after, text, said))

        self.editing = True
        self._enable()
        self._background(make, done).finished.connect(self._edit_finished)

    def _edit_finished(self) -> None:
        self.editing = False
        self._enable()

    def _refuse(self, message: str) -> None:
        QMessageBox.warning(self, "Cannot edit the vocabulary", message)

    # ------------------------------------------------------------ delete, retire
    def delete_selected(self) -> None:
        """The Delete action: asks (once per model) whether to retire instead."""
        model = self._editable()
        pieces = self._selected_pieces()
        if model is None or not pieces or not self._removable(model, pieces):
            return
        if self.id_choice is None:
            ask_about_ids(self, model, pieces, lambda c, r: self._answered(model, pieces, c, r))
        else:
            self._remove(pieces, retire=self.id_choice == "retire")

    def retire_selected(self) -> None:
        self.retire_pieces(self._selected_pieces())

    def _answered(self, model: Model, pieces: list[bytes], choice: str, remember: bool) -> None:
        if choice == "cancel":
            self.workspace.say("Nothing deleted")
            return
        if self.workspace.model is not model:
            self.workspace.say(f"{what_pieces(pieces)} not deleted: the model changed meanwhile")
            return
        if remember:
            self.id_choice = choice
        self._remove(pieces, retire=choice == "retire")

    def delete_pieces(self, pieces: list[bytes | int]) -> None:
        """Delete pieces (bytes or ids): later ids move down; counts are re-split."""
        self._remove(pieces, retire=False)

    def retire_pieces(self, pieces: list[bytes | int]) -> None:
        """Retire pieces (bytes or ids): ids kept, count 0, counts re-split."""
        self._remove(pieces, retire=True)

    def _removable(self, model: Model, pieces: list[bytes]) -> bool:
        """Refuse single bytes and pinned pieces on the GUI thread, before any work."""
        for piece in pieces:
            if len(piece) == 1 or piece in self.workspace.pinned:
                why = "is a single byte" if len(piece) == 1 else "is pinned; unpin it first"
                self._refuse(f"{quoted(piece)} {why}")
                return False
        return True

    def _remove(self, pieces: list[bytes | int], retire: bool) -> None:
        model = self._editable()
        if model is None or not pieces:
            return
        named = [p if isinstance(p, bytes) else model.pieces[int(p) - N_SPECIAL] for p in pieces]
        if not self._removable(model, named):
            return
        what, pinned = what_pieces(named), set(self.workspace.pinned)
        if not retire:
            shift = id_shift(model, named)
            lowest = "id" if len(named) == 1 else "lowest id"
            said = f"Deleted {what} ({lowest} {shift.first}): {shift.describe('moved')}"
            self._push(model, lambda: delete_pieces(model, named, pinned), f"Delete {what}", said)
            return
        if all(model.counts[model.index[p] - N_SPECIAL] == 0 for p in named):
            self._refuse(f"{what}: already retired (count 0)")
            return
        ids = f"id {model.index[named[0]]}" if len(named) == 1 else "their ids"
        said = f"Retired {what}: {ids} kept, never emitted"
        self._push(model, lambda: retire_pieces(model, named, pinned), f"Retire {what}", said)

    def _selected_pieces(self) -> list[bytes]:
        cols = self.table_model.cols
        return [cols.model.pieces[i] for i in self.selected_indices()] if cols else []

    # ------------------------------------------------------------ add
    def add_piece(self, piece: bytes, count: int | None = None) -> None:
        """Add ``piece``; ``count`` None estimates it from the corpus (off-thread)."""
        model = self._editable()
        if model is None:
            return
        if piece in model.index or not piece:
            self._refuse(f"{quoted(piece)} is already in the vocabulary" if piece else "empty")
            return
        ws = self.workspace

        def make() -> Model:
            n = count
            if n is None:
                with ws.open_corpus() as corpus:
                    n = estimate_count(piece, corpus.documents("all"))
            return add_piece(model, piece, max(1, n))

        def said(after: Model) -> str:
            new = after.index[piece]
            c = int(after.counts[new - N_SPECIAL])
            return (
                f"Added {quoted(piece)} as id {new} (the next id) with count {c:,}: "
                "no other id changed"
            )

        self._push(model, make, f"Add {quoted(piece)}", said)

    def add_dialog(self) -> None:
        """The Add… action: a piece and a count (empty: estimated from the corpus)."""
        if self._editable() is None:
            return
        dialog = CountDialog(
            self,
            "Add a piece",
            "A new piece; it takes the next id, so no other id changes.",
            check_piece=lambda text: new_piece(self.workspace.model, text),
            empty="estimated from the corpus" if self.workspace.corpus_paths else "",
        )
        dialog.accepted.connect(lambda: self._add_answered(dialog.piece, dialog.count))
        dialog.open()

    def _add_answered(self, piece: bytes | None, count: int | None) -> None:
        if piece is not None:
            self.add_piece(piece, count)

    # ------------------------------------------------------------ counts
    def set_count(self, index: int, count: int) -> None:
        """Set the count of piece ``index`` (id − 3); applied at once (no re-split)."""
        model = self._editable()
        if model is None:
            return
        try:
            after = set_count(model, index + N_SPECIAL, count)
        except EditError as exc:
            self._refuse(str(exc))
            return
        what = quoted(model.pieces[index])
        said = f"Count of {what}: {int(model.counts[index]):,} → {count:,}"
        self.undo_stack.push(ModelEdit(self.workspace, model, after, f"Set count of {what}", said))
        self._enable()

    def count_dialog(self) -> None:
        """The Set count… action, for the one selected piece."""
        sel = self.selected_indices()
        model = self._editable()
        if len(sel) != 1 or model is None:
            return
        piece = model.pieces[sel[0]]
        dialog = CountDialog(
            self,
            "Set count",
            f"Count of {quoted(piece)} (id {sel[0] + N_SPECIAL}):",
            f"{int(model.counts[sel[0]]):,}",
        )
        dialog.accepted.connect(lambda: self._count_answered(piece, dialog.count))
        dialog.open()

    def _count_answered(self, piece: bytes, count: int | None) -> None:
        model = self._editable()
        if model is None or count is None:
            return
        if piece not in model.index:
            self.workspace.say(f"{quoted(piece)} is no longer in the vocabulary")
            return
        i = model.index[piece] - N_SPECIAL
        if count != int(model.counts[i]):
            self.set_count(i, count)

    # ------------------------------------------------------------ pins
    def pin(self, indices: list[int], on: bool = True) -> None:
        cols = self.table_model.cols
        if cols is None or not indices:
            return
        pieces = {cols.model.pieces[i] for i in indices}
        self.undo_stack.push(PinEdit(self.workspace, pieces, on, self._pins_changed))

    def _pin_sel(self) -> None:
        self.pin(self.selected_indices(), True)

    def _unpin_sel(self) -> None:
        self.pin(self.selected_indices(), False)

    def _pins_changed(self) -> None:
        self.table_model.set_pinned(self.workspace.pinned)
