"""Every column of the vocabulary table as numpy arrays, and the filters over them.

Computed once per model (Qt-free, on a worker thread) so that sorting permutes
and filtering masks index arrays; 300k pieces sort and filter in milliseconds.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from .model import N_SPECIAL, Model
from .render import VISIBLE

AS_SHOWN = str.maketrans({shown: char for char, shown in VISIBLE.items() if len(shown) == 1})

SCRIPTS = ("Han", "Latin", "digit", "space", "punct", "other", "mixed", "partial")
HAN, LATIN, DIGIT, SPACE, PUNCT, OTHER, MIXED, PARTIAL = range(len(SCRIPTS))

_RANGES = {  # code point ranges per class; anything else is OTHER
    HAN: [(0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3FFFF)],
    LATIN: [
        *[(0x41, 0x5A), (0x61, 0x7A), (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x24F)],
        *[(0x1E00, 0x1EFF), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)],
    ],
    DIGIT: [(0x30, 0x39), (0xFF10, 0xFF19)],
    SPACE: [
        *[(0x09, 0x0D), (0x20, 0x20), (0x85, 0x85), (0xA0, 0xA0), (0x2000, 0x200B)],
        *[(0x2028, 0x2029), (0x3000, 0x3000)],
    ],
    PUNCT: [
        *[(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E), (0xA1, 0xBF), (0xD7, 0xD7)],
        *[(0xF7, 0xF7), (0x2010, 0x2027), (0x2030, 0x205E), (0x3001, 0x303F), (0xFF01, 0xFF0F)],
        *[(0xFF1A, 0xFF20), (0xFF3B, 0xFF40), (0xFF5B, 0xFF65)],
    ],
    PARTIAL: [(0xDC80, 0xDCFF)],  # surrogateescape: a byte that is not a whole character
}


def code_points(texts: list[str], npoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every code point of ``texts`` in one array, and where each text starts in it
    (``npoints``: the texts' lengths; none may be empty)."""
    cp = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), np.uint32)
    starts = np.concatenate([[0], np.cumsum(npoints)[:-1]]).astype(np.int64)
    return cp, starts


