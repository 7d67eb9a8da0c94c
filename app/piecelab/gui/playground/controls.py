"""The sampling controls of the playground: α, deterministic only, seed, samples."""

from __future__ import annotations

import random

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

MAX_SAMPLES = 8
ALPHA_MAX = 10.0
ALPHA_DEFAULT = 0.3
# the slider is finer below 1, where most of the change happens: 0.01 steps up to 1,
# then 0.1 steps up to ALPHA_MAX
FINE_STEPS = 100
COARSE_STEPS = round((ALPHA_MAX - 1) * 10)
RESAMPLE_KEYS = QKeySequence("Ctrl+R")
ALPHA_MEANING = (
    "α is an exponent on piece probabilities, not a temperature: "
    "P(segmentation) ∝ Π p(piece)^α. 0 makes every segmentation equally likely, "
    "1 samples with the model's own probabilities, and a larger α comes closer to the "
    "deterministic (Viterbi) segmentation."
)
ALPHA_SHORT = (
    "α is an exponent on piece probabilities, not a temperature: "
    "0 = every segmentation equally likely, larger = closer to Viterbi"
)
ALPHA_RANGE = f"α takes a number from 0 to {ALPHA_MAX:g}"
_ERROR_STYLE = "color: #d62728;"


def slider_to_alpha(position: int) -> float:
    if position <= FINE_STEPS:
        return position / 100
    return 1 + (position - FINE_STEPS) / 10


def alpha_to_slider(alpha: float) -> int:
    if alpha <= 1:
        return round(alpha * 100)
    return FINE_STEPS + round((alpha - 1) * 10)


def shortcut_text(keys: QKeySequence) -> str:
    """The shortcut as the platform writes it (Ctrl+R, ⌘R), for tooltips."""
    return keys.toString(QKeySequence.SequenceFormat.NativeText)


class AlphaSpinBox(QDoubleSpinBox):
    """A spin box that keeps what the user typed even when it is not a valid α.

    QDoubleSpinBox drops a keystroke that makes the text invalid (``20``, ``abc``),
    so the user never learns why; here such text stays visible (Intermediate) and
    :class:`SamplingControls` explains it.
    """

    def validate(self, text: str, pos: int) -> object:
        state, text, pos = super().validate(text, pos)
        if state == QValidator.State.Invalid:
            state = QValidator.State.Intermediate
        return state, text, pos


