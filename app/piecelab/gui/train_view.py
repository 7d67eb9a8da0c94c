"""The training view: parameters, Start/Cancel, per-stage progress, log, live charts.

Training runs on a :class:`TrainWorker` thread; this view only reacts to its
(throttled) signals, so the window stays responsive.  Every finished or
cancelled run is recorded in ``Workspace.runs``; the charts overlay earlier runs
and the history table lists their parameters so settings can be compared.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ..engine.corpus import CorpusError
from ..engine.events import Metric, Progress, StageDone
from ..engine.model import Model
from ..engine.ngrams import MAX_ORDER
from ..engine.trainer import Trainer, TrainResult
from .charts import RunsPanel, TrainCharts
from .corpus_view import heldout_spin
from .state import TrainingRun, Workspace
from .train_worker import TrainWorker

STAGES = ("count n-grams", "segment corpus", "prune pieces", "re-estimate", "evaluate")
TIPS = {
    "order": "Longest byte n-gram of the model that proposes pieces (BytePiece: 6). "
    "Higher finds longer pieces and needs more memory.",
    "sizes": "Vocabulary sizes to train, comma separated (each ≥ 259: 256 bytes + 3 special "
    "ids). One run yields a model per size, each pruned from the larger one.",
    "min_count": "N-grams and pieces seen fewer times than this are dropped (BytePiece: 2).",
    "max_piece_length": "Longest piece in bytes.",
    "isolate_digits": "Cut before and after every digit, so numbers are spelled digit by digit.",
    "ensure_unicode": "No piece may start inside a UTF-8 character (keeps pieces readable).",
    "workers": "Threads counting and segmenting in parallel.",
    "heldout": "Share of documents kept out of training to measure bytes per token on unseen "
    "text (the same setting as in the Corpus view).",
    "reestimate": "After pruning, segment the corpus again with each final vocabulary and "
    "recount its pieces (one more pass; counts then match the tokenizer's use).",
    "output": "Optional: write the models here when the run succeeds (several sizes: "
    "FILE.SIZE). A cancelled run writes nothing.",
    "adopt": "Open the largest trained model in the playground when the run succeeds "
    "(skipped while the current model has unsaved edits).",
}


def _spin(lo: int, hi: int, value: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setValue(value)
    box.setToolTip(tip)
    return box


def _check(text: str, on: bool, tip: str) -> QCheckBox:
    box = QCheckBox(text)
    box.setChecked(on)
    box.setToolTip(tip)
    return box


def _rate(ev: Progress) -> str:
    if not ev.rate:
        return ""
    if ev.unit == "bytes":
        return f"{ev.rate / 1e6:.1f} MB/s"
    return f"{ev.rate:,.1f} {ev.unit}/s"


def _clock(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 60}:{s % 60:02d}"


class TrainView(QWidget):
    """Parameters form, progress per stage, log, live charts and run history."""

    runStarted = Signal()
    runEnded = Signal(str)  # the worker's outcome: succeeded, cancelled or failed

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.worker: TrainWorker | None = None
        self.last_result: TrainResult | None = None
        self._params: dict = {}
        self._prune_points: list[tuple[float, float]] = []
        self._started = 0.0
        self.stages_done: list[str] = []
        # True: train on a thread of this process.  A frozen bundle trains here until its
        # launcher calls multiprocessing.freeze_support() (else a child would start the GUI)
        self.in_process = bool(getattr(sys, "frozen", False))
        self._adopting: Model | None = None  # a trained model being opened, without a file
        self._build()
        workspace.corpusChanged.connect(self._corpus_changed)
        workspace.runsChanged.connect(self._runs_changed)
        workspace.modelChanged.connect(self._model_changed)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self._corpus_changed()

    # ------------------------------------------------------------ layout
    def _build(self) -> None:
        self.order = _spin(1, MAX_ORDER, 6, TIPS["order"])
        self.sizes = QLineEdit("32000")
        self.sizes.setToolTip(TIPS["sizes"])
        self.min_count = _spin(1, 1_000_000_000, 2, TIPS["min_count"])
        self.max_piece_length = _spin(1, 255, 36, TIPS["max_piece_length"])
        self.isolate_digits = _check("isolate digits", False, TIPS["isolate_digits"])
        self.ensure_unicode = _check("ensure Unicode", True, TIPS["ensure_unicode"])
        cores = max(1, os.cpu_count() or 1)
        self.workers = _spin(1, cores, min(2, cores), TIPS["workers"])
        self.heldout = heldout_spin(TIPS["heldout"])
        self.heldout.valueChanged.connect(self._heldout_edited)
        self.reestimate = _check("re-estimate counts", False, TIPS["reestimate"])
        self.output = QLineEdit()
        self.output.setPlaceholderText("(not saved)")
        self.output.setToolTip(TIPS["output"])
        browse = QPushButton("…")
        browse.setToolTip(TIPS["output"])
        browse.clicked.connect(self._browse_output)
        out_row = QHBoxLayout()
        out_row.addWidget(self.output, 1)
        out_row.addWidget(browse)
        self.adopt = _check("use the model when done", True, TIPS["adopt"])
        form = QFormLayout()
        for label, field in (
            ("Order", self.order),
            ("Vocabulary sizes", self.sizes),
            ("Min count", self.min_count),
            ("Max piece length", self.max_piece_length),
            ("Workers", self.workers),
            ("Held out", self.heldout),
        ):
            form.addRow(label, field)
            form.labelForField(field).setToolTip(field.toolTip())
        for box in (self.isolate_digits, self.ensure_unicode, self.reestimate):
            form.addRow(box)
        form.addRow("Save to", out_row)
        form.addRow(self.adopt)
        params = QGroupBox("Parameters")
        params.setLayout(form)
        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("Train on the corpus of the Corpus view")
        self.start_button.clicked.connect(lambda: self.start())
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop training; nothing is written")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.status = QLabel("Ready")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        self.stage_grid = QGridLayout()
        self.bars: dict[str, tuple[QLabel, QProgressBar, QLabel]] = {}
        for stage in STAGES:
            self._stage_row(stage)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.addWidget(params)
        ll.addLayout(buttons)
        ll.addWidget(self.status)
        ll.addLayout(self.stage_grid)
        ll.addStretch(1)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        self.log.setPlaceholderText("Training log")
        self.charts = TrainCharts()
        self.runs = RunsPanel(self.log)
        self.runs.useModel.connect(self.use_run_model)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.charts)
        right.addWidget(self.runs)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 3)
        QVBoxLayout(self).addWidget(split)

    def _stage_row(self, stage: str) -> tuple[QLabel, QProgressBar, QLabel]:
        row = len(self.bars)
        name, bar, info = QLabel(stage), QProgressBar(), QLabel("")
        bar.setTextVisible(True)
        info.setMinimumWidth(150)
        self.stage_grid.addWidget(name, row, 0)
        self.stage_grid.addWidget(bar, row, 1)
        self.stage_grid.addWidget(info, row, 2)
        self.bars[stage] = (name, bar, info)
        return self.bars[stage]

    def _browse_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the trained models as", "", "BytePiece models (*.model)"
        )
        if path:
            self.output.setText(path)

    # ------------------------------------------------------------ corpus options
    def _corpus_changed(self) -> None:
        self.heldout.blockSignals(True)
        self.heldout.setValue(self.workspace.corpus_options.heldout * 100)
        self.heldout.blockSignals(False)

    def _heldout_edited(self, value: float) -> None:
        ws = self.workspace
        opts = dataclasses.replace(ws.corpus_options, heldout=round(value / 100, 6))
        if opts != ws.corpus_options:
            ws.set_corpus(ws.corpus_paths, opts)

    # ------------------------------------------------------------ running
    @property
    def running(self) -> bool:
        return self.worker is not None

    def params(self) -> dict:
        """The form as a dict (also what the run history shows)."""
        text = self.sizes.text()
        try:
            sizes = [int(s.strip().replace("_", "")) for s in text.split(",") if s.strip()]
        except ValueError:
            raise ValueError(f"vocabulary sizes: not a list of whole numbers: {text!r}") from None
        return {
            "order": self.order.value(),
            "sizes": sizes,
            "min_count": self.min_count.value(),
            "max_piece_length": self.max_piece_length.value(),
            "isolate_digits": self.isolate_digits.isChecked(),
            "ensure_unicode": self.ensure_unicode.isChecked(),
            "workers": self.workers.value(),
            "heldout_percent": self.heldout.value(),
            "reestimate": self.reestimate.isChecked(),
            "output": self.output.text().strip(),
        }

    def start(self, texts: Iterable[str] | None = None) -> bool:
        """Start a run on the workspace corpus (or ``texts``, a re-iterable of str)."""
        if self.running:
            return False
        try:
            p = self.params()
            trainer = Trainer(
                order=p["order"],
                max_vocab_size=p["sizes"],
                max_piece_length=p["max_piece_length"],
                min_count=p["min_count"],
                isolate_digits=p["isolate_digits"],
                ensure_unicode=p["ensure_unicode"],
            )
            if texts is None:
                if not self.workspace.corpus_paths:
                    raise ValueError("no corpus: add files in the Corpus view first")
                texts = self.workspace.open_corpus()
            output = Path(p["output"]).expanduser() if p["output"] else None
            if output is not None and not output.parent.is_dir():
                raise ValueError(f"{output.parent}: no such folder for the output")
        except (ValueError, CorpusError) as exc:
            self.status.setText(f"<span style='color:#b00'>{exc}</span>")
            return False
        self._params = p
        self._prune_points = []
        self._started = time.monotonic()
        for stage, (name, bar, info) in self.bars.items():
            bar.setRange(0, 100)
            bar.setValue(0)
            info.setText("")
            show = stage != "re-estimate" or p["reestimate"]
            show = show and (stage != "evaluate" or p["heldout_percent"] > 0)
            for w in (name, bar, info):
                w.setVisible(show)
        self.log.clear()
        self.charts.start_run()
        self.worker = worker = TrainWorker(
            trainer,
            texts,
            workers=p["workers"],
            heldout=self.workspace.corpus_options.heldout,
            reestimate=p["reestimate"],
            output=output,
            in_process=self.in_process,
            parent=self,
        )
        worker.progress.connect(self._progress)
        worker.metric.connect(self._metric)
        worker.stageDone.connect(self._stage_done)
        worker.log.connect(self._log)
        worker.succeeded.connect(self._succeeded)
        worker.cancelled.connect(self._cancelled)
        worker.failed.connect(self._failed)
        worker.finished.connect(self._finished)
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText("Training…")
        self.stages_done = []
        self.runStarted.emit()
        worker.start()
        return True

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.status.setText("Cancelling…")

    def shutdown(self, timeout_ms: int = 10_000) -> None:
        """Cancel a run in progress and wait for its thread."""
        if self.worker is not None:
            self.worker.cancel()
            self.worker.wait(timeout_ms)
            self._finished()

    def _progress(self, ev: Progress) -> None:
        _, bar, info = self.bars.get(ev.stage) or self._stage_row(ev.stage)
        if ev.total:
            bar.setRange(0, 100)
            bar.setValue(round(100 * ev.fraction))
        else:
            bar.setRange(0, 0)  # busy
        parts = [_rate(ev)]
        if ev.eta is not None:
            parts.append(f"ETA {_clock(ev.eta)}")
        info.setText(" · ".join(x for x in parts if x))

    def _metric(self, m: Metric) -> None:
        self.charts.add_metric(m)
        if m.series == "prune":
            self._prune_points.append((m.x, m.y))

    def _stage_done(self, ev: StageDone) -> None:
        _, bar, info = self.bars.get(ev.stage) or self._stage_row(ev.stage)
        bar.setRange(0, 100)
        bar.setValue(100)
        info.setText(f"{ev.elapsed:.1f} s")
        self.stages_done.append(ev.stage)
        self._log(
            f"{ev.stage} done in {ev.elapsed:.1f} s" + (f": {ev.summary}" if ev.summary else "")
        )

    def _log(self, message: str) -> None:
        self.log.appendPlainText(f"[{time.monotonic() - self._started:7.1f} s] {message}")

    def _record(self, result: TrainResult | None, cancelled: bool) -> TrainingRun:
        run = TrainingRun(
            name=f"run {len(self.workspace.runs) + 1}",
            params=dict(self._params),
            heldout=dict(result.heldout_bytes_per_token) if result else {},
            prune_points=list(self._prune_points),
            models=dict(result.models) if result else {},
            elapsed=result.elapsed if result else time.monotonic() - self._started,
            cancelled=cancelled,
        )
        self.workspace.add_run(run)
        return run

    def _succeeded(self, result: TrainResult) -> None:
        self.last_result = result
        worker = self.worker
        saved = worker.saved if worker is not None else []
        for path in saved:
            self._log(f"saved {path}")
        run = self._record(result, cancelled=False)
        self.status.setText(f"Done in {result.elapsed:.1f} s ({run.name})")
        if self.adopt.isChecked() and result.models and not self.workspace.dirty:
            size = max(result.models)
            path = next((p for p in saved if p.name.endswith(f".{size}")), None)
            if path is None and len(saved) == 1:
                path = saved[0]
            self.adopt_model(result.models[size], path)

    def _cancelled(self) -> None:
        self._record(None, cancelled=True)
        self.status.setText("Cancelled; nothing was written")
        self._log("cancelled")

    def _failed(self, message: str) -> None:
        self.status.setText(f"<span style='color:#b00'>Failed: {message.splitlines()[0]}</span>")
        self._log(f"failed: {message}")

    def _finished(self) -> None:
        worker = self.worker
        if worker is None or not worker.isFinished():
            return
        worker.wait()
        self.worker = None
        worker.deleteLater()
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.runEnded.emit(worker.outcome)

    # ------------------------------------------------------------ runs
    def adopt_model(self, model: Model, path: Path | None = None) -> None:
        """Make a trained model the workspace's current one (not an edit)."""
        self._adopting = model if path is None else None
        self.workspace.set_model(model, path=path, edited=False)

    def _model_changed(self) -> None:
        # Workspace.set_model keeps the previous file name when given none; a model
        # fresh from training has no file yet, so Save must ask for one.
        if self._adopting is not None and self.workspace.model is self._adopting:
            self.workspace.model_path = None
        self._adopting = None

    def _runs_changed(self) -> None:
        self.runs.show_runs(self.workspace.runs)
        self.charts.show_runs(self.workspace.runs)

    def use_run_model(self, row: int, size: int) -> None:
        """Open model ``size`` of run ``row`` (asking first if edits would be replaced)."""
        if self.workspace.dirty:
            answer = QMessageBox.question(
                self,
                "Replace the edited model?",
                "The current model has unsaved edits. Open the trained model anyway?",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.adopt_model(self.workspace.runs[row].models[size])

    def can_close(self) -> bool:
        """Asks before stopping a run; then cancels it and waits for the thread."""
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
