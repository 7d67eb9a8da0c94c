"""PNG charts of a benchmark result, drawn with pyqtgraph in the product interpreter.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/charts.py results/full.json results/

Writes ``<mode>_bytes_per_token.png`` (held-out bytes/token against vocabulary
size, one line per tokenizer) and ``<mode>_throughput.png`` (encode, batch and
sampling MB/s per tokenizer at 32k, or the largest size).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pyqtgraph as pg
import pyqtgraph.exporters
from pyqtgraph.Qt import QtCore, QtWidgets

COLORS = {
    "piecelab": (214, 39, 40),
    "bytepiece": (31, 119, 180),
    "sp-unigram": (44, 160, 44),
    "sp-bpe": (148, 103, 189),
    "hf-bpe": (255, 127, 14),
}
NAMES = {
    "piecelab": "piecelab",
    "bytepiece": "BytePiece",
    "sp-unigram": "SP Unigram",
    "sp-bpe": "SP BPE",
    "hf-bpe": "HF BPE",
}
MODES = [
    ("encode_mb_s", "encode (1 thread)"),
    ("batch_mb_s", "batch (2)"),
    ("sample_mb_s", "sample α=0.1"),
]
WIDTH, HEIGHT = 900, 520


def _plot(title: str, left: str, bottom: str) -> pg.PlotWidget:
    w = pg.PlotWidget(background="w")
    w.resize(WIDTH, HEIGHT)
    w.setTitle(title, color="k", size="12pt")
    w.setLabel("left", left, color="k")
    w.setLabel("bottom", bottom, color="k")
    w.showGrid(x=True, y=True, alpha=0.3)
    for axis in ("left", "bottom"):
        w.getAxis(axis).setTextPen("k")
        w.getAxis(axis).setPen("k")
    return w


def _export(w: pg.PlotWidget, path: Path) -> None:
    w.show()
    QtWidgets.QApplication.processEvents()
    exporter = pg.exporters.ImageExporter(w.plotItem)
    exporter.parameters()["width"] = WIDTH
    exporter.export(str(path))
    w.close()


def bytes_per_token(res: dict, path: Path) -> None:
    w = _plot(
        f"Held-out bytes/token vs vocabulary size ({res['mode']} run)",
        "UTF-8 bytes per token (higher is better)",
        "vocabulary size",
    )
    w.addLegend(offset=(10, 10), labelTextColor="k")
    rows = [r for r in res["grid"] if "skipped" not in r and r.get("bytes_per_token")]
    # piecelab last, on top; BytePiece as a larger hollow ring (their points often coincide)
    order = [t for t in COLORS if t != "piecelab"] + ["piecelab"]
    all_x = []
    for tok in order:
        color = COLORS[tok]
        pts = sorted((r["vocab_size"], r["bytes_per_token"]) for r in rows if r["tok"] == tok)
        if not pts:
            continue
        xs, ys = zip(*pts)
        all_x += xs
        hollow = tok == "bytepiece"
        w.plot(
            list(xs),
            list(ys),
            pen=pg.mkPen(color, width=2, style=QtCore.Qt.PenStyle.DashLine if hollow else None),
            symbol="o",
            symbolSize=16 if hollow else 9,
            symbolBrush=None if hollow else color,
            symbolPen=pg.mkPen(color, width=2),
            name=NAMES[tok],
        )
    if all_x:
        lo, hi = min(all_x), max(all_x)
        pad = (hi - lo) * 0.08 if hi > lo else lo * 0.15
        w.setXRange(lo - pad, hi + pad)
    _export(w, path)


def throughput(res: dict, path: Path) -> None:
    rows = [r for r in res["grid"] if "skipped" not in r]
    if not rows:
        return
    sizes = {r["target"] for r in rows if r["tok"] == "piecelab"}
    size = 32000 if 32000 in sizes else max(sizes)  # the size when there is one
    rows = [r for r in rows if r["target"] == size]
    toks = [t for t in COLORS if any(r["tok"] == t for r in rows)]
    w = _plot(
        f"Encoding throughput, {size:,}-piece models ({res['mode']} run)",
        "MB/s of UTF-8 (higher is better)",
        "",
    )
    w.addLegend(offset=(-10, 10), labelTextColor="k", brush=(255, 255, 255, 220))
    n = len(MODES)
    width = 0.8 / n
    shades = [1.0, 0.7, 0.45]
    for m, (key, label) in enumerate(MODES):
        xs, hs = [], []
        for i, tok in enumerate(toks):
            r = next(r for r in rows if r["tok"] == tok)
            if r.get(key):
                xs.append(i - 0.4 + width * (m + 0.5))
                hs.append(r[key])
        if not xs:
            continue
        grey = int(255 * (1 - shades[m]))
        bars = pg.BarGraphItem(
            x=xs, height=hs, width=width * 0.9, brush=(grey, grey, grey), pen="k", name=label
        )
        w.addItem(bars)
    w.getAxis("bottom").setTicks([[(i, NAMES[t]) for i, t in enumerate(toks)]])
    w.setXRange(-0.6, len(toks) - 0.4)
    _export(w, path)


def main(argv: list[str]) -> int:
    src = Path(argv[1])
    out = Path(argv[2]) if len(argv) > 2 else src.parent
    res = json.loads(src.read_text())
    if not res.get("grid"):
        print("charts: none (this run has no grid section)")
        return 0
    _app = QtWidgets.QApplication.instance() or QtWidgets.QApplication([])  # kept alive
    written = []
    for name, fn in (("bytes_per_token", bytes_per_token), ("throughput", throughput)):
        path = out / f"{res['mode']}_{name}.png"
        fn(res, path)
        if path.exists():
            written.append(path.name)
    print("charts: " + ", ".join(written))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
