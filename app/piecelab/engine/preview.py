"""A plain-Python tokenizer for short texts, for the seconds before the kernels are compiled.

On a first start numba compiles the kernels for many seconds; the workbench must
show segmentations before that.  :class:`PreviewTokenizer` needs only the model:
a dict of pieces, a Viterbi and the exact sampler written out in Python.  It
repeats the kernels' arithmetic step for step (scores summed left to right,
ties to the longer piece, the same xorshift stream, sums and rescaling), so its
segmentations and samples are the compiled tokenizer's, bit for bit (tested);
only its speed differs, which is why it refuses long texts.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from .arguments import check_alpha, kernel_seed, short_repr
from .model import N_SPECIAL, SPECIALS, Model
from .normalize import to_utf8
from .sampling_log import LINEAR_NATS, linear_spread
from .segmentation import Segmentation, char_of_byte

MAX_PREVIEW_BYTES = 64 << 10  # beyond this, wait for the kernels
_M64 = (1 << 64) - 1
_NL = 10


def _doc_seed(seed: int, doc: int) -> int:
    """The kernels' per-document xorshift state (splitmix64's finalizer)."""
    x = (seed ^ (doc * 0xD1B54A32D192ED03)) & _M64
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    x ^= x >> 31
    return x if x else 0x9E3779B97F4A7C15


def _random_step(x: int) -> tuple[int, float]:
    """xorshift64*: the next state and a double in [0, 1), as the kernels draw it."""
    x ^= x >> 12
    x ^= (x << 25) & _M64
    x ^= x >> 27
    return x, (((x * 0x2545F4914F6CDD1D) & _M64) >> 11) * (1.0 / 9007199254740992.0)


def _chunks(data: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each line with its run of newlines, as the kernels cut them."""
    n = len(data)
    c0 = 0
    while c0 < n:
        i = c0 + 1
        while i < n and not (data[i - 1] == _NL and data[i] != _NL):
            i += 1
        yield c0, i
        c0 = i


