"""The vocabulary as a Qt table model over the engine's :class:`VocabColumns`.

Rows are a permutation ``rows`` = sort order masked by the filter; sorting
permutes, filtering masks, and text is formatted only in :meth:`data` for the
rows on screen, so 300k pieces sort and filter in milliseconds.  It opens sorted
by count, highest first: sorted by id, 256 control bytes would come first.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal

from ...engine import (
    N_SPECIAL,
    SCRIPTS,
    EditError,
    VocabColumns,
    VocabFilter,
    compile_regex,
    filter_mask,
    hex_bytes,
    is_complete,
    parse_count,
    piece_label,
)
from .dialogs import quoted

COLUMNS = ("id", "piece", "bytes", "chars", "count", "log p", "script", "pinned")
ID, PIECE, NBYTES, NCHARS, COUNT, LOGP, SCRIPT, PINNED = range(len(COLUMNS))


class VocabTableModel(QAbstractTableModel):
    """Rows are ``rows`` (piece indices); edits are requested, never applied here."""

    countEdited = Signal(int, object)  # piece index, new count (object: beyond 32 bits)
    pinToggled = Signal(int, bool)  # piece index, pinned
    filtered = Signal(int, int, str)  # rows shown, pieces in all, regex error
    refused = Signal(str)  # an edit typed into a cell that cannot be applied, and why

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.cols: VocabColumns | None = None
        self.rows = np.zeros(0, np.int64)
        self.pinned = np.zeros(0, bool)
        self.unreachable: np.ndarray | None = None
        self.ids: np.ndarray | None = None  # the ids shown, where they are not index + 3
        self.spec = VocabFilter()
        self.regex_error = ""
        self._order = np.zeros(0, np.int64)
        self._mask = np.zeros(0, bool)
        self._sort = (COUNT, Qt.SortOrder.DescendingOrder)
        self._where: np.ndarray | None = None  # piece index → row, built on demand
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
        self._where = None
        self.endResetModel()
        total = len(self.cols) if self.cols is not None else 0
        self.filtered.emit(len(self.rows), total, self.regex_error)

    # ------------------------------------------------------------ lookups
    def piece_index(self, row: int) -> int:
        return int(self.rows[row])

    def row_of(self, piece_index: int) -> int:
        """The row showing piece ``piece_index`` (−1 when filtered out)."""
        return int(self.rows_of(np.array([piece_index]))[0])

    def rows_of(self, piece_indices: np.ndarray) -> np.ndarray:
        """Rows of many pieces at once (−1: not shown); one inverse permutation per
        layout, so re-selecting thousands of pieces in 300k rows stays instant."""
        if self._where is None:
            n = len(self.cols) if self.cols is not None else 0
            self._where = np.full(n, -1, np.int64)
            self._where[self.rows] = np.arange(len(self.rows))
        idx = np.asarray(piece_indices, np.int64)
        ok = (idx >= 0) & (idx < len(self._where))
        return np.where(ok, self._where[np.where(ok, idx, 0)], -1)

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
                if self.ids is None:
                    return str(i + N_SPECIAL)
                return str(int(self.ids[i])) if self.ids[i] >= 0 else "–"
            if c == PIECE:
                return piece_label(cols.model.pieces[i])
            if c == NBYTES:
                return str(int(cols.nbytes[i]))
            if c == NCHARS:
                return str(int(cols.nchars[i]))
            if c == COUNT:  # edited as text: Qt's spin boxes stop at 2**31 − 1
                n = int(cols.model.counts[i])
                return str(n) if role == R.EditRole else f"{n:,}"
            if c == LOGP:
                return f"{cols.logp[i]:.3f}"
            if c == SCRIPT:
                return SCRIPTS[cols.script[i]]
            return None
        if role == R.CheckStateRole and c == PINNED:
            return Qt.CheckState.Checked if self.pinned[i] else Qt.CheckState.Unchecked
        if role == R.ToolTipRole and c in (PIECE, NCHARS):
            return self._tip(i)
        if role == R.TextAlignmentRole and c not in (PIECE, SCRIPT):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _tip(self, i: int) -> str:
        """Bytes in hex, the text, and how many whole characters and stray bytes."""
        cols = self.cols
        assert cols is not None
        piece = cols.model.pieces[i]
        chars, stray = int(cols.nchars[i]), int(cols.stray[i])
        what = f"{chars} whole character{'s' if chars != 1 else ''}"
        if stray:
            what += f" and {stray} stray byte{'s' if stray != 1 else ''} (part of a character)"
        text = f"  {piece.decode()!r}" if is_complete(piece) else ""
        return f"{hex_bytes(piece)}{text}\n{len(piece)} bytes: {what}"

    def setData(
        self, index: QModelIndex | QPersistentModelIndex, value: object, role: int = 2
    ) -> bool:
        """Edits become requests (signals) that the view turns into undoable commands."""
        if not index.isValid() or self.cols is None:
            return False
        i = int(self.rows[index.row()])
        if index.column() == COUNT and role == Qt.ItemDataRole.EditRole:
            try:
                count = parse_count(str(value))
            except EditError as exc:
                self.refused.emit(f"Count of {quoted(self.cols.model.pieces[i])} kept: {exc}")
                return False
            if count != int(self.cols.model.counts[i]):
                self.countEdited.emit(i, count)
            return True
        if index.column() == PINNED and role == Qt.ItemDataRole.CheckStateRole:
            checked = value in (Qt.CheckState.Checked, Qt.CheckState.Checked.value, 2)
            self.pinToggled.emit(i, bool(checked))
            return True
        return False
