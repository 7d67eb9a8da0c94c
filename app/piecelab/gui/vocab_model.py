"""The vocabulary as a table model over numpy arrays (sort and filter by index arrays).

:class:`VocabColumns` computes every column once per model (Qt-free, so it can
run on a worker thread and be tested alone).  :class:`VocabTableModel` shows
rows through a permutation ``rows`` = sort order masked by the filter; sorting
permutes, filtering masks, and text is formatted only in :meth:`data` for the
rows on screen, so 300k pieces sort and filter in milliseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from ..engine.model import N_SPECIAL, Model
from ..engine.render import hex_bytes, is_complete, piece_label

SCRIPTS = ("Han", "Latin", "digit", "space", "punct", "other", "mixed", "partial")
HAN, LATIN, DIGIT, SPACE, PUNCT, OTHER, MIXED, PARTIAL = range(len(SCRIPTS))
COLUMNS = ("id", "piece", "bytes", "chars", "count", "log p", "script", "pinned")
ID, PIECE, NBYTES, NCHARS, COUNT, LOGP, SCRIPT, PINNED = range(len(COLUMNS))

_RANGES = {  # code point ranges per class; anything else is OTHER
    HAN: [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF)],
    LATIN: [
        *[(0x41, 0x5A), (0x61, 0x7A), (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x24F)],
        *[(0x1E00, 0x1EFF), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)],
    ],
    DIGIT: [(0x30, 0x39), (0xFF10, 0xFF19)],
    SPACE: [
        *[(0x09, 0x0D), (0x20, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0x2000, 0x200B)],
        *[(0x2028, 0x2029), (0x3000, 0x3000)],
    ],
    PUNCT: [
        *[(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E), (0xA1, 0xBF), (0xD7, 0xD7)],
        *[(0xF7, 0xF7), (0x2010, 0x2027), (0x2030, 0x205E), (0x3001, 0x303F), (0xFF01, 0xFF0F)],
        *[(0xFF1A, 0xFF20), (0xFF3B, 0xFF40), (0xFF5B, 0xFF65)],
    ],
    PARTIAL: [(0xDC80, 0xDCFF)],  # surrogateescape: a byte that is not a whole character
}


def script_classes(texts: list[str], nchars: np.ndarray) -> np.ndarray:
    """Script class per piece, vectorized over all code points at once.

    Spaces are neutral (``" the"`` is Latin), a stray byte makes a piece
    ``partial``, two or more classes make it ``mixed``.
    """
    if not texts:
        return np.zeros(0, np.int8)
    cp = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), np.uint32)
    bits = np.full(len(cp), 1 << OTHER, np.uint16)
    for cls, ranges in _RANGES.items():
        for lo, hi in ranges:
            bits[(cp >= lo) & (cp <= hi)] = 1 << cls
    starts = np.concatenate([[0], np.cumsum(nchars)[:-1]])
    per = np.bitwise_or.reduceat(bits, starts)
    out = np.full(len(texts), MIXED, np.int8)
    no_space = per & ~np.uint16(1 << SPACE)
    out[per == 1 << SPACE] = SPACE
    for cls in (HAN, LATIN, DIGIT, PUNCT, OTHER):
        out[no_space == 1 << cls] = cls
    out[(per & (1 << PARTIAL)) != 0] = PARTIAL
    return out


@dataclass
class VocabColumns:
    """Every column of the table for one model, as arrays indexed like ``model.pieces``."""

    model: Model
    texts: list[str]  # pieces decoded with surrogateescape (stray bytes → U+DC80..)
    nbytes: np.ndarray
    nchars: np.ndarray
    logp: np.ndarray
    script: np.ndarray
    byte_order: np.ndarray  # permutation sorting the pieces by their bytes
    blob: str  # texts joined by NUL, for one-pass substring search
    blob_starts: np.ndarray

    @classmethod
    def from_model(cls, model: Model) -> VocabColumns:
        pieces = model.pieces
        texts = [p.decode("utf-8", "surrogateescape") for p in pieces]
        n = len(pieces)
        nbytes = np.fromiter(map(len, pieces), np.int64, n)
        nchars = np.fromiter(map(len, texts), np.int64, n)
        starts = np.concatenate([[0], np.cumsum(nchars + 1)[:-1]]) if n else np.zeros(0, np.int64)
        return cls(
            model,
            texts,
            nbytes,
            nchars,
            model.log_probs()[N_SPECIAL:],
            script_classes(texts, nchars),
            np.array(sorted(range(n), key=pieces.__getitem__), np.int64),
            "\x00".join(texts),
            starts,
        )

    def __len__(self) -> int:
        return len(self.texts)

    def sort_key(self, column: int) -> np.ndarray | None:
        return {
            NBYTES: self.nbytes,
            NCHARS: self.nchars,
            COUNT: self.model.counts,
            LOGP: self.logp,
            SCRIPT: self.script,
        }.get(column)

    def substring(self, text: str) -> np.ndarray:
        """Pieces containing ``text`` (one regex pass over the NUL-joined texts)."""
        mask = np.zeros(len(self), bool)
        if "\x00" in text:
            mask[:] = [text in t for t in self.texts]
            return mask
        pos = [m.start() for m in re.finditer(re.escape(text), self.blob)]
        if pos:
            mask[np.searchsorted(self.blob_starts, pos, side="right") - 1] = True
        return mask

    def regex(self, pattern: re.Pattern[str]) -> np.ndarray:
        return np.fromiter(map(bool, map(pattern.search, self.texts)), bool, len(self))


@dataclass
class VocabFilter:
    """What rows to show; an empty/None field does not filter."""

    substring: str = ""
    regex: str = ""
    min_bytes: int = 0
    max_bytes: int = 0  # 0: no upper bound
    scripts: frozenset[int] = field(default_factory=frozenset)  # empty: all
    unreachable_only: bool = False
    pinned_only: bool = False


class VocabTableModel(QAbstractTableModel):
    """Rows are ``rows`` (piece indices); edits are requested, never applied here."""

    countEdited = Signal(int, int)  # piece index, new count
    pinToggled = Signal(int, bool)  # piece index, pinned
    filtered = Signal(int)  # rows shown

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
        self._regex_cache: tuple[str, np.ndarray] | None = None

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
            key = cols.sort_key(column)
            perm = np.arange(len(cols)) if key is None else np.argsort(key, kind="stable")
        return perm[::-1] if order == Qt.SortOrder.DescendingOrder else perm

    def _compute_mask(self) -> np.ndarray:
        cols, spec = self.cols, self.spec
        if cols is None:
            return np.zeros(0, bool)
        mask = np.ones(len(cols), bool)
        if spec.substring:
            mask &= cols.substring(spec.substring)
        self.regex_error = ""
        if spec.regex:
            if self._regex_cache is None or self._regex_cache[0] != spec.regex:
                try:
                    pattern = re.compile(spec.regex)
                except re.error as exc:
                    self.regex_error = str(exc)
                    pattern = None
                hit = cols.regex(pattern) if pattern else np.ones(len(cols), bool)
                self._regex_cache = (spec.regex, hit)
            mask &= self._regex_cache[1]
        if spec.min_bytes:
            mask &= cols.nbytes >= spec.min_bytes
        if spec.max_bytes:
            mask &= cols.nbytes <= spec.max_bytes
        if spec.scripts:
            mask &= np.isin(cols.script, list(spec.scripts))
        if spec.unreachable_only:
            mask &= self.unreachable if self.unreachable is not None else False
        if spec.pinned_only:
            mask &= self.pinned
        return mask

    def _relayout(self) -> None:
        self.beginResetModel()
        self.rows = self._order[self._mask[self._order]] if len(self._order) else self._order
        self.endResetModel()
        self.filtered.emit(len(self.rows))

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


class FilterBar(QWidget):
    """The filter widgets of a :class:`VocabTableModel`; edits apply after a short pause."""

    def __init__(self, table: VocabTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.table = table
        self.substring = QLineEdit()
        self.substring.setPlaceholderText("contains…")
        self.substring.setToolTip("Pieces containing this text")
        self.regex = QLineEdit()
        self.regex.setPlaceholderText("regex…")
        self.regex.setToolTip("Pieces matching this Python regular expression (search)")
        self.min_bytes, self.max_bytes = QSpinBox(), QSpinBox()
        for box, tip in ((self.min_bytes, "Shortest"), (self.max_bytes, "Longest")):
            box.setRange(0, 1024)
            box.setSpecialValueText("any")
            box.setToolTip(f"{tip} piece length in bytes")
        self.script = QComboBox()
        self.script.addItem("any script", None)
        for code, name in enumerate(SCRIPTS):
            self.script.addItem(name, code)
        self.script.setToolTip("Pieces whose characters are all of this class")
        self.unreachable = QCheckBox("not reachable")
        self.unreachable.setToolTip("Pieces the tokenizer never outputs as themselves")
        self.pinned_only = QCheckBox("pinned")
        self.pinned_only.setToolTip("Only pinned pieces (protected from deletion)")
        self.shown = QLabel("")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self.apply)
        for edit in (self.substring, self.regex):
            edit.textChanged.connect(self._later)
        for box in (self.min_bytes, self.max_bytes):
            box.valueChanged.connect(self._later)
        self.script.currentIndexChanged.connect(self._later)
        for check in (self.unreachable, self.pinned_only):
            check.toggled.connect(self._later)
        table.filtered.connect(self._filtered)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.substring, 2)
        row.addWidget(self.regex, 2)
        for w in (QLabel("bytes"), self.min_bytes, QLabel("–"), self.max_bytes):
            row.addWidget(w)
        for w in (self.script, self.unreachable, self.pinned_only, self.shown):
            row.addWidget(w)

    def spec(self) -> VocabFilter:
        script = self.script.currentData()
        return VocabFilter(
            substring=self.substring.text(),
            regex=self.regex.text(),
            min_bytes=self.min_bytes.value(),
            max_bytes=self.max_bytes.value(),
            scripts=frozenset() if script is None else frozenset({script}),
            unreachable_only=self.unreachable.isChecked(),
            pinned_only=self.pinned_only.isChecked(),
        )

    def _later(self, *_: object) -> None:
        self._timer.start()

    def apply(self) -> None:
        self._timer.stop()
        self.table.set_filter(self.spec())

    def _filtered(self, shown: int) -> None:
        total = len(self.table.cols) if self.table.cols else 0
        error = self.table.regex_error
        self.shown.setText(f"regex: {error}" if error else f"{shown:,} of {total:,}")