class SamplingControls(QWidget):
    """α (slider + spin box), deterministic switch, seed, Resample, number of samples."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._build_alpha()
        self.deterministic = QCheckBox("Deterministic only")
        self.deterministic.setToolTip("Hide the sampled panes; show only the Viterbi path")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setValue(0)
        self.seed_spin.setToolTip("Seed of the first sampled pane (the next panes add 1, 2, …)")
        self.resample = QPushButton("Resample")
        self.resample.setToolTip(f"Draw again with a new seed ({shortcut_text(RESAMPLE_KEYS)})")
        # an action, not a button shortcut, so the shortcut sheet lists it; it works
        # anywhere in the window while the playground shows
        self.resample_action = QAction("Resample (new seed)", self)
        self.resample_action.setShortcut(RESAMPLE_KEYS)
        self.resample_action.triggered.connect(self.resample.click)
        self.addAction(self.resample_action)
        self.samples_spin = QSpinBox()
        self.samples_spin.setRange(1, MAX_SAMPLES)
        self.samples_spin.setValue(1)
        self.samples_spin.setToolTip("How many sampled segmentations to show")
        self._lay_out()
        self.deterministic.toggled.connect(self._mode_changed)
        self.seed_spin.valueChanged.connect(self.changed)
        self.samples_spin.valueChanged.connect(self.changed)
        self.resample.clicked.connect(self.new_seed)

    def _build_alpha(self) -> None:
        tip = f"{ALPHA_RANGE}.\n{ALPHA_MEANING}"
        self.alpha_slider = QSlider(Qt.Orientation.Horizontal)
        self.alpha_slider.setRange(0, FINE_STEPS + COARSE_STEPS)
        self.alpha_slider.setValue(alpha_to_slider(ALPHA_DEFAULT))
        self.alpha_slider.setMinimumWidth(120)
        self.alpha_slider.setToolTip(tip + "\nThe slider moves by 0.01 up to 1, then by 0.1.")
        self.alpha_spin = AlphaSpinBox()
        self.alpha_spin.setRange(0.0, ALPHA_MAX)
        self.alpha_spin.setDecimals(2)
        self.alpha_spin.setStepType(QDoubleSpinBox.StepType.AdaptiveDecimalStepType)
        self.alpha_spin.setValue(ALPHA_DEFAULT)
        self.alpha_spin.setKeyboardTracking(False)  # typed α applies on Return or leaving
        self.alpha_spin.setToolTip(tip)
        self.alpha_message = QLabel("")  # why typed text is not an α; hidden when empty
        self.alpha_message.setWordWrap(True)
        self.alpha_message.setStyleSheet(_ERROR_STYLE)
        self.alpha_message.setToolTip(ALPHA_MEANING)
        self.alpha_message.setVisible(False)
        self._typed_problem = ""
        self.alpha_slider.valueChanged.connect(
            lambda v: self.alpha_spin.setValue(slider_to_alpha(v))
        )
        self.alpha_spin.valueChanged.connect(self._spin_changed)
        self.alpha_spin.lineEdit().textEdited.connect(self._alpha_typed)
        self.alpha_spin.editingFinished.connect(self._alpha_finished)

    def _lay_out(self) -> None:
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        for w in (
            QLabel("α"),
            self.alpha_slider,
            self.alpha_spin,
            self.deterministic,
            QLabel("seed"),
            self.seed_spin,
            self.resample,
            QLabel("samples"),
            self.samples_spin,
        ):
            row.addWidget(w)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.alpha_message)

    @property
    def alpha(self) -> float:
        return round(self.alpha_spin.value(), 2)

    @property
    def seed(self) -> int:
        return self.seed_spin.value()

    @property
    def n_samples(self) -> int:
        return 0 if self.deterministic.isChecked() else self.samples_spin.value()

    def new_seed(self) -> None:
        old = self.seed_spin.value()
        seed = old
        while seed == old:
            seed = random.randrange(self.seed_spin.maximum())
        self.seed_spin.setValue(seed)

    # ------------------------------------------------------------- α input
    def alpha_problem(self, text: str) -> str:
        """Why ``text`` is not an α (empty when it is one)."""
        text = text.strip()
        if not text:
            return f"Type a number: {ALPHA_RANGE}."
        value, ok = self.alpha_spin.locale().toDouble(text)
        if not ok:
            return f"“{text}” is not a number: {ALPHA_RANGE}."
        if value < 0:
            return (
                f"α = {text} is below 0: {ALPHA_RANGE}. For the most likely (Viterbi) "
                "segmentation alone, tick “Deterministic only”."
            )
        if value > ALPHA_MAX:
            return f"α = {text} is above {ALPHA_MAX:g}: {ALPHA_RANGE}."
        return ""

    def _alpha_typed(self, text: str) -> None:
        self._typed_problem = self.alpha_problem(text)
        self._show_alpha_message(self._typed_problem)

    def _alpha_finished(self) -> None:
        """The spin box put back the last valid α; say so next to the reason."""
        if self._typed_problem:
            self._show_alpha_message(f"{self._typed_problem} Kept α = {self.alpha:g}.")
            self._typed_problem = ""

    def _show_alpha_message(self, message: str) -> None:
        if message:
            message = f"{message} ({ALPHA_SHORT}.)"
        self.alpha_message.setText(message)
        self.alpha_message.setVisible(bool(message))

    def _spin_changed(self, value: float) -> None:
        if not self._typed_problem:  # Return on bad text re-emits the kept α: keep the why
            self._show_alpha_message("")
        self.alpha_slider.blockSignals(True)
        self.alpha_slider.setValue(alpha_to_slider(value))
        self.alpha_slider.blockSignals(False)
        self.changed.emit()

    def _mode_changed(self, on: bool) -> None:
        for w in (self.alpha_slider, self.alpha_spin, self.seed_spin, self.resample):
            w.setEnabled(not on)
        self.resample_action.setEnabled(not on)
        self.samples_spin.setEnabled(not on)
        self.changed.emit()
