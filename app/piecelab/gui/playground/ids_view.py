"""Token ids of the editor text (copy as text or JSON) and a decoder for pasted ids."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ...engine import SamplingUnavailable, Tokenizer, Vocabulary, parse_ids
from .token_labels import display_label

_ERROR_STYLE = "color: #d62728;"
NO_MODEL = "No model yet: open one to see the ids of the editor text."
EMPTY_TEXT = "The editor is empty: type some text to see its ids here."


class IdsView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tokenizer: Tokenizer | Vocabulary | None = None
        self.ids: list[int] = []
        self.mode = QComboBox()
        self.mode.addItems(["Deterministic (Viterbi)", "Sampled (α, seed of the first sample)"])
        self.bos = QCheckBox("<bos>")
        self.eos = QCheckBox("<eos>")
        self.ids_text = QPlainTextEdit()
        self.ids_text.setReadOnly(True)
        self.ids_text.setPlaceholderText(NO_MODEL)
        self.summary = QLabel("")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.copy_text = QPushButton("Copy as text")
        self.copy_json = QPushButton("Copy as JSON")
        self.decode_input = QPlainTextEdit()
        self.decode_input.setPlaceholderText("Paste token ids here: 3 17 42  or  [3, 17, 42]")
        self.decode_input.setMaximumHeight(90)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.decoded = QPlainTextEdit()
        self.decoded.setReadOnly(True)
        self.decoded.setPlaceholderText("The decoded text of the pasted ids appears here.")
        self.pieces = QLabel("")
        self.pieces.setWordWrap(True)
        self.pieces.setTextFormat(Qt.TextFormat.PlainText)
        self.error = ""  # the inline message when the pasted ids are bad
        top = QHBoxLayout()  # two rows, so the view fits a narrow window
        top.addWidget(QLabel("Ids of the editor text:"))
        top.addWidget(self.mode, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.bos)
        buttons.addWidget(self.eos)
        buttons.addStretch(1)
        buttons.addWidget(self.copy_text)
        buttons.addWidget(self.copy_json)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(buttons)
        layout.addWidget(self.ids_text, 2)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel("<b>Decode ids</b>"))
        layout.addWidget(self.decode_input)
        layout.addWidget(self.message)
        layout.addWidget(self.decoded, 1)
        layout.addWidget(self.pieces)
        self._source: tuple[str, float, int] = ("", 0.3, 0)
        self.copy_text.clicked.connect(lambda: self.copy(as_json=False))
        self.copy_json.clicked.connect(lambda: self.copy(as_json=True))
        self.decode_input.textChanged.connect(self.decode)
        for box in (self.bos, self.eos):
            box.toggled.connect(self._update_ids)
        self.mode.currentIndexChanged.connect(self._update_ids)

    def show_text(self, tok: Tokenizer | Vocabulary, text: str, alpha: float, seed: int) -> None:
        """Show the ids of ``text`` (sampled mode uses ``alpha`` and ``seed``); another
        library's vocabulary gives its own ids, without <bos>/<eos> (it names its own)."""
        self.tokenizer = tok
        foreign = isinstance(tok, Vocabulary)
        for box in (self.bos, self.eos):
            box.setEnabled(not foreign)
            box.setToolTip(
                "Another library's vocabulary adds its own special ids" if foreign else ""
            )
        self._source = (text, alpha, seed)
        self._update_ids()
        self.decode()

    def _update_ids(self) -> None:
        tok = self.tokenizer
        if tok is None:
            return
        text, alpha, seed = self._source
        sampled = self.mode.currentIndex() == 1
        try:
            if isinstance(tok, Vocabulary):
                self.ids = tok.sample(text, alpha, seed) if sampled else tok.encode(text)
            else:
                self.ids = tok.encode(
                    text,
                    add_bos=self.bos.isChecked(),
                    add_eos=self.eos.isChecked(),
                    alpha=alpha if sampled else -1,
                    seed=seed,
                )
        except SamplingUnavailable as exc:
            self.ids = []
            self.ids_text.setPlainText("")
            self.summary.setText(f"No sampled ids: {exc}")
            return
        except ValueError as exc:
            self.ids = []
            self.ids_text.setPlainText("")
            self.summary.setText(f"This text cannot be encoded: {exc}")
            return
        self.ids_text.setPlaceholderText(EMPTY_TEXT)
        self.ids_text.setPlainText(" ".join(map(str, self.ids)))
        self.summary.setText(f"{len(self.ids):,} ids · vocabulary 0..{tok.vocab_size - 1}")

    def copy(self, as_json: bool) -> str:
        """Put the ids on the clipboard; returns what was copied."""
        out = json.dumps(self.ids) if as_json else " ".join(map(str, self.ids))
        QGuiApplication.clipboard().setText(out)
        return out

    def decode(self) -> None:
        tok = self.tokenizer
        raw = self.decode_input.toPlainText()
        if tok is None or not raw.strip():
            self.error = ""
            self.message.setText("")
            self.decoded.setPlainText("")
            self.pieces.setText("")
            return
        try:
            ids = parse_ids(raw, tok.vocab_size)
            text = tok.decode(ids)
        except ValueError as exc:
            self.error = str(exc)
            self.message.setStyleSheet(_ERROR_STYLE)
            self.message.setText(self.error)
            self.decoded.setPlainText("")
            self.pieces.setText("")
            return
        self.error = ""
        self.message.setStyleSheet("")
        self.message.setText(f"{len(ids):,} ids → {len(text):,} characters")
        self.decoded.setPlainText(text)
        labels = []
        for i in ids[:400]:
            p = tok.id_to_piece(i)
            labels.append(p if isinstance(p, str) else display_label(p))
        more = " …" if len(ids) > 400 else ""
        self.pieces.setText(" │ ".join(labels) + more)
