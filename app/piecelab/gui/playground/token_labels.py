"""What a token looks like in a pane: its label, width and flags, and the stats line.

Labels come from :func:`piecelab.engine.render.piece_label` with invisible characters
made visible in every font; a per-tokenizer, per-font table fills each id's label
and advance once, so a re-render only looks them up.
"""

from __future__ import annotations

import re
import unicodedata
import weakref

import numpy as np
from PySide6.QtGui import QFontMetricsF

from ...engine import Segmentation, Tokenizer, is_complete, piece_label

# labels made only of these draw exactly where their measured advances say, so a
# line of them is drawn as one string; any other label (RTL, combining marks,
# emoji, complex scripts) makes its line draw token by token
_PLAIN = re.compile(
    "[\x20-\x7e\xa1-\xac\xae-\u024f\u0370-\u03ff\u0400-\u0482\u048a-\u052f"
    "\u2010-\u2027\u2030-\u205e\u2100-\u25ff\u27e8\u27e9\u2e80-\u2fdf\u3000-\u303f"
    "\u3040-\u30ff\u3100-\u9fff\uac00-\ud7a3\uf900-\ufaff\uff01-\uffdc]*"
)


def segmentation_stats(seg: Segmentation) -> str:
    folded = f" ({seg.folded:,} covering no text, shown with a neighbour)" if seg.folded else ""
    return (
        f"{seg.token_count:,} tokens{folded} · {seg.bytes_per_token:.2f} bytes/token · "
        f"{seg.chars_per_token:.2f} chars/token · path log p {seg.score:,.2f}"
    )


def display_label(piece: bytes) -> str:
    """``piece_label`` with visible forms of invisible characters, ◌ before a lone mark."""
    out = []
    for c in piece_label(piece):
        cat = unicodedata.category(c)
        out.append(f"\\u{ord(c):04x}" if cat in ("Cf", "Zl", "Zp", "Cc") else c)
    label = "".join(out)
    if label and unicodedata.category(label[0]).startswith("M"):
        label = "◌" + label
    return label


class _LabelTable:
    """Label, advance, newline count, partial and plain flags per id, filled on demand."""

    def __init__(self, tok: Tokenizer, fm: QFontMetricsF) -> None:
        n = tok.vocab_size
        self.tok, self.fm = weakref.ref(tok), fm
        self.labels = np.empty(n, dtype=object)
        self.adv = np.full(n, np.nan)
        self.newlines = np.zeros(n, dtype=np.int32)
        self.partial = np.zeros(n, dtype=bool)
        self.plain = np.zeros(n, dtype=bool)

    def fill(self, ids: np.ndarray) -> None:
        todo = ids[np.isnan(self.adv[ids])]
        if not len(todo):
            return
        tok = self.tok()
        for i in np.unique(todo).tolist():
            piece = tok.id_to_piece(i)
            piece = piece.encode() if isinstance(piece, str) else piece
            label = display_label(piece)
            self.labels[i] = label
            self.adv[i] = self.fm.horizontalAdvance(label)
            self.newlines[i] = len(piece) - len(piece.rstrip(b"\n"))
            self.partial[i] = not is_complete(piece)
            self.plain[i] = _PLAIN.fullmatch(label) is not None


_TABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def label_table(tok: Tokenizer, fm: QFontMetricsF, font_key: str) -> _LabelTable:
    per_font = _TABLES.setdefault(tok, {})
    table = per_font.get(font_key)
    if table is None:
        table = per_font[font_key] = _LabelTable(tok, fm)
    return table


def same_spans(seg: Segmentation, reference: Segmentation) -> np.ndarray:
    """Per token of ``seg``: is its byte span also a token of ``reference``?"""
    bounds = np.concatenate(([0], reference.ends))
    k = np.searchsorted(bounds, seg.starts)
    k1 = np.minimum(k + 1, len(bounds) - 1)
    hit = (k < len(bounds) - 1) & (bounds[np.minimum(k, len(bounds) - 1)] == seg.starts)
    return hit & (bounds[k1] == seg.ends)
