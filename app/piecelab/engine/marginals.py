"""Boundary marginals: the exact probability of a token boundary at every byte (numba).

Under the sampler at temperature α, P(seg) ∝ Π p(piece)^α over the
segmentations the vocabulary allows, the distribution that
``Tokenizer.segment(text, alpha, seed)`` draws from.  A boundary falls at byte
``i`` in the segmentations that pass through ``i``; their share of the total is

    P(boundary at i) = F[i] · B[i] / Z,

where ``F[i]`` sums the weights of every segmentation of ``text[:i]`` (the
forward pass), ``B[i]`` those of ``text[i:]`` (the backward pass) and ``Z``
equals ``F[n]``.  Chunks (a line with its run of newlines) are independent, so
each gets its own forward-backward, and a chunk edge is a boundary with
probability 1.

Both passes *pull*, as the sampler does: the forward pass walks the reversed
packed trie back from every end (:func:`~piecelab.engine.kernels._step_back`),
the backward pass the forward double array on from every start (the trie of
the GUI's enumerations).  Sums are kept as logarithms divided by α, as in
:mod:`~piecelab.engine.sampling_log`: each position's candidates are summed
as exp(α·(x − max)), so no α, however large, under- or overflows, and the
scores stay in nats of log p.  α = 0 (uniform over segmentations) counts
every piece with weight 1.  Pieces of zero count (log p = −inf) weigh nothing.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .kernels import _U, NEG_INF, NO_FORCED, _header, _step_back, _walk_floor, chunk_ends


@njit(cache=True, nogil=True, inline="always")
def _log_sum(xs, k, best, alpha):
    """log Σ_j exp(α · xs[j]) / α over ``xs[:k]``, with ``best`` their maximum."""
    if best == NEG_INF:
        return NEG_INF
    total = 0.0
    for j in range(k):
        total += np.exp(alpha * (xs[j] - best))
    return best + np.log(total) / alpha


@njit(cache=True, nogil=True, inline="always")
def _weight(score, uniform):
    """A piece's log weight divided by α: its log p, or 0 for every piece at α = 0."""
    return (0.0 if score > NEG_INF else NEG_INF) if uniform else score


@njit(cache=True, nogil=True)
def _forward(text, o, m, rt, val, alpha, uniform, f, xs):
    """``f[p]`` = log F / α of the chunk ``text[o:o+m]`` up to (chunk-local) ``p``.

    ``rt`` is the reversed packed trie, ``val`` its log p per slot (−inf where
    a slot is no piece).
    """
    b0, max_depth = _header(rt)
    uo = _U(o)
    f[0] = 0.0
    for p in range(1, m + 1):
        up = _U(p)
        best = NEG_INF
        k = 0
        node = _U(0)
        b = b0
        s = up
        lim = _walk_floor(up, max_depth)
        while s > lim:
            s, t, ok, node, b = _step_back(text, uo, rt, s, node, b)
            if not ok:
                break
            x = f[s] + _weight(val[t], uniform)
            if x > NEG_INF:
                xs[k] = x
                k += 1
                best = max(best, x)
        f[up] = _log_sum(xs, k, best, alpha)


@njit(cache=True, nogil=True)
def _backward(text, o, m, base, check, value, scores, max_depth, alpha, uniform, g, xs):
    """``g[s]`` = log B / α of the chunk ``text[o:o+m]`` from (chunk-local) ``s``.

    ``base``/``check``/``value`` are the forward double array (``value``: the
    piece id at a slot, −1 for none), ``scores`` log p per id.
    """
    g[m] = 0.0
    for s in range(m - 1, -1, -1):
        best = NEG_INF
        k = 0
        node = 0
        p = s
        lim = min(m, s + max_depth)
        while p < lim:
            t = base[node] + text[o + p]
            if check[t] != node:
                break
            node = t
            p += 1
            v = value[t]
            if v >= 0:
                x = g[p] + _weight(scores[v], uniform)
                if x > NEG_INF:
                    xs[k] = x
                    k += 1
                    best = max(best, x)
        g[s] = _log_sum(xs, k, best, alpha)


@njit(cache=True, nogil=True, inline="always")
def _setup(text, rt, max_depth, alpha):
    """(uniform, α to sum with, scratch for one position's candidates, chunk ends)."""
    uniform = alpha == 0.0
    a = 1.0 if uniform else alpha
    depth = max(np.int64(_header(rt)[1]), np.int64(max_depth))
    return uniform, a, np.empty(depth + 1), chunk_ends(text, NO_FORCED)


