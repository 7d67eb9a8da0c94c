"""The lattice of a short text, for teaching: every candidate piece as an arc.

Byte positions are nodes along a line, labelled with the characters between
them; every vocabulary piece found in the text is an arc above the line from
its start to its end, labelled with the piece.  The Viterbi path is drawn in
a strong colour and each node carries its forward value F[i] (log Σ over the
segmentations of the bytes before it of exp(α · Σ log p)).  The exact sampler
can be stepped through from the end: at each position the candidate last
pieces with their exact probability, and the one drawn.  The diagram exports
to PNG and SVG for slides (white background, fixed colours).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ...engine import MAX_LATTICE_BYTES, Lattice, Step, Tokenizer, Vocabulary
from .token_labels import display_label

DEFAULT_BYTES = 32  # the text field starts with at most this much of the editor text
DX, MARGIN, LABEL_PAD = 46.0, 34.0, 30.0
ARC_COLOR, VITERBI_COLOR = QColor(150, 150, 150), QColor("#d62728")
CANDIDATE_COLOR, DRAWN_COLOR = QColor("#1f77b4"), QColor("#ff7f0e")
FORWARD_COLOR = QColor(30, 110, 30)
MIN_WIDTH, LEGEND_HEIGHT = 620.0, 22.0
NO_MODEL = "No model yet: open one to see the lattice of a short text."
FOREIGN = "The lattice needs piecelab's engine (BytePiece and SentencePiece Unigram models)."
PROB_ROLE = Qt.ItemDataRole.UserRole


def arc_height(length: int) -> float:
    """How high the arc of a piece of ``length`` bytes rises above the line."""
    return 14.0 + 0.42 * DX * length


class LatticeDiagram(QWidget):
    """The painted lattice: arcs over byte positions (also rendered for export)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lattice: Lattice | None = None
        self.done: list[Step] = []  # the sampler's steps taken so far (from the end)

    def set_state(self, lattice: Lattice | None, done: list[Step]) -> None:
        self.lattice, self.done = lattice, done
        self.setMinimumSize(self.natural_size())
        self.updateGeometry()
        self.update()

    def natural_size(self) -> QSize:
        lat = self.lattice
        if lat is None:
            return QSize(300, 120)
        top = max((arc_height(a.end - a.start) for a in lat.arcs), default=0.0)
        width = max(2 * MARGIN + lat.n * DX, MIN_WIDTH)
        return QSize(int(width), int(top + LABEL_PAD + LEGEND_HEIGHT + 90))

    def sizeHint(self) -> QSize:
        return self.natural_size()

    def baseline(self) -> float:
        return self.natural_size().height() - 80.0

    def x(self, pos: int) -> float:
        return MARGIN + pos * DX

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        try:
            self.render_into(painter, QRectF(self.rect()))
        finally:
            painter.end()

    def render_into(self, painter: QPainter, rect: QRectF) -> None:
        """Paint the diagram (white background) into ``rect`` of ``painter``'s device."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(rect, QColor("white"))
        lat = self.lattice
        if lat is None:
            return
        font = QFont(self.font())
        font.setPointSizeF(9)
        painter.setFont(font)
        self._paint_legend(painter, lat)
        self._paint_arcs(painter, lat)
        self._paint_nodes(painter, lat)

    def _paint_legend(self, painter: QPainter, lat: Lattice) -> None:
        """One line at the top: what the colours and the numbers under the nodes mean."""
        x, y = MARGIN - 20, 6.0
        line = painter.fontMetrics().height()
        keys = [(VITERBI_COLOR, "Viterbi"), (CANDIDATE_COLOR, "candidate last pieces (p)")]
        keys += [(DRAWN_COLOR, "drawn"), (FORWARD_COLOR, f"under the nodes: F[i], α={lat.alpha:g}")]
        for color, text in keys:
            painter.fillRect(QRectF(x, y + line / 2 - 4, 10, 8), color)
            painter.setPen(QColor(40, 40, 40))
            width = painter.fontMetrics().horizontalAdvance(text)
            painter.drawText(QRectF(x + 14, y, width + 2, line), Qt.AlignmentFlag.AlignLeft, text)
            x += width + 30

    def _arc_roles(self, lat: Lattice) -> dict[int, tuple[QColor, float, str]]:
        """The colour, width and extra label of every arc that is not plain."""
        roles = {k: (VITERBI_COLOR, 3.0, "") for k in lat.viterbi}
        if self.done:
            current = self.done[-1]
            for k, p in zip(current.arcs, current.probs):
                roles[k] = (CANDIDATE_COLOR, 2.0, f"p={p:.3f}")
            for st in self.done:
                label = f"p={st.prob:.3f}" if st is current else ""
                roles[st.chosen] = (DRAWN_COLOR, 3.5, label)
        return roles

    def _paint_arcs(self, painter: QPainter, lat: Lattice) -> None:
        y0 = self.baseline()
        roles = self._arc_roles(lat)
        order = sorted(range(len(lat.arcs)), key=lambda k: (k in roles, roles.get(k, (0, 0))[1]))
        metrics = painter.fontMetrics()
        pills: list[tuple[QPointF, QColor, str]] = []
        for k in order:
            arc = lat.arcs[k]
            color, width, extra = roles.get(k, (ARC_COLOR, 1.0, ""))
            xs, xe, h = self.x(arc.start), self.x(arc.end), arc_height(arc.end - arc.start)
            path = QPainterPath(QPointF(xs, y0))
            path.cubicTo(xs, y0 - h * 4 / 3, xe, y0 - h * 4 / 3, xe, y0)
            painter.setPen(QPen(color, width))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            mid = (xs + xe) / 2
            label = display_label(arc.piece)
            box = QRectF(mid - 60, y0 - h - metrics.height() - 1, 120, metrics.height())
            painter.setPen(color.darker(130) if k in roles else QColor(90, 90, 90))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, label)
            if extra:
                pills.append((path.pointAtPercent(0.3), color, extra))
        for centre, color, text in pills:  # the probabilities, on top of every arc
            w, h = metrics.horizontalAdvance(text) + 8, metrics.height() + 2
            box = QRectF(centre.x() - w / 2, centre.y() - h / 2, w, h)
            painter.setPen(QPen(color, 1.0))
            painter.setBrush(QColor("white"))
            painter.drawRoundedRect(box, 4, 4)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_nodes(self, painter: QPainter, lat: Lattice) -> None:
        y0 = self.baseline()
        metrics = painter.fontMetrics()
        line = metrics.height()
        here = lat.arcs[self.done[-1].chosen].start if self.done else None
        painter.setPen(QPen(QColor(60, 60, 60), 1.0))
        painter.drawLine(QPointF(self.x(0), y0), QPointF(self.x(lat.n), y0))
        chars = {}
        for b in range(lat.n):  # each character centred over its bytes
            c = int(lat.char_of_byte[b])
            chars[c] = (chars.get(c, (b, b))[0], b + 1)
        for c, (b0, b1) in chars.items():
            box = QRectF(self.x(b0), y0 + 6, self.x(b1) - self.x(b0), line)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, display_label(lat.text[c].encode()))
        for i in range(lat.n + 1):
            x = self.x(i)
            painter.setBrush(DRAWN_COLOR if i == here else QColor("white"))
            painter.setPen(QPen(QColor(40, 40, 40), 1.2))
            painter.drawEllipse(QPointF(x, y0), 4.0, 4.0)
            f = lat.forward[i]
            text = f"{f:.2f}" if math.isfinite(f) else "−∞"
            painter.setPen(FORWARD_COLOR)
            painter.drawText(
                QRectF(x - DX / 2, y0 + 8 + line, DX, line), Qt.AlignmentFlag.AlignCenter, text
            )
            painter.setPen(QColor(130, 130, 130))
            painter.drawText(
                QRectF(x - DX / 2, y0 + 10 + 2 * line, DX, line),
                Qt.AlignmentFlag.AlignCenter,
                str(i),
            )

    def export_png(self, path: str, scale: float = 2.0) -> bool:
        size = self.natural_size()
        image = QImage(
            int(size.width() * scale), int(size.height() * scale), QImage.Format.Format_ARGB32
        )
        image.fill(QColor("white"))
        painter = QPainter(image)
        try:
            painter.scale(scale, scale)
            self.render_into(painter, QRectF(0, 0, size.width(), size.height()))
        finally:
            painter.end()
        return image.save(path, "PNG")

    def export_svg(self, path: str) -> None:
        from PySide6.QtSvg import QSvgGenerator  # only when exporting

        size = self.natural_size()
        gen = QSvgGenerator()
        gen.setFileName(path)
        gen.setSize(size)
        gen.setViewBox(QRectF(0, 0, size.width(), size.height()))
        gen.setTitle("piecelab lattice")
        painter = QPainter(gen)
        try:
            self.render_into(painter, QRectF(0, 0, size.width(), size.height()))
        finally:
            painter.end()


class LatticeView(QWidget):
    """The Lattice tab: a text field, α and seed, the diagram, and the sampler's steps."""

    def __init__(self, editor: QPlainTextEdit | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.editor = editor
        self.tokenizer: Tokenizer | None = None
        self.unavailable = NO_MODEL
        self.lattice: Lattice | None = None
        self.steps: list[Step] = []  # the whole seeded walk; the first `taken` are shown
        self.taken = 0
        self._stale = True
        self.diagram = LatticeDiagram()
        self._build_controls()
        self.status = QLabel(NO_MODEL)
        self.status.setWordWrap(True)
        self.status.setMinimumHeight(3 * self.status.fontMetrics().lineSpacing() + 4)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["Last piece", "Bytes", "α·log p", "F[start]", "P"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setMaximumHeight(150)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.diagram)
        layout = QVBoxLayout(self)
        layout.addLayout(self._inputs_row())
        layout.addWidget(scroll, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.table)
        layout.addLayout(self._buttons_row())
        self._connect()

    def _build_controls(self) -> None:
        self.text_edit = QLineEdit()
        self.text_edit.setPlaceholderText(f"A short text (at most {MAX_LATTICE_BYTES} bytes)")
        self.text_edit.setToolTip(
            f"The text whose lattice is drawn (at most {MAX_LATTICE_BYTES} UTF-8 bytes)"
        )
        self.editor_button = QPushButton("Use editor selection")
        self.editor_button.setToolTip(
            f"The editor's selection, or the first {DEFAULT_BYTES} bytes of its text"
        )
        self.alpha_spin = QDoubleSpinBox()
        self.alpha_spin.setRange(0.0, 100.0)
        self.alpha_spin.setDecimals(2)
        self.alpha_spin.setSingleStep(0.1)
        self.alpha_spin.setValue(1.0)
        self.alpha_spin.setToolTip("α: the sampler draws a segmentation with P ∝ Π p(piece)^α")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("The seed of the step-through's draw")
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("Draw the next piece, walking back from the end of the text")
        self.all_button = QPushButton("Draw all")
        self.reset_button = QPushButton("Reset")
        self.png_button = QPushButton("Export PNG…")
        self.svg_button = QPushButton("Export SVG…")

    def _inputs_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Text"))
        row.addWidget(self.text_edit, 1)
        row.addWidget(self.editor_button)
        row.addWidget(QLabel("α"))
        row.addWidget(self.alpha_spin)
        row.addWidget(QLabel("Seed"))
        row.addWidget(self.seed_spin)
        return row

    def _buttons_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        for b in (self.step_button, self.all_button, self.reset_button):
            row.addWidget(b)
        row.addStretch(1)
        row.addWidget(self.png_button)
        row.addWidget(self.svg_button)
        return row

    def _connect(self) -> None:
        self.text_edit.textChanged.connect(self.rebuild)
        self.alpha_spin.valueChanged.connect(self.rebuild)
        self.seed_spin.valueChanged.connect(self.reset)
        self.editor_button.clicked.connect(self.use_editor_text)
        self.step_button.clicked.connect(self.step)
        self.all_button.clicked.connect(self.draw_all)
        self.reset_button.clicked.connect(self.reset)
        self.png_button.clicked.connect(self.export_png)
        self.svg_button.clicked.connect(self.export_svg)

    # ------------------------------------------------------------- model and text
    def set_tokenizer(self, tok: Tokenizer | Vocabulary | None) -> None:
        """Draw ``tok``'s lattices (piecelab's engine only); built when the tab shows."""
        self.tokenizer = tok if isinstance(tok, Tokenizer) else None
        self.unavailable = (
            "" if self.tokenizer is not None else (FOREIGN if tok is not None else NO_MODEL)
        )
        self._stale = True
        if self.isVisible():
            self.rebuild()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self.text_edit.text() and self.editor is not None:
            self.use_editor_text()  # (rebuilds)
        elif self._stale:
            self.rebuild()

    def use_editor_text(self) -> None:
        """The editor's selection, or the first DEFAULT_BYTES bytes of its text."""
        if self.editor is None:
            return
        text = self.editor.textCursor().selectedText().replace("\u2029", "\n")
        if not text:
            head = self.editor.toPlainText().encode("utf-8", "surrogatepass")[:DEFAULT_BYTES]
            text = head.decode("utf-8", "ignore")
        if text == self.text_edit.text():
            self.rebuild()
        self.text_edit.setText(text)

    def rebuild(self) -> None:
        """The lattice of the text field under α, and a fresh step-through."""
        self._stale = False
        self.lattice = None
        if self.tokenizer is None:
            self._show_message(self.unavailable)
            return
        try:
            self.lattice = self.tokenizer.lattice(self.text_edit.text(), self.alpha_spin.value())
        except ValueError as exc:
            self._show_message(f"No lattice: {exc}")
            return
        self.reset()

    def _show_message(self, text: str) -> None:
        self.steps, self.taken = [], 0
        self.diagram.set_state(None, [])
        self.table.setRowCount(0)
        self.status.setText(text)
        self._update_buttons()

    # ------------------------------------------------------------- the step-through
    def reset(self) -> None:
        """Back to the end of the text, with a fresh draw of the current seed."""
        lat = self.lattice
        if lat is None:
            return
        self.steps = lat.sampler_steps(self.seed_spin.value())
        self.taken = 0
        self._show_steps()

    def step(self) -> None:
        if self.taken < len(self.steps):
            self.taken += 1
            self._show_steps()

    def draw_all(self) -> None:
        self.taken = len(self.steps)
        self._show_steps()

    @property
    def current(self) -> Step | None:
        return self.steps[self.taken - 1] if self.taken else None

    def _show_steps(self) -> None:
        lat = self.lattice
        assert lat is not None
        self.diagram.set_state(lat, self.steps[: self.taken])
        self._fill_table(self.current)
        self.status.setText(self._status_text(lat))
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.lattice is not None
        self.step_button.setEnabled(has and self.taken < len(self.steps))
        self.all_button.setEnabled(has and self.taken < len(self.steps))
        self.reset_button.setEnabled(has and self.taken > 0)
        self.png_button.setEnabled(has)
        self.svg_button.setEnabled(has)

    def _status_text(self, lat: Lattice) -> str:
        vit = " │ ".join(display_label(p) for p in lat.pieces(lat.viterbi))
        head = (
            f"{lat.n} bytes, {len(lat.arcs)} candidate pieces; log Z(α={lat.alpha:g}) = "
            f"{lat.log_partition:.4f}.  Viterbi (red): {vit}."
        )
        st = self.current
        if st is None:
            return f"{head}  Press Step to draw the last piece (from byte {lat.n})."
        arc = lat.arcs[st.chosen]
        text = (
            f"{head}  Step {self.taken} of {len(self.steps)}: at byte {st.end}, "
            f"{len(st.arcs)} candidate last piece(s); drew ‘{display_label(arc.piece)}’ "
            f"(bytes {arc.start}–{arc.end}, p = {st.prob:.4f})"
        )
        if self.taken < len(self.steps):
            return f"{text}; next: the prefix of {arc.start} bytes."
        prob = math.prod(s.prob for s in self.steps)
        drawn = " │ ".join(display_label(lat.arcs[s.chosen].piece) for s in reversed(self.steps))
        return f"{text}.  Drawn: {drawn}; P = Π of the choices = {prob:.4g}."

    def _fill_table(self, st: Step | None) -> None:
        lat = self.lattice
        rows = [] if st is None or lat is None else list(zip(st.arcs, st.probs))
        self.table.setRowCount(len(rows))
        for r, (k, p) in enumerate(rows):
            arc = lat.arcs[k]
            mark = "  ◀ drawn" if k == st.chosen else ""
            cells = [
                f"{display_label(arc.piece)}{mark}",
                f"{arc.start}–{arc.end}",
                f"{lat.alpha * arc.logp:.4f}",
                f"{lat.forward[arc.start]:.4f}",
                f"{p:.4f}",
            ]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(PROB_ROLE, p)
                if k == st.chosen:
                    item.setForeground(DRAWN_COLOR.darker(120))
                self.table.setItem(r, c, item)

    def shown_probabilities(self) -> list[tuple[int, float]]:
        """(arc index, probability) of the rows in the table (for tests and tools)."""
        st = self.current
        if st is None:
            return []
        return [(k, self.table.item(r, 4).data(PROB_ROLE)) for r, k in enumerate(st.arcs)]

    # ------------------------------------------------------------- export
    def export_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the lattice as PNG", "lattice.png", "PNG images (*.png)"
        )
        if path and not self.diagram.export_png(path):
            self.status.setText(f"Could not write {path}.")

    def export_svg(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the lattice as SVG", "lattice.svg", "SVG images (*.svg)"
        )
        if path:
            self.diagram.export_svg(path)
