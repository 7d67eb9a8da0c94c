"""Render a segmentation as colored token boxes (hex for partial characters).

``TokenView`` is a custom-painted scroll area, not a rich-text document: labels
and their widths come from a per-tokenizer table filled once per id, the line
wrap is a few ``searchsorted`` calls per line, and ``paintEvent`` draws only the
visible lines, each line's fills as one image row and, when its labels are
plain (Latin, CJK, symbols), its text as one string.  A 5 KB paragraph
re-renders in a few milliseconds.  Hit-testing maps the mouse to a token for the
tooltip and for hover links between panes (by byte span, the same in every pane
of the same text).
"""

from __future__ import annotations

import html
import math

import numpy as np
from PySide6.QtCore import QEvent, QLineF, QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QSizePolicy,
    QToolTip,
    QWidget,
)

from ...engine import N_SPECIAL, Segmentation, Tokenizer, Vocabulary, hex_bytes, is_complete
from .token_labels import display_label, label_table, same_spans

# fills are semi-transparent over the palette's base, so text stays readable in
# light and dark themes; the text itself is always the palette's text color
HUES = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948")
FILL_ALPHA = 80
GRAYS = ("#8c8c8c", "#5f5f5f")  # fills of tokens that hold part of a character (hex labels)
DIFF_COLOR = QColor("#d62728")
BOUNDARY_COLOR = QColor("#e15759")  # the heat strip of boundary probabilities
BOUNDARY_LEVELS = 8  # shades of the strip (one pen each, so one draw call each)
BOUNDARY_TICK = 6  # px: the strip's height along each token's lower edge
LINE_CACHE = 2000  # rendered lines kept per view: typing re-renders only the lines it changes
_ARGB = QImage.Format.Format_ARGB32_Premultiplied
SEP = "\u2002\u2009"  # en space + thin space: the room between two labels of one line
PAD_V, MARGIN, VGAP = 2, 6, 4
NO_MODEL = "No model yet: open one with File ▸ Open model… or drop a model file on the window."
EMPTY_TEXT = "The text is empty: type or paste some in the editor."


def _plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def span_text(start: int, end: int, noun: str) -> str:
    """``[3, 6): bytes 3 to 5 (3 bytes)``: the half-open span spelled out."""
    inside = f"{noun} {start}" if end - start == 1 else f"{noun}s {start} to {end - 1}"
    return f"[{start}, {end}): {inside} ({_plural(end - start, noun)})"


def char_span_text(seg: Segmentation, start: int, end: int, complete: bool) -> str:
    """The characters that bytes ``[start, end)`` touch, in the (NFC) text."""
    cob = seg.char_of_byte
    c0, c1 = int(cob[start]), int(cob[end - 1]) + 1
    text = span_text(c0, c1, "character")
    return text if complete else f"{text}; the token holds only part of a character"


def _premultiplied(color: QColor, alpha: int) -> int:
    a = alpha / 255
    r, g, b = (round(v * a) for v in (color.red(), color.green(), color.blue()))
    return (alpha << 24) | (r << 16) | (g << 8) | b