def script_classes(cp: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Script class per piece (:func:`code_points` of the pieces), vectorized over all
    code points at once.

    Spaces are neutral (``" the"`` is Latin), a stray byte makes a piece
    ``partial``, two or more classes make it ``mixed``.
    """
    if not len(starts):
        return np.zeros(0, np.int8)
    bits = np.full(len(cp), 1 << OTHER, np.uint16)
    for cls, ranges in _RANGES.items():
        for lo, hi in ranges:
            bits[(cp >= lo) & (cp <= hi)] = 1 << cls
    per = np.bitwise_or.reduceat(bits, starts)
    out = np.full(len(starts), MIXED, np.int8)
    no_space = per & ~np.uint16(1 << SPACE)
    out[per == 1 << SPACE] = SPACE
    for cls in (HAN, LATIN, DIGIT, PUNCT, OTHER):
        out[no_space == 1 << cls] = cls
    out[(per & (1 << PARTIAL)) != 0] = PARTIAL
    return out


def stray_bytes(cp: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per piece (:func:`code_points` of the pieces), the bytes that are not whole
    characters (surrogateescape code points)."""
    if not len(starts):
        return np.zeros(0, np.int64)
    lo, hi = _RANGES[PARTIAL][0]
    return np.add.reduceat(((cp >= lo) & (cp <= hi)).astype(np.int64), starts)


def compact_count(x: float) -> str:
    """``1``, ``10``, ``100``, ``1k``, ``25k``, ``1M``, ``3G``: a count short enough for an
    axis tick (plain numbers, no ``×1e9`` scale to read off elsewhere)."""
    if not math.isfinite(x):
        return ""
    for div, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(x) >= div:
            return f"{x / div:.3g}{unit}"
    return f"{x:.3g}" if abs(x) < 1 else f"{x:.0f}"


@dataclass
class VocabColumns:
    """Every column of the table for one model, as arrays indexed like ``model.pieces``
    (or like a read-only vocabulary's pieces, then with no ``model``)."""

    model: Model | None
    texts: list[str]  # pieces decoded with surrogateescape (stray bytes → U+DC80..)
    nbytes: np.ndarray
    nchars: np.ndarray  # whole characters: a stray byte of a cut character is not one
    stray: np.ndarray  # bytes that are not part of a whole character
    logp: np.ndarray
    script: np.ndarray
    byte_order: np.ndarray  # permutation sorting the pieces by their bytes
    blob: str  # texts joined by NUL, for one-pass substring search
    blob_starts: np.ndarray

    @classmethod
    def from_model(cls, model: Model) -> VocabColumns:
        return cls.from_pieces(model.pieces, model.log_probs()[N_SPECIAL:], model)

    @classmethod
    def from_pieces(
        cls, pieces: list[bytes], logp: np.ndarray, model: Model | None = None
    ) -> VocabColumns:
        """Columns of any list of pieces (another library's vocabulary, by id)."""
        texts = [p.decode("utf-8", "surrogateescape") for p in pieces]
        n = len(pieces)
        nbytes = np.fromiter(map(len, pieces), np.int64, n)
        npoints = np.fromiter(map(len, texts), np.int64, n)  # stray bytes count here
        starts = np.concatenate([[0], np.cumsum(npoints + 1)[:-1]]) if n else np.zeros(0, np.int64)
        cp, cp_starts = code_points(texts, npoints)
        stray = stray_bytes(cp, cp_starts)
        return cls(
            model,
            texts,
            nbytes,
            npoints - stray,
            stray,
            np.asarray(logp, np.float64),
            script_classes(cp, cp_starts),
            np.array(sorted(range(n), key=pieces.__getitem__), np.int64),
            "\x00".join(texts),
            starts,
        )

    def __len__(self) -> int:
        return len(self.texts)

    def sort_key(self, column: str) -> np.ndarray | None:
        """The array to sort by for a column name (None: sort by id)."""
        return {
            "bytes": self.nbytes,
            "chars": self.nchars,
            "count": self.model.counts if self.model is not None else None,
            "log p": self.logp,
            "script": self.script,
        }.get(column)

    def substring(self, text: str) -> np.ndarray:
        """Pieces containing ``text`` (one regex pass over the NUL-joined texts)."""
        mask = np.zeros(len(self), bool)
        if "\x00" in text:
            mask[:] = [text in t for t in self.texts]
            return mask
        pos = [m.start() for m in re.finditer(re.escape(text), self.blob)]
        if pos:
            mask[np.searchsorted(self.blob_starts, pos, side="right") - 1] = True
        return mask

    def regex(self, pattern: re.Pattern[str]) -> np.ndarray:
        return np.fromiter(map(bool, map(pattern.search, self.texts)), bool, len(self))


@dataclass
class VocabFilter:
    """What rows to show; an empty/None field does not filter."""

    substring: str = ""
    regex: str = ""
    min_bytes: int = 0
    max_bytes: int = 0  # 0: no upper bound
    scripts: frozenset[int] = field(default_factory=frozenset)  # empty: all
    unreachable_only: bool = False
    pinned_only: bool = False


def filter_mask(
    cols: VocabColumns,
    spec: VocabFilter,
    regex_hits: np.ndarray | None = None,
    unreachable: np.ndarray | None = None,
    pinned: np.ndarray | None = None,
) -> np.ndarray:
    """Which pieces ``spec`` keeps; ``regex_hits`` is :meth:`VocabColumns.regex` of
    ``spec.regex`` (the caller caches it: a regex over 300k pieces is the slow filter)."""
    mask = np.ones(len(cols), bool)
    if spec.substring:
        mask = cols.substring(spec.substring)  # the text typed, and, if it has symbols
        meant = spec.substring.translate(AS_SHOWN)  # the table draws for a space or tab,
        if meant != spec.substring:  # the text they stand for ("a·b" finds "a b")
            mask |= cols.substring(meant)
    if spec.regex and regex_hits is not None:
        mask &= regex_hits
    if spec.min_bytes:
        mask &= cols.nbytes >= spec.min_bytes
    if spec.max_bytes:
        mask &= cols.nbytes <= spec.max_bytes
    if spec.scripts:
        mask &= np.isin(cols.script, list(spec.scripts))
    if spec.unreachable_only:
        mask &= unreachable if unreachable is not None else False
    if spec.pinned_only:
        mask &= pinned if pinned is not None else False
    return mask


def compile_regex(pattern: str) -> tuple[re.Pattern[str] | None, str]:
    """(compiled pattern, "") or (None, the error message)."""
    try:
        return re.compile(pattern), ""
    except re.error as exc:
        return None, str(exc)
