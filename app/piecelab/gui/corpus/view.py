"""The corpus view: sources (dialogs, drag and drop), reading options, statistics.

Sources and options live in the workspace (one state object); this view edits
them and shows what a scan found.  A scan reads every file, so it runs as a
background job with a throttled progress bar and a Cancel button, and only
while the view is on screen (a corpus change marks the figures stale).

The bundled sample corpus is labelled as such, and the first file of one's own
replaces it.  The preview follows the selected sources; a click on a problem
shows the lines around it.
"""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ...engine import (
    Corpus,
    CorpusError,
    Problem,
    Progress,
    ScanResult,
    line_context,
    preview_sources,
    scan_corpus,
)
from ...paths import sample_corpus_path
from ..state import Workspace
from ..widgets import debounce, heldout_spin
from ..worker import Job, Latest, readable_error, run_in_thread
from .preview import PreviewPane

CORPUS_FILTER = "Corpora (*.txt *.jsonl *.json *.ndjson *.gz *.bz2 *.xz *.zst);;All files (*)"
ERRORS = (("replace", "replace bad bytes with �"), ("skip", "skip the line"))
STAT_COLUMNS = ("source", "documents", "bytes", "Han", "Latin", "digits", "other", "bad lines")
SAMPLE_LABEL = "bundled sample corpus"
PATH_ROLE = Qt.ItemDataRole.UserRole  # a source item's path
CONTEXT_LINES = 3  # shown before and after a problem's line


def _percent(x: float) -> str:
    return f"{100 * x:.1f}%"


def _mb(n: float) -> str:
    return f"{n / 1e6:,.2f} MB" if n >= 1e5 else f"{int(n):,} B"


def sample_path() -> Path | None:
    """The bundled sample corpus, if this installation has one."""
    try:
        sample = sample_corpus_path()
    except FileNotFoundError:
        return None
    return sample if sample.is_file() else None


def _names(paths: list[Path], most: int = 3) -> str:
    names = ", ".join(p.name or str(p) for p in paths[:most])
    return names + (f" and {len(paths) - most} more" if len(paths) > most else "")


