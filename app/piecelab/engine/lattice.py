"""The segmentation lattice of a short text, for teaching: arcs, Viterbi, forward values.

Every vocabulary piece found inside a chunk of the text is an arc from its
start byte to its end byte.  A segmentation is a path of arcs from byte 0 to
byte n; the sampler draws one with P(path) ∝ exp(α · Σ log p(arc)).  The
forward value α_i ("F[i]" here, so as not to clash with the temperature) is
log Σ over the paths of bytes[0:i] of exp(α · Σ log p): F[0] = 0 and F[n] is
the log partition.  The exact sampler walks back from the end: at position e
it draws the last arc (s, e) with probability exp(α · log p + F[s] − F[e]),
then continues from s.  :meth:`Lattice.steps` spells that walk out.

Plain numpy and Python: texts are at most :data:`MAX_LATTICE_BYTES` bytes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .segmentation import char_of_byte

#: the longest text (UTF-8 bytes, after NFC) that :func:`build_lattice` accepts
MAX_LATTICE_BYTES = 64


@dataclass(frozen=True)
class Arc:
    """A vocabulary piece over bytes [start, end) of the text, with its log p."""

    start: int
    end: int
    id: int
    piece: bytes
    logp: float


@dataclass(frozen=True)
class Step:
    """One draw of the exact sampler, walking back: the last arc ending at ``end``.

    ``arcs`` are the candidate arcs (indices into :attr:`Lattice.arcs`) with
    their exact probabilities ``probs`` (summing to 1); ``chosen`` is the arc
    drawn, after which the walk continues from its start.
    """

    end: int
    arcs: tuple[int, ...]
    probs: tuple[float, ...]
    chosen: int

    @property
    def prob(self) -> float:
        """The probability of the arc drawn."""
        return self.probs[self.arcs.index(self.chosen)]


@dataclass(frozen=True, eq=False)  # (numpy fields: compared by identity)
class Lattice:
    """Every candidate arc of a short text, its Viterbi path and its forward values.

    ``forward[i]`` is log Σ over segmentations of ``data[:i]`` of
    exp(α · Σ log p) (−inf where no path reaches i); ``forward[-1]`` is the
    log partition.  ``best[i]`` is the best Σ log p of a path to i.
    ``viterbi`` holds the arc indices of the deterministic segmentation, in
    text order.  Arcs are sorted by (end, start).
    """

    text: str
    data: bytes
    alpha: float
    arcs: tuple[Arc, ...]
    viterbi: tuple[int, ...]
    forward: np.ndarray
    best: np.ndarray
    char_of_byte: np.ndarray = field(repr=False)

    @property
    def n(self) -> int:
        """The number of bytes (positions run 0..n)."""
        return len(self.data)

    @property
    def log_partition(self) -> float:
        return float(self.forward[-1])

    def ending_at(self, end: int) -> list[int]:
        """Indices of the arcs that end at byte ``end``."""
        return [k for k, a in enumerate(self.arcs) if a.end == end]

    def candidates(self, end: int) -> tuple[list[int], np.ndarray]:
        """The arcs that can be the last piece of ``data[:end]``, with their exact probability.

        P(arc) = exp(α · log p(arc) + F[start] − F[end]); arcs whose start no
        path reaches get 0.  The probabilities sum to 1 (for a reachable end).
        """
        if not 0 < end <= self.n:
            raise ValueError(f"end must be in 1..{self.n}, got {end}")
        ks = self.ending_at(end)
        total = self.forward[end]
        logw = np.array(
            [self.alpha * self.arcs[k].logp + self.forward[self.arcs[k].start] for k in ks]
        )
        with np.errstate(invalid="ignore"):
            probs = np.exp(logw - total) if np.isfinite(total) else np.zeros(len(ks))
        return ks, np.nan_to_num(probs, nan=0.0)

    def steps(self, draw: Sequence[int]) -> list[Step]:
        """The sampler's walk that yields the path ``draw`` (arc indices in text order).

        Steps run from the end backwards: the first is the choice of the last arc.
        """
        pos = self.n
        out: list[Step] = []
        for k in reversed(list(draw)):
            arc = self.arcs[k]
            if arc.end != pos:
                raise ValueError(f"arc {k} ends at byte {arc.end}, not at {pos}: not a path")
            ks, probs = self.candidates(pos)
            out.append(Step(pos, tuple(ks), tuple(probs.tolist()), k))
            pos = arc.start
        if pos != 0:
            raise ValueError(f"the arcs cover bytes {pos}..{self.n} only, not the whole text")
        return out

    def draw(self, seed: int | None = None) -> list[int]:
        """One exact sample (arc indices in text order), walking back from the end."""
        rng = np.random.default_rng(seed)
        pos, path = self.n, []
        while pos > 0:
            ks, probs = self.candidates(pos)
            k = ks[int(rng.choice(len(ks), p=probs / probs.sum()))]
            path.append(k)
            pos = self.arcs[k].start
        return path[::-1]

    def sampler_steps(self, seed: int | None = None) -> list[Step]:
        """The steps of one seeded exact draw (see :meth:`steps`)."""
        return self.steps(self.draw(seed))

    def path_log_prob(self, path: Sequence[int]) -> float:
        """log P(path) under the sampler at this lattice's α."""
        score = sum(self.arcs[k].logp for k in path)
        return self.alpha * score - self.log_partition

    def pieces(self, path: Sequence[int]) -> list[bytes]:
        return [self.arcs[k].piece for k in path]


def build_lattice(
    data: bytes,
    matches: Sequence[tuple[int, int, int]],
    logps: np.ndarray,
    alpha: float,
    viterbi_ends: Sequence[int],
) -> Lattice:
    """The lattice of ``data`` (NFC'd UTF-8) from its piece ``matches`` (start, end, id).

    ``logps`` is log p per id; arcs with a non-finite log p (zero counts) are
    left out, as the sampler never draws them.  ``viterbi_ends`` are the token
    ends of the deterministic segmentation, mapped here to arcs.
    """
    n = len(data)
    if n > MAX_LATTICE_BYTES:
        raise ValueError(
            f"the lattice is drawn for texts of at most {MAX_LATTICE_BYTES} bytes; this one "
            f"has {n} (UTF-8, after NFC): shorten it"
        )
    if not (math.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be a finite number ≥ 0 for the lattice, got {alpha!r}")
    arcs = sorted(
        (Arc(s, e, i, data[s:e], float(logps[i])) for s, e, i in matches if np.isfinite(logps[i])),
        key=lambda a: (a.end, a.start),
    )
    forward = np.full(n + 1, -np.inf)
    best = np.full(n + 1, -np.inf)
    forward[0] = best[0] = 0.0
    for a in arcs:  # sorted by end: every start is final when an arc is read
        forward[a.end] = np.logaddexp(forward[a.end], forward[a.start] + alpha * a.logp)
        best[a.end] = max(best[a.end], best[a.start] + a.logp)
    by_span = {(a.start, a.end): k for k, a in enumerate(arcs)}
    starts = [0, *viterbi_ends[:-1]]
    viterbi = tuple(by_span[(int(s), int(e))] for s, e in zip(starts, viterbi_ends))
    return Lattice(
        text=data.decode("utf-8"),
        data=data,
        alpha=float(alpha),
        arcs=tuple(arcs),
        viterbi=viterbi,
        forward=forward,
        best=best,
        char_of_byte=char_of_byte(data),
    )
