"""Cost per group: what each vocabulary charges each script (or JSON field value) of the
corpus, side by side: a table of every figure and a grouped bar chart of one of them.

The documents are read and measured on a worker thread (:func:`cost_reports`, one pass
for every model); pyqtgraph is imported when the first chart is drawn.
"""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...engine import (
    MODEL_FILE_FILTER,
    SCRIPT_GROUPS,
    CostReport,
    Tokenizer,
    Vocabulary,
    atomic_write,
    cost_reports,
    load,
    parse_group_by,
)
from ..state import Workspace
from ..worker import Jobs, Latest, readable_error

LARGEST = "(largest group)"  # the reference chooser's default: no reference given
DEFAULT_DOCUMENTS = 2000
METRICS = (  # (GroupCost attribute, label): the table's rows per group, the chart's choice
    ("bytes_per_token", "bytes / token"),
    ("chars_per_token", "chars / token"),
    ("fertility", "fertility (tokens / word)"),
    ("premium", "premium (vs reference)"),
    ("vocab_used", "vocabulary used"),
    ("renyi_efficiency", "Rényi efficiency (α = 2.5)"),
    ("tokens", "tokens"),
    ("bytes", "bytes"),
    ("documents", "documents"),
)
BAR_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")
NO_CORPUS = "No corpus: add one in the Corpus view, then Measure."
NO_MODEL = "No model: open one (File ▸ Open model…), then Measure."


def fmt(value: float | None) -> str:
    """A figure as the table shows it (— for none)."""
    if value is None:
        return "—"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    if abs(value) >= 1000:  # token counts split by bytes across scripts
        return f"{value:,.1f}"
    return f"{value:.4g}"


def read_documents(workspace: Workspace, field: str | None, limit: int) -> list:
    """The first ``limit`` documents of the corpus: texts, or (text, record) pairs when
    grouping by a JSON field (for worker threads)."""
    if field is None:
        return workspace.read_documents(limit, "all")
    with workspace.open_corpus() as corpus:
        return list(itertools.islice(corpus.records("all"), limit))


