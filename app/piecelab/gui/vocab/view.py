"""The vocabulary inspector: a sortable, filterable table of every piece, charts,
a concordance of the selected piece, and hand-tuning with undo/redo.

Edits never touch the model in place: each builds a new model (off the GUI
thread when it re-splits counts) and is pushed as a :class:`ModelEdit`, which
hands it to the workspace; every view then follows ``modelEdited``
(the edits themselves are in :mod:`.editing`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QItemSelection,
    QItemSelectionModel,
    QSettings,
    Qt,
)
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTableView,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ...engine import N_SPECIAL, Model, VocabColumns, Vocabulary, unreachable
from .. import saving
from ..state import Workspace
from ..widgets import FilterBar, debounce
from ..worker import Job, Jobs, Latest, readable_error
from .charts import VocabCharts
from .concordance import ConcordancePanel
from .editing import VocabEdits
from .foreign_table import ForeignTableModel
from .heldout import HeldoutEvaluator
from .table_model import COUNT, PIECE, VocabTableModel

CONCORDANCE_PAUSE_MS = 150  # the concordance follows the selection once it rests
FILTER_FLAGS = {
    "unreachable_only": ("not reachable", "Pieces the tokenizer never outputs as themselves"),
    "pinned_only": ("pinned", "Only pinned pieces (protected from deletion)"),
}
SPLITTERS = "vocab/"  # QSettings group of the splitter states
# a frame that says "keyboard focus is here", in the palette's own colours (light or dark)
TABLE_STYLE = (
    "QTableView { border: 1px solid palette(mid); padding: 1px; }"
    "QTableView:focus { border: 2px solid palette(highlight); padding: 0px; }"
)
TIPS = {
    "delete": "Delete the selected pieces (later ids move down; asks once per model)",
    "retire": "Keep the ids of the selected pieces but never emit them (count 0)",
    "add": "Add a piece",
    "count": "Set the count of the selected piece",
    "pin": "Protect the selected pieces from deletion",
    "unpin": "Allow deleting the selected pieces",
}
ACTIONS = (  # key, text, slot name, shortcut
    ("delete", "Delete", "delete_selected", "Del"),
    ("retire", "Retire", "retire_selected", ""),
    ("add", "Add…", "add_dialog", ""),
    ("count", "Set count…", "count_dialog", ""),
    ("pin", "Pin", "_pin_sel", ""),
    ("unpin", "Unpin", "_unpin_sel", ""),
)


class VocabView(VocabEdits):
    """Table, filters, charts, concordance and undoable edits of the current model."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.table_model = VocabTableModel(self)
        self.foreign_model = ForeignTableModel(self)  # another library's vocabulary, read-only
        self.undo_stack = QUndoStack(self)
        self.evaluator = HeldoutEvaluator(workspace, self)
        self.jobs = Jobs(self)  # background work of this view
        self.id_choice: str | None = None
        self.editing = False
        self._columns_requests = Latest()
        self._build()
        self.table_model.countEdited.connect(self.set_count)
        self.table_model.pinToggled.connect(lambda i, on: self.pin([i], on))
        self.table_model.refused.connect(workspace.say)
        self.table_model.filtered.connect(self._filtered)
        self.evaluator.evaluated.connect(self._evaluated)
        self.evaluator.status.connect(self.heldout_label.setText)
        workspace.modelChanged.connect(self._model_changed)
        workspace.modelEdited.connect(self._refresh)
        workspace.modelLoading.connect(self._enable)
        workspace.modelFailed.connect(self._enable)
        workspace.dirtyChanged.connect(self._dirty_changed)
        if workspace.model is not None:
            self._refresh()

    # ------------------------------------------------------------ layout
    def _build(self) -> None:
        self.filters = FilterBar(FILTER_FLAGS)
        self.filters.changed.connect(self.table_model.set_filter)
        self.filters.changed.connect(self.foreign_model.set_filter)
        self.table_model.filtered.connect(self.filters.show_count)
        self.foreign_model.filtered.connect(self._foreign_filtered)
        self.table = self._table()
        self.foreign_table = self._foreign_table()
        self.tables = QStackedWidget()
        self.tables.addWidget(self.table)
        self.tables.addWidget(self.foreign_table)
        self.charts = VocabCharts()
        self.concordance = ConcordancePanel(self.workspace)
        self._conc_timer = debounce(self, CONCORDANCE_PAUSE_MS, self.show_concordance)
        self.side_split = QSplitter(Qt.Orientation.Vertical)
        self.side_split.addWidget(self.charts)
        self.side_split.addWidget(self.concordance)
        self.side_split.setSizes([380, 320])  # the concordance gets room for many lines
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(self.tables)
        self.split.addWidget(self.side_split)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)
        self.split.setSizes([720, 480])
        self._remember_splitters()
        layout = QVBoxLayout(self)
        layout.addWidget(self.filters)
        layout.addWidget(self._toolbar())
        layout.addWidget(self.split, 1)
        find = QAction("Find pieces", self)
        find.setShortcut(QKeySequence.StandardKey.Find)  # Ctrl+F while this view is shown
        find.triggered.connect(self.filters.focus_search)
        self.addAction(find)
        self._enable()

    def _remember_splitters(self) -> None:
        """Restore the splitter positions of the last session; save them as they move."""
        settings = QSettings()
        for name, splitter in (("split", self.split), ("side_split", self.side_split)):
            key = SPLITTERS + name
            state = settings.value(key)
            if isinstance(state, QByteArray) and not state.isEmpty():
                splitter.restoreState(state)
            splitter.splitterMoved.connect(
                lambda *_, k=key, s=splitter: QSettings().setValue(k, s.saveState())
            )

    def _toolbar(self) -> QToolBar:
        """Edit actions, undo/redo, save, and the held-out figure; all reachable by Tab."""
        bar = QToolBar()
        self.actions: dict[str, QAction] = {}
        for key, text, slot, keys in ACTIONS:
            action = bar.addAction(text)
            action.setToolTip(TIPS[key])
            action.triggered.connect(getattr(self, slot))
            if keys:
                action.setShortcut(QKeySequence(keys))
                action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.actions[key] = action
        bar.addSeparator()
        undo = self.undo_stack.createUndoAction(self, "Undo")
        redo = self.undo_stack.createRedoAction(self, "Redo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo.setShortcut(QKeySequence.StandardKey.Redo)
        for a in (undo, redo):
            a.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            bar.addAction(a)
            self.addAction(a)
        self.actions["undo"], self.actions["redo"] = undo, redo
        bar.addSeparator()
        self.actions["save"] = bar.addAction("Save", self.save)
        self.actions["save_as"] = bar.addAction("Save As…", self.save_as)
        self.addAction(self.actions["delete"])
        self.heldout_label = QLabel("")
        self.heldout_label.setToolTip("Bytes per token on held-out text, re-measured after edits")
        bar.addSeparator()
        bar.addWidget(self.heldout_label)
        for action in bar.actions():
            button = bar.widgetForAction(action)
            if isinstance(button, QToolButton):
                button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        return bar

    def _table(self) -> QTableView:
        edits = QAbstractItemView.EditTrigger
        table = _piece_table(self.table_model, edits.DoubleClicked | edits.EditKeyPressed)
        table.sortByColumn(COUNT, Qt.SortOrder.DescendingOrder)  # the common pieces first
        table.selectionModel().selectionChanged.connect(self._selection_changed)
        return table

    def _foreign_table(self) -> QTableView:
        table = _piece_table(self.foreign_model, QAbstractItemView.EditTrigger.NoEditTriggers)
        table.sortByColumn(0, Qt.SortOrder.AscendingOrder)  # by id: nothing to count
        table.selectionModel().selectionChanged.connect(lambda *_: self._conc_timer.start())
        return table

    def _foreign_filtered(self, shown: int, total: int, error: str) -> None:
        if self.workspace.model is not None:
            return
        self.filters.show_count(shown, total, error)
        cols = self.foreign_model.cols
        if cols is not None:
            self.charts.show_lengths(cols.nbytes[self.foreign_model.rows])

    # ------------------------------------------------------------ model in, columns out
    def _background(
        self, fn: Callable[[], object], done: Callable[[object], None], ticket: int | None = None
    ) -> Job:
        """Run ``fn`` on the pool; ``done`` gets its result on the GUI thread (with a
        ``ticket`` of the columns requests: only if no newer model came meanwhile)."""

        def failed(message: str) -> None:
            self._enable()
            QMessageBox.warning(self, "Vocabulary", readable_error(message))

        latest = self._columns_requests if ticket is not None else None
        return self.jobs.run(fn, done, failed, latest, ticket)

    def _model_changed(self) -> None:
        self.undo_stack.clear()
        self.id_choice = None  # another model: ask again before renumbering its ids
        self.table.clearSelection()  # its pieces are not the ones selected in the last
        self._enable()
        self._refresh(keep_selection=False)

    def _refresh(self, keep_selection: bool = True) -> None:
        """Recompute the columns (and reachability) of the workspace's model off-thread;
        after an edit the same pieces stay selected."""
        model = self.workspace.model
        vocab = self.workspace.vocabulary
        self.tables.setCurrentWidget(self.foreign_table if model is None else self.table)
        if vocab is not None and model is None:
            self._show_vocabulary(vocab)
            return
        if model is None:
            return
        keep = self._selected_pieces() if keep_selection else []
        got: dict[str, object] = {}  # the two results may arrive in either order

        def columns() -> tuple[VocabColumns, np.ndarray | None]:
            # an edited SentencePiece model's own ids, found with the columns off the GUI
            # thread (a dict over every piece) and set with them: old rows would index them
            ids = _ids_in(vocab, model) if vocab is not None else None
            return VocabColumns.from_model(model), ids

        def show(result: object) -> None:
            cols, ids = result  # type: ignore[misc]
            got["cols"] = cols
            self.charts.show_zipf(model.counts)
            self.table_model.ids = ids
            self.table_model.set_columns(cols, self.workspace.pinned)
            if "reach" in got:
                self.table_model.set_unreachable(np.asarray(got["reach"]))
            self._select_pieces(keep)
            self._enable()

        def reach(mask: object) -> None:
            got["reach"] = mask
            if "cols" in got:
                self.table_model.set_unreachable(np.asarray(mask))

        # one request, two answers: both belong to this model or neither is shown
        ticket = self._columns_requests.ticket()
        self._background(columns, show, ticket)
        self._background(lambda: unreachable(model), reach, ticket)

    def _show_vocabulary(self, vocab: Vocabulary) -> None:
        """Another library's vocabulary: its columns and reachability, off the GUI thread."""

        def work() -> tuple[VocabColumns, np.ndarray]:
            scores = vocab.scores if vocab.score_name != "rank" else np.zeros(vocab.vocab_size)
            return VocabColumns.from_pieces(vocab.pieces, scores), vocab.unreachable()

        def show(result: object) -> None:
            cols, reach = result  # type: ignore[misc]
            self.foreign_model.set_vocabulary(vocab, cols, reach)
            probs = np.exp(vocab.scores[~vocab.special]) if vocab.score_name == "log p" else []
            self.charts.show_zipf(np.asarray(probs, np.float64))  # ranks have no counts
            self._enable()

        self._background(work, show, self._columns_requests.ticket())

    def _filtered(self, shown: int, total: int, error: str) -> None:
        """The length histogram shows the rows the filter keeps."""
        if self.workspace.model is None:
            return
        cols = self.table_model.cols
        if cols is not None:
            self.charts.show_lengths(cols.nbytes[self.table_model.rows])

    # ------------------------------------------------------------ selection
    def selected_indices(self) -> list[int]:
        """Piece indices of the selected rows, from selection ranges (fast for 300k rows)."""
        spans = [
            np.arange(r.top(), r.bottom() + 1) for r in self.table.selectionModel().selection()
        ]
        if not spans or self.table_model.cols is None:
            return []
        rows = np.unique(np.concatenate(spans))
        rows = rows[rows < len(self.table_model.rows)]
        return self.table_model.rows[rows].tolist()

    def _select_pieces(self, pieces: list[bytes]) -> None:
        model = self.workspace.model
        if not pieces or model is None:
            return
        index = model.index
        wanted = np.array([index[p] - N_SPECIAL for p in pieces if p in index], np.int64)
        rows = self.table_model.rows_of(wanted)
        rows = rows[rows >= 0]
        if not len(rows):
            return
        rows = np.sort(rows)
        breaks = np.flatnonzero(np.diff(rows) != 1)  # one range per run of adjacent rows
        firsts, lasts = rows[np.r_[0, breaks + 1]], rows[np.r_[breaks, len(rows) - 1]]
        selection = QItemSelection()
        tm, last = self.table_model, self.table_model.columnCount() - 1
        for top, bottom in zip(firsts.tolist(), lasts.tolist()):
            selection.select(tm.index(top, 0), tm.index(bottom, last))
        flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
        self.table.selectionModel().select(selection, flags)
        self.table.scrollTo(self.table_model.index(int(rows[0]), 0))

    def select_piece(self, piece: bytes) -> None:
        self.table.clearSelection()
        self._select_pieces([piece])

    def _selection_changed(self) -> None:
        self._enable()
        self._conc_timer.start()

    def _enable(self, *_: object) -> None:
        """Edit actions only with a selection, and never while an edit is applied."""
        ws = self.workspace
        ready = ws.model is not None and not ws.loading and not self.editing
        n = len(self.selected_indices()) if self.table_model.cols else 0
        for key, on in (
            ("delete", n),
            ("retire", n),
            ("count", n == 1),
            ("pin", n),
            ("unpin", n),
            ("add", 1),
        ):
            self.actions[key].setEnabled(bool(ready and on))
        self.actions["save"].setEnabled(ws.model is not None and not ws.loading)
        self.actions["save_as"].setEnabled(ws.model is not None and not ws.loading)

    # ------------------------------------------------------------ saving
    def save(self) -> bool:
        return saving.save(self, self.workspace)

    def save_as(self) -> bool:
        return saving.save_as(self, self.workspace)

    def save_to(self, path: Path) -> bool:
        return saving.save_to(self, self.workspace, path)

    def _dirty_changed(self, dirty: bool) -> None:
        if not dirty:
            self.undo_stack.setClean()

    # ------------------------------------------------------------ held-out, concordance
    def _evaluated(self, value: float, delta: float) -> None:
        d = "" if math.isnan(delta) else f" (Δ {delta:+.4f})"
        self.heldout_label.setText(f"held-out: {value:.4f} bytes/token{d} · {self.evaluator.label}")

    def show_concordance(self) -> None:
        """The selected piece in context in the corpus, and where it is emitted."""
        vocab = self.workspace.vocabulary
        if vocab is not None:
            ids = self._selected_ids(vocab)
            if len(ids) == 1:
                self.concordance.show_foreign(vocab, ids[0])
            return
        sel = self._selected_pieces()
        if len(sel) == 1:
            self.concordance.show_piece(sel[0])

    def _selected_ids(self, vocab: Vocabulary) -> list[int]:
        """Ids of another library's vocabulary selected in whichever table shows it."""
        if self.workspace.model is None:
            rows = {i.row() for i in self.foreign_table.selectionModel().selectedRows()}
            return [int(self.foreign_model.rows[r]) for r in sorted(rows)]
        index = {p: i for i, p in enumerate(vocab.pieces)}  # edited SentencePiece
        return [index[p] for p in self._selected_pieces() if p in index]

    def can_close(self) -> bool:
        """Unsaved edits are the main window's question; nothing here blocks closing."""
        return True

    @property
    def idle(self) -> bool:
        """Whether no background job of this view (or its evaluator) is running."""
        return self.jobs.busy == 0 and self.evaluator.busy == 0 and self.concordance.busy == 0


def _ids_in(vocab: Vocabulary, model: Model) -> np.ndarray:
    """Each model piece's id in ``vocab`` (an editable SentencePiece model: its own ids,
    not the engine's); −1 for engine-only pieces."""
    where: dict[bytes, int] = {}
    for special in (False, True):  # a retired piece is special (UNUSED) but still listed
        for i in np.flatnonzero(vocab.special == special).tolist():
            where.setdefault(vocab.pieces[i], i)
    return np.fromiter((where.get(p, -1) for p in model.pieces), np.int64, len(model.pieces))


def _piece_table(model: QAbstractTableModel, edits: QAbstractItemView.EditTrigger) -> QTableView:
    """A sortable table of pieces, one row selected as a whole, in the view's style."""
    table = QTableView()
    table.setModel(model)
    table.setSortingEnabled(True)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(edits)
    table.setStyleSheet(TABLE_STYLE)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    table.verticalHeader().setDefaultSectionSize(22)
    table.horizontalHeader().setStretchLastSection(True)
    table.setColumnWidth(PIECE, 180)
    return table
