"""Render a segmentation as colored token spans (hex for partial characters)."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QTextBrowser, QWidget

from ..engine import Segmentation
from ..engine.render import piece_label

# pairs readable on light and dark backgrounds (text colour stays the palette's)
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#76b7b2", "#edc948")


def segmentation_html(seg: Segmentation) -> str:
    parts = []
    for k, piece in enumerate(seg.pieces):
        color = PALETTE[k % len(PALETTE)]
        label = html.escape(piece_label(piece))
        if piece.endswith(b"\n"):
            label += "<br>"
        parts.append(
            f'<span style="background-color:{color}55; border-bottom:2px solid {color}">'
            f"{label}</span>"
        )
    return "<div style='font-size:12pt; line-height:150%'>" + "\u200b".join(parts) + "</div>"


class TokenView(QTextBrowser):
    """A read-only pane showing one segmentation."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.segmentation: Segmentation | None = None
        self.setOpenLinks(False)

    def show_segmentation(self, seg: Segmentation) -> None:
        self.segmentation = seg
        self.setHtml(segmentation_html(seg))
