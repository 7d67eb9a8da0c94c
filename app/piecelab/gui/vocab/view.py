"""The vocabulary inspector: a sortable, filterable table of every piece, charts,
a concordance of the selected piece, and hand-tuning with undo/redo.

Edits never touch the model in place: each builds a new model (off the GUI
thread when it re-splits counts) and is pushed as a :class:`ModelEdit`, which
hands it to the workspace; every view then follows ``modelEdited``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QSplitter,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ...engine import (
    N_SPECIAL,
    EditError,
    Model,
    VocabColumns,
    add_piece,
    delete_pieces,
    estimate_count,
    parse_piece,
    piece_label,
    set_count,
    unreachable,
)
from .. import saving
from ..state import Workspace
from ..widgets import FilterBar
from ..worker import Jobs, Latest, readable_error
from .charts import VocabCharts
from .commands import ModelEdit, PinEdit
from .concordance import ConcordancePanel
from .heldout import HeldoutEvaluator
from .table_model import VocabTableModel

CONCORDANCE_PAUSE_MS = 150  # the concordance follows the selection once it rests
FILTER_FLAGS = {
    "unreachable_only": ("not reachable", "Pieces the tokenizer never outputs as themselves"),
    "pinned_only": ("pinned", "Only pinned pieces (protected from deletion)"),
}


class VocabView(QWidget):
    """Table, filters, charts, concordance and undoable edits of the current model."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.table_model = VocabTableModel(self)
        self.undo_stack = QUndoStack(self)
        self.evaluator = HeldoutEvaluator(workspace, self)
        self.jobs = Jobs(self)  # background work of this view
        self._columns_requests = Latest()
        self._build()
        self.table_model.countEdited.connect(self.set_count)
        self.table_model.pinToggled.connect(lambda i, on: self.pin([i], on))
        self.evaluator.evaluated.connect(self._evaluated)
        self.evaluator.status.connect(self.heldout_label.setText)
        workspace.modelChanged.connect(self._model_changed)
        workspace.modelEdited.connect(self._refresh)
        workspace.dirtyChanged.connect(self._dirty_changed)
        if workspace.model is not None:
            self._refresh()

    # ------------------------------------------------------------ layout
    def _build(self) -> None:
        self.filters = FilterBar(FILTER_FLAGS)
        self.filters.changed.connect(self.table_model.set_filter)
        self.table_model.filtered.connect(self.filters.show_count)
        self.table = self._table()
        self.charts = VocabCharts()
        self.concordance = ConcordancePanel(self.workspace)
        self._conc_timer = QTimer(self)
        self._conc_timer.setSingleShot(True)
        self._conc_timer.setInterval(CONCORDANCE_PAUSE_MS)
        self._conc_timer.timeout.connect(self.show_concordance)
        side = QSplitter(Qt.Orientation.Vertical)
        side.addWidget(self.charts)
        side.addWidget(self.concordance)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(side)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setSizes([720, 480])
        layout = QVBoxLayout(self)
        layout.addWidget(self.filters)
        layout.addWidget(self._toolbar())
        layout.addWidget(split, 1)
        self._enable()

    def _toolbar(self) -> QToolBar:
        """Edit actions, undo/redo, save, and the held-out figure."""
        bar = QToolBar()
        self.actions: dict[str, object] = {}
        for key, text, tip, slot, keys in (
            ("delete", "Delete", "Delete the selected pieces", self.delete_selected, "Del"),
            ("add", "Add…", "Add a piece", self.add_dialog, ""),
            ("count", "Set count…", "Set the count of the selected piece", self.count_dialog, ""),
            ("pin", "Pin", "Protect the selected pieces from deletion", self._pin_sel, ""),
            ("unpin", "Unpin", "Allow deleting the selected pieces", self._unpin_sel, ""),
        ):
            action = bar.addAction(text)
            action.setToolTip(tip)
            action.triggered.connect(slot)
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
        return bar

    def _table(self) -> QTableView:
        table = QTableView()
        table.setModel(self.table_model)
        table.setSortingEnabled(True)
        table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        table.verticalHeader().setDefaultSectionSize(22)
        table.horizontalHeader().setStretchLastSection(True)
        table.setColumnWidth(1, 180)
        table.selectionModel().selectionChanged.connect(self._selection_changed)
        return table

    # ------------------------------------------------------------ model in, columns out
    def _background(
        self, fn: Callable[[], object], done: Callable[[object], None], ticket: int | None = None
    ) -> None:
        """Run ``fn`` on the pool; ``done`` gets its result on the GUI thread (with a
        ``ticket`` of the columns requests: only if no newer model came meanwhile)."""

        def failed(message: str) -> None:
            self._enable()
            QMessageBox.warning(self, "Vocabulary", readable_error(message))

        latest = self._columns_requests if ticket is not None else None
        self.jobs.run(fn, done, failed, latest, ticket)

    def _model_changed(self) -> None:
        self.undo_stack.clear()
        self._refresh()

    def _refresh(self) -> None:
        """Recompute the columns (and reachability) of the workspace's model off-thread."""
        model = self.workspace.model
        if model is None:
            return
        keep = self._selected_pieces()
        got: dict[str, object] = {}  # the two results may arrive in either order

        def show(cols: object) -> None:
            assert isinstance(cols, VocabColumns)
            got["cols"] = cols
            self.table_model.set_columns(cols, self.workspace.pinned)
            if "reach" in got:
                self.table_model.set_unreachable(np.asarray(got["reach"]))
            self.charts.show_vocab(cols.nbytes, model.counts)
            self._select_pieces(keep)
            self._enable()

        def reach(mask: object) -> None:
            got["reach"] = mask
            if "cols" in got:
                self.table_model.set_unreachable(np.asarray(mask))

        # one request, two answers: both belong to this model or neither is shown
        ticket = self._columns_requests.ticket()
        self._background(lambda: VocabColumns.from_model(model), show, ticket)
        self._background(lambda: unreachable(model), reach, ticket)

    # ------------------------------------------------------------ selection
    def selected_indices(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.table_model.piece_index(r) for r in rows]

    def _selected_pieces(self) -> list[bytes]:
        cols = self.table_model.cols
        return [cols.model.pieces[i] for i in self.selected_indices()] if cols else []

    def _select_pieces(self, pieces: list[bytes]) -> None:
        model = self.workspace.model
        if not pieces or model is None:
            return
        sel = self.table.selectionModel()
        for p in pieces:
            i = model.index.get(p)
            row = -1 if i is None else self.table_model.row_of(i - N_SPECIAL)
            if row >= 0:
                sel.select(
                    self.table_model.index(row, 0),
                    sel.SelectionFlag.Select | sel.SelectionFlag.Rows,
                )
                self.table.scrollTo(self.table_model.index(row, 0))

    def select_piece(self, piece: bytes) -> None:
        self.table.clearSelection()
        self._select_pieces([piece])

    def _selection_changed(self) -> None:
        self._enable()
        self._conc_timer.start()

    def _enable(self) -> None:
        ready = self.workspace.model is not None and not self.workspace.loading
        n = len(self.selected_indices()) if self.table_model.cols else 0
        for key, on in (("delete", n), ("count", n == 1), ("pin", n), ("unpin", n)):
            self.actions[key].setEnabled(bool(ready and on))
        self.actions["add"].setEnabled(ready)
        self.actions["save"].setEnabled(ready)
        self.actions["save_as"].setEnabled(ready)

    # ------------------------------------------------------------ edits
    def _editable(self) -> Model | None:
        ws = self.workspace
        if ws.model is None or ws.loading:
            return None  # an edit is still being applied; edit the result, not its parent
        return ws.model

    def _push(self, before: Model, make: Callable[[], Model], text: str) -> None:
        def done(after: object) -> None:
            if self.workspace.model is before:
                assert isinstance(after, Model)
                self.undo_stack.push(ModelEdit(self.workspace, before, after, text))

        self._background(make, done)

    def _refuse(self, message: str) -> None:
        QMessageBox.warning(self, "Cannot edit the vocabulary", message)

    def delete_pieces(self, pieces: list[bytes | int]) -> None:
        """Delete pieces (bytes or ids); their counts go to the pieces they split into."""
        model = self._editable()
        if model is None or not pieces:
            return
        pinned = set(self.workspace.pinned)
        for p in pieces:  # refuse on the GUI thread before any work starts
            piece = p if isinstance(p, bytes) else model.pieces[int(p) - N_SPECIAL]
            if len(piece) == 1 or piece in pinned:
                why = "is a single byte" if len(piece) == 1 else "is pinned; unpin it first"
                self._refuse(f"{piece_label(piece)} {why}")
                return
        n = len(pieces)
        self._push(
            model,
            lambda: delete_pieces(model, pieces, pinned),
            f"Delete {n} piece{'s' if n != 1 else ''}",
        )

    def delete_selected(self) -> None:
        cols = self.table_model.cols
        if cols is not None:
            self.delete_pieces([cols.model.pieces[i] for i in self.selected_indices()])

    def add_piece(self, piece: bytes, count: int | None = None) -> None:
        """Add ``piece``; ``count`` None estimates it from the corpus (off-thread)."""
        model = self._editable()
        if model is None:
            return
        if piece in model.index or not piece:
            self._refuse(f"{piece_label(piece)} is already in the vocabulary" if piece else "empty")
            return
        ws = self.workspace

        def make() -> Model:
            n = count
            if n is None:
                with ws.open_corpus() as corpus:
                    n = estimate_count(piece, corpus.documents("all"))
            return add_piece(model, piece, max(1, n))

        self._push(model, make, f"Add {piece_label(piece)}")

    def add_dialog(self) -> None:
        text, ok = QInputDialog.getText(
            self,
            "Add a piece",
            "Piece (text; \\n \\t \\xNN or ⟨E4 BD⟩ for bytes):",
        )
        if not ok or not text:
            return
        count, ok = QInputDialog.getInt(
            self, "Add a piece", "Count (0: estimate from the corpus):", 0, 0, 2**62
        )
        if ok:
            self.add_piece(parse_piece(text), count or None)

    def set_count(self, index: int, count: int) -> None:
        model = self._editable()
        if model is None:
            return
        try:
            after = set_count(model, index + N_SPECIAL, count)
        except EditError as exc:
            self._refuse(str(exc))
            return
        label = piece_label(model.pieces[index])
        self.undo_stack.push(ModelEdit(self.workspace, model, after, f"Set count of {label}"))

    def count_dialog(self) -> None:
        sel = self.selected_indices()
        model = self._editable()
        if len(sel) != 1 or model is None:
            return
        i = sel[0]
        count, ok = QInputDialog.getInt(
            self,
            "Set count",
            f"Count of {piece_label(model.pieces[i])}:",
            int(model.counts[i]),
            0,
            2**62,
        )
        if ok:
            self.set_count(i, count)

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
        sel = self._selected_pieces()
        if len(sel) == 1:
            self.concordance.show_piece(sel[0])

    def can_close(self) -> bool:
        """Unsaved edits are the main window's question; nothing here blocks closing."""
        return True

    @property
    def idle(self) -> bool:
        """Whether no background job of this view (or its evaluator) is running."""
        return self.jobs.busy == 0 and self.evaluator.busy == 0 and self.concordance.busy == 0
