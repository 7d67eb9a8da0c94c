"""The vocabulary as a Qt table model over the engine's :class:`VocabColumns`.

Rows are a permutation ``rows`` = sort order masked by the filter; sorting
permutes, filtering masks, and text is formatted only in :meth:`data` for the
rows on screen, so 300k pieces sort and filter in milliseconds.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from ...engine import (
    N_SPECIAL,
    SCRIPTS,
    VocabColumns,
    VocabFilter,
    compile_regex,
    filter_mask,
    hex_bytes,
    is_complete,
    piece_label,
)

COLUMNS = ("id", "piece", "bytes", "chars", "count", "log p", "script", "pinned")
ID, PIECE, NBYTES, NCHARS, COUNT, LOGP, SCRIPT, PINNED = range(len(COLUMNS))


class VocabTableModel(QAbstractTableModel):
    """Rows are ``rows`` (piece indices); edits are requested, never applied here."""

    countEdited = Signal(int, int)  # piece index, new count
    pinToggled = Signal(int, bool)  # piece index, pinned
    filtered = Signal(int, int, str)  # rows shown, pieces in all, regex error

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.cols: VocabColumns | None = None
        self.rows = np.zeros(0, np.int64)
        self.pinned = np.zeros(0, bool)
        self.unreachable: np.ndarray | None = None
        self.spec = VocabFilter()
        self.regex_error = ""
        self._order = np.zeros(0, np.int64)
        self._mask = np.zeros(0, bool)
        self._sort = (ID, Qt.SortOrder.AscendingOrder)
        self._regex_cache: tuple[str, np.ndarray, str] | None = None

    # ------------------------------------------------------------ inputs
    def set_columns(self, cols: VocabColumns, pinned: set[bytes] = frozenset()) -> None:
        """Show a new model (columns computed elsewhere, maybe on a worker thread)."""
        self.cols = cols
        self.unreachable = None
        self._regex_cache = None
        self._set_pinned(pinned)
        self._order = self._sorted(*self._sort)
        self._mask = self._compute_mask()
        self._relayout()

    def set_pinned(self, pinned: set[bytes]) -> None:
        self._set_pinned(pinned)
        if self.spec.pinned_only:
            self.set_filter(self.spec)
        elif len(self.rows):
            self.dataChanged.emit(self.index(0, PINNED), self.index(len(self.rows) - 1, PINNED))

    def _set_pinned(self, pinned: set[bytes]) -> None:
        n = len(self.cols) if self.cols else 0
        self.pinned = np.zeros(n, bool)
        if self.cols is not None:
            index = self.cols.model.index
            hit = [index[p] - N_SPECIAL for p in pinned if p in index]
            self.pinned[hit] = True

    def set_unreachable(self, mask: np.ndarray) -> None:
        self.unreachable = mask
        if self.spec.unreachable_only:
            self.set_filter(self.spec)

    def set_filter(self, spec: VocabFilter) -> None:
        self.spec = spec
        self._mask = self._compute_mask()
        self._relayout()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort = (column, order)
        self._order = self._sorted(column, order)
        self._relayout()

    # ------------------------------------------------------------ index arrays
    def _sorted(self, column: int, order: Qt.SortOrder) -> np.ndarray:
        cols = self.cols
        if cols is None:
            return np.zeros(0, np.int64)
        if column == PIECE:
            perm = cols.byte_order
        elif column == PINNED:
            perm = np.argsort(~self.pinned, kind="stable")
        else:
            key = cols.sort_key(COLUMNS[column])
            perm = np.arange(len(cols)) if key is None else np.argsort(key, kind="stable")
        return perm[::-1] if order == Qt.SortOrder.DescendingOrder else perm

    def _compute_mask(self) -> np.ndarray:
        cols, spec = self.cols, self.spec
        if cols is None:
            return np.zeros(0, bool)
        self.regex_error = ""
        hits = None
        if spec.regex:
            if self._regex_cache is None or self._regex_cache[0] != spec.regex:
                pattern, error = compile_regex(spec.regex)
                hit = cols.regex(pattern) if pattern else np.ones(len(cols), bool)
                self._regex_cache = (spec.regex, hit, error)
            _, hits, self.regex_error = self._regex_cache
        return filter_mask(cols, spec, hits, self.unreachable, self.pinned)

    def _relayout(self) -> None:
        self.beginResetModel()
        self.rows = self._order[self._mask[self._order]] if len(self._order) else self._order
        self.endResetModel()
        total = len(self.cols) if self.cols is not None else 0
        self.filtered.emit(len(self.rows), total, self.regex_error)

    # ------------------------------------------------------------ lookups
    def piece_index(self, row: int) -> int:
        return int(self.rows[row])

    def row_of(self, piece_index: int) -> int:
        hit = np.flatnonzero(self.rows == piece_index)
        return int(hit[0]) if len(hit) else -1

    def piece(self, row: int) -> bytes:
        assert self.cols is not None
        return self.cols.model.pieces[self.piece_index(row)]

    # ------------------------------------------------------------ Qt model
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> object:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.column() == COUNT:
            return base | Qt.ItemFlag.ItemIsEditable
        if index.column() == PINNED:
            return base | Qt.ItemFlag.ItemIsUserCheckable
        return base

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        cols = self.cols
        if cols is None or not index.isValid():
            return None
        i = int(self.rows[index.row()])
        c = index.column()
        R = Qt.ItemDataRole
        if role in (R.DisplayRole, R.EditRole):
            if c == ID:
                return str(i + N_SPECIAL)
            if c == PIECE:
                return piece_label(cols.model.pieces[i])
            if c == NBYTES:
                return str(int(cols.nbytes[i]))
            if c == NCHARS:
                return str(int(cols.nchars[i]))
            if c == COUNT:
                n = int(cols.model.counts[i])
                return n if role == R.EditRole else f"{n:,}"
            if c == LOGP:
                return f"{cols.logp[i]:.3f}"
            if c == SCRIPT:
                return SCRIPTS[cols.script[i]]
            return None
        if role == R.CheckStateRole and c == PINNED:
            return Qt.CheckState.Checked if self.pinned[i] else Qt.CheckState.Unchecked
        if role == R.ToolTipRole and c == PIECE:
            piece = cols.model.pieces[i]
            text = repr(piece.decode()) if is_complete(piece) else "not whole UTF-8 characters"
            return f"{hex_bytes(piece)}  {text}"
        if role == R.TextAlignmentRole and c not in (PIECE, SCRIPT):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(
        self, index: QModelIndex | QPersistentModelIndex, value: object, role: int = 2
    ) -> bool:
        """Edits become requests (signals) that the view turns into undoable commands."""
        if not index.isValid() or self.cols is None:
            return False
        i = int(self.rows[index.row()])
        if index.column() == COUNT and role == Qt.ItemDataRole.EditRole:
            try:
                count = int(str(value).replace(",", "").replace("_", ""))
            except ValueError:
                return False
            if count != int(self.cols.model.counts[i]):
                self.countEdited.emit(i, count)
            return True
        if index.column() == PINNED and role == Qt.ItemDataRole.CheckStateRole:
            checked = value in (Qt.CheckState.Checked, Qt.CheckState.Checked.value, 2)
            self.pinToggled.emit(i, bool(checked))
            return True
        return False