class CostPanel(QWidget):
    """Group-by and reference choosers, the models to compare, Measure, table and chart."""

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.extra: list[tuple[str, Tokenizer | Vocabulary]] = []  # models added beside
        self.reports: list[CostReport] = []
        self.groups: list[str] = []  # the table's and chart's groups, "overall" first
        self.plot = None  # pyqtgraph's PlotWidget, made on the first chart
        self._kind = "script"  # of the group-by chooser: script or field
        self.jobs = Jobs(self)
        self._requests = Latest()
        self._build()
        self._lay_out()
        workspace.modelChanged.connect(self._list_models)
        workspace.modelEdited.connect(self._list_models)
        self._list_models()

    def _build(self) -> None:
        self.group_by = QComboBox()
        self.group_by.setEditable(True)
        self.group_by.addItems(["script", "field:lang"])
        self.group_by.setToolTip("script, or field:NAME for a field of the JSON documents")
        self.reference = QComboBox()
        self.reference.setEditable(True)
        self.reference.addItems([LARGEST, *SCRIPT_GROUPS])
        self.reference.setToolTip("The group premiums are relative to")
        self.max_documents = QSpinBox()
        self.max_documents.setRange(1, 10_000_000)
        self.max_documents.setValue(DEFAULT_DOCUMENTS)
        self.max_documents.setToolTip("How many documents of the corpus to measure")
        self.models = QListWidget()
        self.models.setMaximumHeight(90)
        self.add_button = QPushButton("Add model…")
        self.add_button.setToolTip("Open another vocabulary (any kind) to measure beside")
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Drop the selected added model")
        self.measure_button = QPushButton("Measure")
        self.metric = QComboBox()
        for key, label in METRICS:
            self.metric.addItem(label, key)
        self.csv_button = QPushButton("Export CSV…")
        self.png_button = QPushButton("Export PNG…")
        for button in (self.csv_button, self.png_button):
            button.setEnabled(False)
        self.status = QLabel("Measure what each model costs each group of the corpus.")
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, 2)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.chart = QWidget()
        QVBoxLayout(self.chart).setContentsMargins(0, 0, 0, 0)
        self.add_button.clicked.connect(self.add_model_dialog)
        self.remove_button.clicked.connect(self.remove_model)
        self.measure_button.clicked.connect(self.measure)
        self.metric.currentIndexChanged.connect(self._draw_chart)
        self.group_by.currentTextChanged.connect(self._group_by_changed)
        self.csv_button.clicked.connect(self.export_csv_dialog)
        self.png_button.clicked.connect(self.export_png_dialog)

    def _lay_out(self) -> None:
        row = QHBoxLayout()
        for label, widget in (
            ("Group by", self.group_by),
            ("Reference", self.reference),
            ("Documents", self.max_documents),
        ):
            row.addWidget(QLabel(label))
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.measure_button)
        models = QHBoxLayout()
        models.addWidget(QLabel("Models"))
        models.addWidget(self.models, 1)
        buttons = QVBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        models.addLayout(buttons)
        chart_row = QHBoxLayout()
        chart_row.addWidget(QLabel("Chart"))
        chart_row.addWidget(self.metric)
        chart_row.addStretch(1)
        chart_row.addWidget(self.csv_button)
        chart_row.addWidget(self.png_button)
        split = QSplitter()
        split.addWidget(self.table)
        split.addWidget(self.chart)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([520, 900])  # the table's columns are narrow; the bars want room
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(models)
        layout.addLayout(chart_row)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)

    # ------------------------------------------------------------- models
    def current_name(self) -> str:
        return self.workspace.model_label or "current model"

    def _list_models(self) -> None:
        self.models.clear()
        shown = self.workspace.viewer
        current = f"{self.current_name()} (current)" if shown is not None else "(no model open)"
        self.models.addItem(current)
        self.models.addItems([name for name, _ in self.extra])

    def add_model_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Add a model", "", MODEL_FILE_FILTER)
        if path:
            self.add_model(path)

    def add_model(self, path: str | Path) -> None:
        """Open ``path`` (any vocabulary kind) on a worker thread; it joins the models."""
        path = Path(path)
        self.status.setText(f"Opening {path.name} …")

        def added(vocab: Vocabulary) -> None:
            self.extra.append((path.name, vocab))
            self._list_models()
            self.status.setText(f"Added {path.name}: Measure to compare.")

        self.jobs.run(lambda: load(path), added, self._failed("Could not open the model"))

    def remove_model(self) -> None:
        row = self.models.currentRow()
        if row >= 1:  # the current model stays
            del self.extra[row - 1]
            self._list_models()

    # ------------------------------------------------------------- measuring
    def measure(self) -> None:
        """Read the corpus and measure every model on a worker thread."""
        ws = self.workspace
        if ws.viewer is None:
            self.status.setText(NO_MODEL)
            return
        if not ws.corpus_paths:
            self.status.setText(NO_CORPUS)
            return
        by = self.group_by.currentText().strip()
        ref_text = self.reference.currentText().strip()
        reference = None if ref_text in ("", LARGEST) else ref_text
        try:
            field = parse_group_by(by)
        except ValueError as exc:
            QMessageBox.warning(self, "Group by", str(exc))
            return
        vocabs = [ws.viewer, *(v for _, v in self.extra)]
        names = [self.current_name(), *(n for n, _ in self.extra)]
        limit = self.max_documents.value()

        def work() -> list[CostReport]:
            documents = read_documents(ws, field, limit)
            if not documents:
                raise ValueError("the corpus holds no documents")
            return cost_reports(vocabs, documents, by, reference, names=names, workers=None)

        self.measure_button.setEnabled(False)
        self.status.setText(f"Measuring {len(vocabs)} model(s) by {by} …")
        self.jobs.run(work, self.show_reports, self._failed("Could not measure"), self._requests)

    def _failed(self, title: str):
        def show(message: str) -> None:
            self.measure_button.setEnabled(True)
            self.status.setText(f"{title}.")
            QMessageBox.warning(self, title, readable_error(message))

        return show

    def show_reports(self, reports: list[CostReport]) -> None:
        """The figures of ``reports`` (one per model) in the table and the chart."""
        self.measure_button.setEnabled(True)
        self.reports = reports
        groups = ["overall"]
        for rep in reports:
            groups += [g for g in rep.names() if g not in groups]
        self.groups = groups
        self._fill_table()
        self._draw_chart()
        self._offer_references()
        first = reports[0]
        self.status.setText(
            f"{first.overall.documents:,} documents, {first.overall.bytes:,} bytes by "
            f"{first.by}; premiums relative to {first.reference or '—'}."
        )
        for button in (self.csv_button, self.png_button):
            button.setEnabled(True)

    def _offer_references(self) -> None:
        """The reference chooser lists the groups measured (keeping what it says)."""
        self._set_references(self.groups[1:], self.reference.currentText())

    def _set_references(self, groups: list[str], text: str) -> None:
        self.reference.blockSignals(True)
        self.reference.clear()
        self.reference.addItems([LARGEST, *groups])
        self.reference.setCurrentText(text)
        self.reference.blockSignals(False)

    def _group_by_changed(self, text: str) -> None:
        """From script to a field or back: the reference starts over (largest group)."""
        kind = "script" if text.strip() == "script" else "field"
        if kind != self._kind:
            self._kind = kind
            self._set_references(list(SCRIPT_GROUPS) if kind == "script" else [], LARGEST)

    def value(self, report: CostReport, group: str, metric: str) -> float | None:
        """One figure of a report (None where the model has no such group)."""
        try:
            cost = report.overall if group == "overall" else report.group(group)
        except KeyError:
            return None
        return getattr(cost, metric)

    def rows(self) -> list[list]:
        """The table as data: group, metric, then the value of each model."""
        return [
            [group, key, *(self.value(rep, group, key) for rep in self.reports)]
            for group in self.groups
            for key, _ in METRICS
        ]

    def _fill_table(self) -> None:
        labels = dict(METRICS)
        table = self.table
        table.clear()
        table.setColumnCount(2 + len(self.reports))
        table.setHorizontalHeaderLabels(["Group", "Metric", *(r.model for r in self.reports)])
        rows = self.rows()
        table.setRowCount(len(rows))
        for r, (group, key, *values) in enumerate(rows):
            table.setItem(r, 0, QTableWidgetItem(group))
            metric = QTableWidgetItem(labels[key])
            metric.setData(Qt.ItemDataRole.UserRole, key)
            table.setItem(r, 1, metric)
            for c, v in enumerate(values, 2):
                item = QTableWidgetItem(fmt(v))
                item.setData(Qt.ItemDataRole.UserRole, v)
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                table.setItem(r, c, item)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    # ------------------------------------------------------------- chart
    def _ensure_plot(self):
        if self.plot is None:
            import pyqtgraph as pg

            self.plot = pg.PlotWidget(background="w")
            self.plot.setMinimumSize(240, 180)
            self.plot.setMouseEnabled(x=False, y=False)
            self.plot.hideButtons()
            for side in ("left", "bottom"):
                axis = self.plot.getAxis(side)
                axis.setTextPen("#333333")
                axis.setPen("#777777")
                axis.enableAutoSIPrefix(False)
            self.plot.showGrid(y=True, alpha=0.25)
            self.plot.addLegend(offset=(-10, 10), labelTextColor="#333333")
            self.chart.layout().addWidget(self.plot)
        return self.plot

    def _draw_chart(self) -> None:
        """Bars of the chosen metric: one cluster per group, one bar per model."""
        if not self.reports:
            return
        import pyqtgraph as pg

        plot = self._ensure_plot()
        plot.clear()  # the bars and their legend entries
        metric = self.metric.currentData()
        groups = self.groups[1:]
        width = 0.8 / len(self.reports)
        for i, rep in enumerate(self.reports):
            values = [self.value(rep, g, metric) for g in groups]
            xs = [k - 0.4 + width * (i + 0.5) for k, v in enumerate(values) if v is not None]
            heights = [float(v) for v in values if v is not None]
            color = BAR_COLORS[i % len(BAR_COLORS)]
            bars = pg.BarGraphItem(
                x=xs, height=heights, width=width * 0.9, brush=color, name=rep.model
            )
            plot.addItem(bars)
        plot.getAxis("bottom").setTicks([list(enumerate(groups))])
        plot.setLabel("left", self.metric.currentText(), color="#333333")

    def bar_heights(self) -> list[list[float]]:
        """The chart's bars, per model (for tests and exports)."""
        plot = self.plot
        if plot is None:
            return []
        bars = [i for i in plot.getPlotItem().items if hasattr(i, "opts") and "height" in i.opts]
        return [list(map(float, b.opts["height"])) for b in bars]

    # ------------------------------------------------------------- exports
    def csv_text(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["group", "metric", *(r.model for r in self.reports)])
        for group, key, *values in self.rows():
            writer.writerow([group, key, *("" if v is None else repr(v) for v in values)])
        return out.getvalue()

    def export_csv_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the table", "piecelab-cost.csv", "CSV files (*.csv)"
        )
        if path:
            self._export(lambda: atomic_write(path, self.csv_text().encode("utf-8")), path)

    def export_png_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the chart", "piecelab-cost.png", "PNG images (*.png)"
        )
        if path:
            self._export(lambda: self._save_png(path), path)

    def _save_png(self, path: str) -> None:
        if self.plot is None or not self.plot.grab().save(path, "PNG"):
            raise OSError(f"could not write {path}")

    def _export(self, write, path: str) -> None:
        try:
            write()
        except OSError as exc:
            QMessageBox.warning(self, "Could not export", readable_error(str(exc)))
            return
        self.workspace.say(f"Exported {path}")
