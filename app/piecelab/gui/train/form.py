"""The training parameters as a form, read into and out of one :class:`TrainSettings`."""

from __future__ import annotations

import os

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ...engine import MAX_ORDER, TrainSettings, parse_sizes, ray_available
from ..saving import MODEL_FILES
from ..widgets import heldout_spin

TIPS = {
    "order": "Longest byte n-gram of the model that proposes pieces (BytePiece: 6). "
    "Higher finds longer pieces and needs more memory.",
    "sizes": "Vocabulary sizes to train, comma separated (each ≥ 259: 256 bytes + 3 special "
    "ids). One run yields a model per size, each pruned from the larger one.",
    "min_count": "N-grams and pieces seen fewer times than this are dropped (BytePiece: 2).",
    "max_piece_length": "Longest piece in bytes.",
    "isolate_digits": "Cut before and after every digit, so numbers are spelled digit by digit.",
    "ensure_unicode": "No piece may start inside a UTF-8 character (keeps pieces readable).",
    "workers": "Threads counting and segmenting in parallel (on a local Ray: its CPUs).",
    "where": "Where the two counting passes run: on this machine's threads, or as tasks on "
    "a Ray cluster (the model is the same). Pruning runs here either way.",
    "address": "local: start a Ray on this machine with the workers above (stopped after "
    "the run). auto, HOST:PORT or ray://HOST:PORT: join a running cluster, whose workers "
    "must see the corpus files at the same paths.",
    "heldout": "Share of documents kept out of training to measure bytes per token on unseen "
    "text (the same setting as in the Corpus view).",
    "reestimate": "After pruning, segment the corpus again with each final vocabulary and "
    "recount its pieces (one more pass; counts then match the tokenizer's use).",
    "curve": "Also measure held-out bytes per token at this many sizes, from the largest "
    "size down to an eighth of it, by pruning on (the Held-out chart draws them as they come; "
    "needs a held-out share). Costs little: no corpus pass, only the held-out text.",
    "output": "Optional: write the models here when the run succeeds (several sizes: "
    "FILE.SIZE). A cancelled run writes nothing.",
    "adopt": "Open the largest trained model in the playground when the run succeeds "
    "(skipped while the current model has unsaved edits).",
}


def _spin(lo: int, hi: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setToolTip(tip)
    return box


class CurveSpin(QSpinBox):
    """Curve points: off (0) or 2 to MAX_CURVE; stepping skips 1 (a curve needs two)."""

    def __init__(self, tip: str) -> None:
        super().__init__()
        self.setRange(0, TrainSettings.MAX_CURVE)
        self.setSpecialValueText("off")
        self.setToolTip(tip)

    def stepBy(self, steps: int) -> None:
        if self.value() + steps == 1:
            steps += 1 if steps > 0 else -1
        super().stepBy(steps)


def _check(text: str, tip: str) -> QCheckBox:
    box = QCheckBox(text)
    box.setToolTip(tip)
    return box


class TrainForm(QGroupBox):
    """Order, sizes, counts, options, held-out share, output file and "use when done"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Parameters", parent)
        self.order = _spin(1, MAX_ORDER, TIPS["order"])
        self.sizes = QLineEdit()
        self.sizes.setToolTip(TIPS["sizes"])
        self.min_count = _spin(1, 1_000_000_000, TIPS["min_count"])
        self.max_piece_length = _spin(1, 255, TIPS["max_piece_length"])
        self.isolate_digits = _check("isolate digits", TIPS["isolate_digits"])
        self.ensure_unicode = _check("ensure Unicode", TIPS["ensure_unicode"])
        self.workers = _spin(1, max(1, os.cpu_count() or 1), TIPS["workers"])
        self.heldout = heldout_spin(TIPS["heldout"])
        self.reestimate = _check("re-estimate counts", TIPS["reestimate"])
        self.curve = CurveSpin(TIPS["curve"])
        self.output = QLineEdit()
        self.output.setPlaceholderText("(not saved)")
        self.output.setToolTip(TIPS["output"])
        self.adopt = _check("use the model when done", TIPS["adopt"])
        self.adopt.setChecked(True)
        self.where = QComboBox()
        self.where.addItems(["This machine", "Ray cluster"])
        self.where.setToolTip(TIPS["where"])
        self.address = QLineEdit("local")
        self.address.setPlaceholderText("local, auto, HOST:PORT or ray://HOST:PORT")
        self.address.setToolTip(TIPS["address"])
        self.address.setEnabled(False)
        self.where.currentIndexChanged.connect(lambda i: self.address.setEnabled(i == 1))
        if not ray_available():
            item = self.where.model().item(1)  # type: ignore[attr-defined]
            item.setEnabled(False)
            item.setToolTip("Ray is not installed: pip install 'piecelab[cluster]'")
        self._lay_out()  # the values: show_settings (the view shows the workspace's)

    def _lay_out(self) -> None:
        browse = QPushButton("…")
        browse.setToolTip(TIPS["output"])
        browse.clicked.connect(self._browse_output)
        out_row = QHBoxLayout()
        out_row.addWidget(self.output, 1)
        out_row.addWidget(browse)
        form = QFormLayout(self)
        for label, field in (
            ("Order", self.order),
            ("Vocabulary sizes", self.sizes),
            ("Min count", self.min_count),
            ("Max piece length", self.max_piece_length),
            ("Workers", self.workers),
            ("Where", self.where),
            ("Ray address", self.address),
            ("Held out", self.heldout),
            ("Curve points", self.curve),
        ):
            form.addRow(label, field)
            form.labelForField(field).setToolTip(field.toolTip())
        for box in (self.isolate_digits, self.ensure_unicode, self.reestimate):
            form.addRow(box)
        form.addRow("Save to", out_row)
        form.addRow(self.adopt)

    def _browse_output(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the trained models as", "", MODEL_FILES)
        if path:
            self.output.setText(path)

    def settings(self) -> TrainSettings:
        """The form's settings; ValueError names the first field that cannot train."""
        return TrainSettings(
            order=self.order.value(),
            vocab_sizes=parse_sizes(self.sizes.text()),
            min_count=self.min_count.value(),
            max_piece_length=self.max_piece_length.value(),
            isolate_digits=self.isolate_digits.isChecked(),
            ensure_unicode=self.ensure_unicode.isChecked(),
            workers=self.workers.value(),
            reestimate=self.reestimate.isChecked(),
            curve=self.curve.value(),
            cluster=self._cluster(),
        ).validate()

    def _cluster(self) -> str:
        if self.where.currentIndex() != 1:
            return ""
        address = self.address.text().strip()
        if not address:
            raise ValueError("Ray address: say local, auto, HOST:PORT or ray://HOST:PORT")
        return address

    def show_settings(self, s: TrainSettings) -> None:
        self.order.setValue(s.order)
        self.sizes.setText(s.sizes_text)
        self.min_count.setValue(s.min_count)
        self.max_piece_length.setValue(s.max_piece_length)
        self.isolate_digits.setChecked(s.isolate_digits)
        self.ensure_unicode.setChecked(s.ensure_unicode)
        self.workers.setValue(s.workers)
        self.reestimate.setChecked(s.reestimate)
        self.curve.setValue(s.curve)
        on_ray = bool(s.cluster.strip()) and ray_available()
        self.where.setCurrentIndex(1 if on_ray else 0)
        if on_ray:
            self.address.setText(s.cluster.strip())