class PreviewTokenizer:
    """Viterbi and exact sampling of short texts with the model alone (no compiled code).

    Offers the part of :class:`~piecelab.engine.Tokenizer` the playground panes use:
    ``segment``, ``log_prob``, ``log_partition``, ``boundary_marginals``,
    ``id_to_piece``, ``vocab_size`` and ``model``.
    """

    preview = True

    def __init__(self, model: Model) -> None:
        self.model = model
        self.vocab_size = model.vocab_size
        self._scores = model.log_probs()
        self._score_list = self._scores.tolist()  # Python floats: the loops stay in Python
        self._ids = model.index  # piece → id
        self._longest = max(1, max(map(len, model.pieces), default=1))
        self._id2piece: list[bytes | str] = [*SPECIALS, *model.pieces]
        self._spread: float | None = None

    def id_to_piece(self, i: int) -> bytes | str:
        return self._id2piece[i]

    # ------------------------------------------------------------- candidates
    def _candidates(self, data: bytes, c0: int, p: int) -> Iterator[tuple[int, int]]:
        """(start, id) of the pieces ending at ``p`` inside the chunk, shortest first."""
        ids = self._ids
        for s in range(p - 1, max(c0, p - self._longest) - 1, -1):
            pid = ids.get(data[s:p])
            if pid is not None:
                yield s, pid

    def _check(self, data: bytes) -> None:
        if len(data) > MAX_PREVIEW_BYTES:
            raise ValueError(f"the preview tokenizes at most {MAX_PREVIEW_BYTES:,} bytes")

    def spread(self) -> float:
        """:func:`linear_spread` of the model (computed once)."""
        if self._spread is None:
            self._spread = linear_spread(self.model, self._scores)
        return self._spread

    def _check_alpha(self, alpha: object) -> float:
        """α validated as the tokenizer does; an α whose draws take the tokenizer's
        log-domain sampler is refused (the preview repeats only the linear one)."""
        a = check_alpha(alpha)
        if a > 0 and a * self.spread() > LINEAR_NATS:
            raise ValueError(f"the preview does not sample at alpha = {a:g}; wait for the kernels")
        return a

    # ------------------------------------------------------------- Viterbi
    def _viterbi(self, data: bytes) -> tuple[list[int], list[int]]:
        scores = self._score_list
        ids: list[int] = []
        ends: list[int] = []
        for c0, c1 in _chunks(data):
            dp = [0.0] * (c1 - c0 + 1)
            back: list[tuple[int, int]] = [(0, -1)] * (c1 - c0 + 1)
            for p in range(c0 + 1, c1 + 1):
                best, choice = -math.inf, (p - 1, -1)
                for s, pid in self._candidates(data, c0, p):
                    x = dp[s - c0] + scores[pid]
                    if x >= best and x > -math.inf:  # ties: the later, longer piece
                        best, choice = x, (s, pid)
                dp[p - c0] = best if choice[1] >= 0 else dp[p - 1 - c0] - 1e6
                back[p - c0] = choice
            self._emit(back, c0, c1, ids, ends)
        return ids, ends

    @staticmethod
    def _emit(back: list[tuple[int, int]], c0: int, c1: int, ids: list, ends: list) -> None:
        chunk_ids, chunk_ends = [], []
        e = c1
        while e > c0:
            s, pid = back[e - c0]
            chunk_ids.append(pid)
            chunk_ends.append(e)
            e = s
        ids.extend(reversed(chunk_ids))
        ends.extend(reversed(chunk_ends))

    # ------------------------------------------------------------- sampling
    def _weights(self, alpha: float) -> np.ndarray:
        finite = np.isfinite(self._scores)
        per_id = np.zeros_like(self._scores)
        per_id[finite] = np.exp(alpha * self._scores[finite])
        return per_id

    def _forward(self, data: bytes, alpha: float, seed: int | None):
        """The sampler's pass over each chunk: (ids, ends, log Z); a draw when ``seed`` is
        given, the partition alone otherwise."""
        w = self._weights(alpha).tolist()
        state = _doc_seed(seed & _M64, 0) if seed is not None else 0
        ids: list[int] = []
        ends: list[int] = []
        log_z = 0.0
        for c0, c1 in _chunks(data):
            z = [0.0] * (c1 - c0 + 1)
            z[0] = 1.0
            back: list[tuple[int, int]] = [(0, -1)] * (c1 - c0 + 1)
            log_scale = 0.0
            for p in range(c0 + 1, c1 + 1):
                k = p - c0
                cands = [(s, pid, z[s - c0] * w[pid]) for s, pid in self._candidates(data, c0, p)]
                total = 0.0
                for _, _, x in cands:
                    total += x
                if total == 0.0:
                    z[k], back[k] = z[k - 1], (p - 1, -1)
                    continue
                if seed is not None:
                    state, u = _random_step(state)
                    back[k] = self._draw(cands, u * total)
                z[k] = total
                if total < 1e-100 or total > 1e100:
                    f = 1.0 / total
                    for j in range(max(0, k + 1 - self._longest), k + 1):
                        z[j] *= f
                    log_scale += math.log(total)
            log_z += log_scale + math.log(z[c1 - c0])
            self._emit(back, c0, c1, ids, ends)
        return ids, ends, log_z

    @staticmethod
    def _draw(cands: list[tuple[int, int, float]], r: float) -> tuple[int, int]:
        """The first candidate whose running sum passes ``r`` (else the last with weight)."""
        acc = 0.0
        for s, pid, x in cands:
            acc += x
            if acc > r and x > 0.0:
                return s, pid
        s, pid, _ = next(c for c in reversed(cands) if c[2] > 0.0)
        return s, pid

    # ------------------------------------------------------------- the API the panes use
    def segment(self, text: str, alpha: float = -1, seed: int | None = None) -> Segmentation:
        """Viterbi (``alpha < 0``) or an exact draw, as :meth:`Tokenizer.segment`."""
        data = to_utf8(text)
        self._check(data)
        alpha = self._check_alpha(alpha)
        if alpha >= 0:
            bits = 0 if seed is None else kernel_seed(seed) & _M64  # the kernels' 64 bits
            ids, ends, _ = self._forward(data, alpha, bits)
        else:
            ids, ends = self._viterbi(data)
        if any(i < 0 for i in ids):
            pos = ends[ids.index(-1)] - 1
            raise ValueError(f"byte 0x{data[pos]:02X} at offset {pos} has no piece")
        id_arr = np.array(ids, dtype=np.int64)
        return Segmentation(
            text=data.decode("utf-8"),
            data=data,
            ids=id_arr,
            ends=np.array(ends, dtype=np.int64),
            logps=self._scores[id_arr],
            alpha=alpha,
            char_of_byte=char_of_byte(data),
        )

    def log_partition(self, text: str | bytes, alpha: float = 1.0) -> float:
        data = text if isinstance(text, bytes) else to_utf8(text)
        self._check(data)
        a = self._check_alpha(alpha)
        if a < 0:
            raise ValueError("alpha must be ≥ 0 for a partition function")
        return self._forward(data, a, None)[2]

    def log_prob(self, seg: Segmentation, alpha: float = 1.0) -> float:
        """log P(seg) under the sampler at ``alpha`` (exact)."""
        return alpha * seg.score - self.log_partition(seg.data, alpha)

    def boundary_marginals(self, text: str, alpha: float = 1.0) -> np.ndarray:
        """P(a token boundary at byte i), as :meth:`Tokenizer.boundary_marginals`.

        The same forward-backward in the log domain, at every α ≥ 0; it agrees with
        the kernel to rounding, not bit for bit.
        """
        data = to_utf8(text)
        self._check(data)
        a = check_alpha(alpha)
        if a < 0:
            raise ValueError(f"alpha must be ≥ 0 for boundary marginals, got {short_repr(alpha)}")
        for byte in set(data):
            pid = self._ids.get(bytes([byte]))
            if pid is None or self._score_list[pid] == -math.inf:
                pos = data.index(byte)
                raise ValueError(f"byte 0x{byte:02X} at offset {pos} has no piece")
        # log weight / α per id: log p, or 0 for every piece at α = 0 (uniform)
        w = [0.0 if a == 0 and x > -math.inf else x for x in self._score_list]
        out = [1.0] * (len(data) + 1)
        for c0, c1 in _chunks(data):
            self._chunk_marginals(data, c0, c1, w, a if a > 0 else 1.0, out)
        return np.array(out, dtype=np.float64)

    def _chunk_marginals(
        self, data: bytes, c0: int, c1: int, w: list[float], a: float, out: list[float]
    ) -> None:
        """Forward-backward over one chunk: its inner entries of ``out``."""
        m = c1 - c0
        by_end = [
            [(s - c0, pid) for s, pid in self._candidates(data, c0, c0 + p)] for p in range(m + 1)
        ]
        by_start: list[list[tuple[int, int]]] = [[] for _ in range(m + 1)]
        f = [0.0] * (m + 1)
        for p in range(1, m + 1):
            f[p] = _log_sum([f[s] + w[pid] for s, pid in by_end[p]], a)
            for s, pid in by_end[p]:
                by_start[s].append((p, pid))
        g = [0.0] * (m + 1)
        for s in range(m - 1, -1, -1):
            g[s] = _log_sum([g[p] + w[pid] for p, pid in by_start[s]], a)
        for i in range(1, m):
            out[c0 + i] = min(1.0, math.exp(a * (f[i] + g[i] - f[m])))


def _log_sum(xs: list[float], a: float) -> float:
    """log Σ exp(a · x) / a over ``xs``, by their maximum (−inf for none)."""
    best = max(xs, default=-math.inf)
    if best == -math.inf:
        return best
    return best + math.log(sum(math.exp(a * (x - best)) for x in xs)) / a


__all__ = ["MAX_PREVIEW_BYTES", "N_SPECIAL", "PreviewTokenizer"]