@njit(cache=True, nogil=True, inline="always")
def _passes(text, c0, m, rt, val, base, check, value, scores, max_depth, a, uniform, fc, gc, xs):
    """Both passes over the chunk ``text[c0:c0+m]`` into ``fc`` and ``gc`` (chunk-local)."""
    _forward(text, c0, m, rt, val, a, uniform, fc, xs)
    _backward(text, c0, m, base, check, value, scores, max_depth, a, uniform, gc, xs)


@njit(cache=True, nogil=True)
def marginals_kernel(text, rt, val, base, check, value, scores, max_depth, alpha):
    """P(a boundary at byte i) for i in 0..n (float64, n + 1 entries) at ``alpha`` ≥ 0.

    ``rt``/``val``: the reversed packed trie and its log p per slot;
    ``base``/``check``/``value``/``max_depth``: the forward double array;
    ``scores``: log p per id.  A chunk no segmentation covers (a byte without
    a piece) gets NaN inside; the caller refuses such texts first.
    """
    n = len(text)
    out = np.ones(n + 1)
    uniform, a, xs, ends = _setup(text, rt, max_depth, alpha)
    f = np.empty(n + 1)
    g = np.empty(n + 1)
    c0 = 0
    for c in range(ends.shape[0]):
        c1 = ends[c]
        m = c1 - c0
        fc = f[c0 : c1 + 1]
        gc = g[c0 : c1 + 1]
        _passes(text, c0, m, rt, val, base, check, value, scores, max_depth, a, uniform, fc, gc, xs)
        log_z = fc[m]
        for i in range(1, m):
            if log_z == NEG_INF:
                out[c0 + i] = np.nan
            else:
                out[c0 + i] = min(1.0, np.exp(a * (fc[i] + gc[i] - log_z)))
        c0 = c1
    return out


@njit(cache=True, nogil=True)
def forward_backward_kernel(text, rt, val, base, check, value, scores, max_depth, alpha):
    """(F, B): log F / α and log B / α at every byte over the whole text (chunk
    sums chained, as chunk edges are boundaries every segmentation shares), so that
    a piece (s, e) is in the segmentation with probability
    exp(α · (F[s] + log p + B[e] − F[n])) (α = 0: log p counts 0).  Arguments as
    :func:`marginals_kernel`'s."""
    n = len(text)
    uniform, a, xs, ends = _setup(text, rt, max_depth, alpha)
    f = np.empty(n + 1)
    g = np.empty(n + 1)
    fc = np.empty(n + 1)
    gc = np.empty(n + 1)
    f[0] = 0.0
    c0 = 0
    for c in range(ends.shape[0]):
        c1 = ends[c]
        m = c1 - c0
        _passes(text, c0, m, rt, val, base, check, value, scores, max_depth, a, uniform, fc, gc, xs)
        for i in range(1, m + 1):
            f[c0 + i] = f[c0] + fc[i]
        for i in range(m):  # chunk-local for now: the later chunks are added below
            g[c0 + i] = gc[i]
        c0 = c1
    g[n] = 0.0
    c1 = n
    for c in range(ends.shape[0] - 1, -1, -1):
        c0 = ends[c - 1] if c > 0 else 0
        later = g[c1]
        for i in range(c0, c1):
            g[i] += later
        c1 = c0
    return f, g


def forward_backward(
    data: bytes, rt: np.ndarray, val: np.ndarray, fwd: tuple, scores: np.ndarray, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`forward_backward_kernel` on ``data`` with a tokenizer's tables."""
    if len(data) >= 2**31:
        raise ValueError("texts of 2 GiB or more must be split before computing marginals")
    arr = np.frombuffer(data, dtype=np.uint8)
    base, check, value, max_depth = fwd
    return forward_backward_kernel(arr, rt, val, base, check, value, scores, max_depth, alpha)


def boundary_marginals(
    data: bytes, rt: np.ndarray, val: np.ndarray, fwd: tuple, scores: np.ndarray, alpha: float
) -> np.ndarray:
    """The kernel on ``data`` (UTF-8) with a tokenizer's tables; ``alpha`` checked ≥ 0.

    ``fwd`` is (base, check, value, max_depth) of the forward trie.
    """
    if len(data) >= 2**31:
        raise ValueError("texts of 2 GiB or more must be split before computing marginals")
    arr = np.frombuffer(data, dtype=np.uint8)
    base, check, value, max_depth = fwd
    return marginals_kernel(arr, rt, val, base, check, value, scores, max_depth, float(alpha))