class CorpusView(QWidget):
    """Sources, options, per-source statistics, a preview and the encoding problems."""

    scanned = Signal(object)  # ScanResult (also partial ones, when cancelled)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.job: Job | None = None
        self._scans = Latest()  # a new scan makes the answer of the previous one stale
        self._previews = Latest()  # likewise for previews (of sources or of a problem)
        self.result: ScanResult | None = None
        self.stale = True
        self.setAcceptDrops(True)
        self._build()
        self._scan_timer = debounce(self, 300, self.scan)
        workspace.corpusChanged.connect(self._corpus_changed)
        if not workspace.corpus_paths:
            self._add_sample()
        self._corpus_changed()

    # ------------------------------------------------------------ layout
    def _build(self) -> None:
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self._sources_column())
        split.addWidget(self._results_tabs())
        split.setStretchFactor(1, 2)
        QVBoxLayout(self).addWidget(split)

    def _sources_column(self) -> QWidget:
        """Sources and their buttons, the reading options, Scan/Cancel and the summary."""
        self.sources = QListWidget()
        self.sources.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.sources.setTextElideMode(Qt.TextElideMode.ElideLeft)
        self.sources.setToolTip(
            "Files and folders read as the corpus; drop more here. Select sources to preview them"
        )
        self.sources.itemSelectionChanged.connect(self._preview_selection)
        buttons = QHBoxLayout()
        self.add_files_button = self._button("Add files…", "Add corpus files", self.add_files)
        self.add_folder_button = self._button(
            "Add folder…", "Add every corpus file under a folder", self.add_folder
        )
        self.remove_button = self._button("Remove", "Remove the selected sources", self.remove)
        for b in (self.add_files_button, self.add_folder_button, self.remove_button):
            buttons.addWidget(b)
        self.scan_button = self._button(
            "Scan", "Read the corpus and count what it holds", self.scan
        )
        self.cancel_button = self._button("Cancel", "Stop the scan", self.cancel)
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setFormat("%p%")
        self.summary = QLabel("No corpus")
        self.summary.setWordWrap(True)
        self.summary.setMinimumHeight(3 * self.summary.fontMetrics().lineSpacing())  # wraps
        run = QHBoxLayout()
        run.addWidget(self.scan_button)
        run.addWidget(self.cancel_button)
        run.addWidget(self.progress, 1)
        left = QWidget()
        column = QVBoxLayout(left)
        column.addWidget(QLabel("<b>Sources</b>"))
        column.addWidget(self.sources, 1)
        column.addLayout(buttons)
        column.addWidget(self._options_box())
        column.addLayout(run)
        column.addWidget(self.summary)
        return left

    def _options_box(self) -> QGroupBox:
        """How files are read: JSON field, .txt documents, invalid UTF-8, held-out share."""
        self.field = QLineEdit(self.workspace.corpus_options.field)
        self.field.setToolTip("The JSON field holding each document's text (JSON Lines files)")
        self.field.editingFinished.connect(self._options_edited)
        self.paragraphs = QComboBox()
        self.paragraphs.addItems(["one document per line", "one per paragraph (blank line)"])
        self.paragraphs.setToolTip("How .txt files are cut into documents")
        self.paragraphs.currentIndexChanged.connect(self._options_edited)
        self.errors = QComboBox()
        for key, text in ERRORS:
            self.errors.addItem(text, key)
        self.errors.setToolTip("What to do with bytes that are not valid UTF-8")
        self.errors.currentIndexChanged.connect(self._options_edited)
        self.heldout = heldout_spin(
            "Share of documents kept out of training to measure bytes per token on unseen "
            "text (chosen by a hash of each document, so the split is stable)"
        )
        self.heldout.valueChanged.connect(self._options_edited)
        options = QGroupBox("Reading")
        form = QFormLayout(options)
        form.addRow("JSON field", self.field)
        form.addRow(".txt files", self.paragraphs)
        form.addRow("Invalid UTF-8", self.errors)
        form.addRow("Held out", self.heldout)
        return options

    def _results_tabs(self) -> QTabWidget:
        """Statistics per source, a preview, and the problems found."""
        self.stats = QTableWidget(0, len(STAT_COLUMNS))
        self.stats.setHorizontalHeaderLabels(list(STAT_COLUMNS))
        self.stats.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.stats.horizontalHeader().setStretchLastSection(True)
        self.preview = PreviewPane()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.stats, "Statistics")
        self.tabs.addTab(self.preview, "Preview")
        self.tabs.addTab(self._problems_tab(), "Problems")
        return self.tabs

    def _problems_tab(self) -> QWidget:
        """The problems found, one a row (a click shows the line), or that there are none."""
        self.problems = QTableWidget(0, 4)
        self.problems.setHorizontalHeaderLabels(["file", "line", "kind", "problem"])
        self.problems.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.problems.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.problems.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.problems.horizontalHeader().setStretchLastSection(True)
        self.problems.setToolTip("Click a problem (or press Enter on it) to see its line")
        self.problems.cellClicked.connect(lambda row, _c: self.show_problem(row))
        self.problems.cellActivated.connect(lambda row, _c: self.show_problem(row))
        self.problems_note = QLabel("Scan the corpus to look for problems")
        self.problems_note.setWordWrap(True)
        tab = QWidget()
        column = QVBoxLayout(tab)
        column.setContentsMargins(0, 4, 0, 0)
        column.addWidget(self.problems_note)
        column.addWidget(self.problems, 1)
        return tab

    def _button(self, text: str, tip: str, slot) -> QPushButton:
        b = QPushButton(text)
        b.setToolTip(tip)
        b.clicked.connect(slot)
        return b

    # ------------------------------------------------------------ sources
    def _add_sample(self) -> None:
        sample = sample_path()
        if sample is not None:
            self.workspace.set_corpus([sample])

    def only_sample(self) -> bool:
        """Whether the corpus is the bundled sample alone (the first start)."""
        sample = sample_path()
        return sample is not None and self.workspace.corpus_paths == [sample]

    def add_paths(self, paths: list[str | Path]) -> None:
        """Add sources; the first of one's own replace the bundled sample (and say so)."""
        new = [Path(p) for p in paths]
        ws = self.workspace
        if not new or new == ws.corpus_paths:
            return
        if self.only_sample() and sample_path() not in new:
            ws.set_corpus(new)
            ws.say(f"The {SAMPLE_LABEL} was replaced by {_names(new)}")
            return
        fresh = [p for p in new if p not in ws.corpus_paths]
        if fresh:
            ws.add_corpus(fresh)
            ws.say(f"Added {_names(fresh)} to the corpus")

    def add_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add corpus files", "", CORPUS_FILTER)
        self.add_paths(paths)

    def add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a corpus folder")
        self.add_paths([folder] if folder else [])

    def remove(self) -> None:
        gone = {item.data(PATH_ROLE) for item in self.sources.selectedItems()}
        keep = [p for p in self.workspace.corpus_paths if str(p) not in gone]
        if len(keep) != len(self.workspace.corpus_paths):
            self.workspace.set_corpus(keep)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        self.add_paths(paths)
        event.acceptProposedAction()

    # ------------------------------------------------------------ options
    def _options_edited(self) -> None:
        ws = self.workspace
        opts = dataclasses.replace(
            ws.corpus_options,
            field=self.field.text().strip() or "text",
            paragraphs=self.paragraphs.currentIndex() == 1,
            errors=self.errors.currentData(),
            heldout=round(self.heldout.value() / 100, 6),
        )
        if opts != ws.corpus_options:
            ws.set_corpus(ws.corpus_paths, opts)

    def _corpus_changed(self) -> None:
        ws = self.workspace
        opts = ws.corpus_options
        widgets = (self.field, self.paragraphs, self.errors, self.heldout)
        for w in widgets:
            w.blockSignals(True)
        self.field.setText(opts.field)
        self.paragraphs.setCurrentIndex(1 if opts.paragraphs else 0)
        self.errors.setCurrentIndex(max(0, self.errors.findData(opts.errors)))
        self.heldout.setValue(opts.heldout * 100)
        for w in widgets:
            w.blockSignals(False)
        self._list_sources(ws.corpus_paths)
        self.stale = True
        if self.isVisible():
            self._scan_timer.start()

    def _list_sources(self, paths: list[Path]) -> None:
        """One item per source; the bundled sample says what it is."""
        self.sources.blockSignals(True)
        self.sources.clear()
        sample = sample_path()
        for path in paths:
            item = QListWidgetItem(str(path))
            item.setData(PATH_ROLE, str(path))
            item.setToolTip(str(path))
            if path == sample:
                item.setText(f"{SAMPLE_LABEL} ({path.name})")
                item.setToolTip(
                    f"{path}\nThe {SAMPLE_LABEL}, to try piecelab: adding a file of your own "
                    "replaces it"
                )
                font = item.font()
                font.setItalic(True)
                item.setFont(font)
            self.sources.addItem(item)
        self.sources.blockSignals(False)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.stale and self.job is None:
            self._scan_timer.start()

    # ------------------------------------------------------------ scanning
    def scan(self) -> None:
        """Start a scan of the current corpus (cancelling one in progress)."""
        self._scan_timer.stop()
        self.cancel(wait=True)
        self.stale = False
        if not self.workspace.corpus_paths:
            self._show(ScanResult.empty())
            self.summary.setText("No corpus: add files or folders, or drop them here")
            return
        try:
            corpus = self.workspace.open_corpus()
        except CorpusError as exc:
            self.summary.setText(f"<span style='color:#b00'>{exc}</span>")
            return

        def work(task) -> ScanResult:
            with corpus:
                return scan_corpus(corpus, task.report, lambda: task.cancelled)

        self.job = job = Job(work, self, self._scans)
        job.progress.connect(self._progress)
        job.succeeded.connect(self._show)
        job.failed.connect(self._failed)
        job.finished.connect(self._finished)
        self.scan_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.summary.setText(f"Scanning {_mb(corpus.size_hint)} …")
        job.start()

    def cancel(self, wait: bool = False) -> None:
        """Stop the scan (``wait``: until its thread let go of the files)."""
        job = self.job
        if job is None:
            return
        job.cancel()
        if wait:
            job.wait()
            self._finished()

    def _finished(self) -> None:
        job = self.job
        if job is None or job.running:
            return
        self.job = None
        self.scan_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        job.auto_delete = True  # once its outcome is delivered (its thread may still send it)

    def _progress(self, ev: Progress) -> None:
        self.progress.setValue(round(100 * ev.fraction))
        eta = f", {ev.eta:.0f} s left" if ev.eta is not None else ""
        rate = f"{ev.rate / 1e6:.1f} MB/s" if ev.rate else ""
        self.summary.setText(f"Scanning: {_mb(ev.done)} of {_mb(ev.total)} ({rate}{eta})")

    def _failed(self, message: str) -> None:
        self.progress.setValue(0)
        self.summary.setText(f"<span style='color:#b00'>{message}</span>")

    def _show(self, result: ScanResult) -> None:
        self.result = result
        self.stats.setRowCount(len(result.stats))
        for row, s in enumerate(result.stats):
            cells = [Path(s.path).name, f"{s.documents:,}", _mb(s.bytes)]
            cells += [_percent(x) for x in (s.han_share, s.latin_share, s.digits_share)]
            cells += [_percent(s.other_share), f"{s.invalid_lines:,}"]
            if s.skipped:
                cells[1] = "skipped"
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if col == 0:
                    item.setToolTip(s.path)
                else:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.stats.setItem(row, col, item)
        self.stats.resizeColumnsToContents()
        self._show_problems(result)
        self._preview_selection()
        docs = sum(s.documents for s in result.stats)
        size = sum(s.bytes for s in result.stats)
        state = "" if result.complete else " (cancelled: partial figures)"
        self.progress.setValue(100 if result.complete else self.progress.value())
        text = (
            f"{docs:,} documents, {_mb(size)}: {result.n_train:,} for training, "
            f"{result.n_heldout:,} held out{state}"
        )
        if result.summary:  # damaged input is said where the figures are, not only in a tab
            text += f"<br><span style='color:#b00'>{html.escape(result.summary[0])}</span>"
            text += " (see Problems)"
        self.summary.setText(text)
        self.scanned.emit(result)

    def _show_problems(self, result: ScanResult) -> None:
        self.problems.setRowCount(len(result.problems))
        for row, p in enumerate(result.problems):
            cells = [Path(p.path).name, "" if p.line is None else f"{p.line:,}", p.kind, p.message]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{p}\nClick to see the line" if col == 0 else text)
                self.problems.setItem(row, col, item)
        dropped = f" (+{result.problems_dropped:,} more)" if result.problems_dropped else ""
        count = f"{len(result.problems):,}{dropped}" if result.problems else "none"
        self.tabs.setTabText(2, f"Problems ({count})")
        files = len(result.stats)
        where = f"{files:,} file{'' if files == 1 else 's'}"
        if result.problems:
            note = "Click a problem to see its line (Preview tab)"
        elif result.complete:
            note = f"No problems found in {where}: every line read cleanly"
        else:
            note = f"No problems found in the part read (the scan was stopped; {where} begun)"
        self.problems_note.setText(note)

    # ------------------------------------------------------------ preview
    def _selected_sources(self) -> list[Path]:
        return [Path(item.data(PATH_ROLE)) for item in self.sources.selectedItems()]

    def _preview_selection(self) -> None:
        """Preview the selected sources (read in the background), or all of them."""
        chosen = self._selected_sources()
        if not chosen:
            self._previews.drop_all()
            self.tabs.setTabText(1, "Preview")
            title = "Preview of all sources (select one to see it alone)"
            if self.result is None:
                self.preview.show_message(title, "Scan the corpus to preview its documents")
            else:
                self.preview.show_documents(title, self.result.preview)
            return
        title = f"Preview of {_names(chosen)}"
        self.tabs.setTabText(1, f"Preview: {_names(chosen, 1)}")
        self.preview.show_message(title, "Reading…")
        options = self.workspace.corpus_options

        def read() -> list[tuple[str, str]]:
            with Corpus([str(p) for p in chosen], options) as corpus:
                return preview_sources(corpus)

        run_in_thread(
            read,
            lambda docs: self.preview.show_documents(title, docs),
            lambda message: self.preview.show_message(title, readable_error(message)),
            self,
            self._previews,
        )

    def show_problem(self, row: int) -> None:
        """The lines around problem ``row``, its line marked, in the Preview tab."""
        if self.result is None or not 0 <= row < len(self.result.problems):
            return
        problem: Problem = self.result.problems[row]
        line = problem.line
        name = Path(problem.path).name
        where = f"{name}, line {line:,}" if line else f"{name} (the whole file)"
        title = f"{where}: {problem.kind}: {problem.message}"
        self.tabs.setTabText(1, f"Preview: {name}")
        self.tabs.setCurrentWidget(self.preview)
        self.preview.show_message(title, "Reading…")
        run_in_thread(
            lambda: line_context(problem.path, line or 1, CONTEXT_LINES),
            lambda lines: self.preview.show_lines(title, lines, line),
            lambda message: self.preview.show_message(title, readable_error(message)),
            self,
            self._previews,
        )

    def can_close(self) -> bool:
        """Closing stops a scan in progress (nothing is lost by it)."""
        self._scan_timer.stop()
        self.cancel(wait=True)
        return True
