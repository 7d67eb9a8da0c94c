"""The training view: parameters, Start/Cancel, per-stage progress, log, live charts.

A run is a :class:`~piecelab.gui.worker.Job` (in a child process by default,
see :mod:`.runner`); this view only reacts to its throttled signals, so the
window stays responsive.  Every finished or cancelled run is recorded in
``Workspace.runs``; the charts overlay earlier runs and the history table lists
their settings so they can be compared.
"""

from __future__ import annotations

import dataclasses
import html
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...engine import (
    CorpusError,
    CorpusIdentity,
    Log,
    Metric,
    Model,
    StageDone,
    TrainResult,
    TrainSettings,
    corpus_identity,
)
from .. import saving
from ..state import TrainingRun, Workspace
from ..worker import Job
from .charts import TrainCharts
from .form import TrainForm
from .runner import TrainJob, TrainOutcome, training_work
from .runs import RunsPanel, ids_text
from .stages import StageBars

SHUTDOWN_WAIT_S = 10.0
START_KEYS = (QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter"))
CANCEL_KEYS = QKeySequence("Escape")
WARN = "<span style='color:#b35900'>{}</span>"


def keys_text(keys: QKeySequence) -> str:
    return keys.toString(QKeySequence.SequenceFormat.NativeText)


def settings_note(s: TrainSettings, corpus: CorpusIdentity | None) -> str:
    """The parameters of a run in one line (the current run's chart legend in exports)."""
    parts = [f"order {s.order}", f"sizes {s.sizes_text}", f"min count {s.min_count:,}"]
    return " · ".join(parts + ([corpus.describe()] if corpus is not None else []))


class TrainView(QWidget):
    """Parameters form, progress per stage, log, live charts and run history."""

    runStarted = Signal()
    runEnded = Signal(str)  # the run's outcome: succeeded, cancelled or failed

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.worker: Job | None = None
        self.last_result: TrainResult | None = None
        self.stages_done: list[str] = []
        self.warnings = 0  # of the current run (corpus problems, sizes not reached)
        # True: train on a thread of this process.  A frozen bundle trains here until its
        # launcher calls multiprocessing.freeze_support() (else a child would start the GUI)
        self.in_process = bool(getattr(sys, "frozen", False))
        self._run_settings = workspace.train_settings
        self._prune_points: list[tuple[float, float]] = []
        self._identity: CorpusIdentity | None = None  # of the corpus the run reads
        self._started = 0.0
        self._build()
        self.form.show_settings(workspace.train_settings)
        self.form.heldout.valueChanged.connect(self._heldout_edited)
        workspace.corpusChanged.connect(self._corpus_changed)
        workspace.runsChanged.connect(self._runs_changed)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._corpus_changed()

    # ------------------------------------------------------------ layout
    def _build(self) -> None:
        self.form = TrainForm()
        self.start_button = QPushButton("Start")
        self.start_button.clicked.connect(lambda: self.start())
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip(
            f"Stop training; nothing is written ({keys_text(CANCEL_KEYS)})"
        )
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self._shortcuts()
        self.status = QLabel("Ready")
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.setWordWrap(True)
        self.stages = StageBars()
        self.bars = self.stages.bars
        self.cluster_label = QLabel()  # the cluster's size, once a run has joined it
        self.cluster_label.hide()
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        self.log.setPlaceholderText("Training log")
        self.charts = TrainCharts()
        for chart in self.charts.charts():
            chart.exported.connect(lambda path: self.workspace.say(f"Chart exported to {path}"))
        self.runs = RunsPanel()
        self.runs.useModel.connect(self.use_run_model)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self._left_column())
        split.addWidget(self._right_column())
        split.setStretchFactor(1, 3)
        QVBoxLayout(self).addWidget(split)

    def _shortcuts(self) -> None:
        """Start and Cancel from the keyboard while the view has the focus (listed in
        the window's shortcuts; Escape only while a run is in progress)."""
        self.start_action = QAction("Start training", self)
        self.start_action.setShortcuts(list(START_KEYS))
        self.start_action.triggered.connect(lambda: self.start())
        self.cancel_action = QAction("Cancel training", self)
        self.cancel_action.setShortcut(CANCEL_KEYS)
        self.cancel_action.setEnabled(False)
        self.cancel_action.triggered.connect(self.cancel)
        for action in (self.start_action, self.cancel_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)

    def _left_column(self) -> QWidget:
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        left = QWidget()
        column = QVBoxLayout(left)
        column.addWidget(self.form)
        column.addLayout(buttons)
        column.addWidget(self.status)
        column.addWidget(self.cluster_label)
        column.addWidget(self.stages)
        column.addWidget(self.log, 1)  # beside the progress it explains
        self.log.setMinimumHeight(80)
        scroll = QScrollArea()  # scrolls rather than forcing a tall window
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(left)
        scroll.setMinimumWidth(left.minimumSizeHint().width() + 16)
        return scroll

    def _right_column(self) -> QWidget:
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.charts)
        right.addWidget(self.runs)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        return right

    # ------------------------------------------------------------ corpus options
    def _corpus_changed(self) -> None:
        paths = self.workspace.corpus_paths
        names = ", ".join(p.name for p in paths[:3]) + (" …" if len(paths) > 3 else "")
        what = f"{names} (the Corpus view's corpus)" if paths else "the Corpus view's corpus"
        self.start_button.setToolTip(f"Train on {what} ({keys_text(START_KEYS[0])})")
        box = self.form.heldout
        box.blockSignals(True)
        box.setValue(self.workspace.corpus_options.heldout * 100)
        box.blockSignals(False)

    def _heldout_edited(self, value: float) -> None:
        ws = self.workspace
        opts = dataclasses.replace(ws.corpus_options, heldout=round(value / 100, 6))
        if opts != ws.corpus_options:
            ws.set_corpus(ws.corpus_paths, opts)

    # ------------------------------------------------------------ running
    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self, texts: Iterable[str] | None = None) -> bool:
        """Start a run on the workspace corpus (or ``texts``, a re-iterable of str)."""
        if self.running:
            return False
        try:
            job = self._job(texts)
        except (ValueError, CorpusError) as exc:
            self.show_status(str(exc), error=True)
            return False
        self.workspace.train_settings = self._run_settings = job.settings
        self._prune_points = []
        self._started = time.monotonic()
        self.stages_done = []
        self.warnings = 0
        shown = {"count n-grams", "segment corpus", "prune pieces"}
        shown |= {"re-estimate"} if job.settings.reestimate else set()
        shown |= {"evaluate"} if job.heldout > 0 else set()
        self.stages.reset(shown)
        self.log.clear()
        self.charts.start_run(settings_note(job.settings, self._identity))
        self.worker = worker = Job(training_work(job, self.in_process), self)
        worker.progress.connect(self.stages.progress)
        worker.metric.connect(self._metric)
        worker.stageDone.connect(self._stage_done)
        worker.log.connect(self._log_event)
        worker.succeeded.connect(self._succeeded)
        worker.cancelled.connect(self._cancelled)
        worker.failed.connect(self._failed)
        worker.finished.connect(self._finished)
        self._set_running(True)
        self.cluster_label.hide()
        where = job.settings.where_text
        self.status.setText("Training…" if where == "this machine" else f"Training on {where}…")
        self.runStarted.emit()
        worker.start()
        return True

    def _job(self, texts: Iterable[str] | None) -> TrainJob:
        """The run the form asks for; ValueError or CorpusError says why it cannot start."""
        settings = self.form.settings()
        output_text = self.form.output.text().strip()
        output = Path(output_text).expanduser() if output_text else None
        if output is not None and not output.parent.is_dir():
            raise ValueError(f"{output.parent}: no such folder for the output")
        if texts is None:
            if not self.workspace.corpus_paths:
                raise ValueError("no corpus: add files in the Corpus view first")
            texts = self.workspace.open_corpus()
            self._identity = corpus_identity(texts)
        else:
            self._identity = None
        return TrainJob.of(settings, texts, self.workspace.corpus_options.heldout, output)

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.status.setText("Cancelling…")

    def shutdown(self, timeout: float = SHUTDOWN_WAIT_S) -> None:
        """Cancel a run in progress and wait for it to stop."""
        if self.worker is not None:
            self.worker.cancel()
            self.worker.wait(timeout)
            self._finished()

    def _metric(self, m: Metric) -> None:
        if m.series == "cluster":
            workers, nodes = int(m.x), int(m.y)
            self.cluster_label.setText(
                f"Ray cluster: {workers} worker{'s' * (workers != 1)} "
                f"on {nodes} node{'s' * (nodes != 1)}"
            )
            self.cluster_label.show()
            return
        self.charts.add_metric(m)
        if m.series == "prune":
            self._prune_points.append((m.x, m.y))

    def _stage_done(self, ev: StageDone) -> None:
        self.stages.done(ev)
        self.stages_done.append(ev.stage)
        summary = f": {ev.summary}" if ev.summary else ""
        self._log(f"{ev.stage} done in {ev.elapsed:.1f} s{summary}")

    def _log(self, message: str) -> None:
        self.log.appendPlainText(f"[{time.monotonic() - self._started:7.1f} s] {message}")

    def _log_event(self, ev: Log) -> None:
        self._log(f"{ev.level}: {ev.message}" if ev.level != "info" else ev.message)
        if ev.level == "warning":
            self.warnings += 1

    def _record(self, result: TrainResult | None, cancelled: bool) -> TrainingRun:
        run = TrainingRun(
            name=f"run {len(self.workspace.runs) + 1}",
            settings=self._run_settings,
            heldout_share=self.workspace.corpus_options.heldout,
            heldout={**dict(result.curve), **result.heldout_bytes_per_token} if result else {},
            prune_points=list(self._prune_points),
            models=dict(result.models) if result else {},
            elapsed=result.elapsed if result else time.monotonic() - self._started,
            cancelled=cancelled,
            corpus=self._identity,
        )
        self.workspace.add_run(run)
        return run

    def _succeeded(self, outcome: TrainOutcome) -> None:
        result = self.last_result = outcome.result
        for path in outcome.saved:
            self._log(f"saved {path}")
        run = self._record(result, cancelled=False)
        short = self._warn_short(run)
        note = ""
        if self.warnings:
            note = f"; {self.warnings} warning{'s' if self.warnings != 1 else ''}: see the log"
        self.show_status(f"Done in {result.elapsed:.1f} s ({run.name}){note}", warning=short)
        if self.form.adopt.isChecked() and result.models and not self.workspace.has_edits:
            size = max(result.models)
            saved = outcome.saved
            path = next((p for p in saved if p.name.endswith(f".{size}")), None)
            if path is None and len(saved) == 1:
                path = saved[0]
            got = result.models[size].vocab_size
            label = f"{run.name}'s model"  # its size is beside it, and edits change it
            self.adopt_model(result.models[size], path, label if path is None else "")
            self.workspace.say(f"Using {run.name}'s model: {ids_text(size, got)}")

    def _warn_short(self, run: TrainingRun) -> str:
        """Log each size the corpus could not give; the status line's warning."""
        short = sorted(run.short().items(), reverse=True)
        for asked, got in short:
            self._log_event(
                Log(
                    f"size {asked:,} not reached: the model has {got:,} ids (the corpus "
                    f"holds too few pieces seen {run.settings.min_count:,}+ times)",
                    "warning",
                )
            )
        if not short:
            return ""
        return "Sizes not reached: " + ", ".join(f"{g:,} (asked {a:,})" for a, g in short)

    def show_status(self, text: str, warning: str = "", error: bool = False) -> None:
        """The status line: ``text`` (red if ``error``), then ``warning`` in orange."""
        shown = html.escape(text, quote=False)
        if error:
            shown = f"<span style='color:#b00'>{shown}</span>"
        if warning:
            shown += "<br>" + WARN.format(html.escape(warning, quote=False))
        self.status.setText(shown)

    def _cancelled(self) -> None:
        self._record(None, cancelled=True)
        self.show_status("Cancelled; nothing was written")
        self._log("cancelled")

    def _failed(self, message: str) -> None:
        self.show_status(f"Failed: {message.splitlines()[0]}", error=True)
        self._log(f"failed: {message}")

    def _finished(self) -> None:
        worker = self.worker
        if worker is None or worker.running:
            return
        self.worker = None
        # deleted once its outcome is delivered: after shutdown() its thread may still be
        # sending it, and deleting the job under that thread crashed (1 full run in 3)
        worker.auto_delete = True
        self._set_running(False)
        self.runEnded.emit(worker.outcome)

    def _set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.start_action.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.cancel_action.setEnabled(running)

    # ------------------------------------------------------------ runs
    def adopt_model(self, model: Model, path: Path | None = None, label: str = "") -> None:
        """Make a trained model the workspace's current one (not an edit)."""
        self.workspace.set_model(model, path=path, edited=False, label=label)

    def _runs_changed(self) -> None:
        self.runs.show_runs(self.workspace.runs)
        self.charts.show_runs(self.workspace.runs)

    def use_run_model(self, row: int, size: int) -> None:
        """Open model ``size`` of run ``row`` (asking first if edits would be replaced)."""
        if not saving.confirm_replace(self, self.workspace, "using the trained model"):
            return
        run = self.workspace.runs[row]
        model = run.models[size]
        self.adopt_model(model, label=f"{run.name}'s model")
        text = f"Using {run.name}'s model: {ids_text(size, model.vocab_size)}"
        self.show_status(text)
        self.workspace.say(text)

    def can_close(self) -> bool:
        """Asks before stopping a run; then cancels it and waits for it."""
        if not self.running:
            return True
        answer = QMessageBox.question(
            self,
            "Training in progress",
            "A training run is in progress. Stop it and close?",
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False
        self.shutdown()
        return True
