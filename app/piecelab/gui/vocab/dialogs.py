"""The Vocabulary view's prompts: a count (and piece) to type, and what deleting does to ids.

Both open window-modal with ``open()`` and report through signals/callbacks, so
the GUI keeps running meanwhile (and tests can type into them).  Counts are
typed as text: ``QInputDialog.getInt`` and spin boxes stop at 2**31 − 1, while
counts of a large corpus go far beyond.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from ...engine import EditError, Model, id_shift, parse_count, parse_piece, piece_label

PIECE_HINT = "text; \\n \\t \\xNN or ⟨E4 BD⟩ for bytes"


def quoted(piece: bytes) -> str:
    """A piece named in a message: its label in quotes (a space shows as ·)."""
    return f"'{piece_label(piece)}'"


def what_pieces(pieces: list[bytes]) -> str:
    """The pieces an edit names: the one piece quoted, else how many."""
    return quoted(pieces[0]) if len(pieces) == 1 else f"{len(pieces)} pieces"


def new_piece(model: Model, text: str) -> tuple[bytes | None, str]:
    """(the piece typed, "") or (None, why it cannot be added)."""
    if not text:
        return None, "type the piece to add"
    try:
        piece = parse_piece(text)
    except ValueError as exc:
        return None, f"cannot read the piece: {exc}"
    if piece in model.index:
        return None, f"{quoted(piece)} is already in the vocabulary (id {model.index[piece]})"
    return piece, ""


class CountDialog(QDialog):
    """Ask for a count (up to 2**63 − 1), and with ``check_piece`` for a new piece too.

    OK is enabled only while the input is valid; :attr:`message` says what is
    wrong or what OK will do.  After ``accepted``: :attr:`piece`, :attr:`count`
    (None: left empty, allowed when ``empty`` names what happens then).
    """

    def __init__(
        self,
        parent: QWidget,
        title: str,
        prompt: str,
        count: str = "",
        check_piece: Callable[[str], tuple[bytes | None, str]] | None = None,
        empty: str = "",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.piece: bytes | None = None
        self.count: int | None = None
        self._check_piece, self._empty = check_piece, empty
        self.prompt = QLabel(prompt)
        self.piece_edit = QLineEdit() if check_piece else None
        self.count_edit = QLineEdit(count)
        self.count_edit.setPlaceholderText(empty or "a whole number, e.g. 1,000,000")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._lay_out()
        self._check()

    def _lay_out(self) -> None:
        form = QFormLayout()
        if self.piece_edit is not None:
            self.piece_edit.setPlaceholderText(PIECE_HINT)
            self.piece_edit.textChanged.connect(self._check)
            form.addRow("Piece:", self.piece_edit)
        form.addRow("Count:", self.count_edit)
        self.count_edit.textChanged.connect(self._check)
        layout = QVBoxLayout(self)
        layout.addWidget(self.prompt)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(420)

    def _check(self) -> None:
        """Validate as the user types; OK only when both fields make sense."""
        problem, piece = "", None
        if self._check_piece is not None and self.piece_edit is not None:
            piece, problem = self._check_piece(self.piece_edit.text())
        count: int | None = None
        if not problem:
            text = self.count_edit.text().strip()
            if text or not self._empty:
                try:
                    count = parse_count(text)
                except EditError as exc:
                    problem = f"count: {exc}"
        if count == 0 and self._check_piece is not None:
            problem = "count: a new piece needs a count of at least 1"
        self.piece, self.count = piece, count
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not problem)
        self.message.setText(problem or self._preview())

    def _preview(self) -> str:
        count = f"count {self.count:,}" if self.count is not None else f"count {self._empty}"
        if self.piece is None:
            return count
        n = len(self.piece)
        return f"adds {quoted(self.piece)} ({n} byte{'s' if n != 1 else ''}), {count}"


def ask_about_ids(
    parent: QWidget, model: Model, pieces: list[bytes], answer: Callable[[str, bool], None]
) -> QMessageBox:
    """Warn that deleting renumbers ids and offer to retire instead.

    ``answer(choice, remember)`` once closed: choice is "retire", "delete" or
    "cancel"; remember is the "don't ask again for this model" box.
    """
    shift = id_shift(model, pieces)
    what = what_pieces(pieces)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Deleting renumbers ids")
    box.setText(f"Deleting {what} (id {shift.first}) renumbers the rest: {shift.describe()}.")
    box.setInformativeText(
        "Text already encoded with this model would then decode wrongly.\n\n"
        "Retire keeps every id: the piece stays with count 0, so the tokenizer never "
        "emits it. Either way its count goes to the pieces it splits into."
    )
    retire = box.addButton("Retire (keep ids)", QMessageBox.ButtonRole.AcceptRole)
    delete = box.addButton("Delete and renumber", QMessageBox.ButtonRole.DestructiveRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(retire)
    box.setEscapeButton(cancel)
    remember = QCheckBox("Don't ask again for this model")
    remember.setChecked(False)  # asked again unless the user says otherwise
    box.setCheckBox(remember)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def closed(_: int) -> None:
        clicked = box.clickedButton()
        choice = "retire" if clicked is retire else "delete" if clicked is delete else "cancel"
        answer(choice, remember.isChecked())

    box.finished.connect(closed)
    box.open()
    return box
