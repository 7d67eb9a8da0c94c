"""Vocabulary diff: the current model (A) against any vocabulary file (B), whatever
library wrote either; pieces are compared by the bytes they stand for
(:func:`diff_vocabularies`).  Counts, Jaccard, three filterable lists, and for a
clicked piece its concordance in the corpus with those lines cut by A and by B."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ...engine import (
    MODEL_FILE_FILTER,
    VocabDiff,
    Vocabulary,
    as_vocabulary,
    concordance,
    diff_vocabularies,
    load,
    piece_label,
)
from ..state import Workspace
from ..worker import Jobs, Latest, readable_error

SHOWN_ROWS = 2000  # of each list, after the filter: a table of 200k rows is no reading
FILTER_MS = 120  # the filter applies once typing pauses
LISTS = (  # (which, heading, columns)
    ("only_a", "Only in A", ("piece", "rank_a")),
    ("only_b", "Only in B", ("piece", "rank_b")),
    ("common", "In both", ("piece", "rank_a", "rank_b", "rank_change")),
)
HEADERS = {"piece": "Piece", "rank_a": "Rank A", "rank_b": "Rank B", "rank_change": "Δ rank"}
CONCORDANCE_DOCS = 2000  # documents searched for a clicked piece
CONCORDANCE_LINES = 12
CUT = " │ "


class DiffPanel(QWidget):
    """Model A is the workspace's; B is opened here.  Recomputed when A changes."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.b: Vocabulary | None = None
        self.b_path: Path | None = None
        self.diff: VocabDiff | None = None
        self.entries: dict[str, list[dict]] = {}
        self.rows: dict[str, list[dict]] = {}  # what each list shows, row by row
        self.context = QTextBrowser()  # the clicked piece in the corpus, cut by A and B
        self.context.setPlaceholderText(
            "Click a piece to see it in the corpus, with those lines segmented by A and by B."
        )
        self._stale = False  # model A changed while the panel was hidden
        self.jobs = Jobs(self)
        self._requests = Latest()
        self.open_button = QPushButton("Open B…")
        self.open_button.setToolTip("Open any vocabulary file to compare with the current model")
        self.summary = QLabel("Open a vocabulary B to compare with the current model (A).")
        self.summary.setWordWrap(True)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Filter pieces (text they contain)")
        self.filter.setClearButtonEnabled(True)
        self.headings: dict[str, QLabel] = {}
        self.tables: dict[str, QTableWidget] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(FILTER_MS)
        self._timer.timeout.connect(self.apply_filter)
        self._lay_out()
        self.open_button.clicked.connect(self.open_dialog)
        self.filter.textChanged.connect(lambda _: self._timer.start())
        workspace.modelChanged.connect(self.recompute)
        workspace.modelEdited.connect(self.recompute)

    def _lay_out(self) -> None:
        row = QHBoxLayout()
        row.addWidget(self.open_button)
        row.addWidget(QLabel("Filter"))
        row.addWidget(self.filter, 1)
        split = QSplitter()
        for which, heading, columns in LISTS:
            box = QWidget()
            inner = QVBoxLayout(box)
            inner.setContentsMargins(0, 0, 0, 0)
            self.headings[which] = QLabel(f"<b>{heading}</b>")
            table = QTableWidget(0, len(columns))
            table.setHorizontalHeaderLabels([HEADERS[c] for c in columns])
            table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
            table.verticalHeader().setVisible(False)
            header = table.horizontalHeader()
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
            self.tables[which] = table
            table.cellClicked.connect(lambda r, _c, w=which: self.show_context(w, r))
            inner.addWidget(self.headings[which])
            inner.addWidget(table, 1)
            split.addWidget(box)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        outer = QSplitter(Qt.Orientation.Vertical)
        outer.addWidget(split)
        outer.addWidget(self.context)
        outer.setSizes([500, 250])
        layout.addWidget(outer, 1)

    # ------------------------------------------------------------- computing
    def open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open vocabulary B", "", MODEL_FILE_FILTER)
        if path:
            self.open_b(path)

    def open_b(self, path: str | Path) -> None:
        """Open ``path`` as B and diff it against the current model (worker thread)."""
        path = Path(path)
        self._run(path, None)

    def recompute(self) -> None:
        """Model A changed: diff again if a B is open (once the panel shows)."""
        self._stale = self.b is not None
        if self._stale and self.isVisible():
            self._stale = False
            self._run(self.b_path, self.b)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.recompute()

    def _run(self, path: Path | None, known: Vocabulary | None) -> None:
        ws = self.workspace
        viewer = ws.viewer
        if viewer is None:
            self.summary.setText("No model: open one first; it is A of the diff.")
            return
        label = ws.model_label or "current model"

        def work() -> tuple[Vocabulary, VocabDiff, dict[str, list[dict]]]:
            b = known if known is not None else load(path)  # type: ignore[arg-type]
            diff = diff_vocabularies(as_vocabulary(viewer), b)
            return b, diff, {w: diff.entries(w) for w, _, _ in LISTS}

        def done(result: tuple[Vocabulary, VocabDiff, dict[str, list[dict]]]) -> None:
            self.b, self.diff, self.entries = result
            self.b_path = path
            self._summarize(label)
            self.apply_filter()

        self.summary.setText(f"Comparing with {path.name if path else 'B'} …")
        self.jobs.run(work, done, self._failed, self._requests)

    def _failed(self, message: str) -> None:
        self.summary.setText("Could not compare the vocabularies.")
        QMessageBox.warning(self, "Could not compare", readable_error(message))

    def _summarize(self, label: str) -> None:
        d = self.diff
        assert d is not None
        name_b = self.b_path.name if self.b_path is not None else d.b.source
        self.summary.setText(
            f"A: {label} ({d.a.kind}, {d.a.pieces:,} pieces) · "
            f"B: {name_b} ({d.b.kind}, {d.b.pieces:,} pieces) · "
            f"common {d.common:,} · only in A {d.only_a:,} · only in B {d.only_b:,} · "
            f"Jaccard {d.jaccard:.4f}"
        )

    # ------------------------------------------------------------- lists
    def apply_filter(self) -> None:
        """Show the pieces holding the filter's text (the first :data:`SHOWN_ROWS`)."""
        self._timer.stop()
        needle = self.filter.text().casefold()
        for which, heading, columns in LISTS:
            rows = self.entries.get(which, [])
            if needle:
                rows = [r for r in rows if needle in r["piece"].casefold()]
            self.rows[which] = rows[:SHOWN_ROWS]
            self._fill(self.tables[which], self.rows[which], columns)
            total = len(self.entries.get(which, []))
            shown = f"{len(rows):,} of {total:,}" if needle else f"{total:,}"
            self.headings[which].setText(f"<b>{heading}</b> ({shown})")

    @staticmethod
    def _fill(table: QTableWidget, rows: list[dict], columns: tuple[str, ...]) -> None:
        table.setRowCount(0)
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, key in enumerate(columns):
                value = row[key]
                if key == "piece":  # visible whitespace, hex for broken UTF-8
                    text = piece_label(bytes.fromhex(row["hex"]))
                elif key == "rank_change":
                    text = f"{value:+,}"
                else:
                    text = f"{value:,}"
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, value)
                table.setItem(r, c, item)

    # ------------------------------------------------------------- concordance
    def show_context(self, which: str, row: int) -> None:
        """The clicked piece in context in the corpus, each line cut by A and by B."""
        piece = bytes.fromhex(self.rows[which][row]["hex"])
        viewer, b = self.workspace.viewer, self.b
        if viewer is None or b is None:
            return
        try:
            text = piece.decode("utf-8")
        except UnicodeDecodeError:
            self.context.setPlainText(
                f"{piece_label(piece)} is not whole characters: no text holds it alone."
            )
            return
        if not self.workspace.corpus_paths:
            self.context.setPlainText(
                "No corpus: add one in the Corpus view to see pieces in context."
            )
            return
        ws = self.workspace
        self.context.setPlainText(f"Searching the corpus for {piece_label(piece)} …")

        def work() -> str:
            docs = ws.read_documents(CONCORDANCE_DOCS)
            hits = concordance([text], docs, context=40, limit=CONCORDANCE_LINES)
            return context_html(piece, hits, as_vocabulary(viewer), b, len(docs))

        self.jobs.run(work, self.context.setHtml, self._failed, self._requests)

    def shown(self, which: str) -> list[str]:
        """The pieces a list shows, as text (for tests)."""
        table = self.tables[which]
        return [table.item(r, 0).data(Qt.ItemDataRole.UserRole) for r in range(table.rowCount())]


def context_html(piece: bytes, hits: list, a: Vocabulary, b: Vocabulary, searched: int) -> str:
    """Each line holding ``piece``, with its tokens under A and under B."""
    if not hits:
        return html.escape(
            f"{piece_label(piece)} does not occur in the first {searched:,} documents."
        )
    out = [f"<p><b>{html.escape(piece_label(piece))}</b> in the first {searched:,} documents:</p>"]
    for hit in hits:
        line = f"{hit.left}{hit.match}{hit.right}".replace("\n", " ")
        shown = (
            html.escape(hit.left) + f"<b>{html.escape(hit.match)}</b>" + html.escape(hit.right)
        ).replace("\n", " ")
        cut_a = CUT.join(piece_label(t) for t in a.tokenize(line))
        cut_b = CUT.join(piece_label(t) for t in b.tokenize(line))
        out.append(
            f"<p>{shown}<br><small>A: {html.escape(cut_a)}<br>B: {html.escape(cut_b)}</small></p>"
        )
    return "".join(out)
