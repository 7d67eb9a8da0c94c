"""The concordance of the selected piece: where it occurs in the corpus, and whether the
tokenizer emits it there as a token of its own (pyahocorasick over the first documents).

It follows the model: after an edit or another model, the piece is searched again
(whether it is emitted depends on the vocabulary) or, if gone, the panel says so.
Another library's vocabulary is searched by the text its piece stands for
(``▁`` as a space), and "emitted" is that library's own segmentation.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...engine import Hit, Vocabulary, concordance, is_complete, mark_emitted, piece_label
from ..state import Workspace
from ..worker import Jobs, Latest
from .dialogs import quoted

CONCORDANCE_DOCS = 2000
CONCORDANCE_HITS = 200
SELECT_A_PIECE = "Select a piece to see it in the corpus"


class ConcordancePanel(QWidget):
    """A piece in context in the first documents of the corpus (pyahocorasick), and
    whether the tokenizer emits it there as a token of its own."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.jobs = Jobs(self)
        self.piece: bytes | None = None
        self._docs: list[str] | None = None
        self.label = QLabel(SELECT_A_PIECE)
        self.label.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["left", "piece", "right", "emitted"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.table)
        self._requests = Latest()
        self._searched: tuple[bytes, object] | None = None  # (piece, tokenizer) shown or asked
        workspace.corpusChanged.connect(self._corpus_changed)
        workspace.modelEdited.connect(self._model_changed)
        workspace.modelChanged.connect(self.reset)

    @property
    def busy(self) -> int:
        return self.jobs.busy

    def _corpus_changed(self) -> None:
        self._docs = None
        self._searched = None
        self._requests.drop_all()

    def reset(self) -> None:
        """Another model: nothing is selected in it yet, so nothing is shown."""
        self._requests.drop_all()
        self.piece = self._searched = None
        self.table.setRowCount(0)
        self.label.setText(SELECT_A_PIECE)

    def _model_changed(self) -> None:
        """After an edit: search the shown piece again, or say it is gone."""
        piece, model = self.piece, self.workspace.model
        if piece is None:
            return
        if self.workspace.vocabulary is not None:  # ids moved: nothing is selected now
            self.reset()
            return
        self._requests.drop_all()  # an answer in flight used the old tokenizer
        if model is None or piece not in model.index:
            self.piece = self._searched = None
            self.table.setRowCount(0)
            self.label.setText(f"{quoted(piece)} is no longer in the vocabulary")
            return
        self.show_piece(piece)

    def show_piece(self, piece: bytes) -> None:
        """Search ``piece`` with the current tokenizer, unless that search is already
        shown or on its way (an edit re-searches, then the view reselects the piece)."""
        tok = self.workspace.tokenizer
        self.piece = piece
        if tok is None:
            return
        if self._searched is not None and self._searched[0] == piece and self._searched[1] is tok:
            return
        if not is_complete(piece):
            self.table.setRowCount(0)
            self.label.setText(
                f"{quoted(piece)} is not whole characters: the corpus is searched as text"
            )
            return
        self._search(piece, piece.decode(), tok)

    def show_foreign(self, vocab: Vocabulary, i: int) -> None:
        """Search the text of piece ``i`` of another library's vocabulary; "emitted" is
        where that library's segmentation cuts it as one token."""
        piece = vocab.pieces[i]
        self.piece = piece
        if self._searched is not None and self._searched[0] == piece and self._searched[1] is vocab:
            return
        text = vocab.surface(i)
        if text is None:
            self._requests.drop_all()
            self._searched = None
            self.table.setRowCount(0)
            self.label.setText(
                f"{quoted(piece)} stands for no text of its own (a special id, a byte, "
                "or a piece that only follows another): nothing to search"
            )
            return
        self._search(piece, text, vocab)

    def _search(self, piece: bytes, text: str, segmenter: object) -> None:
        """Find ``text`` in the first documents off the GUI thread; ``segmenter`` (a
        tokenizer or vocabulary) says where it is a token of its own."""
        ws, docs = self.workspace, self._docs
        self._searched = (piece, segmenter)
        self.label.setText(f"Searching for {quoted(piece)}…")

        def work() -> tuple[list[str], list[Hit]]:
            texts = docs if docs is not None else ws.read_documents(CONCORDANCE_DOCS)
            hits = concordance([text], texts, context=30, limit=CONCORDANCE_HITS)
            return texts, mark_emitted(hits, texts, segmenter)

        def done(result: tuple[list[str], list[Hit]]) -> None:
            self._docs = result[0]
            self._show(piece, *result)

        def failed(message: str) -> None:
            self._searched = None  # selecting the piece again tries again
            self.label.setText(f"Search failed: {message.splitlines()[0]}")

        self.jobs.run(work, done, failed, self._requests)

    def _show(self, piece: bytes, docs: list[str], hits: list[Hit]) -> None:
        self.table.setRowCount(len(hits))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for row, h in enumerate(hits):
            cells = [h.left, h.match, h.right, "yes" if h.emitted else "no"]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(piece_label(text.encode("utf-8", "surrogatepass")))
                if col == 0:
                    item.setTextAlignment(right)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self.label.setText(_summary(piece, len(docs), hits))


def _summary(piece: bytes, n_docs: int, hits: list[Hit]) -> str:
    """What the search found, including when it found nothing (and why)."""
    name = quoted(piece)
    if n_docs == 0:
        return f"{name}: no corpus to search; add one in the Corpus view"
    if not hits:
        return f"no occurrence of {name} in the first {n_docs:,} documents"
    emitted = sum(1 for h in hits if h.emitted)
    more = "+" if len(hits) >= CONCORDANCE_HITS else ""
    s = "s" if len(hits) != 1 else ""
    return (
        f"{name}: {len(hits)}{more} occurrence{s} in the first {n_docs:,} documents; "
        f"emitted as a token in {emitted}"
    )