class TokenView(QAbstractScrollArea):
    """A read-only pane showing one segmentation as colored boxes.

    ``hovered(start, end)`` reports the byte span under the mouse (``-1, -1``
    when it leaves a token); :meth:`set_highlight` fills the tokens that overlap
    a span (the hover of another pane).
    """

    hovered = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewport().setMouseTracking(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.segmentation: Segmentation | None = None
        self.tokenizer: Tokenizer | None = None
        self.labels: list[str] = []
        self.different = np.zeros(0, dtype=bool)
        self.last_tooltip = ""
        self.empty_message = NO_MODEL  # drawn while there is no segmentation
        self._highlight: tuple[int, int] | None = None
        self.boundaries: np.ndarray | None = None  # P(boundary) per byte offset, or None
        self._hover = -1
        self._layout_width = -1.0
        self._fills = np.array([_premultiplied(QColor(h), FILL_ALPHA) for h in HUES], np.uint32)
        self._grays = np.array([_premultiplied(QColor(g), FILL_ALPHA) for g in GRAYS], np.uint32)
        self._line_cache: dict[tuple, QImage] = {}
        self._set_arrays(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int32))

    def _set_arrays(self, ids, adv, newlines, partial=None, plain=None) -> None:
        n = len(ids)
        self._fm = QFontMetricsF(self.font())
        self._sep = self._fm.horizontalAdvance(SEP)
        self._w = adv + self._sep
        self._newlines = newlines
        self._partial = partial if partial is not None else np.zeros(n, dtype=bool)
        self._plain = plain if plain is not None else np.ones(n, dtype=bool)
        seg = self.segmentation
        self._starts = seg.starts if seg is not None else np.zeros(0, np.int64)
        self._ends = seg.ends if seg is not None else np.zeros(0, np.int64)

    # ------------------------------------------------------------- content
    def show_segmentation(
        self,
        seg: Segmentation,
        tokenizer: Tokenizer | Vocabulary,
        reference: Segmentation | None = None,
    ) -> None:
        """Show ``seg``; tokens whose byte span is not one of ``reference``'s are marked."""
        self.segmentation, self.tokenizer = seg, tokenizer
        self.boundaries = None  # they belong to a text: the caller sets the new ones
        font_key = self.font().key()
        table = label_table(tokenizer, QFontMetricsF(self.font()), font_key)
        ids = seg.ids
        table.fill(ids)
        self.labels = table.labels[ids].tolist()
        self._set_arrays(
            ids, table.adv[ids], table.newlines[ids], table.partial[ids], table.plain[ids]
        )
        self.set_reference(reference, update=False)
        self._hover = -1
        self._relayout(force=True)

    def set_reference(self, reference: Segmentation | None, update: bool = True) -> None:
        seg = self.segmentation
        if seg is None or reference is None or reference.data != seg.data:
            self.different = np.zeros(len(seg) if seg is not None else 0, dtype=bool)
        else:
            self.different = ~same_spans(seg, reference)
        if update:
            self.viewport().update()

    def set_boundaries(self, marginals: np.ndarray | None) -> None:
        """Draw P(a token boundary) at each byte offset of the shown text as a heat
        strip along the tokens' lower edges (None, or another text's: no strip)."""
        seg = self.segmentation
        fits = marginals is not None and seg is not None and len(marginals) == len(seg.data) + 1
        self.boundaries = marginals if fits else None
        self.viewport().update()

    def set_highlight(self, start: int, end: int) -> None:
        """Fill the tokens overlapping bytes ``[start, end)``; ``start < 0`` clears."""
        new = (start, end) if start >= 0 else None
        if new != self._highlight:
            self._highlight = new
            self.viewport().update()

    def clear(self, message: str = "") -> None:
        """Show no tokens, only ``message`` (by default: how to get a model)."""
        self.empty_message = message or NO_MODEL
        self.segmentation = None
        self.labels = []
        self.different = np.zeros(0, dtype=bool)
        self._set_arrays(np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int32))
        self._relayout(force=True)

    # ------------------------------------------------------------- layout
    def _line_height(self) -> int:
        return math.ceil(self._fm.height()) + 2 * PAD_V + VGAP

    def height_for_lines(self, lines: int) -> int:
        """The widget height that shows ``lines`` lines of tokens without scrolling."""
        return lines * self._line_height() + 2 * MARGIN + 2 * self.frameWidth()

    def _relayout(self, force: bool = False) -> None:
        """Greedy line wrap, vectorized: the next line's start for every possible start."""
        width = max(self.viewport().width() - 2 * MARGIN, 40)
        if width == self._layout_width and not force:
            return
        self._layout_width = width
        w, nl = self._w, self._newlines
        n = len(w)
        cum = np.zeros(n + 1)
        np.cumsum(w, out=cum[1:])
        pos = np.arange(n)
        # a line starting at token a ends before the first token that overflows it,
        # after at least one token, and right after a newline token
        nxt = np.maximum(np.searchsorted(cum, cum[:-1] + width, side="right") - 1, pos + 1)
        brk = np.minimum.accumulate(np.where(nl > 0, pos, n)[::-1])[::-1]
        nxt = np.minimum(nxt, brk + 1).tolist()
        steps = np.maximum(nl, 1)[np.minimum(nxt, n) - 1 if n else pos].tolist()
        la, lnum = [], []
        a = line = 0
        while a < n:
            la.append(a)
            lnum.append(line)
            line += steps[a]
            a = nxt[a]
        self._la = np.array(la, dtype=np.int64)
        self._lb = np.append(self._la[1:], n).astype(np.int64)
        self._lnum = np.array(lnum, dtype=np.int64)
        line_start = np.repeat(self._la, self._lb - self._la)
        self._x = x = cum[:-1] - cum[line_start]
        # each line's fills as one image row: (gap, box) run lengths and colors
        left = np.floor(x).astype(np.int64)
        right = np.floor(x + w).astype(np.int64) - 1
        prev = np.concatenate(([0], right[:-1]))
        prev[self._la] = 0
        phase = pos - line_start
        self._runs = np.empty(2 * n, dtype=np.int64)
        self._runs[0::2] = np.maximum(left - prev, 0)
        self._runs[1::2] = np.maximum(right - left, 1)
        self._colors = np.zeros(2 * n, dtype=np.uint32)
        self._colors[1::2] = np.where(
            self._partial, self._grays[phase % 2], self._fills[phase % len(self._fills)]
        )
        n_lines = line if n and nl[-1] else (line + 1 if n else 0)
        content = n_lines * self._line_height() + 2 * MARGIN
        bar = self.verticalScrollBar()
        bar.setRange(0, max(0, content - self.viewport().height()))
        bar.setPageStep(self.viewport().height())
        bar.setSingleStep(self._line_height())
        self.viewport().update()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._relayout()

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        kind = event.type()
        if kind in (QEvent.Type.FontChange, QEvent.Type.PaletteChange):
            self._line_cache.clear()
            if kind == QEvent.Type.FontChange and self.segmentation is not None:
                self.show_segmentation(self.segmentation, self.tokenizer)
            self.viewport().update()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        self.viewport().update()

    def token_rect(self, i: int) -> QRect:
        """Token ``i``'s box in viewport coordinates."""
        return self._rects(np.array([i]))[0].toRect()

    def token_at(self, pos: QPoint) -> int | None:
        """The index of the token under ``pos`` (viewport coordinates), or None."""
        if not len(self._w):
            return None
        lh = self._line_height()
        y = pos.y() + self.verticalScrollBar().value() - MARGIN
        if y < 0 or y % lh >= lh - VGAP:
            return None
        k = int(np.searchsorted(self._lnum, y // lh))
        if k >= len(self._lnum) or self._lnum[k] != y // lh:
            return None
        a, b = int(self._la[k]), int(self._lb[k])
        x = pos.x() - MARGIN
        i = a + int(np.searchsorted(self._x[a:b], x, side="right")) - 1
        if i >= a and x < self._x[i] + self._w[i] - 1:
            return i
        return None

    # ------------------------------------------------------------- painting
    def _rects(self, idx: np.ndarray, inset: float = 0.0) -> list[QRectF]:
        """Boxes of tokens ``idx`` in viewport coordinates (vectorized)."""
        lh = self._line_height()
        k = np.searchsorted(self._la, idx, side="right") - 1
        y = MARGIN + self._lnum[k] * lh - self.verticalScrollBar().value() + inset
        left = np.floor(MARGIN + self._x[idx]) + inset
        width = np.floor(MARGIN + self._x[idx] + self._w[idx]) - 1 - inset - left
        h = lh - VGAP - 2 * inset
        return [
            QRectF(x0, y0, w0, h) for x0, y0, w0 in zip(left.tolist(), y.tolist(), width.tolist())
        ]

    def _render_line(self, a: int, b: int) -> QImage:
        """Fills and text of the tokens ``a..b`` of one line, drawn from x = 0."""
        row = np.repeat(self._colors[2 * a : 2 * b], self._runs[2 * a : 2 * b])
        width = len(row)
        fill = QImage(row.tobytes(), width, 1, 4 * width, _ARGB)
        dpr = self.devicePixelRatioF()
        box_h = self._line_height() - VGAP
        img = QImage(math.ceil(width * dpr), math.ceil(box_h * dpr), _ARGB)
        img.setDevicePixelRatio(dpr)
        img.fill(0)
        p = QPainter(img)
        p.drawImage(QRectF(0, 0, width, box_h), fill)
        p.setFont(self.font())
        p.setPen(self.palette().color(QPalette.ColorRole.Text))
        half, base = self._sep / 2, PAD_V + self._fm.ascent()
        if self._plain[a:b].all():
            p.drawText(QPointF(half, base), SEP.join(self.labels[a:b]))
        else:
            for i, xi in zip(range(a, b), self._x[a:b].tolist()):
                p.drawText(QPointF(xi + half, base), self.labels[i])
        p.end()
        return img

    def paintEvent(self, event) -> None:
        p = QPainter(self.viewport())
        pal = self.palette()
        if not len(self._w):
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            msg = self.empty_message if self.segmentation is None else EMPTY_TEXT
            flags = Qt.TextFlag.TextWordWrap
            p.drawText(self.viewport().rect().adjusted(MARGIN, MARGIN, -MARGIN, 0), flags, msg)
            return
        lh = self._line_height()
        top = self.verticalScrollBar().value()
        clip = event.rect()
        first = (clip.top() + top - MARGIN) // lh
        last = (clip.bottom() + top - MARGIN) // lh
        k0 = int(np.searchsorted(self._lnum, first))
        k1 = int(np.searchsorted(self._lnum, last, side="right"))
        if k0 >= k1:
            return
        cache, labels, partial = self._line_cache, self.labels, self._partial
        dpr = self.devicePixelRatioF()
        for k in range(k0, k1):
            a, b = int(self._la[k]), int(self._lb[k])
            key = (dpr, tuple(labels[a:b]), partial[a:b].tobytes())
            img = cache.get(key)
            if img is None:
                img = cache[key] = self._render_line(a, b)
                if len(cache) > LINE_CACHE:
                    del cache[next(iter(cache))]
            p.drawImage(QPointF(MARGIN, MARGIN + int(self._lnum[k]) * lh - top), img)
        self._marks(p, int(self._la[k0]), int(self._lb[k1 - 1]), pal)

    def _marks(self, p: QPainter, lo: int, hi: int, pal: QPalette) -> None:
        """Hover highlight and differing-token outlines of the visible tokens ``lo..hi``."""
        hl = self._highlight
        if hl is not None:
            lit = np.flatnonzero((self._starts[lo:hi] < hl[1]) & (self._ends[lo:hi] > hl[0]))
            color = QColor(pal.color(QPalette.ColorRole.Highlight))
            color.setAlpha(110)
            for r in self._rects(lit + lo):
                p.fillRect(r, color)
        diff = np.flatnonzero(self.different[lo:hi]) + lo
        if len(diff):
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(DIFF_COLOR, 2))
            p.drawRects(self._rects(diff, inset=1))
        if self.boundaries is not None:
            self._boundary_strip(p, lo, hi)
        if 0 <= self._hover < len(self._w):
            r = self._rects(np.array([self._hover]))[0]
            p.setPen(QPen(pal.color(QPalette.ColorRole.Highlight), 2))
            p.drawLine(r.bottomLeft(), r.bottomRight())

    def _boundary_strip(self, p: QPainter, lo: int, hi: int) -> None:
        """A tick per byte offset of the visible tokens, as dark as P(boundary) there;
        inside a token the offsets are spread evenly over its box (vectorized: a 5 KB
        paragraph's strip costs a few ms, not the frame)."""
        marg = self.boundaries
        assert marg is not None and hi > lo
        rects = self._rects(np.arange(lo, hi))
        left = np.array([r.left() for r in rects])
        width = np.array([r.width() for r in rects])
        bottom = np.array([r.bottom() for r in rects])
        starts, ends = self._starts[lo:hi], self._ends[lo:hi]
        offsets = np.arange(int(starts[0]), int(ends[-1]))
        q = marg[offsets]
        keep = q >= 0.005
        offsets, q = offsets[keep], q[keep]
        k = np.searchsorted(ends, offsets, side="right")  # the token holding each offset
        x = left[k] + (offsets - starts[k]) * width[k] / np.maximum(ends[k] - starts[k], 1)
        y1 = bottom[k]
        level = np.minimum((q * BOUNDARY_LEVELS).astype(np.int64), BOUNDARY_LEVELS - 1)
        for lv in np.unique(level).tolist():
            pick = level == lv
            lines = [
                QLineF(a, b - BOUNDARY_TICK, a, b)
                for a, b in zip(x[pick].tolist(), y1[pick].tolist())
            ]
            color = QColor(BOUNDARY_COLOR)
            color.setAlpha(40 + 215 * (lv + 1) // BOUNDARY_LEVELS)
            p.setPen(QPen(color, 2))
            p.drawLines(lines)

    # ------------------------------------------------------------- hover
    def tooltip_text(self, i: int) -> str:
        """Id, bytes (hex), text, byte and character spans, count and log p of token ``i``."""
        seg = self.segmentation
        assert seg is not None
        tid = int(seg.ids[i])
        s, e = int(self._starts[i]), int(self._ends[i])
        piece = seg.data[s:e]
        tok = self.tokenizer
        if isinstance(tok, Vocabulary):  # another library's: its piece, and its score or rank
            score = f"{float(tok.scores[tid]):.4f}".rstrip("0").rstrip(".")
            own = [("piece", display_label(tok.pieces[tid])), (tok.score_name, score)]
        else:
            count = "?"
            if tok is not None and N_SPECIAL <= tid < tok.vocab_size:
                count = f"{int(tok.model.counts[tid - N_SPECIAL]):,}"
            own = [("count", count), ("log p", f"{float(seg.logps[i]):.4f}")]
        complete = is_complete(piece)
        rows = [
            ("id", str(tid)),
            ("text", display_label(piece) + ("" if complete else " (part of a character)")),
            ("bytes", f"{hex_bytes(piece)[1:-1]} ({_plural(len(piece), 'byte')})"),
            ("byte span", span_text(s, e, "byte")),
            ("characters", char_span_text(seg, s, e, complete)),
            *own,
        ]
        if self.different[i]:
            rows.append(("", "boundary differs from the deterministic segmentation"))
        body = "".join(
            f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>" for k, v in rows
        )
        note = "Spans are half-open: [start, end) holds start to end − 1, counted from 0."
        return f"<table>{body}</table><small>{html.escape(note)}</small>"

    def viewportEvent(self, event) -> bool:
        kind = event.type()
        if kind == QEvent.Type.ToolTip:
            i = self.token_at(event.pos())
            if i is None:
                QToolTip.hideText()
                self.last_tooltip = ""
                event.ignore()
            else:
                self.last_tooltip = self.tooltip_text(i)
                QToolTip.showText(event.globalPos(), self.last_tooltip, self.viewport())
            return True
        if kind == QEvent.Type.MouseMove:
            self._set_hover(self.token_at(event.position().toPoint()))
        elif kind == QEvent.Type.Leave:
            self._set_hover(None)
        return super().viewportEvent(event)

    def _set_hover(self, i: int | None) -> None:
        i = -1 if i is None else i
        if i == self._hover:
            return
        self._hover = i
        self.viewport().update()
        if i < 0:
            self.hovered.emit(-1, -1)
        else:
            self.hovered.emit(int(self._starts[i]), int(self._ends[i]))
