"""The sampling controls of the playground: α, deterministic only, seed, samples."""

from __future__ import annotations

import random

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QSpinBox,
    QWidget,
)

MAX_SAMPLES = 8


class SamplingControls(QWidget):
    """α (slider + spin box), deterministic switch, seed, Resample, number of samples."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.alpha_slider = QSlider(Qt.Orientation.Horizontal)
        self.alpha_slider.setRange(1, 100)
        self.alpha_slider.setValue(30)
        self.alpha_slider.setMinimumWidth(120)
        self.alpha_spin = QDoubleSpinBox()
        self.alpha_spin.setRange(0.01, 1.0)
        self.alpha_spin.setSingleStep(0.01)
        self.alpha_spin.setDecimals(2)
        self.alpha_spin.setValue(0.3)
        self.alpha_spin.setToolTip("Sampling temperature α: P(seg) ∝ Π p(piece)^α")
        self.deterministic = QCheckBox("Deterministic only")
        self.deterministic.setToolTip("Hide the sampled panes; show only the Viterbi path")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setValue(0)
        self.resample = QPushButton("Resample")
        self.resample.setToolTip("Draw again with a new seed")
        self.samples_spin = QSpinBox()
        self.samples_spin.setRange(1, MAX_SAMPLES)
        self.samples_spin.setValue(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
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
            layout.addWidget(w)
        layout.addStretch(1)
        self.alpha_slider.valueChanged.connect(lambda v: self.alpha_spin.setValue(v / 100))
        self.alpha_spin.valueChanged.connect(self._spin_changed)
        self.deterministic.toggled.connect(self._mode_changed)
        self.seed_spin.valueChanged.connect(self.changed)
        self.samples_spin.valueChanged.connect(self.changed)
        self.resample.clicked.connect(self.new_seed)

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

    def _spin_changed(self, value: float) -> None:
        self.alpha_slider.blockSignals(True)
        self.alpha_slider.setValue(round(value * 100))
        self.alpha_slider.blockSignals(False)
        self.changed.emit()

    def _mode_changed(self, on: bool) -> None:
        for w in (self.alpha_slider, self.alpha_spin, self.seed_spin, self.resample):
            w.setEnabled(not on)
        self.samples_spin.setEnabled(not on)
        self.changed.emit()
