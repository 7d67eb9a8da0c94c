"""Another library's vocabulary as a read-only table: its ids, pieces and scores or ranks.

The same filters as a BytePiece model's table apply (they run over the same
:class:`VocabColumns`); nothing here edits.  "reachable" says whether encoding
the piece's own text gives it (``Vocabulary.unreachable``); pieces no text can
give alone (special ids, parts of a character, WordPiece's ``##`` pieces) are
blank there, and no filter of reachability keeps them.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from ...engine import (
    SCRIPTS,
    VocabColumns,
    VocabFilter,
    Vocabulary,
    compile_regex,
    filter_mask,
    hex_bytes,
    piece_label,
)

ID, PIECE, NBYTES, NCHARS, SCORE, SCRIPT, KIND, REACH = range(8)
REACH_TEXT = {-1: "", 0: "yes", 1: "no"}


class ForeignTableModel(QAbstractTableModel):
    """Rows are ids of ``vocabulary`` (sorted and filtered), computed as arrays."""

    filtered = Signal(int, int, str)  # rows shown, ids in all, regex error

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.vocabulary: Vocabulary | None = None
        self.cols: VocabColumns | None = None
        self.reach = np.zeros(0, np.int8)
        self.rows = np.zeros(0, np.int64)
        self.spec = VocabFilter()
        self._sort = (ID, Qt.SortOrder.AscendingOrder)

    @property
    def headers(self) -> tuple[str, ...]:
        score = self.vocabulary.score_name if self.vocabulary is not None else "score"
        return ("id", "piece", "bytes", "chars", score, "script", "kind", "reachable")

    def set_vocabulary(self, vocab: Vocabulary, cols: VocabColumns, reach: np.ndarray) -> None:
        self.vocabulary, self.cols, self.reach = vocab, cols, np.asarray(reach, np.int8)
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.headers) - 1)
        self._relayout()

    def set_filter(self, spec: VocabFilter) -> None:
        self.spec = spec
        self._relayout()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort = (column, order)
        self._relayout()

    def _relayout(self) -> None:
        cols, vocab = self.cols, self.vocabulary
        error = ""
        if cols is None or vocab is None:
            rows = np.zeros(0, np.int64)
        else:
            hits = None
            if self.spec.regex:
                pattern, error = compile_regex(self.spec.regex)
                hits = cols.regex(pattern) if pattern else np.ones(len(cols), bool)
            mask = filter_mask(cols, self.spec, hits, self.reach == 1)
            column, order = self._sort
            keys = {
                PIECE: None,
                NBYTES: cols.nbytes,
                NCHARS: cols.nchars,
                SCORE: vocab.scores,
                SCRIPT: cols.script,
                KIND: vocab.special,
                REACH: self.reach,
            }
            if column == PIECE:
                order_ids = cols.byte_order
            else:
                key = keys.get(column)
                order_ids = np.arange(len(cols)) if key is None else np.argsort(key, kind="stable")
            if order == Qt.SortOrder.DescendingOrder:
                order_ids = order_ids[::-1]
            rows = order_ids[mask[order_ids]]
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()
        self.filtered.emit(len(rows), len(cols) if cols is not None else 0, error)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.headers[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        cols, vocab = self.cols, self.vocabulary
        if cols is None or vocab is None or not index.isValid():
            return None
        i = int(self.rows[index.row()])
        c = index.column()
        R = Qt.ItemDataRole
        if role == R.DisplayRole:
            if c == ID:
                return str(i)
            if c == PIECE:
                return piece_label(vocab.pieces[i])
            if c == NBYTES:
                return str(int(cols.nbytes[i]))
            if c == NCHARS:
                return str(int(cols.nchars[i]))
            if c == SCORE:
                score = float(vocab.scores[i])
                return f"{score:.4f}" if vocab.score_name != "rank" else f"{int(score):,}"
            if c == SCRIPT:
                return SCRIPTS[cols.script[i]]
            if c == KIND:
                return "special" if vocab.special[i] else ""
            return REACH_TEXT[int(self.reach[i])] if len(self.reach) else ""
        if role == R.ToolTipRole and c == PIECE:
            return f"{hex_bytes(vocab.pieces[i])}\n{len(vocab.pieces[i])} bytes"
        if role == R.TextAlignmentRole and c in (ID, NBYTES, NCHARS, SCORE):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
